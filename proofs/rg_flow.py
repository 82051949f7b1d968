"""Machine-checked derivations for ``theorylab.theory.rg_flow``.

Gaussian expectations of the activation are kept as undefined functions
(``<sigma sigma>``, ``<sigma' sigma'>``, ``<sigma^2>``); the steps check the
algebra that turns the network's definition into each recursion. The power-law
derivation expands a general odd activation ``sigma = sigma_1 z + sigma_3 z^3``
symbolically (PDLT §5.3.3). :data:`PRICE` holds consistency checks that end in
Gaussian expectations rather than a claim's statement; the tests check them.
"""

from __future__ import annotations

import sympy
from sympy import Derivative, Eq
from theorylab.theory import rg_flow as theory
from theorylab.theory.rg_flow import (
    bias_parameter,
    criticality,
    depth_scales,
    ell,
    four_point_vertex,
    kernel_parameter,
    nngp_kernel,
    ntk_kernel,
    partial_jacobian,
    power_law_decay,
    weight_parameter,
)

from theorylab.activations import K11, K12, K22
from theorylab.activations import activation as activation_definition
from theorylab.activations import variance as activation_variance
from theorylab.derivation import Derivation, Step

__all__ = ["nngp_from_network", "ntk_from_network", "chi_parallel_from_recursion",
           "power_law_from_odd_activation", "vertex_from_layer_factors",
           "depth_scale_from_linear_map", "apjn_from_layer_factors", "PRICE",
           "ZERO_CLASS_VERTEX", "CHAOTIC_CORRELATION", "HARD_TANH", "CRITICAL_NETWORK"]

C_W, C_b = weight_parameter.symbol, bias_parameter.symbol
n = sympy.Symbol("n", positive=True, integer=True)
bias_moment, weight_moment = sympy.symbols("E_b E_W", positive=True)
K = sympy.Function("K")
previous_pair = sympy.Function(r"\langle\sigma\sigma\rangle")(K(ell - 1))
previous_slope = sympy.Function(r"\langle\sigma'\sigma'\rangle")(K(ell - 1))
Theta = sympy.Function(r"\Theta")

PDLT_GAUSSIAN = "Roberts, Yaida & Hanin 2022 (PDLT), §4.3 (infinite width: Gaussian layers)"
activation = theory.activation
inputs = (C_W, C_b, theory.x1_parameter.symbol, theory.x2_parameter.symbol)
first_moment = sympy.Symbol("E_{W_1}", positive=True)  # E[W_ij^2] of the first layer
n_0 = sympy.Symbol("n_0", positive=True, integer=True)
gram = sympy.Symbol(r"G_{ab}")  # x_a . x_b / n_0
first_layer = Eq(ell, 1)
#: Bind the undefined Gaussian expectations and lower-layer kernels to the named functions
#: the statements evaluate: the same recursion one layer down (induction on l).
kernel_binding = {gram: theory.input_gram(*inputs[2:]),
                  previous_pair: theory._previous_pair,
                  previous_slope: theory._previous_slope,
                  Theta(ell - 1): theory.ntk(theory.sigma, ell - 1, *inputs)}

nngp_from_network = Derivation(
    claim=nngp_kernel.id,
    title="Kernel recursion from z_i = b_i + sum_j W_ij sigma_j",
    steps=(
        Step.assume(Eq(K(ell), sympy.Piecewise(
                        (bias_moment + n_0 * first_moment * gram, first_layer),
                        (bias_moment + n * weight_moment * previous_pair, True))),
                    "E[z_i,a z_i,b] = E[b_i^2] + sum_j E[W_ij^2] <sigma_j,a sigma_j,b>: b, W "
                    "independent, zero mean, independent of layer l-1, which at infinite width "
                    "is Gaussian with kernel K^(l-1); at l = 1 the inputs x_j,a x_j,b replace "
                    "sigma", cite=PDLT_GAUSSIAN),
        Step.substitute(Eq(K(ell), sympy.Piecewise((C_b + C_W * gram, first_layer),
                                                   (C_b + C_W * previous_pair, True))),
                        {bias_moment: C_b, weight_moment: C_W / n, first_moment: C_W / n_0},
                        "b_i ~ N(0, C_b), W_ij ~ N(0, C_W/n_(l-1)) (PDLT §4.3)"),
        Step.substitute(Eq(K(ell), theory.NNGP_STATEMENT), kernel_binding,
                        "<sigma sigma> in closed form or by quadrature, at K^(l-1) given by the "
                        "same recursion"),
    ),
)

