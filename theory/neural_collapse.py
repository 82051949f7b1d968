r"""Neural-collapse geometry: the simplex ETF and the minimizers of unconstrained-feature models.

Conventions, shared by the claims of this family:

- ``K`` classes, ``n`` examples per class in the balanced claims, ``N = nK``;
  in the imbalanced claim class ``k`` has ``n_k >= 1`` examples and
  ``N = sum_k n_k``. Examples are ordered class by class; ``Y`` is one-hot.
- The unconstrained feature model (UFM) treats the last-layer features
  ``H = [h_{k,i}]`` (``d x N``) as free variables next to the classifier
  ``W`` (``K x d``, rows ``w_k``) and bias ``b``.
- Every loss is averaged over the ``N`` examples (``1/N`` for cross-entropy,
  ``1/(2N) ||.||_F^2`` for MSE); weight decay enters as ``lambda/2 ||.||_F^2``
  on each factor (``W``, ``H``, ``b``; each layer ``W_j`` of a deep head).
- A "global minimizer" claim states the value of the objective at its global
  minimum and the geometry there. The simulation minimizes the objective itself
  from random starts (``theorylab.numerics.neural_collapse``).

Where the closed forms come from: the cross-entropy UFM (Zhu et al. 2021,
Theorem 3.1) fixes the geometry (ETF rows, ``h = sqrt(lambda_W/(n lambda_H)) w``,
equal norms); the norm and the optimal value are then the minimum of a convex
function of one variable, derived in ``theorylab.proofs.neural_collapse``.
The MSE UFM reduces to a nuclear-norm-regularized least-squares problem whose
solution shrinks the singular values of the (centred) label matrix by
``K sqrt(n lambda_W lambda_H)``. The deep linear imbalanced head (Dang et al.
2023) reduces to one scalar problem per class; where its stationary point is
only a local minimum, the class collapses (see :data:`deep_linear_imbalanced`).

Every quantity has its own statement (``statements``), the number the verifier
compares: matrices and vectors are built from the named functions ``I_K``,
``J_K``, ``repeat``, ``diag`` and ``Σ_k``, the bias switch is ``1_bias`` and the
per-class minimizer of the deep head is ``x*`` (bound to
:func:`theorylab.collapse_geometry.class_minimizers`). Every decoy is a substitution into
the statement of the quantity checked: a parameter (``n -> nK``), a piece (``c``, ``b``,
``x*``, ``1_bias``), or the closed forms the wrong geometry gives (the CE minimum at
another logit margin or feature scale is ``ce_value_law``/``ce_norm_law`` there).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import sympy
from hypothesis import strategies as st

from theorylab import collapse_geometry as geometry
from theorylab.claim import Citation, Claim, Constraint, Decoy, Parameter, SystematicError
from theorylab.domains import Choice, Integer, Real
from theorylab.functions import named_function

__all__ = [
    "ClassSizes",
    "simplex_etf",
    "ufm_ce_minimizer",
    "ufm_mse_minimizer",
    "deep_linear_imbalanced",
    "collapse_threshold",
]

PAPYAN = Citation(
    authors=("Vardan Papyan", "X. Y. Han", "David L. Donoho"),
    year=2020,
    title="Prevalence of neural collapse during the terminal phase of deep learning training",
    where="Definition of the simplex ETF (Sec. 2, 'Simplex equiangular tight frame') and NC2",
    arxiv="2008.08186",
    venue="PNAS",
)
ZHU = Citation(
    authors=("Zhihui Zhu", "Tianyu Ding", "Jinxin Zhou", "Xiao Li", "Chong You",
             "Jeremias Sulam", "Qing Qu"),
    year=2021,
    title="A Geometric Analysis of Neural Collapse with Unconstrained Features",
    where="Theorem 3.1 (global minimizers of the CE UFM); closed forms of ||w_k||^2 and "
          "the optimal value from its reduced one-variable problem",
    arxiv="2105.02375",
    venue="NeurIPS",
)
ZHOU = Citation(
    authors=("Jinxin Zhou", "Xiao Li", "Tianyu Ding", "Chong You", "Qing Qu", "Zhihui Zhu"),
    year=2022,
    title="On the Optimization Landscape of Neural Collapse under MSE Loss: Global "
          "Optimality with Unconstrained Features",
    where="Theorem 3.1 (global minimizers of the MSE UFM, c = (1 - K sqrt(n lambda_W "
          "lambda_H))_+); bias-free case as in Tirer & Bruna 2022 (arXiv:2202.08087)",
    arxiv="2203.01238",
    venue="ICML",
)
DANG = Citation(
    authors=("Hien Dang", "Tho Tran", "Stanley Osher", "Hung Tran-The", "Nhat Ho",
             "Tan Nguyen"),
    year=2023,
    title="Neural Collapse in Deep Linear Networks: From Balanced to Imbalanced Data",
    where="imbalanced bias-free MSE theorem for a depth-M linear head (x_k, b, s_k); "
          "global minimizer corrected at the collapse edge (see conventions)",
    arxiv="2301.00437",
    venue="ICML",
)

OPTIMIZATION = SystematicError(
    variable="optimizer convergence",
    order=1,
    description="The simulation minimizes the objective to a gradient norm near rounding "
    "with a saddle-free Newton method; the distance left to the critical point is one more "
    "Newton step -H^+ g (the gradient norm at termination through the Hessian), and the "
    "change of the measured quantity along that step, doubled, is its bias bound.",
)

# -- parameters ------------------------------------------------------------------------

# Upper bounds keep a prediction (K x K matrices, built entrywise) and a simulation (d x nK
# free features, M layers of d x d) within memory and minutes; they are far above what the
# checks draw.
K_parameter = Parameter("K", Integer(2, 1000, sample_upper=6), "number of classes (at most "
                        "1000: the K x K Gram and cosine matrices are built entry by entry)")
n_parameter = Parameter("n", Integer(1, 10000, sample_upper=3), "examples per class (balanced; "
                        "at most 10000: the simulation holds all nK feature vectors)")
d_parameter = Parameter("d", Integer(1, 1000, sample_upper=7), "feature dimension (d >= K - 1; "
                        "at most 1000: the simulation optimizes d x (K + nK) variables)")
lambda_W_parameter = Parameter("lambda_W", Real(0, math.inf, lower_open=False),
                               "weight decay on the classifier W (each layer W_j)",
                               latex="lambda_W")
lambda_H_parameter = Parameter("lambda_H", Real(0, math.inf, lower_open=False),
                               "weight decay on the features H", latex="lambda_H")
lambda_b_parameter = Parameter("lambda_b", Real(0, math.inf, lower_open=False),
                               "weight decay on the bias b (0: unregularized bias)",
                               latex="lambda_b")
M_parameter = Parameter("M", Integer(1, 100, sample_upper=3), "depth of the linear head "
                        "(number of weight matrices W_M ... W_1; at most 100: the simulation "
                        "holds M d x d layers)")

K, n, d = K_parameter.symbol, n_parameter.symbol, d_parameter.symbol
lambda_W, lambda_H, lambda_b = (lambda_W_parameter.symbol, lambda_H_parameter.symbol,
                                lambda_b_parameter.symbol)
M = M_parameter.symbol


# -- named functions: the statements' pieces that are arrays or have no closed form ------

#: The K x K identity and all-ones matrix ``J_K = 1 1^T``. In the derivations they are
#: commuting elements of the algebra they span: ``I^2 = I``, ``I J = J``, ``J^2 = K J``.
identity_matrix = geometry.subscripted(named_function(
    "identity_matrix", geometry.identity_matrix, pretty="I"), "I")
ones_matrix = geometry.subscripted(named_function(
    "ones_matrix", geometry.ones_matrix, pretty="J"), "J")
#: ``repeat(a, m, b, m', ...)``: the vector of ``a`` m times, then ``b`` m' times, ...
repeated = named_function("repeated", geometry.repeated, latex=r"\operatorname{repeat}",
                          pretty="repeat")
#: The diagonal matrix of a vector (one entry per class).
diagonal_matrix = named_function("diagonal_matrix", geometry.diagonal_matrix,
                                 latex=r"\operatorname{diag}", pretty="diag")
#: The sum over classes of a per-class vector (``N = sum_k n_k``).
class_sum = named_function("class_sum", geometry.class_sum, latex=r"\sum_k", pretty="Σₖ")
#: 1 with an unregularized bias (``bias='unregularized'``), 0 bias-free.
bias_indicator = named_function("bias_indicator", geometry.bias_indicator,
                                latex=r"\mathbb{1}_{\mathrm{bias}}", pretty="1_bias")
#: x_k = argmin_{x >= 0} n_k/(x^M + 1) + b x, per class (the collapse rule included).
reduced_minimizer = named_function("reduced_minimizer", geometry.reduced_minimizers,
                                   latex=r"x^{\star}", pretty="x*")
#: The largest root of g_k' = 0 whenever one exists (no comparison with g_k(0)).
largest_stationary_point = named_function(
    "largest_stationary_point", geometry.largest_stationary_points,
    latex=r"x^{\mathrm{root}}", pretty="x_root")

I_K = identity_matrix(K)
J_K = ones_matrix(K)

POSITIVE_DECAYS = (
    Constraint("lambda_W > 0", lambda p: p["lambda_W"] > 0, ("lambda_W",)),
    Constraint("lambda_H > 0", lambda p: p["lambda_H"] > 0, ("lambda_H",)),
)
GEOMETRY_DEFINED = Constraint(
    "the minimizer is nonzero (K sqrt(n lambda_W lambda_H) < 1) when the quantity is "
    "'cosine' or 'feature_scale' (undefined at W = H = 0)",
    lambda p: (p["quantity"] not in ("cosine", "feature_scale")
               or p["K"] * math.sqrt(p["n"] * p["lambda_W"] * p["lambda_H"]) < 1),
    ("quantity", "K", "n", "lambda_W", "lambda_H"))


def _quantity(*options: str) -> Parameter:
    return Parameter("quantity", Choice(options), "which quantity of the minimizer to predict")


# -- 1. simplex ETF -----------------------------------------------------------------------

simplex_statement = K / (K - 1) * (I_K - J_K / K)
SIMPLEX_STATEMENTS = {
    "gram": simplex_statement,
    "cosine": -1 / (K - 1),
    "gram_eigenvalues": repeated(0, 1, K / (K - 1), K - 1),  # ascending
}
#: Unit vectors with pairwise cosine -1/K: Gram (1 + 1/K) I - J/K, its spectrum ascending.
FRAME_WITH_COSINE_ONE_OVER_K = {
    simplex_statement: (K + 1) / K * (I_K - J_K / (K + 1)),
    SIMPLEX_STATEMENTS["cosine"]: -1 / K,
    SIMPLEX_STATEMENTS["gram_eigenvalues"]: repeated(1 / K, 1, (K + 1) / K, K - 1),
}

simplex_etf = Claim(
    id="neural_collapse.simplex_etf",
    title="The simplex equiangular tight frame is the maximally separated configuration",
    citation=PAPYAN,
    parameters=(K_parameter, d_parameter, _quantity("cosine", "gram", "gram_eigenvalues")),
    quantity=sympy.Symbol("M^T M"),
    statement=simplex_statement,
    statements=SIMPLEX_STATEMENTS,
    conventions=(
        "M = sqrt(K/(K-1)) U (I_K - 1 1^T/K) with U (d x K), U^T U = I_K, d >= K - 1: its "
        "columns are unit vectors; I_K and J_K = 1 1^T commute, J_K^2 = K J_K. "
        "repeat(a, m, b, m') is the vector of a m times, then b m' times.",
        "quantity='gram': the Gram matrix M^T M = K/(K-1)(I - J/K) of the K columns.",
        "quantity='cosine': min over K unit vectors in R^d of their largest pairwise "
        "cosine; = -1/(K-1), attained exactly by the simplex ETF (maximal equiangularity).",
        "quantity='gram_eigenvalues': ascending spectrum of M^T M: 0 once (the all-ones "
        "direction), K/(K-1) with multiplicity K-1 (a tight frame of its span).",
        "The simulation minimizes sum_{i<j} exp(4 cos_ij) over K vectors in R^d (whose global "
        "minimizers are exactly the ETFs, by Jensen and ||sum u_i||^2 >= 0) and reports the "
        "configuration found; it never builds the ETF.",
    ),
    simulation="theorylab.numerics.neural_collapse:simplex_etf",
    systematic_error=OPTIMIZATION,
    constraints=(Constraint("d >= K - 1", lambda p: p["d"] >= p["K"] - 1, ("d", "K")),),
    # d = K - 1 + (0, 1 or 2): filtering independent draws of d repeats points in a budget
    sample=lambda: st.builds(lambda classes, extra, quantity: {
        "K": classes, "d": classes - 1 + extra, "quantity": quantity},
        st.integers(2, 6), st.integers(0, 2), st.sampled_from(tuple(SIMPLEX_STATEMENTS))),
    decoys=(
        Decoy("cosine_minus_one_over_K", "pairwise cosine -1/K instead of -1/(K-1)",
              substitute=FRAME_WITH_COSINE_ONE_OVER_K),
        Decoy("orthogonal_frame", "orthonormal vectors (Gram I): the bias-free MSE geometry",
              substitute={simplex_statement: I_K, SIMPLEX_STATEMENTS["cosine"]: 0,
                          SIMPLEX_STATEMENTS["gram_eigenvalues"]: repeated(1, K)}),
        Decoy("unnormalized", "U(I - J/K) without the factor sqrt(K/(K-1)), cosine read off "
              "the unnormalized Gram as -1/K",
              substitute={simplex_statement: I_K - J_K / K, SIMPLEX_STATEMENTS["cosine"]: -1 / K,
                          SIMPLEX_STATEMENTS["gram_eigenvalues"]: repeated(0, 1, 1, K - 1)}),
    ),
    ensemble=4,
    budget=12,
    resolution=1e-6,
)

# -- 2. cross-entropy UFM (Zhu et al. 2021) -----------------------------------------------

@st.composite
def _ufm_points(draw: st.DrawFn, quantities: tuple[str, ...], *, bias: bool, low: float,
                high: float) -> dict[str, Any]:
    """K <= 4, n <= 3, K sqrt(n lambda_W lambda_H) in [low, high] or collapsed in [1.3, 2.5].

    Off the collapse edge K sqrt(n lambda_W lambda_H) = 1 (degenerate, slow minima);
    collapsed (W = H = 0) for a quarter of the optimal values, the one quantity not zero
    there (a zero prediction has no relative tolerance). lambda_W/lambda_H lies in
    [1.25, 3] or its inverse: at lambda_W = lambda_H the feature scale and the norms cannot
    tell lambda_W from lambda_H, and hypothesis draws a ratio of exactly 1 often.
    """
    classes, per_class = draw(st.integers(2, 4)), draw(st.integers(1, 3))
    quantity = draw(st.sampled_from(quantities))
    # one float for both regimes (no two draws give one point): collapsed above 3/4
    position = draw(st.floats(0, 1 if quantity == "optimal_value" else 0.75))
    product = (low + (high - low) * position / 0.75 if position <= 0.75
               else 1.3 + 1.2 * (position - 0.75) / 0.25) / classes
    imbalance = math.exp(draw(st.sampled_from((-1, 1))) * draw(st.floats(math.log(1.25),
                                                                         math.log(3))))
    point = {"K": classes, "n": per_class, "lambda_W": product * math.sqrt(imbalance / per_class),
             "lambda_H": product / math.sqrt(imbalance * per_class), "quantity": quantity}
    if bias:
        point["bias"] = draw(st.sampled_from(("none", "unregularized")))
        smallest = classes - (point["bias"] == "unregularized")
    else:
        point["lambda_b"] = draw(st.sampled_from((0.0, 1e-3, 1e-2)))
        smallest = classes - 1
    return {**point, "d": draw(st.integers(smallest, classes + 1))}



scale = sympy.sqrt(n * lambda_W * lambda_H)
_nonzero = K * scale < 1
#: The CE UFM on a geometry with equal norms omega = ||w_k||^2, logit margin
#: mu = 1 - cos(w_k, w_j) and features h = alpha w_k: phi(omega) = log(1 + (K-1) e^{-beta
#: omega}) + gamma omega, beta = alpha mu, gamma = K (lambda_W + n lambda_H alpha^2)/2, is
#: convex; phi' = 0 at x/(1 + x) = gamma/beta, x = (K-1) e^{-beta omega}. In
#: rho = gamma/((K-1) beta) its minimizer and minimum are:
alpha, mu = sympy.symbols("alpha mu", positive=True)
rho = K * (lambda_W + n * lambda_H * alpha**2) / ((K - 1) * alpha * mu) / 2
ce_norm_law = sympy.Piecewise((sympy.log(1 / rho - K + 1) / (alpha * mu), K * rho < 1), (0, True))
ce_value_law = sympy.Piecewise(
    (-sympy.log(1 - (K - 1) * rho) + (K - 1) * rho * sympy.log(1 / rho - K + 1), K * rho < 1),
    (sympy.log(K), True))
#: Zhu et al.'s Thm 3.1 geometry: h = sqrt(lambda_W/(n lambda_H)) w, rows a simplex ETF.
ZHU_GEOMETRY = {alpha: sympy.sqrt(lambda_W / (n * lambda_H)), mu: K / (K - 1)}
#: ||w_k||^2 at the nonzero minimizer (K sqrt(n lambda_W lambda_H) < 1); there rho = scale.
ce_norm_interior = ((K - 1) / K * sympy.sqrt(n * lambda_H / lambda_W)
                    * sympy.log(1 / scale - (K - 1)))
ce_norm_statement = ce_norm_law.subs(ZHU_GEOMETRY)
CE_STATEMENTS = {
    "optimal_value": ce_value_law.subs(ZHU_GEOMETRY),
    "weight_norm_squared": repeated(ce_norm_statement, K),
    "feature_scale": ZHU_GEOMETRY[alpha],
    "cosine": simplex_statement,
}
#: The same minimum on the wrong geometries of the decoys (cosine -1/K; alpha inverted).
COSINE_ONE_OVER_K_GEOMETRY = {alpha: ZHU_GEOMETRY[alpha], mu: (K + 1) / K}
INVERTED_SCALE_GEOMETRY = {alpha: sympy.sqrt(lambda_H / (n * lambda_W)), mu: K / (K - 1)}

ufm_ce_minimizer = Claim(
    id="neural_collapse.ufm_ce_minimizer",
    title="Global minimizers of the cross-entropy unconstrained feature model",
    citation=ZHU,
    parameters=(K_parameter, n_parameter, d_parameter, lambda_W_parameter, lambda_H_parameter,
                lambda_b_parameter, _quantity(*CE_STATEMENTS)),
    quantity=sympy.Symbol("||w_k||^2"),
    statement=ce_norm_statement,
    statements=CE_STATEMENTS,
    conventions=(
        "Objective (Zhu et al. eq. 4): (1/N) sum_{k,i} CE(W h_{k,i} + b, e_k) + lambda_W/2 "
        "||W||_F^2 + lambda_H/2 ||H||_F^2 + lambda_b/2 ||b||^2, N = nK, d >= K - 1.",
        "At a global minimizer (Thm 3.1) the rows w_k form a simplex ETF with equal norms, "
        "h_{k,i} = sqrt(lambda_W/(n lambda_H)) w_k, and b = 0 when lambda_b > 0 (any constant "
        "vector when lambda_b = 0).",
        "On that geometry the objective is phi(w) = log(1 + (K-1) exp(-beta w)) + K lambda_W "
        "w in w = ||w_k||^2, beta = sqrt(lambda_W/(n lambda_H)) K/(K-1); phi is convex.",
        "||w_k||^2 = (K-1)/K sqrt(n lambda_H/lambda_W) log(1/sqrt(n lambda_W lambda_H) - K + 1) "
        "while K sqrt(n lambda_W lambda_H) < 1; W = H = 0 (||w_k||^2 = 0) otherwise.",
        "Optimal value: -log(1 - (K-1)r) + (K-1) r log(1/r - K + 1) with r = sqrt(n lambda_W "
        "lambda_H) when Kr < 1; log K otherwise.",
        "quantity: 'optimal_value'; 'weight_norm_squared' (the K values ||w_k||^2); "
        "'feature_scale' (alpha in h_{k,i} = alpha w_k, a least-squares fit); 'cosine' (the "
        "K x K cosine matrix of the rows of W).",
    ),
    simulation="theorylab.numerics.neural_collapse:ufm_ce_minimizer",
    systematic_error=OPTIMIZATION,
    constraints=(Constraint("d >= K - 1", lambda p: p["d"] >= p["K"] - 1, ("d", "K")),
                 *POSITIVE_DECAYS, GEOMETRY_DEFINED),
    sample=lambda: _ufm_points(tuple(CE_STATEMENTS), bias=False, low=0.2, high=0.75),
    uses=("neural_collapse.simplex_etf",),
    decoys=(
        Decoy("cosine_minus_one_over_K", "rows with cosine -1/K instead of -1/(K-1) (logit "
              "margin (K+1)/K), norm and value re-derived", substitute={
                  CE_STATEMENTS["optimal_value"]: ce_value_law.subs(COSINE_ONE_OVER_K_GEOMETRY),
                  ce_norm_statement: ce_norm_law.subs(COSINE_ONE_OVER_K_GEOMETRY),
                  simplex_statement: FRAME_WITH_COSINE_ONE_OVER_K[simplex_statement]}),
        Decoy("inverted_feature_scale", "h = sqrt(lambda_H/(n lambda_W)) w in place of "
              "sqrt(lambda_W/(n lambda_H)) w, norm and value re-derived", substitute={
                  CE_STATEMENTS["optimal_value"]: ce_value_law.subs(INVERTED_SCALE_GEOMETRY),
                  ce_norm_statement: ce_norm_law.subs(INVERTED_SCALE_GEOMETRY),
                  ZHU_GEOMETRY[alpha]: INVERTED_SCALE_GEOMETRY[alpha]}),
        Decoy("N_for_n", "N = nK examples in place of n per class in sqrt(n lambda_W lambda_H) "
              "and the feature scale", substitute={n: n * K}),
    ),
    ensemble=4,
    budget=14,
    resolution=1e-5,
)

# -- 3. MSE UFM (Zhou et al. 2022; Tirer & Bruna 2022) ------------------------------------

# c = (1 - K sqrt(n lambda_W lambda_H))_+, as cases (sympy prints Max only as plain text)
shrinkage = sympy.Piecewise((1 - K * scale, _nonzero), (0, True))
_with_bias = bias_indicator(sympy.Symbol("bias"))
_frame = I_K - _with_bias * J_K / K  # W Hbar / c: I bias-free, I - J/K with a free bias
MSE_STATEMENTS = {
    # (rank) x [(1 - c)^2/(2K) + sqrt(n lambda_W lambda_H) c]
    "optimal_value": (K - _with_bias) * ((1 - shrinkage) ** 2 / (2 * K) + scale * shrinkage),
    "weight_norm_squared": repeated(shrinkage * sympy.sqrt(n * lambda_H / lambda_W)
                                    * (1 - _with_bias / K), K),
    "logit_matrix": shrinkage * _frame,
    "feature_scale": ZHU_GEOMETRY[alpha],
    "cosine": _frame / (1 - _with_bias / K),
}

ufm_mse_minimizer = Claim(
    id="neural_collapse.ufm_mse_minimizer",
    title="Global minimizers of the MSE unconstrained feature model, bias-free and with bias",
    citation=ZHOU,
    parameters=(K_parameter, n_parameter, d_parameter, lambda_W_parameter, lambda_H_parameter,
                Parameter("bias", Choice(("none", "unregularized")),
                          "'none': bias-free W H; 'unregularized': W H + b 1^T, b free"),
                _quantity(*MSE_STATEMENTS)),
    quantity=sympy.Symbol("c"),
    statement=shrinkage,
    statements=MSE_STATEMENTS,
    conventions=(
        "Objective: 1/(2N) ||W H (+ b 1^T) - Y||_F^2 + lambda_W/2 ||W||_F^2 + lambda_H/2 "
        "||H||_F^2, N = nK; with bias='unregularized' the bias b is free (lambda_b = 0).",
        "c = (1 - K sqrt(n lambda_W lambda_H))_+: the label matrix's nonzero singular values "
        "(all 1) shrunk by K sqrt(n lambda_W lambda_H) (nuclear-norm prox of the balanced "
        "factorization lambda_W/2||W||^2 + n lambda_H/2||Hbar||^2 >= sqrt(n lambda_W lambda_H)"
        "||W Hbar||_*).",
        "Bias-free (needs d >= K): W Hbar = c I, rows of W orthogonal with ||w_k||^2 = c "
        "sqrt(n lambda_H/lambda_W), h_{k,i} = sqrt(lambda_W/(n lambda_H)) w_k; optimal value "
        "K[(1-c)^2/(2K) + sqrt(n lambda_W lambda_H) c].",
        "Unregularized bias (needs d >= K-1): W Hbar = c (I - J/K), b = 1/K, rows of W a "
        "simplex ETF with ||w_k||^2 = c sqrt(n lambda_H/lambda_W)(K-1)/K; optimal value "
        "(K-1)[(1-c)^2/(2K) + sqrt(n lambda_W lambda_H) c].",
        "quantity: 'optimal_value', 'weight_norm_squared' (K values), 'logit_matrix' (W Hbar, "
        "K x K, class means Hbar), 'feature_scale' (alpha in h = alpha w), 'cosine' (rows of W).",
        "In the statements 1_bias is 1 with bias='unregularized' and 0 with 'none' (rank K - "
        "1_bias, frame I_K - 1_bias J_K/K); repeat(a, K) is the K-vector of a.",
    ),
    simulation="theorylab.numerics.neural_collapse:ufm_mse_minimizer",
    systematic_error=OPTIMIZATION,
    constraints=(
        Constraint("d >= K (bias 'none') or d >= K - 1 (bias 'unregularized')",
                   lambda p: p["d"] >= p["K"] - (p["bias"] == "unregularized"), ("d", "K")),
        *POSITIVE_DECAYS, GEOMETRY_DEFINED,
    ),
    sample=lambda: _ufm_points(tuple(MSE_STATEMENTS), bias=True, low=0.1, high=0.8),
    uses=("neural_collapse.simplex_etf",),
    decoys=(
        Decoy("c_with_K_minus_1", "c = (1 - (K-1) sqrt(n lambda_W lambda_H))_+", substitute={
            shrinkage: sympy.Piecewise((1 - (K - 1) * scale, (K - 1) * scale < 1), (0, True))}),
        Decoy("inverted_feature_scale", "lambda_W and lambda_H swapped in the geometry: h = "
              "sqrt(lambda_H/(n lambda_W)) w and ||w||^2 = c sqrt(n lambda_W/lambda_H) (the "
              "logits stay c)", substitute={
                  ZHU_GEOMETRY[alpha]: INVERTED_SCALE_GEOMETRY[alpha],
                  sympy.sqrt(n * lambda_H / lambda_W): sympy.sqrt(n * lambda_W / lambda_H)}),
        Decoy("swapped_frame", "orthogonal frame with the bias and simplex ETF without it",
              substitute={_with_bias: 1 - _with_bias}),
        Decoy("N_for_n", "N = nK in place of n", substitute={n: n * K}),
    ),
    ensemble=4,
    budget=14,
    resolution=1e-5,
)


# -- 4. deep linear head, imbalanced classes (Dang et al. 2023) ---------------------------

ClassSizes = geometry.ClassSizes
sizes_parameter = Parameter("n", ClassSizes(), "examples per class n_k (JSON list)",
                            latex="n_k")
x_symbol = sympy.Symbol("x", positive=True)
b_symbol = sympy.Symbol("b", positive=True)
n_k = sympy.Symbol("n_k", positive=True)
N_symbol = sympy.Symbol("N", positive=True)
#: The first-order condition of the per-class problem, M x^(M-1)/(x^M + 1)^2 = b/n_k.
stationarity = sympy.Eq(M * x_symbol ** (M - 1) / (x_symbol**M + 1) ** 2, b_symbol / n_k)
s_k = sympy.Symbol("s_k", positive=True)
deep_statement = (N_symbol * lambda_H * x_symbol**M) ** (1 / (2 * M))
#: b = M N (N lambda_W^M lambda_H)^(1/M), the weight of x in g_k(x) = n_k/(x^M + 1) + b x.
b_value = M * N_symbol * (N_symbol * lambda_W**M * lambda_H) ** (1 / M)
#: Class k collapses (s_k = 0) iff n_k <= b t_M, t_M = min_x (x^M + 1)/x^(M-1) =
#: M (M-1)^(1/M-1) (t_1 = 1: n_k <= N^2 lambda_W lambda_H, Dang et al.); for M >= 2 above
#: b/max(phi), the size below which no stationary point exists (phi at x^M = (M-1)/(M+1)).
collapse_edge = M * (M - 1) ** (1 / M - 1)
stationary_edge = ((x_symbol**M + 1) ** 2 / (M * x_symbol ** (M - 1))).subs(
    x_symbol, ((M - 1) / (M + 1)) ** (1 / M))
#: Class size at or below which a class collapses: collapse_threshold(N, lambda_W, lambda_H, M).
collapse_threshold = sympy.lambdify((N_symbol, lambda_W, lambda_H, M), b_value * collapse_edge)
_edges = sympy.lambdify(M, (stationary_edge, collapse_edge))
_total = class_sum(n_k)
_b = b_value.subs(N_symbol, _total)
_x = reduced_minimizer(n_k, _b, M)
DEEP_STATEMENTS = {
    "layer_singular_value": (_total * lambda_H * _x**M) ** (1 / (2 * M)),
    "optimal_value": class_sum(n_k / (_x**M + 1) + _b * _x) / (2 * _total),
    "classifier_gram": diagonal_matrix(_total * lambda_H * _x**M),
    "class_mean_gram": diagonal_matrix(_x**M / (_total * lambda_H * (_x**M + 1) ** 2)),
}


@st.composite
def _deep_points(draw: st.DrawFn) -> dict[str, Any]:
    """Class sizes with a clear majority and minority, every class off the collapse edge.

    For M >= 2 the minority lies where a stationary point exists but s = 0 is the global
    minimum: where "the largest root" is not the minimizer.
    """
    depth = draw(st.integers(1, 3))
    minority = draw(st.integers(1, 2))
    majority = draw(st.integers(2 * minority + 1, 5))
    middle = draw(st.lists(st.integers(minority, majority), max_size=2))
    sizes = [majority, *sorted(middle, reverse=True), minority]
    existence, edge = (1.0, 1.0) if depth == 1 else _edges(depth)
    ratio = draw(st.floats(existence * 1.06, edge / 1.06) if depth >= 2 else st.floats(0.3, 3))
    b = minority / ratio
    for size in sizes:  # keep every class off the edge (slow, degenerate minima there)
        if abs(math.log(size / b / edge)) < 0.12:
            b *= 1.3 if size / b > edge else 1 / 1.3
    imbalance = math.exp(draw(st.floats(math.log(0.5), math.log(2.0))))
    # b = M N lambda_W (N lambda_H)^(1/M) with lambda_W = imbalance * lambda_H
    decay = (b / (depth * imbalance * sum(sizes) ** (1 + 1 / depth))) ** (depth / (depth + 1))
    return {"n": np.asarray(sizes, dtype=np.int64), "M": depth, "lambda_W": imbalance * decay,
            "lambda_H": decay, "quantity": draw(st.sampled_from(tuple(DEEP_STATEMENTS)))}


deep_linear_imbalanced = Claim(
    id="neural_collapse.deep_linear_imbalanced",
    title="Global minimizers of a bias-free deep linear MSE head on imbalanced classes",
    citation=DANG,
    parameters=(sizes_parameter, M_parameter, lambda_W_parameter, lambda_H_parameter,
                Parameter("quantity", Choice(tuple(DEEP_STATEMENTS)),
                          "which quantity of the minimizer to predict (default "
                          "'layer_singular_value')", default="layer_singular_value")),
    quantity=s_k,
    statement=DEEP_STATEMENTS["layer_singular_value"],
    statements=DEEP_STATEMENTS,
    conventions=(
        "Objective: 1/(2N) ||W_M ... W_1 H - Y||_F^2 + lambda_W/2 sum_j ||W_j||_F^2 + "
        "lambda_H/2 ||H||_F^2, class k with n_k >= 1 examples, N = sum n_k, no bias; feature "
        "dimension and hidden widths d >= K (the simulation uses d = K).",
        "At a global minimizer: NC1 (h_{k,i} = hbar_k), the class means and the classifier "
        "rows are orthogonal; every layer has singular values s_k (one per class), "
        "s_k^(2M) = N lambda_H x_k^M, the end-to-end classifier row w_k has ||w_k|| = s_k^M "
        "and ||hbar_k|| = s_k^M/(s_k^(2M) + N lambda_H).",
        "x_k minimizes g_k(x) = n_k/(x^M + 1) + b x over x >= 0, b = M N (N lambda_W^M "
        "lambda_H)^(1/M); its interior stationary points solve M x^(M-1)/(x^M+1)^2 = b/n_k "
        "(Dang et al.). Optimal value sum_k g_k(x_k)/(2N).",
        "Correction to 'x_k is the largest positive root': x_k is that root only when "
        "g_k(root) < g_k(0) = n_k; otherwise x_k = 0 (the class collapses). For M = 1 this is "
        "n_k > N^2 lambda_W lambda_H, as in the paper. For M >= 2 the collapse edge is "
        "n_k = b M (M-1)^(1/M-1), above the size b/max(phi) where the root first appears: in "
        "between the largest root is only a local minimum (see collapse_threshold).",
        "In the statements N = Σ_k n_k and x*(n_k, b, M) is the vector of the minimizers x_k "
        "(collapse rule included); diag(v) is the diagonal matrix of v.",
        "quantity: 'layer_singular_value' (s_k, class order), 'optimal_value', "
        "'classifier_gram' (W W^T = diag(s_k^(2M)), W = W_M...W_1), 'class_mean_gram' "
        "(Hbar^T Hbar = diag(||hbar_k||^2)).",
    ),
    simulation="theorylab.numerics.neural_collapse:deep_linear_imbalanced",
    systematic_error=OPTIMIZATION,
    constraints=POSITIVE_DECAYS,
    sample=_deep_points,
    uses=("neural_collapse.ufm_mse_minimizer",),
    decoys=(
        Decoy("largest_root_always", "x_k = the largest positive root whenever one exists "
              "(the paper's statement read literally, no comparison with s = 0)",
              substitute={_x: largest_stationary_point(n_k, _b, M)}),
        Decoy("threshold_without_N", "b = M (lambda_W^M lambda_H)^(1/M): for M = 1 the "
              "collapse threshold n_k <= lambda_W lambda_H without its N^2",
              substitute={_b: M * (lambda_W**M * lambda_H) ** (1 / M)}),
        Decoy("missing_depth_factor", "b = N (N lambda_W^M lambda_H)^(1/M), without the "
              "factor M", substitute={_b: _b / M}),
    ),
    ensemble=4,
    budget=10,
    resolution=1e-5,
)
