"""Callbacks: everything a training run does besides the step, each a small piece with one job.

The loop of :class:`minigan.training.trainer.Trainer` calls, on every callback in order:

=================================  ==========================================================
``on_fit_start(trainer)``          before the first step of :meth:`~minigan.training.trainer.Trainer.fit`
``on_step_end(trainer, stats)``    after each step; ``stats``: 0-d device arrays (no host sync)
``on_log(trainer, rows)``          when figures reach the host (every ``log_every`` steps): the new
                                   rows, a :class:`~minigan.training.history.History` (``rows["d_loss"]``)
``on_epoch_end(trainer, epoch)``   after each epoch (1-based), its figures logged
``on_fit_end(trainer)``            when the run ends normally or by a stop request
``close(trainer)``                 always, last (release signals, files, bars)
=================================  ==========================================================

A callback that keeps state for exact resume adds networks to the checkpoint
(:meth:`Callback.checkpoint_models`) and restores them (:meth:`Callback.load_checkpoint`); one
that changes how samples are drawn overrides :meth:`Callback.sampling`. In a data-parallel run
(``trainer.comm.size > 1``) every process runs the loop; only rank 0 writes and prints. Writing a new
logger, schedule or average means writing one callback and passing it in the trainer's list:
``Trainer(..., callbacks=[*default_callbacks(config, out_dir, images), MyCallback()])``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from minigan.data import ImageFolder
from minigan.evaluate.scores import trained_dataset
from minigan.training.callbacks.base import Callback
from minigan.training.callbacks.checkpoints import Checkpoints
from minigan.training.callbacks.data_parallel import DataParallel
from minigan.training.callbacks.ema import EMA
from minigan.training.callbacks.guards import Diverged, DivergenceGuard, Interrupted, InterruptGuard
from minigan.training.callbacks.outputs import HistoryFiles, SampleGrids
from minigan.training.callbacks.progress import Progress
from minigan.training.callbacks.quality import Evaluate, QualityScores, mnist_evaluate
from minigan.training.callbacks.schedule import SCHEDULES, LearningRateSchedule
from minigan.training.callbacks.skipped import SkippedImages
from minigan.training.callbacks.tensorboard import TensorBoard
from minigan.training.distributed import Communicator, SingleProcessCommunicator

if TYPE_CHECKING:
    from minigan.training.config import TrainConfig


def default_callbacks(
    config: TrainConfig,
    out_dir: str | Path | None = None,
    images: Any = None,
    comm: Communicator | None = None,
    progress: bool = True,
    evaluate: Evaluate | None = None,
    tensorboard: bool = False,
) -> list[Callback]:
    """The callbacks of a standard run of ``config``, in the order they are called.

    The divergence guard first (nothing is written after a non-finite loss); the progress bar;
    the data-parallel synchronisation (``comm`` of more than one process); the learning-rate
    schedule, skipped-image report (``images`` an :class:`~minigan.data.ImageFolder`) and EMA when
    the config asks for them; quality scores every ``config.eval_every`` epochs (``evaluate``, or
    the classifier of the dataset ``config.options`` names, for ``images``' shape); with
    ``out_dir``: sample grids, the CSV and curves, TensorBoard (``tensorboard``) and checkpoints;
    the interrupt guard last, after the checkpoint it stops on. In a data-parallel run, processes
    other than rank 0 keep only what takes part in collectives.
    """
    comm = comm or SingleProcessCommunicator()
    out = Path(out_dir) if out_dir is not None else None
    writer = comm.rank == 0
    callbacks: list[Callback] = [DivergenceGuard(), Progress(enabled=progress and writer)]
    if comm.size > 1:
        callbacks.append(DataParallel(comm, config.checkpoint_every))
    if config.lr_schedule != "constant":
        callbacks.append(LearningRateSchedule(SCHEDULES[config.lr_schedule]))
    if isinstance(images, ImageFolder):
        callbacks.append(SkippedImages(images))
    if config.ema:
        callbacks.append(EMA(config.ema))
    if config.eval_every and writer:
        # MNIST or Fashion-MNIST test images as the reference, as the recipe's --data / --dataset say.
        evaluate = evaluate or mnist_evaluate(tuple(images.shape[1:]), trained_dataset(config.options))
        callbacks.append(QualityScores(config.eval_every, config.eval_samples, evaluate))
    if out is not None and writer:
        callbacks += [SampleGrids(out / "samples", config.sample_every), HistoryFiles(out)]
        if tensorboard:
            callbacks.append(TensorBoard(out / "tensorboard"))
    if out is not None:
        callbacks.append(Checkpoints(config.checkpoint_every))  # every process: writing brings the figures
    callbacks.append(InterruptGuard(comm))
    return callbacks


__all__ = [
    "Callback", "Checkpoints", "DataParallel", "DivergenceGuard", "Diverged", "EMA", "HistoryFiles", "Interrupted",
    "InterruptGuard", "LearningRateSchedule", "Progress", "QualityScores", "SampleGrids", "SkippedImages",
    "TensorBoard", "default_callbacks",
]
