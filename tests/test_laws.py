"""The closed-form spectral laws of :mod:`theorylab.laws` against independent references.

References: published integer sequences (OEIS), ``mpmath.quad`` of the density at 50
digits (CDF, total mass, moments), the root tracking of :mod:`theorylab.free` (a
different method for the same law), and float64 against mpmath. Also the public strategy
:func:`theorylab.strategies.quantile_bins` built on :func:`theorylab.laws.quantile_bin`.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.errors import InvalidArgument

from theorylab import free, laws, strategies

RATIOS = (0.25, 0.5, 1.0, 2.0, 4.0)


def test_counting_numbers_are_the_published_sequences():
    # OEIS A000108 (Catalan), A001263 (Narayana triangle), A001764 (Fuss–Catalan s = 2),
    # A002293 (s = 3).
    assert [laws.catalan_number(n) for n in range(8)] == [1, 1, 2, 5, 14, 42, 132, 429]
    assert [laws.narayana_number(5, j) for j in range(1, 6)] == [1, 10, 20, 10, 1]
    assert [laws.fuss_catalan_number(2, k) for k in range(6)] == [1, 1, 3, 12, 55, 273]
    assert [laws.fuss_catalan_number(3, k) for k in range(5)] == [1, 1, 4, 22, 140]
    assert laws.narayana_number(4, 0) == laws.narayana_number(4, 5) == 0
    assert math.isnan(laws.catalan_number(1.5))


def test_counts_beyond_float64_stay_exact_in_mpmath():
    count = laws.fuss_catalan_number(100, 200)
    assert isinstance(count, mpmath.mpf) and float(count) == math.inf
    with mpmath.workdps(60):
        exact = math.comb(101 * 200, 200) // (100 * 200 + 1)
        assert abs(laws.fuss_catalan_number(100, 200) / exact - 1) < mpmath.mpf(10) ** -55


def _mp_reference_density(x, ratio, variance):
    low = variance * (1 - mpmath.sqrt(ratio)) ** 2
    high = variance * (1 + mpmath.sqrt(ratio)) ** 2
    if not low < x < high:
        return mpmath.mpf(0)
    return mpmath.sqrt((high - x) * (x - low)) / (2 * mpmath.pi * variance * ratio * x)


@pytest.mark.parametrize("ratio", RATIOS)
def test_marchenko_pastur_cdf_is_the_integral_of_the_density(ratio):
    variance = 1.3
    with mpmath.workdps(50):
        r, v = mpmath.mpf(ratio), mpmath.mpf(variance)
        low, high = laws.marchenko_pastur_edges(r, v)
        atom = max(1 - 1 / r, 0)
        grid = [low + (high - low) * mpmath.mpf(f) / 10 for f in range(11)]
        for x in grid:
            integral = mpmath.quad(lambda t: _mp_reference_density(t, r, v), [low, x])
            expected = atom + integral
            # quad's own error: 1e-28 at λ = 1, where ρ diverges as x^(−1/2) at 0
            assert abs(laws.marchenko_pastur_cdf(x, r, v) - expected) < mpmath.mpf(10) ** -25
            assert abs(laws.marchenko_pastur_cdf(float(x), ratio, variance)
                       - float(expected)) < 1e-14
        assert laws.marchenko_pastur_cdf(-0.1, ratio, variance) == 0.0
        assert laws.marchenko_pastur_cdf(float(high) * 1.01, ratio, variance) == pytest.approx(
            1.0, abs=1e-15)


@pytest.mark.parametrize("ratio", RATIOS)
def test_marchenko_pastur_moments_are_the_integrals(ratio):
    with mpmath.workdps(40):
        r, v = mpmath.mpf(ratio), mpmath.mpf(0.8)
        low, high = laws.marchenko_pastur_edges(r, v)
        for k in range(1, 6):
            integral = mpmath.quad(lambda t, k=k: t**k * _mp_reference_density(t, r, v),
                                   [low, high])
            assert abs(laws.marchenko_pastur_moment(k, r, v) / integral - 1) < mpmath.mpf(10) ** -25
            assert laws.marchenko_pastur_moment(k, ratio, 0.8) == pytest.approx(float(integral),
                                                                              rel=1e-13)
        total = mpmath.quad(lambda t: _mp_reference_density(t, r, v), [low, high])
        assert abs(total + laws.marchenko_pastur_atom(r) - 1) < mpmath.mpf(10) ** -20


@pytest.mark.parametrize("ratio", (0.25, 0.5, 2.0))
def test_marchenko_pastur_density_matches_root_tracking(ratio):
    # A different method: the tracked root of the S-transform 1/(σ²(1 + λw)).
    law = free.s_transform("marchenko_pastur", ratio=ratio, variance=1.3)
    low, high = laws.marchenko_pastur_edges(ratio, 1.3)
    width = high - low  # the tracked root loses digits within 1e-3 of the edges
    grid = np.concatenate([np.linspace(low + 1e-3 * width, high - 1e-3 * width, 301),
                           [high + 0.1, high + 2.0] + ([low / 2] if low > 0 else [])])
    assert np.allclose(laws.marchenko_pastur_density(grid, ratio, 1.3), law.density(grid),
                       rtol=1e-9, atol=1e-12)
    assert laws.marchenko_pastur_density(0.0, ratio, 1.3) == 0.0


def test_float64_and_mpmath_agree_and_vectorise():
    grid = np.linspace(-3.0, 9.0, 97)
    cases = [(laws.marchenko_pastur_density, (0.5, 1.3)), (laws.marchenko_pastur_cdf, (2.0, 0.7)),
             (laws.semicircle_density, (1.7,)), (laws.semicircle_cdf, (1.7,)),
             (laws.fuss_catalan_density, (2,))]
    for function, arguments in cases:
        vector = function(grid, *arguments)
        with mpmath.workdps(30):
            precise = [function(mpmath.mpf(x), *arguments) for x in grid]
        scalar = [function(float(x), *arguments) for x in grid]
        assert all(isinstance(value, float) for value in scalar)
        assert np.allclose(vector, scalar, rtol=1e-15, atol=0)
        assert np.allclose(vector, [float(p) for p in precise], rtol=1e-11, atol=1e-14), function


def test_semicircle_against_quadrature_and_catalan_moments():
    variance = 1.7
    with mpmath.workdps(40):
        v = mpmath.mpf(variance)
        radius = 2 * mpmath.sqrt(v)
        for fraction in (-0.9, -0.3, 0.0, 0.4, 0.95):
            x = fraction * radius
            integral = mpmath.quad(lambda t: laws.semicircle_density(t, v), [-radius, x])
            assert abs(laws.semicircle_cdf(x, v) - integral) < mpmath.mpf(10) ** -30
        for k in range(1, 9):
            integral = mpmath.quad(lambda t, k=k: t**k * laws.semicircle_density(t, v),
                                   [-radius, 0, radius])
            assert abs(laws.semicircle_moment(k, v) - integral) < mpmath.mpf(10) ** -25
    assert laws.semicircle_moment(4, variance) == pytest.approx(2 * variance**2, rel=1e-15)
    assert laws.semicircle_cdf(-10.0, variance) == 0.0 and laws.semicircle_cdf(10.0, variance) == 1


@pytest.mark.parametrize("s", (1, 2, 3))
def test_fuss_catalan_density_integrates_to_the_moments_and_the_cdf(s):
    edge = laws.fuss_catalan_edge(s)
    assert edge == pytest.approx((s + 1) ** (s + 1) / s**s, rel=1e-15)
    with mpmath.workdps(30):
        # Moments as integrals over the angle φ ∈ (0, π/(s+1)), where the integrand is
        # smooth: ∫ x^k ρ dx = ∫ x(φ)^k ρ(φ) |x'(φ)| dφ, with
        # (log x)' = (s+1)² cot((s+1)φ) − cot φ − s² cot(sφ).
        def moment_integrand(phi, k):
            position, density = laws.fuss_catalan_angle(phi, s, mpmath)
            slope = ((s + 1) ** 2 * mpmath.cot((s + 1) * phi) - mpmath.cot(phi)
                     - s**2 * mpmath.cot(s * phi))
            return position**k * density * position * abs(slope)

        for k in range(0, 5):
            integral = mpmath.quad(lambda phi, k=k: moment_integrand(phi, k),
                                   [0, mpmath.pi / (s + 1)])
            assert abs(integral / laws.fuss_catalan_number(s, k) - 1) < mpmath.mpf(10) ** -20
    for low, high in ((0.3, 1.1), (1.1, 0.8 * edge)):
        integral = mpmath.quad(lambda t: laws.fuss_catalan_density(float(t), s), [low, high])
        mass = laws.fuss_catalan_cdf(high, s) - laws.fuss_catalan_cdf(low, s)
        assert mass == pytest.approx(float(integral), abs=1e-10)


def test_fuss_catalan_density_matches_root_tracking():
    for s in (1, 2, 3):
        law = free.s_transform("fuss_catalan", s=s)
        grid = np.linspace(0.05, laws.fuss_catalan_edge(s) * 0.99, 200)
        assert np.allclose(laws.fuss_catalan_density(grid, s), law.density(grid),
                           rtol=1e-8, atol=1e-12)
    # s = 1 is MP at λ = 1: the same law in closed form.
    grid = np.linspace(0.05, 3.95, 50)
    assert np.allclose(laws.fuss_catalan_density(grid, 1),
                       laws.marchenko_pastur_density(grid, 1.0), rtol=1e-10)


def test_laws_of_s_transforms_take_the_precision_of_their_arguments():
    law = free.s_transform("marchenko_pastur", ratio=0.5)
    assert isinstance(laws.law_density(law, 1.0), float)
    with mpmath.workdps(30):
        precise = laws.law_density(law, mpmath.mpf(1))
        assert isinstance(precise, mpmath.mpf)
        assert abs(precise - _mp_reference_density(mpmath.mpf(1), mpmath.mpf(0.5), 1)) \
            < mpmath.mpf(10) ** -25
        assert abs(laws.law_mass(law, mpmath.mpf("0.5"), mpmath.mpf(2))
                   - (laws.marchenko_pastur_cdf(mpmath.mpf(2), mpmath.mpf("0.5"))
                      - laws.marchenko_pastur_cdf(mpmath.mpf("0.5"), mpmath.mpf("0.5")))) \
            < mpmath.mpf(10) ** -25
    assert laws.law_edge(law, 0.5) == pytest.approx((1 + math.sqrt(0.5)) ** 2, rel=1e-12)


def test_quantile_bin_holds_the_mass_asked_for():
    for start in (0.0, 0.5, 1.0):
        lower, upper = laws.quantile_bin(lambda y: laws.marchenko_pastur_cdf(y, 0.5), 0.05,
                                         3.0, start, 0.35)
        mass = laws.marchenko_pastur_cdf(upper, 0.5) - laws.marchenko_pastur_cdf(lower, 0.5)
        assert 0.05 <= lower < upper <= 3.0
        assert mass == pytest.approx(0.35, abs=2e-3)  # linear interpolation on 801 points


@settings(max_examples=20, deadline=None)
@given(strategies.quantile_bins(cdf=lambda y: laws.semicircle_cdf(y, 1.0), low=-2.0, high=2.0))
def test_quantile_bins_draw_ordered_bins_of_the_mass_asked_for(found):
    lower, upper = found
    mass = laws.semicircle_cdf(upper, 1.0) - laws.semicircle_cdf(lower, 1.0)
    assert -2.0 <= lower < upper <= 2.0 and 0.3 - 2e-3 <= mass <= 0.45 + 2e-3


@pytest.mark.parametrize("strategy", [
    strategies.quantile_bins(cdf=None, low=0.0, high=1.0),
    strategies.quantile_bins(cdf=np.cumsum, low=1.0, high=1.0),
    strategies.quantile_bins(cdf=np.cumsum, low=0.0, high=1.0, min_mass=0.5, max_mass=0.4),
    strategies.quantile_bins(cdf=np.cumsum, low=0.0, high=math.inf),
])
def test_quantile_bins_invalid_arguments_fail_when_drawn(strategy):
    @given(strategy)
    def draw(value):
        pass

    with pytest.raises(InvalidArgument, match="must"):
        draw()
