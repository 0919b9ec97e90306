"""The Layer contract: building, one forward per backward, params/grads, clear errors, float32."""

from __future__ import annotations

import numpy as np
import pytest

from minigan import backend, models, nn


def test_summary_counts_parameters_as_keras_does_for_the_tutorial_generator():
    text = models.dcgan_generator().summary(print_fn=lambda s: None)
    assert "Total params: 2,330,944" in text
    assert "Trainable params: 2,305,472" in text
    assert "(None, 28, 28, 1)" in text


def test_layers_build_from_the_first_input_shape():
    layer = nn.Conv2D(4, 3)
    assert not layer.built and layer.params == {}
    layer.forward(np.zeros((2, 6, 6, 5), np.float32), training=False)
    assert layer.params["kernel"].shape == (3, 3, 5, 4)
    assert set(layer.grads) == set(layer.params) == {"kernel", "bias"}


def test_sequential_merges_params_and_grads_under_unique_layer_names():
    model = nn.Sequential([nn.Dense(3), nn.ReLU(), nn.Dense(2, use_bias=False)], input_shape=(4,))
    assert list(model.params) == ["dense/kernel", "dense/bias", "dense_1/kernel"]
    assert model.params.keys() == model.grads.keys()
    assert model.params["dense_1/kernel"] is model.layers[2].params["kernel"]


def test_a_second_training_forward_before_backward_is_refused():
    discriminator = nn.Sequential([nn.Dense(1)], input_shape=(3,))
    real, fake = np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)
    discriminator.forward(real)
    with pytest.raises(RuntimeError, match="dense: forward\\(training=True\\) called again before backward"):
        discriminator.forward(fake)


def test_backward_uses_its_own_forward_when_real_and_fake_alternate(rng):
    layer = nn.Dense(1, input_shape=(3,))
    real = rng.standard_normal((2, 3)).astype(np.float32)
    fake = rng.standard_normal((2, 3)).astype(np.float32)
    dy = np.ones((2, 1), np.float32)
    layer.forward(real)
    layer.backward(dy)
    layer.forward(fake)
    layer.backward(dy)
    np.testing.assert_allclose(layer.grads["kernel"], (real.T @ dy) + (fake.T @ dy), rtol=1e-6)


def test_backward_without_forward_and_discard_are_explicit():
    layer = nn.Tanh()
    with pytest.raises(RuntimeError, match="without a forward"):
        layer.backward(np.ones((1, 2), np.float32))
    layer.forward(np.ones((1, 2), np.float32))
    layer.discard()
    layer.forward(np.ones((1, 2), np.float32))  # allowed again after discard()
    layer.forward(np.ones((1, 2), np.float32), training=False)  # inference keeps nothing


def test_gradients_accumulate_until_zeroed(rng):
    layer = nn.Dense(2, input_shape=(3,))
    x = rng.standard_normal((4, 3)).astype(np.float32)
    dy = rng.standard_normal((4, 2)).astype(np.float32)
    for _ in range(2):
        layer.forward(x)
        layer.backward(dy)
    np.testing.assert_allclose(layer.grads["kernel"], 2 * x.T @ dy, rtol=1e-5)
    layer.zero_grad()
    assert not layer.grads["kernel"].any()


def test_a_frozen_layer_passes_the_input_gradient_but_keeps_its_own_zero(rng):
    model = nn.Sequential([nn.Conv2D(2, 3), nn.Flatten(), nn.Dense(1)], input_shape=(5, 5, 1))
    model.trainable = False
    x = rng.standard_normal((2, 5, 5, 1)).astype(np.float32)
    model.forward(x)
    dx = model.backward(np.ones((2, 1), np.float32))
    assert dx.shape == x.shape and np.abs(dx).sum() > 0
    assert all(not g.any() for g in model.grads.values())


def _two_input_model():
    return nn.Sequential([nn.Parallel([nn.Dense(3), nn.Sequential()]), nn.Dense(1)])


