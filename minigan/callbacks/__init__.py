"""Callbacks: everything a training run does besides the step, each a small piece with one job.

The loop of :class:`minigan.trainer.Trainer` calls, on every callback in order:

=================================  ==========================================================
``on_fit_start(trainer)``          before the first step of :meth:`~minigan.trainer.Trainer.fit`
``on_step_end(trainer, stats)``    after each step; ``stats``: 0-d device arrays (no host sync)
``on_log(trainer, rows)``          when figures reach the host (every ``log_every`` steps): rows
                                   of :data:`minigan.plots.HISTORY_COLUMNS`, NumPy
``on_epoch_end(trainer, epoch)``   after each epoch (1-based), its figures logged
``on_fit_end(trainer)``            when the run ends normally or by a stop request
``close(trainer)``                 always, last (release signals, files, bars)
=================================  ==========================================================

A callback that keeps state for exact resume adds networks to the checkpoint
(:meth:`Callback.checkpoint_models`) and restores them (:meth:`Callback.load_checkpoint`); one
that changes how samples are drawn overrides :meth:`Callback.sampling`. In a data-parallel run
(``trainer.comm.size > 1``) every process runs the loop; only rank 0 writes and prints. Writing a new
logger, schedule or average means writing one callback and passing it as
``Trainer(..., callbacks=[...])``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from minigan.checkpoint import Checkpoint
    from minigan.trainer import Trainer


class Callback:
    """The hooks of a training run; each does nothing unless overridden."""

    def on_fit_start(self, trainer: Trainer) -> None: ...

    def on_step_end(self, trainer: Trainer, stats: dict[str, Any]) -> None: ...

    def on_log(self, trainer: Trainer, rows: Any) -> None: ...

    def on_epoch_end(self, trainer: Trainer, epoch: int) -> None: ...

    def on_fit_end(self, trainer: Trainer) -> None: ...

    def close(self, trainer: Trainer) -> None: ...

    @contextmanager
    def sampling(self, trainer: Trainer) -> Iterator[None]:
        """A context in which ``trainer.gan`` draws samples as this callback wants (default: as it is)."""
        yield

    def checkpoint_meta(self, trainer: Trainer) -> dict[str, Any]:
        """Extra JSON-able entries of the checkpoint's metadata."""
        return {}

    def checkpoint_models(self, trainer: Trainer) -> dict[str, Any]:
        """Extra entries of the checkpoint: name -> an object with ``params`` and ``state`` dicts."""
        return {}

    def load_checkpoint(self, trainer: Trainer, ckpt: Checkpoint) -> None:
        """Restore what :meth:`checkpoint_models` saved."""


from minigan.callbacks.checkpoints import Checkpoints  # noqa: E402
from minigan.callbacks.data_parallel import DataParallel  # noqa: E402
from minigan.callbacks.ema import EMA  # noqa: E402
from minigan.callbacks.guards import Diverged, DivergenceGuard, Interrupted, InterruptGuard  # noqa: E402
from minigan.callbacks.outputs import HistoryFiles, SampleGrids  # noqa: E402
from minigan.callbacks.progress import Progress  # noqa: E402
from minigan.callbacks.quality import QualityScores, mnist_evaluate  # noqa: E402
from minigan.callbacks.schedule import SCHEDULES, LearningRateSchedule  # noqa: E402
from minigan.callbacks.skipped import SkippedImages  # noqa: E402
from minigan.callbacks.tensorboard import TensorBoard  # noqa: E402


def default_callbacks(trainer: Trainer, progress: bool = True, evaluate: Any = None) -> list[Callback]:
    """The callbacks every run has, in the order they are called: the guard first (nothing is
    written after a non-finite loss), the checkpoint before the interrupt guard stops the run.
    In a data-parallel run, processes other than rank 0 keep only what takes part in collectives."""
    config, out, comm = trainer.config, trainer.out_dir, trainer.comm
    writer = comm.rank == 0
    callbacks: list[Callback] = [DivergenceGuard(), Progress(enabled=progress and writer)]
    if comm.size > 1:
        callbacks.append(DataParallel(comm, config.checkpoint_every))
    if config.lr_schedule != "constant":
        callbacks.append(LearningRateSchedule(SCHEDULES[config.lr_schedule]))
    if hasattr(trainer.batches.images, "bad_files"):
        callbacks.append(SkippedImages(trainer.batches.images))
    if config.ema:
        callbacks.append(EMA(config.ema))
    if config.eval_every and writer:
        from minigan.evaluate.scores import trained_dataset

        # MNIST or Fashion-MNIST test images as the reference, as the recipe's --data / --dataset say.
        evaluate = evaluate or mnist_evaluate(trainer.batches.images.shape[1:], trained_dataset(config.options))
        callbacks.append(QualityScores(config.eval_every, config.eval_samples, evaluate))
    if out is not None and writer:
        callbacks += [SampleGrids(out / "samples", config.sample_every), HistoryFiles(out)]
    if out is not None:
        callbacks.append(Checkpoints(config.checkpoint_every))  # every process: writing brings the figures
    callbacks.append(InterruptGuard(comm))
    return callbacks


__all__ = [
    "Callback", "Checkpoints", "DataParallel", "DivergenceGuard", "Diverged", "EMA", "HistoryFiles", "Interrupted",
    "InterruptGuard", "LearningRateSchedule", "Progress", "QualityScores", "SampleGrids", "SkippedImages",
    "TensorBoard", "default_callbacks",
]
