"""The Frechet distance between two Gaussians fitted to feature sets (FID's formula).

For features ``X1`` (N1, D) and ``X2`` (N2, D) with means ``m1, m2`` and covariances
``C1, C2`` (unbiased, ``1/(N-1)``)::

    d^2 = |m1 - m2|^2 + tr(C1) + tr(C2) - 2 tr sqrt(C1 C2)

``C1 C2`` is not symmetric, but it is similar to ``S C2 S`` with ``S = sqrt(C1)``
(``C1 C2 = S (S C2 S) S^-1``), which is symmetric positive semi-definite, so::

    tr sqrt(C1 C2) = tr sqrt(S C2 S) = sum_i sqrt(max(lambda_i, 0))

with ``lambda_i`` the eigenvalues of ``S C2 S``; both square roots come from
``numpy.linalg.eigh``. Everything is computed in float64 on the host.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan import backend


def feature_statistics(features: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) of ``features`` (N, D), in float64; needs N >= 2."""
    x = np.asarray(backend.as_numpy(features), dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"feature_statistics: expected features of shape (N >= 2, D), got {x.shape}")
    return x.mean(axis=0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric PSD matrix (negative rounding-error eigenvalues -> 0)."""
    eigenvalues, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """``|mu1 - mu2|^2 + tr(C1) + tr(C2) - 2 tr sqrt(C1 C2)`` (>= 0 up to rounding), in float64."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    cov1, cov2 = np.asarray(cov1, np.float64), np.asarray(cov2, np.float64)
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or cov1.shape != (d, d) or cov2.shape != (d, d):
        raise ValueError(
            f"frechet_distance: expected means (D,) and covariances (D, D) of one D, got "
            f"{mu1.shape}, {cov1.shape}, {mu2.shape}, {cov2.shape}"
        )
    s = _sqrt_psd(cov1)
    middle = s @ cov2 @ s
    trace_sqrt = float(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum())
    diff = mu1 - mu2
    value = float(diff @ diff) + float(np.trace(cov1)) + float(np.trace(cov2)) - 2 * trace_sqrt
    return max(value, 0.0)


def frechet_distance_of_features(features1: Any, features2: Any) -> float:
    """:func:`frechet_distance` of the Gaussians fitted to two feature sets (N1, D) and (N2, D)."""
    return frechet_distance(*feature_statistics(features1), *feature_statistics(features2))
