r"""Continual learning in linear models: exact expected forgetting and generalization.

Conventions of the Lin et al. claims (Lin, Ju, Liang & Shroff 2023, arXiv:2302.05836):

- Task ``t`` has features ``X_t`` in ``R^{p x n}`` with i.i.d. ``N(0, 1)`` entries and
  labels ``y_t = X_t^T w_t^* + z_t``, ``z_t ~ N(0, sigma^2 I_n)``, independent across tasks.
- Training starts at ``w_0 = 0``. Overparameterized (``p >= n + 2``): each task is fitted
  by the minimum-norm change ``w_t = argmin ||w - w_{t-1}||`` s.t. ``X_t^T w = y_t``, the
  point gradient descent started at ``w_{t-1}`` converges to. Underparameterized
  (``p <= n - 2``): ``X_t^T w = y_t`` has no solution and gradient descent converges to
  the least-squares solution, whatever ``w_{t-1}`` was.
- Model error ``L_i(w) = ||w - w_i^*||^2`` (the test error of task ``i`` minus ``sigma^2``).
  Forgetting ``F_T = 1/(T-1) sum_{i<T} [L_i(w_T) - L_i(w_i)]``; generalization error
  ``G_T = 1/T sum_{i<=T} L_i(w_T)``. ``r = 1 - n/p``.
- The expectations are over features and noise at fixed ground truths, exact at finite
  ``p`` and ``n``; they depend on ``w_1^*, ..., w_T^*`` only through their Gram matrix
  ``gram[i, j] = <w_i^*, w_j^*>``, which is the claims' parameter.

Conventions of the Evron et al. claims (Evron, Moroshko, Ward, Srebro & Soudry 2022,
arXiv:2205.09588): realizable tasks ``X_m w = y_m`` with a common solution ``w^*``;
each visit fits its task to convergence from the previous weights (an orthogonal
projection onto the task's solution set), starting at ``w_0 = 0``; after ``k``
iterations of the ordering ``tau`` the forgetting is
``F(k) = 1/k sum_{t=1}^{k} ||X_{tau(t)} w_k - y_{tau(t)}||^2``: the average over visits,
each task counted once per visit.
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np
import sympy
from hypothesis import assume
from hypothesis import strategies as st
from sympy.printing.pretty.stringpict import prettyForm

from theorylab.claim import Citation, Claim, Constraint, Decoy, Parameter, SystematicError
from theorylab.domains import Integer, Matrix, Real
from theorylab.errors import ParameterError
from theorylab.functions import named_function
from theorylab.strategies import gram_matrices

LIN = Citation(
    authors=("Sen Lin", "Peizhong Ju", "Yingbin Liang", "Ness Shroff"),
    year=2023,
    title="Theory on Forgetting and Generalization of Continual Learning",
    where="Theorem 1 (overparameterized, p >= n + 2; theorem number unchecked: only the "
          "abstract could be read)",
    arxiv="2302.05836",
    venue="ICML",
)
LIN_MODEL_ERROR = Citation(**{**LIN.__dict__, "where": "proof of Theorem 1 (overparameterized): "
                                 "the per-task model error E||w_t - w_i^*||^2 behind E[F_T], "
                                 "E[G_T] (unchecked: only the abstract could be read)"})
LIN_UNDER = Citation(**{**LIN.__dict__, "where": "Theorem 2 (underparameterized, p <= n - 2; "
                                                 "theorem number unchecked: only the abstract "
                                                 "could be read)"})
EVRON = Citation(
    authors=("Itay Evron", "Edward Moroshko", "Rachel Ward", "Nathan Srebro", "Daniel Soudry"),
    year=2022,
    title="How catastrophic can catastrophic forgetting be in linear regression?",
    where="two tasks in cyclic ordering, rank-one tasks in R^2 at angle theta (section and "
          "theorem numbers unchecked: only the abstract could be read)",
    arxiv="2205.09588",
    venue="COLT",
)
EVRON_CYCLIC = Citation(**{**EVRON.__dict__,
                           "where": "abstract: cyclic-ordering upper bound T^2 min(1/sqrt(k), "
                                    "d/k) (theorem number in the body unchecked)"})

MONTE_CARLO = SystematicError(
    variable="none",
    order=1,
    description="The expectations are exact at finite p and n: no finite-size bias to "
    "extrapolate; only Monte Carlo error over independent feature and noise draws.",
)
DETERMINISTIC = SystematicError(
    variable="none",
    order=1,
    description="Exact projections in float64: no bias but rounding, bounded by the "
    "simulation (the ensemble only rotates the whole configuration).",
)

COMMON = (
    "Features X_t in R^{p x n} with i.i.d. N(0, 1) entries; labels y_t = X_t^T w_t^* + z_t "
    "with z_t ~ N(0, sigma^2 I_n), independent across tasks.",
    "Training starts at w_0 = 0 and visits tasks 1, ..., T once each.",
    "Model error L_i(w) = ||w - w_i^*||^2 (it excludes sigma^2); r = 1 - n/p.",
    "gram[i, j] = <w_i^*, w_j^*> (1-based tasks); ||w_k^* - w_i^*||^2 = G_kk + G_ii - 2 G_ki.",
)
OVER = COMMON + (
    "Overparameterized, p >= n + 2: w_t is the minimum-norm change from w_{t-1} with "
    "X_t^T w_t = y_t (the limit of gradient descent started at w_{t-1}).",
)
UNDER = COMMON + (
    "Underparameterized, p <= n - 2: w_t is the least-squares fit of task t (the limit of "
    "gradient descent from any start, so w_{t-1} is forgotten).",
)

# -- parameters ------------------------------------------------------------------------

p_parameter = Parameter("p", Integer(1, 10_000), "number of features (model dimension); at most "
                        "10^4: the simulation draws p x n Gaussian features per task and member")
n_parameter = Parameter("n", Integer(1, 10_000), "number of samples per task; at most 10^4: the "
                        "simulation draws p x n Gaussian features per task and member")
tasks_parameter = Parameter("T", Integer(1, 100), "number of tasks, visited once each in order; "
                            "at most 100: the closed forms sum over T^3 task triples")
tasks_two_or_more = Parameter("T", Integer(2, 100), "number of tasks (forgetting needs T >= 2); "
                              "at most 100: the closed forms sum over T^3 task triples")
sigma_parameter = Parameter("sigma", Real(0, math.inf, lower_open=False),
                            "standard deviation of the label noise", latex="sigma")


class GramMatrix(Matrix):
    """A square, symmetric, positive semidefinite matrix (a Gram matrix)."""

    def describe(self) -> str:
        """Describe the domain."""
        return ("a symmetric positive semidefinite T x T matrix, the Gram matrix "
                "<w_i^*, w_j^*> (JSON nested list)")

    def validate(self, name: str, value: Any) -> np.ndarray:
        """Square, symmetric and PSD up to rounding; symmetrized exactly."""
        matrix = super().validate(name, value)
        if matrix.shape[0] != matrix.shape[1]:
            raise ParameterError(name, self.describe(), detail=f"shape {matrix.shape}")
        scale = max(float(np.abs(matrix).max()), 1.0)
        if not np.allclose(matrix, matrix.T, rtol=0, atol=1e-12 * scale):
            raise ParameterError(name, self.describe(), detail="not symmetric")
        smallest = float(np.linalg.eigvalsh(matrix).min())
        if smallest < -1e-10 * scale:
            raise ParameterError(name, self.describe(),
                                 detail=f"not positive semidefinite: eigenvalue {smallest:.6g}")
        return (matrix + matrix.T) / 2


gram_parameter = Parameter("gram", GramMatrix(ndim=2),
                           "Gram matrix of the ground truths w_1^*, ..., w_T^*", latex="G")
p, n, T, sigma = (prm.symbol for prm in (p_parameter, n_parameter, tasks_parameter,
                                         sigma_parameter))
T2 = tasks_two_or_more.symbol

GRAM_SHAPE = Constraint("gram is T x T", lambda v: v["gram"].shape == (v["T"], v["T"]),
                        ("gram", "T"))
GRAM_RANK = Constraint(
    "the ground truths fit in R^p: rank(gram) <= p",
    lambda v: int(np.sum(np.linalg.eigvalsh(v["gram"])
                         > 1e-10 * max(float(np.abs(v["gram"]).max()), 1.0))) <= v["p"],
    ("gram", "p"))
OVERPARAMETERIZED = Constraint(
    "p >= n + 2 (overparameterized; at p = n + 1, n, n - 1 the noise term diverges)",
    lambda v: v["p"] >= v["n"] + 2, ("p", "n"))
UNDERPARAMETERIZED = Constraint(
    "p <= n - 2 (underparameterized; at p = n - 1, n, n + 1 the noise term diverges)",
    lambda v: v["p"] <= v["n"] - 2, ("p", "n"))

# -- task-indexed quantities ------------------------------------------------------------


def _generic_value(*arguments: int) -> Any:
    """A fixed pseudo-random number in (0.2, 2.2) for integer arguments.

    Lets derivations check identities about an arbitrary function of task indices
    numerically (see :mod:`theorylab.proofs.continual`).
    """
    with mpmath.workdps(60):
        seed = sum(mpmath.sqrt(prime) * argument for prime, argument in
                   zip((2, 3, 5, 7), arguments, strict=False))
        return mpmath.mpf("0.2") + 2 * mpmath.frac(mpmath.sin(seed) * 43758)


def squared_norm_value(gram: Any, task: Any) -> float:
    """``||w_task^*||^2 = gram[task, task]`` (1-based task index)."""
    index = int(task) - 1
    return float(np.asarray(gram, dtype=np.float64)[index, index])


def squared_distance_value(gram: Any, first: Any, second: Any) -> float:
    """``||w_first^* - w_second^*||^2 = G_ff + G_ss - 2 G_fs`` (1-based task indices)."""
    matrix = np.asarray(gram, dtype=np.float64)
    one, two = int(first) - 1, int(second) - 1
    return float(matrix[one, one] + matrix[two, two] - 2 * matrix[one, two])


def _indices_are_integers(indices: tuple[Any, ...]) -> bool:
    return all(index.is_Integer for index in indices)


class SquaredNorm(named_function("SquaredNorm", squared_norm_value)):
    """``||w_i^*||^2`` as ``SquaredNorm(G, i)``: the squared norm of task ``i``'s ground truth.

    Evaluates through the Gram matrix ``G``; shown as the paper writes it. In
    derivations (``G`` a symbol) it is an arbitrary function of the task index.
    """

    nargs = 2
    is_real = True
    is_nonnegative = True

    def _eval_evalf(self, precision: int) -> Any:
        _, index = self.args
        if _indices_are_integers((index,)):
            return sympy.Float(_generic_value(int(index)), precision)
        return None

    def _latex(self, printer: Any, exp: Any = None) -> str:
        text = rf"\left\|w^*_{{{printer._print(self.args[1])}}}\right\|^2"
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"

    def _pretty(self, printer: Any) -> Any:
        return prettyForm(f"‖w*_{printer._print(self.args[1])}‖²")

    def _sympystr(self, printer: Any) -> str:
        return f"||w*_{printer._print(self.args[1])}||^2"


class SquaredDistance(named_function("SquaredDistance", squared_distance_value)):
    """``||w_k^* - w_i^*||^2`` as ``SquaredDistance(G, k, i)``; zero when ``k = i``."""

    nargs = 3
    is_real = True
    is_nonnegative = True

    @classmethod
    def eval(cls, gram: Any, first: Any, second: Any) -> Any:
        """Zero on the diagonal."""
        if first == second:
            return sympy.Integer(0)
        return None

    def _eval_evalf(self, precision: int) -> Any:
        _, first, second = self.args
        if _indices_are_integers((first, second)):
            low, high = sorted((int(first), int(second)))
            return sympy.Float(_generic_value(low, high, 1), precision)
        return None

    def _latex(self, printer: Any, exp: Any = None) -> str:
        first, second = (printer._print(a) for a in self.args[1:])
        text = rf"\left\|w^*_{{{first}}} - w^*_{{{second}}}\right\|^2"
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"

    def _pretty(self, printer: Any) -> Any:
        first, second = (printer._print(a) for a in self.args[1:])
        return prettyForm(f"‖w*_{first} - w*_{second}‖²")

    def _sympystr(self, printer: Any) -> str:
        first, second = (printer._print(a) for a in self.args[1:])
        return f"||w*_{first} - w*_{second}||^2"


class TaskTable(sympy.Function):
    """``[entry]_{t, i = 1..T}``: the T x T matrix of ``entry`` over row ``t``, column ``i``.

    ``TaskTable(entry, t, i, T)`` binds ``t`` and ``i`` (like a sum's index), so a
    matrix-valued quantity of symbolic size is one evaluable statement.
    """

    nargs = 4

    @property
    def free_symbols(self) -> set[sympy.Basic]:
        """The entry's symbols less the two indices, and those of the size."""
        entry, row, column, count = self.args
        return (entry.free_symbols - {row, column}) | count.free_symbols

    def _table_code(self, printer: Any, constructor: str) -> str:
        entry, row, column, count = (printer._print(a) for a in self.args)
        rows = f"range(1, {count} + 1)"
        return (f"{printer._module_format(constructor)}([[{entry} for {column} in {rows}] "
                f"for {row} in {rows}])")

    def _numpycode(self, printer: Any) -> str:
        return self._table_code(printer, "numpy.array")

    def _mpmathcode(self, printer: Any) -> str:
        return self._table_code(printer, "mpmath.matrix")

    def _latex(self, printer: Any, exp: Any = None) -> str:
        entry, row, column, count = (printer._print(a) for a in self.args)
        return rf"\left[{entry}\right]_{{{row}, {column} = 1}}^{{{count}}}"

    def _pretty(self, printer: Any) -> Any:
        entry, row, column, count = self.args
        form = prettyForm(*printer._print(entry).parens("[", "]"))
        return prettyForm(*form.right(f" for {row}, {column} = 1..{count}"))

    def _sympystr(self, printer: Any) -> str:
        entry, row, column, count = (printer._print(a) for a in self.args)
        return f"[{entry}]_({row}, {column} = 1..{count})"


class ComponentVector(sympy.ImmutableDenseMatrix):
    """A column of components that evaluates to a 1-D array, as the simulation measures."""

    def _numpycode(self, printer: Any) -> str:
        entries = ", ".join(printer._print(entry) for entry in self)
        return f"{printer._module_format('numpy.array')}([{entries}])"

    def _mpmathcode(self, printer: Any) -> str:
        entries = ", ".join(printer._print(entry) for entry in self)
        return f"{printer._module_format('mpmath.matrix')}([{entries}])"


G = gram_parameter.symbol


t = sympy.Symbol("t", integer=True, positive=True)
i = sympy.Symbol("i", integer=True, positive=True)
k = sympy.Symbol("k", integer=True, positive=True)
r = 1 - n / p
noise_over = p * sigma**2 / (p - n - 1)
noise_under = p * sigma**2 / (n - p - 1)


def model_error_over(step: Any, task: Any, *, rate: Any = r, noise: Any = noise_over,
                     mixing: Any = None, index: sympy.Symbol = k) -> Any:
    """E||w_step - w_task^*||^2, overparameterized (claim 1), as a sympy expression."""
    mixing = 1 - rate if mixing is None else mixing
    return (rate**step * SquaredNorm(G, task)
            + mixing * sympy.Sum(rate ** (step - index) * SquaredDistance(G, index, task),
                                 (index, 1, step))
            + noise * (1 - rate**step))


def forgetting_over(**variant: Any) -> Any:
    """E[F_T] from claim 1 at (T, i) and (i, i), averaged over i < T."""
    return sympy.Sum(model_error_over(T2, i, **variant) - model_error_over(i, i, **variant),
                     (i, 1, T2 - 1)) / (T2 - 1)


def generalization_over(**variant: Any) -> Any:
    """E[G_T] from claim 1 at (T, i), averaged over i <= T."""
    return sympy.Sum(model_error_over(T2, i, **variant), (i, 1, T2)) / T2


# -- numerical evaluation (float64 or mpmath) -------------------------------------------


def _numbers(values: dict[str, Any], precision: int | None) -> tuple[Any, Any, Any, Any]:
    """(p, n, sigma, gram) as floats or mpf, gram as nested lists."""
    if precision:
        convert = mpmath.mpf
    else:
        convert = float
    gram = [[convert(float(entry)) for entry in row] for row in values["gram"]]
    return convert(values["p"]), convert(values["n"]), convert(values["sigma"]), gram


def _distance(gram: list[list[Any]], first: int, second: int) -> Any:
    return gram[first][first] + gram[second][second] - 2 * gram[first][second]


def _over_matrix(values: dict[str, Any], precision: int | None,
                 variant: str = "true") -> list[list[Any]]:
    """E||w_t - w_i^*||^2 for t, i = 1..T (0-based lists), overparameterized."""
    features, samples, noise_level, gram = _numbers(values, precision)
    count = len(gram)
    rate = samples / features if variant == "r_is_n_over_p" else 1 - samples / features
    denominator = features - samples if variant == "noise_p_minus_n" else features - samples - 1
    noise = features * noise_level**2 / denominator
    mixing = 1 if variant == "missing_one_minus_r" else 1 - rate
    table = []
    for step in range(1, count + 1):
        row = []
        for task in range(count):
            total = rate**step * gram[task][task] + noise * (1 - rate**step)
            for visited in range(1, step + 1):
                total += mixing * rate ** (step - visited) * _distance(gram, visited - 1, task)
            row.append(total)
        table.append(row)
    return table


def _under_matrix(values: dict[str, Any], precision: int | None,
                  variant: str = "true") -> list[list[Any]]:
    """E||w_t - w_i^*||^2 for t, i = 1..T, underparameterized."""
    features, samples, noise_level, gram = _numbers(values, precision)
    count = len(gram)
    if variant == "noise_n_minus_p":
        noise = features * noise_level**2 / (samples - features)
    elif variant == "noise_n_over":
        noise = samples * noise_level**2 / (samples - features - 1)
    elif variant == "missing_noise":
        noise = 0 * noise_level
    else:
        noise = features * noise_level**2 / (samples - features - 1)
    return [[_distance(gram, step, task) + noise for task in range(count)]
            for step in range(count)]


def _finish(value: Any, precision: int | None) -> Any:
    """A float64 value (or array) without precision, mpmath otherwise."""
    if precision:
        return mpmath.matrix(value) if isinstance(value, list) else value
    return np.asarray(value, dtype=np.float64) if isinstance(value, list) else float(value)


def _model_error(table: Any, variant: str = "true") -> Any:
    def evaluate(values: dict[str, Any], precision: int | None) -> Any:
        if precision:
            with mpmath.workdps(precision + 5):
                return _finish(table(values, precision, variant), precision)
        return _finish(table(values, None, variant), None)

    return evaluate


def _forgetting(table: Any, variant: str = "true") -> Any:
    def compute(values: dict[str, Any], precision: int | None) -> Any:
        errors = table(values, precision, "true" if variant in {"divide_by_T",
                                                                 "noise_not_cancelled"}
                       else variant)
        count = len(errors)
        total = sum(errors[count - 1][task] - errors[task][task] for task in range(count - 1))
        if variant == "noise_not_cancelled":
            features, samples, noise_level, _ = _numbers(values, precision)
            total += (count - 1) * features * noise_level**2 / (samples - features - 1)
        return total / (count if variant == "divide_by_T" else count - 1)

    def evaluate(values: dict[str, Any], precision: int | None) -> Any:
        if precision:
            with mpmath.workdps(precision + 5):
                return +compute(values, precision)
        return float(compute(values, None))

    return evaluate


def _generalization(table: Any, variant: str = "true") -> Any:
    def compute(values: dict[str, Any], precision: int | None) -> Any:
        errors = table(values, precision, "true" if variant == "divide_by_T_minus_1"
                       else variant)
        count = len(errors)
        total = sum(errors[count - 1][task] for task in range(count))
        return total / (count - 1 if variant == "divide_by_T_minus_1" else count)

    def evaluate(values: dict[str, Any], precision: int | None) -> Any:
        if precision:
            with mpmath.workdps(precision + 5):
                return +compute(values, precision)
        return float(compute(values, None))

    return evaluate


# -- sampling ------------------------------------------------------------------------------


@st.composite
def _lin_points(draw: st.DrawFn, *, over: bool, minimum_tasks: int,
                prediction: Any = None) -> dict[str, Any]:
    """Points whose Monte Carlo fluctuations are tame.

    The noise term is an inverse-Wishart trace; its variance is finite only for
    |p - n| > 3 and its sample standard error is trustworthy only well beyond, so
    the search keeps 8 <= |p - n| <= 16 (``predict`` accepts |p - n| >= 2); the
    upper end keeps the noise term's (p - n - 1) distinguishable from (p - n).
    """
    count = draw(st.integers(minimum_tasks, 4))
    # Underparameterized, the noise term is the trace of a p x p inverse Wishart matrix:
    # p >= 8 keeps its relative spread (and so the Monte Carlo error) small.
    small = draw(st.integers(max(count, 2) if over else 8, 16))
    gap = draw(st.integers(8, 16))
    features, samples = (small + gap, small) if over else (small, small + gap)
    point = {"p": features, "n": samples, "T": count,
             "sigma": draw(st.floats(0.3, 1.0) if not over else
                           st.one_of(st.just(0.0), st.floats(0.3, 1.0))),
             "gram": draw(st.one_of(gram_matrices(tasks=count, min_norm=0.5, max_norm=2.0),
                                    gram_matrices(tasks=count, equicorrelated=True,
                                                  min_correlation=-0.3,
                                                  max_correlation=0.5)))}
    if prediction is not None:
        # A relative resolution means nothing where the expectation crosses zero;
        # the sign change itself is covered by tests at chosen points.
        scale = float(np.trace(point["gram"])) / count + point["sigma"] ** 2
        value = prediction(point, None)
        assume(abs(value) >= 0.25 * scale)
    return point


# -- 1-3. overparameterized (Theorem 1) ----------------------------------------------------

OVER_DECOYS = (
    ("r_is_n_over_p", "r = n/p instead of 1 - n/p"),
    ("noise_p_minus_n", "noise term p sigma^2/(p - n) instead of p sigma^2/(p - n - 1)"),
    ("missing_one_minus_r", "the factor (1 - r) in front of the task-distance sum dropped"),
)

class ExpectedModelError(sympy.Function):
    """``E||w_t - w_i^*||^2``: the name of the checked quantity (never evaluated)."""

    nargs = 2

    def _latex(self, printer: Any, exp: Any = None) -> str:
        step, task = (printer._print(a) for a in self.args)
        return rf"\mathbb{{E}}\left\|w_{{{step}}} - w^*_{{{task}}}\right\|^2"

    def _pretty(self, printer: Any) -> Any:
        step, task = (printer._print(a) for a in self.args)
        return prettyForm(f"E‖w_{step} - w*_{task}‖²")

    def _sympystr(self, printer: Any) -> str:
        step, task = (printer._print(a) for a in self.args)
        return f"E||w_{step} - w*_{task}||^2"


model_error_symbol = TaskTable(ExpectedModelError(t, i), t, i, T)

expected_model_error = Claim(
    id="continual.expected_model_error",
    title="Expected model error of sequential minimum-norm fitting (overparameterized)",
    citation=LIN_MODEL_ERROR,
    parameters=(p_parameter, n_parameter, tasks_parameter, sigma_parameter, gram_parameter),
    quantity=model_error_symbol,
    statement=TaskTable(model_error_over(t, i), t, i, T),
    conventions=OVER + (
        "The quantity is the T x T matrix of E||w_t - w_i^*||^2, row t = 1..T (after task t), "
        "column i = 1..T (ground truth of task i).",
    ),
    simulation="theorylab.numerics.continual:model_errors",
    systematic_error=MONTE_CARLO,
    constraints=(GRAM_SHAPE, OVERPARAMETERIZED, GRAM_RANK),
    evaluate=_model_error(_over_matrix),
    sample=lambda: _lin_points(over=True, minimum_tasks=1),
    decoys=tuple(Decoy(name, text, evaluate=_model_error(_over_matrix, name))
                 for name, text in OVER_DECOYS),
    ensemble=2000,
    budget=8,
    resolution=0.05,
)

expected_forgetting = Claim(
    id="continual.expected_forgetting",
    title="Expected forgetting of sequential minimum-norm fitting (overparameterized)",
    citation=LIN,
    parameters=(p_parameter, n_parameter, tasks_two_or_more, sigma_parameter, gram_parameter),
    quantity=sympy.Symbol(r"\mathbb{E}[F_T]"),
    statement=forgetting_over(),
    conventions=OVER + ("F_T = 1/(T-1) sum_{i<T} [L_i(w_T) - L_i(w_i)]; negative when later "
                        "tasks resemble earlier ones (backward transfer).",),
    simulation="theorylab.numerics.continual:forgetting",
    systematic_error=MONTE_CARLO,
    constraints=(GRAM_SHAPE, OVERPARAMETERIZED, GRAM_RANK),
    uses=("continual.expected_model_error",),
    evaluate=_forgetting(_over_matrix),
    sample=lambda: _lin_points(over=True, minimum_tasks=2,
                               prediction=_forgetting(_over_matrix)),
    decoys=tuple(Decoy(name, text, evaluate=_forgetting(_over_matrix, name))
                 for name, text in (OVER_DECOYS[0], OVER_DECOYS[2],
                                    ("divide_by_T", "averaged with 1/T instead of 1/(T - 1)"))),
    ensemble=4000,
    budget=8,
    resolution=0.05,
)

expected_generalization = Claim(
    id="continual.expected_generalization",
    title="Expected generalization error after T tasks (overparameterized)",
    citation=LIN,
    parameters=(p_parameter, n_parameter, tasks_parameter, sigma_parameter, gram_parameter),
    quantity=sympy.Symbol(r"\mathbb{E}[G_T]"),
    statement=generalization_over(),
    conventions=OVER + ("G_T = 1/T sum_{i<=T} L_i(w_T).",),
    simulation="theorylab.numerics.continual:generalization",
    systematic_error=MONTE_CARLO,
    constraints=(GRAM_SHAPE, OVERPARAMETERIZED, GRAM_RANK),
    uses=("continual.expected_model_error",),
    evaluate=_generalization(_over_matrix),
    sample=lambda: _lin_points(over=True, minimum_tasks=1),
    decoys=tuple(Decoy(name, text, evaluate=_generalization(_over_matrix, name))
                 for name, text in OVER_DECOYS),
    ensemble=2000,
    budget=8,
    resolution=0.05,
)

# -- 4. underparameterized (Theorem 2) ------------------------------------------------------


def model_error_under(step: Any, task: Any) -> Any:
    """E||w_step - w_task^*||^2, underparameterized, as a sympy expression."""
    return SquaredDistance(G, step, task) + noise_under


expected_model_error_underparameterized = Claim(
    id="continual.expected_model_error_underparameterized",
    title="Expected model error of sequential least-squares fitting (underparameterized)",
    citation=LIN_UNDER,
    parameters=(p_parameter, n_parameter, tasks_parameter, sigma_parameter, gram_parameter),
    quantity=model_error_symbol,
    statement=TaskTable(model_error_under(t, i), t, i, T),
    conventions=UNDER + ("The quantity is the T x T matrix of E||w_t - w_i^*||^2, row t, "
                         "column i.",),
    simulation="theorylab.numerics.continual:model_errors",
    systematic_error=MONTE_CARLO,
    constraints=(GRAM_SHAPE, UNDERPARAMETERIZED, GRAM_RANK),
    evaluate=_model_error(_under_matrix),
    sample=lambda: _lin_points(over=False, minimum_tasks=1),
    decoys=(
        Decoy("noise_n_minus_p", "noise p sigma^2/(n - p) instead of p sigma^2/(n - p - 1)",
              evaluate=_model_error(_under_matrix, "noise_n_minus_p")),
        Decoy("noise_n_over", "noise n sigma^2/(n - p - 1): p and n swapped in the numerator",
              evaluate=_model_error(_under_matrix, "noise_n_over")),
        Decoy("missing_noise", "the noise term dropped",
              evaluate=_model_error(_under_matrix, "missing_noise")),
    ),
    ensemble=2000,
    budget=8,
    resolution=0.05,
)

expected_forgetting_underparameterized = Claim(
    id="continual.expected_forgetting_underparameterized",
    title="Expected forgetting of sequential least-squares fitting (underparameterized)",
    citation=LIN_UNDER,
    parameters=(p_parameter, n_parameter, tasks_two_or_more, sigma_parameter, gram_parameter),
    quantity=sympy.Symbol(r"\mathbb{E}[F_T]"),
    statement=sympy.Sum(SquaredDistance(G, T2, i), (i, 1, T2 - 1)) / (T2 - 1),
    conventions=UNDER + ("F_T = 1/(T-1) sum_{i<T} [L_i(w_T) - L_i(w_i)]; the noise terms "
                         "cancel.",),
    simulation="theorylab.numerics.continual:forgetting",
    systematic_error=MONTE_CARLO,
    constraints=(GRAM_SHAPE, UNDERPARAMETERIZED, GRAM_RANK),
    uses=("continual.expected_model_error_underparameterized",),
    evaluate=_forgetting(_under_matrix),
    sample=lambda: _lin_points(over=False, minimum_tasks=2,
                               prediction=_forgetting(_under_matrix)),
    decoys=(
        Decoy("noise_not_cancelled", "the noise term p sigma^2/(n - p - 1) kept",
              evaluate=_forgetting(_under_matrix, "noise_not_cancelled")),
        Decoy("divide_by_T", "averaged with 1/T instead of 1/(T - 1)",
              evaluate=_forgetting(_under_matrix, "divide_by_T")),
    ),
    ensemble=2000,
    budget=8,
    resolution=0.05,
)

expected_generalization_underparameterized = Claim(
    id="continual.expected_generalization_underparameterized",
    title="Expected generalization error after T tasks (underparameterized)",
    citation=LIN_UNDER,
    parameters=(p_parameter, n_parameter, tasks_parameter, sigma_parameter, gram_parameter),
    quantity=sympy.Symbol(r"\mathbb{E}[G_T]"),
    statement=sympy.Sum(SquaredDistance(G, T, i), (i, 1, T)) / T + noise_under,
    conventions=UNDER + ("G_T = 1/T sum_{i<=T} L_i(w_T).",),
    simulation="theorylab.numerics.continual:generalization",
    systematic_error=MONTE_CARLO,
    constraints=(GRAM_SHAPE, UNDERPARAMETERIZED, GRAM_RANK),
    uses=("continual.expected_model_error_underparameterized",),
    evaluate=_generalization(_under_matrix),
    sample=lambda: _lin_points(over=False, minimum_tasks=1),
    decoys=(
        Decoy("noise_n_minus_p", "noise p sigma^2/(n - p) instead of p sigma^2/(n - p - 1)",
              evaluate=_generalization(_under_matrix, "noise_n_minus_p")),
        Decoy("noise_n_over", "noise n sigma^2/(n - p - 1)",
              evaluate=_generalization(_under_matrix, "noise_n_over")),
        Decoy("divide_by_T_minus_1", "averaged with 1/(T - 1) instead of 1/T",
              evaluate=_generalization(_under_matrix, "divide_by_T_minus_1")),
    ),
    ensemble=2000,
    budget=8,
    resolution=0.05,
)

# -- 5. two tasks at angle theta (Evron et al.) ------------------------------------------------

theta_parameter = Parameter("theta", Real(0, math.pi / 2, upper_open=False),
                            "angle between the two tasks' normals (and solution lines)",
                            latex="theta")
visits_parameter = Parameter("k", Integer(1, 10_000), "iterations (task visits) 1, 2, 1, 2, ...; "
                             "at most 10^4: the simulation projects k times at each of ~50 "
                             "angles of its search for the supremum")
along_parameter = Parameter("w_along", Real(), "component of w^* along task 1's solution "
                            "line (orthogonal to its normal x_1)", latex=r"w^*_{\parallel}")
normal_parameter = Parameter("w_normal", Real(), "component of w^* along task 1's unit normal "
                             "x_1", latex=r"w^*_{\perp}")
theta, visits, along = theta_parameter.symbol, visits_parameter.symbol, along_parameter.symbol
normal = normal_parameter.symbol


def _two_task(variant: str) -> Any:
    """(F(k), sup over theta of F(k)) for the variant."""

    def evaluate(values: dict[str, Any], precision: int | None) -> Any:
        library = mpmath if precision else math
        with mpmath.workdps((precision or 15) + 5):
            convert = mpmath.mpf if precision else float
            angle = convert(values["theta"])
            count = int(values["k"])
            component = convert(values["w_normal"] if variant == "normal_component"
                                else values["w_along"])
            weight = convert(0.5) if variant == "half_for_every_k" else \
                convert(count // 2) / count
            power = count if variant == "exponent_k" else count - 1
            value = (weight * library.sin(angle) ** 2 * library.cos(angle) ** (2 * power)
                     * component**2)
            # max over c = cos^2(theta) of c^power (1 - c) is at c = power/(power + 1).
            peak = (convert(power) / (power + 1)) ** power / (power + 1)
            supremum = weight * peak * component**2
            if precision:
                return [+value, +supremum]
        return np.array([value, supremum], dtype=np.float64)

    return evaluate


@st.composite
def _two_task_points(draw: st.DrawFn) -> dict[str, Any]:
    sign = draw(st.sampled_from((1.0, -1.0)))
    return {"theta": draw(st.floats(0.05, 1.0)), "k": draw(st.integers(2, 16)),
            "w_along": sign * draw(st.floats(0.3, 2.0)), "w_normal": draw(st.floats(-2.0, 2.0))}


two_task_forgetting = Claim(
    id="continual.two_task_forgetting",
    title="Forgetting of two rank-one tasks at angle theta in cyclic order, and its supremum",
    citation=EVRON,
    parameters=(theta_parameter, visits_parameter, along_parameter, normal_parameter),
    quantity=sympy.ImmutableMatrix([sympy.Symbol("F(k)"), sympy.Symbol(r"\sup_{\theta} F(k)")]),
    statement=ComponentVector([
        sympy.floor(visits / 2) / visits * sympy.sin(theta) ** 2
        * sympy.cos(theta) ** (2 * (visits - 1)) * along**2,
        sympy.floor(visits / 2) / visits * (1 - 1 / visits) ** (visits - 1) / visits * along**2,
    ]),
    conventions=(
        "Two tasks in R^2, x_1^T w = y_1 and x_2^T w = y_2 with unit normals at angle theta, "
        "realizable by w^* = w_normal x_1 + w_along v_1 (v_1 spans task 1's solution line).",
        "Visits 1, 2, 1, 2, ...; each fits its task to convergence from the previous weights "
        "(an orthogonal projection), from w_0 = 0.",
        "F(k) = 1/k sum_{t<=k} (x_{tau(t)}^T w_k - y_{tau(t)})^2 counts a task once per visit: "
        "the task not visited last was visited floor(k/2) times, hence floor(k/2)/k, which is "
        "1/2 for even k.",
        "The second component is sup over theta in (0, pi/2] at fixed k and w_along, attained "
        "at cos^2 theta = 1 - 1/k; it is at most 1/(2e(k-1)) w_along^2.",
    ),
    simulation="theorylab.numerics.continual:two_task_forgetting",
    systematic_error=DETERMINISTIC,
    evaluate=_two_task("true"),
    sample=_two_task_points,
    components=("forgetting", "supremum_over_theta"),
    decoys=(
        Decoy("half_for_every_k", "1/2 in place of floor(k/2)/k (ignores visit multiplicity "
              "at odd k)", evaluate=_two_task("half_for_every_k")),
        Decoy("normal_component", "<w^*, x_1>^2 (the component along task 1's normal, which the "
              "first visit fits exactly) in place of the component along its solution line",
              evaluate=_two_task("normal_component")),
        Decoy("exponent_k", "cos^(2k) theta in place of cos^(2(k-1)) theta",
              evaluate=_two_task("exponent_k")),
    ),
    ensemble=4,
    budget=16,
    resolution=1e-4,
)

# -- 6. cyclic forgetting bound (Evron et al.) ---------------------------------------------------

cyclic_tasks_parameter = Parameter("T", Integer(2, 1000), "number of tasks, visited cyclically; "
                                   "at most 1000 (each is pseudo-inverted)")
dimension_parameter = Parameter("d", Integer(1, 1000), "dimension of the weights; at most 1000 "
                                "(each member draws a Haar rotation of R^d)")
iterations_parameter = Parameter("k", Integer(1, 100_000), "iterations (task visits); at most "
                                 "10^5: the simulation projects k times, one after another")
collection_parameter = Parameter(
    "tasks", Matrix(ndim=3), "the data matrices X_1..X_T stacked, shape T x rows x d "
    "(zero rows lower a task's rank)", latex="X")
solution_parameter = Parameter("w_star", Matrix(ndim=1), "a common solution w^*, length d "
                               "(y_m = X_m w^*)", latex="w^*")
cycle_T, cycle_d, cycle_k = (prm.symbol for prm in (cyclic_tasks_parameter,
                                                    dimension_parameter, iterations_parameter))

COLLECTION_SHAPE = Constraint("tasks has shape T x rows x d",
                              lambda v: v["tasks"].shape[0] == v["T"]
                              and v["tasks"].shape[2] == v["d"], ("tasks", "T", "d"))
SOLUTION_SHAPE = Constraint("w_star has length d", lambda v: v["w_star"].shape == (v["d"],),
                            ("w_star", "d"))


@st.composite
def _task_collections(draw: st.DrawFn) -> dict[str, Any]:
    """Task collections: generic matrices, or slowly rotating rank-one tasks in R^2.

    Entries and angles are drawn by hypothesis itself (no hidden seed), so a
    counterexample shrinks to a small, simple collection.
    """
    count = draw(st.integers(2, 4))
    iterations = draw(st.integers(1, 64))
    if draw(st.booleans()):
        dimension = 2
        start = draw(st.floats(0.0, math.pi))
        steps = [draw(st.floats(0.01, 1.5)) for _ in range(count - 1)]
        angles = np.cumsum([start, *steps])
        tasks = np.stack([np.cos(angles), np.sin(angles)], axis=1)[:, None, :]
        direction = draw(st.floats(0.0, 2 * math.pi))
        solution = np.array([math.cos(direction), math.sin(direction)])
    else:
        dimension = draw(st.integers(2, 4))
        rows = draw(st.integers(1, dimension - 1))
        size = count * rows * dimension
        entries = draw(st.lists(st.floats(-1.0, 1.0), min_size=size, max_size=size))
        tasks = np.asarray(entries).reshape(count, rows, dimension)
        # Nearly rank-deficient tasks make the projections (and so the measurement)
        # ill-conditioned; exactly rank-deficient ones (zero rows) are kept.
        singular = np.linalg.svd(tasks, compute_uv=False)
        zero = max(rows, dimension) * np.finfo(np.float64).eps * singular.max(axis=1)
        assume(bool(np.all((singular <= zero[:, None])
                           | (singular >= 1e-4 * singular.max(axis=1)[:, None]))))
        solution = np.asarray(draw(st.lists(st.floats(-1.0, 1.0), min_size=dimension,
                                            max_size=dimension)))
    return {"T": count, "d": dimension, "k": iterations, "tasks": tasks, "w_star": solution}


cyclic_forgetting_bound = Claim(
    id="continual.cyclic_forgetting_bound",
    title="Upper bound on forgetting for T tasks in cyclic order",
    citation=EVRON_CYCLIC,
    parameters=(cyclic_tasks_parameter, dimension_parameter, iterations_parameter,
                collection_parameter, solution_parameter),
    quantity=sympy.Symbol("F(k)"),
    statement=cycle_T**2 * sympy.Min(1 / sympy.sqrt(cycle_k), cycle_d / cycle_k),
    relation="<=",
    conventions=(
        "Tasks X_m w = y_m (m = 1..T) with y_m = X_m w^*, visited cyclically "
        "tau(t) = ((t - 1) mod T) + 1 for k iterations, each fitted to convergence from the "
        "previous weights (a projection), from w_0 = 0.",
        "F(k) = 1/k sum_{t<=k} ||X_{tau(t)} w_k - y_{tau(t)}||^2 (once per visit).",
        "Normalized as in the paper: the data are rescaled so that max_m ||X_m||_2 = 1 and "
        "w^* is replaced by the minimum-norm common solution, rescaled to norm 1; for raw "
        "data the bound reads R^2 ||w^*||^2 T^2 min(1/sqrt(k), d/k).",
        "An inequality: the check passes where the measured forgetting does not exceed the "
        "bound beyond rounding, and hypothesis searches task collections for a violation.",
    ),
    simulation="theorylab.numerics.continual:cyclic_forgetting",
    systematic_error=DETERMINISTIC,
    constraints=(COLLECTION_SHAPE, SOLUTION_SHAPE),
    sample=_task_collections,
    decoys=(
        Decoy("exponential_rate", "T^2 exp(-k/d): a linear convergence rate, as for the "
              "distance to the offline solution under a spectral gap",
              cycle_T**2 * sympy.exp(-cycle_k / cycle_d)),
        Decoy("kaczmarz_rate", "T^2 (1 - 1/d)^k: a randomized-Kaczmarz contraction per "
              "iteration taken as the forgetting rate", cycle_T**2 * (1 - 1 / cycle_d) ** cycle_k),
    ),
    ensemble=2,
    budget=24,
    resolution=1e-4,
)
