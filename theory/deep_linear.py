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
from typing import Any

import mpmath
import numpy as np
import sympy
from hypothesis import strategies as st

from theorylab.claim import Citation, Claim, Constraint, Decoy, Parameter, SystematicError
from theorylab.domains import Integer, Matrix, Real
from theorylab.functions import named_function

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
    "extrapolates over lambda, lambda/2, lambda/4, lambda/8 (Richardson) and bounds the rest "
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
u0_parameter = Parameter("u0", Real(0, math.inf), "initial mode strength u(0)", latex="u_0")
uf_parameter = Parameter("uf", Real(0, math.inf), "final mode strength", latex="u_f")
tau_parameter = Parameter("tau", Real(0, math.inf, sample_lower=0.5, sample_upper=4.0),
                          "time constant 1/lambda", latex="tau")
t_parameter = Parameter("t", Real(0, math.inf, lower_open=False), "time (full-batch steps)")

s, u0, uf, tau, t = (p.symbol for p in (s_parameter, u0_parameter, uf_parameter,
                                        tau_parameter, t_parameter))
u = sympy.Symbol("u", positive=True)


def _below_s(name: str) -> Constraint:
    return Constraint(f"0 < {name} < s", lambda p: p[name] < p["s"], (name, "s"))


U0_BELOW_S = _below_s("u0")
UF_BETWEEN = Constraint("u0 < uf < s", lambda p: p["u0"] < p["uf"] < p["s"], ("uf", "u0", "s"))


@st.composite
def _mode_points(draw: st.DrawFn, *, final: bool = False,
                 smallest_start: float = 1e-3) -> dict[str, float]:
    strength = draw(st.floats(0.5, 3.0))
    time_constant = draw(st.floats(0.5, 4.0))
    start_fraction = math.exp(draw(st.floats(math.log(smallest_start), math.log(0.6))))
    point = {"s": strength, "u0": start_fraction * strength, "tau": time_constant}
    if final:
        end_fraction = draw(st.floats(start_fraction + 0.05 * (1 - start_fraction), 0.97))
        point["uf"] = end_fraction * strength
    else:
        # Up to 6 e-folds of 2st/tau: the whole sigmoid, from plateau to saturation.
        point["t"] = draw(st.floats(0.0, 3.0)) * time_constant / strength
    return point


# -- 1. two-layer mode strength (eq. 12) -----------------------------------------

growth = sympy.exp(2 * s * t / tau)
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
    sample=_mode_points,
    decoys=(
        Decoy("missing_factor_2", "rate st/tau instead of 2st/tau",
              s * sympy.exp(s * t / tau) / (sympy.exp(s * t / tau) - 1 + s / u0)),
        Decoy("inverted_ratio", "u0/s in place of s/u0",
              s * growth / (growth - 1 + u0 / s)),
        Decoy("linear_growth_rate", "rate 2st/tau replaced by 2t/tau (no s in the exponent)",
              s * sympy.exp(2 * t / tau) / (sympy.exp(2 * t / tau) - 1 + s / u0)),
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
        "Two-layer network, decoupled balanced initialisation a = b.",
        "Eq. 11, tau/(2s) ln(uf(s - u0)/(u0(s - uf))), is written as a difference of two "
        "logs, which no in-domain u0, uf overflows.",
    ),
    simulation="theorylab.numerics.deep_linear:saxe_learning_time",
    systematic_error=TIME_STEP_SIZE,
    constraints=(U0_BELOW_S, UF_BETWEEN),
    sample=lambda: _mode_points(final=True),
    uses=("deep_linear.saxe_mode_strength",),
    decoys=(
        Decoy("missing_factor_2", "tau/s instead of tau/(2s)",
              tau / s * sympy.log(uf * (s - u0) / (u0 * (s - uf)))),
        Decoy("no_saturation", "ln(uf/u0): the small-u approximation without (s-u) factors",
              tau / (2 * s) * sympy.log(uf / u0)),
        Decoy("swapped_saturation", "(s-uf)/(s-u0) in place of (s-u0)/(s-uf)",
              tau / (2 * s) * sympy.log(uf * (s - uf) / (u0 * (s - u0)))),
    ),
    resolution=1e-3,
)

