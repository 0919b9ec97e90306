"""A folder tree of PNG/JPEG images, resized and centre-cropped, decoded lazily or cached on disk.

An image that cannot be decoded does not stop a run: it is skipped with one warning line,
recorded in ``bad_files``, and the next decodable image in path order takes its place.
"""

from __future__ import annotations

import os
import struct
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from tqdm.auto import tqdm

from minigan.atomic import atomic_path
from minigan.data.scaling import check_scale, scale_images
from minigan.data.storage import DataError

EXTENSIONS = (".png", ".jpg", ".jpeg")
# What Pillow raises for a file it cannot decode: unidentified or truncated files (OSError),
# broken chunks (SyntaxError, struct.error, ValueError, EOFError), a decompression bomb.
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, Image.DecompressionBombError)
SIXTEEN_BIT_GRAY = ("I;16", "I;16L", "I;16B", "I;16N", "I")


class ImageFolder:
    """Every PNG/JPEG file under ``root`` (recursively, in sorted path order) as one dataset.

    ``folder[index]`` decodes the images at ``index`` (an int, a slice or an integer array) and
    returns them as ``(n, size, size, C)`` (``(size, size, C)`` for an int) in ``scale``: float32
    in [-1, 1] by default, C = 3 (RGB) or 1 (``grayscale=True``). Each image is scaled so its
    shorter side is ``size`` and centre-cropped to a square. Nothing is decoded up front, so a
    folder of 200k images starts at once; pass ``cache="faces64.npy"`` to decode everything once
    into a uint8 ``.npy`` file (written atomically) that later runs memory-map instead. A cache
    whose shape no longer matches the folder is rebuilt; delete it after changing the images.

    A file that cannot be decoded is reported once through ``log`` (default: one line on
    stderr), recorded in :attr:`bad_files` (path -> message) and replaced by the next
    decodable image in path order, so batches keep their shape and a rerun sees the same
    ones. :meth:`verify` decodes every file up front and refuses the folder if any is bad.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        size: int = 64,
        grayscale: bool = False,
        scale: str = "[-1,1]",
        cache: str | os.PathLike | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.root = Path(root)
        self.size = size
        self.grayscale = grayscale
        self.scale = check_scale(scale)
        if not self.root.is_dir():
            raise DataError(f"{self.root}: not a folder")
        self.paths = sorted(p for p in self.root.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
        if not self.paths:
            raise DataError(f"{self.root}: no images found (expected files ending in {', '.join(EXTENSIONS)})")
        self.bad_files: dict[Path, str] = {}
        self.log = log if log is not None else _print_to_stderr
        self._pixels = None if cache is None else self._open_cache(Path(cache))

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(N, size, size, C)``."""
        return (len(self.paths), self.size, self.size, 1 if self.grayscale else 3)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int | slice | np.ndarray) -> np.ndarray:
        if isinstance(index, (int, np.integer)):
            return self[np.array([index])][0]
        chosen = np.arange(len(self))[index]
        if self._pixels is not None:
            pixels = self._pixels[chosen]
        else:
            pixels = np.empty((len(chosen), *self.shape[1:]), np.uint8)
            for k, i in enumerate(chosen):
                pixels[k] = self.decode_or_next(int(i))
        return scale_images(pixels, self.scale)

    def decode(self, path: Path) -> np.ndarray:
        """One image file as uint8 ``(size, size, C)``: EXIF-rotated, converted, resized, centre-cropped;
        :class:`DataError` if it cannot be decoded."""
        try:
            with Image.open(path) as image:
                image = convert(ImageOps.exif_transpose(image), "L" if self.grayscale else "RGB")
                image = ImageOps.fit(image, (self.size, self.size), Image.Resampling.LANCZOS)
        except DECODE_ERRORS as exc:
            raise DataError(f"{path}: cannot decode image ({type(exc).__name__}: {exc})") from None
        pixels = np.asarray(image, dtype=np.uint8)
        return pixels[..., None] if self.grayscale else pixels

    def decode_or_next(self, index: int) -> np.ndarray:
        """Image ``index``; if it cannot be decoded, the next one in path order that can (wrapping round)."""
        for step in range(len(self.paths)):
            path = self.paths[(index + step) % len(self.paths)]
            if path in self.bad_files:
                continue
            try:
                return self.decode(path)
            except DataError as exc:
                self.bad_files[path] = str(exc)
                self.log(f"warning: {exc}; skipped, the next image takes its place")
        raise DataError(f"{self.root}: none of its {len(self.paths)} images can be decoded")

    def verify(self, progress: bool = True) -> None:
        """Decode every image once (the strict mode); raise one :class:`DataError` listing each
        file that cannot be decoded, after recording them in :attr:`bad_files`."""
        for path in tqdm(self.paths, desc=f"checking {self.root.name}", unit="img", disable=not progress):
            if path not in self.bad_files:
                try:
                    self.decode(path)
                except DataError as exc:
                    self.bad_files[path] = str(exc)
        bad = [self.bad_files[path] for path in self.paths if path in self.bad_files]
        if bad:
            shown = "; ".join(bad[:10]) + (f"; and {len(bad) - 10} more" if len(bad) > 10 else "")
            raise DataError(f"{self.root}: {len(bad)} of {len(self.paths)} images cannot be decoded: {shown}")

    def _open_cache(self, path: Path) -> np.ndarray:
        if path.exists():
            try:
                pixels = np.load(path, mmap_mode="r")
                if pixels.shape == self.shape and pixels.dtype == np.uint8:
                    return pixels
                problem = f"holds {pixels.dtype} shaped {pixels.shape}, expected uint8 shaped {self.shape}"
            except (OSError, ValueError) as exc:
                problem = f"cannot be read ({exc})"
            warnings.warn(f"{path}: image cache {problem}; rebuilding it", RuntimeWarning, stacklevel=3)
        with atomic_path(path) as tmp:
            pixels = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=self.shape)
            for i in tqdm(range(len(self.paths)), desc=f"caching {self.root.name}", unit="img"):
                pixels[i] = self.decode_or_next(i)
            pixels.flush()
            del pixels
        return np.load(path, mmap_mode="r")


def convert(image: Image.Image, mode: str) -> Image.Image:
    """``image`` in ``mode`` ("RGB" or "L") by Pillow's ``convert``: luma for colour to gray, the
    gray copied to three channels, alpha dropped. Two cases are prepared first: a palette image
    with a transparent colour goes through RGBA (as Pillow advises), and a 16-bit grayscale PNG
    is scaled to 8 bits (``round(v / 257)``), which ``convert`` would clip at 255 instead."""
    if image.mode in SIXTEEN_BIT_GRAY:
        values = np.asarray(image, dtype=np.float64)
        image = Image.fromarray(np.clip(np.round(values / 257), 0, 255).astype(np.uint8))
    elif image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    return image.convert(mode)


def _print_to_stderr(line: str) -> None:
    print(line, file=sys.stderr)
