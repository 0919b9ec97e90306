"""``python -m minigan`` / ``minigan``: a command with subcommands.

    minigan sample CHECKPOINT -n 64 --out grid.png [--npy samples.npy] [--seed 0]

Each subcommand is a function ``(args) -> exit code`` registered by an ``add_<name>(subparsers)``
function in :data:`SUBCOMMANDS`; a user error (bad file, wrong shapes) prints one line and
exits with code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from minigan import backend, checkpoint, models, nn, plots


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def load_generator(path: str | Path) -> tuple[nn.Sequential, int]:
    """The generator stored in a training checkpoint, in inference-ready form, and its latent size."""
    ckpt = checkpoint.load(path)
    config = ckpt.meta.get("config", {})
    spec = config.get("generator")
    if not isinstance(spec, dict):
        raise checkpoint.CheckpointError(f"checkpoint {path}: expected a GAN training checkpoint, found no generator")
    generator = models.build(spec)
    ckpt.restore_model("generator", generator)
    return generator, int(generator.input_shape[0])


def sample(args: argparse.Namespace) -> int:
    """Draw ``-n`` images from G(z), z ~ N(0, 1) seeded by ``--seed``, G in inference mode."""
    generator, latent_dim = load_generator(args.checkpoint)
    backend.seed(args.seed)
    z = backend.rng().standard_normal((args.n, latent_dim), dtype=backend.floatx())
    images = backend.xp().concatenate(
        [generator.forward(z[i:i + 256], training=False) for i in range(0, args.n, 256)]
    )
    out = args.out or (None if args.npy else "grid.png")
    if out:
        plots.save_grid(images, out)
        print(f"wrote a grid of {args.n} samples to {out}")
    if args.npy:
        with checkpoint.atomic_path(args.npy) as tmp, open(tmp, "wb") as f:
            np.save(f, backend.as_numpy(images))
        print(f"wrote {args.n} samples {tuple(images.shape)} in [-1, 1] to {args.npy}")
    return 0


def add_sample(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sample", help="draw samples from a checkpoint's generator")
    parser.add_argument("checkpoint", help="a checkpoint.npz written by a GAN training run")
    parser.add_argument("-n", type=_positive_int, default=64, help="number of samples (default: 64)")
    parser.add_argument(
        "--out", default=None, help="write a grid of the samples to this PNG (default: grid.png unless --npy is given)"
    )
    parser.add_argument("--npy", default=None, help="write the samples (N, H, W, C) in [-1, 1] to this .npy file")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise (default: 0)")
    parser.set_defaults(run=sample)


#: Registered subcommands; add ``add_<name>`` functions here.
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [add_sample]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minigan", description="minigan command-line tools.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the subcommand, return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError) as exc:  # CheckpointError is a ValueError
        print(f"minigan {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
