"""Every analytic gradient of every layer agrees with central finite differences (float64).

Hypothesis draws the shapes: kernel sizes 1-5, strides 1-2, both paddings, batch 1-8.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigan import backend, losses, models, nn
from minigan.gradcheck import check_gradients, check_layer

GRADCHECK = settings(max_examples=25, deadline=None, derandomize=True)
MAX_ENTRIES = 150  # entries checked per tensor: a random subset of larger tensors


def _check(layer: nn.Layer, shape: tuple[int, ...], seed: int = 0) -> None:
    x = np.random.default_rng(seed).standard_normal(shape)
    with backend.default_float("float64"):
        report = check_layer(layer, x, max_entries=MAX_ENTRIES, seed=seed)
    assert {c.name for c in report.checks} == {"x", *layer.params}
    report.assert_ok()


conv_geometry = st.fixed_dictionaries(
    {
        "batch": st.integers(1, 8),
        "size": st.integers(1, 7),
        "channels": st.integers(1, 3),
        "filters": st.integers(1, 3),
        "kernel": st.integers(1, 5),
        "stride": st.integers(1, 2),
        "padding": st.sampled_from(["same", "valid"]),
        "use_bias": st.booleans(),
    }
)


@GRADCHECK
@given(g=conv_geometry)
def test_conv2d_gradients_match_finite_differences(g):
    size = max(g["size"], g["kernel"]) if g["padding"] == "valid" else g["size"]
    layer = nn.Conv2D(g["filters"], g["kernel"], g["stride"], g["padding"], use_bias=g["use_bias"])
    _check(layer, (g["batch"], size, size + 1, g["channels"]))


@GRADCHECK
@given(g=conv_geometry, output_padding=st.sampled_from([None, 0, 1]))
def test_conv2d_transpose_gradients_match_finite_differences(g, output_padding):
    if output_padding is not None and output_padding >= g["stride"]:
        output_padding = None
    if output_padding == 0 and g["padding"] == "same" and g["kernel"] % 2 == 0:
        output_padding = None  # that size is not the adjoint of any Conv2D (checked elsewhere)
    layer = nn.Conv2DTranspose(
        g["filters"], g["kernel"], g["stride"], g["padding"], output_padding=output_padding, use_bias=g["use_bias"]
    )
    _check(layer, (g["batch"], g["size"], g["size"] + 1, g["channels"]))


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda: nn.Conv2DTranspose(3, 5, 1, "same", algorithm="fourier"), (2, 7, 7, 3)),
        (lambda: nn.Conv2DTranspose(3, (3, 5), 1, "valid", algorithm="fourier"), (2, 4, 5, 2)),
        (lambda: nn.Conv2DTranspose(3, 4, 1, "same", algorithm="fourier"), (2, 5, 6, 2)),
        (lambda: nn.Conv2DTranspose(3, 5, 2, "same", algorithm="fourier"), (2, 3, 4, 2)),  # by output phases
        (lambda: nn.Conv2D(3, 5, 2, "same", algorithm="fourier"), (2, 6, 8, 2)),  # the adjoint
        (lambda: nn.Conv2D(2, (4, 3), (2, 3), "valid", use_bias=False, algorithm="fourier"), (2, 6, 9, 2)),
        (lambda: nn.Conv2DTranspose(3, 3, 1, "same", algorithm="kernel_rows"), (2, 4, 5, 2)),
        (lambda: nn.Conv2D(3, 3, 1, "same", algorithm="kernel_rows"), (2, 4, 5, 2)),
        (lambda: nn.Conv2DTranspose(3, (3, 2), 1, "valid", algorithm="whole_image"), (2, 1, 1, 4)),
        (lambda: nn.Conv2D(3, (3, 2), 2, "valid", algorithm="whole_image"), (2, 3, 2, 4)),
        (lambda: nn.Conv2DTranspose(3, 4, 2, "same", algorithm="subpixel"), (2, 3, 4, 2)),
        (lambda: nn.Conv2D(3, (4, 3), (2, 3), "same", algorithm="subpixel"), (2, 6, 7, 2)),  # the adjoint, zero taps
        (lambda: nn.Conv2D(3, 4, 2, "same", algorithm="winograd"), (2, 14, 13, 2)),  # 4x4 tiles past the edge
        (lambda: nn.Conv2DTranspose(3, (4, 6), (2, 3), "valid", algorithm="winograd"), (2, 3, 2, 2)),  # 2x2 tiles
        (lambda: nn.Conv2D(2, (4, 3), (2, 3), "same", algorithm="planes"), (2, 6, 7, 3)),  # its input gradient
    ],
)
def test_fast_conv_algorithms_gradients_match_finite_differences(make, shape):
    _check(make(), shape)


@GRADCHECK
@given(batch=st.integers(1, 8), features=st.integers(1, 6), units=st.integers(1, 5), use_bias=st.booleans())
def test_dense_gradients_match_finite_differences(batch, features, units, use_bias):
    _check(nn.Dense(units, use_bias=use_bias), (batch, features))


@GRADCHECK
@given(batch=st.integers(2, 8), features=st.integers(1, 5))
def test_batchnorm_after_dense_gradients_match_finite_differences(batch, features):
    _check(nn.BatchNormalization(), (batch, features))


@GRADCHECK
@given(batch=st.integers(1, 8), size=st.integers(2, 4), channels=st.integers(1, 4))
def test_batchnorm_after_conv_gradients_match_finite_differences(batch, size, channels):
    _check(nn.BatchNormalization(), (batch, size, size, channels))


def test_batchnorm_with_trained_gamma_and_beta_gradients_match(rng):
    # gamma = 1 and beta = 0 at initialisation would hide a backward that forgets gamma.
    layer = nn.BatchNormalization()
    with backend.default_float("float64"):
        layer.build_for((3, 3, 4))
    layer.params["gamma"][...] = rng.uniform(0.5, 2.0, 4)
    layer.params["beta"][...] = rng.standard_normal(4)
    _check(layer, (4, 3, 3, 4))


ELEMENTWISE = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "leaky_relu_0.2": lambda: nn.LeakyReLU(alpha=0.2),
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "dropout_0.3": lambda: nn.Dropout(0.3),
    "dropout_0": lambda: nn.Dropout(0.0),
}


@pytest.mark.parametrize("make", ELEMENTWISE.values(), ids=ELEMENTWISE.keys())
@pytest.mark.parametrize("shape", [(1, 5), (4, 3, 3, 2)])
def test_elementwise_layer_gradients_match_finite_differences(make, shape):
    _check(make(), shape)


@pytest.mark.parametrize("make", [nn.Flatten, lambda: nn.Reshape((3, 8))], ids=["flatten", "reshape"])
def test_shape_layer_gradients_match_finite_differences(make):
    _check(make(), (3, 2, 3, 4))


def test_sigmoid_is_stable_and_exact_for_large_inputs():
    y = nn.Sigmoid().forward(np.array([[-1e4, -30.0, 0.0, 30.0, 1e4]], dtype=np.float32), training=False)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, [[0.0, 1 / (1 + np.exp(30)), 0.5, 1 / (1 + np.exp(-30)), 1.0]], atol=1e-7)


def test_whole_dcgan_generator_to_discriminator_to_loss_gradients_match(rng):
    """d loss / d z and d loss / d every parameter of G and D, through BN and dropout in training mode."""
    with backend.default_float("float64"):  # the tutorial's DCGAN at a few channels and 8x8 images
        generator = models.dcgan_generator(latent_dim=6, image_shape=(8, 8, 1), channels=(4, 3, 2))
        discriminator = models.dcgan_discriminator(image_shape=(8, 8, 1), channels=(2, 3))
    for bn in (layer for layer in generator.layers if isinstance(layer, nn.BatchNormalization)):
        bn.params["gamma"][...] = rng.uniform(0.5, 1.5, bn.params["gamma"].shape)
        bn.params["beta"][...] = 0.1 * rng.standard_normal(bn.params["beta"].shape)
    z = rng.standard_normal((4, 6))
    targets = np.array([[1.0], [0.0], [1.0], [0.9]])

    def loss() -> float:
        backend.seed(7)
        value, _ = losses.bce_with_logits(discriminator.forward(generator.forward(z)), targets)
        generator.discard()
        discriminator.discard()
        return float(value)

    backend.seed(7)
    value, dlogits = losses.bce_with_logits(discriminator.forward(generator.forward(z)), targets)
    generator.zero_grad()
    discriminator.zero_grad()
    dz = generator.backward(discriminator.backward(dlogits))
    analytic = {"z": dz, **{f"G/{k}": g for k, g in generator.grads.items()}}
    analytic.update({f"D/{k}": g for k, g in discriminator.grads.items()})
    tensors = {"z": z, **{f"G/{k}": p for k, p in generator.params.items()}}
    tensors.update({f"D/{k}": p for k, p in discriminator.params.items()})
    report = check_gradients(loss, analytic, tensors, max_entries=40)
    assert len(report.checks) == 1 + len(generator.params) + len(discriminator.params)
    report.assert_ok()


class _WrongTanh(nn.Tanh):
    """Tanh with a subtly wrong derivative: 1 - y instead of 1 - y^2."""

    def _backward(self, dy, y):
        return dy * (1 - y)


class _BatchNormWithoutMeanTerm(nn.BatchNormalization):
    """BatchNorm whose backward forgets the path through the batch mean."""

    def _backward(self, dy, cache):
        xhat, inv_std = cache
        axes = tuple(range(dy.ndim - 1))
        dgamma = (dy * xhat).sum(axis=axes)
        self.grads["gamma"] += dgamma
        self.grads["beta"] += dy.sum(axis=axes)
        m = dy.size // dy.shape[-1]
        return self.params["gamma"] * inv_std * (dy - xhat * (dgamma / m))


@pytest.mark.parametrize("make", [_WrongTanh, _BatchNormWithoutMeanTerm], ids=["tanh", "batchnorm"])
def test_gradient_check_catches_a_wrong_backward_pass(make):
    x = np.random.default_rng(0).standard_normal((4, 3, 3, 2))
    report = check_layer(make(), x)
    assert not report.ok
    assert "FAIL" in str(report)
    with pytest.raises(AssertionError, match="gradient check failed"):
        report.assert_ok()


def test_gradient_check_refuses_float32():
    with pytest.raises(ValueError, match="float64"):
        check_layer(nn.Dense(2), np.ones((2, 3), dtype=np.float32))