lambda_W, lambda_b = sympy.symbols("lambda_W lambda_b", positive=True)
ntk_from_network = Derivation(
    claim=ntk_kernel.id,
    title="NTK forward equation from the chain rule through layer l",
    steps=(
        Step.assume(Eq(Theta(ell), sympy.Piecewise(
                        (lambda_b + lambda_W * gram, first_layer),
                        (lambda_b + lambda_W * previous_pair
                         + n * weight_moment * previous_slope * Theta(ell - 1), True))),
                    "layer l's own parameters give lambda_b + lambda_W <sigma sigma> (the inputs' "
                    "Gram at l = 1); the lower ones act through dz_i/dz_j = W_ij sigma'_j: "
                    "sum_j E[W_ij^2] <sigma' sigma'> Theta^(l-1) (PDLT Ch. 8)",
                    cite="Roberts, Yaida & Hanin 2022 (PDLT), Ch. 8 (infinite-width NTK forward "
                         "equation)"),
        Step.substitute(Eq(Theta(ell), sympy.Piecewise(
                            (lambda_b + lambda_W * gram, first_layer),
                            (lambda_b + lambda_W * previous_pair
                             + C_W * previous_slope * Theta(ell - 1), True))),
                        {weight_moment: C_W / n}, "E[W_ij^2] = C_W/n: n (C_W/n) = C_W"),
        Step.substitute(Eq(Theta(ell), sympy.Piecewise(
                            (C_b + C_W * gram, first_layer),
                            (C_b + C_W * previous_pair + C_W * previous_slope * Theta(ell - 1),
                             True))),
                        {lambda_W: C_W, lambda_b: C_b},
                        "'ntk' parameterization: lambda_W = C_W, lambda_b = C_b"),
        Step.substitute(Eq(Theta(ell), theory.NTK_STATEMENT), kernel_binding,
                        "Gaussian expectations in closed form or by quadrature, at K^(l-1) and "
                        "Theta^(l-1) given by the same recursions"),
    ),
)

next_kernel = sympy.Function("K'")
sigma_squared = sympy.Function(r"\langle\sigma^2\rangle")
Kq = kernel_parameter.symbol
chi_parallel_from_recursion = Derivation(
    claim=criticality.id,
    title="chi_parallel as the slope of the single-input kernel map",
    steps=(
        Step.assume(Eq(next_kernel(Kq), C_b + C_W * sigma_squared(Kq)),
                    "single-input recursion K' = C_b + C_W <sigma^2>_K (rg_flow.nngp_kernel)"),
        Step.differentiate(Eq(Derivative(next_kernel(Kq), Kq),
                              C_W * Derivative(sigma_squared(Kq), Kq)), Kq,
                           "a perturbation dK of the input kernel grows by dK'/dK = chi_par "
                           "(PDLT §5.1)"),
        Step.substitute(Eq(Derivative(next_kernel(Kq), Kq),
                           criticality.statements["chi_parallel"]),
                        {Derivative(sigma_squared(Kq), Kq):
                         theory.sigma_squared_slope(theory.sigma, Kq)},
                        "d<sigma^2>_K/dK in closed form, or as <sigma^2 (z^2 - K)>/(2K^2) by "
                        "quadrature"),
    ),
)

sigma_1, sigma_3 = sympy.Symbol("sigma_1"), sympy.Symbol("sigma_3")
quadratic, limit_value = sympy.symbols("a_1 L")
level = sympy.Symbol("l", positive=True)
flow = sympy.Function("K")
small = sympy.Symbol("K", positive=True)

