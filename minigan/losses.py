"""Losses: each returns ``(loss, dL/dinput)``, the loss as a 0-d array on the backend.

The loss stays on the device (no host synchronisation); read it with ``float(loss)``.
:func:`bce_with_logits`, :func:`hinge`, :func:`wasserstein` and :func:`least_squares` take a
discriminator's raw outputs and a target (one number or an array of their shape); the GAN
objectives are built from them in :data:`minigan.gan.GAN_OBJECTIVES`.
"""

from __future__ import annotations

from typing import Any

from minigan.backend import get_array_module


def _checked_targets(outputs: Any, targets: Any, what: str) -> Any:
    """``targets`` as a number or an array of the outputs' dtype; ValueError naming ``what`` for
    non-floating outputs or targets of another shape."""
    xp = get_array_module(outputs)
    if getattr(outputs, "dtype", None) is None or outputs.dtype.kind != "f":
        raise ValueError(f"{what}: expected floating logits, got {getattr(outputs, 'dtype', type(outputs))}")
    if xp.isscalar(targets) or getattr(targets, "shape", ()) == ():
        return targets
    if targets.shape != outputs.shape:
        raise ValueError(f"{what}: expected targets of shape {outputs.shape}, got {targets.shape}")
    return targets.astype(outputs.dtype, copy=False)


def bce_with_logits(logits: Any, targets: Any) -> tuple[Any, Any]:
    """Binary cross-entropy on logits, averaged over all elements (the batch).

    With ``x`` the logits and ``t`` in [0, 1] the targets (an array of the same shape, or
    one number for the whole batch, e.g. 1.0 for "real", 0.9 with label smoothing)::

        loss = mean( -t log sigmoid(x) - (1 - t) log(1 - sigmoid(x)) )
             = mean( max(x, 0) - x t + log(1 + exp(-|x|)) )      (never overflows)
        dL/dx = (sigmoid(x) - t) / n

    ``sigmoid`` is computed as ``(1 + tanh(x / 2)) / 2``, finite for any finite ``x``.
    """
    xp = get_array_module(logits)
    targets = _checked_targets(logits, targets, "bce_with_logits")
    n = logits.size
    loss = (xp.maximum(logits, 0) - logits * targets + xp.log1p(xp.exp(-xp.abs(logits)))).mean()
    probabilities = 0.5 * (1 + xp.tanh(0.5 * logits))
    return loss, (probabilities - targets) / logits.dtype.type(n)


def hinge(outputs: Any, targets: Any) -> tuple[Any, Any]:
    """The hinge loss of raw outputs ``x`` for targets ``t`` in {-1, +1} (Keras' ``hinge``), averaged::

        loss = mean( max(0, 1 - t x) )
        dL/dx = -t [t x < 1] / n          (0 on the flat side and at the kink)

    The hinge GAN's critic takes ``t = 1`` on real images and ``t = -1`` on fakes.
    """
    xp = get_array_module(outputs)
    targets = _checked_targets(outputs, targets, "hinge")
    margin = 1 - targets * outputs
    active = (margin > 0).astype(outputs.dtype)
    return xp.maximum(margin, 0).mean(), -targets * active / outputs.dtype.type(outputs.size)


def wasserstein(outputs: Any, targets: Any) -> tuple[Any, Any]:
    """The Wasserstein (critic) loss of raw outputs ``x`` for targets ``t`` (+1 real, -1 fake), averaged::

        loss = -mean( t x )
        dL/dx = -t / n

    The critic minimises ``mean D(G(z)) - mean D(x)`` (``t = -1`` on fakes plus ``t = 1`` on real
    images); the generator ``-mean D(G(z))`` (``t = 1``).
    """
    xp = get_array_module(outputs)
    targets = _checked_targets(outputs, targets, "wasserstein")
    n = outputs.dtype.type(outputs.size)
    grad = xp.broadcast_to(-xp.asarray(targets, dtype=outputs.dtype), outputs.shape) / n
    return -(targets * outputs).mean(), grad


def least_squares(outputs: Any, targets: Any) -> tuple[Any, Any]:
    """The least-squares loss of raw outputs ``x`` for targets ``t`` (LSGAN, Mao et al. 2017), averaged::

        loss = 0.5 mean( (x - t)^2 )
        dL/dx = (x - t) / n

    LSGAN's discriminator takes ``t = 1`` on real images and ``t = 0`` on fakes, its generator
    ``t = 1`` on fakes.
    """
    targets = _checked_targets(outputs, targets, "least_squares")
    diff = outputs - targets
    return 0.5 * (diff * diff).mean(), diff / outputs.dtype.type(outputs.size)


def softmax_cross_entropy(logits: Any, labels: Any) -> tuple[Any, Any]:
    """Softmax cross-entropy of integer class labels on logits, averaged over the batch.

    With ``z`` the logits (N, K), ``y`` the labels (N,) in ``[0, K)`` and
    ``p = softmax(z) = exp(z - max z) / sum exp(z - max z)`` (row-wise, never overflows)::

        loss = mean_n( logsumexp(z_n) - z_n[y_n] )
        dL/dz = (p - onehot(y)) / N
    """
    xp = get_array_module(logits)
    if getattr(logits, "dtype", None) is None or logits.dtype.kind != "f" or logits.ndim != 2:
        raise ValueError(
            "softmax_cross_entropy: expected floating logits of shape (batch, classes), got "
            f"{getattr(logits, 'dtype', type(logits))} of shape {getattr(logits, 'shape', None)}"
        )
    labels = xp.asarray(labels)
    n, k = logits.shape
    if labels.shape != (n,) or labels.dtype.kind not in "iu":
        raise ValueError(
            f"softmax_cross_entropy: expected integer labels of shape ({n},), got {labels.dtype} "
            f"of shape {labels.shape}"
        )
    if n and (int(labels.min()) < 0 or int(labels.max()) >= k):
        raise ValueError(
            f"softmax_cross_entropy: expected labels in [0, {k - 1}], got values from "
            f"{int(labels.min())} to {int(labels.max())}"
        )
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = xp.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    rows = xp.arange(n)
    loss = (xp.log(total[:, 0]) - shifted[rows, labels]).mean()
    grad = exp / total
    grad[rows, labels] -= 1
    return loss, grad / logits.dtype.type(n)
