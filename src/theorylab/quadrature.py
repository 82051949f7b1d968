r"""Rules for Gaussian expectations ``E[f(x)] = sum_i w_i f(x_i)``, ``x ~ N(0, 1)``.

- :func:`gaussian_rule`: the trapezoid rule on ``[-L, L]`` with weights ``h phi(x_i)``.
  For ``f`` analytic in the strip ``|Im x| < d`` its error falls as ``exp(-2 pi d/h)``
  (Trefethen & Weideman, SIAM Rev. 56 (2014), §5), so :func:`gaussian_step` picks ``h``
  from the distance ``d`` of ``f``'s nearest complex singularity, at the digits asked
  for: ``tanh(s x)`` (poles at ``i pi/(2 s)``) needs a step proportional to ``1/s``,
  which Gauss-Hermite's fixed nodes do not adapt to (200 nodes left 1e-6 at s = 2).
- :func:`hermite_rule`, :func:`hermite_rule_precise`: probabilists' Gauss-Hermite nodes
  (weights normalized to sum to one), in float64 and to any number of digits.

The float64 sums are correctly rounded (:func:`weighted_sum`, ``math.fsum``): BLAS's
``weights @ values`` groups the terms by its thread count, so its last bits would change
with the machine's load.

Example::

    from theorylab.quadrature import gaussian_rule, gaussian_step, weighted_sum

    nodes, weights = gaussian_rule(gaussian_step(scale=2.0, digits=16, singularity=1.57))
    weighted_sum(weights, np.tanh(2.0 * nodes) ** 2)    # E[tanh(2x)^2]
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import mpmath
import numpy as np

__all__ = ["gaussian_rule", "gaussian_step", "hermite_rule", "hermite_rule_precise",
           "weighted_sum"]

FLOAT_DIGITS = 16  # what the float64 path asks of a rule (one more than float64 holds)


def half_width(digits: int) -> float:
    """``L`` with ``phi(L) < 10^-(digits + 8)``: the tails beyond cannot matter."""
    return math.sqrt(2 * math.log(10) * (digits + 8))


def gaussian_step(*, scale: float, digits: int = FLOAT_DIGITS,
                  singularity: float | None = None) -> float:
    """The trapezoid step for ``E[f(scale x) g(scale x)]`` to ``10^-digits``.

    ``singularity`` is the distance from the real axis of the nearest complex
    singularity of ``f`` (None: ``f`` is entire). The aliasing error of the rule is
    ``exp(-2 pi d/h)`` times the integrand's size on the strip ``|Im x| = d``: a pole
    at ``singularity/scale`` bounds ``d``; an entire ``f`` whose square grows like
    ``exp(scale^2 y^2)`` (gelu's Phi) sets ``d`` where that growth meets the decay.

    Raises:
        ValueError: a scale that is not a positive finite number, or digits below 1.

    """
    if not (scale > 0 and math.isfinite(scale)) or int(digits) < 1:
        raise ValueError(f"gaussian_step: scale must be positive and finite and digits >= 1, "
                         f"got scale={scale!r}, digits={digits!r}")
    exponent = math.log(10) * (digits + 5)
    step = math.pi * math.sqrt(2 / ((1 + 2 * scale**2) * exponent))
    if singularity is not None:
        step = min(step, 2 * math.pi * singularity / (scale * exponent))
    return step


def gaussian_rule(step: float, digits: int | None = None) -> tuple[Any, Any]:
    """The trapezoid rule ``x_k = k h``, ``w_k = h phi(x_k)`` on ``|x| <= L(digits)``.

    ``step`` is rounded down so that ``L/h`` is a multiple of 8 (rules are cached by that
    count). float64 arrays for ``digits=None``, else tuples of mpmath numbers to
    ``digits`` digits.
    """
    width = half_width(digits or FLOAT_DIGITS)
    count = 8 * math.ceil(width / step / 8)
    return _trapezoid(count, digits)


@cache
def _trapezoid(count: int, digits: int | None) -> tuple[Any, Any]:
    width = half_width(digits or FLOAT_DIGITS)
    if digits is None:
        step = width / count
        nodes = step * np.arange(-count, count + 1, dtype=np.float64)
        weights = step * np.exp(-nodes**2 / 2) / math.sqrt(2 * math.pi)
        nodes.setflags(write=False)
        weights.setflags(write=False)
        return nodes, weights
    with mpmath.workdps(digits + 15):
        step = mpmath.mpf(width) / count
        nodes = tuple(step * k for k in range(-count, count + 1))
        norm = step / mpmath.sqrt(2 * mpmath.pi)
        return nodes, tuple(norm * mpmath.exp(-x * x / 2) for x in nodes)


@cache
def hermite_rule(count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count``-node probabilists' Gauss-Hermite rule (float64), weights summing to 1.

    Nodes whose weight underflows (below 1e-300) are dropped.

    Raises:
        ValueError: ``count`` below 1.

    """
    if int(count) < 1:
        raise ValueError(f"hermite_rule: count must be at least 1, got {count!r}")
    nodes, weights = np.polynomial.hermite_e.hermegauss(int(count))
    keep = weights > 1e-300
    nodes, weights = nodes[keep], weights[keep]
    weights = weights / math.fsum(weights.tolist())
    nodes.setflags(write=False)
    weights.setflags(write=False)
    return nodes, weights


@cache
def hermite_rule_precise(count: int, digits: int) -> tuple[tuple, tuple]:
    """The ``count``-node rule to ``digits`` digits (mpmath numbers), weights summing to 1.

    Newton-refined from numpy's nodes on the orthonormal recurrence
    ``h_{k+1} = (x h_k - sqrt(k) h_{k-1}) / sqrt(k+1)``; nodes whose weight is below
    ``10^-(digits+8)`` cannot change a result at that precision and are dropped.

    Raises:
        ValueError: ``count`` or ``digits`` below 1.

    """
    if int(count) < 1 or int(digits) < 1:
        raise ValueError(f"hermite_rule_precise: count and digits must be at least 1, got "
                         f"{count!r}, {digits!r}")
    n = int(count)
    with np.errstate(all="ignore"):  # numpy's weights overflow; only its nodes are used
        start, _ = np.polynomial.hermite_e.hermegauss(n)
    nodes: list[Any] = []
    weights: list[Any] = []
    with mpmath.workdps(digits + 15):
        cutoff = mpmath.mpf(10) ** (-(digits + 8))
        roots = [mpmath.sqrt(k) for k in range(n + 1)]
        for guess in start:
            if guess < 0 or abs(guess) > 2 * math.sqrt(2.3 * (digits + 8)) + 2:
                continue
            x = mpmath.mpf(float(guess))
            for _ in range(60):
                previous, current = mpmath.mpf(0), mpmath.mpf(1)
                for k in range(n):
                    previous, current = current, (x * current - roots[k] * previous) / roots[k + 1]
                step = current / (roots[n] * previous)
                x -= step
                if abs(step) < mpmath.mpf(10) ** (-(digits + 12)):
                    break
            previous, current = mpmath.mpf(0), mpmath.mpf(1)
            for k in range(n - 1):
                previous, current = current, (x * current - roots[k] * previous) / roots[k + 1]
            weight = 1 / (n * current**2)
            if weight < cutoff:
                continue
            if x == 0:
                nodes.append(x)
                weights.append(weight)
            else:
                nodes.extend([x, -x])
                weights.extend([weight, weight])
        total = mpmath.fsum(weights)
        weights = [w / total for w in weights]
    return tuple(nodes), tuple(weights)


def weighted_sum(weights: np.ndarray, values: Any) -> float:
    """``sum_i w_i f_i``, correctly rounded (the same bits on every machine and thread count)."""
    return math.fsum((weights * np.broadcast_to(values, np.shape(weights))).tolist())
