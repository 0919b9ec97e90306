"""Forward passes agree with their direct definitions: loops, adjoints and formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigan import backend, nn
from minigan.nn.conv.geometry import conv_padding, transpose_output_length

FORWARD = settings(max_examples=25, deadline=None, derandomize=True)


def naive_conv2d(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, stride: int, padding: str) -> np.ndarray:
    """Cross-correlation by explicit loops over every output pixel (the definition)."""
    n, h, w, _ = x.shape
    kh, kw, _, f = kernel.shape
    top, bottom = conv_padding(h, kh, stride, padding)
    left, right = conv_padding(w, kw, stride, padding)
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    ho = (xp.shape[1] - kh) // stride + 1
    wo = (xp.shape[2] - kw) // stride + 1
    y = np.zeros((n, ho, wo, f))
    for p in range(ho):
        for q in range(wo):
            patch = xp[:, p * stride : p * stride + kh, q * stride : q * stride + kw, :]
            y[:, p, q, :] = np.tensordot(patch, kernel, axes=([1, 2, 3], [0, 1, 2])) + bias
    return y


geometry = st.fixed_dictionaries(
    {
        "batch": st.integers(1, 3),
        "size": st.integers(1, 8),
        "channels": st.integers(1, 3),
        "filters": st.integers(1, 3),
        "kernel": st.integers(1, 5),
        "stride": st.integers(1, 2),
        "padding": st.sampled_from(["same", "valid"]),
    }
)


@FORWARD
@given(g=geometry)
def test_conv2d_matches_a_loop_convolution(g):
    size = max(g["size"], g["kernel"])
    x = np.random.default_rng(0).standard_normal((g["batch"], size, size + 2, g["channels"]))
    layer = nn.Conv2D(g["filters"], g["kernel"], g["stride"], g["padding"])
    with backend.default_float("float64"):
        layer.build_for(x.shape[1:])
    layer.params["bias"][...] = np.arange(g["filters"])
    y = layer.forward(x, training=False)
    expected = naive_conv2d(x, layer.params["kernel"], layer.params["bias"], g["stride"], g["padding"])
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-12)


@FORWARD
@given(g=geometry, output_padding=st.sampled_from([None, 1]))
def test_conv2d_transpose_is_the_adjoint_of_conv2d(g, output_padding):
    """<Conv2D_K(x), y> = <x, Conv2DTranspose_K(y)> for the same kernel K, strides and padding."""
    if output_padding is not None and output_padding >= g["stride"]:
        output_padding = None
    rng = np.random.default_rng(1)
    y = rng.standard_normal((g["batch"], g["size"], g["size"] + 1, g["filters"]))
    transpose = nn.Conv2DTranspose(g["channels"], g["kernel"], g["stride"], g["padding"], output_padding, False)
    with backend.default_float("float64"):
        transpose.build_for(y.shape[1:])
    out_shape = transpose.output_shape(y.shape[1:])
    conv = nn.Conv2D(g["filters"], g["kernel"], g["stride"], g["padding"], use_bias=False)
    with backend.default_float("float64"):
        conv.build_for(out_shape)
    assert conv.output_shape(out_shape) == y.shape[1:]
    conv.params["kernel"][...] = transpose.params["kernel"]  # (kh, kw, C, F) for both
    x = rng.standard_normal((g["batch"], *out_shape))
    lhs = np.vdot(conv.forward(x, training=False), y)
    rhs = np.vdot(x, transpose.forward(y, training=False))
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-10)


def test_conv2d_transpose_matches_a_scatter_loop():
    """Each input pixel adds x[n, p, q, :] . K[i, j, f, :] into output pixel (p*s + i - top, q*s + j - left)."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 4, 2))
    layer = nn.Conv2DTranspose(3, 5, strides=2, padding="same")
    with backend.default_float("float64"):
        layer.build_for(x.shape[1:])
    layer.params["bias"][...] = [0.5, -1.0, 2.0]
    kernel = layer.params["kernel"]
    out = np.zeros((2, 3 * 2 + 5, 4 * 2 + 5, 3))
    for p in range(3):
        for q in range(4):
            out[:, 2 * p : 2 * p + 5, 2 * q : 2 * q + 5, :] += np.einsum("nc,ijfc->nijf", x[:, p, q, :], kernel)
    top, left = conv_padding(6, 5, 2, "same")[0], conv_padding(8, 5, 2, "same")[0]
    expected = out[:, top : top + 6, left : left + 8, :] + layer.params["bias"]
    np.testing.assert_allclose(layer.forward(x, training=False), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("n", "k", "s", "expected"),
    [(28, 5, 2, (1, 2)), (14, 5, 2, (1, 2)), (7, 5, 1, (2, 2)), (8, 4, 2, (1, 1)), (5, 2, 1, (0, 1))],
)
def test_same_padding_puts_the_odd_extra_row_after_as_tensorflow_does(n, k, s, expected):
    assert conv_padding(n, k, s, "same") == expected


