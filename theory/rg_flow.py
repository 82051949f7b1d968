r"""RG flow of wide networks at initialization: kernels, criticality, finite width.

Conventions (Roberts, Yaida & Hanin, "The Principles of Deep Learning Theory",
PDLT, arXiv:2106.10165), used by every claim of this family:

- ``z^(1) = b + W x`` and ``z^(l+1) = b + W sigma(z^(l))`` with
  ``W_ij ~ N(0, C_W / n_l)``, ``b_i ~ N(0, C_b)``, width ``n`` in every hidden layer.
- ``depth`` is the PDLT layer index ``l`` of the preactivation: ``l = 1`` is the
  output of the first affine layer. neural-tangents' ``Dense -> [sigma -> Dense] x L``
  computes our ``l = L + 1``.
- ``K^(1)_ab = C_b + C_W x_a.x_b / n_0`` and ``K^(l+1) = C_b + C_W <sigma_a sigma_b>_{K^(l)}``
  (PDLT §4.3, the infinite-width kernel recursion).
- NTK (PDLT Ch. 8, NTK forward equation at infinite width, neural-tangents' 'ntk'
  parameterization): ``Theta^(l+1) = C_b + C_W <sigma sigma> + C_W <sigma' sigma'> Theta^(l)``,
  ``Theta^(1) = K^(1)``.
- Susceptibilities (PDLT §5.1): ``chi_par(K) = C_W d<sigma^2>_K / dK`` and
  ``chi_perp(K) = C_W <sigma'^2>_K``.
- Four-point vertex (PDLT §4.3, §5.5): ``E[z_i1 z_i2 z_i3 z_i4]_connected =
  (1/n)[delta_i1i2 delta_i3i4 V + 2 permutations]``; ``Cov(z_j^2, z_k^2) = V/n`` for
  ``j != k`` while one neuron's excess kurtosis is ``3 V / (n K^2)``.

Activations, their closed-form kernels and the quadrature of the others are defined in
:mod:`theorylab.activations`; the recursions, fixed points and root finding that the
statements' named functions evaluate are in :mod:`theorylab.kernels`. This module
states the results.
"""

from __future__ import annotations

import math
from functools import partial

import sympy
from hypothesis import strategies as st

from theorylab import kernels
from theorylab.activations import BOUNDED, NAMES, SCALE_INVARIANT, ZERO_FIXED_POINT
from theorylab.claim import Citation, Claim, Constraint, Decoy, Parameter, SystematicError
from theorylab.domains import Choice, Integer, Matrix, Real
from theorylab.kernel_functions import (
    activation_of,
    conv_nngp,
    conv_nngp_zero_padded,
    conv_ntk,
    conv_ntk_zero_padded,
    correlation_fixed_point,
    critical_kernel,
    derivative_pair,
    diagonal_pooled,
    input_gram,
    input_size,
    jacobian_norm,
    jacobian_scale,
    jacobian_slope,
    kernel_fixed_point,
    mean_slope_squared_at_zero,
    nngp,
    ntk,
    parallel_critical_kernel,
    pooled,
    position_derivative_pair,
    position_sigma_pair,
    positive_side,
    residual_mask,
    sigma_1,
    sigma_3,
    sigma_pair,
    sigma_squared,
    sigma_squared_slope,
    slope_at_zero,
    slope_moment_2,
    slope_moment_4,
    slope_pair_at,
    slope_squared,
    slope_squared_at_zero,
    uncorrelated_critical_kernel,
)
from theorylab.network_samplers import cnn_points, criticality_points, depth_scale_points
from theorylab.strategies import input_pairs

__all__ = ["nngp_kernel", "ntk_kernel", "criticality", "depth_scales", "power_law_decay",
           "four_point_vertex", "partial_jacobian"]

PDLT = Citation(
    authors=("Daniel A. Roberts", "Sho Yaida", "Boris Hanin"),
    year=2022,
    title="The Principles of Deep Learning Theory",
    where="§4.3, kernel recursion",
    arxiv="2106.10165",
    venue="Cambridge University Press",
)
SCHOENHOLZ = Citation(
    authors=("Samuel S. Schoenholz", "Justin Gilmer", "Surya Ganguli", "Jascha Sohl-Dickstein"),
    year=2017,
    title="Deep Information Propagation",
    where="§3 (depth scales xi_q, xi_c; xi_c^-1 = -ln chi_c with chi_c = sigma_w^2 "
          "<phi'(u1) phi'(u2)> at (q*, c*), in the ordered and chaotic phases; the critical "
          "line of its Fig. 1); equation numbers not checked against the paper (only its "
          "abstract and introduction were readable)",
    arxiv="1611.01232",
    venue="ICLR",
)
DOSHI = Citation(
    authors=("Darshil Doshi", "Tianyu He", "Andrey Gromov"),
    year=2021,
    title="Critical Initialization of Wide and Deep Neural Networks using Partial Jacobians",
    where="§2-3: APJN recursion J^(l0,l+1) = chi_J^l J^(l0,l); LayerNorm and residual cases "
          "(equation numbers not checked: only the abstract was readable; the LayerNorm and "
          "residual chi_J are derived here and confirmed by simulation)",
    arxiv="2111.12143",
    venue="NeurIPS 2023",
)

# -- named functions: the statements' non-elementary pieces (theorylab.kernel_functions) ---

# -- parameters ------------------------------------------------------------------------------

activation_parameter = Parameter("activation", Choice(NAMES),
                                 "elementwise activation sigma (theorylab.activations)")
depth_parameter = Parameter("depth", Integer(1, 100, sample_upper=3),
                            "PDLT layer index l of the preactivation (l = 1: first affine layer; "
                            "at most 100: each layer is a 2-D quadrature, about a second in "
                            "mpmath)")
weight_parameter = Parameter("C_W", Real(0, math.inf, sample_lower=0.5, sample_upper=2.5),
                             "weight variance: W_ij ~ N(0, C_W / n)", latex="C_W")
bias_parameter = Parameter("C_b", Real(0, math.inf, lower_open=False, sample_lower=0.0,
                                       sample_upper=0.5),
                           "bias variance: b_i ~ N(0, C_b)", latex="C_b")
x1_parameter = Parameter("x1", Matrix(ndim=1), "first input x_1 in R^{n_0}", latex="x_1")
x2_parameter = Parameter("x2", Matrix(ndim=1, same_shape_as="x1"), "second input x_2",
                         latex="x_2")
kernel_parameter = Parameter("K", Real(0, math.inf), "single-input kernel K at which the "
                             "susceptibilities are evaluated")
