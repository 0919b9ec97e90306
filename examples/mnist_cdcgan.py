"""A conditional DCGAN on MNIST: the digit y enters G through its own transposed-convolution
branch and D as label maps beside the image channels.

    python examples/mnist_cdcgan.py                       # 20 epochs, batch 64, Adam 2e-4 / beta1 0.5
    python examples/mnist_cdcgan.py --epochs 1 --limit 12000 --width 0.5
    python examples/mnist_cdcgan.py --resume runs/mnist_cdcgan/checkpoint.npz --epochs 25

G: z and y (one-hot) each go ``Reshape(1, 1, d) -> ConvT(128, 7x7, valid) -> BN -> ReLU`` (7x7
maps), joined to 256 channels, ``-> ConvT(128, 4, s2) -> BN -> ReLU -> ConvT(1, 4, s2) -> tanh``.
D: y becomes 10 constant 28x28 maps concatenated to the image (11 channels),
``-> Conv(64, 4, s2) -> LeakyReLU(0.2) -> Conv(128, 4, s2) -> BN -> LeakyReLU(0.2) -> Dense(1)``.
Weights ~ N(0, 0.02). Sample grids: one digit per row. Outputs, options and resume as
examples/mnist_dcgan.py (``--help``); ``python -m minigan sample|interpolate CHECKPOINT``.
"""

from __future__ import annotations

import sys
from typing import Any

from minigan import cli_args, models
from minigan.trainer import TrainConfig

NUM_CLASSES = 10


def train_config(options: dict[str, Any]) -> TrainConfig:
    """The conditional DCGAN at ``width``, 10 classes; a 10 x 10 sample grid."""
    w, latent = options["width"], options["latent_dim"]
    return TrainConfig(
        generator=models.spec("cdcgan_generator", latent_dim=latent, num_classes=NUM_CLASSES, width=w),
        discriminator=models.spec("cdcgan_discriminator", num_classes=NUM_CLASSES, width=w),
        num_classes=NUM_CLASSES,
        num_samples=10 * NUM_CLASSES,
        **cli_args.train_config_kwargs(options),
    )


SCRIPT = cli_args.TrainingScript(
    prog="mnist_cdcgan.py",
    description="Train a conditional DCGAN (label branch in G, label maps in D) on MNIST with minigan.",
    config=train_config,
    data=cli_args.mnist_data,
    defaults={"epochs": 20, "dataset": "mnist", "out": "runs/mnist_cdcgan"},
    add_options=cli_args.add_mnist_dataset,
)


def main(argv: list[str] | None = None) -> int:
    return SCRIPT.main(argv)


if __name__ == "__main__":
    sys.exit(main())
