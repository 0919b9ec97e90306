"""Does a conditional generator draw the digit it is asked for, and varied ones?

For N images ``x_n`` drawn for classes ``y_n`` (K classes) and the classifier's predictions
``c_n = argmax p(y|x_n)``::

    accuracy_k  = mean_{n: y_n = k} [c_n = k]                  label accuracy of class k
    accuracy    = mean_n [c_n = y_n]                           over all N images
    diversity_k = mean_pixels std_{n: y_n = k} x_n[pixel]      within-class diversity, [-1, 1] units
    diversity   = mean_k diversity_k                           over the classes that have images

The standard deviation is the population one (``ddof=0``), so a class of one image, or of
copies of one image, has diversity 0. A generator that ignores the label scores accuracy
near 1/K; one that ignores z scores diversity near 0. Real MNIST (the 10,000 test images,
with their labels and the cached classifier) gives accuracy 0.992 and diversity 0.312.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan.evaluate.classifier import Classifier, check_images, get_classifier


def class_indices(labels: Any, n: int, num_classes: int) -> np.ndarray:
    """``labels`` as class indices (n,) in [0, num_classes): integer (n,) or one-hot (n, num_classes)."""
    y = np.asarray(labels)
    if y.ndim == 2 and y.shape == (n, num_classes) and np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1):
        return y.argmax(axis=1)
    if y.shape != (n,) or y.dtype.kind not in "iu" or (n and (y.min() < 0 or y.max() >= num_classes)):
        raise ValueError(
            f"conditional scores: expected {n} integer labels in [0, {num_classes - 1}] or one-hot labels "
            f"({n}, {num_classes}), got {y.dtype} of shape {y.shape}"
            + (f" with values from {y.min()} to {y.max()}" if y.size and y.dtype.kind in "iu" else "")
        )
    return y.astype(np.int64)


def label_accuracy(predicted: np.ndarray, labels: np.ndarray, num_classes: int) -> tuple[float, list[float | None]]:
    """Share of images predicted as the class they were drawn for: overall, and per class
    (None for a class with no images)."""
    hit = np.asarray(predicted) == labels
    per_class = [float(hit[labels == k].mean()) if np.any(labels == k) else None for k in range(num_classes)]
    return float(hit.mean()), per_class


def within_class_diversity(
    images: np.ndarray, labels: np.ndarray, num_classes: int
) -> tuple[float, list[float | None]]:
    """Per class the mean over pixels of the standard deviation (ddof 0) across that class's images,
    and its mean over the classes that have images (per class None for a class with none)."""
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    per_class = [float(flat[labels == k].std(axis=0).mean()) if np.any(labels == k) else None
                 for k in range(num_classes)]
    present = [d for d in per_class if d is not None]
    return float(np.mean(present)), per_class


def conditional_scores(
    images: Any,
    labels: Any,
    classifier: Classifier | None = None,
    probabilities: np.ndarray | None = None,
) -> dict[str, Any]:
    """Label accuracy and within-class diversity of ``images`` (N, 28, 28, 1) in [-1, 1] drawn for
    ``labels`` (N,) class indices or (N, 10) one-hot. Returns::

        {"label_accuracy", "label_accuracy_per_class" (10), "diversity", "diversity_per_class" (10)}

    ``probabilities`` (N, 10), the classifier's outputs for ``images`` if already computed, saves
    the inference pass; otherwise ``classifier`` (default: the cached one) classifies them.
    """
    images = check_images(images, "conditional_scores images")
    if probabilities is None:
        _, probabilities = (classifier or get_classifier()).features_and_probabilities(images)
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or len(probabilities) != len(images):
        raise ValueError(
            f"conditional_scores: expected probabilities of shape ({len(images)}, K), got {probabilities.shape}"
        )
    num_classes = probabilities.shape[1]
    y = class_indices(labels, len(images), num_classes)
    accuracy, accuracy_per_class = label_accuracy(probabilities.argmax(axis=1), y, num_classes)
    diversity, diversity_per_class = within_class_diversity(images, y, num_classes)
    return {
        "label_accuracy": accuracy,
        "label_accuracy_per_class": accuracy_per_class,
        "diversity": diversity,
        "diversity_per_class": diversity_per_class,
    }



def format_conditional(result: dict[str, Any], reference: dict[str, Any] | None) -> str:
    """Rows of :func:`conditional_scores`' figures, per class and overall, beside ``reference``'s."""
    ref = reference or {"label_accuracy": None, "diversity": None,
                        "label_accuracy_per_class": [None] * len(result["label_accuracy_per_class"]),
                        "diversity_per_class": [None] * len(result["diversity_per_class"])}

    def cell(value: float | None) -> str:
        return f"{'-' if value is None else f'{value:.3f}':>10}"

    rows = [
        f"{'drawn for class':<16}{'label accuracy':>20}{'within-class diversity':>24}",
        f"{'':<16}{'samples':>10}{'real':>10}{'samples':>12}{'real':>12}",
    ]
    pairs = zip(result["label_accuracy_per_class"], ref["label_accuracy_per_class"],
                result["diversity_per_class"], ref["diversity_per_class"], strict=True)
    for k, (a, ra, d, rd) in enumerate(pairs):
        rows.append(f"{'  ' + str(k):<16}{cell(a)}{cell(ra)}  {cell(d)}  {cell(rd)}")
    rows.append(f"{'all':<16}{cell(result['label_accuracy'])}{cell(ref['label_accuracy'])}  "
                f"{cell(result['diversity'])}  {cell(ref['diversity'])}")
    rows.append("(label accuracy: share of a class's samples the classifier puts in that class; diversity: "
                "per-pixel std across a class's samples, mean over pixels, [-1, 1] units)")
    return "\n".join(rows)
