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

from collections.abc import Callable
from typing import Any

from minigan import nn
from minigan.models.cdcgan import cdcgan_discriminator, cdcgan_generator
from minigan.models.dcgan import dcgan_discriminator, dcgan_generator
from minigan.models.mlp import mlp_discriminator, mlp_generator
from minigan.models.radford import radford_discriminator, radford_generator
from minigan.nn.label_maps import LabelMapConv2D, LabelMaps

__all__ = [
    "BUILDERS", "LabelMapConv2D", "LabelMaps", "build", "cdcgan_discriminator", "cdcgan_generator",
    "dcgan_discriminator", "dcgan_generator", "mlp_discriminator", "mlp_generator", "radford_discriminator",
    "radford_generator", "spec",
]


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
