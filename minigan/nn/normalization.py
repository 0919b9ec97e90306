"""BatchNormalization, per channel (the last axis), as in Keras."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan.backend import get_array_module
from minigan.nn import initializers
from minigan.nn.layer import Layer
from minigan.nn.matmul import column_sums


class BatchNormalization(Layer):
    """Normalise each channel over the batch (and, after a convolution, over H and W).

    Training, with the statistics of the batch over all axes but the last (m values
    per channel: m = N after Dense, m = N*H*W after a convolution)::

        mu = mean(x)     var = mean((x - mu)^2)     xhat = (x - mu) / sqrt(var + eps)
        y = gamma * xhat + beta
        moving_mean <- momentum * moving_mean + (1 - momentum) * mu      (same for var)

    Inference: ``y = gamma * (x - moving_mean) / sqrt(moving_variance + eps) + beta``.

    Backward (training), through the mean and the variance (docs/batchnorm.md derives it)::

        dL/dgamma = sum(dy * xhat)     dL/dbeta = sum(dy)
        dL/dx = gamma / sqrt(var + eps) * (dy - mean(dy) - xhat * mean(dy * xhat))

    Shapes: ``x`` and ``y`` (N, C) or (N, H, W, C); ``gamma``, ``beta`` and the moving
    statistics (C,). Defaults follow Keras: momentum 0.99, epsilon 1e-3; the moving
    variance uses the biased batch variance, as Keras 3 does.
    """

    def __init__(
        self, momentum: float = 0.99, epsilon: float = 1e-3, input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        if not 0 <= momentum <= 1:
            raise ValueError(f"BatchNormalization: expected 0 <= momentum <= 1, got {momentum}")
        if epsilon <= 0:
            raise ValueError(f"BatchNormalization: expected epsilon > 0, got {epsilon}")
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        super().__init__(input_shape, name)

    def build(self, input_shape: tuple[int, ...], dtype: np.dtype) -> None:
        if len(input_shape) not in (1, 3):
            raise ValueError(
                f"{self.name}: expected input (batch, channels) or (batch, height, width, channels), "
                f"got (batch, {', '.join(map(str, input_shape))})"
            )
        channels = (input_shape[-1],)
        self.params["gamma"] = initializers.ones(channels, dtype)
        self.params["beta"] = initializers.zeros(channels, dtype)
        self.state["moving_mean"] = initializers.zeros(channels, dtype)
        self.state["moving_variance"] = initializers.ones(channels, dtype)

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        xp = get_array_module(x)
        gamma, beta = self.params["gamma"], self.params["beta"]
        if not training:
            inv_std = 1 / xp.sqrt(self.state["moving_variance"] + self.epsilon)
            return (x - self.state["moving_mean"]) * (gamma * inv_std) + beta, None
        x2 = x.reshape(-1, x.shape[-1])  # (m, C): the statistics are column means
        m = x2.shape[0]
        mu = column_sums(x2) / m
        xc = x - mu  # kept for backward: xhat = xc * inv_std
        var = _column_dots(xc.reshape(x2.shape), xc.reshape(x2.shape)) / m
        inv_std = 1 / xp.sqrt(var + self.epsilon)
        self._update_moving_statistics(mu, var)
        y = xp.multiply(xc, gamma * inv_std)  # gamma * xhat ...
        y += beta  # ... + beta
        return y, (xc, inv_std)

    def _update_moving_statistics(self, mu: Any, var: Any) -> None:
        for key, batch_value in (("moving_mean", mu), ("moving_variance", var)):
            moving = self.state[key]
            moving *= self.momentum
            moving += (1 - self.momentum) * batch_value

    def _backward(self, dy: Any, cache: Any) -> Any:
        xp = get_array_module(dy)
        xc, inv_std = cache
        gamma = self.params["gamma"]
        dy2 = dy.reshape(-1, dy.shape[-1])
        m = dy2.shape[0]
        dbeta = column_sums(dy2)  # sum(dy)
        dgamma = _column_dots(dy2, xc.reshape(dy2.shape)) * inv_std  # sum(dy * xhat)
        if self.trainable:
            self.grads["gamma"] += dgamma
            self.grads["beta"] += dbeta
        # dL/dx = gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat)), xhat = xc * inv_std
        dx = xp.multiply(xc, inv_std * dgamma / m)
        dx += dbeta / m
        xp.subtract(dy, dx, out=dx)
        dx *= gamma * inv_std
        return dx

    def tangent_unsupported(self) -> str | None:
        """Always a reason: the batch statistics couple the examples, so one example's output has
        a gradient with respect to the others' inputs, and a gradient penalty per example is not defined."""
        return ("its batch statistics couple the examples of a batch, so the input gradient of one "
                "example's output is not its own; use a critic without BatchNormalization")


def _column_dots(a: Any, b: Any) -> Any:
    """``(a * b).sum(axis=0)`` for two (m, C) matrices, without the product as a temporary."""
    return get_array_module(a).einsum("ij,ij->j", a, b)
