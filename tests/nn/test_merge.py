"""Concatenate and Parallel: the joins of the conditional GANs, gradient-checked like every layer."""

from __future__ import annotations

import numpy as np
import pytest

from minigan import backend, nn
from minigan.gradcheck import check_gradients


def _check_multi_input(model: nn.Layer, inputs: list[np.ndarray], seed: int = 0) -> None:
    """Finite differences of L = sum(model([a, b, ...]) * r) w.r.t. every input and parameter."""
    with backend.default_float("float64"):
        model.build_for([x.shape[1:] for x in inputs])
    backend.seed(seed)
    y = model.forward(inputs)
    r = np.random.default_rng(seed + 1).standard_normal(y.shape)
    model.zero_grad()
    input_grads = model.backward(r)

    def loss() -> float:
        backend.seed(seed)
        value = float((model.forward(inputs) * r).sum())
        model.discard()
        return value

    analytic = {f"input{i}": g for i, g in enumerate(input_grads)}
    analytic.update(model.grads)
    tensors = {f"input{i}": x for i, x in enumerate(inputs)}
    tensors.update(model.params)
    report = check_gradients(loss, analytic, tensors, max_entries=100)
    assert len(report.checks) == len(inputs) + len(model.params)
    report.assert_ok()


@pytest.mark.parametrize("axis", [-1, 1, 2])
def test_concatenate_gradients_match_finite_differences(rng, axis):
    shapes = {-1: [(2, 3, 3, 2), (2, 3, 3, 4)], 1: [(2, 1, 3, 2), (2, 4, 3, 2)], 2: [(2, 3, 2, 2), (2, 3, 5, 2)]}[axis]
    _check_multi_input(nn.Concatenate(axis=axis), [rng.standard_normal(s) for s in shapes])


def test_concatenate_puts_inputs_side_by_side():
    a = np.ones((2, 3), np.float32)
    b = np.zeros((2, 2), np.float32)
    y = nn.Concatenate().forward([a, b], training=False)
    np.testing.assert_array_equal(y, np.hstack([a, b]))


def test_conditional_generator_branches_gradients_match_finite_differences(rng):
    """cDCGAN-style: z and a one-hot y each through Dense -> BN -> ReLU -> Reshape -> Conv2DTranspose, joined."""

    def branch(units: int, channels: int) -> nn.Sequential:
        return nn.Sequential(
            [
                nn.Dense(2 * 2 * units),
                nn.BatchNormalization(),
                nn.ReLU(),
                nn.Reshape((2, 2, units)),
                nn.Conv2DTranspose(channels, 4, strides=2, padding="same"),
            ]
        )

    model = nn.Sequential(
        [
            nn.Parallel([branch(3, 2), branch(2, 1)]),
            nn.BatchNormalization(),
            nn.LeakyReLU(0.2),
            nn.Conv2DTranspose(1, 4, strides=2, padding="same"),
            nn.Tanh(),
        ]
    )
    z = rng.standard_normal((4, 5))
    y = np.eye(3)[[0, 2, 1, 2]]
    _check_multi_input(model, [z, y])
    assert model.output_shape([(5,), (3,)]) == (8, 8, 1)


def test_conditional_discriminator_with_label_maps_gradients_match(rng):
    """cDCGAN's D: label maps concatenated to the image channels, then a convolution."""
    model = nn.Sequential(
        [
            nn.Parallel([nn.Sequential(), nn.Sequential()]),
            nn.Conv2D(2, 3, strides=2, padding="same"),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.3),
            nn.Flatten(),
            nn.Dense(1),
        ]
    )
    images = rng.standard_normal((3, 6, 6, 1))
    label_maps = np.broadcast_to(np.eye(3)[[0, 1, 2]][:, None, None, :], (3, 6, 6, 3)).copy()
    _check_multi_input(model, [images, label_maps])


def test_parallel_names_its_branches_apart_and_returns_one_gradient_per_input():
    model = nn.Parallel([nn.Sequential([nn.Dense(2)]), nn.Sequential([nn.Dense(3)])])
    out = model.forward([np.ones((4, 5), np.float32), np.ones((4, 1), np.float32)])
    assert out.shape == (4, 5)
    assert list(model.params) == [
        "sequential/dense/kernel",
        "sequential/dense/bias",
        "sequential_1/dense/kernel",
        "sequential_1/dense/bias",
    ]
    grads = model.backward(np.ones((4, 5), np.float32))
    assert [g.shape for g in grads] == [(4, 5), (4, 1)]


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ([np.ones((2, 3, 3, 1), np.float32), np.ones((2, 4, 3, 1), np.float32)], "agree except on axis -1"),
        ([np.ones((2, 3), np.float32), np.ones((2, 3), np.float64)], "one dtype"),
        (np.ones((2, 3), np.float32), "expected a list of at least two arrays"),
    ],
)
def test_concatenate_refuses_inputs_that_do_not_fit(inputs, message):
    with pytest.raises(ValueError, match=message):
        nn.Concatenate().forward(inputs)


def test_parallel_refuses_the_wrong_number_of_inputs():
    with pytest.raises(ValueError, match="expected a list of 2 inputs"):
        nn.Parallel([nn.Sequential(), nn.Sequential()]).forward([np.ones((1, 2), np.float32)])
