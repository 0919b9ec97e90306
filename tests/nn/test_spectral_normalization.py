"""SpectralNormalization: sigma is W's largest singular value, its gradient (u held) matches finite
differences, u moves only in training, and a model with it trains, saves and resumes bit-identically."""

from __future__ import annotations

import numpy as np
import pytest

from minigan import backend, nn, optim
from minigan.gradcheck import check_layer
from minigan.nn.label_maps import LabelMapConv2D
from minigan.training import checkpoint

WRAPPED = [
    pytest.param(lambda: nn.Dense(4), (3, 5), -1, id="dense"),
    pytest.param(lambda: nn.Conv2D(3, 3, 2, "same"), (2, 5, 6, 2), -1, id="conv2d"),
    pytest.param(lambda: nn.Conv2D(2, (2, 3), 1, "valid", use_bias=False), (2, 4, 5, 3), -1, id="conv2d-valid"),
    pytest.param(lambda: nn.Conv2DTranspose(3, 4, 2, "same"), (2, 3, 4, 2), 2, id="conv2d_transpose"),
]


def kernel_matrix(kernel: np.ndarray, axis: int) -> np.ndarray:
    """The kernel as (everything else, output channels)."""
    return np.moveaxis(kernel, axis, -1).reshape(-1, kernel.shape[axis])


def top_singular_value(matrix: np.ndarray) -> float:
    return float(np.linalg.svd(matrix, compute_uv=False)[0])


@pytest.mark.parametrize(("make", "shape", "axis"), WRAPPED)
def test_the_kernel_is_divided_by_the_largest_singular_value_of_its_output_channel_matrix(make, shape, axis, float64):
    layer = nn.SpectralNormalization(make())
    x = np.random.default_rng(0).standard_normal(shape)
    for _ in range(60):  # 60 power iterations
        layer.forward(x)
        layer.discard()
    layer.forward(x, training=False)
    w, w_sn = layer.params["kernel"], layer.layer.params["kernel"]
    sigma = top_singular_value(kernel_matrix(w, axis))
    np.testing.assert_allclose(w_sn, w / sigma, rtol=1e-8)
    assert top_singular_value(kernel_matrix(w_sn, axis)) == pytest.approx(1, rel=1e-8)
    if axis == 2:  # Keras' own wrapper's matrix (the last axis, C, as columns) has another norm
        assert abs(top_singular_value(kernel_matrix(w_sn, -1)) - 1) > 0.05


@pytest.mark.parametrize("power_iterations", [1, 3])
@pytest.mark.parametrize(("make", "shape", "axis"), WRAPPED)
def test_gradients_with_u_held_match_finite_differences(make, shape, axis, power_iterations):
    """check_layer puts u back before every forward: the function the backward differentiated."""
    layer = nn.SpectralNormalization(make(), power_iterations=power_iterations)
    x = np.random.default_rng(1).standard_normal(shape)
    report = check_layer(layer, x)
    assert {c.name for c in report.checks} == {"x", *layer.params}
    report.assert_ok()


def test_without_u_held_the_finite_differences_would_differ(float64):
    """The training forward moves u after using it; differences over forwards that each start from a
    moved u differentiate another function: the check above is not vacuous."""
    layer = nn.SpectralNormalization(nn.Dense(3), power_iterations=1)
    x = np.random.default_rng(1).standard_normal((4, 5))
    first = layer.forward(x)
    layer.discard()
    assert not np.allclose(layer.forward(x), first, rtol=1e-6)


def test_u_moves_in_training_only_and_inference_sees_what_training_saw(rng):
    layer = nn.SpectralNormalization(nn.Conv2D(4, 3), power_iterations=1)
    x = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    seen = layer.forward(x, training=False)
    u = layer.state["vector_u"].copy()
    np.testing.assert_array_equal(layer.forward(x, training=False), seen)
    np.testing.assert_array_equal(layer.state["vector_u"], u)
    trained = layer.forward(x)
    layer.discard()
    np.testing.assert_array_equal(trained, seen)  # the same function of x, W, b and the stored u
    assert not np.array_equal(layer.state["vector_u"], u)
    assert layer.state["vector_u"].dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(layer.state["vector_u"]), 1, rtol=1e-6)


@pytest.mark.parametrize(
    ("layer", "name"),
    [
        (nn.ReLU(), "ReLU"),
        (nn.BatchNormalization(), "BatchNormalization"),
        (LabelMapConv2D(4, 3), "LabelMapConv2D"),
        (nn.Sequential([nn.Dense(2)]), "Sequential"),
        ("dense", "str"),
    ],
)
def test_only_dense_and_convolution_layers_are_wrapped(layer, name):
    with pytest.raises(ValueError, match=f"SpectralNormalization: expected a Dense, Conv2D or Conv2DTranspose layer, "
                                         f"got {name}"):
        nn.SpectralNormalization(layer)


