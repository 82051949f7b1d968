"""Samplers of rg_flow's claims: where their checks draw points.

Moved out of theory/rg_flow.py so that the family stays declarative; each comment says
why a range is drawn.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from theorylab.activations import BOUNDED, NAMES, SCALE_INVARIANT, ZERO_FIXED_POINT
from theorylab.strategies import input_pairs

__all__ = ["cnn_points", "criticality_points", "depth_scale_points"]


def criticality_points(*, activations: tuple[str, ...],
                       critical_line: tuple[str, ...]) -> st.SearchStrategy:
    """Points of rg_flow.criticality: susceptibilities twice as often as each other quantity."""
    susceptibility = st.fixed_dictionaries({
        "quantity": st.sampled_from(("chi_parallel", "chi_perpendicular")),
        "activation": st.sampled_from(activations), "C_W": st.floats(0.5, 2.0),
        "C_b": st.floats(0.05, 1.0), "K": st.floats(0.2, 1.2)})
    fixed_point = st.fixed_dictionaries({
        "quantity": st.just("fixed_point"), "activation": st.sampled_from(critical_line),
        "C_W": st.floats(0.5, 2.0), "C_b": st.floats(0.05, 1.0), "K": st.floats(0.2, 1.2)})
    critical_weight = st.fixed_dictionaries({
        "quantity": st.just("critical_weight_variance"),
        "activation": st.sampled_from(SCALE_INVARIANT + ZERO_FIXED_POINT),
        "C_W": st.floats(0.5, 2.0), "C_b": st.floats(0.05, 1.0), "K": st.floats(0.2, 1.2)})
    # On the critical line, C_W from 2.5 times critical keeps sigma_b^2 well above 0
    # (tanh: C_W* = 1, erf: pi/4).
    critical_lines = tuple(st.fixed_dictionaries({
        "quantity": st.just("critical_bias_variance"), "activation": st.just(name),
        "C_W": st.floats(2.5 * critical, 2.5 * critical + 1.5), "C_b": st.floats(0.05, 1.0),
        "K": st.floats(0.2, 1.2)}) for name, critical in (("tanh", 1.0), ("erf", math.pi / 4)))
    # hard_tanh's line from C_W = 1.3 (C_b = 0.12) to 2.5 (C_b = 1.8).
    hard_tanh_line = st.fixed_dictionaries({
        "quantity": st.just("critical_bias_variance"), "activation": st.just("hard_tanh"),
        "C_W": st.floats(1.3, 2.5), "C_b": st.floats(0.05, 1.0), "K": st.floats(0.2, 1.2)})
    # The critical network of a given q* = K: K from 0.5 keeps C_b above 0.04.
    critical_network = st.fixed_dictionaries({
        "quantity": st.just("critical_line_bias_variance"),
        "activation": st.sampled_from(critical_line), "C_W": st.floats(0.5, 2.0),
        "C_b": st.floats(0.05, 1.0), "K": st.floats(0.5, 1.5)})
    return st.one_of(susceptibility, susceptibility, fixed_point, critical_weight,
                     *critical_lines, hard_tanh_line, critical_network)


def _chaotic(quantities: tuple[str, ...], largest_weight: float) -> st.SearchStrategy:
    """Points deep in the chaotic phase (chi_1 >= 1.09: tanh at C_W = 3, C_b = 0.25)."""
    return st.fixed_dictionaries({
        "quantity": st.sampled_from(quantities), "activation": st.sampled_from(BOUNDED),
        "C_W": st.floats(3.0, largest_weight), "C_b": st.floats(0.05, 0.25)})


def depth_scale_points(*, quantities: tuple[str, ...]) -> st.SearchStrategy:
    """Points of rg_flow.depth_scales, ``quantities`` in the claim's order.

    A chaotic point first, so every check has one, where the slope_at_one decoy differs.
    Contractions up to C_W = 3.4: beyond, the finite-width Richardson correction of the
    deep networks grows (erf at C_W = 3.75: bias bound 2.3%, tolerance 4.6% of the 5%).
    """
    return st.one_of(_chaotic(("correlation_depth_scale", "variance_depth_scale"), 4.0),
                     _chaotic(("correlation_contraction",), 3.4), *(st.fixed_dictionaries({
                         "quantity": st.just(quantity), "activation": st.sampled_from(BOUNDED),
                         "C_W": st.floats(0.5, 1.5), "C_b": st.floats(0.3, 1.0)})
                         for quantity in quantities[:2] + quantities[3:]),
                     st.fixed_dictionaries({
                         "quantity": st.just("variance_contraction"),
                         "activation": st.sampled_from(BOUNDED),
                         "C_W": st.floats(0.6, 1.1), "C_b": st.floats(0.02, 0.1)}))


def _cnn_inputs(positions: int, channels: int) -> st.SearchStrategy:
    """Two inputs of ``positions x channels`` at an angle of 0.2-0.8 rad (input_pairs).

    Not more: a small K12 has a large relative error (odd activations at depth 2).
    """
    return input_pairs(min_dimension=positions * channels, max_dimension=positions * channels,
                       min_angle=0.2, max_angle=0.8).map(lambda pair: {
                           key: value.reshape(positions, channels) for key, value in pair.items()})


def cnn_points(*, quantities: tuple[str, ...]) -> st.SearchStrategy:
    """Points of rg_flow.cnn_kernel: small inputs, so that padding and filter average matter.

    3-4 positions of 2-3 channels, depth 1-2, filter 2-3.
    """
    shapes = st.tuples(st.integers(3, 4), st.integers(2, 3))
    return st.builds(lambda inputs, rest: {**inputs, **rest},
                     shapes.flatmap(lambda shape: _cnn_inputs(*shape)),
                     st.fixed_dictionaries({
                         "quantity": st.sampled_from(quantities),
                         "activation": st.sampled_from(NAMES), "depth": st.integers(1, 2),
                         "filter": st.integers(2, 3), "C_W": st.floats(0.8, 2.0),
                         "C_b": st.floats(0.05, 0.3)}))
