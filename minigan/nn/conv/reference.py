"""The convolution and its two adjoints, whole batch, in plain NumPy: the code to read first.

A Conv2D from ``x`` (N, H, W, C) to ``y`` (N, Ho, Wo, F) with a kernel ``K`` (kh, kw, C, F),
``strides`` (sh, sw) and zero padding ``pads`` = ((top, bottom), (left, right)) is one matrix
product once every kh x kw x C patch of the padded input is laid out as a row ("im2col")::

    x (N, H, W, C) --pad--> (N, Hp, Wp, C) --im2col--> (N, Ho, Wo, kh, kw, C)
    Y = X K          X = the patches as rows (N*Ho*Wo, kh*kw*C),  K as (kh*kw*C, F)

``Y`` is linear in ``x`` and in ``K``; the adjoint of each is a gradient::

    dL/dx = crop(col2im(dY K^T))     conv2d_transpose(dY, K): also Conv2DTranspose's forward
    dL/dK = X^T dY                   conv2d_kernel_grad(x, dY)

``col2im`` is the adjoint of ``im2col``: it adds every patch back where it came from. These
three functions are the whole of both convolution layers (:mod:`minigan.nn.conv.layers`);
``algorithm="reference"`` runs exactly this file. The fast algorithms
(:mod:`minigan.nn.conv.fast`) compute the same three functions and are tested against them.
"""

from __future__ import annotations

from typing import Any

from minigan.backend import get_array_module

Pads = tuple[tuple[int, int], tuple[int, int]]


def pad_hw(x: Any, ph: tuple[int, int], pw: tuple[int, int]) -> Any:
    """Zero-pad the height and width axes of an NHWC batch by ``ph`` = (top, bottom), ``pw`` = (left, right)."""
    return get_array_module(x).pad(x, ((0, 0), ph, pw, (0, 0)))


def crop_hw(x: Any, ph: tuple[int, int], pw: tuple[int, int]) -> Any:
    """The inverse of :func:`pad_hw`: drop ``ph`` rows and ``pw`` columns (a contiguous copy)."""
    _, h, w, _ = x.shape
    return get_array_module(x).ascontiguousarray(x[:, ph[0]:h - ph[1], pw[0]:w - pw[1], :])


def im2col(x: Any, kh: int, kw: int, sh: int, sw: int) -> Any:
    """All kh x kw patches of a padded NHWC batch, as a view (N, Ho, Wo, kh, kw, C).

    Patch (n, p, q) starts at row p*sh and column q*sw: the view steps sh rows for each p, one
    row for each i, and likewise for the columns, so no element is copied until it is used.
    """
    n, h, w, c = x.shape
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    s0, s1, s2, s3 = x.strides
    return get_array_module(x).lib.stride_tricks.as_strided(
        x, shape=(n, ho, wo, kh, kw, c), strides=(s0, s1 * sh, s2 * sw, s1, s2, s3)
    )


def col2im(cols: Any, hw: tuple[int, int], sh: int, sw: int) -> Any:
    """The adjoint of :func:`im2col`: add patches (N, Ho, Wo, kh, kw, C) back into a (N, H, W, C) batch.

    Kernel tap (i, j) of every patch lands at rows i, i + sh, ... and columns j, j + sw, ...:
    one strided slice-addition per tap, kh*kw in all.
    """
    n, ho, wo, kh, kw, c = cols.shape
    x = get_array_module(cols).zeros((n, hw[0], hw[1], c), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            x[:, i:i + sh * ho:sh, j:j + sw * wo:sw, :] += cols[:, :, :, i, j, :]
    return x


def conv2d(x: Any, kernel: Any, strides: tuple[int, int], pads: Pads) -> Any:
    """``y`` (N, Ho, Wo, F) = im2col(pad(x)) K for ``x`` (N, H, W, C) and ``kernel`` (kh, kw, C, F)."""
    kh, kw, c, f = kernel.shape
    patches = im2col(pad_hw(x, *pads), kh, kw, *strides)  # a view (N, Ho, Wo, kh, kw, C)
    rows = patches.reshape(-1, kh * kw * c)  # the patch matrix X (a copy)
    return (rows @ kernel.reshape(-1, f)).reshape(*patches.shape[:3], f)


def conv2d_transpose(dy: Any, kernel: Any, strides: tuple[int, int], pads: Pads, hw: tuple[int, int]) -> Any:
    """The adjoint of :func:`conv2d` in ``x``: crop(col2im(dY K^T)), an (N, H, W, C) array for
    ``dy`` (N, Ho, Wo, F); ``hw`` = (H, W), the unpadded input's size."""
    kh, kw, c, f = kernel.shape
    n, ho, wo, _ = dy.shape
    cols = dy.reshape(-1, f) @ kernel.reshape(-1, f).T  # dY K^T: (N*Ho*Wo, kh*kw*C)
    padded_hw = (hw[0] + sum(pads[0]), hw[1] + sum(pads[1]))
    dxpad = col2im(cols.reshape(n, ho, wo, kh, kw, c), padded_hw, *strides)
    return crop_hw(dxpad, *pads)


def conv2d_kernel_grad(x: Any, dy: Any, kernel_hw: tuple[int, int], strides: tuple[int, int], pads: Pads) -> Any:
    """The adjoint of :func:`conv2d` in ``K``: X^T dY as a (kh, kw, C, F) kernel."""
    (kh, kw), c, f = kernel_hw, x.shape[-1], dy.shape[-1]
    rows = im2col(pad_hw(x, *pads), kh, kw, *strides).reshape(-1, kh * kw * c)
    return (rows.T @ dy.reshape(-1, f)).reshape(kh, kw, c, f)


class Reference:
    """This file's three functions for one layer's :class:`~minigan.nn.conv.geometry.Geometry`:
    the object a layer built with ``algorithm="reference"`` calls."""

    def __init__(self, geometry: Any, dtype: Any = None) -> None:
        self.geometry = geometry

    def conv2d(self, x: Any, kernel: Any) -> Any:
        return conv2d(x, kernel, self.geometry.strides, self.geometry.pads)

    def conv2d_transpose(self, dy: Any, kernel: Any) -> Any:
        g = self.geometry
        return conv2d_transpose(dy, kernel, g.strides, g.pads, g.in_hw)

    def conv2d_kernel_grad(self, x: Any, dy: Any) -> Any:
        g = self.geometry
        return conv2d_kernel_grad(x, dy, g.kernel_hw, g.strides, g.pads)
