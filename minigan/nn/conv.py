"""Conv2D and its adjoint, Conv2DTranspose: im2col / col2im and one matrix product each.

Both use Keras' NHWC tensors and kernel layouts, so a kernel ``K`` of shape
(kh, kw, C, F) is a Conv2D from C to F channels *and* a Conv2DTranspose from F back
to C channels. The transposed convolution is exactly the adjoint (the transpose of
the matrix) of the convolution with the same kernel, strides and padding::

    <Conv2D_K(x), y> = <x, Conv2DTranspose_K(y)>

so its forward pass is Conv2D's backward-to-input, and its backward-to-input is
Conv2D's forward.

Each matrix product runs over the batch in chunks of a few images (see
:mod:`minigan.nn.im2col`): the patch matrix of a chunk is built, multiplied and (for
col2im) summed while it is still in cache, and the whole-batch patch matrix is never
materialised. Conv2D keeps only the padded input for its backward pass and rebuilds
the patches there.

Where it saves work (:func:`minigan.nn.fourier.worthwhile`; in the DCGAN every layer with
64 or more channels on both sides), both layers run on the Fourier path instead: the
convolution theorem as real matrix products, no patch copies and no col2im
(:mod:`minigan.nn.fourier`; tests/test_fast_paths.py checks it against im2col).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan.backend import get_array_module
from minigan.nn import initializers
from minigan.nn.fourier import FourierConvTranspose, worthwhile
from minigan.nn.im2col import (
    PADDINGS,
    batch_chunks,
    col2im_add,
    conv_output_length,
    conv_padding,
    im2col,
    pad_hw,
    pair,
    patch_rows,
    transpose_output_length,
)
from minigan.nn.layer import Layer
from minigan.nn.matmul import at_b, column_sums
from minigan.nn.workspace import Workspace


class _Conv(Layer):
    """Arguments and bookkeeping shared by both convolutions."""

    input_rank = 3

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int],
        strides: int | tuple[int, int] = 1,
        padding: str = "valid",
        use_bias: bool = True,
        kernel_initializer: str | initializers.Initializer = "glorot_uniform",
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        cls = type(self).__name__
        if int(filters) < 1:
            raise ValueError(f"{cls}: expected filters >= 1, got {filters}")
        if padding not in PADDINGS:
            raise ValueError(f"{cls}: expected padding 'valid' or 'same', got {padding!r}")
        self.filters = int(filters)
        self.kernel_size = pair(kernel_size, f"{cls} kernel_size")
        self.strides = pair(strides, f"{cls} strides")
        self.padding = padding
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.workspace = Workspace()  # scratch and the padded input, reused from call to call
        super().__init__(input_shape, name)

    def _kernel_and_bias(self, kernel_shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.params["kernel"] = self.kernel_initializer(kernel_shape, dtype)
        if self.use_bias:
            self.params["bias"] = initializers.zeros((self.filters,), dtype)

    def _add_bias(self, y: Any) -> Any:
        if self.use_bias:
            y += self.params["bias"]
        return y

    def _bias_grad(self, dy: Any) -> None:
        if self.use_bias and self.trainable:
            self.grads["bias"] += column_sums(dy.reshape(-1, self.filters))

    def _fourier_gradients(self, dy: Any, cache: Any, input_grad: bool, backward: Any) -> Any:
        """The backward pass of the Fourier path (:mod:`minigan.nn.fourier`): ``backward`` is
        the plan's ``transposed_backward`` or ``convolution_backward``."""
        x_shape, xhat = cache
        dx, dkernel = backward(dy, xhat, x_shape, self.params["kernel"], input_grad, self.trainable)
        if dkernel is not None:
            self.grads["kernel"] += dkernel
        self._bias_grad(dy)
        return dx


