"""Scores of a set of images from the classifier's outputs, and the one-call API.

With ``p(y|x_n)`` the classifier's class probabilities (N, K) of N images::

    p(y)        = mean_n p(y|x_n)                                  (the marginal)
    IS          = exp( mean_n KL(p(y|x_n) || p(y)) )               in [1, K]
                = exp( mean_n sum_y p(y|x_n) (log p(y|x_n) - log p(y)) )
    histogram   = counts of argmax_y p(y|x_n) per class            (mode coverage)
    confidence  = mean_n max_y p(y|x_n)
    FID         = Frechet distance between the Gaussians of the penultimate features of
                  the images and of the reference images (fid.py)
    KID         = unbiased polynomial-kernel MMD^2 between the same features, mean and std
                  over subsets (kid.py)
    precision   = share of the images inside the k-NN manifold of the reference features,
    recall      = share of the reference inside the images' k-NN manifold (precision_recall.py)

all in the features of one evaluator (:mod:`minigan.evaluate.classifier`: the shipped MNIST or
Fashion-MNIST classifier), against the test split of the dataset (:func:`dataset_reference`).

With the classes the images were drawn for (a conditional generator's), also the label
accuracy and within-class diversity of conditional.py, from the same inference pass.

Sharp, class-balanced samples give IS near K = 10; a mode-collapsed set (one digit) gives
IS near 1 and a histogram with one full bin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from minigan.evaluate.classifier import (
    REFERENCE_DATASETS,
    Classifier,
    check_images,
    get_classifier,
    load_mnist_split,
    load_split,
)
from minigan.evaluate.conditional import conditional_scores, format_conditional
from minigan.evaluate.fid import feature_statistics, frechet_distance
from minigan.evaluate.kid import kernel_inception_distance
from minigan.evaluate.precision_recall import knn_radii, precision_recall

__all__ = [
    "REFERENCE_DATASETS", "Reference", "class_histogram", "compare", "dataset_reference", "describe",
    "evaluate_samples", "evaluator_info", "format_report", "inception_score", "load_mnist_split", "load_split",
    "mean_confidence", "mnist_test_reference", "reference_statistics", "trained_dataset",
]

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
    """The features, their statistics and the figures of a reference image set (a test split),
    in the features of the evaluator labelled ``evaluator``; ``name`` says which set it is."""

    features: np.ndarray
    mu: np.ndarray
    cov: np.ndarray
    scores: dict[str, Any]
    name: str = "reference images"
    evaluator: str = ""
    radii: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def knn_radii(self, k: int) -> np.ndarray:
        """:func:`~minigan.evaluate.precision_recall.knn_radii` of the features, computed once per ``k``."""
        if k not in self.radii:
            self.radii[k] = knn_radii(self.features, k)
        return self.radii[k]

    @property
    def description(self) -> str:
        """``name, N images``."""
        return f"{self.name}, {len(self.features):,} images"


def describe(classifier: Classifier, images: Any, labels: Any = None) -> tuple[dict[str, Any], np.ndarray]:
    """IS, histogram and confidence of ``images`` (with ``labels``, their :func:`conditional_scores`
    under ``"conditional"``), and their features (N, 128)."""
    features, probabilities = classifier.features_and_probabilities(images)
    scores = {
        "n": len(features),
        "inception_score": inception_score(probabilities),
        "class_histogram": class_histogram(probabilities).tolist(),
        "mean_confidence": mean_confidence(probabilities),
    }
    if labels is not None:
        scores["conditional"] = conditional_scores(images, labels, probabilities=probabilities)
    return scores, features


def reference_statistics(
    classifier: Classifier, images: Any, labels: Any = None, name: str = "reference images"
) -> Reference:
    """The :class:`Reference` of ``images`` (computed once and passed to :func:`evaluate_samples`);
    with their ``labels``, its scores include their conditional figures."""
    scores, features = describe(classifier, images, labels)
    return Reference(features, *feature_statistics(features), scores, name, classifier.label)


def trained_dataset(options: dict[str, Any]) -> str:
    """The :data:`REFERENCE_DATASETS` entry a run's recipe options (a checkpoint's ``config["options"]``)
    trained on: ``"fashion-mnist"`` for ``--data fashion-mnist`` or ``--dataset fashion-mnist``, else
    ``"mnist"``."""
    data = options.get("data", options.get("dataset"))
    name = data[0] if isinstance(data, (list, tuple)) and data else data
    return "fashion-mnist" if name == "fashion-mnist" else "mnist"


_REFERENCES: dict[tuple[int, str], tuple[Classifier, Reference]] = {}


def dataset_reference(classifier: Classifier, dataset: str = "mnist") -> Reference:
    """The :class:`Reference` of the 10,000 test images of ``dataset`` (:data:`REFERENCE_DATASETS`)
    and their labels, memoised per classifier and dataset."""
    cached = _REFERENCES.get((id(classifier), dataset))
    if cached is None or cached[0] is not classifier:
        images, labels = load_split(dataset, "test")
        name = f"{REFERENCE_DATASETS[dataset]} test split"
        cached = (classifier, reference_statistics(classifier, images, labels, name))
        _REFERENCES[(id(classifier), dataset)] = cached
    return cached[1]


def mnist_test_reference(classifier: Classifier) -> Reference:
    """The :class:`Reference` of the 10,000 MNIST test images and their labels, memoised per classifier."""
    return dataset_reference(classifier, "mnist")


def compare(
    features: np.ndarray, reference: Reference, k: int = 3, kid_subsets: int = 100, kid_subset_size: int = 1000
) -> dict[str, float]:
    """FID, KID (mean and std), precision and recall (``k`` nearest neighbours) of ``features``
    (N, D) against ``reference``."""
    kid, kid_std = kernel_inception_distance(features, reference.features, kid_subsets, kid_subset_size)
    precision, recall = precision_recall(reference.features, features, k, reference.knn_radii(k))
    return {
        "fid": frechet_distance(*feature_statistics(features), reference.mu, reference.cov),
        "kid": kid, "kid_std": kid_std, "kid_subsets": kid_subsets, "kid_subset_size": min(
            kid_subset_size, len(features), len(reference.features)),
        "precision": precision, "recall": recall, "k": k,
    }


def evaluator_info(classifier: Classifier) -> dict[str, Any]:
    """Who scored: ``{"label", "sha256", "shipped", "trained_on", "test_accuracy"}`` of ``classifier``."""
    return {"label": classifier.label, "sha256": classifier.sha256, "shipped": classifier.shipped,
            "trained_on": REFERENCE_DATASETS.get(classifier.dataset, classifier.dataset),
            "test_accuracy": classifier.test_accuracy}


def evaluate_samples(
    images: Any,
    classifier: Classifier | None = None,
    n: int | None = 10_000,
    reference: Reference | None = None,
    labels: Any = None,
    k: int = 3,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
) -> dict[str, Any]:
    """Quality figures of generated ``images`` (N, 28, 28, 1) in [-1, 1].

    Uses the first ``n`` images (all if ``n`` is None), the shipped MNIST evaluator unless a
    ``classifier`` is given, and the MNIST test split as the reference unless ``reference`` is
    given (computed by the same classifier). Returns::

        {"n", "fid", "kid", "kid_std", "kid_subsets", "kid_subset_size", "precision", "recall", "k",
         "inception_score", "class_histogram" (list of 10 ints), "mean_confidence",
         "evaluator": evaluator_info(classifier), "reference_set": "MNIST test split, 10,000 images",
         "reference": {the same figures of the reference images: fid, kid 0, precision, recall 1}}

    With ``labels``, the classes the images were drawn for ((N,) indices or (N, 10) one-hot),
    also ``"conditional"``: :func:`~minigan.evaluate.conditional.conditional_scores` (label
    accuracy, within-class diversity), beside the reference's own under ``reference``.

    Cost: one inference pass over the images (about 1 s per 1,000 on two CPU cores), KID and
    precision/recall (a few seconds for 10,000 images against 10,000), plus, the first time per
    classifier, one pass over the 10,000 test images. FID is biased upward for small n, KID is
    not (docs/evaluation.md says how each moves with n).
    """
    images = check_images(images, "evaluate_samples images")
    if n is not None:
        if n < 2:
            raise ValueError(f"evaluate_samples: expected n >= 2, got {n}")
        images = images[:n]
        labels = None if labels is None else labels[:n]
    if len(images) <= k:
        raise ValueError(f"evaluate_samples: expected more than k = {k} images, got {len(images)}")
    if classifier is None:
        classifier = get_classifier()
    if reference is None:
        reference = mnist_test_reference(classifier)
    if reference.evaluator and reference.evaluator != classifier.label:
        raise ValueError(f"evaluate_samples: the reference was computed by {reference.evaluator}, the images are "
                         f"scored by {classifier.label}")
    scores, features = describe(classifier, images, labels)
    return {
        **scores,
        **compare(features, reference, k, kid_subsets, kid_subset_size),
        "evaluator": evaluator_info(classifier),
        "reference_set": reference.description,
        "reference": {**reference.scores, "fid": 0.0, "kid": 0.0, "kid_std": 0.0, "precision": 1.0, "recall": 1.0},
    }


def format_report(result: dict[str, Any], name: str = "samples", reference_name: str = "MNIST test") -> str:
    """A plain-text table of :func:`evaluate_samples`' result: the samples beside ``result["reference"]``,
    under the lines naming the evaluator and the reference set."""
    ref = result["reference"]
    w = max(18, len(reference_name) + 2)  # the reference's column: 18 wide unless its name is longer
    evaluator, k = result["evaluator"], result["k"]
    origin = "shipped" if evaluator["shipped"] else "not the shipped weights"
    rows = [
        f"evaluator: {evaluator['label']} ({origin}, trained on {evaluator['trained_on']})",
        f"reference: {result['reference_set']} (FID, KID, precision and recall against it)",
        f"{'':<24}{name:>18}{reference_name:>{w}}",
        f"{'images':<24}{result['n']:>18,}{ref['n']:>{w},}",
        f"{'FID':<24}{result['fid']:>18.3f}{ref['fid']:>{w}.3f}",
        f"{'KID (+- std)':<24}{kid_cell(result):>18}{kid_cell(ref):>{w}}",
        f"{f'precision (k={k})':<24}{result['precision']:>18.4f}{ref['precision']:>{w}.4f}",
        f"{f'recall (k={k})':<24}{result['recall']:>18.4f}{ref['recall']:>{w}.4f}",
        f"{'Inception Score (/10)':<24}{result['inception_score']:>18.3f}{ref['inception_score']:>{w}.3f}",
        f"{'mean confidence':<24}{result['mean_confidence']:>18.4f}{ref['mean_confidence']:>{w}.4f}",
        "predicted classes:",
    ]
    for digit, (a, b) in enumerate(zip(result["class_histogram"], ref["class_histogram"], strict=True)):
        rows.append(f"{'  ' + str(digit):<24}{a / result['n']:>17.1%} {b / ref['n']:>{w - 1}.1%}")
    if "conditional" in result:
        rows.append(format_conditional(result["conditional"], ref.get("conditional")))
    return "\n".join(rows)


def kid_cell(figures: dict[str, Any]) -> str:
    """``KID +- std`` of ``figures``, 3 decimals."""
    return f"{figures['kid']:.3f} +- {figures['kid_std']:.3f}"
