"""Mini-batches for training: seeded per-epoch shuffling, resumable, moved to the active backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from minigan.backend import as_array, as_numpy, floatx, is_device_array, one_hot


class Batches:
    """Iterate over ``images`` (and ``labels``) in mini-batches, one pass per ``for`` loop.

    ``images`` is any array-like with ``len()`` and fancy indexing by an integer array: a NumPy
    array ``(N, H, W, C)``, a CuPy array (indexed on the device), a memory-mapped array or an
    :class:`~minigan.data.ImageFolder`. Each batch is indexed in one call and handed over once
    through :func:`minigan.backend.as_array` (a CuPy array under the CuPy backend); floating
    images come as ``floatx()`` (float32).

    Yields ``images`` alone, or ``(images, labels)`` when ``labels`` is given: int64 ``(B,)``,
    or float one-hot ``(B, num_classes)`` with ``one_hot=True`` (for conditional GANs).

    The order of epoch ``e`` is ``default_rng([seed, 0, e]).permutation(N)`` (or ``0..N-1`` without
    ``shuffle``), so it depends on nothing but the seed and the epoch. Each completed pass moves
    to the next epoch; :meth:`set_epoch` jumps to one, and :meth:`state_dict` /
    :meth:`load_state_dict` resume mid-epoch with exactly the batches that were still to come.
    ``len()`` is the number of batches per epoch; with ``drop_last`` a short last batch is skipped.
    """

    def __init__(
        self,
        images: Any,
        labels: Any = None,
        batch_size: int = 64,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = True,
        one_hot: bool = False,
        num_classes: int = 10,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size: expected a positive integer, got {batch_size}")
        self.images = images
        self.size = len(images)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.one_hot = one_hot
        self.num_classes = num_classes
        self.labels = None if labels is None else self._check_labels(as_numpy(labels))
        if one_hot and labels is None:
            raise ValueError("one_hot=True needs labels")
        if len(self) == 0:
            raise ValueError(f"{self.size} images make no batch of {batch_size} with drop_last=True")
        self.epoch = 0
        self._done = 0  # batches of the current epoch already handed out

    def _check_labels(self, labels: np.ndarray) -> np.ndarray:
        if labels.ndim != 1 or labels.dtype.kind not in "iu" or len(labels) != self.size:
            raise ValueError(
                f"labels: expected {self.size} integer labels shaped ({self.size},), "
                f"got {labels.dtype} shaped {labels.shape}"
            )
        if self.one_hot and self.size and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(
                f"labels: expected values in [0, {self.num_classes - 1}] for one_hot, "
                f"got {labels.min()} to {labels.max()}"
            )
        return labels.astype(np.int64, copy=False)

    def __len__(self) -> int:
        full, rest = divmod(self.size, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def order(self, epoch: int) -> np.ndarray:
        """The sample indices of epoch ``epoch``, in the order they are batched."""
        if not self.shuffle:
            return np.arange(self.size)
        return np.random.default_rng([self.seed, 0, epoch]).permutation(self.size)

    def __iter__(self) -> Iterator[Any]:
        epoch, order = self.epoch, self.order(self.epoch)
        while self._done < len(self):
            start = self._done * self.batch_size
            self._done += 1
            yield self._batch(order[start : start + self.batch_size])
        self.epoch, self._done = epoch + 1, 0

    def _batch(self, index: np.ndarray) -> Any:
        images = self.images[as_array(index) if is_device_array(self.images) else index]
        images = as_array(images, floatx()) if images.dtype.kind == "f" else as_array(images)
        if self.labels is None:
            return images
        labels = self.labels[index]
        if self.one_hot:
            return images, one_hot(labels, self.num_classes)
        return images, as_array(labels)

    def set_epoch(self, epoch: int, batch: int = 0) -> None:
        """Start epoch ``epoch`` at its batch ``batch`` (default: the first) at the next iteration."""
        self.epoch, self._done = epoch, batch

    def state_dict(self) -> dict[str, int]:
        """Where the iteration stands: ``epoch``, ``batch`` (batches already handed out), plus the
        ``seed`` and ``size`` it applies to. Save it with the model to resume exactly."""
        epoch, done = (self.epoch + 1, 0) if self._done >= len(self) else (self.epoch, self._done)
        return {"epoch": epoch, "batch": done, "seed": self.seed, "size": self.size}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Continue from a :meth:`state_dict`; refuses one taken with another seed or dataset size."""
        if (state["seed"], state["size"]) != (self.seed, self.size):
            raise ValueError(
                f"load_state_dict: state is for seed {state['seed']} and {state['size']} samples, "
                f"these batches have seed {self.seed} and {self.size} samples"
            )
        self.epoch, self._done = state["epoch"], state["batch"]
