"""The conditional GAN of Mirza & Osindero (2014) on MNIST: fully connected G and D, given the digit.

    python examples/mnist_cgan.py                         # 30 epochs, batch 64, Adam 2e-4 / beta1 0.5
    python examples/mnist_cgan.py --epochs 1 --limit 12000
    python examples/mnist_cgan.py --resume runs/mnist_cgan/checkpoint.npz --epochs 40

y (one-hot, 10) gets its own hidden layer in G and in D (``--label-units 256``: 256 units in G,
512 in D) beside z's and the image's: ``G([z, y]) = MLP(concat(block(256)(z), block(256)(y)))``
(then Dense 512-1024 with BatchNorm and LeakyReLU 0.2, then Dense(784) -> tanh) and
``D([x, y]) = MLP(concat(block(512)(flatten(x)), block(512)(y)))`` (then Dense 256, LeakyReLU
0.2, Dropout 0.3, Dense(1)). Measured after the default 30 epochs: label accuracy 0.974,
within-class diversity 0.297, FID 18.4 (docs/gan_zoo.md). ``--label-units 0``: y joins z and
the flattened image directly (the form of checkpoints written without a label layer, which it resumes).
Fakes get uniformly random digits. The sample grids show one digit per row (row k: digit k
for ten fixed z). Outputs, options and resume as examples/mnist_dcgan.py (``--help``);
``python -m minigan sample|interpolate CHECKPOINT`` work on its checkpoints.
The recipe (networks, data, defaults) is ``minigan.cli.recipes.RECIPES["mnist_cgan"]``.
"""

from __future__ import annotations

import sys

from minigan.cli import train as cli_args
from minigan.cli.recipes import RECIPES


def main(argv: list[str] | None = None) -> int:
    return cli_args.main(RECIPES["mnist_cgan"], argv)


if __name__ == "__main__":
    sys.exit(main())
