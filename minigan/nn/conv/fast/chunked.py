"""The three products of minigan.nn.conv.reference a chunk of images at a time, in reused scratch.

Materialising every patch of a batch at once is a copy of kh*kw times the input (80 MB for
the DCGAN's second discriminator convolution at batch 256) that lives in main memory. Here
each product walks the batch in chunks of about ``CHUNK_BYTES`` of patch rows
(:func:`minigan.nn.conv.fast.patches.batch_chunks`), copied into one scratch matrix that the layer keeps
from call to call (:mod:`minigan.nn.conv.fast.workspace`), so the patches stay in cache between the copy,
the matrix product and col2im. ``algorithm="im2col"``.

conv2d and the kernel gradient copy the same patch rows of the same input: a Conv2D's training
forward, then its backward; a Conv2DTranspose's backward, ``conv2d(dy)`` then the kernel
gradient of ``dy``. So their rows have scratch of their own ("rows"), and the kernel gradient
walks the chunks last first and does not copy the chunk that is still there from ``conv2d`` of
the same array (a weak reference tells; an input changed in place between a layer's forward
and its backward would be wrong for its cached input as much).
"""

from __future__ import annotations

import weakref
from typing import Any

from minigan.backend import get_array_module
from minigan.nn.conv.fast.patches import batch_chunks, col2im_add, pad_hw, patch_rows
from minigan.nn.conv.fast.workspace import Workspace
from minigan.nn.conv.geometry import Geometry
from minigan.nn.conv.reference import im2col
from minigan.nn.matmul import at_b


class Im2colChunks:
    """conv2d, conv2d_transpose and conv2d_kernel_grad for one :class:`Geometry`, chunk by chunk."""

    def __init__(self, geometry: Geometry, dtype: Any) -> None:
        self.geometry = geometry
        self.workspace = Workspace()  # the padded input and the patch rows, reused from call to call
        self._rows_hold: tuple[Any, slice, Any] | None = None  # (weak reference to x, chunk, scratch)

    def _copy_rows(self, x: Any, patches: Any, chunk: slice, scratch: Any) -> Any:
        """The patch rows of images ``chunk`` of ``x`` copied into ``scratch``, remembered as there."""
        try:
            self._rows_hold = weakref.ref(x), chunk, scratch
        except TypeError:  # an array type without weak references (CuPy's): nothing remembered
            self._rows_hold = None
        return patch_rows(patches[chunk], scratch)

    def _holds(self, x: Any, chunk: slice, scratch: Any) -> bool:
        """Whether ``scratch`` holds the patch rows of images ``chunk`` of ``x``."""
        hold = self._rows_hold
        return hold is not None and hold[0]() is x and hold[1] == chunk and hold[2] is scratch

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
        scratch, chunks = batch_chunks(n, ho * wo, kernel.shape[0], x.dtype, xp, self.workspace, "rows")
        for b in chunks:
            xp.matmul(self._copy_rows(x, patches, b, scratch), kernel, out=y[b].reshape(-1, f))
        return y

    def conv2d_transpose(self, dy: Any, kernel: Any) -> Any:
        """``dx = crop(col2im(dY K^T))``, a chunk of images at a time; col2im adds into the cropped
        image directly (:func:`minigan.nn.conv.fast.patches.col2im_add`)."""
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
        """``dL/dK = X^T dY``, summed over the chunks (the last first: it may still be in scratch)."""
        xp = get_array_module(x)
        g = self.geometry
        (n, ho, wo, _), (kh, kw), c = dy.shape, g.kernel_hw, g.channels
        dkernel = xp.zeros((kh * kw * c, g.filters), dtype=dy.dtype)
        scratch, chunks = batch_chunks(n, ho * wo, dkernel.shape[0], x.dtype, xp, self.workspace, "rows")
        patches = None
        for b in reversed(chunks):
            if self._holds(x, b, scratch):
                rows = scratch[: (b.stop - b.start) * ho * wo]
            else:
                patches = self._patches(x) if patches is None else patches
                rows = self._copy_rows(x, patches, b, scratch)
            dkernel += at_b(rows, dy[b].reshape(-1, g.filters))
        return dkernel.reshape(kh, kw, c, g.filters)
