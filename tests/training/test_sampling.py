"""Drawing from checkpoints: unconditional and conditional generators, as sample and evaluate use them."""

from __future__ import annotations

import numpy as np
import pytest

from minigan import models
from minigan.cli.evaluate import sample_checkpoint
from minigan.training import TrainConfig, Trainer, build_gan, default_callbacks, sampling


@pytest.fixture(scope="module")
def conditional_checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("cdcgan")
    config = TrainConfig(
        generator=models.spec("cdcgan_generator", latent_dim=8, num_classes=10, width=1 / 32),
        discriminator=models.spec("cdcgan_discriminator", num_classes=10, width=1 / 16),
        latent_dim=8, epochs=1, batch_size=16, num_classes=10,
    )
    images = np.tanh(np.random.default_rng(0).standard_normal((16, 28, 28, 1))).astype(np.float32)
    labels = np.arange(16) % 10
    Trainer(build_gan(config), images, config, out_dir=out, log=lambda line: None, labels=labels,
            callbacks=default_callbacks(config, out, images, progress=False)).fit()
    return out / "checkpoint.npz"


def test_a_conditional_checkpoint_loads_with_its_latent_size_and_classes(conditional_checkpoint):
    loaded = sampling.load_generator(conditional_checkpoint)
    assert (loaded.latent_dim, loaded.num_classes) == (8, 10)
    np.testing.assert_array_equal(sampling.class_labels(loaded, None, 12, per_class=1), np.arange(12) % 10)
    np.testing.assert_array_equal(sampling.class_labels(loaded, 4, 3, per_class=1), [4, 4, 4])


def test_the_label_changes_the_image_for_the_same_noise(conditional_checkpoint):
    loaded = sampling.load_generator(conditional_checkpoint)
    z = np.repeat(np.random.default_rng(1).standard_normal((1, 8)), 2, axis=0).astype(np.float32)
    images = sampling.generate(loaded, z, np.array([0, 7]))
    assert images.shape == (2, 28, 28, 1) and not np.array_equal(images[0], images[1])


def test_evaluate_draws_images_from_a_conditional_checkpoint(conditional_checkpoint):
    images = sample_checkpoint(conditional_checkpoint, n=20, seed=3)
    assert images.shape == (20, 28, 28, 1) and images.dtype == np.float32
    assert -1 <= images.min() and images.max() <= 1
    np.testing.assert_array_equal(sample_checkpoint(conditional_checkpoint, n=20, seed=3), images)


def test_a_label_for_an_unconditional_generator_is_refused():
    loaded = sampling.LoadedGenerator(models.dcgan_generator(width=1 / 32, latent_dim=8), 8, None)
    with pytest.raises(ValueError, match="unconditional"):
        sampling.class_labels(loaded, 3, 2, per_class=1)
