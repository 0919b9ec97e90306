"""Drawing images from a trained generator: rebuild it from a checkpoint, pick labels, run G.

Used by ``python -m minigan sample | interpolate | evaluate``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from minigan import backend, models, nn
from minigan.training import checkpoint
from minigan.training.callbacks.ema import CHECKPOINT_ENTRY as EMA_ENTRY


class LoadedGenerator(NamedTuple):
    generator: nn.Sequential
    latent_dim: int
    num_classes: int | None  # None: unconditional; K: the generator takes [z, y_onehot]


def load_generator(path: str | Path) -> LoadedGenerator:
    """The generator stored in a training checkpoint (with the average of its weights when the run
    kept one, ``--ema``), its latent size and (if conditional) its number of classes."""
    ckpt = checkpoint.load(path)
    config = ckpt.meta.get("config", {})
    spec = config.get("generator")
    if not isinstance(spec, dict):
        raise checkpoint.CheckpointError(f"checkpoint {path}: expected a GAN training checkpoint, found no generator")
    generator = models.build(spec)
    averaged = any(key.startswith(f"model/{EMA_ENTRY}/") for key in ckpt.arrays)
    ckpt.restore_model(EMA_ENTRY if averaged else "generator", generator)
    num_classes = config.get("num_classes")
    if num_classes is None:
        return LoadedGenerator(generator, int(generator.input_shape[0]), None)
    return LoadedGenerator(generator, int(generator.input_shape[0][0]), int(num_classes))


def class_labels(loaded: LoadedGenerator, label: int | None, n: int, per_class: int) -> np.ndarray | None:
    """Class indices for ``n`` conditional samples: all ``label``, else ``per_class`` of each class in
    turn (cycling through the classes)."""
    if loaded.num_classes is None:
        if label is not None:
            raise ValueError(f"--label {label}: the checkpoint's generator is unconditional")
        return None
    if label is not None and not 0 <= label < loaded.num_classes:
        raise ValueError(f"--label: expected a class in [0, {loaded.num_classes - 1}], got {label}")
    return np.full(n, label) if label is not None else (np.arange(n) // per_class) % loaded.num_classes


def draw(loaded: LoadedGenerator, n: int, seed: int, labels: np.ndarray | None) -> Any:
    """``n`` images ``G(z)``, ``z ~ N(0, 1)`` from the backend's generator seeded by ``seed`` (the
    noise ``Trainer`` draws for the same seed), with ``labels`` for a conditional generator."""
    backend.seed(seed)
    z = backend.as_numpy(backend.rng().standard_normal((n, loaded.latent_dim), dtype=backend.floatx()))
    return generate(loaded, z, labels)


def generate(loaded: LoadedGenerator, z: np.ndarray, labels: np.ndarray | None) -> Any:
    """``G(z)`` or ``G([z, onehot(labels)])`` in inference mode, 256 at a time."""
    z = backend.as_array(z, backend.floatx())
    y = None if labels is None else backend.one_hot(labels, loaded.num_classes)
    chunks = []
    for i in range(0, len(z), 256):
        inputs = z[i : i + 256] if y is None else [z[i : i + 256], y[i : i + 256]]
        chunks.append(loaded.generator.forward(inputs, training=False))
    return backend.xp().concatenate(chunks)
