"""An exponential moving average of the generator's weights, for sampling (Karras et al., Yazici et al.)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from minigan.training.callbacks.base import Callback

if TYPE_CHECKING:
    from minigan.training.checkpoint import Checkpoint
    from minigan.training.trainer import Trainer

CHECKPOINT_ENTRY = "generator_ema"  # the checkpoint's network read by `python -m minigan sample` when present


def decay_at(decay: float, step: int) -> float:
    """The decay of update ``step`` (1, 2, ...): ``min(decay, (1 + step) / (10 + step))``, TensorFlow's
    ``ExponentialMovingAverage(num_updates=step)``: early updates forget G's initial weights quickly."""
    return min(decay, (1 + step) / (10 + step))


class EMA(Callback):
    """After step t, ``avg <- d_t * avg + (1 - d_t) * theta`` with ``d_t = decay_at(decay, t)`` for
    each parameter theta of G and each of its BatchNorm running statistics (as timm's ModelEma),
    starting from G's own; on the device, in place. Samples, scores and the checkpoint's
    ``generator_ema`` use the average; training never sees it."""

    def __init__(self, decay: float = 0.999) -> None:
        if not 0 < decay < 1:
            raise ValueError(f"EMA: expected 0 < decay < 1, got {decay}")
        self.decay = decay
        self.params: dict[str, Any] | None = None
        self.state: dict[str, Any] | None = None

    def _start_from(self, generator: Any) -> None:
        self.params = {k: v.copy() for k, v in generator.params.items()}
        self.state = {k: v.copy() for k, v in generator.state.items()}

    def on_fit_start(self, trainer: Trainer) -> None:
        if self.params is None:
            self._start_from(trainer.gan.generator)

    def on_step_end(self, trainer: Trainer, stats: dict[str, Any]) -> None:
        generator, keep = trainer.gan.generator, 1 - decay_at(self.decay, trainer.step)
        for average, current in ((self.params, generator.params), (self.state, generator.state)):
            for key, theta in current.items():
                avg = average[key]
                avg -= keep * (avg - theta)

    @contextmanager
    def sampling(self, trainer: Trainer) -> Iterator[None]:
        """G with the averaged weights and statistics inside the block, its own (bit for bit) after it."""
        if self.params is None:
            yield
            return
        generator = trainer.gan.generator
        pairs = ((generator.params, self.params), (generator.state, self.state))
        own = [{k: v.copy() for k, v in arrays.items()} for arrays, _ in pairs]
        try:
            for arrays, average in pairs:
                for key, value in arrays.items():
                    value[...] = average[key]
            yield
        finally:
            for (arrays, _), saved in zip(pairs, own, strict=True):
                for key, value in arrays.items():
                    value[...] = saved[key]

    def checkpoint_models(self, trainer: Trainer) -> dict[str, Any]:
        if self.params is None:
            return {}
        return {CHECKPOINT_ENTRY: SimpleNamespace(params=self.params, state=self.state)}

    def load_checkpoint(self, trainer: Trainer, ckpt: Checkpoint) -> None:
        self._start_from(trainer.gan.generator)
        if not any(key.startswith(f"model/{CHECKPOINT_ENTRY}/") for key in ckpt.arrays):
            trainer.log(f"note: {ckpt.path} has no average of G's weights; the EMA starts from G's weights")
            return
        ckpt.restore_model(CHECKPOINT_ENTRY, SimpleNamespace(params=self.params, state=self.state))
