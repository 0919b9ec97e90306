"""Data-parallel step time: 1 process x 2 threads against 2 processes x 1 thread, and a model of N machines.

Usage::

    python benchmarks/bench_distributed.py                     # batch 256, 3 alternating rounds
    python benchmarks/bench_distributed.py --batch 64 --rounds 5 --sync-bn

The model is the default MNIST DCGAN (TensorFlow's DCGAN tutorial, float32, Adam), trained by
``GAN.train_step`` with :class:`minigan.training.data_parallel.AllreduceOptimizer` on a global batch of
random images. Each round runs, one after the other, the same global batch::

    one:  python bench_distributed.py --worker                                   (2 BLAS threads)
    two:  mpiexec -n 2 python -m mpi4py bench_distributed.py --worker --distributed mpi   (1 each)
    (and, for reference, one process with 1 BLAS thread)

and prints per run the median step time, images/s, the time per step inside the gradient
allreduces, the bytes each process reduces per step, and the allreduce of that many bytes
alone (both processes entering together: the cost without waiting for the slower one).
Last, the ring-allreduce model: each of N processes sends and receives 2 (N-1)/N of the
gradient bytes per step, so on N machines like this one (global batch fixed)::

    step(N) = compute(B) / N + 2 (N-1)/N * bytes / bandwidth

with compute(B) this machine's step without communication: the 2-process step less the time
in its allreduces.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
Z_DIM = 100
IMAGE_SHAPE = (28, 28, 1)
#: Network bandwidths for the model of N machines (bytes/s): 10 GbE, 100 Gb/s InfiniBand.
NETWORKS = {"10 Gb/s": 10e9 / 8, "100 Gb/s": 100e9 / 8}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=256, help="global batch (divisible by 2)")
    p.add_argument("--steps", type=int, default=10, help="timed steps per run (median reported)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds of the two runs")
    p.add_argument("--sync-bn", action="store_true", help="SyncBatchNormalization in G")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--distributed", default="none", help=argparse.SUPPRESS)
    return p.parse_args(argv)


# -- one run (a worker process) -------------------------------------------------------------
def worker(args: argparse.Namespace) -> None:
    """Train ``warmup + steps`` steps; rank 0 prints one JSON line of figures."""
    import numpy as np

    import minigan
    from minigan import optim
    from minigan.gan import GAN
    from minigan.models import dcgan_discriminator, dcgan_generator
    from minigan.training import data_parallel, distributed

    comm = distributed.get_communicator(args.distributed)
    seconds: list[float] = []
    reduced: list[int] = []
    collective = comm._sum

    def timed_sum(flat):  # the gradient allreduce, timed (size 1 never calls it)
        start = time.perf_counter()
        collective(flat)
        seconds.append(time.perf_counter() - start)
        reduced.append(flat.nbytes)

    comm._sum = timed_sum
    minigan.seed(0)
    G = dcgan_generator(latent_dim=Z_DIM, image_shape=IMAGE_SHAPE)
    D = dcgan_discriminator(image_shape=IMAGE_SHAPE)
    if args.sync_bn:
        data_parallel.use_sync_batch_norm(G, comm)
    data_parallel.broadcast_model(G, comm)
    data_parallel.broadcast_model(D, comm)
    opt_g = data_parallel.AllreduceOptimizer(optim.Adam(G, lr=1e-4), comm)
    opt_d = data_parallel.AllreduceOptimizer(optim.Adam(D, lr=1e-4), comm)
    gan = GAN(G, D, opt_g, opt_d, latent_dim=Z_DIM)
    data_parallel.share_noise(gan, comm, seed=0)
    reals = np.random.default_rng(1).random((args.batch, *IMAGE_SHAPE), dtype=np.float32) * 2 - 1
    local = data_parallel.shard(reals, comm)
    step_times, allreduce_times = [], []
    for step in range(args.warmup + args.steps):
        comm.barrier()
        seconds.clear()
        reduced.clear()
        start = time.perf_counter()
        float(gan.train_step([local])["g_loss"])
        if step >= args.warmup:
            step_times.append(time.perf_counter() - start)
            allreduce_times.append(sum(seconds))
    step_bytes = 4 * (G.count_params() + D.count_params())  # the float32 gradients of both models
    alone = []
    if comm.size > 1:
        buffer = [np.ones(step_bytes // 4, np.float32)]
        for _ in range(5):
            comm.barrier()
            start = time.perf_counter()
            comm.allreduce_mean(buffer)
            alone.append(time.perf_counter() - start)
    if comm.rank == 0:
        step = statistics.median(step_times)
        print(json.dumps({
            "processes": comm.size, "threads": int(os.environ.get("OMP_NUM_THREADS", "0")),
            "step_s": step, "images_per_s": args.batch / step,
            "allreduce_s": statistics.median(allreduce_times), "bytes_per_step": step_bytes if comm.size > 1 else 0,
            "allreduce_alone_s": statistics.median(alone) if alone else 0.0,
        }), flush=True)


# -- the launcher ---------------------------------------------------------------------------
def _launch(command: list[str], threads: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        sys.exit(f"bench_distributed: {' '.join(command)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ring_model(compute_s: float, step_bytes: int, bandwidth: float, machines: int) -> float:
    """Step time on ``machines`` machines: ``compute / N + 2 (N-1)/N * bytes / bandwidth``."""
    return compute_s / machines + 2 * (machines - 1) / machines * step_bytes / bandwidth


def main() -> None:
    args = parse_args()
    if args.worker:
        worker(args)
        return
    mpiexec = shutil.which("mpiexec") or shutil.which("mpiexec", path=str(Path(sys.executable).parent))
    if mpiexec is None:
        sys.exit("bench_distributed: no mpiexec found (pip install mpich, or load the system's MPI)")
    common = [str(SCRIPT), "--worker", "--batch", str(args.batch), "--steps", str(args.steps),
              "--warmup", str(args.warmup)] + (["--sync-bn"] if args.sync_bn else [])
    runs = []
    for _ in range(args.rounds):
        runs.append(_launch([sys.executable, *common], threads=2))
        runs.append(_launch([sys.executable, *common], threads=1))
        runs.append(_launch([mpiexec, "-n", "2", sys.executable, "-m", "mpi4py", *common,
                             "--distributed", "mpi"], threads=1))
    print(f"MNIST DCGAN, global batch {args.batch}, float32, {args.steps} timed steps per run"
          f"{', SyncBatchNormalization in G' if args.sync_bn else ''}")
    print(f"{'run':<22}{'step ms':>9}{'images/s':>10}{'allreduce ms*':>14}{'MB/step':>9}{'alone ms':>10}")
    for r in runs:
        label = f"{r['processes']} process x {r['threads']} thread"
        print(f"{label:<22}{r['step_s'] * 1e3:>9.1f}{r['images_per_s']:>10.1f}{r['allreduce_s'] * 1e3:>14.1f}"
              f"{r['bytes_per_step'] / 1e6:>9.2f}{r['allreduce_alone_s'] * 1e3:>10.1f}")
    print("* inside the step's two gradient allreduces, waiting for the slower process included")
    one = statistics.median(r["step_s"] for r in runs if r["processes"] == 1 and r["threads"] == 2)
    two = [r for r in runs if r["processes"] == 2]
    step_bytes = two[0]["bytes_per_step"]
    alone = statistics.median(r["allreduce_alone_s"] for r in two)
    compute = statistics.median(r["step_s"] - r["allreduce_s"] for r in two)
    print(f"median step: 1x2 {one * 1e3:.1f} ms, 2x1 {statistics.median(r['step_s'] for r in two) * 1e3:.1f} ms; "
          f"allreduce of {step_bytes / 1e6:.2f} MB alone {alone * 1e3:.1f} ms "
          f"({step_bytes / alone / 1e9:.2f} GB/s through shared memory)")
    print(f"ring-allreduce model, N machines like this one (compute(B) = 2x1 step less its allreduces = "
          f"{compute * 1e3:.0f} ms), images/s:")
    machines = (1, 2, 4, 8, 16, 32)
    print(f"{'network':<12}" + "".join(f"{f'N={n}':>10}" for n in machines))
    for name, bandwidth in NETWORKS.items():
        print(f"{name:<12}" + "".join(f"{args.batch / ring_model(compute, step_bytes, bandwidth, n):>10.0f}"
                                      for n in machines))


if __name__ == "__main__":
    main()
