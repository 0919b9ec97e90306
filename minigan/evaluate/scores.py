"""Scores of a set of images from the classifier's outputs, and the one-call API.

With ``p(y|x_n)`` the classifier's class probabilities (N, K) of N images::

    p(y)        = mean_n p(y|x_n)                                  (the marginal)
    IS          = exp( mean_n KL(p(y|x_n) || p(y)) )               in [1, K]
                = exp( mean_n sum_y p(y|x_n) (log p(y|x_n) - log p(y)) )
    histogram   = counts of argmax_y p(y|x_n) per class            (mode coverage)
    confidence  = mean_n max_y p(y|x_n)
    FID         = Frechet distance between the Gaussians of the penultimate features of
                  the images and of the reference (MNIST test) images (see fid.py);
                  for a Fashion-MNIST run, the Fashion-MNIST test images (:func:`dataset_reference`)

With the classes the images were drawn for (a conditional generator's), also the label
accuracy and within-class diversity of conditional.py, from the same inference pass.

Sharp, class-balanced samples give IS near K = 10; a mode-collapsed set (one digit) gives
IS near 1 and a histogram with one full bin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from minigan.evaluate.classifier import Classifier, check_images, get_classifier, load_mnist_split
from minigan.evaluate.conditional import conditional_scores, format_conditional
from minigan.evaluate.fid import feature_statistics, frechet_distance

_EPS = 1e-12


def inception_score(probabilities: np.ndarray) -> float:
    """``exp(mean_n KL(p(y|x_n) || p(y)))`` of class probabilities (N, K); between 1 and K."""
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError(f"inception_score: expected probabilities of shape (N, K), got {p.shape}")
    marginal = p.mean(axis=0)
    kl = (p * (np.log(p + _EPS) - np.log(marginal + _EPS))).sum(axis=1)
    return float(np.exp(kl.mean()))


def class_histogram(probabilities: np.ndarray) -> np.ndarray:
    """How many images are predicted as each class: int64 (K,), summing to N."""
    p = np.asarray(probabilities)
    return np.bincount(p.argmax(axis=1), minlength=p.shape[1]).astype(np.int64)


def mean_confidence(probabilities: np.ndarray) -> float:
    """Mean over images of the largest class probability."""
    return float(np.asarray(probabilities).max(axis=1).mean())


@dataclass
class Reference:
    """Feature statistics and figures of a reference image set (the MNIST test set)."""

    mu: np.ndarray
    cov: np.ndarray
    scores: dict[str, Any]


def describe(
    classifier: Classifier, images: Any, labels: Any = None
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """IS, histogram and confidence of ``images`` (with ``labels``, their :func:`conditional_scores`
    under ``"conditional"``), and their feature mean and covariance."""
    features, probabilities = classifier.features_and_probabilities(images)
    mu, cov = feature_statistics(features)
    scores = {
        "n": len(features),
        "inception_score": inception_score(probabilities),
        "class_histogram": class_histogram(probabilities).tolist(),
        "mean_confidence": mean_confidence(probabilities),
    }
    if labels is not None:
        scores["conditional"] = conditional_scores(images, labels, probabilities=probabilities)
    return scores, mu, cov


def reference_statistics(classifier: Classifier, images: Any, labels: Any = None) -> Reference:
    """The :class:`Reference` of ``images`` (computed once and passed to :func:`evaluate_samples`);
    with their ``labels``, its scores include their conditional figures."""
    scores, mu, cov = describe(classifier, images, labels)
    return Reference(mu, cov, scores)


#: The datasets a reference can be the test split of: name (as ``--data`` / ``--dataset`` spell it) -> label.
REFERENCE_DATASETS = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


def trained_dataset(options: dict[str, Any]) -> str:
    """The :data:`REFERENCE_DATASETS` entry a run's recipe options (a checkpoint's ``config["options"]``)
    trained on: ``"fashion-mnist"`` for ``--data fashion-mnist`` or ``--dataset fashion-mnist``, else
    ``"mnist"`` (the evaluator's own dataset)."""
    data = options.get("data", options.get("dataset"))
    name = data[0] if isinstance(data, (list, tuple)) and data else data
    return "fashion-mnist" if name == "fashion-mnist" else "mnist"


def load_split(dataset: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """``split`` ("train" or "test") of a :data:`REFERENCE_DATASETS` entry: images float32 (N, 28, 28, 1)
    in [-1, 1] and int64 labels, from the default data folder."""
    if dataset not in REFERENCE_DATASETS:
        raise ValueError(f"load_split: expected a dataset in {', '.join(REFERENCE_DATASETS)}, got {dataset!r}")
    if dataset == "mnist":
        return load_mnist_split(split)
    from minigan.data import load_fashion_mnist

    return load_fashion_mnist(split)


_REFERENCES: dict[tuple[int, str], tuple[Classifier, Reference]] = {}


def dataset_reference(classifier: Classifier, dataset: str = "mnist") -> Reference:
    """The :class:`Reference` of the 10,000 test images of ``dataset`` (:data:`REFERENCE_DATASETS`)
    and their labels, memoised per classifier and dataset."""
    cached = _REFERENCES.get((id(classifier), dataset))
    if cached is None or cached[0] is not classifier:
        images, labels = load_split(dataset, "test")
        cached = (classifier, reference_statistics(classifier, images, labels))
        _REFERENCES[(id(classifier), dataset)] = cached
    return cached[1]


def mnist_test_reference(classifier: Classifier) -> Reference:
    """The :class:`Reference` of the 10,000 MNIST test images and their labels, memoised per classifier."""
    return dataset_reference(classifier, "mnist")


def evaluate_samples(
    images: Any,
    classifier: Classifier | None = None,
    n: int | None = 10_000,
    reference: Reference | None = None,
    labels: Any = None,
) -> dict[str, Any]:
    """Quality figures of generated ``images`` (N, 28, 28, 1) in [-1, 1].

    Uses the first ``n`` images (all if ``n`` is None), the cached classifier unless one is
    given, and the MNIST test set as the reference unless ``reference`` is given. Returns::

        {"n", "fid", "inception_score", "class_histogram" (list of 10 ints),
         "mean_confidence", "reference": {the same figures of the reference images, fid 0}}

    With ``labels``, the classes the images were drawn for ((N,) indices or (N, 10) one-hot),
    also ``"conditional"``: :func:`~minigan.evaluate.conditional.conditional_scores` (label
    accuracy, within-class diversity), beside the reference's own under ``reference``.

    Cost: one inference pass over the images (about 1.5 s per 1,000 on two CPU cores) plus,
    the first time per classifier, one over the 10,000 test images; a trainer logging every
    few epochs can pass ``n=2000`` to make it cheaper (FID is biased upward for small n).
    """
    images = check_images(images, "evaluate_samples images")
    if n is not None:
        if n < 2:
            raise ValueError(f"evaluate_samples: expected n >= 2, got {n}")
        images = images[:n]
        labels = None if labels is None else labels[:n]
    if classifier is None:
        classifier = get_classifier()
    if reference is None:
        reference = mnist_test_reference(classifier)
    scores, mu, cov = describe(classifier, images, labels)
    return {
        **scores,
        "fid": frechet_distance(mu, cov, reference.mu, reference.cov),
        "reference": {**reference.scores, "fid": 0.0},
    }


def format_report(result: dict[str, Any], name: str = "samples", reference_name: str = "MNIST test") -> str:
    """A plain-text table of :func:`evaluate_samples`' result: the samples beside ``result["reference"]``."""
    ref = result["reference"]
    w = max(14, len(reference_name) + 2)  # the reference's column: 14 wide unless its name is longer
    rows = [
        f"{'':<22}{name:>14}{reference_name:>{w}}",
        f"{'images':<22}{result['n']:>14,}{ref['n']:>{w},}",
        f"{'FID':<22}{result['fid']:>14.3f}{ref['fid']:>{w}.3f}",
        f"{'Inception Score (/10)':<22}{result['inception_score']:>14.3f}{ref['inception_score']:>{w}.3f}",
        f"{'mean confidence':<22}{result['mean_confidence']:>14.4f}{ref['mean_confidence']:>{w}.4f}",
        "predicted classes:",
    ]
    for digit, (a, b) in enumerate(zip(result["class_histogram"], ref["class_histogram"], strict=True)):
        rows.append(f"{'  ' + str(digit):<22}{a / result['n']:>13.1%} {b / ref['n']:>{w - 1}.1%}")
    if "conditional" in result:
        rows.append(format_conditional(result["conditional"], ref.get("conditional")))
    return "\n".join(rows)