leaky_slope_parameter = Parameter("leaky_slope", Real(-math.inf, math.inf),
                                  "negative slope a_- of leaky_relu (neural-tangents' "
                                  "LeakyRelu(a_-)); the other activations do not use it",
                                  latex="a_-", default=0.2)
activation, ell = activation_parameter.symbol, depth_parameter.symbol
C_W, C_b, K = weight_parameter.symbol, bias_parameter.symbol, kernel_parameter.symbol
x1, x2 = x1_parameter.symbol, x2_parameter.symbol
# sigma: the activation with its parameters (leaky_relu's slope), as the kernels receive it.
sigma = activation_of(activation, leaky_slope_parameter.symbol)

NETWORK = (
    "z^(1) = b + W x, z^(l+1) = b + W sigma(z^(l)); W_ij ~ N(0, C_W/n_l), b_i ~ N(0, C_b); "
    "every hidden layer has width n (PDLT).",
    "depth = PDLT layer index l: l = 1 is the first affine layer's output; neural-tangents' "
    "Dense -> [sigma -> Dense] x L is l = L + 1.",
    "leaky_relu has negative slope leaky_slope (default 0.2); gelu is exact (z Phi(z)); swish "
    "is z/(1 + e^-z).",
)
WIDTH_BIAS = SystematicError(
    variable="1/width",
    order=1,
    description="Finite width biases the measured kernels by O(l/n); the simulation runs nested "
    "networks at three widths (the narrower ones are sub-blocks of the widest: common random "
    "numbers) and the verifier extrapolates in 1/n (Richardson), bounding the rest by the last "
    "two corrections.",
)

# -- 1, 2. NNGP and NTK kernels of two inputs ------------------------------------------------

_inputs = (C_W, C_b, x1, x2)
_first_layer = C_b + C_W * input_gram(x1, x2)
_previous_kernel = nngp(sigma, ell - 1, *_inputs)
_previous_pair = sigma_pair(sigma, _previous_kernel)
_previous_slope = derivative_pair(sigma, _previous_kernel)
# K^(l) = C_b + C_W <sigma sigma>_{K^(l-1)} for l >= 2, the input Gram at l = 1 (PDLT §4.3).
NNGP_STATEMENT = sympy.Piecewise((_first_layer, sympy.Eq(ell, 1)),
                                 (C_b + C_W * _previous_pair, True))
# Theta^(l) = C_b + C_W <sigma sigma> + C_W <sigma' sigma'> Theta^(l-1) (PDLT Ch. 8).
NTK_STATEMENT = sympy.Piecewise(
    (_first_layer, sympy.Eq(ell, 1)),
    (C_b + C_W * _previous_pair + C_W * _previous_slope * ntk(sigma, ell - 1, *_inputs),
     True))

# Depth >= 2: at l = 1 the kernel is the input Gram and no activation enters, so no decoy
# could be rejected there. The inputs' angle stays in [0.2, 1.2] so that K12 is sizeable.
_kernel_points = partial(st.builds, dict, input_pairs(min_angle=0.2, max_angle=1.2),
                         activation=st.sampled_from(NAMES), depth=st.integers(2, 3),
                         C_W=st.floats(0.8, 2.2), C_b=st.floats(0.05, 0.5))

nngp_kernel = Claim(
    id="rg_flow.nngp_kernel",
    title="Infinite-width NNGP kernel of two inputs at layer l",
    citation=PDLT,
    parameters=(activation_parameter, depth_parameter, weight_parameter, bias_parameter,
                x1_parameter, x2_parameter, leaky_slope_parameter),
    quantity=sympy.Function("K")(ell),
    statement=NNGP_STATEMENT,
    conventions=NETWORK + (
        "K^(1)_ab = C_b + C_W x_a.x_b/n_0; K^(l+1) = C_b + C_W <sigma_a sigma_b>_{K^(l)}.",
        "Closed forms: ABReLU arc-cosine kernel (relu, leaky_relu, abs, linear), "
        "(2/pi) arcsin(2K12/sqrt((1+2K11)(1+2K22))) for erf; for tanh, gelu, swish, sin a "
        "trapezoid rule whose step follows sigma's complex singularities at the kernel's "
        "scale, to float64's precision (or to precision= digits in mpmath).",
    ),
    simulation="theorylab.numerics.rg_flow:nngp_kernel",
    systematic_error=WIDTH_BIAS,
    sample=_kernel_points,
    components=("K11", "K22", "K12"),
    decoys=(
        Decoy("relu_halved_twice", "C_W <sigma sigma>/2: the 1/2 of relu counted twice "
              "(Gaussian expectation divided by 2 again), in every layer",
              statement=sympy.Piecewise((_first_layer, sympy.Eq(ell, 1)), (
                  C_b + C_W / 2 * sigma_pair(sigma, nngp(sigma, ell - 1, C_W / 2, C_b,
                                                              x1, x2)), True))),
        Decoy("depth_off_by_one", "one layer too many (neural-tangents' L read as PDLT's l)",
              substitute={ell: ell + 1}),
        Decoy("input_not_normalized", "x.x without the 1/n_0 of the first layer",
              substitute={x1: x1 * sympy.sqrt(input_size(x1)),
                          x2: x2 * sympy.sqrt(input_size(x2))}),
    ),
    # 64 networks: over 20 seeds the achieved resolution reached 5.7% with 32 (median 2.9%).
    ensemble=64,
    budget=5,
    resolution=0.05,
)

