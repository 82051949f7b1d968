"""Samplers of the spectral laws' claims: where free_probability's checks draw points.

Moved out of theory/free_probability.py so that the family stays declarative; each
comment says why a quantity is sampled or only predicted at the default budget.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from theorylab import laws, silverstein
from theorylab.strategies import quantile_bins

__all__ = ["RATIOS", "DEFORMED_RATIOS", "marchenko_pastur_points", "semicircle_points",
           "fuss_catalan_points", "deformed_marchenko_pastur_points"]


RATIOS = tuple(sorted({a / b for a in range(1, 5) for b in range(1, 5)}))


@st.composite
def marchenko_pastur_points(draw: st.DrawFn, *, quantities: tuple[str, ...]) -> dict[str, Any]:
    """Points of free_probability.marchenko_pastur / mp_cdf: a sampled ratio and variance."""
    ratio, variance = draw(st.sampled_from(RATIOS)), draw(st.floats(0.5, 2.0))
    # Atoms where there is one; bins of mass >= 0.3 (λ <= 2: the continuous part is at least
    # 1/2), whose count fluctuates by O(1) eigenvalues of p. Densities and edges are
    # predicted, not sampled (out of the 5% resolution at the default budget).
    quantity = draw(st.sampled_from([q for q in quantities if (q != "atom" or ratio > 1)
                                     and (q != "mass" or ratio <= 2)]))
    point: dict[str, Any] = {"ratio": ratio, "variance": variance, "quantity": quantity}
    low, high = laws.marchenko_pastur_edges(ratio, variance)
    if quantity == "moment":
        point["k"] = draw(st.integers(1, 2))
    elif quantity == "cdf":
        point["x"] = low + (high - low) * draw(st.floats(0.3, 0.85))
    elif quantity == "mass":
        point["x"], point["upper"] = draw(quantile_bins(cdf=lambda y: laws.marchenko_pastur_cdf(
            y, ratio, variance), low=max(low, 1e-3 * high), high=high))
    return point


@st.composite
def semicircle_points(draw: st.DrawFn) -> dict[str, Any]:
    """Points of free_probability.semicircle: m2 or a bin mass."""
    # m₂ and bin masses reach the 5% resolution at the default budget (higher moments, the
    # density, the edge and the R-transform do not).
    variance, quantity = draw(st.floats(0.5, 2.0)), draw(st.sampled_from(("moment", "mass")))
    point: dict[str, Any] = {"variance": variance, "quantity": quantity}
    if quantity == "moment":
        point["k"] = draw(st.sampled_from((2,)))
    else:
        point["x"], point["upper"] = draw(quantile_bins(cdf=lambda y: laws.semicircle_cdf(
            y, variance), low=-2 * math.sqrt(variance), high=2 * math.sqrt(variance)))
    return point


@st.composite
def fuss_catalan_points(draw: st.DrawFn) -> dict[str, Any]:
    """Points of free_probability.fuss_catalan: a low moment or a bin mass."""
    s = draw(st.integers(1, 3))
    # "edge" is predicted but not sampled: λ_max converges as n^(-2/3), too slowly for a
    # 5% check at this budget (the order test checks it); the density is checked through
    # the mass in bins between quantiles.
    quantity = draw(st.sampled_from(("moment", "mass")))
    point: dict[str, Any] = {"s": s, "quantity": quantity}
    if quantity == "moment":
        point["k"] = draw(st.integers(1, 2 if s < 3 else 1))
    else:
        point["x"], point["upper"] = draw(quantile_bins(cdf=lambda y: laws.fuss_catalan_cdf(
            y, s), low=1e-3 * laws.fuss_catalan_edge(s), high=laws.fuss_catalan_edge(s)))
    point["variance"] = draw(st.floats(0.5, 2.0))
    if quantity == "mass":
        point["x"] *= point["variance"] ** s
        point["upper"] *= point["variance"] ** s
    return point


#: Sampled ratios (p = ratio · n with p a multiple of the population's length).
DEFORMED_RATIOS = (1 / 3, 0.5, 2 / 3, 0.75, 1.0, 1.5, 2.0)


@st.composite
def deformed_marchenko_pastur_points(draw: st.DrawFn) -> dict[str, Any]:
    """Points of free_probability.deformed_marchenko_pastur: spread populations."""
    # Populations of 2 to 4 eigenvalues spanning a factor 4 to 8: spread enough that
    # MP with the mean variance is off by more than the resolution (m₂ by ≥ 8%).
    size = draw(st.integers(2, 4))
    lowest = draw(st.floats(0.25, 1.0))
    highest = lowest * draw(st.floats(4.0, 8.0))
    middle = sorted(draw(st.lists(st.floats(lowest, highest), min_size=size - 2,
                                  max_size=size - 2)))
    population = [round(v, 4) for v in [lowest, *middle, highest]]
    ratio = draw(st.sampled_from(DEFORMED_RATIOS))
    # Moments k = 2, 3 and bins of mass ≥ 0.3 reach the 5% resolution; density and edge are
    # predicted, not sampled (the density through bin masses; λ_max converges as n^-2/3).
    # m₁ = h₁ holds exactly at every n (E tr S = tr T) and no decoy differs there.
    quantity = draw(st.sampled_from(("moment", "mass")))
    point: dict[str, Any] = {"population": population, "ratio": ratio, "quantity": quantity}
    if quantity == "moment":
        point["k"] = draw(st.integers(2, 3))
    else:
        law = silverstein.DeformedMarchenkoPastur.of(population, ratio)
        low, high = max(law.edges()[0], 1e-3 * law.edge()), law.edge()
        point["x"], point["upper"] = draw(quantile_bins(cdf=law.cdf, low=low, high=high))
    return point
