"""Draw docs/figures/gan_step.png: one GAN training step, the data (black) and gradients (red).

Top: the discriminator step (real batch, fake batch, Adam on D). Bottom: the generator
step (D frozen, the gradient flows through D into G, Adam on G). Run from the
repository root::

    python docs/figures/gan_step.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

from minigan.atomic import atomic_path  # noqa: E402

DATA, GRAD = "black", "#d62728"
FILL = {"G": "#c6dbef", "D": "#fdd0a2", "loss": "#e5e5e5", "opt": "#c7e9c0", "data": "white"}


def _box(ax, x, y, text, kind, w=2.0, h=0.9):
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05", facecolor=FILL[kind], edgecolor="black", lw=1.2
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=11)


def _arrow(ax, start, end, label="", colour=DATA, dashed=False, above=True):
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops={
            "arrowstyle": "-|>",
            "color": colour,
            "lw": 1.8,
            "linestyle": "--" if dashed else "-",
            "shrinkA": 4,
            "shrinkB": 4,
        },
    )
    if label:
        mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        ax.text(
            mx,
            my + (0.28 if above else -0.3),
            label,
            ha="center",
            va="center",
            fontsize=9.5,
            color=colour,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
        )


def _discriminator_step(ax):
    ax.set_title(
        "1. Discriminator step  (D.trainable = True; D.grads accumulate over both batches)", fontsize=12, loc="left"
    )
    _box(ax, 1.2, 3.0, "real batch\nx_real", "data")
    _box(ax, 5.2, 3.0, "D", "D", w=1.4)
    _box(ax, 9.2, 3.0, "bce(logits, 1)", "loss", w=2.4)
    _arrow(ax, (2.2, 3.15), (4.5, 3.15), "forward")
    _arrow(ax, (5.9, 3.15), (8.0, 3.15), "logits")
    _arrow(ax, (8.0, 2.85), (5.9, 2.85), "dlogits", GRAD, dashed=True, above=False)

    _box(ax, 1.2, 1.0, "z ~ N(0, I)", "data")
    _box(ax, 3.3, 1.0, "G", "G", w=1.0)
    _box(ax, 5.2, 1.0, "D", "D", w=1.4)
    _box(ax, 9.2, 1.0, "bce(logits, 0)", "loss", w=2.4)
    _arrow(ax, (2.2, 1.0), (2.8, 1.0))
    _arrow(ax, (3.8, 1.15), (4.5, 1.15), "x_fake")
    _arrow(ax, (5.9, 1.15), (8.0, 1.15), "logits")
    _arrow(ax, (8.0, 0.85), (5.9, 0.85), "dlogits", GRAD, dashed=True, above=False)
    _arrow(ax, (4.5, 0.75), (3.9, 0.45), "", GRAD, dashed=True)
    ax.text(3.55, 0.2, "dx unused: G keeps its\ncache for step 2", ha="center", va="center", fontsize=8.5, color=GRAD)

    _box(ax, 13.2, 2.0, "Adam(D).step()\nD.grads -> D.params", "opt", w=3.0, h=1.1)
    _arrow(ax, (5.2, 2.55), (11.7, 2.15), "", GRAD, dashed=True)
    _arrow(ax, (5.2, 1.45), (11.7, 1.85), "", GRAD, dashed=True)
    ax.text(
        10.6,
        2.0,
        "D.backward adds\nto D.grads",
        ha="center",
        va="center",
        fontsize=9.5,
        color=GRAD,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
    )


def _generator_step(ax):
    ax.set_title(
        "2. Generator step  (D.trainable = False: D passes gradients back but keeps no grads)", fontsize=12, loc="left"
    )
    _box(ax, 1.2, 2.2, "z and G's forward\nof step 1 (kept)", "data", w=2.1)
    _box(ax, 3.3, 2.2, "G", "G", w=1.0)
    _box(ax, 5.6, 2.2, "D (frozen)", "D", w=1.8)
    _box(ax, 9.2, 2.2, 'bce(logits, 1)\n"fool D"', "loss", w=2.4, h=1.1)
    _arrow(ax, (2.25, 2.2), (2.8, 2.2))
    _arrow(ax, (3.8, 2.35), (4.7, 2.35), "x_fake")
    _arrow(ax, (6.5, 2.35), (8.0, 2.35), "logits")
    _arrow(ax, (8.0, 2.0), (6.5, 2.0), "dlogits", GRAD, dashed=True, above=False)
    _arrow(ax, (4.7, 2.0), (3.8, 2.0), "dx", GRAD, dashed=True, above=False)
    _box(ax, 13.2, 1.0, "Adam(G).step()\nG.grads -> G.params", "opt", w=3.0, h=1.1)
    _arrow(ax, (3.3, 1.7), (11.7, 1.0), "G.backward(dx) -> G.grads", GRAD, dashed=True, above=False)


def main(out_dir: Path | None = None) -> Path:
    """Draw the figure into ``out_dir`` (default: next to this script); return its path."""
    out_dir = out_dir or Path(__file__).resolve().parent
    fig, axes = plt.subplots(2, 1, figsize=(13, 7.2), gridspec_kw={"height_ratios": [4, 3.2]})
    _discriminator_step(axes[0])
    _generator_step(axes[1])
    for ax, top in zip(axes, (3.8, 3.0), strict=True):
        ax.set_xlim(0, 15)
        ax.set_ylim(0.3 if top < 3.5 else -0.2, top)
        ax.set_aspect("equal")
        ax.axis("off")
    axes[1].plot([], [], color=DATA, lw=1.8, label="data (forward)")
    axes[1].plot([], [], color=GRAD, lw=1.8, ls="--", label="gradients (backward)")
    axes[1].legend(loc="upper right", fontsize=10, frameon=False)
    fig.tight_layout()

    path = out_dir / "gan_step.png"
    with atomic_path(path) as tmp:  # a temp file, then a rename: never a half-written figure
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    print(main())
