"""The ``train-classifier`` and ``evaluate`` commands of ``python -m minigan``.

The dispatcher in ``minigan/cli/__init__.py`` lists :func:`add_train_classifier_parser` and
:func:`add_evaluate_parser` among its subcommands (or calls :func:`register`); each
subcommand stores its ``run_*`` function as ``args.run``. This module also runs alone::

    python -m minigan.cli.evaluate train-classifier [--dataset mnist] [--epochs 3] [--out PATH] [--force]
    python -m minigan.cli.evaluate evaluate SAMPLES.npy|CHECKPOINT.npz [-n 10000] [--json out.json]
        [--dataset mnist|fashion-mnist] [--evaluator PATH]
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from minigan import backend
from minigan.atomic import atomic_path
from minigan.evaluate.classifier import (
    RECIPE,
    REFERENCE_DATASETS,
    cache_path,
    get_classifier,
    load_classifier,
    load_split,
    resized_for_classifier,
    train_and_save,
)
from minigan.evaluate.scores import (
    compare,
    dataset_reference,
    describe,
    evaluate_samples,
    format_report,
    trained_dataset,
)
from minigan.training import checkpoint, sampling


def sampled_labels(source: str | Path, n: int) -> np.ndarray | None:
    """The classes ``python -m minigan evaluate`` draws ``n`` samples of a conditional checkpoint for
    (class ``i mod K`` for sample i, as :func:`minigan.training.sampling.class_labels` with one per class);
    None for a .npy of images or an unconditional checkpoint."""
    path = Path(source)
    if path.suffix != ".npz":
        return None
    num_classes = checkpoint.load(path).meta.get("config", {}).get("num_classes")
    return None if num_classes is None else np.arange(n) % int(num_classes)


def add_train_classifier_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``train-classifier``: train an evaluator like the shipped ones, for one's own use."""
    parser = subparsers.add_parser(
        "train-classifier",
        help="train a classifier like the shipped evaluators (for learning, or for 'evaluate --evaluator')",
        description="Train the small CNN behind 'evaluate' on the training split of --dataset by the recipe the "
        f"shipped evaluators were made with ({RECIPE['epochs']} epochs, batch {RECIPE['batch_size']}, Adam "
        f"{RECIPE['lr']:g}, 1/10 of it in the last epoch, seed {RECIPE['seed']}), report its test accuracy and "
        f"save it to --out, by default {cache_path()} (MINIGAN_CACHE changes the folder). "
        "'evaluate' uses the shipped weights unless given --evaluator PATH.",
    )
    parser.add_argument("--dataset", choices=list(REFERENCE_DATASETS), default="mnist",
                        help="the training split to learn (default mnist)")
    parser.add_argument("--epochs", type=int, default=RECIPE["epochs"],
                        help=f"training epochs (default {RECIPE['epochs']})")
    parser.add_argument("--out", metavar="PATH", help="where to save it (default: the cache folder)")
    parser.add_argument("--force", action="store_true", help="train again even if the file exists")
    parser.set_defaults(run=run_train_classifier)
    return parser


