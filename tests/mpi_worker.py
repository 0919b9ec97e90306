"""The program tests/training/test_distributed_mpi.py runs under ``mpiexec -n 2 python -m mpi4py`` (and,
for the reference, in one plain process). Usage::

    python tests/mpi_worker.py train MODEL COMM OUT [PHASE]   MODEL: mlp | dcgan | cgan, COMM: none | mpi
    python tests/mpi_worker.py collectives             asserts the collectives and SyncBN, exits 0
    python tests/mpi_worker.py fail                    rank 1 raises in step 2, rank 0 trains on

``train`` trains a tiny float64 GAN (no Dropout) for STEPS steps on a fixed global batch of
GLOBAL_BATCH rows, each process on its shard, and writes OUT with the rank appended
(``OUT.rank0.npz``): parameters, state, Adam's slots and t, and the global losses per step.
PHASE ``first`` stops after STEPS // 2 steps, rank 0 writing a checkpoint ``OUT.ckpt``;
``second`` starts from it in every process (the way a trainer resumes) and runs the rest.
"""

from __future__ import annotations

import pickle
import sys

import numpy as np

import minigan
from minigan import backend, models, nn, optim
from minigan.gan import GAN
from minigan.training import data_parallel, distributed

STEPS, GLOBAL_BATCH, LATENT = 4, 8, 6


def build(model: str) -> tuple[nn.Sequential, nn.Sequential, tuple[int, ...], int | None]:
    """(G, D, image shape, num_classes) of a tiny GAN: BN in G for mlp and dcgan, none for cgan."""
    if model == "mlp":
        shape = (4, 4, 1)
        return (models.mlp_generator(LATENT, shape, hidden=(16, 8)),
                models.mlp_discriminator(shape, hidden=(16,), dropout=0), shape, None)
    if model == "dcgan":
        shape = (8, 8, 1)
        return (models.dcgan_generator(LATENT, shape, channels=(8, 4, 4)),
                models.dcgan_discriminator(shape, channels=(4, 8), dropout=0), shape, None)
    shape = (4, 4, 1)
    return (models.mlp_generator(LATENT, shape, hidden=(16,), num_classes=3, batch_norm=False),
            models.mlp_discriminator(shape, hidden=(16,), dropout=0, num_classes=3), shape, 3)


