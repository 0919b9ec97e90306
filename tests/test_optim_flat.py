"""FlatAdam: Adam over one buffer, bit for bit Adam's numbers, its step count a 0-d array; its state
and checkpoints interchangeable with Adam's; the views kept by every path that writes parameters
(checkpoint restore, the EMA's swap, the data-parallel broadcast and all-reduce)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from minigan import backend, models, nn, optim
from minigan.training import checkpoint, data_parallel, distributed
from minigan.training.callbacks import EMA

NETWORKS = {
    "dcgan_discriminator": (lambda: models.dcgan_discriminator((28, 28, 1)), (6, 28, 28, 1)),
    "dcgan_generator": (lambda: models.dcgan_generator(100, (28, 28, 1)), (6, 100)),
}


def train(make, shape, optimizers, dtype="float32"):
    """One update per entry of ``optimizers`` (optimizer classes) of a fresh ``make()`` (seed 0), on
    changing inputs and dropout masks; where the class changes, the new optimizer takes the old
    one's ``state_dict()`` (copied). Returns the model and the last optimizer."""
    backend.seed(0)
    with backend.default_float(dtype):
        model = make()
    rng, opt = np.random.default_rng(1), None
    for kind in optimizers:
        if type(opt) is not kind:
            new = kind(model, lr=2e-4, beta_1=0.5)
            if opt is not None:
                state = opt.state_dict()
                new.load_state_dict({"t": state["t"], "slots": {name: {k: v.copy() for k, v in slot.items()}
                                                                for name, slot in state["slots"].items()}})
            opt = new
        x = rng.standard_normal(shape).astype(dtype)
        opt.zero_grad()
        y = model.forward(x)
        model.backward(np.tanh(y) + 0.1, input_grad=False)
        opt.step()
    return model, opt


def assert_same_bits(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key, strict=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NETWORKS)
def test_flat_adam_gives_adams_numbers_bit_for_bit(name, dtype):
    make, shape = NETWORKS[name]
    model, adam = train(make, shape, [optim.Adam] * 4, dtype)
    flat_model, flat = train(make, shape, [optim.FlatAdam] * 4, dtype)
    assert_same_bits(flat_model.params, model.params)
    for slot in ("m", "v"):
        assert_same_bits(flat.slots[slot], adam.slots[slot])
    assert not np.array_equal(flat_model.params[next(iter(model.params))], make().params[next(iter(model.params))])


def test_the_step_count_is_a_0d_array_on_the_models_array_module_beside_t():
    model, flat = train(*NETWORKS["dcgan_generator"], [optim.FlatAdam] * 3)
    assert isinstance(flat.count, np.ndarray) and flat.count.shape == () and flat.count.dtype == np.int64
    assert int(flat.count) == flat.t == 3


def _steps_where_numpys_power_ufunc_is_not_cs_pow(beta: float, limit: int = 300_000) -> list[int]:
    t = np.arange(1, limit + 1)
    exact = np.array([beta**k for k in range(1, limit + 1)])
    return [int(k) for k in t[np.power(beta, t) != exact][:12]]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_step_size_is_adams_even_where_numpys_power_ufunc_rounds_otherwise(dtype):
    """On CPUs with vectorised power loops ``np.power(0.999, t)`` differs from ``0.999 ** t`` in the
    last bit for some t; FlatAdam's bias correction from its step-count array still equals Adam's."""
    ts = _steps_where_numpys_power_ufunc_is_not_cs_pow(0.999) or [1, 10, 1000, 123_457]
    rng = np.random.default_rng(0)
    for t in ts:
        with backend.default_float(dtype):
            layers = [nn.Dense(3, input_shape=(4,)) for _ in range(2)]
        layers[1].params["kernel"][...] = layers[0].params["kernel"]
        state = {"t": t - 1, "slots": {"m": {"kernel": rng.standard_normal((4, 3)).astype(dtype)},
                                       "v": {"kernel": rng.random((4, 3)).astype(dtype)}}}
        grad = rng.standard_normal((4, 3)).astype(dtype)
        for layer, kind in zip(layers, (optim.Adam, optim.FlatAdam), strict=True):
            opt = kind(layer, lr=1.0, beta_1=0.9, beta_2=0.999)
            opt.load_state_dict({"t": state["t"], "slots": {name: {k: v.copy() for k, v in slot.items()}
                                                            for name, slot in state["slots"].items()}})
            layer.grads["kernel"][...] = grad
            opt.step()
        np.testing.assert_array_equal(layers[1].params["kernel"], layers[0].params["kernel"], err_msg=f"t={t}")