ntk_kernel = Claim(
    id="rg_flow.ntk_kernel",
    title="Infinite-width neural tangent kernel of two inputs at layer l",
    citation=Citation(PDLT.authors, PDLT.year, PDLT.title,
                      "Ch. 8, NTK forward equation at infinite width", PDLT.arxiv, PDLT.venue),
    parameters=nngp_kernel.parameters,
    quantity=sympy.Function(r"\Theta")(ell),
    statement=NTK_STATEMENT,
    conventions=NETWORK + (
        "Theta^(1) = lambda_b + lambda_W x.x/n_0; Theta^(l+1) = lambda_b + lambda_W <sigma sigma> "
        "+ C_W <sigma' sigma'> Theta^(l), with lambda_W = C_W and lambda_b = C_b "
        "(neural-tangents' 'ntk' parameterization; the NTK sums over the standard-normal "
        "parameters omega of W = sqrt(C_W/n) omega and b = sqrt(C_b) beta).",
        "<sigma' sigma'> = d<sigma sigma>/dK12 (Price's theorem), differentiated by sympy for "
        "the closed forms; quadrature of sigma' otherwise.",
    ),
    simulation="theorylab.numerics.rg_flow:ntk_kernel",
    systematic_error=WIDTH_BIAS,
    # Depth 2 at the default budget: the projected-gradient NTK estimate is noisier deeper,
    # and at depth 1 Theta does not depend on sigma, so no decoy can be rejected there.
    # C_W <= 1.6: larger weights decorrelate sin's inputs, leaving a small Theta_12 whose
    # relative tolerance exceeds the 5% resolution.
    sample=partial(st.builds, dict, input_pairs(min_angle=0.2, max_angle=1.2),
                   activation=st.sampled_from(NAMES), depth=st.just(2),
                   C_W=st.floats(0.8, 1.6), C_b=st.floats(0.05, 0.5)),
    components=("Theta11", "Theta22", "Theta12"),
    uses=("rg_flow.nngp_kernel",),
    # The decoys change the last layer's chain factor: at the sampled depth 2 that is the
    # only layer with one (Theta^(1) = K^(1)).
    decoys=(
        Decoy("relu_derivative_pi", "<sigma' sigma'> doubled, e.g. <relu' relu'> = "
              "(pi - theta)/pi instead of (pi - theta)/(2 pi)",
              substitute={_previous_slope: 2 * _previous_slope}),
        Decoy("nngp_for_ntk", "the NNGP kernel K^(l) reported as the NTK",
              claim="rg_flow.nngp_kernel"),
        Decoy("no_chain_factor", "Theta^(l+1) = lambda_b + lambda_W <ss> + Theta^(l) (missing "
              "C_W <sigma' sigma'>)", substitute={_previous_slope: 1 / C_W}),
    ),
    ensemble=32,
    budget=5,
    resolution=0.05,
)

# -- 3. criticality ----------------------------------------------------------------------

CRITICALITY_QUANTITIES = ("chi_parallel", "chi_perpendicular", "fixed_point",
                          "critical_weight_variance", "critical_bias_variance",
                          "critical_line_bias_variance")
#: The activations of criticality: the kernels' and hard_tanh (free_probability's
#: piecewise-linear networks; its single-input expectations are closed forms).
CRITICALITY_ACTIVATIONS = NAMES + ("hard_tanh",)
#: Activations with a fixed point q* > 0 and a critical line (bounded, odd).
CRITICAL_LINE = BOUNDED + ("hard_tanh",)
_fixed_point = kernel_fixed_point(sigma, C_W, C_b)
_fixed_point_map = C_b + C_W * sigma_squared(sigma, _fixed_point)
_critical_line = critical_kernel(sigma, C_W)
CRITICALITY_STATEMENTS = {
    "chi_parallel": C_W * sigma_squared_slope(sigma, K),
    "chi_perpendicular": C_W * slope_squared(sigma, K),
    # K* is the root of this map: the statement is the fixed-point equation at K*.
    "fixed_point": _fixed_point_map,
    "critical_weight_variance": 1 / slope_squared_at_zero(sigma),
    # C_b on the critical line: q*_c - C_W <sigma^2>_{q*_c}, q*_c solving C_W <sigma'^2>_q = 1.
    "critical_bias_variance": _critical_line - C_W * sigma_squared(sigma, _critical_line),
    # The critical network whose fixed point is q* = K: C_W = 1/<sigma'^2>_K (chi_perp = 1)
    # and C_b = K - C_W <sigma^2>_K (hard_tanh: C_W = 1/erf(1/sqrt(2K)), as free_probability's
    # critical networks).
    "critical_line_bias_variance": K - sigma_squared(sigma, K) / slope_squared(sigma, K),
}


def _defined(point: dict) -> bool:
    """fixed_point and the critical line need tanh or erf (above critical C_W); C_W* a class."""
    if point["quantity"] == "critical_weight_variance":
        return point["activation"] in SCALE_INVARIANT + ZERO_FIXED_POINT
    if point["quantity"] == "critical_bias_variance":
        # hard_tanh: chi_perp = C_W erf(1/sqrt(2q)) = 1 needs C_W > 1 (its sigma'(0)^2 = 1).
        return point["activation"] in CRITICAL_LINE and point["C_W"] > (
            1.0 if point["activation"] == "hard_tanh" else float(
                kernels.critical_weight_variance(point["activation"])))
    if point["quantity"] == "critical_line_bias_variance":
        return point["activation"] in CRITICAL_LINE
    return point["quantity"] != "fixed_point" or point["activation"] in CRITICAL_LINE


