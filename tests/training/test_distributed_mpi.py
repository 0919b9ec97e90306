"""Data-parallel training under MPI: 2 processes equal 1 process running the global batch.

Each test launches ``mpiexec -n 2 python -m mpi4py tests/mpi_worker.py ...`` (one BLAS thread
per process), as a user would. Skipped only where there is no ``mpiexec`` (``pip install
mpich`` provides one; the ``dev`` extra installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).resolve().parents[1] / "mpi_worker.py"
MPIEXEC = shutil.which("mpiexec") or shutil.which("mpiexec", path=str(Path(sys.executable).parent))

pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec (pip install mpich, or the system's MPI)")


def _run(*args: str, processes: int | None = 2, timeout: float = 240) -> subprocess.CompletedProcess:
    """The worker under ``mpiexec -n processes python -m mpi4py``, or (None) as one plain process."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    launch = [sys.executable] if processes is None else [MPIEXEC, "-n", str(processes), sys.executable, "-m", "mpi4py"]
    return subprocess.run([*launch, str(WORKER), *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("model", ["mlp", "dcgan", "cgan"])  # sync BN in G; sync BN; conditional, no BN
def test_two_processes_train_exactly_as_one_process_with_the_global_batch(model, tmp_path):
    one = _run("train", model, "none", str(tmp_path / "one"), processes=None)
    assert one.returncode == 0, one.stderr
    two = _run("train", model, "mpi", str(tmp_path / "two"))
    assert two.returncode == 0, two.stderr
    reference = np.load(tmp_path / "one.rank0.npz")
    ranks = [np.load(tmp_path / f"two.rank{r}.npz") for r in range(2)]
    assert set(ranks[0].files) == set(reference.files)
    assert any("/m/" in k for k in reference.files) and any("moving_mean" in k for k in reference.files) \
        or model == "cgan"
    for key in reference.files:
        for rank in ranks:
            np.testing.assert_allclose(rank[key], reference[key], rtol=0, atol=1e-10, err_msg=key)
        # The processes agree exactly: the same averaged gradients, the same updates.
        np.testing.assert_array_equal(ranks[0][key], ranks[1][key], err_msg=key)
    assert reference["losses"].shape == (4, 2) and int(reference["G/t"]) == 4


def test_two_processes_resumed_from_a_checkpoint_end_where_one_uninterrupted_process_does(tmp_path):
    one = _run("train", "dcgan", "none", str(tmp_path / "one"), processes=None)
    assert one.returncode == 0, one.stderr
    for phase in ("first", "second"):
        two = _run("train", "dcgan", "mpi", str(tmp_path / "two"), phase)
        assert two.returncode == 0, two.stderr
    reference, resumed = np.load(tmp_path / "one.rank0.npz"), np.load(tmp_path / "two.rank1.npz")
    np.testing.assert_allclose(resumed["losses"], reference["losses"][2:], rtol=0, atol=1e-10)
    for key in set(reference.files) - {"losses"}:
        np.testing.assert_allclose(resumed[key], reference[key], rtol=0, atol=1e-10, err_msg=key)


def test_without_mpiexec_the_mpi_communicator_runs_the_single_process_training_bit_for_bit(tmp_path):
    for kind in ("none", "mpi"):
        done = _run("train", "mlp", kind, str(tmp_path / kind), processes=None)
        assert done.returncode == 0, done.stderr
    single, mpi = np.load(tmp_path / "none.rank0.npz"), np.load(tmp_path / "mpi.rank0.npz")
    for key in single.files:
        np.testing.assert_array_equal(mpi[key], single[key], err_msg=key)


def test_collectives_and_sync_batch_norm_over_two_processes():
    done = _run("collectives")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rank 0: collectives ok" in done.stdout and "rank 1: collectives ok" in done.stdout


def test_a_failing_rank_stops_the_other():
    done = _run("fail", timeout=120)  # rank 0 would otherwise wait in its allreduce for ever
    assert done.returncode != 0
    assert "rank 1 fails on purpose" in done.stderr and "finished" not in done.stdout


def test_the_distributed_benchmark_runs_and_prints_every_figure():
    command = [sys.executable, str(ROOT / "benchmarks" / "bench_distributed.py"), "--batch", "4", "--steps", "1",
               "--warmup", "0", "--rounds", "1"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for text in ("1 process x 2 thread", "2 process x 1 thread", "MB/step", "allreduce of 10.07 MB alone",
                 "ring-allreduce model", "100 Gb/s"):
        assert text in done.stdout, text
