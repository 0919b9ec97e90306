"""Files on disk: where datasets are looked for, reading (gzip or raw), digests and atomic writes."""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path

ENV_VAR = "MINIGAN_DATA"


class DataError(ValueError):
    """A data file is missing, truncated, corrupt or not what it should be; the message names the file."""


def search_dirs(name: str, root: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for the dataset ``name``, in order; the first is where downloads go.

    ``root`` if given, else ``$MINIGAN_DATA``: ``<base>/<name>/`` then ``<base>/`` itself.
    Otherwise the user cache: ``$XDG_CACHE_HOME/minigan/<name>/`` (``~/.cache/minigan/<name>/``).
    """
    base = root if root is not None else os.environ.get(ENV_VAR) or None
    if base is not None:
        base = Path(base).expanduser()
        return [base / name, base]
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return [Path(cache) / "minigan" / name]


def read_bytes(path: str | os.PathLike) -> bytes:
    """The content of ``path``, decompressed if it is gzip (detected by its magic bytes, not its name).

    A truncated or corrupt gzip file raises :class:`DataError` naming the file.
    """
    path = Path(path)
    with open(path, "rb") as f:
        is_gzip = f.read(2) == b"\x1f\x8b"
    if not is_gzip:
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: corrupt or truncated gzip file ({exc})") from None


def file_digest(path: str | os.PathLike, algorithm: str) -> str:
    """The hex digest (``"md5"``, ``"sha256"``) of the bytes of ``path`` as stored, read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def check_digest(path: str | os.PathLike, actual: str, expected: str, what: str) -> None:
    """Raise :class:`DataError` unless ``actual == expected``; ``what`` says which digest, e.g. "MD5"."""
    if actual != expected:
        raise DataError(
            f"{path}: checksum mismatch: {what} is {actual}, expected {expected} "
            "(the file is corrupt or not the original)"
        )
