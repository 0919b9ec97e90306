"""``--flat-adam``: the run's Adam optimizers become FlatAdam, and the run's numbers stay the same, bit for bit."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest

from minigan import nn, optim
from minigan.cli import train
from minigan.cli.recipes import RECIPES
from minigan.training import checkpoint, distributed
from minigan.training.data_parallel import AllreduceOptimizer

TINY = ["--preset", "fast", "--epochs", "1", "--limit", "128", "--width", "0.25", "--batch-size", "32",
        "--no-progress"]


def run(out, *flags):
    """Train the tiny run into ``out``; returns its trainer."""
    made = []

    def compose(recipe, options, comm, progress):
        made.append(train.standard_run(recipe, options, comm, progress))
        return made[0]

    assert train.main(RECIPES["mnist_dcgan"], [*TINY, "--out", str(out), *flags], compose=compose) == 0
    return made[0]


@pytest.mark.skipif(not os.environ.get("MINIGAN_DATA"), reason="MINIGAN_DATA is unset: this test trains on real MNIST")
def test_flat_adam_trains_the_same_run_bit_for_bit(tmp_path):
    plain, flat = run(tmp_path / "plain"), run(tmp_path / "flat", "--flat-adam")
    assert type(plain.gan.opt_d) is optim.Adam and type(flat.gan.opt_d) is optim.FlatAdam
    assert type(flat.gan.opt_g) is optim.FlatAdam and flat.gan.opt_g.t == plain.gan.opt_g.t > 0
    a, b = (checkpoint.load(path / "checkpoint.npz").arrays for path in (tmp_path / "plain", tmp_path / "flat"))
    assert a.keys() == b.keys() and any(key.startswith("optim/discriminator/m/") for key in a)
    for key in a:
        if key.startswith(("model/", "optim/")):
            np.testing.assert_array_equal(b[key], a[key], err_msg=key, strict=True)


def test_flat_adam_converts_a_data_parallel_runs_inner_adam_and_refuses_other_optimizers():
    comm = distributed.Communicator()
    gan = SimpleNamespace(opt_g=AllreduceOptimizer(optim.Adam(nn.Dense(2, input_shape=(3,))), comm),
                          opt_d=optim.Adam(nn.Dense(2, input_shape=(3,))))
    train.use_flat_adam(gan)
    assert type(gan.opt_g) is AllreduceOptimizer and type(gan.opt_g.optimizer) is optim.FlatAdam
    assert type(gan.opt_d) is optim.FlatAdam
    gan.opt_g = optim.SGD(nn.Dense(2, input_shape=(3,)))
    with pytest.raises(ValueError, match="--flat-adam: expected the run's opt_g to be an optim.Adam, got SGD"):
        train.use_flat_adam(gan)
