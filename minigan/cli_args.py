"""The command line shared by the training examples: common options, presets, resume and the run.

An example describes itself as a :class:`TrainingScript` (its defaults, presets, how options
become a :class:`~minigan.trainer.TrainConfig` and how its data is loaded) and calls
:meth:`TrainingScript.main`. Every script then has the same options (``--epochs``,
``--batch-size``, ``--lr``, ... ``--resume``), the same outputs (sample grids, GIF, loss
figure, CSV, checkpoints) and the same errors. Where an option comes from, lowest first:
:data:`COMMON_DEFAULTS` < the script's defaults < a resumed checkpoint's options <
``--preset`` < the flags given.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minigan import backend, checkpoint
from minigan.trainer import Diverged, TrainConfig, Trainer, build_gan

#: The options every training script has, and their defaults (a script may change them).
COMMON_DEFAULTS: dict[str, Any] = {
    "epochs": 50,
    "batch_size": 64,
    "lr": 2e-4,
    "lr_d": None,
    "lr_g": None,
    "beta1": 0.5,
    "beta2": 0.999,
    "latent_dim": 100,
    "width": 1.0,
    "d_steps": 1,
    "g_steps": 1,
    "loss": "non-saturating",
    "label_smoothing": 0.0,
    "data_dir": None,
    "limit": None,
    "seed": 0,
    "backend": os.environ.get("MINIGAN_BACKEND", "").strip().lower() or "numpy",
    "out": "runs/gan",
    "sample_every": 1,
    "checkpoint_every": 0,
    "log_every": None,
    "eval_every": 0,
    "eval_samples": 2000,
}

#: Options that are a property of this machine or invocation, not of the run: never taken from a checkpoint.
LOCAL_OPTIONS = ("data_dir", "out", "backend")

#: A function that adds a script's own options: ``add_options(add)`` with ``add(flag, help, **kwargs)``.
AddOptions = Callable[[Callable[..., None]], None]


class BadValue(argparse.ArgumentTypeError, ValueError):
    """A bad option value: argparse prints its message; outside argparse it is a ValueError."""


def number(kind: type, low: float, low_open: bool = False, high: float | None = None) -> Any:
    """An option type: ``kind`` in [low, high) (or (low, high) when ``low_open``), else :class:`BadValue`."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise BadValue(f"expected {kind.__name__}, got {text!r}") from None
        too_low = value <= low if low_open else value < low
        if too_low or (high is not None and value >= high):
            bounds = f"{'>' if low_open else '>='} {low}" + (f" and < {high}" if high is not None else "")
            raise BadValue(f"expected a value {bounds}, got {text!r}")
        return value

    return parse


POSITIVE_INT = number(int, 1)
POSITIVE = number(float, 0, low_open=True)


def train_config_kwargs(options: dict[str, Any]) -> dict[str, Any]:
    """The :class:`TrainConfig` fields that follow from the common options (all but the networks
    and ``num_classes``); ``options`` minus :data:`LOCAL_OPTIONS` is stored for resuming."""
    lr = options["lr"]
    names = ("epochs", "batch_size", "beta1", "beta2", "latent_dim", "d_steps", "g_steps", "loss",
             "label_smoothing", "seed", "sample_every", "checkpoint_every", "log_every", "eval_every", "eval_samples")
    return {
        "options": {k: v for k, v in options.items() if k not in LOCAL_OPTIONS},
        "lr_g": options["lr_g"] or lr,
        "lr_d": options["lr_d"] or lr,
        **{name: options[name] for name in names},
    }


