"""The hooks of a training run (:class:`Callback`): what the loop calls, and when."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from minigan.training.checkpoint import Checkpoint
    from minigan.training.trainer import Trainer


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
