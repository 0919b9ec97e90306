"""A conditional DCGAN on MNIST: the digit y enters G through its own transposed-convolution
branch and D as label maps beside the image channels.

    python examples/mnist_cdcgan.py                       # 10 epochs, batch 64, Adam 2e-4 / beta1 0.5, lr step decay
    python examples/mnist_cdcgan.py --epochs 1 --limit 12000 --width 0.5
    python examples/mnist_cdcgan.py --resume runs/mnist_cdcgan/checkpoint.npz --epochs 25

G: z and y (one-hot) each go ``Reshape(1, 1, d) -> ConvT(128, 7x7, valid) -> BN -> ReLU`` (7x7
maps), joined to 256 channels, ``-> ConvT(128, 4, s2) -> BN -> ReLU -> ConvT(1, 4, s2) -> tanh``.
D: y becomes 10 constant 28x28 maps concatenated to the image (11 channels),
``-> Conv(64, 4, s2) -> LeakyReLU(0.2) -> Conv(128, 4, s2) -> BN -> LeakyReLU(0.2) -> Dense(1)``.
Weights ~ N(0, 0.02). Sample grids: one digit per row. Outputs, options and resume as
examples/mnist_dcgan.py (``--help``); ``python -m minigan sample|interpolate CHECKPOINT``.
The recipe (networks, data, defaults) is ``minigan.cli.recipes.RECIPES["mnist_cdcgan"]``.
"""

from __future__ import annotations

import sys

from minigan.cli import train as cli_args
from minigan.cli.recipes import RECIPES


def main(argv: list[str] | None = None) -> int:
    return cli_args.main(RECIPES["mnist_cdcgan"], argv)


if __name__ == "__main__":
    sys.exit(main())
