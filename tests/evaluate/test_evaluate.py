"""Sample-quality evaluation: the Frechet distance, the scores, the classifier file and the CLI."""

import hashlib
import json
from dataclasses import asdict

import numpy as np
import pytest

import minigan.cli as minigan_cli
from minigan import backend, models
from minigan.cli import evaluate as evaluate_cli
from minigan.evaluate import (
    Classifier,
    build_model,
    cache_path,
    class_histogram,
    classifier,
    frechet_distance,
    frechet_distance_of_features,
    inception_score,
    load_classifier,
    mean_confidence,
    save_classifier,
    scores,
)
from minigan.evaluate.classifier import check_images
from minigan.training import TrainConfig, checkpoint


def _random_psd(rng, d):
    a = rng.standard_normal((d, d))
    return a @ a.T + 0.1 * np.eye(d)


def test_frechet_distance_of_identical_gaussians_is_zero():
    rng = np.random.default_rng(0)
    cov = _random_psd(rng, 6)
    mu = rng.standard_normal(6)

    assert frechet_distance(mu, cov, mu, cov) == pytest.approx(0, abs=1e-9)


def test_frechet_distance_of_diagonal_gaussians_has_the_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    var1, var2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)

    assert frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(expected, rel=1e-12)


def test_frechet_distance_matches_the_eigenvalues_of_the_non_symmetric_product():
    rng = np.random.default_rng(1)
    c1, c2 = _random_psd(rng, 5), _random_psd(rng, 5)
    mu1, mu2 = rng.standard_normal(5), rng.standard_normal(5)
    # C1 C2 has real non-negative eigenvalues; tr sqrt(C1 C2) is the sum of their square roots.
    trace_sqrt = np.sqrt(np.linalg.eigvals(c1 @ c2).real).sum()
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(c1) + np.trace(c2) - 2 * trace_sqrt

    assert frechet_distance(mu1, c1, mu2, c2) == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_of_features_grows_with_the_mean_shift():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4000, 3)).astype(np.float32)
    b = rng.standard_normal((4000, 3)).astype(np.float32)

    same = frechet_distance_of_features(a, b)
    shifted = frechet_distance_of_features(a, b + 2)

    assert same < 0.02
    assert shifted == pytest.approx(12, rel=0.05)  # |shift|^2 = 3 * 2^2


def test_frechet_distance_rejects_mismatched_dimensions():
    with pytest.raises(ValueError, match="frechet_distance"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def test_inception_score_is_k_for_confident_balanced_predictions_and_1_for_one_class():
    balanced = np.eye(10)[np.arange(100) % 10]
    one_class = np.eye(10)[np.zeros(100, dtype=int)]
    unsure = np.full((100, 10), 0.1)

    assert inception_score(balanced) == pytest.approx(10, rel=1e-6)
    assert inception_score(one_class) == pytest.approx(1, rel=1e-6)
    assert inception_score(unsure) == pytest.approx(1, rel=1e-6)


def test_class_histogram_counts_argmax_and_confidence_averages_max_probability():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.5, 0.4, 0.1]])

    assert class_histogram(p).tolist() == [2, 1, 0]
    assert mean_confidence(p) == pytest.approx((0.7 + 0.8 + 0.5) / 3)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((2, 28, 28, 1), dtype=np.uint8), "expected float images"),
        (np.zeros((2, 32, 32, 1), dtype=np.float32), "shape \\(N, 28, 28, 1\\)"),
        (np.full((2, 28, 28, 1), 255.0, dtype=np.float32), "values in \\[-1, 1\\]"),
    ],
)
def test_check_images_rejects_wrong_dtype_shape_and_range(images, message):
    with pytest.raises(ValueError, match=message):
        check_images(images, "samples.npy")


