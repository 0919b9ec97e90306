"""Improved precision and recall (Kynkaanniemi et al., 2019): k-nearest-neighbour manifolds of features.

Each feature set stands for the manifold covered by balls around its points, the ball of
``x_i`` reaching its k-th nearest neighbour in its own set (k = 3 by default)::

    r_k(x_i, X)   = distance from x_i to its k-th nearest other point of X
    f(y, X)       = 1 if |y - x_i| <= r_k(x_i, X) for some i, else 0
    precision     = mean_{g in G} f(g, R)      share of samples inside the real manifold (quality)
    recall        = mean_{r in R} f(r, G)      share of real images inside the samples' manifold (coverage)

for real (reference) features ``R`` (N, D) and generated features ``G`` (M, D). Distances are
Euclidean, computed in float64 in blocks of rows (``|a|^2 + |b|^2 - 2 a.b``, at most ``block``
x N entries at a time). A point's ball is measured without the point itself, but a duplicate
counts as a neighbour at distance 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan import backend

#: Rows of the distance matrix computed at once: 1,000 x 10,000 float64 is 80 MB.
BLOCK = 1000


def squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``|a_i - b_j|^2`` of rows ``a`` (m, D) and ``b`` (n, D): (m, n) float64, clipped at 0."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2 * (a @ b.T)
    return np.maximum(d, 0.0)


def knn_radii(features: Any, k: int = 3, block: int = BLOCK) -> np.ndarray:
    """``r_k(x_i, X)`` for every row of ``features`` (N, D), N > k: (N,) float64."""
    x = _features(features, "features")
    if not 1 <= k < len(x):
        raise ValueError(f"knn_radii: expected 1 <= k < N = {len(x)}, got k = {k}")
    radii = np.empty(len(x))
    for first in range(0, len(x), block):
        d = squared_distances(x[first : first + block], x)
        # The point itself is among the k + 1 smallest (at distance 0): the (k+1)-th smallest is the k-th other.
        radii[first : first + block] = np.partition(d, k, axis=1)[:, k]
    return np.sqrt(radii)


def precision_recall(
    real: Any, generated: Any, k: int = 3, real_radii: np.ndarray | None = None, block: int = BLOCK
) -> tuple[float, float]:
    """``(precision, recall)`` of ``generated`` features (M, D) against ``real`` features (N, D).

    ``real_radii``, :func:`knn_radii` of ``real`` with the same ``k`` if already computed, saves
    the N x N distances (a reference scored many times computes them once). The M x N distances
    between the sets are computed once, a ``block`` of generated rows at a time, for both shares."""
    real, generated = _features(real, "real"), _features(generated, "generated")
    if real.shape[1] != generated.shape[1]:
        raise ValueError(f"precision_recall: expected features of one dimension, got {real.shape} and "
                         f"{generated.shape}")
    if real_radii is None:
        real_radii = knn_radii(real, k)
    generated_radii = knn_radii(generated, k)
    inside_real = np.zeros(len(generated), dtype=bool)  # generated points in some real ball
    covered = np.zeros(len(real), dtype=bool)  # real points in some generated ball
    for first in range(0, len(generated), block):
        d = np.sqrt(squared_distances(generated[first : first + block], real))
        inside_real[first : first + block] = (d <= real_radii[None, :]).any(axis=1)
        covered |= (d <= generated_radii[first : first + block, None]).any(axis=0)
    return float(inside_real.mean()), float(covered.mean())


def _features(features: Any, what: str) -> np.ndarray:
    x = np.asarray(backend.as_numpy(features), dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"precision/recall: {what}: expected features of shape (N >= 2, D), got {x.shape}")
    return x
