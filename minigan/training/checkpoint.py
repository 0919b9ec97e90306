"""Checkpoints: networks, optimizers, RNG state and metadata in one ``.npz`` file that proves its integrity.

Layout of the archive (a zip of ``.npy`` members, as ``np.savez`` writes; every array stored on
the host, in its own dtype)::

    model/<name>/params/<layer>/<key>     a network's parameters   ("model/generator/params/dense/kernel")
    model/<name>/state/<layer>/<key>      its non-trainable arrays (BatchNormalization's moving statistics)
    optim/<name>/t                        an optimizer's step count (0-d int64)
    optim/<name>/<slot>/<layer>/<key>     its slot arrays (Adam's "m" and "v")
    array/<name>                          any other array (the training history)
    meta                                  a JSON document (0-d string): format, version, step,
                                          configuration, RNG state, and "checksums": the dtype,
                                          shape and SHA-256 of every member above
    meta.sha256                           the SHA-256 of the ``meta`` member (0-d string)

Every load verifies the chain ``meta.sha256`` -> ``meta`` -> each array, so a file that was cut
short, had a byte changed, lost a member or had an array swapped for another raises
:class:`CheckpointError` with one line naming the file and what is wrong; it never loads
different numbers. Files of format version 1 (minigan before checksums) still load, unverified.

Files are written atomically (a temporary file in the same folder, then ``os.replace``), so an
interrupted or failed write never leaves a half checkpoint behind the old one.
"""

from __future__ import annotations

import hashlib
import io
import json
import lzma
import math
import os
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from minigan import backend
from minigan.atomic import atomic_path

FORMAT = "minigan-checkpoint"
VERSION = 2  # 1: no checksums (still read, unverified); 2: meta.sha256 and per-array checksums
META, META_DIGEST = "meta", "meta.sha256"
# What zipfile raises for a damaged archive: a bad structure, a failed CRC-32 or decompression,
# a flipped flag asking for an unknown compression method or a password.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError,
               NotImplementedError, RuntimeError)


class CheckpointError(ValueError):
    """A checkpoint file is missing, damaged, cannot be written, or does not fit the model it is loaded into."""