power_law_from_odd_activation = Derivation(
    claim=power_law_decay.id,
    title="K ~ -1/(a_1 l) at K* = 0 criticality for sigma = sigma_1 z + sigma_3 z^3",
    steps=(
        Step.assume(Eq(quadratic, (C_W * (sigma_1**2 * small + 6 * sigma_1 * sigma_3 * small**2
                                          + 15 * sigma_3**2 * small**3) - small) / small**2),
                    "a_1(K) = (K' - K)/K^2 with K' = C_W <(s1 z + s3 z^3)^2>_K and Wick's "
                    "<z^4> = 3K^2, <z^6> = 15K^3 (C_b = 0)"),
        Step.substitute(Eq(quadratic, 6 * sigma_3 / sigma_1 + 15 * sigma_3**2 * small
                           / sigma_1**2), {C_W: 1 / sigma_1**2},
                        "criticality of the K* = 0 class: C_W = 1/sigma_1^2"),
        Step.limit(Eq(quadratic, 6 * sigma_3 / sigma_1), small, 0,
                   "K -> 0 along the flow: a_1 = 6 sigma_3/sigma_1 (tanh: -2)"),
        Step.assume(Eq(Derivative(flow(level), level), 6 * sigma_3 / sigma_1 * flow(level) ** 2),
                    "deep layers: K^(l+1) - K^(l) = a_1 K^2 + O(K^3), a slowly varying K obeys "
                    "dK/dl = a_1 K^2"),
        Step.solve_ode(Eq(flow(level), -sigma_1 / (6 * sigma_3 * level)), flow(level), level,
                       None, "separable: 1/K = -a_1 l + const, the constant negligible at large l"),
        Step.substitute(Eq(limit_value / level, -sigma_1 / (6 * sigma_3 * level)),
                        {flow(level): limit_value / level}, "write K^(l) = L/l"),
        Step.solve(Eq(limit_value, -sigma_1 / (6 * sigma_3)), limit_value,
                   "L = lim l K^(l) = -sigma_1/(6 sigma_3) = 1/(-a_1)"),
        Step.substitute(Eq(limit_value, power_law_decay.statement),
                        {sigma_1: theory.sigma_1(activation), sigma_3: theory.sigma_3(activation)},
                        "the activation's Taylor coefficients (tanh: 1, -1/3)"),
    ),
    ranges={sigma_1: (0.5, 2.0), sigma_3: (-1.0, -0.1), small: (0.01, 0.5)},
)

# -- hard_tanh's single-input moments, and the critical network of a given q* --------------
# Tuples, like PRICE: they end in hard_tanh's closed forms (theorylab.activations) and in the
# critical_line_bias_variance statement, not in criticality's chi_parallel statement; the
# tests check them (tests/test_rg_flow_chaos.py).

_u, _cut = sympy.symbols("u t", positive=True)
_variance = activation_variance  # K: u ~ N(0, K)
_density = sympy.exp(-_u**2 / (2 * _variance)) / sympy.sqrt(2 * sympy.pi * _variance)
_inside = sympy.erf(_cut / sympy.sqrt(2 * _variance))
_clipped_square = sympy.Function("M")  # M(t) = E[clip(u, -t, t)^2]
_active = sympy.Function("P")  # P(t) = P(|u| < t)
_clipped_closed = (_variance * _inside - sympy.sqrt(2 * _variance / sympy.pi) * _cut
                   * sympy.exp(-_cut**2 / (2 * _variance)) + _cut**2 * (1 - _inside))
_tail = sympy.Integral(_density, (_u, _cut, sympy.oo))

HARD_TANH = (
    Derivation(
        claim=criticality.id,
        title="hard_tanh: <sigma^2>_K = E[clip(u, -1, 1)^2] in closed form",
        steps=(
            Step.assume(Eq(_clipped_square(_cut), sympy.Integral(_u**2 * _density,
                                                                 (_u, -_cut, _cut))
                           + 2 * _cut**2 * _tail),
                        "clip(u, -t, t)^2 is u^2 for |u| < t and t^2 outside; u ~ N(0, K)"),
            Step.differentiate(Eq(Derivative(_clipped_square(_cut), _cut), 4 * _cut * _tail),
                               _cut, "Leibniz: the boundary terms +-t^2 rho(t) cancel"),
            Step.equal(Eq(Derivative(_clipped_square(_cut), _cut), 2 * _cut * (1 - _inside)),
                       "the Gaussian tail P(u > t) = (1 - erf(t/sqrt(2K)))/2"),
            Step.integrate(Eq(_clipped_square(_cut), _clipped_closed), _cut,
                           "integrate from M(0) = 0 (parts: t erf and t e^(-t^2/2K))",
                           lower=0, upper=_cut),
            Step.substitute(Eq(_clipped_square(1), _clipped_closed.subs(_cut, 1)), {_cut: 1},
                            "hard_tanh clips at t = 1"),
        ),
    ),
    Derivation(
        claim=criticality.id,
        title="hard_tanh: <sigma'^2>_K = P(|u| < 1) = erf(1/sqrt(2K)), so chi_1 = C_W erf",
        steps=(
            Step.assume(Eq(_active(_cut), sympy.Integral(_density, (_u, -_cut, _cut))),
                        "sigma' = 1 on |u| < 1, 0 outside: sigma'^2 = sigma' is the indicator"),
            Step.differentiate(Eq(Derivative(_active(_cut), _cut), 2 * _density.subs(_u, _cut)),
                               _cut, "Leibniz: the density at +-t"),
            Step.integrate(Eq(_active(_cut), _inside), _cut, "integrate from P(0) = 0",
                           lower=0, upper=_cut),
            Step.substitute(Eq(_active(1), _inside.subs(_cut, 1)), {_cut: 1},
                            "hard_tanh's kinks at +-1"),
        ),
    ),
)

