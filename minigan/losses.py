"""Losses: each returns ``(loss, dL/dinput)``, the loss as a 0-d array on the backend.

The loss stays on the device (no host synchronisation); read it with ``float(loss)``.
"""

from __future__ import annotations

from typing import Any

from minigan.backend import get_array_module


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
    if getattr(logits, "dtype", None) is None or logits.dtype.kind != "f":
        raise ValueError(f"bce_with_logits: expected floating logits, got {getattr(logits, 'dtype', type(logits))}")
    if not xp.isscalar(targets) and getattr(targets, "shape", ()) != ():
        if targets.shape != logits.shape:
            raise ValueError(f"bce_with_logits: expected targets of shape {logits.shape}, got {targets.shape}")
        targets = targets.astype(logits.dtype, copy=False)
    n = logits.size
    loss = (xp.maximum(logits, 0) - logits * targets + xp.log1p(xp.exp(-xp.abs(logits)))).mean()
    probabilities = 0.5 * (1 + xp.tanh(0.5 * logits))
    return loss, (probabilities - targets) / logits.dtype.type(n)


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
