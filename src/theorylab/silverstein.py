r"""The Silverstein equation: sample covariance spectra for a discrete population.

``S = T^{1/2} X Xᵀ T^{1/2}/n`` with ``X ∈ ℝ^{p×n}`` i.i.d. ``N(0, 1)``, ``λ = p/n`` and
a population covariance ``T`` whose ``p`` eigenvalues are the entries ``t_i`` of a
list, each with the same weight (the law ``H = (1/K) Σ_i δ_{t_i}``). As ``p, n → ∞``
the spectrum of ``S`` tends to the deformed Marchenko–Pastur law ``H ⊠ MP(λ)``.

Conventions (Silverstein & Bai 1995; Silverstein & Choi 1995): ``m(z) = ∫ dF(x)/(x − z)``
(so ``m = −G`` of :mod:`theorylab.free`) and the companion transform
``m̲ = −(1 − λ)/z + λ m`` of the ``n × n`` matrix ``X ᵀ T X/n``; ``m̲`` is the root with
``Im m̲ > 0`` (``Im z > 0``) of the Silverstein equation

    z = χ(m̲) = −1/m̲ + λ Σ_i w_i t_i/(1 + t_i m̲).

- Density: ``ρ(x) = Im m̲(x + i0⁺)/(πλ)`` for ``x > 0``, by tracking the root of
  ``χ(m̲) = z`` from ``Im z`` large (``m̲ ≈ −1/z``) down to the real axis (vectorised
  Newton steps, as :func:`theorylab.free.stieltjes` does for S-transforms).
- Distribution function: with ``Ψ(m̲) = m̲ χ(m̲) + log m̲ − λ Σ_i w_i log(1 + t_i m̲)``,
  an antiderivative of ``m̲`` along ``z`` (``dz = χ'(m̲) dm̲``), and every argument
  taken in ``[0, π]`` (the closed upper half-plane),
  ``F(x) = 1 − (π − Im Ψ(m̲(x + i0⁺)))/(πλ)`` for ``x > 0``; above the support
  ``Im Ψ = π``. ``F`` includes the atom ``(1 − 1/λ)₊`` at 0.
- Edges: the real ``m̲`` where ``χ' > 0`` map to the complement of the support
  (Silverstein & Choi 1995); the edges are the critical values ``χ(m*)``,
  ``χ'(m*) = 0``, that are positive. The upper edge comes from the unique minimum of
  ``χ`` on ``(−1/max t, 0)``, where ``χ`` is convex.
- Moments: ``λ m_k`` is the k-th moment of the law with free cumulants ``λ h_j``,
  ``h_j = mean(t^j)`` (MP's free cumulants are ``λ^{j−1}``); Lagrange inversion gives
  ``m_k = Σ_{b=1}^{k} binom(k + 1, b)/(k + 1) λ^{b−1} B̂_{k,b}`` with the ordinary partial
  Bell polynomial ``B̂_{k,b} = [w^k](Σ_j h_j w^j)^b`` (:func:`population_bell`, exact
  integer arithmetic on the binary fractions of the entries).

Example::

    >>> from theorylab import silverstein
    >>> law = silverstein.DeformedMarchenkoPastur.of([0.5, 2.0], 0.5)
    >>> [round(float(m), 6) for m in law.moments(2)]
    [1.25, 2.90625]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property, lru_cache
from typing import Any

import mpmath
import numpy as np
from hypothesis import strategies as st

from theorylab.domains import Matrix, _elide
from theorylab.errors import ParameterError

__all__ = ["Population", "DeformedMarchenkoPastur", "population_bell", "population_mean",
           "density", "mass", "cdf", "upper_edge", "MAX_POPULATION"]

#: Most entries a population may list (the root tracking costs O(distinct entries)).
MAX_POPULATION = 10_000


@dataclass(frozen=True)
class Population(Matrix):
    """A list of positive eigenvalues with equal weights (JSON list), e.g. ``[0.5, 2]``."""

    ndim: int = 1

    def describe(self) -> str:
        """Describe the domain."""
        return ("a list of positive eigenvalues, each of weight 1/length (JSON list, at most "
                f"{MAX_POPULATION} entries)")

    def validate(self, name: str, value: Any) -> np.ndarray:
        """A float64 vector of finite positive entries."""
        if isinstance(value, (list, tuple)) and len(value) == 0:
            raise ParameterError(name, self.describe(), "[]", "an empty list")
        array = super().validate(name, value)
        if array.size > MAX_POPULATION:
            raise ParameterError(name, self.describe(), _elide(value),
                                 f"{array.size} entries")
        if np.any(array <= 0):
            raise ParameterError(name, self.describe(), _elide(value),
                                 f"entry {float(array[array <= 0][0]):g} is not positive")
        return array

    def strategy(self) -> st.SearchStrategy[np.ndarray]:
        """Lists of 1 to ``max_size`` eigenvalues in [0.1, 10] (claims usually override)."""
        return st.lists(st.floats(0.1, 10.0), min_size=1, max_size=self.max_size).map(
            lambda values: np.asarray(values, dtype=np.float64))


def _is_mp(value: Any) -> bool:
    return isinstance(value, (mpmath.mpf, mpmath.mpc))


def _precision(*values: Any) -> int | None:
    return mpmath.mp.dps if any(_is_mp(v) for v in values) else None


# -- moments (exact) --------------------------------------------------------------------


@lru_cache(maxsize=256)
def _bell_table(values: tuple[float, ...], counts: tuple[int, ...],
                order: int) -> tuple[tuple[int, ...], int, int]:
    """Integer coefficients ``[w^order](Σ_j H_j w^j)^b`` for ``b = 0..order``, and the scales.

    With ``t_i = n_i/2^E`` (a common binary exponent), ``c_i`` the multiplicities,
    ``K = Σ c_i`` and ``H_j = Σ_i c_i n_i^j``:
    ``B̂_{k,b} = [w^k](Σ_j H_j w^j)^b / (2^{Ek} K^b)``, exactly.
    """
    fractions = [Fraction(t) for t in values]
    exponent = max(f.denominator for f in fractions).bit_length() - 1
    numerators = [f.numerator * (2**exponent // f.denominator) for f in fractions]
    sums = [0] + [sum(c * n**j for n, c in zip(numerators, counts, strict=True))
                  for j in range(1, order + 1)]
    power = [1] + [0] * order  # (Σ H_j w^j)^0
    coefficients = [power[order]]
    for _ in range(order):
        power = [sum(power[i] * sums[d - i] for i in range(d)) for d in range(order + 1)]
        coefficients.append(power[order])
    return tuple(coefficients), exponent, sum(counts)


def _bell(values: tuple[float, ...], counts: tuple[int, ...], k: int, b: int) -> Any:
    """``B̂_{k,b}`` as an mpmath number at the working precision (exact before rounding)."""
    if k < 0 or b < 0 or b > k:
        return mpmath.mpf(0)
    coefficients, exponent, total = _bell_table(values, counts, k)
    return mpmath.mpf(coefficients[b]) / (mpmath.mpf(2) ** (exponent * k) * mpmath.mpf(total)**b)


def population_bell(population: Any, k: Any, b: Any) -> Any:
    """``B̂_{k,b} = [w^k](Σ_{j≥1} h_j w^j)^b`` with ``h_j = mean(t^j)`` (exact, then rounded).

    The ordinary partial Bell polynomial of the population's moments: a sum over the
    compositions of ``k`` into ``b`` parts of ``Π h_{part}``. Returned as an mpmath
    number at the working precision ``mpmath.mp.dps`` (float64's under the default
    15 digits; more inside ``predict(precision=...)``).
    """
    values, counts = np.unique(np.asarray(population, dtype=np.float64).ravel(),
                               return_counts=True)
    return _bell(tuple(float(v) for v in values), tuple(int(c) for c in counts), int(k), int(b))


def population_mean(population: Any) -> float:
    """``h₁ = mean(t)``: the population's mean variance."""
    return float(np.mean(np.asarray(population, dtype=np.float64)))


