"""The guards of a run: stop on a non-finite loss; stop cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from minigan.training.callbacks.base import Callback

if TYPE_CHECKING:
    from minigan.training.distributed import Communicator
    from minigan.training.history import History
    from minigan.training.trainer import Trainer


class Diverged(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (``signum``: SIGINT for Ctrl-C, SIGTERM) after a checkpoint."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class DivergenceGuard(Callback):
    """Raise :class:`Diverged` as soon as a logged figure is NaN or infinite.

    First in the default callbacks, so nothing after it (grids, checkpoints) sees the bad step.
    """

    def on_log(self, trainer: Trainer, rows: History) -> None:
        bad = ~np.isfinite(rows.array).all(axis=1)
        if not bad.any():
            return
        first = int(np.argmax(bad))
        step, d_loss, g_loss = rows["step"][first], rows["d_loss"][first], rows["g_loss"][first]
        kept = (
            f"the last good checkpoint {trainer.checkpoint_path} (step {trainer.saved_step}) is kept"
            if trainer.saved_step is not None and trainer.checkpoint_path is not None
            else "no checkpoint was written"
        )
        raise Diverged(
            f"training diverged at step {int(step)}: d_loss={d_loss}, g_loss={g_loss}; {kept}. "
            "Try a lower learning rate (--lr) or another seed."
        )


class InterruptGuard(Callback):
    """The first SIGINT (Ctrl-C) or SIGTERM asks the loop to stop after the current step; the
    run then ends normally (the checkpoint callback saves) and this guard raises
    :class:`Interrupted`. A second signal of the same kind acts at once (its previous handler).

    The request takes effect at the end of a step; with a ``communicator`` of several
    processes, a signal to any one stops all of them at the same step (a max-allreduce).
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, communicator: Communicator | None = None) -> None:
        self.comm = communicator
        self.pending: int | None = None  # the signal received during the current step
        self._previous: dict[int, Any] = {}

    def on_fit_start(self, trainer: Trainer) -> None:
        self.pending = None
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread

        def handler(signum: int, frame: Any) -> None:
            self.pending = signum
            signal.signal(signum, self._previous[signum])

        for signum in self.SIGNALS:
            self._previous[signum] = signal.signal(signum, handler)

    def on_step_end(self, trainer: Trainer, stats: dict[str, Any]) -> None:
        request = trainer.stop_requested or self.pending
        if self.comm is not None and self.comm.size > 1:
            request = int(self.comm.allreduce_scalar(float(request or 0), "max")) or None
        trainer.stop_requested = request

    def on_fit_end(self, trainer: Trainer) -> None:
        if trainer.stop_requested is not None:
            raise Interrupted(trainer.stop_requested)

    def close(self, trainer: Trainer) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous = {}