def test_bad_power_iterations_and_epsilon_are_refused():
    with pytest.raises(ValueError, match="expected power_iterations >= 1, got 0"):
        nn.SpectralNormalization(nn.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="expected epsilon > 0, got 0"):
        nn.SpectralNormalization(nn.Dense(2), epsilon=0)


def test_a_built_layer_is_wrapped_as_built_and_a_mismatched_input_is_refused():
    layer = nn.SpectralNormalization(nn.Dense(2, input_shape=(3,)))
    assert layer.built and layer.params["kernel"].shape == (3, 2) and layer.state["vector_u"].shape == (2,)
    with pytest.raises(ValueError, match=r"spectral_normalization: expected input of shape \(batch, 3\)"):
        layer.forward(np.zeros((1, 4), np.float32))


def critic() -> nn.Sequential:
    return nn.Sequential(
        [
            nn.SpectralNormalization(nn.Conv2D(3, 3, 2, "same")),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.SpectralNormalization(nn.Dense(1)),
        ],
        input_shape=(6, 6, 2),
    )


def test_in_a_sequential_the_optimizer_updates_the_raw_kernel_under_the_wrappers_name(rng):
    model = critic()
    assert list(model.params) == [
        "spectral_normalization/kernel", "spectral_normalization/bias",
        "spectral_normalization_1/kernel", "spectral_normalization_1/bias",
    ]
    assert list(model.state) == ["spectral_normalization/vector_u", "spectral_normalization_1/vector_u"]
    wrapper = model.layers[0]
    assert model.params["spectral_normalization/kernel"] is wrapper.params["kernel"]
    assert model.params["spectral_normalization/bias"] is wrapper.layer.params["bias"]
    kernel = wrapper.params["kernel"]
    before = kernel.copy()
    opt = optim.Adam(model, 1e-2)
    x = rng.standard_normal((4, 6, 6, 2)).astype(np.float32)
    model.backward(np.ones_like(model.forward(x)), input_grad=False)
    assert all(np.abs(g).max() > 0 for g in model.grads.values())
    opt.step()
    assert model.params["spectral_normalization/kernel"] is kernel and not np.array_equal(kernel, before)
    model.forward(x, training=False)
    assert not np.allclose(wrapper.layer.params["kernel"], kernel)  # the wrapped layer runs W / sigma


def test_a_frozen_wrapper_passes_the_input_gradient_and_adds_none_and_input_grad_false_adds_the_same(rng):
    model = critic()
    x = rng.standard_normal((3, 6, 6, 2)).astype(np.float32)
    state = {k: u.copy() for k, u in model.state.items()}
    model.forward(x)
    model.backward(np.ones((3, 1), np.float32))
    full = {k: g.copy() for k, g in model.grads.items()}
    model.zero_grad()
    for key, u in state.items():
        model.state[key][...] = u  # the same u as the first forward
    model.forward(x)
    assert model.backward(np.ones((3, 1), np.float32), input_grad=False) is None
    for key, grad in model.grads.items():
        np.testing.assert_allclose(grad, full[key], rtol=1e-6, err_msg=key)
    model.zero_grad()
    model.trainable = False
    assert not model.layers[0].layer.trainable
    model.forward(x)
    assert np.abs(model.backward(np.ones((3, 1), np.float32))).max() > 0
    assert all(not g.any() for g in model.grads.values())


def train(model: nn.Sequential, opt: optim.Optimizer, steps: range, data: np.ndarray) -> None:
    for step in steps:
        model.zero_grad()
        x = data[step % len(data)]
        model.backward(model.forward(x) - 1, input_grad=False)
        opt.step()


def test_checkpoint_round_trip_keeps_u_and_a_resumed_training_is_bit_identical(tmp_path):
    data = np.random.default_rng(5).standard_normal((4, 3, 6, 6, 2)).astype(np.float32)
    backend.seed(1)
    straight = critic()
    straight_opt = optim.Adam(straight, 1e-3)
    train(straight, straight_opt, range(3), data)
    path = tmp_path / "critic.npz"
    checkpoint.save(path, {"critic": straight}, {"critic": straight_opt}, {"step": 3})
    train(straight, straight_opt, range(3, 7), data)

    backend.seed(2)  # another initial W and u: all of it must come from the file
    resumed = critic()
    resumed_opt = optim.Adam(resumed, 1e-3)
    loaded = checkpoint.load(path)
    assert {k for k in loaded.arrays if "vector_u" in k} == {
        "model/critic/state/spectral_normalization/vector_u", "model/critic/state/spectral_normalization_1/vector_u"
    }
    loaded.restore_model("critic", resumed)
    loaded.restore_optimizer("critic", resumed_opt)
    train(resumed, resumed_opt, range(3, 7), data)
    for kind in ("params", "state"):
        for key, value in getattr(straight, kind).items():
            np.testing.assert_array_equal(getattr(resumed, kind)[key], value, err_msg=key)
