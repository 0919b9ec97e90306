"""Binary cross-entropy on logits, Adam and SGD against their formulas."""

from __future__ import annotations

import numpy as np
import pytest

from minigan import backend, losses, nn, optim
from minigan.gradcheck import check_gradients


def test_bce_with_logits_matches_the_textbook_formula(rng):
    x = rng.standard_normal((6, 1)) * 3
    t = rng.uniform(0, 1, (6, 1))
    loss, grad = losses.bce_with_logits(x, t)
    p = 1 / (1 + np.exp(-x))
    assert float(loss) == pytest.approx(np.mean(-t * np.log(p) - (1 - t) * np.log(1 - p)), rel=1e-12)
    np.testing.assert_allclose(grad, (p - t) / 6, rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_is_finite_and_exact_for_logits_up_to_1e4(dtype):
    x = np.array([[-1e4], [1e4], [-1e4], [1e4]], dtype=dtype)
    t = np.array([[1.0], [0.0], [0.0], [1.0]], dtype=dtype)
    loss, grad = losses.bce_with_logits(x, t)
    assert loss.dtype == dtype and grad.dtype == dtype
    assert float(loss) == pytest.approx(1e4 / 2, rel=1e-6)  # two confidently wrong answers, two right
    np.testing.assert_allclose(grad, [[-0.25], [0.25], [0.0], [0.0]], atol=1e-7)


def test_bce_with_logits_gradient_matches_finite_differences(rng):
    x = rng.standard_normal((5, 1))
    t = np.array([[1.0], [0.0], [0.9], [1.0], [0.0]])
    _, grad = losses.bce_with_logits(x, t)
    report = check_gradients(lambda: float(losses.bce_with_logits(x, t)[0]), {"logits": grad}, {"logits": x})
    report.assert_ok()


def test_bce_with_logits_accepts_one_number_as_target_and_refuses_a_wrong_shape(rng):
    x = rng.standard_normal((4, 1)).astype(np.float32)
    loss_scalar, _ = losses.bce_with_logits(x, 0.9)
    loss_array, _ = losses.bce_with_logits(x, np.full((4, 1), 0.9, np.float32))
    assert float(loss_scalar) == pytest.approx(float(loss_array), rel=1e-6)
    with pytest.raises(ValueError, match=r"expected targets of shape \(4, 1\), got \(4,\)"):
        losses.bce_with_logits(x, np.ones(4, np.float32))


def _model_with_gradient(values: np.ndarray, grad: np.ndarray) -> nn.Dense:
    layer = nn.Dense(values.shape[1], use_bias=False, input_shape=(values.shape[0],))
    layer.params["kernel"][...] = values
    layer.grads["kernel"][...] = grad
    return layer


def test_adam_follows_the_keras_update_with_bias_correction(rng):
    w0 = rng.standard_normal((3, 2)).astype(np.float32)
    g1, g2 = rng.standard_normal((2, 3, 2)).astype(np.float32)
    layer = _model_with_gradient(w0, g1)
    adam = optim.Adam(layer, lr=0.1, beta_1=0.5, beta_2=0.9, epsilon=1e-7)
    adam.step()
    layer.grads["kernel"][...] = g2
    adam.step()
    w, m, v = w0.astype(np.float64), 0.0, 0.0
    for t, g in enumerate((g1, g2), start=1):
        m = 0.5 * m + 0.5 * g
        v = 0.9 * v + 0.1 * g.astype(np.float64) ** 2
        w = w - 0.1 * np.sqrt(1 - 0.9**t) / (1 - 0.5**t) * m / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(layer.params["kernel"], w, rtol=1e-5)
    assert layer.params["kernel"].dtype == np.float32
    assert adam.t == 2


def test_sgd_with_momentum_follows_its_formula(rng):
    w0 = rng.standard_normal((2, 2)).astype(np.float32)
    g = rng.standard_normal((2, 2)).astype(np.float32)
    layer = _model_with_gradient(w0, g)
    sgd = optim.SGD(layer, lr=0.5, momentum=0.9)
    sgd.step()
    sgd.step()
    np.testing.assert_allclose(layer.params["kernel"], w0 - 0.5 * g - (0.9 * 0.5 * g + 0.5 * g), rtol=1e-6)


def test_optimizer_zero_grad_clears_every_gradient(rng):
    model = nn.Sequential([nn.Dense(2), nn.Dense(1)], input_shape=(3,))
    model.forward(rng.standard_normal((4, 3)).astype(np.float32))
    model.backward(np.ones((4, 1), np.float32))
    adam = optim.Adam(model)
    assert any(g.any() for g in model.grads.values())
    adam.zero_grad()
    assert not any(g.any() for g in model.grads.values())


def test_a_few_adam_steps_fit_a_linear_map(rng):
    """The whole loop, forward -> loss -> backward -> step, actually learns."""
    backend.seed(3)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    t = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) > 0).astype(np.float32)
    model = nn.Sequential([nn.Dense(8), nn.LeakyReLU(0.2), nn.Dense(1)])
    adam = optim.Adam(model, lr=0.05)
    first = None
    for _ in range(100):
        adam.zero_grad()
        loss, dlogits = losses.bce_with_logits(model.forward(x), t)
        model.backward(dlogits)
        adam.step()
        first = float(loss) if first is None else first
    assert float(loss) < 0.2 * first


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda m: optim.Adam(m, lr=0), "expected lr > 0"),
        (lambda m: optim.Adam(m, beta_1=1.0), "expected 0 <= beta_1 < 1"),
        (lambda m: optim.SGD(m, momentum=-0.1), "expected 0 <= momentum < 1"),
        (lambda m: optim.Adam(object()), "expected a model with params and grads"),
    ],
)
def test_optimizer_arguments_are_checked(make, message):
    with pytest.raises(ValueError, match=message):
        make(nn.Dense(1))
