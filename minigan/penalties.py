"""Gradient penalties on a critic's input gradient, with their parameter gradient by a hand-derived double backward.

For a critic D with one output per example and a batch x (N, ...), ``g_i = grad_x D(x_i)``::

    P = weight * mean_i (||g_i||_2 - center)^2

WGAN-GP (Gulrajani et al. 2017) is ``center=1`` on random :func:`interpolates` of real and fake
images (weight 10); R1 (Mescheder et al. 2018) is ``center=0`` on real images, ``weight = gamma / 2``.

The parameter gradient is a gradient of a gradient. With ``s(x) = sum_i D(x_i)``, ``g = grad_x s``
(the examples are independent), ``v = dP/dg`` held fixed, and ``J_l`` the Jacobian of layer l at its
input ``h_{l-1}``, it is computed as (docs/gradient_penalty.md derives it)::

    1. forward in training mode                    h_l = f_l(h_{l-1})                  (caches kept)
    2. backward of s, input gradients only         d_L = 1, d_{l-1} = J_l^T d_l        g = d_0
    3. v_i = weight * 2 (||g_i|| - center) / N * g_i / ||g_i||                         (0 where g_i = 0)
    4. tangent pass along v                        t_0 = v, t_l = J_l t_{l-1}
       and at each layer                           dP/dparam_l += d/dparam_l <J_l t_{l-1}, d_l>

Step 4 is the backward of the tangent pass: ``<v, g> = sum(t_L)``, the adjoint of ``t_l`` is
``d_l``, and for the layers supported (each piecewise linear in its input) nothing else depends
on the parameters. The layers' methods are :meth:`minigan.nn.Layer.input_gradient`,
:meth:`~minigan.nn.Layer.tangent` and :meth:`~minigan.nn.Layer.tangent_backward`.
"""

from __future__ import annotations

from typing import Any

from minigan import backend
from minigan.nn.layer import Layer
from minigan.nn.sequential import Sequential

SUPPORTED = ("Dense", "Conv2D", "Conv2DTranspose", "ReLU", "LeakyReLU", "Dropout", "Flatten", "Reshape",
             "SpectralNormalization")


def _unrolled(model: Layer) -> list[Layer]:
    if type(model) is not Sequential:  # a Parallel (several inputs) is a layer of its own, and refused
        return [model]
    return [inner for layer in model.layers for inner in _unrolled(layer)]


def critic_layers(model: Layer) -> list[Layer]:
    """The layers of ``model`` in order (nested Sequentials unrolled), or one ValueError naming every
    layer without a derived second order."""
    layers = _unrolled(model)
    refused = [f"{layer.name!r} ({type(layer).__name__}): {why}"
               for layer in layers if (why := layer.tangent_unsupported())]
    if refused:
        raise ValueError(
            f"gradient_penalty: the critic's layer {'; '.join(refused)}. Supported: {', '.join(SUPPORTED)}"
        )
    return layers


def gradient_penalty(model: Layer, x: Any, weight: float, center: float) -> Any:
    """``weight * mean_i (||grad_x D(x_i)||_2 - center)^2`` for the critic ``model`` at ``x`` (N, ...).

    Returns the penalty (a 0-d array on the backend, as the losses do) and **adds** its gradient
    with respect to the critic's parameters into ``model.grads``, as ``backward`` does. The
    critic runs one training-mode forward (its dropout masks drawn, its spectral normalizations'
    ``u`` moved after use) and is left with no pending forward. ``model``: a single-input
    Sequential (or layer) with one output per example, (N, 1), of the layers in :data:`SUPPORTED`.
    """
    if isinstance(x, (list, tuple)):
        raise ValueError(
            f"gradient_penalty: expected one input array (a single-input critic), got a list of {len(x)} inputs"
        )
    layers = critic_layers(model)
    xp = backend.get_array_module(x)
    n = x.shape[0]
    out = model.forward(x, training=True)  # refused if a training forward still waits for its backward
    try:
        if out.shape != (n, 1):
            raise ValueError(
                f"gradient_penalty: expected the critic to output one value per example, shape ({n}, 1), "
                f"got {tuple(out.shape)}"
            )
        deltas = []  # d_l, the output gradient of each layer in the backward of s
        d = xp.ones_like(out)
        for layer in reversed(layers):
            deltas.append(d)
            d = layer.input_gradient(d)
        deltas.reverse()
        g = d.reshape(n, -1)
        norms = xp.sqrt(xp.einsum("ij,ij->i", g, g))
        penalty = weight * ((norms - center) ** 2).mean()
        safe = xp.where(norms > 0, norms, 1)
        scale = xp.where(norms > 0, (norms - center) / safe, 0) * (2 * weight / n)
        t = (g * scale[:, None]).reshape(x.shape)  # v = dP/dg
        for k, layer in enumerate(layers):
            layer.tangent_backward(t, deltas[k])
            if k + 1 < len(layers):
                t = layer.tangent(t)
    finally:
        model.discard()
    return penalty


def interpolates(real: Any, fake: Any, rng: Any = None) -> Any:
    """WGAN-GP's points ``x_i = e_i real_i + (1 - e_i) fake_i``, ``e_i ~ U[0, 1)`` one per example,
    drawn from ``rng`` (default :func:`minigan.backend.rng`)."""
    if real.shape != fake.shape or real.dtype != fake.dtype:
        raise ValueError(
            f"interpolates: expected real and fake of one shape and dtype, got {tuple(real.shape)} {real.dtype} "
            f"and {tuple(fake.shape)} {fake.dtype}"
        )
    rng = backend.rng() if rng is None else rng
    e = rng.random((real.shape[0],) + (1,) * (real.ndim - 1), dtype=real.dtype)
    return fake + e * (real - fake)