def add_evaluate_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``evaluate``: FID, KID, precision/recall, Inception Score, class histogram and confidence."""
    parser = subparsers.add_parser(
        "evaluate",
        help="score generated MNIST or Fashion-MNIST images (FID, KID, precision/recall, Inception Score)",
        description="Score generated images against the test split of their dataset, in the features of the "
        "classifier shipped with minigan for that dataset (hash-checked; no training, no download): FID and KID "
        "of its penultimate features, precision and recall (k-NN manifolds, k=3), Inception Score "
        "exp(E KL(p(y|x) || p(y))), predicted-class histogram and mean confidence. As many real training images "
        "are scored beside them as the floor. Square one-channel images of another size (a DCGAN trained at "
        "32x32 or 64x64) are resized to 28x28 first; a checkpoint of a Fashion-MNIST run is scored by the "
        "Fashion-MNIST classifier against the Fashion-MNIST test split.",
    )
    parser.add_argument("source", help="a .npy of images (N, 28, 28, 1) in [-1, 1] (or (N, S, S, 1), resized to "
                        "28x28), or a trainer checkpoint .npz")
    parser.add_argument("-n", "--num-images", type=int, default=10_000, help="images to score (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="noise seed when sampling a checkpoint (default 0)")
    parser.add_argument("--dataset", choices=list(REFERENCE_DATASETS),
                        help="the dataset to compare with (default: a checkpoint's own, else mnist)")
    parser.add_argument("--evaluator", metavar="PATH",
                        help="a classifier file written by train-classifier instead of the shipped weights")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    parser.set_defaults(run=run_evaluate)
    return parser


def run_train_classifier(args: argparse.Namespace) -> int:
    """Train and save a classifier (or report the one already there); returns the exit status."""
    path = Path(args.out) if args.out else cache_path(args.dataset)
    if path.is_file() and not args.force:
        classifier = load_classifier(path)
        accuracy = "unknown" if classifier.test_accuracy is None else f"{classifier.test_accuracy:.4f}"
        print(f"classifier already trained: {path}, {classifier.label} (test accuracy {accuracy}); "
              "--force trains again")
        return 0
    if args.epochs < 1:
        raise ValueError(f"train-classifier: expected --epochs >= 1, got {args.epochs}")
    train_and_save(args.dataset, path, epochs=args.epochs)
    return 0


def load_samples(
    source: str | os.PathLike, n: int, seed: int = 0, log: Callable[[str], None] | None = None
) -> np.ndarray:
    """Images to score from ``source``: a .npy of images, or ``n`` samples of a checkpoint's generator;
    as 28x28 images (:func:`~minigan.evaluate.classifier.resized_for_classifier`, which tells ``log``)."""
    path = Path(source)
    if not path.is_file():
        raise ValueError(f"evaluate: {path} does not exist (expected a .npy of images or a checkpoint .npz)")
    if path.suffix == ".npy":
        try:
            images = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError):  # NumPy's own message would advise allow_pickle=True
            raise ValueError(f"evaluate: {path}: not a readable .npy array (truncated or corrupt)") from None
        return resized_for_classifier(images, str(path), log)
    if path.suffix == ".npz":
        return sample_checkpoint(path, n, seed, log)
    raise ValueError(f"evaluate: expected a .npy of images or a checkpoint .npz, got {path.name}")


def sample_checkpoint(path: Path, n: int, seed: int = 0, log: Callable[[str], None] | None = None) -> np.ndarray:
    """``n`` images ``G(z)``, ``z ~ N(0, 1)`` seeded by ``seed``, from the generator of the trainer's
    checkpoint at ``path`` (in inference mode); a conditional generator draws the classes in turn.
    A generator of square one-channel images of another size (32x32, 64x64) has them resized to
    28x28, which ``log`` is told."""
    loaded = sampling.load_generator(path)  # CheckpointError is a ValueError naming the file
    images = sampling.draw(loaded, n, seed, sampling.class_labels(loaded, None, n, per_class=1))
    return resized_for_classifier(backend.as_numpy(images), str(path), log)


def reference_dataset(source: str | os.PathLike) -> str:
    """The dataset whose test split ``source`` is scored against: a checkpoint's own training data
    (:func:`~minigan.evaluate.scores.trained_dataset` of its stored options), else "mnist"."""
    path = Path(source)
    if path.suffix != ".npz":
        return "mnist"
    return trained_dataset(checkpoint.load(path).meta.get("config", {}).get("options", {}))


def run_evaluate(args: argparse.Namespace) -> int:
    """Score ``args.source`` and print the figures beside those of as many real training images."""
    if args.num_images < 4:
        raise ValueError(f"evaluate: expected --num-images >= 4, got {args.num_images}")
    dataset = args.dataset or reference_dataset(args.source)
    classifier = get_classifier(dataset, args.evaluator)  # the shipped weights, hash-checked, unless --evaluator
    images = load_samples(args.source, args.num_images, args.seed, log=print)
    if len(images) < args.num_images:
        print(f"note: {args.source} holds {len(images)} images, fewer than {args.num_images}")
    name = REFERENCE_DATASETS[dataset]
    if classifier.dataset != dataset:
        print(f"note: the evaluator {classifier.label} was trained on "
              f"{REFERENCE_DATASETS.get(classifier.dataset, classifier.dataset)}, the reference is {name}")
    reference = dataset_reference(classifier, dataset)
    labels = sampled_labels(args.source, len(images))  # a conditional checkpoint's classes, else None
    result = evaluate_samples(images, classifier, n=args.num_images, reference=reference, labels=labels)
    train_images, train_labels = load_split(dataset, "train")
    floor_labels = None if labels is None else train_labels[: result["n"]]
    floor, features = describe(classifier, train_images[: result["n"]], floor_labels)
    result["reference"] = {
        **floor, **compare(features, reference),
        "images": f"the first {result['n']:,} {name} training images",
    }
    print(format_report(result, Path(args.source).name[:18], f"real {name}"))
    print(f"(real {name}: {result['reference']['images']}, scored against the same reference: the floor)")
    if args.json:
        write_json(result, args.json)
    return 0


def write_json(result: dict[str, Any], path: str | os.PathLike) -> None:
    """Write ``result`` as JSON to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(result, f, indent=2)
