"""Weight initialisers, named as in Keras, drawn from minigan's seeded generator.

Fans follow Keras: for a kernel of shape ``(..., fan_in_axis, fan_out_axis)`` the
receptive field is the product of the leading axes, ``fan_in = receptive * shape[-2]``
and ``fan_out = receptive * shape[-1]``.

- ``glorot_uniform``: U(-a, a), a = sqrt(6 / (fan_in + fan_out))   (Keras' default)
- ``he_normal``: N(0, 2 / fan_in) truncated at two standard deviations
- ``dcgan_normal``: N(0, 0.02^2), the initialisation of Radford et al. (DCGAN)
- ``zeros``, ``ones``
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from minigan import backend

Initializer = Callable[[tuple[int, ...], np.dtype], Any]


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return receptive * shape[-2], receptive * shape[-1]


def glorot_uniform(shape: tuple[int, ...], dtype: np.dtype) -> Any:
    fan_in, fan_out = _fans(shape)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    u = backend.rng().random(shape, dtype=dtype)
    return (2 * limit) * u - limit


def _truncated_normal(shape: tuple[int, ...], dtype: np.dtype, std: float) -> Any:
    xp = backend.xp()
    z = backend.rng().standard_normal(shape, dtype=dtype)
    outside = xp.abs(z) > 2
    while bool(outside.any()):
        z = xp.where(outside, backend.rng().standard_normal(shape, dtype=dtype), z)
        outside = xp.abs(z) > 2
    return std * z


def he_normal(shape: tuple[int, ...], dtype: np.dtype) -> Any:
    fan_in, _ = _fans(shape)
    return _truncated_normal(shape, dtype, math.sqrt(2.0 / fan_in) / 0.87962566103423978)


def dcgan_normal(shape: tuple[int, ...], dtype: np.dtype) -> Any:
    return 0.02 * backend.rng().standard_normal(shape, dtype=dtype)


def zeros(shape: tuple[int, ...], dtype: np.dtype) -> Any:
    return backend.xp().zeros(shape, dtype=dtype)


def ones(shape: tuple[int, ...], dtype: np.dtype) -> Any:
    return backend.xp().ones(shape, dtype=dtype)


_BY_NAME: dict[str, Initializer] = {
    "glorot_uniform": glorot_uniform,
    "he_normal": he_normal,
    "dcgan_normal": dcgan_normal,
    "zeros": zeros,
    "ones": ones,
}


def get(initializer: str | Initializer) -> Initializer:
    """Resolve an initialiser given by name or as a callable ``f(shape, dtype) -> array``."""
    if callable(initializer):
        return initializer
    try:
        return _BY_NAME[initializer]
    except KeyError:
        raise ValueError(f"unknown initializer {initializer!r}; expected one of {sorted(_BY_NAME)}") from None
