r"""Sequential linear regression: the definitions behind the continual-learning claims.

Definitions, not results: what the claims of :mod:`theorylab.theory.continual` state
and what :mod:`theorylab.numerics.continual` measures are both built from these, so
each is written once.

- Ground truths ``w_1^*, ..., w_T^*`` enter only through their Gram matrix
  ``G[i, j] = <w_i^*, w_j^*>`` (:class:`GramMatrix`, a parameter domain):
  :func:`ground_truths` builds vectors with that Gram matrix, and the task-indexed
  quantities ``||w_i^*||^2 = G_ii`` and ``||w_k^* - w_i^*||^2 = G_kk + G_ii - 2 G_ki``
  are the named functions :class:`SquaredNorm` and :class:`SquaredDistance`.
- A matrix of a task-indexed quantity, ``[M(t, i)]_{t, i = 1..T}``, is one sympy
  expression, :class:`TaskTable`; a vector of components is :class:`ComponentVector`.
- Forgetting and generalization error of a model-error table ``M(t, i)`` (Lin, Ju,
  Liang & Shroff 2023, arXiv:2302.05836): ``F_T = 1/(T-1) sum_{i<T} [M(T, i) - M(i, i)]``
  and ``G_T = 1/T sum_{i<=T} M(T, i)``, symbolically (:func:`average_forgetting`,
  :func:`average_generalization`) and on arrays of samples (:func:`forgetting_of`,
  :func:`generalization_of`).
- Evron et al.'s normalization of a task collection (arXiv:2205.09588):
  :func:`normalized_collection`.
- Samplers of these structured objects, in hypothesis's style (keyword-only bounds,
  :class:`hypothesis.errors.InvalidArgument` when first drawn):
  :func:`sequential_regressions` and :func:`task_collections`.
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np
import sympy
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from sympy.printing.pretty.stringpict import prettyForm

from theorylab.domains import Matrix
from theorylab.errors import ParameterError
from theorylab.functions import named_function
from theorylab.strategies import _check_integer, _check_real, _integer_bounds, gram_matrices

__all__ = ["GramMatrix", "gram_rank", "ground_truths", "model_error_scale", "squared_norm_value",
           "squared_distance_value",
           "SquaredNorm", "SquaredDistance", "ExpectedModelError", "TaskTable",
           "ComponentVector", "average_forgetting", "average_generalization", "forgetting_of",
           "generalization_of", "normalized_collection", "sequential_regressions",
           "task_collections"]


# -- Gram matrices -------------------------------------------------------------------------


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


def gram_rank(gram: np.ndarray) -> int:
    """Numerical rank of a Gram matrix: eigenvalues above 1e-10 of its scale (at least 1)."""
    scale = max(float(np.abs(gram).max()), 1.0)
    return int(np.sum(np.linalg.eigvalsh(gram) > 1e-10 * scale))


def ground_truths(gram: np.ndarray, dimension: int) -> np.ndarray:
    """Vectors ``w_1, ..., w_T`` in ``R^dimension`` with ``<w_i, w_j> = gram[i, j]``.

    From the eigendecomposition ``gram = U diag(lambda) U^T``: the rows of
    ``U diag(sqrt(lambda))``, padded with zeros (or cut to the ``dimension`` largest
    eigenvalues, which needs rank(gram) <= dimension).
    """
    values, vectors = np.linalg.eigh(np.asarray(gram, dtype=np.float64))
    order = np.argsort(values)[::-1]
    values, vectors = np.clip(values[order], 0.0, None), vectors[:, order]
    rows = vectors * np.sqrt(values)
    count = rows.shape[0]
    result = np.zeros((count, dimension))
    keep = min(count, dimension)
    result[:, :keep] = rows[:, :keep]
    return result


def squared_norm_value(gram: Any, task: Any) -> float:
    """``||w_task^*||^2 = gram[task, task]`` (1-based task index)."""
    index = int(task) - 1
    return float(np.asarray(gram, dtype=np.float64)[index, index])


def squared_distance_value(gram: Any, first: Any, second: Any) -> float:
    """``||w_first^* - w_second^*||^2 = G_ff + G_ss - 2 G_fs`` (1-based task indices)."""
    matrix = np.asarray(gram, dtype=np.float64)
    one, two = int(first) - 1, int(second) - 1
    return float(matrix[one, one] + matrix[two, two] - 2 * matrix[one, two])


# -- task-indexed quantities as sympy functions ----------------------------------------------


def _generic_value(*arguments: int) -> Any:
    """A fixed pseudo-random number in (0.2, 2.2) for integer arguments.

    Lets derivations check identities about an arbitrary function of task indices
    numerically: with ``G`` a symbol, :class:`SquaredNorm` and :class:`SquaredDistance`
    evaluate (``evalf``) to these values.
    """
    with mpmath.workdps(60):
        seed = sum(mpmath.sqrt(prime) * argument for prime, argument in
                   zip((2, 3, 5, 7), arguments, strict=False))
        return mpmath.mpf("0.2") + 2 * mpmath.frac(mpmath.sin(seed) * 43758)


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


class ExpectedModelError(sympy.Function):
    """``E||w_t - w_i^*||^2``: the name of a checked quantity (never evaluated)."""

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
    """A column of components that evaluates to a 1-D array, as simulations measure."""

    def _numpycode(self, printer: Any) -> str:
        entries = ", ".join(printer._print(entry) for entry in self)
        return f"{printer._module_format('numpy.array')}([{entries}])"

    def _mpmathcode(self, printer: Any) -> str:
        entries = ", ".join(printer._print(entry) for entry in self)
        return f"{printer._module_format('mpmath.matrix')}([{entries}])"


# -- forgetting and generalization of a model-error table ------------------------------------


def average_forgetting(model_error: sympy.Lambda, count: sympy.Expr) -> sympy.Expr:
    """``F_T = 1/(T-1) sum_{i<T} [M(T, i) - M(i, i)]`` for ``M = model_error`` (a Lambda of t, i).

    The forgetting of Lin et al.: the model error of each earlier task after the last
    task, less the one right after that task was learned.
    """
    task = sympy.Symbol("i", integer=True, positive=True)
    return sympy.Sum(model_error(count, task) - model_error(task, task),
                     (task, 1, count - 1)) / (count - 1)


def average_generalization(model_error: sympy.Lambda, count: sympy.Expr) -> sympy.Expr:
    """``G_T = 1/T sum_{i<=T} M(T, i)`` for ``M = model_error`` (a Lambda of t, i)."""
    task = sympy.Symbol("i", integer=True, positive=True)
    return sympy.Sum(model_error(count, task), (task, 1, count)) / count


def model_error_scale(point: dict[str, Any]) -> float:
    """``tr(G)/T + sigma^2``: the size of a model error (mean ``||w_i^*||^2`` plus noise).

    A relative resolution means nothing where an expectation crosses zero (forgetting
    does, with task similarity); samplers keep points where it is a fair share of this.
    """
    gram = np.asarray(point["gram"], dtype=np.float64)
    return float(np.trace(gram)) / gram.shape[0] + float(point["sigma"]) ** 2


def forgetting_of(errors: np.ndarray) -> np.ndarray:
    """``F_T`` per sample from model errors of shape (samples, T, T): row t, column i."""
    count = errors.shape[1]
    final = errors[:, count - 1, : count - 1]
    own = np.diagonal(errors, axis1=1, axis2=2)[:, : count - 1]
    return (final - own).sum(axis=1) / (count - 1)


def generalization_of(errors: np.ndarray) -> np.ndarray:
    """``G_T`` per sample from model errors of shape (samples, T, T): the mean of the last row."""
    return errors[:, -1, :].mean(axis=1)


# -- Evron et al.'s task collections -------------------------------------------------------


def normalized_collection(tasks: np.ndarray,
                          solution: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Evron et al.'s normalization of tasks ``X_m w = X_m w^*`` (shape T x rows x d).

    The data are rescaled so that ``max_m ||X_m||_2 = 1`` and ``w^*`` is replaced by
    the minimum-norm common solution, rescaled to norm 1 (left at zero if it is zero).
    """
    data = np.asarray(tasks, dtype=np.float64)
    largest = float(np.linalg.norm(data, ord=2, axis=(1, 2)).max())
    if largest > 0:
        data = data / largest
    stacked = data.reshape(-1, data.shape[-1])
    cutoff = max(stacked.shape) * np.finfo(np.float64).eps  # singular values kept: relative
    minimum_norm = (np.linalg.pinv(stacked, rcond=cutoff)
                    @ (stacked @ np.asarray(solution, dtype=np.float64)))
    length = float(np.linalg.norm(minimum_norm))
    return data, (minimum_norm / length if length > 0 else minimum_norm)


