"""flatten_parameters: one buffer for the parameters, one for the gradients, the layers' arrays views
into them; the values and every forward and backward unchanged; a replaced array reported."""

from __future__ import annotations

import numpy as np
import pytest

from minigan import backend, models, nn
from minigan.nn.flat import ALIGN_BYTES, flatten_parameters

NETWORKS = {
    "dcgan_discriminator": (lambda: models.dcgan_discriminator((28, 28, 1)), [(4, 28, 28, 1)]),
    "dcgan_generator": (lambda: models.dcgan_generator(100, (28, 28, 1)), [(4, 100)]),
    "sn_discriminator": (lambda: models.dcgan_discriminator((28, 28, 1), spectral_norm=True), [(4, 28, 28, 1)]),
    "cdcgan_generator": (lambda: models.cdcgan_generator(100, 10, (28, 28, 1)), [(4, 100), (4, 10)]),
}


def inputs(shapes: list[tuple[int, ...]], dtype: str = "float32") -> object:
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    return xs[0] if len(xs) == 1 else xs


def forward_backward(model: nn.Layer, x: object) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One training-mode forward and backward (dropout drawn from seed 5); the output and the gradients."""
    backend.seed(5)
    y = model.forward(x)
    model.backward(np.linspace(-1, 1, y.size, dtype=y.dtype).reshape(y.shape), input_grad=False)
    return y, {k: g.copy() for k, g in model.grads.items()}


def twins(make) -> tuple[nn.Layer, nn.Layer]:
    backend.seed(0)
    a = make()
    backend.seed(0)
    return a, make()


def assert_views(model: nn.Layer, flat) -> None:
    for key in model.params:
        assert np.shares_memory(model.params[key], flat.params), key
        assert np.shares_memory(model.grads[key], flat.grads), key
    assert flat.detached() == []


@pytest.mark.parametrize("name", NETWORKS)
def test_every_parameter_and_gradient_becomes_a_view_of_one_aligned_buffer_with_its_values(name):
    flattened = NETWORKS[name][0]()
    before = {k: v.copy() for k, v in flattened.params.items()}
    flat = flatten_parameters(flattened)
    assert_views(flattened, flat)
    assert flat.params.ndim == 1 and flat.grads.shape == flat.params.shape
    assert list(flat.keys) == list(flattened.params)
    for key, value in flattened.params.items():
        np.testing.assert_array_equal(value, before[key])
        offset = flat.offsets[flat.keys.index(key)]
        assert offset * flat.params.itemsize % ALIGN_BYTES == 0
        np.testing.assert_array_equal(flat.params[offset:offset + value.size], value.reshape(-1))
    assert flat.size >= flattened.count_params()  # the alignment gaps come on top


@pytest.mark.parametrize("name", NETWORKS)
def test_forward_and_backward_are_bit_identical_and_write_into_the_buffers(name):
    make, shapes = NETWORKS[name]
    plain, flattened = twins(make)
    x = inputs(shapes)
    plain.forward(x, training=False)  # build both
    flattened.forward(x, training=False)
    flat = flatten_parameters(flattened)
    for _ in range(2):  # the gradients add up, in the buffer
        y_plain, g_plain = forward_backward(plain, x)
        y_flat, g_flat = forward_backward(flattened, x)
        np.testing.assert_array_equal(y_flat, y_plain)
        for key in g_plain:
            np.testing.assert_array_equal(g_flat[key], g_plain[key])
            offset = flat.offsets[flat.keys.index(key)]
            np.testing.assert_array_equal(flat.grads[offset:offset + g_plain[key].size], g_plain[key].reshape(-1))
    assert np.abs(flat.grads).sum() > 0
    flattened.zero_grad()  # each layer's own zero_grad writes in place
    assert_views(flattened, flat)
    assert not flat.grads.any()


def test_a_spectral_normalization_wrapper_and_its_wrapped_layer_share_the_bias_view():
    layer = nn.SpectralNormalization(nn.Dense(3), name="sn")
    model = nn.Sequential([layer], input_shape=(4,))
    flat = flatten_parameters(model)
    assert layer.layer.params["bias"] is layer.params["bias"]
    assert layer.layer.grads["bias"] is layer.grads["bias"]
    assert np.shares_memory(layer.layer.grads["bias"], flat.grads)


def test_flattening_again_keeps_the_buffers_and_copies_nothing():
    model = models.dcgan_generator(100, (28, 28, 1))
    first = flatten_parameters(model)
    again = flatten_parameters(model)
    assert again.params is first.params and again.grads is first.grads


def test_a_replaced_array_is_reported_by_name_and_flattening_again_takes_it_back():
    model = nn.Sequential([nn.Dense(3), nn.Dense(2)], input_shape=(4,))
    flat = flatten_parameters(model)
    model.layers[1].params["kernel"] = model.layers[1].params["kernel"] * 2  # replaced, not written into
    assert flat.detached() == ["params['dense_1/kernel']"]
    with pytest.raises(RuntimeError, match=r"dense_1/kernel.*replaced, not written into"):
        flat.check()
    doubled = model.params["dense_1/kernel"].copy()
    refreshed = flatten_parameters(model)
    assert refreshed.params is not flat.params and refreshed.detached() == []
    np.testing.assert_array_equal(model.params["dense_1/kernel"], doubled)


def test_an_unbuilt_model_or_parameters_of_two_dtypes_are_refused():
    with pytest.raises(ValueError, match="sequential is not built"):
        flatten_parameters(nn.Sequential([nn.Dense(2)]))
    single = nn.Dense(2, input_shape=(3,))
    with backend.default_float("float64"):
        double = nn.Dense(2, input_shape=(2,))
    model = nn.Sequential([single, double], input_shape=(3,))
    with pytest.raises(ValueError, match=r"one dtype, got \['float32', 'float64'\]"):
        flatten_parameters(model)


def test_a_model_without_parameters_flattens_to_empty_buffers():
    flat = flatten_parameters(nn.Sequential([nn.ReLU()], input_shape=(3,)))
    assert flat.size == 0 and flat.keys == ()
