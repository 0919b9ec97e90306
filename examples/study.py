"""Train several configurations of the MNIST DCGAN for the same budget and compare them.

    python examples/study.py --study beta1 --preset fast --limit 10000 --epochs 1
    python examples/study.py --study lr --steps 300
    python examples/study.py --vary lr=1e-3,2e-4 --vary batch_norm=true,false --steps 200

The base configuration takes every option of ``examples/mnist_dcgan.py`` (``--preset``,
``--width``, ``--limit``...); ``--study NAME`` and each ``--vary key=v1,v2`` give the
configurations (their product when several are given), all trained from the same seed.
Writes into ``--out``: one folder per configuration (the trainer's usual outputs),
``study.csv`` (one row per configuration) and ``study.png``. ``--help`` lists the studies;
the studies, the outputs and the measured figures: docs/studies.md.
"""

from __future__ import annotations

import sys

from minigan.cli.study import main

if __name__ == "__main__":
    sys.exit(main())
