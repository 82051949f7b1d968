"""theorylab.collapse_geometry against independent references: closed forms, mpmath's
root finder at high precision, a dense grid search, and hypothesis draws of the domain."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from theorylab import collapse_geometry as geometry
from theorylab.errors import ParameterError


def _g(size: float, b: float, depth: int, x: np.ndarray) -> np.ndarray:
    return size / (x**depth + 1) + b * x


def test_matrices_vectors_and_sums():
    assert np.array_equal(geometry.identity_matrix(3), np.eye(3))
    assert np.array_equal(geometry.ones_matrix(2), [[1, 1], [1, 1]])
    assert geometry.repeated(0, 1, 1.5, 2).tolist() == [0, 1.5, 1.5]
    exact = geometry.repeated(mpmath.mpf(1) / 3, 2)
    assert exact.dtype == object and exact[0] == mpmath.mpf(1) / 3
    assert np.array_equal(geometry.diagonal_matrix([1.0, 2.0]), [[1, 0], [0, 2]])
    assert geometry.class_sum(np.array([3, 1, 2])) == 6
    assert geometry.bias_indicator("unregularized") == 1.0
    assert geometry.bias_indicator("none") == 0.0


def test_subscripted_prints_the_size_as_a_subscript():
    function = geometry.subscripted(sympy.Function("identity"), "I")
    assert sympy.latex(function(sympy.Symbol("K"))) == "I_{K}"
    assert sympy.latex(function(sympy.Symbol("K")) ** 2) == "I_{K}^{2}"


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
@pytest.mark.parametrize("ratio", [0.05, 0.3, 0.6])
def test_largest_root_against_mpmath_findroot(depth, ratio):
    root = geometry.largest_root(ratio, depth, precision=40)
    peak = ((depth - 1) / (depth + 1)) ** (1 / depth)
    phi_max = depth * peak ** (depth - 1) / (peak**depth + 1) ** 2
    if ratio >= phi_max:
        assert root is None
        return
    with mpmath.workdps(50):
        # M x^(M-1) = r (x^M + 1)^2 as a polynomial: r x^2M + 2r x^M - M x^(M-1) + r = 0
        coefficients = [mpmath.mpf(0)] * (2 * depth + 1)  # highest degree first
        coefficients[0] = coefficients[depth] = coefficients[2 * depth] = mpmath.mpf(ratio)
        coefficients[depth] *= 2
        coefficients[depth + 1] -= depth
        roots = mpmath.polyroots(coefficients, maxsteps=200, extraprec=100)
        reference = max(mpmath.re(z) for z in roots
                        if abs(mpmath.im(z)) < mpmath.mpf(10) ** -30 and mpmath.re(z) > 0)
        assert abs(root - reference) < mpmath.mpf(10) ** -35 * reference


def test_largest_root_at_depth_one_is_the_closed_form():
    # M = 1: 1/(x + 1)^2 = r  ->  x = 1/sqrt(r) - 1 (for r < 1); none for r >= 1
    for ratio in (0.01, 0.25, 0.81):
        assert float(geometry.largest_root(ratio, 1)) == pytest.approx(
            1 / math.sqrt(ratio) - 1, rel=1e-15)
    assert geometry.largest_root(1.0, 1) is None


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.floats(0.05, 3.0), st.lists(st.integers(1, 20), min_size=1,
                                                         max_size=4))
def test_class_minimizers_against_a_grid_search(depth, b, sizes):
    found = geometry.reduced_minimizers(np.asarray(sizes), b, depth)
    grid = np.linspace(0.0, 30.0, 300001)
    for size, x in zip(sizes, found, strict=True):
        best = _g(size, b, depth, grid)
        # the global minimum over x >= 0 is not above any grid value (to rounding)
        assert _g(size, b, depth, np.array([x]))[0] <= best.min() + 1e-9 * size
        assert x >= 0


def test_collapse_and_the_literal_root_differ_between_the_edges():
    # M = 2, n_k/b = 1.7: the root exists (b/n_k < max phi = 0.6495) but g(root) > g(0).
    b = 1 / 1.7
    assert geometry.reduced_minimizers(np.array([1]), b, 2)[0] == 0.0
    root = geometry.largest_stationary_points(np.array([1]), b, 2)[0]
    assert root > 0.1 and _g(1, b, 2, np.array([root]))[0] > 1.0


def test_minimizers_at_precision_agree_with_float64():
    sizes, b, depth = np.array([5, 2, 1]), 0.4, 3
    fast = geometry.reduced_minimizers(sizes, b, depth)
    with mpmath.workdps(40):
        precise = geometry.reduced_minimizers(sizes, mpmath.mpf(b), depth)
    assert precise.dtype == object
    assert np.allclose(fast, np.array(precise, dtype=float), rtol=1e-14, atol=0)


@settings(max_examples=30, deadline=None)
@given(geometry.ClassSizes().strategy())
def test_class_sizes_draws_valid_vectors(sizes):
    domain = geometry.ClassSizes()
    assert 2 <= sizes.size <= domain.max_sample_classes
    assert np.array_equal(domain.validate("n", sizes.tolist()), sizes)


@pytest.mark.parametrize("value, detail", [([3, 0], "empty"), ([3], "K >= 2"),
                                           ([1.5, 2], "integers"), ([20000, 1], "n_k <=")])
def test_class_sizes_refuse_bad_lists(value, detail):
    with pytest.raises(ParameterError, match=detail):
        geometry.ClassSizes().validate("n", value)


def test_simplex_frame_is_unit_equiangular_and_rotates():
    rows = geometry.simplex_frame(3)
    assert np.allclose(rows @ rows.T, [[1, -0.5, -0.5], [-0.5, 1, -0.5], [-0.5, -0.5, 1]],
                       rtol=0, atol=1e-15)
    rotation = np.linalg.qr(np.random.default_rng(0).standard_normal((6, 4)))[0]  # 6 x 4
    rotated = geometry.simplex_frame(4, rotation)
    unrotated = geometry.simplex_frame(4)
    assert rotated.shape == (4, 6)
    assert np.allclose(rotated @ rotated.T, unrotated @ unrotated.T, rtol=0, atol=1e-14)
    assert np.allclose(np.linalg.norm(rotated, axis=1), 1.0, rtol=0, atol=1e-15)
    for metric in (geometry.nc2_equinorm_papyan, geometry.nc2_equiangularity_papyan,
                   geometry.nc2_max_angle_papyan, geometry.nc2_etf_distance_zhu):
        assert metric(3.0 * rotated) == pytest.approx(0.0, abs=1e-14)


def test_nc1_by_hand_and_class_means():
    # two classes at (+-1, 0) spread by +-a along x: Tr(Sigma_W Sigma_B^+)/K = a^2/2
    spread, labels = 0.3, np.array([0, 0, 1, 1])
    features = np.array([[1 + spread, 0], [1 - spread, 0], [-1 + spread, 0], [-1 - spread, 0]])
    means, centre = geometry.class_means(features, labels)
    assert np.allclose(means, [[1, 0], [-1, 0]]) and np.allclose(centre, 0)
    assert geometry.nc1_papyan(features, labels) == pytest.approx(spread**2 / 2, rel=1e-12)
