"""A training run: the configuration, and the loop around :meth:`minigan.gan.GAN.train_step`.

:class:`TrainConfig` holds everything that defines a run (it is stored in checkpoints);
:func:`build_gan` makes the networks and optimizers it describes; :class:`Trainer` runs the
epochs: shuffled batches, a progress bar, sample grids, the history, quality scores,
checkpoints, exact resume, divergence detection and Ctrl-C.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from minigan import backend, checkpoint, models, optim, plots
from minigan.gan import GAN, GAN_LOSSES
from minigan.memory import retain_freed_memory

CHECKPOINT_NAME = "checkpoint.npz"
ESTIMATE_STEPS = 10  # steps timed (after the first, which includes warm-up) for the run's time estimate


class Diverged(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass
class TrainConfig:
    """Everything that defines a run; stored in its checkpoints (JSON).

    ``generator``/``discriminator`` are model specs (see :func:`minigan.models.spec`);
    ``num_classes``: None for an unconditional GAN, K for one conditioned on one-hot labels.
    ``options`` records the calling script's own settings (dataset, limit, width...) so that a
    resume can rebuild the same run (the trainer itself is given arrays).
    ``checkpoint_every``: also checkpoint every that many steps (0: at epoch ends only);
    ``log_every``: read the losses from the device every that many steps (None: 1 on
    NumPy, 50 on CuPy). Batches drop the remainder of an epoch (fixed shapes).
    ``eval_every``: every that many epochs, score ``eval_samples`` generated images with
    :mod:`minigan.evaluate` (FID, Inception Score; MNIST-sized images only; 0: never).
    """

    generator: dict = field(default_factory=lambda: models.spec("dcgan_generator"))
    discriminator: dict = field(default_factory=lambda: models.spec("dcgan_discriminator"))
    options: dict = field(default_factory=dict)
    epochs: int = 50
    batch_size: int = 256
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    beta1: float = 0.9
    beta2: float = 0.999
    latent_dim: int = 100
    d_steps: int = 1
    g_steps: int = 1
    loss: str = "non-saturating"
    label_smoothing: float = 0.0
    seed: int = 0
    sample_every: int = 1
    checkpoint_every: int = 0
    log_every: int | None = None
    num_samples: int = 64
    num_classes: int | None = None
    eval_every: int = 0
    eval_samples: int = 2000

    def __post_init__(self) -> None:
        positive = ("epochs", "batch_size", "latent_dim", "d_steps", "g_steps", "sample_every", "num_samples")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"TrainConfig: expected {name} >= 1, got {getattr(self, name)}")
        for name in ("lr_g", "lr_d"):
            if not getattr(self, name) > 0:
                raise ValueError(f"TrainConfig: expected {name} > 0, got {getattr(self, name)}")
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"TrainConfig: expected 0 <= {name} < 1, got {getattr(self, name)}")
        if self.loss not in GAN_LOSSES:
            raise ValueError(f"TrainConfig: expected loss in {GAN_LOSSES}, got {self.loss!r}")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"TrainConfig: expected 0 <= label_smoothing < 1, got {self.label_smoothing}")
        if self.num_classes is not None and self.num_classes < 2:
            raise ValueError(f"TrainConfig: expected num_classes >= 2 (or None), got {self.num_classes}")
        if self.eval_every < 0 or self.eval_samples < 2:
            raise ValueError(
                f"TrainConfig: expected eval_every >= 0 and eval_samples >= 2, got {self.eval_every} "
                f"and {self.eval_samples}"
            )
        if self.checkpoint_every < 0 or (self.log_every is not None and self.log_every < 1):
            raise ValueError("TrainConfig: expected checkpoint_every >= 0 and log_every >= 1")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """A config from :func:`dataclasses.asdict` output (unknown keys are refused)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"TrainConfig: unknown options {unknown}")
        return cls(**values)