@dataclass
class TrainingScript:
    """A training example: its name, options and how it builds its run.

    ``defaults``: values replacing :data:`COMMON_DEFAULTS` (and the script's own options'
    defaults); ``presets``: named sets of values (the first is the default preset);
    ``config(options) -> TrainConfig``; ``data(options) -> (images, labels or None)``;
    ``add_options``: the script's own options (see :data:`AddOptions`).
    """

    prog: str
    description: str
    config: Callable[[dict[str, Any]], TrainConfig]
    data: Callable[[dict[str, Any]], tuple[Any, Any]]
    defaults: dict[str, Any] = field(default_factory=dict)
    presets: dict[str, dict[str, Any]] = field(default_factory=lambda: {"default": {}})
    add_options: AddOptions | None = None

    @property
    def all_defaults(self) -> dict[str, Any]:
        return {**COMMON_DEFAULTS, **self.defaults}

    def build_parser(self) -> argparse.ArgumentParser:
        """The command line; each option's help shows its default (and the presets' values)."""
        parser = argparse.ArgumentParser(
            prog=self.prog, description=self.description,
            argument_default=argparse.SUPPRESS,  # only the flags given appear: they override presets
        )
        defaults = self.all_defaults

        def add(flag: str, help: str, **kwargs: Any) -> None:
            dest = kwargs.get("dest") or flag.lstrip("-").replace("-", "_")
            shown = [f"default: {defaults.get(dest)}"]
            shown += [f"{name} preset: {p[dest]}" for name, p in self.presets.items() if dest in p]
            parser.add_argument(flag, help=help if "(default" in help else f"{help} ({'; '.join(shown)})", **kwargs)

        if len(self.presets) > 1:
            described = "; ".join(
                f"{name}: " + (", ".join(f"{k}={v}" for k, v in p.items()) or "the defaults")
                for name, p in self.presets.items()
            )
            parser.add_argument("--preset", choices=list(self.presets), help=f"named settings ({described})")
        add("--epochs", "epochs to train (on --resume: the total, including those done)", type=POSITIVE_INT)
        add("--batch-size", "images per batch", type=POSITIVE_INT)
        add("--lr", "Adam learning rate of both networks", type=POSITIVE)
        add("--lr-d", "discriminator learning rate (default: --lr)", type=POSITIVE)
        add("--lr-g", "generator learning rate (default: --lr)", type=POSITIVE)
        add("--beta1", "Adam beta_1", type=number(float, 0, high=1))
        add("--beta2", "Adam beta_2", type=number(float, 0, high=1))
        add("--latent-dim", "size of the noise vector z ~ N(0, 1)", type=POSITIVE_INT)
        add("--width", "multiplier of every hidden layer size (1 = the full model)", type=POSITIVE)
        add("--d-steps", "discriminator updates per step (each on its own real batch)", type=POSITIVE_INT)
        add("--g-steps", "generator updates per step", type=POSITIVE_INT)
        add("--loss", "generator loss", choices=["non-saturating", "minimax"])
        add("--label-smoothing", "one-sided: real targets are 1 - s", type=number(float, 0, high=1))
        if self.add_options is not None:
            self.add_options(add)
        add("--data-dir", "folder with the dataset files (default: $MINIGAN_DATA or ~/.cache/minigan)")
        add("--limit", "train on the first N images only", type=POSITIVE_INT)
        add("--seed", "seed of weights, noise, labels, dropout and batch order", type=number(int, 0))
        add("--backend", "array backend", choices=["numpy", "cupy"])
        add("--out", "output folder (on --resume: the checkpoint's folder)")
        parser.add_argument("--resume", metavar="CHECKPOINT",
                            help="continue from this checkpoint: its settings, overridden by the flags given")
        add("--sample-every", "write a sample grid every N epochs", type=POSITIVE_INT)
        add("--checkpoint-every", "also checkpoint every N steps (0: at epoch ends only)", type=number(int, 0))
        add("--log-every", "read losses from the device every N steps (default: 1 on numpy, 50 on cupy)",
            type=POSITIVE_INT)
        add("--eval-every", "every N epochs, score samples with minigan's MNIST classifier: FID, Inception Score "
            "(0: never; needs python -m minigan train-classifier once)", type=number(int, 0))
        add("--eval-samples", "samples scored by --eval-every", type=number(int, 2))
        parser.add_argument("--no-progress", action="store_true", default=False, help="no progress bar")
        return parser

    def resolve(self, args: argparse.Namespace, stored: dict[str, Any] | None) -> dict[str, Any]:
        """The run's options: defaults < checkpoint's options < --preset < explicit flags."""
        defaults = self.all_defaults
        given = {k: v for k, v in vars(args).items() if k in defaults}
        options = dict(defaults)
        if stored is not None:
            options.update({k: v for k, v in stored.items() if k in defaults and k not in LOCAL_OPTIONS})
            if "out" not in given:
                options["out"] = str(Path(args.resume).parent)
        preset = getattr(args, "preset", None) or (next(iter(self.presets)) if stored is None else None)
        if preset is not None:
            options.update({k: v for k, v in self.presets[preset].items() if stored is None or k != "out"})
        options.update(given)
        return options

    def fail(self, message: str, code: int = 2) -> int:
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        return code

    def main(self, argv: list[str] | None = None) -> int:
        """Parse ``argv``, build (or resume) the run, train it; returns the exit code
        (0 done, 1 diverged, 2 bad input, 130 interrupted)."""
        parser = self.build_parser()
        args = parser.parse_args(argv)
        stored_ckpt = None
        if getattr(args, "resume", None):
            try:
                stored_ckpt = checkpoint.load(args.resume)
            except checkpoint.CheckpointError as exc:
                return self.fail(str(exc))
        options = self.resolve(args, stored_ckpt.meta["config"].get("options", {}) if stored_ckpt else None)
        if options["data_dir"] is not None and not os.path.isdir(options["data_dir"]):
            parser.error(f"argument --data-dir: no such folder: {options['data_dir']!r}")
        try:
            backend.set_backend(options["backend"])
            config = self.config(options)
            images, labels = self.data(options)
            trainer = Trainer(build_gan(config), images, config, out_dir=options["out"],
                              progress=not args.no_progress, labels=labels)
            if stored_ckpt is not None:
                trainer.load_checkpoint(stored_ckpt)
        except (ValueError, OSError, backend.BackendError) as exc:  # DataError, CheckpointError: ValueErrors
            return self.fail(str(exc))

        gan = trainer.gan
        print(
            f"{len(images)} images{'' if labels is None else f' of {config.num_classes} classes'}; "
            f"G {gan.generator.count_params():,} trainable parameters, D {gan.discriminator.count_params():,}; "
            f"batch {config.batch_size}, Adam lr G {config.lr_g:g} D {config.lr_d:g} beta1 {config.beta1:g}; "
            f"{config.epochs} epochs of {trainer.steps_per_epoch} steps"
            + (f"; resuming at step {trainer.step}" if stored_ckpt is not None else "")
            + f"; writing to {options['out']}"
        )
        try:
            trainer.fit()
        except Diverged as exc:
            return self.fail(str(exc), code=1)
        except KeyboardInterrupt:
            where = trainer.checkpoint_path
            if trainer.saved_step is None:
                print(f"\ninterrupted at step {trainer.step}; no checkpoint was written")
            else:
                print(f"\ninterrupted; checkpoint of step {trainer.saved_step} in {where}; "
                      f"continue with --resume {where}")
            return 130
        quality = ", quality.csv" if trainer.quality else ""
        print(f"done: {trainer.step} steps; samples, samples.gif, losses.png, history.csv{quality}, checkpoint.npz "
              f"in {options['out']}")
        return 0


def add_mnist_dataset(add: Callable[..., None]) -> None:
    """The ``--dataset mnist|fashion-mnist`` option of the MNIST-sized scripts (default in their ``defaults``)."""
    add("--dataset", "training images", choices=["mnist", "fashion-mnist"])


def mnist_data(options: dict[str, Any]) -> tuple[Any, Any]:
    """The training split of ``options["dataset"]``: images (N, 28, 28, 1) in [-1, 1] and int64
    labels, the first ``options["limit"]`` of them if set."""
    from minigan.data import load_fashion_mnist, load_mnist

    loader = load_mnist if options["dataset"] == "mnist" else load_fashion_mnist
    images, labels = loader("train", root=options["data_dir"])
    limit = options["limit"]
    return (images[:limit], labels[:limit]) if limit else (images, labels)
