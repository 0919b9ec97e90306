"""Pictures and records of a GAN run: sample grids (PNG), their animation (GIF), the loss
figure (matplotlib, Agg backend) and the history as CSV. Every file is written atomically."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigan import backend
from minigan.atomic import atomic_path
from minigan.training.history import History

#: Columns of the training history, in order.
HISTORY_COLUMNS = ("step", "epoch", "d_loss", "g_loss", "d_x", "d_g_z", "images_per_s")
#: The rows of ``--eval-every``: the sample-quality figures of :mod:`minigan.evaluate`.
#: ``label_accuracy`` and ``diversity`` (within-class): conditional GANs only, NaN otherwise; ``kid``,
#: ``precision`` and ``recall``: NaN in rows of checkpoints written before them.
QUALITY_COLUMNS = ("step", "epoch", "fid", "inception_score", "mean_confidence", "classes_covered",
                   "label_accuracy", "diversity", "kid", "precision", "recall")


def image_grid(images: Any, columns: int | None = None, padding: int = 2) -> np.ndarray:
    """Tile ``images`` (N, H, W, C) in [-1, 1] into one uint8 picture.

    ``columns`` defaults to ceil(sqrt(N)); tiles are separated by ``padding`` black pixels.
    Returns (rows*(H+p)+p, columns*(W+p)+p) for C = 1, with a trailing axis of 3 for C = 3.
    """
    images = backend.as_numpy(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or len(images) == 0:
        raise ValueError(f"image_grid: expected images (N, H, W, 1 or 3) with N >= 1, got {images.shape}")
    n, h, w, c = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    pixels = np.clip(np.rint((images.astype(np.float64) + 1) * 127.5), 0, 255).astype(np.uint8)
    grid = np.zeros((rows * (h + padding) + padding, columns * (w + padding) + padding, c), np.uint8)
    for i, image in enumerate(pixels):
        r, col = divmod(i, columns)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[top:top + h, left:left + w] = image
    return grid[..., 0] if c == 1 else grid


def save_grid(images: Any, path: str | os.PathLike, columns: int | None = None) -> None:
    """Write :func:`image_grid` of ``images`` as a PNG file."""
    from PIL import Image

    with atomic_path(path) as tmp:
        Image.fromarray(image_grid(images, columns)).save(tmp, format="PNG")


def save_gif(frames: Sequence[str | os.PathLike], path: str | os.PathLike, duration_ms: int = 200) -> None:
    """Animate the picture files ``frames`` (in order) into a looping GIF; the last frame lasts 2 s."""
    from PIL import Image

    if not frames:
        raise ValueError("save_gif: expected at least one frame, got none")
    images = []
    for frame in frames:
        with Image.open(frame) as image:
            images.append(image.convert("L" if image.mode in ("L", "LA") else "RGB"))
    durations = [duration_ms] * (len(images) - 1) + [2000]
    with atomic_path(path) as tmp:
        images[0].save(
            tmp, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0
        )


def save_history_csv(history: History, path: str | os.PathLike) -> None:
    """Write a table (step and epoch first) as CSV with a header of its column names."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(history.columns)
        for row in history:
            writer.writerow([int(row[0]), int(row[1]), *(f"{v:.6g}" for v in row[2:])])


def plot_history(history: History, path: str | os.PathLike, quality: History | None = None) -> None:
    """Panels over the steps: D and G losses; mean D(x) and mean D(G(z)); and, when ``quality``
    rows are given, FID and Inception Score."""
    from matplotlib.figure import Figure  # renders with Agg; no pyplot, no GUI

    quality = quality if quality is not None and len(quality) else None
    step = history["step"]
    fig = Figure(figsize=(8, 6 if quality is None else 8.5))
    top, bottom, *scores = fig.subplots(2 if quality is None else 3, 1, sharex=True)
    top.plot(step, history["d_loss"], label="D loss", linewidth=0.8)
    top.plot(step, history["g_loss"], label="G loss", linewidth=0.8)
    top.set_ylabel("loss")
    top.legend()
    bottom.plot(step, history["d_x"], label="mean D(x)", linewidth=0.8)
    bottom.plot(step, history["d_g_z"], label="mean D(G(z))", linewidth=0.8)
    bottom.set_ylim(0, 1)
    bottom.set_ylabel("D output")
    bottom.legend()
    if quality is not None:
        fid = scores[0]
        fid.plot(quality["step"], quality["fid"], "o-", color="tab:red", label="FID (lower is better)")
        fid.set_ylabel("FID", color="tab:red")
        inception = fid.twinx()
        inception.plot(quality["step"], quality["inception_score"], "s--", color="tab:green", label="Inception Score")
        inception.set_ylabel("Inception Score (of 10)", color="tab:green")
    (scores or [bottom])[-1].set_xlabel("step")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
