"""The GAN step and the training loop: exact resume, Ctrl-C, divergence, outputs."""

from __future__ import annotations

import csv
import signal

import numpy as np
import pytest

from minigan import backend, losses, models
from minigan.training import TrainConfig, Trainer, build_gan, checkpoint, default_callbacks
from minigan.training.callbacks import Diverged


def tiny_config(**overrides) -> TrainConfig:
    values = dict(
        generator=models.spec("dcgan_generator", latent_dim=8, width=1 / 32),
        discriminator=models.spec("dcgan_discriminator", width=1 / 16),
        epochs=2,
        batch_size=16,
        latent_dim=8,
        lr_g=2e-4,
        lr_d=2e-4,
        beta1=0.5,
        seed=3,
    )
    values.update(overrides)
    return TrainConfig(**values)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.tanh(rng.standard_normal((64, 28, 28, 1))).astype(np.float32)  # 4 steps of 16 per epoch


def make_trainer(config: TrainConfig, images: np.ndarray, out_dir=None) -> Trainer:
    return Trainer(build_gan(config), images, config, out_dir=out_dir, log=lambda line: None,
                   callbacks=default_callbacks(config, out_dir, images, progress=False))


def weights(trainer: Trainer) -> dict[str, np.ndarray]:
    gan = trainer.gan
    out = {}
    for name, model in (("g", gan.generator), ("d", gan.discriminator)):
        for kind in ("params", "state"):
            for key, value in getattr(model, kind).items():
                out[f"{name}/{kind}/{key}"] = backend.as_numpy(value).copy()
    for name, opt in (("g", gan.opt_g), ("d", gan.opt_d)):
        for slot, values in opt.slots.items():
            for key, value in values.items():
                out[f"opt_{name}/{slot}/{key}"] = backend.as_numpy(value).copy()
    return out


def assert_bit_identical(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), f"{key} differs"


def test_resume_after_one_epoch_is_bit_identical_to_an_uninterrupted_run(images, tmp_path):
    straight = make_trainer(tiny_config(), images)
    straight.fit()

    first = make_trainer(tiny_config(epochs=1), images, tmp_path)
    first.fit()
    assert checkpoint.load(tmp_path / "checkpoint.npz").meta["step"] == 4
    backend.seed(12345)  # a different RNG state before resuming must not matter
    resumed = make_trainer(tiny_config(), images, tmp_path)
    resumed.load_checkpoint(tmp_path / "checkpoint.npz")
    resumed.fit()

    assert resumed.step == straight.step == 8
    assert_bit_identical(weights(resumed), weights(straight))
    assert np.array_equal(np.asarray(resumed.history)[:, :6], np.asarray(straight.history)[:, :6])


def test_ctrl_c_mid_epoch_checkpoints_and_resume_is_bit_identical(images, tmp_path):
    straight = make_trainer(tiny_config(), images)
    straight.fit()

    interrupted = make_trainer(tiny_config(), images, tmp_path)
    train_step = interrupted.gan.train_step

    def press_ctrl_c_at_step_6(reals):
        stats = train_step(reals)
        if interrupted.step == 5:  # the step counter is advanced after train_step returns
            signal.raise_signal(signal.SIGINT)
        return stats

    interrupted.gan.train_step = press_ctrl_c_at_step_6
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit()
    assert checkpoint.load(tmp_path / "checkpoint.npz").meta["step"] == 6  # mid-epoch 2

    resumed = make_trainer(tiny_config(), images, tmp_path)
    resumed.load_checkpoint(tmp_path / "checkpoint.npz")
    resumed.fit()
    assert_bit_identical(weights(resumed), weights(straight))


