"""A folder of colour digits: the colour path of dcgan_images.py, where no colour dataset can be had.

    python examples/colour_digits.py runs/colour_digits --count 20000
    python examples/dcgan_images.py --data folder runs/colour_digits --size 32 --width 0.5 --epochs 5

Each of the first ``--count`` MNIST training digits becomes a 28x28 RGB PNG: its ink in one
colour over a dark background of another, both drawn at random for each image
(minigan/data/colour_digits.py). The folder is written beside its final name and renamed when
complete: it appears whole or not at all.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from minigan.data.colour_digits import MNIST_TRAIN, write_colour_digits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the new folder of PNGs")
    parser.add_argument("--count", type=int, default=20_000, help=f"how many digits (at most {MNIST_TRAIN})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the colours")
    parser.add_argument("--data-dir", default=None, help="folder of the MNIST files (default: $MINIGAN_DATA)")
    args = parser.parse_args(argv)
    if not 1 <= args.count <= MNIST_TRAIN:
        parser.error(f"--count: expected 1 to {MNIST_TRAIN}, got {args.count}")
    write_colour_digits(args.out, args.count, args.seed, args.data_dir)
    print(f"{args.count} colour digits in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
