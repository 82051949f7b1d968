r"""Deep linear learning dynamics.

Conventions (Saxe, McClelland & Ganguli 2014, arXiv:1312.6120), used by every
claim of this family:

- ``Sigma11 = sum_mu x x^T`` and ``Sigma31 = sum_mu y x^T`` are sums over examples;
  inputs are whitened, ``Sigma11 = I``, and ``Sigma31 = U S V^T``.
- The loss is ``1/2 sum_mu ||y - yhat||^2``; ``tau = 1/lambda`` for the batch
  learning rate ``lambda``, and ``t`` counts full-batch steps, so the claims
  describe gradient flow in ``t / tau`` (the limit ``lambda -> 0``).
- ``N_l`` counts layers of neurons, so there are ``N_l - 1`` weight matrices.
  Arora et al.'s depth ``N`` (weight matrices) equals ``N_l - 1``.
- A mode's strength in the network is ``u = u_alpha^T W_{N_l-1} ... W_1 v_alpha``;
  a *decoupled* initialisation puts each layer's weights in the mode basis
  (``W_21 = R diag(a) V^T``, ``W_32 = U diag(b) R^T``); *balanced* means equal
  per-layer strengths.
- For the Arora et al. claims, time is gradient-flow time (steps times learning
  rate) on the loss ``L(W_e)`` plus weight decay ``lambda/2 sum_j ||W_j||^2``.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import sympy
from hypothesis import strategies as st

from theorylab.claim import Citation, Claim, Constraint, Decoy, Parameter, SystematicError
from theorylab.domains import Choice, Integer, Matrix, Real
from theorylab.errors import ParameterError
from theorylab.functions import named_function
from theorylab.gain_flow import conserved_split, gain_flow
from theorylab.matrix_functions import (
    gram_sandwich,
    matrix_pairs,
    saturation_integral,
    singular_projection,
    singular_value,
    transposed,
)
from theorylab.mode_samplers import (
    SATURATION_MARGIN,
    either,
    pathway_points,
    short_of_saturation,
)
from theorylab.riccati import (
    MAX_EXPONENT,
    aligned_block,
    block,
    coupling,
    matrix_product,
    riccati_solution,
    stacked,
    zero_balance_residual,
)
from theorylab.strategies import balanced_initializations

SAXE = Citation(
    authors=("Andrew M. Saxe", "James L. McClelland", "Surya Ganguli"),
    year=2014,
    title="Exact solutions to the nonlinear dynamics of learning in deep linear neural networks",
    where="eq. 12",
    arxiv="1312.6120",
    venue="ICLR",
)
ARORA_2018 = Citation(
    authors=("Sanjeev Arora", "Nadav Cohen", "Elad Hazan"),
    year=2018,
    title="On the Optimization of Deep Networks: Implicit Acceleration by Overparameterization",
    where="Theorem 1",
    arxiv="1802.06509",
    venue="ICML",
)
ARORA_2019 = Citation(
    authors=("Sanjeev Arora", "Nadav Cohen", "Wei Hu", "Yuping Luo"),
    year=2019,
    title="Implicit Regularization in Deep Matrix Factorization",
    where="Theorem 3",
    arxiv="1905.13655",
    venue="NeurIPS",
)

COMMON = (
    "Whitened inputs: Sigma11 = sum_mu x x^T = I; Sigma31 = sum_mu y x^T = U S V^T.",
    "Loss 1/2 sum_mu ||y - yhat||^2 summed (not averaged) over examples.",
    "tau = 1/lambda for the batch learning rate lambda; t counts full-batch steps; "
    "the statement is the gradient-flow limit lambda -> 0 at fixed t/tau.",
)

TIME_STEP_SIZE = SystematicError(
    variable="learning rate",
    order=1,
    description="Gradient descent differs from gradient flow by O(lambda); the verifier "
    "extrapolates over lambda, lambda/2, ..., lambda/16 (Richardson) and bounds the rest "
    "by the last two corrections.",
)

STEP_SIZE = SystematicError(
    variable="learning rate",
    order=1,
    description="Gradient descent differs from gradient flow by O(lambda); the verifier "
    "extrapolates over lambda, lambda/2, lambda/4 (Richardson) and bounds the rest by the "
    "last two corrections.",
)

# -- parameters -----------------------------------------------------------------

s_parameter = Parameter("s", Real(0, math.inf, sample_lower=0.5, sample_upper=3.0),
                        "singular value of Sigma31 for the mode (target strength)")
# Sampling ranges: starts from the plateau (u0 ~ 1e-3) to near saturation, and at most
# 2st/tau = 6 e-folds of growth (deeper in saturation the gradient-descent bias falls to
# rounding level and its O(lambda) order cannot be observed); the constraints below keep
# 0 < u0 < uf < s.
u0_parameter = Parameter("u0", Real(0, math.inf, sample_lower=1e-3, sample_upper=1.8,
                                    log_scale=True), "initial mode strength u(0)", latex="u_0")
uf_parameter = Parameter("uf", Real(0, math.inf, sample_lower=0.05, sample_upper=2.9),
                         "final mode strength", latex="u_f")
tau_parameter = Parameter("tau", Real(0, math.inf, sample_lower=0.5, sample_upper=4.0),
                          "time constant 1/lambda", latex="tau")
t_parameter = Parameter("t", Real(0, math.inf, lower_open=False, sample_upper=0.5),
                        "time (full-batch steps)")

s, u0, uf, tau, t = (p.symbol for p in (s_parameter, u0_parameter, uf_parameter,
                                        tau_parameter, t_parameter))
u = sympy.Symbol("u", positive=True)  # a mode strength, the variable of eq. 15's quadrature


U0_BELOW_S = Constraint("0 < u0 < s", lambda p: p["u0"] < p["s"], ("u0", "s"))
UF_BETWEEN = Constraint("u0 < uf < s", lambda p: p["u0"] < p["uf"] < p["s"], ("uf", "u0", "s"))

SHORT_OF_SATURATION = (f"Points are drawn with s - uf >= {SATURATION_MARGIN:g} s: nearer "
                       "saturation float64 gradient descent cannot resolve the crossing; "
                       "such points are in the domain and a check of one is INCONCLUSIVE.")

# -- 1. two-layer mode strength (eq. 12) -----------------------------------------

# eq. 12 divided through by exp(2st/tau): no overflow at large t, no inf/inf.
mode_strength_statement = s * u0 / (u0 + (s - u0) * sympy.exp(-2 * s * t / tau))

saxe_mode_strength = Claim(
    id="deep_linear.saxe_mode_strength",
    title="Mode strength of a two-layer linear network under gradient flow",
    citation=SAXE,
    parameters=(s_parameter, u0_parameter, tau_parameter, t_parameter),
    quantity=sympy.Function("u")(t),
    statement=mode_strength_statement,
    conventions=COMMON + (
        "Two-layer network (N_l = 3), decoupled balanced initialisation a = b, so u = a^2.",
        "Eq. 12, s e^(2st/tau)/(e^(2st/tau) - 1 + s/u0), is written divided through by "
        "e^(2st/tau) so that it stays finite for every t.",
    ),
    simulation="theorylab.numerics.deep_linear:saxe_mode_strength",
    systematic_error=STEP_SIZE,
    constraints=(U0_BELOW_S,),
    decoys=(
        Decoy("missing_factor_2", "rate st/tau instead of 2st/tau", substitute={t: t / 2}),
        Decoy("inverted_ratio", "u0/s in place of s/u0",  # divided through like the statement
              s / (1 + (u0 / s - 1) * sympy.exp(-2 * s * t / tau))),
        Decoy("linear_growth_rate", "rate 2st/tau replaced by 2t/tau (no s in the exponent)",
              substitute={t: t / s}),
    ),
    resolution=1e-3,
)

# -- 2. two-layer learning time (eq. 11) -------------------------------------------

saxe_learning_time = Claim(
    id="deep_linear.saxe_learning_time",
    title="Time for a two-layer mode to grow from u0 to uf",
    citation=replace(SAXE, **{"where": "eq. 11"}),
    parameters=(s_parameter, u0_parameter, uf_parameter, tau_parameter),
    quantity=sympy.Symbol("t(u_0 -> u_f)"),
    # Eq. 11's single log split in two, so that a tiny u0 or s - uf cannot overflow it.
    statement=tau / (2 * s) * (sympy.log(uf / (s - uf)) - sympy.log(u0 / (s - u0))),
    conventions=COMMON + (
        SHORT_OF_SATURATION,
        "Two-layer network, decoupled balanced initialisation a = b.",
        "Eq. 11, tau/(2s) ln(uf(s - u0)/(u0(s - uf))), is written as a difference of two "
        "logs, which no in-domain u0, uf overflows.",
    ),
    simulation="theorylab.numerics.deep_linear:saxe_learning_time",
    systematic_error=TIME_STEP_SIZE,
    constraints=(U0_BELOW_S, UF_BETWEEN),
    sample=short_of_saturation((s_parameter, u0_parameter, uf_parameter, tau_parameter),
                                lambda p: p["u0"]),
    uses=("deep_linear.saxe_mode_strength",),
    decoys=(
        Decoy("missing_factor_2", "tau/s instead of tau/(2s)", substitute={tau: 2 * tau}),
        Decoy("no_saturation", "ln(uf/u0): the small-u approximation without (s-u) factors",
              tau / (2 * s) * sympy.log(uf / u0)),
        Decoy("swapped_saturation", "(s-uf)/(s-u0) in place of (s-u0)/(s-uf)",
              tau / (2 * s) * sympy.log(uf * (s - uf) / (u0 * (s - u0)))),
    ),
    resolution=1e-3,
)

# -- 3. unequal initial layer strengths ---------------------------------------------

# Log-uniform strengths: layer ratios a0/b0 up to 50 and starts a0 b0 from 1e-3.
a0_parameter = Parameter("a0", Real(0, math.inf, sample_lower=0.03, sample_upper=1.5,
                                    log_scale=True),
                         "initial strength of the first layer W21", latex="a_0")
b0_parameter = Parameter("b0", Real(0, math.inf, sample_lower=0.03, sample_upper=1.5,
                                    log_scale=True),
                         "initial strength of the second layer W32", latex="b_0")
a0, b0 = a0_parameter.symbol, b0_parameter.symbol
c_squared = (a0**2 - b0**2) ** 2
q = sympy.sqrt(c_squared + 4 * s**2)


# The log of eq. 11's quotient split in two, and a0^2 + b0^2 in place of its equal
# sqrt(c^2 + 4 a0^2 b0^2), whose square underflows for a0 b0 < 1e-154.
unequal_logs = (sympy.log((q * sympy.sqrt(c_squared + 4 * uf**2) + 4 * s * uf + c_squared)
                          / (s - uf))
                - sympy.log((q * (a0**2 + b0**2) + 4 * s * a0 * b0 + c_squared) / (s - a0 * b0)))
unequal_statement = tau / q * unequal_logs

# The decoys' single log, for a conserved imbalance `imbalance` standing for c^2.
imbalance = sympy.Dummy("imbalance")
imbalance_root = sympy.sqrt(imbalance + 4 * s**2)
unequal_single_log = sympy.log(
    (imbalance_root * sympy.sqrt(imbalance + 4 * uf**2) + 4 * s * uf + imbalance) * (s - a0 * b0)
    / ((imbalance_root * sympy.sqrt(imbalance + 4 * (a0 * b0) ** 2) + 4 * s * a0 * b0 + imbalance)
       * (s - uf)))

UNEQUAL_START = Constraint("a0*b0 < uf < s", lambda p: p["a0"] * p["b0"] < p["uf"] < p["s"],
                           ("uf", "a0", "b0", "s"))


unequal_layer_time = Claim(
    id="deep_linear.unequal_layer_time",
    title="Learning time of a two-layer mode with unequal initial layer strengths",
    citation=Citation(**{**SAXE.__dict__,
                         "where": "Sec. 1 mode equations; closed form derived in "
                                  "theorylab.proofs.deep_linear"}),
    parameters=(s_parameter, a0_parameter, b0_parameter, uf_parameter, tau_parameter),
    quantity=sympy.Symbol("t(a_0 b_0 -> u_f)"),
    statement=unequal_statement,
    conventions=COMMON + (
        SHORT_OF_SATURATION,
        "Two-layer network, decoupled initialisation with strengths a0 (W21) and b0 (W32); "
        "c = a^2 - b^2 is conserved and u = ab, u0 = a0 b0.",
        "Equivalently tau/q [artanh(x(uf)) - artanh(x(u0))] with q = sqrt(c^2 + 4 s^2) and "
        "x(u) = (4su + c^2)/(q sqrt(c^2 + 4u^2)); the log form stays finite at c = 0, where "
        "it reduces to eq. 11.",
        "The layer sum a^2 + b^2 = sqrt(c^2 + 4u^2) is written a0^2 + b0^2 at the start, and "
        "the two ends' logs are kept apart, so tiny a0, b0 neither underflow nor overflow.",
    ),
    simulation="theorylab.numerics.deep_linear:unequal_layer_time",
    systematic_error=TIME_STEP_SIZE,
    constraints=(UNEQUAL_START,),
    sample=short_of_saturation(
        (s_parameter, a0_parameter, b0_parameter, uf_parameter, tau_parameter),
        lambda p: p["a0"] * p["b0"]),
    uses=("deep_linear.saxe_learning_time",),
    decoys=(
        Decoy("balanced_formula", "eq. 11 with u0 = a0 b0, ignoring the imbalance",
              tau / (2 * s) * sympy.log(uf * (s - a0 * b0) / (a0 * b0 * (s - uf)))),
        Decoy("missing_factor_4", "q = sqrt(c^2 + s^2) instead of sqrt(c^2 + 4 s^2)",
              tau / sympy.sqrt(c_squared + s**2) * unequal_single_log.subs(imbalance, c_squared)),
        Decoy("unsquared_imbalance", "c = |a^2 - b^2| entering as c instead of c^2",
              (tau / imbalance_root * unequal_single_log).subs(imbalance,
                                                                sympy.Abs(a0**2 - b0**2))),
    ),
    resolution=1e-3,
)

# -- 4. deep networks (eq. 15) -------------------------------------------------------

layers_parameter = Parameter("N_l", Integer(2, 100, sample_upper=6),
                             "layers of neurons (N_l - 1 weight matrices); at most 100: the "
                             "simulation trains every layer through a plateau that grows "
                             "with depth", latex="N_l")
N_l = layers_parameter.symbol
# Deep plateaus last ~u0^-(1-2/(N_l-1)): u0 >= 0.03 (0.01 s) keeps simulations short.
deep_u0_parameter = replace(u0_parameter, domain=replace(u0_parameter.domain, sample_lower=0.03))
matrices = N_l - 1


# Eq. 15 separated: dt/du = tau / ((N_l - 1) u^(2 - 2/(N_l - 1)) (s - u)), integrated.
deep_exponent = 2 - 2 / matrices
deep_statement = tau / matrices * saturation_integral(deep_exponent, s, u0, uf)

deep_mode_dynamics = Claim(
    id="deep_linear.deep_mode_dynamics",
    title="Mode dynamics of a deep linear network and its exact learning time",
    citation=replace(SAXE, **{"where": "eq. 15 (dynamics); learning time by "
                                                   "quadrature of eq. 15"}),
    parameters=(layers_parameter, s_parameter, deep_u0_parameter, uf_parameter, tau_parameter),
    quantity=sympy.Symbol("t(u_0 -> u_f)"),
    statement=deep_statement,
    conventions=COMMON + (
        SHORT_OF_SATURATION,
        "N_l layers of neurons, N_l - 1 weight matrices, decoupled balanced "
        "initialisation (every layer's strength u0^(1/(N_l-1))).",
        "Dynamics (eq. 15): tau du/dt = (N_l - 1) u^(2 - 2/(N_l - 1)) (s - u); the learning "
        "time is its exact quadrature, evaluated with mpmath to full float64 precision.",
    ),
    simulation="theorylab.numerics.deep_linear:deep_learning_time",
    systematic_error=TIME_STEP_SIZE,
    constraints=(U0_BELOW_S, UF_BETWEEN),
    sample=short_of_saturation(
        (layers_parameter, s_parameter, deep_u0_parameter, uf_parameter, tau_parameter),
        lambda p: p["u0"]),
    uses=("deep_linear.saxe_learning_time",),
    decoys=(
        Decoy("depth_off_by_one", "N_l where N_l - 1 belongs (counting weight matrices as "
              "layers)", substitute={N_l: N_l + 1}),
        Decoy("infinite_depth_integrand", "the N_l -> oo form of the integrand, u^-2 "
              "(cf. eq. 17), kept at finite depth",
              tau / matrices * saturation_integral(2, s, u0, uf)),
        Decoy("missing_prefactor", "without the 1/(N_l - 1) from the N_l - 1 layers",
              tau * saturation_integral(deep_exponent, s, u0, uf)),
    ),
    resolution=1e-3,
)

# -- 5 & 6. Arora et al.: end-to-end and singular-value dynamics --------------------

depth_parameter = Parameter("N", Integer(1, 100, sample_upper=4),
                            "weight matrices (Arora's depth N = N_l - 1); at most 100: the "
                            "statement sums N terms of matrix powers and the simulation "
                            "trains N layers")
decay_parameter = Parameter("weight_decay", Real(0, math.inf, lower_open=False,
                                                 sample_upper=0.5),
                            "weight decay coefficient lambda", latex="lambda")
matrix_parameter = Parameter("W", Matrix(ndim=2), "end-to-end matrix W_e = W_N ... W_1",
                             latex="W_e")
gradient_parameter = Parameter("gradient", Matrix(ndim=2, same_shape_as="W"),
                               "loss gradient dL/dW at W_e", latex=r"\nabla L")
N = depth_parameter.symbol
j = sympy.Symbol("j", integer=True, positive=True)
weight_decay_symbol = decay_parameter.symbol
W_e_symbol = sympy.Symbol("W_e", commutative=False)  # binds to W (its LaTeX name)
gradient_symbol = sympy.Symbol(r"\nabla L", commutative=False)  # binds to gradient

decay_term = -weight_decay_symbol * N * W_e_symbol
end_to_end_sum = sympy.Sum(gram_sandwich(W_e_symbol, gradient_symbol, (N - j) / N, (j - 1) / N),
                           (j, 1, N))
end_to_end_statement = decay_term - end_to_end_sum

end_to_end_dynamics = Claim(
    id="deep_linear.end_to_end_dynamics",
    title="End-to-end dynamics of a balanced deep linear network",
    citation=ARORA_2018,
    parameters=(depth_parameter, decay_parameter, matrix_parameter, gradient_parameter),
    quantity=sympy.Symbol(r"\dot{W}_e", commutative=False),
    statement=end_to_end_statement,
    conventions=(
        "W_e = W_N ... W_1 with N weight matrices (N = N_l - 1); balanced initialisation "
        "W_{j+1}^T W_{j+1} = W_j W_j^T, built exactly from an SVD.",
        "Gradient flow dW_j/dt = -dF/dW_j on F = L(W_e) + lambda/2 sum_j ||W_j||_F^2; time is "
        "steps x learning rate.",
        "Fractional powers of the PSD Gram matrices by eigendecomposition, with A^0 = I.",
        "The sum is indexed from the top layer (term j carries [W_e W_e^T]^((N-j)/N)); "
        "j -> N + 1 - j gives Thm 1's indexing.",
    ),
    simulation="theorylab.numerics.deep_linear:end_to_end_velocity",
    systematic_error=SystematicError(
        "learning rate", 1,
        "The one-step finite difference (W_e(lr) - W_e(0))/lr is a polynomial in lr with "
        "constant term dW_e/dt; three learning rates remove its O(lr) and O(lr^2) terms.",
    ),
    # W and the gradient share a shape, which the parameters' own strategies cannot say.
    sample=lambda: st.builds(lambda depth, decay, pair: {"N": depth, "weight_decay": decay,
                                                         "W": pair[0], "gradient": pair[1]},
                             depth_parameter.strategy(), decay_parameter.strategy(),
                             matrix_pairs()),
    decoys=(
        Decoy("decay_without_N", "weight decay -lambda W_e, missing the factor N",
              -weight_decay_symbol * W_e_symbol - end_to_end_sum),
        Decoy("shifted_exponents", "exponents j/N and (N-j)/N (off by one)",
              decay_term - sympy.Sum(gram_sandwich(W_e_symbol, gradient_symbol, j / N,
                                                   (N - j) / N), (j, 1, N))),
        Decoy("plain_gradient", "-N grad L: ignoring the Gram-matrix preconditioning",
              decay_term - N * gradient_symbol),
        # [W^T W]^p G [W W^T]^q is the sandwich of W^T; defined for square W only.
        Decoy("swapped_gram", "W^T W on the left of the gradient and W W^T on the right",
              decay_term - sympy.Sum(gram_sandwich(transposed(W_e_symbol), gradient_symbol,
                                                   (j - 1) / N, (N - j) / N), (j, 1, N))),
    ),
    ensemble=4,
    resolution=1e-3,
)

W_symbol = sympy.Symbol("W")  # binds to W by name: Arora et al. 2019 write W
projection_symbol = sympy.Symbol(r"\nabla L")  # binds to gradient (its LaTeX name)
sigma_of_W = singular_value(W_symbol)
projection_of_W = singular_projection(W_symbol, projection_symbol)

singular_value_dynamics = Claim(
    id="deep_linear.singular_value_dynamics",
    title="Singular-value dynamics of a balanced deep matrix factorization",
    citation=ARORA_2019,
    parameters=(depth_parameter, matrix_parameter, gradient_parameter),
    quantity=sympy.Symbol(r"\dot{\sigma}_r"),
    statement=-N * (sigma_of_W**2) ** (1 - 1 / N) * projection_of_W,
    conventions=(
        "W = W_N ... W_1, balanced initialisation, gradient flow on the loss l(W) with no "
        "weight decay; time is steps x learning rate; nabla L is the gradient of l at W.",
        "u_r, v_r are the r-th singular vectors of W; singular values in descending order and "
        "distinct (where they are analytic in time); the quantity is the vector over r.",
    ),
    simulation="theorylab.numerics.deep_linear:singular_value_velocity",
    systematic_error=end_to_end_dynamics.systematic_error,
    # Distinct singular values (>= 0.3 apart), where sigma_r is differentiable.
    sample=lambda: st.builds(lambda depth, pair: {"N": depth, "W": pair[0], "gradient": pair[1]},
                             depth_parameter.strategy(), matrix_pairs(min_singular_gap=0.3)),
    uses=("deep_linear.end_to_end_dynamics",),
    decoys=(
        Decoy("missing_N", "without the factor N",
              -((sigma_of_W**2) ** (1 - 1 / N)) * projection_of_W),
        Decoy("inverted_exponent", "(sigma_r^2)^(1/N) in place of (sigma_r^2)^(1-1/N)",
              -N * (sigma_of_W**2) ** (1 / N) * projection_of_W),
        Decoy("depth_off_by_one", "N + 1 in place of N (counting layers of neurons)",
              substitute={N: N + 1}),
    ),
    ensemble=4,
    resolution=1e-3,
)

# -- 7. exact dynamics from any zero-balanced start (Braun et al. 2022) ---------------

BRAUN = Citation(
    authors=("Lukas Braun", "Clémentine C. J. Dominé", "James E. Fitzgerald", "Andrew M. Saxe"),
    year=2022,
    title="Exact learning dynamics of deep linear networks with prior knowledge",
    where="main theorem: closed-form QQ^T(t) of the matrix Riccati equation (Sec. 4); "
          "theorem number not checked against the text",
    arxiv="2209.13554",
    venue="NeurIPS",
)

#: A start counts as zero-balanced when ||W1 W1^T - W2^T W2|| / ||W1 W1^T|| is at most this.
ZERO_BALANCE_TOLERANCE = 1e-8
RSM_QUANTITIES = ("network", "input_similarity", "output_similarity")

rsm_quantity_parameter = Parameter(
    "quantity", Choice(RSM_QUANTITIES),
    "network W2 W1(t) (No x Ni); input_similarity W1^T W1(t) (Ni x Ni); output_similarity "
    "W2 W2^T(t) (No x No)")
correlation_parameter = Parameter("correlation", Matrix(ndim=2),
                                  "input-output correlation Sigma_yx = sum_mu y x^T (No x Ni)",
                                  latex=r"\Sigma_{yx}")
first_layer_parameter = Parameter("W1", Matrix(ndim=2), "initial first layer (Nh x Ni)",
                                  latex="W_1")
second_layer_parameter = Parameter("W2", Matrix(ndim=2), "initial second layer (No x Nh)",
                                   latex="W_2")
rsm_tau_parameter = Parameter("tau", Real(0, math.inf), "time constant 1/lambda", latex="tau")
rsm_t_parameter = Parameter("t", Real(0, math.inf, lower_open=False), "time (full-batch steps)")
correlation_symbol, first_layer, second_layer, rsm_tau, rsm_t = (
    p.symbol for p in (correlation_parameter, first_layer_parameter, second_layer_parameter,
                       rsm_tau_parameter, rsm_t_parameter))


def _shapes_chain(point: dict) -> bool:
    """W1 is Nh x Ni and W2 is No x Nh for the No x Ni correlation; else a one-line error."""
    outputs, inputs = point["correlation"].shape
    hidden = point["W1"].shape[0]
    for name, shape, wanted in (("W1", point["W1"].shape, (hidden, inputs)),
                                ("W2", point["W2"].shape, (outputs, hidden))):
        if shape != wanted:
            raise ParameterError(name, f"a {wanted[0]} x {wanted[1]} matrix (W1: Nh x Ni, "
                                 "W2: No x Nh, correlation: No x Ni)", detail=f"shape {shape}")
    return True


def _zero_balanced(point: dict) -> bool:
    """W1 W1^T = W2^T W2 to ZERO_BALANCE_TOLERANCE; else a one-line error naming the residual."""
    residual = zero_balance_residual(point["W1"], point["W2"])
    if not residual <= ZERO_BALANCE_TOLERANCE:  # NaN (overflowed Gram matrices) included
        detail = (f"relative residual ||W1 W1^T - W2^T W2||/||W1 W1^T|| = {residual:.3g} > "
                  f"{ZERO_BALANCE_TOLERANCE:g}" if residual == residual
                  else "W1 W1^T or W2^T W2 overflows float64")
        raise ParameterError("W2", "such that W1 W1^T = W2^T W2 (a zero-balanced start)",
                             detail=detail)
    return True


def _exponent(point: dict) -> float:
    """2 sigma_max(correlation) t / tau: the largest exponent of e^{2Ft/tau}."""
    largest = float(np.linalg.svd(point["correlation"], compute_uv=False)[0])
    return 2 * largest * point["t"] / point["tau"]


input_count = named_function("input_count", lambda matrix: int(np.shape(matrix)[1]),
                             latex="N_i", pretty="Nᵢ")
half = sympy.Rational(1, 2)


def _qq_transpose(rate: sympy.Expr) -> sympy.Expr:
    """QQ^T(t) with the Riccati coefficient `rate` in front of Q0^T F^-1 (e^{2Ft/tau} - I) Q0."""
    return riccati_solution(coupling(correlation_symbol), stacked(first_layer, second_layer),
                            rsm_t / rsm_tau, rate)


# (row, column) of each quantity's block in QQ^T = [[W1^T W1, W1^T W2^T], [W2 W1, W2 W2^T]].
RSM_BLOCKS = {"network": (2, 1), "input_similarity": (1, 1), "output_similarity": (2, 2)}
# Unicode names: sympy's printers read _ and ^ in a symbol's name as sub- and superscripts.
RSM_SYMBOLS = {"network": sympy.Symbol("W₂W₁(t)"),
               "input_similarity": sympy.Symbol("W₁ᵀW₁(t)"),
               "output_similarity": sympy.Symbol("W₂W₂ᵀ(t)")}


def _rsm_statements(rate: sympy.Expr) -> dict[str, sympy.Expr]:
    qq = _qq_transpose(rate)
    return {name: block(qq, row, column, input_count(correlation_symbol))
            for name, (row, column) in RSM_BLOCKS.items()}


zero_balanced_statements = _rsm_statements(half)

# Decoy: each singular mode of Sigma_yx on its own, Saxe eq. 12 from the start's projection
# u0 = |u_a^T W2 W1(0) v_a| (the decoupled picture, ignoring the misalignment).
mode_value = singular_value(correlation_symbol)
mode_start = sympy.Abs(singular_projection(correlation_symbol,
                                           matrix_product(second_layer, first_layer)))
aligned_strengths = mode_value * mode_start / (
    mode_start + (mode_value - mode_start) * sympy.exp(-2 * mode_value * rsm_t / rsm_tau))

zero_balanced_dynamics = Claim(
    id="deep_linear.zero_balanced_dynamics",
    title="Exact gradient-flow trajectory of a two-layer linear network from any zero-balanced "
          "start",
    citation=BRAUN,
    parameters=(rsm_quantity_parameter, correlation_parameter, first_layer_parameter,
                second_layer_parameter, rsm_tau_parameter, rsm_t_parameter),
    quantity=RSM_SYMBOLS["network"],
    statement=zero_balanced_statements["network"],
    statements={name: sympy.Eq(RSM_SYMBOLS[name], value, evaluate=False)
                for name, value in zero_balanced_statements.items()},
    conventions=COMMON + (
        "Two-layer network W2 W1 (W1: Nh x Ni, W2: No x Nh, any widths); gradient flow "
        "tau dW1/dt = W2^T (Sigma_yx - W2 W1), tau dW2/dt = (Sigma_yx - W2 W1) W1^T.",
        "Zero-balanced start W1 W1^T = W2^T W2 (relative residual <= 1e-8), in any "
        "orientation: not aligned with the singular vectors of Sigma_yx.",
        "Q = [W1^T; W2] ((Ni + No) x Nh), Q0 = Q(0), F = [[0, Sigma_yx^T], [Sigma_yx, 0]]: "
        "tau d(QQ^T)/dt = F QQ^T + QQ^T F - (QQ^T)^2, solved by "
        "QQ^T(t) = e^{Ft/tau} Q0 [I + 1/2 Q0^T F^-1 (e^{2Ft/tau} - I) Q0]^-1 Q0^T e^{Ft/tau}, "
        "with F^-1 (e^{2Ft/tau} - I) = (2/tau) int_0^t e^{2Fu/tau} du (F may be singular).",
        "The bracket is I plus a positive semidefinite matrix, so it is invertible for every "
        "zero-balanced start, width and rank: no condition beyond zero balance. The paper "
        "writes the same solution in the singular-vector basis of Sigma_yx, under an "
        "invertibility assumption on the start's overlaps with it (its exact form not checked "
        "against the text); this form needs none.",
        "QQ^T = [[W1^T W1, W1^T W2^T], [W2 W1, W2 W2^T]]: block 21 is the network, blocks "
        "11 and 22 the input and output representational similarity matrices.",
        "Evaluated in the eigenbasis of F in float64 up to 2 sigma_max t/tau = 16, beyond it "
        "with mpmath at 30 + 2 (2 sigma_max t/tau)/ln 10 digits (float64 cancels huge "
        "terms there); defined up to 2 sigma_max t/tau = 1000.",
    ),
    simulation="theorylab.numerics.deep_linear:zero_balanced_dynamics",
    systematic_error=STEP_SIZE,
    constraints=(
        Constraint("W1 is Nh x Ni and W2 is No x Nh for the No x Ni correlation",
                   _shapes_chain, ("W1", "W2", "correlation")),
        Constraint("W1 W1^T = W2^T W2 (a zero-balanced start)", _zero_balanced, ("W2", "W1")),
        Constraint(f"2 sigma_max(correlation) t/tau <= {MAX_EXPONENT:g}",
                   lambda p: _exponent(p) <= MAX_EXPONENT, ("t", "correlation", "tau")),
    ),
    # Sigma_yx with singular values >= 0.3 apart (distinct modes, for the decoupled decoy);
    # a balanced start of hidden width rank + 1 from theorylab.strategies, scaled by
    # 1e-3..1 (plateau to near saturation); t such that 2 sigma_max t/tau is in [0, 24],
    # so that a third of the points take the mpmath path.
    sample=lambda: matrix_pairs(min_side=1, max_side=3, min_singular_gap=0.3).flatmap(
        lambda pair: st.builds(
            lambda weights, scale, exponent, tau_value, quantity: {
                "quantity": quantity, "correlation": pair[0], "W1": scale * weights[0],
                "W2": scale * weights[1], "tau": tau_value,
                "t": exponent * tau_value / (2 * np.linalg.svd(pair[0], compute_uv=False)[0])},
            balanced_initializations(depth=2, rows=pair[0].shape[0], columns=pair[0].shape[1],
                                     max_singular_value=1.5),
            st.floats(math.log(1e-3), 0.0).map(math.exp), st.floats(0.0, 24.0),
            st.floats(0.5, 4.0), st.sampled_from(RSM_QUANTITIES))),
    decoys=(
        Decoy("decoupled_modes", "Saxe's eq. 12 per singular mode of Sigma_yx from u0 = "
              "|u_a^T W2 W1(0) v_a|: the aligned-start solution, ignoring the misalignment",
              statements={name: aligned_block(correlation_symbol, aligned_strengths, row, column)
                          for name, (row, column) in RSM_BLOCKS.items()}),
        Decoy("missing_half", "1 in place of 1/2 before Q0^T F^-1 (e^{2Ft/tau} - I) Q0: "
              "tau dQ/dt = FQ - Q Q^T Q, forgetting that Q^T Q = 2 W1 W1^T",
              statements=_rsm_statements(sympy.Integer(1))),
    ),
    ensemble=4,
    resolution=1e-3,
)

# -- 7. critical periods in two pathways (Kleinman, Achille & Soatto 2024) ----------


KLEINMAN = Citation(
    authors=("Michael Kleinman", "Alessandro Achille", "Stefano Soatto"),
    year=2024,
    title="Critical learning periods emerge even in deep linear networks",
    where="Sec. 3, pathway singular-value dynamics dK/dt = D K^(2-2/D)(S - K_a - K_b) and "
          "their conserved quantities (equation numbers not checked against the text)",
    arxiv="2308.12221",
    venue="ICLR",
)

PATHWAY_QUANTITIES = ("final_gain_a", "deficit_gain_a")
pathway_depth = Parameter("depth", Integer(2, 100, sample_upper=6),
                          "weight matrices per pathway D (at most 100: the simulation trains "
                          "every layer)", latex="D")
pathway_target = Parameter("target", Real(0, math.inf, sample_lower=0.5, sample_upper=2.0),
                           "singular value S of the rank-one target", latex="S")
pathway_start = Parameter("initial_gain", Real(0, math.inf, sample_lower=0.015,
                                               sample_upper=0.8, log_scale=True),
                          "initial gain K0 of each pathway along the target mode (K0 < S/2)",
                          latex="K_0")
pathway_deficit = Parameter("deficit_time", Real(0, math.inf, lower_open=False,
                                                 sample_upper=3.0),
                            "time during which pathway b is frozen (steps x learning rate)",
                            latex="t_d")
D_path, S_path, K0_path, T_path = (p.symbol for p in (pathway_depth, pathway_target,
                                                      pathway_start, pathway_deficit))

# Deficit phase: dK_a/dt = D K_a^(2-2/D)(S - K0 - K_a); logistic at D = 2, else the flow.
_level = S_path - K0_path
deficit_logistic = _level * K0_path / (K0_path + (_level - K0_path)
                                       * sympy.exp(-2 * _level * T_path))
deficit_flow = gain_flow(D_path, _level, K0_path, T_path)
deficit_statement = sympy.Piecewise((deficit_logistic, sympy.Eq(D_path, 2)),
                                    (deficit_flow, True))
# After it: K_a/K_b (D = 2) or K_a^(-e) - K_b^(-e), e = (D-2)/D, is conserved, and the
# flow ends on K_a + K_b = S.
_conserved_exponent = (D_path - 2) / D_path


def _final_gain(deficit_gain: sympy.Expr) -> sympy.Expr:
    """K_a(oo) from K_a = ``deficit_gain`` and K_b = K0 when the deficit ends."""
    return sympy.Piecewise(
        (S_path * deficit_gain / (deficit_gain + K0_path), sympy.Eq(D_path, 2)),
        (conserved_split(D_path, S_path, deficit_gain**-_conserved_exponent
                         - K0_path**-_conserved_exponent), True))


# At D = 2, S K_a/(K_a + K0) with the logistic K_a(t_d), simplified (R + K0 = S).
final_ratio_law = S_path * _level / (S_path + (S_path - 2 * K0_path)
                                     * sympy.exp(-2 * _level * T_path))
final_statement = sympy.Piecewise(
    (final_ratio_law, sympy.Eq(D_path, 2)),
    (conserved_split(D_path, S_path, deficit_flow**-_conserved_exponent
                     - K0_path**-_conserved_exponent), True))
K_a_final = sympy.Function("K_a")(sympy.oo)
K_a_deficit = sympy.Function("K_a")(T_path)


critical_period = Claim(
    id="deep_linear.critical_period",
    title="Critical period: a temporary deficit of one pathway permanently shifts the gains",
    citation=KLEINMAN,
    parameters=(Parameter("quantity", Choice(PATHWAY_QUANTITIES),
                          "final_gain_a: K_a as t -> oo; deficit_gain_a: K_a when the deficit "
                          "ends"),
                pathway_depth, pathway_target, pathway_start, pathway_deficit),
    quantity=K_a_final,
    statement=final_statement,
    statements={"final_gain_a": sympy.Eq(K_a_final, final_statement),
                "deficit_gain_a": sympy.Eq(K_a_deficit, deficit_statement)},
    conventions=(
        "Two pathways a, b, each a product of D weight matrices, y = (W^a_D...W^a_1 + "
        "W^b_D...W^b_1) x; whitened inputs (sum_mu x x^T = I), rank-one target S u v^T; "
        "loss 1/2 sum_mu ||y_mu - yhat_mu||^2; time is steps x learning rate (no tau), the "
        "statement is the gradient-flow limit.",
        "Balanced start: every layer of both pathways is p x (orthogonal), p = K0^(1/D), "
        "aligned with the target's singular vectors, so each pathway's gain along u v^T is "
        "K = p^D and obeys dK/dt = D K^(2-2/D)(S - K_a - K_b) (gradient flow of "
        "1/2 (S - K_a - K_b)^2 on the layer scalars, dp/dt = p^(D-1)(S - K_a - K_b)).",
        "Deficit: for 0 <= t < t_d pathway b is frozen (no updates) but still adds K0 to the "
        "output, as in the authors' phase-portrait code (multipath/phase-small-init.py); "
        "then both train.",
        "deficit_gain_a: K_a(t_d), the logistic K(t) = R K0/(K0 + (R - K0) e^(-2Rt)), "
        "R = S - K0, at D = 2; for D > 2 the flow K_flow(D, R, K0, t) (exact antiderivative "
        "of dt = dK/(D K^(2-2/D)(R - K)) inverted by root finding).",
        "final_gain_a: K_a as t -> oo, from K_a + K_b = S and the conserved K_a/K_b (D = 2) "
        "or K_a^(-(D-2)/D) - K_b^(-(D-2)/D) (D > 2) evaluated at t_d (K_a = K_a(t_d), "
        "K_b = K0); X_split(D, S, C) is the point of K_a + K_b = S where the latter equals C.",
    ),
    simulation="theorylab.numerics.deep_linear:critical_period",
    systematic_error=SystematicError(
        "learning rate", 1,
        "Gradient descent differs from gradient flow by O(lr); four learning rates (the "
        "deficit's divides t_d exactly), Richardson to lr -> 0, the rest bounded by the last "
        "two corrections. Training stops at |S - K_a - K_b| <= 1e-9 S; K_a can move by at "
        "most that gap afterwards (both gains move towards the line), which is added to the "
        "bound."),
    constraints=(Constraint("0 < initial_gain < target/2",
                            lambda p: p["initial_gain"] < p["target"] / 2,
                            ("initial_gain", "target")),),
    sample=lambda: pathway_points(PATHWAY_QUANTITIES),
    uses=("deep_linear.deep_mode_dynamics",),
    decoys=(
        Decoy("no_permanent_effect", "both pathways end at S/2 (the deficit is forgotten)",
              statements={"final_gain_a": S_path / 2}),
        Decoy("ratio_law_every_depth", "K_a/K_b conserved at every depth (the D = 2 law)",
              statements={"final_gain_a": S_path * deficit_flow / (deficit_flow + K0_path)}),
        Decoy("gated_output", "pathway b's output removed during the deficit: level S, "
              "not S - K0",
              statements={
                  "deficit_gain_a": gain_flow(D_path, S_path, K0_path, T_path),
                  "final_gain_a": _final_gain(gain_flow(D_path, S_path, K0_path, T_path))}),
        Decoy("two_layer_deficit", "the D = 2 logistic for the deficit phase at every depth",
              statements={"deficit_gain_a": deficit_logistic}),
    ),
    ensemble=4,
    resolution=1e-3,
)


# -- 8. the large-depth learning time (Saxe et al. eq. 17) ------------------------------

ASYMPTOTIC_QUANTITIES = ("scaled_time", "error_order")
# s <= 0.8 keeps every u below 1: the O(1/(N_l - 1)) coefficient of the relative error,
# (2/(N_l - 1)) <ln u> under the weight 1/(u^2 (s - u)), is then bounded away from zero.
_shallow_s = replace(s_parameter, domain=replace(s_parameter.domain, sample_lower=0.2,
                                                 sample_upper=0.8))
_depth_symbol = sympy.Symbol("N_l")
_time_symbol = sympy.Symbol("t(u_0 -> u_f)")
scaled_time_limit = sympy.Limit((_depth_symbol - 1) * _time_symbol, _depth_symbol, sympy.oo)
# Eq. 17 times N_l - 1: tau/s^2 [s/u0 - s/uf + ln(uf(s - u0)/(u0(s - uf)))], the log split
# as in eq. 11's statement.
eq_17_statement = tau / s**2 * (s / u0 - s / uf + sympy.log(uf / (s - uf))
                                - sympy.log(u0 / (s - u0)))
order_symbol = sympy.Symbol("p")

deep_learning_time_asymptotic = Claim(
    id="deep_linear.deep_learning_time_asymptotic",
    title="Large-depth learning time of a deep linear network (eq. 17) and its O(1/N_l) error",
    citation=replace(SAXE, **{"where": "eq. 17 (the N_l -> oo form of eq. 15's learning time)"}),
    parameters=(Parameter("quantity", Choice(ASYMPTOTIC_QUANTITIES),
                          "scaled_time: lim (N_l - 1) t as N_l -> oo; error_order: the order p "
                          "of the relative error of eq. 17, |t/t_17 - 1| ~ (N_l - 1)^-p"),
                _shallow_s, deep_u0_parameter, uf_parameter, tau_parameter),
    quantity=scaled_time_limit,
    statement=eq_17_statement,
    statements={"scaled_time": sympy.Eq(scaled_time_limit, eq_17_statement),
                "error_order": sympy.Eq(order_symbol, sympy.Integer(1))},
    conventions=COMMON + (
        "N_l layers of neurons (N_l - 1 weight matrices), decoupled balanced initialisation; "
        "t is the exact time of eq. 15 from u0 to uf, tau/(N_l - 1) int du/(u^(2-2/(N_l-1)) "
        "(s - u)), the statement of deep_linear.deep_mode_dynamics (checked there against "
        "real gradient descent); here it is evaluated by quadrature at N_l - 1 = 8 ... 256.",
        "Eq. 17 as transcribed here: t ~ tau/((N_l - 1) s^2) [s/u0 - s/uf + ln(uf(s - u0)/"
        "(u0(s - uf)))], the integral with the N_l -> oo integrand 1/(u^2 (s - u)); the "
        "equation number was not checked against the paper's text in this session.",
        "scaled_time is (N_l - 1) t extrapolated in 1/(N_l - 1); error_order is the order p of "
        "|m(N) - m(2N)| ~ N^-p for m = (N_l - 1) t, from linregress slopes over three "
        "doublings, extrapolated likewise. Expanding u^(2/(N_l - 1)) = 1 + 2 ln u/(N_l - 1) "
        "+ ... gives p = 1 with coefficient (2/(N_l - 1)) <ln u>, nonzero for s <= 1.",
    ),
    simulation="theorylab.numerics.deep_linear:deep_time_series",
    systematic_error=SystematicError(
        "1/(N_l - 1)", 1,
        "(N_l - 1) t and the windowed slopes are power series in 1/(N_l - 1) (u^(2/(N_l-1)) "
        "expanded); Richardson over the deepest levels, the rest bounded by the last two "
        "corrections; the quadratures are accurate to 1e-12 relative."),
    constraints=(U0_BELOW_S, UF_BETWEEN),
    sample=lambda: st.fixed_dictionaries({p.name: p.strategy() for p in (
        _shallow_s, deep_u0_parameter, uf_parameter, tau_parameter)}).filter(
            lambda p: p["u0"] < p["uf"] < p["s"]).map(
            lambda p: {"quantity": either(ASYMPTOTIC_QUANTITIES, *p.values()), **p}),
    uses=("deep_linear.deep_mode_dynamics",),
    decoys=(
        Decoy("wrong_prefactor", "tau/(2 s^2) in place of tau/s^2",
              statements={"scaled_time": eq_17_statement / 2}),
        Decoy("plateau_only", "the plateau term tau/s^2 (s/u0 - s/uf) without the log",
              statements={"scaled_time": tau / s**2 * (s / u0 - s / uf)}),
        Decoy("second_order", "a relative error O(1/N_l^2)",
              statements={"error_order": sympy.Integer(2)}),
        Decoy("half_order", "a relative error O(1/sqrt(N_l))",
              statements={"error_order": sympy.Rational(1, 2)}),
    ),
    budget=8,
    ensemble=2,
    # An order is an integer: the windowed slopes' bias bound (up to ~4e-3) is far below
    # the 1/2 between orders; the scaled time alone reaches ~1e-4.
    resolution=1e-2,
)
