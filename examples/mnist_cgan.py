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
The recipe (networks, data, defaults) is ``minigan.recipes.RECIPES["mnist_cgan"]``.
"""

from __future__ import annotations

import sys

from minigan import cli_args
from minigan.recipes import RECIPES


def main(argv: list[str] | None = None) -> int:
    return cli_args.main(RECIPES["mnist_cgan"], argv)


if __name__ == "__main__":
    sys.exit(main())
