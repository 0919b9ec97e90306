"""``eval_every``: sample-quality figures logged during training, saved, plotted and resumed."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from minigan import models
from minigan.evaluate import get_classifier
from minigan.training import TrainConfig, Trainer, build_gan, checkpoint, default_callbacks, plots


def tiny_config(**overrides) -> TrainConfig:
    values = dict(
        generator=models.spec("dcgan_generator", latent_dim=8, width=1 / 32),
        discriminator=models.spec("dcgan_discriminator", width=1 / 16),
        epochs=4, batch_size=16, latent_dim=8, seed=3, eval_every=2, eval_samples=24,
    )
    values.update(overrides)
    return TrainConfig(**values)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.tanh(np.random.default_rng(0).standard_normal((32, 28, 28, 1))).astype(np.float32)


class RecordingScorer:
    """Stands in for the classifier: figures computed from the images it is given."""

    def __init__(self) -> None:
        self.calls: list[np.ndarray] = []

    def __call__(self, samples: np.ndarray) -> dict:
        self.calls.append(samples)
        histogram = np.zeros(10, int)
        histogram[:3] = [len(samples) - 2, 1, 1]  # classes 1 and 2 below 1% of a large set, not of 24
        return {"fid": float(np.abs(samples).mean()), "inception_score": 1.5, "mean_confidence": 0.5,
                "class_histogram": histogram.tolist()}


def test_quality_is_scored_every_n_epochs_and_written_plotted_and_checkpointed(images, tmp_path):
    scorer = RecordingScorer()
    trainer = Trainer(build_gan(tiny_config()), images, tiny_config(), out_dir=tmp_path, log=lambda line: None,
                      callbacks=default_callbacks(tiny_config(), tmp_path, images, progress=False, evaluate=scorer))
    trainer.fit()
    assert len(scorer.calls) == 2  # after epochs 2 and 4
    assert all(c.shape == (24, 28, 28, 1) and c.dtype == np.float32 and np.abs(c).max() <= 1 for c in scorer.calls)
    assert [row[:2] for row in trainer.quality] == [(4, 2), (8, 4)]
    with open(tmp_path / "quality.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["2", "4"] and rows[0]["classes_covered"] == "3"
    assert float(rows[1]["fid"]) == pytest.approx(trainer.quality[1][2], rel=1e-5)
    assert (tmp_path / "losses.png").stat().st_size > 0
    np.testing.assert_array_equal(checkpoint.load(tmp_path / "checkpoint.npz").array("quality"), trainer.quality)
    assert rows[0]["label_accuracy"] == rows[0]["diversity"] == "nan"  # unconditional: no label figures


def test_a_conditional_run_writes_label_accuracy_and_diversity_per_evaluation(images, tmp_path):
    config = tiny_config(
        generator=models.spec("mlp_generator", latent_dim=8, hidden=[8], num_classes=10, label_units=4),
        discriminator=models.spec("mlp_discriminator", hidden=[4], num_classes=10),
        num_classes=10, epochs=2, eval_every=1,
    )
    seen = []

    def scorer(samples, labels):
        seen.append(labels)
        figures = RecordingScorer()(samples)
        return {**figures, "label_accuracy": float(labels.mean()) / 10, "diversity": float(samples.std(axis=0).mean())}

    trainer = Trainer(build_gan(config), images, config, out_dir=tmp_path, log=lambda line: None,
                      labels=np.arange(len(images)) % 10, callbacks=default_callbacks(config, tmp_path, images,
                                                                                      progress=False, evaluate=scorer))
    trainer.fit()

    np.testing.assert_array_equal(seen[0], np.arange(24) % 10)  # the classes in turn
    with open(tmp_path / "quality.csv") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["label_accuracy"]) for r in rows] == pytest.approx([np.mean(np.arange(24) % 10) / 10] * 2)
    diversity = trainer.quality["diversity"][1]
    assert float(rows[1]["diversity"]) == pytest.approx(diversity, rel=1e-5) and diversity > 0


def test_a_checkpoint_with_the_older_six_quality_columns_resumes_with_nan_label_figures(images, tmp_path):
    first = Trainer(build_gan(tiny_config(epochs=2)), images, tiny_config(epochs=2), out_dir=tmp_path,
                    log=lambda line: None, callbacks=default_callbacks(tiny_config(epochs=2), tmp_path, images,
                                                                       progress=False, evaluate=RecordingScorer()))
    first.fit()
    ckpt = checkpoint.load(tmp_path / "checkpoint.npz")
    ckpt.arrays["array/quality"] = ckpt.array("quality")[:, :6]  # as written before the label columns

    resumed = Trainer(build_gan(tiny_config()), images, tiny_config(), out_dir=tmp_path, log=lambda line: None,
                      callbacks=default_callbacks(tiny_config(), tmp_path, images, progress=False,
                                                  evaluate=RecordingScorer()))
    resumed.load_checkpoint(ckpt)
    resumed.fit()

    assert [len(row) for row in resumed.quality] == [len(plots.QUALITY_COLUMNS)] * 2
    assert np.isnan(resumed.quality[0][6:]).all() and resumed.quality[0][:6] == first.quality[0][:6]


class NamedScorer(RecordingScorer):
    """A scorer whose figures name their evaluator."""

    def __call__(self, samples: np.ndarray) -> dict:
        return {**super().__call__(samples), "evaluator": {"label": "fake@0123abcd"}}


@pytest.mark.parametrize("older", [False, True], ids=["same", "older checkpoint"])
def test_each_rows_evaluator_is_kept_in_the_checkpoint_and_resumed(images, tmp_path, older):
    first = Trainer(build_gan(tiny_config(epochs=2)), images, tiny_config(epochs=2), out_dir=tmp_path,
                    log=lambda line: None, callbacks=default_callbacks(tiny_config(epochs=2), tmp_path, images,
                                                                       progress=False, evaluate=NamedScorer()))
    first.fit()
    ckpt = checkpoint.load(tmp_path / "checkpoint.npz")
    assert ckpt.meta["quality_evaluators"] == ["fake@0123abcd"]
    if older:
        del ckpt.meta["quality_evaluators"]  # as written before the evaluators were recorded
        ckpt.arrays["array/quality"] = ckpt.array("quality")[:, :8]  # and before KID, precision, recall

    resumed = Trainer(build_gan(tiny_config()), images, tiny_config(), out_dir=tmp_path, log=lambda line: None,
                      callbacks=default_callbacks(tiny_config(), tmp_path, images, progress=False,
                                                  evaluate=NamedScorer()))
    resumed.load_checkpoint(ckpt)
    resumed.fit()

    stored = checkpoint.load(tmp_path / "checkpoint.npz").meta["quality_evaluators"]
    assert stored == ["" if older else "fake@0123abcd", "fake@0123abcd"]
    assert np.isnan(resumed.quality["kid"]).all()  # a scorer without KID: NaN, as in an older checkpoint


def test_scoring_leaves_the_training_bit_identical_and_resume_keeps_the_figures(images, tmp_path):
    plain = Trainer(build_gan(tiny_config(eval_every=0)), images, tiny_config(eval_every=0), log=lambda line: None,
                    callbacks=default_callbacks(tiny_config(eval_every=0), None, images, progress=False))
    plain.fit()
    first = Trainer(build_gan(tiny_config(epochs=2)), images, tiny_config(epochs=2), out_dir=tmp_path,
                    log=lambda line: None, callbacks=default_callbacks(tiny_config(epochs=2), tmp_path, images,
                                                                       progress=False, evaluate=RecordingScorer()))
    first.fit()
    resumed = Trainer(build_gan(tiny_config()), images, tiny_config(), out_dir=tmp_path, log=lambda line: None,
                      callbacks=default_callbacks(tiny_config(), tmp_path, images, progress=False,
                                                  evaluate=RecordingScorer()))
    resumed.load_checkpoint(tmp_path / "checkpoint.npz")
    assert len(resumed.quality) == 1
    resumed.fit()
    assert len(resumed.quality) == 2
    for key, value in plain.gan.generator.params.items():
        np.testing.assert_array_equal(resumed.gan.generator.params[key], value)


def test_default_scorer_refuses_colour_images():
    config = tiny_config(
        generator=models.spec("dcgan_generator", latent_dim=8, width=1 / 32, image_shape=(32, 32, 3)),
        discriminator=models.spec("dcgan_discriminator", width=1 / 16, image_shape=(32, 32, 3)),
    )
    colour = np.zeros((16, 32, 32, 3), np.float32)
    with pytest.raises(ValueError, match=r"need images \(28, 28, 1\), or square one-channel images \(S, S, 1\) "
                                         r"to resize to 28x28; got \(32, 32, 3\)"):
        Trainer(build_gan(config), colour, config, callbacks=default_callbacks(config, None, colour, progress=False))


def test_the_default_scorer_is_the_shipped_evaluator_named_in_the_log_and_the_checkpoint(
        images, tmp_path, monkeypatch, stand_in_evaluator):
    """Plumbing: random images stand in for the MNIST test split; nothing is trained or cached first."""
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "empty"))
    stand_in_evaluator()
    config, lines = tiny_config(epochs=2, eval_every=1), []

    trainer = Trainer(build_gan(config), images, config, out_dir=tmp_path, log=lines.append,
                      callbacks=default_callbacks(config, tmp_path, images, progress=False))
    trainer.fit()

    label = get_classifier().label
    scored = [line for line in lines if "FID" in line]
    assert len(scored) == 2 and all(f"[against the MNIST test split, 40 images, evaluator {label}]" in line
                                    and "KID" in line and "precision" in line for line in scored)
    assert checkpoint.load(tmp_path / "checkpoint.npz").meta["quality_evaluators"] == [label, label]
    assert np.isfinite(trainer.quality["kid"]).all()
    assert ((trainer.quality["recall"] >= 0) & (trainer.quality["precision"] <= 1)).all()
    assert not (tmp_path / "empty").exists()


def test_eval_every_must_not_be_negative():
    with pytest.raises(ValueError, match="expected eval_every >= 0"):
        tiny_config(eval_every=-1)


def test_a_conditional_gan_is_scored_with_the_labels_its_samples_were_drawn_for(tmp_path):
    config = TrainConfig(
        generator=models.spec("mlp_generator", latent_dim=8, hidden=[8], num_classes=3),
        discriminator=models.spec("mlp_discriminator", hidden=[8], num_classes=3),
        num_classes=3, epochs=2, batch_size=8, latent_dim=8, eval_every=1, eval_samples=7,
    )
    rng = np.random.default_rng(0)
    images = np.tanh(rng.standard_normal((16, 28, 28, 1))).astype(np.float32)
    seen, lines = [], []

    def scorer(samples: np.ndarray, labels: np.ndarray) -> dict:
        seen.append(labels)
        figures = RecordingScorer()(samples)
        return {**figures, "label_accuracy": float(labels.mean()), "diversity": 0.25}

    trainer = Trainer(build_gan(config), images, config, log=lines.append, labels=rng.integers(0, 3, 16),
                      callbacks=default_callbacks(config, None, images, progress=False, evaluate=scorer))
    trainer.fit()
    assert [labels.tolist() for labels in seen] == [[0, 1, 2, 0, 1, 2, 0]] * 2  # class i mod K for sample i
    scored = [line for line in lines if "label accuracy" in line]
    assert len(scored) == 2 and "label accuracy 0.857, within-class diversity 0.250" in scored[0]
