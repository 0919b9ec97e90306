"""The files a run writes for a person to look at: sample grids and their GIF; the CSV and curves."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from minigan import backend
from minigan.training import plots
from minigan.training.callbacks.base import Callback

if TYPE_CHECKING:
    from minigan.training.config import TrainConfig
    from minigan.training.trainer import Trainer


def fixed_noise(config: TrainConfig) -> np.ndarray:
    """The noise batch of the sample grids, the same in every epoch (and after resume)."""
    rng = np.random.default_rng([config.seed, 1])
    return rng.standard_normal((config.num_samples, config.latent_dim)).astype(backend.floatx())


def class_grid(config: TrainConfig) -> tuple[np.ndarray, np.ndarray, int]:
    """The sample grid of a conditional GAN: row k shows class k for ``columns`` noise vectors
    (the first rows of :func:`fixed_noise`, the same in every row). Returns ``(z, y_onehot,
    columns)`` with ``columns = max(1, num_samples // num_classes)``."""
    k = config.num_classes
    columns = max(1, config.num_samples // k)
    z = np.tile(fixed_noise(config)[:columns], (k, 1))
    return z, backend.one_hot(np.repeat(np.arange(k), columns), k), columns


def sample_images(trainer: Trainer) -> tuple[Any, int | None]:
    """G(fixed noise) in inference mode, and the grid's columns (one class per row when conditional)."""
    with trainer.sampling() as gan:
        if gan.num_classes is None:
            return gan.generate(backend.as_array(fixed_noise(trainer.config))), None
        z, y, columns = class_grid(trainer.config)
        return gan.generate(backend.as_array(z), backend.as_array(y)), columns


class SampleGrids(Callback):
    """``folder/epoch_NNN.png`` every ``every`` epochs and at the last, and ``samples.gif`` beside
    the folder: G on one fixed noise batch, the same in every epoch and after resume."""

    def __init__(self, folder: str | Path, every: int = 1) -> None:
        self.folder, self.every = Path(folder), every

    def on_epoch_end(self, trainer: Trainer, epoch: int) -> None:
        if epoch % self.every and epoch != trainer.config.epochs:
            return
        images, columns = sample_images(trainer)
        plots.save_grid(images, self.folder / f"epoch_{epoch:03d}.png", columns=columns)
        plots.save_gif(sorted(self.folder.glob("epoch_*.png")), self.folder.parent / "samples.gif")


class HistoryFiles(Callback):
    """At each epoch's end: ``history.csv`` (:data:`~minigan.training.plots.HISTORY_COLUMNS`), ``quality.csv``
    when samples were scored, and ``losses.png`` with both."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def on_epoch_end(self, trainer: Trainer, epoch: int) -> None:
        plots.save_history_csv(trainer.history, self.folder / "history.csv")
        if len(trainer.quality):
            plots.save_history_csv(trainer.quality, self.folder / "quality.csv")
        plots.plot_history(trainer.history, self.folder / "losses.png", trainer.quality)
