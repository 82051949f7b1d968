"""The chaotic phase of rg_flow.depth_scales and hard_tanh's critical line (issue 17, 2-3).

Independent references, not the library's arcsine kernel or trapezoid rules: the
correlation map iterated to convergence with Gauss-Hermite expectations (erf: a 1-D rule
in u1, u2 | u1 in closed form, E[erf(a + bZ)] = erf(a/sqrt(1 + 2b^2)); tanh: a product
rule), its geometric rate read from the iterates; hard tanh's moments and critical line
by mpmath quadrature and mpmath.erfinv.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from scipy import special
from theorylab.numerics import rg_flow as numerics
from theorylab.proofs import rg_flow as proofs
from theorylab.theory import rg_flow as theory

from theorylab import kernels, mean_field
from theorylab.activations import activation
from theorylab.derivation import check_derivation
from theorylab.errors import ParameterError
from theorylab.verifier import Status, check

# Deep in the chaotic phase (chi_1 = 1.18, 1.33): c* = 0.48, 0.46.
CHAOTIC = [("tanh", 3.0, 0.1), ("erf", 3.0, 0.3)]


_nodes, _weights = np.polynomial.hermite_e.hermegauss(160)
_weights = _weights / _weights.sum()


def _erf_pair(q: float, c: float) -> float:
    """<erf(u1) erf(u2)> by a 1-D Gauss-Hermite rule in u1, u2 | u1 integrated in closed form."""
    spread = 1 + 2 * q * (1 - c * c)
    return float(_weights @ (special.erf(math.sqrt(q) * _nodes)
                             * special.erf(c * math.sqrt(q) * _nodes / math.sqrt(spread))))




def _tanh_pair(q: float, c: float) -> float:
    """<tanh(u1) tanh(u2)> by a 160 x 160 Gauss-Hermite product rule."""
    first = math.sqrt(q) * _nodes[:, None]
    second = math.sqrt(q) * (c * _nodes[:, None] + math.sqrt(1 - c * c) * _nodes[None, :])
    return float((_weights[:, None] * _weights[None, :] * np.tanh(first)
                  * np.tanh(second)).sum())


def _iterate(name: str, C_W: float, C_b: float) -> tuple[float, float]:
    """(c*, rate): the map iterated from c = 0.9 to convergence; rate = ratio of deviations."""
    pair = _erf_pair if name == "erf" else _tanh_pair
    q = kernels.fixed_point(name, C_W, C_b)
    history = [0.9]
    while len(history) < 2 or abs(history[-1] - history[-2]) > 1e-15 and len(history) < 500:
        history.append((C_b + C_W * pair(q, history[-1])) / q)
    final = history[-1]
    deviations = np.abs(np.array(history) - final)
    # Deviations near 1e-7: the nonlinear correction to the ratio is ~1e-7 relative.
    index = int(np.argmax(deviations < 1e-7))
    return final, float(deviations[index + 1] / deviations[index])


@pytest.mark.parametrize(("name", "C_W", "C_b"), CHAOTIC)
def test_correlation_fixed_point_and_slope_match_the_iterated_map(name, C_W, C_b):
    root, rate = _iterate(name, C_W, C_b)
    assert float(mean_field.correlation_fixed_point(name, C_W, C_b)) == pytest.approx(
        root, abs=1e-9)
    chi = float(mean_field.correlation_susceptibility(name, C_W, C_b))
    assert chi == pytest.approx(rate, rel=1e-5)
    point = {"activation": name, "C_W": C_W, "C_b": C_b}
    assert theory.depth_scales.predict(quantity="correlation_depth_scale", **point) == (
        pytest.approx(-1 / math.log(rate), rel=1e-5))
    assert theory.depth_scales.predict(quantity="correlation_contraction", **point) == (
        pytest.approx(rate, rel=1e-5))
    # chi_1 > 1 in the chaotic phase: the slope_at_one decoy is the slope at c = 1.
    q = kernels.fixed_point(name, C_W, C_b)
    assert kernels.chi_perpendicular(name, C_W, q) > 1.1
    decoy = theory.depth_scales.decoy("slope_at_one")
    assert theory.depth_scales.predict_decoy(decoy, quantity="correlation_contraction",
                                             **point) > 1.1


def test_ordered_phase_keeps_c_star_at_one():
    assert mean_field.correlation_fixed_point("tanh", 1.2, 0.4) == 1
    q = kernels.fixed_point("tanh", 1.2, 0.4)
    assert theory.depth_scales.predict(quantity="correlation_contraction", activation="tanh",
                                       C_W=1.2, C_b=0.4) == kernels.chi_perpendicular(
                                           "tanh", 1.2, q)


def test_thirty_digits_agree_with_float64():
    precise = mean_field.correlation_fixed_point("erf", 3.0, 0.3, precision=30)
    assert float(precise) == pytest.approx(mean_field.correlation_fixed_point("erf", 3.0, 0.3),
                                           rel=1e-13)
    assert float(theory.depth_scales.predict(precision=30, quantity="correlation_depth_scale",
                                             activation="erf", C_W=3.0, C_b=0.3)) == (
        pytest.approx(theory.depth_scales.predict(quantity="correlation_depth_scale",
                                                  activation="erf", C_W=3.0, C_b=0.3),
                      rel=1e-12))


def test_the_critical_line_is_left_out_with_one_line():
    # tanh at C_b = 0.1: chi_1 = 1.0005 at C_W = 1.98838 (brentq), inside the margin.
    q = kernels.fixed_point("tanh", 1.98838, 0.1)
    assert 1 < kernels.chi_perpendicular("tanh", 1.98838, q) < 1.001
    with pytest.raises(ParameterError, match="critical line"):
        theory.depth_scales.predict(quantity="correlation_depth_scale", activation="tanh",
                                    C_W=1.98838, C_b=0.1)


def test_chaotic_check_passes_and_rejects_slope_at_one():
    point = {"quantity": "correlation_depth_scale", "activation": "erf", "C_W": 3.0,
             "C_b": 0.3}
    verdict = check(theory.depth_scales, points=[point], seed=0, ensemble=8, record=False)
    assert verdict.status is Status.PASS, verdict.summary()
    rejected = {d.subject.split("~")[1]: d.status for d in verdict.decoys}
    assert rejected["slope_at_one"] is Status.FAIL
    assert rejected["swapped"] is Status.FAIL


def test_sampler_draws_a_chaotic_correlation_point_first():
    from theorylab.verifier import draw_points

    for seed in range(3):
        first = draw_points(theory.depth_scales, theory.depth_scales.budget, seed)[0]
        q = kernels.fixed_point(first["activation"], first["C_W"], first["C_b"])
        assert first["quantity"].startswith("correlation")
        assert kernels.chi_perpendicular(first["activation"], first["C_W"], q) > 1.05


# -- hard_tanh -------------------------------------------------------------------------------


def _clip_moment(variance: float, power_of_slope: bool = False) -> mpmath.mpf:
    density = lambda u: mpmath.npdf(u, 0, mpmath.sqrt(variance))  # noqa: E731
    if power_of_slope:
        return mpmath.quad(density, [-1, 1])
    return mpmath.quad(lambda u: min(max(u, -1), 1) ** 2 * density(u),
                       [-mpmath.inf, -1, 1, mpmath.inf])


@pytest.mark.parametrize("variance", [0.2, 0.8, 2.5])
def test_hard_tanh_moments_match_quadrature(variance):
    with mpmath.workdps(20):
        square, slope = kernels.gaussian_moments("hard_tanh", variance, variance, variance)[:4:3]
        assert square == pytest.approx(float(_clip_moment(variance)), rel=1e-13)
        assert slope == pytest.approx(float(_clip_moment(variance, True)), rel=1e-13)

        if variance == 0.8:  # chi_par = d<sigma^2>/dK (C_W = 1): differentiate the quadrature
            derivative = mpmath.diff(lambda k: _clip_moment(k), variance)
            assert kernels.chi_parallel("hard_tanh", 1.0, variance) == pytest.approx(
                float(derivative), rel=1e-10)


@pytest.mark.parametrize("C_W", [1.3, 2.0])
def test_hard_tanh_critical_line_matches_erfinv(C_W):
    with mpmath.workdps(30):
        q = 1 / (2 * mpmath.erfinv(1 / mpmath.mpf(C_W)) ** 2)
        expected = float(q - C_W * _clip_moment(q))
        both = {"activation": "hard_tanh", "C_W": C_W, "C_b": 0.1, "K": float(q)}
        assert theory.criticality.predict(quantity="critical_bias_variance", **both) == (
            pytest.approx(expected, rel=1e-12))
        # The same network from its fixed point q* = K: C_W = 1/erf(1/sqrt(2K)).
        assert theory.criticality.predict(quantity="critical_line_bias_variance", **both) == (
            pytest.approx(expected, rel=1e-12))


def test_hard_tanh_cross_moments_refused_away_from_zero_and_one():
    with pytest.raises(ParameterError, match="K12"):
        kernels.gaussian_moments("hard_tanh", 1.0, 1.0, 0.5)
    assert kernels.gaussian_moments("hard_tanh", 1.0, 0.5, 0.0)[2] == 0.0


def test_hard_tanh_critical_root_is_unbiased():
    """The interpolated active-fraction root: the bias bisection of a step function had."""
    import torch
    from theorylab.numerics._torch import generator

    gaussian = numerics._stratified(128, generator(7, "cpu"), "cpu")
    root = numerics._active_fraction_root(gaussian, 2.0)
    expected = 1 / (2 * float(mpmath.erfinv(0.5)) ** 2)
    spread = float(root.std()) / math.sqrt(root.numel())
    assert abs(float(root.mean()) - expected) < 4 * spread
    assert isinstance(root, torch.Tensor) and root.shape == (128,)


def test_hard_tanh_criticality_checks_and_rejects_decoys():
    points = [{"quantity": quantity, "activation": "hard_tanh", "C_W": 1.7, "C_b": 0.3,
               "K": 0.8} for quantity in ("chi_perpendicular", "critical_bias_variance",
                                          "critical_line_bias_variance")]
    verdict = check(theory.criticality, points=points, seed=0, record=False)
    assert verdict.status is Status.PASS, verdict.summary()
    rejected = {d.subject.split("~")[1]: d.status for d in verdict.decoys}
    assert rejected["parallel_is_perpendicular"] is Status.FAIL
    assert rejected["derivative_mean_squared"] is Status.FAIL


# -- derivations -----------------------------------------------------------------------------


def test_derivations_reach_their_statements():
    moments = activation("hard_tanh").moments
    for derivation, target in zip(proofs.HARD_TANH, (moments["sigma_squared"],
                                                     moments["slope_squared"]), strict=True):
        result = check_derivation(derivation, target)
        assert result.derives and result.status.value == "exact", result.summary()
    result = check_derivation(proofs.CRITICAL_NETWORK[0], theory.criticality.statements[
        "critical_line_bias_variance"])
    assert result.derives and result.status.value == "exact", result.summary()
    result = check_derivation(proofs.CHAOTIC_CORRELATION[0], theory.depth_scales.statements[
        "correlation_depth_scale"])
    assert result.derives, result.summary()
