"""SpectralNormalization: a Dense or convolution layer whose kernel is divided by its largest singular value."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan import backend
from minigan.backend import get_array_module
from minigan.nn.conv.layers import Conv2D, Conv2DTranspose
from minigan.nn.dense import Dense
from minigan.nn.layer import Layer

WRAPPABLE = (Dense, Conv2D, Conv2DTranspose)


class SpectralNormalization(Layer):
    """``layer`` run with its kernel divided by an estimate of its spectral norm (Miyato et al. 2018).

    ``W`` is the kernel as a matrix (m, n) with the n output channels as columns: Dense's
    (in, units), Conv2D's (kh*kw*C, F), and Conv2DTranspose's (kh*kw*C, F) from Keras' layout
    (kh, kw, F, C) with F moved last (Miyato et al.'s and PyTorch's choice; Keras' own wrapper
    takes the last axis, C). With ``u`` = ``state["vector_u"]`` (n,), a unit vector::

        sigma = ||W u||      v = W u / sigma      W_SN = W / sigma      y = layer(x; W_SN, b)

    ``sigma = v^T W u`` is the power iteration's estimate of W's largest singular value. After
    a training-mode forward (never in inference) ``power_iterations`` steps move ``u`` towards
    W's top right singular vector for the next forward: ``u <- normalize(W^T v)`` (then
    ``v <- normalize(W u)`` before any further step). So the output is a function of x, W, b
    and the stored u, the same in both modes.

    Backward, u held fixed, with G = dL/dW_SN the wrapped layer's kernel gradient (m, n):
    ``d sigma / dW = v u^T``, so::

        dL/dW = (G - <G, W_SN> v u^T) / sigma          dL/db and dL/dx: the wrapped layer's

    ``params`` are ``kernel`` (W itself, what the optimizer updates) and ``bias``, the wrapped
    layer's arrays; ``layer.params["kernel"]`` holds the last W_SN. Second order (the gradient
    penalty): the wrapped layer's tangent with W_SN, its kernel term through the backward above.
    docs/spectral_normalization.md derives it.
    """

    second_order = True  # docs/gradient_penalty.md

    def __init__(
        self, layer: Layer, power_iterations: int = 1, epsilon: float = 1e-12, name: str | None = None
    ) -> None:
        if type(layer) not in WRAPPABLE:
            raise ValueError(
                "SpectralNormalization: expected a Dense, Conv2D or Conv2DTranspose layer, got "
                f"{type(layer).__name__}" + (f" ({layer.name!r})" if isinstance(layer, Layer) else "")
            )
        if int(power_iterations) != power_iterations or power_iterations < 1:
            raise ValueError(f"SpectralNormalization: expected power_iterations >= 1, got {power_iterations}")
        if not epsilon > 0:
            raise ValueError(f"SpectralNormalization: expected epsilon > 0, got {epsilon}")
        self.layer = layer
        self.power_iterations = int(power_iterations)
        self.epsilon = float(epsilon)
        self.input_rank = layer.input_rank
        self._axis = 2 if isinstance(layer, Conv2DTranspose) else -1  # the kernel's output-channel axis
        super().__init__(name=name)
        if layer.built:
            self.build_for(layer.input_shape, layer.dtype)

    @property  # type: ignore[override]
    def trainable(self) -> bool:
        return self.layer.trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self.layer.trainable = value

    # -- building ---------------------------------------------------------------------
    def build(self, input_shape: tuple[int, ...], dtype: np.dtype) -> None:
        if not self.layer.built:
            self.layer.build_for(input_shape, dtype)
        elif (self.layer.input_shape, self.layer.dtype) != (input_shape, dtype):
            raise ValueError(
                f"{self.name}: the wrapped {self.layer.name} was built for {self.layer.dtype} inputs "
                f"{self.layer.input_shape}, got {dtype} inputs {input_shape}"
            )
        self.params = dict(self.layer.params)  # W and b: the arrays the optimizer updates
        u = backend.rng().standard_normal((self.params["kernel"].shape[self._axis],), dtype=dtype)
        self.state["vector_u"] = self._normalize(u)

    def _build_checked(self, input_shape: Any, dtype: Any) -> None:
        super()._build_checked(input_shape, dtype)
        # The wrapped layer runs with W_SN; its kernel gradient G lands in scratch, its bias gradient here.
        scratch = get_array_module(self.grads["kernel"]).zeros_like(self.grads["kernel"])
        self.layer.grads = {**self.grads, "kernel": scratch}
        self.layer.params["kernel"] = self._normalized(self._matrix())[0]

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return self.layer.output_shape(input_shape)

    # -- the normalization --------------------------------------------------------------
    def _matrix(self) -> Any:
        """W as an (m, n) matrix, the output channels as columns (a copy for Conv2DTranspose)."""
        kernel = self.params["kernel"]
        return get_array_module(kernel).moveaxis(kernel, self._axis, -1).reshape(-1, kernel.shape[self._axis])

    def _normalize(self, a: Any) -> Any:
        xp = get_array_module(a)
        return a / xp.maximum(xp.sqrt(a @ a), self.epsilon)

    def _normalized(self, w: Any) -> tuple[Any, Any, Any, Any]:
        """``(W_SN, v, u, sigma)`` for the matrix ``w`` and the stored u (copied: it moves after)."""
        xp = get_array_module(w)
        u = self.state["vector_u"].copy()
        wu = w @ u
        sigma = xp.maximum(xp.sqrt(wu @ wu), self.epsilon)
        return self.params["kernel"] / sigma, wu / sigma, u, sigma

    def _power_iteration(self, w: Any, v: Any) -> None:
        """``u <- normalize(W^T v)``, ``power_iterations`` times (``v <- normalize(W u)`` between), in place."""
        u = self.state["vector_u"]
        for step in range(self.power_iterations):
            if step:
                v = self._normalize(w @ u)
            u[...] = self._normalize(w.T @ v)

    def _add_kernel_grad(self, cache: Any) -> None:
        """``dL/dW += (G - <G, W_SN> v u^T) / sigma`` from the scratch G the wrapped layer filled."""
        kernel_sn, v, u, sigma = cache
        g = self.layer.grads["kernel"]
        if self.trainable:
            xp = get_array_module(g)
            moved = xp.moveaxis(kernel_sn, self._axis, -1).shape
            v_u = xp.moveaxis(xp.outer(v, u).reshape(moved), -1, self._axis)  # v u^T in the kernel's layout
            grad = g - xp.vdot(g, kernel_sn) * v_u
            grad /= sigma
            self.grads["kernel"] += grad
        g[...] = 0

    # -- the contract -----------------------------------------------------------------
    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        w = self._matrix()
        cache = self._normalized(w)
        self.layer.params["kernel"] = cache[0]
        y = self.layer.forward(x, training)
        if training:
            self._power_iteration(w, cache[1])
        return y, cache

    def _backward(self, dy: Any, cache: Any) -> Any:
        self.layer.params["kernel"] = cache[0]  # an inference forward in between may have changed it
        dx = self.layer.backward(dy)
        self._add_kernel_grad(cache)
        return dx

    def _param_backward(self, dy: Any, cache: Any) -> None:
        self.layer.params["kernel"] = cache[0]
        self.layer.backward(dy, input_grad=False)
        self._add_kernel_grad(cache)

    def discard(self) -> None:
        super().discard()
        self.layer.discard()

    # -- second order (docs/gradient_penalty.md) ------------------------------------------
    def _input_gradient(self, dy: Any, cache: Any) -> Any:
        self.layer.params["kernel"] = cache[0]
        return self.layer.input_gradient(dy)

    def _tangent(self, dx: Any, cache: Any) -> Any:
        """The wrapped layer's tangent with W_SN (u fixed, W_SN does not move with x)."""
        self.layer.params["kernel"] = cache[0]
        return self.layer.tangent(dx)

    def _tangent_backward(self, dx: Any, dy: Any, cache: Any) -> None:
        """The wrapped layer's kernel term G = d/dW_SN <J dx, dy>, taken to W by the backward's formula."""
        self.layer.params["kernel"] = cache[0]
        self.layer.tangent_backward(dx, dy)
        self._add_kernel_grad(cache)

    def __repr__(self) -> str:
        return f"SpectralNormalization({self.layer!r}, name={self.name!r})"
