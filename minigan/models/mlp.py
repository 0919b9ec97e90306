"""The fully connected GAN of Goodfellow et al. (2014) and its conditional form, the cGAN."""

from __future__ import annotations

from collections.abc import Sequence

from minigan import nn
from minigan.models.checks import check_classes, check_latent, label_layer_units, scaled


def mlp_generator(
    latent_dim: int = 100,
    image_shape: Sequence[int] = (28, 28, 1),
    hidden: Sequence[int] = (256, 512, 1024),
    width: float = 1.0,
    num_classes: int | None = None,
    batch_norm: bool = True,
    label_units: int | None = None,
) -> nn.Sequential:
    """A fully connected generator: ``z (N, latent_dim) -> images (N, H, W, C)`` in [-1, 1].

    ``Dense(h_i) -> [BN] -> LeakyReLU(0.2)`` for each hidden size (times ``width``), then
    ``Dense(H*W*C) -> tanh -> Reshape``. With ``num_classes`` it is the cGAN's generator: it takes
    ``[z, y_onehot]`` and the first Dense sees ``concat(z, y)``; with ``label_units`` as well, y
    gets its own hidden layer beside z's first one (as in Mirza & Osindero):
    ``concat(block(h_0)(z), block(label_units)(y))``, ``block(u) = Dense(u) -> [BN] -> LeakyReLU``.
    """
    what = "mlp_generator"
    shape = tuple(int(d) for d in image_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"{what}: expected image_shape (height, width, channels), got {tuple(image_shape)}")
    latent_dim, num_classes = check_latent(latent_dim, what), check_classes(num_classes, what)
    label = label_layer_units(num_classes, label_units, width, what)
    sizes = scaled(hidden, width, what)

    def block(units: int) -> list[nn.Layer]:
        norm = [nn.BatchNormalization(momentum=0.8)] if batch_norm else []
        return [nn.Dense(units, use_bias=not batch_norm), *norm, nn.LeakyReLU(0.2)]

    layers: list[nn.Layer] = []
    if label is not None:
        layers.append(nn.Parallel([nn.Sequential(block(sizes[0])), nn.Sequential(block(label))], name="join_z_y"))
        sizes = sizes[1:]
    elif num_classes is not None:
        layers.append(nn.Parallel([nn.Sequential(), nn.Sequential()], name="join_z_y"))
    for units in sizes:
        layers += block(units)
    layers += [nn.Dense(shape[0] * shape[1] * shape[2]), nn.Tanh(), nn.Reshape(shape)]
    inputs = (latent_dim,) if num_classes is None else ((latent_dim,), (num_classes,))
    return nn.Sequential(layers, input_shape=inputs, name="generator")


def mlp_discriminator(
    image_shape: Sequence[int] = (28, 28, 1),
    hidden: Sequence[int] = (512, 256),
    width: float = 1.0,
    dropout: float = 0.3,
    num_classes: int | None = None,
    label_units: int | None = None,
) -> nn.Sequential:
    """A fully connected discriminator: ``images (N, H, W, C) -> logits (N, 1)``.

    ``Flatten -> (Dense(h_i) -> LeakyReLU(0.2) -> Dropout)* -> Dense(1)``. With ``num_classes``
    it is the cGAN's discriminator: it takes ``[images, y_onehot]`` and the first Dense sees
    ``concat(flatten(images), y)``; with ``label_units`` as well, y gets its own hidden layer
    beside the image's first one: ``concat(block(h_0)(flatten(x)), block(label_units)(y))``.
    """
    what = "mlp_discriminator"
    shape = tuple(int(d) for d in image_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"{what}: expected image_shape (height, width, channels), got {tuple(image_shape)}")
    num_classes = check_classes(num_classes, what)
    label = label_layer_units(num_classes, label_units, width, what)
    sizes = scaled(hidden, width, what)

    def block(units: int) -> list[nn.Layer]:
        return [nn.Dense(units), nn.LeakyReLU(0.2)] + ([nn.Dropout(dropout)] if dropout else [])

    if num_classes is None:
        layers: list[nn.Layer] = [nn.Flatten()]
    elif label is None:
        layers = [nn.Parallel([nn.Flatten(), nn.Sequential()], name="join_x_y")]
    else:
        layers = [nn.Parallel([nn.Sequential([nn.Flatten(), *block(sizes[0])]), nn.Sequential(block(label))],
                              name="join_x_y")]
        sizes = sizes[1:]
    for units in sizes:
        layers += block(units)
    layers.append(nn.Dense(1))
    inputs = shape if num_classes is None else (shape, (num_classes,))
    return nn.Sequential(layers, input_shape=inputs, name="discriminator")
