"""The speed-ups compute exactly the readable formulas they replace.

col2im with a crop against col2im then crop, the Fourier path's pieces (its choice, its
phase kernel, its frequencies and grid) and its float32 accuracy at the DCGAN's sizes, the
in-place element-wise layers, the tall ``a^T b`` and the fused Adam update against their
docstring formulas (float64). Every convolution algorithm against the reference pair:
tests/nn/test_conv_algorithms.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from minigan import backend, nn, optim
from minigan.nn.conv.fast import fourier, patches
from minigan.nn.conv.geometry import Geometry
from minigan.nn.conv.reference import col2im, crop_hw, pad_hw
from minigan.nn.matmul import TALL_ROWS, a_bt, at_b, column_sums

RNG = np.random.default_rng(8)


def build(layer: nn.Layer, shape: tuple[int, ...]) -> np.ndarray:
    with backend.default_float("float64"):
        layer.build_for(shape[1:])
    for value in layer.params.values():
        value[...] = RNG.standard_normal(value.shape)
    return RNG.standard_normal(shape)


@pytest.mark.parametrize(
    ("kernel", "strides", "before", "after"),
    [((5, 5), (2, 2), (1, 1), (2, 2)), ((3, 4), (1, 3), (2, 0), (0, 3)), ((2, 3), (3, 2), (0, 2), (1, 0))],
)
def test_col2im_add_with_a_crop_equals_col2im_then_crop(kernel, strides, before, after) -> None:
    (kh, kw), (sh, sw) = kernel, strides
    cols = RNG.standard_normal((2, 4, 3, kh, kw, 2))
    padded = col2im(cols, (sh * 3 + kh, sw * 2 + kw), sh, sw)
    expected = crop_hw(padded, (before[0], after[0]), (before[1], after[1]))
    out = RNG.standard_normal(expected.shape)
    start = out.copy()
    patches.col2im_add(cols, out, sh, sw, before)
    np.testing.assert_allclose(out - start, expected, rtol=1e-12, atol=1e-12)


def test_fourier_path_in_float32_is_within_rounding_of_the_reference_at_the_dcgans_sizes() -> None:
    for make, shape in [
        (lambda a: nn.Conv2D(128, 5, 2, "same", algorithm=a), (2, 14, 14, 64)),  # D's second convolution
        (lambda a: nn.Conv2DTranspose(64, 5, 2, "same", algorithm=a), (2, 7, 7, 128)),  # G's second transposed one
    ]:
        fourier_layer, reference = make("auto"), make("reference")
        x = RNG.standard_normal(shape).astype(np.float32)
        y = fourier_layer.forward(x, training=False)
        reference.forward(x, training=False)
        reference.params["kernel"][...] = fourier_layer.params["kernel"]
        assert isinstance(fourier_layer.impl, fourier.Fourier) and y.dtype == np.float32
        np.testing.assert_allclose(y, reference.forward(x, training=False), rtol=0, atol=1e-5 * np.abs(y).max())


def test_fourier_path_is_taken_where_it_saves_work_only() -> None:
    def plan(layer: nn.Layer) -> fourier.Fourier | None:
        return layer.impl if isinstance(layer.impl, fourier.Fourier) else None

    assert plan(nn.Conv2DTranspose(128, 5, 1, "same", input_shape=(7, 7, 256))).blocks == 3 * 40 + 1  # 9x9, not 11x11
    assert plan(nn.Conv2DTranspose(64, 5, 2, "same", input_shape=(7, 7, 128))).blocks == 3 * 30 + 4  # 4 phases, 8x8
    assert plan(nn.Conv2D(128, 5, 2, "same", input_shape=(14, 14, 64))).blocks == 3 * 30 + 4  # the adjoint
    assert plan(nn.Conv2D(128, 5, 2, "same", input_shape=(15, 15, 64))) is None  # 15 is not a multiple of 2
    assert plan(nn.Conv2DTranspose(32, 1, 1, "same", input_shape=(4, 4, 32))) is None  # more work than im2col
    assert plan(nn.Conv2D(64, 4, 2, "same", input_shape=(32, 32, 32))) is None  # transforms of 256 pixels
    assert plan(nn.Conv2DTranspose(4, 5, 1, "same", input_shape=(7, 7, 8))) is None  # too few channels
    assert plan(nn.Conv2D(64, 5, 2, "same", input_shape=(28, 28, 1))) is None  # D's first convolution


@pytest.mark.parametrize("transposed", [True, False])
def test_phase_kernel_holds_each_tap_in_its_own_phase_block_and_zeros_elsewhere(transposed: bool) -> None:
    plan = fourier.Fourier(Geometry((6, 12), (3, 4), (5, 3), (2, 3), ((1, 2), (0, 0)), 4, 2), np.float32)
    kernel = RNG.standard_normal((5, 3, 4, 2)).astype(np.float32)
    for _ in range(3):  # leave NaN garbage in freed memory of the size the blocks take
        np.full((15, 6, 4, 2), np.nan, np.float32)
    taps = [(r * 3 + q) for r, _ in fourier.phase_taps(5, 2, 1) for q, _ in fourier.phase_taps(3, 3, 0)]
    for k in (kernel, 2 * kernel):  # a second call overwrites the taps of the first
        blocks = plan._phase_kernel(k, transposed)
        blocks = blocks if transposed else blocks.transpose(0, 2, 3, 1)  # (taps, phases, F, C)
        for t, phase in enumerate(taps):
            expected = np.zeros((6, 4, 2), np.float32)
            expected[phase] = k.reshape(15, 4, 2)[t]
            np.testing.assert_array_equal(blocks[t], expected)


@pytest.mark.parametrize("grid", [(9, 9), (8, 8), (8, 5), (1, 4), (6, 7)])
def test_frequencies_are_one_of_each_conjugate_pair_and_the_real_ones(grid: tuple[int, int]) -> None:
    complex_, real = fourier.frequencies(grid)
    mirror = (-complex_) % np.array(grid)
    cells = [tuple(f) for f in np.concatenate([complex_, mirror, real])]
    assert sorted(cells) == [(u, v) for u in range(grid[0]) for v in range(grid[1])]  # each frequency once
    assert np.all((2 * real) % np.array(grid) == 0)  # a real one is its own conjugate
    assert fourier.frequency_blocks(grid) == 3 * len(complex_) + len(real)


@pytest.mark.parametrize(("n", "k", "top", "kept"), [(7, 5, 2, 7), (4, 3, 0, 6), (9, 3, 2, 7), (5, 4, 1, 5)])
def test_grid_length_is_the_shortest_grid_without_wraparound(n: int, k: int, top: int, kept: int) -> None:
    x, kernel = RNG.standard_normal(n), RNG.standard_normal(k)
    wanted = np.convolve(x, kernel)[top : top + kept]
    s = fourier.grid_length(n, k, top, kept)

    def circular(size: int) -> np.ndarray:
        full = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(kernel, size), size)
        return np.concatenate([full, full])[top : top + kept]

    np.testing.assert_allclose(circular(s), wanted, atol=1e-12)
    if s > max(n, k):
        assert not np.allclose(circular(s - 1), wanted, atol=1e-12)


def test_leaky_relu_backward_is_dy_or_alpha_dy() -> None:
    layer = nn.LeakyReLU(0.2)
    x = build(layer, (4, 6))
    y = layer.forward(x)
    dy = RNG.standard_normal(x.shape)
    np.testing.assert_array_equal(y, np.where(x > 0, x, 0.2 * x))
    np.testing.assert_allclose(layer.backward(dy), np.where(x > 0, dy, 0.2 * dy), rtol=1e-15)


def test_batchnorm_in_place_passes_equal_the_formula() -> None:
    layer = nn.BatchNormalization(epsilon=1e-3)
    x = build(layer, (5, 2, 3, 4))
    y = layer.forward(x)
    dy = RNG.standard_normal(x.shape)
    layer.zero_grad()
    dx = layer.backward(dy)
    axes, gamma, beta = (0, 1, 2), layer.params["gamma"], layer.params["beta"]
    mu, var = x.mean(axis=axes), x.var(axis=axes)
    xhat = (x - mu) / np.sqrt(var + 1e-3)
    np.testing.assert_allclose(y, gamma * xhat + beta, rtol=1e-12)
    expected = gamma / np.sqrt(var + 1e-3) * (dy - dy.mean(axis=axes) - xhat * (dy * xhat).mean(axis=axes))
    np.testing.assert_allclose(dx, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.grads["gamma"], (dy * xhat).sum(axis=axes), rtol=1e-12)


@pytest.mark.parametrize(("m", "k", "n"), [(11, 3, 7), (11, 7, 3), (TALL_ROWS, 3, 7)])
def test_at_b_is_a_transpose_times_b_in_either_order(m: int, k: int, n: int) -> None:
    a, b = RNG.standard_normal((m, k)), RNG.standard_normal((m, n))
    np.testing.assert_allclose(at_b(a, b), a.T @ b, rtol=1e-12)


@pytest.mark.parametrize("k", [1, 3])
def test_a_bt_is_a_times_b_transpose_also_as_an_outer_product(k: int) -> None:
    a, b = RNG.standard_normal((5, k)), RNG.standard_normal((7, k))
    np.testing.assert_allclose(a_bt(a, b), a @ b.T, rtol=1e-12)


def test_column_sums_are_the_sums_over_rows() -> None:
    a = RNG.standard_normal((9, 4))
    np.testing.assert_allclose(column_sums(a), a.sum(axis=0), rtol=1e-12)


def test_fused_adam_step_equals_the_formula() -> None:
    layer = nn.Dense(3)
    build(layer, (2, 4))
    opt = optim.Adam(layer, lr=0.01, beta_1=0.8, beta_2=0.9, epsilon=1e-7)
    p0 = layer.params["kernel"].copy()
    m = np.zeros_like(p0)
    v = np.zeros_like(p0)
    for t in (1, 2):
        g = RNG.standard_normal(p0.shape)
        layer.grads["kernel"][...] = g
        layer.grads["bias"][...] = 0
        opt.step()
        m = 0.8 * m + 0.2 * g
        v = 0.9 * v + 0.1 * g * g
        p0 = p0 - 0.01 * np.sqrt(1 - 0.9**t) / (1 - 0.8**t) * m / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(layer.params["kernel"], p0, rtol=1e-12)


@pytest.mark.parametrize(("ph", "pw"), [((1, 2), (2, 1)), ((0, 3), (0, 0)), ((2, 2), (0, 1))])
def test_pad_hw_zeroes_only_the_border_and_equals_np_pad(ph: tuple[int, int], pw: tuple[int, int]) -> None:
    x = RNG.standard_normal((3, 4, 5, 2)).astype(np.float32)
    shape = (3, 4 + sum(ph), 5 + sum(pw), 2)
    for _ in range(3):  # leave NaN garbage in freed memory of the size pad_hw asks for
        np.full(shape, np.nan, np.float32)
    np.testing.assert_array_equal(pad_hw(x, ph, pw), np.pad(x, ((0, 0), ph, pw, (0, 0))))


def test_fourier_layers_share_their_call_local_temporaries_without_mixing_them_up() -> None:
    """Two Fourier layers of different sizes in one network, trained forward then backward,
    give the reference's output and every gradient: what must outlive a call (the spectra for
    the kernel gradient) is not in the shared scratch."""

    def network(algorithm: str) -> nn.Sequential:
        return nn.Sequential([nn.Conv2DTranspose(24, 4, 2, "same", algorithm=algorithm),
                              nn.Conv2DTranspose(16, 4, 2, "same", algorithm=algorithm)])

    shape = (3, 4, 4, 32)
    with backend.default_float("float64"):
        fast, reference = network("fourier"), network("reference")
        fast.build_for(shape[1:])
        reference.build_for(shape[1:])
    for name, value in fast.params.items():
        value[...] = RNG.standard_normal(value.shape)
        reference.params[name][...] = value
    x = RNG.standard_normal(shape)
    dy = RNG.standard_normal((3, 16, 16, 16))

    y = fast.forward(x, training=True)
    dx = fast.backward(dy)

    np.testing.assert_allclose(y, reference.forward(x, training=True), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, reference.backward(dy), rtol=1e-10, atol=1e-10)
    for name, grad in reference.grads.items():
        np.testing.assert_allclose(fast.grads[name], grad, rtol=1e-10, atol=1e-10)
    first, second = (layer.impl for layer in fast.layers)
    assert isinstance(first, fourier.Fourier) and isinstance(second, fourier.Fourier)
