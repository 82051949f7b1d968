r"""Free multiplicative convolution: S-transforms, moments, densities, edges.

Conventions (pinned; every function and claim of ``free_probability`` uses them):

- Stieltjes transform ``G(z) = ∫ dμ(x) / (z − x)``, so ``G(z) ~ 1/z`` as ``z → ∞``
  and the density is ``ρ(x) = −(1/π) Im G(x + i0⁺)``.
- Moment generating function ``M(z) = z G(z) − 1 = Σ_{k≥1} m_k z^{−k}``.
- S-transform ``S(w) = (1 + w) / (w M⁻¹(w))``, with ``M⁻¹`` the inverse near
  ``z = ∞`` (where ``M ~ m₁/z``); ``S(0) = 1/m₁``.
- For free positive elements ``S_{μ⊠ν} = S_μ S_ν``.

The laws handled here have S-transforms of *power-product* form

    S(w) = (1/mean) · Π_i (1 + rate_i · w) ** power_i,

which covers Marchenko–Pastur (``1/(σ²(1 + λw))``), Fuss–Catalan
(``(1 + w)^{−s}``), Bernoulli(p) (``(1 + w)/(p + w)``), scaled Haar orthogonal
(``σ_w^{−2}``) and Gaussian (``σ_w^{−2}/(1 + w)``) weights, and every free product
of them (the Jacobian spectra of Pennington, Schoenholz & Ganguli 2017). The class
is closed under ``⊠``: multiply two :class:`STransform` objects.

Numerics:

- moments by Lagrange inversion, ``m_k = (1/k) [w^{k−1}] ((1 + w)/S(w))^k``, from
  the exact power series of ``log((1 + w)/S(w))`` (float64 or mpmath);
- the density by solving ``(1 + M)/(M S(M)) = z`` for ``M`` on the branch with
  ``M ~ m₁/z``, tracking that root with vectorised Newton steps from
  ``z = x + iY`` (``Y`` large) down to the real axis, then ``ρ = −Im M/(πx)``;
  with ``precision=`` the float root is polished by Newton's method in mpmath;
- the upper edge of the support as the critical value of
  ``χ(M) = (1 + M)/(M S(M))`` at its first critical point ``M* > 0``.

Example::

    >>> from theorylab import free
    >>> product = free.free_multiplicative_convolution(
    ...     free.s_transform("marchenko_pastur", ratio=0.5),
    ...     free.s_transform("marchenko_pastur", ratio=0.25))
    >>> [round(m, 6) for m in product.moments(3)]
    [1.0, 1.75, 4.0625]
    >>> density = free.density_from_s_transform(product, [0.5, 1.0, 2.0])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np

__all__ = [
    "STransform",
    "s_transform",
    "free_multiplicative_convolution",
    "stieltjes",
    "density_from_s_transform",
    "cdf_from_s_transform",
    "moments_from_s_transform",
    "LAWS",
]

#: Named laws accepted by :func:`s_transform`, with their parameters.
LAWS = {
    "marchenko_pastur": ("ratio", "variance"),
    "fuss_catalan": ("s",),
    "bernoulli": ("p",),
    "orthogonal_weights": ("weight_variance",),
    "gaussian_weights": ("weight_variance",),
    "point_mass": ("value",),
}


def _number(value: Any, precision: int | None) -> Any:
    if precision is None:
        return float(value)
    return value if isinstance(value, mpmath.mpf) else mpmath.mpf(value)


@dataclass(frozen=True)
class STransform:
    """``S(w) = (1/mean) · Π_i (1 + rate_i w) ** power_i`` of a law on ``[0, ∞)``.

    Attributes:
        mean: the first moment ``m₁ = 1/S(0)`` (> 0).
        factors: pairs ``(rate_i, power_i)`` with ``rate_i > 0``. Integer powers
            are exact on every branch; real powers use the principal branch.

    """

    mean: float
    factors: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        if not (self.mean > 0 and math.isfinite(float(self.mean))):
            raise ValueError(f"mean={self.mean!r} must be positive and finite")
        for rate, power in self.factors:
            if not (rate > 0 and math.isfinite(float(rate)) and math.isfinite(float(power))):
                raise ValueError(f"factor (rate={rate!r}, power={power!r}) needs rate > 0")

    # -- algebra -----------------------------------------------------------

    def __mul__(self, other: STransform) -> STransform:
        """The S-transform of the free multiplicative convolution."""
        if not isinstance(other, STransform):
            return NotImplemented
        merged: dict[float, float] = {}
        for rate, power in self.factors + other.factors:
            merged[rate] = merged.get(rate, 0.0) + power
        factors = tuple((r, p) for r, p in merged.items() if p != 0)
        return STransform(self.mean * other.mean, factors)

    def __pow__(self, exponent: int) -> STransform:
        """``S^L``: the law of an L-fold free product of copies."""
        if not isinstance(exponent, int) or exponent < 0:
            raise ValueError(f"exponent={exponent!r} must be a non-negative integer")
        return STransform(self.mean**exponent,
                          tuple((r, p * exponent) for r, p in self.factors if p * exponent))

    # -- evaluation ----------------------------------------------------------

    def __call__(self, w: Any, precision: int | None = None) -> Any:
        """``S(w)``, vectorised over numpy arrays; mpmath with ``precision`` digits."""
        if precision is not None:
            with mpmath.workdps(precision):
                value = 1 / _number(self.mean, precision)
                for rate, power in self.factors:
                    value *= _raise(1 + _number(rate, precision) * w, power)
                return value
        w = np.asarray(w)
        value = np.full(w.shape, 1.0 / self.mean, dtype=np.result_type(w, float))
        for rate, power in self.factors:
            value = value * _raise(1 + rate * w, power)
        return value

    def log_derivative(self, w: Any) -> Any:
        """``S'(w)/S(w) = Σ_i power_i rate_i / (1 + rate_i w)`` (numpy or mpmath)."""
        total = 0 * w
        for rate, power in self.factors:
            total = total + power * rate / (1 + rate * w)
        return total

    def chi(self, m: Any) -> Any:
        """``χ(M) = (1 + M)/(M S(M))``, the inverse of ``M(z)`` (so ``z = χ(M)``)."""
        value = (1 + m) * self.mean / m
        for rate, power in self.factors:
            value = value * _raise(1 + rate * m, -power)
        return value

    def _chi_log_derivative(self, m: Any) -> Any:
        return 1 / (1 + m) - 1 / m - self.log_derivative(m)

    # -- moments ------------------------------------------------------------

    def moments(self, count: int, precision: int | None = None) -> list[Any]:
        """``[m_1, ..., m_count]`` by Lagrange inversion.

        ``m_k = (1/k) [w^{k−1}] ((1 + w)/S(w))^k``; with
        ``log((1 + w)/S(w)) = log m₁ + Σ_j ℓ_j w^j`` and
        ``ℓ_j = (−1)^{j+1}/j · (1 − Σ_i power_i rate_i^j)``, the coefficient is
        that of ``exp(k Σ_j ℓ_j w^j)`` (J. C. P. Miller's recurrence), exact up
        to rounding. Floats for ``precision=None``, else mpmath numbers.
        """
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count={count!r} must be an integer >= 1")
        context = mpmath.workdps(precision) if precision else _NullContext()
        with context:
            one = mpmath.mpf(1) if precision else 1.0
            mean = _number(self.mean, precision)
            factors = [(_number(r, precision), _number(p, precision)) for r, p in self.factors]
            logs = [0 * one] + [
                (-1) ** (j + 1) * (one - sum((p * r**j for r, p in factors), 0 * one)) / j
                for j in range(1, count)
            ]
            result = []
            for k in range(1, count + 1):
                series = _exp_series([k * c for c in logs], k - 1, one)
                result.append(mean**k * series[k - 1] / k)
            return result

    def moment(self, k: int, precision: int | None = None) -> Any:
        """The k-th moment ``m_k`` (see :meth:`moments`)."""
        return self.moments(k, precision)[-1]

    def variance(self, precision: int | None = None) -> Any:
        """``m₂ − m₁²`` of the law."""
        first, second = self.moments(2, precision)
        return second - first**2

    # -- transforms and densities -----------------------------------------

    def stieltjes(self, z: Any, precision: int | None = None) -> Any:
        """``G(z)`` for ``Im z ≥ 0`` (real ``z``: the limit from above); see :func:`stieltjes`."""
        return stieltjes(self, z, precision=precision)

    def density(self, x: Any, precision: int | None = None) -> Any:
        """``ρ(x) = −(1/π) Im G(x + i0⁺)`` for ``x > 0``; see :func:`density_from_s_transform`."""
        return density_from_s_transform(self, x, precision=precision)

    def cdf(self, x: Any, precision: int | None = None) -> Any:
        """``F(x) = μ([0, x])``, atoms included; see :func:`cdf_from_s_transform`."""
        return cdf_from_s_transform(self, x, precision=precision)

    def mass(self, lower: Any, upper: Any, precision: int | None = None) -> Any:
        """``μ((lower, upper])`` for ``0 < lower < upper``: ``F(upper) − F(lower)``."""
        return self.cdf(upper, precision) - self.cdf(lower, precision)

    def edge(self, precision: int | None = None) -> Any:
        """The upper edge of the support (the limit of ``λ_max``).

        ``M(x)`` is real and positive for ``x`` above the support and grows as
        ``x`` decreases; it stops being real at the first critical point
        ``M* > 0`` of ``χ``, and the edge is ``χ(M*)``. Where ``χ`` has no
        critical point on ``(0, ∞)`` (a point mass, or products of projections)
        the edge is ``lim_{M→∞} χ(M) = 1/S(∞)``.
        """
        critical = _first_critical_point(self)
        if critical is None:
            if sum(power for _, power in self.factors) != 0:
                return math.inf
            value = _number(self.mean, precision)
            for rate, power in self.factors:
                value *= _raise(_number(rate, precision), -power)
            return value
        if precision is None:
            return float(self.chi(critical))
        with mpmath.workdps(precision + 10):
            polished = mpmath.findroot(lambda m: self._chi_log_derivative(m), mpmath.mpf(critical))
            value = self.chi(polished)
        with mpmath.workdps(precision):
            return +value


