"""The DCGAN of the TensorFlow tutorial (MNIST, 28x28x1), at any ``width`` and image shape."""

from __future__ import annotations

from collections.abc import Sequence

from minigan import nn
from minigan.models.checks import check_image_shape, scaled


def dcgan_generator(
    latent_dim: int = 100,
    image_shape: Sequence[int] = (28, 28, 1),
    channels: Sequence[int] = (256, 128, 64),
    width: float = 1.0,
    kernel_initializer: str = "glorot_uniform",
    batch_norm: bool = True,
) -> nn.Sequential:
    """The tutorial's generator: ``z (N, latent_dim) -> images (N, H, W, C)`` in [-1, 1].

    ``channels`` are the three hidden channel counts (at H/4, H/4 and H/2), each times ``width``.
    ``batch_norm=False`` drops the three BatchNormalization layers (for the "generator without
    BatchNorm" study).
    """
    height, width_px, out_channels = check_image_shape(image_shape, "dcgan_generator")
    if len(channels) != 3:
        raise ValueError(f"dcgan_generator: expected 3 channel counts, got {len(channels)}")
    if int(latent_dim) < 1:
        raise ValueError(f"dcgan_generator: expected latent_dim >= 1, got {latent_dim}")
    c0, c1, c2 = scaled(channels, width, "dcgan_generator")
    h, w = height // 4, width_px // 4
    init = kernel_initializer
    # Without BatchNorm the layers before it need their bias back.
    bias = not batch_norm

    def normalized(layer: nn.Layer) -> list[nn.Layer]:
        return [layer, nn.BatchNormalization(), nn.LeakyReLU()] if batch_norm else [layer, nn.LeakyReLU()]

    layers = [
        *normalized(nn.Dense(h * w * c0, use_bias=bias, kernel_initializer=init)),
        nn.Reshape((h, w, c0)),
        *normalized(nn.Conv2DTranspose(c1, 5, strides=1, padding="same", use_bias=bias, kernel_initializer=init)),
        *normalized(nn.Conv2DTranspose(c2, 5, strides=2, padding="same", use_bias=bias, kernel_initializer=init)),
        nn.Conv2DTranspose(out_channels, 5, strides=2, padding="same", use_bias=False, kernel_initializer=init),
        nn.Tanh(),
    ]
    return nn.Sequential(layers, input_shape=(int(latent_dim),), name="generator")


def dcgan_discriminator(
    image_shape: Sequence[int] = (28, 28, 1),
    channels: Sequence[int] = (64, 128),
    width: float = 1.0,
    dropout: float = 0.3,
    kernel_initializer: str = "glorot_uniform",
    spectral_norm: bool = False,
) -> nn.Sequential:
    """The tutorial's discriminator: ``images (N, H, W, C) -> logits (N, 1)`` (no sigmoid).

    ``dropout=0`` leaves the two Dropout layers out (the critic of WGAN-GP);
    ``spectral_norm=True`` wraps both convolutions and the Dense in
    :class:`~minigan.nn.SpectralNormalization`.
    """
    shape = check_image_shape(image_shape, "dcgan_discriminator")
    if len(channels) != 2:
        raise ValueError(f"dcgan_discriminator: expected 2 channel counts, got {len(channels)}")
    c0, c1 = scaled(channels, width, "dcgan_discriminator")
    init = kernel_initializer

    def weighted(layer: nn.Layer) -> nn.Layer:
        return nn.SpectralNormalization(layer) if spectral_norm else layer

    def dropped() -> list[nn.Layer]:
        return [nn.Dropout(dropout)] if dropout else []

    layers = [
        weighted(nn.Conv2D(c0, 5, strides=2, padding="same", kernel_initializer=init)),
        nn.LeakyReLU(),
        *dropped(),
        weighted(nn.Conv2D(c1, 5, strides=2, padding="same", kernel_initializer=init)),
        nn.LeakyReLU(),
        *dropped(),
        nn.Flatten(),
        weighted(nn.Dense(1, kernel_initializer=init)),
    ]
    return nn.Sequential(layers, input_shape=shape, name="discriminator")
