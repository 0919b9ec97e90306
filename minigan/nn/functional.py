"""The convolution and its two adjoints, whole batch: the reference every fast path is tested against.

A Conv2D from ``x`` (N, H, W, C) to ``y`` (N, Ho, Wo, F) with a kernel ``K`` (kh, kw, C, F),
``strides`` and zero padding ``pads`` = ((top, bottom), (left, right)) is one matrix product
once every kh x kw x C patch of the padded input is a row (:func:`minigan.nn.im2col.im2col`)::

    Y = X K              X = im2col(pad(x)): (N*Ho*Wo, kh*kw*C),  K: (kh*kw*C, F)

``Y`` is linear in ``x`` and in ``K``; the adjoint of each is a gradient::

    dL/dx = crop(col2im(dY K^T))     conv2d_transpose(dY, K): also Conv2DTranspose's forward
    dL/dK = X^T dY                   conv2d_kernel_grad(x, dY)

These three functions are the whole of both convolution layers (minigan.nn.conv). The layers
run them through an *algorithm* (minigan.nn.algorithms) that computes the same three
functions faster: in chunks of the batch, by kernel rows, or by the convolution theorem.
"""

from __future__ import annotations

from typing import Any

from minigan.nn.im2col import col2im, crop_hw, im2col, pad_hw
from minigan.nn.matmul import at_b

Pads = tuple[tuple[int, int], tuple[int, int]]


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
    return at_b(rows, dy.reshape(-1, f)).reshape(kh, kw, c, f)
