"""The WGAN-GP and SNGAN recipes: their networks and settings are the papers', and their examples run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from minigan import models, nn
from minigan.cli.recipes import RECIPES
from minigan.training import checkpoint

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _layer_types(model: nn.Sequential) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


def test_wgan_gp_recipe_is_gulrajanis_mnist_setting_with_a_critic_without_batch_norm_or_dropout():
    recipe = RECIPES["mnist_wgan_gp"]
    config = recipe.config(recipe.defaults_for())
    assert (config.loss, config.gp_weight, config.d_steps, config.g_steps) == ("wasserstein", 10.0, 5, 1)
    assert (config.lr_d, config.lr_g, config.beta1, config.beta2, config.batch_size) == (1e-4, 1e-4, 0.5, 0.9, 50)
    assert (config.r1_gamma, config.clip, config.label_smoothing) == (0.0, 0.0, 0.0)
    fast = recipe.config(recipe.defaults_for("fast"))
    assert (fast.lr_d, fast.lr_g, fast.ema) == (2e-4, 2e-4, 0.99)
    assert {**vars(fast), "lr": 1e-4, "lr_d": 1e-4, "lr_g": 1e-4, "ema": 0.0} == vars(config)  # nothing else differs
    critic = models.build(config.discriminator)
    assert _layer_types(critic) == ["Conv2D", "LeakyReLU", "Conv2D", "LeakyReLU", "Flatten", "Dense"]
    assert [layer.filters for layer in critic.layers[::2][:2]] == [64, 128]
    assert [(layer.kernel_size, layer.strides) for layer in critic.layers[::2][:2]] == [((5, 5), (2, 2))] * 2


def test_sngan_recipe_is_radfords_dcgan_with_a_spectrally_normalized_d_and_the_hinge_loss():
    sngan, dcgan = RECIPES["sngan_images"], RECIPES["dcgan_images"]
    options = sngan.defaults_for()
    config = sngan.config(options)
    assert (config.loss, options["data"], options["size"], options["width"]) == ("hinge", "fashion-mnist", 32, 0.5)
    assert (config.lr_d, config.beta1, config.beta2, config.d_steps, config.batch_size) == (2e-4, 0.5, 0.999, 1, 64)
    critic = models.build(config.discriminator)
    assert "BatchNormalization" not in _layer_types(critic)
    assert _layer_types(critic).count("SpectralNormalization") == 4  # three convolutions and the Dense
    # The same networks as Radford's recipe but for D's normalization: dcgan_images with --spectral-norm.
    radford = dcgan.config({**dcgan.defaults_for(), **{k: options[k] for k in ("data", "size", "width")},
                            "spectral_norm": True})
    assert radford.generator == config.generator and radford.discriminator == config.discriminator
    plain = dcgan.config({**dcgan.defaults_for(), "data": "fashion-mnist"})
    assert "spectral_norm" not in plain.discriminator["kwargs"]  # the spec Radford's checkpoints always had


def _example(name: str, args: list[str]) -> int:
    """``python examples/NAME.py ARGS`` in its own process, as a user runs it; its exit status."""
    result = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), *args], capture_output=True, text=True,
                            timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    return result.returncode


def test_the_wgan_gp_and_sngan_examples_train_a_tiny_run(tmp_path, mnist_dir):
    tiny = ["--width", "0.0625", "--latent-dim", "8", "--epochs", "1", "--no-progress"]
    out = tmp_path / "wgan_gp"
    assert _example("mnist_wgan_gp", [*tiny, "--batch-size", "8", "--limit", "80", "--out", str(out)]) == 0
    history = np.genfromtxt(out / "history.csv", delimiter=",", names=True)
    assert len(history) == 2 and np.all(np.isfinite(history["d_loss"]))
    out = tmp_path / "sngan"
    assert _example("sngan_images", [*tiny, "--batch-size", "16", "--limit", "32", "--out", str(out)]) == 0
    stored = checkpoint.load(out / "checkpoint.npz")
    assert stored.meta["config"]["loss"] == "hinge"
    assert any(key.endswith("/vector_u") for key in stored.arrays)  # SN's u is saved, for an exact resume
