"""LabelMapConv2D: the conditional DCGAN's first layer is Conv2D(concat([x, LabelMaps(y)])), exactly."""

from __future__ import annotations

import numpy as np
import pytest

from minigan import backend, models, nn
from minigan.gradcheck import check_gradients

GEOMETRIES = [  # (H, W, C, K, F, kernel, strides, padding)
    (8, 8, 1, 3, 4, 4, 2, "same"),
    (7, 9, 2, 4, 3, 3, 1, "valid"),
    (6, 5, 3, 2, 5, 5, 2, "same"),
    (9, 7, 1, 10, 6, 4, 3, "same"),
]


def _pair(geometry, algorithm="reference"):
    """A LabelMapConv2D and the joined Conv2D with the same kernel and bias, in float64."""
    h, w, c, k, f, size, strides, padding = geometry
    with backend.default_float("float64"):
        fused = models.LabelMapConv2D(f, size, strides=strides, padding=padding, algorithm=algorithm)
        fused.build_for(((h, w, c), (k,)))
        joined = nn.Conv2D(f, size, strides=strides, padding=padding, algorithm="reference")
        joined.build_for((h, w, c + k))
        maps = models.LabelMaps(h, w)
        maps.build_for((k,))
    fused.params["bias"][...] = np.random.default_rng(3).standard_normal(f)
    joined.params["kernel"][...] = fused.params["kernel"]
    joined.params["bias"][...] = fused.params["bias"]
    return fused, joined, maps


@pytest.mark.parametrize("algorithm", ["reference", "auto"])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_label_map_conv_equals_the_convolution_of_the_joined_maps(geometry, algorithm):
    fused, joined, maps = _pair(geometry, algorithm)
    h, w, c, k = geometry[:4]
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, h, w, c)), rng.standard_normal((3, k))  # soft labels: linear in y all the same
    out = fused.forward([x, y])
    expected = joined.forward(np.concatenate([x, maps.forward(y)], axis=-1))
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx, dy = fused.backward(dout)
    djoined = joined.backward(dout)
    np.testing.assert_allclose(dx, djoined[..., :c], rtol=0, atol=1e-12)
    np.testing.assert_allclose(dy, maps.backward(djoined[..., c:]), rtol=0, atol=1e-11)
    for name in ("kernel", "bias"):
        np.testing.assert_allclose(fused.grads[name], joined.grads[name], rtol=0, atol=1e-11)


def test_label_map_conv_gradients_match_finite_differences():
    fused, _, _ = _pair(GEOMETRIES[0])
    rng = np.random.default_rng(1)
    inputs = [rng.standard_normal((2, 8, 8, 1)), np.eye(3)[[0, 2]]]
    r = rng.standard_normal((2, *fused.output_shape(fused.input_shape)))
    fused.forward(inputs)
    dx, dy = fused.backward(r)

    def loss() -> float:
        value = float((fused.forward(inputs) * r).sum())
        fused.discard()
        return value

    analytic = {"x": dx, "y": dy, **fused.grads}
    tensors = {"x": inputs[0], "y": inputs[1], **fused.params}
    report = check_gradients(loss, analytic, tensors, max_entries=100)
    assert len(report.checks) == 4
    report.assert_ok()


def test_label_map_conv_without_input_grad_adds_the_same_parameter_gradients():
    fused, _, _ = _pair(GEOMETRIES[1])
    rng = np.random.default_rng(2)
    inputs = [rng.standard_normal((2, 7, 9, 2)), rng.standard_normal((2, 4))]
    dout = rng.standard_normal((2, *fused.output_shape(fused.input_shape)))
    fused.forward(inputs)
    fused.backward(dout)
    both = {name: grad.copy() for name, grad in fused.grads.items()}
    fused.zero_grad()
    fused.forward(inputs)
    assert fused.backward(dout, input_grad=False) is None
    for name, grad in both.items():
        np.testing.assert_array_equal(fused.grads[name], grad)


def test_label_map_conv_keeps_float32():
    layer = models.LabelMapConv2D(4, 4, strides=2, padding="same")
    x, y = np.ones((2, 8, 8, 1), np.float32), np.eye(3, dtype=np.float32)[[0, 1]]
    out = layer.forward([x, y])
    dx, dy = layer.backward(np.ones_like(out))
    assert {out.dtype, dx.dtype, dy.dtype, layer.grads["kernel"].dtype} == {np.dtype(np.float32)}


@pytest.mark.parametrize(
    "inputs, message",
    [
        (np.ones((2, 8, 8, 1), np.float32), r"expected \[images \(N, H, W, C\), labels \(N, K\)\], got ndarray"),
        ([np.ones((2, 8, 8, 1), np.float32), np.ones((2, 4), np.float32)], r"labels \(N, 3\).*\(2, 4\)"),
        ([np.ones((2, 8, 8, 1), np.float32), np.ones((3, 3), np.float32)], r"got float32 arrays of shapes"),
        ([np.ones((2, 8, 8, 1), np.float32), np.ones((2, 3), np.float64)], "floating arrays of one dtype"),
    ],
)
def test_label_map_conv_names_itself_and_what_it_expected_for_bad_input(inputs, message):
    layer = models.LabelMapConv2D(4, 4, strides=2, padding="same", name="d_first")
    layer.build_for(((8, 8, 1), (3,)))
    with pytest.raises(ValueError, match=message) as error:
        layer.forward(inputs)
    assert "d_first" in str(error.value)


def test_cdcgan_discriminator_keeps_the_joined_kernel_so_older_checkpoints_load():
    d = models.cdcgan_discriminator()
    assert d.params["conv2d/kernel"].shape == (4, 4, 11, 64)
    assert d.layers[1].name == "leaky_re_lu" and "conv2d_1/kernel" in d.params
    old = nn.Sequential(
        [nn.Parallel([nn.Sequential(), models.LabelMaps(28, 28)]), nn.Conv2D(64, 4, strides=2, padding="same")],
        input_shape=((28, 28, 1), (10,)),
    )
    old.params["conv2d/kernel"][...] = d.params["conv2d/kernel"]
    rng = np.random.default_rng(4)
    inputs = [rng.standard_normal((2, 28, 28, 1), dtype=np.float32), np.eye(10, dtype=np.float32)[[3, 7]]]
    np.testing.assert_allclose(d.layers[0].forward(inputs, training=False), old.forward(inputs, training=False),
                               rtol=1e-5, atol=1e-5)


def test_label_map_conv_builds_only_from_an_image_and_a_label_vector():
    layer = models.LabelMapConv2D(4, 4, strides=2, padding="same", name="d_first")
    expected = r"d_first: expected input shapes \[\(height, width, channels\), \(classes,\)\]"
    with pytest.raises(ValueError, match=expected):
        layer.forward([np.ones((2, 8, 8), np.float32), np.ones((2, 3), np.float32)])
    assert not layer.built
