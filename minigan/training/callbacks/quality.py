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


def mnist_evaluate(image_shape: Sequence[int], dataset: str = "mnist", evaluator: str | None = None) -> Evaluate:
    """:func:`minigan.evaluate.evaluate_samples` in the features of the classifier shipped for
    ``dataset``, "mnist" or "fashion-mnist" (:func:`~minigan.evaluate.scores.trained_dataset` of a
    run's options), or of the classifier file ``evaluator``, against the test split of ``dataset``;
    plus, given the labels the samples were drawn for, the label accuracy and within-class diversity
    (:func:`~minigan.evaluate.conditional.conditional_scores`). Square one-channel images (S, S, 1)
    of another size are resized to 28x28 first (:func:`minigan.data.resize_images`). The figures
    name their evaluator (``figures["evaluator"]["label"]``) and reference set. A ValueError for
    other image shapes, another dataset, or an unreadable evaluator."""
    from minigan.evaluate import evaluate_samples, get_classifier
    from minigan.evaluate.classifier import REFERENCE_DATASETS, is_resizable, resized_for_classifier
    from minigan.evaluate.scores import dataset_reference

    if not is_resizable(image_shape):
        raise ValueError(
            f"eval_every: the quality scores use minigan's 28x28 classifiers, so they need images (28, 28, 1), "
            f"or square one-channel images (S, S, 1) to resize to 28x28; got {tuple(image_shape)}"
        )
    if dataset not in REFERENCE_DATASETS:
        raise ValueError(f"eval_every: expected a reference dataset in {', '.join(REFERENCE_DATASETS)}, got "
                         f"{dataset!r}")
    classifier = get_classifier(dataset, evaluator)  # the shipped weights, hash-checked

    def evaluate(images: np.ndarray, labels: np.ndarray | None = None) -> dict[str, Any]:
        images = resized_for_classifier(images, "eval_every samples")
        reference = dataset_reference(classifier, dataset)  # computed on the first call, then memoised
        figures = evaluate_samples(images, classifier, n=None, reference=reference, labels=labels)
        conditional, real = figures.pop("conditional", {}), figures["reference"].get("conditional", {})
        return {**figures, **conditional, **{f"real_{k}": real[k] for k in ("label_accuracy", "diversity")
                                             if conditional and k in real},
                "reference_dataset": REFERENCE_DATASETS[dataset]}

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
    """Every ``every`` epochs: FID, KID, precision, recall, Inception Score, mean confidence and
    classes covered of ``samples`` images, logged and appended to ``trainer.quality``
    (:data:`~minigan.training.plots.QUALITY_COLUMNS`; a figure the scorer does not give is NaN).
    ``evaluate(images) -> figures``, e.g. :func:`mnist_evaluate`. The evaluator of each row
    (``figures["evaluator"]["label"]``, "" if the figures do not say) is kept in the checkpoint's
    metadata as ``quality_evaluators``, one per row; a checkpoint written before it gives "" for
    its rows."""

    def __init__(self, every: int, samples: int, evaluate: Evaluate) -> None:
        self.every, self.samples, self.evaluate = every, samples, evaluate
        self.evaluators: list[str] = []

    def on_epoch_end(self, trainer: Trainer, epoch: int) -> None:
        if epoch % self.every:
            return
        with trainer.sampling() as gan:
            figures = score_generator(gan, trainer.config, self.evaluate, self.samples, epoch)
        histogram = np.asarray(figures["class_histogram"])
        covered = int((histogram >= 0.01 * histogram.sum()).sum())
        values = {**figures, "step": trainer.step, "epoch": epoch, "classes_covered": covered}
        trainer.quality.append(tuple(float(values.get(c, float("nan"))) for c in trainer.quality.columns))
        evaluator = figures.get("evaluator", {}).get("label", "")
        self.evaluators = [*aligned(self.evaluators, len(trainer.quality) - 1), evaluator]
        scores = [f"FID {figures['fid']:.2f}"]
        if "kid" in figures:
            scores += [f"KID {figures['kid']:.3f}", f"precision {figures['precision']:.3f}",
                       f"recall {figures['recall']:.3f}"]
        scores += [f"Inception Score {figures['inception_score']:.2f}",
                   f"mean confidence {figures['mean_confidence']:.3f}",
                   f"{covered} classes with >= 1% of {self.samples:,} samples"]
        if "label_accuracy" in figures:
            real = (f" (real: {figures['real_label_accuracy']:.3f}, {figures['real_diversity']:.3f})"
                    if "real_label_accuracy" in figures else "")
            scores.append(f"label accuracy {figures['label_accuracy']:.3f}, within-class diversity "
                          f"{figures['diversity']:.3f}{real}")
        against = [f"against the {figures['reference_set']}"] if "reference_set" in figures else []
        by = [f"evaluator {evaluator}"] if evaluator else []
        trainer.log(f"epoch {epoch}: {', '.join(scores)}" + (f" [{', '.join(against + by)}]" if against + by else ""))

    def checkpoint_meta(self, trainer: Trainer) -> dict[str, Any]:
        return {"quality_evaluators": self.evaluators}

    def load_checkpoint(self, trainer: Trainer, ckpt: Any) -> None:
        self.evaluators = aligned([str(label) for label in ckpt.meta.get("quality_evaluators", [])],
                                  len(trainer.quality))


def aligned(labels: list[str], rows: int) -> list[str]:
    """The last ``rows`` of ``labels``, with "" in front for rows older than the labels."""
    return ([""] * rows + labels)[len(labels):]