def _raise(base: Any, power: float) -> Any:
    """``base ** power``: repeated products for integer powers (exact on every branch)."""
    if float(power).is_integer():
        exponent = int(power)
        if _is_mp(base) or isinstance(base, (int, float)):
            return base**exponent
        result = np.ones_like(base)
        factor = base if exponent > 0 else 1 / base
        for _ in range(abs(exponent)):
            result = result * factor
        return result
    if _is_mp(base):
        return base ** mpmath.mpf(power)
    return base**power


def _is_mp(value: Any) -> bool:
    return isinstance(value, (mpmath.mpf, mpmath.mpc))


class _NullContext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: Any) -> None:
        return None


def _exp_series(coefficients: Sequence[Any], order: int, one: Any) -> list[Any]:
    """Taylor coefficients 0..order of ``exp(f)`` for ``f(0) = 0`` (Miller's recurrence)."""
    result = [one]
    for n in range(1, order + 1):
        total = 0 * one
        for j in range(1, n + 1):
            total += j * coefficients[j] * result[n - j]
        result.append(total / n)
    return result


def _first_critical_point(law: STransform) -> float | None:
    """Smallest ``M > 0`` with ``χ'(M) = 0``, or None (bracketed, then bisection)."""
    def derivative(m: float) -> float:
        return float(law._chi_log_derivative(m))

    low, high = 1e-12, 1e-6
    while derivative(high) < 0:
        low, high = high, high * 2
        if high > 1e12:
            return None
    for _ in range(200):
        middle = math.sqrt(low * high) if high / low > 4 else 0.5 * (low + high)
        if derivative(middle) < 0:
            low = middle
        else:
            high = middle
        if high - low <= 1e-15 * high:
            break
    return 0.5 * (low + high)


