"""The DCGAN of Radford et al. (2016): CIFAR-10, SVHN, a folder of photos, or MNIST / Fashion-MNIST resized.

    python examples/dcgan_images.py --data svhn --size 32               # the 4-layer DCGAN of the reports
    python examples/dcgan_images.py --data cifar10 --size 32
    python examples/dcgan_images.py --data mnist --size 32 --epochs 5   # one channel, 28x28 resized to 32x32
    python examples/dcgan_images.py --data fashion-mnist --size 64 --epochs 5 --out runs/radford_fashion64
    python examples/dcgan_images.py --data folder ~/celeba/img_align_celeba --size 64 --cache faces64.npy
    python examples/dcgan_images.py --resume runs/dcgan_images/checkpoint.npz --epochs 30

G: ``z (100) -> Dense(4*4*8c, no bias) -> BN -> ReLU -> Reshape(4, 4, 8c) -> ConvT(4c, 4, s2)
-> BN -> ReLU -> ConvT(2c) -> BN -> ReLU -> [64: ConvT(c) -> BN -> ReLU] -> ConvT(C, s2) -> tanh``
(C = 3, or 1 for MNIST and Fashion-MNIST, whose 28x28 images are resized to ``--size`` by
:func:`minigan.data.resize_images`);
D mirrors it with ``Conv2D(s2) -> [BN] -> LeakyReLU(0.2)`` (no BN on the first) and
``Flatten -> Dense(1)``; c = 64 x ``--width``; weights ~ N(0, 0.02); Adam 2e-4, beta1 0.5,
batch 128. ``--label-smoothing 0.1`` gives one-sided label smoothing. A folder is read
lazily, one batch at a time (each image resized and centre-cropped to ``--size``), or decoded
once into ``--cache``. ``--eval-every N`` scores an MNIST or Fashion-MNIST run with the MNIST
classifier, its samples resized back to 28x28 (FID against the dataset's own test images), as
``python -m minigan evaluate runs/dcgan_images/checkpoint.npz`` does. Outputs, options and
resume as examples/mnist_dcgan.py (``--help``).
The recipe (networks, data, defaults) is ``minigan.cli.recipes.RECIPES["dcgan_images"]``.
"""

from __future__ import annotations

import sys

from minigan.cli import train as cli_args
from minigan.cli.recipes import RECIPES


def main(argv: list[str] | None = None) -> int:
    return cli_args.main(RECIPES["dcgan_images"], argv)


if __name__ == "__main__":
    sys.exit(main())
