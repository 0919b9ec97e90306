"""WGAN-GP (Gulrajani et al. 2017) on MNIST: a Wasserstein critic kept 1-Lipschitz by a gradient penalty.

    python examples/mnist_wgan_gp.py --eval-every 1                # the paper's setting, 10 epochs, scored each
    python examples/mnist_wgan_gp.py --preset fast --eval-every 1  # Adam 2e-4, samples from an average of G
    python examples/mnist_wgan_gp.py --resume runs/mnist_wgan_gp/checkpoint.npz --epochs 20

G: the TensorFlow tutorial's DCGAN generator; the critic D: its discriminator without Dropout
(``Conv2D(64, 5, s2) -> LeakyReLU -> Conv2D(128, 5, s2) -> LeakyReLU -> Flatten -> Dense(1)``),
no BatchNorm and no sigmoid. Each step: 5 critic updates (``--d-steps 5``), each on its own
real batch of 50, minimising ``mean D(G(z)) - mean D(x) + lambda mean (||grad D(x^)|| - 1)^2``
with x^ random interpolates of real and fake images and lambda 10 (``--gp-weight``); then one
generator update minimising ``-mean D(G(z))``; Adam 1e-4, betas (0.5, 0.9) (``--preset fast``:
2e-4, and samples, scores and checkpoints from an average of G's weights, ``--ema 0.99``).
D(x) and D(G(z)) in the history are the critic's raw mean outputs. Outputs, options and resume
as examples/mnist_dcgan.py (``--help``); the penalty: docs/losses.md; the runs measured:
docs/gan_zoo.md. The recipe is ``minigan.cli.recipes.RECIPES["mnist_wgan_gp"]``.
"""

from __future__ import annotations

import sys

from minigan.cli import train as cli_args
from minigan.cli.recipes import RECIPES


def main(argv: list[str] | None = None) -> int:
    return cli_args.main(RECIPES["mnist_wgan_gp"], argv)


if __name__ == "__main__":
    sys.exit(main())