# -- public functions ------------------------------------------------------------


def s_transform(law: str, **parameters: float) -> STransform:
    """The S-transform of a named law (see :data:`LAWS`).

    - ``marchenko_pastur(ratio λ, variance σ² = 1)``: ``1/(σ²(1 + λw))``, the law
      of ``XXᵀ/n`` for ``X ∈ ℝ^{p×n}`` with i.i.d. ``N(0, σ²)`` entries, ``λ = p/n``.
    - ``fuss_catalan(s)``: ``(1 + w)^{−s}``.
    - ``bernoulli(p)``: ``(1 + w)/(p + w)``, the law ``(1 − p)δ₀ + pδ₁``.
    - ``orthogonal_weights(weight_variance σ_w²)``: ``σ_w^{−2}`` (``WWᵀ = σ_w² I``).
    - ``gaussian_weights(weight_variance σ_w²)``: ``σ_w^{−2}/(1 + w)``.
    - ``point_mass(value)``: ``1/value``.

    Raises:
        ValueError: for an unknown law or a parameter outside its domain.

    """
    if law not in LAWS:
        raise ValueError(f"law={law!r} must be one of {', '.join(LAWS)}")
    unknown = set(parameters) - set(LAWS[law])
    if unknown:
        raise ValueError(f"{law} takes {', '.join(LAWS[law])}; got {', '.join(sorted(unknown))}")
    if law == "marchenko_pastur":
        ratio, variance = parameters["ratio"], parameters.get("variance", 1.0)
        _positive("ratio", ratio)
        _positive("variance", variance)
        return STransform(variance, ((ratio, -1),))
    if law == "fuss_catalan":
        s = parameters["s"]
        _positive("s", s)
        return STransform(1.0, ((1.0, -s),))
    if law == "bernoulli":
        p = parameters["p"]
        if not 0 < p <= 1:
            raise ValueError(f"p={p!r} must be in (0, 1]")
        return STransform(p, ()) if p == 1 else STransform(p, ((1.0, 1), (1 / p, -1)))
    if law == "point_mass":
        _positive("value", parameters["value"])
        return STransform(parameters["value"])
    variance = parameters["weight_variance"]
    _positive("weight_variance", variance)
    if law == "orthogonal_weights":
        return STransform(variance)
    return STransform(variance, ((1.0, -1),))


