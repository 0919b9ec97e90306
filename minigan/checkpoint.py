"""Checkpoints: networks, optimizers, RNG state and metadata in one ``.npz`` file.

Layout of the archive (every array stored on the host, in its own dtype)::

    model/<name>/params/<layer>/<key>     a network's parameters   ("model/generator/params/dense/kernel")
    model/<name>/state/<layer>/<key>      its non-trainable arrays (BatchNormalization's moving statistics)
    optim/<name>/t                        an optimizer's step count (0-d int64)
    optim/<name>/<slot>/<layer>/<key>     its slot arrays (Adam's "m" and "v")
    array/<name>                          any other array (the training history)
    meta                                  a JSON document (0-d string): format version, step,
                                          configuration, RNG state

Files are written atomically (a temporary file in the same folder, then ``os.replace``),
so an interrupted write never leaves a half checkpoint behind the old one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from minigan import backend
from minigan.atomic import atomic_path

FORMAT = "minigan-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, or does not fit the model it is loaded into."""


def save(
    path: str | os.PathLike,
    models: Mapping[str, Any],
    optimizers: Mapping[str, Any],
    meta: Mapping[str, Any],
    arrays: Mapping[str, Any] | None = None,
) -> None:
    """Write ``models`` (name -> layer), ``optimizers`` (name -> optimizer), extra ``arrays``
    and the JSON-able ``meta`` to ``path`` atomically."""
    content: dict[str, np.ndarray] = {}
    for name, model in models.items():
        for kind in ("params", "state"):
            for key, value in getattr(model, kind).items():
                content[f"model/{name}/{kind}/{key}"] = backend.as_numpy(value)
    for name, optimizer in optimizers.items():
        state = optimizer.state_dict()
        content[f"optim/{name}/t"] = np.asarray(state["t"], dtype=np.int64)
        for slot, values in state["slots"].items():
            for key, value in values.items():
                content[f"optim/{name}/{slot}/{key}"] = backend.as_numpy(value)
    for name, value in (arrays or {}).items():
        content[f"array/{name}"] = np.asarray(value)
    content["meta"] = np.asarray(json.dumps({"format": FORMAT, "version": VERSION, **meta}))
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **content)


@dataclass
class Checkpoint:
    """A loaded checkpoint: its path, its ``meta`` document and its arrays (host copies)."""

    path: Path
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]

    def _section(self, prefix: str) -> dict[str, np.ndarray]:
        return {k[len(prefix):]: v for k, v in self.arrays.items() if k.startswith(prefix)}

    def restore_model(self, name: str, model: Any) -> None:
        """Copy the stored parameters and state of ``name`` into ``model`` (same keys and shapes)."""
        for kind in ("params", "state"):
            stored = self._section(f"model/{name}/{kind}/")
            target = getattr(model, kind)
            _check_same_layout(self.path, f"{name} {kind}", stored, target)
            for key, value in stored.items():
                target[key][...] = backend.as_array(value, dtype=target[key].dtype)

    def restore_optimizer(self, name: str, optimizer: Any) -> None:
        """Load the step count and slot arrays of ``name`` into ``optimizer``."""
        if f"optim/{name}/t" not in self.arrays:
            raise CheckpointError(f"checkpoint {self.path}: expected an optimizer {name!r}, found none")
        params = optimizer.model.params
        slots: dict[str, dict[str, Any]] = {}
        for key, value in self._section(f"optim/{name}/").items():
            if key == "t":
                continue
            slot, param_key = key.split("/", 1)
            if param_key not in params or params[param_key].shape != value.shape:
                raise CheckpointError(
                    f"checkpoint {self.path}: optimizer {name!r} slot {key!r} does not fit the model "
                    f"(shape {value.shape} in the file)"
                )
            slots.setdefault(slot, {})[param_key] = backend.as_array(value, dtype=params[param_key].dtype)
        optimizer.load_state_dict({"t": int(self.arrays[f"optim/{name}/t"]), "slots": slots})

    def array(self, name: str) -> np.ndarray:
        """An extra array stored with ``save(arrays=...)``."""
        return self.arrays[f"array/{name}"]


def _check_same_layout(path: Path, what: str, stored: Mapping[str, Any], target: Mapping[str, Any]) -> None:
    missing, extra = sorted(set(target) - set(stored)), sorted(set(stored) - set(target))
    if missing or extra:
        raise CheckpointError(
            f"checkpoint {path}: {what} do not match the model (another architecture?): "
            f"missing in the file {missing[:4]}, unknown to the model {extra[:4]}"
        )
    for key, value in stored.items():
        if tuple(value.shape) != tuple(target[key].shape):
            raise CheckpointError(
                f"checkpoint {path}: {what} {key!r} has shape {tuple(value.shape)} in the file, "
                f"the model expects {tuple(target[key].shape)} (another architecture?)"
            )


def load(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint written by :func:`save`; raise :class:`CheckpointError` if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError) as exc:
        raise CheckpointError(f"checkpoint {path}: not a readable .npz file ({exc})") from None
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except (KeyError, json.JSONDecodeError):
        meta = {}
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path}: expected a minigan checkpoint, found no minigan metadata")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"checkpoint {path}: expected format version {VERSION}, got {meta.get('version')}")
    return Checkpoint(path, meta, arrays)