criticality = Claim(
    id="rg_flow.criticality",
    title="Susceptibilities, fixed points and critical initializations",
    citation=Citation(PDLT.authors, PDLT.year, PDLT.title,
                      "§5.1 (chi_par, chi_perp, K*), §5.2 (scale-invariant class), §5.3.3 "
                      "(K* = 0 class)", PDLT.arxiv, PDLT.venue),
    parameters=(Parameter("quantity", Choice(CRITICALITY_QUANTITIES),
                          "which quantity: chi_parallel(K), chi_perpendicular(K), fixed_point "
                          "K*(C_W, C_b), critical_weight_variance (C_b = 0), "
                          "critical_bias_variance(C_W) on the tanh/erf/hard_tanh critical "
                          "line, critical_line_bias_variance(K): C_b of the critical network "
                          "with fixed point q* = K"),
                Parameter("activation", Choice(CRITICALITY_ACTIVATIONS),
                          "elementwise activation sigma (theorylab.activations): the kernels' "
                          "and hard_tanh"), weight_parameter, bias_parameter, kernel_parameter,
                leaky_slope_parameter),
    quantity=sympy.Symbol(r"\chi"),
    statement=CRITICALITY_STATEMENTS["chi_parallel"],
    statements=CRITICALITY_STATEMENTS,
    conventions=NETWORK + (
        "chi_parallel(K) = C_W d<sigma^2>_K/dK; chi_perpendicular(K) = C_W <sigma'^2>_K "
        "(both at the given K; C_b is not used).",
        "fixed_point: K* = C_b + C_W <sigma^2>_{K*} for tanh/erf with C_b > 0 (K is not used).",
        "critical_weight_variance: C_W with chi = 1 at C_b = 0: 1/A_2, A_2 = (a_+^2 + a_-^2)/2, "
        "for the scale-invariant class (relu: 2), 1/sigma'(0)^2 for the K* = 0 class (tanh: 1, "
        "erf: pi/4); C_W, C_b, K are not used.",
        "critical_bias_variance: Schoenholz et al.'s critical line sigma_b^2(sigma_w^2 = C_W) "
        "for tanh/erf/hard_tanh: chi_perp(q*) = 1 at the fixed point q* (C_b, K not used).",
        "critical_line_bias_variance: the same line parameterized by its fixed point q* = K: "
        "C_W = 1/<sigma'^2>_K, C_b = K - C_W <sigma^2>_K (C_W, C_b not used). hard_tanh "
        "(clip(z, -1, 1), free_probability's networks): <sigma'^2>_K = erf(1/sqrt(2K)), "
        "<sigma^2>_K = K (erf(1/sqrt(2K)) - sqrt(2/(pi K)) e^(-1/(2K))) + 1 - erf(1/sqrt(2K)) "
        "(closed forms, theorylab.activations; hard_tanh's kinks defeat the quadrature, so "
        "criticality only evaluates its single-input expectations).",
    ),
    simulation="theorylab.numerics.rg_flow:criticality",
    systematic_error=SystematicError(
        "input kernel K (critical_weight_variance only)", 1,
        "Unbiased single-layer estimators (pathwise derivative, Jacobian norm) averaged over "
        "the weights given stratified Gaussian inputs; the fixed point and the critical line "
        "are roots of the measured layer map, biased by O(1/inputs), below the standard "
        "error. critical_weight_variance is the K -> 0 limit of 1/chi_perp(K) at C_W = 1, "
        "extrapolated from K = 4e-5, 2e-5, 1e-5 (Richardson)."),
    constraints=(Constraint("the quantity is defined for the activation and C_W (fixed_point, "
                            "critical_bias_variance and critical_line_bias_variance: tanh, erf "
                            "or hard_tanh, with C_W above critical for critical_bias_variance; "
                            "critical_weight_variance: scale-invariant or K*=0 activations)",
                            _defined, ("activation", "quantity", "C_W")),),
    sample=partial(criticality_points, activations=CRITICALITY_ACTIVATIONS,
                   critical_line=CRITICAL_LINE),
    uses=("rg_flow.nngp_kernel",),
    decoys=(
        Decoy("parallel_is_perpendicular", "chi_par and chi_perp swapped (equal only for the "
              "scale-invariant class); the critical line from chi_par = 1",
              substitute={sigma_squared_slope(sigma, K): slope_squared(sigma, K),
                          slope_squared(sigma, K): sigma_squared_slope(sigma, K),
                          _critical_line: parallel_critical_kernel(sigma, C_W)}),
        Decoy("one_over_a_plus", "A_2 read as a_+^2: the ABReLU's negative side given the "
              "positive slope (relu: chi = C_W, critical C_W = 1 instead of 2); erf: "
              "1/sigma'(0) for 1/sigma'(0)^2",
              substitute={sigma: positive_side(sigma),
                          slope_squared_at_zero(sigma): slope_at_zero(positive_side(sigma))}),
        Decoy("derivative_mean_squared", "<sigma'>^2 in place of <sigma'^2> (chi_perp and the "
              "critical points); K* without C_b",
              substitute={slope_squared(sigma, K): slope_pair_at(sigma, K, 0),
                          slope_squared_at_zero(sigma): mean_slope_squared_at_zero(sigma),
                          _critical_line: uncorrelated_critical_kernel(sigma, C_W),
                          _fixed_point_map: _fixed_point_map - C_b}),
    ),
    ensemble=16,
    budget=12,
    resolution=0.05,
)

# -- 4. depth scales ------------------------------------------------------------------

DEPTH_QUANTITIES = ("variance_depth_scale", "correlation_depth_scale", "variance_contraction",
                    "correlation_contraction")
# Per-layer slopes at q*: of the variance map (chi_par) and of the correlation map at c*.
_depth_fixed_point = kernel_fixed_point(activation, C_W, C_b)
_correlation_point = correlation_fixed_point(activation, C_W, C_b)
_variance_chi = sigma_squared_slope(activation, _depth_fixed_point)
_correlation_chi = slope_pair_at(activation, _depth_fixed_point, _correlation_point)
_variance_slope, _correlation_slope = C_W * _variance_chi, C_W * _correlation_chi
# xi = -1/ln chi; the contraction e^(-1/xi) = e^(ln chi) is written unsimplified, so that a
# decoy changing xi (through ln chi) changes the contraction with it.
DEPTH_STATEMENTS = {
    "variance_depth_scale": -1 / sympy.log(_variance_slope),
    "correlation_depth_scale": -1 / sympy.log(_correlation_slope),
    "variance_contraction": sympy.exp(sympy.log(_variance_slope), evaluate=False),
    "correlation_contraction": sympy.exp(sympy.log(_correlation_slope), evaluate=False),
}


#: Smallest chi_1 - 1 in the chaotic phase: 1 - c* shrinks with it (and xi_c grows), and a
#: root c* within rounding of 1 would leave chi_c, and xi_c, undetermined.
CHAOTIC_MARGIN = 1e-3


def _off_critical_line(point: dict) -> bool:
    """chi_1 = chi_perp(q*) < 1 (ordered) or > 1 + CHAOTIC_MARGIN (chaotic)."""
    q = kernels.fixed_point(point["activation"], point["C_W"], point["C_b"])
    chi = kernels.chi_perpendicular(point["activation"], point["C_W"], q)
    return chi < 1 or chi > 1 + CHAOTIC_MARGIN


