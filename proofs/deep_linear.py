"""Machine-checked derivations for ``theorylab.theory.deep_linear``.

Every module-level :class:`~theorylab.derivation.Derivation` is registered for
its claim. The time-dependent quantities are undefined sympy functions of ``t``:
``a(t)``, ``b(t)`` are a mode's layer strengths and ``u(t)`` its strength in the
network; ``t(u)`` is the inverse function (the time at which the mode reaches
strength ``u``) and ``T`` the time to grow from ``u0`` to ``uf``.

The mode equations (Saxe et al. 2014, Sec. 1) of a two-layer network are
``tau a' = b (s - a b)``, ``tau b' = a (s - a b)``; they enter the chains as
substitutions for ``a'`` and ``b'``. The engine compares equations only up to a
numeric factor, so the ODEs are written with ``u'`` isolated
(``u' = 2 u (s - u) / tau`` rather than ``tau u' = 2 u (s - u)``).

:data:`REDUCTIONS` holds consistency derivations (the unequal-layer time at
``b0 -> a0`` and the deep-network time at ``N_l = 3`` both reduce to eq. 11).
They end in another claim's statement, so they are kept in a tuple, out of the
registry, and checked by the tests.
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy import Derivative, Eq, Integer, atanh, log, sqrt
from theorylab.theory import deep_linear as dl_theory
from theorylab.theory.deep_linear import (
    N_l,
    a0,
    b0,
    deep_mode_dynamics,
    s,
    saxe_learning_time,
    saxe_mode_strength,
    t,
    tau,
    u,
    u0,
    uf,
    unequal_layer_time,
)

from theorylab.derivation import Derivation, Step
from theorylab.matrix_functions import saturation_integral

__all__ = ["REDUCTIONS", "saxe_mode_strength_from_layers", "saxe_time_from_solution",
           "saxe_time_by_separation", "unequal_time_from_layers", "deep_time_from_layers"]

a = sympy.Function("a", positive=True)
b = sympy.Function("b", positive=True)
U = sympy.Function("u")  # the claim's quantity Function('u')(t)
t_of_u = sympy.Function("t")  # inverse function: time at which the strength is u
T = sympy.Symbol("T", positive=True)
c = sympy.Symbol("c", real=True)  # conserved imbalance a^2 - b^2

# Sampling ranges keep 0 < u0 < uf < s (and a0 b0 < uf) so logs and roots stay real.
RANGES = {u0: (0.01, 0.2), uf: (0.3, 0.45), s: (0.5, 3.0), tau: (0.5, 4.0),
          a0: (0.1, 0.4), b0: (0.1, 0.4), c: (-2.0, 2.0), N_l: (2, 6)}

LAYER_EQUATIONS = {Derivative(a(t), t): b(t) * (s - a(t) * b(t)) / tau,
                   Derivative(b(t), t): a(t) * (s - a(t) * b(t)) / tau}
LAYERS = "mode equations tau a' = b(s - ab), tau b' = a(s - ab) (Saxe et al. Sec. 1)"
INVERSE = {Derivative(U(t), t): 1 / Derivative(t_of_u(u), u), U(t): u}
INVERSE_REASON = "inverse function t(u): du/dt = 1/(dt/du), valid as u increases on (u0, s)"
dt_du = Derivative(t_of_u(u), u)


def _conservation() -> tuple[Step, ...]:
    """Lemma: c = a^2 - b^2 is constant under the two-layer mode equations."""
    return (
        Step.assume(a(t) ** 2 - b(t) ** 2, "the imbalance c = a^2 - b^2 of the two layers"),
        Step.differentiate(2 * a(t) * Derivative(a(t), t) - 2 * b(t) * Derivative(b(t), t), t,
                           "its time derivative"),
        Step.substitute(Integer(0), LAYER_EQUATIONS, LAYERS + ": dc/dt = 0, c is conserved"),
    )


def _product_rule() -> tuple[Step, ...]:
    """Mode strength u = ab and its equation tau u' = (a^2 + b^2)(s - u)."""
    return (
        Step.assume(Eq(U(t), a(t) * b(t)), "mode strength u = ab of a two-layer network"),
        Step.differentiate(Eq(Derivative(U(t), t),
                              Derivative(a(t), t) * b(t) + a(t) * Derivative(b(t), t)), t,
                           "product rule"),
        Step.substitute(Eq(Derivative(U(t), t), (a(t) ** 2 + b(t) ** 2) * (s - a(t) * b(t)) / tau),
                        LAYER_EQUATIONS, LAYERS),
    )


# -- 1. eq. 12 ------------------------------------------------------------------------

growth = sympy.exp(2 * s * t / tau)

