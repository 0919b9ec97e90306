"""Matrix products in the forms OpenBLAS computes fastest.

Every kernel gradient is a reduction over the rows of two tall matrices,
``dL/dK = X^T dY`` with X (m, k) and dY (m, n), m large. Mathematically
``X^T dY = (dY^T X)^T``, but OpenBLAS (as shipped with NumPy) is far slower when the
product's result is short and wide than when it is tall and narrow, so :func:`at_b` always
computes the tall-result form. Also here: an outer product, which OpenBLAS's GEMM (inner
dimension 1) is slow at (:func:`a_bt`), and a sum over rows, which NumPy's reduction does
slower than the BLAS product ``1^T a`` (:func:`column_sums`). docs/performance.md has the
measurements.
"""

from __future__ import annotations

from typing import Any

from minigan.backend import get_array_module


def at_b(a: Any, b: Any) -> Any:
    """``a.T @ b`` (shape (k, n)) for ``a`` (m, k) and ``b`` (m, n), computed as ``(b.T @ a).T`` when k < n."""
    if a.shape[1] >= b.shape[1]:
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
