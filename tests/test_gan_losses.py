"""The hinge, Wasserstein and least-squares losses, the GAN objectives built from them, and weight clipping."""

from __future__ import annotations

import numpy as np
import pytest

from minigan import backend, losses, models
from minigan.gan import GAN_LOSSES, GAN_OBJECTIVES
from minigan.gradcheck import check_gradients
from minigan.training.config import TrainConfig, build_gan

ELEMENTARY = {"hinge": losses.hinge, "wasserstein": losses.wasserstein, "least_squares": losses.least_squares}


def _away_from_hinge_kinks(x: np.ndarray) -> np.ndarray:
    """Outputs at least 0.05 from +-1, where the hinge's finite differences straddle no kink."""
    return np.where(np.abs(np.abs(x) - 1) < 0.05, x + 0.2, x)


def test_hinge_wasserstein_and_least_squares_match_their_formulas(rng):
    x = rng.standard_normal((7, 1)) * 2
    t = rng.choice([-1.0, 1.0], (7, 1))
    loss, grad = losses.hinge(x, t)
    assert float(loss) == pytest.approx(np.mean(np.maximum(0, 1 - t * x)), rel=1e-12)
    np.testing.assert_array_equal(grad, np.where(t * x < 1, -t, 0) / 7)
    loss, grad = losses.wasserstein(x, t)
    assert float(loss) == pytest.approx(-np.mean(t * x), rel=1e-12)
    np.testing.assert_array_equal(grad, -t / 7)
    loss, grad = losses.least_squares(x, t)
    assert float(loss) == pytest.approx(0.5 * np.mean((x - t) ** 2), rel=1e-12)
    np.testing.assert_allclose(grad, (x - t) / 7, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(ELEMENTARY))
@pytest.mark.parametrize("target", [1.0, -1.0, 0.0, "array"])
def test_each_loss_gradient_matches_finite_differences(rng, name, target):
    fn = ELEMENTARY[name]
    x = _away_from_hinge_kinks(rng.standard_normal((9, 1)) * 2)
    t = rng.standard_normal((9, 1)) if target == "array" else target
    _, grad = fn(x, t)
    report = check_gradients(lambda: float(fn(x, t)[0]), {"outputs": grad}, {"outputs": x})
    report.assert_ok()


@pytest.mark.parametrize("name", sorted(ELEMENTARY))
def test_each_loss_keeps_float32_and_accepts_a_number_or_an_array_of_targets(rng, name):
    fn = ELEMENTARY[name]
    x = rng.standard_normal((4, 1)).astype(np.float32)
    loss, grad = fn(x, 1.0)
    assert loss.dtype == np.float32 and grad.dtype == np.float32 and grad.shape == x.shape
    loss_array, grad_array = fn(x, np.ones((4, 1), np.float64))
    assert loss_array.dtype == np.float32 and grad_array.dtype == np.float32
    assert float(loss_array) == pytest.approx(float(loss), rel=1e-6)
    with pytest.raises(ValueError, match=rf"{name}: expected targets of shape \(4, 1\), got \(4,\)"):
        fn(x, np.ones(4, np.float32))
    with pytest.raises(ValueError, match=rf"{name}: expected floating logits, got int64"):
        fn(np.ones((4, 1), np.int64), 1.0)


def _objective_losses(name: str, real: np.ndarray, fake: np.ndarray, s: float = 0.0) -> tuple[float, float]:
    """(D loss, G loss) of GAN_OBJECTIVES[name] on D's raw outputs on real and fake images."""
    objective = GAN_OBJECTIVES[name]
    return float(objective.real(real, s)[0] + objective.fake(fake)[0]), float(objective.generator(fake)[0])


def test_the_gan_losses_are_the_published_objectives(rng):
    real, fake = rng.standard_normal((6, 1)) * 2, rng.standard_normal((6, 1)) * 2

    def log_sigmoid(x):
        return -np.log1p(np.exp(-x))

    expected = {
        "non-saturating": (-np.mean(log_sigmoid(real)) - np.mean(log_sigmoid(-fake)), -np.mean(log_sigmoid(fake))),
        "minimax": (-np.mean(log_sigmoid(real)) - np.mean(log_sigmoid(-fake)), np.mean(log_sigmoid(-fake))),
        "hinge": (np.mean(np.maximum(0, 1 - real)) + np.mean(np.maximum(0, 1 + fake)), -np.mean(fake)),
        "wasserstein": (np.mean(fake) - np.mean(real), -np.mean(fake)),
        "least-squares": (0.5 * np.mean((real - 1) ** 2) + 0.5 * np.mean(fake ** 2), 0.5 * np.mean((fake - 1) ** 2)),
    }
    assert set(expected) == set(GAN_LOSSES)
    for name, (d_loss, g_loss) in expected.items():
        assert _objective_losses(name, real, fake) == pytest.approx((d_loss, g_loss), rel=1e-12), name
    d_loss, _ = _objective_losses("least-squares", real, fake, s=0.1)
    assert d_loss == pytest.approx(0.5 * np.mean((real - 0.9) ** 2) + 0.5 * np.mean(fake ** 2), rel=1e-12)