def test_saved_classifier_loads_with_the_same_outputs_name_and_hash(tmp_path):
    net = Classifier(build_model(), test_accuracy=0.5, name="digits", dataset="fashion-mnist")
    images = np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)).astype(np.float32)

    path = save_classifier(net, tmp_path / "sub" / "classifier.npz")
    loaded = load_classifier(path)

    assert loaded.test_accuracy == 0.5 and (loaded.name, loaded.dataset) == ("digits", "fashion-mnist")
    assert loaded.sha256 == net.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert loaded.label == f"digits@{net.sha256[:8]}"
    for a, b in zip(net.features_and_probabilities(images), loaded.features_and_probabilities(images), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [p.name for p in path.parent.iterdir()] == ["classifier.npz"]  # no temp file left behind


def test_the_same_weights_always_make_the_same_file(tmp_path):
    net = Classifier(build_model())

    first = save_classifier(net, tmp_path / "a.npz").read_bytes()
    second = save_classifier(load_classifier(tmp_path / "a.npz"), tmp_path / "b.npz").read_bytes()

    assert first == second  # no dates in the archive: the hash names the weights


def test_load_classifier_rejects_a_file_of_another_kind(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, meta=np.array(json.dumps({"architecture": "something-else"})))

    with pytest.raises(ValueError, match="other.npz.*architecture"):
        load_classifier(path)


def test_a_file_whose_hash_is_not_the_pinned_one_is_refused_in_one_line(tmp_path):
    path = save_classifier(Classifier(build_model()), tmp_path / "classifier.npz")
    pinned = "0" * 64

    with pytest.raises(ValueError, match=r"classifier.npz: SHA-256 [0-9a-f]{16}\.\.\. is not the pinned 0{16}\.\.\.: "
                                         "the shipped evaluator's file is damaged or was changed; reinstall minigan"):
        load_classifier(path, sha256=pinned)


def test_cache_path_honours_minigan_cache_per_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path))

    assert cache_path() == tmp_path / "classifier.npz"
    assert cache_path("fashion-mnist") == tmp_path / "classifier-fashion-mnist.npz"


def test_get_classifier_gives_the_shipped_weights_once_per_process_and_needs_no_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path))  # empty: nothing trained here

    mnist, fashion = classifier.get_classifier(), classifier.get_classifier("fashion-mnist")

    assert classifier.get_classifier("mnist") is mnist and mnist.shipped and fashion.shipped
    assert (mnist.name, mnist.dataset, mnist.sha256) == ("mnist-cnn", "mnist", classifier.SHIPPED["mnist"].sha256)
    assert fashion.label == f"fashion-mnist-cnn@{classifier.SHIPPED['fashion-mnist'].sha256[:8]}"
    assert list(tmp_path.iterdir()) == []


def test_get_classifier_reads_another_file_when_given_one(tmp_path):
    path = save_classifier(Classifier(build_model(), name="mine"), tmp_path / "mine.npz")

    mine = classifier.get_classifier(path=path)

    assert mine.label.startswith("mine@") and not mine.shipped
    with pytest.raises(ValueError, match="missing.npz: no such classifier file"):
        classifier.get_classifier(path=tmp_path / "missing.npz")


def test_cli_evaluate_prints_and_writes_figures_beside_the_floor_naming_evaluator_and_reference(
        tmp_path, stand_in_evaluator, capsys):
    """Plumbing only: random "MNIST" stands in for the real one (the shipped evaluator scores it)."""
    stand_in_evaluator()
    rng = np.random.default_rng(0)
    samples = tmp_path / "samples.npy"
    np.save(samples, rng.uniform(-1, 1, (30, 28, 28, 1)).astype(np.float32))

    status = minigan_cli.main(["evaluate", str(samples), "-n", "20", "--json", str(tmp_path / "out.json")])

    out = capsys.readouterr().out
    figures = json.loads((tmp_path / "out.json").read_text())
    label = classifier.get_classifier().label
    assert status == 0
    assert f"evaluator: {label} (shipped, trained on MNIST)" in out
    assert "reference: MNIST test split, 40 images" in out and "real MNIST" in out
    for row in ("images", "FID", "KID (+- std)", "precision (k=3)", "recall (k=3)", "Inception Score"):
        assert f"\n{row}" in out
    assert figures["evaluator"]["label"] == label and figures["evaluator"]["shipped"] is True
    assert figures["reference_set"] == "MNIST test split, 40 images"
    assert figures["n"] == 20 and figures["reference"]["n"] == 20 and sum(figures["class_histogram"]) == 20
    assert "training images" in figures["reference"]["images"] and figures["reference"]["fid"] > 0
    assert 1 <= figures["inception_score"] <= 10 and figures["fid"] >= 0
    for key in ("kid", "kid_std", "precision", "recall"):
        assert np.isfinite(figures[key]) and np.isfinite(figures["reference"][key])
    assert 0 <= figures["precision"] <= 1 and 0 <= figures["recall"] <= 1 and figures["k"] == 3


def test_cli_evaluate_with_another_evaluator_names_it(tmp_path, stand_in_evaluator, capsys):
    stand_in_evaluator()
    mine = save_classifier(Classifier(build_model(), name="mine"), tmp_path / "mine.npz")
    samples = tmp_path / "samples.npy"
    np.save(samples, np.random.default_rng(0).uniform(-1, 1, (10, 28, 28, 1)).astype(np.float32))

    status = minigan_cli.main(["evaluate", str(samples), "--evaluator", str(mine), "--json", str(tmp_path / "o.json")])

    assert status == 0

    label = load_classifier(mine).label
    assert f"evaluator: {label} (not the shipped weights, trained on MNIST)" in capsys.readouterr().out
    assert json.loads((tmp_path / "o.json").read_text())["evaluator"]["label"] == label


