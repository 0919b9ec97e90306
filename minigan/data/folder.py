"""A folder tree of PNG/JPEG images, resized and centre-cropped, decoded lazily or cached on disk."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from tqdm.auto import tqdm

from minigan.atomic import atomic_path
from minigan.data.scaling import check_scale, scale_images
from minigan.data.storage import DataError

EXTENSIONS = (".png", ".jpg", ".jpeg")


class ImageFolder:
    """Every PNG/JPEG file under ``root`` (recursively, in sorted path order) as one dataset.

    ``folder[index]`` decodes the images at ``index`` (an int, a slice or an integer array) and
    returns them as ``(n, size, size, C)`` (``(size, size, C)`` for an int) in ``scale``: float32
    in [-1, 1] by default, C = 3 (RGB) or 1 (``grayscale=True``). Each image is scaled so its
    shorter side is ``size`` and centre-cropped to a square. Nothing is decoded up front, so a
    folder of 200k images starts at once; pass ``cache="faces64.npy"`` to decode everything once
    into a uint8 ``.npy`` file (written atomically) that later runs memory-map instead. A cache
    whose shape no longer matches the folder is rebuilt; delete it after changing the images.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        size: int = 64,
        grayscale: bool = False,
        scale: str = "[-1,1]",
        cache: str | os.PathLike | None = None,
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
                pixels[k] = self.decode(self.paths[i])
        return scale_images(pixels, self.scale)

    def decode(self, path: Path) -> np.ndarray:
        """One image file as uint8 ``(size, size, C)``: EXIF-rotated, converted, resized, centre-cropped."""
        try:
            with Image.open(path) as image:
                image = ImageOps.exif_transpose(image).convert("L" if self.grayscale else "RGB")
                image = ImageOps.fit(image, (self.size, self.size), Image.Resampling.LANCZOS)
        except OSError as exc:  # PIL.UnidentifiedImageError and truncated files are OSErrors
            raise DataError(f"{path}: cannot decode image ({exc})") from None
        pixels = np.asarray(image, dtype=np.uint8)
        return pixels[..., None] if self.grayscale else pixels

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
            for i, image_path in enumerate(tqdm(self.paths, desc=f"caching {self.root.name}", unit="img")):
                pixels[i] = self.decode(image_path)
            pixels.flush()
            del pixels
        return np.load(path, mmap_mode="r")
