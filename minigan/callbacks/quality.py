"""Quality scores during a run (``--eval-every``), with the scorer the studies use too."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from minigan import backend
from minigan.callbacks import Callback

if TYPE_CHECKING:
    from minigan.config import TrainConfig
    from minigan.gan import GAN
    from minigan.trainer import Trainer

#: ``evaluate(images) -> figures``; for a conditional GAN ``evaluate(images, labels) -> figures``.
Evaluate = Callable[..., dict[str, Any]]


def mnist_evaluate(image_shape: Sequence[int]) -> Evaluate:
    """:func:`minigan.evaluate.evaluate_samples` with the cached MNIST classifier (trained once
    by ``python -m minigan train-classifier``), plus, given the labels the samples were drawn
    for, :func:`~minigan.evaluate.conditional.conditional_scores` (label accuracy, within-class
    diversity); a ValueError for other image shapes or without a classifier."""
    if tuple(image_shape) != (28, 28, 1):
        raise ValueError(
            f"eval_every: the quality scores use minigan's MNIST classifier, so they need images "
            f"(28, 28, 1); got {tuple(image_shape)}"
        )
    from minigan.evaluate import evaluate_samples, get_classifier

    classifier = get_classifier(train_if_missing=False, log=None)  # a ValueError naming the command to run

    def evaluate(images: np.ndarray, labels: np.ndarray | None = None) -> dict[str, Any]:
        figures = evaluate_samples(images, classifier, n=None, labels=labels)
        return {**figures, **figures.pop("conditional", {})}

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
    ``samples`` images, logged and appended to ``trainer.quality`` (:data:`~minigan.plots.QUALITY_COLUMNS`).
    ``evaluate(images) -> figures``, e.g. :func:`mnist_evaluate`."""

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
        trainer.log(
            f"epoch {epoch}: FID {figures['fid']:.2f}, Inception Score {figures['inception_score']:.2f}, "
            f"mean confidence {figures['mean_confidence']:.3f}, {covered} classes with >= 1% of "
            f"{self.samples} samples"
            + (f"; label accuracy {figures['label_accuracy']:.3f}, within-class diversity {figures['diversity']:.3f} "
               "(real MNIST: 0.992, 0.312)" if "label_accuracy" in figures else "")
        )