class Conv2D(_Conv):
    """2-D convolution (cross-correlation, as in every DL framework)::

        y[n, p, q, f] = b[f] + sum_{i, j, c} xpad[n, p*sh + i, q*sw + j, c] K[i, j, c, f]

    Shapes: ``x`` (N, H, W, C), ``K`` = ``params["kernel"]`` (kh, kw, C, F), ``b`` (F,),
    ``y`` (N, Ho, Wo, F) with Ho = ceil(H / sh) ("same") or (H - kh) // sh + 1 ("valid").

    With ``X`` = im2col(xpad) as a matrix (N*Ho*Wo, kh*kw*C) and ``K`` as (kh*kw*C, F),
    ``Y = X K + b`` and the backward pass is::

        dL/dK = X^T dY      dL/db = sum of dY over rows      dL/dx = crop(col2im(dY K^T))

    Fourier path, where it saves work: the adjoint of the transposed convolution from
    (Ho, Wo) to (H, W), by :class:`minigan.nn.fourier.FourierConvTranspose`.
    """

    def build(self, input_shape: tuple[int, ...], dtype: np.dtype) -> None:
        (h, w, c), (kh, kw), (sh, sw) = input_shape, self.kernel_size, self.strides
        self._ph = conv_padding(h, kh, sh, self.padding)
        self._pw = conv_padding(w, kw, sw, self.padding)
        if h + sum(self._ph) < kh or w + sum(self._pw) < kw:
            raise ValueError(f"{self.name}: input {h}x{w} is smaller than the kernel {kh}x{kw} ('valid')")
        self._kernel_and_bias((kh, kw, c, self.filters), dtype)
        # The adjoint of the transposed convolution from the output's size back to the input's.
        ho, wo, _ = self.output_shape(input_shape)
        geometry = ((ho, wo), (kh, kw), (sh, sw), (self._ph[0], self._pw[0]), (h, w))
        self._fourier = FourierConvTranspose(*geometry, dtype) if worthwhile(*geometry, self.filters, c) else None

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        h, w, _ = input_shape
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        return (
            conv_output_length(h, kh, sh, self.padding),
            conv_output_length(w, kw, sw, self.padding),
            self.filters,
        )

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        if self._fourier is not None:
            y, xhat = self._fourier.convolution(x, self.params["kernel"], self.output_shape(self.input_shape), training)
            return self._add_bias(y), (x.shape, xhat)
        xp = get_array_module(x)
        kernel = self.params["kernel"].reshape(-1, self.filters)
        xpad = pad_hw(x, self._ph, self._pw, self.workspace, "xpad" if training else "xpad_inference")
        patches = im2col(xpad, *self.kernel_size, *self.strides)  # a view (N, Ho, Wo, kh, kw, C)
        n, ho, wo = patches.shape[:3]
        y = xp.empty((n, ho, wo, self.filters), dtype=x.dtype)
        scratch, chunks = batch_chunks(n, ho * wo, kernel.shape[0], x.dtype, xp, self.workspace)
        for b in chunks:  # Y = X K, a chunk of images at a time
            xp.matmul(patch_rows(patches[b], scratch), kernel, out=y[b].reshape(-1, self.filters))
        return self._add_bias(y), xpad

    def _backward(self, dy: Any, cache: Any) -> Any:
        return self._gradients(dy, cache, input_grad=True)

    def _param_backward(self, dy: Any, cache: Any) -> None:
        self._gradients(dy, cache, input_grad=False)

    def _gradients(self, dy: Any, cache: Any, input_grad: bool) -> Any:
        """dL/dK and dL/db (if trainable), and dL/dx if ``input_grad``, in one pass over the chunks;
        ``cache`` is the padded input (or, on the Fourier path, the input's shape and spectrum)."""
        if self._fourier is not None:
            return self._fourier_gradients(dy, cache, input_grad, self._fourier.convolution_backward)
        xpad = cache
        xp = get_array_module(dy)
        kernel = self.params["kernel"].reshape(-1, self.filters)
        dkernel = self.grads["kernel"].reshape(kernel.shape)  # a view: += adds into grads
        patches = im2col(xpad, *self.kernel_size, *self.strides)
        n, ho, wo = patches.shape[:3]
        crop = (self._ph[0], self._pw[0])
        dx = None
        if input_grad:
            _, hp, wp, c = xpad.shape
            dx = xp.empty((n, hp - sum(self._ph), wp - sum(self._pw), c), dtype=dy.dtype)
        scratch, chunks = batch_chunks(n, ho * wo, kernel.shape[0], dy.dtype, xp, self.workspace)
        for b in chunks:
            dy_rows = dy[b].reshape(-1, self.filters)
            if self.trainable:  # dL/dK = X^T dY
                dkernel += at_b(patch_rows(patches[b], scratch), dy_rows)
            if input_grad:  # dL/dx = crop(col2im(dY K^T))
                dpatches = xp.matmul(dy_rows, kernel.T, out=scratch[: dy_rows.shape[0]])
                dx[b] = 0
                col2im_add(dpatches.reshape(patches[b].shape), dx[b], *self.strides, crop)
        self._bias_grad(dy)
        return dx


