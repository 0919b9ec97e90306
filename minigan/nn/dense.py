"""Dense: a fully connected layer, ``y = x W + b``."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan.nn import initializers
from minigan.nn.layer import Layer
from minigan.nn.matmul import a_bt, at_b


class Dense(Layer):
    """``y = x @ W + b``.

    Shapes: ``x`` (N, in), ``W`` = ``params["kernel"]`` (in, units), ``b`` = ``params["bias"]``
    (units,), ``y`` (N, units).

    Backward, for ``dy = dL/dy`` (N, units)::

        dL/dW = x^T dy        dL/db = sum_n dy[n]        dL/dx = dy W^T

    Second order (docs/gradient_penalty.md): the layer is linear in ``x``, ``J dx = dx W``::

        tangent(dx) = dx W        tangent_backward(dx, dy): dW += dx^T dy  (no bias term)
    """

    input_rank = 1
    second_order = True  # docs/gradient_penalty.md

    def __init__(
        self,
        units: int,
        use_bias: bool = True,
        kernel_initializer: str | initializers.Initializer = "glorot_uniform",
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        if int(units) < 1:
            raise ValueError(f"Dense: expected units >= 1, got {units}")
        self.units = int(units)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        super().__init__(input_shape, name)

    def build(self, input_shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.params["kernel"] = self.kernel_initializer((input_shape[0], self.units), dtype)
        if self.use_bias:
            self.params["bias"] = initializers.zeros((self.units,), dtype)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (self.units,)

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        y = x @ self.params["kernel"]
        if self.use_bias:
            y += self.params["bias"]
        return y, x

    def _backward(self, dy: Any, x: Any) -> Any:
        self._param_backward(dy, x)
        return self._input_gradient(dy, x)

    def _input_gradient(self, dy: Any, x: Any) -> Any:
        return a_bt(dy, self.params["kernel"])  # dy @ K^T

    def _param_backward(self, dy: Any, x: Any) -> None:
        if self.trainable:
            self.grads["kernel"] += at_b(x, dy)
            if self.use_bias:
                self.grads["bias"] += dy.sum(axis=0)

    def _tangent(self, dx: Any, x: Any) -> Any:
        """``J dx = dx W``: the bias does not move with ``x``."""
        return dx @ self.params["kernel"]

    def _tangent_backward(self, dx: Any, dy: Any, x: Any) -> None:
        """``d/dW <dx W, dy> = dx^T dy``, the kernel gradient with ``dx`` in place of ``x``."""
        if self.trainable:
            self.grads["kernel"] += at_b(dx, dy)
