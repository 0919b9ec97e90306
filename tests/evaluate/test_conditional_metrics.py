"""Label accuracy and within-class diversity of conditional samples (minigan/evaluate/conditional.py)."""

import json
from dataclasses import asdict

import numpy as np
import pytest

import minigan.cli as minigan_cli
from minigan import models
from minigan.cli.evaluate import sampled_labels
from minigan.evaluate import (
    classifier,
    conditional_scores,
)
from minigan.evaluate.conditional import class_indices
from minigan.training import TrainConfig, checkpoint


def _one_hot_probabilities(predicted, num_classes=10):
    return np.eye(num_classes)[predicted]


def test_scores_of_a_small_set_match_the_hand_computed_figures():
    # Class 0: two images, 0 and v(pixel), so the per-pixel std is |v| / 2. Class 1: three images,
    # 0, 0 and 0.6 everywhere: mean 0.2, std sqrt((0.04 + 0.04 + 0.16) / 3) = sqrt(0.08).
    v = np.linspace(-1, 1, 28 * 28, dtype=np.float32).reshape(28, 28, 1)
    images = np.stack([np.zeros_like(v), v, np.zeros_like(v), np.zeros_like(v), np.full_like(v, 0.6)])
    labels = np.array([0, 0, 1, 1, 1])
    predicted = np.array([0, 1, 1, 1, 3])

    result = conditional_scores(images, labels, probabilities=_one_hot_probabilities(predicted))

    assert result["label_accuracy"] == pytest.approx(3 / 5)  # over images, not the mean of 1/2 and 2/3
    assert result["label_accuracy_per_class"][:2] == pytest.approx([1 / 2, 2 / 3])
    assert result["label_accuracy_per_class"][2:] == [None] * 8
    assert result["diversity_per_class"][0] == pytest.approx(np.abs(v).mean() / 2, rel=1e-6)
    assert result["diversity_per_class"][1] == pytest.approx(np.sqrt(0.08), rel=1e-6)  # ddof 0
    assert result["diversity_per_class"][2:] == [None] * 8
    assert result["diversity"] == pytest.approx((np.abs(v).mean() / 2 + np.sqrt(0.08)) / 2, rel=1e-6)


def test_one_hot_labels_give_the_same_scores_as_class_indices():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (30, 28, 28, 1)).astype(np.float32)
    labels = rng.integers(0, 10, 30)
    probabilities = rng.dirichlet(np.ones(10), 30)

    by_index = conditional_scores(images, labels, probabilities=probabilities)
    by_one_hot = conditional_scores(images, np.eye(10, dtype=np.float32)[labels], probabilities=probabilities)

    assert by_index == by_one_hot


@pytest.mark.parametrize(
    "labels, message",
    [
        (np.arange(4), "expected 5 integer labels"),
        (np.array([0, 1, 2, 3, 10]), "values from 0 to 10"),
        (np.zeros((5, 10)), "one-hot labels"),
        (np.zeros(5), "float64"),
    ],
)
def test_labels_of_the_wrong_count_range_or_kind_are_refused(labels, message):
    with pytest.raises(ValueError, match=message):
        class_indices(labels, 5, 10)


def test_sampled_labels_are_the_classes_in_turn_for_a_conditional_checkpoint_only(tmp_path):
    conditional = TrainConfig(
        generator=models.spec("mlp_generator", latent_dim=4, hidden=[4], num_classes=3),
        discriminator=models.spec("mlp_discriminator", hidden=[4], num_classes=3),
        num_classes=3, latent_dim=4,
    )
    path = tmp_path / "checkpoint.npz"
    checkpoint.save(path, {"generator": models.build(conditional.generator)}, {}, {"config": asdict(conditional)})

    np.testing.assert_array_equal(sampled_labels(path, 7), [0, 1, 2, 0, 1, 2, 0])
    assert sampled_labels(tmp_path / "samples.npy", 7) is None


