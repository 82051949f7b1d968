"""The kernels' named functions: rg_flow's statements' non-elementary pieces.

Each binds a sympy function name to its implementation in :mod:`theorylab.kernels` or
:mod:`theorylab.convolution_kernels` (evaluated by value, printed by name). Moved out of
theory/rg_flow.py so that the family stays declarative.
"""

from __future__ import annotations

from functools import partial

from theorylab import convolution_kernels as convolution
from theorylab import kernels, mean_field
from theorylab.functions import named_function

__all__ = [
    "activation_of", "input_gram", "input_size", "sigma_pair", "derivative_pair", "nngp",
    "ntk", "sigma_squared", "slope_squared", "sigma_squared_slope", "slope_pair_at",
    "kernel_fixed_point", "critical_kernel", "parallel_critical_kernel",
    "uncorrelated_critical_kernel", "slope_squared_at_zero", "mean_slope_squared_at_zero",
    "slope_at_zero", "positive_side", "sigma_1", "sigma_3", "slope_moment_2",
    "slope_moment_4", "jacobian_norm", "jacobian_slope", "jacobian_scale", "residual_mask",
    "correlation_fixed_point", "conv_nngp", "conv_ntk", "conv_nngp_zero_padded",
    "conv_ntk_zero_padded", "position_sigma_pair", "position_derivative_pair", "pooled",
    "diagonal_pooled",
]

activation_of = named_function("activation_of", kernels.statement_activation, latex=r"\sigma",
                               pretty="σ")
input_gram = named_function("input_gram", kernels.statement_input_gram,
                            latex=r"\tfrac{1}{n_0}\operatorname{Gram}", pretty="Gram/n₀")
input_size = named_function("input_size", kernels.statement_input_size, latex="n_0",
                            pretty="n₀")
sigma_pair = named_function("sigma_pair", kernels.statement_sigma_pair,
                            latex=r"\langle\sigma\sigma\rangle", pretty="⟨σσ⟩")
derivative_pair = named_function("derivative_pair", kernels.statement_derivative_pair,
                                 latex=r"\langle\sigma'\sigma'\rangle", pretty="⟨σ'σ'⟩")
nngp = named_function("nngp", kernels.statement_nngp, latex="K", pretty="K")
ntk = named_function("ntk", kernels.statement_ntk, latex=r"\Theta", pretty="Θ")
sigma_squared = named_function("sigma_squared", kernels.statement_sigma_squared,
                               latex=r"\langle\sigma^2\rangle", pretty="⟨σ²⟩")
slope_squared = named_function("slope_squared", kernels.statement_slope_squared,
                               latex=r"\langle\sigma'^2\rangle", pretty="⟨σ'²⟩")
sigma_squared_slope = named_function("sigma_squared_slope", kernels.statement_sigma_squared_slope,
                                     latex=r"\partial_K\langle\sigma^2\rangle", pretty="∂_K⟨σ²⟩")
slope_pair_at = named_function("slope_pair_at", kernels.statement_slope_pair_at,
                               latex=r"\langle\sigma'(u_1)\sigma'(u_2)\rangle",
                               pretty="⟨σ'(u₁)σ'(u₂)⟩")
kernel_fixed_point = named_function("kernel_fixed_point", kernels.statement_fixed_point,
                                    latex="K^*", pretty="K*")
critical_kernel = named_function("critical_kernel", kernels.statement_critical_kernel,
                                 latex="q^*_c", pretty="q*_c")
parallel_critical_kernel = named_function(
    "parallel_critical_kernel", kernels.statement_parallel_critical_kernel,
    latex=r"q^*_{\parallel}", pretty="q*_∥")
uncorrelated_critical_kernel = named_function(
    "uncorrelated_critical_kernel", kernels.statement_uncorrelated_critical_kernel,
    latex=r"q^*_{\langle\sigma'\rangle^2}", pretty="q*_⟨σ'⟩²")
