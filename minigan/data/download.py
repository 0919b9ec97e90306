"""Find a dataset file on disk, or fetch it from a list of mirrors, verified and written atomically.

Every loader reads its files through :func:`obtain` with a ``read`` function that parses *and*
verifies a file (checksum, structure) and raises :class:`DataError` when it is bad. The same
function judges a cached file and a fresh download, so nothing unverified is ever returned or
renamed into place.
"""

from __future__ import annotations

import os
import urllib.request
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import TypeVar

from tqdm.auto import tqdm

from minigan.atomic import atomic_path
from minigan.data.storage import ENV_VAR, DataError, search_dirs

T = TypeVar("T")

TIMEOUT_S = 60


@dataclass(frozen=True)
class Source:
    """A downloadable dataset: its folder name, its display name and the files a user must supply."""

    name: str
    title: str
    files: Sequence[str]


def obtain(
    source: Source,
    filename: str,
    read: Callable[[Path], T],
    *,
    root: str | os.PathLike | None,
    download: bool,
    mirrors: Sequence[str],
    aliases: Sequence[str] = (),
) -> T:
    """``read(path)`` for the local copy of ``filename`` (or an alias), fetching it if needed.

    A local copy that ``read`` rejects is reported with a warning and fetched again when
    ``download`` is true; otherwise the :class:`DataError` propagates. A missing file with
    ``download=False``, or one no mirror delivers intact, raises one :class:`DataError` that
    says where to put the files.
    """
    dirs = search_dirs(source.name, root)
    local = next((d / n for d in dirs for n in (filename, *aliases) if (d / n).is_file()), None)
    if local is not None:
        try:
            return read(local)
        except DataError as exc:
            if not download:
                raise DataError(f"{exc}; replace the file, or delete it and load with download=True") from None
            warnings.warn(f"{exc}; fetching it again", RuntimeWarning, stacklevel=2)
    if not download:
        raise DataError(f"{source.title}: {filename} not found.\n{_where_to_put(source, dirs)}")
    dest = local.parent if local is not None else dirs[0]
    try:
        value = fetch(filename, dest, mirrors, read)
    except DataError as exc:
        raise DataError(f"{source.title}: {exc}\n{_where_to_put(source, dirs)}") from None
    if local is not None and local != dest / filename:
        local.unlink()  # the rejected copy under another name (e.g. raw beside the new .gz)
    return value


def fetch(filename: str, dest: Path, mirrors: Sequence[str], read: Callable[[Path], T]) -> T:
    """Download ``filename`` from the first mirror that delivers a copy ``read`` accepts, into ``dest``.

    Each attempt goes to a temporary file that is renamed to ``dest / filename`` only once
    ``read`` has verified it.
    """
    failures = []
    for mirror in mirrors:
        url = f"{mirror.rstrip('/')}/{filename}"
        try:
            with atomic_path(dest / filename) as tmp:
                _copy_url(url, tmp)
                value = read(tmp)
            return value
        except (OSError, HTTPException, ValueError) as exc:  # ValueError includes DataError
            failures.append(f"  {url}: {exc}")
    tried = "\n".join(failures) or "  (no mirrors given)"
    raise DataError(f"could not download {filename}; tried:\n{tried}")


def _copy_url(url: str, path: Path) -> None:
    """Copy ``url`` (http, https or file) to ``path`` with a progress bar; a short read is an error."""
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, open(path, "wb") as out:
        length = response.headers.get("Content-Length")
        total = int(length) if length is not None else None
        received = 0
        with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=Path(url).name, leave=False) as bar:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if total is not None and received != total:
        raise DataError(f"download truncated: received {received} bytes, expected {total}")


def _where_to_put(source: Source, dirs: Sequence[Path]) -> str:
    return (
        f"Offline? Put the {source.title} files ({', '.join(source.files)}) in {dirs[0]}, "
        f"or set {ENV_VAR} to a folder whose '{source.name}/' subfolder holds them (or pass root=...). "
        f"Looked in: {', '.join(str(d) for d in dirs)}."
    )