@pytest.mark.parametrize(
    ("make", "inputs"),
    [
        (lambda: nn.Dense(3), [(4, 5)]),
        (lambda: nn.Conv2D(3, 3, 2, "same"), [(2, 7, 7, 2)]),
        (lambda: nn.Conv2DTranspose(3, 5, 2, "same"), [(2, 4, 4, 2)]),
        (lambda: nn.Conv2DTranspose(3, 3, 1, "same", use_bias=False), [(2, 4, 4, 2)]),
        (lambda: nn.Conv2DTranspose(32, 5, 1, "same", algorithm="fourier"), [(2, 7, 7, 32)]),
        (lambda: nn.Conv2DTranspose(64, 5, 2, "same", algorithm="fourier"), [(2, 7, 7, 128)]),  # by phases
        (lambda: nn.Conv2D(128, 5, 2, "same", algorithm="fourier"), [(2, 14, 14, 64)]),  # as the adjoint
        (lambda: nn.Conv2D(3, 3, 1, "same", algorithm="kernel_rows"), [(2, 5, 5, 2)]),
        (lambda: nn.Conv2DTranspose(3, 4, 1, "valid", algorithm="whole_image"), [(2, 1, 1, 2)]),
        (lambda: nn.Conv2D(3, 4, 2, "same", algorithm="subpixel"), [(2, 6, 6, 2)]),
        (lambda: nn.Conv2DTranspose(3, 4, 2, "same", algorithm="winograd"), [(2, 4, 4, 2)]),
        (lambda: nn.Conv2DTranspose(3, 4, 2, "same", algorithm="planes"), [(2, 4, 4, 2)]),
        (lambda: nn.Conv2DTranspose(3, 5, 2, "same", algorithm="reference"), [(2, 4, 4, 2)]),
        (lambda: nn.Sequential([nn.Conv2D(2, 3), nn.LeakyReLU(), nn.Flatten(), nn.Dense(1)]), [(2, 6, 6, 1)]),
        (_two_input_model, [(4, 5), (4, 2)]),
    ],
)
def test_backward_without_the_input_gradient_returns_none_and_the_same_parameter_gradients(make, inputs, rng):
    layer = make()
    xs = [rng.standard_normal(shape).astype(np.float32) for shape in inputs]
    x = xs if len(xs) > 1 else xs[0]
    dy = rng.standard_normal(layer.forward(x, training=False).shape).astype(np.float32)
    layer.forward(x)
    assert layer.backward(dy) is not None
    full = {k: g.copy() for k, g in layer.grads.items()}
    layer.zero_grad()
    layer.forward(x)
    assert layer.backward(dy, input_grad=False) is None
    assert full and all(np.abs(g).max() > 0 for g in full.values())
    for key, grad in layer.grads.items():
        np.testing.assert_array_equal(grad, full[key], err_msg=key)


@pytest.mark.parametrize(
    ("layer", "x", "message"),
    [
        (nn.Conv2D(4, 3), np.zeros((2, 6, 6), np.float32), "conv2d: expected input of rank 4"),
        (nn.Dense(4), np.zeros((2, 3, 3, 1), np.float32), "dense: expected input of rank 2"),
        (nn.Dense(4), np.zeros((2, 3), np.int64), "dense: expected a floating-point array, got int64"),
        (nn.Reshape((4, 4)), np.zeros((2, 15), np.float32), "reshape: cannot reshape"),
        (nn.Conv2D(1, 5), np.zeros((1, 3, 3, 1), np.float32), "smaller than the kernel"),
    ],
)
def test_bad_input_names_the_layer_and_says_expected_vs_got(layer, x, message):
    with pytest.raises(ValueError, match=message):
        layer.forward(x)


def test_input_that_no_longer_matches_the_built_parameters_is_refused():
    layer = nn.Conv2D(4, 3)
    layer.forward(np.zeros((2, 6, 6, 3), np.float32), training=False)
    with pytest.raises(ValueError, match=r"conv2d: expected input of shape \(batch, 6, 6, 3\), got \(2, 6, 6, 1\)"):
        layer.forward(np.zeros((2, 6, 6, 1), np.float32))


def test_float64_input_to_a_float32_layer_is_refused_not_silently_upcast():
    layer = nn.Dense(2, input_shape=(3,))
    with pytest.raises(ValueError, match="dense: expected float32 input .* got float64"):
        layer.forward(np.zeros((1, 3)))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: nn.Conv2D(4, 3, padding="full"), "expected padding 'valid' or 'same'"),
        (lambda: nn.Dense(0), "expected units >= 1"),
        (lambda: nn.Dropout(1.0), "expected 0 <= rate < 1"),
        (lambda: nn.Conv2DTranspose(4, 3, strides=2, output_padding=2), "output_padding < strides"),
        (lambda: nn.Dense(2, kernel_initializer="nope"), "unknown initializer"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_the_generator_and_discriminator_stay_float32_end_to_end(rng):
    generator = models.dcgan_generator()
    discriminator = nn.Sequential(
        [nn.Conv2D(64, 5, 2, "same"), nn.LeakyReLU(), nn.Dropout(0.3), nn.Flatten(), nn.Dense(1)],
        input_shape=(28, 28, 1),
    )
    z = rng.standard_normal((3, 100)).astype(np.float32)
    images = generator.forward(z)
    logits = discriminator.forward(images)
    dz = generator.backward(discriminator.backward(np.ones_like(logits)))
    arrays = [images, logits, dz, *generator.params.values(), *generator.grads.values(), *generator.state.values()]
    arrays += [*discriminator.params.values(), *discriminator.grads.values()]
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}


def test_layers_build_in_float64_inside_default_float():
    with backend.default_float("float64"):
        layer = nn.Dense(2, input_shape=(3,))
    assert layer.params["kernel"].dtype == np.float64
    assert backend.floatx() == np.float32