@pytest.mark.parametrize("name", GAN_LOSSES)
def test_each_gan_objective_gradient_matches_finite_differences(rng, name):
    objective = GAN_OBJECTIVES[name]
    real = _away_from_hinge_kinks(rng.standard_normal((5, 1)) * 2)
    fake = _away_from_hinge_kinks(rng.standard_normal((5, 1)) * 2)
    s = 0.1 if objective.smoothing else 0.0
    parts = {
        "D real": (lambda: objective.real(real, s), real),
        "D fake": (lambda: objective.fake(fake), fake),
        "G": (lambda: objective.generator(fake), fake),
    }
    for part, (fn, x) in parts.items():
        report = check_gradients(lambda fn=fn: float(fn()[0]), {part: fn()[1]}, {part: x})
        report.assert_ok()


def tiny_config(**overrides) -> TrainConfig:
    values = dict(
        generator=models.spec("dcgan_generator", latent_dim=8, width=1 / 32),
        discriminator=models.spec("dcgan_discriminator", width=1 / 16, dropout=0),
        batch_size=8, latent_dim=8, seed=3,
    )
    values.update(overrides)
    return TrainConfig(**values)


@pytest.mark.parametrize("name", GAN_LOSSES)
def test_the_step_reports_mean_sigmoid_for_cross_entropy_and_the_raw_mean_for_the_other_losses(rng, name):
    gan = build_gan(tiny_config(loss=name))
    real = backend.as_array(np.tanh(rng.standard_normal((8, 28, 28, 1))).astype(np.float32))
    outputs = backend.as_numpy(gan.discriminator.forward(real, training=False))  # no dropout, no BN: as in training
    stats = gan.train_step([real])
    expected = np.mean(1 / (1 + np.exp(-outputs))) if GAN_OBJECTIVES[name].probabilities else np.mean(outputs)
    assert float(stats["d_x"]) == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.parametrize("name, d_calls, g_calls", [
    ("hinge", [("hinge", 1.0), ("hinge", -1.0)], [("wasserstein", 1.0)]),
    ("wasserstein", [("wasserstein", 1.0), ("wasserstein", -1.0)], [("wasserstein", 1.0)]),
    ("least-squares", [("least_squares", pytest.approx(0.9)), ("least_squares", 0.0)], [("least_squares", 1.0)]),
])
def test_the_step_calls_each_objective_on_real_fake_and_generator_outputs(rng, monkeypatch, name, d_calls, g_calls):
    calls = []

    def spy(fn_name):
        fn = getattr(losses, fn_name)

        def recorded(outputs, targets):
            calls.append((fn_name, targets))
            return fn(outputs, targets)
        return recorded

    for fn_name in ("hinge", "wasserstein", "least_squares"):
        monkeypatch.setattr(losses, fn_name, spy(fn_name))
    smoothing = 0.1 if name == "least-squares" else 0.0
    gan = build_gan(tiny_config(loss=name, label_smoothing=smoothing))
    gan.train_step([backend.as_array(np.zeros((8, 28, 28, 1), np.float32))])
    assert calls == [*d_calls, *g_calls]


@pytest.mark.parametrize("name", ["hinge", "wasserstein"])
def test_label_smoothing_is_refused_by_the_losses_without_targets(name):
    with pytest.raises(ValueError, match=rf"the {name} loss has none, expected label_smoothing 0, got 0.1"):
        build_gan(tiny_config(loss=name, label_smoothing=0.1))


def test_clip_clamps_every_discriminator_parameter_after_each_update(rng):
    gan = build_gan(tiny_config(loss="wasserstein", clip=0.01, d_steps=2))
    params = gan.discriminator.params
    assert max(float(np.abs(p).max()) for p in params.values()) > 0.01  # Glorot: clipping has something to do
    reals = [backend.as_array(np.tanh(rng.standard_normal((8, 28, 28, 1))).astype(np.float32)) for _ in range(2)]
    gan.train_step(reals)
    assert gan.opt_d.t == 2
    for key, p in params.items():
        assert float(np.abs(p).max()) <= 0.01, key
    assert any(float(np.abs(p).max()) == np.float32(0.01) for p in params.values())
    with pytest.raises(ValueError, match=r"expected clip >= 0"):
        build_gan(tiny_config(clip=-1.0))
