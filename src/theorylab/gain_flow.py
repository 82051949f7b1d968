r"""The balanced gain flow ``dK/dt = D K^(2 - 2/D) (R - K)`` and its conserved split.

A depth-``D`` chain of equal scalar weights ``p`` has gain ``K = p^D``; gradient flow on
``(R - K)^2 / 2`` moves it by ``dK/dt = D K^(2 - 2/D) (R - K)``. Two definitions that
statements name, in float64 or with mpmath (:func:`~theorylab.matrix_functions.precise`):

- :func:`gain_flow_value`, bound to :data:`gain_flow`: ``K(t)`` from ``K(0) = start``
  for the level ``R``. With ``y = (K/R)^(1/D)`` the flow separates into
  ``R^(2 - 2/D) dt = dy / (y^(D-1) (1 - y^D))``, a rational integrand whose antiderivative
  is a power and ``D`` logarithms (partial fractions over the D-th roots of unity
  ``w``: ``y/(1 - y^D) = (1/D) sum_w w^2/(w - y)``); the time is inverted by bracketed
  root finding in ``y``.
- :func:`conserved_split_value`, bound to :data:`conserved_split`: the point ``x`` of
  the line ``x + (total - x) = total`` where ``x^(-(D-2)/D) - (total - x)^(-(D-2)/D)``
  takes a given value (``D > 2``; strictly decreasing in ``x``, so the root is unique).

Example::

    from theorylab.gain_flow import gain_flow_value, conserved_split_value

    gain = gain_flow_value(3, 0.9, 0.1, 0.5)            # K(0.5) from K(0) = 0.1, R = 0.9
    conserved_split_value(3, 1.0, gain ** (-1 / 3) - 0.1 ** (-1 / 3))
"""

from __future__ import annotations

import cmath
import math
from typing import Any

import mpmath
from scipy.optimize import brentq

from theorylab.functions import named_function
from theorylab.matrix_functions import precise

__all__ = ["gain_flow_antiderivative", "gain_flow_time_value", "gain_flow_value", "gain_flow",
           "conserved_split_value", "conserved_split"]


def _depth(depth: Any) -> int:
    value = int(depth)
    if value != depth or value < 2:
        raise ValueError(f"gain flow: depth must be an integer >= 2, got {depth!r}")
    return value


def gain_flow_antiderivative(depth: int, y: Any) -> Any:
    """``F(y) = ∫ dy / (y^(D-1) (1 - y^D))`` for ``0 < y < 1`` (float64 or mpmath).

    ``D = 2``: ``ln y - ln(1 - y^2)/2``. ``D > 2``: ``y^(2-D)/(2-D) - (1/D) sum_w
    Re[w^2 ln(w - y)]`` over the D-th roots of unity ``w`` (for ``0 < y < 1`` no
    ``w - y`` crosses the logarithm's branch cut, so ``F`` is continuous there).
    """
    depth = _depth(depth)
    exact = isinstance(y, mpmath.mpf)
    log, log1p = (mpmath.log, mpmath.log1p) if exact else (math.log, math.log1p)
    if depth == 2:
        return log(y) - log1p(-y * y) / 2
    total = y ** (2 - depth) / (2 - depth)
    for k in range(depth):
        if exact:
            root = mpmath.expjpi(mpmath.mpf(2 * k) / depth)
            total -= mpmath.re(root**2 * mpmath.log(root - y)) / depth
        else:
            root = cmath.exp(2j * math.pi * k / depth)
            total -= (root * root * cmath.log(root - y)).real / depth
    return total


def gain_flow_time_value(depth: Any, level: Any, start: Any, end: Any) -> Any:
    """Time for ``dK/dt = D K^(2-2/D) (level - K)`` to carry ``K`` from ``start`` to ``end``.

    Requires ``0 < start, end < level``: ``R^(2-2/D) t = F(y_end) - F(y_start)`` with
    ``y = (K/R)^(1/D)`` and ``F`` :func:`gain_flow_antiderivative`.
    """
    depth = _depth(depth)
    exact = precise()
    number = mpmath.mpf if exact else float
    level, start, end = number(level), number(start), number(end)
    rate = level ** (2 - number(2) / depth)
    lower, upper = (start / level) ** (number(1) / depth), (end / level) ** (number(1) / depth)
    return (gain_flow_antiderivative(depth, upper) - gain_flow_antiderivative(depth, lower)) / rate


