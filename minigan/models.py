"""Network builders shared by the examples, the tests and the command line.

The default DCGAN is the one of the TensorFlow DCGAN tutorial (MNIST, 28x28x1)::

    G: z (100) -> Dense(7*7*256, no bias) -> BN -> LeakyReLU -> Reshape(7, 7, 256)
       -> Conv2DTranspose(128, 5, s1, same, no bias) -> BN -> LeakyReLU
       -> Conv2DTranspose(64, 5, s2, same, no bias) -> BN -> LeakyReLU
       -> Conv2DTranspose(1, 5, s2, same, no bias) -> tanh               (N, 28, 28, 1) in [-1, 1]
    D: x (28, 28, 1) -> Conv2D(64, 5, s2, same) -> LeakyReLU -> Dropout(0.3)
       -> Conv2D(128, 5, s2, same) -> LeakyReLU -> Dropout(0.3) -> Flatten -> Dense(1)   (N, 1) logits

Keras counts 2,330,944 parameters for G (2,305,472 trainable) and 212,865 for D.
``width`` scales every hidden channel count (tests use tiny models); ``image_shape``
gives other sizes (height and width divisible by 4) and channel counts (colour).

A checkpoint records how its networks were built as a *spec*, ``{"name": builder name,
"kwargs": {...}}``; :func:`build` rebuilds the network from it. Register new builders in
:data:`BUILDERS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from minigan import nn

ImageShape = tuple[int, int, int]


def _scaled(channels: Sequence[int], width: float, what: str) -> list[int]:
    if width <= 0:
        raise ValueError(f"{what}: expected width > 0, got {width}")
    return [max(1, round(c * width)) for c in channels]


def _check_image_shape(image_shape: Sequence[int], what: str) -> ImageShape:
    shape = tuple(int(d) for d in image_shape)
    if len(shape) != 3 or shape[0] % 4 or shape[1] % 4 or min(shape) < 1:
        raise ValueError(
            f"{what}: expected image_shape (height, width, channels) with height and width divisible by 4, "
            f"got {tuple(image_shape)}"
        )
    return shape  # type: ignore[return-value]


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
    height, width_px, out_channels = _check_image_shape(image_shape, "dcgan_generator")
    if len(channels) != 3:
        raise ValueError(f"dcgan_generator: expected 3 channel counts, got {len(channels)}")
    if int(latent_dim) < 1:
        raise ValueError(f"dcgan_generator: expected latent_dim >= 1, got {latent_dim}")
    c0, c1, c2 = _scaled(channels, width, "dcgan_generator")
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
) -> nn.Sequential:
    """The tutorial's discriminator: ``images (N, H, W, C) -> logits (N, 1)`` (no sigmoid)."""
    shape = _check_image_shape(image_shape, "dcgan_discriminator")
    if len(channels) != 2:
        raise ValueError(f"dcgan_discriminator: expected 2 channel counts, got {len(channels)}")
    c0, c1 = _scaled(channels, width, "dcgan_discriminator")
    init = kernel_initializer
    layers = [
        nn.Conv2D(c0, 5, strides=2, padding="same", kernel_initializer=init),
        nn.LeakyReLU(),
        nn.Dropout(dropout),
        nn.Conv2D(c1, 5, strides=2, padding="same", kernel_initializer=init),
        nn.LeakyReLU(),
        nn.Dropout(dropout),
        nn.Flatten(),
        nn.Dense(1, kernel_initializer=init),
    ]
    return nn.Sequential(layers, input_shape=shape, name="discriminator")


#: Builders a checkpoint's spec may name.
BUILDERS: dict[str, Callable[..., nn.Sequential]] = {
    "dcgan_generator": dcgan_generator,
    "dcgan_discriminator": dcgan_discriminator,
}


def spec(name: str, **kwargs: Any) -> dict[str, Any]:
    """A JSON-able description ``{"name": name, "kwargs": kwargs}`` of a registered network."""
    if name not in BUILDERS:
        raise ValueError(f"model spec: expected one of {sorted(BUILDERS)}, got {name!r}")
    return {"name": name, "kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}}


def build(model_spec: dict[str, Any]) -> nn.Sequential:
    """Build (with fresh weights from :func:`minigan.backend.rng`) the network a spec describes."""
    name = model_spec.get("name")
    if name not in BUILDERS:
        raise ValueError(f"model spec: expected one of {sorted(BUILDERS)}, got {name!r}")
    return BUILDERS[name](**model_spec.get("kwargs", {}))
