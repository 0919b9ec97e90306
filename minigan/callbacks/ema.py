"""An exponential moving average of the generator's weights, for sampling (Karras et al., Yazici et al.)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from minigan.callbacks import Callback

if TYPE_CHECKING:
    from minigan.checkpoint import Checkpoint
    from minigan.trainer import Trainer

CHECKPOINT_ENTRY = "generator_ema"  # the checkpoint's network read by `python -m minigan sample` when present


class EMA(Callback):
    """After every step, ``avg <- decay * avg + (1 - decay) * theta`` for each parameter theta of G
    (starting from G's weights), on the device, in place. Samples, scores and the checkpoint's
    ``generator_ema`` use the average; training never sees it."""

    def __init__(self, decay: float = 0.999) -> None:
        if not 0 < decay < 1:
            raise ValueError(f"EMA: expected 0 < decay < 1, got {decay}")
        self.decay = decay
        self.params: dict[str, Any] | None = None

    def on_fit_start(self, trainer: Trainer) -> None:
        if self.params is None:
            self.params = {k: v.copy() for k, v in trainer.gan.generator.params.items()}

    def on_step_end(self, trainer: Trainer, stats: dict[str, Any]) -> None:
        for key, theta in trainer.gan.generator.params.items():
            avg = self.params[key]
            avg -= (1 - self.decay) * (avg - theta)

    @contextmanager
    def sampling(self, trainer: Trainer) -> Iterator[None]:
        """G with the averaged weights inside the block, its own weights (bit for bit) after it."""
        if self.params is None:
            yield
            return
        params = trainer.gan.generator.params
        own = {k: v.copy() for k, v in params.items()}
        try:
            for key, value in params.items():
                value[...] = self.params[key]
            yield
        finally:
            for key, value in params.items():
                value[...] = own[key]

    def checkpoint_models(self, trainer: Trainer) -> dict[str, Any]:
        if self.params is None:
            return {}
        return {CHECKPOINT_ENTRY: SimpleNamespace(params=self.params, state=trainer.gan.generator.state)}

    def load_checkpoint(self, trainer: Trainer, ckpt: Checkpoint) -> None:
        generator = trainer.gan.generator
        if not any(key.startswith(f"model/{CHECKPOINT_ENTRY}/") for key in ckpt.arrays):
            trainer.log(f"note: {ckpt.path} has no average of G's weights; the EMA starts from G's weights")
            self.params = {k: v.copy() for k, v in generator.params.items()}
            return
        self.params = {k: v.copy() for k, v in generator.params.items()}
        ckpt.restore_model(CHECKPOINT_ENTRY, SimpleNamespace(params=self.params, state=generator.state))
