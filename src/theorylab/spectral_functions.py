"""The spectral laws' named functions: free_probability's statements' non-elementary pieces.

Each binds a sympy function name to its implementation in :mod:`theorylab.laws`,
:mod:`theorylab.free`, :mod:`theorylab.jacobian_law`, :mod:`theorylab.activations` or
:mod:`theorylab.silverstein` (evaluated by value, printed by name). Moved out of
theory/free_probability.py so that the family stays declarative.
"""

from __future__ import annotations

from typing import Any

from theorylab import activations, free, jacobian_law, laws, silverstein
from theorylab.functions import named_function

__all__ = [
    "product_law", "active_fraction", "jacobian_network_law", "narayana", "catalan",
    "fuss_catalan_number", "fuss_catalan_density_function", "fuss_catalan_cdf_function",
    "product_density_function", "product_mass_function", "product_edge_function",
    "active_fraction_function", "gaussian_weights_function", "jacobian_density_function",
    "jacobian_mass_function", "jacobian_edge_function", "derivative_moment_function",
    "derivative_s_transform_function", "jacobian_moment_function",
    "bernoulli_jacobian_moment_function", "bernoulli_jacobian_mass_function",
    "population_bell_function", "population_mean_function", "deformed_density_function",
    "deformed_cdf_function", "deformed_edge_function",
]

narayana = named_function("narayana", laws.narayana_number, latex="N", pretty="N")
catalan = named_function("catalan", laws.catalan_number, latex="C", pretty="C")
fuss_catalan_number = named_function("fuss_catalan_number", laws.fuss_catalan_number,
                                     latex=r"\mathrm{FC}", pretty="FC")
fuss_catalan_density_function = named_function(
    "fuss_catalan_unit_density", laws.fuss_catalan_density, latex=r"\rho_{\mathrm{FC}}",
    pretty="ρ_FC")
fuss_catalan_cdf_function = named_function(
    "fuss_catalan_unit_cdf", laws.fuss_catalan_cdf, latex=r"F_{\mathrm{FC}}", pretty="F_FC")

def product_law(ratio_a: Any, ratio_b: Any, variance: Any) -> free.STransform:
    """``MP(λ_A) ⊠ MP(λ_B, σ²)`` (λ_B = 0: B = σ²I)."""
    second = free.s_transform("marchenko_pastur", ratio=float(ratio_b), variance=float(
        variance)) if ratio_b else free.s_transform("point_mass", value=float(variance))
    return free.free_multiplicative_convolution(
        free.s_transform("marchenko_pastur", ratio=float(ratio_a)), second)


# Named functions of the product's law (tracked root of S_A S_B, theorylab.free).
product_density_function = named_function(
    "wishart_product_density", lambda a, b, v, x: laws.law_density(product_law(a, b, v), x),
    latex=r"\rho_{A^{1/2}BA^{1/2}}", pretty="ρ_AB")
product_mass_function = named_function(
    "wishart_product_mass", lambda a, b, v, x, upper: laws.law_mass(product_law(a, b, v), x,
                                                                    upper),
    latex=r"\mu_{A^{1/2}BA^{1/2}}", pretty="μ_AB")
product_edge_function = named_function(
    "wishart_product_edge", lambda a, b, v: laws.law_edge(product_law(a, b, v), a, b, v),
    latex=r"\lambda_{\max}", pretty="λ_max")

def active_fraction(activation: Any, q: Any) -> Any:
    """``p = E φ'(√q* z)²``: 1 (linear), 1/2 (ReLU), erf(1/√(2q*)) (hard-tanh)."""
    return activations.derivative_mean_square(str(activation), q)


def jacobian_network_law(activation: Any, weights: Any, depth: Any, weight_variance: Any,
                  q: Any) -> Any:
    """``S_{JJᵀ} = S_{WWᵀ}^L S_{D²}^L`` (Pennington et al. 2017, 2018) as a law."""
    return jacobian_law.network_law(str(activation), str(weights), int(depth),
                                    float(weight_variance), float(q))


# Named functions of the Jacobian claims: p and [Gaussian] of the S-transform, and the law's
# density, bin mass and edge from the tracked root of S_JJᵀ (theorylab.free).
active_fraction_function = named_function("active_fraction", active_fraction, latex="p",
                                          pretty="p")
gaussian_weights_function = named_function(
    "gaussian_weights", lambda weights: 1 if str(weights) == "gaussian" else 0,
    latex=r"[\mathrm{Gaussian}]", pretty="[Gaussian]")
jacobian_density_function = named_function(
    "jacobian_density",
    lambda a, g, L, v, q, x: laws.law_density(jacobian_network_law(a, g, L, v, q), x),
    latex=r"\rho_{JJ^T}", pretty="ρ_JJᵀ")
jacobian_mass_function = named_function(
    "jacobian_mass", lambda *network_and_bin: laws.law_mass(
        jacobian_network_law(*network_and_bin[:5]), *network_and_bin[5:]),
    latex=r"\mu_{JJ^T}", pretty="μ_JJᵀ")
jacobian_edge_function = named_function(
    "jacobian_edge", lambda *network: laws.law_edge(jacobian_network_law(*network), network[3]),
    latex=r"\lambda_{\max}", pretty="λ_max")

# μ_k = E φ'(√q* z)^{2k} (p for every k when D² is Bernoulli), S_{D²}(w), and m_k of JJᵀ by
# Lagrange inversion of S_{JJᵀ} (theorylab.activations, theorylab.jacobian_law).
derivative_moment_function = named_function(
    "derivative_moment", lambda a, q, k: activations.derivative_moment(str(a), q, int(k)),
    latex=r"\mu", pretty="μ")
derivative_s_transform_function = named_function(
    "derivative_s_transform", lambda a, q, w: jacobian_law.derivative_s_transform(str(a), q, w),
    latex="S_{D^2}", pretty="S_D²")
jacobian_moment_function = named_function(
    "jacobian_moment", lambda *network_and_k: float(jacobian_network_law(*network_and_k[:5]).moment(
        int(network_and_k[5]))), latex=r"m_{JJ^T}", pretty="m_JJᵀ")

bernoulli_jacobian_moment_function = named_function(
    "bernoulli_jacobian_moment", lambda a, g, L, v, q, k: float(
        jacobian_law.bernoulli_network_law(str(a), str(g), int(L), float(v), float(q))
        .moment(int(k))), latex=r"m^{\mathrm{Bern}}_{JJ^T}",
    pretty="m_Bern")
bernoulli_jacobian_mass_function = named_function(
    "bernoulli_jacobian_mass", lambda a, g, L, v, q, x, upper: laws.law_mass(
        jacobian_law.bernoulli_network_law(str(a), str(g), int(L), float(v), float(q)), x,
        upper), latex=r"\mu^{\mathrm{Bern}}_{JJ^T}", pretty="μ_Bern")

population_bell_function = named_function("population_bell", silverstein.population_bell,
                                          latex=r"\hat{B}", pretty="B̂")
population_mean_function = named_function("population_mean", silverstein.population_mean,
                                          latex=r"\bar{t}", pretty="t̄")
deformed_density_function = named_function("deformed_mp_density", silverstein.density,
                                           latex=r"\rho_{H \boxtimes \mathrm{MP}}", pretty="ρ")
deformed_cdf_function = named_function("deformed_mp_cdf", silverstein.cdf,
                                       latex=r"F_{H \boxtimes \mathrm{MP}}", pretty="F")
deformed_edge_function = named_function("deformed_mp_edge", silverstein.upper_edge,
                                        latex=r"\lambda_{\max}", pretty="λ_max")
