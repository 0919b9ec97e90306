"""The size arithmetic of a convolution and the :class:`Geometry` that both convolution layers share.

Padding follows TensorFlow: "valid" adds none; "same" gives ``ceil(n / s)`` outputs and
pads ``total = max((out - 1) * s + k - n, 0)`` with ``total // 2`` before and the rest
(the odd extra row or column) after. A transposed convolution's output size is Keras'
``deconv_output_length``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PADDINGS = ("valid", "same")

@dataclass(frozen=True)
class Geometry:
    """A Conv2D from (H, W, C) images (``in_hw``, ``channels``) to (Ho, Wo, F) ones (``out_hw``,
    ``filters``) with a (kh, kw, C, F) kernel, ``strides`` and the zeros ``pads`` =
    ((top, bottom), (left, right)) around its input. The Conv2DTranspose with the same kernel
    is its adjoint: from (Ho, Wo, F) back to (H, W, C)."""

    in_hw: tuple[int, int]
    out_hw: tuple[int, int]
    kernel_hw: tuple[int, int]
    strides: tuple[int, int]
    pads: tuple[tuple[int, int], tuple[int, int]]
    channels: int
    filters: int

    @property
    def crop(self) -> tuple[int, int]:
        """(top, left): where the unpadded input starts in the padded one."""
        return self.pads[0][0], self.pads[1][0]


def pair(value: int | tuple[int, int], what: str) -> tuple[int, int]:
    """``3 -> (3, 3)``; a pair is checked and returned as ints."""
    a, b = (value, value) if isinstance(value, int) else tuple(value)
    if a < 1 or b < 1:
        raise ValueError(f"expected positive {what}, got {value}")
    return int(a), int(b)


def conv_output_length(n: int, k: int, s: int, padding: str) -> int:
    """Output length of a convolution along one axis of length ``n``."""
    if padding == "same":
        return math.ceil(n / s)
    return (n - k) // s + 1


def conv_padding(n: int, k: int, s: int, padding: str) -> tuple[int, int]:
    """Zeros added (before, after) along an axis of length ``n``, TensorFlow's way."""
    if padding == "valid":
        return 0, 0
    total = max((conv_output_length(n, k, s, "same") - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def transpose_output_length(n: int, k: int, s: int, padding: str, output_padding: int | None) -> int:
    """Output length of a transposed convolution (Keras' ``deconv_output_length``)."""
    if output_padding is None:
        return n * s if padding == "same" else n * s + max(k - s, 0)
    if padding == "same":
        return (n - 1) * s + k - 2 * (k // 2) + output_padding
    return (n - 1) * s + k + output_padding







