"""Colour digits: MNIST's digits as RGB images, a colour dataset where none can be had.

Each digit's ink takes one colour over a dark background of another, both drawn at random for
each image::

    rgb = (1 - a) * background + a * ink        a = the digit's intensity in [0, 1]
    ink = 0.5 + 0.5 cos(2 pi (h + (0, 1, 2) / 3))     a hue h ~ U[0, 1): a bright colour
    background = 0.3 (0.5 + 0.5 cos(2 pi (h' + (0, 1, 2) / 3)))                 a dark one

so a generator must learn shapes and colours together. :func:`write_colour_digits` writes them
as a folder of PNGs that :class:`~minigan.data.ImageFolder` reads.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from minigan.data.mnist import load_mnist

MNIST_TRAIN = 60_000


def wheel(hues: np.ndarray) -> np.ndarray:
    """An (N, 3) colour in [0, 1] for each hue in [0, 1): the colour wheel as three shifted cosines."""
    return 0.5 + 0.5 * np.cos(2 * np.pi * (hues[:, None] + np.arange(3) / 3))


def colour_digits(digits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N, H, W, 3) uint8 colour images of ``digits`` (N, H, W, 1) in [0, 1]: ink over a dark background."""
    n = len(digits)
    ink = wheel(rng.random(n))[:, None, None, :]
    background = 0.3 * wheel(rng.random(n))[:, None, None, :]
    rgb = (1 - digits) * background + digits * ink
    return np.round(255 * rgb).astype(np.uint8)


def write_folder(images: np.ndarray, out: Path) -> None:
    """Write ``images`` (N, H, W, 3) uint8 as ``out/00000.png``...; ``out`` must not exist yet.

    The PNGs go to a folder beside ``out`` that is renamed when complete: ``out`` appears whole
    or not at all."""
    if out.exists():
        raise FileExistsError(f"colour_digits: {out} exists; expected a new folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    part = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part"))
    try:
        for i, image in enumerate(images):
            Image.fromarray(image, "RGB").save(part / f"{i:05d}.png")
        part.rename(out)
    finally:
        shutil.rmtree(part, ignore_errors=True)


def write_colour_digits(out: Path, count: int, seed: int = 0, root: str | Path | None = None) -> None:
    """The first ``count`` MNIST training digits (read from ``root``, default $MINIGAN_DATA) in
    colours drawn with ``seed``, as the new folder ``out`` of 28x28 RGB PNGs."""
    if not 1 <= count <= MNIST_TRAIN:
        raise ValueError(f"colour_digits: expected a count of 1 to {MNIST_TRAIN}, got {count}")
    digits = load_mnist("train", root=root, scale="[0,1]")[0][:count]
    write_folder(colour_digits(digits, np.random.default_rng(seed)), Path(out))
