"""Data-parallel training: P processes, each running :meth:`minigan.gan.GAN.train_step` on its
share of every global batch, with the same parameters throughout.

One step, in every process p (ChainerMN's ``multi_node_optimizer``)::

    reals_p = shard(global batch)              rows p*B/P .. (p+1)*B/P of the B rows
    forward, backward on reals_p and on G(z_p) loss_p: the mean over the B/P rows
    g <- mean_p(g_p)                           AllreduceOptimizer.step: ONE collective per model
    Adam step with g                           the same g, so the same update, in every process

Since each loss is a mean over its rows, ``mean_p(g_p)`` is the gradient of the mean over the
B rows: the step of one process with the global batch. That holds layer by layer as long as
no layer mixes rows; BatchNormalization does (its statistics), so either keep per-process
statistics (BN over B/P rows, as ChainerMN's DCGAN does) or use
:class:`~minigan.nn.SyncBatchNormalization` (:func:`use_sync_batch_norm`), which is exact.
The noise must be the same too: :func:`share_noise` makes the P processes cut their z from one
global draw. Start (and resume) with :func:`broadcast_model`, and call
:func:`average_moving_statistics` before sampling, scoring or saving with per-process BN.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan import backend, nn, optim
from minigan.gan import GAN
from minigan.training.distributed import Communicator


def local_batch_size(global_batch: int, communicator: Communicator) -> int:
    """``global_batch / size``: the rows of each process (the global batch must divide evenly)."""
    size = communicator.size
    if global_batch < 1 or global_batch % size:
        below, above = global_batch // size * size, -(-global_batch // size) * size
        raise ValueError(
            f"data-parallel training: expected a batch size divisible by the {size} processes, "
            f"got {global_batch} (use {below or above} or {above})"
        )
    return global_batch // size


def shard(batch: Any, communicator: Communicator) -> Any:
    """This process's rows of a global batch (N, ...): rows ``rank * N/P`` to ``(rank + 1) * N/P``."""
    n = local_batch_size(len(batch), communicator)
    return batch[communicator.rank * n:(communicator.rank + 1) * n]


class AllreduceOptimizer:
    """Wraps an optimizer: ``step()`` averages the model's gradients over the processes
    (``g <- mean_p(g_p)``, one collective), then runs the wrapped optimizer's step.

    Every process then applies the same update to the same parameters, so the parameters and
    the optimizer's state (Adam's m, v and t) stay identical everywhere. Everything else
    (``zero_grad``, ``state_dict``, ``lr``, ``t``, ...) is the wrapped optimizer's.
    """

    def __init__(self, optimizer: optim.Optimizer, communicator: Communicator) -> None:
        self.optimizer, self.communicator = optimizer, communicator

    def step(self) -> None:
        self.communicator.allreduce_mean(list(self.optimizer.model.grads.values()))
        self.optimizer.step()

    def zero_grad(self) -> None:
        self.optimizer.zero_grad()

    @property
    def lr(self) -> float:
        return self.optimizer.lr

    @lr.setter
    def lr(self, value: float) -> None:  # a schedule sets the wrapped optimizer's rate
        self.optimizer.lr = value

    def __getattr__(self, name: str) -> Any:
        if name == "optimizer":  # not yet set (while unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.optimizer, name)


def broadcast_model(model: nn.Layer, communicator: Communicator, root: int = 0) -> None:
    """Copy process ``root``'s parameters and state (BN moving statistics) to every process."""
    communicator.broadcast([*model.params.values(), *model.state.values()], root)


def average_moving_statistics(model: nn.Layer, communicator: Communicator) -> None:
    """``state <- mean_p(state_p)``: with per-process BatchNormalization each process tracks its
    own moving mean and variance; average them before inference (sampling, scores, checkpoints)."""
    communicator.allreduce_mean(list(model.state.values()))


def share_noise(gan: GAN, communicator: Communicator, seed: int) -> None:
    """Draw z and the fake labels from one stream shared by every process, dropout from one per process.

    The GAN takes over :func:`minigan.backend.rng` as its ``noise_rng`` (call this in every
    process after the same :func:`minigan.seed` and the same model building, so the streams
    agree) and cuts its rows of each global draw (``gan.shard``); :func:`minigan.backend.rng`
    is re-seeded per process from ``(seed, rank)`` for the dropout masks. Without Dropout, P
    processes then see exactly the noise of one process running the global batch.
    """
    gan.noise_rng = backend.rng()
    gan.shard = (communicator.rank, communicator.size)
    backend.seed(int(np.random.SeedSequence([seed, communicator.rank]).generate_state(1)[0]))


def use_sync_batch_norm(model: nn.Layer, communicator: Communicator) -> int:
    """Replace every BatchNormalization of ``model`` (nested models too) by a
    :class:`~minigan.nn.SyncBatchNormalization` with the same name, parameters, gradients and
    state (so optimizers and checkpoints see the same keys); returns how many were replaced."""
    if not isinstance(model, nn.Sequential):
        return 0
    replaced = 0
    for i, layer in enumerate(model.layers):
        if type(layer) is nn.BatchNormalization:
            sync = nn.SyncBatchNormalization(communicator, layer.momentum, layer.epsilon, name=layer.name)
            if layer.built:
                sync.build_for(layer.input_shape, layer.dtype)
                sync.params, sync.grads, sync.state = layer.params, layer.grads, layer.state
            model.layers[i] = sync
            replaced += 1
        else:
            replaced += use_sync_batch_norm(layer, communicator)
    return replaced


def distribute(gan: GAN, communicator: Communicator, seed: int, sync_bn: bool = False) -> None:
    """Make ``gan`` one of P data-parallel copies (call it in every process, after the same
    :func:`~minigan.training.config.build_gan`): SyncBatchNormalization if asked, both optimizers
    averaging gradients, rank 0's weights everywhere, one shared noise stream."""
    if sync_bn:
        use_sync_batch_norm(gan.generator, communicator)
        use_sync_batch_norm(gan.discriminator, communicator)
    gan.opt_g = AllreduceOptimizer(gan.opt_g, communicator)
    gan.opt_d = AllreduceOptimizer(gan.opt_d, communicator)
    broadcast_model(gan.generator, communicator)
    broadcast_model(gan.discriminator, communicator)
    share_noise(gan, communicator, seed)