_square_mean, _slope_mean = sympy.symbols(r"\langle\sigma^2\rangle_K \langle\sigma'^2\rangle_K",
                                          positive=True)
CRITICAL_NETWORK = (Derivation(
    claim=criticality.id,
    title="C_b of the critical network with fixed point q* = K",
    steps=(
        Step.assume(Eq(Kq, C_b + C_W * _square_mean),
                    "q* = K is the fixed point of K = C_b + C_W <sigma^2>_K (Schoenholz et al. "
                    "§2)"),
        Step.substitute(Eq(Kq, C_b + _square_mean / _slope_mean), {C_W: 1 / _slope_mean},
                        "critical: chi_1 = C_W <sigma'^2>_K = 1 (hard_tanh: C_W = "
                        "1/erf(1/sqrt(2K)))"),
        Step.solve(Eq(C_b, Kq - _square_mean / _slope_mean), C_b, "solve for C_b"),
        Step.substitute(Eq(C_b, criticality.statements["critical_line_bias_variance"]),
                        {_square_mean: theory.sigma_squared(theory.sigma, Kq),
                         _slope_mean: theory.slope_squared(theory.sigma, Kq)},
                        "the activation's Gaussian expectations at K (closed forms for erf and "
                        "hard_tanh, quadrature for tanh)"),
    ),
),)

# -- four-point vertex: exact finite-width moments of the scale-invariant class -------------

_vertex_params = {p.name: p.symbol for p in four_point_vertex.parameters}
width, depth = _vertex_params["width"], _vertex_params["depth"]
second_moment, fourth_moment = sympy.Symbol("A_2"), sympy.Symbol("A_4")  # as in the statement
sigma2, sigma4 = sympy.symbols(r"E_{\sigma^2} E_{\sigma^4}", positive=True)
moment_ratio = sympy.Function("R")
layer = sympy.Symbol("m", integer=True, positive=True)
_vertex_coefficient = 3 * fourth_moment / second_moment**2 - 1

vertex_from_layer_factors = Derivation(
    claim=four_point_vertex.id,
    title="E[z_j^2 z_k^2]/K^2 = (1 + c/n)^(l-1) from independent layer factors (C_b = 0)",
    steps=(
        Step.assume(Eq(moment_ratio(depth), moment_ratio(depth - 1)
                       * (width * sigma4 + width * (width - 1) * sigma2**2)
                       / (width**2 * sigma2**2)),
                    "R(l) = E[G_l^2]/E[G_l]^2 with G_l = C_W/n |sigma(z^(l-1))|^2 the variance of "
                    "layer l given l-1, E[z_j^2 z_k^2] = E[G_l^2]. Scale invariance and C_b = 0: "
                    "G_l = G_(l-1) F with F = C_W/n sum_i sigma(xi_i)^2, xi_i iid N(0,1) "
                    "independent of G_(l-1); E[F^2]/E[F]^2 = (n <s^4> + n(n-1) <s^2>^2)/"
                    "(n <s^2>)^2"),
        Step.substitute(Eq(moment_ratio(depth), moment_ratio(depth - 1)
                           * (width * 3 * fourth_moment + width * (width - 1) * second_moment**2)
                           / (width**2 * second_moment**2)),
                        {sigma4: 3 * fourth_moment, sigma2: second_moment},
                        "ABReLU Gaussian moments: <sigma^2> = A_2, <sigma^4> = 3 A_4"),
        Step.equal(Eq(moment_ratio(depth), moment_ratio(depth - 1)
                      * (1 + (3 * fourth_moment / second_moment**2 - 1) / width)),
                   "collect the 1/n term: the relative second moment of one layer factor"),
        Step.assume(Eq(moment_ratio(depth), sympy.Product(
                        1 + (3 * fourth_moment / second_moment**2 - 1) / width,
                        (layer, 2, depth))),
                    "unroll down to R(1) = 1 (G_1 = C_W x.x/n_0 is deterministic)"),
        Step.equal(Eq(moment_ratio(depth), (1 + _vertex_coefficient / width) ** (depth - 1)),
                   "a constant factor over l - 1 layers; its 1/n coefficient is the vertex "
                   "V/K^2 = (3A_4/A_2^2 - 1)(l - 1) (PDLT §5.5)"),
        Step.substitute(Eq(moment_ratio(depth), four_point_vertex.statement),
                        {second_moment: theory.slope_moment_2(theory.sigma),
                         fourth_moment: theory.slope_moment_4(theory.sigma)},
                        "A_k = (a_+^k + a_-^k)/2 of the activation's slopes"),
    ),
    ranges={second_moment: (0.3, 1.0), fourth_moment: (0.3, 1.0)},
)

