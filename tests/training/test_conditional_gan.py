"""Conditional GANs: the labelled step, random fake labels, class-per-row grids, exact resume, the cGAN example."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from minigan import backend, models
from minigan.cli import main as minigan_main
from minigan.cli import train as cli_args
from minigan.cli.recipes import RECIPES
from minigan.training import TrainConfig, Trainer, build_gan, checkpoint, default_callbacks
from minigan.training.callbacks.outputs import class_grid

DATA = os.environ.get("MINIGAN_DATA")


def cgan_config(**overrides) -> TrainConfig:
    values = dict(
        generator=models.spec("mlp_generator", latent_dim=8, hidden=[16, 16], num_classes=3),
        discriminator=models.spec("mlp_discriminator", hidden=[16], num_classes=3),
        num_classes=3,
        epochs=2,
        batch_size=8,
        latent_dim=8,
        num_samples=6,
        seed=5,
    )
    values.update(overrides)
    return TrainConfig(**values)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = np.tanh(rng.standard_normal((32, 28, 28, 1))).astype(np.float32)
    return images, rng.integers(0, 3, 32)


def make_trainer(config: TrainConfig, data, out_dir=None) -> Trainer:
    images, labels = data
    return Trainer(build_gan(config), images, config, out_dir=out_dir, log=lambda line: None, labels=labels,
                   callbacks=default_callbacks(config, out_dir, images, progress=False))


class Recorder:
    """Wraps a network's forward to record what each call received."""

    def __init__(self, model):
        self.calls, self.forward = [], model.forward
        model.forward = self

    def __call__(self, inputs, training=True):
        self.calls.append([backend.as_numpy(x).copy() for x in inputs])
        return self.forward(inputs, training)


def test_d_sees_real_labels_and_the_fakes_own_labels_and_g_gets_the_image_gradient(data):
    gan = build_gan(cgan_config())
    d_calls, g_calls = Recorder(gan.discriminator).calls, Recorder(gan.generator).calls
    images, labels = data
    real, y_real = images[:8], np.eye(3, dtype=np.float32)[labels[:8]]
    g_before = {k: v.copy() for k, v in gan.generator.params.items()}

    stats = gan.train_step([real], [y_real])

    (z, y_fake), = g_calls
    assert [len(call) for call in d_calls] == [2, 2, 2]  # D(real), D(fake) in the D step, D(fake) in the G step
    np.testing.assert_array_equal(d_calls[0][0], real)
    np.testing.assert_array_equal(d_calls[0][1], y_real)
    for call in d_calls[1:]:
        np.testing.assert_array_equal(call[1], y_fake)
    assert set(np.unique(y_fake)) == {0.0, 1.0} and np.all(y_fake.sum(axis=1) == 1)
    assert all(not np.array_equal(g_before[k], v) for k, v in gan.generator.params.items())
    assert all(np.isfinite(float(v)) for v in stats.values())


def test_fake_labels_are_uniform_over_the_classes():
    gan = build_gan(cgan_config(num_classes=3))
    backend.seed(1)
    counts = backend.as_numpy(gan.random_labels(30000)).sum(axis=0)
    assert counts.sum() == 30000
    np.testing.assert_allclose(counts / 30000, [1 / 3] * 3, atol=0.015)