def save(
    path: str | os.PathLike,
    models: Mapping[str, Any],
    optimizers: Mapping[str, Any],
    meta: Mapping[str, Any],
    arrays: Mapping[str, Any] | None = None,
) -> None:
    """Write ``models`` (name -> layer), ``optimizers`` (name -> optimizer), extra ``arrays``
    and the JSON-able ``meta`` to ``path`` atomically, with the checksums :func:`load` verifies.

    A failed write (a full disk) raises :class:`CheckpointError` and leaves ``path`` as it was."""
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
    members = {name: _npy_bytes(value) for name, value in content.items()}
    checksums = {
        name: {"dtype": value.dtype.str, "shape": list(value.shape), "sha256": _sha256(members[name])}
        for name, value in content.items()
    }
    document = {**meta, "format": FORMAT, "version": VERSION, "checksums": checksums}
    members[META] = _npy_bytes(np.asarray(json.dumps(document)))
    members[META_DIGEST] = _npy_bytes(np.asarray(_sha256(members[META])))
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as f, zipfile.ZipFile(f, "w") as archive:
            for name, data in members.items():
                archive.writestr(f"{name}.npy", data)  # stored uncompressed, as np.savez does
    except OSError as exc:
        raise CheckpointError(
            f"checkpoint {path}: writing failed ({exc.strerror or exc}); the file on disk is unchanged"
        ) from None


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
    """Read and verify a checkpoint written by :func:`save`; raise :class:`CheckpointError`
    (one line naming the file) if it is missing, damaged or not a minigan checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path}: no such file")
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename.removesuffix(".npy"): archive.read(info) for info in archive.infolist()}
    except _ZIP_ERRORS as exc:
        why = str(exc) or type(exc).__name__
        raise CheckpointError(f"checkpoint {path}: not a readable .npz file, truncated or corrupt ({why})") from None
    if META not in members:
        raise CheckpointError(f"checkpoint {path}: expected a minigan checkpoint, found no minigan metadata")
    meta_bytes = members.pop(META)
    digest = members.pop(META_DIGEST, None)
    if digest is not None and _text(path, META_DIGEST, digest) != _sha256(meta_bytes):
        raise CheckpointError(f"checkpoint {path}: the metadata fails its SHA-256 check (the file is corrupt)")
    meta = _parse_meta(path, meta_bytes)
    version = meta.get("version")
    if version == 1:  # written before checksums existed: nothing to verify against
        arrays = {name: _parse_member(path, name, data) for name, data in members.items()}
        return Checkpoint(path, meta, arrays)
    if isinstance(version, int) and version > VERSION:
        raise CheckpointError(
            f"checkpoint {path}: written by a newer minigan (format version {version}); "
            f"this one reads versions 1 to {VERSION}: upgrade minigan"
        )
    if version != VERSION:
        raise CheckpointError(f"checkpoint {path}: expected format version 1 to {VERSION}, got {version!r}")
    if digest is None:
        raise CheckpointError(f"checkpoint {path}: member {META_DIGEST!r} is missing")
    return Checkpoint(path, meta, _verified_arrays(path, members, meta.pop("checksums", None)))


def _parse_meta(path: Path, data: bytes) -> dict[str, Any]:
    try:
        meta = json.loads(_text(path, META, data))
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"checkpoint {path}: the metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path}: expected a minigan checkpoint, found no minigan metadata")
    return meta


def _verified_arrays(path: Path, members: dict[str, bytes], checksums: Any) -> dict[str, np.ndarray]:
    """The arrays of ``members``, each checked against its entry in the metadata's checksums."""
    if not isinstance(checksums, dict):
        raise CheckpointError(f"checkpoint {path}: the metadata lists no checksums")
    missing, unknown = sorted(set(checksums) - set(members)), sorted(set(members) - set(checksums))
    if missing:
        raise CheckpointError(f"checkpoint {path}: member {missing[0]!r} is missing ({len(missing)} missing in all)")
    if unknown:
        raise CheckpointError(f"checkpoint {path}: member {unknown[0]!r} is not listed in the metadata")
    arrays = {}
    for name, data in members.items():
        array, entry = _parse_member(path, name, data), checksums[name]
        try:
            expected, digest = (np.dtype(entry["dtype"]), tuple(entry["shape"])), entry["sha256"]
        except (KeyError, TypeError, ValueError):
            raise CheckpointError(f"checkpoint {path}: the metadata's entry for {name!r} is malformed") from None
        if (array.dtype, array.shape) != expected:
            raise CheckpointError(
                f"checkpoint {path}: array {name!r} is {array.dtype} shaped {array.shape}, "
                f"the metadata says {expected[0]} shaped {expected[1]}"
            )
        if _sha256(data) != digest:
            raise CheckpointError(f"checkpoint {path}: array {name!r} fails its SHA-256 check (the file is corrupt)")
        arrays[name] = array
    return arrays


def _text(path: Path, name: str, data: bytes) -> str:
    """The string stored as a 0-d array in the member ``name``."""
    array = _parse_member(path, name, data)
    if array.shape != () or array.dtype.kind != "U":
        raise CheckpointError(f"checkpoint {path}: member {name!r} holds {array.dtype} shaped {array.shape}, not text")
    return str(array[()])


def _parse_member(path: Path, name: str, data: bytes) -> np.ndarray:
    """The array in the ``.npy`` bytes ``data``; its length is checked before anything is allocated."""
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f".npy version {version}")
        if dtype.hasobject:
            raise ValueError("an array of Python objects")
        size = len(data) - stream.tell()
        if size != math.prod(shape) * dtype.itemsize:
            raise ValueError(f"{size} data bytes for {dtype} shaped {shape}")
        flat = np.frombuffer(data, dtype, math.prod(shape), offset=stream.tell())
    except ValueError as exc:
        raise CheckpointError(f"checkpoint {path}: member {name!r} is not a readable array ({exc})") from None
    array = flat.reshape(shape[::-1]).T if fortran_order else flat.reshape(shape)
    return array.copy()  # writeable, and no longer tied to the file's bytes
