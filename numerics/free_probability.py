"""Random matrices and real networks whose spectra the free-probability claims predict.

Everything here is sampled from first principles in ``torch`` (float64), batched
over an ensemble, and reduced to spectral statistics; nothing imports
``theorylab.theory`` or ``theorylab.free`` (the closed forms and the S-transform
calculus being checked).

Matrices (``n`` is a width, ``X ∈ ℝ^{p×n}`` etc.):

- Wishart: ``XXᵀ/n`` with i.i.d. ``N(0, σ²)`` entries, ``λ = p/n``; its ``p``
  eigenvalues, zeros included.
- GOE: symmetric, off-diagonal ``N(0, σ²/n)``, diagonal ``N(0, 2σ²/n)``.
- Products of ``s`` square Gaussians with ``N(0, 1/n)`` entries; eigenvalues of ``WWᵀ``.
- ``A^{1/2} B A^{1/2}`` for independent Wisharts ``A = XXᵀ/n_a``, ``B = YYᵀ/n_b``
  (``p × p``), from the nonzero spectrum of ``Lᵀ B L``, ``L = X/√n_a``.
- Networks ``h_l = W_l φ(h_{l−1}) + b_l`` at their mean-field fixed point ``q*``:
  ``h_0 ~ N(0, q*)`` and ``σ_b² = q* − σ_w² E φ(√q* z)²`` so that every layer's
  pre-activations have variance ``q*``; weights ``N(0, σ_w²/n)`` or ``σ_w`` times a
  Haar orthogonal matrix (QR with the sign fix). The Jacobian is the explicit
  product ``J = D_L W_L ⋯ D_1 W_1`` with ``D_l = diag φ'(h_l)``.

Statistics of a spectrum (per matrix, then averaged over ``replicas`` matrices in
each ensemble member): ``moment`` (``mean λ^k``), ``cdf`` (fraction ``≤ x``),
``mass`` (fraction in the bin ``(x, upper]``: a binned histogram),
``density`` (central difference of the empirical CDF over ``[x − h, x + h]``),
``edge`` (``λ_max``), ``atom`` (fraction of zero eigenvalues), ``mean``,
``variance`` and ``relative_variance`` (``variance/mean²``), and ``r_transform``
(``z − 1/w`` where the empirical ``G_n(z) = w`` above the spectrum).

Standard errors are the spread between ensemble members (independent matrices):
a spectrum's eigenvalues are strongly correlated (a bin's count fluctuates by
O(1) eigenvalues, not the binomial O(√(n·mass))), so only whole matrices are
independent samples.

Finite-size bias: bulk statistics converge as ``1/n`` (the density's window
``h ∝ n^{−1/2}`` adds ``h² ∝ 1/n``); ``λ_max`` converges as ``n^{−2/3}``. Each
measurement reports its levels' resolutions (``1/n``, or ``n^{−2/3}`` for edges)
and the verifier extrapolates (Richardson) and bounds the remainder.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from theorylab.numerics._torch import FLOAT64_EPS, generator, haar_orthogonal

from theorylab import activations
from theorylab.measurement import Measurement

__all__ = [
    "wishart_spectra",
    "goe_spectra",
    "gaussian_product_spectra",
    "wishart_product_spectra",
    "wishart_product_moments",
    "jacobians",
    "spectral_statistic",
    "marchenko_pastur",
    "semicircle",
    "fuss_catalan",
    "s_transform_product",
    "mp_cdf",
    "jacobian_spectrum",
    "dynamical_isometry",
    "jacobian_traces",
    "jacobian_trace_statistics",
    "jacobian_moment_replicas",
]

ZERO = 1e-9  # eigenvalues below ZERO * (largest) count as exact zeros (the atom)


class _single_thread:  # noqa: N801  (a context manager used like a function)
    """Run small batched LAPACK calls on one thread (restored afterwards).

    Batched ``eigvalsh``/``qr`` of many small matrices gain nothing from threads
    and slow down badly when the cores are shared.
    """

    def __init__(self, device: str) -> None:
        self.active = device == "cpu"

    def __enter__(self) -> None:
        if self.active:
            self.saved = torch.get_num_threads()
            torch.set_num_threads(1)

    def __exit__(self, *args: Any) -> None:
        if self.active:
            torch.set_num_threads(self.saved)


# -- samplers ----------------------------------------------------------------------


def wishart_spectra(p: int, n: int, batch: int, variance: float, *, rng: torch.Generator,
                    device: str) -> torch.Tensor:
    """Eigenvalues (batch, p) of ``XXᵀ/n``, ``X ∈ ℝ^{p×n}`` i.i.d. ``N(0, variance)``."""
    x = torch.randn(batch, p, n, generator=rng, device=device, dtype=torch.float64)
    gram = x @ x.transpose(1, 2) * (variance / n)
    return torch.linalg.eigvalsh(gram)


def goe_spectra(n: int, batch: int, variance: float, *, rng: torch.Generator,
                device: str) -> torch.Tensor:
    """Eigenvalues (batch, n) of a GOE matrix with off-diagonal variance ``variance/n``."""
    a = torch.randn(batch, n, n, generator=rng, device=device, dtype=torch.float64)
    symmetric = (a + a.transpose(1, 2)) * math.sqrt(variance / (2 * n))
    return torch.linalg.eigvalsh(symmetric)


def gaussian_product_spectra(n: int, factors: int, batch: int, *, rng: torch.Generator,
                             device: str, variance: float = 1.0) -> torch.Tensor:
    """Eigenvalues (batch, n) of ``WWᵀ``, ``W = G_s ⋯ G_1`` with ``N(0, variance/n)`` entries."""
    product = None
    for _ in range(factors):
        g = torch.randn(batch, n, n, generator=rng, device=device, dtype=torch.float64)
        g = g * math.sqrt(variance / n)
        product = g if product is None else g @ product
    assert product is not None
    return torch.linalg.eigvalsh(product @ product.transpose(1, 2))


def wishart_product_spectra(p: int, n_a: int, n_b: int, batch: int, *, rng: torch.Generator,
                            device: str, variance: float = 1.0) -> torch.Tensor:
    """Eigenvalues (batch, p) of ``A^{1/2} B A^{1/2}`` for independent Wisharts.

    ``A = XXᵀ/n_a`` and ``B = YYᵀ/n_b`` (``p × p``; X has unit-variance entries, Y
    ``variance``). For ``n_a > p``, from ``RᵀBR`` with ``A = RRᵀ`` (Cholesky); else, with
    ``L = X/√n_a``, ``A^{1/2} B A^{1/2}`` and ``Lᵀ B L`` share their nonzero
    eigenvalues; the ``p`` eigenvalues are the largest ``min(p, n_a)`` of ``Lᵀ B L``
    padded with zeros.
    """
    x = torch.randn(batch, p, n_a, generator=rng, device=device, dtype=torch.float64)
    y = torch.randn(batch, p, n_b, generator=rng, device=device, dtype=torch.float64)
    if n_a > p:  # A is positive definite: A = RRᵀ (Cholesky), and RᵀBR (p × p) shares AB's
        # spectrum; cheaper than the n_a × n_a form below.
        factor = torch.linalg.cholesky(x @ x.transpose(1, 2) / n_a)
        inner = factor.transpose(1, 2) @ y * math.sqrt(variance / n_b)  # RᵀY/sqrt(n_b)
        return torch.linalg.eigvalsh(inner @ inner.transpose(1, 2))
    left = x / math.sqrt(n_a)
    inner = left.transpose(1, 2) @ y * math.sqrt(variance / n_b)  # L^T Y/sqrt(n_b)
    values = torch.linalg.eigvalsh(inner @ inner.transpose(1, 2))  # ascending, n_a values
    kept = values[:, -min(p, n_a):]
    pad = torch.zeros(batch, p - kept.shape[1], dtype=torch.float64, device=device)
    return torch.cat([pad, kept], dim=1)


def _activation(name: str, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return activations.torch_function(name)(h), activations.torch_derivative(name)(h)


def jacobians(activation: str, weights: str, depth: int, weight_variance: float,
              preactivation_variance: float, width: int, batch: int, *,
              rng: torch.Generator, device: str) -> torch.Tensor:
    """Input-output Jacobians (batch, width, width) of networks at their fixed point.

    ``h_0 ~ N(0, q*)``; ``h_l = W_l φ(h_{l−1}) + b_l`` with ``b_l ~ N(0, σ_b²)`` and
    ``σ_b² = q* − σ_w² E φ(√q* z)²``; ``J = D_L W_L ⋯ D_1 W_1``.

    Raises:
        ValueError: if ``q*`` is not a fixed point for any ``σ_b² ≥ 0``.

    """
    product, _ = _jacobians_and_fractions(activation, weights, depth, weight_variance,
                                          preactivation_variance, width, batch, rng=rng,
                                          device=device)
    return product


def _jacobians_and_fractions(activation: str, weights: str, depth: int,
                             weight_variance: float, preactivation_variance: float, width: int,
                             batch: int, *, rng: torch.Generator,
                             device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The networks of :func:`jacobians`: their Jacobians and each layer's ``mean φ'²``.

    For smooth φ (tanh, erf) each layer's ``mean φ'⁴`` follows as more columns (``(batch,
    2 depth)``): D²'s empirical law moves both of the spectrum's first moments.
    """
    bias_variance = preactivation_variance - weight_variance * activations.mean_square(
        activation, preactivation_variance)
    if bias_variance < -1e-12:
        raise ValueError(f"q*={preactivation_variance} is no fixed point at "
                         f"sigma_w^2={weight_variance} (needs sigma_b^2 < 0)")
    bias_scale = math.sqrt(max(bias_variance, 0.0))
    options = {"generator": rng, "device": device, "dtype": torch.float64}
    h = torch.randn(batch, width, **options) * math.sqrt(preactivation_variance)
    product = None
    fractions, fourth = [], []
    for _ in range(depth):
        if weights == "gaussian":
            w = torch.randn(batch, width, width, **options) * math.sqrt(weight_variance / width)
        else:
            w = haar_orthogonal(batch, width, rng=rng, device=device) * math.sqrt(weight_variance)
        post, _ = _activation(activation, h)
        h = (w @ post.unsqueeze(-1)).squeeze(-1) + bias_scale * torch.randn(batch, width,
                                                                            **options)
        _, slope = _activation(activation, h)
        fractions.append((slope * slope).mean(dim=1))
        fourth.append((slope**4).mean(dim=1))
        layer = slope.unsqueeze(-1) * w
        product = layer if product is None else layer @ product
    assert product is not None
    if activation in activations.SMOOTH_JACOBIAN:
        fractions += fourth
    return product, torch.stack(fractions, dim=1)