def test_scores_of_a_reference_from_another_evaluator_are_refused():
    images = np.zeros((5, 28, 28, 1), np.float32)
    reference = scores.reference_statistics(Classifier(build_model(), name="one"), images)

    with pytest.raises(ValueError, match="reference was computed by one@unsaved, the images are scored by two@"):
        scores.evaluate_samples(images, Classifier(build_model(), name="two"), reference=reference)


def test_train_classifier_command_writes_a_classifier_by_the_recipe_on_the_chosen_dataset(tmp_path, monkeypatch,
                                                                                          capsys):
    rng = np.random.default_rng(0)
    fake = {name: (rng.uniform(-1, 1, (300, 28, 28, 1)).astype(np.float32), rng.integers(0, 10, 300))
            for name in ("mnist", "fashion-mnist")}
    asked = []

    def load_split(dataset, split):
        asked.append((dataset, split))
        return fake[dataset]

    monkeypatch.setattr(classifier, "load_split", load_split)
    out = tmp_path / "fashion.npz"

    assert minigan_cli.main(["train-classifier", "--dataset", "fashion-mnist", "--epochs", "1", "--out", str(out)]) == 0

    trained = load_classifier(out)
    assert asked == [("fashion-mnist", "train"), ("fashion-mnist", "test")]
    assert (trained.name, trained.dataset) == ("fashion-mnist-cnn", "fashion-mnist") and 0 <= trained.test_accuracy <= 1
    assert f"saved to {out} as {trained.label}" in capsys.readouterr().out
    assert minigan_cli.main(["train-classifier", "--dataset", "fashion-mnist", "--out", str(out)]) == 0
    assert "already trained" in capsys.readouterr().out and load_classifier(out).sha256 == trained.sha256


def test_cli_evaluate_rejects_a_file_of_unknown_type(tmp_path):
    bad = tmp_path / "samples.txt"
    bad.write_text("x")

    with pytest.raises(ValueError, match="expected a .npy of images"):
        evaluate_cli.load_samples(bad, 10)


# -- the orderings on real MNIST, with a classifier trained for a few seconds here -------------


@pytest.fixture(scope="module")
def mnist_and_quick_classifier(mnist_dir):
    """Real MNIST (skipped without MINIGAN_DATA) and a classifier trained for 40 small steps (seconds)."""
    images, labels = classifier.load_mnist_split("train")
    net = classifier.train_classifier(images[:4000], labels[:4000], epochs=1, batch_size=32, max_steps=40, log=None)
    return images, labels, net


def test_fid_is_near_zero_for_real_images_large_for_noise_and_worse_for_a_collapsed_set(mnist_and_quick_classifier):
    images, labels, net = mnist_and_quick_classifier
    reference = scores.reference_statistics(net, images[10000:10500])
    real = images[20000:20500]  # disjoint from the reference and the classifier's training images
    collapsed = images[20000:30000][labels[20000:30000] == 1][:500]  # many images of one digit
    noise = np.random.default_rng(0).uniform(-1, 1, (500, 28, 28, 1)).astype(np.float32)

    fid = {
        name: scores.evaluate_samples(x, net, reference=reference)
        for name, x in [("real", real), ("collapsed", collapsed), ("noise", noise)]
    }

    assert fid["real"]["fid"] < 0.1 * fid["noise"]["fid"]
    assert fid["collapsed"]["fid"] > 3 * fid["real"]["fid"]
    assert fid["collapsed"]["inception_score"] < 0.5 * fid["real"]["inception_score"]
    assert min(fid["real"]["class_histogram"]) > 0  # every digit is covered by real images


def test_evaluate_samples_a_trainer_checkpoint_with_its_generator(tmp_path):
    config = TrainConfig(generator=models.spec("dcgan_generator", latent_dim=8, width=0.05), latent_dim=8)
    generator = models.build(config.generator)
    path = tmp_path / "checkpoint.npz"
    checkpoint.save(path, {"generator": generator}, {}, {"config": asdict(config)})

    images = evaluate_cli.load_samples(path, 7, seed=3)

    assert images.shape == (7, 28, 28, 1) and images.dtype == np.float32
    backend.seed(3)  # the samples are G(z) for z drawn from minigan's generator seeded with --seed
    z = backend.rng().standard_normal((7, 8), dtype=np.float32)
    np.testing.assert_allclose(images, generator.forward(z, training=False), rtol=1e-6)