# -- the law ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeformedMarchenkoPastur:
    """``H ⊠ MP(λ)`` for ``H`` with atoms ``values`` of masses ``weights``.

    Attributes:
        values: distinct population eigenvalues, ascending (> 0).
        counts: their multiplicities in the list (masses ``counts/sum(counts)``).
        ratio: ``λ = p/n``.

    """

    values: tuple[float, ...]
    counts: tuple[int, ...]
    ratio: float

    @property
    def weights(self) -> tuple[float, ...]:
        """The masses ``c_i/K`` of the distinct eigenvalues."""
        total = sum(self.counts)
        return tuple(c / total for c in self.counts)

    @classmethod
    def of(cls, population: Sequence[float] | np.ndarray, ratio: float) -> DeformedMarchenkoPastur:
        """The law for a population list (equal weights; repeated entries merged)."""
        array = np.asarray(population, dtype=np.float64).ravel()
        if array.size == 0 or np.any(~np.isfinite(array)) or np.any(array <= 0):
            raise ValueError("population must be a nonempty list of positive finite numbers")
        if not (math.isfinite(float(ratio)) and float(ratio) > 0):
            raise ValueError(f"ratio={ratio!r} must be positive and finite")
        values, counts = np.unique(array, return_counts=True)
        return cls(tuple(float(v) for v in values), tuple(int(c) for c in counts),
                   float(ratio))

    # -- the Silverstein map χ and its derivatives ----------------------------------

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(t_i, λ w_i)`` as float64 arrays, for sums vectorised over the population."""
        return np.asarray(self.values), self.ratio * np.asarray(self.weights)

    def _sum(self, m: Any, term: Any) -> Any:
        """``Σ_i λ w_i term(t_i, m)``: numpy over a trailing axis, or mpmath term by term."""
        if _is_mp(m):
            return mpmath.fsum(self.ratio * w * term(t, m)
                               for t, w in zip(self.values, self.weights, strict=True))
        values, scaled = self._arrays
        m = np.asarray(m)
        return (term(values, m[..., None]) * scaled).sum(axis=-1)

    def chi(self, m: Any) -> Any:
        """``χ(m̲) = −1/m̲ + λ Σ_i w_i t_i/(1 + t_i m̲)`` (numpy or mpmath)."""
        return -1 / m + self._sum(m, lambda t, v: t / (1 + t * v))

    def chi_derivative(self, m: Any) -> Any:
        """``χ'(m̲) = 1/m̲² − λ Σ_i w_i t_i²/(1 + t_i m̲)²``."""
        return 1 / (m * m) - self._sum(m, lambda t, v: (t / (1 + t * v)) ** 2)

    def _chi_second(self, m: Any) -> Any:
        return -2 / (m * m * m) + 2 * self._sum(m, lambda t, v: (t / (1 + t * v)) ** 3)

    # -- moments ----------------------------------------------------------------------

    def moments(self, count: int, precision: int | None = None) -> list[Any]:
        """``[m_1, ..., m_count]`` (exact Bell sums; floats, or mpmath with ``precision``)."""
        result = []
        with mpmath.workdps(precision or 15):
            for k in range(1, count + 1):
                total = mpmath.mpf(0)
                for b in range(1, k + 1):
                    total += (mpmath.binomial(k + 1, b) / (k + 1) * mpmath.mpf(self.ratio)
                              ** (b - 1) * _bell(self.values, self.counts, k, b))
                result.append(+total if precision else float(total))
        return result

    @property
    def atom(self) -> float:
        """``(1 − 1/λ)₊``: the mass at 0 (``rank S = min(p, n)``)."""
        return max(0.0, 1 - 1 / self.ratio)

    # -- the companion Stieltjes transform --------------------------------------------

    def companion(self, z: Any) -> np.ndarray:
        """``m̲(z)`` for ``Im z ≥ 0`` (real ``z``: the limit from above), vectorised."""
        array = np.asarray(z, dtype=complex)
        return _track(self, array.ravel()).reshape(array.shape)

    def density(self, x: Any, precision: int | None = None) -> Any:
        """``ρ(x) = Im m̲(x + i0⁺)/(πλ)`` for ``x > 0`` (0 outside the support)."""
        array = np.asarray(x, dtype=np.float64)
        m = self.companion(array.astype(complex))
        if precision is None:
            return np.maximum(m.imag, 0.0) / (np.pi * self.ratio)
        values = [self._polished(complex(root), point, precision)
                  for point, root in zip(np.ravel(array), np.ravel(m), strict=True)]
        with mpmath.workdps(precision):
            out = [+(max(mpmath.im(v), 0) / (mpmath.pi * mpmath.mpf(self.ratio)))
                   for v in values]
        return out[0] if np.ndim(x) == 0 else out

    def cdf(self, x: Any, precision: int | None = None) -> Any:
        """``F(x) = μ((−∞, x])``, the atom at 0 included (exact given the root ``m̲``)."""
        array = np.asarray(x, dtype=np.float64)
        positive = np.where(array > 0, array, 1.0)
        m = self.companion(positive.astype(complex))
        if precision is None:
            with np.errstate(all="ignore"):
                value = 1 - (np.pi - self._imaginary_psi(m)) / (np.pi * self.ratio)
            value = np.clip(value, 0.0, 1.0)
            value = np.where(array > 0, value, np.where(array == 0, self.atom, 0.0))
            return float(value) if np.ndim(x) == 0 else value
        out = []
        for point, root in zip(np.ravel(array), np.ravel(m), strict=True):
            if point <= 0:
                out.append(mpmath.mpf(self.atom if point == 0 else 0))
                continue
            polished = self._polished(complex(root), point, precision)
            with mpmath.workdps(precision + 10):
                value = 1 - (mpmath.pi - self._imaginary_psi(polished)) / (
                    mpmath.pi * mpmath.mpf(self.ratio))
            with mpmath.workdps(precision):
                out.append(+min(max(value, mpmath.mpf(0)), mpmath.mpf(1)))
        return out[0] if np.ndim(x) == 0 else out

    def mass(self, lower: Any, upper: Any, precision: int | None = None) -> Any:
        """``F(upper) − F(lower) = μ((lower, upper])``; the atom if ``lower < 0 ≤ upper``."""
        return self.cdf(upper, precision) - self.cdf(lower, precision)

    def _imaginary_psi(self, m: Any) -> Any:
        """``Im Ψ(m̲)`` with arguments in ``[0, π]`` (see the module docstring)."""
        if _is_mp(m):
            def arg(v: Any) -> Any:
                return mpmath.atan2(abs(mpmath.im(v)), mpmath.re(v))

            return arg(m) + self._sum(m, lambda t, v: mpmath.im(t * v / (1 + t * v))
                                      - arg(1 + t * v))

        def arg_array(v: Any) -> Any:
            return np.arctan2(np.abs(np.imag(v)), np.real(v))

        return arg_array(m) + self._sum(m, lambda t, v: np.imag(t * v / (1 + t * v))
                                        - arg_array(1 + t * v))

    def _polished(self, m0: complex, x: Any, precision: int) -> Any:
        """Newton's method in mpmath on ``χ(m̲) = x`` from the float root (Im m̲ ≥ 0)."""
        with mpmath.workdps(precision + 15):
            m, target = mpmath.mpc(m0), mpmath.mpf(x)
            tolerance = mpmath.mpf(10) ** (-(precision + 8))
            for _ in range(200):
                step = (self.chi(m) - target) / self.chi_derivative(m)
                m -= step
                if abs(step) <= tolerance * (1 + abs(m)):
                    break
            return mpmath.mpc(mpmath.re(m), abs(mpmath.im(m)))

    # -- edges ------------------------------------------------------------------------

    def edges(self) -> list[float]:
        """The support's edges ``a₁ < b₁ < a₂ < … < b_J`` (continuous part, ``x > 0``).

        Critical values ``χ(m*)`` where ``χ'`` changes sign, found on fine grids of
        every interval between the poles ``0`` and ``−1/t_i`` and refined by bisection;
        at ``λ = 1`` the lowest edge is the hard edge 0.
        """
        return list(_edges(self))

    def edge(self, precision: int | None = None) -> Any:
        """The upper edge (the limit of ``λ_max``): the minimum of ``χ`` on ``(−1/max t, 0)``."""
        low, high = -1 / self.values[-1], 0.0
        # χ is convex there: χ' increases from −∞ to +∞; bisect on its sign.
        for _ in range(200):
            middle = 0.5 * (low + high)
            if self.chi_derivative(middle) < 0:
                low = middle
            else:
                high = middle
            if high - low <= 1e-16 * abs(middle):
                break
        critical = 0.5 * (low + high)
        if precision is None:
            return float(self.chi(critical))
        with mpmath.workdps(precision + 10):
            root = mpmath.findroot(self.chi_derivative, mpmath.mpf(critical),
                                   solver="halley", df=self._chi_second,
                                   d2f=lambda m: mpmath.diff(self._chi_second, m))
            value = self.chi(root)
        with mpmath.workdps(precision):
            return +value


