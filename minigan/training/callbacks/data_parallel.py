"""The bookkeeping of a data-parallel run (:mod:`minigan.training.data_parallel`), in every process."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from minigan import backend
from minigan.training.callbacks.base import Callback
from minigan.training.data_parallel import average_moving_statistics, broadcast_model

if TYPE_CHECKING:
    from minigan.training.checkpoint import Checkpoint
    from minigan.training.distributed import Communicator
    from minigan.training.trainer import Trainer


class DataParallel(Callback):
    """Before anything reads the networks in inference mode (sample grids, scores, checkpoints:
    each epoch's end, every ``checkpoint_every`` steps, the run's end), average the per-process
    BatchNorm moving statistics. Checkpoints record the shared noise stream; on resume every
    process takes rank 0's weights and a dropout stream of its own."""

    def __init__(self, communicator: Communicator, checkpoint_every: int = 0) -> None:
        self.comm, self.checkpoint_every = communicator, checkpoint_every

    def _average(self, trainer: Trainer) -> None:
        average_moving_statistics(trainer.gan.generator, self.comm)
        average_moving_statistics(trainer.gan.discriminator, self.comm)

    def on_step_end(self, trainer: Trainer, stats: dict[str, Any]) -> None:
        if self.checkpoint_every and trainer.step % self.checkpoint_every == 0:
            self._average(trainer)

    def on_epoch_end(self, trainer: Trainer, epoch: int) -> None:
        self._average(trainer)

    def on_fit_end(self, trainer: Trainer) -> None:
        self._average(trainer)

    def checkpoint_meta(self, trainer: Trainer) -> dict[str, Any]:
        noise = trainer.gan.noise_rng
        return {"noise_rng_state": noise.bit_generator.state if isinstance(noise, np.random.Generator) else None}

    def load_checkpoint(self, trainer: Trainer, ckpt: Checkpoint) -> None:
        state = ckpt.meta.get("noise_rng_state")
        same_run = ckpt.meta.get("processes", 1) == self.comm.size
        if same_run and state is not None and isinstance(trainer.gan.noise_rng, np.random.Generator):
            trainer.gan.noise_rng.bit_generator.state = state
        broadcast_model(trainer.gan.generator, self.comm)
        broadcast_model(trainer.gan.discriminator, self.comm)
        seed = np.random.SeedSequence([trainer.config.seed, self.comm.rank, trainer.step]).generate_state(1)[0]
        backend.seed(int(seed))  # this process's dropout stream
