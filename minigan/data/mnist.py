"""MNIST and Fashion-MNIST: 28x28 grayscale digits / clothes, 60000 train and 10000 test images.

MNIST files are verified by the SHA-256 of their *decompressed* content, so re-compressed or
gunzipped copies are accepted. No decompressed digests for Fashion-MNIST are recorded here:
its files are verified by structure (IDX magic, exact shape and length, labels 0..9); a
gzip file's own CRC-32 catches damaged compressed copies.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minigan.data.download import Source, obtain
from minigan.data.idx import check_labels, images_nhwc, parse_idx
from minigan.data.scaling import check_scale, scale_images
from minigan.data.storage import DataError, check_digest, read_bytes

MNIST_MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]
FASHION_MNIST_MIRRORS = [
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
]


@dataclass(frozen=True)
class IdxFile:
    """One IDX file of a dataset: its name (without ``.gz``), its shape and, if known, the
    SHA-256 of its decompressed content."""

    name: str
    shape: tuple[int, ...]
    sha256: str | None = None


def _split_files(prefix: str, count: int, sha256: tuple[str | None, str | None]) -> tuple[IdxFile, IdxFile]:
    return (
        IdxFile(f"{prefix}-images-idx3-ubyte", (count, 28, 28), sha256[0]),
        IdxFile(f"{prefix}-labels-idx1-ubyte", (count,), sha256[1]),
    )


MNIST_FILES = {
    "train": _split_files(
        "train",
        60000,
        (
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ),
    ),
    "test": _split_files(
        "t10k",
        10000,
        (
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ),
    ),
}
FASHION_MNIST_FILES = {
    "train": _split_files("train", 60000, (None, None)),
    "test": _split_files("t10k", 10000, (None, None)),
}

_ALL_GZ = tuple(f"{f.name}.gz" for split in ("train", "test") for f in MNIST_FILES[split])
MNIST = Source("mnist", "MNIST", _ALL_GZ)
FASHION_MNIST = Source("fashion_mnist", "Fashion-MNIST", _ALL_GZ)


def read_idx_file(path: Path, spec: IdxFile) -> np.ndarray:
    """The array in ``path``, verified against ``spec`` (digest if known, shape, dtype, label range)."""
    data = read_bytes(path)
    if spec.sha256 is not None:
        check_digest(path, hashlib.sha256(data).hexdigest(), spec.sha256, "SHA-256 of the decompressed content")
    array = parse_idx(data, path)
    if array.shape != spec.shape or array.dtype != np.uint8:
        raise DataError(
            f"{path}: expected {spec.name} of uint8 shaped {spec.shape}, got {array.dtype} shaped {array.shape}"
        )
    if array.ndim == 1:
        check_labels(array, path, spec.shape[0], num_classes=10)
    return array


def _load(
    source: Source,
    files: dict[str, tuple[IdxFile, IdxFile]],
    split: str,
    root: str | os.PathLike | None,
    download: bool,
    scale: str,
    mirrors: Sequence[str],
) -> tuple[np.ndarray, np.ndarray]:
    if split not in files:
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
    check_scale(scale)
    images, labels = (
        obtain(
            source,
            f"{spec.name}.gz",
            lambda path, spec=spec: read_idx_file(path, spec),
            aliases=(spec.name,),
            root=root,
            download=download,
            mirrors=mirrors,
        )
        for spec in files[split]
    )
    return scale_images(images_nhwc(images, files[split][0].name), scale), labels.astype(np.int64)


def load_mnist(
    split: str = "train",
    root: str | os.PathLike | None = None,
    download: bool = True,
    scale: str = "[-1,1]",
    mirrors: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST ``split`` ("train": 60000 images, "test": 10000) as ``(images, labels)``.

    images: float32 ``(N, 28, 28, 1)`` in [-1, 1] (``scale="[0,1]"``, or ``"uint8"`` for raw pixels);
    labels: int64 ``(N,)`` digits 0..9. Files are looked for in ``root``, else ``$MINIGAN_DATA``
    (each as ``<dir>/mnist/`` then ``<dir>/``), else ``~/.cache/minigan/mnist``, gzip or raw.
    Missing files are downloaded when ``download`` is true from ``mirrors`` (default
    :data:`MNIST_MIRRORS`, tried in order). Every file is verified by its SHA-256.
    """
    return _load(MNIST, MNIST_FILES, split, root, download, scale, MNIST_MIRRORS if mirrors is None else mirrors)


def load_fashion_mnist(
    split: str = "train",
    root: str | os.PathLike | None = None,
    download: bool = True,
    scale: str = "[-1,1]",
    mirrors: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST ``split``, exactly as :func:`load_mnist` (folder ``fashion_mnist/``, mirrors
    :data:`FASHION_MNIST_MIRRORS`); labels 0..9 are T-shirt/top, trouser, pullover, dress, coat,
    sandal, shirt, sneaker, bag, ankle boot. Files are verified by structure (see the module doc)."""
    mirrors = FASHION_MNIST_MIRRORS if mirrors is None else mirrors
    return _load(FASHION_MNIST, FASHION_MNIST_FILES, split, root, download, scale, mirrors)