# -- statistics ----------------------------------------------------------------------


def spectral_statistic(values: torch.Tensor, quantity: str, *, k: int | None = None,
                       x: float | None = None, half_width: float | None = None,
                       upper: float | None = None) -> torch.Tensor:
    """One number per spectrum (rows of ``values``), see the module docstring."""
    if quantity == "moment":
        return (values ** int(k)).mean(dim=1)  # type: ignore[arg-type]
    if quantity == "mean":
        return values.mean(dim=1)
    if quantity in ("variance", "relative_variance"):
        mean = values.mean(dim=1)
        spread = (values**2).mean(dim=1) - mean**2
        return spread / mean**2 if quantity == "relative_variance" else spread
    if quantity == "cdf":
        return (values <= x).to(values.dtype).mean(dim=1)
    if quantity == "mass":
        return ((values > x) & (values <= upper)).to(values.dtype).mean(dim=1)
    if quantity == "density":
        upper = (values <= x + half_width).to(values.dtype).mean(dim=1)
        lower = (values <= x - half_width).to(values.dtype).mean(dim=1)
        return (upper - lower) / (2 * half_width)
    if quantity == "edge":
        return values.max(dim=1).values
    if quantity == "atom":
        largest = values.abs().max(dim=1, keepdim=True).values
        return (values.abs() <= ZERO * largest).to(values.dtype).mean(dim=1)
    if quantity == "r_transform":
        return _r_transform(values, float(x))  # type: ignore[arg-type]
    raise ValueError(f"unknown quantity {quantity!r}")