@pytest.mark.parametrize(("first", "second"), [(optim.Adam, optim.FlatAdam), (optim.FlatAdam, optim.Adam)])
def test_a_state_dict_of_either_optimizer_continues_in_the_other_bit_for_bit(first, second):
    make, shape = NETWORKS["dcgan_discriminator"]
    straight, _ = train(make, shape, [first] * 4)
    switched, opt = train(make, shape, [first] * 2 + [second] * 2)
    assert type(opt) is second and opt.t == 4
    assert_same_bits(switched.params, straight.params)


def test_from_adam_carries_the_settings_step_count_and_moments():
    make, shape = NETWORKS["dcgan_generator"]
    _, adam = train(make, shape, [optim.Adam] * 2)
    flat = optim.FlatAdam.from_adam(adam)
    assert (flat.lr, flat.beta_1, flat.beta_2, flat.epsilon, flat.t, int(flat.count)) == (2e-4, 0.5, 0.999, 1e-7, 2, 2)
    assert_same_bits(flat.slots["v"], adam.slots["v"])
    assert np.shares_memory(flat.slots["v"]["dense/kernel"], flat.v)


def test_a_bad_state_is_refused_naming_the_slot_and_key():
    flat = optim.FlatAdam(nn.Dense(2, input_shape=(3,)))
    with pytest.raises(ValueError, match=r"slots m and v, got \['velocity'\]"):
        flat.load_state_dict({"t": 1, "slots": {"velocity": {}}})
    with pytest.raises(ValueError, match=r"slot 'm' has keys the model does not: \['dense_9/kernel'\]"):
        flat.load_state_dict({"t": 1, "slots": {"m": {"dense_9/kernel": np.zeros((3, 2))}}})
    with pytest.raises(ValueError, match=r"slot 'v' 'kernel' has shape \(2, 3\), the model \(3, 2\)"):
        flat.load_state_dict({"t": 1, "slots": {"v": {"kernel": np.zeros((2, 3))}}})


def test_a_step_after_an_array_was_replaced_raises_instead_of_training_a_copy():
    layer = nn.Dense(2, input_shape=(3,))
    flat = optim.FlatAdam(layer)
    layer.params["bias"] = layer.params["bias"] + 1
    with pytest.raises(RuntimeError, match=r"params\['bias'\] no longer in the flat buffer"):
        flat.step()


def assert_views(model, opt) -> None:
    for key in model.params:
        assert np.shares_memory(model.params[key], opt.flat.params), key
        assert np.shares_memory(model.grads[key], opt.flat.grads), key
    assert opt.flat.detached() == []


@pytest.mark.parametrize(("writer", "reader"), [(optim.FlatAdam, optim.Adam), (optim.Adam, optim.FlatAdam),
                                                (optim.FlatAdam, optim.FlatAdam)])
def test_checkpoints_of_either_optimizer_load_into_either_and_restoring_keeps_the_views(writer, reader, tmp_path):
    make, shape = NETWORKS["dcgan_discriminator"]
    model, opt = train(make, shape, [writer] * 2)
    checkpoint.save(tmp_path / "c.npz", {"d": model}, {"d": opt}, {"step": 2})
    fresh = make()
    fresh_opt = reader(fresh, lr=2e-4, beta_1=0.5)
    ckpt = checkpoint.load(tmp_path / "c.npz")
    ckpt.restore_model("d", fresh)
    ckpt.restore_optimizer("d", fresh_opt)
    assert_same_bits(fresh.params, model.params)
    assert_same_bits({k: np.asarray(v) for k, v in fresh_opt.slots["m"].items()}, opt.slots["m"])
    assert fresh_opt.t == 2
    if reader is optim.FlatAdam:
        assert int(fresh_opt.count) == 2
        assert_views(fresh, fresh_opt)


def test_the_emas_start_average_swap_and_restore_keep_the_generators_views(tmp_path):
    generator = models.dcgan_generator(100, (28, 28, 1))
    opt = optim.FlatAdam(generator)
    trainer = SimpleNamespace(gan=SimpleNamespace(generator=generator), step=1)
    ema = EMA(0.9)
    ema.on_fit_start(trainer)
    own = {k: v.copy() for k, v in generator.params.items()}
    for value in generator.params.values():
        value += 1
    ema.on_step_end(trainer, {})
    moved = {k: v.copy() for k, v in generator.params.items()}
    with ema.sampling(trainer):
        assert_views(generator, opt)
        key = next(iter(own))
        assert not np.array_equal(generator.params[key], moved[key])  # the average, in the buffer
    assert_views(generator, opt)
    assert_same_bits(generator.params, moved)
    checkpoint.save(tmp_path / "c.npz", {"g": generator, **ema.checkpoint_models(trainer)}, {}, {})
    ema.load_checkpoint(trainer, checkpoint.load(tmp_path / "c.npz"))
    assert_views(generator, opt)


