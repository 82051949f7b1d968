r"""Mean-field signal propagation: the correlation map of two inputs and its fixed point.

Schoenholz, Gilmer, Ganguli & Sohl-Dickstein (ICLR 2017, §2-3), after Poole et al. (2016):
two inputs at the fixed point ``q*`` of the variance map, with correlation ``c``, reach the
next layer with correlation

    c' = f(c) = (C_b + C_W <sigma(u1) sigma(u2)>) / q*,

``(u1, u2)`` Gaussian with variance ``q*`` and correlation ``c``. ``f(1) = 1``; its slope is
``f'(c) = C_W <sigma'(u1) sigma'(u2)>`` (Price's theorem), ``chi_1 = f'(1) = chi_perp(q*)``
at ``c = 1``. In the ordered phase (``chi_1 <= 1``) ``c* = 1``; in the chaotic phase
(``chi_1 > 1``) ``c = 1`` repels and an odd sigma has a second, stable, fixed point
``c* < 1``, where ``chi_c = f'(c*) < 1`` sets the depth scale ``xi_c = -1/ln chi_c``.

For an odd sigma ``<sigma(u1) sigma(u2)>`` is a power series in ``c`` with non-negative
coefficients (its Hermite expansion), so on ``[0, 1]`` ``f`` is increasing and convex, with
``f(0) = C_b/q* >= 0``: ``g(c) = f(c) - c`` is convex, ``g(0) >= 0``, ``g(1) = 0`` and
``g'(1) = chi_1 - 1 > 0`` in the chaotic phase, so ``g`` has exactly one root in ``[0, 1)``
and Newton's method from ``c = 0`` climbs to it monotonically.

Every function takes an activation name and ``precision=None`` for float64 or a number of
digits for mpmath (:mod:`theorylab.kernels` conventions).
"""

from __future__ import annotations

from typing import Any

import mpmath

from theorylab import kernels

__all__ = ["correlation_map", "correlation_fixed_point", "correlation_susceptibility",
           "statement_correlation_fixed_point"]

NEWTON_STEPS = 200  # far more than Newton needs; a cap, not a tolerance
# float64 roots by (activation, C_W, C_b): a check evaluates the statement and every decoy
# at the same points, and each tanh root costs ~20 two-dimensional quadratures.
_FLOAT_ROOTS: dict[tuple, float] = {}


def _numbers(precision: int | None, *values: Any) -> list:
    return [mpmath.mpf(v) for v in values] if precision else [float(v) for v in values]


def correlation_map(name: str, C_W: Any, C_b: Any, q: Any, c: Any, *,
                    precision: int | None = None) -> tuple[Any, Any]:
    """``(f(c), f'(c))``: the next layer's correlation and the map's slope at ``c``.

    ``f(c) = (C_b + C_W <sigma(u1) sigma(u2)>)/q`` and ``f'(c) = C_W <sigma'(u1) sigma'(u2)>``
    with ``(u1, u2)`` of variance ``q`` and correlation ``c`` (``q`` should be the fixed
    point of the variance map, where ``f(1) = 1``).
    """
    with mpmath.workdps((precision or 15) + 10):
        weight, bias, kernel, cosine = _numbers(precision, C_W, C_b, q, c)
        moments = kernels.gaussian_moments(name, kernel, kernel, kernel * cosine,
                                           precision=precision)
        return (bias + weight * moments[2]) / kernel, weight * moments[5]


def correlation_fixed_point(name: str, C_W: Any, C_b: Any, *,
                            precision: int | None = None) -> Any:
    """``c*``: exactly 1 in the ordered phase (``chi_1 <= 1``), else the root of f in [0, 1).

    An odd sigma (tanh, erf) and ``C_b >= 0``; Newton's method from ``c = 0`` (see the
    module's docstring for why it converges monotonically), in float64 and then, with
    ``precision``, refined in mpmath.

    Raises:
        ValueError: ``f(0) < c = 0`` (an activation that is not odd).

    """
    key = (name, float(C_W), float(C_b))
    if not precision and key in _FLOAT_ROOTS:
        return _FLOAT_ROOTS[key]
    with mpmath.workdps((precision or 15) + 10):
        q = kernels.fixed_point(name, C_W, C_b, precision=precision)
        one = _numbers(precision, 1)[0]
        if kernels.correlation_slope(name, C_W, q, one, precision=precision) <= 1:
            if not precision:
                _FLOAT_ROOTS[key] = one
            return one
        value, _ = correlation_map(name, C_W, C_b, float(q), 0.0)
        if value < 0:
            raise ValueError(f"correlation_fixed_point: f(0) = {value} < 0; {name} is not odd")
        c = 0.0
        for _ in range(NEWTON_STEPS):  # float64 first
            value, slope = correlation_map(name, C_W, C_b, float(q), c)
            step = (value - c) / (1 - slope)
            c += step
            if abs(step) <= 4e-16:
                break
        if not precision:
            _FLOAT_ROOTS[key] = c
            return c
        c = mpmath.mpf(c)
        tolerance = mpmath.mpf(10) ** (-(precision + 5))
        for _ in range(NEWTON_STEPS):  # quadratic: a few steps double the digits
            value, slope = correlation_map(name, C_W, C_b, q, c, precision=precision)
            step = (value - c) / (1 - slope)
            c += step
            if abs(step) <= tolerance:
                break
        return c


def correlation_susceptibility(name: str, C_W: Any, C_b: Any, *,
                               precision: int | None = None) -> Any:
    """``chi_c = C_W <sigma'(u1) sigma'(u2)>`` at ``(q*, c*)``: the slope of f at c*."""
    with mpmath.workdps((precision or 15) + 10):
        q = kernels.fixed_point(name, C_W, C_b, precision=precision)
        c = correlation_fixed_point(name, C_W, C_b, precision=precision)
        return kernels.correlation_slope(name, C_W, q, c, precision=precision)


def statement_correlation_fixed_point(name: str, C_W: Any, C_b: Any) -> Any:
    """:func:`correlation_fixed_point` for a named function (mpmath arguments: mpmath path)."""
    precision = mpmath.mp.dps if any(isinstance(v, mpmath.mpf) for v in (C_W, C_b)) else None
    return correlation_fixed_point(name, C_W, C_b, precision=precision)