# -- depth scales: the linearized per-layer map at its fixed point --------------------------

slope_at_fixed_point = sympy.Symbol(r"\chi(q^*)")  # as in the statement
depth_scale_symbol = sympy.Symbol(r"\xi")
deviation = sympy.Function(r"\delta")
deviation_start = sympy.Symbol(r"\delta_0", positive=True)

depth_scale_from_linear_map = Derivation(
    claim=depth_scales.id,
    title="xi = -1/ln chi(q*): a deviation from the fixed point shrinks by chi per layer",
    steps=(
        Step.assume(Eq(deviation(ell), deviation_start * slope_at_fixed_point**ell),
                    "linearize the layer map at its fixed point: delta^(l+1) = chi delta^(l), "
                    "chi = dq'/dq = chi_par(q*) for q, dc'/dc at c* = 1 = chi_perp(q*) for c "
                    "(Schoenholz et al. §3)"),
        Step.assume(Eq(sympy.exp(-1 / depth_scale_symbol), slope_at_fixed_point),
                    "define xi by delta^(l) = delta_0 e^(-l/xi): one layer's factor "
                    "e^(-1/xi) is chi"),
        Step.solve(Eq(depth_scale_symbol, -1 / sympy.log(slope_at_fixed_point)),
                   depth_scale_symbol, "take logarithms (0 < chi < 1 in the ordered phase)"),
        Step.substitute(Eq(depth_scale_symbol, depth_scales.statement),
                        {slope_at_fixed_point: theory._variance_slope},
                        "for q: chi = chi_par(q*) = C_W d<sigma^2>/dK at the root K* of "
                        "K = C_b + C_W <sigma^2>_K"),
    ),
    ranges={slope_at_fixed_point: (0.1, 0.9)},
)

# -- the chaotic phase: xi_c from the correlation map's slope at c* < 1 ----------------------
# A tuple: it ends in the correlation_depth_scale statement, not depth_scales' statement
# (xi_q); the tests check it.

_correlation = sympy.Symbol("c")
_correlation_map = sympy.Function("f")
_pair_mean = sympy.Function(r"\langle\sigma\sigma\rangle")  # <sigma(u1) sigma(u2)>(c)
_slope_pair = sympy.Function(r"\langle\sigma'\sigma'\rangle")  # <sigma'(u1) sigma'(u2)>(c)
_fixed_variance = sympy.Symbol("q^*", positive=True)
_correlation_slope = sympy.Symbol(r"\chi_c", positive=True)

CHAOTIC_CORRELATION = (Derivation(
    claim=depth_scales.id,
    title="xi_c = -1/ln chi_c, chi_c = C_W <sigma'(u1) sigma'(u2)> at (q*, c*)",
    steps=(
        Step.assume(Eq(_correlation_map(_correlation),
                       (C_b + C_W * _pair_mean(_correlation)) / _fixed_variance),
                    "the correlation map of two inputs at the variance fixed point q*: "
                    "c' = q'_12/q* with q'_12 = C_b + C_W <sigma(u1) sigma(u2)>, (u1, u2) of "
                    "variance q* and correlation c", cite="Schoenholz et al. 2017, §2"),
        Step.differentiate(Eq(Derivative(_correlation_map(_correlation), _correlation),
                              C_W * Derivative(_pair_mean(_correlation), _correlation)
                              / _fixed_variance), _correlation,
                           "the map's slope in c"),
        Step.substitute(Eq(Derivative(_correlation_map(_correlation), _correlation),
                           C_W * _slope_pair(_correlation)),
                        {Derivative(_pair_mean(_correlation), _correlation):
                         _fixed_variance * _slope_pair(_correlation)},
                        "Price's theorem: d<sigma sigma>/dK_12 = <sigma' sigma'>, and "
                        "K_12 = q* c, so d/dc = q* d/dK_12"),
        Step.assume(Eq(deviation(ell), deviation_start * _correlation_slope**ell),
                    "linearize at the stable fixed point c* = f(c*) (c* < 1 in the chaotic "
                    "phase): c^(l) - c* = delta^(l), delta^(l+1) = f'(c*) delta^(l) = chi_c "
                    "delta^(l), chi_c = C_W <sigma' sigma'>(c*) by the step above",
                    cite="Schoenholz et al. 2017, §3"),
        Step.assume(Eq(sympy.exp(-1 / depth_scale_symbol), _correlation_slope),
                    "define xi_c by delta^(l) = delta_0 e^(-l/xi_c)"),
        Step.solve(Eq(depth_scale_symbol, -1 / sympy.log(_correlation_slope)),
                   depth_scale_symbol, "take logarithms (0 < chi_c < 1 at a stable c*)"),
        Step.substitute(Eq(depth_scale_symbol,
                           depth_scales.statements["correlation_depth_scale"]),
                        {_correlation_slope: theory._correlation_slope},
                        "chi_c = C_W <sigma'(u1) sigma'(u2)> at q* and c* (theorylab."
                        "mean_field: c* = 1 in the ordered phase, the map's root below 1 in "
                        "the chaotic one)"),
    ),
    ranges={_correlation_slope: (0.1, 0.9)},
),)

