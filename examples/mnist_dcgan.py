"""The DCGAN of the TensorFlow DCGAN tutorial, trained on MNIST with minigan's own layers.

    python examples/mnist_dcgan.py                      # the tutorial: 50 epochs, batch 256, Adam 1e-4
    python examples/mnist_dcgan.py --preset fast        # batch 64, Adam 2e-4 / beta1 0.5, a short run
    python examples/mnist_dcgan.py --resume runs/mnist_dcgan/checkpoint.npz --epochs 10

Writes into ``--out``: ``samples/epoch_NNN.png`` (G on one fixed noise batch, inference
mode), ``samples.gif``, ``losses.png``, ``history.csv`` and ``checkpoint.npz``. Ctrl-C
writes a checkpoint; ``--resume`` continues exactly (bit-identical on the CPU).
Sample from a checkpoint with ``python -m minigan sample CHECKPOINT -n 64 --out grid.png``.
Options: ``--help``; the model, the step and the outputs: docs/training.md. The recipe
(networks, data, defaults, presets) is ``minigan.cli.recipes.RECIPES["mnist_dcgan"]``.
"""

from __future__ import annotations

import sys

from minigan.cli import train as cli_args
from minigan.cli.recipes import RECIPES


def main(argv: list[str] | None = None) -> int:
    return cli_args.main(RECIPES["mnist_dcgan"], argv)


if __name__ == "__main__":
    sys.exit(main())