saxe_mode_strength_from_layers = Derivation(
    claim=saxe_mode_strength.id,
    title="eq. 12 from the balanced two-layer mode equations",
    steps=_conservation() + _product_rule() + (
        Step.substitute(Eq(Derivative(U(t), t), 2 * a(t) ** 2 * (s - a(t) ** 2) / tau),
                        {b(t): a(t)}, "balanced start a0 = b0 stays balanced: c = 0 is conserved"),
        Step.substitute(Eq(Derivative(U(t), t), 2 * U(t) * (s - U(t)) / tau),
                        {a(t): sqrt(U(t))}, "u = a^2 with a > 0: tau u' = 2u(s - u) (Saxe Sec. 1)"),
        Step.solve_ode(Eq(U(t), s * growth / (growth - 1 + s / u0)), U(t), t, (0, u0),
                       "logistic equation solved with u(0) = u0 (Saxe eq. 12)"),
        Step.equal(Eq(U(t), saxe_mode_strength.statement),
                   "numerator and denominator times u0 e^(-2st/tau): finite for every t"),
    ),
    ranges=RANGES,
)

# -- 2. eq. 11 ------------------------------------------------------------------------

saxe_time_from_solution = Derivation(
    claim=saxe_learning_time.id,
    title="eq. 11 by inverting the trajectory eq. 12",
    steps=(
        Step.assume(Eq(U(t), saxe_mode_strength.statement),
                    "the two-layer trajectory (deep_linear.saxe_mode_strength, Saxe eq. 12)"),
        Step.substitute(Eq(uf, saxe_mode_strength.statement.subs(t, T)), {U(t): uf, t: T},
                        "T is the time at which u reaches uf"),
        Step.solve(Eq(T, saxe_learning_time.statement), T,
                   "solve for T: exp(2sT/tau) = uf(s - u0)/(u0(s - uf)) (Saxe eq. 11)"),
    ),
    ranges=RANGES,
)

saxe_time_by_separation = Derivation(
    claim=saxe_learning_time.id,
    title="eq. 11 by separating variables in tau u' = 2u(s - u)",
    steps=(
        Step.assume(Eq(Derivative(U(t), t), 2 * U(t) * (s - U(t)) / tau),
                    "balanced two-layer mode dynamics tau u' = 2u(s - u) (derived for eq. 12)"),
        Step.substitute(Eq(1 / dt_du, 2 * u * (s - u) / tau), INVERSE, INVERSE_REASON),
        Step.solve(Eq(dt_du, tau / (2 * u * (s - u))), dt_du, "separate variables"),
        Step.integrate(Eq(T, saxe_learning_time.statement), u,
                       "integrate dt/du from u0 to uf by partial fractions (Saxe eq. 11)",
                       lower=u0, upper=uf),
    ),
    ranges=RANGES,
)

# -- 3. unequal layers ----------------------------------------------------------------


def _root(value: sympy.Expr) -> sympy.Expr:
    """The layer sum a^2 + b^2 = sqrt(c^2 + 4u^2) at strength ``value``."""
    return sqrt(c**2 + 4 * value**2)


q = sqrt(c**2 + 4 * s**2)


def _artanh_antiderivative(value: sympy.Expr) -> sympy.Expr:
    """F(u) = artanh((4su + c^2)/(q sqrt(c^2 + 4u^2)))/q, F' = 1/((s - u) sqrt(c^2 + 4u^2))."""
    return atanh((4 * s * value + c**2) / (q * _root(value))) / q


def _log_numerator(value: sympy.Expr) -> sympy.Expr:
    return q * _root(value) + 4 * s * value + c**2


unequal_log_form = tau / q * log(_log_numerator(uf) * (s - u0)
                                 / (_log_numerator(u0) * (s - uf)))

unequal_time_from_layers = Derivation(
    claim=unequal_layer_time.id,
    title="Learning time with unequal initial layer strengths a0 != b0",
    steps=_conservation() + _product_rule() + (
        Step.equal(Eq(Derivative(U(t), t), sqrt((a(t) ** 2 - b(t) ** 2) ** 2
                                                + 4 * a(t) ** 2 * b(t) ** 2)
                      * (s - a(t) * b(t)) / tau),
                   "(a^2 + b^2)^2 = (a^2 - b^2)^2 + 4 a^2 b^2 with a, b > 0"),
        Step.substitute(Eq(Derivative(U(t), t), _root(U(t)) * (s - U(t)) / tau),
                        {a(t) ** 2 - b(t) ** 2: c, a(t) * b(t): U(t)},
                        "c = a^2 - b^2 is conserved (steps 0-2) and u = ab"),
        Step.substitute(Eq(1 / dt_du, _root(u) * (s - u) / tau), INVERSE, INVERSE_REASON),
        Step.solve(Eq(dt_du, tau / (_root(u) * (s - u))), dt_du, "separate variables"),
        Step.integrate(Eq(T, tau * (_artanh_antiderivative(uf) - _artanh_antiderivative(u0))), u,
                       "integrate from u0 to uf with the artanh antiderivative, q^2 = c^2 + 4s^2",
                       lower=u0, upper=uf),
        Step.equal(Eq(T, unequal_log_form),
                   "artanh x = ln((1+x)/(1-x))/2 and (1+x)/(1-x) = N(u)^2/(4c^2(s-u)^2), "
                   "N(u) = q sqrt(c^2+4u^2) + 4su + c^2"),
        Step.substitute(Eq(T, unequal_log_form.subs({c: a0**2 - b0**2, u0: a0 * b0})),
                        {c: a0**2 - b0**2, u0: a0 * b0},
                        "initial strengths: c = a0^2 - b0^2, u0 = a0 b0"),
        Step.equal(Eq(T, unequal_layer_time.statement),
                   "sqrt((a0^2 - b0^2)^2 + 4 a0^2 b0^2) = a0^2 + b0^2; the log of the "
                   "quotient as a difference of logs"),
    ),
    ranges=RANGES,
)

