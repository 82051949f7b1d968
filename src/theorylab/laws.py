r"""Closed-form spectral laws: Marchenko–Pastur, Wigner semicircle, Fuss–Catalan.

Definitions, not results: the density, distribution function, moments, edges and
atom of each law, in float64 (vectorised over numpy arrays) and in mpmath. A
function evaluates in mpmath, at the working precision ``mpmath.mp.dps``, when any
of its real arguments is an ``mpmath.mpf``; that is how the statements of
``theory/free_probability`` bind to them as named functions
(:func:`theorylab.functions.named_function`).

Conventions (those of :mod:`theorylab.free`):

- Marchenko–Pastur ``MP(λ, σ²)``: the ``p`` eigenvalues of ``XXᵀ/n``, ``X ∈ ℝ^{p×n}``
  with i.i.d. ``N(0, σ²)`` entries, ``λ = p/n``; edges ``σ²(1 ∓ √λ)²``, atom
  ``(1 − 1/λ)₊`` at 0, density ``sqrt((b − x)(x − a))/(2πσ²λx)`` on ``(a, b)``,
  moments ``σ^{2k} Σ_j N(k, j) λ^{j−1}`` (Narayana numbers).
- Semicircle with variance ``σ²``: density ``sqrt(4σ² − x²)/(2πσ²)`` on
  ``[−2σ, 2σ]``, moments ``m_{2n} = C_n σ^{2n}`` (Catalan numbers), odd moments 0.
- Fuss–Catalan ``FC(s)``: the law of ``WWᵀ``, ``W`` a product of ``s`` square
  Gaussian matrices with ``N(0, 1/n)`` entries; ``S(w) = (1 + w)^{−s}``, support
  ``[0, (s + 1)^{s+1}/s^s]``, moments ``binom((s + 1)k, k)/(sk + 1)``; density by the
  angle parametrisation of Haagerup & Möller (arXiv:1211.4457) and Neuschel
  (arXiv:1311.0365).

Laws without a closed form (free products) come from :mod:`theorylab.free`:
:func:`law_density`, :func:`law_mass` and :func:`law_edge` evaluate a
:class:`~theorylab.free.STransform` with the precision of their arguments.

Example::

    >>> import numpy as np
    >>> from theorylab import laws
    >>> laws.marchenko_pastur_density(np.array([0.5, 1.0]), 0.5)  # doctest: +SKIP
    >>> laws.narayana_number(4, 2)
    6
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from theorylab import free

__all__ = [
    "working_precision",
    "narayana_number",
    "catalan_number",
    "fuss_catalan_number",
    "marchenko_pastur_edges",
    "marchenko_pastur_atom",
    "marchenko_pastur_density",
    "marchenko_pastur_cdf",
    "marchenko_pastur_moment",
    "semicircle_density",
    "semicircle_cdf",
    "semicircle_moment",
    "fuss_catalan_edge",
    "fuss_catalan_angle",
    "fuss_catalan_density",
    "fuss_catalan_cdf",
    "fuss_catalan_moment",
    "law_density",
    "law_mass",
    "law_edge",
    "quantile_bin",
]


def working_precision(*values: Any) -> int | None:
    """``mpmath.mp.dps`` when any value is an mpmath number, else None (float64)."""
    return mpmath.mp.dps if any(isinstance(v, (mpmath.mpf, mpmath.mpc)) for v in values) \
        else None


_TINY = np.finfo(np.float64).tiny


def _scalar(value: np.ndarray, like: Any) -> Any:
    """A float for a scalar ``like`` (``value`` has one entry or none), else ``value``."""
    return float(np.reshape(value, -1)[0]) if np.ndim(like) == 0 else value


# -- counting numbers (exact integers) ------------------------------------------------


def _count(value: int) -> Any:
    """An exact count; beyond float64 an mpmath number (inf once rounded to float64)."""
    return value if value < 2**1023 else mpmath.mpf(value)


def narayana_number(k: Any, j: Any) -> Any:
    """``N(k, j) = binom(k, j) binom(k, j − 1)/k`` (0 outside ``1 ≤ j ≤ k``)."""
    k, j = int(k), int(j)
    return _count(math.comb(k, j) * math.comb(k, j - 1) // k) if 1 <= j <= k else 0


def catalan_number(n: Any) -> Any:
    """``C_n = binom(2n, n)/(n + 1)``; NaN for a non-integer ``n`` (an unused branch)."""
    if float(n) != int(float(n)) or float(n) < 0:
        return math.nan
    n = int(float(n))
    return _count(math.comb(2 * n, n) // (n + 1))


def fuss_catalan_number(s: Any, k: Any) -> Any:
    """``binom((s + 1)k, k)/(sk + 1)``: the moments of ``FC(s)``."""
    s, k = int(s), int(k)
    return _count(math.comb((s + 1) * k, k) // (s * k + 1))


# -- Marchenko–Pastur ----------------------------------------------------------------


def marchenko_pastur_edges(ratio: Any, variance: Any = 1.0) -> tuple[Any, Any]:
    """``σ²(1 ∓ √λ)²``: the edges of the support."""
    root = mpmath.sqrt(ratio) if working_precision(ratio, variance) else math.sqrt(ratio)
    return variance * (1 - root) ** 2, variance * (1 + root) ** 2


def marchenko_pastur_atom(ratio: Any) -> Any:
    """``(1 − 1/λ)₊``: the mass at 0."""
    return max(1 - 1 / ratio, 0 * ratio)


def marchenko_pastur_density(x: Any, ratio: Any, variance: Any = 1.0) -> Any:
    """``sqrt((b − x)(x − a))/(2πσ²λx)`` on ``(a, b)``, 0 elsewhere (vectorised)."""
    if working_precision(x, ratio, variance):
        x, ratio, variance = mpmath.mpf(x), mpmath.mpf(ratio), mpmath.mpf(variance)
        low, high = marchenko_pastur_edges(ratio, variance)
        if not low < x < high:
            return mpmath.mpf(0)
        return mpmath.sqrt((high - x) * (x - low)) / (2 * mpmath.pi * variance * ratio * x)
    # In-place passes, no masks: outside (a, b) the product is clipped to 0, and the
    # denominator is floored at the smallest positive float (0/tiny = 0 at x <= 0).
    grid = np.array(x, dtype=np.float64, ndmin=1, copy=None)
    low, high = marchenko_pastur_edges(float(ratio), float(variance))
    value = (high - grid) * (grid - low)
    np.maximum(value, 0.0, out=value)
    np.sqrt(value, out=value)
    denominator = grid * (2 * math.pi * variance * ratio)
    np.maximum(denominator, _TINY, out=denominator)
    value /= denominator
    return _scalar(value, x)


def marchenko_pastur_cdf(x: Any, ratio: Any, variance: Any = 1.0) -> Any:
    """``μ((−∞, x])``, atom included: the arctan antiderivative of the density.

    With ``y = x/σ²`` clipped to ``[a, b] = [(1 − √λ)², (1 + √λ)²]`` and
    ``r = sqrt((b − y)(y − a))``::

        F = (1 − 1/λ)₊ + [r + (1 + λ)(atan2(2y − a − b, 2r) + π/2)
                           − |1 − λ|(atan2((a + b)y − 2ab, 2|1 − λ|r) + π/2)]/(2πλ)

    (clipping gives ``F = (1 − 1/λ)₊`` on ``[0, a]`` and 1 from ``b`` on); 0 below 0.
    """
    if working_precision(x, ratio, variance):
        x, ratio, variance = mpmath.mpf(x), mpmath.mpf(ratio), mpmath.mpf(variance)
        if x < 0:
            return mpmath.mpf(0)
        low, high = marchenko_pastur_edges(ratio, mpmath.mpf(1))
        y = min(max(x / variance, low), high)
        root = mpmath.sqrt(max(0, (high - y) * (y - low)))
        gap = abs(1 - ratio)
        first = (1 + ratio) * (mpmath.atan2(2 * y - low - high, 2 * root) + mpmath.pi / 2)
        second = gap * (mpmath.atan2((low + high) * y - 2 * low * high, 2 * gap * root)
                        + mpmath.pi / 2)
        return marchenko_pastur_atom(ratio) + (root + first - second) / (2 * mpmath.pi * ratio)
    grid = np.array(x, dtype=np.float64, ndmin=1, copy=None)
    ratio, variance = float(ratio), float(variance)
    low, high = marchenko_pastur_edges(ratio)
    y = np.clip(grid * (1 / variance), low, high)
    root = (high - y) * (y - low)
    np.maximum(root, 0.0, out=root)
    np.sqrt(root, out=root)
    # atan(u/v) for atan2(u, v), v = 2r >= 0 (twice as fast); at the edges r = 0 and the
    # floored v gives atan(±1e300) = ±π/2, as atan2 does.
    twice = 2 * root
    np.maximum(twice, 1e-300, out=twice)
    gap = abs(1 - ratio)
    value = np.arctan((2 * y - (low + high)) / twice)
    value *= 1 + ratio
    value += root
    if gap:
        value -= gap * np.arctan(((low + high) * y - 2 * low * high) / (gap * twice))
    # the π/2 offsets: ((1 + λ) − |1 − λ|)π/2 = min(1, λ)π, over 2πλ
    value *= 1 / (2 * math.pi * ratio)
    value += marchenko_pastur_atom(ratio) + min(1.0, ratio) / (2 * ratio)
    if np.any(grid < 0):
        value[grid < 0] = 0.0
    return _scalar(value, x)


def marchenko_pastur_moment(k: int, ratio: Any, variance: Any = 1.0) -> Any:
    """``σ^{2k} Σ_{j=1}^{k} N(k, j) λ^{j−1}`` (exact integers, then float or mpmath)."""
    total = sum(narayana_number(k, j) * ratio ** (j - 1) for j in range(1, int(k) + 1))
    return variance**k * total


# -- semicircle ------------------------------------------------------------------------


def semicircle_density(x: Any, variance: Any = 1.0) -> Any:
    """``sqrt(4σ² − x²)/(2πσ²)`` on ``[−2σ, 2σ]`` (vectorised)."""
    if working_precision(x, variance):
        x, variance = mpmath.mpf(x), mpmath.mpf(variance)
        return mpmath.sqrt(max(4 * variance - x * x, 0)) / (2 * mpmath.pi * variance)
    grid = np.asarray(x, dtype=np.float64)
    return _scalar(np.sqrt(np.maximum(4 * variance - grid * grid, 0.0))
                   / (2 * math.pi * variance), x)


def semicircle_cdf(x: Any, variance: Any = 1.0) -> Any:
    """``1/2 + x sqrt(R² − x²)/(πR²) + asin(x/R)/π``, ``x`` clipped to ``[−R, R]``, R = 2σ."""
    if working_precision(x, variance):
        radius = 2 * mpmath.sqrt(mpmath.mpf(variance))
        y = min(max(mpmath.mpf(x), -radius), radius)
        return (mpmath.mpf(1) / 2 + y * mpmath.sqrt(radius**2 - y * y) / (mpmath.pi * radius**2)
                + mpmath.asin(y / radius) / mpmath.pi)
    radius = 2 * math.sqrt(variance)
    y = np.clip(np.asarray(x, dtype=np.float64), -radius, radius)
    return _scalar(0.5 + y * np.sqrt(radius**2 - y * y) / (math.pi * radius**2)
                   + np.arcsin(y / radius) / math.pi, x)


def semicircle_moment(k: int, variance: Any = 1.0) -> Any:
    """``C_{k/2} σ^k`` for even ``k``, 0 for odd ``k``."""
    return 0 * variance if int(k) % 2 else catalan_number(int(k) // 2) * variance ** (int(k) // 2)


# -- Fuss–Catalan ----------------------------------------------------------------------


def fuss_catalan_edge(s: Any) -> Any:
    """``(s + 1)^{s+1}/s^s``: the upper edge of ``FC(s)``."""
    s = mpmath.mpf(s) if working_precision(s) else float(s)
    return (s + 1) ** (s + 1) / s**s


def fuss_catalan_angle(phi: Any, s: int, lib: Any = np) -> tuple[Any, Any]:
    """``(x(φ), ρ(x(φ)))`` for ``0 < φ < π/(s + 1)`` (Haagerup–Möller, Neuschel).

    ``x = sin((s+1)φ)^{s+1}/(sin φ · sin(sφ)^s)``,
    ``ρ = sin(φ)² sin(sφ)^{s−1}/(π sin((s+1)φ)^s)``.
    """
    big, one, many = lib.sin((s + 1) * phi), lib.sin(phi), lib.sin(s * phi)
    return big ** (s + 1) / (one * many**s), one**2 * many ** (s - 1) / (lib.pi * big**s)


def _fuss_catalan_phi(x: Any, s: int) -> np.ndarray:
    """The angle with ``x(φ) = x`` by bisection on ``log x(φ)`` (decreasing), vectorised."""
    array = np.asarray(x, dtype=np.float64)
    low, high = np.zeros_like(array), np.full_like(array, math.pi / (s + 1))
    target = np.log(np.clip(array, 1e-300, None))
    with np.errstate(all="ignore"):
        for _ in range(64):
            middle = 0.5 * (low + high)
            above = np.log(fuss_catalan_angle(middle, s)[0]) > target
            low, high = np.where(above, middle, low), np.where(above, high, middle)
    return 0.5 * (low + high)


def fuss_catalan_density(x: Any, s: Any) -> Any:
    """Density of ``FC(s)`` at ``x``.

    Bisection for the angle (float64, vectorised); with an mpmath ``x``, ``findroot``
    from the float angle.
    """
    s = int(s)
    if working_precision(x):
        x = mpmath.mpf(x)
        if not 0 < x < fuss_catalan_edge(mpmath.mpf(s)):
            return mpmath.mpf(0)
        top = mpmath.pi / (s + 1)
        start = float(_fuss_catalan_phi(float(x), s))
        phi = mpmath.findroot(
            lambda t: mpmath.log(fuss_catalan_angle(t, s, mpmath)[0]) - mpmath.log(x),
            (max(start - 1e-6 * top, top * 1e-9), min(start + 1e-6 * top, top * (1 - 1e-9))),
            solver="anderson")
        return fuss_catalan_angle(phi, s, mpmath)[1]
    array = np.asarray(x, dtype=np.float64)
    inside = (array > 0) & (array < fuss_catalan_edge(s))
    with np.errstate(all="ignore"):
        density = fuss_catalan_angle(_fuss_catalan_phi(array, s), s)[1]
    return _scalar(np.where(inside, density, 0.0), x)


def fuss_catalan_cdf(x: Any, s: Any) -> Any:
    """``FC(s)((−∞, x])`` by the exact antiderivative of :mod:`theorylab.free`."""
    law = free.STransform(1.0, ((1.0, -int(s)),))
    precision = working_precision(x)
    if precision:
        return law.cdf(x, precision)
    return _scalar(np.asarray(law.cdf(np.asarray(x, dtype=np.float64), None)), x)


def fuss_catalan_moment(k: int, s: int) -> int:
    """``binom((s + 1)k, k)/(sk + 1)`` (exact)."""
    return fuss_catalan_number(s, k)


# -- laws given by an S-transform (theorylab.free) -------------------------------------


def law_density(law: free.STransform, x: Any) -> Any:
    """``ρ(x)`` of the law, in mpmath when ``x`` is an mpmath number."""
    return law.density(x, precision=working_precision(x))


def law_mass(law: free.STransform, lower: Any, upper: Any) -> Any:
    """``μ((lower, upper])`` of the law (exact CDF), in mpmath for mpmath bounds."""
    return law.mass(lower, upper, working_precision(lower, upper))


def law_edge(law: free.STransform, *arguments: Any) -> Any:
    """The upper edge of the support, in mpmath when any of ``arguments`` is mpmath."""
    return law.edge(working_precision(*arguments))


# -- bins between quantiles -------------------------------------------------------------


def quantile_bin(cdf: Callable[[np.ndarray], Any], low: float, high: float, start: float,
                 width: float) -> tuple[float, float]:
    """A bin ``(x, upper]`` between quantiles of a law, by interpolation on a grid.

    ``width`` is the bin's mass, at most 90% of the mass on ``[low, high]``; ``start``
    in ``[0, 1]`` places it: the fraction of the remaining mass below the bin.
    """
    grid = np.linspace(low, high, 801)
    values = np.maximum.accumulate(np.asarray(cdf(grid), dtype=float))
    first, last = values[0], values[-1]
    width = min(width, 0.9 * (last - first))
    target_low = first + start * (last - first - width)
    target_high = min(target_low + width, last)
    keep = np.concatenate([[True], np.diff(values) > 0])
    lower, upper = np.interp([target_low, target_high], values[keep], grid[keep])
    return float(lower), float(upper)