_logs = (sympy.log(_variance_slope), sympy.log(_correlation_slope))
depth_scales = Claim(
    id="rg_flow.depth_scales",
    title="Depth scales of signal propagation in the ordered and chaotic phases",
    citation=SCHOENHOLZ,
    parameters=(Parameter("quantity", Choice(DEPTH_QUANTITIES),
                          "variance_depth_scale xi_q, correlation_depth_scale xi_c, or the "
                          "per-layer contractions e^(-1/xi_q), e^(-1/xi_c) measured on deep "
                          "networks (variance_contraction, correlation_contraction)"),
                Parameter("activation", Choice(BOUNDED), "tanh or erf"),
                weight_parameter, Parameter("C_b", Real(0, math.inf), "bias variance sigma_b^2",
                                            latex="C_b")),
    quantity=sympy.Symbol(r"\xi"),
    statement=DEPTH_STATEMENTS["variance_depth_scale"],
    statements=DEPTH_STATEMENTS,
    conventions=(
        "sigma_w^2 = C_W, sigma_b^2 = C_b; q* is the fixed point of the variance map.",
        "xi_q^-1 = -ln chi_par(q*); xi_c^-1 = -ln chi_c with chi_c = C_W <sigma'(u1) "
        "sigma'(u2)>, (u1, u2) Gaussian of variance q* and correlation c*: the slope of the "
        "correlation map c -> (C_b + C_W <sigma(u1) sigma(u2)>)/q* at its stable fixed point "
        "c*. Ordered phase (chi_1 = chi_perp(q*) < 1): c* = 1 and chi_c = chi_1. Chaotic "
        "phase (chi_1 > 1): c = 1 repels, c* < 1 is the map's other root "
        "(theorylab.mean_field), chi_c < chi_1. The domain leaves out 1 <= chi_1 <= 1.001, "
        "where xi_c diverges on the critical line.",
        "q^(l) - q* decays as e^(-l/xi_q) and 1 - c^(l) as e^(-l/xi_c) (Schoenholz et al. "
        "§3). variance_depth_scale and correlation_depth_scale are measured as -1/ln of "
        "the slope of the per-layer map at its fixed point on one wide random layer; "
        "variance_contraction and correlation_contraction are the per-layer factors "
        "e^(-1/xi) measured on real deep networks of widths 8, 16, 32 (extrapolated in 1/n): "
        "inputs at K^(1) = q*, perturbed in scale (q) or orthogonally (1 - c), the ratio of "
        "consecutive layers' mean perturbation averaged over layers 1-3 (q) or 1-6 (c).",
        "Chaotic phase (the measured slope at c = 1 above 1): c* is the root of the "
        "correlation map measured on a grid of stratified neuron pairs; "
        "correlation_depth_scale uses the map's pathwise slope there, and "
        "correlation_contraction deep networks fed two inputs at K^(1) = q* [[1, c*], [c*, "
        "1]], rotated towards each other: dc^(l)/ds contracts by chi_c per layer.",
    ),
    simulation="theorylab.numerics.rg_flow:depth_scales",
    systematic_error=SystematicError(
        "1/width", 1,
        "xi quantities: unbiased single-layer estimators (pathwise derivative, Jacobian norm) "
        "averaged over the weights given stratified Gaussian inputs at the root q* of the "
        "measured layer map, biased by O(1/inputs), below the standard error (one level, no "
        "extrapolation). Contractions: deep networks at widths 8, 16, 32 with nested weights "
        "(common random numbers); the O(1/n) finite-width bias is removed by Richardson in "
        "1/n and what is left bounded by the last two corrections."),
    constraints=(Constraint("the network is off the critical line (chi_perp(q*) < 1, ordered, "
                            "or > 1.001, chaotic)", _off_critical_line, ("C_W", "C_b")),),
    # variance_contraction at small C_b keeps chi_par near chi_perp: a perturbation of q then
    # stays visible over several layers above the perpendicular noise of a finite network.
    # The chaotic correlation points first: hypothesis draws the first strategy's simplest
    # point first, so every check has one, where the slope_at_one decoy differs.
    # Contractions up to C_W = 3.4 (theorylab.network_samplers.depth_scale_points).
    sample=partial(depth_scale_points, quantities=DEPTH_QUANTITIES),
    uses=("rg_flow.criticality",),
    decoys=(
        Decoy("swapped", "xi_q from chi_perp and xi_c from chi_par",
              substitute={_variance_chi: slope_squared(activation, _depth_fixed_point),
                          _correlation_chi: sigma_squared_slope(activation,
                                                                _depth_fixed_point)}),
        Decoy("inverse", "-ln chi for xi (the rate, not the depth scale); e^(-xi) for "
              "the contraction", substitute={log: 1 / log for log in _logs}),
        Decoy("squared", "xi/2: 1 - c ~ |dz|^2 (and dq) taken to contract as chi^2 per layer",
              substitute={log: 2 * log for log in _logs}),
        Decoy("factorized", "Gaussian expectations factorized as if independent: xi_c from "
              "C_W <sigma'(u1) sigma'(u2)> at c = 0 instead of c* = 1, xi_q from C_W <sigma'>^2 "
              "(at c* = 1 the issue's <sigma'^2> variant is the true value, so it is no decoy "
              "in the ordered phase)",
              substitute={_variance_chi: slope_pair_at(activation, _depth_fixed_point, 0),
                          _correlation_chi: slope_pair_at(activation, _depth_fixed_point, 0)}),
        Decoy("slope_at_one", "chi_1 = C_W <sigma'^2> (the correlation map's slope at c = 1) "
              "in place of its slope at c*: the ordered phase's xi_c carried into the chaotic "
              "phase, where chi_1 > 1 (xi_c < 0, contraction > 1); equal in the ordered phase",
              substitute={_correlation_chi: slope_pair_at(activation, _depth_fixed_point, 1)}),
    ),
    ensemble=32,
    budget=4,
    resolution=0.05,
)

# -- 5. power-law decay -----------------------------------------------------------------

power_law_decay = Claim(
    id="rg_flow.power_law_decay",
    title="Power-law decay K^(l) ~ 1/(a l) of the kernel at K* = 0 criticality",
    citation=Citation(PDLT.authors, PDLT.year, PDLT.title,
                      "§5.3.3 (K* = 0 universality class: K^(l) ~ 1/(-a_1 l))", PDLT.arxiv,
                      PDLT.venue),
    parameters=(Parameter("activation", Choice(ZERO_FIXED_POINT), "tanh, erf or sin"),),
    quantity=sympy.Limit(ell * sympy.Function("K")(ell), ell, sympy.oo),
    statement=-sigma_1(activation) / (6 * sigma_3(activation)),
    conventions=(
        "C_b = 0 and C_W = 1/sigma_1^2 (criticality of the K* = 0 class), sigma(z) = sigma_1 z + "
        "sigma_3 z^3 + ...; then K' = K + a_1 K^2 + ... with a_1 = 6 sigma_3/sigma_1 and "
        "K^(l) ~ 1/(-a_1 l) (tanh, erf: 1/(2l); sin: 1/l).",
        "The simulation measures 1/a(K) with a(K) = 1/K' - 1/K on one random critical layer "
        "at K = 0.08, 0.04, 0.02 and extrapolates K -> 0 (the flow 1/K^(l+1) = 1/K^(l) + a + "
        "O(K) gives K^(l) ~ 1/(a l)).",
    ),
    simulation="theorylab.numerics.rg_flow:power_law_decay",
    systematic_error=SystematicError("input kernel K", 1, "a(K) = a + O(K) from the next Taylor "
                                     "terms; three kernels, Richardson in K."),
    decoys=(
        Decoy("one_over_l", "K ~ 1/l instead of 1/(2l)", statement=sympy.Integer(1)),
        Decoy("no_wick", "a_1 = 2 sigma_3/sigma_1: <z^4> = K^2 instead of 3 K^2",
              statement=-sigma_1(activation) / (2 * sigma_3(activation))),
    ),
    ensemble=16,
    budget=3,
    resolution=0.05,
)