def _positive(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name}={value!r} must be a positive finite number")


def free_multiplicative_convolution(*transforms: STransform) -> STransform:
    """``μ₁ ⊠ μ₂ ⊠ ...`` as the product of S-transforms.

    The result carries :meth:`STransform.moments` (Lagrange inversion),
    :meth:`STransform.density` (root tracking) and :meth:`STransform.edge`.
    """
    if not transforms:
        raise ValueError("give at least one S-transform")
    result = transforms[0]
    for transform in transforms[1:]:
        result = result * transform
    return result


def moments_from_s_transform(transform: STransform, count: int,
                             precision: int | None = None) -> list[Any]:
    """``[m_1, ..., m_count]`` of the law with this S-transform (Lagrange inversion)."""
    return transform.moments(count, precision)


#: Newton iterations per step of the path, and on the real axis.
_STEP_ITERATIONS = 3
_FINAL_ITERATIONS = 60


def _track(law: STransform, z: np.ndarray) -> np.ndarray:
    """Solve ``χ(M) = z`` on the branch ``M ~ m₁/z``, vectorised over ``z``.

    Follows ``z_t = Re z + i η_t`` from ``η = Y`` (where ``M ≈ m₁/z``) down to
    ``Im z`` geometrically, a few Newton steps per point of the path.
    """
    real, imaginary = z.real, np.maximum(z.imag, 0.0)
    scale = max(law.mean, float(np.max(np.abs(real), initial=0.0)), 1e-300)
    top = 1e3 * scale
    floor = 1e-13 * scale
    heights = top * 0.6 ** np.arange(0, int(math.log(floor / top) / math.log(0.6)) + 1)
    current = real + 1j * top
    m = law.mean / current
    for height in heights:
        target = real + 1j * np.maximum(height, imaginary)
        m = _newton(law, m, target, _STEP_ITERATIONS)
    m = _newton(law, m, z.astype(complex), _FINAL_ITERATIONS)
    # On the real axis both conjugate roots solve the equation: keep Im M <= 0 (Im G <= 0).
    return np.where(z.imag == 0, m.real - 1j * np.abs(m.imag), m)