def train(model: str, kind: str, out: str, phase: str = "all") -> None:
    minigan.set_floatx("float64")
    minigan.seed(0)
    comm = distributed.get_communicator(kind)
    G, D, shape, classes = build(model)
    data_parallel.use_sync_batch_norm(G, comm)
    data_parallel.broadcast_model(G, comm)
    data_parallel.broadcast_model(D, comm)
    opt_g, opt_d = optim.Adam(G, 2e-3, 0.5), optim.Adam(D, 2e-3, 0.5)
    gan = GAN(G, D, data_parallel.AllreduceOptimizer(opt_g, comm), data_parallel.AllreduceOptimizer(opt_d, comm),
              LATENT, num_classes=classes)
    data_parallel.share_noise(gan, comm, seed=0)
    data = np.random.default_rng(1)
    batches = [(np.tanh(data.standard_normal((GLOBAL_BATCH, *shape))),
                None if classes is None else np.eye(classes)[data.integers(0, classes, GLOBAL_BATCH)])
               for _ in range(STEPS)]
    steps = {"all": range(STEPS), "first": range(STEPS // 2), "second": range(STEPS // 2, STEPS)}[phase]
    if phase == "second":
        resume(f"{out}.ckpt", G, D, opt_g, opt_d, gan, comm)
    losses = []
    for step in steps:
        reals, labels = batches[step]
        stats = gan.train_step([data_parallel.shard(reals, comm)],
                               None if labels is None else [data_parallel.shard(labels, comm)])
        losses.append([comm.allreduce_scalar(float(stats[k]), "mean") for k in ("d_loss", "g_loss")])
    if phase == "first":
        if comm.rank == 0:  # the checkpoint of a trainer: written once, by rank 0
            checkpoint = {"G": (G.params, G.state), "D": (D.params, D.state), "opt_g": opt_g.state_dict(),
                          "opt_d": opt_d.state_dict(), "noise_rng": gan.noise_rng.bit_generator.state}
            with open(f"{out}.ckpt", "wb") as f:
                pickle.dump(checkpoint, f)
        return
    arrays = {"losses": np.array(losses)}
    for name, net, opt in (("G", G, opt_g), ("D", D, opt_d)):
        arrays |= {f"{name}/param/{k}": v for k, v in net.params.items()}
        arrays |= {f"{name}/state/{k}": v for k, v in net.state.items()}
        arrays |= {f"{name}/{slot}/{k}": v for slot, values in opt.slots.items() for k, v in values.items()}
        arrays[f"{name}/t"] = np.array(opt.t)
    np.savez(f"{out}.rank{comm.rank}.npz", **arrays)


def resume(path: str, G: nn.Sequential, D: nn.Sequential, opt_g: optim.Adam, opt_d: optim.Adam, gan: GAN,
           comm: distributed.Communicator) -> None:
    """Every process loads rank 0's checkpoint, then takes rank 0's weights (as after any resume)."""
    with open(path, "rb") as f:
        checkpoint = pickle.load(f)
    for name, net in (("G", G), ("D", D)):
        for saved, live in zip(checkpoint[name], (net.params, net.state), strict=True):
            for key, value in saved.items():
                live[key][...] = value
        data_parallel.broadcast_model(net, comm)
    opt_g.load_state_dict(checkpoint["opt_g"])
    opt_d.load_state_dict(checkpoint["opt_d"])
    gan.noise_rng.bit_generator.state = checkpoint["noise_rng"]


def collectives() -> None:
    minigan.set_floatx("float64")
    comm = distributed.get_communicator("mpi")
    assert comm.size == 2 and comm.local_rank == comm.rank, comm
    r = comm.rank
    a, b = np.full((2, 3), r + 1.0), np.arange(4.0) * (r + 1)
    comm.allreduce_mean([a, b])
    assert np.array_equal(a, np.full((2, 3), 1.5)) and np.array_equal(b, np.arange(4.0) * 1.5)
    c = np.full(3, float(r))
    comm.broadcast([c], root=1)
    assert np.array_equal(c, np.ones(3))
    assert comm.allreduce_scalar(r + 1, "sum") == 3 and comm.allreduce_scalar(r + 1, "mean") == 1.5
    assert comm.allreduce_scalar(r, "max") == 1
    comm.barrier()
    # SyncBatchNormalization on each half equals BatchNormalization on the global batch.
    x = np.random.default_rng(2).standard_normal((6, 3, 3, 4))
    dy = np.random.default_rng(3).standard_normal(x.shape)
    rows = slice(3 * r, 3 * r + 3)
    bn, sync = nn.BatchNormalization(momentum=0.5), nn.SyncBatchNormalization(comm, momentum=0.5)
    y, y_r = bn.forward(x), sync.forward(x[rows])
    np.testing.assert_allclose(y_r, y[rows], rtol=0, atol=1e-12)
    dx, dx_r = bn.backward(dy), sync.backward(dy[rows])
    np.testing.assert_allclose(dx_r, dx[rows], rtol=0, atol=1e-12)
    grads = [sync.grads["gamma"].copy(), sync.grads["beta"].copy()]
    comm.allreduce_mean(grads)  # the optimizer's mean of the per-process gradients ...
    for got, key in zip(grads, ("gamma", "beta"), strict=True):  # ... is the global gradient / P
        np.testing.assert_allclose(2 * got, bn.grads[key], rtol=0, atol=1e-12)
    for key in ("moving_mean", "moving_variance"):
        np.testing.assert_allclose(sync.state[key], bn.state[key], rtol=0, atol=1e-12)
    # Per-process BatchNormalization: average_moving_statistics gives the mean of the two.
    local = nn.BatchNormalization(momentum=0.5)
    local.forward(x[rows])
    expected = [(nn.BatchNormalization(momentum=0.5), x[s]) for s in (slice(0, 3), slice(3, 6))]
    for layer, half in expected:
        layer.forward(half)
    data_parallel.average_moving_statistics(local, comm)
    mean = (expected[0][0].state["moving_mean"] + expected[1][0].state["moving_mean"]) / 2
    np.testing.assert_allclose(local.state["moving_mean"], mean, rtol=0, atol=1e-12)
    print(f"rank {r}: collectives ok", flush=True)


def fail() -> None:
    comm = distributed.get_communicator("mpi")
    grads = [np.ones(1000, np.float32)]
    for step in range(1000):
        if comm.rank == 1 and step == 2:
            raise RuntimeError("rank 1 fails on purpose")
        comm.allreduce_mean(grads)
    print(f"rank {comm.rank}: finished", flush=True)


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    backend.seed(0)
    {"train": train, "collectives": collectives, "fail": fail}[mode](*args)