# -- 6. four-point vertex ---------------------------------------------------------------

VERTEX_QUANTITIES = ("cross_neuron", "single_neuron")
vertex_depth = Parameter("depth", Integer(1, 1000, sample_upper=4),
                         "PDLT layer index l (at most 1000: the decoys raise exact rationals "
                         "to the power l - 1)")
vertex_width = Parameter("width", Integer(1, 10**6, sample_upper=24),
                         "hidden width n (exact at every n; at most 10^6, beyond which the "
                         "1/n correction is below float64's resolution of the ratio)")
_vertex_coefficient = 3 * slope_moment_4(sigma) / slope_moment_2(sigma) ** 2 - 1
_layer_factor = 1 + _vertex_coefficient / vertex_width.symbol
_cross_neuron = _layer_factor ** (vertex_depth.symbol - 1)
_single_neuron = 3 * _cross_neuron
_first_order = 1 + _vertex_coefficient * (vertex_depth.symbol - 1) / vertex_width.symbol
VERTEX_STATEMENTS = {"cross_neuron": _cross_neuron, "single_neuron": _single_neuron}
four_point_vertex = Claim(
    id="rg_flow.four_point_vertex",
    title="Four-point vertex: exact finite-width fourth moments at criticality",
    citation=Citation(PDLT.authors, PDLT.year, PDLT.title,
                      "§5.5 (four-point vertex of the scale-invariant class, V/K^2 = "
                      "(3A_4/A_2^2 - 1)(l - 1)) and §4.3 (V recursion)", PDLT.arxiv, PDLT.venue),
    parameters=(Parameter("quantity", Choice(VERTEX_QUANTITIES),
                          "cross_neuron: E[z_j^2 z_k^2]/E[z^2]^2 (j != k); "
                          "single_neuron: E[z^4]/E[z^2]^2"),
                Parameter("activation", Choice(SCALE_INVARIANT), "scale-invariant activation"),
                vertex_depth, vertex_width,
                Parameter("C_W", Real(0, math.inf, sample_lower=0.5, sample_upper=3.0),
                          "weight variance (the ratios do not depend on it when C_b = 0)"),
                leaky_slope_parameter),
    quantity=sympy.Symbol("E[z_j^2 z_k^2]") / sympy.Symbol("K^{(l)}") ** 2,
    statement=VERTEX_STATEMENTS["cross_neuron"],
    statements=VERTEX_STATEMENTS,
    conventions=(
        "C_b = 0, one input with x.x/n_0 = 1; sigma is scale-invariant (ABReLU), A_2 = "
        "(a_+^2 + a_-^2)/2, A_4 = (a_+^4 + a_-^4)/2; c = 3A_4/A_2^2 - 1: relu 5, linear and "
        "abs 2, leaky_relu (a_- = 0.2, the default leaky_slope) 4.556.",
        "cross_neuron (the statement): E[z_j^2 z_k^2]/K^2 = (1 + c/n)^(l-1), j != k; "
        "single_neuron: E[z^4]/K^2 = 3 (1 + c/n)^(l-1); K = E[z^2]. Exact at every width n.",
        "Normalization: E[z_i1 z_i2 z_i3 z_i4]_c = (1/n)[d_i1i2 d_i3i4 V + 2 perms]; for j != k "
        "Cov(z_j^2, z_k^2) = V/n, a single neuron's excess kurtosis is 3V/(n K^2); the 1/n "
        "term of the statement is the vertex V/K^2 = c (l - 1) (relu 5(l - 1)), whose "
        "slope in 1/n is checked by a linregress test (tests/test_rg_flow.py), not here.",
        "V^(l+1) = chi_par^2 V^(l) + C_W^2 (<sigma^4> - <sigma^2>^2) (PDLT §4.3).",
        "K* = 0 class (tanh, erf, sin at C_W = 1/sigma'(0)^2, C_b = 0): theorylab.kernels."
        "zero_class_vertex_ratio iterates that recursion (Gauss-Hermite); V/K^2 -> (2/3) l "
        "(proofs.rg_flow.ZERO_CLASS_VERTEX and a linregress test). Not part of this claim's "
        "battery: finite-width tanh networks (numerics.rg_flow:zero_class_vertex) reach only "
        "~5-10% at a CI budget, so they are compared in a slow test.",
    ),
    simulation="theorylab.numerics.rg_flow:four_point_vertex",
    systematic_error=SystematicError("networks per ensemble member", 1,
                                     "The moments are exact at width n (no extrapolation); the "
                                     "per-member ratio of means is jackknifed over two halves, "
                                     "leaving an O(1/networks^2) bias far below the standard "
                                     "error."),
    uses=("rg_flow.criticality",),
    decoys=(
        Decoy("swapped_normalization", "single-neuron (15) vs cross-neuron (5) normalization "
              "swapped: 3c/n for the cross-neuron moment, c/(3n) for the single neuron's",
              # The whole single-neuron statement first (the larger key), then the cross one.
              substitute={_single_neuron: 3 * (1 + _vertex_coefficient / (3 * vertex_width.symbol))
                          ** (vertex_depth.symbol - 1),
                          _cross_neuron: (1 + 3 * _vertex_coefficient / vertex_width.symbol)
                          ** (vertex_depth.symbol - 1)}),
        Decoy("depth_off_by_one", "l in place of l - 1",
              substitute={vertex_depth.symbol: vertex_depth.symbol + 1}),
        Decoy("gaussian_activation", "the deep-linear c = 2 for every activation",
              substitute={_vertex_coefficient: 2}),
        Decoy("first_order", "1 + c (l - 1)/n: the 1/n vertex term alone, not compounded",
              substitute={_cross_neuron: _first_order}),
    ),
    sample=partial(st.fixed_dictionaries, {
        "quantity": st.sampled_from(VERTEX_QUANTITIES),
        "activation": st.sampled_from(SCALE_INVARIANT),
        "depth": st.integers(2, 4), "width": st.integers(16, 24), "C_W": st.floats(0.5, 3.0)}),
    ensemble=32,
    budget=6,
    resolution=0.05,
)

# -- 7. partial Jacobians -----------------------------------------------------------------

jacobian_depth = Parameter("depth", Integer(1, 100, sample_upper=4),
                           "layer l of J^(1,l) (at most 100: each layer is a quadrature, about "
                           "a second in mpmath)")