def _newton(law: STransform, m: np.ndarray, target: np.ndarray, iterations: int) -> np.ndarray:
    with np.errstate(all="ignore"):
        for _ in range(iterations):
            value = law.chi(m)
            step = (value - target) / (value * law._chi_log_derivative(m))
            step = np.where(np.isfinite(step), step, 0.0)
            m = m - step
    return m


def _polish(law: STransform, m0: complex, z: Any, precision: int) -> Any:
    """Newton's method in mpmath from the float root ``m0``."""
    with mpmath.workdps(precision + 15):
        m = mpmath.mpc(m0)
        z = mpmath.mpmathify(z)
        tolerance = mpmath.mpf(10) ** (-(precision + 8))
        for _ in range(400):
            value = law.chi(m)
            step = (value - z) / (value * law._chi_log_derivative(m))
            m -= step
            if abs(step) <= tolerance * (1 + abs(m)):
                break
        if mpmath.im(z) == 0 and mpmath.im(m) > 0:
            m = mpmath.conj(m)
        return m


def stieltjes(transform: STransform, z: Any, *, precision: int | None = None) -> Any:
    """``G(z) = ∫ dμ(x)/(z − x)`` of the law with S-transform ``transform``.

    Args:
        transform: the law's S-transform.
        z: points with ``Im z ≥ 0`` (array-like); on the real axis, the limit
            ``G(x + i0⁺)``.
        precision: None for float64 (vectorised root tracking); digits for
            mpmath (the tracked root polished by Newton's method).

    Returns:
        complex numpy array of ``z``'s shape, or mpmath numbers (a list for
        array input).

    """
    array = np.asarray(z, dtype=complex)
    if np.any(array.imag < 0):
        raise ValueError("z must lie in the closed upper half-plane (Im z >= 0)")
    if np.any(array == 0):
        raise ValueError("z must be nonzero")
    m = _track(transform, array.ravel()).reshape(array.shape)
    if precision is None:
        return (1 + m) / array
    points = np.atleast_1d(np.asarray(z, dtype=object)).ravel()
    values = []
    for point, root in zip(points, np.atleast_1d(m).ravel(), strict=True):
        polished = _polish(transform, complex(root), point, precision)
        with mpmath.workdps(precision):
            values.append(+((1 + polished) / mpmath.mpmathify(point)))
    return values[0] if np.ndim(z) == 0 else values


