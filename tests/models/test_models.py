"""The tutorial's DCGAN builders: Keras' parameter counts, shapes, widths and specs."""

from __future__ import annotations

import numpy as np
import pytest

from minigan import models, nn


def non_trainable(model: nn.Sequential) -> int:
    return sum(v.size for v in model.state.values())


def test_generator_has_the_keras_parameter_counts():
    generator = models.dcgan_generator()
    assert generator.count_params() == 2_305_472
    assert generator.count_params() + non_trainable(generator) == 2_330_944


def test_discriminator_has_the_keras_parameter_count():
    discriminator = models.dcgan_discriminator()
    assert discriminator.count_params() == 212_865
    assert non_trainable(discriminator) == 0


def test_generator_layers_follow_the_tutorial():
    generator = models.dcgan_generator()
    kinds = [type(layer).__name__ for layer in generator.layers]
    assert kinds == [
        "Dense", "BatchNormalization", "LeakyReLU", "Reshape",
        "Conv2DTranspose", "BatchNormalization", "LeakyReLU",
        "Conv2DTranspose", "BatchNormalization", "LeakyReLU",
        "Conv2DTranspose", "Tanh",
    ]
    assert [layer.strides for layer in generator.layers if isinstance(layer, nn.Conv2DTranspose)] == [
        (1, 1), (2, 2), (2, 2)
    ]
    assert not any("bias" in key for key in generator.params)


def test_tiny_width_models_map_noise_to_images_in_range_and_images_to_logits():
    generator = models.dcgan_generator(latent_dim=8, width=1 / 32)
    discriminator = models.dcgan_discriminator(width=1 / 16)
    z = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32)
    images = generator.forward(z, training=False)
    assert images.shape == (5, 28, 28, 1) and images.dtype == np.float32
    assert np.abs(images).max() <= 1
    assert discriminator.forward(images, training=False).shape == (5, 1)
    assert generator.params["conv2d_transpose/kernel"].shape == (5, 5, 4, 8)  # 128/32 from 256/32 channels


def test_colour_32px_generator_and_discriminator_fit_together():
    generator = models.dcgan_generator(latent_dim=4, image_shape=(32, 32, 3), width=1 / 32)
    discriminator = models.dcgan_discriminator(image_shape=(32, 32, 3), width=1 / 16)
    z = np.zeros((2, 4), np.float32)
    assert discriminator.forward(generator.forward(z, training=False), training=False).shape == (2, 1)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: models.dcgan_generator(image_shape=(30, 30, 1)), "divisible by 4, got \\(30, 30, 1\\)"),
        (lambda: models.dcgan_generator(width=0), "width > 0, got 0"),
        (lambda: models.dcgan_discriminator(channels=(8,)), "expected 2 channel counts, got 1"),
    ],
)
def test_bad_builder_arguments_raise_value_errors_naming_the_builder(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_spec_rebuilds_the_same_architecture_and_refuses_unknown_builders():
    spec = models.spec("dcgan_generator", latent_dim=8, width=0.125)
    rebuilt = models.build(spec)
    assert {k: v.shape for k, v in rebuilt.params.items()} == {
        k: v.shape for k, v in models.dcgan_generator(latent_dim=8, width=0.125).params.items()
    }
    with pytest.raises(ValueError, match="got 'resnet'"):
        models.build({"name": "resnet"})