# -- 3. unequal initial layer strengths ---------------------------------------------

a0_parameter = Parameter("a0", Real(0, math.inf), "initial strength of the first layer W21",
                         latex="a_0")
b0_parameter = Parameter("b0", Real(0, math.inf), "initial strength of the second layer W32",
                         latex="b_0")
a0, b0 = a0_parameter.symbol, b0_parameter.symbol
c_squared = (a0**2 - b0**2) ** 2
q = sympy.sqrt(c_squared + 4 * s**2)


def _unequal_log_argument(final: Any, start: Any) -> Any:
    def numerator(value: Any) -> Any:
        return q * sympy.sqrt(c_squared + 4 * value**2) + 4 * s * value + c_squared

    return numerator(final) * (s - start) / (numerator(start) * (s - final))


def _unequal_log_term(strength: Any, layer_sum: Any) -> Any:
    """ln(N(u)/(s - u)) with N(u) = q (a^2 + b^2) + 4su + c^2 and a^2 + b^2 = layer_sum."""
    return sympy.log((q * layer_sum + 4 * s * strength + c_squared) / (s - strength))


# The log of eq. 11's quotient split in two, and a0^2 + b0^2 in place of its equal
# sqrt(c^2 + 4 a0^2 b0^2), whose square underflows for a0 b0 < 1e-154.
unequal_statement = tau / q * (_unequal_log_term(uf, sympy.sqrt(c_squared + 4 * uf**2))
                               - _unequal_log_term(a0 * b0, a0**2 + b0**2))

UNEQUAL_START = Constraint("a0*b0 < uf < s", lambda p: p["a0"] * p["b0"] < p["uf"] < p["s"],
                           ("uf", "a0", "b0", "s"))


@st.composite
def _unequal_points(draw: st.DrawFn) -> dict[str, float]:
    strength = draw(st.floats(0.5, 3.0))
    start = math.exp(draw(st.floats(math.log(1e-3), math.log(0.5)))) * strength
    ratio = math.exp(draw(st.floats(math.log(0.1), math.log(10.0))))
    first = math.sqrt(start * ratio)
    end_fraction = draw(st.floats(start / strength + 0.05, 0.97))
    return {"s": strength, "a0": first, "b0": start / first, "uf": end_fraction * strength,
            "tau": draw(st.floats(0.5, 4.0))}


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
    sample=_unequal_points,
    uses=("deep_linear.saxe_learning_time",),
    evaluate=None,
    decoys=(
        Decoy("balanced_formula", "eq. 11 with u0 = a0 b0, ignoring the imbalance",
              tau / (2 * s) * sympy.log(uf * (s - a0 * b0) / (a0 * b0 * (s - uf)))),
        Decoy("missing_factor_4", "q = sqrt(c^2 + s^2) instead of sqrt(c^2 + 4 s^2)",
              tau / sympy.sqrt(c_squared + s**2)
              * sympy.log(_unequal_log_argument(uf, a0 * b0))),
        Decoy("unsquared_imbalance", "c = |a^2 - b^2| entering as c instead of c^2",
              (lambda cs: tau / sympy.sqrt(cs + 4 * s**2) * sympy.log(
                  (sympy.sqrt(cs + 4 * s**2) * sympy.sqrt(cs + 4 * uf**2) + 4 * s * uf + cs)
                  * (s - a0 * b0)
                  / ((sympy.sqrt(cs + 4 * s**2) * sympy.sqrt(cs + 4 * (a0 * b0) ** 2)
                      + 4 * s * a0 * b0 + cs) * (s - uf))))(sympy.Abs(a0**2 - b0**2))),
    ),
    resolution=1e-3,
)

# -- 4. deep networks (eq. 15) -------------------------------------------------------

