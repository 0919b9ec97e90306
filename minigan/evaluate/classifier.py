"""The evaluators: a small convolutional classifier built from minigan's own layers, shipped trained.

Architecture (NHWC, 28x28x1 in [-1, 1] -> 10 logits)::

    Conv2D(16, 3, same) ReLU -> Conv2D(32, 3, stride 2, same) ReLU          28x28 -> 14x14
    Conv2D(32, 3, same) ReLU -> Conv2D(64, 3, stride 2, same) ReLU          14x14 ->  7x7
    Flatten -> Dense(128) ReLU  [the 128-d penultimate *features*] -> Dropout(0.3) -> Dense(10)

Trained with Adam on softmax cross-entropy (:func:`minigan.losses.softmax_cross_entropy`) by
the fixed :data:`RECIPE`, it reaches about 99% test accuracy on MNIST and 90% on Fashion-MNIST
in three epochs on a CPU. One such classifier per dataset is part of the package
(``minigan/evaluate/weights/``, :data:`SHIPPED`): every score is computed in the features of
the same weights on every machine, with no training and no download. Each file's SHA-256 is
pinned here and checked when it is read, so a damaged or changed file is refused. Every
evaluator is named by its :attr:`Classifier.label`, ``name@`` and the first 8 hex digits of its
file's SHA-256, e.g. ``mnist-cnn@1a2b3c4d``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from minigan import backend, losses, nn, optim
from minigan.atomic import atomic_path

ARCHITECTURE = "mnist-cnn-v1"
CACHE_ENV_VAR = "MINIGAN_CACHE"
IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
FEATURE_DIM = 128
_FEATURE_LAYERS = 11  # layers up to and including the ReLU after Dense(128)

#: The datasets an evaluator is trained on and a reference is drawn from: name (as ``--data`` /
#: ``--dataset`` spell it) -> label.
REFERENCE_DATASETS = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}

#: How ``train-classifier`` trains (and how the shipped evaluators were trained): whole training split.
RECIPE = {"epochs": 3, "batch_size": 128, "lr": 1e-3, "seed": 0}

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


@dataclass(frozen=True)
class ShippedEvaluator:
    """A classifier that is part of the package: its file and the file's pinned SHA-256."""

    dataset: str
    path: Path
    sha256: str


#: The shipped evaluators, one per :data:`REFERENCE_DATASETS` entry.
SHIPPED = {
    "mnist": ShippedEvaluator(
        "mnist", WEIGHTS_DIR / "mnist.npz", "1386418e8dc5fbee1263a9f3dde68805f4e03b76281b12209f19f13ab3695080"
    ),
    "fashion-mnist": ShippedEvaluator(
        "fashion-mnist", WEIGHTS_DIR / "fashion_mnist.npz",
        "20c939872528d93c87836685aba6ab70a6af20fe9c89faf8aa5b7a9cde3dd3e0",
    ),
}


def build_model() -> nn.Sequential:
    """The classifier network, built for 28x28x1 images in the current float dtype."""
    return nn.Sequential(
        [
            nn.Conv2D(16, 3, padding="same", kernel_initializer="he_normal"),
            nn.ReLU(),
            nn.Conv2D(32, 3, strides=2, padding="same", kernel_initializer="he_normal"),
            nn.ReLU(),
            nn.Conv2D(32, 3, padding="same", kernel_initializer="he_normal"),
            nn.ReLU(),
            nn.Conv2D(64, 3, strides=2, padding="same", kernel_initializer="he_normal"),
            nn.ReLU(),
            nn.Flatten(),
            nn.Dense(FEATURE_DIM, kernel_initializer="he_normal"),
            nn.ReLU(),
            nn.Dropout(0.3),
            nn.Dense(NUM_CLASSES),
        ],
        input_shape=IMAGE_SHAPE,
        name="mnist_classifier",
    )


