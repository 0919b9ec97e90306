"""Checkpoints during a run: every ``every`` steps, at each epoch's end and when the run stops."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minigan.training.callbacks.base import Callback

if TYPE_CHECKING:
    from minigan.training.trainer import Trainer


class Checkpoints(Callback):
    """Write ``trainer.checkpoint_path`` every ``every`` steps (0: only at epoch ends), at the end
    of each epoch, and at the end of the run (a stop request included) unless already written.
    Each write brings the pending figures to the host first, so a non-finite loss stops the run
    (:class:`~minigan.training.callbacks.Diverged`) before it reaches a checkpoint."""

    def __init__(self, every: int = 0) -> None:
        self.every = every

    def _save(self, trainer: Trainer) -> None:
        trainer.flush()
        trainer.save_checkpoint()

    def on_step_end(self, trainer: Trainer, stats: dict[str, Any]) -> None:
        at_epoch_end = trainer.step % trainer.steps_per_epoch == 0
        if self.every and trainer.step % self.every == 0 and not at_epoch_end:
            self._save(trainer)

    def on_epoch_end(self, trainer: Trainer, epoch: int) -> None:
        self._save(trainer)

    def on_fit_end(self, trainer: Trainer) -> None:
        if trainer.saved_step != trainer.step:
            self._save(trainer)