layers_parameter = Parameter("N_l", Integer(2, 100, sample_upper=6),
                             "layers of neurons (N_l - 1 weight matrices); at most 100: the "
                             "simulation trains every layer through a plateau that grows "
                             "with depth", latex="N_l")
N_l = layers_parameter.symbol
matrices = N_l - 1


def _deep_time(layers: Any, exponent: Any, prefactor: Any) -> Any:
    integrand = 1 / (u**exponent * (s - u))
    return prefactor * tau * sympy.Integral(integrand, (u, u0, uf))


def _quadrature(statement_for: Any) -> Any:
    """Evaluate an Integral statement with mpmath's tanh-sinh rule to full precision."""

    def evaluate(params: dict[str, Any], precision: int | None) -> Any:
        digits = precision or 30
        symbols = {"s": s, "u0": u0, "uf": uf, "tau": tau, "N_l": N_l}
        expression = statement_for.subs({symbols[k]: v for k, v in params.items()})
        with mpmath.workdps(digits + 5):
            value = sympy.N(expression, digits + 5)
            result = mpmath.mpf(str(value))
        return result if precision else float(result)

    return evaluate


def _precise() -> bool:
    """Whether the statement is being evaluated with mpmath (``predict(precision=...)``).

    The matrix parameters arrive as float64 arrays either way; only mpmath's working
    precision tells the two evaluations apart.
    """
    return mpmath.mp.prec > 53


def mode_time_integral_value(strength: Any, start: Any, end: Any, layers: Any) -> Any:
    """The integral of du / (u^(2 - 2/(N_l - 1)) (s - u)) from ``start`` to ``end``.

    mpmath's tanh-sinh rule on log-spaced pieces (the integrand spans many decades when
    ``start`` is tiny), 5 digits beyond float64, or beyond mpmath's working precision.
    """
    precise = _precise()
    with mpmath.workdps((mpmath.mp.dps if precise else 15) + 10):
        exponent = 2 - mpmath.mpf(2) / (int(layers) - 1)
        target, lower, upper = (mpmath.mpf(value) for value in (strength, start, end))
        pieces = max(1, int(mpmath.ceil(mpmath.log10(upper / lower))))
        breaks = [lower * (upper / lower) ** (mpmath.mpf(k) / pieces) for k in range(pieces)]
        value = mpmath.quad(lambda v: 1 / (v**exponent * (target - v)), [*breaks, upper])
    return +value if precise else float(value)


def _as_integral(self: sympy.Function) -> sympy.Integral:
    strength, start, end, layers = self.args
    return sympy.Integral(1 / (u ** (2 - 2 / (layers - 1)) * (strength - u)), (u, start, end))


def _integral_latex(self: sympy.Function, printer: Any, exp: Any = None) -> str:
    text = printer._print(_as_integral(self))
    return text if exp is None else rf"\left({text}\right)^{{{exp}}}"


#: The learning-time quadrature of eq. 15, printed as the integral it is.
mode_time_integral = named_function("mode_time_integral", mode_time_integral_value)
mode_time_integral._latex = _integral_latex
mode_time_integral._pretty = lambda self, printer: printer._print(_as_integral(self))

deep_integral = _deep_time(N_l, 2 - 2 / matrices, 1 / matrices)  # the derivation's last form
deep_statement = tau / matrices * mode_time_integral(s, u0, uf, N_l)