def density_from_s_transform(transform: STransform, x: Any, *,
                             precision: int | None = None) -> Any:
    """Density ``ρ(x) = −(1/π) Im G(x + i0⁺) = −Im M(x)/(πx)`` for ``x > 0``.

    Vectorised over ``x`` in float64; with ``precision`` digits each point is
    polished in mpmath (returns an mpmath number, or a list for arrays).
    """
    array = np.asarray(x, dtype=float)
    if np.any(~np.isfinite(array)) or np.any(array <= 0):
        raise ValueError("x must be positive and finite (the atom at 0 has no density)")
    m = _track(transform, array.ravel().astype(complex)).reshape(array.shape)
    if precision is None:
        return np.maximum(-m.imag, 0.0) / (np.pi * array)
    values = []
    for point, root in zip(np.atleast_1d(array).ravel(), np.atleast_1d(m).ravel(), strict=True):
        polished = _polish(transform, complex(root), mpmath.mpf(point), precision)
        with mpmath.workdps(precision):
            values.append(+(max(-mpmath.im(polished), 0) / (mpmath.pi * mpmath.mpf(point))))
    return values[0] if np.ndim(x) == 0 else values


def _lower_argument(w: Any) -> Any:
    """``arg w`` in ``[−π, 0]`` for ``Im w ≤ 0`` (a real negative ``w`` is the limit from below)."""
    if _is_mp(w):
        return -mpmath.atan2(abs(mpmath.im(w)), mpmath.re(w))
    return -np.arctan2(np.abs(np.imag(w)), np.real(w))


def _imaginary_antiderivative(transform: STransform, m: Any) -> Any:
    """``Im Φ(M)`` with ``Φ(M) = −log M − Σ_i power_i [M + (1 − 1/rate_i) log(1 + rate_i M)]``.

    ``Φ' = (1 + M) (log χ)'``, so ``∫ G(x) dx = ∫ (1 + M)/χ · χ' dM = Φ``; for
    ``Im M ≤ 0`` every logarithm's argument stays in ``[−π, 0]``, continuous
    along ``x ↦ M(x + i0⁺)``.
    """
    imaginary = mpmath.im if _is_mp(m) else np.imag
    total = -_lower_argument(m)
    for rate, power in transform.factors:
        total = total - power * (imaginary(m) + (1 - 1 / rate) * _lower_argument(1 + rate * m))
    return total


def cdf_from_s_transform(transform: STransform, x: Any, *, precision: int | None = None) -> Any:
    """Distribution function ``F(x) = μ([0, x])`` (atoms included) for ``x > 0``.

    Exact given the root ``M(x + i0⁺)`` of :func:`density_from_s_transform`: the
    substitution ``x = χ(M)`` turns ``∫ G dx`` into the antiderivative ``Φ(M)``
    (module docstring), ``Im Φ = 0`` above the support, and
    ``μ((x, ∞)) = −(1/π) Im ∫_x^∞ G = Im Φ(M(x))/π``, so ``F(x) = 1 − Im Φ(M(x))/π``.
    Vectorised over ``x`` in float64; with ``precision`` digits the root is
    polished in mpmath (an mpmath number, or a list for arrays).
    """
    array = np.asarray(x, dtype=float)
    if np.any(~np.isfinite(array)) or np.any(array <= 0):
        raise ValueError("x must be positive and finite (F jumps at the atom at 0)")
    m = _track(transform, array.ravel().astype(complex)).reshape(array.shape)
    if precision is None:
        with np.errstate(all="ignore"):
            value = 1 - _imaginary_antiderivative(transform, m) / np.pi
        return np.clip(value, 0.0, 1.0)
    values = []
    for point, root in zip(np.atleast_1d(array).ravel(), np.atleast_1d(m).ravel(), strict=True):
        polished = _polish(transform, complex(root), mpmath.mpf(point), precision)
        with mpmath.workdps(precision + 15):
            polished = mpmath.mpc(mpmath.re(polished), -abs(mpmath.im(polished)))
            value = 1 - _imaginary_antiderivative(transform, polished) / mpmath.pi
        with mpmath.workdps(precision):
            values.append(+min(max(value, mpmath.mpf(0)), mpmath.mpf(1)))
    return values[0] if np.ndim(x) == 0 else values