# -- root tracking ---------------------------------------------------------------------------

_STEP_ITERATIONS = 3
_FINAL_ITERATIONS = 60


def _newton(law: DeformedMarchenkoPastur, m: np.ndarray, target: np.ndarray,
            iterations: int) -> np.ndarray:
    with np.errstate(all="ignore"):
        for _ in range(iterations):
            step = (law.chi(m) - target) / law.chi_derivative(m)
            m = m - np.where(np.isfinite(step), step, 0.0)
    return m


def _track(law: DeformedMarchenkoPastur, z: np.ndarray) -> np.ndarray:
    """Solve ``χ(m̲) = z`` on the branch ``m̲ ~ −1/z``, following ``Re z + iη`` down to ``Im z``."""
    real, imaginary = z.real, np.maximum(z.imag, 0.0)
    scale = max(law.values[-1] * (1 + law.ratio), float(np.max(np.abs(real), initial=0.0)))
    top, floor = 1e3 * scale, 1e-13 * scale
    heights = top * 0.6 ** np.arange(0, int(math.log(floor / top) / math.log(0.6)) + 1)
    m = -1 / (real + 1j * top)
    for height in heights:
        m = _newton(law, m, real + 1j * np.maximum(height, imaginary), _STEP_ITERATIONS)
    m = _newton(law, m, z.astype(complex), _FINAL_ITERATIONS)
    # On the real axis both conjugate roots solve the equation: keep Im m̲ >= 0.
    return np.where(z.imag == 0, m.real + 1j * np.abs(m.imag), m)