def _r_transform(values: torch.Tensor, w: float) -> torch.Tensor:
    """``z − 1/w`` where ``G_n(z) = mean 1/(z − λ_i) = w`` for ``z > λ_max`` (bisection)."""
    top = values.max(dim=1, keepdim=True).values
    low = top + 1e-12 * (1 + top.abs())
    high = top + 1 / w + 1e-12  # G_n(z) <= 1/(z - λ_max) <= w there
    for _ in range(200):
        middle = 0.5 * (low + high)
        resolvent = (1 / (middle - values)).mean(dim=1, keepdim=True)
        above = resolvent > w
        low = torch.where(above, middle, low)
        high = torch.where(above, high, middle)
    return (0.5 * (low + high)).squeeze(1) - 1 / w


# -- the measurement loop shared by all claims -------------------------------------


Sampler = Callable[[int, int, torch.Generator], torch.Tensor]


WINDOW = 0.2  # density half-width at the coarsest size, in units of the spectrum's spread


def _measure(points: Sequence[dict[str, Any]], *, seed: int, device: str, ensemble: int,
             sampler_for: Callable[[dict[str, Any]], tuple[Sampler, Sequence[int]]],
             replicas_for: Callable[[dict[str, Any]], Sequence[int]]) -> list[Measurement]:
    """Run every point at its levels; one Measurement per point.

    ``sampler_for(point)`` returns ``(sample(level_index, batch, rng) -> spectra,
    sizes)``; ``replicas_for(point)`` the matrices averaged per ensemble member at
    each level. Densities use the half-width ``h = WINDOW · spread · (sizes[0]/size)^½``
    with ``spread`` the standard deviation of the nonzero eigenvalues of a pilot
    batch at the coarsest size (so ``h² ∝ 1/n``, the same order as the bulk bias).
    """
    rng = generator(seed, device)
    results = []
    with _single_thread(device):
        for point in points:
            sample, sizes = sampler_for(point)
            replicas = replicas_for(point)
            quantity = point["quantity"]
            levels = []
            spread = 0.0
            if quantity == "density":
                pilot = sample(0, 8, rng).flatten()
                nonnegative = bool(pilot.min() >= -ZERO * pilot.abs().max())
                pilot = pilot[pilot.abs() > ZERO * pilot.abs().max()]
                spread = float(pilot.std())
                if nonnegative:  # never let the window reach the atom at 0
                    spread = min(spread, 0.25 * point["x"] / WINDOW)
            for index, size in enumerate(sizes):
                values = sample(index, ensemble * replicas[index], rng)
                half_width = WINDOW * spread * math.sqrt(sizes[0] / size)
                statistic = spectral_statistic(values, quantity, k=point.get("k"),
                                               x=point.get("x"), half_width=half_width,
                                               upper=point.get("upper"))
                levels.append(statistic.reshape(ensemble, replicas[index]).mean(dim=1))
            samples = torch.stack(levels).cpu().numpy()
            exponent = 2 / 3 if quantity == "edge" else 1.0
            resolutions = np.array([float(size) ** -exponent for size in sizes])
            scale = float(np.max(np.abs(samples))) if samples.size else 1.0
            rounding = 1e3 * max(sizes) * FLOAT64_EPS * scale
            results.append(Measurement(samples, resolutions, rounding,
                                       {"sizes": list(sizes), "replicas": list(replicas)}))
    return results


# -- simulations named by the claims -------------------------------------------------

#: Matrix sizes p (Wishart) or n (GOE, products) at the three levels.
SIZES = (96, 192)
EDGE_SIZES = (64, 512)


def _ratio_parts(ratio: float) -> tuple[int, int]:
    """``ratio = a/b`` with small integers (the claims draw such ratios)."""
    from fractions import Fraction

    fraction = Fraction(ratio).limit_denominator(12)
    if abs(float(fraction) - ratio) > 1e-12 * ratio:
        raise ValueError(f"ratio={ratio} is not a fraction with denominator <= 12; the "
                         "simulation needs p = ratio * n exactly")
    return fraction.numerator, fraction.denominator


