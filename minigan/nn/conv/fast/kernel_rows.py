"""Strides 1: conv2d_transpose as a convolution with the flipped kernel, one kernel row at a time.

With strides 1 the adjoint of a convolution is itself a convolution: ``dy`` zero-padded by
``kh - 1 - top`` rows and ``kw - 1 - left`` columns, with the kernel flipped in both axes and
its channel axes swapped, ``Kflip[i, j, f, c] = K[kh-1-i, kw-1-j, c, f]``. That is a patch
copy and a deeper matrix product instead of col2im's kh*kw read-modify-write passes.

Kernel row ``i`` reads input row ``r`` for output row ``r - i + top'`` (``top' = kh - 1 -
top``); only the rows of ``dy`` itself take part, so the padding rows are never multiplied
(for a 5x5 kernel on 7x7 images, 6 of every 35 row products). Each image row's kw x F
patches form a row of the matrix (a width-only im2col), and kernel row ``i`` is one product
``rows(dy[:, r0:r1]) Kflip[i]`` added into ``dx[:, r0 - i + top' : r1 - i + top']``.
``algorithm="kernel_rows"``; conv2d and conv2d_kernel_grad are im2col's.
"""

from __future__ import annotations

from typing import Any

from minigan.backend import get_array_module
from minigan.nn.conv.fast.chunked import Im2colChunks
from minigan.nn.conv.fast.patches import batch_chunks, pad_hw, patch_rows
from minigan.nn.conv.reference import im2col


class KernelRows(Im2colChunks):
    """:class:`Im2colChunks` with the strides-1 conv2d_transpose by kernel rows."""

    def conv2d_transpose(self, dy: Any, kernel: Any) -> Any:
        """``dx`` (N, H, W, C) = the convolution of pad'(dy) with ``Kflip``, by kernel rows."""
        xp = get_array_module(dy)
        g = self.geometry
        (n, h, _, f), (kh, kw), c = dy.shape, g.kernel_hw, g.channels
        (top, _), (left, right) = g.pads
        (ho, wo), top = g.in_hw, kh - 1 - top
        flipped = xp.ascontiguousarray(kernel[::-1, ::-1].transpose(0, 1, 3, 2)).reshape(kh, kw * f, c)
        dypad = pad_hw(dy, (0, 0), (kw - 1 - left, kw - 1 - right), self.workspace, "dypad_columns")
        patches = im2col(dypad, 1, kw, 1, 1)  # (N, h, W, 1, kw, F)
        dx = xp.zeros((n, ho, wo, c), dtype=dy.dtype)
        scratch, chunks = batch_chunks(n, h * wo, kw * f, dy.dtype, xp, self.workspace)
        products = self.workspace.get("products", (scratch.shape[0], c), dy.dtype, xp)
        for b in chunks:
            for i in range(kh):
                r0, r1 = max(0, i - top), min(h, ho + i - top)  # rows of dy that reach dx
                if r0 >= r1:
                    continue
                rows = patch_rows(patches[b, r0:r1], scratch)
                product = xp.matmul(rows, flipped[i], out=products[: rows.shape[0]])
                dx[b, r0 - i + top : r1 - i + top] += product.reshape(b.stop - b.start, r1 - r0, wo, c)
        return dx