# -- partial Jacobians: one factor chi_J per layer ------------------------------------------

apjn_function = sympy.Function("J")
mu = sympy.Symbol("mu")
weight_mean, weight_square = sympy.symbols("E_W E_{W^2}")
slope_norm = sympy.Symbol("A^2", positive=True)  # |A u|^2/|u|^2 averaged: <s'^2>, or via LN
previous_apjn = apjn_function(ell - 1)
apjn_from_layer_factors = Derivation(
    claim=partial_jacobian.id,
    title="J^(1,l) = chi_J J^(1,l-1): the chain rule with the layer's weights averaged out",
    steps=(
        Step.assume(Eq(apjn_function(ell), sympy.Piecewise(
                        (1, Eq(ell, 1)),
                        ((mu**2 + 2 * mu * weight_mean * slope_norm
                          + n * weight_square * slope_norm) * previous_apjn, True))),
                    "dz^(l)/dz^(1) = (mu + W A) dz^(l-1)/dz^(1), A = d sigma(source)/dz^(l-1), "
                    "J^(1,1) = 1; W independent of the rest: (1/n) E|(mu + W A) u|^2 = (mu^2 + "
                    "2 mu E[W] A + n E[W^2] |A|^2) |u|^2/n at infinite width",
                    cite="Doshi, He & Gromov 2021, §2-3 (APJN recursion)"),
        Step.substitute(Eq(apjn_function(ell), sympy.Piecewise(
                            (1, Eq(ell, 1)), ((mu**2 + C_W * slope_norm) * previous_apjn, True))),
                        {weight_mean: 0, weight_square: C_W / n},
                        "W_ij ~ N(0, C_W/n): zero mean, n E[W^2] = C_W"),
        Step.substitute(Eq(apjn_function(ell), partial_jacobian.statement),
                        {mu**2: theory._mu**2 * theory.residual_mask(),
                         slope_norm: theory._slope_term / (C_W * theory._scale),
                         previous_apjn: theory.jacobian_norm(
                            theory.sigma, ell - 1, *theory._jacobian_arguments)},
                        "chi_J of each architecture: |A|^2 = <s'^2>_K, or E_N(0,1)[s'^2]/K^l "
                        "through LayerNorm, mu = 0 without the residual; J^(1,l-1) by the same "
                        "recursion"),
    ),
)

# -- tanh's four-point vertex in the K* = 0 class: V/K^2 -> (2/3) l -------------------------

_layer = sympy.Symbol("l", positive=True)
_amplitude = sympy.Symbol("A", positive=True)
_small_kernel = sympy.Symbol("K", positive=True)
_residual = sympy.Function("R")
#: V^(l)/K^(l)^2 at large l for tanh (C_W = 1, C_b = 0); the tests check it against 2 l / 3
#: (a tuple, like PRICE: it ends in the asymptotic law, not four_point_vertex's statement).
ZERO_CLASS_VERTEX = (Derivation(
    claim=four_point_vertex.id,
    title="K* = 0 class (tanh): V = A/l with A = 1/6, so V/K^2 -> (2/3) l",
    steps=(
        Step.assume(_layer**2 * ((1 - 4 * _small_kernel) ** 2 * _amplitude / _layer
                                 + 2 * _small_kernel**2 - _amplitude / (_layer + 1)),
                    "l^2 times the residual of V^(l+1) = chi_par^2 V^(l) + C_W^2(<s^4> - "
                    "<s^2>^2) for the ansatz V = A/l: tanh = z - z^3/3 + ... gives <s^2>_K = "
                    "K - 2K^2, chi_par = 1 - 4K, <s^4> - <s^2>^2 = 2K^2 + O(K^3) (PDLT §5.3.3, "
                    "C_W = 1)"),
        Step.substitute(_layer**2 * ((1 - 2 / _layer) ** 2 * _amplitude / _layer
                                     + 1 / (2 * _layer**2) - _amplitude / (_layer + 1)),
                        {_small_kernel: 1 / (2 * _layer)},
                        "K^(l) = 1/(2l) + O(log l / l^2) (rg_flow.power_law_decay)"),
        Step.limit(sympy.Rational(1, 2) - 3 * _amplitude, _layer, sympy.oo,
                   "the 1/l^2 coefficient of the residual"),
        Step.assume(Eq(sympy.Rational(1, 2) - 3 * _amplitude, 0),
                    "V = A/l solves the recursion at leading order only if it vanishes"),
        Step.solve(Eq(_amplitude, sympy.Rational(1, 6)), _amplitude, "solve for A"),
        Step.assume(Eq(_residual(_layer), _amplitude / _layer * (2 * _layer) ** 2),
                    "V/K^2 with V = A/l and K = 1/(2l)"),
        Step.substitute(Eq(_residual(_layer), 2 * _layer / 3), {_amplitude: sympy.Rational(1, 6)},
                        "A = 1/6: V/(n K^2) -> (2/3) l/n (PDLT §5.5)"),
    ),
),)

