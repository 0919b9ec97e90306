"""Gradient checks: every analytic gradient against central finite differences.

For a scalar loss ``L`` and each entry ``a_i`` of a tensor, the numerical derivative is::

    dL/da_i  ~  (L(a_i + eps) - L(a_i - eps)) / (2 eps)          (error O(eps^2))

and a tensor's *relative error* is ``max_i |analytic_i - numerical_i| / max(|analytic|, |numerical|)``,
its worst entry measured against the size of its gradient. A tensor also passes when its
worst absolute error is below ``atol`` (1e-7): that is finite-difference noise, which is all
there is where the true gradient is exactly zero (a bias just before BatchNormalization).

Run checks in float64 (the tolerance 1e-6 is meaningless in float32) with the random
generator re-seeded before every forward pass, so that dropout draws the same mask each time,
and (:func:`check_layer`) the layer's ``state`` put back, so that a spectral normalization's
``u`` is the one the backward held.

Use :func:`check_layer` for one layer (it differentiates ``L = sum(y * r)`` for a fixed
random ``r``) and :func:`check_gradients` for anything else (a whole GAN and its loss).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigan import backend


@dataclass
class TensorCheck:
    """The comparison for one tensor."""

    name: str
    shape: tuple[int, ...]
    entries: int  # how many entries were checked numerically
    max_abs_error: float
    relative_error: float


@dataclass
class GradReport:
    """The worst relative error of each tensor, and whether all are below ``rtol``."""

    checks: list[TensorCheck]
    rtol: float
    atol: float

    def passed(self, check: TensorCheck) -> bool:
        return check.relative_error < self.rtol or check.max_abs_error < self.atol

    @property
    def ok(self) -> bool:
        return all(self.passed(c) for c in self.checks)

    @property
    def worst(self) -> float:
        return max((c.relative_error for c in self.checks), default=0.0)

    def __str__(self) -> str:
        lines = [f"{'tensor':<34}{'shape':<20}{'checked':>8}{'max abs err':>14}{'rel err':>12}  result"]
        for c in self.checks:
            verdict = "ok" if self.passed(c) else "FAIL"
            lines.append(
                f"{c.name:<34}{str(c.shape):<20}{c.entries:>8}{c.max_abs_error:>14.3e}"
                f"{c.relative_error:>12.3e}  {verdict}"
            )
        return "\n".join(lines)

    def assert_ok(self) -> None:
        """Raise AssertionError with the table if any tensor fails."""
        if not self.ok:
            raise AssertionError(f"gradient check failed (rtol {self.rtol:g}):\n{self}")


def _entries(size: int, max_entries: int | None, rng: np.random.Generator) -> np.ndarray:
    if max_entries is None or size <= max_entries:
        return np.arange(size)
    return np.sort(rng.choice(size, size=max_entries, replace=False))


def check_gradients(
    loss: Callable[[], float],
    analytic: dict[str, Any],
    tensors: dict[str, Any],
    *,
    eps: float = 1e-6,
    max_entries: int | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-7,
    seed: int = 0,
) -> GradReport:
    """Compare ``analytic[name]`` with finite differences of ``loss()`` w.r.t. ``tensors[name]``.

    ``loss()`` must read the arrays in ``tensors`` (they are perturbed in place and restored)
    and return the scalar loss. ``max_entries`` checks a random subset of each large tensor.
    """
    pick = np.random.default_rng(seed)
    checks = []
    for name, array in tensors.items():
        if array.dtype != np.float64:
            raise ValueError(f"gradcheck: {name} is {array.dtype}; run gradient checks in float64")
        grad = backend.as_numpy(analytic[name]).reshape(-1)
        flat = array.reshape(-1)  # a view: perturbing it perturbs the tensor
        idx = _entries(array.size, max_entries, pick)
        numerical = np.empty(len(idx))
        for k, i in enumerate(idx):
            original = float(flat[int(i)])
            flat[int(i)] = original + eps
            plus = loss()
            flat[int(i)] = original - eps
            minus = loss()
            flat[int(i)] = original
            numerical[k] = (plus - minus) / (2 * eps)
        exact = grad[idx]
        abs_error = float(np.max(np.abs(exact - numerical), initial=0.0))
        scale = max(float(np.max(np.abs(exact), initial=0.0)), float(np.max(np.abs(numerical), initial=0.0)))
        checks.append(TensorCheck(name, tuple(array.shape), len(idx), abs_error, abs_error / scale if scale else 0.0))
    return GradReport(checks, rtol, atol)


def check_layer(
    layer: Any,
    x: Any,
    *,
    training: bool = True,
    eps: float = 1e-6,
    max_entries: int | None = None,
    rtol: float = 1e-6,
    seed: int = 0,
) -> GradReport:
    """Check ``dL/dx`` and ``dL/dparam`` of ``layer`` at ``x`` for ``L = sum(layer(x) * r)``.

    ``x`` must be float64 and the layer built in float64 (or not built yet: it is built
    here inside :func:`minigan.backend.default_float`).
    """
    xp = backend.get_array_module(x)
    if not layer.built:
        with backend.default_float("float64"):
            layer.build_for(x.shape[1:])  # before seeding: initialisers draw from the generator too
    state = {key: value.copy() for key, value in layer.state.items()}
    backend.seed(seed)
    y = layer.forward(x, training)
    r = xp.asarray(np.random.default_rng(seed + 1).standard_normal(y.shape))
    layer.zero_grad()
    analytic = {"x": layer.backward(r), **{name: g.copy() for name, g in layer.grads.items()}}

    def loss() -> float:
        backend.seed(seed)  # the same dropout mask as the differentiated forward above ...
        for key, value in state.items():
            layer.state[key][...] = value  # ... and the same state (SpectralNormalization's u)
        value = float((layer.forward(x, training) * r).sum())
        layer.discard()
        return value

    tensors = {"x": x, **layer.params}
    return check_gradients(loss, analytic, tensors, eps=eps, max_entries=max_entries, rtol=rtol, seed=seed)
