"""Machine-checked derivations for ``theorylab.theory.continual``.

``M(t, i)`` stands for the expected model error ``E||w_t - w_i^*||^2``. Task-indexed
quantities are :class:`~theorylab.theory.continual.SquaredNorm` and
:class:`~theorylab.theory.continual.SquaredDistance`: arbitrary functions of the task
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

import sympy
from sympy import Eq
from theorylab.theory.continual import (
    SquaredDistance,
    T,
    expected_forgetting,
    expected_forgetting_underparameterized,
    expected_generalization,
    expected_generalization_underparameterized,
    expected_model_error,
    expected_model_error_underparameterized,
    i,
    model_error_over,
    model_error_under,
    n,
    p,
    sigma,
    t,
)

from theorylab.derivation import Derivation, Step

__all__ = ["model_error_by_induction", "forgetting_from_model_error",
           "generalization_from_model_error", "model_error_underparameterized_one_task",
           "forgetting_underparameterized_from_model_error",
           "generalization_underparameterized_from_model_error"]

M = sympy.Function("M")  # M(t, i) = E||w_t - w_i^*||^2
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
        Step.assume(Eq(M(t, i), r * M(t - 1, i) + (1 - r) * SquaredDistance(t, i)
                       + n * sigma**2 / (p - n - 1)), ONE_TASK),
        Step.substitute(Eq(M(t, i), r * model_error_over(t - 1, i, index=j)
                           + (1 - r) * SquaredDistance(t, i) + n * sigma**2 / (p - n - 1)),
                        {M(t - 1, i): model_error_over(t - 1, i, index=j)},
                        "induction hypothesis at t - 1 (base case t = 0: w_0 = 0 gives "
                        "M(0, i) = ||w_i^*||^2, the closed form at t = 0)"),
        Step.solve(Eq(M(t, i), model_error_over(t, i)), M(t, i),
                   "the closed form at t: the k = t term of the sum is (1 - r) D(t, i), the "
                   "rest is r times the sum at t - 1, and p sigma^2/(p - n - 1)"
                   "(1 - r^t) - r (1 - r^(t-1)) p sigma^2/(p - n - 1) = n sigma^2/(p - n - 1)"),
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
        Step.assume(Eq(F, sympy.Sum(model_error_over(T, i) - model_error_over(i, i),
                                    (i, 1, T - 1)) / (T - 1)), _FORGETTING),
    ),
    ranges=OVER_RANGES,
)

generalization_from_model_error = Derivation(
    claim=expected_generalization.id,
    title="E[G_T] from the expected model error at (T, i)",
    steps=(
        Step.assume(Eq(G, sympy.Sum(model_error_over(T, i), (i, 1, T)) / T), _GENERALIZATION),
    ),
    ranges=OVER_RANGES,
)

model_error_underparameterized_one_task = Derivation(
    claim=expected_model_error_underparameterized.id,
    title="Least squares forgets the start: the model error of one task",
    steps=(
        Step.assume(Eq(M(t, i), SquaredDistance(t, i) + sigma**2 * trace),
                    "w_t = (X_t X_t^T)^{-1} X_t y_t = w_t^* + (X_t X_t^T)^{-1} X_t z_t whatever "
                    "w_{t-1}; E z = 0 and E||(X X^T)^{-1} X z||^2 = sigma^2 E tr (X X^T)^{-1}"),
        Step.substitute(Eq(M(t, i), model_error_under(t, i)), {trace: p / (n - p - 1)},
                        "E (X X^T)^{-1} = I_p/(n - p - 1): inverse Wishart mean, n >= p + 2"),
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


