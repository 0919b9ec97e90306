"""Resizing a batch of images: separable linear interpolation as two matrix products.

Each output row (column) is a weighted mean of input rows (columns), so an image X (H, W) of
one channel becomes ``A @ X @ B.T`` with A (size, H) and B (size, W) from :func:`interpolation_matrix`.
Output pixel i of n_out sits at ``c_i = (i + 0.5) * n_in / n_out`` in input coordinates (pixel
centres at j + 0.5); its weights are the triangle ``max(0, 1 - |j + 0.5 - c_i| / s)`` with
``s = max(1, n_in / n_out)``, normalised to sum 1::

    A[i, j] = tri((j + 0.5 - c_i) / s) / sum_j' tri((j' + 0.5 - c_i) / s)

Enlarging (s = 1), that is bilinear interpolation between the two nearest pixels (the edge
pixels repeated beyond the border); shrinking, the triangle widens to cover every input pixel,
so no pixel is skipped (no aliasing). It is Pillow's ``Image.resize(..., BILINEAR)`` in float.
Rows summing to 1 keep a constant image constant; a linear ramp stays exactly linear wherever
the triangle does not reach past the border.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def interpolation_matrix(n_in: int, n_out: int) -> np.ndarray:
    """The (n_out, n_in) float64 matrix taking n_in samples along one axis to n_out (module docstring)."""
    if n_in < 1 or n_out < 1:
        raise ValueError(f"interpolation_matrix: expected sizes >= 1, got {n_in} -> {n_out}")
    scale = n_in / n_out
    support = max(1.0, scale)
    centres = (np.arange(n_out) + 0.5) * scale
    distance = (np.arange(n_in) + 0.5)[None, :] - centres[:, None]
    weights = np.maximum(0.0, 1.0 - np.abs(distance) / support)
    return weights / weights.sum(axis=1, keepdims=True)


def resize_images(images: Any, size: int, chunk: int = 4096) -> np.ndarray:
    """``images`` (N, H, W, C) resized to (N, size, size, C): per image and channel ``A @ X @ B.T``,
    A = ``interpolation_matrix(H, size)``, B = ``interpolation_matrix(W, size)``.

    Float images keep their dtype (float32 stays float32), others become float32; values are not
    rescaled, and stay within the input's range up to rounding (the weights are non-negative and
    sum to 1). ``chunk`` images at a time bound the temporaries (60,000 MNIST digits to 64x64:
    about 2 s on one core). A ValueError for another shape or size.
    """
    images = np.asarray(images)
    if images.ndim != 4 or 0 in images.shape[1:]:
        raise ValueError(f"resize_images: expected images of shape (N, H, W, C), got shape {images.shape}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"resize_images: expected a size >= 1 (an int), got {size!r}")
    dtype = images.dtype if images.dtype.kind == "f" else np.dtype(np.float32)
    n, height, width, channels = images.shape
    if (height, width) == (size, size):
        return images.astype(dtype, copy=True)
    rows = interpolation_matrix(height, size).astype(dtype)
    columns_t = interpolation_matrix(width, size).T.astype(dtype)
    out = np.empty((n, size, size, channels), dtype)
    for start in range(0, n, chunk):
        x = np.moveaxis(images[start : start + chunk].astype(dtype, copy=False), 3, 1)  # (n, C, H, W)
        out[start : start + chunk] = np.moveaxis(rows @ (x @ columns_t), 1, 3)
    return out