deep_mode_dynamics = Claim(
    id="deep_linear.deep_mode_dynamics",
    title="Mode dynamics of a deep linear network and its exact learning time",
    citation=replace(SAXE, **{"where": "eq. 15 (dynamics); learning time by "
                                                   "quadrature of eq. 15"}),
    parameters=(layers_parameter, s_parameter, u0_parameter, uf_parameter, tau_parameter),
    quantity=sympy.Symbol("t(u_0 -> u_f)"),
    statement=deep_statement,
    conventions=COMMON + (
        "N_l layers of neurons, N_l - 1 weight matrices, decoupled balanced "
        "initialisation (every layer's strength u0^(1/(N_l-1))).",
        "Dynamics (eq. 15): tau du/dt = (N_l - 1) u^(2 - 2/(N_l - 1)) (s - u); the learning "
        "time is its exact quadrature, evaluated with mpmath to full float64 precision.",
    ),
    simulation="theorylab.numerics.deep_linear:deep_learning_time",
    systematic_error=TIME_STEP_SIZE,
    constraints=(U0_BELOW_S, UF_BETWEEN),
    # Deep plateaus last ~u0^-(1-2/(N_l-1)): u0 >= 0.01 s keeps simulations short.
    sample=lambda: _mode_points(final=True, smallest_start=1e-2).flatmap(
        lambda point: st.integers(2, 6).map(lambda layers: {"N_l": layers, **point})
    ),
    uses=("deep_linear.saxe_learning_time",),
    decoys=(
        Decoy("depth_off_by_one", "N_l where N_l - 1 belongs (counting weight matrices as "
              "layers)", evaluate=_quadrature(_deep_time(N_l, 2 - 2 / N_l, 1 / N_l))),
        Decoy("infinite_depth_integrand", "the N_l -> oo form of the integrand, u^-2 "
              "(cf. eq. 17), kept at finite depth",
              evaluate=_quadrature(_deep_time(N_l, 2, 1 / matrices))),
        Decoy("missing_prefactor", "without the 1/(N_l - 1) from the N_l - 1 layers",
              evaluate=_quadrature(_deep_time(N_l, 2 - 2 / matrices, 1))),
    ),
    resolution=1e-3,
)

# -- 5 & 6. Arora et al.: end-to-end and singular-value dynamics --------------------

depth_parameter = Parameter("N", Integer(1, 100, sample_upper=4),
                            "weight matrices (Arora's depth N = N_l - 1); at most 100: the "
                            "statement sums N terms of matrix powers and the simulation "
                            "trains N layers")
decay_parameter = Parameter("weight_decay", Real(0, math.inf, lower_open=False),
                            "weight decay coefficient lambda", latex="lambda")
matrix_parameter = Parameter("W", Matrix(ndim=2), "end-to-end matrix W_e = W_N ... W_1",
                             latex="W_e")
gradient_parameter = Parameter("gradient", Matrix(ndim=2, same_shape_as="W"),
                               "loss gradient dL/dW at W_e", latex=r"\nabla L")
N = depth_parameter.symbol


def _psd_power(matrix: Any, exponent: float, precision: int | None) -> Any:
    """Power of a symmetric PSD matrix through its eigendecomposition (A^0 = I)."""
    if precision is None:
        values, vectors = np.linalg.eigh(matrix)
        # Rounding leaves ~eps-sized eigenvalues where W is rank deficient; a fractional
        # power would blow them up (eps^(1/4) ~ 1e-4), so they are set to exactly zero.
        cutoff = matrix.shape[0] * np.finfo(np.float64).eps * max(float(values.max()), 0.0) * 8
        values = np.where(values > cutoff, values, 0.0)
        powered = np.ones_like(values) if exponent == 0 else values**exponent
        return (vectors * powered) @ vectors.T
    values, vectors = mpmath.eigsy(matrix)
    size = matrix.rows
    diagonal = mpmath.zeros(size, size)
    cutoff = size * mpmath.eps * max(max(values), mpmath.mpf(0)) * 8
    for index in range(size):
        value = values[index] if values[index] > cutoff else mpmath.mpf(0)
        diagonal[index, index] = 1 if exponent == 0 else value ** mpmath.mpf(exponent)
    return vectors * diagonal * vectors.T


def _swapped_gram(params: dict[str, Any], precision: int | None) -> Any:
    """Decoy: W^T W left of the gradient and W W^T right of it (square W only)."""
    depth, decay = params["N"], params["weight_decay"]
    matrix, gradient = params["W"], params["gradient"]
    left, right = matrix.T @ matrix, matrix @ matrix.T
    total = sum(_psd_power(left, (term - 1) / depth, None) @ gradient
                @ _psd_power(right, (depth - term) / depth, None)
                for term in range(1, depth + 1))
    return -decay * depth * matrix - total


