"""Conv2D and its adjoint, Conv2DTranspose: the three products of minigan.nn.conv.reference.

Both use Keras' NHWC tensors and kernel layouts, so a kernel ``K`` of shape (kh, kw, C, F)
is a Conv2D from C to F channels *and* a Conv2DTranspose from F back to C channels. The
transposed convolution is exactly the adjoint (the transpose of the matrix) of the
convolution with the same kernel, strides and padding::

    <conv2d(x, K), y> = <x, conv2d_transpose(y, K)>

so each layer's forward pass is the other's backward-to-input::

    Conv2D           y = conv2d(x, K) + b               dx = conv2d_transpose(dy, K)   dK = conv2d_kernel_grad(x, dy)
    Conv2DTranspose  y = conv2d_transpose(x, K) + b     dx = conv2d(dy, K)             dK = conv2d_kernel_grad(dy, x)

and db = the sum of dy over every pixel (their second order, for gradient penalties, in
minigan.nn.conv.second_order). The functions are those of
:mod:`minigan.nn.conv.reference`, run by the layer's ``algorithm`` (:mod:`minigan.nn.conv.fast`:
"auto", "reference", "im2col", "kernel_rows", "fourier", "whole_image", "subpixel", "winograd" or
"planes"), which changes the speed, never the result beyond rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan import backend
from minigan.nn import initializers
from minigan.nn.conv import fast
from minigan.nn.conv.geometry import PADDINGS, Geometry, conv_output_length, conv_padding, pair, transpose_output_length
from minigan.nn.conv.second_order import Conv2DSecondOrder, Conv2DTransposeSecondOrder
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
        algorithm: str = "auto",
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
        self.algorithm = fast.check_name(algorithm, cls)
        super().__init__(input_shape, name)

    def _build_kernel(self, geometry: Geometry, dtype: np.dtype, kernel_channels: int | None = None) -> None:
        """The kernel (the geometry's Conv2D kernel, on ``kernel_channels`` if given), the bias, and
        ``impl``, the algorithm that computes the three functions."""
        self.geometry = geometry
        kernel_shape = (*geometry.kernel_hw, kernel_channels or geometry.channels, geometry.filters)
        self.params["kernel"] = self.kernel_initializer(kernel_shape, dtype)
        if self.use_bias:
            self.params["bias"] = initializers.zeros((self.filters,), dtype)
        self.impl = fast.choose(self.algorithm, geometry, dtype, self.name)

    def _add_bias(self, y: Any) -> Any:
        if self.use_bias:
            y += self.params["bias"]
        return y

    def _param_grads(self, dy: Any, conv_x: Any, conv_dy: Any) -> None:
        """Add dL/dK = conv2d_kernel_grad(conv_x, conv_dy) and dL/db = the sums of ``dy`` (if trainable)."""
        if not self.trainable:
            return
        self.grads["kernel"] += self.impl.conv2d_kernel_grad(conv_x, conv_dy)
        if self.use_bias:
            dy2 = dy.reshape(-1, self.filters)  # db = 1^T dY: a product, faster than a sum over rows
            self.grads["bias"] += backend.get_array_module(dy).ones(len(dy2), dtype=dy.dtype) @ dy2


class Conv2D(Conv2DSecondOrder, _Conv):
    """2-D convolution (cross-correlation, as in every DL framework)::

        y[n, p, q, f] = b[f] + sum_{i, j, c} xpad[n, p*sh + i, q*sw + j, c] K[i, j, c, f]

    Shapes: ``x`` (N, H, W, C), ``K`` = ``params["kernel"]`` (kh, kw, C, F), ``b`` (F,),
    ``y`` (N, Ho, Wo, F) with Ho = ceil(H / sh) ("same") or (H - kh) // sh + 1 ("valid").
    With X = im2col(pad(x)) (N*Ho*Wo, kh*kw*C)::

        Y = X K + b      dL/dK = X^T dY      dL/db = sum of dY over rows      dL/dx = crop(col2im(dY K^T))
    """

    second_order = True  # docs/gradient_penalty.md

    def build(self, input_shape: tuple[int, ...], dtype: np.dtype) -> None:
        self._build_kernel(self._geometry(input_shape), dtype)

    def _geometry(self, input_shape: tuple[int, ...]) -> Geometry:
        """This convolution on (H, W, C) inputs: sizes, padding and channels."""
        (h, w, c), (kh, kw), (sh, sw) = input_shape, self.kernel_size, self.strides
        pads = conv_padding(h, kh, sh, self.padding), conv_padding(w, kw, sw, self.padding)
        if h + sum(pads[0]) < kh or w + sum(pads[1]) < kw:
            raise ValueError(f"{self.name}: input {h}x{w} is smaller than the kernel {kh}x{kw} ('valid')")
        out_hw = conv_output_length(h, kh, sh, self.padding), conv_output_length(w, kw, sw, self.padding)
        return Geometry((h, w), out_hw, (kh, kw), (sh, sw), pads, c, self.filters)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        h, w, _ = input_shape
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        return (
            conv_output_length(h, kh, sh, self.padding),
            conv_output_length(w, kw, sw, self.padding),
            self.filters,
        )

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        return self._add_bias(self.impl.conv2d(x, self.params["kernel"])), x

    def _backward(self, dy: Any, x: Any) -> Any:
        dx = self.impl.conv2d_transpose(dy, self.params["kernel"])
        self._param_grads(dy, x, dy)
        return dx

    def _param_backward(self, dy: Any, x: Any) -> None:
        self._param_grads(dy, x, dy)


class Conv2DTranspose(Conv2DTransposeSecondOrder, _Conv):
    """Transposed convolution: the adjoint of :class:`Conv2D` with the same kernel.

    Shapes: ``x`` (N, H, W, C), ``K`` = ``params["kernel"]`` (kh, kw, F, C) (Keras' layout:
    output channels first), ``y`` (N, Ho, Wo, F) with Ho = H * sh ("same"),
    H * sh + max(kh - sh, 0) ("valid"), or Keras' formula when ``output_padding`` is given.

    Each input pixel scatters ``x[n, p, q, :] @ K^T`` (a kh x kw x F patch) into the output
    at row p*sh, column q*sw; overlapping patches add. As matrices, with ``K`` as
    (kh*kw*F, C)::

        y = crop(col2im(X K^T)) + b                        conv2d_transpose(x, K) + b
        dL/dx = im2col(pad(dy)) K                          conv2d(dy, K)
        dL/dK = im2col(pad(dy))^T X                        conv2d_kernel_grad(dy, x)
        dL/db = sum of dy

    where "pad"/"crop" are the padding of the Conv2D that maps (Ho, Wo) back to (H, W): the
    layer's ``geometry``, whose kernel is this layer's.
    """

    second_order = True  # docs/gradient_penalty.md

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
        algorithm: str = "auto",
    ) -> None:
        self.output_padding = None if output_padding is None else self._output_padding(output_padding, strides)
        super().__init__(
            filters, kernel_size, strides, padding, use_bias, kernel_initializer, input_shape, name, algorithm
        )

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
        pads = conv_padding(ho, kh, sh, self.padding), conv_padding(wo, kw, sw, self.padding)
        back = (
            conv_output_length(ho + sum(pads[0]), kh, sh, "valid"),
            conv_output_length(wo + sum(pads[1]), kw, sw, "valid"),
        )
        if back != (h, w) or ho < 1 or wo < 1:
            raise ValueError(
                f"{self.name}: output {ho}x{wo} is not the adjoint size of input {h}x{w} for kernel "
                f"{kh}x{kw}, strides {sh}x{sw}, padding {self.padding!r}, output_padding {self.output_padding}"
            )
        self._build_kernel(Geometry((ho, wo), (h, w), (kh, kw), (sh, sw), pads, self.filters, c), dtype)

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        return self._add_bias(self.impl.conv2d_transpose(x, self.params["kernel"])), x

    def _backward(self, dy: Any, x: Any) -> Any:
        dx = self.impl.conv2d(dy, self.params["kernel"])
        self._param_grads(dy, dy, x)
        return dx

    def _param_backward(self, dy: Any, x: Any) -> None:
        self._param_grads(dy, dy, x)