def build_gan(config: TrainConfig) -> GAN:
    """Seed minigan's RNG with ``config.seed``, build G and D from their specs and Adam for each."""
    backend.seed(config.seed)
    generator = models.build(config.generator)
    discriminator = models.build(config.discriminator)
    expected: tuple = (config.latent_dim,)
    if config.num_classes is not None:
        expected = (expected, (config.num_classes,))
    if generator.input_shape != expected:
        raise ValueError(
            f"build_gan: expected a generator with input {expected} (latent_dim, num_classes), "
            f"got {generator.input_shape}"
        )
    if config.num_classes is not None and (len(discriminator.input_shape) != 2
                                           or tuple(discriminator.input_shape[1]) != (config.num_classes,)):
        raise ValueError(
            f"build_gan: expected a discriminator with inputs (image shape, ({config.num_classes},)), "
            f"got {discriminator.input_shape}"
        )
    return GAN(
        generator,
        discriminator,
        optim.Adam(generator, config.lr_g, config.beta1, config.beta2),
        optim.Adam(discriminator, config.lr_d, config.beta1, config.beta2),
        config.latent_dim,
        config.loss,
        config.label_smoothing,
        config.d_steps,
        config.g_steps,
        config.num_classes,
    )


def mnist_quality(image_shape: Sequence[int]) -> Callable[[np.ndarray], dict[str, Any]]:
    """The default scorer of ``eval_every``: :func:`minigan.evaluate.evaluate_samples` with the
    cached MNIST classifier (trained once by ``python -m minigan train-classifier``)."""
    if tuple(image_shape) != (28, 28, 1):
        raise ValueError(
            f"eval_every: the quality scores use minigan's MNIST classifier, so they need images "
            f"(28, 28, 1); got {tuple(image_shape)}"
        )
    from minigan.evaluate import evaluate_samples, get_classifier

    classifier = get_classifier(train_if_missing=False)  # a ValueError naming the command to run
    return lambda images: evaluate_samples(images, classifier, n=None)


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffled order of ``n`` examples in (0-based) ``epoch``: a function of seed and epoch
    only, so a resumed run sees the same batches without storing an iterator."""
    return np.random.default_rng([seed, 0, epoch]).permutation(n)


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
    y = np.eye(k, dtype=backend.floatx())[np.repeat(np.arange(k), columns)]
    return z, y, columns


def _is_array(images: Any) -> bool:
    return isinstance(images, np.ndarray) or type(images).__module__.startswith("cupy")


def _duration(seconds: float) -> str:
    minutes = seconds / 60
    if minutes < 1:
        return f"{seconds:.0f} s"
    if minutes < 90:
        return f"{minutes:.1f} min"
    return f"{minutes / 60:.1f} h"


class Trainer:
    """Runs :class:`GAN` steps over ``images`` for ``config.epochs`` epochs.

    ``images``: (N, H, W, C) float in [-1, 1], moved to the backend once; or a lazy source with
    ``len()``, ``shape`` and indexing by an integer array (:class:`~minigan.data.ImageFolder`),
    indexed on the host per batch. ``labels``: int (N,) class indices, required for (and only
    for) a conditional GAN; each batch gets them one-hot. ``out_dir`` (if
    given) receives ``samples/epoch_NNN.png``, ``samples.gif``, ``losses.png``,
    ``history.csv`` and ``checkpoint.npz`` (and ``quality.csv`` when ``config.eval_every``
    is set). ``log`` prints the summary lines. ``evaluate(images) -> figures`` scores samples
    for ``eval_every`` (default: :func:`mnist_quality`).
    """

    def __init__(
        self,
        gan: GAN,
        images: Any,
        config: TrainConfig,
        out_dir: str | Path | None = None,
        progress: bool = True,
        log: Callable[[str], None] = tqdm.write,
        labels: Any = None,
        evaluate: Callable[[np.ndarray], dict[str, Any]] | None = None,
    ) -> None:
        self.gan, self.config = gan, config
        expected = gan.discriminator.input_shape
        if gan.num_classes is not None:
            expected = expected[0]
        shape = tuple(images.shape)
        if len(shape) != 4 or shape[1:] != tuple(expected):
            raise ValueError(f"Trainer: expected images (N, {', '.join(map(str, expected))}), got {shape}")
        self.lazy = not _is_array(images)
        self.images = images if self.lazy else backend.as_array(images, backend.floatx())
        self.labels = self._check_labels(labels, len(images))
        self.batches_per_step = config.batch_size * config.d_steps
        self.steps_per_epoch = len(images) // self.batches_per_step
        if self.steps_per_epoch < 1:
            raise ValueError(
                f"Trainer: expected at least batch_size * d_steps = {self.batches_per_step} images, got {len(images)}"
            )
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.progress, self.log = progress, log
        self.log_every = config.log_every or (1 if backend.get_backend() == "numpy" else 50)
        self.step = 0
        self.history: list[tuple[float, ...]] = []
        self.quality: list[tuple[float, ...]] = []
        self.evaluate = evaluate
        if config.eval_every and evaluate is None:
            self.evaluate = mnist_quality(shape[1:])
        self.saved_step: int | None = None
        self._pending: list[dict[str, Any]] = []
        self._window_start = time.perf_counter()
        self._interrupted = False

    def _check_labels(self, labels: Any, n: int) -> Any:
        k = self.gan.num_classes
        if k is None:
            if labels is not None:
                raise ValueError("Trainer: got labels for an unconditional GAN (num_classes=None)")
            return None
        if labels is None:
            raise ValueError(f"Trainer: expected labels (N,) for a conditional GAN (num_classes={k}), got none")
        labels = backend.as_numpy(labels)
        if labels.shape != (n,) or labels.dtype.kind not in "iu" or (n and (labels.min() < 0 or labels.max() >= k)):
            raise ValueError(
                f"Trainer: expected {n} integer labels in [0, {k - 1}], got {labels.dtype} shaped {labels.shape}"
            )
        return backend.as_array(labels.astype(np.int64))

    # -- checkpoints ------------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path | None:
        return self.out_dir / CHECKPOINT_NAME if self.out_dir is not None else None

    def save_checkpoint(self, path: str | Path | None = None) -> Path:
        """Write the whole training state (after checking the latest losses are finite)."""
        self._flush()
        path = Path(path) if path is not None else self.checkpoint_path
        if path is None:
            raise ValueError("Trainer.save_checkpoint: expected a path (the trainer has no out_dir)")
        try:
            rng_state = backend.get_rng_state()
        except (AttributeError, NotImplementedError):  # CuPy's generator exposes no state
            rng_state = None
        gan = self.gan
        checkpoint.save(
            path,
            {"generator": gan.generator, "discriminator": gan.discriminator},
            {"generator": gan.opt_g, "discriminator": gan.opt_d},
            {
                "step": self.step,
                "config": asdict(self.config),
                "rng_state": rng_state,
                "backend": backend.get_backend(),
            },
            {
                "history": np.asarray(self.history, dtype=np.float64).reshape(-1, len(plots.HISTORY_COLUMNS)),
                "quality": np.asarray(self.quality, dtype=np.float64).reshape(-1, len(plots.QUALITY_COLUMNS)),
            },
        )
        self.saved_step = self.step
        return path

    def load_checkpoint(self, ckpt: str | Path | checkpoint.Checkpoint) -> None:
        """Continue from a checkpoint: weights, optimizer states, step, history and RNG state."""
        if not isinstance(ckpt, checkpoint.Checkpoint):
            ckpt = checkpoint.load(ckpt)
        ckpt.restore_model("generator", self.gan.generator)
        ckpt.restore_model("discriminator", self.gan.discriminator)
        ckpt.restore_optimizer("generator", self.gan.opt_g)
        ckpt.restore_optimizer("discriminator", self.gan.opt_d)
        self.step = int(ckpt.meta["step"])
        self.history = [tuple(row) for row in ckpt.array("history")]
        if "array/quality" in ckpt.arrays:
            self.quality = [tuple(row) for row in ckpt.array("quality")]
        if ckpt.meta.get("rng_state") is not None and backend.get_backend() == ckpt.meta.get("backend"):
            backend.set_rng_state(ckpt.meta["rng_state"])
        else:
            backend.seed(self.config.seed + self.step)
            self.log(f"note: {ckpt.path} has no usable RNG state; resuming with a fresh seed (not bit-identical)")
        self.saved_step = self.step

    # -- the loop ---------------------------------------------------------------------
    def fit(self) -> None:
        """Train until ``config.epochs`` epochs are done (from the current step).

        Raises :class:`Diverged` on a non-finite loss (without writing a checkpoint), and
        KeyboardInterrupt after Ctrl-C, once the current step is done and checkpointed.
        """
        retain_freed_memory()  # no page faults on each step's fresh arrays (minigan/memory.py)
        cfg, spe = self.config, self.steps_per_epoch
        total = cfg.epochs * spe
        first_step, t_first = self.step, time.perf_counter()
        self._window_start = time.perf_counter()
        with self._catch_interrupt():
            while self.step < total:
                epoch = self.step // spe
                order = epoch_order(len(self.images), cfg.seed, epoch)
                if not self.lazy:
                    order = backend.as_array(order)
                bar = tqdm(
                    total=spe, initial=self.step % spe, desc=f"epoch {epoch + 1}/{cfg.epochs}",
                    disable=not self.progress, leave=False, unit="step",
                )
                with bar:
                    for position in range(self.step % spe, spe):
                        self._train_one(order, position)
                        bar.update()
                        if len(self._pending) >= self.log_every:
                            self._flush(bar)
                        if self.step == first_step + 1:
                            t_first = time.perf_counter()
                        elif self.step == first_step + 1 + ESTIMATE_STEPS:
                            self._estimate(time.perf_counter() - t_first, total)
                        if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0 and position + 1 < spe:
                            self._save_if_possible()
                        if self._interrupted:
                            break
                if self._interrupted:
                    self._save_if_possible()
                    raise KeyboardInterrupt
                self._end_of_epoch(epoch + 1)

    def _train_one(self, order: Any, position: int) -> None:
        b, k = self.config.batch_size, self.config.d_steps
        index = order[position * b * k:(position + 1) * b * k]
        parts = [index[i * b:(i + 1) * b] for i in range(k)]
        if self.lazy:
            reals = [backend.as_array(self.images[part], backend.floatx()) for part in parts]
            parts = [backend.as_array(part) for part in parts]
        else:
            reals = [self.images[part] for part in parts]
        if self.labels is None:
            self._pending.append(self.gan.train_step(reals))
        else:
            eye = backend.xp().eye(self.gan.num_classes, dtype=backend.floatx())
            self._pending.append(self.gan.train_step(reals, [eye[self.labels[part]] for part in parts]))
        self.step += 1

    def _flush(self, bar: Any = None) -> None:
        """Bring the pending statistics to the host in one transfer, check them, record them."""
        if not self._pending:
            return
        xp = backend.get_array_module(self._pending[0]["d_loss"])
        keys = ("d_loss", "g_loss", "d_x", "d_g_z")
        values = backend.as_numpy(xp.stack([xp.stack([s[k] for k in keys]) for s in self._pending]))
        now = time.perf_counter()
        images_per_s = len(self._pending) * self.batches_per_step / max(now - self._window_start, 1e-9)
        self._window_start = now
        first = self.step - len(self._pending) + 1
        self._pending = []
        bad = ~np.isfinite(values).all(axis=1)
        if bad.any():
            at = first + int(np.argmax(bad))
            row = dict(zip(keys, values[int(np.argmax(bad))], strict=True))
            kept = (
                f"the last good checkpoint {self.checkpoint_path} (step {self.saved_step}) is kept"
                if self.saved_step is not None and self.checkpoint_path is not None
                else "no checkpoint was written"
            )
            raise Diverged(
                f"training diverged at step {at}: d_loss={row['d_loss']}, g_loss={row['g_loss']}; {kept}. "
                "Try a lower learning rate (--lr) or another seed."
            )
        for offset, (d_loss, g_loss, d_x, d_g_z) in enumerate(values):
            step = first + offset
            epoch = (step - 1) // self.steps_per_epoch + 1
            self.history.append((step, epoch, d_loss, g_loss, d_x, d_g_z, images_per_s))
        if bar is not None:
            d_loss, g_loss, d_x, d_g_z = values[-1]
            bar.set_postfix_str(f"d_loss {d_loss:.3f} g_loss {g_loss:.3f} D(x) {d_x:.2f} D(G(z)) {d_g_z:.2f} "
                                f"{images_per_s:.0f} img/s")

    def _estimate(self, seconds: float, total: int) -> None:
        per_step = seconds / ESTIMATE_STEPS
        self.log(
            f"{per_step:.3f} s/step over {ESTIMATE_STEPS} steps: the remaining {total - self.step} steps "
            f"({self.config.epochs} epochs of {self.steps_per_epoch}) should take about "
            f"{_duration(per_step * (total - self.step))}"
        )

    def _end_of_epoch(self, epoch: int) -> None:
        self._flush()
        rows = np.asarray([r for r in self.history if r[1] == epoch])
        if len(rows):
            mean = rows[:, 2:].mean(axis=0)
            self.log(
                f"epoch {epoch}/{self.config.epochs}: d_loss {mean[0]:.4f} g_loss {mean[1]:.4f} "
                f"D(x) {mean[2]:.3f} D(G(z)) {mean[3]:.3f} {mean[4]:.0f} img/s (step {self.step})"
            )
        if self.evaluate is not None and self.config.eval_every and epoch % self.config.eval_every == 0:
            self._score_samples(epoch)
        if self.out_dir is None:
            return
        if epoch % self.config.sample_every == 0 or epoch == self.config.epochs:
            self.save_samples(self.out_dir / "samples" / f"epoch_{epoch:03d}.png")
            plots.save_gif(sorted((self.out_dir / "samples").glob("epoch_*.png")), self.out_dir / "samples.gif")
        history = np.asarray(self.history, dtype=np.float64)
        plots.save_history_csv(history, self.out_dir / "history.csv")
        quality = np.asarray(self.quality, dtype=np.float64).reshape(-1, len(plots.QUALITY_COLUMNS))
        if len(quality):
            plots.save_history_csv(quality, self.out_dir / "quality.csv", plots.QUALITY_COLUMNS)
        plots.plot_history(history, self.out_dir / "losses.png", quality)
        self.save_checkpoint()

    def _score_samples(self, epoch: int) -> None:
        """Score ``eval_samples`` images of G (inference mode) drawn from their own seeded
        generator, so that the training's random stream, and exact resume, are untouched."""
        cfg, k = self.config, self.gan.num_classes
        rng = np.random.default_rng([cfg.seed, 2, epoch])
        z = backend.as_array(rng.standard_normal((cfg.eval_samples, cfg.latent_dim)), backend.floatx())
        y = None if k is None else backend.as_array(np.eye(k)[np.arange(cfg.eval_samples) % k], backend.floatx())
        figures = self.evaluate(backend.as_numpy(self.gan.generate(z, y)))
        histogram = np.asarray(figures["class_histogram"])
        covered = int((histogram >= 0.01 * histogram.sum()).sum())
        self.quality.append(
            (self.step, epoch, figures["fid"], figures["inception_score"], figures["mean_confidence"], covered)
        )
        self.log(
            f"epoch {epoch}: FID {figures['fid']:.2f}, Inception Score {figures['inception_score']:.2f}, "
            f"mean confidence {figures['mean_confidence']:.3f}, {covered} classes with >= 1% of "
            f"{cfg.eval_samples} samples"
        )

    def save_samples(self, path: str | Path) -> None:
        """A grid of G(fixed noise) in inference mode; one class per row when conditional."""
        if self.gan.num_classes is None:
            plots.save_grid(self.gan.generate(backend.as_array(fixed_noise(self.config))), path)
            return
        z, y, columns = class_grid(self.config)
        plots.save_grid(self.gan.generate(backend.as_array(z), backend.as_array(y)), path, columns=columns)

    def _save_if_possible(self) -> None:
        if self.checkpoint_path is not None:
            self.save_checkpoint()

    @contextmanager
    def _catch_interrupt(self) -> Iterator[None]:
        """The first Ctrl-C asks the loop to stop after the current step; a second one stops at once."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: Any) -> None:
            self._interrupted = True
            signal.signal(signal.SIGINT, previous)

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
            self._interrupted = False

