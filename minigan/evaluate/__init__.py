"""Sample quality measured by minigan itself: an MNIST classifier built from its own layers,
and the FID, Inception Score, class histogram and confidence of generated images.

    from minigan.evaluate import evaluate_samples
    figures = evaluate_samples(images)     # images (N, 28, 28, 1) in [-1, 1]
    figures["fid"], figures["inception_score"], figures["class_histogram"]

    figures = evaluate_samples(images, labels=labels)   # a conditional G's samples and their classes
    figures["conditional"]["label_accuracy"], figures["conditional"]["diversity"]

The first call trains the classifier (a few minutes on a CPU) and caches it; see
``python -m minigan train-classifier`` and ``python -m minigan evaluate``.
"""

from minigan.evaluate.classifier import (
    Classifier,
    build_model,
    cache_path,
    get_classifier,
    load_classifier,
    save_classifier,
    train_classifier,
)
from minigan.evaluate.conditional import conditional_scores, label_accuracy, within_class_diversity
from minigan.evaluate.fid import feature_statistics, frechet_distance, frechet_distance_of_features
from minigan.evaluate.scores import (
    Reference,
    class_histogram,
    evaluate_samples,
    format_report,
    inception_score,
    mean_confidence,
    reference_statistics,
)

__all__ = [
    "Classifier",
    "Reference",
    "build_model",
    "cache_path",
    "class_histogram",
    "conditional_scores",
    "evaluate_samples",
    "feature_statistics",
    "format_report",
    "frechet_distance",
    "frechet_distance_of_features",
    "get_classifier",
    "inception_score",
    "label_accuracy",
    "load_classifier",
    "mean_confidence",
    "reference_statistics",
    "save_classifier",
    "train_classifier",
    "within_class_diversity",
]
