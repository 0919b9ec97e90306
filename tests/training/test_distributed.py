"""Data-parallel building blocks in one process: the communicators' contract, SyncBatchNormalization,
sharding, the shared noise and the optimizer wrapper. (Two real processes: test_distributed_mpi.py.)

``Pair`` plays one process of two inside this one: its "other process" is a fixed list of
arrays, so every collective has a known answer.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import minigan
from minigan import backend, models, nn, optim
from minigan.gan import GAN
from minigan.gradcheck import check_layer
from minigan.training import data_parallel, distributed


class Pair(distributed.Communicator):
    """Process ``rank`` of 2 whose partner holds ``other`` (the arrays of each call, in order)."""

    size = 2

    def __init__(self, rank: int = 0, other: list | None = None) -> None:
        self.rank, self.other, self.calls = rank, other or [], 0

    def _sum(self, flat):
        self.calls += 1
        flat += np.concatenate([a.reshape(-1) for a in self.other])

    def _broadcast(self, flat, root):
        if root != self.rank:
            flat[...] = np.concatenate([a.reshape(-1) for a in self.other])

    def _scalar(self, value, op):
        return max(value, 10.0) if op == "max" else value + 10.0


def test_the_single_process_communicator_is_rank_0_of_1_and_its_collectives_change_nothing():
    comm = distributed.get_communicator()
    assert (comm.rank, comm.size, comm.local_rank) == (0, 1, 0)
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    comm.allreduce_mean([a])
    comm.broadcast([a])
    comm.barrier()
    np.testing.assert_array_equal(a, np.arange(6.0).reshape(2, 3))
    assert a.dtype == np.float32 and comm.allreduce_scalar(2.5, "mean") == 2.5


def test_a_single_process_run_never_imports_mpi4py():
    code = ("import sys, numpy as np\nfrom minigan import nn\nfrom minigan.training import data_parallel, distributed\n"
            "c = distributed.get_communicator('none')\n"
            "nn.SyncBatchNormalization(c).forward(np.ones((2, 3), np.float32))\n"
            "print('mpi4py' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_mpi_without_mpi4py_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # makes "from mpi4py import MPI" fail
    hint = r'needs mpi4py.*pip install "minigan\[distributed\]".*pip install mpich'
    with pytest.raises(distributed.DistributedError, match=hint):
        distributed.get_communicator("mpi")


def test_an_unknown_communicator_or_op_or_root_is_refused():
    with pytest.raises(ValueError, match=r"expected kind in \('none', 'mpi', 'nccl'\), got 'gloo'"):
        distributed.get_communicator("gloo")
    with pytest.raises(ValueError, match=r"expected op in \('sum', 'mean', 'max'\), got 'min'"):
        Pair().allreduce_scalar(1.0, "min")
    with pytest.raises(ValueError, match="expected 0 <= root < 2, got 2"):
        Pair().broadcast([np.ones(2)], root=2)


def test_allreduce_mean_averages_every_array_in_one_collective_and_keeps_the_dtype():
    a, b = np.ones((2, 3), np.float32), np.arange(4, dtype=np.float32)
    comm = Pair(other=[np.full((2, 3), 3, np.float32), -np.arange(4, dtype=np.float32)])
    comm.allreduce_mean([a, b])
    assert comm.calls == 1
    np.testing.assert_array_equal(a, np.full((2, 3), 2))
    np.testing.assert_array_equal(b, np.zeros(4))
    assert a.dtype == b.dtype == np.float32


def test_allreduce_mean_refuses_arrays_of_two_dtypes():
    with pytest.raises(ValueError, match="expected arrays of one dtype .* got float32, float64"):
        Pair(other=[np.ones(1), np.ones(1)]).allreduce_mean([np.ones(1, np.float32), np.ones(1)])


def test_broadcast_takes_the_roots_arrays_and_scalars_combine_by_op():
    a = np.zeros(3)
    Pair(rank=1, other=[np.arange(3.0)]).broadcast([a], root=0)
    np.testing.assert_array_equal(a, np.arange(3.0))
    comm = Pair()
    assert comm.allreduce_scalar(2.0, "sum") == 12.0 and comm.allreduce_scalar(2.0, "mean") == 6.0
    assert comm.allreduce_scalar(2.0, "max") == 10.0


def test_sync_batch_norm_in_one_process_is_batch_norm_exactly(float64, rng):
    x, dy = rng.standard_normal((5, 3, 3, 4)), rng.standard_normal((5, 3, 3, 4))
    bn, sync = nn.BatchNormalization(momentum=0.5), nn.SyncBatchNormalization(momentum=0.5)
    np.testing.assert_array_equal(sync.forward(x), bn.forward(x))
    np.testing.assert_array_equal(sync.backward(dy), bn.backward(dy))
    for key in ("gamma", "beta"):
        np.testing.assert_array_equal(sync.grads[key], bn.grads[key])
    for key in ("moving_mean", "moving_variance"):
        np.testing.assert_array_equal(sync.state[key], bn.state[key])
    np.testing.assert_array_equal(sync.forward(x, training=False), bn.forward(x, training=False))


@pytest.mark.parametrize("shape", [(6, 4), (3, 2, 2, 3)])
def test_sync_batch_norm_gradients_match_finite_differences(float64, rng, shape):
    check_layer(nn.SyncBatchNormalization(), rng.standard_normal(shape)).assert_ok()


class Mirror(distributed.Communicator):
    """Process 0 of 2 whose partner holds exactly the same arrays: every sum doubles."""

    size = 2

    def _sum(self, flat):
        flat *= 2


def test_sync_batch_norm_normalises_over_the_global_batch(float64, rng):
    """Beside a partner holding the same rows, the global batch is this batch twice."""
    x, dy = rng.standard_normal((4, 2, 2, 3)), rng.standard_normal((4, 2, 2, 3))
    sync, bn = nn.SyncBatchNormalization(Mirror(), momentum=0.5), nn.BatchNormalization(momentum=0.5)
    np.testing.assert_allclose(sync.forward(x), bn.forward(np.concatenate([x, x]))[:4], rtol=0, atol=1e-14)
    np.testing.assert_allclose(sync.backward(dy), bn.backward(np.concatenate([dy, dy]))[:4], rtol=0, atol=1e-14)
    np.testing.assert_allclose(sync.state["moving_variance"], bn.state["moving_variance"], rtol=0, atol=1e-14)
    # Its own parameter gradients stay per process (the optimizer averages them): half of BN's.
    np.testing.assert_allclose(2 * sync.grads["gamma"], bn.grads["gamma"], rtol=0, atol=1e-13)


def test_the_batch_size_must_divide_by_the_processes_and_each_gets_its_rows():
    with pytest.raises(ValueError, match="divisible by the 2 processes, got 9 \\(use 8 or 10\\)"):
        data_parallel.local_batch_size(9, Pair())
    batch = np.arange(8)
    np.testing.assert_array_equal(data_parallel.shard(batch, Pair(rank=1)), [4, 5, 6, 7])
    assert data_parallel.local_batch_size(8, distributed.get_communicator()) == 8


def _gan(num_classes: int | None = None) -> GAN:
    G = models.mlp_generator(4, (2, 2, 1), hidden=(3,), num_classes=num_classes, batch_norm=False)
    D = models.mlp_discriminator((2, 2, 1), hidden=(3,), dropout=0, num_classes=num_classes)
    return GAN(G, D, optim.Adam(G), optim.Adam(D), latent_dim=4, num_classes=num_classes)


def test_with_shared_noise_two_processes_cut_their_rows_from_the_one_process_draw():
    minigan.seed(5)
    gan = _gan(num_classes=3)
    one_z, one_y = gan.noise(6), gan.random_labels(6)  # what one process draws for a fake batch of 6
    halves = []
    for rank in (0, 1):
        minigan.seed(5)
        gan = _gan(num_classes=3)
        data_parallel.share_noise(gan, Pair(rank=rank), seed=5)
        assert gan.noise_rng is not backend.rng()  # dropout draws from a stream of its own
        halves.append(gan._fake(3))  # a fake batch of 3 rows in each of the 2 processes
        gan.generator.discard()
    (fake0, y0), (fake1, y1) = halves
    np.testing.assert_array_equal(np.concatenate([y0, y1]), one_y)
    minigan.seed(5)
    reference = _gan(num_classes=3)
    np.testing.assert_array_equal(
        np.concatenate([fake0, fake1]), reference.generator.forward([one_z, one_y]))


def test_each_process_draws_its_own_dropout_masks():
    draws = []
    for rank in (0, 1):
        minigan.seed(5)
        data_parallel.share_noise(_gan(), Pair(rank=rank), seed=5)
        draws.append(nn.Dropout(0.5).forward(np.ones((4, 64), np.float32)))
    assert not np.array_equal(draws[0], draws[1])


def test_allreduce_optimizer_steps_with_the_mean_gradient_and_delegates_the_rest():
    model = nn.Dense(2, input_shape=(3,))
    twin = nn.Dense(2, input_shape=(3,))
    twin.params["kernel"][...] = model.params["kernel"]
    wrapped = data_parallel.AllreduceOptimizer(optim.SGD(model, lr=0.5),
                                               Pair(other=[np.full((3, 2), 4, np.float32), np.zeros(2, np.float32)]))
    wrapped.zero_grad()
    model.grads["kernel"][...] = 2
    wrapped.step()  # the mean gradient: (2 + 4) / 2 = 3 on the kernel, 0 on the bias
    np.testing.assert_allclose(model.params["kernel"], twin.params["kernel"] - 0.5 * 3, rtol=1e-6)
    assert wrapped.lr == 0.5 and wrapped.t == 1 and wrapped.state_dict()["t"] == 1
    assert wrapped.model is model  # what minigan.training.checkpoint reads


def test_a_learning_rate_set_on_the_allreduce_optimizer_reaches_the_optimizer_it_wraps():
    inner = optim.Adam(nn.Dense(2, input_shape=(3,)), lr=1e-3)
    wrapped = data_parallel.AllreduceOptimizer(inner, Pair())
    wrapped.lr = 5e-4  # as LearningRateSchedule sets it
    assert inner.lr == 5e-4 and wrapped.lr == 5e-4


def test_use_sync_batch_norm_swaps_every_batch_norm_keeping_names_and_arrays():
    G = models.cdcgan_generator(latent_dim=4, num_classes=3, width=0.05)
    before = G.params
    count = sum(type(layer) is nn.BatchNormalization for layer in _all_layers(G))
    assert count >= 3 and data_parallel.use_sync_batch_norm(G, distributed.get_communicator()) == count
    assert sum(isinstance(layer, nn.SyncBatchNormalization) for layer in _all_layers(G)) == count
    assert G.params.keys() == before.keys() and all(G.params[k] is before[k] for k in before)
    assert not any(type(layer) is nn.BatchNormalization for layer in _all_layers(G))
    z, y = np.ones((2, 4), np.float32), np.eye(3, dtype=np.float32)[[0, 2]]
    G.backward(np.ones_like(G.forward([z, y])), input_grad=False)
    assert any(k.endswith("/gamma") and np.any(g != 0) for k, g in G.grads.items())


def _all_layers(model):
    for layer in getattr(model, "layers", []):
        yield layer
        yield from _all_layers(layer)