def check_images(images: Any, what: str = "images") -> np.ndarray:
    """``images`` as float32 ``(N, 28, 28, 1)``; a (N, 28, 28) array gets its channel axis.

    Raises ValueError (naming ``what``) for another shape, a non-float dtype or values
    outside [-1, 1] (beyond a small tolerance), since the classifier was trained on [-1, 1].
    """
    array = backend.as_numpy(images)
    if array.ndim == 3:
        array = array[..., None]
    if array.shape[1:] != IMAGE_SHAPE or array.dtype.kind != "f" or len(array) == 0:
        raise ValueError(
            f"{what}: expected float images of shape (N, 28, 28, 1) in [-1, 1], got {array.dtype} of shape "
            f"{array.shape}"
        )
    _check_range(array, what)
    return array.astype(np.float32, copy=False)


def _check_range(array: np.ndarray, what: str) -> None:
    low, high = float(array.min()), float(array.max())
    if low < -1.01 or high > 1.01 or not np.isfinite(low + high):
        raise ValueError(f"{what}: expected pixel values in [-1, 1], got values from {low:g} to {high:g}")


def is_resizable(image_shape: Any) -> bool:
    """Whether images of ``image_shape`` (H, W, C) are square and one-channel: (S, S, 1), S >= 1."""
    shape = tuple(image_shape)
    return len(shape) == 3 and shape[0] == shape[1] >= 1 and shape[2] == 1


def resized_for_classifier(images: Any, what: str = "images", log: Callable[[str], None] | None = None) -> np.ndarray:
    """:func:`check_images` of ``images``, square one-channel images (N, S, S, 1) (or (N, S, S)) of
    another size S first resized to 28x28 (:func:`minigan.data.resize_images`: bilinear, widened
    when shrinking), which ``log`` is told; other shapes are refused as :func:`check_images` does."""
    from minigan.data import resize_images

    array = backend.as_numpy(images)
    if array.ndim == 3:
        array = array[..., None]
    shape = array.shape[1:]
    if array.ndim == 4 and len(array) and array.dtype.kind == "f" and is_resizable(shape) and shape != IMAGE_SHAPE:
        _check_range(array, what)  # before resizing can average an outlier away
        if log is not None:
            log(f"note: {what}: images {shape} resized to {IMAGE_SHAPE} for the MNIST classifier")
        array = resize_images(array, IMAGE_SHAPE[0])
    return check_images(array, what)