# -- 4. deep networks (eq. 15) --------------------------------------------------------

D = N_l - 1  # weight matrices
DEEP_INTEGRAL = sympy.Integral(1 / (u ** (2 - 2 / D) * (s - u)), (u, u0, uf))

deep_time_from_layers = Derivation(
    claim=deep_mode_dynamics.id,
    title="eq. 15 from the balanced deep mode equations, and its quadrature",
    steps=(
        Step.assume(Eq(U(t), a(t) ** D),
                    "balanced: D = N_l - 1 equal layer strengths a, u = a^D (Saxe Sec. 3)"),
        Step.differentiate(Eq(Derivative(U(t), t), D * a(t) ** (D - 1) * Derivative(a(t), t)), t,
                           "chain rule"),
        Step.substitute(Eq(Derivative(U(t), t), D * a(t) ** (2 * D - 2) * (s - a(t) ** D) / tau),
                        {Derivative(a(t), t): a(t) ** (D - 1) * (s - a(t) ** D) / tau},
                        "layer equation tau a' = (product of the other layers)(s - u), balanced"),
        Step.substitute(Eq(Derivative(U(t), t), D * U(t) ** (2 - 2 / D) * (s - U(t)) / tau),
                        {a(t): U(t) ** (1 / D)},
                        "a = u^(1/D): tau u' = (N_l - 1) u^(2 - 2/(N_l - 1))(s - u) (Saxe eq. 15)"),
        Step.substitute(Eq(1 / dt_du, D * u ** (2 - 2 / D) * (s - u) / tau), INVERSE,
                        INVERSE_REASON),
        Step.solve(Eq(dt_du, tau / (D * u ** (2 - 2 / D) * (s - u))), dt_du,
                   "separate variables"),
        Step.integrate(Eq(T, tau / D * DEEP_INTEGRAL), u,
                       "learning time: integrate dt/du from u0 to uf (quadrature of eq. 15)",
                       lower=u0, upper=uf),
        Step.substitute(Eq(T, deep_mode_dynamics.statement),
                        {DEEP_INTEGRAL: saturation_integral(2 - 2 / D, s, u0, uf)},
                        "name the integral: saturation_integral(p, s, u0, uf), evaluated by "
                        "tanh-sinh quadrature"),
    ),
    ranges=RANGES,
)

# -- consistency: special cases reduce to eq. 11 (not registered) ---------------------

EQ_11 = tau / (2 * s) * log(uf * (s - u0) / (u0 * (s - uf)))  # as Saxe et al. print it
# Numeric evidence only: sympy does not split logs of factors (s - u) of unseen sign.
LOG_OF_QUOTIENT = "the statement's difference of logs is the log of the quotient"

REDUCTIONS: tuple[Derivation, ...] = (
    Derivation(
        claim=saxe_learning_time.id,
        title="the unequal-layer time at b0 -> a0 is eq. 11",
        steps=(
            Step.assume(Eq(T, unequal_layer_time.statement),
                        "learning time with unequal layers (deep_linear.unequal_layer_time)"),
            Step.equal(Eq(T, tau / dl_theory.q * dl_theory.unequal_single_log.subs(
                dl_theory.imbalance, dl_theory.c_squared)),
                       LOG_OF_QUOTIENT + "; a0^2 + b0^2 = sqrt(c^2 + 4 a0^2 b0^2)"),
            Step.limit(Eq(T, EQ_11.subs(u0, a0**2)), b0, a0,
                       "balanced limit c = a0^2 - b0^2 -> 0"),
            Step.equal(Eq(T, saxe_learning_time.statement.subs(u0, a0**2)), LOG_OF_QUOTIENT),
            Step.substitute(Eq(T, saxe_learning_time.statement), {a0: sqrt(u0)},
                            "u0 = a0^2 (Saxe eq. 11)"),
        ),
        ranges=RANGES,
    ),
    Derivation(
        claim=saxe_learning_time.id,
        title="the deep-network time at N_l = 3 is eq. 11",
        steps=(
            Step.assume(Eq(dt_du, tau / (D * u ** (2 - 2 / D) * (s - u))),
                        "dt/du of a deep mode (eq. 15, separated)"),
            Step.substitute(Eq(dt_du, tau / (2 * u * (s - u))), {N_l: 3},
                            "two weight matrices: N_l = 3"),
            Step.integrate(Eq(T, saxe_learning_time.statement), u,
                           "the quadrature from u0 to uf is eq. 11", lower=u0, upper=uf),
        ),
        ranges=RANGES,
    ),
)


