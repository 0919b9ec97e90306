"""Draw docs/figures/gan_losses.png: the saturating and non-saturating generator losses.

Left: each loss against D(G(z)). Right: its gradient with respect to D's logit, taken
from minigan's ``bce_with_logits``: early in training D(G(z)) is near 0, where the
saturating loss gives almost no gradient and the non-saturating one gives about -1.
Run from the repository root::

    python docs/figures/gan_losses.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from minigan.atomic import atomic_path  # noqa: E402
from minigan.losses import bce_with_logits  # noqa: E402


def main(out_dir: Path | None = None) -> Path:
    """Draw the figure into ``out_dir`` (default: next to this script); return its path."""
    out_dir = out_dir or Path(__file__).resolve().parent
    logits = np.linspace(-7, 7, 400)
    d = 0.5 * (1 + np.tanh(0.5 * logits))  # D(G(z)) = sigmoid(logit)
    n = logits.size
    # minimise log(1 - D) = -bce(logit, 0)   versus   minimise -log D = bce(logit, 1)
    saturating_grad = -bce_with_logits(logits, 0.0)[1] * n
    non_saturating_grad = bce_with_logits(logits, 1.0)[1] * n

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4))
    left.plot(d, np.log1p(-d), lw=2.2, label=r"saturating: minimise $\log(1 - D(G(z)))$")
    left.plot(d, -np.log(d), lw=2.2, label=r"non-saturating: minimise $-\log D(G(z))$")
    left.set_xlabel("D(G(z))  (D's belief that the fake is real)")
    left.set_ylabel("generator loss")
    left.set_ylim(-5, 5)
    left.legend(fontsize=10)
    left.grid(alpha=0.3)

    right.plot(d, saturating_grad, lw=2.2, label=r"saturating: $-D(G(z))$")
    right.plot(d, non_saturating_grad, lw=2.2, label=r"non-saturating: $D(G(z)) - 1$")
    right.axvspan(0, 0.1, color="grey", alpha=0.15)
    right.text(0.12, 0.45, "early training:\nD rejects fakes,\nD(G(z)) near 0", ha="left", fontsize=10)
    right.set_xlabel("D(G(z))")
    right.set_ylabel("d loss / d logit  (what flows back into G)")
    right.set_ylim(-1.1, 0.9)
    right.legend(fontsize=10, loc="upper right")
    right.grid(alpha=0.3)
    fig.suptitle("Why the generator uses the non-saturating loss", fontsize=13)
    fig.tight_layout()

    path = out_dir / "gan_losses.png"
    with atomic_path(path) as tmp:  # a temp file, then a rename: never a half-written figure
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    print(main())
