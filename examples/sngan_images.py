"""SNGAN (Miyato et al. 2018): Radford et al.'s DCGAN with a spectrally normalized D and the hinge loss.

    python examples/sngan_images.py                                         # Fashion-MNIST at 32x32, half width
    python examples/sngan_images.py --epochs 3 --eval-every 1               # scored against Fashion-MNIST's test set
    python examples/colour_digits.py runs/colour_digits --count 20000
    python examples/sngan_images.py --data folder runs/colour_digits --size 32

G: Radford et al.'s generator (BatchNorm, ReLU, tanh), as in examples/dcgan_images.py. D: its
discriminator with every Conv2D and the Dense wrapped in ``nn.SpectralNormalization`` (W / sigma(W),
sigma from one power iteration a step) and no BatchNorm; D minimises
``mean relu(1 - D(x)) + mean relu(1 + D(G(z)))``, G ``-mean D(G(z))``. Adam 2e-4, betas (0.5,
0.999), one D update a G update, batch 64 (Miyato et al.'s): Radford's optimizer, so this recipe
and ``dcgan_images.py --data fashion-mnist --size 32 --width 0.5`` differ in D, the loss and the
batch (``dcgan_images.py --spectral-norm --loss hinge --batch-size 64`` is this recipe). Outputs,
options and resume as examples/mnist_dcgan.py (``--help``); the runs measured: docs/gan_zoo.md.
The recipe is ``minigan.cli.recipes.RECIPES["sngan_images"]``.
"""

from __future__ import annotations

import sys

from minigan.cli import train as cli_args
from minigan.cli.recipes import RECIPES


def main(argv: list[str] | None = None) -> int:
    return cli_args.main(RECIPES["sngan_images"], argv)


if __name__ == "__main__":
    sys.exit(main())