def _edges(law: DeformedMarchenkoPastur) -> tuple[float, ...]:
    poles = sorted(-1 / t for t in law.values)  # −1/t_min < ... < −1/t_max < 0
    grid = 0.5 - 0.5 * np.cos(np.pi * np.linspace(0, 1, 4001)[1:-1])  # clustered at the ends
    pieces = [-1 / (law.values[0] * grid)]  # (−∞, −1/t_min)
    pieces += [left + (right - left) * grid for left, right in zip(poles[:-1], poles[1:],
                                                                   strict=True)]
    pieces += [poles[-1] * (1 - grid), grid / (1 - grid)]  # (−1/t_max, 0) and (0, ∞)
    critical = []
    with np.errstate(all="ignore"):
        for m in pieces:
            m = np.sort(m)
            slope = law.chi_derivative(m)
            above = slope >= 0
            changes = np.nonzero((above[:-1] != above[1:]) & np.isfinite(slope[:-1])
                                 & np.isfinite(slope[1:]))[0]
            for index in changes:
                low, high = m[index], m[index + 1]
                rising = not above[index]
                for _ in range(100):
                    middle = 0.5 * (low + high)
                    if (law.chi_derivative(middle) < 0) == rising:
                        low = middle
                    else:
                        high = middle
                critical.append(float(law.chi(0.5 * (low + high))))
    edges = sorted(value for value in critical if value > 0)
    if len(edges) % 2:  # λ = 1: the hard edge at 0 has no critical point
        edges.insert(0, 0.0)
    return tuple(edges)


