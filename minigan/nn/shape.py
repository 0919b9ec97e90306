"""Layers that only change the shape of a batch: Flatten and Reshape.

Their second order (docs/gradient_penalty.md): the tangent is the forward's reshape, the input
gradient the backward's.
"""

from __future__ import annotations

import math
from typing import Any

from minigan.nn.layer import Layer


class Flatten(Layer):
    """``(N, d1, d2, ...) -> (N, d1 * d2 * ...)``; backward reshapes ``dy`` back."""

    second_order = True  # docs/gradient_penalty.md

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (math.prod(input_shape),)

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        return x.reshape(x.shape[0], -1), x.shape

    def _backward(self, dy: Any, shape: Any) -> Any:
        return dy.reshape(shape)

    def _input_gradient(self, dy: Any, shape: Any) -> Any:
        return dy.reshape(shape)

    def _tangent(self, dx: Any, shape: Any) -> Any:
        return dx.reshape(dx.shape[0], -1)


class Reshape(Layer):
    """``(N, ...) -> (N, *target_shape)`` (the batch axis is kept, as in Keras)."""

    second_order = True  # docs/gradient_penalty.md

    def __init__(self, target_shape: tuple[int, ...], name: str | None = None) -> None:
        self.target_shape = tuple(int(d) for d in target_shape)
        super().__init__(name=name)

    def build(self, input_shape: tuple[int, ...], dtype: Any) -> None:
        if math.prod(input_shape) != math.prod(self.target_shape):
            raise ValueError(
                f"{self.name}: cannot reshape examples of shape {input_shape} ({math.prod(input_shape)} "
                f"values) to {self.target_shape} ({math.prod(self.target_shape)} values)"
            )

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return self.target_shape

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        return x.reshape((x.shape[0],) + self.target_shape), x.shape

    def _backward(self, dy: Any, shape: Any) -> Any:
        return dy.reshape(shape)

    def _input_gradient(self, dy: Any, shape: Any) -> Any:
        return dy.reshape(shape)

    def _tangent(self, dx: Any, shape: Any) -> Any:
        return dx.reshape((dx.shape[0],) + self.target_shape)
