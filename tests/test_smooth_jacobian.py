"""tanh and erf networks in free_probability.jacobian_spectrum and dynamical_isometry.

Independent code paths: mpmath quadrature for the moments of D² = φ'(h)²; the free
multiplicative convolution of moment sequences through free cumulants on non-crossing
partitions (not the S-transform series of theorylab.jacobian_law); the exact law of one
orthogonal layer, σ_w² φ'(h)², for the contour quadrature's CDF and density.
"""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest
from theorylab.theory import free_probability as theory

from theorylab import activations, free, registry
from theorylab.jacobian_law import (
    JacobianLaw,
    SquaredDerivativeLaw,
    jacobian_moments,
    reverted_series,
    s_transform_series,
)
from theorylab.verifier import Status, check


def _mpmath_moment(activation: str, q: float, k: int) -> mpmath.mpf:
    with mpmath.workdps(20):
        if activation == "tanh":
            def squared(h):
                return mpmath.sech(h) ** 4
        else:
            def squared(h):
                return 4 / mpmath.pi * mpmath.exp(-2 * h * h)
        return mpmath.quad(lambda z: squared(mpmath.sqrt(q) * z) ** k * mpmath.npdf(z),
                           [-mpmath.inf, -3, 0, 3, mpmath.inf])


@pytest.mark.parametrize("activation", activations.SMOOTH_JACOBIAN)
def test_derivative_moments_match_mpmath(activation):
    for q in (0.1, 1.5):
        for k in (1, 3, 6):
            exact = _mpmath_moment(activation, q, k)
            value = activations.derivative_moment(activation, q, k)
            assert abs(value / float(exact) - 1) < 1e-12, (q, k)


# -- free multiplicative convolution by free cumulants (independent of the S-transform) --


def _set_partitions(elements):
    if not elements:
        yield []
        return
    first, rest = elements[0], elements[1:]
    for partition in _set_partitions(rest):
        yield [[first], *partition]
        for index in range(len(partition)):
            yield partition[:index] + [[first, *partition[index]]] + partition[index + 1:]


def _crossing(partition):
    label = {e: i for i, block in enumerate(partition) for e in block}
    points = sorted(label)
    for a, b, c, d in itertools.combinations(points, 4):
        if label[a] == label[c] != label[b] == label[d]:
            return True
    return False


def _non_crossing(n):
    return [p for p in _set_partitions(list(range(n))) if not _crossing(p)]


def _kreweras(partition, n):
    """The coarsest partition K of n primed points with partition ∪ K non-crossing."""
    best = None
    for candidate in _set_partitions(list(range(n))):
        merged = [[2 * e for e in block] for block in partition] + \
            [[2 * e + 1 for e in block] for block in candidate]
        if not _crossing(merged) and (best is None or len(candidate) < len(best)):
            best = candidate
    return best


def _free_cumulants(moments):
    cumulants = []
    for n in range(1, len(moments) + 1):
        total = sum(math.prod(cumulants[len(b) - 1] for b in p) for p in _non_crossing(n)
                    if len(p) > 1)
        cumulants.append(moments[n - 1] - total)
    return cumulants


def _free_product(first, second):
    """Moments of ab for free a, b: m_n(ab) = Σ_{π ∈ NC(n)} κ_π(a) m_{K(π)}(b)."""
    cumulants = _free_cumulants(first)
    result = []
    for n in range(1, len(first) + 1):
        result.append(sum(math.prod(cumulants[len(b) - 1] for b in p)
                          * math.prod(second[len(b) - 1] for b in _kreweras(p, n))
                          for p in _non_crossing(n)))
    return result


