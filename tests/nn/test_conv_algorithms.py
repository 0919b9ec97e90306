"""Every convolution algorithm computes what minigan.nn.conv.reference's reference pair computes.

Each layer runs with ``algorithm=`` one of the fast paths and again with
``algorithm="reference"`` on the same parameters; forward, input gradient and every
parameter gradient must agree, over hypothesis-drawn shapes (kernels 1-5, strides 1-3, both
paddings, channels 1-64, batch 1-5) in float64 to 1e-10 and in float32 to its rounding, and
on hand-picked edge cases. Outputs and gradients must be fresh arrays at batch 1, 2 and 5.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigan import backend, nn
from minigan.nn.conv import fast, reference
from minigan.nn.conv.fast import NAMES, chunked, patches
from minigan.nn.conv.geometry import Geometry, conv_output_length, conv_padding
from minigan.nn.conv.reference import col2im, crop_hw, im2col, pad_hw

FAST = ("im2col", "kernel_rows", "fourier", "whole_image", "subpixel", "winograd", "planes")
DRAWN = settings(max_examples=40, deadline=None, derandomize=True)
Make = Callable[[str], nn.Layer]


def run(layer: nn.Layer, x: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """One training forward and backward: (y, dL/dx, the parameter gradients)."""
    y = layer.forward(x)
    layer.zero_grad()
    return y, layer.backward(dy), {key: g.copy() for key, g in layer.grads.items()}


def strided(a: np.ndarray) -> np.ndarray:
    """The same values as a view that is not contiguous: every other channel of a wider array."""
    wide = np.zeros((*a.shape[:-1], 2 * a.shape[-1]), a.dtype)
    wide[..., ::2] = a
    return wide[..., ::2]


def against_reference(make: Make, algorithm: str, shape: tuple[int, ...], dtype: str, seed: int = 0,
                      views: bool = False):
    """(the algorithm's results, the reference's in float64) for the same parameters and data; with
    ``views``, the algorithm gets its input and output gradient as strided views."""
    rng = np.random.default_rng(seed)
    reference = make("reference")
    with backend.default_float("float64"):
        reference.build_for(shape[1:])
    for value in reference.params.values():
        value[...] = rng.standard_normal(value.shape)
    layer = make(algorithm)
    with backend.default_float(dtype):
        layer.build_for(shape[1:])
    for key, value in reference.params.items():
        layer.params[key][...] = value
    x = rng.standard_normal(shape)
    dy = rng.standard_normal((shape[0], *layer.output_shape(shape[1:])))
    given = (strided(x.astype(dtype)), strided(dy.astype(dtype))) if views else (x.astype(dtype), dy.astype(dtype))
    return run(layer, *given), run(reference, x, dy)


def unfit(layer: nn.Layer, algorithm: str, shape: tuple[int, ...]) -> bool:
    """True when ``algorithm`` does not apply to ``layer`` on inputs of ``shape`` (building it refuses)."""
    try:
        layer.build_for(shape[1:])
    except ValueError as error:
        assert f"algorithm {algorithm!r} needs" in str(error)
        return True
    return False


def assert_close(got, want, rtol: float, atol: float) -> None:
    (y, dx, grads), (y_ref, dx_ref, grads_ref) = got, want
    for name, a, b in [("y", y, y_ref), ("dx", dx, dx_ref)] + [(k, grads[k], grads_ref[k]) for k in grads_ref]:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * max(1.0, np.abs(b).max()), err_msg=name)


@st.composite
def layers(draw: st.DrawFn) -> tuple[Make, str, tuple[int, ...]]:
    """A Conv2D or Conv2DTranspose, a fast algorithm that applies to it, and an input shape."""
    algorithm = draw(st.sampled_from(FAST))
    if algorithm == "whole_image":  # a kernel as large as the input: Conv2D to one pixel, or ConvT from one
        kernel = draw(st.integers(1, 5)), draw(st.integers(1, 5))
        channels, filters = draw(st.integers(1, 64)), draw(st.integers(1, 64))
        batch, stride = draw(st.integers(1, 5)), draw(st.integers(1, min(kernel)))
        if draw(st.booleans()):
            return (lambda a: nn.Conv2DTranspose(filters, kernel, stride, "valid", algorithm=a)), algorithm, (
                batch, 1, 1, channels)
        return (lambda a: nn.Conv2D(filters, kernel, stride, "valid", algorithm=a)), algorithm, (
            batch, *kernel, channels)
    kernel, stride = draw(st.integers(1, 5)), 1 if algorithm == "kernel_rows" else draw(st.integers(1, 3))
    if algorithm == "winograd":  # a kernel of twice the strides
        stride = draw(st.integers(2, 3))
        kernel = 2 * stride
    padding = draw(st.sampled_from(["same", "valid"]))
    channels, filters = draw(st.integers(1, 64)), draw(st.integers(1, 64))
    h, w, batch = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 5))
    if draw(st.booleans()):
        if algorithm == "fourier" and padding == "valid" and kernel > stride:
            padding = "same"  # a 'valid' output of kh > sh is no multiple of the strides
        return (lambda a: nn.Conv2DTranspose(filters, kernel, stride, padding, algorithm=a)), algorithm, (
            batch, h, w, channels)
    # Conv2D: an input of whole strides for the Fourier path, at least the kernel for 'valid'
    h, w = stride * h, stride * w + (0 if algorithm == "fourier" else draw(st.integers(0, stride - 1)))
    if padding == "valid":
        h, w = h + stride * -(-max(0, kernel - h) // stride), w + stride * -(-max(0, kernel - w) // stride)
    return (lambda a: nn.Conv2D(filters, kernel, stride, padding, algorithm=a)), algorithm, (batch, h, w, channels)


@DRAWN
@given(drawn=layers())
def test_every_algorithm_equals_the_reference_in_float64(drawn) -> None:
    make, algorithm, shape = drawn
    assert_close(*against_reference(make, algorithm, shape, "float64"), rtol=1e-10, atol=1e-12)


@DRAWN
@given(drawn=layers())
def test_every_algorithm_in_float32_is_within_rounding_of_the_reference(drawn) -> None:
    make, algorithm, shape = drawn
    got, want = against_reference(make, algorithm, shape, "float32")
    assert all(a.dtype == np.float32 for a in (got[0], got[1], *got[2].values()))
    assert_close(got, want, rtol=1e-4, atol=1e-5)


EDGE_CASES = [
    (lambda a: nn.Conv2DTranspose(4, 5, 1, "same", algorithm=a), (3, 7, 7, 4)),  # the DCGAN's first, small
    (lambda a: nn.Conv2DTranspose(4, (5, 3), 1, "valid", algorithm=a), (2, 6, 5, 3)),
    (lambda a: nn.Conv2DTranspose(4, 5, 1, "same", algorithm=a), (2, 1, 1, 3)),  # kernel rows that reach no output
    (lambda a: nn.Conv2DTranspose(4, (2, 4), 1, "same", algorithm=a), (2, 3, 4, 2)),  # even kernels: uneven padding
    (lambda a: nn.Conv2DTranspose(4, 7, 1, "valid", algorithm=a), (2, 1, 1, 3)),
    (lambda a: nn.Conv2DTranspose(4, 5, 2, "same", algorithm=a), (3, 4, 3, 3)),  # by phases: the DCGAN's second
    (lambda a: nn.Conv2DTranspose(3, (4, 3), (2, 3), "valid", algorithm=a), (2, 3, 2, 2)),  # strides per axis
    (lambda a: nn.Conv2DTranspose(3, 3, 2, "same", output_padding=1, algorithm=a), (2, 3, 3, 2)),
    (lambda a: nn.Conv2D(4, 5, 2, "same", algorithm=a), (3, 8, 6, 3)),  # the adjoint: D's second, small
    (lambda a: nn.Conv2D(3, (3, 4), 2, "valid", algorithm=a), (2, 8, 10, 2)),
    (lambda a: nn.Conv2D(3, 4, (2, 3), "same", algorithm=a), (2, 6, 9, 2)),
    (lambda a: nn.Conv2D(3, 3, 1, "same", algorithm=a), (2, 5, 4, 2)),
    (lambda a: nn.Conv2D(3, (5, 2), 1, "valid", algorithm=a), (1, 6, 3, 2)),
    (lambda a: nn.Conv2D(3, (4, 3), 2, "valid", algorithm=a), (2, 4, 3, 5)),  # the kernel covers the input
    (lambda a: nn.Conv2DTranspose(4, (4, 3), 3, "valid", algorithm=a), (2, 1, 1, 3)),  # one pixel to a patch
    (lambda a: nn.Conv2D(4, 4, 2, "same", algorithm=a), (2, 14, 14, 3)),  # 7x7 outputs: 4x4 tiles past the edge
    (lambda a: nn.Conv2D(4, 4, 2, "same", algorithm=a), (2, 8, 8, 3)),  # 4x4 outputs: whole 2x2 tiles
    (lambda a: nn.Conv2D(3, 4, 2, "valid", algorithm=a), (2, 9, 7, 2)),  # rows and columns that reach no output
    (lambda a: nn.Conv2DTranspose(3, (4, 6), (2, 3), "same", algorithm=a), (2, 8, 3, 2)),  # 4x4 and 2x2 tiles
    (lambda a: nn.Conv2DTranspose(2, 4, 2, "valid", algorithm=a), (1, 2, 5, 3)),
]


@pytest.mark.parametrize("algorithm", FAST)
@pytest.mark.parametrize(("make", "shape"), EDGE_CASES)
@pytest.mark.parametrize("chunked", [False, True])
def test_edge_cases_equal_the_reference(make, shape, algorithm: str, chunked: bool,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    if chunked:  # chunks of one image each, so every loop over chunks runs several times
        monkeypatch.setattr(patches, "CHUNK_BYTES", 1)
    if unfit(make(algorithm), algorithm, shape) or (chunked and algorithm in ("fourier", "whole_image", "winograd")):
        pytest.skip(f"{algorithm!r} does not apply to this layer, or has no chunks")
    assert_close(*against_reference(make, algorithm, shape, "float64"), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("algorithm", FAST)
@pytest.mark.parametrize(("make", "shape"), EDGE_CASES)
def test_inputs_and_gradients_that_are_strided_views_give_the_reference_results(make, shape, algorithm: str) -> None:
    if unfit(make(algorithm), algorithm, shape):
        pytest.skip(f"{algorithm!r} does not apply to this layer")
    assert_close(*against_reference(make, algorithm, shape, "float64", views=True), rtol=1e-10, atol=1e-12)


def test_the_reference_is_im2col_col2im_and_the_adjoint_identity_holds() -> None:
    rng = np.random.default_rng(1)
    x, kernel = rng.standard_normal((2, 7, 6, 3)), rng.standard_normal((3, 4, 3, 5))
    strides, pads = (2, 1), ((1, 1), (2, 1))
    y = reference.conv2d(x, kernel, strides, pads)
    direct = np.einsum("npqijc,ijcf->npqf", im2col(pad_hw(x, *pads), 3, 4, *strides), kernel)
    np.testing.assert_allclose(y, direct, rtol=1e-12)
    dy = rng.standard_normal(y.shape)
    dx = reference.conv2d_transpose(dy, kernel, strides, pads, (7, 6))
    np.testing.assert_allclose(np.vdot(y, dy), np.vdot(x, dx), rtol=1e-12)  # <conv2d(x), dy> = <x, conv2d^T(dy)>
    dk = reference.conv2d_kernel_grad(x, dy, (3, 4), strides, pads)
    np.testing.assert_allclose(np.vdot(y, dy), np.vdot(kernel, dk), rtol=1e-12)  # linear in K as well
    cols = np.einsum("npqf,ijcf->npqijc", dy, kernel)
    np.testing.assert_allclose(dx, crop_hw(col2im(cols, (9, 9), *strides), *pads), rtol=1e-12)


ZOO_LAYERS = [  # the layers of the zoo's networks, on their inputs
    (lambda a: nn.Conv2DTranspose(128, 7, 1, "valid", algorithm=a), (1, 1, 100)),
    (lambda a: nn.Conv2D(1, 4, 1, "valid", algorithm=a), (4, 4, 64)),
    (lambda a: nn.Conv2DTranspose(128, 5, 1, "same", algorithm=a), (7, 7, 256)),
    (lambda a: nn.Conv2DTranspose(64, 5, 2, "same", algorithm=a), (7, 7, 128)),
    (lambda a: nn.Conv2DTranspose(1, 5, 2, "same", algorithm=a), (14, 14, 64)),
    (lambda a: nn.Conv2D(64, 5, 2, "same", algorithm=a), (28, 28, 1)),
    (lambda a: nn.Conv2D(128, 5, 2, "same", algorithm=a), (14, 14, 64)),
    (lambda a: nn.Conv2D(128, 4, 2, "same", algorithm=a), (14, 14, 64)),
    (lambda a: nn.Conv2DTranspose(128, 4, 2, "same", algorithm=a), (7, 7, 256)),
    (lambda a: nn.Conv2DTranspose(64, 4, 2, "same", algorithm=a), (16, 16, 128)),
    (lambda a: nn.Conv2DTranspose(3, 4, 2, "same", algorithm=a), (16, 16, 128)),
    (lambda a: nn.Conv2D(64, 4, 2, "same", algorithm=a), (32, 32, 3)),
    (lambda a: nn.Conv2D(64, 4, 2, "same", algorithm=a), (32, 32, 16)),
]


@st.composite
def geometries(draw: st.DrawFn) -> Geometry:
    """A Conv2D's geometry (a Conv2DTranspose's is the geometry of the Conv2D it is the adjoint of)."""
    kernel = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    strides = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    padding = draw(st.sampled_from(["same", "valid"]))
    size = [draw(st.integers(k if padding == "valid" else 1, 32)) for k in kernel]
    pads = tuple(conv_padding(n, k, s, padding) for n, k, s in zip(size, kernel, strides, strict=True))
    out = tuple(conv_output_length(n, k, s, padding) for n, k, s in zip(size, kernel, strides, strict=True))
    return Geometry(tuple(size), out, kernel, strides, pads, draw(st.integers(1, 512)), draw(st.integers(1, 512)))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(geometry=geometries())
def test_auto_names_a_registered_algorithm_that_applies_to_the_geometry(geometry: Geometry) -> None:
    name = fast.auto(geometry)
    assert name in fast.ALGORITHMS, name
    impl = fast.choose("auto", geometry, np.float32, "Conv2D")  # raises where the algorithm does not apply
    assert type(impl) is fast.ALGORITHMS[name]


@st.composite
def auto_layers(draw: st.DrawFn) -> tuple[Make, tuple[int, ...]]:
    """A Conv2D or Conv2DTranspose of any kernel, strides and padding, and an input shape."""
    kernel, strides = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["same", "valid"]))
    filters, channels, batch = draw(st.integers(1, 48)), draw(st.integers(1, 48)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    if draw(st.booleans()):
        return (lambda a: nn.Conv2DTranspose(filters, kernel, strides, padding, algorithm=a)), (batch, h, w, channels)
    if padding == "valid":
        h, w = max(h, kernel), max(w, kernel)
    return (lambda a: nn.Conv2D(filters, kernel, strides, padding, algorithm=a)), (batch, h, w, channels)


@DRAWN
@given(drawn=auto_layers())
def test_a_layer_with_auto_computes_what_the_reference_computes(drawn) -> None:
    make, shape = drawn
    assert_close(*against_reference(make, "auto", shape, "float64"), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("make", "shape"), ZOO_LAYERS)
def test_the_zoo_layers_with_auto_compute_what_the_reference_computes(make: Make, shape: tuple[int, ...]) -> None:
    assert_close(*against_reference(make, "auto", (2, *shape), "float64"), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("make", "shape"), ZOO_LAYERS)
def test_auto_on_cupy_picks_im2col(monkeypatch: pytest.MonkeyPatch, make: Make, shape: tuple[int, ...]) -> None:
    monkeypatch.setattr(backend, "get_backend", lambda: "cupy")  # the choice only; the arrays stay NumPy's
    layer = make("auto")
    layer.build_for(shape)
    assert type(layer.impl) is fast.ALGORITHMS["im2col"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: nn.Conv2D(4, 3, algorithm="direct"), "Conv2D: expected algorithm one of 'auto', 'reference'"),
        (lambda: nn.Conv2DTranspose(4, 3, algorithm="FFT"), "Conv2DTranspose: expected algorithm one of"),
        (lambda: nn.Conv2D(4, 3, 2, algorithm="kernel_rows", input_shape=(6, 6, 1)),
         "conv2d: algorithm 'kernel_rows' needs strides (1, 1), got (2, 2)"),
        (lambda: nn.Conv2D(4, 3, 2, "same", algorithm="fourier", input_shape=(7, 6, 1)),
         "conv2d: algorithm 'fourier' needs the large side to be a multiple of the strides (2, 2), got (7, 6)"),
        (lambda: nn.Conv2D(4, 3, algorithm="whole_image", input_shape=(6, 6, 1)),
         "conv2d: algorithm 'whole_image' needs a kernel as large as its unpadded input, got kernel (3, 3) on "
         "(6, 6) with padding ((0, 0), (0, 0))"),
        (lambda: nn.Conv2DTranspose(4, 3, 2, algorithm="winograd", input_shape=(6, 6, 1)),
         "conv2d_transpose: algorithm 'winograd' needs a kernel of twice the strides (> 1), got kernel (3, 3) with "
         "strides (2, 2)"),
    ],
)
def test_an_unknown_or_unfit_algorithm_is_refused_naming_the_layer(make, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


def test_every_public_name_is_an_algorithm_or_auto() -> None:
    assert set(NAMES) == {"auto", "reference", *FAST}


FRESH_CASES = [
    (lambda a: nn.Conv2DTranspose(4, 5, strides=1, padding="same", algorithm=a), (7, 7, 3)),
    (lambda a: nn.Conv2DTranspose(4, 5, strides=2, padding="same", algorithm=a), (4, 4, 3)),
    (lambda a: nn.Conv2D(4, 5, strides=2, padding="same", algorithm=a), (8, 8, 3)),
    (lambda a: nn.Conv2D(4, 5, strides=1, padding="same", algorithm=a), (6, 5, 3)),  # batch 1: nothing to transpose
    (lambda a: nn.Conv2D(4, 3, strides=1, padding="valid", algorithm=a), (6, 5, 3)),  # no padding copy either
    (lambda a: nn.Conv2DTranspose(4, 3, strides=1, padding="valid", algorithm=a), (1, 1, 3)),  # whole image
    (lambda a: nn.Conv2D(4, 3, strides=1, padding="valid", algorithm=a), (3, 3, 3)),
    (lambda a: nn.Conv2D(4, 4, strides=2, padding="same", algorithm=a), (8, 8, 3)),  # Radford's, small
    (lambda a: nn.Conv2DTranspose(4, 4, strides=2, padding="same", algorithm=a), (4, 4, 3)),
]


@pytest.mark.parametrize("algorithm", ["reference", *FAST])
@pytest.mark.parametrize(("make", "shape"), FRESH_CASES)
@pytest.mark.parametrize("batch", [1, 2, 5])
def test_outputs_and_gradients_are_fresh_arrays_that_later_calls_leave_alone(make, shape, algorithm: str,
                                                                             batch: int) -> None:
    if unfit(make(algorithm), algorithm, (batch, *shape)):
        pytest.skip(f"{algorithm!r} does not apply to this layer")
    layer = make(algorithm)
    rng = np.random.default_rng(batch)
    with backend.default_float("float64"):
        layer.build_for(shape)
    x1, x2 = rng.standard_normal((2, batch, *shape))
    dy = rng.standard_normal((batch, *layer.output_shape(shape)))
    _, dx_clean, grads_clean = run(layer, x1, dy)

    y1 = layer.forward(x1, training=False)
    kept = y1.copy()
    layer.forward(x2, training=False)
    np.testing.assert_array_equal(y1, kept)  # a later call does not overwrite an earlier output

    layer.forward(x1)
    layer.forward(x2, training=False)  # an inference call between a forward and its backward
    layer.zero_grad()
    dx = layer.backward(dy)
    np.testing.assert_array_equal(layer.grads["kernel"], grads_clean["kernel"])
    np.testing.assert_array_equal(dx, dx_clean)
    dx_kept = dx.copy()
    run(layer, x2, rng.standard_normal(dy.shape))
    np.testing.assert_array_equal(dx, dx_kept)  # nor an earlier gradient


def test_the_kernel_gradient_copies_only_the_patch_rows_that_conv2d_did_not_leave_in_scratch(
        monkeypatch: pytest.MonkeyPatch) -> None:
    copies = []
    real_patch_rows = chunked.patch_rows
    monkeypatch.setattr(chunked, "patch_rows", lambda patches, scratch: copies.append(1) or real_patch_rows(
        patches, scratch))
    monkeypatch.setattr(patches, "CHUNK_BYTES", 1)  # one image a chunk: three chunks
    make = lambda a: nn.Conv2D(4, 3, 2, "same", algorithm=a)  # noqa: E731
    (_, _, grads), (_, _, want) = against_reference(make, "im2col", (3, 6, 5, 2), "float64")
    assert len(copies) == 3 + 2  # the forward's three chunks; the backward copies all but the last again
    np.testing.assert_allclose(grads["kernel"], want["kernel"], rtol=1e-10)

    layer = make("im2col")
    with backend.default_float("float64"):
        layer.build_for((6, 5, 2))
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal((2, 3, 6, 5, 2))
    dy = rng.standard_normal((3, *layer.output_shape((6, 5, 2))))
    _, _, clean = run(layer, x1, dy)
    layer.forward(x1)
    layer.forward(x2, training=False)  # leaves x2's rows in scratch
    copies.clear()
    layer.zero_grad()
    layer.backward(dy)
    assert len(copies) == 3  # so all of x1's are copied again
    np.testing.assert_array_equal(layer.grads["kernel"], clean["kernel"])


def test_arrays_without_weak_references_have_their_patch_rows_copied_again(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_weak_references(array):  # as for CuPy's arrays
        raise TypeError(f"cannot create weak reference to {type(array).__name__!r} object")

    copies = []
    real_patch_rows = chunked.patch_rows
    monkeypatch.setattr(chunked, "patch_rows", lambda patches, scratch: copies.append(1) or real_patch_rows(
        patches, scratch))
    monkeypatch.setattr(chunked.weakref, "ref", no_weak_references)
    make = lambda a: nn.Conv2DTranspose(3, 4, 2, "same", algorithm=a)  # noqa: E731
    assert_close(*against_reference(make, "subpixel", (2, 3, 4, 2), "float64"), rtol=1e-10, atol=1e-12)
    assert len(copies) == 2  # conv2d(dy) in the backward, and again for the kernel gradient