# -- samplers ------------------------------------------------------------------------------


def sequential_regressions(*, overparameterized: bool, min_tasks: int = 1, max_tasks: int = 4,
                           min_gap: int = 8, max_gap: int = 16,
                           max_noise: float = 1.0) -> st.SearchStrategy[dict[str, Any]]:
    """Lin et al. problems ``{"p", "n", "T", "sigma", "gram"}`` whose Monte Carlo is tame.

    ``T`` in ``[min_tasks, max_tasks]``; ``|p - n|`` in ``[min_gap, max_gap]``: the noise
    term is an inverse-Wishart trace whose variance is finite only for ``|p - n| > 3``
    and whose sample standard error is trustworthy only well beyond. The smaller of
    ``p`` and ``n`` lies in ``[max(T, 2), 16]`` (overparameterized) or ``[8, 16]``
    (underparameterized: ``p >= 8`` keeps the relative spread of the ``p x p`` inverse
    Wishart trace small). ``sigma`` is in ``[0.3, max_noise]``, or 0 for a quarter of the
    overparameterized draws. ``gram`` is a :func:`gram_matrices` draw, with
    norms in ``[0.5, 2]`` or equicorrelated unit vectors (``rho`` in ``[-0.3, 0.5]``).
    """

    def build() -> st.SearchStrategy[dict[str, Any]]:
        if not isinstance(overparameterized, bool):
            raise InvalidArgument(f"overparameterized={overparameterized!r} must be True or "
                                  "False")
        fewest, most = _integer_bounds("min_tasks", min_tasks, "max_tasks", max_tasks, 1)
        narrowest, widest = _integer_bounds("min_gap", min_gap, "max_gap", max_gap, 2)
        loudest = _check_real("max_noise", max_noise, minimum=0.3)

        @st.composite
        def problems(draw: st.DrawFn) -> dict[str, Any]:
            count = draw(st.integers(fewest, most))
            small = draw(st.integers(max(count, 2) if overparameterized else 8,
                                     max(16, count)))
            gap = draw(st.integers(narrowest, widest))
            # A quarter of the overparameterized draws are noiseless (0 is the shrink
            # target); a noise term's decoy is indistinguishable there, and with half of
            # them noiseless all 8 points of a check were at seed 134.
            noisy = not overparameterized or draw(st.integers(0, 3)) > 0
            return {"p": small + gap if overparameterized else small,
                    "n": small if overparameterized else small + gap, "T": count,
                    "sigma": draw(st.floats(0.3, loudest)) if noisy else 0.0,
                    "gram": draw(st.one_of(gram_matrices(tasks=count, min_norm=0.5,
                                                         max_norm=2.0),
                                           gram_matrices(tasks=count, equicorrelated=True,
                                                         min_correlation=-0.3,
                                                         max_correlation=0.5)))}

        return problems()

    return st.deferred(build)