# -- consistency checks (not registered: they end in Gaussian expectations) ---------------

k11, k22, k12 = K11, K22, K12
_relu = activation_definition("relu").kernel
_angle = sympy.acos(k12 / sympy.sqrt(k11 * k22))

PRICE = (
    Derivation(
        claim=ntk_kernel.id,
        title="Price's theorem for relu: <relu' relu'> = d<relu relu>/dK12 = (pi - theta)/(2 pi)",
        steps=(
            Step.assume(_relu, "arc-cosine kernel of relu (Cho & Saul 2009)"),
            Step.differentiate(sympy.diff(_relu, k12), k12, "Price: d<f g>/dK12 = <f' g'>"),
            Step.equal((sympy.pi - _angle) / (2 * sympy.pi), "sin(acos(rho)) = sqrt(1 - rho^2)"),
        ),
        ranges={k11: (0.5, 2.0), k22: (0.5, 2.0), k12: (-0.4, 0.4)},
        conclusion="expression",
    ),
)

# -- convolutional networks: one convolution, then pooling and the readout ----------------

_cnn = {p.name: p.symbol for p in theory.cnn_kernel.parameters}
_filter, positions = _cnn["filter"], sympy.Symbol("P", positive=True, integer=True)
_p, _q, _k = sympy.symbols("p q k", integer=True, nonnegative=True)
readout_bias, readout_weight = sympy.symbols("E_{b_o} E_{w_o}", positive=True)
conv_kernel = sympy.Function(r"\mathcal{K}^{(h+1)}")
conv_pair = sympy.Function(r"\langle\sigma\sigma\rangle^{(h)}")  # at positions (p', q')
conv_slope = sympy.Function(r"\langle\sigma'\sigma'\rangle^{(h)}")
conv_theta = sympy.Function(r"\mathcal{T}^{(h)}")
output_kernel, output_theta = sympy.Symbol("K"), sympy.Symbol(r"\Theta")
last_pair = sympy.Function(r"\langle\sigma\sigma\rangle^{(L)}")
last_slope = sympy.Function(r"\langle\sigma'\sigma'\rangle^{(L)}")
last_theta = sympy.Function(r"\mathcal{T}^{(L)}")
_window = (_k, 0, _filter - 1)
_pairs = ((_p, 0, positions - 1), (_q, 0, positions - 1))
_pooled_pair_mean = sympy.Sum(last_pair(_p, _q), *_pairs) / positions**2
_chain_mean = sympy.Sum(last_slope(_p, _q) * last_theta(_p, _q), *_pairs) / positions**2
CNN_GAUSSIAN = ("Arora et al. 2019, §4 (CNTK): at infinite width the channels of layer h are "
                "i.i.d. Gaussian processes over positions with kernel K^(h)")