# -- named-function implementations ------------------------------------------------------


def _law(population: Any, ratio: Any) -> DeformedMarchenkoPastur:
    return _cached_law(tuple(float(t) for t in np.ravel(np.asarray(population, dtype=float))),
                       float(ratio))


@lru_cache(maxsize=256)
def _cached_law(population: tuple[float, ...], ratio: float) -> DeformedMarchenkoPastur:
    return DeformedMarchenkoPastur.of(population, ratio)


def density(population: Any, ratio: Any, x: Any) -> Any:
    """``ρ(x)`` of ``H ⊠ MP(λ)``; mpmath when ``ratio`` or ``x`` is an mpmath number."""
    law = _law(population, ratio)
    precision = _precision(ratio, x)
    if precision is None and np.ndim(x) == 0:
        return float(law.density(float(x))) if float(x) > 0 else 0.0
    if precision is not None and x <= 0:
        return mpmath.mpf(0)
    return law.density(x if precision is None else float(x), precision)


def cdf(population: Any, ratio: Any, x: Any) -> Any:
    """``F(x) = μ((−∞, x])`` of ``H ⊠ MP(λ)``, the atom at 0 included."""
    precision = _precision(ratio, x)
    return _law(population, ratio).cdf(x if precision is None else float(x), precision)


def mass(population: Any, ratio: Any, lower: Any, upper: Any) -> Any:
    """``μ((lower, upper])`` of ``H ⊠ MP(λ)``."""
    precision = _precision(ratio, lower, upper)
    law = _law(population, ratio)
    if precision is None:
        return float(law.mass(float(lower), float(upper)))
    return law.mass(float(lower), float(upper), precision)


def upper_edge(population: Any, ratio: Any) -> Any:
    """The upper edge of the support of ``H ⊠ MP(λ)`` (the limit of ``λ_max``)."""
    return _law(population, ratio).edge(_precision(ratio))