class Conv2DTranspose(_Conv):
    """Transposed convolution: the adjoint of :class:`Conv2D` with the same kernel.

    Shapes: ``x`` (N, H, W, C), ``K`` = ``params["kernel"]`` (kh, kw, F, C) (Keras' layout:
    output channels first), ``y`` (N, Ho, Wo, F) with Ho = H * sh ("same"),
    H * sh + max(kh - sh, 0) ("valid"), or Keras' formula when ``output_padding`` is given.

    Each input pixel scatters ``x[n, p, q, :] @ K^T`` (a kh x kw x F patch) into the output
    at row p*sh, column q*sw; overlapping patches add. As matrices, with ``K`` as
    (kh*kw*F, C)::

        y = crop(col2im(X K^T)) + b
        dL/dK = im2col(pad(dy))^T X     dL/dx = im2col(pad(dy)) K     dL/db = sum of dy

    where "pad"/"crop" are the padding of the Conv2D that maps (Ho, Wo) back to (H, W).

    Fast path, strides 1: the same ``y`` is a plain convolution of ``x`` zero-padded by
    ``kh - 1 - pad`` with the flipped kernel, ``y = im2col(pad'(x)) Kflip + b`` where
    ``Kflip[i, j, c, f] = K[kh-1-i, kw-1-j, f, c]``: a deeper matrix product and a patch
    copy instead of col2im's kh*kw read-modify-write passes. It runs one kernel row at a
    time, so the zero rows of the vertical padding are never multiplied (for a 5x5 kernel
    on 7x7 images, 6 of every 35 row products). tests/test_fast_paths.py checks it against
    the col2im form.

    Fourier path, where it saves work (the DCGAN's first two transposed convolutions): the
    convolution theorem as real matrix products, strided layers by output phases, in
    :mod:`minigan.nn.fourier`; its backward is the same products transposed.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int],
        strides: int | tuple[int, int] = 1,
        padding: str = "valid",
        output_padding: int | tuple[int, int] | None = None,
        use_bias: bool = True,
        kernel_initializer: str | initializers.Initializer = "glorot_uniform",
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        self.output_padding = None if output_padding is None else self._output_padding(output_padding, strides)
        super().__init__(filters, kernel_size, strides, padding, use_bias, kernel_initializer, input_shape, name)

    @staticmethod
    def _output_padding(value: int | tuple[int, int], strides: int | tuple[int, int]) -> tuple[int, int]:
        op = (value, value) if isinstance(value, int) else tuple(value)
        st = (strides, strides) if isinstance(strides, int) else tuple(strides)
        if any(not 0 <= o < s for o, s in zip(op, st, strict=True)):
            raise ValueError(f"Conv2DTranspose: expected 0 <= output_padding < strides, got {value} for {strides}")
        return int(op[0]), int(op[1])

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        h, w, _ = input_shape
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        oph, opw = self.output_padding or (None, None)
        return (
            transpose_output_length(h, kh, sh, self.padding, oph),
            transpose_output_length(w, kw, sw, self.padding, opw),
            self.filters,
        )

    def build(self, input_shape: tuple[int, ...], dtype: np.dtype) -> None:
        (h, w, c), (kh, kw), (sh, sw) = input_shape, self.kernel_size, self.strides
        ho, wo, _ = self.output_shape(input_shape)
        # The Conv2D that this layer is the adjoint of maps (ho, wo) back to (h, w).
        self._ph = conv_padding(ho, kh, sh, self.padding)
        self._pw = conv_padding(wo, kw, sw, self.padding)
        back = (
            conv_output_length(ho + sum(self._ph), kh, sh, "valid"),
            conv_output_length(wo + sum(self._pw), kw, sw, "valid"),
        )
        if back != (h, w) or ho < 1 or wo < 1:
            raise ValueError(
                f"{self.name}: output {ho}x{wo} is not the adjoint size of input {h}x{w} for kernel "
                f"{kh}x{kw}, strides {sh}x{sw}, padding {self.padding!r}, output_padding {self.output_padding}"
            )
        self._kernel_and_bias((kh, kw, self.filters, c), dtype)
        geometry = ((h, w), (kh, kw), (sh, sw), (self._ph[0], self._pw[0]), (ho, wo))
        self._fourier = FourierConvTranspose(*geometry, dtype) if worthwhile(*geometry, c, self.filters) else None

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        if self._fourier is not None:
            y, xhat = self._fourier.transposed(x, self.params["kernel"], self.output_shape(self.input_shape), training)
            return self._add_bias(y), (x.shape, xhat)
        if self.strides == (1, 1):
            return self._forward_stride1(x), x
        return self._forward_col2im(x), x

    def _forward_col2im(self, x: Any) -> Any:
        """``y = crop(col2im(X K^T)) + b``, for any strides."""
        xp = get_array_module(x)
        n, h, w, c = x.shape
        ho, wo, f = self.output_shape(self.input_shape)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.strides, (self._ph, self._pw)
        kernel = self.params["kernel"].reshape(-1, c)  # (kh*kw*F, C)
        y = xp.empty((n, ho, wo, f), dtype=x.dtype)
        scratch, chunks = batch_chunks(n, h * w, kernel.shape[0], x.dtype, xp, self.workspace)
        for b in chunks:  # y = b + crop(col2im(X K^T)), a chunk of images at a time
            m = b.stop - b.start
            patches = xp.matmul(x[b].reshape(-1, c), kernel.T, out=scratch[: m * h * w])
            y[b] = self.params["bias"] if self.use_bias else 0
            col2im_add(patches.reshape(m, h, w, kh, kw, f), y[b], sh, sw, (ph[0], pw[0]))
        return y

    def _forward_stride1(self, x: Any) -> Any:
        """``y = im2col(pad'(x)) Kflip + b`` for strides 1 (see the class docstring), by kernel rows.

        With ``top = kh - 1 - pad_top`` rows of padding above ``x``, kernel row ``i`` reads
        input row ``r`` for output row ``r - i + top``; only the rows ``r`` of ``x`` itself
        take part. Each image row's kw x C patches form a row of the matrix (a width-only
        im2col), so kernel row ``i`` is one product ``rows(x[:, r0:r1]) Kflip[i]`` added into
        ``y[:, r0 - i + top : r1 - i + top]``.
        """
        xp = get_array_module(x)
        n, h, _, c = x.shape
        (kh, kw), (ph, pw) = self.kernel_size, (self._ph, self._pw)
        ho, wo, f = self.output_shape(self.input_shape)
        top = kh - 1 - ph[0]
        kernel = self.params["kernel"][::-1, ::-1].transpose(0, 1, 3, 2)  # Kflip (kh, kw, C, F)
        kernel = xp.ascontiguousarray(kernel).reshape(kh, kw * c, f)
        xpad = pad_hw(x, (0, 0), (kw - 1 - pw[0], kw - 1 - pw[1]), self.workspace, "xpad_columns")
        patches = im2col(xpad, 1, kw, 1, 1)  # (N, H, Wo, 1, kw, C)
        y = xp.zeros((n, ho, wo, f), dtype=x.dtype)
        scratch, chunks = batch_chunks(n, h * wo, kw * c, x.dtype, xp, self.workspace)
        products = self.workspace.get("products", (scratch.shape[0], f), x.dtype, xp)
        for b in chunks:
            for i in range(kh):
                r0, r1 = max(0, i - top), min(h, ho + i - top)  # input rows that reach the output
                if r0 >= r1:
                    continue
                rows = patch_rows(patches[b, r0:r1], scratch)
                product = xp.matmul(rows, kernel[i], out=products[: rows.shape[0]])
                y[b, r0 - i + top : r1 - i + top] += product.reshape(b.stop - b.start, r1 - r0, wo, f)
        return self._add_bias(y)

    def _backward(self, dy: Any, x: Any) -> Any:
        return self._gradients(dy, x, input_grad=True)

    def _param_backward(self, dy: Any, x: Any) -> None:
        self._gradients(dy, x, input_grad=False)

    def _gradients(self, dy: Any, x: Any, input_grad: bool) -> Any:
        """dL/dK and dL/db (if trainable), and dL/dx if ``input_grad``, in one pass over the chunks."""
        if self._fourier is not None:
            return self._fourier_gradients(dy, x, input_grad, self._fourier.transposed_backward)
        xp = get_array_module(dy)
        n, c = x.shape[0], x.shape[-1]
        kernel = self.params["kernel"].reshape(-1, c)
        dkernel = self.grads["kernel"].reshape(kernel.shape)  # a view: += adds into grads
        dypad = pad_hw(dy, self._ph, self._pw, self.workspace, "dypad")
        patches = im2col(dypad, *self.kernel_size, *self.strides)  # (N, H, W, kh, kw, F)
        rows_per_example = patches.shape[1] * patches.shape[2]
        dx = xp.empty(x.shape, dtype=dy.dtype) if input_grad else None
        scratch, chunks = batch_chunks(n, rows_per_example, kernel.shape[0], dy.dtype, xp, self.workspace)
        for b in chunks:
            drows = patch_rows(patches[b], scratch)  # im2col(pad(dy)) for these images
            if self.trainable:  # dL/dK = im2col(pad(dy))^T X
                dkernel += at_b(drows, x[b].reshape(-1, c))
            if input_grad:  # dL/dx = im2col(pad(dy)) K
                xp.matmul(drows, kernel, out=dx[b].reshape(-1, c))
        self._bias_grad(dy)
        return dx