mu_parameter = Parameter("mu", Real(0, math.inf, lower_open=False), "residual strength mu",
                         latex="mu")
q_parameter = Parameter("q", Real(0, math.inf), "input signal |x|^2/n_0, so K^(1) = C_b + C_W q")
_jacobian_arguments = (C_W, C_b, mu_parameter.symbol, q_parameter.symbol)
_previous_layer = jacobian_depth.symbol - 1
_mu = mu_parameter.symbol
_slope_term = C_W * jacobian_slope(sigma, _previous_layer, *_jacobian_arguments)
_scale = jacobian_scale(sigma, _previous_layer, *_jacobian_arguments)
# chi_J = mu^2 [residual] + C_W <s'^2> / K_LN [LayerNorm], one entry per architecture.
JACOBIAN_FACTOR = _mu**2 * residual_mask() + _slope_term / _scale
# J^(1,l) = chi_J^(l-1) J^(1,l-1), J^(1,1) = 1 (Doshi et al.'s APJN recursion).
JACOBIAN_STATEMENT = sympy.Piecewise(
    (1, sympy.Eq(jacobian_depth.symbol, 1)),
    (JACOBIAN_FACTOR * jacobian_norm(sigma, _previous_layer, *_jacobian_arguments), True))


def _jacobian_vector(params: dict, precision: int | None) -> object:
    """The statement; at l = 1 the four architectures' 1 (the mpmath Piecewise gives one 1)."""
    if params["depth"] == 1:
        return kernels.statement_apjn(params["activation"], 1, params["C_W"], params["C_b"],
                                      params["mu"], params["q"])  # 1 for any activation
    return partial_jacobian.evaluate_statement(params, precision)


partial_jacobian = Claim(
    id="rg_flow.partial_jacobian",
    title="Averaged partial Jacobian norm with LayerNorm and residual connections",
    citation=DOSHI,
    parameters=(activation_parameter, jacobian_depth, weight_parameter, bias_parameter,
                mu_parameter, q_parameter, leaky_slope_parameter),
    quantity=sympy.Symbol("J^{1,l}"),
    statement=JACOBIAN_STATEMENT,
    conventions=(
        "J^(l0,l) = (1/n_l) sum_jk E[(dz_j^l/dz_k^l0)^2], here with l0 = 1; components: plain, "
        "layer_norm, residual, residual_layer_norm.",
        "LayerNorm (no affine parameters) acts on preactivations before sigma: "
        "z^(l+1) = W sigma(LN(z^(l))) + b; residual: z^(l+1) = mu z^(l) + W sigma(.) + b.",
        "chi_J: plain C_W <s'^2>_K; layer_norm C_W E_N(0,1)[s'^2] / K^l with "
        "K^l = C_b + C_W E_N(0,1)[s^2] for l >= 2 (critical for relu iff C_b = 0); residual "
        "mu^2 + C_W <s'^2>_K; residual_layer_norm mu^2 + C_W E_N(0,1)[s'^2]/K^l.",
        "Measured one layer at a time (numerics.rg_flow:partial_jacobian): each layer's "
        "Jacobian norm averaged exactly over its weights on one wide stratified layer fed at "
        "the measured kernel, multiplied over the layers. Real deep networks agree: exact "
        "Jacobians (numerics.rg_flow:partial_jacobian_networks, ~14%) and Doshi et al.'s "
        "random projections pushed forward by autograd (numerics.rg_flow:"
        "partial_jacobian_deep, widths 16-64, 6-22% at 32 x 128 networks, a slow test), too "
        "noisy for the 1% here.",
    ),
    simulation="theorylab.numerics.rg_flow:partial_jacobian",
    systematic_error=SystematicError(
        "1/layer size", 1, "LayerNorm over a layer of n stratified neurons is biased by "
        "O(1/n); two sizes (n = 8192, 16384, common neurons), Richardson in 1/n. The other "
        "architectures' estimators are unbiased given the measured kernel."),
    evaluate=_jacobian_vector,
    sample=partial(st.fixed_dictionaries, {
        "activation": st.sampled_from(NAMES), "depth": st.integers(2, 4),
        "C_W": st.floats(0.8, 2.2), "C_b": st.floats(0.05, 0.5), "mu": st.floats(0.3, 1.0),
        "q": st.floats(0.5, 2.0)}),
    components=kernels.ARCHITECTURES,
    uses=("rg_flow.criticality",),
    decoys=(
        Decoy("layer_norm_without_denominator", "chi_J for LayerNorm without the normalizing "
              "1/K^l (in the last layer)", substitute={_scale: 1}),
        Decoy("mu_not_squared", "mu in place of mu^2 in the residual chi_J (in the last layer)",
              substitute={_mu**2: _mu}),
    ),
    ensemble=16,
    budget=4,
    resolution=0.01,
)

# -- 8. convolutional networks: CNN-GP and CNTK with circular padding and pooling ---------

ARORA = Citation(
    authors=("Sanjeev Arora", "Simon S. Du", "Wei Hu", "Zhiyuan Li", "Ruslan Salakhutdinov",
             "Ruosong Wang"),
    year=2019,
    title="On Exact Computation with an Infinitely Wide Neural Net",
    where="§4 (CNTK: the recursion of Sigma^(h), K^(h), Theta^(h) over pixel pairs, the "
          "patch average, global average pooling) and its appendix of CNTK formulas; Novak "
          "et al., ICLR 2019 (arXiv:1810.05148), CNN-GP with pooling. Equation numbers not "
          "checked against the papers' text (only abstracts and introductions were "
          "readable); the recursion here agrees with neural-tangents 0.6.5's stax to 1e-15 "
          "(benchmarks/cnn_vs_neural_tangents.py)",
    arxiv="1904.11955",
    venue="NeurIPS",
)
CNN_QUANTITIES = ("nngp", "ntk")
cnn_depth = Parameter("depth", Integer(1, 50, sample_upper=3),
                      "number of [Conv1D -> sigma] blocks before the pooling (at most 50)")
cnn_filter = Parameter("filter", Integer(1, 64, sample_upper=3),
                       "filter size of every convolution (stride 1, circular padding; at most "
                       "the number of positions)")
cnn_x1 = Parameter("x1", Matrix(ndim=2, max_size=6), "first input: positions x channels",
                   latex="x_1")
cnn_x2 = Parameter("x2", Matrix(ndim=2, max_size=6, same_shape_as="x1"),
                   "second input: positions x channels", latex="x_2")
