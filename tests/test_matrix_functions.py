"""theorylab.matrix_functions against independent references (closed forms, scipy, mpmath)."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import scipy.linalg
import sympy
from hypothesis import given, settings
from hypothesis.errors import InvalidArgument

from theorylab.matrix_functions import (
    gram_sandwich,
    gram_sandwich_value,
    matrix_pairs,
    precise,
    psd_power,
    saturation_integral,
    saturation_integral_value,
    singular_projections,
    singular_value,
    singular_values,
    transposed,
)

RNG = np.random.default_rng(20140101)


def _float(values: object) -> np.ndarray:
    return np.asarray(values, dtype=float)


def test_precise_follows_the_working_precision():
    assert not precise()
    with mpmath.workdps(30):
        assert precise()


@pytest.mark.parametrize("exponent", [0.5, 1 / 3, 0.75, 2.0])
def test_psd_power_is_scipys_fractional_power(exponent):
    square = RNG.standard_normal((4, 4))
    matrix = square @ square.T + 0.1 * np.eye(4)
    expected = scipy.linalg.fractional_matrix_power(matrix, exponent).real
    assert np.allclose(psd_power(matrix, exponent), expected, rtol=1e-10, atol=1e-12)


def test_psd_power_zero_is_the_identity_and_drops_rounding_eigenvalues():
    vector = np.array([[1.0], [2.0], [2.0]])
    projector_times_nine = vector @ vector.T  # rank one, eigenvalue 9
    assert np.allclose(psd_power(projector_times_nine, 0), np.eye(3), rtol=0, atol=1e-15)
    # 9^(1/4) on the range, exactly 0 (not eps^(1/4) ~ 1e-4) on the null space.
    expected = 9**0.25 * projector_times_nine / 9
    assert np.allclose(psd_power(projector_times_nine, 0.25), expected, atol=1e-14)


def test_psd_power_in_mpmath_agrees_with_float64():
    square = RNG.standard_normal((3, 3))
    matrix = square @ square.T
    with mpmath.workdps(40):
        precise_power = psd_power(mpmath.matrix(matrix.tolist()), 0.5)
        squared = precise_power * precise_power
        assert mpmath.mnorm(squared - mpmath.matrix(matrix.tolist()), 1) < mpmath.mpf(10) ** -35
    assert np.allclose(_float(precise_power.tolist()), psd_power(matrix, 0.5), rtol=1e-12)


def test_gram_sandwich_of_a_diagonal_matrix():
    # W = diag(d): [W W^T]^p G [W^T W]^q = d_i^(2p) G_ik d_k^(2q).
    diagonal = np.array([0.5, 1.5, 3.0])
    gradient = RNG.standard_normal((3, 3))
    value = gram_sandwich_value(np.diag(diagonal), gradient, 0.25, 0.5)
    expected = diagonal[:, None] ** 0.5 * gradient * diagonal[None, :] ** 1.0
    assert np.allclose(value, expected, rtol=1e-13)


def test_gram_sandwich_of_a_rectangular_matrix_uses_both_grams():
    matrix, gradient = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    left = scipy.linalg.fractional_matrix_power(matrix @ matrix.T, 0.5).real  # 2 x 2, full rank
    value = gram_sandwich_value(matrix, gradient, 0.5, 0)
    assert np.allclose(value, left @ gradient, rtol=1e-10)
    with mpmath.workdps(40):
        precise_value = gram_sandwich_value(matrix, gradient, 0.5, 0)
    assert np.allclose(_float(precise_value), value, rtol=1e-12)


def test_the_sandwich_of_the_transpose_swaps_the_grams():
    matrix, gradient = RNG.standard_normal((3, 3)), RNG.standard_normal((3, 3))
    swapped = sympy.lambdify(
        [sympy.Symbol("W"), sympy.Symbol("G")],
        gram_sandwich(transposed(sympy.Symbol("W")), sympy.Symbol("G"), sympy.Rational(1, 3),
                      sympy.Rational(2, 3)))(matrix, gradient)
    expected = (psd_power(matrix.T @ matrix, 1 / 3) @ gradient
                @ psd_power(matrix @ matrix.T, 2 / 3))
    assert np.allclose(swapped, expected, rtol=1e-13)
    with pytest.raises(ValueError):  # W^T W is 3 x 3, the gradient 2 x 3
        gram_sandwich_value(np.transpose(RNG.standard_normal((2, 3))),
                            RNG.standard_normal((2, 3)), 0.5, 0.5)


def test_singular_values_and_projections_of_a_matrix_built_from_its_svd():
    left = np.linalg.qr(RNG.standard_normal((3, 3)))[0]
    right = np.linalg.qr(RNG.standard_normal((4, 4)))[0][:, :3]
    matrix = left @ np.diag([2.5, 1.1, 0.7]) @ right.T
    gradient = RNG.standard_normal((3, 4))
    assert np.allclose(singular_values(matrix), [2.5, 1.1, 0.7], rtol=1e-13)
    expected = [left[:, r] @ gradient @ right[:, r] for r in range(3)]
    assert np.allclose(singular_projections(matrix, gradient), expected, rtol=1e-12)
    with mpmath.workdps(40):
        assert np.allclose(_float(singular_values(matrix)), [2.5, 1.1, 0.7], rtol=1e-13)
        assert np.allclose(_float(singular_projections(matrix, gradient)), expected, rtol=1e-12)


def _incomplete_beta_form(exponent: float, strength: float, lower: float, upper: float) -> float:
    """∫ u^-p/(s - u) du = s^-p [x^a/a 2F1(a, 1; a + 1; x)], a = 1 - p, x = u/s (a != 0)."""
    with mpmath.workdps(50):
        power = 1 - mpmath.mpf(exponent)

        def antiderivative(u: float) -> mpmath.mpf:
            x = mpmath.mpf(u) / strength
            return x**power / power * mpmath.hyp2f1(power, 1, power + 1, x)

        return float(mpmath.mpf(strength) ** -mpmath.mpf(exponent)
                     * (antiderivative(upper) - antiderivative(lower)))


@pytest.mark.parametrize(("exponent", "strength", "lower", "upper"), [
    (0.5, 1.0, 0.01, 0.9),
    (4 / 3, 2.0, 1e-3, 1.9),
    (1.6, 0.7, 1e-6, 0.69),
    (1.98, 3.0, 0.3, 2.5),
])
def test_saturation_integral_is_the_incomplete_beta_function(exponent, strength, lower, upper):
    value = saturation_integral_value(exponent, strength, lower, upper)
    assert value == pytest.approx(_incomplete_beta_form(exponent, strength, lower, upper),
                                  rel=1e-13)


@pytest.mark.parametrize(("lower", "upper"), [(1e-3, 0.5), (1e-12, 1 - 1e-9)])
def test_saturation_integral_closed_forms(lower, upper):
    strength = 1.0
    # p = 0: ln((s - a)/(s - b)); p = 1: ln(b (s - a)/(a (s - b)))/s (Saxe et al. eq. 11).
    assert saturation_integral_value(0, strength, lower, upper) == pytest.approx(
        math.log((strength - lower) / (strength - upper)), rel=1e-14)
    assert saturation_integral_value(1, strength, lower, upper) == pytest.approx(
        math.log(upper / lower) - math.log((strength - upper) / (strength - lower)), rel=1e-14)
    # p = 2 (the N_l -> oo integrand): [-1/(s u) + ln(u/(s - u))/s^2] from a to b.
    assert saturation_integral_value(2, strength, lower, upper) == pytest.approx(
        1 / lower - 1 / upper + math.log(upper / lower)
        - math.log((strength - upper) / (strength - lower)), rel=1e-14)
    with mpmath.workdps(40):
        precise_value = saturation_integral_value(1, strength, lower, upper)
        exact = mpmath.log(mpmath.mpf(upper) * (1 - mpmath.mpf(lower))
                           / (mpmath.mpf(lower) * (1 - mpmath.mpf(upper))))
        assert abs(precise_value / exact - 1) < mpmath.mpf(10) ** -35


def test_named_functions_print_as_papers_write_them():
    p, s, a, b = sympy.symbols("p s a b", positive=True)
    assert sympy.latex(saturation_integral(p, s, a, b)) == (
        r"\int\limits_{a}^{b} \frac{u^{- p}}{s - u}\, du")
    matrix = sympy.Symbol("W")
    assert sympy.latex(singular_value(matrix)) == r"\sigma_r\left(W\right)"
    assert sympy.latex(transposed(matrix)) == "{W}^{T}"


@settings(max_examples=40, deadline=None)
@given(matrix_pairs())
def test_matrix_pairs_share_a_shape(pair):
    matrix, gradient = pair
    assert matrix.shape == gradient.shape and 1 <= min(matrix.shape) <= max(matrix.shape) <= 3


@settings(max_examples=40, deadline=None)
@given(matrix_pairs(max_side=4, min_singular_gap=0.3))
def test_matrix_pairs_with_a_gap_have_distinct_singular_values(pair):
    values = np.linalg.svd(pair[0], compute_uv=False)
    assert values[-1] >= 0.3 - 1e-12 and np.all(-np.diff(values) >= 0.3 - 1e-12)


def test_matrix_pairs_draw_square_and_rectangular_matrices():
    shapes = []

    @settings(max_examples=60, deadline=None, database=None)
    @given(matrix_pairs())
    def record(pair):
        shapes.append(pair[0].shape)

    record()
    assert any(rows == columns for rows, columns in shapes)
    assert any(rows != columns for rows, columns in shapes)


@pytest.mark.parametrize("strategy", [
    matrix_pairs(min_side=0),
    matrix_pairs(min_side=3, max_side=2),
    matrix_pairs(max_side=1.5),
    matrix_pairs(min_singular_gap=-1.0),
    matrix_pairs(min_singular_gap=float("inf")),
])
def test_matrix_pairs_refuse_bad_arguments_when_drawn(strategy):
    @given(strategy)
    def draw(value):
        pass

    with pytest.raises(InvalidArgument, match="must"):
        draw()
