"""Callbacks: everything a training run does besides the step, each a small piece with one job.

The loop of :class:`minigan.training.trainer.Trainer` calls, on every callback in order:

=================================  ==========================================================
``on_fit_start(trainer)``          before the first step of :meth:`~minigan.training.trainer.Trainer.fit`
``on_step_end(trainer, stats)``    after each step; ``stats``: 0-d device arrays (no host sync)
``on_log(trainer, rows)``          when figures reach the host (every ``log_every`` steps): rows
                                   of :data:`minigan.training.plots.HISTORY_COLUMNS`, NumPy
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

from typing import TYPE_CHECKING, Any

from minigan.training.callbacks.base import Callback
from minigan.training.callbacks.checkpoints import Checkpoints
from minigan.training.callbacks.data_parallel import DataParallel
from minigan.training.callbacks.ema import EMA
from minigan.training.callbacks.guards import Diverged, DivergenceGuard, Interrupted, InterruptGuard
from minigan.training.callbacks.outputs import HistoryFiles, SampleGrids
from minigan.training.callbacks.progress import Progress
from minigan.training.callbacks.quality import QualityScores, mnist_evaluate
from minigan.training.callbacks.schedule import SCHEDULES, LearningRateSchedule
from minigan.training.callbacks.skipped import SkippedImages
from minigan.training.callbacks.tensorboard import TensorBoard

if TYPE_CHECKING:
    from minigan.training.trainer import Trainer


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
