"""The training command under mpiexec: ``--distributed mpi`` trains, one process writes, resume works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minigan.training import checkpoint
from tests.training.test_distributed_mpi import MPIEXEC

ROOT = Path(__file__).resolve().parents[2]
DATA = os.environ.get("MINIGAN_DATA")
pytestmark = [
    pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec (pip install mpich, or the system's MPI)"),
    pytest.mark.skipif(not DATA, reason="MINIGAN_DATA is unset: these tests train on real MNIST images"),
]
TINY = ["--width", "0.0625", "--latent-dim", "8", "--batch-size", "16", "--limit", "128", "--no-progress"]


def train(out: Path, *extra: str, processes: int | None = 2) -> subprocess.CompletedProcess:
    """examples/mnist_gan_mlp.py with ``--distributed mpi``, under mpiexec (or as one plain process)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    launch = [sys.executable] if processes is None else [MPIEXEC, "-n", str(processes), sys.executable, "-m", "mpi4py"]
    argv = [str(ROOT / "examples" / "mnist_gan_mlp.py"), *TINY, "--data-dir", str(Path(DATA) / "mnist"),
            "--out", str(out), "--distributed", "mpi", *extra]
    return subprocess.run([*launch, *argv], env=env, capture_output=True, text=True, timeout=300)


def test_two_processes_train_write_once_and_resume_and_one_process_continues_their_run(tmp_path):
    out = tmp_path / "run"
    run = train(out, "--epochs", "1", "--sync-bn")
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("done: 8 steps") == 1 and "2 processes of 8" in run.stdout  # rank 0 alone prints
    for name in ("samples/epoch_001.png", "samples.gif", "losses.png", "history.csv", "checkpoint.npz"):
        assert (out / name).is_file(), name
    first = checkpoint.load(out / "checkpoint.npz")
    assert first.meta["processes"] == 2 and first.meta["step"] == 8
    assert np.isfinite(first.array("history")[:, 2:6]).all()

    resumed = train(out, "--resume", str(out / "checkpoint.npz"), "--epochs", "2", "--sync-bn")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming at step 8" in resumed.stdout and "not bit-identically" not in resumed.stdout
    assert checkpoint.load(out / "checkpoint.npz").meta["step"] == 16

    alone = train(out, "--resume", str(out / "checkpoint.npz"), "--epochs", "3", processes=None)
    assert alone.returncode == 0, alone.stderr
    assert "written by 2 process(es), this run has 1" in alone.stdout
    assert checkpoint.load(out / "checkpoint.npz").meta["step"] == 24


def test_a_global_batch_that_does_not_divide_between_the_processes_is_one_error(tmp_path):
    run = train(tmp_path / "run", "--epochs", "1", "--batch-size", "15", processes=2)
    assert run.returncode != 0
    assert "expected a batch size divisible by the 2 processes, got 15 (use 14 or 16)" in run.stderr
    assert "Traceback" not in run.stderr