class Classifier:
    """The trained network with inference helpers; all outputs are NumPy arrays.

    ``name`` (e.g. ``"mnist-cnn"``), ``dataset`` it was trained on and ``sha256`` of the file it was
    read from (None if it was never saved) identify it: :attr:`label`."""

    def __init__(
        self,
        model: nn.Sequential,
        test_accuracy: float | None = None,
        name: str = "mnist-cnn",
        dataset: str = "mnist",
        sha256: str | None = None,
    ) -> None:
        self.model = model
        self.test_accuracy = test_accuracy
        self.name, self.dataset, self.sha256 = name, dataset, sha256

    @property
    def label(self) -> str:
        """``name@`` and the first 8 hex digits of the file's SHA-256 (``@unsaved`` if never saved)."""
        return f"{self.name}@{self.sha256[:8] if self.sha256 else 'unsaved'}"

    @property
    def shipped(self) -> bool:
        """Whether these are the weights shipped for :attr:`dataset` (:data:`SHIPPED`)."""
        entry = SHIPPED.get(self.dataset)
        return entry is not None and self.sha256 == entry.sha256

    def features_and_probabilities(self, images: Any, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
        """Penultimate features (N, 128) float32 and class probabilities p(y|x) (N, 10) float64.

        One inference-mode pass; ``images`` as in :func:`check_images`.
        """
        images = check_images(images)
        layers = self.model.layers
        features, logits = [], []
        for start in range(0, len(images), batch_size):
            x = backend.as_array(images[start : start + batch_size], self.model.dtype)
            for layer in layers[:_FEATURE_LAYERS]:
                x = layer.forward(x, training=False)
            features.append(backend.as_numpy(x))
            for layer in layers[_FEATURE_LAYERS:]:
                x = layer.forward(x, training=False)
            logits.append(backend.as_numpy(x))
        z = np.concatenate(logits).astype(np.float64)
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return np.concatenate(features), p / p.sum(axis=1, keepdims=True)

    def accuracy(self, images: Any, labels: np.ndarray) -> float:
        """Fraction of ``images`` whose most probable class is ``labels``."""
        _, p = self.features_and_probabilities(images)
        return float((p.argmax(axis=1) == np.asarray(labels)).mean())


def train_classifier(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int = 3,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    max_steps: int | None = None,
    log: Callable[[str], None] | None = print,
) -> Classifier:
    """Train a fresh classifier on ``images`` (N, 28, 28, 1) in [-1, 1] and integer ``labels`` (N,).

    Adam with learning rate ``lr``, divided by 10 for the last epoch (when ``epochs > 1``);
    examples are reshuffled every epoch. ``max_steps`` stops early (used by quick tests).
    """
    images = check_images(images, "train_classifier images")
    labels = np.asarray(labels)
    if labels.shape != (len(images),) or labels.dtype.kind not in "iu":
        raise ValueError(f"train_classifier: expected integer labels of shape ({len(images)},), got {labels.shape}")
    backend.seed(seed)
    model = build_model()
    opt = optim.Adam(model, lr=lr)
    order_rng = np.random.default_rng(seed)
    step, start = 0, time.perf_counter()
    for epoch in range(epochs):
        opt.lr = lr / 10 if epochs > 1 and epoch == epochs - 1 else lr
        order = order_rng.permutation(len(images))
        total, count = 0.0, 0
        for first in range(0, len(order) - batch_size + 1, batch_size):
            idx = order[first : first + batch_size]
            opt.zero_grad()
            logits = model.forward(backend.as_array(images[idx]), training=True)
            loss, dlogits = losses.softmax_cross_entropy(logits, backend.as_array(labels[idx]))
            model.backward(dlogits)
            opt.step()
            total, count, step = total + float(loss), count + 1, step + 1
            if max_steps is not None and step >= max_steps:
                break
        if log is not None:
            log(f"epoch {epoch + 1}/{epochs}: loss {total / max(count, 1):.4f} ({time.perf_counter() - start:.0f} s)")
        if max_steps is not None and step >= max_steps:
            break
    return Classifier(model)


def cache_path(dataset: str = "mnist") -> Path:
    """Where ``train-classifier`` writes by default: ``classifier.npz`` (MNIST) or
    ``classifier-<dataset>.npz`` in ``$MINIGAN_CACHE`` if that variable is set, else in
    ``$XDG_CACHE_HOME/minigan`` (``~/.cache/minigan``)."""
    name = "classifier.npz" if dataset == "mnist" else f"classifier-{dataset}.npz"
    base = os.environ.get(CACHE_ENV_VAR)
    if base:
        return Path(base).expanduser() / name
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "minigan" / name


def save_classifier(classifier: Classifier, path: str | os.PathLike, recipe: dict | None = None) -> Path:
    """Write the float32 weights and metadata (with the training ``recipe``, if given) to ``path``
    (.npz, deflated) atomically (:func:`minigan.atomic.atomic_path`), and set ``classifier.sha256``
    to the file's.

    The archive's entries carry a fixed date, so the same weights always give the same bytes.
    (Stored as float16 the weights would move the scores' fourth significant digit.)"""
    path = Path(path)
    meta = {"architecture": ARCHITECTURE, "name": classifier.name, "dataset": classifier.dataset,
            "test_accuracy": classifier.test_accuracy, "recipe": recipe}
    arrays = {"meta": np.array(json.dumps(meta, sort_keys=True))}
    arrays.update({f"param/{k}": backend.as_numpy(v).astype(np.float32) for k, v in classifier.model.params.items()})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, array in arrays.items():
            entry = io.BytesIO()
            np.lib.format.write_array(entry, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, entry.getvalue(), compress_type=zipfile.ZIP_DEFLATED)
    data = buffer.getvalue()
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
    classifier.sha256 = hashlib.sha256(data).hexdigest()
    return path


def load_classifier(path: str | os.PathLike, sha256: str | None = None) -> Classifier:
    """Read a classifier written by :func:`save_classifier`; ValueError naming the file if it does not
    fit, or if ``sha256`` is given and the file's SHA-256 is another (a damaged or changed file)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the classifier ({exc.strerror or exc})") from None
    digest = hashlib.sha256(data).hexdigest()
    if sha256 is not None and digest != sha256:
        raise ValueError(
            f"{path}: SHA-256 {digest[:16]}... is not the pinned {sha256[:16]}...: the shipped evaluator's "
            "file is damaged or was changed; reinstall minigan"
        )
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            arrays = {k.removeprefix("param/"): npz[k] for k in npz.files if k.startswith("param/")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # NumPy's messages advise allow_pickle
        raise ValueError(
            f"{path}: not a readable minigan classifier (truncated, corrupt or of another kind); "
            "python -m minigan train-classifier --force writes a new one"
        ) from None
    if meta.get("architecture") != ARCHITECTURE:
        raise ValueError(f"{path}: expected classifier architecture {ARCHITECTURE!r}, got {meta.get('architecture')!r}")
    model = build_model()
    params = model.params
    if set(arrays) != set(params):
        raise ValueError(f"{path}: expected parameters {sorted(params)}, got {sorted(arrays)}")
    for key, value in params.items():
        if arrays[key].shape != value.shape:
            raise ValueError(f"{path}: {key}: expected shape {value.shape}, got {arrays[key].shape}")
        value[...] = backend.as_array(arrays[key], value.dtype)
    dataset = meta.get("dataset", "mnist")
    return Classifier(model, meta.get("test_accuracy"), meta.get("name", path.stem), dataset, digest)


def load_split(dataset: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """``split`` ("train" or "test") of a :data:`REFERENCE_DATASETS` entry via :mod:`minigan.data`
    (the default data folder): images float32 (N, 28, 28, 1) in [-1, 1] and int64 labels."""
    if dataset not in REFERENCE_DATASETS:
        raise ValueError(f"expected a dataset in {', '.join(REFERENCE_DATASETS)}, got {dataset!r}")
    from minigan.data import load_fashion_mnist, load_mnist

    return (load_mnist if dataset == "mnist" else load_fashion_mnist)(split)


def load_mnist_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """MNIST ``split`` (:func:`load_split` of "mnist")."""
    return load_split("mnist", split)


def train_and_save(
    dataset: str = "mnist",
    path: str | os.PathLike | None = None,
    epochs: int = RECIPE["epochs"],
    log: Callable[[str], None] | None = print,
) -> Classifier:
    """Train by :data:`RECIPE` on the training split of ``dataset``, measure test accuracy, save to
    ``path`` (default :func:`cache_path`).

    With the default ``epochs`` this is how the :data:`SHIPPED` weights were made."""
    train_x, train_y = load_split(dataset, "train")
    test_x, test_y = load_split(dataset, "test")
    recipe = {**RECIPE, "epochs": epochs}
    classifier = train_classifier(train_x, train_y, **recipe, log=log)
    classifier.name, classifier.dataset = f"{dataset}-cnn", dataset
    classifier.test_accuracy = classifier.accuracy(test_x, test_y)
    saved = save_classifier(classifier, path if path is not None else cache_path(dataset), recipe=recipe)
    if log is not None:
        log(f"test accuracy {classifier.test_accuracy:.4f}; saved to {saved} as {classifier.label}")
    return classifier


_LOADED: dict[tuple[str, int], Classifier] = {}


def get_classifier(dataset: str = "mnist", path: str | os.PathLike | None = None) -> Classifier:
    """The evaluator for ``dataset``: the shipped weights (:data:`SHIPPED`, hash-checked), or the
    classifier file at ``path`` (e.g. written by ``python -m minigan train-classifier``).

    Each file is read once per process (again only if it changes), so repeated calls return the
    same object and its reference statistics (:func:`minigan.evaluate.scores.dataset_reference`)
    are computed once."""
    if path is None:
        if dataset not in SHIPPED:
            raise ValueError(f"no shipped evaluator for {dataset!r}; expected one of {', '.join(SHIPPED)}")
        file, sha256 = SHIPPED[dataset].path, SHIPPED[dataset].sha256
    else:
        file, sha256 = Path(path), None
        if not file.is_file():
            raise ValueError(f"{file}: no such classifier file (python -m minigan train-classifier writes one)")
    key = (str(file), file.stat().st_mtime_ns if file.is_file() else -1)
    if key not in _LOADED:
        _LOADED[key] = load_classifier(file, sha256)
    return _LOADED[key]
