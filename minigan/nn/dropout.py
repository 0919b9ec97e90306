"""Dropout: inverted dropout, drawn from minigan's seeded generator."""

from __future__ import annotations

from typing import Any

from minigan import backend
from minigan.nn.layer import Layer

#: Masks come from 16-bit uniform draws (:func:`minigan.backend.random_uint16`): half the
#: random bits of float32 uniforms, and a drop probability exact to 2**-16.
_LEVELS = 1 << 16


class Dropout(Layer):
    """Training: ``y = x * m / keep`` with ``m ~ Bernoulli(keep)`` per element;
    inference: ``y = x``. Backward: ``dL/dx = dy * m / keep`` (the same mask).

    ``m = [u >= t]`` for a uniform 16-bit draw ``u`` and ``t = round(rate * 2**16)``, so an
    element is dropped with probability ``t / 2**16`` (``rate`` to within 2**-17) and
    ``keep = 1 - t / 2**16`` exactly; dividing by that ``keep`` makes ``E[y] = x``.
    The mask comes from :func:`minigan.backend.rng`, so ``minigan.seed(s)`` fixes it.

    Second order, with the forward's mask fixed: ``J dx = dx * m / keep`` (diagonal, the
    backward's formula; docs/gradient_penalty.md).
    """

    second_order = True  # docs/gradient_penalty.md

    def __init__(self, rate: float, name: str | None = None) -> None:
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: expected 0 <= rate < 1, got {rate}")
        self.rate = float(rate)
        self._threshold = round(self.rate * _LEVELS)
        if self._threshold == _LEVELS:
            raise ValueError(f"Dropout: expected rate <= 1 - 2**-17 (a mask keeps something), got {rate}")
        self.keep_probability = 1 - self._threshold / _LEVELS
        super().__init__(name=name)

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        if not training or self._threshold == 0:
            return x, None
        xp = backend.get_array_module(x)
        draws = backend.random_uint16(x.shape)
        mask = draws >= self._threshold
        return self._apply(xp, x, mask), mask

    def _backward(self, dy: Any, mask: Any) -> Any:
        return dy if mask is None else self._apply(backend.get_array_module(dy), dy, mask)

    def _input_gradient(self, dy: Any, mask: Any) -> Any:
        return self._backward(dy, mask)

    def _tangent(self, dx: Any, mask: Any) -> Any:
        """``J dx = dx * m / keep`` with the forward's mask."""
        return self._backward(dx, mask)

    def _apply(self, xp: Any, a: Any, mask: Any) -> Any:
        """``a * m / keep`` in two float32 passes."""
        out = xp.multiply(a, mask)
        out *= a.dtype.type(1 / self.keep_probability)
        return out
