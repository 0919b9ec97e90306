"""SyncBatchNormalization: BatchNormalization with the statistics of the global batch."""

from __future__ import annotations

from typing import Any, Protocol

from minigan.backend import get_array_module
from minigan.nn.matmul import column_sums
from minigan.nn.normalization import BatchNormalization, _column_dots


class Allreduce(Protocol):
    """What the layer needs of a communicator (:mod:`minigan.training.distributed` has them)."""

    def allreduce_mean(self, arrays: list[Any]) -> None:
        """Replace each array, in place, by its mean over the processes."""


class _OneProcess:
    def allreduce_mean(self, arrays: list[Any]) -> None:
        """One process: the mean of one value is itself."""


class SyncBatchNormalization(BatchNormalization):
    """BatchNormalization over the batches of all processes together (ChainerMN's
    ``MultiNodeBatchNormalization``), for data-parallel training.

    Each of the P processes holds m rows per channel (all the same m); the statistics are
    those of the global batch of M = P m rows, from means of per-process sums::

        mu = mean_p(sum(x_p)) / m               var = mean_p(sum((x_p - mu)^2)) / m
        xhat = (x - mu) / sqrt(var + eps)       y = gamma * xhat + beta

    Backward, with the means of BatchNormalization's formula taken over the global batch::

        dL/dx = gamma / sqrt(var + eps) * (dy - mean_p(sum(dy_p)) / m - xhat * mean_p(sum(dy_p * xhat_p)) / m)

    Its own ``dL/dgamma = sum(dy * xhat)`` and ``dL/dbeta = sum(dy)`` stay per process, as every
    parameter gradient does: :class:`minigan.training.data_parallel.AllreduceOptimizer` averages them.
    Two collectives of C numbers forward (the mean, then the variance, as in the single-process
    two-pass form) and one backward. The moving statistics follow the global mu and var, so they
    are the same in every process. With one process it is BatchNormalization exactly.
    """

    def __init__(
        self, communicator: Allreduce | None = None, momentum: float = 0.99, epsilon: float = 1e-3,
        input_shape: tuple[int, ...] | None = None, name: str | None = None,
    ) -> None:
        self.communicator = _OneProcess() if communicator is None else communicator
        super().__init__(momentum, epsilon, input_shape, name)

    def _global_mean(self, local_sums: Any, m: int) -> Any:
        """``mean_p(local_sums_p) / m``: the mean per channel over the global batch (C,)."""
        self.communicator.allreduce_mean([local_sums])
        return local_sums / m

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        if not training:
            return super()._forward(x, training)
        xp = get_array_module(x)
        gamma, beta = self.params["gamma"], self.params["beta"]
        x2 = x.reshape(-1, x.shape[-1])
        m = x2.shape[0]
        mu = self._global_mean(column_sums(x2), m)
        xc = x - mu
        var = self._global_mean(_column_dots(xc.reshape(x2.shape), xc.reshape(x2.shape)), m)
        inv_std = 1 / xp.sqrt(var + self.epsilon)
        self._update_moving_statistics(mu, var)
        y = xp.multiply(xc, gamma * inv_std)
        y += beta
        return y, (xc, inv_std)

    def _backward(self, dy: Any, cache: Any) -> Any:
        xp = get_array_module(dy)
        xc, inv_std = cache
        gamma = self.params["gamma"]
        dy2 = dy.reshape(-1, dy.shape[-1])
        m = dy2.shape[0]
        dbeta = column_sums(dy2)  # sum(dy), this process's rows
        dgamma = _column_dots(dy2, xc.reshape(dy2.shape)) * inv_std  # sum(dy * xhat)
        if self.trainable:
            self.grads["gamma"] += dgamma
            self.grads["beta"] += dbeta
        # From here on, the means over the global batch: mean_p of both sums in one collective.
        self.communicator.allreduce_mean([dbeta, dgamma])
        dx = xp.multiply(xc, inv_std * dgamma / m)
        dx += dbeta / m
        xp.subtract(dy, dx, out=dx)
        dx *= gamma * inv_std
        return dx
