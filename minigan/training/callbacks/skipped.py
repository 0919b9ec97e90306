"""The images of a folder dataset that could not be decoded, reported at each epoch's end."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minigan.training.callbacks.base import Callback

if TYPE_CHECKING:
    from minigan.training.trainer import Trainer


class SkippedImages(Callback):
    """At the end of each epoch in which ``dataset.bad_files`` grew, one line with how many images
    were skipped so far (each was warned about once, and replaced by another, when first read)
    and the first few names. For :class:`~minigan.data.ImageFolder`."""

    SHOWN = 3

    def __init__(self, dataset: Any) -> None:
        self.dataset, self.reported = dataset, 0

    def on_epoch_end(self, trainer: Trainer, epoch: int) -> None:
        bad = list(self.dataset.bad_files)
        if len(bad) == self.reported:
            return
        names = ", ".join(str(p) for p in bad[:self.SHOWN]) + (", ..." if len(bad) > self.SHOWN else "")
        trainer.log(f"epoch {epoch}: {len(bad)} image(s) could not be decoded and were replaced by others: {names}")
        self.reported = len(bad)
