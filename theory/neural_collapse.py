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
per-class minimizer of the deep head is ``x*`` (bound to :func:`class_minimizers`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy
from hypothesis import strategies as st

from theorylab.claim import Citation, Claim, Constraint, Decoy, Parameter, SystematicError
from theorylab.domains import Choice, Domain, Integer, Real
from theorylab.errors import ParameterError
from theorylab.functions import named_function

__all__ = [
    "ClassSizes",
    "simplex_etf",
    "ufm_ce_minimizer",
    "ufm_mse_minimizer",
    "deep_linear_imbalanced",
    "collapse_threshold",
    "largest_root",
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


def _numbers(values: list) -> np.ndarray:
    """float64, or an object array of mpmath numbers (statements evaluated with precision)."""
    exact = any(isinstance(value, mpmath.mpf) for value in values)
    return np.array(values, dtype=object if exact else np.float64)


def _subscripted(function: type[sympy.Function], letter: str) -> type[sympy.Function]:
    """Print ``function(K)`` as ``letter_K`` in LaTeX (the paper's I_K, J_K)."""

    def latex(self: sympy.Function, printer: Any, exp: Any = None) -> str:
        text = rf"{letter}_{{{printer._print(self.args[0])}}}"
        return text if exp is None else rf"{text}^{{{exp}}}"

    function._latex = latex
    return function


#: The K x K identity and all-ones matrix ``J_K = 1 1^T``. In the derivations they are
#: commuting elements of the algebra they span: ``I^2 = I``, ``I J = J``, ``J^2 = K J``.
identity_matrix = _subscripted(named_function(
    "identity_matrix", lambda size: np.eye(int(size)), pretty="I"), "I")
ones_matrix = _subscripted(named_function(
    "ones_matrix", lambda size: np.ones((int(size), int(size))), pretty="J"), "J")
#: ``repeat(a, m, b, m', ...)``: the vector of ``a`` m times, then ``b`` m' times, ...
repeated = named_function(
    "repeated", lambda *pairs: _numbers([value for value, count in zip(pairs[::2], pairs[1::2],
                                                                        strict=True)
                                         for _ in range(int(count))]),
    latex=r"\operatorname{repeat}", pretty="repeat")
#: The diagonal matrix of a vector (one entry per class).
diagonal_matrix = named_function(
    "diagonal_matrix", lambda vector: np.diag(np.asarray(vector)),
    latex=r"\operatorname{diag}", pretty="diag")
#: The sum over classes of a per-class vector (``N = sum_k n_k``).
class_sum = named_function(
    "class_sum", lambda vector: np.sum(np.asarray(vector)), latex=r"\sum_k", pretty="Σₖ")
#: 1 with an unregularized bias (``bias='unregularized'``), 0 bias-free.
bias_indicator = named_function(
    "bias_indicator", lambda bias: 1.0 if bias == "unregularized" else 0.0,
    latex=r"\mathbb{1}_{\mathrm{bias}}", pretty="1_bias")

I_K = identity_matrix(K)
J_K = ones_matrix(K)


def _quantity(*options: str, default: str | None = None) -> Parameter:
    text = "which quantity of the minimizer to predict"
    if default is None:
        return Parameter("quantity", Choice(options), text)
    return Parameter("quantity", Choice(options), f"{text} (default '{default}')",
                     default=default)


def _positive_decay(name: str) -> Constraint:
    return Constraint(f"{name} > 0", lambda p: p[name] > 0, (name,))


def _feature_dimension(minimum: Callable[[dict], int], text: str) -> Constraint:
    return Constraint(text, lambda p: p["d"] >= minimum(p), ("d", "K"))


def _working(precision: int | None) -> int:
    return (precision or 20) + 10


def _out(values: Any, precision: int | None) -> Any:
    """Mpmath values -> float / numpy array (float64) or nested lists of mpf (precision)."""
    if precision:
        if isinstance(values, list):
            return [_out(v, precision) if isinstance(v, list) else +v for v in values]
        return +values
    return np.asarray(values, dtype=np.float64) if isinstance(values, list) else float(values)


# -- 1. simplex ETF -----------------------------------------------------------------------

simplex_statement = K / (K - 1) * (I_K - J_K / K)
SIMPLEX_STATEMENTS = {
    "gram": simplex_statement,
    "cosine": -1 / (K - 1),
    "gram_eigenvalues": repeated(0, 1, K / (K - 1), K - 1),  # ascending
}


def _etf(variant: str) -> Callable[[dict, int | None], Any]:
    """Gram matrix, largest pairwise cosine and Gram spectrum of K unit vectors."""

    def evaluate(params: dict, precision: int | None) -> Any:
        classes, quantity = params["K"], params["quantity"]
        with mpmath.workdps(_working(precision)):
            k = mpmath.mpf(classes)
            if variant == "true":
                diagonal, off = mpmath.mpf(1), -1 / (k - 1)
            elif variant == "cosine_minus_one_over_K":
                diagonal, off = mpmath.mpf(1), -1 / k
            elif variant == "orthogonal":
                diagonal, off = mpmath.mpf(1), mpmath.mpf(0)
            else:  # unnormalized: U (I - J/K) without sqrt(K/(K-1)); cosine read off as -1/K
                diagonal, off = (k - 1) / k, -1 / k
            if quantity == "cosine":
                return _out(off, precision)
            if quantity == "gram":
                return _out([[diagonal if i == j else off for j in range(classes)]
                             for i in range(classes)], precision)
            # a I + b J has eigenvalue a + K b once (on 1) and a (K - 1 times)
            spectrum = sorted([diagonal - off + k * off] + [diagonal - off] * (classes - 1))
            return _out(spectrum, precision)

    return evaluate


@st.composite
def _etf_points(draw: st.DrawFn) -> dict[str, Any]:
    classes = draw(st.integers(2, 6))
    return {"K": classes, "d": draw(st.integers(classes - 1, classes + 1)),
            "quantity": draw(st.sampled_from(("cosine", "gram", "gram_eigenvalues")))}


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
    constraints=(_feature_dimension(lambda p: p["K"] - 1, "d >= K - 1"),),
    evaluate=_etf("true"),
    sample=_etf_points,
    decoys=(
        Decoy("cosine_minus_one_over_K", "pairwise cosine -1/K instead of -1/(K-1)",
              evaluate=_etf("cosine_minus_one_over_K")),
        Decoy("orthogonal_frame", "orthonormal vectors (Gram I): the bias-free MSE geometry",
              evaluate=_etf("orthogonal")),
        Decoy("unnormalized", "U(I - J/K) without the factor sqrt(K/(K-1)), cosine read off "
              "the unnormalized Gram as -1/K", evaluate=_etf("unnormalized")),
    ),
    ensemble=4,
    budget=12,
    resolution=1e-6,
)

# -- 2. cross-entropy UFM (Zhu et al. 2021) -----------------------------------------------

scale = sympy.sqrt(n * lambda_W * lambda_H)
#: ||w_k||^2 at the nonzero minimizer (K sqrt(n lambda_W lambda_H) < 1).
ce_norm_interior = ((K - 1) / K * sympy.sqrt(n * lambda_H / lambda_W)
                    * sympy.log(1 / scale - (K - 1)))
_nonzero = K * scale < 1
ce_norm_statement = sympy.Piecewise((ce_norm_interior, _nonzero), (0, True))
CE_STATEMENTS = {
    "optimal_value": sympy.Piecewise(
        (-sympy.log(1 - (K - 1) * scale) + (K - 1) * scale * sympy.log(1 / scale - K + 1),
         _nonzero), (sympy.log(K), True)),
    "weight_norm_squared": repeated(ce_norm_statement, K),
    "feature_scale": sympy.sqrt(lambda_W / (n * lambda_H)),
    "cosine": simplex_statement,
}


def _ce(variant: str) -> Callable[[dict, int | None], Any]:
    """The CE UFM minimum on the ETF ansatz: phi(w) = log(1 + (K-1) e^{-beta w}) + gamma w."""

    def evaluate(params: dict, precision: int | None) -> Any:
        classes, quantity = params["K"], params["quantity"]
        with mpmath.workdps(_working(precision)):
            k = mpmath.mpf(classes)
            per_class = mpmath.mpf(params["n"]) * (k if variant == "N_for_n" else 1)
            decay_w, decay_h = mpmath.mpf(params["lambda_W"]), mpmath.mpf(params["lambda_H"])
            if variant == "inverted_feature_scale":
                alpha = mpmath.sqrt(decay_h / (per_class * decay_w))
            else:
                alpha = mpmath.sqrt(decay_w / (per_class * decay_h))
            cosine = -1 / k if variant == "cosine_minus_one_over_K" else -1 / (k - 1)
            margin = 1 - cosine  # logit gap (w_k - w_j)^T h_k / (alpha ||w||^2)
            beta = alpha * margin
            gamma = k * (decay_w + per_class * decay_h * alpha**2) / 2
            ratio = gamma / beta  # first-order condition: x/(1+x) = gamma/beta, x=(K-1)e^{-beta w}
            if ratio >= (k - 1) / k:  # phi'(0) >= 0 and phi convex: W = H = 0
                norm, value = mpmath.mpf(0), mpmath.log(k)
            else:
                x = ratio / (1 - ratio)
                norm = mpmath.log((k - 1) / x) / beta
                value = mpmath.log(1 + x) + gamma * norm
            if quantity == "optimal_value":
                return _out(value, precision)
            if quantity == "weight_norm_squared":
                return _out([norm] * classes, precision)
            if quantity == "feature_scale":
                return _out(alpha, precision)
            return _out([[mpmath.mpf(1) if i == j else cosine for j in range(classes)]
                         for i in range(classes)], precision)

    return evaluate


def _geometry_defined(threshold: Callable[[dict], float]) -> Constraint:
    return Constraint(
        "the minimizer is nonzero (K sqrt(n lambda_W lambda_H) < 1) when the quantity is "
        "'cosine' or 'feature_scale' (undefined at W = H = 0)",
        lambda p: p["quantity"] not in ("cosine", "feature_scale") or threshold(p) < 1,
        ("quantity", "K", "n", "lambda_W", "lambda_H"))


def _ufm_threshold(p: dict) -> float:
    return p["K"] * math.sqrt(p["n"] * p["lambda_W"] * p["lambda_H"])


def _ufm_decays(draw: st.DrawFn, classes: int, per_class: int, collapsed: bool,
                low: float, high: float) -> tuple[float, float]:
    """lambda_W, lambda_H with K sqrt(n lambda_W lambda_H) drawn in [low, high] or collapsed."""
    ratio = draw(st.floats(1.3, 2.5)) if collapsed else draw(st.floats(low, high))
    imbalance = math.exp(draw(st.floats(math.log(1 / 3), math.log(3))))
    product = ratio / classes  # sqrt(n lambda_W lambda_H)
    return (product * math.sqrt(imbalance / per_class),
            product / math.sqrt(imbalance * per_class))


CE_QUANTITIES = ("optimal_value", "weight_norm_squared", "feature_scale", "cosine")


@st.composite
def _ce_points(draw: st.DrawFn) -> dict[str, Any]:
    classes = draw(st.integers(2, 4))
    per_class = draw(st.integers(1, 3))
    quantity = draw(st.sampled_from(CE_QUANTITIES))
    collapsed = quantity in CE_QUANTITIES[:2] and draw(st.integers(0, 3)) == 0
    decay_w, decay_h = _ufm_decays(draw, classes, per_class, collapsed, 0.2, 0.75)
    bias_decay = draw(st.sampled_from((0.0, 1e-3, 1e-2)))
    return {"K": classes, "n": per_class, "d": draw(st.integers(classes - 1, classes + 1)),
            "lambda_W": decay_w, "lambda_H": decay_h, "lambda_b": bias_decay,
            "quantity": quantity}


ufm_ce_minimizer = Claim(
    id="neural_collapse.ufm_ce_minimizer",
    title="Global minimizers of the cross-entropy unconstrained feature model",
    citation=ZHU,
    parameters=(K_parameter, n_parameter, d_parameter, lambda_W_parameter, lambda_H_parameter,
                lambda_b_parameter, _quantity(*CE_QUANTITIES)),
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
    constraints=(
        _feature_dimension(lambda p: p["K"] - 1, "d >= K - 1"),
        _positive_decay("lambda_W"), _positive_decay("lambda_H"),
        _geometry_defined(_ufm_threshold),
    ),
    evaluate=_ce("true"),
    sample=_ce_points,
    uses=("neural_collapse.simplex_etf",),
    decoys=(
        Decoy("cosine_minus_one_over_K", "rows with cosine -1/K instead of -1/(K-1) (logit "
              "margin (K+1)/K), norm and value re-derived",
              evaluate=_ce("cosine_minus_one_over_K")),
        Decoy("inverted_feature_scale", "h = sqrt(lambda_H/(n lambda_W)) w in place of "
              "sqrt(lambda_W/(n lambda_H)) w, norm and value re-derived",
              evaluate=_ce("inverted_feature_scale")),
        Decoy("N_for_n", "N = nK examples in place of n per class in sqrt(n lambda_W lambda_H) "
              "and the feature scale", evaluate=_ce("N_for_n")),
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
    # (rank) x [(1 - c)^2/(2K) + sqrt(n lambda_W lambda_H) c], c written out
    "optimal_value": (K - _with_bias) * sympy.Piecewise((scale - K * scale**2 / 2, _nonzero),
                                                        (1 / (2 * K), True)),
    "weight_norm_squared": repeated(shrinkage * sympy.sqrt(n * lambda_H / lambda_W)
                                    * (1 - _with_bias / K), K),
    "logit_matrix": shrinkage * _frame,
    "feature_scale": sympy.sqrt(lambda_W / (n * lambda_H)),
    "cosine": _frame / (1 - _with_bias / K),
}


def _mse(variant: str) -> Callable[[dict, int | None], Any]:
    """MSE UFM minimum: the class-mean logits W Hbar = c P with P = I or I - J/K."""

    def evaluate(params: dict, precision: int | None) -> Any:
        classes, quantity = params["K"], params["quantity"]
        with_bias = params["bias"] == "unregularized"
        if variant == "swapped_frame":
            with_bias = not with_bias
        with mpmath.workdps(_working(precision)):
            k = mpmath.mpf(classes)
            per_class = mpmath.mpf(params["n"]) * (k if variant == "N_for_n" else 1)
            decay_w, decay_h = mpmath.mpf(params["lambda_W"]), mpmath.mpf(params["lambda_H"])
            root = mpmath.sqrt(per_class * decay_w * decay_h)
            factor = k - 1 if variant == "c_with_K_minus_1" else k
            c = max(mpmath.mpf(0), 1 - factor * root)
            alpha = mpmath.sqrt(decay_w / (per_class * decay_h))
            norms = mpmath.sqrt(per_class * decay_h / decay_w)
            if variant == "inverted_feature_scale":
                alpha, norms = 1 / (per_class * alpha), 1 / norms
            rank = k - 1 if with_bias else k  # nonzero singular values (all 1) of the target

            def frame(i: int, j: int) -> Any:
                return (1 if i == j else 0) - (1 / k if with_bias else 0)

            if quantity == "optimal_value":
                return _out(rank * ((1 - c) ** 2 / (2 * k) + root * c), precision)
            if quantity == "weight_norm_squared":
                return _out([norms * c * frame(0, 0)] * classes, precision)
            if quantity == "logit_matrix":
                return _out([[c * frame(i, j) for j in range(classes)] for i in range(classes)],
                            precision)
            if quantity == "feature_scale":
                return _out(alpha, precision)
            return _out([[frame(i, j) / frame(0, 0) for j in range(classes)]
                         for i in range(classes)], precision)

    return evaluate


MSE_QUANTITIES = ("optimal_value", "weight_norm_squared", "logit_matrix", "feature_scale",
                  "cosine")


@st.composite
def _mse_points(draw: st.DrawFn) -> dict[str, Any]:
    classes = draw(st.integers(2, 4))
    per_class = draw(st.integers(1, 3))
    bias = draw(st.sampled_from(("none", "unregularized")))
    quantity = draw(st.sampled_from(MSE_QUANTITIES))
    collapsed = quantity in MSE_QUANTITIES[:3] and draw(st.integers(0, 3)) == 0
    decay_w, decay_h = _ufm_decays(draw, classes, per_class, collapsed, 0.1, 0.8)
    smallest = classes if bias == "none" else classes - 1
    return {"K": classes, "n": per_class, "d": draw(st.integers(smallest, classes + 1)),
            "lambda_W": decay_w, "lambda_H": decay_h, "bias": bias, "quantity": quantity}


ufm_mse_minimizer = Claim(
    id="neural_collapse.ufm_mse_minimizer",
    title="Global minimizers of the MSE unconstrained feature model, bias-free and with bias",
    citation=ZHOU,
    parameters=(K_parameter, n_parameter, d_parameter, lambda_W_parameter, lambda_H_parameter,
                Parameter("bias", Choice(("none", "unregularized")),
                          "'none': bias-free W H; 'unregularized': W H + b 1^T, b free"),
                _quantity(*MSE_QUANTITIES)),
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
        _positive_decay("lambda_W"), _positive_decay("lambda_H"),
        _geometry_defined(_ufm_threshold),
    ),
    evaluate=_mse("true"),
    sample=_mse_points,
    uses=("neural_collapse.simplex_etf",),
    decoys=(
        Decoy("c_with_K_minus_1", "c = (1 - (K-1) sqrt(n lambda_W lambda_H))_+",
              evaluate=_mse("c_with_K_minus_1")),
        Decoy("inverted_feature_scale", "h = sqrt(lambda_H/(n lambda_W)) w and ||w||^2 = c "
              "sqrt(lambda_W/(n lambda_H))", evaluate=_mse("inverted_feature_scale")),
        Decoy("swapped_frame", "orthogonal frame with the bias and simplex ETF without it",
              evaluate=_mse("swapped_frame")),
        Decoy("N_for_n", "N = nK in place of n", evaluate=_mse("N_for_n")),
    ),
    ensemble=4,
    budget=14,
    resolution=1e-5,
)

# -- 4. deep linear head, imbalanced classes (Dang et al. 2023) ---------------------------


@dataclass(frozen=True)
class ClassSizes(Domain):
    """Examples per class: a JSON list of 2 to 1000 positive integers, each at most 10000.

    The bounds keep a prediction (K x K Gram matrices) and a simulation (all N feature
    vectors) within memory; the checks draw far smaller lists.
    """

    min_classes: int = 2
    max_classes: int = 1000
    max_size: int = 10000
    max_sample_classes: int = 4
    max_sample_size: int = 6

    def describe(self) -> str:
        """Describe the list."""
        return (f"a list of {self.min_classes} to {self.max_classes} positive integers, each at "
                f"most {self.max_size} (examples per class, JSON such as [20,10,5,2])")

    def validate(self, name: str, value: Any) -> np.ndarray:
        """Coerce to an int64 vector; reject empty classes, fractions and short lists."""
        shown = value.tolist() if isinstance(value, np.ndarray) else value
        if isinstance(value, (str, bytes)) or np.ndim(value) != 1:
            raise ParameterError(name, self.describe(), shown)
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ParameterError(name, self.describe(), shown) from None
        if any(isinstance(entry, (bool, np.bool_)) for entry in value):
            raise ParameterError(name, self.describe(), shown)
        if array.size < self.min_classes:
            raise ParameterError(name, self.describe(), shown,
                                 f"{array.size} class(es); K >= {self.min_classes}")
        if array.size > self.max_classes:
            raise ParameterError(name, self.describe(), None,
                                 f"{array.size} classes; K <= {self.max_classes}")
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise ParameterError(name, self.describe(), shown, "class sizes are integers")
        if np.any(array < 1):
            empty = int(np.argmin(array))
            raise ParameterError(name, self.describe(), shown,
                                 f"class {empty} is empty (n_k = {int(array[empty])})")
        if np.any(array > self.max_size):
            large = int(np.argmax(array))
            raise ParameterError(name, self.describe(), None,
                                 f"class {large} has {int(array[large])} examples; n_k <= "
                                 f"{self.max_size}")
        return array.astype(np.int64)

    def strategy(self) -> st.SearchStrategy[np.ndarray]:
        """Lists of 2..4 class sizes in 1..6."""
        return st.lists(st.integers(1, self.max_sample_size), min_size=self.min_classes,
                        max_size=self.max_sample_classes).map(lambda v: np.asarray(v, np.int64))


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


def largest_root(ratio: Any, depth: int, *, precision: int | None = None) -> Any:
    """Largest positive root of ``M x^(M-1)/(x^M + 1)^2 = ratio`` (``ratio = b/n_k``), or None.

    ``phi(x) = M x^(M-1)/(x^M+1)^2`` rises from ``phi(0)`` to its peak at
    ``x^M = (M-1)/(M+1)`` and then decreases, so the largest root lies on the
    decreasing branch, below ``(M/ratio)^(1/(M+1))``; bisection finds it.
    """
    with mpmath.workdps(_working(precision)):
        r = mpmath.mpf(ratio)
        m = mpmath.mpf(depth)

        def phi(x: Any) -> Any:
            return m * x ** (m - 1) / (x**m + 1) ** 2

        peak = ((m - 1) / (m + 1)) ** (1 / m)
        if phi(peak) <= r:
            return None
        low, high = peak, (m / r) ** (1 / (m + 1))
        for _ in range(int(3.4 * mpmath.mp.dps) + 20):
            middle = (low + high) / 2
            if phi(middle) > r:
                low = middle
            else:
                high = middle
        return (low + high) / 2


def collapse_threshold(N: int, lambda_W: float, lambda_H: float, M: int) -> float:  # noqa: N803
    """Class size at or below which a class collapses (s_k = 0) at the global minimum.

    With ``b = M N (N lambda_W^M lambda_H)^(1/M)``, class ``k`` collapses iff
    ``n_k <= b t_M`` with ``t_M = min_x (x^M + 1)/x^(M-1)``: ``t_1 = 1``
    (``n_k <= N^2 lambda_W lambda_H``, Dang et al.) and
    ``t_M = M (M-1)^(1/M - 1)`` for ``M >= 2``. For ``M >= 2`` this is larger
    than the size ``b / max phi`` below which no stationary point exists: in
    between, the largest root is a local minimum only.
    """
    b = M * N * (N * lambda_W**M * lambda_H) ** (1 / M)
    factor = 1.0 if M == 1 else M * (M - 1) ** (1 / M - 1)
    return b * factor


def class_minimizers(sizes: Any, b: Any, depth: int, *, precision: int | None = None,
                     always_root: bool = False) -> list:
    """x_k minimizing g_k(x) = n_k/(x^M + 1) + b x over x >= 0, one per class (mpmath).

    ``x_k`` is the largest stationary point (:func:`largest_root`) when ``g_k`` there is
    below ``g_k(0) = n_k``, else 0 (the class collapses); ``always_root`` takes the root
    whenever one exists (the paper read literally, a decoy).
    """
    roots = []
    with mpmath.workdps(_working(precision)):
        b, m = mpmath.mpf(b), mpmath.mpf(int(depth))
        for size in sizes:
            count = mpmath.mpf(int(size))
            x = largest_root(b / count, int(depth), precision=precision)
            if x is not None and not always_root and count / (x**m + 1) + b * x >= count:
                x = None  # the stationary point is not below g(0) = n_k: collapse
            roots.append(mpmath.mpf(0) if x is None else x)
    return roots


def _class_minimizers(sizes: Any, b: Any, depth: Any) -> np.ndarray:
    """:func:`class_minimizers` at float64 (or, for mpmath ``b``, at the working precision)."""
    if isinstance(b, (float, np.floating, int, np.integer)):
        return np.array([float(x) for x in class_minimizers(sizes, float(b), int(depth))])
    return np.array([+x for x in class_minimizers(sizes, b, int(depth),
                                                  precision=mpmath.mp.dps)], dtype=object)


#: x_k = argmin_{x >= 0} n_k/(x^M + 1) + b x, per class (the collapse rule included).
reduced_minimizer = named_function("reduced_minimizer", _class_minimizers,
                                   latex=r"x^{\star}", pretty="x*")
_total = class_sum(n_k)
_b = M * _total * (_total * lambda_W**M * lambda_H) ** (1 / M)
_x = reduced_minimizer(n_k, _b, M)
DEEP_STATEMENTS = {
    "layer_singular_value": (_total * lambda_H * _x**M) ** (1 / (2 * M)),
    "optimal_value": class_sum(n_k / (_x**M + 1) + _b * _x) / (2 * _total),
    "classifier_gram": diagonal_matrix(_total * lambda_H * _x**M),
    "class_mean_gram": diagonal_matrix(_x**M / (_total * lambda_H * (_x**M + 1) ** 2)),
}


def _deep(variant: str) -> Callable[[dict, int | None], Any]:
    """Per-class reduced problem g_k(x) = n_k/(x^M + 1) + b x, minimized over x >= 0."""

    def evaluate(params: dict, precision: int | None) -> Any:
        sizes = [int(v) for v in params["n"]]
        depth, quantity = int(params["M"]), params["quantity"]
        with mpmath.workdps(_working(precision)):
            total = mpmath.mpf(sum(sizes))
            m = mpmath.mpf(depth)
            decay_w, decay_h = mpmath.mpf(params["lambda_W"]), mpmath.mpf(params["lambda_H"])
            if variant == "threshold_without_N":
                b = m * (decay_w**m * decay_h) ** (1 / m)
            elif variant == "missing_depth_factor":
                b = total * (total * decay_w**m * decay_h) ** (1 / m)
            else:
                b = m * total * (total * decay_w**m * decay_h) ** (1 / m)
            roots = class_minimizers(sizes, b, depth, precision=precision,
                                     always_root=variant == "largest_root_always")
            value = mpmath.fsum((size / (x**m + 1) + b * x) / (2 * total)
                                for size, x in zip(sizes, roots, strict=True))
            if quantity == "optimal_value":
                return _out(value, precision)
            layer = [(total * decay_h * x**m) ** (1 / (2 * m)) for x in roots]
            if quantity == "layer_singular_value":
                return _out(layer, precision)
            if quantity == "classifier_gram":
                diagonal = [total * decay_h * x**m for x in roots]
            else:  # class_mean_gram
                diagonal = [x**m / (total * decay_h * (x**m + 1) ** 2) for x in roots]
            classes = len(sizes)
            return _out([[diagonal[i] if i == j else mpmath.mpf(0) for j in range(classes)]
                         for i in range(classes)], precision)

    return evaluate


DEEP_QUANTITIES = ("layer_singular_value", "optimal_value", "classifier_gram",
                   "class_mean_gram")


def _ratio_limits(depth: int) -> tuple[float, float]:
    """(t_e, t_c): n_k/b below which no stationary point exists, and the collapse edge."""
    if depth == 1:
        return 1.0, 1.0
    peak = (depth - 1) / (depth + 1)
    phi_max = depth * peak ** ((depth - 1) / depth) / (peak + 1) ** 2
    return 1 / phi_max, depth * (depth - 1) ** (1 / depth - 1)


@st.composite
def _deep_points(draw: st.DrawFn) -> dict[str, Any]:
    classes = draw(st.integers(2, 4))
    depth = draw(st.integers(1, 3))
    minority = draw(st.integers(1, 2))
    majority = draw(st.integers(2 * minority + 1, 5))  # a clear majority and minority
    middle = draw(st.lists(st.integers(minority, majority), min_size=classes - 2,
                           max_size=classes - 2))
    sizes = [majority] + sorted(middle, reverse=True) + [minority]
    existence, edge = _ratio_limits(depth)
    total = sum(sizes)
    if depth >= 2:
        # The minority in the window (t_e, t_c): a local-minimum root exists, but the global
        # minimum is s = 0. This is where "the largest root" is not the minimizer.
        ratio = draw(st.floats(existence * 1.06, edge / 1.06))
    else:
        ratio = draw(st.floats(0.3, 3.0))
    b = sizes[-1] / ratio
    if abs(math.log(sizes[-1] / b / edge)) < 0.12:  # M = 1: stay off the collapse edge
        b = sizes[-1] / (edge * 1.3)
    for size in sizes:  # keep every class off the edge (slow, degenerate minima there)
        if abs(math.log(size / b / edge)) < 0.12:
            b *= 1.3 if size / b > edge else 1 / 1.3
    imbalance = math.exp(draw(st.floats(math.log(0.5), math.log(2.0))))
    # b = M N lambda_W (N lambda_H)^(1/M) with lambda_W = imbalance * lambda_H
    decay_h = (b / (depth * imbalance * total ** (1 + 1 / depth))) ** (depth / (depth + 1))
    return {"n": np.asarray(sizes, dtype=np.int64), "M": depth, "lambda_W": imbalance * decay_h,
            "lambda_H": decay_h, "quantity": draw(st.sampled_from(DEEP_QUANTITIES))}


deep_linear_imbalanced = Claim(
    id="neural_collapse.deep_linear_imbalanced",
    title="Global minimizers of a bias-free deep linear MSE head on imbalanced classes",
    citation=DANG,
    parameters=(sizes_parameter, M_parameter, lambda_W_parameter, lambda_H_parameter,
                _quantity(*DEEP_QUANTITIES, default="layer_singular_value")),
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
    constraints=(_positive_decay("lambda_W"), _positive_decay("lambda_H")),
    evaluate=_deep("true"),
    sample=_deep_points,
    uses=("neural_collapse.ufm_mse_minimizer",),
    components=(),
    decoys=(
        Decoy("largest_root_always", "x_k = the largest positive root whenever one exists "
              "(the paper's statement read literally, no comparison with s = 0)",
              evaluate=_deep("largest_root_always")),
        Decoy("threshold_without_N", "b = M (lambda_W^M lambda_H)^(1/M): for M = 1 the "
              "collapse threshold n_k <= lambda_W lambda_H without its N^2",
              evaluate=_deep("threshold_without_N")),
        Decoy("missing_depth_factor", "b = N (N lambda_W^M lambda_H)^(1/M), without the "
              "factor M", evaluate=_deep("missing_depth_factor")),
    ),
    ensemble=4,
    budget=10,
    resolution=1e-5,
)
