"""Sample quality measured by minigan itself, in the features of a shipped classifier built from its
own layers: FID, KID, precision and recall, Inception Score, class histogram and confidence.

    from minigan.evaluate import evaluate_samples
    figures = evaluate_samples(images)     # images (N, 28, 28, 1) in [-1, 1]
    figures["fid"], figures["kid"], figures["precision"], figures["recall"], figures["inception_score"]
    figures["evaluator"]["label"]          # which weights scored them, e.g. "mnist-cnn@1a2b3c4d"

    figures = evaluate_samples(images, labels=labels)   # a conditional G's samples and their classes
    figures["conditional"]["label_accuracy"], figures["conditional"]["diversity"]

The MNIST and Fashion-MNIST classifiers are part of the package (hash-checked, no training, no
download); see ``python -m minigan evaluate`` and, to train one's own, ``python -m minigan train-classifier``.
"""

from minigan.evaluate.classifier import (
    RECIPE,
    REFERENCE_DATASETS,
    SHIPPED,
    Classifier,
    build_model,
    cache_path,
    get_classifier,
    load_classifier,
    save_classifier,
    train_and_save,
    train_classifier,
)
from minigan.evaluate.conditional import conditional_scores, label_accuracy, within_class_diversity
from minigan.evaluate.fid import feature_statistics, frechet_distance, frechet_distance_of_features
from minigan.evaluate.kid import kernel_inception_distance, mmd2_unbiased, polynomial_kernel
from minigan.evaluate.precision_recall import knn_radii, precision_recall
from minigan.evaluate.scores import (
    Reference,
    class_histogram,
    dataset_reference,
    evaluate_samples,
    format_report,
    inception_score,
    mean_confidence,
    reference_statistics,
)

__all__ = [
    "RECIPE",
    "REFERENCE_DATASETS",
    "SHIPPED",
    "Classifier",
    "Reference",
    "build_model",
    "cache_path",
    "class_histogram",
    "conditional_scores",
    "dataset_reference",
    "evaluate_samples",
    "feature_statistics",
    "format_report",
    "frechet_distance",
    "frechet_distance_of_features",
    "get_classifier",
    "inception_score",
    "kernel_inception_distance",
    "knn_radii",
    "label_accuracy",
    "load_classifier",
    "mean_confidence",
    "mmd2_unbiased",
    "polynomial_kernel",
    "precision_recall",
    "reference_statistics",
    "save_classifier",
    "train_and_save",
    "train_classifier",
    "within_class_diversity",
]
