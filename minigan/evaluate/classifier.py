"""A small convolutional MNIST classifier built from minigan's own layers, and its cache.

Architecture (NHWC, 28x28x1 in [-1, 1] -> 10 logits)::

    Conv2D(16, 3, same) ReLU -> Conv2D(32, 3, stride 2, same) ReLU          28x28 -> 14x14
    Conv2D(32, 3, same) ReLU -> Conv2D(64, 3, stride 2, same) ReLU          14x14 ->  7x7
    Flatten -> Dense(128) ReLU  [the 128-d penultimate *features*] -> Dropout(0.3) -> Dense(10)

Trained with Adam on softmax cross-entropy (:func:`minigan.losses.softmax_cross_entropy`),
it reaches about 99% test accuracy in three epochs on a CPU. Its weights are saved to
:func:`cache_path` (written atomically) and re-used, so users train it once.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from collections.abc import Callable
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
    """The trained network with inference helpers; all outputs are NumPy arrays."""

    def __init__(self, model: nn.Sequential, test_accuracy: float | None = None) -> None:
        self.model = model
        self.test_accuracy = test_accuracy

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


def cache_path() -> Path:
    """Where the trained classifier is kept: ``$MINIGAN_CACHE/classifier.npz`` if that variable
    is set, else ``$XDG_CACHE_HOME/minigan/classifier.npz`` (``~/.cache/minigan/classifier.npz``)."""
    base = os.environ.get(CACHE_ENV_VAR)
    if base:
        return Path(base).expanduser() / "classifier.npz"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "minigan" / "classifier.npz"


def save_classifier(classifier: Classifier, path: str | os.PathLike) -> Path:
    """Write the weights and metadata to ``path`` (.npz) atomically (:func:`minigan.atomic.atomic_path`)."""
    path = Path(path)
    meta = {"architecture": ARCHITECTURE, "test_accuracy": classifier.test_accuracy}
    arrays = {f"param/{k}": backend.as_numpy(v) for k, v in classifier.model.params.items()}
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta)), **arrays)
    return path


def load_classifier(path: str | os.PathLike) -> Classifier:
    """Read a classifier written by :func:`save_classifier`; ValueError naming the file if it does not fit."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {k.removeprefix("param/"): data[k] for k in data.files if k.startswith("param/")}
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
    return Classifier(model, meta.get("test_accuracy"))


def load_mnist_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """MNIST ``split`` via :mod:`minigan.data` (images float32 (N, 28, 28, 1) in [-1, 1], labels int64)."""
    from minigan.data import load_mnist

    return load_mnist(split)


def train_and_cache(
    epochs: int = 3, path: str | os.PathLike | None = None, log: Callable[[str], None] | None = print
) -> Classifier:
    """Train on the MNIST training set, measure test accuracy, save to ``path`` (default :func:`cache_path`)."""
    train_x, train_y = load_mnist_split("train")
    test_x, test_y = load_mnist_split("test")
    classifier = train_classifier(train_x, train_y, epochs=epochs, log=log)
    classifier.test_accuracy = classifier.accuracy(test_x, test_y)
    saved = save_classifier(classifier, path if path is not None else cache_path())
    if log is not None:
        log(f"test accuracy {classifier.test_accuracy:.4f}; saved to {saved}")
    return classifier


_LOADED: dict[tuple[str, int], Classifier] = {}


def get_classifier(train_if_missing: bool = True, log: Callable[[str], None] | None = print) -> Classifier:
    """The cached classifier; trains (and caches) it first if there is none and ``train_if_missing``.

    The file is read once per process (again only if it changes), so repeated calls return
    the same object and :func:`minigan.evaluate.scores.mnist_test_reference` is computed once.
    """
    path = cache_path()
    if path.is_file():
        key = (str(path), path.stat().st_mtime_ns)
        if key not in _LOADED:
            _LOADED.clear()
            _LOADED[key] = load_classifier(path)
        return _LOADED[key]
    if not train_if_missing:
        raise ValueError(f"no trained classifier at {path}; run: python -m minigan train-classifier")
    if log is not None:
        log(f"no classifier at {path}; training one on MNIST (once, a few minutes on a CPU)")
    return train_and_cache(log=log)