def _wishart_sampler(point: dict[str, Any], device: str) -> tuple[Sampler, Sequence[int]]:
    numerator, denominator = _ratio_parts(point["ratio"])
    # p = numerator * m and n = denominator * m, with p close to the SIZES.
    sizes = [max(1, round(size / numerator)) * numerator for size in SIZES]

    def sample(index: int, batch: int, rng: torch.Generator) -> torch.Tensor:
        p = sizes[index]
        n = p // numerator * denominator
        return wishart_spectra(p, n, batch, point.get("variance") or 1.0, rng=rng,
                               device=device)

    return sample, sizes


def _bulk_replicas(point: dict[str, Any]) -> Sequence[int]:
    """Matrices per ensemble member at each size: the coarse size gets more (it is cheap)."""
    return {"density": (32, 16), "cdf": (8, 4), "mass": (16, 8),
            "moment": (16, 8)}.get(point["quantity"], (4, 2))


def marchenko_pastur(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                     ensemble: int) -> list[Measurement]:
    """Moments, density and atom of the spectrum of Wishart ``XXᵀ/n``."""
    return _measure(points, seed=seed, device=device, ensemble=ensemble,
                    sampler_for=lambda p: _wishart_sampler(p, device),
                    replicas_for=_bulk_replicas)


def mp_cdf(points: Sequence[dict[str, Any]], *, seed: int, device: str,
           ensemble: int) -> list[Measurement]:
    """Empirical CDF of the Wishart spectrum at ``x``."""
    return _measure(points, seed=seed, device=device, ensemble=ensemble,
                    sampler_for=lambda p: _wishart_sampler(p, device),
                    replicas_for=_bulk_replicas)


def semicircle(points: Sequence[dict[str, Any]], *, seed: int, device: str,
               ensemble: int) -> list[Measurement]:
    """Moments, density and R-transform of GOE spectra."""
    def sampler(point: dict[str, Any]) -> tuple[Sampler, Sequence[int]]:
        def sample(index: int, batch: int, rng: torch.Generator) -> torch.Tensor:
            return goe_spectra(SIZES[index], batch, point["variance"], rng=rng, device=device)

        return sample, SIZES

    return _measure(points, seed=seed, device=device, ensemble=ensemble, sampler_for=sampler,
                    replicas_for=_bulk_replicas)


def fuss_catalan(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                 ensemble: int) -> list[Measurement]:
    """Moments, density and λ_max of ``WWᵀ`` for products of ``s`` Gaussians."""
    def sampler(point: dict[str, Any]) -> tuple[Sampler, Sequence[int]]:
        sizes = EDGE_SIZES if point["quantity"] == "edge" else SIZES

        def sample(index: int, batch: int, rng: torch.Generator) -> torch.Tensor:
            return gaussian_product_spectra(sizes[index], point["s"], batch, rng=rng,
                                            device=device, variance=point.get("variance") or 1.0)

        return sample, sizes

    def replicas(point: dict[str, Any]) -> Sequence[int]:
        if point["quantity"] == "edge":
            return (4, 1)
        if point["quantity"] == "mass":  # bin counts fluctuate as for one Wishart
            return (8, 4)
        # Products' moments fluctuate more than single Wisharts': twice the bulk's matrices.
        return tuple(2 * count for count in _bulk_replicas(point))

    return _measure(points, seed=seed, device=device, ensemble=ensemble, sampler_for=sampler,
                    replicas_for=replicas)


#: Sizes ``p`` of the four levels for the product moments (traces: no eigenvalues) and
#: matrices per ensemble member at each. ``E tr((AB)^k)/p`` is a polynomial in ``1/p``
#: (Wick's theorem) and the per-matrix SD falls as ``1/p`` while the cost grows as
#: ``p²``–``p³``: small sizes with many matrices are cheap, and four levels leave the
#: bias bound (the last Richardson corrections) at the cubic term. The allocation
#: minimises the SE of the extrapolation (weights ≈ −0.05, 0.67, −2.67, 3.05) per cost.
PRODUCT_SIZES = (12, 24, 48, 96)
PRODUCT_REPLICAS = (16, 48, 32, 2)


