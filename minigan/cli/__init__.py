"""``minigan`` (also ``python -m minigan``): one command with subcommands.

    minigan train RECIPE [options]               (train a recipe: mnist_dcgan, mnist_gan, ...; --help lists them)
    minigan sample CHECKPOINT -n 64 --out grid.png [--npy samples.npy] [--seed 0] [--label K]
    minigan interpolate CHECKPOINT --out interp.png [--rows 8] [--steps 10] [--seed 0] [--slerp] [--label K]
    minigan evaluate CHECKPOINT|SAMPLES.npy      (FID, KID, precision/recall, Inception Score, by the shipped evaluator)
    minigan train-classifier [--dataset D]       (train one's own evaluator, as the shipped ones were)
    minigan study [options]                      (configurations of the MNIST DCGAN, compared)

Each subcommand is a function ``(args) -> exit code`` registered by an ``add_<name>(subparsers)``
function in :data:`SUBCOMMANDS`; a user error (bad file, wrong shapes) prints one line and
exits with code 2. ``train`` and ``study`` keep their own parsers (every setting of the recipe
is an option): the arguments after the subcommand go to them whole.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from minigan import backend
from minigan.cli import study, train
from minigan.cli.evaluate import add_evaluate_parser, add_train_classifier_parser
from minigan.cli.recipes import RECIPES
from minigan.cli.sample import add_interpolate, add_sample

#: Registered subcommands; add ``add_<name>`` functions here.
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    add_sample,
    add_interpolate,
    add_train_classifier_parser,
    add_evaluate_parser,
]

#: Subcommands with a parser of their own: ``name -> (help, main(argv) -> exit code)``.
OWN_PARSERS: dict[str, tuple[str, Callable[[list[str]], int]]] = {
    "train": (f"train a recipe ({', '.join(RECIPES)}); minigan train RECIPE --help", train.main_with_recipe),
    "study": ("train configurations of the MNIST DCGAN for the same budget and compare them", study.main),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minigan", description="minigan command-line tools.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (text, _) in OWN_PARSERS.items():
        subparsers.add_parser(name, help=text, add_help=False)
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the subcommand, return its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in OWN_PARSERS:
        return OWN_PARSERS[argv[0]][1](argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError, backend.BackendError) as exc:  # CheckpointError is a ValueError
        print(f"minigan {args.command}: error: {exc}", file=sys.stderr)
        return 2
