"""The conditional DCGAN: y through its own transposed-convolution branch in G, as label maps in D."""

from __future__ import annotations

from collections.abc import Sequence

from minigan import nn
from minigan.models.checks import check_classes, check_image_shape, check_latent, scaled
from minigan.nn.label_maps import LabelMapConv2D


def cdcgan_generator(
    latent_dim: int = 100,
    num_classes: int = 10,
    image_shape: Sequence[int] = (28, 28, 1),
    channels: Sequence[int] = (256, 128),
    width: float = 1.0,
    kernel_initializer: str = "dcgan_normal",
) -> nn.Sequential:
    """The conditional DCGAN's generator: ``[z (N, latent_dim), y (N, K)] -> images (N, H, W, C)``.

    Two branches, each ``Reshape(1, 1, d) -> Conv2DTranspose(c0 / 2, H/4, valid) -> BN -> ReLU``
    (a 1x1 input becomes an H/4 x W/4 map), concatenated to c0 channels, then
    ``ConvT(c1, 4, s2, same) -> BN -> ReLU -> ConvT(C, 4, s2, same) -> tanh``.
    """
    what = "cdcgan_generator"
    height, width_px, out_channels = check_image_shape(image_shape, what)
    latent_dim, num_classes = check_latent(latent_dim, what), check_classes(num_classes, what)
    if num_classes is None or len(channels) != 2:
        raise ValueError(f"{what}: expected num_classes and 2 channel counts, got {num_classes} and {list(channels)}")
    c0, c1 = scaled(channels, width, what)
    h, w, init = height // 4, width_px // 4, kernel_initializer

    def branch(size: int) -> nn.Sequential:
        return nn.Sequential([
            nn.Reshape((1, 1, size)),
            nn.Conv2DTranspose(max(1, c0 // 2), (h, w), padding="valid", use_bias=False, kernel_initializer=init),
            nn.BatchNormalization(momentum=0.9, epsilon=1e-5),
            nn.ReLU(),
        ])

    layers = [
        nn.Parallel([branch(latent_dim), branch(num_classes)], name="join_z_y"),
        nn.Conv2DTranspose(c1, 4, strides=2, padding="same", use_bias=False, kernel_initializer=init),
        nn.BatchNormalization(momentum=0.9, epsilon=1e-5),
        nn.ReLU(),
        nn.Conv2DTranspose(out_channels, 4, strides=2, padding="same", kernel_initializer=init),
        nn.Tanh(),
    ]
    return nn.Sequential(layers, input_shape=((latent_dim,), (num_classes,)), name="generator")


def cdcgan_discriminator(
    num_classes: int = 10,
    image_shape: Sequence[int] = (28, 28, 1),
    channels: Sequence[int] = (64, 128),
    width: float = 1.0,
    kernel_initializer: str = "dcgan_normal",
) -> nn.Sequential:
    """The conditional DCGAN's discriminator: ``[images (N, H, W, C), y (N, K)] -> logits (N, 1)``.

    y becomes K constant label maps (:class:`~minigan.nn.label_maps.LabelMaps`) concatenated
    to the image channels; then ``Conv2D(c0, 4, s2) -> LeakyReLU(0.2) -> Conv2D(c1, 4, s2) -> BN
    -> LeakyReLU(0.2) -> Flatten -> Dense(1)``. The maps and the first convolution are one
    :class:`~minigan.nn.label_maps.LabelMapConv2D`: the same function, without the maps.
    """
    what = "cdcgan_discriminator"
    shape = check_image_shape(image_shape, what)
    num_classes = check_classes(num_classes, what)
    if num_classes is None or len(channels) != 2:
        raise ValueError(f"{what}: expected num_classes and 2 channel counts, got {num_classes} and {list(channels)}")
    c0, c1 = scaled(channels, width, what)
    init = kernel_initializer
    layers = [
        LabelMapConv2D(c0, 4, strides=2, padding="same", kernel_initializer=init, name="conv2d"),
        nn.LeakyReLU(0.2),
        nn.Conv2D(c1, 4, strides=2, padding="same", use_bias=False, kernel_initializer=init),
        nn.BatchNormalization(momentum=0.9, epsilon=1e-5),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Dense(1, kernel_initializer=init),
    ]
    return nn.Sequential(layers, input_shape=(shape, (num_classes,)), name="discriminator")
