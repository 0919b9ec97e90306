"""The Kernel Inception Distance (minigan/evaluate/kid.py) against hand-computed cases."""

import numpy as np
import pytest

from minigan.evaluate import kernel_inception_distance, mmd2_unbiased, polynomial_kernel


def test_the_kernel_is_the_cube_of_the_dot_product_over_the_dimension_plus_one():
    x, y = np.array([[1.0, 2.0]]), np.array([[3.0, -1.0], [0.0, 0.0]])

    np.testing.assert_allclose(polynomial_kernel(x, y), [[(1 / 2 + 1) ** 3, 1.0]])  # (3 - 2) / 2 + 1


def test_mmd2_of_two_pairs_matches_the_hand_computed_sums():
    # k(a, b) = (ab + 1)^3 in one dimension. Within x = {0, 1}: k(0, 1) = 1; within y = {1, 2}:
    # k(1, 2) = 27; across: k(0, 1) + k(0, 2) + k(1, 1) + k(1, 2) = 1 + 1 + 8 + 27 = 37.
    # MMD^2 = 2 * 1 / 2 + 2 * 27 / 2 - 2 * 37 / 4 = 1 + 27 - 18.5.
    x, y = np.array([[0.0], [1.0]]), np.array([[1.0], [2.0]])

    assert mmd2_unbiased(x, y) == pytest.approx(9.5, rel=1e-12)
    # The same dot products over D = 2 (each divided by 2): the kernel divides by the dimension.
    assert mmd2_unbiased(np.hstack([x, x]), np.hstack([y, y])) == pytest.approx(9.5, rel=1e-12)


def test_mmd2_of_sets_of_different_sizes_leaves_out_the_diagonals_only():
    # x = {0, 1, 2}: pairs (0,1) 1, (0,2) 1, (1,2) 27 -> 2 * 29 / (3 * 2); y = {1, 2}: 27;
    # across: 1 + 1 + 8 + 27 + 27 + 125 = 189 over 6. Unbiased, so it can be negative.
    x, y = np.array([[0.0], [1.0], [2.0]]), np.array([[1.0], [2.0]])

    assert mmd2_unbiased(x, y) == pytest.approx(58 / 6 + 27 - 2 * 189 / 6, rel=1e-12)


def test_kid_with_subsets_as_large_as_the_sets_is_the_whole_sets_mmd2_with_no_spread():
    x, y = np.array([[0.0], [1.0]]), np.array([[1.0], [2.0]])

    assert kernel_inception_distance(x, y, subsets=5, subset_size=10) == pytest.approx((9.5, 0.0))


def test_kid_is_the_mean_and_population_std_over_seeded_subsets():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((50, 4)), rng.standard_normal((40, 4)) + 0.5
    draw = np.random.RandomState(3)
    values = [mmd2_unbiased(x[draw.choice(50, 10, replace=False)], y[draw.choice(40, 10, replace=False)])
              for _ in range(7)]

    mean, std = kernel_inception_distance(x, y, subsets=7, subset_size=10, seed=3)

    assert (mean, std) == pytest.approx((np.mean(values), np.std(values)), rel=1e-12)
    assert kernel_inception_distance(x, y, subsets=7, subset_size=10, seed=3) == (mean, std)  # seeded


def test_kid_is_near_zero_for_two_samples_of_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((1000, 8)), rng.standard_normal((1000, 8))

    same, same_std = kernel_inception_distance(a, b, subsets=20, subset_size=500)
    shifted, _ = kernel_inception_distance(a, b + 1.0, subsets=20, subset_size=500)

    assert abs(same) < 3 * same_std + 0.01 and shifted > 0.5


@pytest.mark.parametrize(("x", "message"), [(np.zeros((1, 3)), r"N >= 2"), (np.zeros(4), r"got \(4,\)")])
def test_kid_refuses_fewer_than_two_rows_or_a_flat_array(x, message):
    with pytest.raises(ValueError, match=message):
        kernel_inception_distance(x, np.zeros((5, 3)))


def test_mmd2_refuses_features_of_different_dimensions():
    with pytest.raises(ValueError, match="one dimension"):
        mmd2_unbiased(np.zeros((3, 2)), np.zeros((3, 4)))
