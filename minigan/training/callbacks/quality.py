"""Quality scores during a run (``--eval-every``), with the scorer the studies use too."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from minigan import backend
from minigan.training.callbacks.base import Callback

if TYPE_CHECKING:
    from minigan.gan import GAN
    from minigan.training.config import TrainConfig
    from minigan.training.trainer import Trainer

#: ``evaluate(images) -> figures``; for a conditional GAN ``evaluate(images, labels) -> figures``.
Evaluate = Callable[..., dict[str, Any]]


def mnist_evaluate(image_shape: Sequence[int], dataset: str = "mnist") -> Evaluate:
    """:func:`minigan.evaluate.evaluate_samples` with the cached MNIST classifier (trained once
    by ``python -m minigan train-classifier``), plus, given the labels the samples were drawn
    for, :func:`~minigan.evaluate.conditional.conditional_scores` (label accuracy, within-class
    diversity). Square one-channel images (S, S, 1) of another size are resized to 28x28 first
    (:func:`minigan.data.resize_images`); FID is against the test split of ``dataset``, "mnist"
    or "fashion-mnist" (:func:`~minigan.evaluate.scores.trained_dataset` of a run's options).
    A ValueError for other image shapes, another dataset, or without a classifier."""
    from minigan.evaluate import evaluate_samples, get_classifier
    from minigan.evaluate.classifier import is_resizable, resized_for_classifier
    from minigan.evaluate.scores import REFERENCE_DATASETS, dataset_reference

    if not is_resizable(image_shape):
        raise ValueError(
            f"eval_every: the quality scores use minigan's MNIST classifier, so they need images (28, 28, 1), "
            f"or square one-channel images (S, S, 1) to resize to 28x28; got {tuple(image_shape)}"
        )
    if dataset not in REFERENCE_DATASETS:
        raise ValueError(f"eval_every: expected a reference dataset in {', '.join(REFERENCE_DATASETS)}, got "
                         f"{dataset!r}")
    classifier = get_classifier(train_if_missing=False, log=None)  # a ValueError naming the command to run

    def evaluate(images: np.ndarray, labels: np.ndarray | None = None) -> dict[str, Any]:
        images = resized_for_classifier(images, "eval_every samples")
        reference = dataset_reference(classifier, dataset)  # computed on the first call, then memoised
        figures = evaluate_samples(images, classifier, n=None, reference=reference, labels=labels)
        return {**figures, **figures.pop("conditional", {}), "reference_dataset": REFERENCE_DATASETS[dataset]}

    return evaluate


def score_generator(gan: GAN, config: TrainConfig, evaluate: Evaluate, n: int, epoch: int) -> dict[str, Any]:
    """Score ``n`` images of G (inference mode), drawn from their own generator seeded by the run's
    seed and ``epoch`` (the training's random stream, and exact resume, are untouched);
    conditional samples cycle through the classes."""
    rng = np.random.default_rng([config.seed, 2, epoch])
    z = backend.as_array(rng.standard_normal((n, config.latent_dim)), backend.floatx())
    if gan.num_classes is None:
        return evaluate(backend.as_numpy(gan.generate(z)))
    classes = np.arange(n) % gan.num_classes
    images = backend.as_numpy(gan.generate(z, backend.one_hot(classes, gan.num_classes)))
    return evaluate(images, classes)


class QualityScores(Callback):
    """Every ``every`` epochs: FID, Inception Score, mean confidence and classes covered of
    ``samples`` images, logged and appended to ``trainer.quality`` (:data:`~minigan.training.plots.QUALITY_COLUMNS`).
    ``evaluate(images) -> figures``, e.g. :func:`mnist_evaluate`; a ``"reference_dataset"`` among the
    figures other than "MNIST" is named beside the FID."""

    def __init__(self, every: int, samples: int, evaluate: Evaluate) -> None:
        self.every, self.samples, self.evaluate = every, samples, evaluate

    def on_epoch_end(self, trainer: Trainer, epoch: int) -> None:
        if epoch % self.every:
            return
        with trainer.sampling() as gan:
            figures = score_generator(gan, trainer.config, self.evaluate, self.samples, epoch)
        histogram = np.asarray(figures["class_histogram"])
        covered = int((histogram >= 0.01 * histogram.sum()).sum())
        trainer.quality.append((trainer.step, epoch, figures["fid"], figures["inception_score"],
                                figures["mean_confidence"], covered, figures.get("label_accuracy", float("nan")),
                                figures.get("diversity", float("nan"))))
        against = figures.get("reference_dataset", "MNIST")
        reference = "" if against == "MNIST" else f" (against {against} test)"
        trainer.log(
            f"epoch {epoch}: FID {figures['fid']:.2f}{reference}, Inception Score {figures['inception_score']:.2f}, "
            f"mean confidence {figures['mean_confidence']:.3f}, {covered} classes with >= 1% of "
            f"{self.samples} samples"
            + (f"; label accuracy {figures['label_accuracy']:.3f}, within-class diversity {figures['diversity']:.3f} "
               "(real MNIST: 0.992, 0.312)" if "label_accuracy" in figures else "")
        )
