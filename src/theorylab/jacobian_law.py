r"""Spectra of ``JJᵀ`` for smooth activations: ``S_{JJᵀ} = S_{WWᵀ}^L S_{D²}^L``.

Pennington, Schoenholz & Ganguli (AISTATS 2018, arXiv:1802.09979) write the S-transform
of ``JJᵀ``, ``J = Π_l D_l W_l``, as the product over layers of ``S_{WWᵀ}`` and
``S_{D²}``, with ``D² = φ'(h)²``, ``h ~ N(0, q*)``. For piecewise-linear φ, D² is
Bernoulli and everything is a power product (:mod:`theorylab.free`); for tanh and erf
the law of D² is continuous, and this module handles it in two ways:

- **series**: the moments ``μ_k = E φ'(h)^{2k}`` (:func:`theorylab.activations.derivative_moment`)
  give ``M_D(u) = Σ μ_k u^k`` (``u = 1/z``); its series reversion ``u_D(w)`` gives
  ``ψ_D(w) = (1 + w)/S_D(w) = w/u_D(w)``; ``JJᵀ``'s moments follow by Lagrange inversion,
  ``m_k = (1/k)[w^{k−1}] ψ(w)^k`` with ``ψ = (1 + w)/S_{JJᵀ}`` (:func:`jacobian_moments`);
- **quadrature of the Stieltjes transform**: ``G_D(ζ) = E[1/(ζ − φ'(h)²)]`` by the
  trapezoid rule on the contour ``h(t) = t + i c t/(1 + t²)`` (:class:`SquaredDerivativeLaw`),
  which carries ``ζ`` down to the real axis from above: the poles of the integrand
  (``φ'(h)² = ζ``, on the real h axis when ζ is real in the support) stay below the
  contour for ``h > 0`` and above it for ``h < 0``, and ``Im φ'(h)² < 0`` on the region
  swept (tanh: ``|Im h| < π/4``; erf: ``Re h · Im h < π/4``), so no pole is crossed.

The density of ``JJᵀ`` follows by tracking ``ζ`` instead of ``M``: with ``M = M_D(ζ) =
ζ G_D(ζ) − 1``, ``z = χ_P(M) (M/G_D(ζ))^L`` (``χ_P(M) = (1 + M)/(M S_P(M))``, ``S_P`` the
weights' part), an explicit function of ``ζ`` that Newton's method inverts from
``ζ ≈ μ₁ z/m₁`` at large ``z``; ``ρ = −Im M/(πx)``. The distribution function is
``F(x) = 1 − Im Φ/π`` with ``Φ = Φ_P(M) + L log M + L E log(ζ − φ'(h)²)`` (``Φ' = (1 + M)
(log z)'``, as in :func:`theorylab.free.cdf_from_s_transform`). The upper edge is ``z`` at
the first critical point of ``ζ ↦ z`` on ``ζ > max φ'²``.

Everything is float64 (the moments of D² by quadrature are); ``precision=`` is accepted
for the interface of :class:`theorylab.free.STransform` and gives floats. Accuracy (one
orthogonal layer, against the exact law of ``σ_w² φ'(h)²``): 1e-9 in the CDF and 1e-7
in the density up to 90% of the top of D²'s support; within its top 1% the roots of
``φ'(h)² = ζ`` near ``h = 0`` come close to the contour (1e-6 and 1e-4 there).

Example::

    from theorylab import free
    from theorylab.jacobian_law import JacobianLaw, SquaredDerivativeLaw

    law = JacobianLaw(free.s_transform("orthogonal_weights", weight_variance=1.6),
                      SquaredDerivativeLaw("tanh", 0.7), depth=3)
    law.moments(4), law.density([0.5, 1.0]), law.mass(0.5, 1.0), law.edge()
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from theorylab import activations, free

__all__ = ["SquaredDerivativeLaw", "JacobianLaw", "reverted_series", "s_transform_series",
           "jacobian_moments", "network_law", "bernoulli_network_law", "derivative_s_transform"]

#: Contour height ``c`` of ``h(t) = t + i c t/(1 + t²)`` (at most c/2 = 0.35 above the axis).
CONTOUR_HEIGHT = 0.7
#: Trapezoid step in t: 1e-11 relative for G_D off the support's top edge (measured against
#: mpmath on the real line; 2e-9 at 2% above the top; 1e-15 with half the step).
CONTOUR_STEP = 0.02
#: Gaussian tail cut: |t| ≤ √(2 q · TAIL) leaves e^−TAIL ≈ 4e−18.
TAIL = 40.0


# -- power series (coefficient lists, index = power) ----------------------------------


def _multiply(a: Sequence[float], b: Sequence[float], order: int) -> list[float]:
    return [sum(a[i] * b[n - i] for i in range(n + 1) if i < len(a) and n - i < len(b))
            for n in range(order + 1)]


def _reciprocal(a: Sequence[float], order: int) -> list[float]:
    result = [1 / a[0]]
    for n in range(1, order + 1):
        result.append(-sum(a[j] * result[n - j] for j in range(1, n + 1) if j < len(a))
                      / a[0])
    return result


def _logarithm(a: Sequence[float], order: int) -> list[float]:
    """``log(a(w)/a(0))`` (constant term 0): ``(log a)' = a'/a``."""
    derivative = [(j + 1) * a[j + 1] for j in range(min(order, len(a) - 1))]
    quotient = _multiply(derivative, _reciprocal(a, order), order - 1) if order else []
    return [0.0] + [quotient[n - 1] / n for n in range(1, order + 1)]


def _exponential(a: Sequence[float], order: int) -> list[float]:
    """``exp(a(w))`` for ``a(0) = 0`` (Miller's recurrence)."""
    result = [1.0]
    for n in range(1, order + 1):
        result.append(sum(j * a[j] * result[n - j] for j in range(1, n + 1) if j < len(a)) / n)
    return result


def reverted_series(coefficients: Sequence[float]) -> list[float]:
    """The inverse series ``u(w)`` of ``w = Σ_{k≥1} c_k u^k`` (``c_1 ≠ 0``), to the same order.

    Lagrange: ``[w^n] u = (1/n) [u^{n−1}] (u/w(u))^n``. Returns ``[0, b_1, ..., b_K]``.
    """
    order = len(coefficients)
    if order < 1 or coefficients[0] == 0:
        raise ValueError("reverted_series needs c_1 != 0")
    ratio = _reciprocal(list(coefficients), order)  # u/w(u) = 1/(c_1 + c_2 u + ...)
    logarithm = _logarithm(ratio, order)
    result = [0.0]
    for n in range(1, order + 1):
        power = _exponential([n * c for c in logarithm], n - 1)
        result.append(ratio[0] ** n * power[n - 1] / n)
    return result


def _psi_log_series(moments: Sequence[float]) -> list[float]:
    """``log(ψ_D(w)/μ₁)`` to order ``len(moments) − 1``, ``ψ_D = w/u_D(w)``."""
    inverse = reverted_series(moments)  # u_D(w), u = 1/z
    return [-c for c in _logarithm(inverse[1:], len(moments) - 1)]  # ψ_D/μ₁ = b₁ w/u_D


def s_transform_series(moments: Sequence[float]) -> list[float]:
    """Taylor coefficients ``S(w) = Σ s_j w^j`` to order ``len(moments) − 1`` from ``m_1..m_K``.

    ``S(w) = (1 + w)/ψ(w)``, ``ψ(w) = w M⁻¹(w)``: ``s_0 = 1/m₁``, ``s_1 = 1/m₁ − m₂/m₁³``.
    """
    order = len(moments) - 1
    psi = [moments[0] * c for c in _exponential(_psi_log_series(moments), order)]
    return _multiply([1.0, 1.0], _reciprocal(psi, order), order)


def jacobian_moments(layer: free.STransform, derivative_moments: Sequence[float], depth: int,
                     count: int) -> list[float]:
    """``[m_1..m_count]`` of the law with ``S = S_layer^L S_D^L`` (Lagrange inversion).

    ``log ψ = log((1 + w)/S_layer^L) + L (log ψ_D − log(1 + w))``, ``ψ_D`` from the
    first ``count`` moments of D² (``derivative_moments``); ``m_k = (1/k)[w^{k−1}] ψ^k``.
    """
    if len(derivative_moments) < count:
        raise ValueError(f"need {count} moments of D², got {len(derivative_moments)}")
    order = count - 1
    # log((1 + w)/S_layer(w)) − log(1 + w) = −log(m₁ S_layer) − log m₁... per free.STransform:
    # −log S_layer(w) = log(mean) − Σ_i power_i log(1 + rate_i w).
    log_psi = [0.0] * (order + 1)
    for rate, power in layer.factors:
        for j in range(1, order + 1):
            log_psi[j] -= depth * power * (-1) ** (j + 1) * rate**j / j
    derivative = _psi_log_series(list(derivative_moments[:count]))
    for j in range(1, order + 1):
        log_psi[j] += depth * derivative[j]
    # (1 + w)^(1 − L): the ψ's (1 + w) once, S_D's (1 + w)^L removed L times.
    for j in range(1, order + 1):
        log_psi[j] += (1 - depth) * (-1) ** (j + 1) / j
    mean = (layer.mean * derivative_moments[0]) ** depth
    result = []
    for k in range(1, count + 1):
        series = _exponential([k * c for c in log_psi], k - 1)
        result.append(mean**k * series[k - 1] / k)
    return result


# -- the law of D² = φ'(h)² ---------------------------------------------------------


class SquaredDerivativeLaw:
    """The law of ``D² = φ'(h)²``, ``h ~ N(0, q)``, for a smooth activation (tanh, erf).

    Attributes:
        activation: ``"tanh"`` (``φ'² = sech⁴ h``) or ``"erf"`` (``φ'² = (4/π) e^{−2h²}``).
        variance: ``q > 0``.
        top: the largest value of ``φ'²`` (1 for tanh, 4/π for erf), at ``h = 0``.

    """

    def __init__(self, activation: str, variance: float) -> None:
        if activation not in activations.SMOOTH_JACOBIAN:
            raise ValueError(f"activation={activation!r} must be one of "
                             f"{', '.join(activations.SMOOTH_JACOBIAN)}")
        if not (variance > 0 and math.isfinite(variance)):
            raise ValueError(f"variance={variance!r} must be positive and finite")
        self.activation, self.variance = activation, float(variance)
        self.top = 1.0 if activation == "tanh" else 4 / math.pi

    def squared_derivative(self, h: Any) -> Any:
        """``φ'(h)²`` (numpy, complex allowed)."""
        if self.activation == "tanh":
            return np.cosh(h) ** -4
        return 4 / math.pi * np.exp(-2 * h * h)

    def moments(self, count: int) -> list[float]:
        """``[μ_1, ..., μ_count]``, ``μ_k = E φ'(h)^{2k}``."""
        return [float(activations.derivative_moment(self.activation, self.variance, k))
                for k in range(1, count + 1)]

    @cached_property
    def _rule(self) -> tuple[np.ndarray, np.ndarray]:
        """Values ``φ'(h_j)²`` and weights on the deformed contour (trapezoid in t)."""
        width = math.sqrt(2 * self.variance * TAIL)
        count = math.ceil(width / CONTOUR_STEP)
        t = CONTOUR_STEP * (np.arange(-count, count) + 0.5)  # no node at h = 0
        h = t + 1j * CONTOUR_HEIGHT * t / (1 + t * t)
        slope = 1 + 1j * CONTOUR_HEIGHT * (1 - t * t) / (1 + t * t) ** 2
        weights = (CONTOUR_STEP * np.exp(-h * h / (2 * self.variance)) * slope
                   / math.sqrt(2 * math.pi * self.variance))
        return self.squared_derivative(h), weights

    def stieltjes(self, zeta: Any) -> tuple[np.ndarray, np.ndarray]:
        """``G_D(ζ)`` and ``G_D'(ζ)`` for ``Im ζ ≥ 0`` (real ζ: the limit from above)."""
        values, weights = self._rule
        zeta = np.asarray(zeta, dtype=complex)
        inverse = 1 / (zeta[..., None] - values)
        return (inverse * weights).sum(-1), -(inverse * inverse * weights).sum(-1)

    def log_integral(self, zeta: Any) -> np.ndarray:
        """``Λ(ζ) = E log(ζ − φ'(h)²)`` (``Λ' = G_D``), continuous down to the real axis."""
        values, weights = self._rule
        zeta = np.asarray(zeta, dtype=complex)
        return (np.log(zeta[..., None] - values) * weights).sum(-1)

    def inverse_moment_function(self, w: float) -> float:
        """``ζ > top`` with ``M_D(ζ) = ζ G_D(ζ) − 1 = w > 0``, bisecting ``log(ζ − top)``."""
        def excess(zeta: float) -> float:
            return float((zeta * self.stieltjes(zeta)[0] - 1).real) - w

        low, high = self.top * 1e-12, self.top
        while excess(self.top + high) > 0:
            high *= 2
        for _ in range(200):
            middle = math.sqrt(low * high)
            if excess(self.top + middle) > 0:
                low = middle
            else:
                high = middle
            if high / low < 1 + 1e-15:
                break
        return self.top + math.sqrt(low * high)

    def s_transform(self, w: float) -> float:
        """``S_D(w) = (1 + w)/(w M_D⁻¹(w))`` for real ``w ≥ 0`` (``S_D(0) = 1/μ₁``)."""
        if w == 0:
            return 1 / self.moments(1)[0]
        return (1 + w) / (w * self.inverse_moment_function(w))


# -- the law of JJᵀ ------------------------------------------------------------------


class JacobianLaw:
    """The law with ``S = S_layer^L S_D^L``: ``JJᵀ`` of a depth-L network.

    ``layer`` is the weights' S-transform (:func:`theorylab.free.s_transform`,
    ``orthogonal_weights`` or ``gaussian_weights``), ``derivative`` the law of D².
    Methods mirror :class:`theorylab.free.STransform`: ``moments``, ``moment``,
    ``variance``, ``__call__`` (S at real ``w ≥ 0``), ``stieltjes``, ``density``, ``cdf``,
    ``mass``, ``edge``.
    """

    def __init__(self, layer: free.STransform, derivative: SquaredDerivativeLaw,
                 depth: int) -> None:
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth={depth!r} must be an integer >= 1")
        self.layer, self.derivative, self.depth = layer, derivative, depth
        self.power = layer**depth
        self.mean = (layer.mean * derivative.moments(1)[0]) ** depth

    def moments(self, count: int, precision: int | None = None) -> list[float]:
        """``[m_1..m_count]`` of ``JJᵀ``'s spectrum (:func:`jacobian_moments`)."""
        return jacobian_moments(self.layer, self.derivative.moments(count), self.depth, count)

    def moment(self, k: int, precision: int | None = None) -> float:
        """``m_k``."""
        return self.moments(k)[-1]

    def variance(self, precision: int | None = None) -> float:
        """``m₂ − m₁²``."""
        first, second = self.moments(2)
        return second - first**2

    def __call__(self, w: float, precision: int | None = None) -> float:
        """``S(w) = S_layer(w)^L S_D(w)^L`` for real ``w ≥ 0``."""
        return float(self.power(w)) * self.derivative.s_transform(float(w)) ** self.depth

    # -- the root ζ(z) and what follows from it ---------------------------------------

    def _map(self, zeta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``z(ζ)``, ``d log z/dζ`` and ``M = M_D(ζ)``."""
        g, dg = self.derivative.stieltjes(zeta)
        m = zeta * g - 1
        dm = g + zeta * dg
        with np.errstate(all="ignore"):
            z = self.power.chi(m) * (m / g) ** self.depth
            slope = (self.power._chi_log_derivative(m) * dm
                     + self.depth * (dm / m - dg / g))
        return z, slope, m

    def _newton(self, zeta: np.ndarray, target: np.ndarray, iterations: int) -> np.ndarray:
        with np.errstate(all="ignore"):
            for _ in range(iterations):
                z, slope, _ = self._map(zeta)
                step = (z - target) / (z * slope)
                zeta = zeta - np.where(np.isfinite(step), step, 0.0)
        return zeta

    def _track(self, x: np.ndarray) -> np.ndarray:
        """``ζ(x + i0⁺)`` from ``x + iY`` (``ζ ≈ μ₁ z/m₁``) down the line ``Re z = x``."""
        mu = self.derivative.moments(1)[0]
        scale = max(self.mean, float(np.max(np.abs(x), initial=0.0)))
        heights = 1e2 * scale * 0.5 ** np.arange(0, 40)
        zeta = mu * (x + 1j * heights[0]) / self.mean
        for height in heights:
            zeta = self._newton(zeta, x + 1j * height, 2)
        return self._newton(zeta, x.astype(complex), 20)

    def stieltjes(self, z: Any, precision: int | None = None) -> np.ndarray:
        """``G(z)`` of ``JJᵀ`` at real ``z > 0`` (from above), vectorised."""
        x = np.asarray(z, dtype=float)
        _, _, m = self._map(self._track(x.ravel()))
        return ((1 + m) / x.ravel()).reshape(x.shape)

    def density(self, x: Any, precision: int | None = None) -> Any:
        """``ρ(x) = −Im M(x + i0⁺)/(πx)`` for ``x > 0``."""
        array = np.asarray(x, dtype=float)
        if np.any(~np.isfinite(array)) or np.any(array <= 0):
            raise ValueError("x must be positive and finite")
        _, _, m = self._map(self._track(array.ravel()))
        value = (np.maximum(-m.imag, 0.0) / (np.pi * array.ravel())).reshape(array.shape)
        return float(value) if np.ndim(x) == 0 else value

    def cdf(self, x: Any, precision: int | None = None) -> Any:
        """``F(x) = μ([0, x]) = 1 − Im Φ(x)/π`` (module docstring), for ``x > 0``."""
        array = np.asarray(x, dtype=float)
        if np.any(~np.isfinite(array)) or np.any(array <= 0):
            raise ValueError("x must be positive and finite")
        zeta = self._track(array.ravel())
        _, _, m = self._map(zeta)
        m = m.real - 1j * np.abs(m.imag)
        with np.errstate(all="ignore"):
            imaginary = (free._imaginary_antiderivative(self.power, m)
                         + self.depth * free._lower_argument(m)
                         + self.depth * self.derivative.log_integral(zeta).imag)
        value = np.clip(1 - imaginary / np.pi, 0.0, 1.0).reshape(array.shape)
        return float(value) if np.ndim(x) == 0 else value

    def mass(self, lower: Any, upper: Any, precision: int | None = None) -> Any:
        """``μ((lower, upper])``."""
        return self.cdf(upper) - self.cdf(lower)

    def edge(self, precision: int | None = None) -> float:
        """The upper edge of the support (the limit of ``λ_max``).

        ``z`` at the first critical point of ``ζ ↦ z(ζ)`` on ``ζ > top`` coming from ``∞``,
        or ``z(top⁺)`` where there is none (one orthogonal layer: ``σ_w² max φ'²``).
        """
        top = self.derivative.top

        def slope(offset: float) -> float:
            return float(self._map(np.array([top + offset], dtype=complex))[1][0].real)

        high = 10 * top
        while slope(high) <= 0:
            high *= 2
        low = high
        while slope(low) > 0:
            high, low = low, low * 0.7
            if low < 1e-9 * top:
                return float(self._map(np.array([top + low], dtype=complex))[0][0].real)
        for _ in range(100):
            middle = math.sqrt(low * high)
            if slope(middle) > 0:
                high = middle
            else:
                low = middle
            if high / low < 1 + 1e-13:
                break
        return float(self._map(np.array([top + math.sqrt(low * high)], dtype=complex))[0][0].real)


# -- the network's law, any activation of the Jacobian spectra -------------------------


def network_law(activation: str, weights: str, depth: int, weight_variance: float,
                q: float) -> Any:
    """``S_{JJᵀ} = S_{WWᵀ}^L S_{D²}^L`` as a law, for ``weights`` orthogonal or gaussian.

    Piecewise-linear φ: D² is Bernoulli(p), a power-product law (a
    :class:`theorylab.free.STransform`); tanh and erf: a :class:`JacobianLaw`.
    """
    layer = free.s_transform(f"{weights}_weights", weight_variance=float(weight_variance))
    if activation in activations.SMOOTH_JACOBIAN:
        return JacobianLaw(layer, SquaredDerivativeLaw(activation, float(q)), int(depth))
    p = float(activations.derivative_mean_square(activation, float(q)))
    return (layer * free.s_transform("bernoulli", p=p)) ** int(depth)


def bernoulli_network_law(activation: str, weights: str, depth: int, weight_variance: float,
                          q: float) -> free.STransform:
    """The law with D² taken as Bernoulli(μ₁), ``S_{D²} = (1 + w)/(μ₁ + w)`` (μ₁ may exceed 1).

    The piecewise-linear law with a smooth activation's mean: right ``m₁``, wrong spread.
    """
    mean = float(activations.derivative_moment(activation, float(q), 1))
    layer = free.s_transform(f"{weights}_weights", weight_variance=float(weight_variance))
    bernoulli = free.STransform(mean, ((1.0, 1), (1 / mean, -1))) if mean != 1 else \
        free.STransform(1.0)
    return (layer * bernoulli) ** int(depth)


def derivative_s_transform(activation: str, q: float, w: float) -> float:
    """``S_{D²}(w)`` at real ``w ≥ 0``: ``(1 + w)/(p + w)`` (Bernoulli), else by quadrature."""
    if activation in activations.SMOOTH_JACOBIAN:
        return SquaredDerivativeLaw(activation, float(q)).s_transform(float(w))
    p = activations.derivative_mean_square(activation, q)
    return (1 + w) / (p + w)
