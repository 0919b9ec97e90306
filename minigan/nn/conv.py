"""Conv2D and its adjoint, Conv2DTranspose: im2col / col2im and one matrix product each.

Both use Keras' NHWC tensors and kernel layouts, so a kernel ``K`` of shape
(kh, kw, C, F) is a Conv2D from C to F channels *and* a Conv2DTranspose from F back
to C channels. The transposed convolution is exactly the adjoint (the transpose of
the matrix) of the convolution with the same kernel, strides and padding::

    <Conv2D_K(x), y> = <x, Conv2DTranspose_K(y)>

so its forward pass is Conv2D's backward-to-input, and its backward-to-input is
Conv2D's forward.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan.nn import initializers
from minigan.nn.im2col import (
    PADDINGS,
    col2im,
    conv_output_length,
    conv_padding,
    crop_hw,
    im2col,
    pad_hw,
    pair,
    transpose_output_length,
)
from minigan.nn.layer import Layer


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
            self.grads["bias"] += dy.sum(axis=(0, 1, 2))


class Conv2D(_Conv):
    """2-D convolution (cross-correlation, as in every DL framework)::

        y[n, p, q, f] = b[f] + sum_{i, j, c} xpad[n, p*sh + i, q*sw + j, c] K[i, j, c, f]

    Shapes: ``x`` (N, H, W, C), ``K`` = ``params["kernel"]`` (kh, kw, C, F), ``b`` (F,),
    ``y`` (N, Ho, Wo, F) with Ho = ceil(H / sh) ("same") or (H - kh) // sh + 1 ("valid").

    With ``X`` = im2col(xpad) as a matrix (N*Ho*Wo, kh*kw*C) and ``K`` as (kh*kw*C, F),
    ``Y = X K + b`` and the backward pass is::

        dL/dK = X^T dY      dL/db = sum of dY over rows      dL/dx = crop(col2im(dY K^T))
    """

    def build(self, input_shape: tuple[int, ...], dtype: np.dtype) -> None:
        (h, w, c), (kh, kw), (sh, sw) = input_shape, self.kernel_size, self.strides
        self._ph = conv_padding(h, kh, sh, self.padding)
        self._pw = conv_padding(w, kw, sw, self.padding)
        if h + sum(self._ph) < kh or w + sum(self._pw) < kw:
            raise ValueError(f"{self.name}: input {h}x{w} is smaller than the kernel {kh}x{kw} ('valid')")
        self._kernel_and_bias((kh, kw, c, self.filters), dtype)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        h, w, _ = input_shape
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        return (
            conv_output_length(h, kh, sh, self.padding),
            conv_output_length(w, kw, sw, self.padding),
            self.filters,
        )

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        kernel = self.params["kernel"]
        xpad = pad_hw(x, self._ph, self._pw)
        patches = im2col(xpad, *self.kernel_size, *self.strides)
        n, ho, wo = patches.shape[:3]
        rows = patches.reshape(n * ho * wo, -1)  # the one copy: im2col as a matrix
        y = (rows @ kernel.reshape(-1, self.filters)).reshape(n, ho, wo, self.filters)
        return self._add_bias(y), (rows, patches.shape, xpad.shape)

    def _backward(self, dy: Any, cache: Any) -> Any:
        rows, patch_shape, pad_shape = cache
        kernel = self.params["kernel"]
        dy_rows = dy.reshape(-1, self.filters)
        if self.trainable:
            self.grads["kernel"] += (rows.T @ dy_rows).reshape(kernel.shape)
            self._bias_grad(dy)
        dpatches = (dy_rows @ kernel.reshape(-1, self.filters).T).reshape(patch_shape)
        dxpad = col2im(dpatches, pad_shape[1:3], *self.strides)
        return crop_hw(dxpad, self._ph, self._pw)


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

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        kernel = self.params["kernel"]
        n, h, w, c = x.shape
        ho, wo, _ = self.output_shape(self.input_shape)
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        rows = x.reshape(n * h * w, c)
        patches = (rows @ kernel.reshape(-1, c).T).reshape(n, h, w, kh, kw, self.filters)
        ypad = col2im(patches, (ho + sum(self._ph), wo + sum(self._pw)), sh, sw)
        return self._add_bias(crop_hw(ypad, self._ph, self._pw)), rows

    def _backward(self, dy: Any, rows: Any) -> Any:
        kernel = self.params["kernel"]
        c = kernel.shape[-1]
        dpatches = im2col(pad_hw(dy, self._ph, self._pw), *self.kernel_size, *self.strides)
        drows = dpatches.reshape(rows.shape[0], -1)  # (N*H*W, kh*kw*F)
        if self.trainable:
            self.grads["kernel"] += (drows.T @ rows).reshape(kernel.shape)
            self._bias_grad(dy)
        dx = drows @ kernel.reshape(-1, c)
        return dx.reshape((dy.shape[0],) + self.input_shape)