# -- Arora, Cohen & Hazan 2018, Thm 1: end-to-end dynamics ----------------------------


class GramPower(sympy.Function):
    """Display-level ``[W_e W_e^T]^p`` (side='left') or ``[W_e^T W_e]^p`` (side='right').

    Non-commutative, so derivations keep the order of matrix products.
    """

    is_commutative = False

    def _latex(self, printer: Any) -> str:
        side, power = self.args
        gram = r"W_e W_e^{T}" if side == LEFT else r"W_e^{T} W_e"
        return rf"\left[{gram}\right]^{{{printer._print(power)}}}"

    def _sympystr(self, printer: Any) -> str:
        side, power = self.args
        gram = "W_e W_e^T" if side == LEFT else "W_e^T W_e"
        return f"[{gram}]^({printer._print(power)})"


LEFT, RIGHT = sympy.Symbol("left"), sympy.Symbol("right")
# Non-commutative placeholders for the partial products of a generic layer j:
# above(j) = W_N ... W_{j+1}, below(j) = W_{j-1} ... W_1 (empty products are I).
_nc = {"commutative": False}
_above, _below = sympy.Function("A", **_nc), sympy.Function("B", **_nc)
_above_t, _below_t = sympy.Function("A^T", **_nc), sympy.Function("B^T", **_nc)
_layer, _layer_rate = sympy.Function("W", **_nc), sympy.Function(r"\dot{W}", **_nc)
_rate_e = sympy.Symbol(r"\dot{W}_e", **_nc)
_j, _N, _decay = dl_theory.j, dl_theory.N, dl_theory.weight_decay_symbol
_W_e, _G = dl_theory.W_e_symbol, dl_theory.gradient_symbol
_left = GramPower(LEFT, (_N - _j) / _N)
_right = GramPower(RIGHT, (_j - 1) / _N)

end_to_end_from_layers = Derivation(
    claim="deep_linear.end_to_end_dynamics",
    title="Product rule, per-layer gradient flow with weight decay, and balancedness",
    steps=(
        Step.assume(
            Eq(_rate_e, sympy.Sum(_above(_j) * _layer_rate(_j) * _below(_j), (_j, 1, _N))),
            "product rule for W_e = W_N ... W_1, one term per layer j",
        ),
        Step.substitute(
            Eq(_rate_e, sympy.Sum(_above(_j) * (-_decay * _layer(_j)
                                                - _above_t(_j) * _G * _below_t(_j)) * _below(_j),
                                  (_j, 1, _N))),
            {_layer_rate(_j): -_decay * _layer(_j) - _above_t(_j) * _G * _below_t(_j)},
            "gradient flow: dW_j/dt = -lambda W_j - A_j^T grad L(W_e) B_j^T (chain rule)",
        ),
        Step.equal(
            Eq(_rate_e, sympy.Sum(-_decay * _above(_j) * _layer(_j) * _below(_j)
                                  - _above(_j) * _above_t(_j) * _G * _below_t(_j) * _below(_j),
                                  (_j, 1, _N))),
            "expand the products (order kept: the symbols do not commute)",
        ),
        Step.substitute(
            Eq(_rate_e, sympy.Sum(-_decay * _W_e - _left * _G * _right, (_j, 1, _N))),
            {_above(_j) * _layer(_j) * _below(_j): _W_e,
             _above(_j) * _above_t(_j): _left, _below_t(_j) * _below(_j): _right},
            "A_j W_j B_j = W_e; balancedness W_{j+1}^T W_{j+1} = W_j W_j^T gives "
            "A_j A_j^T = [W_e W_e^T]^((N-j)/N) and B_j^T B_j = [W_e^T W_e]^((j-1)/N) "
            "(Arora et al. 2018, Lemma 1 / Thm 1 proof)",
        ),
        Step.equal(
            Eq(_rate_e, -_decay * _N * _W_e - sympy.Sum(_left * _G * _right, (_j, 1, _N))),
            "the weight-decay term does not depend on j: N copies",
        ),
        Step.substitute(
            Eq(_rate_e, dl_theory.end_to_end_statement),
            {_left * _G * _right: dl_theory.gram_sandwich(_W_e, _G, (_N - _j) / _N,
                                                          (_j - 1) / _N)},
            "name the j-th product: gram_sandwich(W_e, grad L, p, q) = "
            "[W_e W_e^T]^p grad L [W_e^T W_e]^q, evaluated by eigendecomposition",
        ),
    ),
)

# -- Arora, Cohen, Hu & Luo 2019, Thm 3: singular values ------------------------------
_sigma = sympy.Symbol("sigma_r")  # no sign assumption: (sigma^2)^p stays as stated
_projection = sympy.Symbol(r"\langle \nabla \ell(W), u_r v_r^T \rangle")
_rate_sigma = sympy.Symbol(r"\dot{\sigma}_r")

