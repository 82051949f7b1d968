"""Samplers of deep_linear's claims: where their checks draw points.

Moved out of theory/deep_linear.py so that the family stays declarative.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st

from theorylab.gain_flow import gain_flow_time_value

__all__ = ["SATURATION_MARGIN", "either", "pathway_points", "short_of_saturation"]

# Drawn points stop short of saturation, s - uf >= SATURATION_MARGIN s: closer, the gap
# s - u falls towards float64 rounding and gradient descent cannot resolve the crossing
# (saxe_learning_time seed 184 drew uf = s - 1e-16). The domain itself stays uf < s.
SATURATION_MARGIN = 1e-3


def short_of_saturation(parameters: Sequence[Any],
                        start: Callable[[dict[str, Any]], float]) -> Callable[[], Any]:
    """Sampler of points with start(p) < uf <= (1 - SATURATION_MARGIN) s."""
    def strategy() -> Any:
        return st.fixed_dictionaries({p.name: p.strategy() for p in parameters}).filter(
            lambda p: start(p) < p["uf"] <= (1 - SATURATION_MARGIN) * p["s"])
    return strategy


def either(options: tuple[str, ...], *values: float) -> str:
    """One of ``options``, chosen by a hash of the point's other values.

    hypothesis favours the first element of ``sampled_from``: a check could then draw one
    quantity only, and a decoy of the other would go unjudged.
    """
    digest = hashlib.sha256(repr(values).encode()).digest()
    return options[digest[0] % len(options)]


def pathway_points(quantities: tuple[str, ...]) -> st.SearchStrategy[dict]:
    """Points of deep_linear.critical_period where the deficit matters, D > 2 four times in five.

    Depths 2..6, K0/S in [0.03, 0.4], and deficits of 0.1 to 1.5 times the time pathway a
    alone needs to reach S/2, half way from K0 to its level S - K0 and beyond (where the
    effect is large). No deficit (t_d = 0, where every decoy but two is exact) is left to
    the tests.
    """

    def point(depth: int, target: float, ratio: float, fraction: float) -> dict:
        start = ratio * target
        half = gain_flow_time_value(depth, target - start, start, target / 2)
        quantity = either(quantities, depth, target, ratio, fraction)
        return {"quantity": quantity, "depth": depth, "target": target,
                "initial_gain": start, "deficit_time": fraction * half}

    return st.builds(point, st.integers(2, 6),
                     st.floats(0.5, 2.0), st.floats(0.03, 0.4),
                     st.floats(0.1, 1.5))
