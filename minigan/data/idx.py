"""The IDX format of MNIST and Fashion-MNIST: a magic number, big-endian dimensions, raw data.

Header: two zero bytes, a type byte (0x08 unsigned byte, 0x09 signed byte, 0x0B int16,
0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions, then one big-endian
uint32 per dimension. The file must be exactly as long as its header says.
"""

from __future__ import annotations

import math
import os
import struct

import numpy as np

from minigan.data.scaling import check_scale, scale_images
from minigan.data.storage import DataError, read_bytes

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(data: bytes, source: str | os.PathLike) -> np.ndarray:
    """The array stored in the IDX bytes ``data`` (native byte order, writeable).

    Raises :class:`DataError` naming ``source`` for a bad magic number or a length that does
    not match the header (a truncated file, or one with trailing bytes).
    """
    if len(data) < 4 or data[0] or data[1] or data[2] not in IDX_TYPES or data[3] == 0:
        raise DataError(
            f"{source}: not an IDX file: magic number 0x{data[:4].hex()}, expected 0x0000 followed by a "
            f"type byte ({', '.join(f'0x{t:02x}' for t in IDX_TYPES)}) and a non-zero number of dimensions"
        )
    dtype = np.dtype(IDX_TYPES[data[2]])
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{source}: truncated IDX header: {len(data)} bytes, expected at least {header}")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + math.prod(shape) * dtype.itemsize
    if len(data) != expected:
        raise DataError(
            f"{source}: file length {len(data)} bytes does not match its IDX header: shape {shape} of {dtype.name} "
            f"needs {expected} bytes (the file is truncated or corrupt)"
        )
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array in the IDX file ``path`` (gzip-compressed or raw)."""
    return parse_idx(read_bytes(path), path)


def images_nhwc(images: np.ndarray, source: str | os.PathLike) -> np.ndarray:
    """IDX images ``(N, H, W)`` or ``(N, H, W, C)`` of unsigned bytes as ``(N, H, W, C)`` uint8."""
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise DataError(
            f"{source}: expected images of unsigned bytes shaped (N, H, W) or (N, H, W, C), "
            f"got {images.dtype} shaped {images.shape}"
        )
    return images[..., None] if images.ndim == 3 else images


def check_labels(labels: np.ndarray, source: str | os.PathLike, count: int, num_classes: int | None = None) -> None:
    """Raise :class:`DataError` unless ``labels`` is 1-D integer of length ``count`` in ``[0, num_classes)``."""
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise DataError(f"{source}: expected 1-D integer labels, got {labels.dtype} shaped {labels.shape}")
    if len(labels) != count:
        raise DataError(f"{source}: expected {count} labels (one per image), got {len(labels)}")
    if num_classes is not None and len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise DataError(
            f"{source}: expected labels in [0, {num_classes - 1}], got values from {labels.min()} to {labels.max()}"
        )


def load_idx(
    images_path: str | os.PathLike, labels_path: str | os.PathLike, scale: str = "[-1,1]"
) -> tuple[np.ndarray, np.ndarray]:
    """Any IDX image/label pair: images ``(N, H, W, C)`` (C = 1 for 3-D files), labels int64 ``(N,)``.

    Images are float32 in [-1, 1] by default (``scale="[0,1]"``, or ``"uint8"`` for the raw bytes).
    Both files may be gzip-compressed or raw; they are checked for structure only.
    """
    check_scale(scale)
    images = images_nhwc(read_idx(images_path), images_path)
    labels = read_idx(labels_path)
    check_labels(labels, labels_path, len(images))
    return scale_images(images, scale), labels.astype(np.int64)
