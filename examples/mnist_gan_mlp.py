"""The GAN of Goodfellow et al. (2014) on MNIST: fully connected G and D.

    python examples/mnist_gan_mlp.py                      # 50 epochs, batch 64, Adam 2e-4 / beta1 0.5
    python examples/mnist_gan_mlp.py --epochs 1 --limit 12000
    python examples/mnist_gan_mlp.py --resume runs/mnist_gan_mlp/checkpoint.npz --epochs 60

G: ``z (100) -> Dense 256 -> BN -> LeakyReLU(0.2) -> Dense 512 -> ... -> Dense 1024 -> ...
-> Dense 784 -> tanh -> Reshape(28, 28, 1)``; D: ``Flatten -> Dense 512 -> LeakyReLU(0.2)
-> Dropout(0.3) -> Dense 256 -> ... -> Dense(1)``. This is the common modern form of the
paper's model (the paper's D used maxout units and G ReLU/sigmoid, trained with SGD and
momentum); ``--no-batch-norm`` drops G's BatchNorm. Outputs, options and resume as
examples/mnist_dcgan.py (``--help``); ``python -m minigan sample|interpolate CHECKPOINT``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from minigan import cli_args, models
from minigan.trainer import TrainConfig


def train_config(options: dict[str, Any]) -> TrainConfig:
    """The fully connected G and D at ``width``."""
    w, latent = options["width"], options["latent_dim"]
    return TrainConfig(
        generator=models.spec("mlp_generator", latent_dim=latent, width=w, batch_norm=options["batch_norm"]),
        discriminator=models.spec("mlp_discriminator", width=w),
        **cli_args.train_config_kwargs(options),
    )


def add_options(add: Any) -> None:
    cli_args.add_mnist_dataset(add)
    add("--batch-norm", "BatchNorm in G's hidden layers (--no-batch-norm: none)", action=argparse.BooleanOptionalAction)


SCRIPT = cli_args.TrainingScript(
    prog="mnist_gan_mlp.py",
    description="Train the fully connected GAN of Goodfellow et al. (2014) on MNIST with minigan.",
    config=train_config,
    data=lambda options: (cli_args.mnist_data(options)[0], None),
    defaults={"dataset": "mnist", "batch_norm": True, "out": "runs/mnist_gan_mlp"},
    add_options=add_options,
)


def main(argv: list[str] | None = None) -> int:
    return SCRIPT.main(argv)


if __name__ == "__main__":
    sys.exit(main())
