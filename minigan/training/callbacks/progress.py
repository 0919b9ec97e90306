"""What a person watching a run sees: a progress bar per epoch, the run's time estimate, a line per epoch."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from minigan.training.callbacks.base import Callback

if TYPE_CHECKING:
    from minigan.training.history import History
    from minigan.training.trainer import Trainer

ESTIMATE_STEPS = 10  # steps timed (after the first, which includes warm-up) for the run's time estimate


def duration(seconds: float) -> str:
    """``42 s``, ``3.5 min`` or ``1.8 h``."""
    minutes = seconds / 60
    if minutes < 1:
        return f"{seconds:.0f} s"
    if minutes < 90:
        return f"{minutes:.1f} min"
    return f"{minutes / 60:.1f} h"


class Progress(Callback):
    """A tqdm bar per epoch (hidden with ``enabled=False``) showing the latest figures; after
    :data:`ESTIMATE_STEPS` steps one line with the time the rest of the run should take; at
    each epoch's end one line with its mean figures."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self._first_step, self._timer = 0, 0.0

    def on_fit_start(self, trainer: Trainer) -> None:
        self._first_step = trainer.step

    def on_step_end(self, trainer: Trainer, stats: dict[str, Any]) -> None:
        if self.bar is None:
            spe = trainer.steps_per_epoch
            self.bar = tqdm(total=spe, initial=(trainer.step - 1) % spe, desc=f"epoch {trainer.epoch + 1}/"
                            f"{trainer.config.epochs}", disable=not self.enabled, leave=False, unit="step")
        self.bar.update()
        done = trainer.step - self._first_step
        if done == 1:
            self._timer = time.perf_counter()
        elif done == 1 + ESTIMATE_STEPS:
            per_step = (time.perf_counter() - self._timer) / ESTIMATE_STEPS
            left = trainer.config.epochs * trainer.steps_per_epoch - trainer.step
            trainer.log(
                f"{per_step:.3f} s/step over {ESTIMATE_STEPS} steps: the remaining {left} steps "
                f"(to the end of epoch {trainer.config.epochs}, {trainer.steps_per_epoch} steps each) "
                f"should take about {duration(per_step * left)}"
            )

    def on_log(self, trainer: Trainer, rows: History) -> None:
        if self.bar is not None:
            last = dict(zip(rows.columns, rows[-1], strict=True))
            self.bar.set_postfix_str(f"d_loss {last['d_loss']:.3f} g_loss {last['g_loss']:.3f} D(x) {last['d_x']:.2f} "
                                     f"D(G(z)) {last['d_g_z']:.2f} {last['images_per_s']:.0f} img/s")

    def on_epoch_end(self, trainer: Trainer, epoch: int) -> None:
        self.close(trainer)
        rows = trainer.history.where("epoch", epoch)
        if len(rows):
            mean = {name: rows[name].mean() for name in ("d_loss", "g_loss", "d_x", "d_g_z", "images_per_s")}
            trainer.log(
                f"epoch {epoch}/{trainer.config.epochs}: d_loss {mean['d_loss']:.4f} g_loss {mean['g_loss']:.4f} "
                f"D(x) {mean['d_x']:.3f} D(G(z)) {mean['d_g_z']:.3f} {mean['images_per_s']:.0f} img/s "
                f"(step {trainer.step})"
            )

    def close(self, trainer: Trainer) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
