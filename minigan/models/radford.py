"""The DCGAN of Radford et al. (2016) for colour images of 32x32, 64x64, ... pixels."""

from __future__ import annotations

from collections.abc import Sequence

from minigan import nn
from minigan.models.checks import check_latent, scaled


def _radford_levels(image_shape: Sequence[int], what: str) -> tuple[int, int]:
    """(size, number of stride-2 steps between 4x4 and size x size) for a square power-of-two size."""
    shape = tuple(int(d) for d in image_shape)
    size = shape[0] if len(shape) == 3 else 0
    levels = size.bit_length() - 3
    if len(shape) != 3 or shape[0] != shape[1] or size < 8 or size != 4 << levels or shape[2] < 1:
        raise ValueError(
            f"{what}: expected a square image_shape (size, size, channels) with size 8, 16, 32, 64, ..., "
            f"got {tuple(image_shape)}"
        )
    return size, levels


def radford_generator(
    latent_dim: int = 100,
    image_shape: Sequence[int] = (32, 32, 3),
    base: int = 64,
    width: float = 1.0,
    kernel_size: int = 4,
) -> nn.Sequential:
    """The DCGAN of Radford et al.: ``z (N, latent_dim) -> images (N, S, S, C)`` in [-1, 1].

    ``Dense(4*4*8c, no bias) -> BN -> ReLU -> Reshape(4, 4, 8c)``, then one
    ``ConvT(k, s2, same) -> BN -> ReLU`` per doubling (channels halving: 4c, 2c, c ... with
    ``c = base * width``), the last
    ``ConvT(C, k, s2, same) -> tanh``. S = 32: 3 transposed convolutions; S = 64: 4.
    Weights ~ N(0, 0.02) ("dcgan_normal"); BatchNorm with PyTorch's momentum and epsilon.
    """
    what = "radford_generator"
    size, levels = _radford_levels(image_shape, what)
    latent_dim = check_latent(latent_dim, what)
    (c,) = scaled([base], width, what)
    init = "dcgan_normal"

    def bn_relu() -> list[nn.Layer]:
        return [nn.BatchNormalization(momentum=0.9, epsilon=1e-5), nn.ReLU()]

    top = 8 * c
    layers: list[nn.Layer] = [nn.Dense(4 * 4 * top, use_bias=False, kernel_initializer=init), *bn_relu(),
                              nn.Reshape((4, 4, top))]
    channels = top
    for _ in range(levels - 1):
        channels = max(1, channels // 2)
        layers += [nn.Conv2DTranspose(channels, kernel_size, strides=2, padding="same", use_bias=False,
                                      kernel_initializer=init), *bn_relu()]
    layers += [nn.Conv2DTranspose(int(image_shape[2]), kernel_size, strides=2, padding="same",
                                  kernel_initializer=init), nn.Tanh()]
    return nn.Sequential(layers, input_shape=(latent_dim,), name="generator")


def radford_discriminator(
    image_shape: Sequence[int] = (32, 32, 3),
    base: int = 64,
    width: float = 1.0,
    kernel_size: int = 4,
    spectral_norm: bool = False,
) -> nn.Sequential:
    """The mirror of :func:`radford_generator`: ``images (N, S, S, C) -> logits (N, 1)``.

    One ``Conv2D(k, s2, same) -> [BN] -> LeakyReLU(0.2)`` per halving down to 4x4 (no BN after
    the first; channels doubling up to the generator's 8c at 4x4), then
    ``Flatten -> Dense(1)``. ``spectral_norm=True`` (SNGAN's D, Miyato et al. 2018): every
    Conv2D and the Dense wrapped in :class:`~minigan.nn.SpectralNormalization`, no BN, each
    convolution with its bias.
    """
    what = "radford_discriminator"
    size, levels = _radford_levels(image_shape, what)
    (c,) = scaled([base], width, what)
    init = "dcgan_normal"
    top = 8 * c
    layers: list[nn.Layer] = []

    def weighted(layer: nn.Layer) -> nn.Layer:
        return nn.SpectralNormalization(layer) if spectral_norm else layer

    for level in range(levels):
        channels = max(1, top >> (levels - 1 - level))
        batch_norm = level > 0 and not spectral_norm
        layers.append(weighted(nn.Conv2D(channels, kernel_size, strides=2, padding="same", use_bias=not batch_norm,
                                         kernel_initializer=init)))
        if batch_norm:
            layers.append(nn.BatchNormalization(momentum=0.9, epsilon=1e-5))
        layers.append(nn.LeakyReLU(0.2))
    layers += [nn.Flatten(), weighted(nn.Dense(1, kernel_initializer=init))]
    return nn.Sequential(layers, input_shape=(size, size, int(image_shape[2])), name="discriminator")
