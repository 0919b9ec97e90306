"""Matrix products in the forms OpenBLAS computes fastest.

Every kernel gradient is a reduction over the rows of two matrices, ``dL/dK = X^T dY`` with
X (m, k) and dY (m, n). Mathematically ``X^T dY = (dY^T X)^T``, but OpenBLAS (as shipped with
NumPy) is far slower at a long reduction (m in the thousands: a convolution's pixels) when the
result is short and wide than when it is tall and narrow, so :func:`at_b` computes the
tall-result form there. Over a batch of rows (a Dense layer, m = N) it does not: there the
transposed result costs more, as a strided addition into the C-ordered gradient, than it
saves. Also here: an outer product, which OpenBLAS's GEMM (inner dimension 1) is slow at
(:func:`a_bt`), and a sum over rows, which NumPy's reduction does slower than the BLAS product
``1^T a`` (:func:`column_sums`). Measured with NumPy's OpenBLAS on 2 cores: for the DCGAN's first
convolution (m = 50176, k = 25, n = 64) ``X^T dY`` took about 1 s and ``(dY^T X)^T`` about 10 ms;
the broadcast outer product was about 10x faster than the GEMM, ``1^T a`` 2-3x faster than
``a.sum(axis=0)``.
"""

from __future__ import annotations

from typing import Any

from minigan.backend import get_array_module

#: From this many rows on, a short and wide ``a.T @ b`` is computed as ``(b.T @ a).T``.
TALL_ROWS = 4096


def at_b(a: Any, b: Any) -> Any:
    """``a.T @ b`` (shape (k, n)) for ``a`` (m, k) and ``b`` (m, n), computed as ``(b.T @ a).T`` when
    k < n and m >= ``TALL_ROWS``."""
    if a.shape[1] >= b.shape[1] or a.shape[0] < TALL_ROWS:
        return a.T @ b
    return (b.T @ a).T


def a_bt(a: Any, b: Any) -> Any:
    """``a @ b.T`` (shape (m, n)) for ``a`` (m, k) and ``b`` (n, k); for k = 1 (an outer
    product, the input gradient of a Dense layer with one unit) a broadcast multiply."""
    if a.shape[1] == 1:
        return a * b.T
    return a @ b.T


def column_sums(a: Any) -> Any:
    """``a.sum(axis=0)`` of an (m, C) matrix as the product ``1^T a``."""
    return get_array_module(a).ones(a.shape[0], dtype=a.dtype) @ a
