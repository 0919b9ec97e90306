"""A training run: the loop around :meth:`minigan.gan.GAN.train_step`, and its state.

The loop (:meth:`Trainer.fit`) iterates :class:`~minigan.data.Batches`, calls
``GAN.train_step`` and hands each step to the callbacks it was given
(:mod:`minigan.training.callbacks`); every other job of a run (progress bar, sample grids,
CSV and curves, quality scores, checkpoints, the divergence and interrupt guards, EMA,
TensorBoard) is a callback, and a trainer without callbacks just trains.
:func:`~minigan.training.callbacks.default_callbacks` builds the list the command line uses.
The trainer also owns what a checkpoint must hold to resume exactly: the step, the history
of figures, and every callback's state.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from minigan import backend
from minigan.data import Batches
from minigan.gan import GAN
from minigan.training import checkpoint, plots
from minigan.training.callbacks.base import Callback
from minigan.training.config import TrainConfig
from minigan.training.data_parallel import local_batch_size, shard
from minigan.training.distributed import Communicator, SingleProcessCommunicator
from minigan.training.history import History

__all__ = ["CHECKPOINT_NAME", "Trainer"]

CHECKPOINT_NAME = "checkpoint.npz"
STATS = ("d_loss", "g_loss", "d_x", "d_g_z")  # what GAN.train_step reports, in HISTORY_COLUMNS order



class Trainer:
    """Runs :class:`GAN` steps over ``images`` for ``config.epochs`` epochs.

    ``images``: (N, H, W, C) float in [-1, 1] (moved to the backend once), or a lazy source with
    ``len()``, ``shape`` and indexing by an integer array (:class:`~minigan.data.ImageFolder`).
    ``labels``: int (N,) class indices, required for (and only for) a conditional GAN.
    ``callbacks`` are called in their order (:mod:`minigan.training.callbacks`); ``out_dir`` is
    where :meth:`save_checkpoint` writes (and the callbacks' outputs go, by convention).
    ``communicator``: for data-parallel training (:mod:`minigan.training.data_parallel`), each process
    trains on its rows of every global batch of ``config.batch_size``; only rank 0 writes.
    """

    def __init__(
        self,
        gan: GAN,
        images: Any,
        config: TrainConfig,
        out_dir: str | Path | None = None,
        callbacks: Sequence[Callback] = (),
        log: Callable[[str], None] = tqdm.write,
        labels: Any = None,
        communicator: Communicator | None = None,
    ) -> None:
        self.comm = communicator or SingleProcessCommunicator()
        self.gan, self.config = gan, config
        self.log = log if self.comm.rank == 0 else lambda line: None
        local_batch_size(config.batch_size, self.comm)  # the global batch divides between the processes
        expected = gan.discriminator.input_shape if gan.num_classes is None else gan.discriminator.input_shape[0]
        shape = tuple(images.shape)
        if len(shape) != 4 or shape[1:] != tuple(expected):
            raise ValueError(f"Trainer: expected images (N, {', '.join(map(str, expected))}), got {shape}")
        if (labels is None) != (gan.num_classes is None):
            kind = "an unconditional" if gan.num_classes is None else "a conditional"
            raise ValueError(f"Trainer: expected labels (N,) exactly for a conditional GAN, got "
                             f"{'none' if labels is None else 'labels'} for {kind} GAN (num_classes={gan.num_classes})")
        if isinstance(images, np.ndarray) or backend.is_device_array(images):
            images = backend.as_array(images, backend.floatx())
        per_step = config.batch_size * config.d_steps
        if len(images) < per_step:
            raise ValueError(f"Trainer: expected at least batch_size * d_steps = {per_step} images, got {len(images)}")
        conditional = {"one_hot": True, "num_classes": gan.num_classes} if labels is not None else {}
        self.batches = Batches(images, labels, batch_size=per_step, seed=config.seed, **conditional)
        self.steps_per_epoch = len(self.batches)
        self.images_per_step = per_step
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.log_every = config.log_every or (1 if backend.get_backend() == "numpy" else 50)
        self.step = 0
        self.history = History(plots.HISTORY_COLUMNS)  # a row per logged step
        self.quality = History(plots.QUALITY_COLUMNS)  # a row per scored epoch
        self.saved_step: int | None = None
        self.stop_requested: int | None = None  # a signal number: stop after the current step
        self.callbacks = list(callbacks)
        self._pending: list[dict[str, Any]] = []
        self._window_start = time.perf_counter()

    @property
    def epoch(self) -> int:
        """Epochs completed."""
        return self.step // self.steps_per_epoch

    # -- the loop ---------------------------------------------------------------------
    def fit(self) -> None:
        """Train until ``config.epochs`` epochs are done (from the current step).

        Raises :class:`~minigan.training.callbacks.Diverged` on a non-finite loss (without writing a
        checkpoint), and :class:`~minigan.training.callbacks.Interrupted` after Ctrl-C or SIGTERM, once
        the current step is done and checkpointed.
        """
        total = self.config.epochs * self.steps_per_epoch
        self.batches.set_epoch(self.epoch, self.step % self.steps_per_epoch)
        self.stop_requested, self._window_start = None, time.perf_counter()
        try:
            self._call("on_fit_start")
            while self.step < total and self.stop_requested is None:
                for batch in self.batches:
                    stats = self.gan.train_step(*self._step_inputs(batch))
                    self.step += 1
                    self._pending.append(stats)
                    if len(self._pending) >= self.log_every:
                        self.flush()
                    self._call("on_step_end", stats)
                    if self.stop_requested is not None:
                        break
                else:
                    self.flush()
                    self._call("on_epoch_end", self.epoch)
            self.flush()
            self._call("on_fit_end")
        finally:
            self._call("close")

    def _step_inputs(self, batch: Any) -> tuple[list[Any], ...]:
        """One step's batch as ``d_steps`` real batches (and, conditional, their one-hot labels)."""
        b = self.config.batch_size
        parts = [slice(i * b, (i + 1) * b) for i in range(self.config.d_steps)]
        if self.gan.num_classes is None:
            return ([shard(batch[p], self.comm) for p in parts],)
        images, labels = batch
        return [shard(images[p], self.comm) for p in parts], [shard(labels[p], self.comm) for p in parts]

    def _call(self, event: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, event)(self, *args)

    def flush(self) -> None:
        """Bring the pending steps' figures to the host in one transfer, append them to
        :attr:`history` and hand the new rows to every callback's ``on_log``."""
        if not self._pending:
            return
        xp = backend.get_array_module(self._pending[0]["d_loss"])
        values = backend.as_numpy(xp.stack([xp.stack([s[k] for k in STATS]) for s in self._pending]))
        self.comm.allreduce_mean([values])  # the figures of the global batch (no-op in one process)
        now = time.perf_counter()
        images_per_s = len(values) * self.images_per_step / max(now - self._window_start, 1e-9)
        self._window_start, self._pending = now, []
        first = self.step - len(values) + 1
        rows = History(plots.HISTORY_COLUMNS, np.column_stack([
            np.arange(first, self.step + 1),
            (np.arange(first, self.step + 1) - 1) // self.steps_per_epoch + 1,
            values,
            np.full(len(values), images_per_s),
        ]))
        self._call("on_log", rows)
        self.history.extend(rows.array)

    @contextmanager
    def sampling(self) -> Iterator[GAN]:
        """The GAN as samples should be drawn from it (with an EMA's weights, if a callback keeps one)."""
        with ExitStack() as stack:
            for callback in self.callbacks:
                stack.enter_context(callback.sampling(self))
            yield self.gan

    # -- state ------------------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path | None:
        return self.out_dir / CHECKPOINT_NAME if self.out_dir is not None else None

    def save_checkpoint(self, path: str | Path | None = None) -> Path:
        """Write the whole training state: networks, optimizers, step, RNG, history, callbacks
        (in a data-parallel run, rank 0 writes; every process calls this at the same step)."""
        path = Path(path) if path is not None else self.checkpoint_path
        if path is None:
            raise ValueError("Trainer.save_checkpoint: expected a path (the trainer has no out_dir)")
        try:
            rng_state = backend.get_rng_state()
        except (AttributeError, NotImplementedError):  # CuPy's generator exposes no state
            rng_state = None
        gan = self.gan
        models = {"generator": gan.generator, "discriminator": gan.discriminator}
        meta = {"step": self.step, "config": asdict(self.config), "rng_state": rng_state,
                "backend": backend.get_backend(), "processes": self.comm.size}
        for callback in self.callbacks:
            models.update(callback.checkpoint_models(self))
            meta.update(callback.checkpoint_meta(self))
        self.saved_step = self.step
        if self.comm.rank != 0:
            return path
        checkpoint.save(
            path,
            models,
            {"generator": gan.opt_g, "discriminator": gan.opt_d},
            meta,
            {
                "history": self.history.array,
                "quality": self.quality.array,
            },
        )
        return path

    def load_checkpoint(self, ckpt: str | Path | checkpoint.Checkpoint) -> None:
        """Continue from a checkpoint: weights, optimizer states, step, history, callbacks, RNG state."""
        if not isinstance(ckpt, checkpoint.Checkpoint):
            ckpt = checkpoint.load(ckpt)
        ckpt.restore_model("generator", self.gan.generator)
        ckpt.restore_model("discriminator", self.gan.discriminator)
        ckpt.restore_optimizer("generator", self.gan.opt_g)
        ckpt.restore_optimizer("discriminator", self.gan.opt_d)
        self.step = int(ckpt.meta["step"])
        self.history = History.from_array(plots.HISTORY_COLUMNS, ckpt.array("history"))
        if "array/quality" in ckpt.arrays:  # older checkpoints: none, or fewer columns
            self.quality = History.from_array(plots.QUALITY_COLUMNS, ckpt.array("quality"))
        if ckpt.meta.get("rng_state") is not None and backend.get_backend() == ckpt.meta.get("backend"):
            backend.set_rng_state(ckpt.meta["rng_state"])
        else:
            backend.seed(self.config.seed + self.step)
            self.log(f"note: {ckpt.path} has no usable RNG state; resuming with a fresh seed (not bit-identical)")
        if ckpt.meta.get("processes", 1) != self.comm.size:
            self.log(f"note: {ckpt.path} was written by {ckpt.meta.get('processes', 1)} process(es), this run has "
                     f"{self.comm.size}: it continues from the same weights, not bit-identically")
        for callback in self.callbacks:
            callback.load_checkpoint(self, ckpt)
        self.saved_step = self.step
