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
The recipe (networks, data, defaults) is ``minigan.cli.recipes.RECIPES["mnist_gan_mlp"]``.
"""

from __future__ import annotations

import sys

from minigan.cli import train as cli_args
from minigan.cli.recipes import RECIPES


def main(argv: list[str] | None = None) -> int:
    return cli_args.main(RECIPES["mnist_gan_mlp"], argv)


if __name__ == "__main__":
    sys.exit(main())
