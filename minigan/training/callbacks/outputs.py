"""The files a run writes for a person to look at: sample grids and their GIF; the CSV and curves."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from minigan import backend
from minigan.training import plots
from minigan.training.callbacks.base import Callback

if TYPE_CHECKING:
    from minigan.training.trainer import Trainer


def sample_images(trainer: Trainer) -> tuple[Any, int | None]:
    """G(fixed noise) in inference mode, and the grid's columns (one class per row when conditional)."""
    from minigan.training.trainer import class_grid, fixed_noise

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
        history = np.asarray(trainer.history, dtype=np.float64)
        plots.save_history_csv(history, self.folder / "history.csv")
        quality = np.asarray(trainer.quality, dtype=np.float64).reshape(-1, len(plots.QUALITY_COLUMNS))
        if len(quality):
            plots.save_history_csv(quality, self.folder / "quality.csv", plots.QUALITY_COLUMNS)
        plots.plot_history(history, self.folder / "losses.png", quality)