cnn_nngp_from_network = Derivation(
    claim=theory.cnn_kernel.id,
    title="CNN-GP: one circular convolution averages the window; pooling averages all pairs",
    steps=(
        Step.assume(Eq(conv_kernel(_p, _q), bias_moment + n * sympy.Sum(
                        weight_moment * conv_pair(_p + _k, _q + _k), _window)),
                    "E[z_i[p] z_i[q]] = E[b_i^2] + sum_jkk' E[W_ijk W_ijk'] <sigma_j[p+k] "
                    "sigma_j[q+k']>: the weights are independent with E[W_ijk W_ij'k'] = "
                    "delta_jj' delta_kk' E_W, so only equal offsets k = k' pair up, over n "
                    "channels (positions mod P: circular padding)", cite=CNN_GAUSSIAN),
        Step.substitute(Eq(conv_kernel(_p, _q), C_b + n * sympy.Sum(
                            C_W / (_filter * n) * conv_pair(_p + _k, _q + _k), _window)),
                        {bias_moment: C_b, weight_moment: C_W / (_filter * n)},
                        "W ~ N(0, C_W/fan_in) with fan_in = filter x n, b ~ N(0, C_b)"),
        Step.equal(Eq(conv_kernel(_p, _q), C_b + C_W * sympy.Sum(
                       conv_pair(_p + _k, _q + _k), _window) / _filter),
                   "the filter average (1/filter) sum_k of the dense map: K^(h+1) = "
                   "A(C_b + C_W <sigma sigma>_{K^(h)})"),
        Step.assume(Eq(output_kernel, readout_bias + n * readout_weight * _pooled_pair_mean),
                    "readout f = b + sum_j w_j g_j of the pooled features g_j = (1/P) sum_p "
                    "sigma(z_j^(L)[p]): E[g_j(x_a) g_j(x_b)] = (1/P^2) sum_pq <sigma_a[p] "
                    "sigma_b[q]>, n channels, weights independent of the features",
                    cite=CNN_GAUSSIAN),
        Step.substitute(Eq(output_kernel, C_b + C_W * _pooled_pair_mean),
                        {readout_bias: C_b, readout_weight: C_W / n},
                        "the readout's fan_in is the channel count n: E[w^2] = C_W/n"),
        Step.substitute(Eq(output_kernel, theory.CNN_STATEMENTS["nngp"]),
                        {_pooled_pair_mean: theory._pooled_pair},
                        "the mean over all position pairs (pooled) of the 2x2 Gaussian "
                        "expectations at K^(L), given by the window-average recursion above "
                        "from K^(0)[p,q] = x_a[p].x_b[q]/C_0"),
    ),
    ranges={C_W: (0.5, 2.0), C_b: (0.0, 0.5)},
)

#: The NTK of the same network, checked against statements['ntk'] by tests/test_cnn_kernel.py
#: (the registry checks derivations against the claim's first statement, the NNGP).
CNN_NTK = (Derivation(
    claim=theory.cnn_kernel.id,
    title="CNTK: the readout's own parameters plus the chain through the pooled features",
    steps=(
        Step.assume(Eq(conv_theta(_p, _q), C_b + C_W * sympy.Sum(
                        conv_pair(_p + _k, _q + _k) + n * weight_moment * _filter
                        * conv_slope(_p + _k, _q + _k) * conv_theta(_p + _k, _q + _k),
                        _window) / _filter),
                    "one convolution: its own parameters give A(C_b + C_W <sigma sigma>); the "
                    "lower ones act through dz_i[p]/dz_j[p+k] = W_ijk sigma'_j[p+k], pairing "
                    "equal offsets and channels: n E_W <sigma' sigma'> Theta per offset",
                    cite="Arora et al. 2019, §4 (CNTK recursion)"),
        Step.substitute(Eq(conv_theta(_p, _q), C_b + C_W * sympy.Sum(
                            conv_pair(_p + _k, _q + _k) + C_W * conv_slope(_p + _k, _q + _k)
                            * conv_theta(_p + _k, _q + _k), _window) / _filter),
                        {weight_moment: C_W / (_filter * n)},
                        "E_W = C_W/(filter n): n filter E_W = C_W"),
        Step.assume(Eq(output_theta, C_b + C_W * _pooled_pair_mean
                       + n * readout_weight * _chain_mean),
                    "readout: its own w, b give C_b + C_W mean_pq <sigma sigma>; the lower "
                    "parameters act through df/dz_j[p] = w_j sigma'_j[p]/P",
                    cite="Arora et al. 2019, §4 (CNTK with global average pooling)"),
        Step.substitute(Eq(output_theta, C_b + C_W * _pooled_pair_mean + C_W * _chain_mean),
                        {readout_weight: C_W / n}, "E[w^2] = C_W/n"),
        Step.substitute(Eq(output_theta, theory.CNN_STATEMENTS["ntk"]),
                        {_pooled_pair_mean: theory._pooled_pair, _chain_mean: theory._pooled_chain},
                        "pooled Gaussian expectations at K^(L) and Theta^(L) of the recursions"),
    ),
    ranges={C_W: (0.5, 2.0), C_b: (0.0, 0.5)},
),)
__all__ += ["cnn_nngp_from_network", "CNN_NTK"]
