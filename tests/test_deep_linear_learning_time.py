"""Learning-time measurements near saturation: the bias bound and the drawn domain."""

from __future__ import annotations

import math

import numpy as np
import pytest
from theorylab.numerics import deep_linear as simulations

from theorylab import registry
from theorylab.measurement import reduce
from theorylab.verifier import draw_points

LEARNING_TIMES = ("deep_linear.saxe_learning_time", "deep_linear.unequal_layer_time",
                  "deep_linear.deep_mode_dynamics")


def _eq_11(s: float, u0: float, uf: float, tau: float) -> float:
    # Saxe et al. 2014, eq. 11, written out here rather than taken from theory/.
    return tau / (2 * s) * math.log(uf * (s - u0) / (u0 * (s - uf)))


def test_the_bias_bound_covers_the_extrapolation_error_near_saturation():
    """saxe_learning_time seed 192: at s = 1.1, uf ~ 1 four learning rates left an error of
    6.5e-10 against a bias bound of 3.2e-10 (a false FAIL); five levels must cover it."""
    point = {"s": 1.1, "tau": 1.049975728817025, "u0": 0.03984124226051643, "uf": 0.99999}
    (measurement,) = simulations.saxe_learning_time([point], seed=192, device="cpu",
                                                    ensemble=4)
    estimate = reduce(measurement, order=1)
    error = abs(float(estimate.value) - _eq_11(**point))
    assert error <= float(estimate.bias_bound) + 8 * float(estimate.standard_error)


@pytest.mark.parametrize("claim_id", LEARNING_TIMES)
def test_drawn_points_stop_short_of_saturation(claim_id):
    claim = registry.get(claim_id)
    points = draw_points(claim, budget=40, seed=184)
    assert points and all(p["uf"] <= (1 - 1e-3) * p["s"] for p in points)
    # Only the drawing is narrowed: a point nearer saturation is still in the domain.
    near = {**points[0], "uf": points[0]["s"] * (1 - 1e-12)}
    assert claim.validate(near)["uf"] == near["uf"]


def test_crossing_times_bound_their_interpolation_error():
    # A logistic trace u_k = 1/(1 + 99 e^{-0.05 k}) crosses u = 1/2 at k = ln(99)/0.05.
    steps = np.arange(400)
    trace = 1 / (1 + 99 * np.exp(-0.05 * steps))
    exact = math.log(99) / 0.05
    times, errors = simulations._crossing_times(trace[:, None], np.array([0.5]))
    assert abs(times[0] - exact) <= errors[0] < 1e-6


def test_a_trace_that_is_not_monotone_at_the_crossing_is_bounded_by_a_step():
    trace = np.array([0.0, 0.1, 0.2, 0.15, 0.3, 0.6, 0.55, 0.7, 0.8, 0.9])
    times, errors = simulations._crossing_times(trace[:, None], np.array([0.45]))
    assert times[0] == pytest.approx(4.5) and errors[0] == 1.0
