"""The Kernel Inception Distance: an unbiased estimate of the squared MMD between two feature sets.

With the cubic polynomial kernel of Binkowski et al. (2018) on features of dimension ``D``::

    k(x, y) = (x . y / D + 1)^3

the unbiased estimate of MMD^2 between ``X`` (m, D) and ``Y`` (n, D) is::

    MMD^2 = sum_{i != j} k(x_i, x_j) / (m (m - 1))
          + sum_{i != j} k(y_i, y_j) / (n (n - 1))
          - 2 sum_{i, j} k(x_i, y_j) / (m n)

KID is its mean over ``subsets`` random pairs of subsets of ``subset_size`` rows of each set
(drawn without replacement by NumPy's legacy ``RandomState(seed)``, whose stream is frozen
across NumPy versions, so the same features give the same subsets everywhere), reported with
the standard deviation (ddof 0) over the subsets, as torch-fidelity does (100 subsets of 1,000
by default).
Being unbiased, its expectation does not depend on the sample count, and it can be slightly
negative for two samples of one distribution. Everything is computed in float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan import backend


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(x y^T / D + 1)^3`` of rows ``x`` (m, D) and ``y`` (n, D): (m, n) float64."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: Any, y: Any) -> float:
    """The unbiased MMD^2 estimate between ``x`` (m, D) and ``y`` (n, D), m, n >= 2, with
    :func:`polynomial_kernel`."""
    x, y = _features(x, "x"), _features(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"mmd2_unbiased: expected features of one dimension, got {x.shape} and {y.shape}")
    m, n = len(x), len(y)
    k_xx, k_yy = polynomial_kernel(x, x), polynomial_kernel(y, y)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2 * polynomial_kernel(x, y).mean())


def kernel_inception_distance(
    features1: Any, features2: Any, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """KID between feature sets (N1, D) and (N2, D): the mean and standard deviation (ddof 0) of
    :func:`mmd2_unbiased` over ``subsets`` pairs of random subsets of ``min(subset_size, N1, N2)`` rows."""
    x, y = _features(features1, "features1"), _features(features2, "features2")
    if subsets < 1 or subset_size < 2:
        raise ValueError(f"kernel_inception_distance: expected subsets >= 1 and subset_size >= 2, got "
                         f"{subsets} and {subset_size}")
    size = min(subset_size, len(x), len(y))
    rng = np.random.RandomState(seed)
    values = [
        mmd2_unbiased(x[rng.choice(len(x), size, replace=False)], y[rng.choice(len(y), size, replace=False)])
        for _ in range(subsets)
    ]
    return float(np.mean(values)), float(np.std(values))


def _features(features: Any, what: str) -> np.ndarray:
    x = np.asarray(backend.as_numpy(features), dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"KID: {what}: expected features of shape (N >= 2, D), got {x.shape}")
    return x
