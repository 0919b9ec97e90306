"""``minigan sample`` and ``minigan interpolate``: images drawn from a checkpoint's generator.

Both rebuild the generator from the spec its checkpoint records, conditional ones included:
their samples come one class per row, or all of class ``--label``.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from minigan import backend
from minigan.atomic import atomic_path
from minigan.cli.latent import lerp, slerp
from minigan.training import plots, sampling
from minigan.training.settings import POSITIVE_INT, number


def sample(args: argparse.Namespace) -> int:
    """Draw ``-n`` images from G(z), z ~ N(0, 1) seeded by ``--seed``, G in inference mode;
    conditional: one class per row (``ceil(n / K)`` per row), or all of ``--label``."""
    loaded = sampling.load_generator(args.checkpoint)
    columns = math.ceil(args.n / loaded.num_classes) if loaded.num_classes and args.label is None else None
    images = sampling.draw(loaded, args.n, args.seed, sampling.class_labels(loaded, args.label, args.n, columns or 1))
    out = args.out or (None if args.npy else "grid.png")
    if out:
        plots.save_grid(images, out, columns=columns)
        print(f"wrote a grid of {args.n} samples to {out}")
    if args.npy:
        with atomic_path(args.npy) as tmp, open(tmp, "wb") as f:
            np.save(f, backend.as_numpy(images))
        print(f"wrote {args.n} samples {tuple(images.shape)} in [-1, 1] to {args.npy}")
    return 0


def add_sample(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sample", help="draw samples from a checkpoint's generator")
    parser.add_argument("checkpoint", help="a checkpoint.npz written by a GAN training run")
    parser.add_argument("-n", type=POSITIVE_INT, default=64, help="number of samples (default: 64)")
    parser.add_argument(
        "--out", default=None, help="write a grid of the samples to this PNG (default: grid.png unless --npy is given)"
    )
    parser.add_argument("--npy", default=None, help="write the samples (N, H, W, C) in [-1, 1] to this .npy file")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise (default: 0)")
    parser.add_argument(
        "--label",
        type=int,
        default=None,
        help="conditional models: draw every sample of this class (default: one class per row)",
    )
    parser.set_defaults(run=sample)


def interpolate(args: argparse.Namespace) -> int:
    """``--rows`` pairs (z1, z2) ~ N(0, 1) seeded by ``--seed``; row r shows G at ``--steps``
    points from z1 (a = 0) to z2 (a = 1), linear or (``--slerp``) spherical. Conditional: every
    row keeps one label, ``--label`` or row r's class r mod K."""
    loaded = sampling.load_generator(args.checkpoint)
    rng = np.random.default_rng(args.seed)
    z1, z2 = (rng.standard_normal((args.rows, loaded.latent_dim)).astype(backend.floatx()) for _ in range(2))
    path = (slerp if args.slerp else lerp)(z1, z2, np.linspace(0.0, 1.0, args.steps))
    labels = sampling.class_labels(loaded, args.label, args.rows, 1)
    labels = None if labels is None else np.repeat(labels, args.steps)
    images = sampling.generate(loaded, path.reshape(-1, loaded.latent_dim), labels)
    plots.save_grid(images, args.out, columns=args.steps)
    kind = "spherical" if args.slerp else "linear"
    print(f"wrote {args.rows} {kind} interpolations of {args.steps} steps to {args.out}")
    return 0


def add_interpolate(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("interpolate", help="decode paths between two noise vectors of a checkpoint's G")
    parser.add_argument("checkpoint", help="a checkpoint.npz written by a GAN training run")
    parser.add_argument("--out", default="interp.png", help="PNG of the rows (default: interp.png)")
    parser.add_argument("--rows", type=POSITIVE_INT, default=8, help="number of (z1, z2) pairs (default: 8)")
    parser.add_argument("--steps", type=number(int, 2), default=10, help="images per row, a = 0 ... 1 (default: 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of z1 and z2 (default: 0)")
    parser.add_argument("--slerp", action="store_true", help="spherical instead of linear interpolation")
    parser.add_argument(
        "--label",
        type=int,
        default=None,
        help="conditional models: the class of every row (default: row r shows class r mod K)",
    )
    parser.set_defaults(run=interpolate)
