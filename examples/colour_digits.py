"""A folder of colour digits: the colour path of dcgan_images.py, where no colour dataset can be had.

    python examples/colour_digits.py runs/colour_digits --count 20000
    python examples/dcgan_images.py --data folder runs/colour_digits --size 32 --width 0.5 --epochs 5

Each of the first ``--count`` MNIST training digits becomes a 28x28 RGB PNG: its ink in one
colour over a dark background of another, both drawn at random for each image::

    rgb = (1 - a) * background + a * ink        a = the digit's intensity in [0, 1]
    ink = 0.5 + 0.5 cos(2 pi (h + (0, 1, 2) / 3))     a hue h ~ U[0, 1): a bright colour
    background = 0.3 (0.5 + 0.5 cos(2 pi (h' + (0, 1, 2) / 3)))                 a dark one

so a generator must learn shapes and colours together. The folder is written beside its final
name and renamed when complete: it appears whole or not at all.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from minigan.data import load_mnist


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
    """Write ``images`` (N, H, W, 3) uint8 as ``out/00000.png``...; ``out`` must not exist yet."""
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the new folder of PNGs")
    parser.add_argument("--count", type=int, default=20_000, help="how many digits (at most 60000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the colours")
    parser.add_argument("--data-dir", default=None, help="folder of the MNIST files (default: $MINIGAN_DATA)")
    args = parser.parse_args(argv)
    if not 1 <= args.count <= 60_000:
        parser.error(f"--count: expected 1 to 60000, got {args.count}")
    digits = load_mnist("train", root=args.data_dir, scale="[0,1]")[0][: args.count]
    write_folder(colour_digits(digits, np.random.default_rng(args.seed)), args.out)
    print(f"{args.count} colour digits in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
