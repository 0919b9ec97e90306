"""Draw docs/figures/conv_transpose.png: a stride-2 transposed convolution as scatter-add.

Each input pixel scatters (its value) x (the 3x3 kernel) into the output at row 2p,
column 2q; where patches overlap they add. The output is computed by minigan's own
``Conv2DTranspose`` (kernel of ones, no bias). Run from the repository root::

    python docs/figures/conv_transpose.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from minigan import backend, nn  # noqa: E402
from minigan.atomic import atomic_path  # noqa: E402

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]


def _cells(ax, values, size):
    for r in range(size):
        for c in range(size):
            ax.add_patch(Rectangle((c, size - 1 - r), 1, 1, facecolor="white", edgecolor="black", lw=0.8))
            if values is not None:
                ax.text(c + 0.5, size - 0.5 - r, f"{values[r, c]:g}", ha="center", va="center", fontsize=13)


def _frame(ax, size, title):
    ax.set_xlim(-0.3, size + 0.3)
    ax.set_ylim(-0.3, size + 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=12)


def main(out_dir: Path | None = None) -> Path:
    """Draw the figure into ``out_dir`` (default: next to this script); return its path."""
    out_dir = out_dir or Path(__file__).resolve().parent
    x = np.array([1, 2, 3, 4], dtype=np.float32).reshape(1, 2, 2, 1)
    layer = nn.Conv2DTranspose(1, 3, strides=2, padding="valid", use_bias=False)
    with backend.default_float("float32"):
        layer.build_for((2, 2, 1))
    layer.params["kernel"][...] = 1
    y = layer.forward(x, training=False)[0, :, :, 0]  # (5, 5) = 2*2 + max(3-2, 0)

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.8), gridspec_kw={"width_ratios": [2, 5, 5]})
    _cells(axes[0], x[0, :, :, 0], 2)
    for k in range(4):
        p, q = divmod(k, 2)
        axes[0].add_patch(Rectangle((q + 0.08, 1 - p + 0.08), 0.84, 0.84, fill=False, edgecolor=COLOURS[k], lw=3))
    _frame(axes[0], 2, "input x (2x2)")

    _cells(axes[1], None, 5)
    for k in range(4):
        p, q = divmod(k, 2)
        inset = 0.08 + 0.07 * k
        axes[1].add_patch(
            Rectangle(
                (2 * q + inset, 5 - 3 - 2 * p + inset),
                3 - 2 * inset,
                3 - 2 * inset,
                facecolor=COLOURS[k] + "30",
                edgecolor=COLOURS[k],
                lw=2.5,
            )
        )
        axes[1].text(
            2 * q + 1.5,
            5 - 2 * p - 1.5,
            f"{x[0, p, q, 0]:g}·K",
            color=COLOURS[k],
            fontsize=12,
            ha="center",
            va="center",
            fontweight="bold",
        )
    _frame(axes[1], 5, "pixel (p, q) scatters x[p, q]·K at (2p, 2q)")

    _cells(axes[2], y, 5)
    _frame(axes[2], 5, "y = Conv2DTranspose(x), K = ones(3x3): overlaps add")
    fig.suptitle("Transposed convolution, kernel 3x3, strides 2, 'valid': 2x2 -> 5x5", fontsize=13)
    fig.tight_layout()

    path = out_dir / "conv_transpose.png"
    with atomic_path(path) as tmp:  # a temp file, then a rename: never a half-written figure
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    print(main())