def task_collections(*, min_tasks: int = 2, max_tasks: int = 4, max_dimension: int = 4,
                     max_iterations: int = 64) -> st.SearchStrategy[dict[str, Any]]:
    """Realizable task collections ``{"T", "d", "k", "tasks", "w_star"}`` for cyclic fitting.

    Either slowly rotating rank-one tasks in ``R^2`` (the hard case of Evron et al.),
    or ``T`` generic ``rows x d`` matrices with entries in ``[-1, 1]`` (``2 <= d <=
    max_dimension``, ``rows < d``), with a common solution ``w_star`` and ``k`` in
    ``[1, max_iterations]`` iterations. Entries and angles are drawn by hypothesis
    itself (no hidden seed), so a counterexample shrinks to a small, simple collection.
    A task whose singular values spread beyond 10^4 (but above rounding) is rejected:
    its projection, and so the measurement, would be ill-conditioned; exactly
    rank-deficient tasks (zero rows) are kept.
    """

    def build() -> st.SearchStrategy[dict[str, Any]]:
        fewest, most = _integer_bounds("min_tasks", min_tasks, "max_tasks", max_tasks, 2)
        widest = _check_integer("max_dimension", max_dimension, 2)
        longest = _check_integer("max_iterations", max_iterations, 1)

        @st.composite
        def collections(draw: st.DrawFn) -> dict[str, Any]:
            count = draw(st.integers(fewest, most))
            iterations = draw(st.integers(1, longest))
            if draw(st.booleans()):
                dimension = 2
                start = draw(st.floats(0.0, math.pi))
                steps = [draw(st.floats(0.01, 1.5)) for _ in range(count - 1)]
                angles = np.cumsum([start, *steps])
                tasks = np.stack([np.cos(angles), np.sin(angles)], axis=1)[:, None, :]
                direction = draw(st.floats(0.0, 2 * math.pi))
                solution = np.array([math.cos(direction), math.sin(direction)])
            else:
                dimension = draw(st.integers(2, widest))
                rows = draw(st.integers(1, dimension - 1))
                size = count * rows * dimension
                entries = draw(st.lists(st.floats(-1.0, 1.0), min_size=size, max_size=size))
                tasks = np.asarray(entries).reshape(count, rows, dimension)
                singular = np.linalg.svd(tasks, compute_uv=False)
                zero = max(rows, dimension) * np.finfo(np.float64).eps * singular.max(axis=1)
                assume(bool(np.all((singular <= zero[:, None])
                                   | (singular >= 1e-4 * singular.max(axis=1)[:, None]))))
                solution = np.asarray(draw(st.lists(st.floats(-1.0, 1.0), min_size=dimension,
                                                    max_size=dimension)))
            return {"T": count, "d": dimension, "k": iterations, "tasks": tasks,
                    "w_star": solution}

        return collections()

    return st.deferred(build)
