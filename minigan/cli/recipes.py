"""Recipes: what each example trains (networks, data, its own settings and defaults), importable.

A :class:`Recipe` turns a flat dict of option values into a :class:`~minigan.training.config.TrainConfig`
and the training data; :func:`minigan.cli.train.main` gives it a command line. The scripts in
``examples/`` are one line each around :data:`RECIPES`::

    recipe = RECIPES["mnist_dcgan"]
    options = recipe.defaults_for("fast")          # every setting's value, the fast preset applied
    config = recipe.config(options)
    images, labels = recipe.data(options)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from minigan import models
from minigan.training.config import TrainConfig
from minigan.training.settings import Setting, settings_of

Options = dict[str, Any]
Specs = tuple[dict[str, Any], dict[str, Any]]

#: Settings of the invocation, not of the run: never taken from a checkpoint.
OUT = Setting("out", "runs/gan", "output folder (on --resume: the checkpoint's folder)", stored=False)
DATA_DIR = Setting("data_dir", None, "folder with the dataset files (default: $MINIGAN_DATA or ~/.cache/minigan)",
                   kind=str, stored=False)
BACKEND = Setting("backend", os.environ.get("MINIGAN_BACKEND", "").strip().lower() or "numpy", "array backend",
                  choices=("numpy", "cupy"), stored=False)
TENSORBOARD = Setting("tensorboard", False, "also write TensorBoard event files to OUT/tensorboard "
                      "(needs pip install minigan[tensorboard])", stored=False)
DISTRIBUTED = Setting("distributed", "none", "data-parallel training over the processes of mpiexec: mpi (CPUs), "
                      "nccl (GPUs); none: one process", choices=("none", "mpi", "nccl"), stored=False)
SYNC_BN = Setting("sync_bn", False, "with --distributed: BatchNorm statistics over the global batch "
                  "(default: each process's own rows)", stored=False)
RETAIN_MEMORY = Setting("retain_memory", False, "keep freed memory in the process instead of returning it to the "
                        "system (glibc's malloc; fewer page faults, a few percent faster steps on Linux)", stored=False)
FLAT_ADAM = Setting("flat_adam", False, "Adam over one buffer holding all of a network's parameters (optim.FlatAdam: "
                    "the same numbers, one array operation per formula instead of one per parameter array)",
                    stored=False)
INVOCATION = (DATA_DIR, OUT, BACKEND, TENSORBOARD, DISTRIBUTED, SYNC_BN, RETAIN_MEMORY, FLAT_ADAM)

#: Settings shared by recipes.
WIDTH = Setting("width", 1.0, "multiplier of every hidden layer size (1 = the full model)", low=0, low_open=True)
LIMIT = Setting("limit", None, "train on the first N images only", kind=int, low=1, vary=False)
DATASET = Setting("dataset", "mnist", "training images", choices=("mnist", "fashion-mnist"), vary=False)
BATCH_NORM = Setting("batch_norm", True, "BatchNorm in G's hidden layers (--no-batch-norm: none)")


@dataclass(frozen=True)
class Recipe:
    """A trainable model: ``networks(options) -> (G spec, D spec)``, ``data(options) -> (images,
    labels or None)``, its own ``settings`` (beside TrainConfig's and :data:`INVOCATION`),
    ``defaults`` replacing settings' defaults, named ``presets`` (the first is the default)."""

    name: str
    description: str
    networks: Callable[[Options], Specs]
    data: Callable[[Options], tuple[Any, Any]]
    settings: tuple[Setting, ...] = ()
    defaults: Options = field(default_factory=dict)
    presets: dict[str, Options] = field(default_factory=lambda: {"default": {}})
    num_classes: int | None = None

    def all_settings(self) -> list[Setting]:
        """Every setting of this recipe's command line, in the order ``--help`` lists them."""
        return [*settings_of(TrainConfig), *self.settings, *INVOCATION]

    def all_defaults(self) -> Options:
        """Each setting's default, with this recipe's ``defaults`` applied."""
        return {**{s.name: s.default for s in self.all_settings()}, "out": f"runs/{self.name}", **self.defaults}

    def defaults_for(self, preset: str | None = None) -> Options:
        """:meth:`all_defaults` with a preset applied (default: the first)."""
        return {**self.all_defaults(), **self.presets[preset or next(iter(self.presets))]}

    def config(self, options: Options) -> TrainConfig:
        """The run these options describe; the recipe's own stored settings go into ``options``."""
        generator, discriminator = self.networks(options)
        k = self.num_classes
        return TrainConfig(
            generator=generator,
            discriminator=discriminator,
            options={s.name: options[s.name] for s in self.settings if s.stored},
            num_classes=k,
            num_samples=64 if k is None else 10 * k,
            **{s.name: options[s.name] for s in settings_of(TrainConfig)},
        )


def stored_options(config: dict[str, Any]) -> Options:
    """The option values a checkpoint's stored config records (TrainConfig's settings and the recipe's)."""
    run = {s.name: config[s.name] for s in settings_of(TrainConfig) if s.name in config}
    return {**run, **config.get("options", {})}


def mnist_data(options: Options) -> tuple[Any, Any]:
    """The training split of ``options["dataset"]``: images (N, 28, 28, 1) in [-1, 1] and int64
    labels, the first ``options["limit"]`` of them if set."""
    from minigan.data import load_fashion_mnist, load_mnist

    loader = load_mnist if options["dataset"] == "mnist" else load_fashion_mnist
    images, labels = loader("train", root=options["data_dir"])
    limit = options["limit"]
    return (images[:limit], labels[:limit]) if limit else (images, labels)


def unconditional(data: Callable[[Options], tuple[Any, Any]]) -> Callable[[Options], tuple[Any, None]]:
    """``data`` without its labels."""
    return lambda options: (data(options)[0], None)


MNIST_SETTINGS = (WIDTH, DATASET, LIMIT)

MNIST_DCGAN = Recipe(
    "mnist_dcgan",
    "Train the TensorFlow tutorial's DCGAN on MNIST with minigan.",
    networks=lambda o: (
        models.spec("dcgan_generator", latent_dim=o["latent_dim"], width=o["width"], batch_norm=o["batch_norm"]),
        models.spec("dcgan_discriminator", width=o["width"]),
    ),
    data=unconditional(mnist_data),
    settings=(*MNIST_SETTINGS, BATCH_NORM),
    # The tutorial's settings: batch 256, Adam 1e-4 with beta1 0.9.
    defaults={"batch_size": 256, "lr": 1e-4, "beta1": 0.9},
    presets={
        "tutorial": {},
        # Adam lr 1e-3 with Radford et al.'s beta1 0.5; 3 epochs of 60,000 images (2,811 steps, 9 min
        # 38 s on 2 idle CPU cores as measured, 8.5-11 depending on the machine), the learning rate
        # falling linearly to 0 over the second half; samples from an average of G's weights
        # (docs/training.md has what each of these gave).
        "fast": {"batch_size": 64, "lr": 1e-3, "beta1": 0.5, "epochs": 3, "lr_schedule": "linear", "ema": 0.99,
                 "out": "runs/mnist_dcgan_fast"},
    },
)

MNIST_WGAN_GP = Recipe(
    "mnist_wgan_gp",
    "Train a WGAN-GP (Gulrajani et al. 2017: Wasserstein loss, gradient penalty) on MNIST with minigan.",
    networks=lambda o: (
        models.spec("dcgan_generator", latent_dim=o["latent_dim"], width=o["width"], batch_norm=o["batch_norm"]),
        # The tutorial's D without Dropout: no BatchNorm and no Dropout in a penalized critic.
        models.spec("dcgan_discriminator", width=o["width"], dropout=0.0),
    ),
    data=unconditional(mnist_data),
    settings=(*MNIST_SETTINGS, BATCH_NORM),
    # Gulrajani et al.'s MNIST setting: 5 critic updates a generator update, Adam 1e-4 with betas
    # (0.5, 0.9), lambda 10, batch 50.
    defaults={"loss": "wasserstein", "gp_weight": 10.0, "d_steps": 5, "lr": 1e-4, "beta1": 0.5, "beta2": 0.9,
              "batch_size": 50, "epochs": 10},
    presets={
        "paper": {},
        # Twice the learning rate and samples from an average of G's weights: FID under 60 after 7
        # epochs (22 minutes on 2 cores) and 45 after 10, where the paper's setting gives 66
        # (docs/gan_zoo.md).
        "fast": {"lr": 2e-4, "ema": 0.99, "out": "runs/mnist_wgan_gp_fast"},
    },
)

MNIST_GAN_MLP = Recipe(
    "mnist_gan_mlp",
    "Train the fully connected GAN of Goodfellow et al. (2014) on MNIST with minigan.",
    networks=lambda o: (
        models.spec("mlp_generator", latent_dim=o["latent_dim"], width=o["width"], batch_norm=o["batch_norm"]),
        models.spec("mlp_discriminator", width=o["width"]),
    ),
    data=unconditional(mnist_data),
    settings=(*MNIST_SETTINGS, BATCH_NORM),
)

def _label_layer(units: int, scale: int = 1) -> dict[str, int]:
    """``label_units`` for a builder: y through its own hidden layer of ``units * scale``, or none (0)."""
    return {"label_units": units * scale} if units else {}


MNIST_CGAN = Recipe(
    "mnist_cgan",
    "Train a conditional GAN (fully connected, Mirza & Osindero 2014) on MNIST with minigan.",
    networks=lambda o: (
        models.spec("mlp_generator", latent_dim=o["latent_dim"], width=o["width"], num_classes=10,
                    **_label_layer(o["label_units"])),
        models.spec("mlp_discriminator", width=o["width"], num_classes=10, **_label_layer(o["label_units"], 2)),
    ),
    data=mnist_data,
    settings=(*MNIST_SETTINGS, Setting(
        "label_units", 256, "hidden units of y's own layer in G, twice as many in D (0: y joins z and the image "
        "directly, as in checkpoints written without a label layer: resume those with --label-units 0)", low=0)),
    # The learning rate / 10 at 55% and / 100 at 80% of the run, and samples from an average of
    # G's weights: label accuracy 0.969 -> 0.975 by `evaluate`, steady from epoch 13 (docs/gan_zoo.md).
    defaults={"epochs": 30, "lr_schedule": "step", "ema": 0.999},
    num_classes=10,
)

MNIST_CDCGAN = Recipe(
    "mnist_cdcgan",
    "Train a conditional DCGAN (label branch in G, label maps in D) on MNIST with minigan.",
    networks=lambda o: (
        models.spec("cdcgan_generator", latent_dim=o["latent_dim"], num_classes=10, width=o["width"]),
        models.spec("cdcgan_discriminator", num_classes=10, width=o["width"]),
    ),
    data=mnist_data,
    settings=MNIST_SETTINGS,
    # The learning rate / 10 at 55% and / 100 at 80% of the run, as znxlwm's reference does at
    # epochs 11 and 16 of 20 (docs/gan_zoo.md).
    defaults={"epochs": 10, "lr_schedule": "step"},
    num_classes=10,
)


IMAGE_SOURCES = ("cifar10", "svhn", "mnist", "fashion-mnist", "folder")
#: The one-channel sources: 28x28 images resized to ``--size``.
GRAYSCALE_SOURCES = ("mnist", "fashion-mnist")


def data_source(options: Options) -> tuple[str, str | None]:
    """``--data`` as (name, folder path or None); a ValueError for anything else."""
    data = options["data"]
    data = [data] if isinstance(data, str) else list(data)
    if not data or data[0] not in IMAGE_SOURCES:
        raise ValueError(f"--data: expected one of {', '.join(IMAGE_SOURCES)}, got {' '.join(map(str, data))!r}")
    if (data[0] == "folder") != (len(data) == 2) or len(data) > 2:
        raise ValueError("--data: expected 'cifar10', 'svhn', 'mnist', 'fashion-mnist' or 'folder PATH', "
                         f"got {' '.join(map(str, data))!r}")
    return data[0], data[1] if len(data) == 2 else None


def radford_networks(options: Options) -> Specs:
    """Radford et al.'s G and D for ``size`` x ``size`` images at ``width``: RGB, or one channel
    for MNIST and Fashion-MNIST; D spectrally normalized with ``spectral_norm``."""
    name, _ = data_source(options)
    size = options["size"]
    if name in ("cifar10", "svhn") and size != 32:
        raise ValueError(f"--size: {name} images are 32x32, expected --size 32, got {size}")
    shape = (size, size, 1 if name in GRAYSCALE_SOURCES else 3)
    kw = {"width": options["width"], "kernel_size": options["kernel_size"]}
    spectral = {"spectral_norm": True} if options["spectral_norm"] else {}  # off: D's spec as it always was
    return (models.spec("radford_generator", latent_dim=options["latent_dim"], image_shape=shape, **kw),
            models.spec("radford_discriminator", image_shape=shape, **kw, **spectral))


def radford_images(options: Options) -> tuple[Any, None]:
    """The training images: an array (CIFAR-10, SVHN; MNIST and Fashion-MNIST resized from 28x28
    to ``size`` x ``size``, one channel) or a lazy :class:`~minigan.data.ImageFolder`."""
    from minigan.data import ImageFolder, load_cifar10, load_fashion_mnist, load_mnist, load_svhn, resize_images

    name, path = data_source(options)
    limit = options["limit"]
    if name == "folder":
        if limit and options["cache"] is not None:
            raise ValueError("--limit: not available with --cache (the cache holds the whole folder)")
        folder = ImageFolder(path, size=options["size"], cache=options["cache"], log=tqdm.write)
        if limit:
            folder.paths = folder.paths[:limit]  # the first N files in sorted path order
        return folder, None
    loader = {"cifar10": load_cifar10, "svhn": load_svhn, "mnist": load_mnist, "fashion-mnist": load_fashion_mnist}
    images, _ = loader[name]("train", root=options["data_dir"])
    images = images[:limit] if limit else images
    if name in GRAYSCALE_SOURCES:
        images = np.clip(resize_images(images, options["size"]), -1, 1)  # in [-1, 1] despite rounding
    return images, None


IMAGE_SETTINGS = (
    WIDTH, LIMIT,
    Setting("data", "svhn", "training images: cifar10, svhn, mnist, fashion-mnist (one channel, resized "
            "to --size) or folder PATH", nargs="+", vary=False),
    Setting("size", 32, "image height and width (cifar10 and svhn: 32; mnist and fashion-mnist: their "
            "28x28 images resized to it)", choices=(32, 64)),
    Setting("kernel_size", 4, "kernel size of every (transposed) convolution", choices=(4, 5)),
    Setting("cache", None, "folder mode: decode the images once into this .npy file (uint8) and memory-map it",
            kind=str, vary=False),
    Setting("strict", False, "folder mode: decode every image before the first step and refuse the folder "
            "if any cannot be (default: skip and replace them, with a warning)", stored=False),
    Setting("spectral_norm", False, "spectral normalization of every layer of D, which then has no BatchNorm "
            "(SNGAN's D)"),
)

DCGAN_IMAGES = Recipe(
    "dcgan_images",
    "Train the DCGAN of Radford et al. on CIFAR-10, SVHN, a folder of images, or MNIST / Fashion-MNIST "
    "resized to 32x32 or 64x64 (one channel) with minigan.",
    networks=radford_networks,
    data=radford_images,
    settings=IMAGE_SETTINGS,
    defaults={"epochs": 25, "batch_size": 128},
)

SNGAN_IMAGES = Recipe(
    "sngan_images",
    "Train an SNGAN (Miyato et al. 2018: hinge loss, spectrally normalized D) with Radford et al.'s networks "
    "on Fashion-MNIST / MNIST resized, CIFAR-10, SVHN or a folder of images with minigan.",
    networks=radford_networks,
    data=radford_images,
    settings=IMAGE_SETTINGS,
    # Miyato et al.'s setting C (Adam 2e-4, betas (0.5, 0.999), one D update a G update) and their
    # batch of 64: Radford's optimizer, so the two recipes differ in D's normalization, the loss and
    # the batch (Radford's 128 trains this D worse at the same minutes: docs/gan_zoo.md).
    defaults={"loss": "hinge", "spectral_norm": True, "data": "fashion-mnist", "size": 32, "width": 0.5,
              "epochs": 25, "batch_size": 64},
)

RECIPES: dict[str, Recipe] = {r.name: r for r in (MNIST_DCGAN, MNIST_GAN_MLP, MNIST_CGAN, MNIST_CDCGAN, DCGAN_IMAGES,
                                                  MNIST_WGAN_GP, SNGAN_IMAGES)}
