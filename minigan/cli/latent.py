"""Paths through the latent space: linear and spherical interpolation between two noise vectors.

Linear: ``z(a) = (1 - a) z1 + a z2``. Spherical (slerp, White 2016): with ``omega`` the angle
between z1 and z2, ``z(a) = sin((1 - a) omega) / sin(omega) z1 + sin(a omega) / sin(omega) z2``,
which keeps the norm of the path near that of Gaussian samples (a straight line through the
origin's neighbourhood passes points that are unusually short for N(0, I) in many dimensions).
"""

from __future__ import annotations

import numpy as np


def _check(z1: np.ndarray, z2: np.ndarray, alphas: np.ndarray, what: str) -> tuple[np.ndarray, ...]:
    z1, z2, alphas = np.asarray(z1), np.asarray(z2), np.asarray(alphas)
    if z1.shape != z2.shape or z1.ndim != 2 or alphas.ndim != 1:
        raise ValueError(f"{what}: expected z1 and z2 shaped (rows, d) alike and alphas (steps,), "
                         f"got {z1.shape}, {z2.shape} and {alphas.shape}")
    return z1, z2, alphas


def lerp(z1: np.ndarray, z2: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """``(1 - a) z1 + a z2`` for each row pair and each a: (rows, d), (rows, d), (steps,) -> (rows, steps, d)."""
    z1, z2, alphas = _check(z1, z2, alphas, "lerp")
    a = alphas[None, :, None]
    return ((1 - a) * z1[:, None, :] + a * z2[:, None, :]).astype(z1.dtype)


def slerp(z1: np.ndarray, z2: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """Spherical interpolation, same shapes as :func:`lerp`; rows whose z1, z2 are (anti)parallel
    (sin omega ~ 0) fall back to :func:`lerp`."""
    z1, z2, alphas = _check(z1, z2, alphas, "slerp")
    u1 = z1 / np.linalg.norm(z1, axis=1, keepdims=True)
    u2 = z2 / np.linalg.norm(z2, axis=1, keepdims=True)
    omega = np.arccos(np.clip((u1 * u2).sum(axis=1), -1.0, 1.0))[:, None, None]
    sin = np.sin(omega)
    a = alphas[None, :, None]
    safe = np.where(sin > 1e-6, sin, 1.0)
    spherical = (np.sin((1 - a) * omega) * z1[:, None, :] + np.sin(a * omega) * z2[:, None, :]) / safe
    return np.where(sin > 1e-6, spherical, lerp(z1, z2, alphas)).astype(z1.dtype)
