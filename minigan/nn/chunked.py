"""The three products of minigan.nn.functional a chunk of images at a time, in reused scratch.

Materialising every patch of a batch at once is a copy of kh*kw times the input (80 MB for
the DCGAN's second discriminator convolution at batch 256) that lives in main memory. Here
each product walks the batch in chunks of about ``CHUNK_BYTES`` of patch rows
(:func:`minigan.nn.im2col.batch_chunks`), copied into one scratch matrix that the layer keeps
from call to call (:mod:`minigan.nn.workspace`), so the patches stay in cache between the copy,
the matrix product and col2im. ``algorithm="im2col"``.
"""

from __future__ import annotations

from typing import Any

from minigan.backend import get_array_module
from minigan.nn.im2col import Geometry, batch_chunks, col2im_add, im2col, pad_hw, patch_rows
from minigan.nn.matmul import at_b
from minigan.nn.workspace import Workspace


class Im2colChunks:
    """conv2d, conv2d_transpose and conv2d_kernel_grad for one :class:`Geometry`, chunk by chunk."""

    def __init__(self, geometry: Geometry, dtype: Any) -> None:
        self.geometry = geometry
        self.workspace = Workspace()  # the padded input and the patch rows, reused from call to call

    def _patches(self, x: Any) -> Any:
        """im2col(pad(x)): a view (N, Ho, Wo, kh, kw, C) of the padded input, kept in the workspace."""
        g = self.geometry
        return im2col(pad_hw(x, *g.pads, self.workspace, "xpad"), *g.kernel_hw, *g.strides)

    def conv2d(self, x: Any, kernel: Any) -> Any:
        """``Y = X K``, a chunk of images at a time."""
        xp = get_array_module(x)
        f = kernel.shape[-1]
        kernel = kernel.reshape(-1, f)
        patches = self._patches(x)
        n, ho, wo = patches.shape[:3]
        y = xp.empty((n, ho, wo, f), dtype=x.dtype)
        scratch, chunks = batch_chunks(n, ho * wo, kernel.shape[0], x.dtype, xp, self.workspace)
        for b in chunks:
            xp.matmul(patch_rows(patches[b], scratch), kernel, out=y[b].reshape(-1, f))
        return y

    def conv2d_transpose(self, dy: Any, kernel: Any) -> Any:
        """``dx = crop(col2im(dY K^T))``, a chunk of images at a time; col2im adds into the cropped
        image directly (:func:`minigan.nn.im2col.col2im_add`)."""
        xp = get_array_module(dy)
        g = self.geometry
        (kh, kw), (n, ho, wo, f) = g.kernel_hw, dy.shape
        kernel = kernel.reshape(-1, f)  # (kh*kw*C, F)
        dx = xp.empty((n, *g.in_hw, g.channels), dtype=dy.dtype)
        scratch, chunks = batch_chunks(n, ho * wo, kernel.shape[0], dy.dtype, xp, self.workspace)
        for b in chunks:
            dy_rows = dy[b].reshape(-1, f)
            cols = xp.matmul(dy_rows, kernel.T, out=scratch[: dy_rows.shape[0]])
            dx[b] = 0
            col2im_add(cols.reshape(b.stop - b.start, ho, wo, kh, kw, g.channels), dx[b], *g.strides, g.crop)
        return dx

    def conv2d_kernel_grad(self, x: Any, dy: Any) -> Any:
        """``dL/dK = X^T dY``, summed over the chunks."""
        xp = get_array_module(x)
        g = self.geometry
        patches = self._patches(x)
        n, ho, wo, kh, kw, c = patches.shape
        dkernel = xp.zeros((kh * kw * c, g.filters), dtype=dy.dtype)
        scratch, chunks = batch_chunks(n, ho * wo, dkernel.shape[0], x.dtype, xp, self.workspace)
        for b in chunks:
            dkernel += at_b(patch_rows(patches[b], scratch), dy[b].reshape(-1, g.filters))
        return dkernel.reshape(kh, kw, c, g.filters)
