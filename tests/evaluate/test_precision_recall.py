"""Improved precision and recall (minigan/evaluate/precision_recall.py) against hand-computed cases."""

import numpy as np
import pytest

from minigan.evaluate import knn_radii, precision_recall

# Real points 0, 1, 3, 7 on a line. With k = 1 their balls reach 1, 1, 2 and 4; with k = 2,
# 3 (0's second neighbour is 3), 2, 3 and 6.
REAL = np.array([[0.0], [1.0], [3.0], [7.0]])
# Generated 0.5, 0.75, 12: with k = 1 their balls reach 0.25, 0.25 and 11.25.
GENERATED = np.array([[0.5], [0.75], [12.0]])


def test_radii_reach_the_kth_nearest_other_point():
    np.testing.assert_array_equal(knn_radii(REAL, k=1), [1, 1, 2, 4])
    np.testing.assert_array_equal(knn_radii(REAL, k=2), [3, 2, 3, 6])
    np.testing.assert_array_equal(knn_radii(GENERATED, k=1), [0.25, 0.25, 11.25])


def test_a_duplicate_is_a_neighbour_at_distance_zero():
    np.testing.assert_array_equal(knn_radii(np.array([[0.0], [0.0], [5.0]]), k=1), [0, 0, 5])


def test_precision_and_recall_of_the_small_case_match_the_hand_count():
    # Precision, k = 1: 0.5 and 0.75 lie in 0's ball (radius 1); 12 is 5 from 7, whose ball is 4: 2/3.
    # Recall: 0 is 0.5 from 0.5 (radius 0.25), outside; 1 is exactly 0.25 from 0.75: inside (a ball
    # includes its edge); 3 and 7 lie in 12's ball (radius 11.25): 3/4.
    assert precision_recall(REAL, GENERATED, k=1) == pytest.approx((2 / 3, 3 / 4))


def test_a_larger_k_widens_the_balls():
    # With k = 2, 7's ball reaches 6 and takes in 12.
    precision, _ = precision_recall(REAL, GENERATED, k=2)

    assert precision == 1.0


def test_given_radii_and_small_blocks_give_the_same_shares():
    rng = np.random.default_rng(0)
    real, generated = rng.standard_normal((60, 5)), rng.standard_normal((45, 5)) + 0.3
    radii = knn_radii(real, k=3)

    assert precision_recall(real, generated, k=3, real_radii=radii) == precision_recall(real, generated, k=3)
    np.testing.assert_allclose(knn_radii(real, k=3, block=7), radii, rtol=1e-12)  # other products: rounding
    assert precision_recall(real, generated, k=3, block=4) == precision_recall(real, generated, k=3)


def test_identical_sets_have_precision_and_recall_one():
    points = np.random.default_rng(1).standard_normal((30, 4))

    assert precision_recall(points, points.copy(), k=3) == (1.0, 1.0)


@pytest.mark.parametrize("k", [0, 4])
def test_k_must_leave_a_neighbour_in_the_set(k):
    with pytest.raises(ValueError, match=r"expected 1 <= k < N = 4"):
        knn_radii(REAL, k=k)


def test_features_of_different_dimensions_are_refused():
    with pytest.raises(ValueError, match="one dimension"):
        precision_recall(REAL, np.zeros((5, 2)))
