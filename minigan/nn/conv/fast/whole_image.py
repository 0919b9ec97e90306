"""A convolution whose kernel covers its whole input: a Dense layer on the flattened image.

When the kernel is as large as the (unpadded) input, there is one output pixel and its one
patch is the image itself: im2col copies nothing, col2im adds nothing, and each of the three
products of minigan.nn.conv.reference is one matrix product, with X = x.reshape(N, kh*kw*C)::

    conv2d:              Y = X K        (N, F), as y (N, 1, 1, F)
    conv2d_transpose:    dX = dY K^T    (N, kh*kw*C), as dx (N, kh, kw, C)
    conv2d_kernel_grad:  dK = X^T dY    (kh*kw*C, F), as (kh, kw, C, F)

with K as (kh*kw*C, F). The conditional DCGAN's generator starts so (a Conv2DTranspose from
1x1 to 7x7, 'valid'), as does PyTorch's DCGAN example (1x1 to 4x4), whose discriminator also
ends so. ``algorithm="whole_image"``; "auto" takes it wherever it applies (:func:`fits`).
"""

from __future__ import annotations

from typing import Any

from minigan.nn.conv.geometry import Geometry
from minigan.nn.matmul import at_b


def fits(geometry: Geometry) -> bool:
    """True when the kernel covers the whole unpadded input (one output pixel)."""
    return geometry.in_hw == geometry.kernel_hw and geometry.pads == ((0, 0), (0, 0))


class WholeImage:
    """conv2d, conv2d_transpose and conv2d_kernel_grad for a :class:`Geometry` that :func:`fits`."""

    def __init__(self, geometry: Geometry, dtype: Any) -> None:
        self.geometry = geometry

    def conv2d(self, x: Any, kernel: Any) -> Any:
        """``Y = X K``: (N, 1, 1, F)."""
        f = kernel.shape[-1]
        return (x.reshape(len(x), -1) @ kernel.reshape(-1, f)).reshape(len(x), 1, 1, f)

    def conv2d_transpose(self, dy: Any, kernel: Any) -> Any:
        """``dY K^T`` as images: (N, kh, kw, C)."""
        f = kernel.shape[-1]
        return (dy.reshape(len(dy), f) @ kernel.reshape(-1, f).T).reshape(len(dy), *self.geometry.in_hw, -1)

    def conv2d_kernel_grad(self, x: Any, dy: Any) -> Any:
        """``X^T dY`` as a (kh, kw, C, F) kernel."""
        f = dy.shape[-1]
        return at_b(x.reshape(len(x), -1), dy.reshape(len(dy), f)).reshape(*self.geometry.kernel_hw, -1, f)
