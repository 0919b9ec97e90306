"""What a study leaves: ``study.csv`` (one row per configuration) and ``study.png`` (curves and grids)."""

from __future__ import annotations

import csv
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from minigan.atomic import atomic_path

if TYPE_CHECKING:
    from minigan.cli.study_runner import Result


def format_overrides(overrides: dict[str, Any]) -> str:
    """``{"lr_d": 0.001, "lr_g": 0.0002}`` -> ``"lr_d=0.001 lr_g=0.0002"`` (the CSV's column)."""
    return " ".join(f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"
                    for key, value in overrides.items())


#: Columns of ``study.csv``. The four figures are means over the last tenth of the steps (at
#: least one step); ``seconds`` is the wall time of the variant's training (with its own
#: outputs and, for the first variant, the warm-up), ``images_per_s`` the median of the
#: trainer's own throughput (real images per second of training steps).
CSV_COLUMNS = ("label", "overrides", "status", "steps", "epochs", "d_loss", "g_loss", "d_x", "d_g_z",
               "seconds", "images_per_s", "fid", "inception_score")


def summary(result: Result) -> dict[str, Any]:
    """The CSV row of a result (numbers unformatted)."""
    history = result.history
    steps = len(history)
    last = slice(-max(1, steps // 10), None)  # the last tenth of the steps
    d_loss, g_loss, d_x, d_g_z = (history[name][last].mean() if steps else float("nan")
                                  for name in ("d_loss", "g_loss", "d_x", "d_g_z"))
    return {
        "label": result.variant.label,
        "overrides": format_overrides(result.variant.overrides),
        "status": result.status,
        "steps": steps,
        "epochs": int(history["epoch"][-1]) if steps else 0,
        "d_loss": d_loss,
        "g_loss": g_loss,
        "d_x": d_x,
        "d_g_z": d_g_z,
        "seconds": result.seconds,
        "images_per_s": float(np.median(history["images_per_s"])) if steps else float("nan"),
        "fid": result.scores.get("fid"),
        "inception_score": result.scores.get("inception_score"),
    }


def write_csv(results: Sequence[Result], path: str | Path) -> None:
    """``study.csv``: a header (:data:`CSV_COLUMNS`) and one row per result."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for result in results:
            row = summary(result)
            writer.writerow(["" if row[c] is None else (f"{row[c]:.6g}" if isinstance(row[c], float) else row[c])
                             for c in CSV_COLUMNS])


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Moving average over ``window`` steps (``valid`` part only)."""
    return np.convolve(values, np.ones(window) / window, mode="valid")


def plot_study(results: Sequence[Result], path: str | Path, title: str = "") -> None:
    """``study.png``: D loss, G loss, mean D(x), mean D(G(z)) against the step with one line per
    variant (moving averages over a fiftieth of the longest run), then each final sample grid."""
    from matplotlib.figure import Figure

    n = len(results)
    longest = max((len(r.history) for r in results), default=1)
    window = max(1, longest // 50)
    fig = Figure(figsize=(max(10, 2.6 * n), 10.5))
    grid_spec = fig.add_gridspec(3, max(n, 2), height_ratios=(1, 1, 1.1))
    half = max(n, 2) // 2
    panels = [
        (fig.add_subplot(grid_spec[0, :half]), "d_loss", "D loss"),
        (fig.add_subplot(grid_spec[0, half:]), "g_loss", "G loss"),
        (fig.add_subplot(grid_spec[1, :half]), "d_x", "mean D(x)"),
        (fig.add_subplot(grid_spec[1, half:]), "d_g_z", "mean D(G(z))"),
    ]
    for axes, column, name in panels:
        for result in results:
            history = result.history
            if len(history) >= window:
                steps = history["step"][window - 1:]
                axes.plot(steps, _smooth(history[column], window), linewidth=1, label=result.variant.label)
        axes.set_title(name + (f" (moving average over {window} steps)" if window > 1 else ""), fontsize=10)
        axes.set_xlabel("step")
        if column in ("d_x", "d_g_z"):
            axes.set_ylim(0, 1)
    panels[0][0].legend(fontsize=8)
    for i, result in enumerate(results):
        axes = fig.add_subplot(grid_spec[2, i])
        axes.set_axis_off()
        axes.set_title(result.variant.label + ("" if result.status == "ok" else f"\n{result.status}"), fontsize=9)
        if result.grid is not None:
            axes.imshow(result.grid, cmap="gray" if result.grid.ndim == 2 else None, vmin=0, vmax=255)
    if title:
        fig.suptitle(textwrap.fill(title, width=int(fig.get_figwidth() * 13)), fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)


