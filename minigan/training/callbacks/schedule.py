"""Learning-rate schedules: both Adams' rates as a function of how far the run is."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from minigan.training.callbacks.base import Callback

if TYPE_CHECKING:
    from minigan.training.trainer import Trainer


def linear_to_zero(progress: float) -> float:
    """1 over the first half of the run, then linearly down to 0 at its end."""
    return min(1.0, 2.0 * (1.0 - progress))


def step_decay(progress: float) -> float:
    """1, then / 10 from 55% of the run and / 100 from 80% (epochs 11 and 16 of 20, as znxlwm's cDCGAN)."""
    return 1.0 if progress < 0.55 else 0.1 if progress < 0.8 else 0.01


#: The schedules by name (``--lr-schedule``): the factor of the base rate at a fraction of the run.
SCHEDULES: dict[str, Callable[[float], float]] = {
    "constant": lambda progress: 1.0,
    "linear": linear_to_zero,
    "step": step_decay,
}


class LearningRateSchedule(Callback):
    """Before each step, ``lr = base_lr * factor(step / total_steps)`` for G's and D's optimizers
    (``base_lr``: ``config.lr_g`` and ``config.lr_d``). A function of the step only, so a
    resumed run follows the same rates."""

    def __init__(self, factor: Callable[[float], float]) -> None:
        self.factor = factor

    def _set(self, trainer: Trainer) -> None:
        progress = trainer.step / (trainer.config.epochs * trainer.steps_per_epoch)
        trainer.gan.opt_g.lr = trainer.config.lr_g * self.factor(progress)
        trainer.gan.opt_d.lr = trainer.config.lr_d * self.factor(progress)

    def on_fit_start(self, trainer: Trainer) -> None:
        self._set(trainer)

    def on_step_end(self, trainer: Trainer, stats: dict[str, Any]) -> None:
        self._set(trainer)
