"""The output folder of a run: proven writable before training starts, and locked to one run.

    with RunLock(out_dir):      # refuses, in one line, a folder another run is writing to
        trainer.fit()

The lock is an exclusive ``flock`` on ``<out_dir>/minigan.lock``, a file holding the owner's
process id (for the message a second run prints). The operating system releases a ``flock``
when its process ends, however it ends, so a run killed by SIGKILL or a power cut leaves no
lock behind: the next run takes the file over, whatever process id it names (which may by
then belong to an unrelated process). POSIX only (``fcntl``).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path
from types import TracebackType

LOCK_NAME = "minigan.lock"


class RunDirError(ValueError):
    """The output folder cannot be written, or another run holds its lock; the message names it."""


def check_writable(folder: str | os.PathLike) -> Path:
    """Create ``folder`` (and its parents) if needed and prove a file can be written in it;
    raise :class:`RunDirError` otherwise."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".minigan-write-test."):
            pass
    except OSError as exc:
        raise RunDirError(f"{folder}: the output folder cannot be written ({exc.strerror or exc})") from None
    return folder


class RunLock:
    """An exclusive lock on the output folder ``folder`` for the life of one run.

    :meth:`acquire` (or ``with``) checks the folder is writable, then takes the lock or raises
    :class:`RunDirError` naming the process that holds it; :meth:`release` (or leaving the
    ``with`` block) removes the lock file, and the folders :meth:`acquire` created if they are
    still empty: a run that fails before writing anything leaves nothing behind.
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None
        self._created: list[Path] = []  # the folders acquire made, the deepest first

    def acquire(self) -> None:
        """Take the lock, or raise :class:`RunDirError` if the folder is unusable or locked."""
        missing = [p for p in (self.folder, *self.folder.parents) if not p.exists()]
        check_writable(self.folder)
        self._created = missing
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                owner = _read_pid(fd)
                os.close(fd)
                if isinstance(exc, BlockingIOError):
                    raise RunDirError(
                        f"{self.folder}: another minigan run is writing to this folder (process {owner}, "
                        f"lock file {self.path}); wait for it to end or choose another output folder"
                    ) from None
                raise RunDirError(f"{self.path}: cannot lock the output folder ({exc.strerror or exc})") from None
            if _is_current(fd, self.path):
                break
            os.close(fd)  # the previous owner removed this file while we opened it: lock the new one
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Remove the lock file and drop the lock (nothing happens if it is not held)."""
        if self._fd is None:
            return
        self.path.unlink(missing_ok=True)  # while still locked, so no other run holds a removed file
        os.close(self._fd)
        self._fd = None
        for folder in self._created:
            try:
                folder.rmdir()  # only if empty
            except OSError:
                break
        self._created = []

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()


def _read_pid(fd: int) -> str:
    """The process id written in the lock file, or "unknown" while its owner is still writing it."""
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return text if text.isdigit() else "unknown"


def _is_current(fd: int, path: Path) -> bool:
    """Whether ``fd`` is still the file at ``path`` (not one its owner has removed since)."""
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (opened.st_dev, opened.st_ino) == (on_disk.st_dev, on_disk.st_ino)
