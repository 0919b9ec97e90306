"""The Layer contract shared by every layer of minigan.

A layer is a function ``y = f(x; params)`` with a hand-written derivative::

    y = layer.forward(x, training=True)   # builds the parameters on the first call
    dx = layer.backward(dy)               # dL/dx; adds dL/dparam into layer.grads

``params`` and ``grads`` are dicts with the same keys (Keras weight names: ``kernel``,
``bias``, ``gamma``, ``beta``), so the optimizer, the checkpoint and the gradient check
all walk one structure. Non-trainable arrays saved with the model (BatchNormalization's
moving statistics) live in ``state``.

One forward, one backward. A training-mode forward keeps what its backward needs (the
*cache*); a second training-mode forward before that backward is refused, so a backward
can never silently differentiate another call (the GAN step runs D on a real and on a
fake batch: run ``backward`` after each, or call :meth:`Layer.discard` when no backward
will follow). Inference-mode forwards (``training=False``) keep nothing and may repeat.

The second-order methods (``tangent`` and the others, for :mod:`minigan.penalties`) come from
:class:`minigan.nn.second_order.SecondOrder`.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from minigan import backend
from minigan.nn.second_order import SecondOrder


def _snake_case(name: str) -> str:
    """Keras' layer names: ``Conv2DTranspose -> conv2d_transpose``, ``LeakyReLU -> leaky_re_lu``."""
    name = re.sub(r"(?<=.)([A-Z][a-z]+)", r"_\1", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class Layer(SecondOrder):
    """Base class: parameter bookkeeping, building, the cache rule and input checks.

    Subclasses implement ``build(input_shape, dtype)`` (create ``params``),
    ``_forward(x, training)`` and ``_backward(dy)``, and ``output_shape(input_shape)``.
    ``input_shape`` never includes the batch axis.
    """

    #: Rank of one example (without the batch axis) the layer accepts; None = any.
    input_rank: int | None = None

    def __init__(self, input_shape: tuple[int, ...] | None = None, name: str | None = None) -> None:
        self.name = name or _snake_case(type(self).__name__)
        self.params: dict[str, Any] = {}
        self.grads: dict[str, Any] = {}
        self.state: dict[str, Any] = {}
        self.trainable = True
        self.built = False
        self.input_shape: tuple[int, ...] | None = None
        self.dtype: np.dtype | None = None
        self._cache: Any = None
        self._pending = False  # a training-mode forward waits for its backward
        if input_shape is not None:
            self.build_for(tuple(input_shape))

    # -- building ---------------------------------------------------------------------
    def build_for(self, input_shape: tuple[int, ...], dtype: Any = None) -> None:
        """Create the parameters for examples of ``input_shape`` (no batch axis)."""
        input_shape = tuple(int(d) for d in input_shape)
        if self.input_rank is not None and len(input_shape) != self.input_rank:
            raise ValueError(
                f"{self.name}: expected input of rank {self.input_rank + 1} (batch, "
                f"{self._rank_hint()}), got shape (batch, {', '.join(map(str, input_shape))})"
            )
        self._build_checked(input_shape, dtype)

    def _build_checked(self, input_shape: Any, dtype: Any) -> None:
        """Build for an ``input_shape`` already checked: parameters, zero gradients, the dtype."""
        self.dtype = np.dtype(dtype) if dtype is not None else backend.floatx()
        self.input_shape = input_shape
        self.build(input_shape, self.dtype)
        self.grads = {k: backend.xp().zeros_like(v) for k, v in self.params.items()}
        self.built = True

    def build(self, input_shape: tuple[int, ...], dtype: np.dtype) -> None:
        """Create ``self.params`` (and ``self.state``); layers without parameters keep the default."""

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of one output example for one input example of ``input_shape``."""
        return input_shape

    def _rank_hint(self) -> str:
        return {1: "features", 3: "height, width, channels"}.get(self.input_rank or 0, "...")

    # -- the contract -----------------------------------------------------------------
    def forward(self, x: Any, training: bool = True) -> Any:
        """``y = f(x)`` for a batch ``x``; in training mode keep what backward needs."""
        x = self._check_input(x)
        if training and self._pending:
            raise RuntimeError(
                f"{self.name}: forward(training=True) called again before backward() of the "
                "previous call; run backward() first, or call discard() if no backward will follow"
            )
        y, cache = self._forward(x, training)
        if training:
            self._cache, self._pending = cache, True
        return y

    def backward(self, dy: Any, input_grad: bool = True) -> Any:
        """``dL/dx`` from ``dL/dy``; adds ``dL/dparam`` to ``self.grads`` (if trainable).

        ``input_grad=False``: only the parameter gradients are wanted (the first layer of a
        model, whose input is data or noise); the layer may skip computing ``dL/dx`` and
        returns None.
        """
        if not self._pending:
            raise RuntimeError(f"{self.name}: backward() called without a forward(training=True) before it")
        cache, self._cache, self._pending = self._cache, None, False
        if input_grad:
            return self._backward(dy, cache)
        self._param_backward(dy, cache)
        return None

    def discard(self) -> None:
        """Forget the last training-mode forward (when no backward will follow it)."""
        self._cache, self._pending = None, False

    def zero_grad(self) -> None:
        """Set every gradient to zero (in place)."""
        for g in self.grads.values():
            g[...] = 0

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        raise NotImplementedError

    def _backward(self, dy: Any, cache: Any) -> Any:
        raise NotImplementedError

    def _param_backward(self, dy: Any, cache: Any) -> None:
        """The parameter gradients alone; layers whose ``dL/dx`` costs a matrix product override it."""
        self._backward(dy, cache)

    # -- checks -----------------------------------------------------------------------
    def _check_input(self, x: Any) -> Any:
        dtype = getattr(x, "dtype", None)
        if dtype is None or dtype.kind != "f":
            raise ValueError(f"{self.name}: expected a floating-point array, got {dtype or type(x).__name__}")
        if not self.built:
            self.build_for(x.shape[1:])
        if x.shape[1:] != self.input_shape:
            raise ValueError(
                f"{self.name}: expected input of shape (batch, {', '.join(map(str, self.input_shape))}), "
                f"got {tuple(x.shape)}"
            )
        if x.dtype != self.dtype:
            raise ValueError(
                f"{self.name}: expected {self.dtype} input (the layer's dtype; see minigan.set_floatx), "
                f"got {x.dtype}"
            )
        return x

    def count_params(self) -> int:
        """Number of trainable parameters."""
        return int(sum(p.size for p in self.params.values()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
