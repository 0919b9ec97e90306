"""The conditional GAN of Mirza & Osindero (2014) on MNIST: fully connected G and D, given the digit.

    python examples/mnist_cgan.py                         # 30 epochs, batch 64, Adam 2e-4 / beta1 0.5
    python examples/mnist_cgan.py --epochs 1 --limit 12000
    python examples/mnist_cgan.py --resume runs/mnist_cgan/checkpoint.npz --epochs 40

y (one-hot, 10) enters G beside z: ``G([z, y]) = MLP(concat(z, y))`` (Dense 256-512-1024 with
BatchNorm and LeakyReLU 0.2, then Dense(784) -> tanh), and D beside the flattened image:
``D([x, y]) = MLP(concat(flatten(x), y))`` (Dense 512-256, LeakyReLU 0.2, Dropout 0.3, Dense(1)).
Fakes get uniformly random digits. The sample grids show one digit per row (row k: digit k
for ten fixed z). Outputs, options and resume as examples/mnist_dcgan.py (``--help``);
``python -m minigan sample|interpolate CHECKPOINT`` work on its checkpoints.
"""

from __future__ import annotations

import sys
from typing import Any

from minigan import cli_args, models
from minigan.trainer import TrainConfig

NUM_CLASSES = 10


def train_config(options: dict[str, Any]) -> TrainConfig:
    """The cGAN's networks at ``width``, conditioned on 10 classes; a 10 x 10 sample grid."""
    w, latent = options["width"], options["latent_dim"]
    return TrainConfig(
        generator=models.spec("mlp_generator", latent_dim=latent, width=w, num_classes=NUM_CLASSES),
        discriminator=models.spec("mlp_discriminator", width=w, num_classes=NUM_CLASSES),
        num_classes=NUM_CLASSES,
        num_samples=10 * NUM_CLASSES,
        **cli_args.train_config_kwargs(options),
    )


SCRIPT = cli_args.TrainingScript(
    prog="mnist_cgan.py",
    description="Train a conditional GAN (fully connected, Mirza & Osindero 2014) on MNIST with minigan.",
    config=train_config,
    data=cli_args.mnist_data,
    defaults={"epochs": 30, "dataset": "mnist", "out": "runs/mnist_cgan"},
    add_options=cli_args.add_mnist_dataset,
)


def main(argv: list[str] | None = None) -> int:
    return SCRIPT.main(argv)


if __name__ == "__main__":
    sys.exit(main())