singular_values_from_end_to_end = Derivation(
    claim="deep_linear.singular_value_dynamics",
    title="Project the end-to-end dynamics (no weight decay) on u_r v_r^T",
    steps=(
        Step.assume(
            Eq(_rate_sigma, -sympy.Sum((_sigma**2) ** ((_N - _j) / _N) * _projection
                                       * (_sigma**2) ** ((_j - 1) / _N), (_j, 1, _N))),
            "sigma_r' = u_r^T W_e' v_r (distinct singular values); u_r^T [W W^T]^p = "
            "sigma_r^(2p) u_r^T and [W^T W]^p v_r = sigma_r^(2p) v_r in the "
            "end-to-end dynamics with lambda = 0",
            cite="Arora et al. 2019, proof of Thm 3",
        ),
        Step.equal(
            Eq(_rate_sigma, -_N * (_sigma**2) ** (1 - 1 / _N) * _projection),
            "the exponents add to (N - 1)/N for every j: N equal terms",
        ),
        Step.substitute(
            Eq(_rate_sigma, dl_theory.singular_value_dynamics.statement),
            {_sigma: dl_theory.sigma_of_W, _projection: dl_theory.projection_of_W},
            "sigma_r = sigma_r(W) and u_r, v_r the r-th singular vectors of W",
        ),
    ),
    ranges={_sigma: (0.3, 3.0)},
)

# -- Braun et al. 2022: exact dynamics from a zero-balanced start ---------------------
#
# Matrices are non-commuting symbols. Q = [W1^T; W2] is a block column, so block
# products are sympy matrices of non-commuting entries; the closed form's matrix
# functions of t are ExponentialLeft/Right and BracketInverse, whose derivatives are
# their definitions' (fdiff), so the ODE step is checked exactly.

__all__ += ["ZERO_BALANCED_LEMMAS", "zero_balanced_from_riccati"]  # added after the others

_w1, _w1t, _w2, _w2t, _sigma_yx, _sigma_yx_t = sympy.symbols(
    "W_1 W_1^T W_2 W_2^T Sigma_yx Sigma_yx^T", commutative=False)
_coupling, _start, _start_t = sympy.symbols("F Q_0 Q_0^T", commutative=False)
_rsm_t, _rsm_tau = dl_theory.rsm_t, dl_theory.rsm_tau
_q_block = sympy.Matrix([[_w1t], [_w2]])  # Q = [W1^T; W2]
_q_block_t = sympy.Matrix([[_w1, _w2t]])
_coupling_block = sympy.Matrix([[0, _sigma_yx_t], [_sigma_yx, 0]])
# tau dW1/dt, tau dW2/dt and their transposes: gradient flow on 1/2||Sigma_yx - W2 W1||^2.
_FLOW = {"W1": _w2t * (_sigma_yx - _w2 * _w1), "W1^T": (_sigma_yx_t - _w1t * _w2t) * _w2,
         "W2": (_sigma_yx - _w2 * _w1) * _w1t, "W2^T": _w1 * (_sigma_yx_t - _w1t * _w2t)}
_DOT = {name: sympy.Symbol(rf"\dot{{{name}}}", commutative=False) for name in _FLOW}  # tau d/dt
FLOW_REASON = ("gradient flow with whitened inputs: tau dW1/dt = W2^T (Sigma_yx - W2 W1), "
               "tau dW2/dt = (Sigma_yx - W2 W1) W1^T, and their transposes")


class ExponentialLeft(sympy.Function):
    """``e^{F t/tau}`` where it multiplies from the left: ``d/dt = F e^{Ft/tau} / tau``."""

    is_commutative = False

    @classmethod
    def eval(cls, time: Any) -> Any:  # noqa: D102
        return sympy.S.One if time == 0 else None

    def fdiff(self, argindex: int = 1) -> Any:  # noqa: D102
        return _coupling * self / _rsm_tau

    def _latex(self, printer: Any) -> str:
        return rf"e^{{F {printer._print(self.args[0])}/\tau}}"


class ExponentialRight(ExponentialLeft):
    """``e^{F t/tau}`` where it multiplies from the right: ``d/dt = e^{F t/tau} F / tau``.

    The same matrix as :class:`ExponentialLeft` (a function of F commutes with F); two
    names keep each derivative's factor F on the side where the product needs it.
    """

    def fdiff(self, argindex: int = 1) -> Any:  # noqa: D102
        return self * _coupling / _rsm_tau


class BracketInverse(sympy.Function):
    """``K(t)^-1``, ``K = I + 1/2 Q0^T F^-1 (e^{2Ft/tau} - I) Q0``.

    ``tau dK/dt = Q0^T e^{2Ft/tau} Q0``, so ``d(K^-1)/dt = -K^-1 Q0^T e^{2Ft/tau} Q0 K^-1 / tau``.
    """

    is_commutative = False

    @classmethod
    def eval(cls, time: Any) -> Any:  # noqa: D102
        return sympy.S.One if time == 0 else None

    def fdiff(self, argindex: int = 1) -> Any:  # noqa: D102
        time = self.args[0]
        return (-self * _start_t * ExponentialRight(time) * ExponentialLeft(time) * _start
                * self / _rsm_tau)

    def _latex(self, printer: Any) -> str:
        return (rf"\left[I + \tfrac{{1}}{{2}} Q_0^{{T}} F^{{-1}}\left(e^{{2F "
                rf"{printer._print(self.args[0])}/\tau}} - I\right) Q_0\right]^{{-1}}")


