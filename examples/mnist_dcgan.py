"""The DCGAN of the TensorFlow DCGAN tutorial, trained on MNIST with minigan's own layers.

    python examples/mnist_dcgan.py                      # the tutorial: 50 epochs, batch 256, Adam 1e-4
    python examples/mnist_dcgan.py --preset fast        # batch 64, Adam 2e-4 / beta1 0.5, a short run
    python examples/mnist_dcgan.py --resume runs/mnist_dcgan/checkpoint.npz --epochs 10

Writes into ``--out``: ``samples/epoch_NNN.png`` (G on one fixed noise batch, inference
mode), ``samples.gif``, ``losses.png``, ``history.csv`` and ``checkpoint.npz``. Ctrl-C
writes a checkpoint; ``--resume`` continues exactly (bit-identical on the CPU).
Sample from a checkpoint with ``python -m minigan sample CHECKPOINT -n 64 --out grid.png``.
Options: ``--help``; the model, the step and the outputs: docs/training.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from minigan import backend, checkpoint, models
from minigan.gan import Diverged, TrainConfig, Trainer, build_gan

#: The tutorial's settings (``--preset tutorial``), the defaults of every option.
DEFAULTS: dict[str, Any] = {
    "epochs": 50,
    "batch_size": 256,
    "lr": 1e-4,
    "lr_d": None,
    "lr_g": None,
    "beta1": 0.9,
    "beta2": 0.999,
    "latent_dim": 100,
    "width": 1.0,
    "d_steps": 1,
    "g_steps": 1,
    "loss": "non-saturating",
    "label_smoothing": 0.0,
    "dataset": "mnist",
    "data_dir": None,
    "limit": None,
    "seed": 0,
    "backend": "numpy",
    "out": "runs/mnist_dcgan",
    "sample_every": 1,
    "checkpoint_every": 0,
    "log_every": None,
}

#: Presets: values that replace the defaults; explicit flags replace both.
PRESETS: dict[str, dict[str, Any]] = {
    "tutorial": {},
    # Radford et al.'s optimiser settings; 2 epochs of 60,000 images (1,874 steps), ~11 min on 2 idle CPU cores.
    "fast": {"batch_size": 64, "lr": 2e-4, "beta1": 0.5, "epochs": 2, "out": "runs/mnist_dcgan_fast"},
}

#: Options that are a property of this machine or invocation, not of the run: never taken from a checkpoint.
LOCAL_OPTIONS = ("data_dir", "out", "backend")


def _number(kind: type, low: float, low_open: bool = False, high: float | None = None) -> Any:
    """An argparse type: ``kind`` in [low, high) (or (low, high) when ``low_open``)."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind.__name__}, got {text!r}") from None
        too_low = value <= low if low_open else value < low
        if too_low or (high is not None and value >= high):
            bounds = f"{'>' if low_open else '>='} {low}" + (f" and < {high}" if high is not None else "")
            raise argparse.ArgumentTypeError(f"expected a value {bounds}, got {text!r}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The command line; every option's default is shown, with the fast preset's where it differs."""
    parser = argparse.ArgumentParser(
        prog="mnist_dcgan.py",
        description="Train the TensorFlow tutorial's DCGAN on MNIST with minigan.",
        argument_default=argparse.SUPPRESS,  # only the flags given appear: they override presets
    )

    def add(flag: str, help: str, **kwargs: Any) -> None:
        dest = flag.lstrip("-").replace("-", "_")
        fast = PRESETS["fast"].get(dest)
        shown = f"default: {DEFAULTS[dest]}" + (f"; fast preset: {fast}" if fast is not None else "")
        parser.add_argument(flag, help=help if "(default" in help else f"{help} ({shown})", **kwargs)

    positive_int, positive = _number(int, 1), _number(float, 0, low_open=True)
    parser.add_argument(
        "--preset", choices=sorted(PRESETS),
        help="tutorial (default): the tutorial's settings; fast: batch 64, Adam 2e-4, beta1 0.5, "
             f"{PRESETS['fast']['epochs']} epochs",
    )
    add("--epochs", "epochs to train (on --resume: the total, including those done)", type=positive_int)
    add("--batch-size", "images per batch", type=positive_int)
    add("--lr", "Adam learning rate of both networks", type=positive)
    add("--lr-d", "discriminator learning rate (default: --lr)", type=positive)
    add("--lr-g", "generator learning rate (default: --lr)", type=positive)
    add("--beta1", "Adam beta_1", type=_number(float, 0, high=1))
    add("--beta2", "Adam beta_2", type=_number(float, 0, high=1))
    add("--latent-dim", "size of the noise vector z ~ N(0, 1)", type=positive_int)
    add("--width", "multiplier of every hidden channel count (1 = the tutorial's model)", type=positive)
    add("--d-steps", "discriminator updates per step (each on its own real batch)", type=positive_int)
    add("--g-steps", "generator updates per step", type=positive_int)
    add("--loss", "generator loss", choices=["non-saturating", "minimax"])
    add("--label-smoothing", "one-sided: real targets are 1 - s", type=_number(float, 0, high=1))
    add("--dataset", "training images", choices=["mnist", "fashion-mnist"])
    add("--data-dir", "folder with the dataset files (default: $MINIGAN_DATA or ~/.cache/minigan)")
    add("--limit", "train on the first N images only", type=positive_int)
    add("--seed", "seed of weights, noise, dropout and batch order", type=_number(int, 0))
    add("--backend", "array backend", choices=["numpy", "cupy"])
    add("--out", "output folder (on --resume: the checkpoint's folder)")
    parser.add_argument("--resume", metavar="CHECKPOINT",
                        help="continue from this checkpoint: its settings, overridden by the flags given")
    add("--sample-every", "write a sample grid every N epochs", type=positive_int)
    add("--checkpoint-every", "also checkpoint every N steps (0: at epoch ends only)", type=_number(int, 0))
    add("--log-every", "read losses from the device every N steps (default: 1 on numpy, 50 on cupy)",
        type=positive_int)
    parser.add_argument("--no-progress", action="store_true", default=False, help="no progress bar")
    return parser


def resolve(args: argparse.Namespace, stored: dict[str, Any] | None) -> dict[str, Any]:
    """The run's options: defaults < checkpoint's options < --preset < explicit flags."""
    given = {k: v for k, v in vars(args).items() if k in DEFAULTS}
    options = dict(DEFAULTS)
    if stored is not None:
        options.update({k: v for k, v in stored.items() if k in DEFAULTS and k not in LOCAL_OPTIONS})
        if "out" not in given:
            options["out"] = str(Path(args.resume).parent)
    preset = getattr(args, "preset", None) or ("tutorial" if stored is None else None)
    if preset is not None:
        options.update({k: v for k, v in PRESETS[preset].items() if stored is None or k != "out"})
    options.update(given)
    return options


def train_config(options: dict[str, Any]) -> TrainConfig:
    """The trainer's configuration for these options (the tutorial's networks at ``width``)."""
    lr = options["lr"]
    return TrainConfig(
        generator=models.spec("dcgan_generator", latent_dim=options["latent_dim"], width=options["width"]),
        discriminator=models.spec("dcgan_discriminator", width=options["width"]),
        options={k: v for k, v in options.items() if k not in LOCAL_OPTIONS},
        epochs=options["epochs"],
        batch_size=options["batch_size"],
        lr_g=options["lr_g"] or lr,
        lr_d=options["lr_d"] or lr,
        beta1=options["beta1"],
        beta2=options["beta2"],
        latent_dim=options["latent_dim"],
        d_steps=options["d_steps"],
        g_steps=options["g_steps"],
        loss=options["loss"],
        label_smoothing=options["label_smoothing"],
        seed=options["seed"],
        sample_every=options["sample_every"],
        checkpoint_every=options["checkpoint_every"],
        log_every=options["log_every"],
    )


def load_images(options: dict[str, Any]) -> Any:
    """The training images (N, 28, 28, 1) in [-1, 1], the first ``limit`` of them if set."""
    from minigan.data import load_fashion_mnist, load_mnist

    loader = load_mnist if options["dataset"] == "mnist" else load_fashion_mnist
    images, _ = loader("train", root=options["data_dir"])
    return images[: options["limit"]] if options["limit"] else images


def fail(message: str, code: int = 2) -> int:
    print(f"mnist_dcgan.py: error: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    stored_ckpt = None
    if getattr(args, "resume", None):
        try:
            stored_ckpt = checkpoint.load(args.resume)
        except checkpoint.CheckpointError as exc:
            return fail(str(exc))
    options = resolve(args, stored_ckpt.meta["config"].get("options", {}) if stored_ckpt else None)
    if options["data_dir"] is not None and not os.path.isdir(options["data_dir"]):
        parser.error(f"argument --data-dir: no such folder: {options['data_dir']!r}")
    try:
        backend.set_backend(options["backend"])
        config = train_config(options)
        images = load_images(options)
        trainer = Trainer(build_gan(config), images, config, out_dir=options["out"], progress=not args.no_progress)
        if stored_ckpt is not None:
            trainer.load_checkpoint(stored_ckpt)
    except (ValueError, OSError, backend.BackendError) as exc:  # DataError and CheckpointError are ValueErrors
        return fail(str(exc))

    gan = trainer.gan
    print(
        f"{options['dataset']}: {len(images)} images; G {gan.generator.count_params():,} trainable parameters, "
        f"D {gan.discriminator.count_params():,}; batch {config.batch_size}, Adam lr G {config.lr_g:g} "
        f"D {config.lr_d:g} beta1 {config.beta1:g}; {config.epochs} epochs of {trainer.steps_per_epoch} steps"
        + (f"; resuming at step {trainer.step}" if stored_ckpt is not None else "")
        + f"; writing to {options['out']}"
    )
    try:
        trainer.fit()
    except Diverged as exc:
        return fail(str(exc), code=1)
    except KeyboardInterrupt:
        where = trainer.checkpoint_path
        if trainer.saved_step is None:
            print(f"\ninterrupted at step {trainer.step}; no checkpoint was written")
        else:
            print(f"\ninterrupted; checkpoint of step {trainer.saved_step} in {where}; continue with --resume {where}")
        return 130
    print(f"done: {trainer.step} steps; samples, samples.gif, losses.png, history.csv, checkpoint.npz in "
          f"{options['out']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
