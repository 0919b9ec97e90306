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

import sys
from typing import Any

from minigan import cli_args, models
from minigan.trainer import TrainConfig

#: The presets; the first, the tutorial's own settings, is the default.
PRESETS: dict[str, dict[str, Any]] = {
    "tutorial": {},
    # Radford et al.'s optimiser settings; 2 epochs of 60,000 images (1,874 steps), ~8 min on 2 idle CPU cores.
    "fast": {"batch_size": 64, "lr": 2e-4, "beta1": 0.5, "epochs": 2, "out": "runs/mnist_dcgan_fast"},
}


def train_config(options: dict[str, Any]) -> TrainConfig:
    """The trainer's configuration for these options (the tutorial's networks at ``width``)."""
    return TrainConfig(
        generator=models.spec("dcgan_generator", latent_dim=options["latent_dim"], width=options["width"]),
        discriminator=models.spec("dcgan_discriminator", width=options["width"]),
        **cli_args.train_config_kwargs(options),
    )


def load_images(options: dict[str, Any]) -> Any:
    """The training images (N, 28, 28, 1) in [-1, 1], the first ``limit`` of them if set."""
    images, _ = cli_args.mnist_data(options)
    return images


SCRIPT = cli_args.TrainingScript(
    prog="mnist_dcgan.py",
    description="Train the TensorFlow tutorial's DCGAN on MNIST with minigan.",
    config=train_config,
    data=lambda options: (load_images(options), None),  # unconditional: no labels
    # The tutorial's settings: batch 256, Adam 1e-4 with beta1 0.9.
    defaults={"batch_size": 256, "lr": 1e-4, "beta1": 0.9, "dataset": "mnist", "out": "runs/mnist_dcgan"},
    presets=PRESETS,
    add_options=cli_args.add_mnist_dataset,
)
DEFAULTS = SCRIPT.all_defaults
build_parser = SCRIPT.build_parser
resolve = SCRIPT.resolve


def main(argv: list[str] | None = None) -> int:
    return SCRIPT.main(argv)


if __name__ == "__main__":
    sys.exit(main())
