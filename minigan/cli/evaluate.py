"""The ``train-classifier`` and ``evaluate`` commands of ``python -m minigan``.

The dispatcher in ``minigan/cli/__init__.py`` lists :func:`add_train_classifier_parser` and
:func:`add_evaluate_parser` among its subcommands (or calls :func:`register`); each
subcommand stores its ``run_*`` function as ``args.run``. This module also runs alone::

    python -m minigan.cli.evaluate train-classifier [--epochs 3] [--force]
    python -m minigan.cli.evaluate evaluate SAMPLES.npy|CHECKPOINT.npz [-n 10000] [--json out.json]
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
    cache_path,
    get_classifier,
    load_classifier,
    load_mnist_split,
    resized_for_classifier,
    train_and_cache,
)
from minigan.evaluate.fid import frechet_distance
from minigan.evaluate.scores import (
    REFERENCE_DATASETS,
    dataset_reference,
    evaluate_samples,
    format_report,
    load_split,
    reference_statistics,
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
    """Add ``train-classifier``: train the MNIST classifier used by ``evaluate`` and cache it."""
    parser = subparsers.add_parser(
        "train-classifier",
        help="train the MNIST classifier that 'evaluate' uses (once; cached)",
        description=f"Train the small MNIST CNN behind 'evaluate' and save it to {cache_path()} "
        "(set MINIGAN_CACHE to change the folder). Re-uses the cached one unless --force.",
    )
    parser.add_argument("--epochs", type=int, default=3, help="training epochs (default 3)")
    parser.add_argument("--force", action="store_true", help="train again even if a cached classifier exists")
    parser.set_defaults(run=run_train_classifier)
    return parser


def add_evaluate_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``evaluate``: FID, Inception Score, class histogram and confidence of generated images."""
    parser = subparsers.add_parser(
        "evaluate",
        help="score generated MNIST images (FID, Inception Score, mode coverage)",
        description="Score generated images against the MNIST test set with minigan's own classifier: "
        "FID of its penultimate features, Inception Score exp(E KL(p(y|x) || p(y))), predicted-class "
        "histogram and mean confidence. Real MNIST training images are scored beside them as the floor. "
        "Square one-channel images of another size (a DCGAN trained at 32x32 or 64x64) are resized to "
        "28x28 first; a checkpoint of a Fashion-MNIST run is scored against the Fashion-MNIST test set.",
    )
    parser.add_argument("source", help="a .npy of images (N, 28, 28, 1) in [-1, 1] (or (N, S, S, 1), resized to "
                        "28x28), or a trainer checkpoint .npz")
    parser.add_argument("-n", "--num-images", type=int, default=10_000, help="images to score (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="noise seed when sampling a checkpoint (default 0)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    parser.set_defaults(run=run_evaluate)
    return parser



def run_train_classifier(args: argparse.Namespace) -> int:
    """Train and cache the classifier (or report the cached one); returns the exit status."""
    path = cache_path()
    if path.is_file() and not args.force:
        classifier = load_classifier(path)
        accuracy = "unknown" if classifier.test_accuracy is None else f"{classifier.test_accuracy:.4f}"
        print(f"classifier already trained: {path} (test accuracy {accuracy}); --force trains again")
        return 0
    if args.epochs < 1:
        raise ValueError(f"train-classifier: expected --epochs >= 1, got {args.epochs}")
    train_and_cache(epochs=args.epochs, path=path)
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
    """Score ``args.source`` and print the figures beside those of real MNIST images."""
    if args.num_images < 2:
        raise ValueError(f"evaluate: expected --num-images >= 2, got {args.num_images}")
    images = load_samples(args.source, args.num_images, args.seed, log=print)
    if len(images) < args.num_images:
        print(f"note: {args.source} holds {len(images)} images, fewer than {args.num_images}")
    dataset = reference_dataset(args.source)
    name = REFERENCE_DATASETS[dataset]
    if dataset != "mnist":
        print(f"note: {Path(args.source).name} trained on {name}: FID against the {name} test set, "
              f"features of the MNIST classifier")
    classifier = get_classifier()
    reference = dataset_reference(classifier, dataset)
    labels = sampled_labels(args.source, len(images))  # a conditional checkpoint's classes, else None
    result = evaluate_samples(images, classifier, n=args.num_images, reference=reference, labels=labels)
    train_images, train_labels = load_mnist_split("train") if dataset == "mnist" else load_split(dataset, "train")
    floor_labels = None if labels is None else train_labels[: result["n"]]
    floor = reference_statistics(classifier, train_images[: result["n"]], floor_labels)
    result["reference"] = {
        **floor.scores,
        "fid": frechet_distance(floor.mu, floor.cov, reference.mu, reference.cov),
        "images": f"the first {result['n']} {name} training images (FID against the test set)",
    }
    print(format_report(result, Path(args.source).name[:14], f"real {name}"))
    print(f"(real {name}: {result['reference']['images']}, the floor)")
    if args.json:
        write_json(result, args.json)
    return 0


def write_json(result: dict[str, Any], path: str | os.PathLike) -> None:
    """Write ``result`` as JSON to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(result, f, indent=2)