_qq = sympy.Function("M", commutative=False)(_rsm_t)  # M = QQ^T
_q = sympy.Function("Q", commutative=False)(_rsm_t)
_q_t = sympy.Function("Q^T", commutative=False)(_rsm_t)
_closed = (ExponentialLeft(_rsm_t) * _start * BracketInverse(_rsm_t) * _start_t
           * ExponentialRight(_rsm_t))
_riccati = sympy.Eq(Derivative(_qq, _rsm_t),
                    (_coupling * _qq + _qq * _coupling - _qq * _qq) / _rsm_tau)
_half = sympy.Rational(1, 2)
_eigenvalue = sympy.Symbol("lambda", real=True, nonzero=True)

#: Lemmas that the registered chain takes as premises; each ends in the expression given
#: with it, checked by the tests (they end in no claim's statement, so are not registered).
ZERO_BALANCED_LEMMAS: tuple[tuple[Derivation, Any], ...] = (
    (Derivation(
        claim=dl_theory.zero_balanced_dynamics.id,
        title="zero balance is conserved: d/dt (W1 W1^T - W2^T W2) = 0",
        steps=(
            Step.assume(_w1 * _DOT["W1^T"] + _DOT["W1"] * _w1t
                        - _DOT["W2^T"] * _w2 - _w2t * _DOT["W2"],
                        "tau d/dt (W1 W1^T - W2^T W2) by the product rule (dots: tau d/dt)"),
            Step.substitute(Integer(0), {_DOT[name]: value
                                         for name, value in _FLOW.items()}, FLOW_REASON),
        ),
        conclusion="expression",
    ), Integer(0)),
    (Derivation(
        claim=dl_theory.zero_balanced_dynamics.id,
        title="the flow of Q = [W1^T; W2] from a zero-balanced start",
        steps=(
            Step.assume(sympy.Matrix([[_FLOW["W1^T"]], [_FLOW["W2"]]]),
                        "tau dQ/dt, block by block: " + FLOW_REASON),
            Step.equal(_coupling_block * _q_block - sympy.Matrix(
                [[_w1t * _w2t * _w2], [_w2 * _w1 * _w1t]]),
                "the linear part is F Q with F = [[0, Sigma_yx^T], [Sigma_yx, 0]]"),
            Step.substitute(_coupling_block * _q_block - _q_block * _w1 * _w1t,
                            {_w2t * _w2: _w1 * _w1t},
                            "zero balance W2^T W2 = W1 W1^T, conserved (previous lemma)"),
            Step.substitute(_coupling_block * _q_block - _half * _q_block * _q_block_t * _q_block,
                            {_w1 * _w1t: (_w1 * _w1t + _w2t * _w2) / 2},
                            "W1 W1^T = (W1 W1^T + W2^T W2)/2 = Q^T Q/2 under zero balance"),
        ),
        conclusion="expression",
    ), _coupling_block * _q_block - _half * _q_block * _q_block_t * _q_block),
    (Derivation(
        claim=dl_theory.zero_balanced_dynamics.id,
        title="tau dK/dt = Q0^T e^{2Ft/tau} Q0, eigenvalue by eigenvalue",
        steps=(
            Step.assume((sympy.exp(2 * _eigenvalue * _rsm_t / _rsm_tau) - 1) / (2 * _eigenvalue),
                        "1/2 F^-1 (e^{2Ft/tau} - I) on an eigenvector of F, eigenvalue lambda"),
            Step.differentiate(sympy.exp(2 * _eigenvalue * _rsm_t / _rsm_tau) / _rsm_tau, _rsm_t,
                               "its time derivative: e^{2 lambda t/tau}/tau, so tau dK/dt = "
                               "Q0^T e^{2Ft/tau} Q0 for the 1/2 of the statement"),
        ),
        conclusion="expression",
    ), sympy.exp(2 * _eigenvalue * _rsm_t / _rsm_tau) / _rsm_tau),
)

