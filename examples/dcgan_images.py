"""The DCGAN of Radford et al. (2016) on colour images: CIFAR-10, SVHN or a folder of photos.

    python examples/dcgan_images.py --data svhn --size 32               # the 4-layer DCGAN of the reports
    python examples/dcgan_images.py --data cifar10 --size 32
    python examples/dcgan_images.py --data folder ~/celeba/img_align_celeba --size 64 --cache faces64.npy
    python examples/dcgan_images.py --resume runs/dcgan_images/checkpoint.npz --epochs 30

G: ``z (100) -> Dense(4*4*8c, no bias) -> BN -> ReLU -> Reshape(4, 4, 8c) -> ConvT(4c, 4, s2)
-> BN -> ReLU -> ConvT(2c) -> BN -> ReLU -> [64: ConvT(c) -> BN -> ReLU] -> ConvT(3, s2) -> tanh``;
D mirrors it with ``Conv2D(s2) -> [BN] -> LeakyReLU(0.2)`` (no BN on the first) and
``Flatten -> Dense(1)``; c = 64 x ``--width``; weights ~ N(0, 0.02); Adam 2e-4, beta1 0.5,
batch 128. ``--label-smoothing 0.1`` gives one-sided label smoothing. A folder is read
lazily, one batch at a time (each image resized and centre-cropped to ``--size``), or decoded
once into ``--cache``. Outputs, options and resume as examples/mnist_dcgan.py (``--help``).
"""

from __future__ import annotations

import sys
from typing import Any

from minigan import cli_args, models
from minigan.trainer import TrainConfig

SOURCES = ("cifar10", "svhn", "folder")


def data_source(options: dict[str, Any]) -> tuple[str, str | None]:
    """``--data`` as (name, folder path or None); a ValueError for anything else."""
    data = options["data"]
    data = [data] if isinstance(data, str) else list(data)
    if not data or data[0] not in SOURCES:
        raise ValueError(f"--data: expected one of {', '.join(SOURCES)}, got {' '.join(map(str, data))!r}")
    if (data[0] == "folder") != (len(data) == 2) or len(data) > 2:
        raise ValueError(f"--data: expected 'cifar10', 'svhn' or 'folder PATH', got {' '.join(map(str, data))!r}")
    return data[0], data[1] if len(data) == 2 else None


def train_config(options: dict[str, Any]) -> TrainConfig:
    """Radford et al.'s G and D for ``--size`` x ``--size`` RGB images at ``width``."""
    name, _ = data_source(options)
    size = options["size"]
    if name != "folder" and size != 32:
        raise ValueError(f"--size: {name} images are 32x32, expected --size 32, got {size}")
    shape = (size, size, 3)
    kw = dict(width=options["width"], kernel_size=options["kernel_size"])
    return TrainConfig(
        generator=models.spec("radford_generator", latent_dim=options["latent_dim"], image_shape=shape, **kw),
        discriminator=models.spec("radford_discriminator", image_shape=shape, **kw),
        **cli_args.train_config_kwargs(options),
    )


def load_images(options: dict[str, Any]) -> tuple[Any, None]:
    """The training images: an array (CIFAR-10, SVHN) or a lazy :class:`~minigan.data.ImageFolder`."""
    from minigan.data import ImageFolder, load_cifar10, load_svhn

    name, path = data_source(options)
    limit = options["limit"]
    if name == "folder":
        if limit and options["cache"] is not None:
            raise ValueError("--limit: not available with --cache (the cache holds the whole folder)")
        folder = ImageFolder(path, size=options["size"], cache=options["cache"])
        if limit:
            folder.paths = folder.paths[:limit]  # the first N files in sorted path order
        return folder, None
    images, _ = (load_cifar10 if name == "cifar10" else load_svhn)("train", root=options["data_dir"])
    return (images[:limit] if limit else images), None


def add_options(add: Any) -> None:
    add("--data", "training images: cifar10, svhn or folder PATH", nargs="+", metavar="NAME [PATH]")
    add("--size", "image height and width (cifar10 and svhn: 32)", type=int, choices=[32, 64])
    add("--kernel-size", "kernel size of every (transposed) convolution", type=int, choices=[4, 5])
    add("--cache", "folder mode: decode the images once into this .npy file (uint8) and memory-map it")


SCRIPT = cli_args.TrainingScript(
    prog="dcgan_images.py",
    description="Train the DCGAN of Radford et al. on CIFAR-10, SVHN or a folder of images with minigan.",
    config=train_config,
    data=load_images,
    defaults={"epochs": 25, "batch_size": 128, "data": "svhn", "size": 32, "kernel_size": 4, "cache": None,
              "out": "runs/dcgan_images"},
    add_options=add_options,
)


def main(argv: list[str] | None = None) -> int:
    return SCRIPT.main(argv)


if __name__ == "__main__":
    sys.exit(main())
