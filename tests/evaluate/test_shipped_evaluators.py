"""The shipped evaluators: the files are the pinned ones, they are what the package installs, and the
same samples get the same figures, to four significant digits, on every machine."""

import hashlib
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pytest

from minigan.evaluate import SHIPPED, evaluate_samples, load_classifier, reference_statistics
from minigan.evaluate.classifier import WEIGHTS_DIR, load_split
from minigan.evaluate.precision_recall import knn_radii, squared_distances
from minigan.nn.conv import fast

ROOT = Path(__file__).resolve().parents[2]

# The figures of the fixed sample set below against the fixed reference, in the shipped MNIST
# evaluator's features, to four significant digits.
FIXED_FIGURES = {"fid": 33.43, "kid": 6.575, "kid_std": 0.5161, "precision": 0.798, "recall": 0.707,
                 "inception_score": 9.568}


@pytest.mark.parametrize("dataset", list(SHIPPED))
def test_each_shipped_file_has_its_pinned_sha256_and_names_its_dataset(dataset):
    entry = SHIPPED[dataset]

    assert hashlib.sha256(entry.path.read_bytes()).hexdigest() == entry.sha256
    evaluator = load_classifier(entry.path, entry.sha256)
    assert (evaluator.name, evaluator.dataset, evaluator.shipped) == (f"{dataset}-cnn", dataset, True)


def test_the_package_data_takes_in_every_shipped_file():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    package = ROOT / "minigan" / "evaluate"

    assert WEIGHTS_DIR == package / "weights"
    for entry in SHIPPED.values():
        assert any(fnmatch(str(entry.path.relative_to(package)), p) for p in patterns["minigan.evaluate"])


@pytest.mark.parametrize(("dataset", "at_least"), [("mnist", 0.99), ("fashion-mnist", 0.90)])
def test_the_recorded_test_accuracy_is_what_the_test_split_gives(dataset, at_least, mnist_dir):
    evaluator = load_classifier(SHIPPED[dataset].path, SHIPPED[dataset].sha256)
    images, labels = load_split(dataset, "test")

    assert evaluator.accuracy(images, labels) == pytest.approx(evaluator.test_accuracy, abs=1e-4)
    assert evaluator.test_accuracy >= at_least


@pytest.fixture(scope="module")
def fixed_sets(mnist_dir):
    """Samples: the first 1,000 MNIST test images plus N(0, 0.2^2) noise from RandomState(2) (a frozen
    stream), clipped to [-1, 1]. Reference: test images 5,000 to 6,999."""
    test, _ = load_split("mnist", "test")
    noise = np.random.RandomState(2).standard_normal((1000, 28, 28, 1))
    return np.clip(test[:1000] + 0.2 * noise, -1, 1).astype(np.float32), test[5000:7000]


def evaluator_computing_with(algorithm: str):
    """The shipped MNIST evaluator, its convolutions computed by ``algorithm`` (other rounding)."""
    evaluator = load_classifier(SHIPPED["mnist"].path, SHIPPED["mnist"].sha256)
    for layer in evaluator.model.layers:
        if hasattr(layer, "geometry"):
            layer.impl = fast.choose(algorithm, layer.geometry, np.dtype(np.float32), layer.name)
    return evaluator


@pytest.mark.parametrize("algorithm", ["auto", "fourier"])
def test_a_fixed_sample_set_gets_the_stored_figures_to_four_digits(fixed_sets, algorithm):
    """The guard that two machines agree: the Fourier convolutions round differently (features
    differ by about 2e-5) and still give the same four digits, as another BLAS would."""
    samples, real = fixed_sets
    evaluator = evaluator_computing_with(algorithm)

    result = evaluate_samples(samples, evaluator, reference=reference_statistics(evaluator, real))

    assert {key: f"{result[key]:.4g}" for key in FIXED_FIGURES} == {k: f"{v:.4g}" for k, v in FIXED_FIGURES.items()}


def test_no_fixed_sample_lies_near_the_edge_of_a_ball(fixed_sets):
    """Precision and recall count points inside k-NN balls; every point of the fixed sets is more than
    1e-3 from deciding otherwise (50 times the features' rounding between algorithms), so rounding
    cannot move them."""
    samples, real = fixed_sets
    evaluator = load_classifier(SHIPPED["mnist"].path, SHIPPED["mnist"].sha256)
    generated, _ = evaluator.features_and_probabilities(samples)
    reference, _ = evaluator.features_and_probabilities(real)

    for points, centres in ((generated, reference), (reference, generated)):
        margin = np.sqrt(squared_distances(points, centres)) - knn_radii(centres, 3)[None, :]
        assert np.abs(margin.min(axis=1)).min() > 1e-3
