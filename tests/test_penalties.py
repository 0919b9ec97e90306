"""The gradient penalty and its parameter gradient (a hand-derived double backward), proven three ways in
float64: against finite differences of the penalty, against finite differences of D's parameter gradient
along v (the Hessian-vector route), and each layer's tangent pass alone against finite differences."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest

from minigan import backend, nn
from minigan.gradcheck import check_gradients
from minigan.nn.label_maps import LabelMapConv2D
from minigan.penalties import gradient_penalty, interpolates

SEED = 7  # re-seeded before every forward: the same dropout masks each time


def conv_critic() -> tuple[nn.Sequential, tuple[int, ...]]:
    """Two convolutions, LeakyReLU, Flatten and a Dense."""
    layers = [nn.Conv2D(3, 3, 2, "same"), nn.LeakyReLU(0.2), nn.Conv2D(4, 3, 1, "valid"), nn.LeakyReLU(0.2),
              nn.Flatten(), nn.Dense(1)]
    return nn.Sequential(layers), (3, 7, 7, 2)


def mixed_critic() -> tuple[nn.Sequential, tuple[int, ...]]:
    """Every other supported layer: Conv2DTranspose, Dropout, Reshape, ReLU, SpectralNormalization (of all three)."""
    layers = [
        nn.SpectralNormalization(nn.Conv2D(3, 3, 2, "same")), nn.ReLU(),
        nn.SpectralNormalization(nn.Conv2DTranspose(2, 3, 2, "same")), nn.LeakyReLU(0.1), nn.Dropout(0.3),
        nn.Flatten(), nn.SpectralNormalization(nn.Dense(12)), nn.ReLU(), nn.Reshape((2, 2, 3)),
        nn.Sequential([nn.Conv2D(2, 2, 1, "valid"), nn.LeakyReLU(0.2)]), nn.Flatten(), nn.Dense(1),
    ]
    return nn.Sequential(layers), (3, 4, 4, 2)


CRITICS = [pytest.param(conv_critic, id="conv"), pytest.param(mixed_critic, id="mixed")]


def built(make: Callable[[], tuple[nn.Sequential, tuple[int, ...]]]) -> tuple[nn.Sequential, np.ndarray, dict]:
    """A float64 critic, a batch for it and its state (u) to restore before every forward."""
    model, shape = make()
    with backend.default_float("float64"):
        model.build_for(shape[1:])
    x = np.random.default_rng(0).standard_normal(shape)
    return model, x, {k: u.copy() for k, u in model.state.items()}


def reset(model: nn.Layer, state: dict) -> None:
    """The same dropout masks and spectral-normalization u as every other forward of the test."""
    for key, value in state.items():
        model.state[key][...] = value
    backend.seed(SEED)


def analytic_penalty_grads(model: nn.Layer, x: np.ndarray, state: dict, weight: float, center: float) -> dict:
    model.zero_grad()
    reset(model, state)
    gradient_penalty(model, x, weight, center)
    return {k: g.copy() for k, g in model.grads.items()}


def input_gradient(model: nn.Layer, x: np.ndarray, state: dict) -> np.ndarray:
    """``grad_x sum_i D(x_i)`` by the (separately gradient-checked) first-order backward."""
    reset(model, state)
    return model.backward(np.ones_like(model.forward(x)))


@pytest.mark.parametrize("center", [0.0, 1.0])
@pytest.mark.parametrize("make", CRITICS)
def test_penalty_gradient_matches_finite_differences_of_the_penalty_for_every_parameter(make, center):
    model, x, state = built(make)
    weight = 10.0
    analytic = analytic_penalty_grads(model, x, state, weight, center)

    def penalty() -> float:
        reset(model, state)
        return float(gradient_penalty(model, x, weight, center))

    report = check_gradients(penalty, analytic, model.params, rtol=1e-6)
    assert {c.name for c in report.checks} == set(model.params)
    assert all(np.abs(analytic[k]).max() > 0 for k in model.params if k.endswith("kernel"))
    report.assert_ok()


@pytest.mark.parametrize("center", [0.0, 1.0])
@pytest.mark.parametrize("make", CRITICS)
def test_penalty_gradient_matches_the_finite_difference_hessian_vector_route(make, center):
    """dP/dparam = d/dparam <v, g(x)> = d/de grad_param s(x + e v) at e = 0, s = sum_i D(x_i), v = dP/dg."""
    model, x, state = built(make)
    weight, n = 0.7, len(x)
    g = input_gradient(model, x, state)
    norms = np.sqrt((g.reshape(n, -1) ** 2).sum(axis=1)).reshape((n,) + (1,) * (x.ndim - 1))
    v = weight * 2 * (norms - center) / n * g / norms

    def parameter_gradient(at: np.ndarray) -> dict:
        model.zero_grad()
        reset(model, state)
        model.backward(np.ones_like(model.forward(at)), input_grad=False)
        return {k: grad.copy() for k, grad in model.grads.items()}

    eps = 1e-5
    plus, minus = parameter_gradient(x + eps * v), parameter_gradient(x - eps * v)
    analytic = analytic_penalty_grads(model, x, state, weight, center)
    for key, grad in analytic.items():
        np.testing.assert_allclose(grad, (plus[key] - minus[key]) / (2 * eps), rtol=1e-6, atol=1e-9, err_msg=key)


@pytest.mark.parametrize("make", CRITICS)
def test_the_penalty_is_the_mean_squared_distance_of_each_examples_input_gradient_norm_from_center(make):
    model, x, state = built(make)
    g = input_gradient(model, x, state)
    if make is conv_critic:  # one example's output depends on its own input only (without dropout's masks)
        for i in range(len(x)):
            np.testing.assert_allclose(input_gradient(model, x[i:i + 1], state)[0], g[i], rtol=1e-10, atol=1e-12)
    norms = np.array([np.linalg.norm(gi.ravel()) for gi in g])
    reset(model, state)
    value = gradient_penalty(model, x, 3.0, 1.0)
    assert value.dtype == np.float64 and np.ndim(value) == 0
    np.testing.assert_allclose(value, 3.0 * np.mean((norms - 1.0) ** 2), rtol=1e-12)


def test_penalty_is_float32_for_a_float32_critic_and_leaves_no_pending_forward(rng):
    model, shape = conv_critic()
    x = rng.standard_normal(shape).astype(np.float32)
    value = gradient_penalty(model, x, 10.0, 1.0)
    assert value.dtype == np.float32
    assert all(g.dtype == np.float32 for g in model.grads.values())
    model.forward(x)  # no training forward left waiting for its backward
    model.backward(np.ones((len(x), 1), np.float32))


def test_penalty_gradients_add_to_the_gradients_already_there(rng):
    model, shape = conv_critic()
    x = rng.standard_normal(shape).astype(np.float32)
    model.build_for(shape[1:])
    once = {k: g.copy() for k, g in (gradient_penalty(model, x, 1.0, 0.0), model.grads)[1].items()}
    gradient_penalty(model, x, 1.0, 0.0)
    for key, grad in model.grads.items():
        np.testing.assert_allclose(grad, 2 * once[key], rtol=1e-6, err_msg=key)


def test_an_example_with_a_zero_input_gradient_adds_nothing_and_no_nan():
    model = nn.Sequential([nn.Dense(3), nn.ReLU(), nn.Dense(1)], input_shape=(2,))
    model.layers[0].params["bias"][...] = [-100, -100, 0]
    model.layers[0].params["kernel"][...] = [[1, 1, 1], [1, 1, 0]]  # the third unit sees only x[:, 0]
    x = np.array([[0.5, 0.5], [-0.5, 0.5]], np.float32)  # the second example: every unit off
    value = gradient_penalty(model, x, 1.0, 1.0)
    g0 = abs(float(model.layers[2].params["kernel"][2, 0]))
    np.testing.assert_allclose(value, ((g0 - 1) ** 2 + 1) / 2, rtol=1e-6)
    assert all(np.isfinite(g).all() for g in model.grads.values())


@pytest.mark.parametrize(
    ("layer", "name", "why"),
    [
        (nn.BatchNormalization(), "'batch_normalization' (BatchNormalization)", "couple the examples"),
        (nn.Tanh(), "'tanh' (Tanh)", "no tangent"),
        (nn.Sigmoid(), "'sigmoid' (Sigmoid)", "no tangent"),
    ],
)
def test_a_layer_without_a_derived_second_order_is_refused_by_name_before_any_work(layer, name, why, rng):
    model = nn.Sequential([nn.Conv2D(2, 3), layer, nn.Flatten(), nn.Dense(1)], input_shape=(5, 5, 1))
    x = rng.standard_normal((2, 5, 5, 1)).astype(np.float32)
    message = rf"gradient_penalty: the critic's layer {re.escape(name)}: .*{why}.*Supported: Dense"
    with pytest.raises(ValueError, match=message):
        gradient_penalty(model, x, 10.0, 1.0)
    assert all(not g.any() for g in model.grads.values())
    model.forward(x)  # nothing left pending


def test_conditional_critics_and_several_outputs_are_refused(rng):
    labelled = nn.Sequential([LabelMapConv2D(2, 3), nn.Flatten(), nn.Dense(1)])
    images = rng.standard_normal((2, 5, 5, 1)).astype(np.float32)
    with pytest.raises(ValueError, match="expected one input array .* got a list of 2 inputs"):
        gradient_penalty(labelled, [images, np.eye(3, dtype=np.float32)[[0, 2]]], 10.0, 1.0)
    with pytest.raises(ValueError, match=r"'label_map_conv2d' \(LabelMapConv2D\): no tangent"):
        gradient_penalty(labelled, images, 10.0, 1.0)
    two = nn.Sequential([nn.Flatten(), nn.Dense(2)])
    with pytest.raises(ValueError, match=r"one value per example, shape \(2, 1\), got \(2, 2\)"):
        gradient_penalty(two, images, 10.0, 1.0)
    two.forward(images)  # the refused call left nothing pending


def test_interpolates_lie_on_the_segment_between_real_and_fake_one_draw_per_example(rng):
    real = rng.standard_normal((50, 3, 2, 1)).astype(np.float32)
    fake = rng.standard_normal((50, 3, 2, 1)).astype(np.float32)
    mixed = interpolates(real, fake)
    assert mixed.dtype == np.float32 and mixed.shape == real.shape
    e = ((mixed - fake) / (real - fake)).reshape(50, -1)
    np.testing.assert_allclose(e, e[:, :1].repeat(6, axis=1), rtol=1e-3, atol=1e-3)
    assert 0 <= e.min() and e.max() < 1 and e[:, 0].std() > 0.2
    with pytest.raises(ValueError, match="interpolates: expected real and fake of one shape"):
        interpolates(real, fake[:3])


# -- each layer's tangent pass alone -----------------------------------------------------------

LAYERS = [
    pytest.param(lambda: nn.Dense(3), (4, 5), id="dense"),
    pytest.param(lambda: nn.Conv2D(3, 3, 2, "same"), (2, 5, 6, 2), id="conv2d-same-strides"),
    pytest.param(lambda: nn.Conv2D(2, (2, 3), 1, "valid", use_bias=False), (2, 4, 5, 3), id="conv2d-valid"),
    pytest.param(lambda: nn.Conv2D(3, 3, 1, "same", algorithm="reference"), (2, 4, 4, 2), id="conv2d-reference"),
    pytest.param(lambda: nn.Conv2DTranspose(3, 4, 2, "same"), (2, 3, 4, 2), id="conv2d_transpose-same"),
    pytest.param(lambda: nn.Conv2DTranspose(2, 3, 1, "valid"), (2, 3, 3, 2), id="conv2d_transpose-valid"),
    pytest.param(lambda: nn.ReLU(), (4, 6), id="relu"),
    pytest.param(lambda: nn.LeakyReLU(0.2), (2, 3, 3, 2), id="leaky_relu"),
    pytest.param(lambda: nn.Dropout(0.4), (4, 6), id="dropout"),
    pytest.param(lambda: nn.Flatten(), (2, 3, 3, 2), id="flatten"),
    pytest.param(lambda: nn.Reshape((3, 6)), (2, 3, 3, 2), id="reshape"),
    pytest.param(lambda: nn.SpectralNormalization(nn.Dense(3)), (4, 5), id="sn-dense"),
    pytest.param(lambda: nn.SpectralNormalization(nn.Conv2D(3, 3, 2, "same")), (2, 5, 6, 2), id="sn-conv2d"),
    pytest.param(lambda: nn.SpectralNormalization(nn.Conv2DTranspose(3, 3, 2, "same")), (2, 3, 3, 2),
                 id="sn-conv2d_transpose"),
]


def layer_and_data(make, shape) -> tuple[nn.Layer, np.ndarray, np.ndarray, np.ndarray, dict]:
    layer = make()
    with backend.default_float("float64"):
        layer.build_for(shape[1:])
    rng = np.random.default_rng(3)
    x, dx = rng.standard_normal(shape), rng.standard_normal(shape)
    dy = rng.standard_normal((shape[0], *layer.output_shape(shape[1:])))
    return layer, x, dx, dy, {k: u.copy() for k, u in layer.state.items()}


def fresh_forward(layer: nn.Layer, x: np.ndarray, state: dict) -> np.ndarray:
    reset(layer, state)
    return layer.forward(x)


@pytest.mark.parametrize(("make", "shape"), LAYERS)
def test_each_layers_tangent_is_the_finite_difference_of_its_forward(make, shape):
    layer, x, dx, _, state = layer_and_data(make, shape)
    fresh_forward(layer, x, state)
    tangent = layer.tangent(dx)
    layer.discard()
    eps = 1e-6
    plus = fresh_forward(layer, x + eps * dx, state)
    layer.discard()
    minus = fresh_forward(layer, x - eps * dx, state)
    layer.discard()
    np.testing.assert_allclose(tangent, (plus - minus) / (2 * eps), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize(("make", "shape"), LAYERS)
def test_each_layers_input_gradient_is_backwards_and_adds_no_parameter_gradient(make, shape):
    layer, x, dx, dy, state = layer_and_data(make, shape)
    fresh_forward(layer, x, state)
    first = layer.input_gradient(dy)
    assert all(not g.any() for g in layer.grads.values())
    np.testing.assert_allclose((layer.tangent(dx) * dy).sum(), (dx * first).sum(), rtol=1e-10)  # J and J^T
    np.testing.assert_array_equal(first, layer.backward(dy))  # the cache stayed for the backward


@pytest.mark.parametrize(("make", "shape"), LAYERS)
def test_each_layers_tangent_backward_is_the_parameter_gradient_of_its_tangent(make, shape):
    layer, x, dx, dy, state = layer_and_data(make, shape)
    fresh_forward(layer, x, state)
    layer.tangent_backward(dx, dy)
    layer.discard()
    analytic = {k: g.copy() for k, g in layer.grads.items()}

    def loss() -> float:
        fresh_forward(layer, x, state)
        value = float((layer.tangent(dx) * dy).sum())
        layer.discard()
        return value

    report = check_gradients(loss, analytic, layer.params)
    assert {c.name for c in report.checks} == set(layer.params)
    report.assert_ok()


def test_second_order_methods_need_a_pending_training_forward():
    layer = nn.Dense(2, input_shape=(3,))
    with pytest.raises(RuntimeError, match=r"dense: tangent\(\) needs a forward\(training=True\) before it"):
        layer.tangent(np.ones((1, 3), np.float32))
    layer.forward(np.ones((1, 3), np.float32), training=False)
    with pytest.raises(RuntimeError, match=r"dense: input_gradient\(\) needs a forward"):
        layer.input_gradient(np.ones((1, 2), np.float32))


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (nn.Tanh(), r"tanh \(Tanh\): no tangent \(second-order\) pass is derived for it"),
        (nn.BatchNormalization(), r"batch_normalization \(BatchNormalization\): its batch statistics couple"),
    ],
)
def test_a_layer_without_a_derived_second_order_raises_not_implemented_naming_it(layer, message):
    x = np.ones((2, 3), np.float32)
    layer.forward(x)
    for call in (lambda: layer.tangent(x), lambda: layer.input_gradient(x)):
        with pytest.raises(NotImplementedError, match=message):
            call()


def test_a_critic_waiting_for_its_backward_is_refused_and_keeps_its_forward(rng):
    model, shape = conv_critic()
    x = rng.standard_normal(shape).astype(np.float32)
    model.forward(x)
    with pytest.raises(RuntimeError, match="called again before backward"):
        gradient_penalty(model, x, 10.0, 1.0)
    assert model.backward(np.ones((len(x), 1), np.float32)).shape == x.shape  # the caller's forward is intact
