"""SVHN cropped digits: 32x32 colour house-number crops, from ``train_32x32.mat`` / ``test_32x32.mat``.

Reading the MATLAB files needs SciPy (``pip install "minigan[svhn]"``). Files are verified by
the MD5 digests torchvision records for them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from minigan.data.download import Source, obtain
from minigan.data.idx import check_labels
from minigan.data.scaling import check_scale, scale_images
from minigan.data.storage import DataError, check_digest, file_digest

SVHN_MIRRORS = ["http://ufldl.stanford.edu/housenumbers/"]
SVHN_MD5 = {
    "train_32x32.mat": "e26dedcc434d2e4c54c9b2d4a06d8373",
    "test_32x32.mat": "eb5a983be6a315427106f1b164d9cef3",
    "extra_32x32.mat": "a93ce644f1a588dc4d68dda5feec44a7",
}
SVHN = Source("svhn", "SVHN", tuple(SVHN_MD5))


def _loadmat() -> Callable:
    try:
        from scipy.io import loadmat
    except ImportError:
        raise ImportError('loading SVHN needs SciPy, which is not installed: pip install "minigan[svhn]"') from None
    return loadmat


def read_mat(path: Path, md5: str, loadmat: Callable) -> tuple[np.ndarray, np.ndarray]:
    """One ``.mat`` file verified by its ``md5``: images uint8 ``(N, 32, 32, 3)``, labels int64 ``(N,)`` in 0..9."""
    check_digest(path, file_digest(path, "md5"), md5, "MD5")
    try:
        mat = loadmat(path)
        images, labels = mat["X"], mat["y"]
    except Exception as exc:  # scipy raises ValueError, TypeError, MatReadError... for a bad file
        raise DataError(f"{path}: not an SVHN .mat file ({type(exc).__name__}: {exc})") from None
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[:3] != (32, 32, 3):
        raise DataError(f"{path}: expected X of uint8 shaped (32, 32, 3, N), got {images.dtype} shaped {images.shape}")
    labels = labels.reshape(-1)
    if labels.dtype.kind == "f" and np.array_equal(labels, np.round(labels)):
        labels = labels.astype(np.int64)
    check_labels(labels, path, images.shape[3], num_classes=11)
    labels = labels.astype(np.int64)
    labels[labels == 10] = 0  # SVHN writes the digit 0 as class 10
    return np.ascontiguousarray(images.transpose(3, 0, 1, 2)), labels


def load_svhn(
    split: str = "train",
    root: str | os.PathLike | None = None,
    download: bool = True,
    scale: str = "[-1,1]",
    mirrors: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """SVHN ``split`` ("train": 73257, "test": 26032, "extra": 531131) as ``(images, labels)``.

    images: float32 NHWC ``(N, 32, 32, 3)`` RGB in [-1, 1] (``scale="[0,1]"`` or ``"uint8"``);
    labels: int64 ``(N,)`` digits 0..9 (the file's label 10 is the digit 0). Files are looked
    for and downloaded as :func:`minigan.data.load_mnist` does, in folder ``svhn/``.
    """
    filename = f"{split}_32x32.mat"
    if filename not in SVHN_MD5:
        raise ValueError(f"split: expected 'train', 'test' or 'extra', got {split!r}")
    check_scale(scale)
    loadmat = _loadmat()
    mirrors = SVHN_MIRRORS if mirrors is None else mirrors
    md5 = SVHN_MD5[filename]
    images, labels = obtain(
        SVHN, filename, lambda path: read_mat(path, md5, loadmat), root=root, download=download, mirrors=mirrors
    )
    return scale_images(images, scale), labels
