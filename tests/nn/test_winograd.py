"""Winograd's minimal filtering (minigan/nn/conv/fast/winograd.py): its transforms, and the work its products share.

That ``algorithm="winograd"`` computes the reference's three products is proven with every other
algorithm in tests/nn/test_conv_algorithms.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from minigan import backend, nn
from minigan.nn.conv import reference
from minigan.nn.conv.fast import winograd
from minigan.nn.conv.fast.winograd import toom_cook
from minigan.nn.conv.geometry import Geometry, conv_output_length, conv_padding


@pytest.mark.parametrize("m", [2, 3, 4])
def test_toom_cook_computes_m_outputs_of_a_two_tap_correlation_with_m_plus_1_products(m: int) -> None:
    a_t, g, b_t = toom_cook(m)
    assert a_t.shape == (m, m + 1) and g.shape == (m + 1, 2) and b_t.shape == (m + 1, m + 1)
    rng = np.random.default_rng(m)
    for d, taps in zip(rng.standard_normal((5, m + 1)), rng.standard_normal((5, 2)), strict=True):
        want = [d[i] * taps[0] + d[i + 1] * taps[1] for i in range(m)]
        np.testing.assert_allclose(a_t @ ((g @ taps) * (b_t @ d)), want, rtol=1e-13, atol=1e-13)


def test_toom_cook_refuses_tiles_larger_than_its_points() -> None:
    with pytest.raises(ValueError, match="toom_cook: expected 1 <= m <= 4 .*, got 5"):
        toom_cook(5)


@pytest.mark.parametrize(("out_hw", "m"), [((8, 8), 4), ((7, 9), 4), ((4, 4), 2), ((6, 8), 2)])
def test_tiles_are_4x4_from_7_output_pixels_on_else_2x2(out_hw: tuple[int, int], m: int) -> None:
    layer = nn.Conv2D(8, 4, 2, "same", algorithm="winograd")
    layer.build_for((2 * out_hw[0], 2 * out_hw[1], 3))
    assert layer.impl.m == m
    assert layer.impl.tiles == (-(-out_hw[0] // m), -(-out_hw[1] // m))


def _layers(make) -> tuple[nn.Layer, nn.Layer]:
    """The same layer built twice in float64 with equal parameters: by Winograd, and by the reference."""
    built = []
    for algorithm in ("winograd", "reference"):
        layer = make(algorithm)
        with backend.default_float("float64"):
            layer.build_for((8, 8, 3))
        built.append(layer)
    built[0].params["kernel"][...] = built[1].params["kernel"]
    return built[0], built[1]


@pytest.mark.parametrize("make", [lambda a: nn.Conv2D(4, 4, 2, "same", algorithm=a),
                                  lambda a: nn.Conv2DTranspose(4, 4, 2, "same", algorithm=a)])
def test_a_forward_and_backward_transform_each_input_once_and_stay_right_across_calls(make, monkeypatch) -> None:
    padded = []
    real_pad = winograd.pad_hw
    monkeypatch.setattr(winograd, "pad_hw", lambda *args: padded.append(1) or real_pad(*args))
    layer, reference = _layers(make)
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal((2, 2, 8, 8, 3))
    dys = rng.standard_normal((3, 2, *layer.output_shape((8, 8, 3))))
    for x, dy in zip((x1, x2, x1), dys, strict=True):
        padded.clear()
        y = layer.forward(x)
        layer.zero_grad()
        dx = layer.backward(dy)
        assert len(padded) == 1  # V of x (Conv2D) or of dy (Conv2DTranspose): made once, used twice
        reference.zero_grad()
        np.testing.assert_allclose(y, reference.forward(x), rtol=1e-10)
        np.testing.assert_allclose(dx, reference.backward(dy), rtol=1e-10)
        np.testing.assert_allclose(layer.grads["kernel"], reference.grads["kernel"], rtol=1e-10)


def test_arrays_without_weak_references_are_transformed_again(monkeypatch) -> None:
    def no_weak_references(array):  # as for CuPy's arrays
        raise TypeError(f"cannot create weak reference to {type(array).__name__!r} object")

    padded = []
    real_pad = winograd.pad_hw
    monkeypatch.setattr(winograd, "pad_hw", lambda *args: padded.append(1) or real_pad(*args))
    monkeypatch.setattr(winograd.weakref, "ref", no_weak_references)
    layer, reference = _layers(lambda a: nn.Conv2D(4, 4, 2, "same", algorithm=a))
    x, dy = np.random.default_rng(1).standard_normal((2, 2, 8, 8, 3))[0], np.ones((2, 4, 4, 4))
    layer.forward(x)
    layer.backward(dy)
    reference.forward(x)
    reference.backward(dy)
    assert len(padded) == 2  # the forward's V, and again for the kernel gradient
    np.testing.assert_allclose(layer.grads["kernel"], reference.grads["kernel"], rtol=1e-10)


@pytest.mark.parametrize("strides", [(2, 2), (3, 2), (2, 3)])
@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("hw", [(2, 2), (5, 6), (8, 8), (9, 7), (14, 14), (16, 17)])
def test_the_three_products_equal_the_reference_for_2x2_and_4x4_tiles_and_every_crop(strides, padding, hw) -> None:
    (sh, sw), (h, w) = strides, hw
    kernel_hw = (2 * sh, 2 * sw)
    pads = tuple(conv_padding(n, k, s, padding) for n, k, s in zip(hw, kernel_hw, strides, strict=True))
    if any(n + sum(p) < k for n, p, k in zip(hw, pads, kernel_hw, strict=True)):
        pytest.skip("the input is smaller than the kernel")
    out_hw = tuple(conv_output_length(n, k, s, padding) for n, k, s in zip(hw, kernel_hw, strides, strict=True))
    g = Geometry(hw, out_hw, kernel_hw, strides, pads, 3, 4)
    products = winograd.Winograd(g, np.float64)
    rng = np.random.default_rng(h * w)
    x, kernel, dy = rng.standard_normal((2, h, w, 3)), rng.standard_normal((*kernel_hw, 3, 4)), rng.standard_normal(
        (2, *out_hw, 4))
    np.testing.assert_allclose(products.conv2d(x, kernel), reference.conv2d(x, kernel, strides, pads), atol=1e-12)
    np.testing.assert_allclose(products.conv2d_transpose(dy, kernel),
                               reference.conv2d_transpose(dy, kernel, strides, pads, hw), atol=1e-12)
    np.testing.assert_allclose(products.conv2d_kernel_grad(x, dy),
                               reference.conv2d_kernel_grad(x, dy, kernel_hw, strides, pads), atol=1e-11)