@st.composite
def _matrices(draw: st.DrawFn, *, distinct: bool) -> tuple[np.ndarray, np.ndarray]:
    rows = draw(st.integers(1, 3))
    columns = draw(st.one_of(st.just(rows), st.integers(1, 3)))  # square half the time
    generator = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if distinct:
        rank = min(rows, columns)
        gaps = 0.3 + generator.random(rank)  # singular values >= 0.3, gaps >= 0.3
        values = np.sort(np.cumsum(gaps))[::-1]
        left = np.linalg.qr(generator.standard_normal((rows, rows)))[0][:, :rank]
        right = np.linalg.qr(generator.standard_normal((columns, columns)))[0][:, :rank]
        matrix = left @ np.diag(values) @ right.T
    else:
        matrix = generator.standard_normal((rows, columns))
    return matrix, generator.standard_normal((rows, columns))


def _arora_points(*, decay: bool, distinct: bool) -> st.SearchStrategy[dict[str, Any]]:
    def build(depth: int, rate: float, pair: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
        point: dict[str, Any] = {"N": depth, "W": pair[0], "gradient": pair[1]}
        if decay:
            point["weight_decay"] = rate
        return point

    return st.builds(build, st.integers(1, 4), st.floats(0.0, 0.5),
                     _matrices(distinct=distinct))


def _objects(values: Any) -> np.ndarray:
    """An mpmath matrix (or list) as a numpy array of mpmath numbers."""
    rows = values.tolist() if hasattr(values, "tolist") else values
    return np.array(rows, dtype=object)


def gram_sandwich_value(matrix: Any, gradient: Any, left_power: Any, right_power: Any) -> Any:
    """``[W W^T]^left_power G [W^T W]^right_power`` (PSD powers by eigendecomposition)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    gradient = np.asarray(gradient, dtype=np.float64)
    if not _precise():
        return (_psd_power(matrix @ matrix.T, float(left_power), None) @ gradient
                @ _psd_power(matrix.T @ matrix, float(right_power), None))
    weights, grad = mpmath.matrix(matrix.tolist()), mpmath.matrix(gradient.tolist())
    digits = mpmath.mp.dps
    return _objects(_psd_power(weights * weights.T, float(left_power), digits) * grad
                    * _psd_power(weights.T * weights, float(right_power), digits))


def _sandwich_latex(self: sympy.Function, printer: Any, exp: Any = None) -> str:
    matrix, gradient, left_power, right_power = (printer._print(a) for a in self.args)
    text = (rf"\left[{matrix} {matrix}^{{T}}\right]^{{{left_power}}} {gradient} "
            rf"\left[{matrix}^{{T}} {matrix}\right]^{{{right_power}}}")
    return text if exp is None else rf"\left({text}\right)^{{{exp}}}"


def _sandwich_pretty(self: sympy.Function, printer: Any) -> Any:
    from sympy.printing.pretty.stringpict import prettyForm

    matrix, gradient, left_power, right_power = (sympy.sstr(a) for a in self.args)
    return prettyForm(f"[{matrix} {matrix}ᵀ]^({left_power}) {gradient} "
                      f"[{matrix}ᵀ {matrix}]^({right_power})")


#: ``[W W^T]^p G [W^T W]^q``: one term of the end-to-end dynamics, a matrix.
gram_sandwich = named_function("gram_sandwich", gram_sandwich_value)
gram_sandwich._latex = _sandwich_latex
gram_sandwich._pretty = _sandwich_pretty


def singular_values_of(matrix: Any) -> Any:
    """The singular values of ``matrix``, descending (a vector)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if not _precise():
        return np.linalg.svd(matrix, compute_uv=False)
    _, values, _ = mpmath.svd_r(mpmath.matrix(matrix.tolist()))
    return _objects([values[r] for r in range(min(matrix.shape))])


def singular_projections_of(matrix: Any, gradient: Any) -> Any:
    """``<G, u_r v_r^T> = u_r^T G v_r`` for the singular vectors of ``matrix`` (a vector)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    gradient = np.asarray(gradient, dtype=np.float64)
    if not _precise():
        left, _, right_t = np.linalg.svd(matrix, full_matrices=False)
        return np.einsum("ir,ij,rj->r", left, gradient, right_t)
    left, _, right_t = mpmath.svd_r(mpmath.matrix(matrix.tolist()))
    grad = mpmath.matrix(gradient.tolist())
    return _objects([(left[:, r].T * grad * right_t[r, :].T)[0]
                     for r in range(min(matrix.shape))])


def _sigma_latex(self: sympy.Function, printer: Any, exp: Any = None) -> str:
    text = rf"\sigma_r\left({printer._print(self.args[0])}\right)"
    return text if exp is None else rf"{text}^{{{exp}}}"


def _projection_latex(self: sympy.Function, printer: Any, exp: Any = None) -> str:
    matrix, gradient = (printer._print(a) for a in self.args)
    text = rf"\left\langle {gradient}, u_r v_r^{{T}} \right\rangle_{{{matrix}}}"
    return text if exp is None else rf"{text}^{{{exp}}}"


#: sigma_r(W), r = 1, 2, ...: the singular values of W in descending order.
singular_value = named_function("singular_value", singular_values_of, pretty="σᵣ")
singular_value._latex = _sigma_latex
#: <grad, u_r v_r^T>_W: the gradient projected on the r-th singular pair of W.
singular_projection = named_function("singular_projection", singular_projections_of,
                                     pretty="⟨∇L, uᵣvᵣᵀ⟩")
singular_projection._latex = _projection_latex

j = sympy.Symbol("j", integer=True, positive=True)
weight_decay_symbol = decay_parameter.symbol
W_e_symbol = sympy.Symbol("W_e", commutative=False)  # binds to W (its LaTeX name)
gradient_symbol = sympy.Symbol(r"\nabla L", commutative=False)  # binds to gradient


def _end_to_end_sum(left_power: Any, right_power: Any) -> Any:
    return sympy.Sum(gram_sandwich(W_e_symbol, gradient_symbol, left_power, right_power),
                     (j, 1, N))


end_to_end_statement = (-weight_decay_symbol * N * W_e_symbol
                        - _end_to_end_sum((N - j) / N, (j - 1) / N))

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
    sample=lambda: _arora_points(decay=True, distinct=False),
    decoys=(
        Decoy("decay_without_N", "weight decay -lambda W_e, missing the factor N",
              -weight_decay_symbol * W_e_symbol - _end_to_end_sum((N - j) / N, (j - 1) / N)),
        Decoy("shifted_exponents", "exponents j/N and (N-j)/N (off by one)",
              -weight_decay_symbol * N * W_e_symbol - _end_to_end_sum(j / N, (N - j) / N)),
        Decoy("plain_gradient", "-N grad L: ignoring the Gram-matrix preconditioning",
              -weight_decay_symbol * N * W_e_symbol - N * gradient_symbol),
        # Only defined for square W (W^T W and W W^T swap sizes), so kept as a variant.
        Decoy("swapped_gram", "W^T W on the left of the gradient and W W^T on the right",
              evaluate=_swapped_gram),
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
    sample=lambda: _arora_points(decay=False, distinct=True),
    uses=("deep_linear.end_to_end_dynamics",),
    decoys=(
        Decoy("missing_N", "without the factor N",
              -((sigma_of_W**2) ** (1 - 1 / N)) * projection_of_W),
        Decoy("inverted_exponent", "(sigma_r^2)^(1/N) in place of (sigma_r^2)^(1-1/N)",
              -N * (sigma_of_W**2) ** (1 / N) * projection_of_W),
        Decoy("depth_off_by_one", "N + 1 in place of N (counting layers of neurons)",
              -(N + 1) * (sigma_of_W**2) ** (1 - 1 / (N + 1)) * projection_of_W),
    ),
    ensemble=4,
    resolution=1e-3,
)
