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

The zoo: the fully connected GAN of Goodfellow et al. (2014)
(:func:`mlp_generator`, :func:`mlp_discriminator`) and its conditional form, the cGAN
(``num_classes=10``: y joins z, and the flattened image, through :class:`~minigan.nn.Parallel`,
unchanged or, with ``label_units``, through its own hidden layer);
the conditional DCGAN (:func:`cdcgan_generator`, :func:`cdcgan_discriminator`: y through its own
transposed-convolution branch in G, as label maps beside the image channels in D); and the
DCGAN of Radford et al. for colour images (:func:`radford_generator`, :func:`radford_discriminator`).
A conditional G takes ``[z, y_onehot]``, a conditional D ``[images, y_onehot]``.

A checkpoint records how its networks were built as a *spec*, ``{"name": builder name,
"kwargs": {...}}``; :func:`build` rebuilds the network from it. Register new builders in
:data:`BUILDERS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from minigan import nn
from minigan.backend import get_array_module

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


class LabelMaps(nn.Layer):
    """Broadcast a one-hot label to constant maps: ``(N, K) -> (N, H, W, K)``, ``y[n, i, j, k] = x[n, k]``.

    Backward sums over the map: ``dx[n, k] = sum_ij dy[n, i, j, k]``. The conditional DCGAN's
    discriminator concatenates these maps to the image channels.
    """

    input_rank = 1

    def __init__(self, height: int, width: int, name: str | None = None) -> None:
        if int(height) < 1 or int(width) < 1:
            raise ValueError(f"LabelMaps: expected height and width >= 1, got {height} and {width}")
        self.height, self.width = int(height), int(width)
        super().__init__(name=name)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (self.height, self.width, *input_shape)

    def _forward(self, x: Any, training: bool) -> tuple[Any, Any]:
        xp = get_array_module(x)
        n, k = x.shape
        return xp.ascontiguousarray(xp.broadcast_to(x[:, None, None, :], (n, self.height, self.width, k))), None

    def _backward(self, dy: Any, cache: Any) -> Any:
        return dy.sum(axis=(1, 2))


def _check_classes(num_classes: int | None, what: str) -> int | None:
    if num_classes is not None and int(num_classes) < 2:
        raise ValueError(f"{what}: expected num_classes >= 2 (or None), got {num_classes}")
    return None if num_classes is None else int(num_classes)


def _check_latent(latent_dim: int, what: str) -> int:
    if int(latent_dim) < 1:
        raise ValueError(f"{what}: expected latent_dim >= 1, got {latent_dim}")
    return int(latent_dim)


def _label_units(num_classes: int | None, label_units: int | None, width: float, what: str) -> int | None:
    if label_units is None:
        return None
    if num_classes is None or int(label_units) < 1:
        raise ValueError(f"{what}: expected label_units >= 1 with num_classes, got {label_units} and {num_classes}")
    return _scaled([label_units], width, what)[0]


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
    latent_dim, num_classes = _check_latent(latent_dim, what), _check_classes(num_classes, what)
    label = _label_units(num_classes, label_units, width, what)
    sizes = _scaled(hidden, width, what)

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
    num_classes = _check_classes(num_classes, what)
    label = _label_units(num_classes, label_units, width, what)
    sizes = _scaled(hidden, width, what)

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
    height, width_px, out_channels = _check_image_shape(image_shape, what)
    latent_dim, num_classes = _check_latent(latent_dim, what), _check_classes(num_classes, what)
    if num_classes is None or len(channels) != 2:
        raise ValueError(f"{what}: expected num_classes and 2 channel counts, got {num_classes} and {list(channels)}")
    c0, c1 = _scaled(channels, width, what)
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

    y becomes K constant label maps (:class:`LabelMaps`) concatenated to the image channels;
    then ``Conv2D(c0, 4, s2) -> LeakyReLU(0.2) -> Conv2D(c1, 4, s2) -> BN -> LeakyReLU(0.2)
    -> Flatten -> Dense(1)``.
    """
    what = "cdcgan_discriminator"
    shape = _check_image_shape(image_shape, what)
    num_classes = _check_classes(num_classes, what)
    if num_classes is None or len(channels) != 2:
        raise ValueError(f"{what}: expected num_classes and 2 channel counts, got {num_classes} and {list(channels)}")
    c0, c1 = _scaled(channels, width, what)
    init = kernel_initializer
    layers = [
        nn.Parallel([nn.Sequential(), LabelMaps(shape[0], shape[1])], name="join_x_y"),
        nn.Conv2D(c0, 4, strides=2, padding="same", kernel_initializer=init),
        nn.LeakyReLU(0.2),
        nn.Conv2D(c1, 4, strides=2, padding="same", use_bias=False, kernel_initializer=init),
        nn.BatchNormalization(momentum=0.9, epsilon=1e-5),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Dense(1, kernel_initializer=init),
    ]
    return nn.Sequential(layers, input_shape=(shape, (num_classes,)), name="discriminator")


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
    latent_dim = _check_latent(latent_dim, what)
    (c,) = _scaled([base], width, what)
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
) -> nn.Sequential:
    """The mirror of :func:`radford_generator`: ``images (N, S, S, C) -> logits (N, 1)``.

    One ``Conv2D(k, s2, same) -> [BN] -> LeakyReLU(0.2)`` per halving down to 4x4 (no BN after
    the first; channels doubling up to the generator's 8c at 4x4), then
    ``Flatten -> Dense(1)``.
    """
    what = "radford_discriminator"
    size, levels = _radford_levels(image_shape, what)
    (c,) = _scaled([base], width, what)
    init = "dcgan_normal"
    top = 8 * c
    layers: list[nn.Layer] = []
    for level in range(levels):
        channels = max(1, top >> (levels - 1 - level))
        layers.append(nn.Conv2D(channels, kernel_size, strides=2, padding="same", use_bias=level == 0,
                                kernel_initializer=init))
        if level > 0:
            layers.append(nn.BatchNormalization(momentum=0.9, epsilon=1e-5))
        layers.append(nn.LeakyReLU(0.2))
    layers += [nn.Flatten(), nn.Dense(1, kernel_initializer=init)]
    return nn.Sequential(layers, input_shape=(size, size, int(image_shape[2])), name="discriminator")


#: Builders a checkpoint's spec may name.
BUILDERS: dict[str, Callable[..., nn.Sequential]] = {
    "dcgan_generator": dcgan_generator,
    "dcgan_discriminator": dcgan_discriminator,
    "mlp_generator": mlp_generator,
    "mlp_discriminator": mlp_discriminator,
    "cdcgan_generator": cdcgan_generator,
    "cdcgan_discriminator": cdcgan_discriminator,
    "radford_generator": radford_generator,
    "radford_discriminator": radford_discriminator,
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