zero_balanced_from_riccati = Derivation(
    claim=dl_theory.zero_balanced_dynamics.id,
    title="QQ^T obeys a matrix Riccati equation; its closed-form solution; the blocks",
    steps=(
        Step.assume(sympy.Eq(Derivative(_qq, _rsm_t), Derivative(_q, _rsm_t) * _q_t
                             + _q * Derivative(_q_t, _rsm_t)),
                    "M = QQ^T, Q = [W1^T; W2]: product rule"),
        Step.substitute(sympy.Eq(Derivative(_qq, _rsm_t),
                                 (_coupling * _q * _q_t + _q * _q_t * _coupling
                                  - _q * _q_t * _q * _q_t) / _rsm_tau),
                        {Derivative(_q, _rsm_t): (_coupling * _q - _half * _q * _q_t * _q)
                         / _rsm_tau,
                         Derivative(_q_t, _rsm_t): (_q_t * _coupling - _half * _q_t * _q * _q_t)
                         / _rsm_tau},
                        "tau dQ/dt = FQ - Q Q^T Q/2 from a zero-balanced start (lemma "
                        "ZERO_BALANCED_LEMMAS[1], exact)"),
        Step.substitute(_riccati, {_q * _q_t: _qq},
                        "QQ^T = M: the Riccati equation tau dM/dt = FM + MF - M^2"),
        Step.solve_ode(sympy.Eq(_qq, _closed), _qq, _rsm_t, (0, _start * _start_t),
                       "M = e^{Ft/tau} Q0 K^-1 Q0^T e^{Ft/tau} solves it from M(0) = Q0 Q0^T "
                       "(d e^{Ft/tau}/dt = F e^{Ft/tau}/tau = e^{Ft/tau} F/tau, d K^-1/dt = "
                       "-K^-1 Q0^T e^{2Ft/tau} Q0 K^-1/tau); solutions are unique"),
        Step.substitute(sympy.Eq(dl_theory.RSM_SYMBOLS["network"],
                                 dl_theory.zero_balanced_statements["network"]),
                        {_qq: dl_theory.RSM_SYMBOLS["network"],
                         _closed: dl_theory.zero_balanced_statements["network"]},
                        "the network W2 W1 is block 21 of M = [[W1^T W1, W1^T W2^T], [W2 W1, "
                        "W2 W2^T]]; name the closed form riccati_solution(F, Q0, t/tau, 1/2), "
                        "evaluated in the eigenbasis of F"),
    ),
)

# -- Kleinman, Achille & Soatto 2024: critical periods in two pathways ----------------

from theorylab.theory.deep_linear import (  # noqa: E402  (this block is self-contained)
    D_path,
    K0_path,
    S_path,
    T_path,
    critical_period,
    deficit_flow,
    deficit_logistic,
)

__all__ += ["critical_period_from_layers", "PATHWAY_LEMMAS"]

_p = sympy.Function("p", positive=True)  # a pathway's (balanced) layer scalar
_K = sympy.Function("K", positive=True)  # a pathway's gain p^D
_K_a, _K_b = sympy.Function("K_a", positive=True), sympy.Function("K_b", positive=True)
_residual = sympy.Symbol("Omega", real=True)  # S - K_a - K_b
_A = sympy.Symbol("A", positive=True)  # K_a(t_d), the gain of a when the deficit ends
_e = (D_path - 2) / D_path
_gain_flow = {Derivative(_K_a(t), t): D_path * _K_a(t) ** (2 - 2 / D_path)
              * (S_path - _K_a(t) - _K_b(t)),
              Derivative(_K_b(t), t): D_path * _K_b(t) ** (2 - 2 / D_path)
              * (S_path - _K_a(t) - _K_b(t))}
_GAIN_FLOW = "the gain flow dK/dt = D K^(2-2/D)(S - K_a - K_b) of both pathways (steps 0-3)"
PATHWAY_RANGES = {D_path: (3, 8), S_path: (0.5, 2.0), K0_path: (0.02, 0.2), T_path: (0.1, 2.0),
                  _A: (0.3, 0.45), _residual: (-1.0, 1.0)}


def _layer_flow() -> tuple[Step, ...]:
    """dK/dt = D K^(2-2/D) Omega from dp/dt = p^(D-1) Omega and K = p^D."""
    return (
        Step.assume(Eq(_K(t), _p(t) ** D_path),
                    "a pathway of D balanced layers: each scalar equals p, the gain is K = p^D"),
        Step.differentiate(Eq(Derivative(_K(t), t),
                              D_path * _p(t) ** (D_path - 1) * Derivative(_p(t), t)), t,
                           "chain rule"),
        Step.substitute(Eq(Derivative(_K(t), t), D_path * _p(t) ** (2 * D_path - 2) * _residual),
                        {Derivative(_p(t), t): _p(t) ** (D_path - 1) * _residual},
                        "gradient flow of (S - K_a - K_b)^2/2 on one scalar: dp/dt = "
                        "p^(D-1) Omega (the product of the other D - 1), Omega = S - K_a - K_b"),
        Step.substitute(Eq(Derivative(_K(t), t), D_path * _K(t) ** (2 - 2 / D_path) * _residual),
                        {_p(t): _K(t) ** (1 / D_path)}, "p = K^(1/D)"),
    )


def _conserved() -> tuple[Step, ...]:
    """d/dt [K_a^(-e) - K_b^(-e)] = 0 once both pathways train (D > 2)."""
    return (
        Step.assume(_K_a(t) ** -_e - _K_b(t) ** -_e,
                    "Q = K_a^(-(D-2)/D) - K_b^(-(D-2)/D) after the deficit"),
        Step.differentiate(-_e * _K_a(t) ** (-_e - 1) * Derivative(_K_a(t), t)
                           + _e * _K_b(t) ** (-_e - 1) * Derivative(_K_b(t), t), t,
                           "its time derivative"),
        Step.substitute(Integer(0), _gain_flow, _GAIN_FLOW + ": dQ/dt = 0, Q is conserved"),
    )


