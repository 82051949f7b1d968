"""theorylab.quadrature: Gaussian rules against closed moments and mpmath.quad references."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from theorylab.quadrature import (
    gaussian_rule,
    gaussian_step,
    hermite_rule,
    hermite_rule_precise,
    weighted_sum,
)


def _double_factorial(k: int) -> int:
    return math.prod(range(k - 1, 0, -2))


def test_hermite_rules_integrate_gaussian_moments():
    nodes, weights = hermite_rule(200)
    for power in range(0, 21, 2):  # E[x^(2k)] = (2k - 1)!!
        assert weighted_sum(weights, nodes**power) == pytest.approx(
            _double_factorial(power), rel=1e-13)
    nodes, weights = hermite_rule_precise(60, 30)
    with mpmath.workdps(30):
        assert abs(mpmath.fsum(w * x**8 for w, x in zip(weights, nodes, strict=True)) - 105) \
            < mpmath.mpf(10) ** -26


def _reference(function: object, scale: float) -> mpmath.mpf:
    """E[f(scale x)] by mpmath.quad split where the integrand varies (30 digits)."""
    with mpmath.workdps(30):
        return mpmath.quad(lambda x: function(scale * x) * mpmath.exp(-x * x / 2),
                           [-mpmath.inf, -6, -2, 0, 2, 6, mpmath.inf]) / mpmath.sqrt(
                               2 * mpmath.pi)


@pytest.mark.parametrize("scale", [0.1, 2.0, 10.0])
def test_trapezoid_rule_follows_tanh_poles(scale):
    # tanh(scale x) has poles at i pi/(2 scale): Gauss-Hermite's 200 fixed nodes left 1e-6
    # at scale 2; the trapezoid step shrinks with the pole distance.
    reference = _reference(lambda u: mpmath.sech(u) ** 4, scale)
    nodes, weights = gaussian_rule(gaussian_step(scale=scale, singularity=math.pi / 2))
    value = weighted_sum(weights, 1 / np.cosh(scale * nodes) ** 4)
    assert value == pytest.approx(float(reference), rel=1e-14)
    nodes, weights = gaussian_rule(gaussian_step(scale=scale, digits=30,
                                                 singularity=math.pi / 2), 30)
    with mpmath.workdps(30):
        precise = mpmath.fsum(w * mpmath.sech(scale * x) ** 4
                              for w, x in zip(weights, nodes, strict=True))
        assert abs(precise / reference - 1) < mpmath.mpf(10) ** -28


def test_trapezoid_rule_for_an_entire_function_with_gaussian_growth():
    # gelu(u)^2 = (u Phi(u))^2: entire, but Phi grows like exp(y^2/2) off the real axis.
    scale = 3.0
    reference = _reference(lambda u: (u * mpmath.ncdf(u)) ** 2, scale)
    nodes, weights = gaussian_rule(gaussian_step(scale=scale))
    u = scale * nodes
    value = weighted_sum(weights, (u * (1 + np.vectorize(math.erf)(u / math.sqrt(2))) / 2) ** 2)
    assert value == pytest.approx(float(reference), rel=1e-14)


def test_weighted_sum_does_not_depend_on_the_order():
    generator = np.random.default_rng(0)
    weights, values = generator.random(1000), generator.standard_normal(1000) * 1e8
    forward = weighted_sum(weights, values)
    assert forward == weighted_sum(weights[::-1].copy(), values[::-1].copy())
    assert forward == math.fsum((weights * values).tolist())


def test_bad_arguments_fail_clearly():
    with pytest.raises(ValueError, match="scale"):
        gaussian_step(scale=0.0)
    with pytest.raises(ValueError, match="count"):
        hermite_rule(0)