@pytest.mark.parametrize(
    ("n", "k", "s", "padding", "output_padding", "expected"),
    [
        (7, 5, 2, "same", None, 14),
        (7, 5, 2, "valid", None, 17),
        (7, 3, 2, "valid", 1, 16),
        (7, 5, 2, "same", 1, 14),
        (7, 5, 2, "same", 0, 13),
        (7, 1, 2, "valid", None, 14),
    ],
)
def test_transposed_output_sizes_follow_keras(n, k, s, padding, output_padding, expected):
    assert transpose_output_length(n, k, s, padding, output_padding) == expected
    layer = nn.Conv2DTranspose(2, k, s, padding, output_padding=output_padding, input_shape=(n, n, 3))
    assert layer.output_shape((n, n, 3)) == (expected, expected, 2)
    assert layer.forward(np.zeros((1, n, n, 3), np.float32), training=False).shape == (1, expected, expected, 2)


def test_conv2d_transpose_rejects_an_output_size_no_conv2d_maps_back():
    with pytest.raises(ValueError, match="adjoint"):
        nn.Conv2DTranspose(2, 4, strides=2, padding="same", output_padding=0, input_shape=(5, 5, 1))


def test_batchnorm_training_normalises_each_channel_over_batch_height_and_width(rng):
    x = rng.standard_normal((6, 4, 5, 3)) * [1.0, 5.0, 0.1] + [0.0, 10.0, -3.0]
    layer = nn.BatchNormalization(epsilon=1e-3)
    with backend.default_float("float64"):
        layer.build_for(x.shape[1:])
    layer.params["gamma"][...] = [1.0, 2.0, 0.5]
    layer.params["beta"][...] = [0.0, -1.0, 3.0]
    y = layer.forward(x, training=True)
    mu = x.mean(axis=(0, 1, 2))
    var = x.var(axis=(0, 1, 2))
    expected = (x - mu) / np.sqrt(var + 1e-3) * [1.0, 2.0, 0.5] + [0.0, -1.0, 3.0]
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.state["moving_mean"], 0.01 * mu)
    np.testing.assert_allclose(layer.state["moving_variance"], 0.99 + 0.01 * var)


def test_batchnorm_inference_uses_the_moving_statistics(rng):
    layer = nn.BatchNormalization(momentum=0.5, epsilon=1e-3)
    with backend.default_float("float64"):
        layer.build_for((2,))
    batches = [rng.standard_normal((8, 2)) * 3 + 1 for _ in range(3)]
    for batch in batches:
        layer.forward(batch, training=True)
        layer.discard()
    mean, variance = np.zeros(2), np.ones(2)
    for batch in batches:
        mean = 0.5 * mean + 0.5 * batch.mean(axis=0)
        variance = 0.5 * variance + 0.5 * batch.var(axis=0)
    x = rng.standard_normal((4, 2))
    np.testing.assert_allclose(layer.forward(x, training=False), (x - mean) / np.sqrt(variance + 1e-3), rtol=1e-10)


def test_dropout_is_inverted_seeded_and_identity_at_inference():
    x = np.ones((200, 50), dtype=np.float32)
    layer = nn.Dropout(0.3)
    backend.seed(5)
    y = layer.forward(x, training=True)
    layer.discard()
    kept = y != 0
    assert abs(layer.keep_probability - 0.7) <= 2**-17  # the rate, rounded to a 16-bit threshold
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(y[kept], 1 / layer.keep_probability, rtol=1e-6)
    assert abs(y.mean() - 1) < 0.03  # inverted: E[y] = x
    assert y.dtype == np.float32
    backend.seed(5)
    np.testing.assert_array_equal(layer.forward(x, training=True), y)
    np.testing.assert_array_equal(layer.forward(x, training=False), x)


def test_dense_is_x_times_kernel_plus_bias(rng):
    layer = nn.Dense(3, input_shape=(4,))
    layer.params["bias"][...] = [1, 2, 3]
    x = rng.standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(layer.forward(x), x @ layer.params["kernel"] + [1, 2, 3], rtol=1e-6)


@pytest.mark.parametrize(
    ("name", "shape", "fan_in", "fan_out"),
    [("glorot_uniform", (64, 32), 64, 32), ("he_normal", (5, 5, 16, 32), 400, 800)],
)
def test_initialisers_have_the_keras_spread(name, shape, fan_in, fan_out):
    from minigan.nn import initializers

    w = initializers.get(name)(shape, np.dtype(np.float32))
    assert w.dtype == np.float32 and w.shape == shape
    if name == "glorot_uniform":
        limit = math.sqrt(6 / (fan_in + fan_out))
        assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit
    else:
        std = math.sqrt(2 / fan_in)
        assert np.abs(w).max() <= 2 * std / 0.8796 + 1e-6
        assert w.std() == pytest.approx(std, rel=0.05)


def test_dcgan_normal_initialiser_has_std_0_02():
    w = nn.Conv2D(64, 5, kernel_initializer="dcgan_normal", input_shape=(28, 28, 8)).params["kernel"]
    assert w.std() == pytest.approx(0.02, rel=0.05) and abs(w.mean()) < 1e-3