def gain_flow_value(depth: Any, level: Any, start: Any, time: Any) -> Any:
    """``K(time)`` under ``dK/dt = D K^(2-2/D) (level - K)`` from ``K(0) = start``.

    Requires ``0 < start < level`` and ``time >= 0``. Solves ``F(y) = F(y_start) +
    level^(2-2/D) time`` for ``y`` in ``(y_start, 1)`` by bracketed root finding
    (Brent in float64; bisection in ``ln(1 - y)`` with mpmath); ``K = level y^D``. Where ``K`` is
    within float64 rounding of ``level``, the float64 result is ``level`` to rounding.
    """
    depth = _depth(depth)
    exact = precise()
    number = mpmath.mpf if exact else float
    level, start, time = number(level), number(start), number(time)
    if not (0 < start < level) or time < 0:
        raise ValueError(f"gain_flow: needs 0 < start < level and time >= 0, got "
                         f"start={start}, level={level}, time={time}")
    if time == 0:
        return +start if exact else float(start)
    lower = (start / level) ** (number(1) / depth)
    goal = gain_flow_antiderivative(depth, lower) + level ** (2 - number(2) / depth) * time
    if exact:
        # Bisection in ln(1 - y): F falls steeply near y = 1, where secant steps stall.
        with mpmath.workdps(mpmath.mp.dps + 10):
            floor = mpmath.mpf(10) ** -(mpmath.mp.dps - 5)
            if gain_flow_antiderivative(depth, 1 - floor) <= goal:  # saturated at this precision
                return +level
            near, far = mpmath.log(floor), mpmath.log(1 - lower)
            while abs(near - far) > floor:
                middle = (near + far) / 2
                if gain_flow_antiderivative(depth, 1 - mpmath.exp(middle)) > goal:
                    near = middle
                else:
                    far = middle
            y = 1 - mpmath.exp((near + far) / 2)
        return +(level * y**depth)
    upper = math.nextafter(1.0, 0.0)
    if gain_flow_antiderivative(depth, upper) <= goal:  # saturated to float64 rounding
        return level * upper**depth
    y = brentq(lambda v: gain_flow_antiderivative(depth, v) - goal, lower, upper,
               xtol=1e-18, rtol=4 * 2.0**-52, maxiter=200)
    return level * y**depth


def conserved_split_value(depth: Any, total: Any, conserved: Any) -> Any:
    """The ``x`` in ``(0, total)`` with ``x^(-e) - (total - x)^(-e) = conserved``, ``e = (D-2)/D``.

    ``D > 2``; NaN at ``D = 2``, where the difference is identically 0 (the conserved
    quantity is the ratio ``x/(total - x)``), so a statement's other branch applies.
    The left side falls strictly from ``+inf`` to ``-inf``, so the root is unique; it
    is found by bisection-safe bracketing (Brent in float64, Anderson-Björck in mpmath).
    """
    depth = _depth(depth)
    exact = precise()
    if depth == 2:  # the difference is identically 0 there: a ratio is conserved instead
        return mpmath.nan if exact else math.nan
    number = mpmath.mpf if exact else float
    total, conserved = number(total), number(conserved)
    exponent = number(depth - 2) / depth

    def excess(x: Any) -> Any:
        return x**-exponent - (total - x) ** -exponent - conserved

    if exact:
        with mpmath.workdps(mpmath.mp.dps + 10):
            low, high = total / 4, total * 3 / 4
            while excess(low) <= 0:  # excess -> +inf as x -> 0
                low /= 2**8
            while excess(high) >= 0:  # and -> -inf as x -> total
                high = total - (total - high) / 2**8
            return +mpmath.findroot(excess, (low, high), solver="anderson")
    edge = total * 1e-300
    return brentq(excess, edge, total - total * 2.0**-53, xtol=1e-300, rtol=4 * 2.0**-52,
                  maxiter=400)


#: ``gain_flow(D, R, K0, t)``: ``K(t)`` under ``dK/dt = D K^(2-2/D) (R - K)``, ``K(0) = K0``.
gain_flow = named_function("gain_flow", gain_flow_value, latex=r"\mathcal{K}_{\mathrm{flow}}",
                           pretty="K_flow")

#: ``conserved_split(D, S, C)``: ``x`` with ``x^(-(D-2)/D) - (S - x)^(-(D-2)/D) = C``.
conserved_split = named_function("conserved_split", conserved_split_value,
                                 latex=r"\mathcal{X}_{\mathrm{split}}", pretty="X_split")