_cnn_filter, _cnn_depth = cnn_filter.symbol, cnn_depth.symbol
_cnn_arguments = (sigma, _cnn_depth, _cnn_filter, C_W, C_b, cnn_x1.symbol, cnn_x2.symbol)

_conv_kernel = conv_nngp(*_cnn_arguments)
_conv_theta = conv_ntk(*_cnn_arguments)
_pooled_pair = pooled(position_sigma_pair(sigma, _conv_kernel))
_pooled_chain = pooled(position_derivative_pair(sigma, _conv_kernel) * _conv_theta)
# Readout after pooling: the dense map averaged over all position pairs (Arora et al. §4).
CNN_STATEMENTS = {
    "nngp": C_b + C_W * _pooled_pair,
    "ntk": C_b + C_W * _pooled_pair + C_W * _pooled_chain,
}


def _filter_fits(values: dict) -> bool:
    return int(values["filter"]) <= len(values["x1"])


cnn_kernel = Claim(
    id="rg_flow.cnn_kernel",
    title="Infinite-width NNGP and NTK of a 1-D convolutional network with global average "
          "pooling",
    citation=ARORA,
    parameters=(Parameter("quantity", Choice(CNN_QUANTITIES),
                          "nngp: the output's kernel K; ntk: the neural tangent kernel Theta"),
                activation_parameter, cnn_depth, cnn_filter, weight_parameter, bias_parameter,
                cnn_x1, cnn_x2, leaky_slope_parameter),
    quantity=sympy.Symbol("K"),
    statement=CNN_STATEMENTS["nngp"],
    statements={"nngp": sympy.Eq(sympy.Symbol("K"), CNN_STATEMENTS["nngp"]),
                "ntk": sympy.Eq(sympy.Symbol("Theta"), CNN_STATEMENTS["ntk"])},
    conventions=(
        "Network (neural-tangents' stax.serial(*[Conv(n, (filter,), padding='CIRCULAR', "
        "W_std=sqrt(C_W), b_std=sqrt(C_b)), sigma] * depth, GlobalAvgPool(), Dense(1, "
        "W_std=sqrt(C_W), b_std=sqrt(C_b)))): z^(1)_i[p] = b_i + sum_jk W_ijk x_j[p+k-o], "
        "z^(h+1)_i[p] = b_i + sum_jk W_ijk sigma(z^(h)_j[p+k-o]), positions mod P (circular "
        "padding, o = (filter-1)//2, stride 1); output f = b + sum_j w_j mean_p "
        "sigma(z^(depth)_j[p]).",
        "'ntk' parameterization: W = sqrt(C_W/fan_in) omega, b = sqrt(C_b) beta with "
        "standard-normal omega, beta; fan_in = filter x channels (readout: channels); the NTK "
        "sums over omega and beta, so each bias contributes C_b.",
        "Position-pair kernels (blocks 11, 22, 12 of the 2P x 2P matrix): K^(0)[p,q] = "
        "x_a[p].x_b[q]/C_0 (neural-tangents' input kernel divides by the channel count C_0); "
        "K^(1) = A(C_b + C_W K^(0)), Theta^(1) = K^(1); K^(h+1) = A(C_b + C_W <ss>), "
        "Theta^(h+1) = A(C_b + C_W <ss> + C_W <s's'> Theta^(h)) with the circular window "
        "average (A F)[p,q] = (1/filter) sum_k F[p+k, q+k]; <ss>[p,q] is the 2x2 Gaussian "
        "expectation at K[p,p], K[q,q], K[p,q].",
        "K = C_b + C_W mean_pq <ss>(K^(depth)); Theta = K + C_W mean_pq(<s's'> Theta^(depth)): "
        "the readout after global average pooling. depth counts the convolutions; components "
        "[K11, K22, K12].",
        "Gaussian expectations: closed forms for relu, leaky_relu, abs, linear, erf (also in "
        "mpmath with --precision); tanh, gelu, swish, sin by one trapezoid rule for all "
        "position pairs, to float64's precision (about 1e-15) also on the --precision path "
        "(an mpmath 2-D rule costs 2-20 s per position pair at 40 digits).",
        "Simulation (numerics.rg_flow:cnn_kernel): random CNNs batched over an ensemble "
        "(one einsum per convolution over the window's circular shifts), float64; the NNGP "
        "as C_b + C_W/n sum_j g_j(x_a) g_j(x_b) of the pooled features g given the network, "
        "the NTK from the parameter gradients of f (autograd). depth 1 is unbiased at every "
        "width (Gaussian first layer) and measured at n = 16 channels; deeper networks at "
        "n = 8 and 16 (nested: common random numbers), extrapolated linearly in 1/n.",
    ),
    simulation="theorylab.numerics.rg_flow:cnn_kernel",
    systematic_error=SystematicError(
        "1/channels", 1, "From the second convolution on, finite channel count n biases the "
        "kernels by O(1/n) (the layers' outputs are not exactly Gaussian); nested networks of "
        "8 and 16 channels, linear Richardson in 1/n, the rest bounded by the last "
        "correction. One convolution: exact at every n, one level."),
    constraints=(Constraint("filter <= positions (the rows of x1)", _filter_fits,
                            ("filter", "x1")),),
    sample=partial(cnn_points, quantities=CNN_QUANTITIES),
    components=("K11", "K22", "K12"),
    decoys=(
        Decoy("zero_padding", "zero padding ('SAME'): positions outside the input read 0 "
              "instead of wrapping around",
              substitute={_conv_kernel: conv_nngp_zero_padded(*_cnn_arguments),
                          _conv_theta: conv_ntk_zero_padded(*_cnn_arguments)}),
        Decoy("no_filter_average", "fan_in = channels (no 1/filter): the window summed, not "
              "averaged, in every convolution",
              substitute={_conv_kernel: _conv_kernel.subs(C_W, _cnn_filter * C_W),
                          _conv_theta: _conv_theta.subs(C_W, _cnn_filter * C_W)}),
        Decoy("flattened", "the readout on the flattened features (fan_in = P n) instead of "
              "the pooled ones: the mean over equal positions only",
              substitute={_pooled_pair: diagonal_pooled(*_pooled_pair.args),
                          _pooled_chain: diagonal_pooled(*_pooled_chain.args)}),
        Decoy("swapped", "the NNGP reported as the NTK and the NTK as the NNGP",
              statements={"nngp": CNN_STATEMENTS["ntk"], "ntk": CNN_STATEMENTS["nngp"]}),
    ),
    ensemble=32,
    budget=4,
    resolution=0.05,
)
__all__ += ["cnn_kernel"]