def test_nan_weight_stops_with_diverged_and_keeps_the_last_good_checkpoint(images, tmp_path):
    trainer = make_trainer(tiny_config(epochs=1), images, tmp_path)
    trainer.fit()
    good = checkpoint.load(tmp_path / "checkpoint.npz")

    trainer.config.epochs = 2
    trainer.gan.generator.params["dense/kernel"][0, 0] = np.nan
    with pytest.raises(Diverged, match="diverged at step 5.*last good checkpoint.*step 4"):
        trainer.fit()
    kept = checkpoint.load(tmp_path / "checkpoint.npz")
    assert kept.meta["step"] == 4
    assert all(np.isfinite(v).all() for v in kept.arrays.values() if v.dtype.kind == "f")
    assert np.array_equal(kept.arrays["model/generator/params/dense/kernel"],
                          good.arrays["model/generator/params/dense/kernel"])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_huge_learning_rate_diverges_with_a_clear_error(images):
    trainer = make_trainer(tiny_config(lr_g=1e30, lr_d=1e30, epochs=3), images)
    with pytest.raises(Diverged, match="diverged at step .*lower learning rate"):
        trainer.fit()


def test_run_writes_grids_gif_curves_csv_and_checkpoint(images, tmp_path):
    trainer = make_trainer(tiny_config(), images, tmp_path)
    trainer.fit()
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["epoch_001.png", "epoch_002.png"]
    from PIL import Image

    with Image.open(tmp_path / "samples.gif") as gif:
        assert gif.n_frames == 2
    with Image.open(tmp_path / "samples" / "epoch_002.png") as grid:
        assert grid.size == (8 * 30 + 2, 8 * 30 + 2)  # 64 samples, 8x8 tiles of 28 px + 2 px padding
    assert (tmp_path / "losses.png").stat().st_size > 0
    with open(tmp_path / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["step", "epoch", "d_loss", "g_loss", "d_x", "d_g_z", "images_per_s"]
    assert [int(r["step"]) for r in rows] == list(range(1, 9))
    assert [int(r["epoch"]) for r in rows] == [1] * 4 + [2] * 4
    assert all(0 < float(r["d_x"]) < 1 and float(r["images_per_s"]) > 0 for r in rows)


def test_discriminator_is_trainable_and_nothing_pending_after_a_step(images):
    gan = build_gan(tiny_config(d_steps=2, g_steps=2))
    reals = [backend.as_array(images[:16]), backend.as_array(images[16:32])]
    t_d, t_g = gan.opt_d.t, gan.opt_g.t
    stats = gan.train_step(reals)
    assert (gan.opt_d.t - t_d, gan.opt_g.t - t_g) == (2, 2)
    assert gan.discriminator.trainable
    gan.train_step(reals)  # a pending forward would raise here
    assert set(stats) == {"d_loss", "g_loss", "d_x", "d_g_z"}


def test_minimax_generator_loss_is_minus_bce_to_zero_and_gradient_is_negated():
    gan = build_gan(tiny_config(loss="minimax"))
    logits = np.array([[-2.0], [0.5], [3.0]], dtype=np.float32)
    loss, grad = gan.objective.generator(logits)
    ref_loss, ref_grad = losses.bce_with_logits(logits, 0.0)
    assert float(loss) == pytest.approx(-float(ref_loss))
    np.testing.assert_array_equal(grad, -ref_grad)
    gan_ns = build_gan(tiny_config())
    loss_ns, _ = gan_ns.objective.generator(logits)
    assert float(loss_ns) == pytest.approx(float(losses.bce_with_logits(logits, 1.0)[0]))


def test_label_smoothing_sets_the_real_target_to_one_minus_s(images, monkeypatch):
    targets = []
    real_bce = losses.bce_with_logits

    def spy(logits, target):
        targets.append(target)
        return real_bce(logits, target)

    monkeypatch.setattr(losses, "bce_with_logits", spy)
    gan = build_gan(tiny_config(label_smoothing=0.1))
    gan.train_step([backend.as_array(images[:16])])
    assert targets == [pytest.approx(0.9), 0.0, 1.0]  # D real, D fake, G (non-saturating)


def test_trainer_refuses_images_of_the_wrong_shape():
    config = tiny_config()
    with pytest.raises(ValueError, match=r"expected images \(N, 28, 28, 1\), got \(64, 32, 32, 3\)"):
        Trainer(build_gan(config), np.zeros((64, 32, 32, 3), np.float32), config, callbacks=default_callbacks(config,
                None, np.zeros((64, 32, 32, 3), np.float32), progress=False))
