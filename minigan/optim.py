"""Optimizers: Adam and SGD, updating a model's parameters in place from its gradients.

An optimizer is given a model (anything with ``params`` and ``grads`` dicts with the
same keys: a layer or a Sequential). ``step()`` applies the gradients accumulated since
the last ``zero_grad()``; gradients add up over several backward calls until zeroed.
"""

from __future__ import annotations

import math
from typing import Any

from minigan.backend import get_array_module


class Optimizer:
    """Shared bookkeeping: the model, the step count ``t`` and per-parameter slots."""

    def __init__(self, model: Any, lr: float) -> None:
        if not hasattr(model, "params") or not hasattr(model, "grads"):
            raise ValueError(
                f"{type(self).__name__}: expected a model with params and grads, got {type(model).__name__}"
            )
        if lr <= 0:
            raise ValueError(f"{type(self).__name__}: expected lr > 0, got {lr}")
        self.model = model
        self.lr = float(lr)
        self.t = 0
        self.slots: dict[str, dict[str, Any]] = {}

    def zero_grad(self) -> None:
        """Set the model's gradients to zero (in place)."""
        for g in self.model.grads.values():
            g[...] = 0

    def _slot(self, name: str, key: str, like: Any) -> Any:
        slot = self.slots.setdefault(name, {})
        if key not in slot:
            slot[key] = get_array_module(like).zeros_like(like)
        return slot[key]

    def step(self) -> None:
        """Update every parameter once from its gradient."""
        self.t += 1
        grads = self.model.grads
        for key, param in self.model.params.items():
            self._update(key, param, grads[key])

    def _update(self, key: str, param: Any, grad: Any) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Step count and slot arrays, for checkpoints."""
        return {"t": self.t, "slots": self.slots}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.t = int(state["t"])
        self.slots = state["slots"]


class SGD(Optimizer):
    """``v <- momentum * v - lr * g;  p <- p + v`` (plain ``p <- p - lr g`` for momentum 0)."""

    def __init__(self, model: Any, lr: float = 0.01, momentum: float = 0.0) -> None:
        super().__init__(model, lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"SGD: expected 0 <= momentum < 1, got {momentum}")
        self.momentum = float(momentum)

    def _update(self, key: str, param: Any, grad: Any) -> None:
        if self.momentum == 0:
            param -= self.lr * grad
            return
        velocity = self._slot("velocity", key, param)
        velocity *= self.momentum
        velocity -= self.lr * grad
        param += velocity


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, in Keras/TensorFlow's form::

        m <- b1 m + (1 - b1) g          v <- b2 v + (1 - b2) g^2
        p <- p - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)
    """

    def __init__(
        self, model: Any, lr: float = 1e-3, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7
    ) -> None:
        super().__init__(model, lr)
        for name, beta in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0 <= beta < 1:
                raise ValueError(f"Adam: expected 0 <= {name} < 1, got {beta}")
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def step(self) -> None:
        t = self.t + 1
        self._alpha = self.lr * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        super().step()

    def _update(self, key: str, param: Any, grad: Any) -> None:
        xp = get_array_module(param)
        m = self._slot("m", key, param)
        v = self._slot("v", key, param)
        step = xp.subtract(grad, m)  # one scratch array for the whole update
        step *= 1 - self.beta_1
        m += step  # m <- m + (1 - b1)(g - m) = b1 m + (1 - b1) g
        xp.multiply(grad, grad, out=step)
        step -= v
        step *= 1 - self.beta_2
        v += step  # v <- v + (1 - b2)(g^2 - v)
        xp.sqrt(v, out=step)
        step += self.epsilon
        xp.divide(m, step, out=step)
        step *= self._alpha
        param -= step
