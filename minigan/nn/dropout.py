"""Dropout: inverted dropout, drawn from minigan's seeded generator."""

from __future__ import annotations

from typing import Any

from minigan import backend
from minigan.nn.layer import Layer


class Dropout(Layer):
    """Training: ``y = x * m / (1 - rate)`` with ``m ~ Bernoulli(1 - rate)`` per element;
    inference: ``y = x``. Backward: ``dL/dx = dy * m / (1 - rate)`` (the same mask).

    The mask comes from :func:`minigan.backend.rng`, so ``minigan.seed(s)`` fixes it.
    """

    def __init__(self, rate: float, name: str | None = None) -> None:
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: expected 0 <= rate < 1, got {rate}")
        self.rate = float(rate)
        super().__init__(name=name)

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        if not training or self.rate == 0:
            return x, None
        xp = backend.get_array_module(x)
        draws = backend.rng().random(x.shape, dtype=x.dtype)
        scale = xp.multiply(draws >= self.rate, x.dtype.type(1 / (1 - self.rate)), out=draws)  # m / (1 - rate)
        return x * scale, scale

    def _backward(self, dy: Any, scale: Any) -> Any:
        return dy if scale is None else dy * scale
