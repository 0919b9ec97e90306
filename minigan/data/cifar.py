"""CIFAR-10: 32x32 colour images of 10 classes, 50000 train and 10000 test, from the python batches.

The archive ``cifar-10-python.tar.gz`` is verified by the MD5 published on the CIFAR-10 page
and each extracted batch by the MD5 torchvision records for it. The batches are
pickles: they are read with an unpickler that only builds NumPy arrays, never arbitrary objects.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import pickle
import tarfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from minigan.atomic import atomic_path
from minigan.data.download import Source, obtain
from minigan.data.idx import check_labels
from minigan.data.scaling import check_scale, scale_images
from minigan.data.storage import DataError, check_digest, file_digest, search_dirs

CIFAR10_MIRRORS = ["https://www.cs.toronto.edu/~kriz/"]
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
ARCHIVE = "cifar-10-python.tar.gz"
BATCH_DIR = "cifar-10-batches-py"
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}
SPLITS = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
CIFAR10 = Source("cifar10", "CIFAR-10", (ARCHIVE, f"or the extracted {BATCH_DIR}/ folder"))

# The only globals a batch refers to: what protocol-2 pickles of arrays are made of.
_RECONSTRUCT = np.zeros(1).__reduce__()[0]
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,
}


class _ArrayUnpickler(pickle.Unpickler):
    """Builds dicts, lists, strings, numbers and NumPy arrays; refuses any other global."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return _ALLOWED_GLOBALS[module, name]


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One verified batch: images uint8 ``(n, 32, 32, 3)`` and labels int64 ``(n,)``."""
    data = path.read_bytes()
    check_digest(path, hashlib.md5(data).hexdigest(), CIFAR10_MD5[path.name], "MD5")
    try:
        batch = _ArrayUnpickler(io.BytesIO(data), encoding="bytes").load()
        batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
        data, labels = np.asarray(batch["data"]), np.asarray(batch["labels"])
    except (pickle.UnpicklingError, EOFError, AttributeError, KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{path}: not a CIFAR-10 python batch ({type(exc).__name__}: {exc})") from None
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(f"{path}: expected data of uint8 shaped (n, 3072), got {data.dtype} shaped {data.shape}")
    check_labels(labels, path, len(data), num_classes=10)
    # Each row holds the red plane, then green, then blue, each 32x32 row-major.
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels.astype(np.int64)


def extract_archive(path: Path) -> Path:
    """Check the archive's MD5 and extract its batches beside it; returns the batch folder."""
    check_digest(path, file_digest(path, "md5"), ARCHIVE_MD5, "MD5")
    folder = path.parent / BATCH_DIR
    try:
        with tarfile.open(path, "r:gz") as tar:
            for name in CIFAR10_MD5:
                member = tar.extractfile(f"{BATCH_DIR}/{name}")
                if member is None:
                    raise KeyError(f"{BATCH_DIR}/{name} is not a file")
                with atomic_path(folder / name) as tmp:
                    tmp.write_bytes(member.read())
    except (tarfile.TarError, KeyError, EOFError) as exc:
        raise DataError(f"{path}: not a usable CIFAR-10 archive ({exc})") from None
    return folder


def load_cifar10(
    split: str = "train",
    root: str | os.PathLike | None = None,
    download: bool = True,
    scale: str = "[-1,1]",
    mirrors: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 ``split`` ("train": 50000, "test": 10000) as ``(images, labels)``.

    images: float32 NHWC ``(N, 32, 32, 3)`` RGB in [-1, 1] (``scale="[0,1]"`` or ``"uint8"``);
    labels: int64 ``(N,)`` indices into :data:`CIFAR10_CLASSES`. Looks for
    ``cifar-10-batches-py/`` (else the archive, which it extracts) in ``root``, else
    ``$MINIGAN_DATA``, else ``~/.cache/minigan/cifar10``, as :func:`minigan.data.load_mnist` does.
    """
    if split not in SPLITS:
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
    check_scale(scale)
    names = SPLITS[split]
    folders = [d / BATCH_DIR for d in search_dirs(CIFAR10.name, root)]
    folder = next((f for f in folders if all((f / n).is_file() for n in names)), None)
    batches = None
    if folder is not None:
        try:
            batches = [read_batch(folder / n) for n in names]
        except DataError as exc:
            warnings.warn(f"{exc}; extracting the batches again from {ARCHIVE}", RuntimeWarning, stacklevel=2)
    if batches is None:
        mirrors = CIFAR10_MIRRORS if mirrors is None else mirrors
        folder = obtain(CIFAR10, ARCHIVE, extract_archive, root=root, download=download, mirrors=mirrors)
        batches = [read_batch(folder / n) for n in names]
    images = np.concatenate([b[0] for b in batches])
    labels = np.concatenate([b[1] for b in batches])
    return scale_images(images, scale), labels
