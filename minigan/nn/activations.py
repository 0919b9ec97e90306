"""Element-wise activations. Each keeps the one array its derivative needs.

ReLU and LeakyReLU derive a second order (docs/gradient_penalty.md): their Jacobian is the
diagonal of slopes ``s(x)``, so ``J dx = s(x) * dx = J^T dx`` and both the tangent and the
input gradient are the backward's formula; ``s`` is constant away from 0, so nothing of the
tangent moves with ``x`` and there is no second-derivative term.
"""

from __future__ import annotations

from typing import Any

from minigan.backend import get_array_module
from minigan.nn.layer import Layer


class ReLU(Layer):
    """``y = max(x, 0)``;  ``dL/dx = dy * [x > 0]``."""

    second_order = True  # docs/gradient_penalty.md

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        return get_array_module(x).maximum(x, 0), x

    def _backward(self, dy: Any, x: Any) -> Any:
        return dy * (x > 0)

    def _input_gradient(self, dy: Any, x: Any) -> Any:
        return self._backward(dy, x)

    def _tangent(self, dx: Any, x: Any) -> Any:
        """``J dx = dx * [x > 0]`` (J is diagonal: the backward's formula)."""
        return self._backward(dx, x)


class LeakyReLU(Layer):
    """``y = x if x > 0 else alpha * x``;  ``dL/dx = dy * (1 if x > 0 else alpha)``.

    ``alpha`` defaults to 0.3 as in Keras (DCGAN papers use 0.2).
    """

    second_order = True  # docs/gradient_penalty.md

    def __init__(self, alpha: float = 0.3, name: str | None = None) -> None:
        if not 0 <= alpha < 1:
            raise ValueError(f"LeakyReLU: expected 0 <= alpha < 1, got {alpha}")
        self.alpha = float(alpha)
        super().__init__(name=name)

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        # For 0 <= alpha < 1, max(x, alpha x) is x where x > 0 and alpha x elsewhere.
        xp = get_array_module(x)
        y = xp.multiply(x, self.alpha)
        return xp.maximum(x, y, out=y), x

    def _backward(self, dy: Any, x: Any) -> Any:
        slope = get_array_module(dy).multiply(x > 0, 1 - self.alpha, dtype=dy.dtype)  # 1 - alpha or 0 ...
        slope += self.alpha  # ... plus alpha: 1 where x > 0, else alpha
        slope *= dy
        return slope

    def _input_gradient(self, dy: Any, x: Any) -> Any:
        return self._backward(dy, x)

    def _tangent(self, dx: Any, x: Any) -> Any:
        """``J dx = dx * (1 if x > 0 else alpha)`` (J is diagonal: the backward's formula)."""
        return self._backward(dx, x)


class Sigmoid(Layer):
    """``y = 1 / (1 + exp(-x))``, computed as ``(1 + tanh(x / 2)) / 2`` (no overflow);
    ``dL/dx = dy * y * (1 - y)``."""

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        xp = get_array_module(x)
        y = xp.tanh(0.5 * x)
        y += 1
        y *= 0.5
        return y, y

    def _backward(self, dy: Any, y: Any) -> Any:
        return dy * y * (1 - y)


class Tanh(Layer):
    """``y = tanh(x)``;  ``dL/dx = dy * (1 - y^2)``."""

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        y = get_array_module(x).tanh(x)
        return y, y

    def _backward(self, dy: Any, y: Any) -> Any:
        return dy * (1 - y * y)
