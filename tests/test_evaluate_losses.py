"""softmax_cross_entropy: its value, its gradient (checked by finite differences) and its input checks."""

import numpy as np
import pytest

from minigan import losses
from minigan.gradcheck import check_gradients


def test_softmax_cross_entropy_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 5)) * 3
    labels = np.array([0, 4, 2, 2, 1, 3])
    _, dlogits = losses.softmax_cross_entropy(logits, labels)

    report = check_gradients(
        lambda: float(losses.softmax_cross_entropy(logits, labels)[0]), {"logits": dlogits}, {"logits": logits}
    )

    report.assert_ok()


def test_gradient_check_rejects_a_gradient_without_the_one_hot_term():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((4, 3))
    labels = np.array([0, 1, 2, 1])
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    softmax_only = shifted / shifted.sum(axis=1, keepdims=True) / len(logits)

    report = check_gradients(
        lambda: float(losses.softmax_cross_entropy(logits, labels)[0]), {"logits": softmax_only}, {"logits": logits}
    )

    assert not report.ok


def test_softmax_cross_entropy_equals_mean_negative_log_probability_of_the_label():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    labels = np.array([2, 0])
    expected = np.mean([-np.log(np.exp(3) / np.exp([1, 2, 3]).sum()), np.log(3)])

    loss, _ = losses.softmax_cross_entropy(logits, labels)

    assert float(loss) == pytest.approx(expected, rel=1e-12)


def test_softmax_cross_entropy_is_finite_for_huge_logits_and_keeps_float32():
    logits = np.array([[1e4, -1e4, 0.0]], dtype=np.float32)

    loss, dlogits = losses.softmax_cross_entropy(logits, np.array([1]))

    assert np.isfinite(float(loss)) and float(loss) == pytest.approx(2e4, rel=1e-6)
    assert dlogits.dtype == np.float32 and np.all(np.isfinite(dlogits))


@pytest.mark.parametrize(
    ("logits", "labels", "message"),
    [
        (np.zeros((2, 3)), np.array([0, 3]), "labels in \\[0, 2\\]"),
        (np.zeros((2, 3)), np.array([0.0, 1.0]), "integer labels"),
        (np.zeros((2, 3)), np.array([0]), "shape \\(2,\\)"),
        (np.zeros(3), np.array([0]), "shape \\(batch, classes\\)"),
    ],
)
def test_softmax_cross_entropy_rejects_bad_inputs(logits, labels, message):
    with pytest.raises(ValueError, match=message):
        losses.softmax_cross_entropy(logits, labels)