class Pair(distributed.Communicator):
    """Process 0 of 2 whose partner's arrays (each call's, flattened) are ``other``: all ones."""

    size, rank = 2, 0

    def _sum(self, flat):
        flat += 1

    def _broadcast(self, flat, root):
        if root != self.rank:
            flat[...] = 1


def test_the_data_parallel_broadcast_and_allreduce_write_into_the_buffers():
    model = models.dcgan_discriminator((28, 28, 1))
    opt = optim.FlatAdam(model)
    comm = Pair()
    data_parallel.broadcast_model(model, comm, root=1)
    assert_views(model, opt)
    assert all((p == 1).all() for p in model.params.values())
    wrapped = data_parallel.AllreduceOptimizer(opt, comm)
    wrapped.zero_grad()
    for g in model.grads.values():
        g[...] = 3
    before = {k: v.copy() for k, v in model.params.items()}
    wrapped.step()  # grads <- (3 + 1) / 2
    assert_views(model, opt)
    assert all((g == 2).all() for g in model.grads.values())
    assert all((model.params[k] < before[k]).all() for k in before)


def test_sync_batch_norm_takes_over_a_flattened_layers_dicts():
    model = models.dcgan_generator(100, (28, 28, 1))
    opt = optim.FlatAdam(model)
    assert data_parallel.use_sync_batch_norm(model, Pair()) > 0
    assert_views(model, opt)


@pytest.mark.gpu
@pytest.mark.parametrize(("dtype", "rtol"), [("float64", 1e-10), ("float32", 1e-5)])
def test_flat_adam_on_the_gpu_matches_numpy_adam_and_keeps_its_count_on_the_device(dtype, rtol):
    import cupy

    backend.set_backend("cupy")
    with backend.default_float(dtype):
        gpu = models.dcgan_discriminator((28, 28, 1))
    backend.set_backend("numpy")
    with backend.default_float(dtype):
        cpu = models.dcgan_discriminator((28, 28, 1))
    for key, value in cpu.params.items():
        value[...] = cupy.asnumpy(gpu.params[key])
    gpu_opt, cpu_opt = optim.FlatAdam(gpu, 2e-4, 0.5), optim.Adam(cpu, 2e-4, 0.5)
    assert isinstance(gpu_opt.count, cupy.ndarray) and gpu_opt.count.shape == ()
    assert all(cupy.shares_memory(gpu.params[k], gpu_opt.flat.params) for k in gpu.params)
    rng = np.random.default_rng(0)
    for _ in range(5):
        grads = {k: rng.standard_normal(v.shape).astype(dtype) for k, v in cpu.params.items()}
        gpu_opt.zero_grad()
        cpu_opt.zero_grad()
        for key, g in grads.items():
            gpu.grads[key] += cupy.asarray(g)
            cpu.grads[key] += g
        gpu_opt.step()
        cpu_opt.step()
    assert int(gpu_opt.count) == gpu_opt.t == 5
    for key, value in cpu.params.items():
        np.testing.assert_allclose(cupy.asnumpy(gpu.params[key]), value, rtol=rtol, atol=rtol * 1e-2, err_msg=key)
        np.testing.assert_allclose(cupy.asnumpy(gpu_opt.slots["v"][key]), cpu_opt.slots["v"][key], rtol=rtol)


@pytest.mark.gpu
def test_the_flat_buffer_on_the_gpu_holds_views_and_flattening_again_copies_nothing():
    import cupy

    backend.set_backend("cupy")
    model = models.cdcgan_generator(100, 10, (28, 28, 1))
    before = {k: cupy.asnumpy(v) for k, v in model.params.items()}
    flat = nn.flatten_parameters(model)
    assert flat.detached() == [] and flatten_parameters_again_is_same(model, flat)
    for key, value in model.params.items():
        assert cupy.shares_memory(value, flat.params)
        assert value.data.ptr % 256 == 0
        np.testing.assert_array_equal(cupy.asnumpy(value), before[key])
    model.zero_grad()
    assert flat.detached() == []


def flatten_parameters_again_is_same(model, flat) -> bool:
    again = nn.flatten_parameters(model)
    return again.params is flat.params and again.grads is flat.grads