def wishart_product_moments(p: int, n_a: int, n_b: int, batch: int, k: int, *,
                            rng: torch.Generator, device: str, variance: float = 1.0,
                            controls: bool = False) -> torch.Tensor | tuple[torch.Tensor,
                                                                            torch.Tensor]:
    """``tr((AB)^k)/p`` (batch,) for independent Wisharts ``A = XXᵀ/n_a``, ``B = YYᵀ/n_b``.

    ``AB`` and ``A^{1/2} B A^{1/2}`` share their spectrum, so this is the ``k``-th
    moment of the latter's ``p`` eigenvalues, without an eigendecomposition.

    With ``controls=True`` also returns control variates (batch, 7) of exactly known
    mean zero, from Gaussian moments alone (``E A = I``, ``E B = σ²I``, independence,
    and Wick's ``E (XXᵀ)² = n(n + p + 1) I``): ``tr A/p − 1``, ``tr B/(pσ²) − 1``,
    ``tr AB/(pσ²) − 1``, ``tr A²/p − e_a``, ``tr B²/(pσ⁴) − e_b``, ``tr A²B/(pσ²) − e_a``,
    ``tr AB²/(pσ⁴) − e_b`` with ``e = 1 + (p + 1)/n``.
    """
    options = {"generator": rng, "device": device, "dtype": torch.float64}
    x = torch.randn(batch, p, n_a, **options)
    y = torch.randn(batch, p, n_b, **options)
    first = x @ x.transpose(1, 2) / n_a
    second = y @ y.transpose(1, 2) * (variance / n_b)
    product = first @ second
    # tr(MN) = sum(M ∘ Nᵀ): one matmul per moment order beyond 2.
    if k == 1:
        moment = torch.diagonal(product, dim1=1, dim2=2).sum(dim=1) / p
    else:
        half = product
        for _ in range(k // 2 - 1):
            half = half @ product
        other = half @ product if k % 2 else half
        moment = (other * half.transpose(1, 2)).sum(dim=(1, 2)) / p
    if not controls:
        return moment
    expected_a, expected_b = 1 + (p + 1) / n_a, 1 + (p + 1) / n_b
    scale_a, scale_b = p, p * variance
    columns = [
        torch.diagonal(first, dim1=1, dim2=2).sum(dim=1) / scale_a - 1,
        torch.diagonal(second, dim1=1, dim2=2).sum(dim=1) / scale_b - 1,
        torch.diagonal(product, dim1=1, dim2=2).sum(dim=1) / scale_b - 1,
        (first * first).sum(dim=(1, 2)) / scale_a - expected_a,
        (second * second).sum(dim=(1, 2)) / (scale_b * variance) - expected_b,
        (product * first).sum(dim=(1, 2)) / scale_b - expected_a,  # tr(A·AB), A symmetric
        (product * second).sum(dim=(1, 2)) / (scale_b * variance) - expected_b,  # tr(AB·B)
    ]
    return moment, torch.stack(columns, dim=1)


def _product_replicas(point: dict[str, Any]) -> Sequence[int]:
    """Bins: the claim's ensemble (64) is four times the bulk's, so a quarter per member."""
    return (4, 2) if point["quantity"] == "mass" else _bulk_replicas(point)


def s_transform_product(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                        ensemble: int) -> list[Measurement]:
    """Moments (from traces) and density of ``A^{1/2} B A^{1/2}`` for independent Wisharts.

    Moments: ``tr((AB)^k)/p`` at four sizes ``p`` (its expectation is a polynomial in
    ``1/p``; the fluctuation of a trace is ``O(1/p)``), with the control variates of
    :func:`wishart_product_moments`; densities: eigenvalues.
    """
    def parts(point: dict[str, Any], base: Sequence[int]) -> tuple[list[int], Callable]:
        first, second = _ratio_parts(point["ratio_a"]), _ratio_parts(point["ratio_b"])
        unit = math.lcm(first[0], second[0])
        sizes = [max(1, round(size / unit)) * unit for size in base]

        def shapes(p: int) -> tuple[int, int]:
            return p // first[0] * first[1], p // second[0] * second[1]

        return sizes, shapes

    def sampler(point: dict[str, Any]) -> tuple[Sampler, Sequence[int]]:
        sizes, shapes = parts(point, SIZES)

        def sample(index: int, batch: int, rng: torch.Generator) -> torch.Tensor:
            p = sizes[index]
            n_a, n_b = shapes(p)
            return wishart_product_spectra(p, n_a, n_b, batch, rng=rng, device=device,
                                           variance=point.get("variance") or 1.0)

        return sample, sizes

    rng = generator(seed, device)
    results = []
    with _single_thread(device):
        for point in points:
            if point["quantity"] != "moment":
                results.extend(_measure([point], seed=seed, device=device, ensemble=ensemble,
                                        sampler_for=sampler, replicas_for=_product_replicas))
                continue
            sizes, shapes = parts(point, PRODUCT_SIZES)
            # m₂ fluctuates several times less than m₃ (relative SD): a quarter of the
            # matrices reach the same relative SE.
            counts = [max(1, r // (4 if point["k"] <= 2 else 1)) for r in PRODUCT_REPLICAS]
            levels = []
            for size, replicas in zip(sizes, counts, strict=True):
                n_a, n_b = shapes(size)
                moments, controls = wishart_product_moments(
                    size, n_a, n_b, ensemble * replicas, int(point["k"]), rng=rng,
                    device=device, variance=point.get("variance") or 1.0, controls=True)
                response = moments.cpu().numpy()
                control = controls.cpu().numpy()
                # Control variates (known mean 0): the pooled least-squares slope removes
                # most of the O(1/p) trace fluctuation; the O(1/N) bias of the estimated
                # slope is far below the SE.
                response = _controlled(response, control)
                levels.append(response.reshape(ensemble, replicas).mean(axis=1))
            samples = np.stack(levels)
            rounding = 1e3 * max(sizes) * FLOAT64_EPS * float(np.max(np.abs(samples)))
            results.append(Measurement(samples, np.array([1.0 / size for size in sizes]),
                                       rounding, {"sizes": sizes, "replicas": counts}))
    return results


JACOBIAN_SIZES = (64, 128)


def _jacobian_sampler(point: dict[str, Any], device: str,
                      weight_variance: float) -> tuple[Sampler, Sequence[int]]:
    sizes = EDGE_SIZES if point["quantity"] == "edge" else JACOBIAN_SIZES

    def sample(index: int, batch: int, rng: torch.Generator) -> torch.Tensor:
        jacobian = jacobians(point["activation"], point["weights"], point["depth"],
                             weight_variance, point["preactivation_variance"], sizes[index],
                             batch, rng=rng, device=device)
        return torch.linalg.eigvalsh(jacobian @ jacobian.transpose(1, 2))

    return sample, sizes


def _jacobian_replicas(point: dict[str, Any]) -> Sequence[int]:
    if point["quantity"] == "edge":
        return (2, 1)
    return (32, 8)


def jacobian_spectrum(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                      ensemble: int) -> list[Measurement]:
    """Spectral statistics of ``JJᵀ`` for real networks at their fixed point.

    ``mean`` and ``relative_variance`` come from traces
    (:func:`jacobian_trace_statistics`); ``density`` and ``edge`` from eigenvalues.
    """
    rng = generator(seed, device)
    results = []
    with _single_thread(device):
        for point in points:
            if point["quantity"] in ("mean", "relative_variance", "mass", "moment"):
                results.append(jacobian_trace_statistics(
                    point, point["weight_variance"], seed=seed, rng=rng, device=device,
                    ensemble=ensemble))
            else:
                results.extend(_measure(
                    [point], seed=seed, device=device, ensemble=ensemble,
                    sampler_for=lambda p: _jacobian_sampler(p, device, p["weight_variance"]),
                    replicas_for=_jacobian_replicas))
    return results


def _critical_weight_variance(activation: str, q: float) -> float:
    """``σ_w² = 1/E φ'(√q z)²``: the network's own criticality condition ``χ = 1``."""
    if activation == "linear":
        return 1.0
    if activation == "relu":
        return 2.0
    if activation == "hard_tanh":
        return 1 / math.erf(1 / math.sqrt(2 * q))
    return 1 / float(activations.derivative_moment(activation, q, 1))  # tanh, erf


def dynamical_isometry(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                       ensemble: int) -> list[Measurement]:
    """Relative spread ``var/mean²`` of ``JJᵀ``'s spectrum for critical networks."""
    rng = generator(seed, device)
    with _single_thread(device):
        return [jacobian_trace_statistics(
            {**point, "quantity": "relative_variance"},
            _critical_weight_variance(point["activation"], point["preactivation_variance"]),
            seed=seed, rng=rng, device=device, ensemble=ensemble) for point in points]


# -- Jacobian moments from traces (no eigendecomposition) ------------------------------

#: Widths of the three levels and networks per ensemble member at each: the coarse
#: widths are cheap and their networks fluctuate more (per-network SD ∝ 1/n after the
#: control variate), so they get more networks.
JACOBIAN_MOMENT_SIZES = (32, 64, 128)
JACOBIAN_MOMENT_REPLICAS = (24, 12, 8)


def _controlled(response: np.ndarray, control: np.ndarray) -> np.ndarray:
    """``response`` less its pooled least-squares slope on ``control`` (columns of known mean 0).

    The control variate keeps the mean and removes the part of the fluctuation that the
    controls explain; the O(1/N) bias of the estimated slope is far below the SE.
    """
    design = np.column_stack([np.ones(len(response)), control])
    slope = np.linalg.lstsq(design, response, rcond=None)[0][1:]
    return response - control @ slope


def jacobian_moment_replicas(point: dict[str, Any]) -> tuple[int, ...]:
    """Networks per ensemble member at each of :data:`JACOBIAN_MOMENT_SIZES`.

    Twice the default for Gaussian networks deeper than one layer (each network's
    spread fluctuates by about 4/n relative at L = 2, against 1/n at L = 1). Otherwise,
    for bin masses and for moments of deeper networks, more networks at the middle width
    (four times for moments, with twice at the finest): the Richardson bias bound
    (4/3 of the second difference ``v₃₂ − 3v₆₄ + 2v₁₂₈``) is dominated by the levels'
    noise, mostly the middle level's, which is cheap (1/5 of the finest's cost).
    """
    if point["weights"] == "gaussian" and point["depth"] >= 2:
        return tuple(2 * count for count in JACOBIAN_MOMENT_REPLICAS)
    if point["quantity"] == "mass":
        return (32, 32, 12)
    if point["depth"] >= 2:
        return (24, 48, 16)
    return JACOBIAN_MOMENT_REPLICAS


def active_fraction(activation: str, preactivation_variance: float) -> float:
    """``E φ'(h)²`` for ``h ~ N(0, q)``: the mean-field mean of each layer's ``mean φ'(h_l)²``.

    For piecewise-linear φ it is ``P(φ'(h) ≠ 0)``, the mean of the active fraction ``p̂_l``.

    A property of the simulated network's own fixed point (used only as the known
    mean of the control variate in :func:`jacobian_trace_statistics`); a definition
    from :mod:`theorylab.activations`.
    """
    return float(activations.derivative_moment(activation, preactivation_variance, 1))


def jacobian_traces(activation: str, weights: str, depth: int, weight_variance: float,
                    preactivation_variance: float, width: int, batch: int, *,
                    rng: torch.Generator, device: str) -> tuple[torch.Tensor, torch.Tensor,
                                                                torch.Tensor]:
    """``m₁ = tr(JJᵀ)/n``, ``m₂ = tr((JJᵀ)²)/n`` and each layer's active fraction ``p̂_l``.

    Shapes ``(batch,)``, ``(batch,)`` and ``(batch, depth)`` (``2 depth`` for smooth φ: the
    ``mean φ'⁴`` too); the networks are those of
    :func:`jacobians`, built once (forward pass and Jacobian together).
    """
    product, fractions = _jacobians_and_fractions(
        activation, weights, depth, weight_variance, preactivation_variance, width, batch,
        rng=rng, device=device)
    gram = product @ product.transpose(1, 2)
    first = torch.diagonal(gram, dim1=1, dim2=2).sum(dim=1) / width
    second = (gram * gram).sum(dim=(1, 2)) / width
    return first, second, fractions


def jacobian_trace_statistics(point: dict[str, Any], weight_variance: float, *, seed: int,
                              rng: torch.Generator, device: str, ensemble: int
                              ) -> Measurement:
    """``mean`` (``m₁``), ``relative_variance`` (``m₂/m₁² − 1``), ``moment`` or ``mass``.

    ``mass`` (the fraction of ``JJᵀ``'s eigenvalues in ``(x, upper]``) takes the
    eigenvalues; the others need only traces (``moment``: ``tr((JJᵀ)^k)/n`` by matrix
    products).

    Each network's statistic ``Y`` fluctuates as ``n^{−1/2}`` with its activation pattern
    (the fractions ``p̂_l``, a binomial count). The control variate
    ``Y − β̂·(p̂ − p)`` (``p`` the mean-field mean of ``p̂_l``, ``β̂`` the pooled
    least-squares slope at that width) removes that part; what is left fluctuates as
    ``1/n``. Its mean differs from ``E Y`` by ``β·(E p̂ − p) = O(1/n)``, which the
    Richardson extrapolation over ``1/n`` removes with the rest of the finite-width bias.
    """
    quantity = point["quantity"]
    mean_fraction: Any = active_fraction(point["activation"], point["preactivation_variance"])
    if point["activation"] in activations.SMOOTH_JACOBIAN:  # columns φ'² then φ'⁴ per layer
        fourth = float(activations.derivative_moment(point["activation"],
                                                     point["preactivation_variance"], 2))
        mean_fraction = torch.tensor([mean_fraction] * point["depth"]
                                     + [fourth] * point["depth"], dtype=torch.float64,
                                     device=device)
    levels = []
    counts = jacobian_moment_replicas(point)
    for width, replicas in zip(JACOBIAN_MOMENT_SIZES, counts, strict=True):
        if quantity == "mass":
            product, fractions = _jacobians_and_fractions(
                point["activation"], point["weights"], point["depth"], weight_variance,
                point["preactivation_variance"], width, ensemble * replicas, rng=rng,
                device=device)
            spectra = torch.linalg.eigvalsh(product @ product.transpose(1, 2))
            values = spectral_statistic(spectra, "mass", x=point["x"], upper=point["upper"])
        elif quantity == "moment":
            product, fractions = _jacobians_and_fractions(
                point["activation"], point["weights"], point["depth"], weight_variance,
                point["preactivation_variance"], width, ensemble * replicas, rng=rng,
                device=device)
            gram = product @ product.transpose(1, 2)
            power = gram
            for _ in range(int(point["k"]) - 1):
                power = power @ gram
            values = torch.diagonal(power, dim1=1, dim2=2).sum(dim=1) / width
        else:
            first, second, fractions = jacobian_traces(
                point["activation"], point["weights"], point["depth"], weight_variance,
                point["preactivation_variance"], width, ensemble * replicas, rng=rng,
                device=device)
            values = first if quantity == "mean" else second / first**2 - 1
        control = (fractions - mean_fraction).cpu().numpy()
        response = values.cpu().numpy()
        keep = control.std(axis=0) > 0  # linear networks: p̂ = 1, nothing to remove
        if keep.any():
            control = control[:, keep]
            response = _controlled(response, control)
        levels.append(response.reshape(ensemble, replicas).mean(axis=1))
    samples = np.stack(levels)
    resolutions = np.array([1.0 / width for width in JACOBIAN_MOMENT_SIZES])
    rounding = 1e3 * max(JACOBIAN_MOMENT_SIZES) * FLOAT64_EPS * float(np.max(np.abs(samples)))
    return Measurement(samples, resolutions, rounding,
                       {"sizes": list(JACOBIAN_MOMENT_SIZES),
                        "replicas": list(counts), "seed": seed})


# -- deformed Marchenko–Pastur: sample covariances of a discrete population -----------------

__all__ += ["sample_covariance_spectra", "deformed_marchenko_pastur"]


def sample_covariance_spectra(population: Sequence[float], p: int, n: int, batch: int, *,
                              rng: torch.Generator, device: str) -> torch.Tensor:
    """Eigenvalues (batch, p) of ``S = T^½XXᵀT^½/n``, ``X ∈ ℝ^{p×n}`` i.i.d. ``N(0, 1)``.

    ``T`` is diagonal with each entry of ``population`` repeated ``p/len(population)``
    times (``p`` a multiple of the length). For ``p > n`` the ``n`` eigenvalues of the
    companion ``XᵀTX/n`` (the same nonzero spectrum) padded with ``p − n`` zeros.
    """
    entries = torch.as_tensor(np.asarray(population, dtype=np.float64), device=device)
    if p % entries.numel():
        raise ValueError(f"p={p} is not a multiple of the population's length {entries.numel()}")
    scale = entries.repeat_interleave(p // entries.numel()).sqrt()
    x = torch.randn(batch, p, n, generator=rng, device=device, dtype=torch.float64)
    x = x * scale[:, None]
    if p <= n:
        return torch.linalg.eigvalsh(x @ x.transpose(1, 2) / n)
    values = torch.linalg.eigvalsh(x.transpose(1, 2) @ x / n)
    pad = torch.zeros(batch, p - n, dtype=torch.float64, device=device)
    return torch.cat([pad, values], dim=1)


def sample_covariance_moments(population: Sequence[float], p: int, n: int, batch: int, k: int,
                              *, rng: torch.Generator, device: str
                              ) -> tuple[torch.Tensor, torch.Tensor]:
    """``tr(S^k)/p`` (batch,) for ``S = T^½XXᵀT^½/n`` (as :func:`sample_covariance_spectra`).

    From the smaller Gram matrix (``p × p``, or the ``n × n`` companion ``XᵀTX/n`` with
    the same nonzero spectrum), without an eigendecomposition. Also returns control
    variates (batch, k − 1) of exactly known mean zero, the lower moments minus their
    finite-size expectations from Gaussian moments alone (``E W_ii² = n(n + 2)``,
    ``E W_ij² = n`` for ``W = XXᵀ``): ``tr S/p − h₁`` and, for ``k ≥ 3``,
    ``tr S²/p − h₂(1 + 1/n) − (p/n)h₁²`` with ``h_j`` the mean of ``T^j``'s diagonal.
    """
    entries = torch.as_tensor(np.asarray(population, dtype=np.float64), device=device)
    if p % entries.numel():
        raise ValueError(f"p={p} is not a multiple of the population's length {entries.numel()}")
    diagonal = entries.repeat_interleave(p // entries.numel())
    x = torch.randn(batch, p, n, generator=rng, device=device, dtype=torch.float64)
    x = x * diagonal.sqrt()[:, None]
    gram = x @ x.transpose(1, 2) / n if p <= n else x.transpose(1, 2) @ x / n
    first = torch.diagonal(gram, dim1=1, dim2=2).sum(dim=1) / p
    second = (gram * gram).sum(dim=(1, 2)) / p
    h1, h2 = float(diagonal.mean()), float((diagonal**2).mean())
    controls = [first - h1, second - h2 * (1 + 1 / n) - p / n * h1**2][:max(k - 1, 0)]
    if k <= 2:
        moment = first if k == 1 else second
    else:
        # tr(MN) = sum(M ∘ Nᵀ) with M = gram^⌈k/2⌉, N = gram^⌊k/2⌋ (symmetric).
        half = gram
        for _ in range(k // 2 - 1):
            half = half @ gram
        other = half @ gram if k % 2 else half
        moment = (other * half).sum(dim=(1, 2)) / p
    empty = torch.zeros(batch, 0, dtype=torch.float64, device=device)
    return moment, torch.stack(controls, dim=1) if controls else empty


#: Sizes p of the bin masses' two levels (eigenvalues), and matrices per ensemble member.
DEFORMED_SIZES = (60, 120)
DEFORMED_REPLICAS = (16, 8)
#: Sizes p of the moments' four levels (traces: E tr(S^k)/p is a polynomial of degree
#: k − 1 in 1/n, Wick's theorem), and matrices per ensemble member, as for the products.
DEFORMED_MOMENT_SIZES = PRODUCT_SIZES
DEFORMED_MOMENT_REPLICAS = PRODUCT_REPLICAS


def _deformed_shape(point: dict[str, Any], base: Sequence[int]) -> tuple[list[int], int, int]:
    """Sizes p near ``base``, multiples of the population's length and the ratio's numerator."""
    numerator, denominator = _ratio_parts(point["ratio"])
    unit = math.lcm(numerator, len(point["population"]))
    return [max(1, round(size / unit)) * unit for size in base], numerator, denominator


def deformed_marchenko_pastur(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                              ensemble: int) -> list[Measurement]:
    """Moments (traces, four sizes) and bin masses (eigenvalues, two sizes) of ``S``."""
    def sampler(point: dict[str, Any]) -> tuple[Sampler, Sequence[int]]:
        sizes, numerator, denominator = _deformed_shape(point, DEFORMED_SIZES)

        def sample(index: int, batch: int, rng: torch.Generator) -> torch.Tensor:
            p = sizes[index]
            return sample_covariance_spectra(point["population"], p, p // numerator
                                             * denominator, batch, rng=rng, device=device)

        return sample, sizes

    rng = generator(seed, device)
    results = []
    with _single_thread(device):
        for point in points:
            if point["quantity"] != "moment":
                results.extend(_measure([point], seed=seed, device=device, ensemble=ensemble,
                                        sampler_for=sampler,
                                        replicas_for=lambda _: DEFORMED_REPLICAS))
                continue
            sizes, numerator, denominator = _deformed_shape(point, DEFORMED_MOMENT_SIZES)
            counts = list(DEFORMED_MOMENT_REPLICAS)
            levels = []
            for size, replicas in zip(sizes, counts, strict=True):
                moments, controls = sample_covariance_moments(
                    point["population"], size, size // numerator * denominator,
                    ensemble * replicas, int(point["k"]), rng=rng, device=device)
                response, control = moments.cpu().numpy(), controls.cpu().numpy()
                if control.shape[1]:
                    # Control variates (known mean 0, lower orders only: m_k itself is
                    # never corrected by its own expectation): the pooled least-squares
                    # slope removes most of the trace fluctuation, as for the products.
                    response = _controlled(response, control)
                levels.append(response.reshape(ensemble, replicas).mean(axis=1))
            samples = np.stack(levels)
            rounding = 1e3 * max(sizes) * FLOAT64_EPS * float(np.max(np.abs(samples)))
            results.append(Measurement(samples, np.array([1.0 / size for size in sizes]),
                                       rounding, {"sizes": sizes, "replicas": counts}))
    return results