def _jacobian_by_cumulants(weights, weight_variance, derivative, depth, count):
    catalan = [math.comb(2 * n, n) // (n + 1) for n in range(1, count + 1)]
    layer = [weight_variance**n * (catalan[n - 1] if weights == "gaussian" else 1)
             for n in range(1, count + 1)]
    law = [1.0] * count
    for _ in range(depth):
        law = _free_product(_free_product(law, layer), derivative)
    return law


@pytest.mark.parametrize(("activation", "weights", "depth"), [
    ("tanh", "orthogonal", 3), ("tanh", "gaussian", 2), ("erf", "orthogonal", 2),
    ("erf", "gaussian", 1)])
def test_s_transform_series_matches_the_free_cumulant_convolution(activation, weights, depth):
    q, variance, count = 0.8, 1.4, 5
    derivative = [activations.derivative_moment(activation, q, k) for k in range(1, count + 1)]
    expected = _jacobian_by_cumulants(weights, variance, derivative, depth, count)
    layer = free.s_transform(f"{weights}_weights", weight_variance=variance)
    assert jacobian_moments(layer, derivative, depth, count) == pytest.approx(expected,
                                                                              rel=1e-12)
    # The claim's statements: moment, mean and relative variance (closed form in μ₁, μ₂).
    network = {"activation": activation, "weights": weights, "depth": depth,
               "weight_variance": variance, "preactivation_variance": q}
    claim = theory.jacobian_spectrum
    for k in (1, 2, 3):
        assert claim.predict(**network, quantity="moment", k=k) == pytest.approx(
            expected[k - 1], rel=1e-12)
    assert claim.predict(**network, quantity="mean") == pytest.approx(expected[0], rel=1e-13)
    assert claim.predict(**network, quantity="relative_variance") == pytest.approx(
        expected[1] / expected[0] ** 2 - 1, rel=1e-11)


def test_series_reversion_and_s_transform_series():
    moments = [0.6, 0.5, 0.45, 0.4]
    inverse = reverted_series(moments)
    w = 1e-3
    u = sum(c * w**n for n, c in enumerate(inverse))
    assert sum(m * u ** (k + 1) for k, m in enumerate(moments)) == pytest.approx(w, rel=1e-11)
    # Bernoulli(p): S(w) = (1 + w)/(p + w) = (1/p) Σ (1 − p)(−w/p)^j (j ≥ 1) + 1/p.
    p = 0.6
    series = s_transform_series([p] * 5)
    expected = [1 / p] + [(1 - p) * (-1) ** j / p ** (j + 1) for j in range(1, 5)]
    assert series == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("activation", activations.SMOOTH_JACOBIAN)
def test_one_orthogonal_layer_is_the_law_of_the_squared_derivative(activation):
    # JJᵀ = σ_w² φ'(h)²: F(x) = P(|h| ≥ h(x)), h(x) the positive root of σ_w² φ'(h)² = x.
    q, variance = 0.9, 1.3
    law = JacobianLaw(free.s_transform("orthogonal_weights", weight_variance=variance),
                      SquaredDerivativeLaw(activation, q), 1)
    top = 1.0 if activation == "tanh" else 4 / math.pi
    x = variance * top * np.array([0.05, 0.3, 0.6, 0.9, 0.99])
    ratio = x / (variance * top)
    root = (np.arccosh(ratio ** -0.25) if activation == "tanh"
            else np.sqrt(-np.log(ratio) / 2))
    expected = np.array([math.erfc(r / math.sqrt(2 * q)) for r in root])
    # Within 1% of the top of D²'s support the poles near h = 0 approach the contour.
    assert law.cdf(x[:-1]) == pytest.approx(expected[:-1], abs=1e-9)
    assert law.cdf(x[-1]) == pytest.approx(expected[-1], abs=1e-6)
    # ρ(x) = 2 N(h; 0, q)/|d(σ_w² φ'²)/dh| at the root.
    slope = (4 * variance * np.cosh(root) ** -4 * np.tanh(root) if activation == "tanh"
             else 4 * root * x)
    density = 2 * np.exp(-root**2 / (2 * q)) / math.sqrt(2 * math.pi * q) / slope
    assert law.density(x[:-1]) == pytest.approx(density[:-1], rel=1e-7)
    assert law.density(x[-1]) == pytest.approx(density[-1], rel=1e-4)
    assert law.edge() == pytest.approx(variance * top, rel=1e-6)


def test_density_carries_the_moments_of_deep_networks():
    law = JacobianLaw(free.s_transform("gaussian_weights", weight_variance=1.2),
                      SquaredDerivativeLaw("erf", 0.6), 2)
    edge = law.edge()
    x = np.linspace(0, edge, 801)[1:]
    density = law.density(x)
    # ρ diverges at 0 (an integrable singularity): x ρ and x² ρ by the trapezoid rule.
    assert np.trapezoid(density * x, x) == pytest.approx(law.moment(1), rel=3e-3)
    assert np.trapezoid(density * x**2, x) == pytest.approx(law.moment(2), rel=3e-3)
    inside = (x >= 0.2 * edge) & (x <= 0.6 * edge)
    assert law.mass(x[inside][0], x[inside][-1]) == pytest.approx(
        np.trapezoid(density[inside], x[inside]), abs=1e-4)
    # S(0) = 1/m₁ and −S'(0)/S(0) = m₂/m₁² − 1 through the quadrature of G_D.
    first, second = law.moments(2)
    assert law(0.0) == pytest.approx(1 / first, rel=1e-12)
    step = 1e-5
    assert -(law(step) - law(0.0)) / step / law(0.0) == pytest.approx(
        second / first**2 - 1, rel=1e-4)


def test_piecewise_linear_statements_are_unchanged():
    claim = theory.jacobian_spectrum
    for activation in ("relu", "hard_tanh"):
        for weights in ("orthogonal", "gaussian"):
            network = {"activation": activation, "weights": weights, "depth": 3,
                       "weight_variance": 1.7, "preactivation_variance": 0.8}
            p = activations.derivative_mean_square(activation, 0.8)
            gaussian = weights == "gaussian"
            assert claim.predict(**network, quantity="mean") == pytest.approx(
                (1.7 * p) ** 3, rel=1e-14)
            assert claim.predict(**network, quantity="relative_variance") == pytest.approx(
                3 * (1 / p - 1 + gaussian), rel=1e-14)
            assert claim.predict(**network, quantity="s_transform", w=0.4) == pytest.approx(
                1.7**-3 * 1.4 ** (-3 * gaussian) * (1.4 / (p + 0.4)) ** 3, rel=1e-14)
            law = (free.s_transform(f"{weights}_weights", weight_variance=1.7)
                   * free.s_transform("bernoulli", p=p)) ** 3
            assert claim.predict(**network, quantity="moment", k=4) == pytest.approx(
                law.moment(4), rel=1e-14)


def test_bad_moment_order_names_the_parameter():
    from theorylab.errors import ParameterError

    with pytest.raises(ParameterError, match="k"):
        theory.jacobian_spectrum.predict(activation="tanh", weights="gaussian", depth=2,
                                         weight_variance=1.2, preactivation_variance=0.7,
                                         quantity="moment", k=7)


def test_one_seed_rejects_the_bernoulli_and_gaussian_decoys():
    claim = registry.get("free_probability.dynamical_isometry")
    point = {"activation": "tanh", "weights": "orthogonal", "depth": 1,
             "preactivation_variance": 1.0, "quantity": "variance"}
    verdict = check(claim, points=[point], seed=0, record=False)
    assert verdict.status is Status.PASS, verdict.summary()
    for decoy in verdict.decoys:
        if decoy.subject.endswith(("bernoulli_derivative", "orthogonal_as_gaussian")):
            assert decoy.status is Status.FAIL, decoy.summary()
