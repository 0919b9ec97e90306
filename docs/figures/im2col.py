"""Draw docs/figures/im2col.png: a 4x4 image, its im2col matrix and col2im's overlap counts.

The numbers in the figure are computed by minigan's own ``im2col`` / ``col2im``, so the
figure shows what the code does. Run from the repository root::

    python docs/figures/im2col.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from minigan.atomic import atomic_path  # noqa: E402
from minigan.nn.conv.reference import col2im, im2col  # noqa: E402

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]


def _grid(ax, values, title, cell_colours=None):
    rows, cols = values.shape
    for r in range(rows):
        for c in range(cols):
            face = cell_colours[r][c] if cell_colours is not None else "white"
            ax.add_patch(Rectangle((c, rows - 1 - r), 1, 1, facecolor=face, edgecolor="black", lw=0.8))
            ax.text(c + 0.5, rows - 0.5 - r, f"{values[r, c]:g}", ha="center", va="center", fontsize=12)
    ax.set_xlim(-0.2, cols + 0.2)
    ax.set_ylim(-0.2, rows + 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=12)


def main(out_dir: Path | None = None) -> Path:
    """Draw the figure into ``out_dir`` (default: next to this script); return its path."""
    out_dir = out_dir or Path(__file__).resolve().parent
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)  # one 4x4 image, one channel
    patches = im2col(x, 3, 3, 1, 1)  # (1, 2, 2, 3, 3, 1): four 3x3 patches
    rows = patches.reshape(4, 9)
    counts = col2im(np.ones_like(patches), (4, 4), 1, 1)[0, :, :, 0]

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), gridspec_kw={"width_ratios": [4, 9, 4]})
    _grid(axes[0], x[0, :, :, 0], "input x (4x4), 3x3 patches, stride 1")
    for k, (p, q) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        inset = 0.06 + 0.06 * k
        axes[0].add_patch(
            Rectangle(
                (q + inset, 4 - 3 - p + inset),
                3 - 2 * inset,
                3 - 2 * inset,
                fill=False,
                edgecolor=COLOURS[k],
                lw=3,
            )
        )
    _grid(
        axes[1],
        rows,
        "im2col(x): one row per output pixel (p, q)",
        cell_colours=[[COLOURS[k] + "40"] * 9 for k in range(4)],
    )
    for k, (p, q) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        axes[1].text(-0.15, 3.5 - k, f"(p={p}, q={q})", ha="right", va="center", color=COLOURS[k], fontsize=11)
    axes[1].text(4.5, -0.15, "columns: kernel offsets (i, j) = (0,0) (0,1) ... (2,2)", ha="center", va="top")
    _grid(axes[2], counts, "col2im(ones): overlap counts")
    fig.suptitle("y = im2col(x) @ K  — and col2im adds each row back where it came from", fontsize=13)
    fig.tight_layout()

    path = out_dir / "im2col.png"
    with atomic_path(path) as tmp:  # a temp file, then a rename: never a half-written figure
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    print(main())
