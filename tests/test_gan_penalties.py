"""Gradient penalties in the GAN step: WGAN-GP at interpolates, R1 (lazy) on real images, refusals, exact resume."""

from __future__ import annotations

import numpy as np
import pytest

from minigan import backend, models, penalties
from minigan.cli import train as cli_args
from minigan.cli.recipes import RECIPES
from minigan.training import checkpoint
from minigan.training.config import TrainConfig, build_gan


def tiny_config(**overrides) -> TrainConfig:
    values = dict(
        generator=models.spec("dcgan_generator", latent_dim=8, width=1 / 32),
        discriminator=models.spec("dcgan_discriminator", width=1 / 16, dropout=0),
        batch_size=8, latent_dim=8, seed=3, loss="wasserstein",
    )
    values.update(overrides)
    return TrainConfig(**values)


def _reals(rng, n: int = 1) -> list:
    return [backend.as_array(np.tanh(rng.standard_normal((8, 28, 28, 1))).astype(np.float32)) for _ in range(n)]


def _d_grads_at_update(gan) -> list[dict[str, np.ndarray]]:
    """Record D's gradients (and parameters) each time the GAN's D optimizer steps."""
    seen = []
    step = gan.opt_d.step

    def recording():
        seen.append({"grads": {k: np.array(v) for k, v in gan.discriminator.grads.items()},
                     "params": {k: np.array(v) for k, v in gan.discriminator.params.items()}})
        step()
    gan.opt_d.step = recording
    return seen


def test_wgan_gp_adds_the_penalty_gradient_at_interpolates_of_real_and_fake_before_the_d_update(rng, monkeypatch):
    calls = []
    interpolates = penalties.interpolates

    def spy(real, fake, rng_):
        points = interpolates(real, fake, rng_)
        calls.append((np.array(real), np.array(fake), np.array(points)))
        return points
    monkeypatch.setattr(penalties, "interpolates", spy)
    reals = _reals(rng)
    penalized = build_gan(tiny_config(gp_weight=10.0))  # each build seeds minigan's RNG: the same z for both
    seen_penalized = _d_grads_at_update(penalized)
    stats = penalized.train_step(reals)
    plain = build_gan(tiny_config())
    seen_plain = _d_grads_at_update(plain)
    plain.train_step(reals)

    (real, fake, points), = calls
    np.testing.assert_array_equal(real, np.array(reals[0]))
    e = ((points - fake) / np.where(real == fake, 1, real - fake)).reshape(8, -1)
    e_image = np.median(e, axis=1)  # one e per image, in [0, 1)
    assert np.all((0 <= e_image) & (e_image < 1)) and len(np.unique(e_image)) == 8
    np.testing.assert_allclose(points, fake + e_image[:, None, None, None] * (real - fake), atol=1e-6)

    # The same D at the same points: the penalty's own gradient, and its value as reported.
    d = build_gan(tiny_config()).discriminator
    for key, value in seen_plain[0]["params"].items():
        d.params[key][...] = value
    d.zero_grad()
    expected_penalty = penalties.gradient_penalty(d, backend.as_array(points), 10.0, 1.0)
    assert float(stats["penalty"]) == pytest.approx(float(expected_penalty), rel=1e-5)
    for key, grad in seen_penalized[0]["grads"].items():
        np.testing.assert_allclose(grad, seen_plain[0]["grads"][key] + np.array(d.grads[key]), rtol=1e-4,
                                   atol=1e-6, err_msg=key)


def test_lazy_r1_penalizes_real_images_every_k_d_updates_with_gamma_over_two_times_k(rng, monkeypatch):
    calls = []
    gradient_penalty = penalties.gradient_penalty

    def spy(model, x, weight, center):
        calls.append((np.array(x), weight, center))
        return gradient_penalty(model, x, weight, center)
    monkeypatch.setattr(penalties, "gradient_penalty", spy)
    gan = build_gan(tiny_config(loss="non-saturating", r1_gamma=4.0, r1_every=2, d_steps=3))
    reals = _reals(rng, 3)
    figures = []
    for _ in range(2):  # D updates 0, 1, 2 and 3, 4, 5: R1 on 0, 2 and 4
        calls_before = len(calls)
        figures.append(float(gan.train_step(reals)["penalty"]))
        assert len(calls) - calls_before == (2 if len(figures) == 1 else 1)
    assert [(weight, center) for _, weight, center in calls] == [(4.0, 0.0)] * 3
    np.testing.assert_array_equal(calls[0][0], np.array(reals[0]))
    np.testing.assert_array_equal(calls[1][0], np.array(reals[2]))
    np.testing.assert_array_equal(calls[2][0], np.array(reals[1]))
    assert figures[0] > 0 and figures[1] == 0  # the last D update of the second step (5) had none


def test_without_penalties_the_step_reports_no_penalty(rng):
    assert "penalty" not in build_gan(tiny_config()).train_step(_reals(rng))


def test_penalties_refuse_a_conditional_gan_and_a_critic_with_batch_norm():
    conditional = dict(
        generator=models.spec("mlp_generator", latent_dim=8, hidden=[16], num_classes=10),
        discriminator=models.spec("mlp_discriminator", hidden=[16], num_classes=10),
        num_classes=10,
    )
    with pytest.raises(ValueError, match=r"need an unconditional critic: gradient_penalty takes one input array"):
        build_gan(tiny_config(gp_weight=10.0, **conditional))
    radford = dict(generator=models.spec("radford_generator", latent_dim=8, image_shape=(16, 16, 1), width=1 / 16),
                   discriminator=models.spec("radford_discriminator", image_shape=(16, 16, 1), width=1 / 16))
    with pytest.raises(ValueError, match=r"gradient_penalty: the critic's layer .*BatchNormalization"):
        build_gan(tiny_config(r1_gamma=1.0, **radford))
    spectral = dict(radford, discriminator=models.spec("radford_discriminator", image_shape=(16, 16, 1),
                                                       width=1 / 16, spectral_norm=True))
    assert build_gan(tiny_config(r1_gamma=1.0, **spectral)).r1_gamma == 1.0
    with pytest.raises(ValueError, match=r"expected r1_every >= 1"):
        tiny_config(r1_every=0)


def test_a_penalized_run_resumes_bit_identically(tmp_path, mnist_dir):
    tiny = ["--width", "0.0625", "--latent-dim", "8", "--batch-size", "8", "--limit", "96", "--no-progress",
            "--r1-gamma", "1", "--r1-every", "2", "--d-steps", "2", "--seed", "1"]
    recipe = RECIPES["mnist_wgan_gp"]  # WGAN-GP with lazy R1 on top: both penalties cross the resume
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert cli_args.main(recipe, [*tiny, "--epochs", "2", "--out", str(straight)]) == 0
    assert cli_args.main(recipe, [*tiny, "--epochs", "1", "--out", str(resumed)]) == 0
    assert cli_args.main(recipe, ["--resume", str(resumed / "checkpoint.npz"), "--epochs", "2", "--no-progress"]) == 0
    a, b = checkpoint.load(straight / "checkpoint.npz"), checkpoint.load(resumed / "checkpoint.npz")
    assert a.meta["step"] == b.meta["step"] == 12
    assert a.meta["config"]["gp_weight"] == 10.0 and a.meta["config"]["r1_every"] == 2
    for key in a.arrays:
        if key.startswith(("model/", "optim/")):
            np.testing.assert_array_equal(a.arrays[key], b.arrays[key], err_msg=key)