slope_squared_at_zero = named_function("slope_squared_at_zero",
                                       kernels.statement_slope_squared_at_zero,
                                       latex=r"\langle\sigma'^2\rangle_{K\to0}",
                                       pretty="⟨σ'²⟩_{K→0}")
mean_slope_squared_at_zero = named_function("mean_slope_squared_at_zero",
                                            kernels.statement_mean_slope_squared_at_zero,
                                            latex=r"\langle\sigma'\rangle^2_{K\to0}",
                                            pretty="⟨σ'⟩²_{K→0}")
slope_at_zero = named_function("slope_at_zero", kernels.statement_slope_at_zero,
                               latex=r"\sigma'(0^+)", pretty="σ'(0⁺)")
positive_side = named_function("positive_side", kernels.statement_positive_side,
                               latex=r"\sigma_{+}", pretty="σ₊")
sigma_1 = named_function("sigma_1", partial(kernels.statement_taylor_coefficient, order=1),
                         latex=r"\sigma_1", pretty="σ₁")
sigma_3 = named_function("sigma_3", partial(kernels.statement_taylor_coefficient, order=3),
                         latex=r"\sigma_3", pretty="σ₃")
slope_moment_2 = named_function("slope_moment_2", partial(kernels.statement_slope_moment,
                                                          power=2), latex="A_2", pretty="A₂")
slope_moment_4 = named_function("slope_moment_4", partial(kernels.statement_slope_moment,
                                                          power=4), latex="A_4", pretty="A₄")
jacobian_norm = named_function("jacobian_norm", kernels.statement_apjn, latex="J", pretty="J")
jacobian_slope = named_function("jacobian_slope", kernels.statement_apjn_slope,
                                latex=r"\langle\sigma'^2\rangle_J", pretty="⟨σ'²⟩_J")
jacobian_scale = named_function("jacobian_scale", kernels.statement_apjn_scale,
                                latex=r"K_{\mathrm{LN}}", pretty="K_LN")
residual_mask = named_function("residual_mask", kernels.statement_residual_mask,
                               latex=r"\mathbb{1}_{\mathrm{res}}", pretty="𝟙_res")
# c*: the stable fixed point of the correlation map, 1 in the ordered phase, < 1 in the
# chaotic one (theorylab.mean_field).
correlation_fixed_point = named_function(
    "correlation_fixed_point", mean_field.statement_correlation_fixed_point, latex="c^*",
    pretty="c*")

# -- convolutional networks (circular padding, global average pooling) ----------

conv_nngp = named_function("conv_nngp", convolution.statement_nngp,
                           latex=r"\mathcal{K}^{(L)}", pretty="𝒦⁽ᴸ⁾")
conv_ntk = named_function("conv_ntk", convolution.statement_ntk,
                          latex=r"\mathcal{T}^{(L)}", pretty="𝒯⁽ᴸ⁾")
conv_nngp_zero_padded = named_function("conv_nngp_zero_padded",
                                       convolution.statement_nngp_zero_padded,
                                       latex=r"\mathcal{K}^{(L)}_{0}", pretty="𝒦⁽ᴸ⁾₀")
conv_ntk_zero_padded = named_function("conv_ntk_zero_padded",
                                      convolution.statement_ntk_zero_padded,
                                      latex=r"\mathcal{T}^{(L)}_{0}", pretty="𝒯⁽ᴸ⁾₀")
position_sigma_pair = named_function("position_sigma_pair", convolution.statement_sigma_pair,
                                     latex=r"\langle\sigma\sigma\rangle_{pq}", pretty="⟨σσ⟩_pq")
position_derivative_pair = named_function("position_derivative_pair",
                                          convolution.statement_derivative_pair,
                                          latex=r"\langle\sigma'\sigma'\rangle_{pq}",
                                          pretty="⟨σ'σ'⟩_pq")
pooled = named_function("pooled", convolution.statement_pooled,
                        latex=r"\operatorname{mean}_{pq}", pretty="mean_pq")
diagonal_pooled = named_function("diagonal_pooled", convolution.statement_diagonal_pooled,
                                 latex=r"\operatorname{mean}_{p=q}", pretty="mean_p=q")