def test_cli_evaluate_scores_a_conditional_checkpoint_per_class(tmp_path, stand_in_evaluator, capsys):
    """Plumbing only: random "MNIST" stands in for the real one."""
    fake_mnist = stand_in_evaluator()
    config = TrainConfig(
        generator=models.spec("mlp_generator", latent_dim=4, hidden=[8], num_classes=10, label_units=4),
        discriminator=models.spec("mlp_discriminator", hidden=[4], num_classes=10),
        num_classes=10, latent_dim=4,
    )
    path = tmp_path / "checkpoint.npz"
    checkpoint.save(path, {"generator": models.build(config.generator)}, {}, {"config": asdict(config)})

    status = minigan_cli.main(["evaluate", str(path), "-n", "30", "--json", str(tmp_path / "out.json")])

    out = capsys.readouterr().out
    figures = json.loads((tmp_path / "out.json").read_text())
    assert status == 0 and "label accuracy" in out and "within-class diversity" in out
    conditional = figures["conditional"]
    assert len(conditional["label_accuracy_per_class"]) == 10 and len(conditional["diversity_per_class"]) == 10
    assert 0 <= conditional["label_accuracy"] <= 1 and conditional["diversity"] > 0
    # The floor beside it: the first 30 "training images" scored with their own labels.
    expected = conditional_scores(fake_mnist[0][:30], fake_mnist[1][:30], classifier.get_classifier())
    floor = figures["reference"]["conditional"]
    for key in ("label_accuracy", "diversity"):
        assert floor[key] == pytest.approx(expected[key]) and floor[key + "_per_class"] == pytest.approx(
            expected[key + "_per_class"])


# -- on real MNIST --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist_and_quick_classifier(mnist_dir):
    """Real MNIST (skipped without MINIGAN_DATA) and a classifier trained for 40 small steps (seconds)."""
    images, labels = classifier.load_mnist_split("train")
    net = classifier.train_classifier(images[:4000], labels[:4000], epochs=1, batch_size=32, max_steps=40, log=None)
    return images[20000:22000], labels[20000:22000], net


def test_real_labelled_images_score_the_classifiers_accuracy_and_real_diversity(mnist_and_quick_classifier):
    images, labels, net = mnist_and_quick_classifier

    result = conditional_scores(images, labels, net)

    assert result["label_accuracy"] == pytest.approx(net.accuracy(images, labels))
    assert result["label_accuracy"] > 0.5
    # Real MNIST digits vary within a class: 0.31 on average, the 1s least (about 0.19).
    assert 0.28 < result["diversity"] < 0.34
    assert np.argmin(result["diversity_per_class"]) == 1


def test_shuffled_labels_score_chance_accuracy_and_more_than_real_diversity(mnist_and_quick_classifier):
    images, labels, net = mnist_and_quick_classifier
    shuffled = np.random.default_rng(0).permutation(labels)

    real, mixed = conditional_scores(images, labels, net), conditional_scores(images, shuffled, net)

    assert 0.05 < mixed["label_accuracy"] < 0.15
    assert mixed["diversity"] > real["diversity"] + 0.03  # each "class" now mixes all the digits


def test_one_image_per_class_has_no_diversity(mnist_and_quick_classifier):
    images, labels, net = mnist_and_quick_classifier
    first = [int(np.flatnonzero(labels == k)[0]) for k in range(10)]

    result = conditional_scores(images[first], labels[first], net)

    assert result["diversity"] == 0 and result["diversity_per_class"] == [0.0] * 10


def test_the_shipped_classifier_puts_99_percent_of_real_test_digits_in_their_class(mnist_dir):
    images, labels = classifier.load_mnist_split("test")

    result = conditional_scores(images, labels, classifier.get_classifier())

    assert result["label_accuracy"] > 0.98 and min(result["label_accuracy_per_class"]) > 0.97
    assert result["diversity"] == pytest.approx(0.312, abs=0.002)  # the figure docs/evaluation.md quotes
