"""Machine-checked derivations for ``theorylab.theory.continual``.

``M(t, i)`` stands for the expected model error ``E||w_t - w_i^*||^2``. Task-indexed
quantities are :class:`~theorylab.linear_regression.SquaredNorm` and
:class:`~theorylab.linear_regression.SquaredDistance`: arbitrary functions of the task
indices, which the numeric checks evaluate at fixed pseudo-random values, so an
identity that holds for them holds for every collection of ground truths.

The probabilistic inputs enter as assumptions, each with its reason:

- for ``X`` in ``R^{p x n}`` with i.i.d. ``N(0, 1)`` entries, the projection
  ``P = X (X^T X)^{-1} X^T`` onto its column space is onto a uniformly random
  ``n``-dimensional subspace, so ``E[P] = (n/p) I``;
- ``E[(X^T X)^{-1}] = I/(p - n - 1)`` (``p >= n + 2``) and
  ``E[(X X^T)^{-1}] = I/(n - p - 1)`` (``n >= p + 2``): means of inverse Wishart matrices;
- noise is independent of the features with mean zero, so cross terms vanish.
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy import Eq
from theorylab.theory.continual import (
    T,
    along,
    cycle_d,
    cycle_k,
    cycle_T,
    cyclic_forgetting_bound,
    expected_forgetting,
    expected_forgetting_underparameterized,
    expected_generalization,
    expected_generalization_underparameterized,
    expected_model_error,
    expected_model_error_underparameterized,
    gram_parameter,
    i,
    k,
    model_error_over,
    model_error_under,
    n,
    normal,
    p,
    sigma,
    t,
    theta,
    two_task_forgetting,
    visits,
)

from theorylab.derivation import Derivation, Step
from theorylab.linear_regression import SquaredDistance, SquaredNorm, TaskTable

__all__ = ["model_error_by_induction", "forgetting_from_model_error",
           "generalization_from_model_error", "model_error_underparameterized_one_task",
           "forgetting_underparameterized_from_model_error",
           "generalization_underparameterized_from_model_error",
           "two_task_forgetting_by_projections", "cyclic_bound_from_paper"]

gram = gram_parameter.symbol  # G: the Gram matrix of the ground truths
M = sympy.Function("M")  # M(t, i) = E||w_t - w_i^*||^2
table = sympy.Symbol(r"\mathcal{M}")  # the checked T x T matrix of M(t, i)
_TABLE = ("the checked quantity is the T x T matrix of M(t, i): row t (after task t), "
          "column i (ground truth of task i)")
F = sympy.Symbol("F_T")
G = sympy.Symbol("G_T")
trace = sympy.Symbol(r"\mathbb{E}\,\mathrm{tr}(X X^T)^{-1}", positive=True)
r = 1 - n / p
j = sympy.Symbol("j", integer=True, positive=True)  # a second summation index

# Integer ranges keep p >= n + 2 (overparameterized) or n >= p + 2 (under).
OVER_RANGES = {p: (10, 20), n: (1, 7), t: (1, 6), i: (1, 6), T: (2, 6), sigma: (0.1, 2.0)}
UNDER_RANGES = {p: (1, 6), n: (9, 20), t: (1, 6), i: (1, 6), T: (2, 6), sigma: (0.1, 2.0)}

ONE_TASK = ("one task: w_t - w_i^* = (I - P_t)(w_{t-1} - w_i^*) + P_t (w_t^* - w_i^*) "
            "+ X_t (X_t^T X_t)^{-1} z_t; E[P_t] = (n/p) I = (1 - r) I, cross terms vanish "
            "((I - P) P = 0, E z = 0), and E||X (X^T X)^{-1} z||^2 = sigma^2 n/(p - n - 1) "
            "(inverse Wishart mean)")

model_error_by_induction = Derivation(
    claim=expected_model_error.id,
    title="The model-error recursion of one task, solved by induction over t",
    steps=(
        Step.assume(Eq(M(t, i), r * M(t - 1, i) + (1 - r) * SquaredDistance(gram, t, i)
                       + n * sigma**2 / (p - n - 1)), ONE_TASK),
        Step.substitute(Eq(M(t, i), r * model_error_over(t - 1, i).xreplace({k: j})
                           + (1 - r) * SquaredDistance(gram, t, i) + n * sigma**2 / (p - n - 1)),
                        {M(t - 1, i): model_error_over(t - 1, i).xreplace({k: j})},
                        "induction hypothesis at t - 1 (base case t = 0: w_0 = 0 gives "
                        "M(0, i) = ||w_i^*||^2, the closed form at t = 0)"),
        Step.solve(Eq(M(t, i), model_error_over(t, i)), M(t, i),
                   "the closed form at t: the k = t term of the sum is (1 - r) D(t, i), the "
                   "rest is r times the sum at t - 1, and p sigma^2/(p - n - 1)"
                   "(1 - r^t) - r (1 - r^(t-1)) p sigma^2/(p - n - 1) = n sigma^2/(p - n - 1)"),
        Step.assume(Eq(table, TaskTable(M(t, i), t, i, T)), _TABLE),
        Step.substitute(Eq(table, TaskTable(model_error_over(t, i), t, i, T)),
                        {M(t, i): model_error_over(t, i)},
                        "every entry is the closed form solved above, for t, i = 1..T"),
    ),
    ranges=OVER_RANGES,
)

_FORGETTING = ("F_T = 1/(T-1) sum_{i<T} [L_i(w_T) - L_i(w_i)] (Lin et al.); the expectation "
               "is linear, and E L_i(w_t) is continual.expected_model_error at (t, i)")
_GENERALIZATION = ("G_T = 1/T sum_{i<=T} L_i(w_T) (Lin et al.); the expectation is linear, "
                   "and E L_i(w_T) is continual.expected_model_error at (T, i)")
forgetting_from_model_error = Derivation(
    claim=expected_forgetting.id,
    title="E[F_T] from the expected model error at (T, i) and (i, i)",
    steps=(
        Step.assume(Eq(F, sympy.Sum(M(T, i) - M(i, i), (i, 1, T - 1)) / (T - 1)), _FORGETTING),
        Step.substitute(Eq(F, sympy.Sum(model_error_over(T, i) - model_error_over(i, i),
                                        (i, 1, T - 1)) / (T - 1)),
                        {M(T, i): model_error_over(T, i), M(i, i): model_error_over(i, i)},
                        "continual.expected_model_error at (T, i) and at (i, i)"),
        Step.equal(Eq(F, sympy.Sum(
            (r**T - r**i) * SquaredNorm(gram, i)
            + (1 - r) * sympy.Sum(r ** (T - k) * SquaredDistance(gram, k, i), (k, 1, T))
            - (1 - r) * sympy.Sum(r ** (i - k) * SquaredDistance(gram, k, i), (k, 1, i))
            + p * sigma**2 / (p - n - 1) * (r**i - r**T), (i, 1, T - 1)) / (T - 1)),
            "grouped as in Lin et al.'s expected forgetting: the decay of the start "
            "(r^T - r^i)||w_i^*||^2, the task-distance sums at T and at i, and the noise "
            "p sigma^2/(p - n - 1) (r^i - r^T)"),
    ),
    ranges=OVER_RANGES,
)

generalization_from_model_error = Derivation(
    claim=expected_generalization.id,
    title="E[G_T] from the expected model error at (T, i)",
    steps=(
        Step.assume(Eq(G, sympy.Sum(M(T, i), (i, 1, T)) / T), _GENERALIZATION),
        Step.substitute(Eq(G, sympy.Sum(model_error_over(T, i), (i, 1, T)) / T),
                        {M(T, i): model_error_over(T, i)},
                        "continual.expected_model_error at (T, i)"),
        Step.equal(Eq(G, sympy.Sum(
            r**T * SquaredNorm(gram, i)
            + (1 - r) * sympy.Sum(r ** (T - k) * SquaredDistance(gram, k, i), (k, 1, T)),
            (i, 1, T)) / T + p * sigma**2 / (p - n - 1) * (1 - r**T)),
            "grouped as in Lin et al.'s expected generalization error: the noise term "
            "p sigma^2/(p - n - 1) (1 - r^T) does not depend on i, T of them divided by T"),
    ),
    ranges=OVER_RANGES,
)

model_error_underparameterized_one_task = Derivation(
    claim=expected_model_error_underparameterized.id,
    title="Least squares forgets the start: the model error of one task",
    steps=(
        Step.assume(Eq(M(t, i), SquaredDistance(gram, t, i) + sigma**2 * trace),
                    "w_t = (X_t X_t^T)^{-1} X_t y_t = w_t^* + (X_t X_t^T)^{-1} X_t z_t whatever "
                    "w_{t-1}; E z = 0 and E||(X X^T)^{-1} X z||^2 = sigma^2 E tr (X X^T)^{-1}"),
        Step.substitute(Eq(M(t, i), model_error_under(t, i)), {trace: p / (n - p - 1)},
                        "E (X X^T)^{-1} = I_p/(n - p - 1): inverse Wishart mean, n >= p + 2"),
        Step.assume(Eq(table, TaskTable(M(t, i), t, i, T)), _TABLE),
        Step.substitute(Eq(table, TaskTable(model_error_under(t, i), t, i, T)),
                        {M(t, i): model_error_under(t, i)},
                        "every entry is the model error of one task above, for t, i = 1..T"),
    ),
    ranges=UNDER_RANGES,
)

forgetting_underparameterized_from_model_error = Derivation(
    claim=expected_forgetting_underparameterized.id,
    title="E[F_T] underparameterized: the noise terms cancel",
    steps=(
        Step.assume(Eq(F, sympy.Sum(M(T, i) - M(i, i), (i, 1, T - 1)) / (T - 1)), _FORGETTING),
        Step.substitute(Eq(F, sympy.Sum(model_error_under(T, i) - model_error_under(i, i),
                                        (i, 1, T - 1)) / (T - 1)),
                        {M(T, i): model_error_under(T, i), M(i, i): model_error_under(i, i)},
                        "continual.expected_model_error_underparameterized at (T, i), (i, i)"),
        Step.equal(Eq(F, expected_forgetting_underparameterized.statement),
                   "D(i, i) = 0 and the noise terms p sigma^2/(n - p - 1) cancel"),
    ),
    ranges=UNDER_RANGES,
)

generalization_underparameterized_from_model_error = Derivation(
    claim=expected_generalization_underparameterized.id,
    title="E[G_T] underparameterized from the model error at (T, i)",
    steps=(
        Step.assume(Eq(G, sympy.Sum(M(T, i), (i, 1, T)) / T), _GENERALIZATION),
        Step.substitute(Eq(G, sympy.Sum(model_error_under(T, i), (i, 1, T)) / T),
                        {M(T, i): model_error_under(T, i)},
                        "continual.expected_model_error_underparameterized at (T, i)"),
        Step.equal(Eq(G, expected_generalization_underparameterized.statement),
                   "the noise term does not depend on i: T of them, divided by T"),
    ),
    ranges=UNDER_RANGES,
)




# -- Evron et al.: two rank-one tasks in R^2 at angle theta -----------------------------------

U = sympy.Function("U")  # U(k, theta): coordinate of w_k - w^* along task tau(k)'s solution line
theta_other = sympy.Symbol(r"\vartheta", positive=True)  # the angle the supremum runs over
visit = sympy.Symbol("s", integer=True, positive=True)  # a visit index, s = 1..k


def _odd(index: Any) -> Any:
    """1 for odd ``index``, 0 for even: task 1 is visited at odd iterations."""
    return (1 - (-1) ** index) / 2


def _even(index: Any) -> Any:
    return (1 + (-1) ** index) / 2


def _two_tasks(angle: Any) -> dict[str, Any]:
    """Unit normals x_m, solution-line directions v_m and projections P_m = I - x_m x_m^T."""
    x_1 = sympy.Matrix([1, 0])
    x_2 = sympy.Matrix([sympy.cos(angle), sympy.sin(angle)])
    v_1 = sympy.Matrix([0, 1])
    v_2 = sympy.Matrix([-sympy.sin(angle), sympy.cos(angle)])
    identity = sympy.eye(2)
    return {"x": (x_1, x_2), "v": (v_1, v_2),
            "P": (identity - x_1 * x_1.T, identity - x_2 * x_2.T)}


def _task_at(index: Any, pair: tuple[Any, Any]) -> Any:
    """The member of ``pair`` for task tau(index): the first at odd, the second at even."""
    return _odd(index) * pair[0] + _even(index) * pair[1]


def _forgetting_definition(angle: Any) -> Any:
    """F(k) = 1/k sum_{s<=k} (x_{tau(s)}^T (w_k - w^*))^2 with w_k - w^* = U(k) v_{tau(k)}."""
    tasks = _two_tasks(angle)
    error = U(visits, angle) * _task_at(visits, tasks["v"])
    residual = (_task_at(visit, tasks["x"]).T * error)[0] ** 2
    return sympy.Sum(sympy.expand(residual), (visit, 1, visits)) / visits


def _closed_amplitude(angle: Any, index: Any = visits) -> Any:
    return -along * sympy.cos(angle) ** (index - 1)


def _two_task_steps() -> tuple[Step, ...]:
    tasks = _two_tasks(theta)
    x_1, _ = tasks["x"]
    v_1, _ = tasks["v"]
    P_1, _ = tasks["P"]
    start_error = -(normal * x_1 + along * v_1)  # w_0 - w^* with w_0 = 0
    contraction = sympy.expand((_task_at(visits, tasks["v"]).T * _task_at(visits, tasks["P"])
                                * _task_at(visits - 1, tasks["v"]))[0])
    definition = sympy.Matrix([_forgetting_definition(theta),
                               _forgetting_definition(theta_other)])
    amplitudes = {U(visits, theta): _closed_amplitude(theta),
                  U(visits, theta_other): _closed_amplitude(theta_other)}
    substituted = definition.subs(amplitudes)
    counted = sympy.Matrix([((-1) ** visits + 2 * visits - 1) / (4 * visits)
                            * sympy.sin(angle) ** 2 * sympy.cos(angle) ** (2 * visits - 2)
                            * along**2 for angle in (theta, theta_other)])
    closed = sympy.Matrix([sympy.floor(visits / 2) / visits * sympy.sin(angle) ** 2
                           * sympy.cos(angle) ** (2 * visits - 2) * along**2
                           for angle in (theta, theta_other)])
    peak = sympy.acos(sympy.sqrt(1 - 1 / visits))
    supremum = sympy.Matrix([closed[0], sympy.floor(visits / 2) / visits
                             * (1 - 1 / visits) ** (visits - 1) / visits * along**2])
    return (
        Step.assume(Eq(U(1, theta), (v_1.T * P_1 * start_error)[0]),
                    "Evron et al. Sec. 3: fitting task m to convergence from w is the "
                    "projection w -> w - x_m (x_m^T w - y_m), i.e. w - w^* -> P_m (w - w^*) with "
                    "P_m = I - x_m x_m^T; the first visit maps w_0 - w^* = -w^* to P_1(-w^*), "
                    "whose coordinate along v_1 is U(1)"),
        Step.equal(Eq(U(1, theta), -along),
                   "base case: only the component of w^* along task 1's solution line "
                   "survives the first projection"),
        Step.assume(Eq(U(visits, theta), contraction * U(visits - 1, theta)),
                    "visit k >= 2 projects w_{k-1} - w^* = U(k-1) v_{tau(k-1)} with "
                    "P_{tau(k)} (tau(k) = 1 for odd k, 2 for even: the indicators "
                    "(1 -+ (-1)^k)/2), and in R^2 P_m = v_m v_m^T, so w_k - w^* = U(k) v_{tau(k)}"),
        Step.equal(Eq(U(visits, theta), sympy.cos(theta) * U(visits - 1, theta)),
                   "v_{tau(k)}^T P_{tau(k)} v_{tau(k-1)} = <v_1, v_2> = cos(theta) for either "
                   "parity ((-1)^(2k) = 1)"),
        Step.substitute(Eq(U(visits, theta), _closed_amplitude(theta)),
                        {U(visits - 1, theta): _closed_amplitude(theta, visits - 1)},
                        "induction over k: the closed form at k - 1 gives it at k; at k = 1 it "
                        "is the base case -w_along"),
        Step.assume(definition,
                    "Evron et al.'s forgetting, F(k) = 1/k sum_{s<=k} (x_{tau(s)}^T w_k - "
                    "y_{tau(s)})^2 = 1/k sum_s (x_{tau(s)}^T (w_k - w^*))^2, each task once "
                    "per visit; first entry at theta, second at an angle vartheta over which "
                    "the supremum is taken below"),
        Step.substitute(substituted, amplitudes,
                        "the amplitude U(k, angle) = -w_along cos^(k-1)(angle) proved above"),
        Step.equal(counted,
                   "the visits to task tau(k) leave no residual (x_m^T v_m = 0); each of the "
                   "others leaves w_along^2 cos^(2(k-1)) sin^2 (x_1^T v_2 = -x_2^T v_1 = "
                   "sin(theta)); the sum over s of the parity indicators counts them: "
                   "(2k - 1 + (-1)^k)/4"),
        Step.equal(closed, "(2k - 1 + (-1)^k)/4 = floor(k/2), checked for even and odd k"),
        Step.supremum(supremum, theta_other, peak,
                      "sup over vartheta in (0, pi/2]: with c = cos^2(vartheta), c^(k-1)(1 - c) "
                      "peaks at c = 1 - 1/k (Evron et al. Sec. 4 worst case), value "
                      "(1 - 1/k)^(k-1)/k <= 1/(e(k - 1))"),
    )


two_task_forgetting_by_projections = Derivation(
    claim=two_task_forgetting.id,
    title="Two rank-one tasks at angle theta: alternating projections, visits counted, and the "
          "worst angle",
    steps=_two_task_steps(),
    ranges={theta: (0.05, 1.5), theta_other: (0.0, 1.5707963267948966), visits: (1, 14),
            along: (-2.0, 2.0), normal: (-2.0, 2.0)},
    conclusion="expression",
)


# -- Evron et al.: the cyclic-ordering bound --------------------------------------------------

data_scale = sympy.Symbol("R", positive=True)  # max_m ||X_m||_2
solution_norm = sympy.Symbol(r"\|w^*\|", positive=True)  # norm of the minimum-norm solution

cyclic_bound_from_paper = Derivation(
    claim=cyclic_forgetting_bound.id,
    title="The cyclic bound: Evron et al.'s two rates taken as given, then normalized and "
          "combined",
    steps=(
        Step.assume(data_scale**2 * solution_norm**2
                    * sympy.Min(cycle_T**2 / sympy.sqrt(cycle_k), cycle_T**2 * cycle_d / cycle_k),
                    "TAKEN AS GIVEN, not machine-checked: Evron et al. 2022, cyclic orderings "
                    "(Sec. 5; theorem and lemma numbers unchecked, the paper's body could not "
                    "be read here) bound the forgetting after k iterations by R^2 ||w^*||^2 T^2 "
                    "/sqrt(k) and by R^2 ||w^*||^2 T^2 d/k. Their ingredients: ||X_m e||^2 <= "
                    "R^2 ||(I - P_m) e||^2 (X_m P_m = 0), and a residual of task m at w_k is at "
                    "most the path to its next visit, whose squared length is at most T times "
                    "the drop of ||w - w^*||^2 over a cycle (Pythagoras, Cauchy-Schwarz), which "
                    "gives the T^2",
                    cite="Evron et al. 2022, cyclic orderings (Sec. 5, numbers unchecked)"),
        Step.substitute(sympy.Min(cycle_T**2 / sympy.sqrt(cycle_k),
                                  cycle_T**2 * cycle_d / cycle_k),
                        {data_scale: 1, solution_norm: 1},
                        "the claim's normalization: max_m ||X_m||_2 = 1 and the minimum-norm "
                        "common solution rescaled to norm 1"),
        Step.equal(cycle_T**2 * sympy.Min(1 / sympy.sqrt(cycle_k), cycle_d / cycle_k),
                   "both bounds hold, so F(k) is at most their minimum; T^2 > 0 factors out"),
    ),
    ranges={cycle_T: (2, 8), cycle_d: (1, 10), cycle_k: (1, 400)},
    conclusion="expression",
)