critical_period_from_layers = Derivation(
    claim=critical_period.id,
    title="Gain flow from the layer flow, the conserved quantity, and the final gain",
    steps=_layer_flow() + _conserved() + (
        Step.assume(Eq(sympy.Function("K_a")(sympy.oo), sympy.Piecewise(
            (S_path * _A / (_A + K0_path), sympy.Eq(D_path, 2)),
            (dl_theory.conserved_split(D_path, S_path, _A**-_e - K0_path**-_e), True))),
            "the flow ends on K_a + K_b = S (Omega -> 0 with the sign it has) with the value "
            "of the conserved K_a/K_b (D = 2) or Q (D > 2) at t_d, K_a = A and K_b = K0"),
        Step.substitute(Eq(sympy.Function("K_a")(sympy.oo), sympy.Piecewise(
            (S_path * deficit_logistic / (deficit_logistic + K0_path), sympy.Eq(D_path, 2)),
            (dl_theory.conserved_split(D_path, S_path, deficit_flow**-_e - K0_path**-_e),
             True))),
            {_A: sympy.Piecewise((deficit_logistic, sympy.Eq(D_path, 2)), (deficit_flow, True))},
            "A = K_a(t_d): the logistic at D = 2 (PATHWAY_LEMMAS), the flow K_flow otherwise"),
        Step.equal(Eq(sympy.Function("K_a")(sympy.oo), critical_period.statement),
                   "at D = 2: S A/(A + K0) with the logistic A simplifies (R + K0 = S)"),
    ),
    ranges=PATHWAY_RANGES,
)

_R = S_path - K0_path
# Lemmas, checked by the tests: the D = 2 ratio and the deficit-phase logistic.
PATHWAY_LEMMAS: tuple[Derivation, ...] = (
    Derivation(
        claim=critical_period.id,
        title="D = 2: the ratio K_a/K_b is conserved",
        steps=(
            Step.assume(_K_a(t) / _K_b(t), "the ratio of the two gains after the deficit"),
            Step.differentiate(Derivative(_K_a(t), t) / _K_b(t)
                               - _K_a(t) * Derivative(_K_b(t), t) / _K_b(t) ** 2, t,
                               "quotient rule"),
            Step.substitute(Integer(0), {key: value.subs(D_path, 2)
                                         for key, value in _gain_flow.items()},
                            "D = 2: dK/dt = 2K(S - K_a - K_b) for both; the ratio is constant"),
        ),
        conclusion="expression",
    ),
    Derivation(
        claim=critical_period.id,
        title="D = 2: the deficit phase is logistic",
        steps=(
            Step.assume(Eq(Derivative(_K_a(t), t), 2 * _K_a(t) * (_R - _K_a(t))),
                        "D = 2, K_b frozen at K0: dK_a/dt = 2 K_a (S - K0 - K_a)"),
            Step.solve_ode(Eq(_K_a(t), _R * K0_path * sympy.exp(2 * _R * t)
                              / (_R - K0_path + K0_path * sympy.exp(2 * _R * t))),
                           _K_a(t), t, (0, K0_path), "logistic equation with K_a(0) = K0"),
            Step.equal(Eq(_K_a(t), deficit_logistic.subs(T_path, t)),
                       "numerator and denominator times e^(-2Rt), R = S - K0"),
        ),
        ranges=PATHWAY_RANGES,
    ),
)


# -- Saxe et al. eq. 17: the N_l -> oo learning time -------------------------------------

__all__ += ["deep_time_at_large_depth"]

_scaled_rate = sympy.Symbol("(N_l - 1) dt/du")

deep_time_at_large_depth = Derivation(
    claim=dl_theory.deep_learning_time_asymptotic.id,
    title="eq. 17: the N_l -> oo integrand of eq. 15's learning time, integrated",
    steps=(
        Step.assume(Eq(_scaled_rate, tau / (u ** (2 - 2 / D) * (s - u))),
                    "eq. 15 separated, times N_l - 1 (deep_linear.deep_mode_dynamics)"),
        Step.limit(Eq(_scaled_rate, tau / (u**2 * (s - u))), N_l, sympy.oo,
                   "N_l -> oo: u^(2/(N_l-1)) -> 1 uniformly on [u0, uf], so the limit passes "
                   "under the integral"),
        Step.integrate(Eq(dl_theory.scaled_time_limit, dl_theory.eq_17_statement), u,
                       "integrate from u0 to uf: 1/(u^2 (s-u)) = 1/(s u^2) + 1/(s^2 u) + "
                       "1/(s^2 (s-u)) (Saxe eq. 17)", lower=u0, upper=uf),
    ),
    ranges=RANGES,
)
