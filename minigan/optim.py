"""Optimizers: Adam and SGD, updating a model's parameters in place from its gradients.

An optimizer is given a model (anything with ``params`` and ``grads`` dicts with the
same keys: a layer or a Sequential). ``step()`` applies the gradients accumulated since
the last ``zero_grad()``; gradients add up over several backward calls until zeroed.

:class:`Adam` updates each parameter array in turn; :class:`FlatAdam` is the same update over
one buffer holding all of them (:func:`minigan.nn.flatten_parameters`), for the GPU.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigan.backend import get_array_module
from minigan.nn.flat import flatten_parameters


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


class FlatAdam(Adam):
    """:class:`Adam` over one flat buffer of all of the model's parameters, with the step count on the device.

    ``FlatAdam(model)`` flattens the model (:func:`minigan.nn.flatten_parameters`: the layers'
    arrays become views of one parameter buffer and one gradient buffer) and runs Adam's twelve
    array operations once over the buffers instead of once per parameter array; ``m``, ``v``
    and the scratch are buffers of the same layout, made once. Element by element the float
    operations are Adam's, in the same order, so the numbers are the same, bit for bit.

    The step count is also a 0-d integer array on the model's array module, ``count`` (``t``
    keeps counting on the host, as Adam's does), and the step size
    ``alpha_t = lr sqrt(1 - b2^t) / (1 - b1^t)`` is computed from it as an array: on a GPU a step
    reads nothing back to the host. ``slots`` and ``state_dict()`` are Adam's (per-key ``m`` and
    ``v``, here views of the buffers), so a checkpoint of either optimizer loads into the other.
    """

    def __init__(
        self, model: Any, lr: float = 1e-3, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7
    ) -> None:
        super().__init__(model, lr, beta_1, beta_2, epsilon)
        self.flat = flatten_parameters(model)
        xp = get_array_module(self.flat.params)
        self.count = xp.zeros((), dtype=xp.int64)
        self.m, self.v = xp.zeros_like(self.flat.params), xp.zeros_like(self.flat.params)
        self._scratch = xp.zeros_like(self.flat.params)
        self.slots = {"m": self.flat.views(self.m), "v": self.flat.views(self.v)}

    @classmethod
    def from_adam(cls, adam: Adam) -> FlatAdam:
        """A FlatAdam with ``adam``'s model, settings, step count and moments."""
        flat = cls(adam.model, adam.lr, adam.beta_1, adam.beta_2, adam.epsilon)
        flat.load_state_dict(adam.state_dict())
        return flat

    def zero_grad(self) -> None:
        """Set every gradient to zero: one fill of the gradient buffer."""
        self.flat.grads[...] = 0

    def step(self) -> None:
        self.flat.check()  # a layer that replaced an array would silently stop training
        xp = get_array_module(self.flat.params)
        self.t += 1
        self.count += 1
        # NumPy: a float64 scalar, whose power is C's pow as in Adam.step (NumPy's power ufunc, and
        # a Python float to an int64 scalar's power, can differ in the last bit); CuPy: a 0-d device array.
        t = self.count[()].astype(np.float64)
        alpha = self.lr * xp.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        grad, m, v, step = self.flat.grads, self.m, self.v, self._scratch
        xp.subtract(grad, m, out=step)
        step *= 1 - self.beta_1
        m += step
        xp.multiply(grad, grad, out=step)
        step -= v
        step *= 1 - self.beta_2
        v += step
        xp.sqrt(v, out=step)
        step += self.epsilon
        xp.divide(m, step, out=step)
        step *= alpha.astype(step.dtype)  # rounded to the parameters' dtype first, as Adam's Python float is
        self.flat.params -= step

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy a state of Adam's form (``t``; slots ``m`` and ``v`` by key, a missing key: zeros) into the buffers."""
        unknown = sorted(set(state["slots"]) - {"m", "v"})
        if unknown:
            raise ValueError(f"FlatAdam: expected the slots m and v, got {unknown}")
        xp = get_array_module(self.m)
        for name, views in self.slots.items():
            given = state["slots"].get(name, {})
            extra = sorted(set(given) - set(views))
            if extra:
                raise ValueError(f"FlatAdam: slot {name!r} has keys the model does not: {extra[:4]}")
            for key, view in views.items():
                if key not in given:
                    view[...] = 0
                elif tuple(given[key].shape) != view.shape:
                    raise ValueError(
                        f"FlatAdam: slot {name!r} {key!r} has shape {tuple(given[key].shape)}, the model {view.shape}"
                    )
                else:
                    view[...] = xp.asarray(given[key], dtype=view.dtype)
        self.t = int(state["t"])
        self.count[...] = self.t