def test_class_grid_puts_class_k_in_row_k_with_the_same_noise_in_every_row():
    z, y, columns = class_grid(cgan_config(num_samples=7))  # 3 classes: 2 per row
    assert columns == 2 and z.shape == (6, 8)
    np.testing.assert_array_equal(y.argmax(axis=1), [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(z[0:2], z[4:6])
    assert not np.array_equal(z[0], z[1])


def test_trainer_requires_labels_exactly_for_conditional_gans(data):
    images, labels = data
    config = cgan_config()
    with pytest.raises(ValueError, match="expected labels"):
        Trainer(build_gan(config), images, config, callbacks=default_callbacks(config, None, images, progress=False))
    with pytest.raises(ValueError, match=r"expected values in \[0, 2\]"):
        Trainer(build_gan(config), images, config, labels=labels + 1, callbacks=default_callbacks(config, None,
                images, progress=False))
    plain = TrainConfig(generator=models.spec("mlp_generator", latent_dim=8, hidden=[4]),
                        discriminator=models.spec("mlp_discriminator", hidden=[4]), latent_dim=8)
    with pytest.raises(ValueError, match="unconditional"):
        Trainer(build_gan(plain), images, plain, labels=labels, callbacks=default_callbacks(plain, None, images,
                progress=False))


def test_build_gan_refuses_networks_of_another_number_of_classes():
    with pytest.raises(ValueError, match=r"expected a generator with input \(\(8,\), \(4,\)\)"):
        build_gan(cgan_config(num_classes=4))


def test_conditional_resume_is_bit_identical(data, tmp_path):
    straight = make_trainer(cgan_config(), data)
    straight.fit()
    first = make_trainer(cgan_config(epochs=1), data, tmp_path)
    first.fit()
    backend.seed(999)
    resumed = make_trainer(cgan_config(), data, tmp_path)
    resumed.load_checkpoint(tmp_path / "checkpoint.npz")
    resumed.fit()
    for key, value in straight.gan.generator.params.items():
        np.testing.assert_array_equal(backend.as_numpy(resumed.gan.generator.params[key]), backend.as_numpy(value))
    grid = np.asarray(Image.open(tmp_path / "samples" / "epoch_002.png"))
    assert grid.shape == (3 * 30 + 2, 2 * 30 + 2)  # 3 class rows of 2 tiles of 28 px with 2 px padding


@pytest.fixture(scope="module")
def example():
    return SimpleNamespace(main=lambda argv: cli_args.main(RECIPES["mnist_cgan"], argv))


@pytest.mark.skipif(not DATA, reason="MINIGAN_DATA is unset: this test trains on real MNIST images")
def test_cgan_example_trains_samples_one_digit_per_row_interpolates_and_resumes(example, tmp_path, capsys):
    out = tmp_path / "run"
    common = ["--limit", "64", "--batch-size", "32", "--width", "0.0625", "--no-progress", "--data-dir", DATA]
    assert example.main([*common, "--epochs", "1", "--out", str(out)]) == 0
    for name in ("samples/epoch_001.png", "samples.gif", "losses.png", "history.csv", "checkpoint.npz"):
        assert (out / name).is_file(), name
    assert Image.open(out / "samples" / "epoch_001.png").size == (10 * 30 + 2, 10 * 30 + 2)
    ckpt = checkpoint.load(out / "checkpoint.npz")
    assert ckpt.meta["config"]["num_classes"] == 10 and ckpt.meta["config"]["generator"]["name"] == "mlp_generator"
    assert (ckpt.meta["config"]["lr_schedule"], ckpt.meta["config"]["ema"]) == ("step", 0.999)  # the recipe's
    assert any(k.startswith("model/generator_ema/params/") for k in ckpt.arrays)

    assert minigan_main(["sample", str(out / "checkpoint.npz"), "-n", "20", "--out", str(tmp_path / "s.png")]) == 0
    assert Image.open(tmp_path / "s.png").size == (2 * 30 + 2, 10 * 30 + 2)  # 2 per row, 10 digit rows
    assert minigan_main(["interpolate", str(out / "checkpoint.npz"), "--label", "3", "--rows", "2", "--steps", "4",
                         "--out", str(tmp_path / "i.png")]) == 0
    assert Image.open(tmp_path / "i.png").size == (4 * 30 + 2, 2 * 30 + 2)

    assert example.main(["--resume", str(out / "checkpoint.npz"), "--epochs", "2", "--no-progress",
                         "--data-dir", DATA]) == 0
    assert checkpoint.load(out / "checkpoint.npz").meta["step"] == 4
    assert "resuming at step 2" in capsys.readouterr().out
