"""The speed-ups of issue 8 compute exactly the readable formulas they replace.

Chunked convolutions against whole-batch im2col / col2im, the stride-1 transposed
convolution against its col2im form, the Fourier path of both convolutions (any strides)
against im2col, the in-place element-wise layers, the tall ``a^T b`` and the fused Adam
update against their docstring formulas (float64).
"""

from __future__ import annotations

import numpy as np
import pytest

from minigan import backend, nn, optim
from minigan.nn import fourier
from minigan.nn import im2col as im2col_module
from minigan.nn.im2col import col2im, crop_hw, im2col, pad_hw
from minigan.nn.matmul import a_bt, at_b, column_sums

RNG = np.random.default_rng(8)


def build(layer: nn.Layer, shape: tuple[int, ...]) -> np.ndarray:
    with backend.default_float("float64"):
        layer.build_for(shape[1:])
    for value in layer.params.values():
        value[...] = RNG.standard_normal(value.shape)
    return RNG.standard_normal(shape)


@pytest.fixture
def one_image_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of one image each, so every loop over chunks runs several times."""
    monkeypatch.setattr(im2col_module, "CHUNK_BYTES", 1)


@pytest.mark.parametrize(("strides", "padding"), [(2, "same"), (1, "valid"), ((2, 1), "valid")])
def test_chunked_conv2d_equals_whole_batch_im2col(one_image_chunks: None, strides, padding) -> None:
    layer = nn.Conv2D(4, 3, strides=strides, padding=padding)
    x = build(layer, (3, 7, 6, 2))
    y = layer.forward(x)
    dy = RNG.standard_normal(y.shape)
    layer.zero_grad()
    dx = layer.backward(dy)

    kernel = layer.params["kernel"].reshape(-1, 4)
    xpad = pad_hw(x, layer._ph, layer._pw)
    patches = im2col(xpad, 3, 3, *layer.strides)
    rows = patches.reshape(-1, kernel.shape[0])
    np.testing.assert_allclose(y, (rows @ kernel + layer.params["bias"]).reshape(y.shape), rtol=1e-12)
    dy_rows = dy.reshape(-1, 4)
    np.testing.assert_allclose(layer.grads["kernel"].reshape(kernel.shape), rows.T @ dy_rows, rtol=1e-12)
    dxpad = col2im((dy_rows @ kernel.T).reshape(patches.shape), xpad.shape[1:3], *layer.strides)
    np.testing.assert_allclose(dx, crop_hw(dxpad, layer._ph, layer._pw), rtol=1e-12)


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
    im2col_module.col2im_add(cols, out, sh, sw, before)
    np.testing.assert_allclose(out - start, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("strides", "padding"), [(2, "same"), (1, "same"), (1, "valid"), ((1, 2), "same")])
def test_chunked_conv2d_transpose_equals_whole_batch_col2im(one_image_chunks: None, strides, padding) -> None:
    layer = nn.Conv2DTranspose(3, (3, 5), strides=strides, padding=padding)
    x = build(layer, (3, 4, 5, 2))
    layer._fourier = None  # the im2col path (the Fourier path has its own test below)
    y = layer.forward(x)
    dy = RNG.standard_normal(y.shape)
    layer.zero_grad()
    dx = layer.backward(dy)

    (kh, kw), (sh, sw) = layer.kernel_size, layer.strides
    kernel = layer.params["kernel"].reshape(-1, 2)
    rows = x.reshape(-1, 2)
    hp, wp = y.shape[1] + sum(layer._ph), y.shape[2] + sum(layer._pw)
    ypad = col2im((rows @ kernel.T).reshape(3, 4, 5, kh, kw, 3), (hp, wp), sh, sw)
    np.testing.assert_allclose(y, crop_hw(ypad, layer._ph, layer._pw) + layer.params["bias"], rtol=1e-12)
    drows = im2col(pad_hw(dy, layer._ph, layer._pw), kh, kw, sh, sw).reshape(rows.shape[0], -1)
    np.testing.assert_allclose(layer.grads["kernel"].reshape(kernel.shape), drows.T @ rows, rtol=1e-12)
    np.testing.assert_allclose(dx, (drows @ kernel).reshape(x.shape), rtol=1e-12)


@pytest.mark.parametrize(
    ("kernel", "padding", "shape"),
    [
        ((5, 3), "same", (2, 6, 5, 3)),
        ((5, 3), "valid", (2, 6, 5, 3)),
        ((5, 5), "same", (3, 7, 7, 4)),  # the DCGAN's first transposed convolution, small
        ((5, 5), "same", (2, 1, 1, 3)),  # kernel rows that reach no output row are skipped
        ((2, 4), "same", (2, 3, 4, 2)),  # even kernels: uneven padding
        ((7, 7), "valid", (2, 1, 1, 3)),
    ],
)
@pytest.mark.parametrize("chunked", [False, True])
def test_stride1_transposed_conv_fast_path_equals_col2im_form(
    kernel, padding, shape, chunked: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if chunked:
        monkeypatch.setattr(im2col_module, "CHUNK_BYTES", 1)
    layer = nn.Conv2DTranspose(4, kernel, strides=1, padding=padding)
    x = build(layer, shape)
    np.testing.assert_allclose(layer._forward_stride1(x), layer._forward_col2im(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda: nn.Conv2DTranspose(4, 5, 1, "same"), (3, 7, 7, 4)),  # the DCGAN's first transposed convolution
        (lambda: nn.Conv2DTranspose(4, (3, 5), 1, "valid"), (3, 4, 5, 2)),
        (lambda: nn.Conv2DTranspose(4, 4, 1, "same"), (2, 5, 6, 3)),  # even kernel: uneven crop, even grid width
        (lambda: nn.Conv2DTranspose(4, (5, 3), 1, "same"), (2, 6, 5, 3)),
        (lambda: nn.Conv2DTranspose(4, 5, 2, "same"), (3, 4, 3, 3)),  # by phases: the DCGAN's second, small
        (lambda: nn.Conv2DTranspose(3, (4, 3), (2, 3), "valid"), (2, 3, 2, 2)),  # other strides per axis
        (lambda: nn.Conv2DTranspose(3, 3, 2, "same", output_padding=1), (2, 3, 3, 2)),
        (lambda: nn.Conv2D(4, 5, 2, "same"), (3, 8, 6, 3)),  # the adjoint: D's second convolution, small
        (lambda: nn.Conv2D(3, (3, 4), 2, "valid"), (2, 8, 10, 2)),
        (lambda: nn.Conv2D(3, 4, (2, 3), "same"), (2, 6, 9, 2)),
        (lambda: nn.Conv2D(3, 3, 1, "same"), (2, 5, 4, 2)),
    ],
)
def test_fourier_path_equals_the_im2col_path(make, shape, small_fourier: None) -> None:
    fourier = make()
    x = build(fourier, shape)
    assert fourier._fourier is not None
    direct = make()
    build(direct, shape)
    direct._fourier = None
    for key, value in fourier.params.items():
        direct.params[key][...] = value
    dy = RNG.standard_normal((shape[0], *fourier.output_shape(shape[1:])))
    results = []
    for layer in (fourier, direct):
        y = layer.forward(x)
        layer.zero_grad()
        results.append((y, layer.backward(dy), {k: g.copy() for k, g in layer.grads.items()}))
    (y_f, dx_f, grads_f), (y_d, dx_d, grads_d) = results
    np.testing.assert_allclose(y_f, y_d, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx_f, dx_d, rtol=1e-10, atol=1e-12)
    for key in grads_d:
        np.testing.assert_allclose(grads_f[key], grads_d[key], rtol=1e-10, atol=1e-12, err_msg=key)


def test_fourier_path_in_float32_is_within_rounding_of_the_im2col_path() -> None:
    for make, shape in [
        (lambda: nn.Conv2D(128, 5, 2, "same"), (2, 14, 14, 64)),  # D's second convolution
        (lambda: nn.Conv2DTranspose(64, 5, 2, "same"), (2, 7, 7, 128)),  # G's second transposed convolution
    ]:
        fourier, direct = make(), make()
        x = RNG.standard_normal(shape).astype(np.float32)
        y = fourier.forward(x, training=False)
        direct.forward(x, training=False)
        direct.params["kernel"][...] = fourier.params["kernel"]
        direct._fourier = None
        assert fourier._fourier is not None and y.dtype == np.float32
        np.testing.assert_allclose(y, direct.forward(x, training=False), rtol=0, atol=1e-5 * np.abs(y).max())


def test_fourier_path_is_taken_where_it_saves_work_only() -> None:
    dcgan = nn.Conv2DTranspose(128, 5, 1, "same", input_shape=(7, 7, 256))
    assert dcgan._fourier is not None and dcgan._fourier.blocks == 3 * 40 + 1  # a 9x9 grid, not 11x11
    strided = nn.Conv2DTranspose(64, 5, 2, "same", input_shape=(7, 7, 128))
    assert strided._fourier is not None and strided._fourier.blocks == 3 * 30 + 4  # four phases on an 8x8 grid
    adjoint = nn.Conv2D(128, 5, 2, "same", input_shape=(14, 14, 64))
    assert adjoint._fourier is not None and adjoint._fourier.blocks == 3 * 30 + 4
    assert nn.Conv2D(128, 5, 2, "same", input_shape=(15, 15, 64))._fourier is None  # 15 is not a multiple of 2
    assert nn.Conv2DTranspose(32, 1, 1, "same", input_shape=(4, 4, 32))._fourier is None  # more work than im2col
    assert nn.Conv2D(64, 4, 2, "same", input_shape=(32, 32, 32))._fourier is None  # transforms of 256 pixels
    assert nn.Conv2DTranspose(4, 5, 1, "same", input_shape=(7, 7, 8))._fourier is None  # too few channels
    assert nn.Conv2D(64, 5, 2, "same", input_shape=(28, 28, 1))._fourier is None  # D's first convolution


@pytest.mark.parametrize("transposed", [True, False])
def test_phase_kernel_holds_each_tap_in_its_own_phase_block_and_zeros_elsewhere(transposed: bool) -> None:
    plan = fourier.FourierConvTranspose((3, 4), (5, 3), (2, 3), (1, 0), (6, 12), np.float32)
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


@pytest.mark.parametrize(("k", "n"), [(3, 7), (7, 3)])
def test_at_b_is_a_transpose_times_b_in_either_order(k: int, n: int) -> None:
    a, b = RNG.standard_normal((11, k)), RNG.standard_normal((11, n))
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


@pytest.mark.parametrize(
    ("make", "shape", "fourier_path"),
    [
        (lambda: nn.Conv2DTranspose(4, 5, strides=1, padding="same"), (7, 7, 3), True),
        (lambda: nn.Conv2DTranspose(4, 5, strides=2, padding="same"), (4, 4, 3), True),  # by phases
        (lambda: nn.Conv2D(4, 5, strides=2, padding="same"), (8, 8, 3), True),  # the adjoint
        (lambda: nn.Conv2D(4, 5, strides=1, padding="same"), (6, 5, 3), True),  # batch 1: no transpose to copy
        (lambda: nn.Conv2DTranspose(4, 5, strides=1, padding="same"), (7, 7, 3), False),  # by kernel rows
        (lambda: nn.Conv2DTranspose(4, 5, strides=2, padding="same"), (4, 4, 3), False),  # col2im
        (lambda: nn.Conv2D(4, 5, strides=2, padding="same"), (9, 8, 3), False),
    ],
)
@pytest.mark.parametrize("batch", [1, 2, 5])
def test_workspace_never_shares_memory_with_outputs_or_a_pending_cache(
    make, shape, fourier_path: bool, batch: int, small_fourier: None
) -> None:
    shape = (batch, *shape)
    layer = make()
    x1 = build(layer, shape)
    if not fourier_path:
        layer._fourier = None
    assert (getattr(layer, "_fourier", None) is not None) == fourier_path
    x2 = RNG.standard_normal(x1.shape)
    dy = RNG.standard_normal((shape[0], *layer.output_shape(shape[1:])))
    layer.forward(x1)
    layer.zero_grad()
    dx_clean = layer.backward(dy)
    clean = layer.grads["kernel"].copy()

    y1 = layer.forward(x1, training=False)
    kept = y1.copy()
    layer.forward(x2, training=False)
    np.testing.assert_array_equal(y1, kept)  # a later call does not overwrite an earlier output

    layer.forward(x1)
    layer.forward(x2, training=False)  # an inference call between a forward and its backward
    layer.zero_grad()
    dx = layer.backward(dy)
    np.testing.assert_array_equal(layer.grads["kernel"], clean)
    np.testing.assert_array_equal(dx, dx_clean)
    dx_kept = dx.copy()
    layer.forward(x2)
    layer.backward(RNG.standard_normal(dy.shape))
    np.testing.assert_array_equal(dx, dx_kept)  # nor an earlier gradient
