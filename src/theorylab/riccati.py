r"""The matrix Riccati flow ``dM/dt = F M + M F - 2 r M²`` and its closed-form solution.

Definitions and numerical methods, no results. For a symmetric ``F`` and a start
``M(0) = Q0 Q0ᵀ``, the solution is

    M(t) = e^{F t} Q0 [I + r Q0ᵀ F⁻¹ (e^{2 F t} - I) Q0]⁻¹ Q0ᵀ e^{F t},

where ``F⁻¹ (e^{2 F t} - I)`` stands for ``2 ∫_0^t e^{2 F u} du``, defined for a
singular ``F`` too (its zero eigenvalues contribute ``2 t``). The bracket is
``I`` plus a positive semidefinite matrix for ``r >= 0``, so it is always
invertible. :func:`riccati_solution_value` evaluates it in the eigenbasis of ``F``.

Where ``e^{2 |λ|_max t}`` is large, float64 loses the answer to cancellation
between huge terms (about ``eps e^{2 |λ|_max t}`` relative; measured in
``tests/test_zero_balanced.py``): beyond :data:`FLOAT64_EXPONENT` the value is
computed with mpmath at a precision that grows with the exponent and returned
in float64.

Each function is bound to a :func:`~theorylab.functions.named_function`, so that
a statement prints the closed form and evaluates through the one implementation
here: ``coupling(Σ) = [[0, Σᵀ], [Σ, 0]]``, ``stacked(W1, W2) = [W1ᵀ; W2]``,
``riccati_solution(F, Q0, t, r)``, ``block(M, i, j, n)`` and, for the decoupled
(aligned) mode picture, ``matrix_product`` and ``aligned_block``.
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np
import sympy

from theorylab.functions import named_function
from theorylab.matrix_functions import precise

__all__ = [
    "FLOAT64_EXPONENT",
    "MAX_EXPONENT",
    "coupling_matrix",
    "stacked_weights",
    "riccati_exponent",
    "riccati_digits",
    "riccati_solution_value",
    "block_value",
    "aligned_block_value",
    "zero_balance_residual",
    "coupling",
    "stacked",
    "riccati_solution",
    "block",
    "matrix_product",
    "aligned_block",
]

#: Largest ``2 |λ|_max t`` evaluated in float64: its cancellation error, about
#: ``eps e^{2 |λ|_max t}`` relative, then stays below ``eps e^16 ≈ 2e-9`` (measured: 1e-12).
FLOAT64_EXPONENT = 16.0
#: Largest ``2 |λ|_max t`` evaluated at all: the mpmath path needs about
#: ``2 x / ln 10`` extra digits for an exponent ``x`` (900 digits at 1000).
MAX_EXPONENT = 1000.0


def coupling_matrix(correlation: Any) -> np.ndarray:
    """``F = [[0, Σᵀ], [Σ, 0]]`` for ``Σ = correlation`` (No x Ni), of size Ni + No."""
    correlation = np.asarray(correlation, dtype=np.float64)
    outputs, inputs = correlation.shape
    coupling_ = np.zeros((inputs + outputs, inputs + outputs))
    coupling_[:inputs, inputs:] = correlation.T
    coupling_[inputs:, :inputs] = correlation
    return coupling_


def stacked_weights(first: Any, second: Any) -> np.ndarray:
    """``Q = [W1ᵀ; W2]`` ((Ni + No) x Nh) for ``W1`` (Nh x Ni) and ``W2`` (No x Nh)."""
    return np.vstack([np.asarray(first, dtype=np.float64).T,
                      np.asarray(second, dtype=np.float64)])


def riccati_exponent(generator: Any, time: Any) -> float:
    """``2 |λ|_max t``: the largest exponent in ``e^{2 F t}``, which sets the precision needed."""
    values = np.linalg.eigvalsh(np.asarray(generator, dtype=np.float64))
    return 2.0 * float(np.max(np.abs(values))) * abs(float(time))


def riccati_digits(exponent: float) -> int:
    """Working digits for the mpmath path: 30, plus two per decade of ``e^{exponent}``."""
    return 30 + math.ceil(2 * exponent / math.log(10))


def _float64_solution(generator: np.ndarray, start: np.ndarray, time: float,
                      rate: float) -> np.ndarray:
    values, vectors = np.linalg.eigh(generator)
    rotated = vectors.T @ start  # Q0 in the eigenbasis of F
    growth = np.exp(values * time)
    # F^-1 (e^{2Ft} - I) = 2 int_0^t e^{2Fu} du: expm1(2 l t)/l, and 2t where l = 0.
    safe = np.where(values == 0, 1.0, values)
    integral = np.where(values == 0, 2 * time, np.expm1(2 * values * time) / safe)
    bracket = np.eye(start.shape[1]) + rate * rotated.T @ (integral[:, None] * rotated)
    grown = vectors @ (growth[:, None] * rotated)  # e^{Ft} Q0
    return grown @ np.linalg.solve(bracket, grown.T)


def _mpmath_solution(generator: np.ndarray, start: np.ndarray, time: Any, rate: Any) -> Any:
    """The solution as an mpmath matrix at the working precision."""
    size, hidden = start.shape
    values, vectors = mpmath.eigsy(mpmath.matrix(generator.tolist()))
    rotated = vectors.T * mpmath.matrix(start.tolist())
    time, rate = mpmath.mpf(time), mpmath.mpf(rate)
    scaled = mpmath.matrix(size, hidden)
    weighted = mpmath.matrix(size, hidden)
    for row in range(size):
        value = values[row]
        integral = 2 * time if value == 0 else mpmath.expm1(2 * value * time) / value
        for column in range(hidden):
            scaled[row, column] = mpmath.exp(value * time) * rotated[row, column]
            weighted[row, column] = integral * rotated[row, column]
    bracket = mpmath.eye(hidden) + rate * rotated.T * weighted
    grown = vectors * scaled
    return grown * mpmath.inverse(bracket) * grown.T


def riccati_solution_value(generator: Any, start: Any, time: Any, rate: Any) -> Any:
    """``M(t) = e^{Ft} Q0 [I + r Q0ᵀ F⁻¹(e^{2Ft} - I) Q0]⁻¹ Q0ᵀ e^{Ft}``.

    Solves ``dM/dt = F M + M F - 2 r M²`` from ``M(0) = Q0 Q0ᵀ`` for symmetric
    ``F = generator`` and ``Q0 = start``, at ``t = time >= 0``.

    Returns:
        A float64 array; with ``predict(precision=...)`` a numpy array of mpmath
        numbers at (at least) the working precision.

    Raises:
        ValueError: for a negative time, shapes that do not chain, or an exponent
            ``2 |λ|_max t`` above :data:`MAX_EXPONENT`.

    """
    generator = np.asarray(generator, dtype=np.float64)
    start = np.asarray(start, dtype=np.float64)
    if start.ndim != 2 or generator.shape != (start.shape[0], start.shape[0]):
        raise ValueError(f"riccati_solution: F {generator.shape} and Q0 {start.shape} "
                         "do not chain (F must be n x n for Q0 n x k)")
    if float(time) < 0:
        raise ValueError(f"riccati_solution: time must be >= 0, got {float(time)}")
    exponent = riccati_exponent(generator, time)
    if exponent > MAX_EXPONENT:
        raise ValueError(f"riccati_solution: exponent 2|lambda|_max t = {exponent:.4g} is above "
                         f"{MAX_EXPONENT:g} ({riccati_digits(exponent)} digits would be needed)")
    if precise():
        with mpmath.workdps(max(mpmath.mp.dps, riccati_digits(exponent))):
            solution = _mpmath_solution(generator, start, time, rate)
        return np.array([[+entry for entry in row] for row in solution.tolist()], dtype=object)
    if exponent <= FLOAT64_EXPONENT:
        return _float64_solution(generator, start, float(time), float(rate))
    with mpmath.workdps(riccati_digits(exponent)):
        solution = _mpmath_solution(generator, start, float(time), float(rate))
        return np.array(solution.tolist(), dtype=np.float64)


def block_value(matrix: Any, row: Any, column: Any, split: Any) -> Any:
    """Block ``(row, column)`` (1 or 2 each) of ``matrix`` split after ``split`` rows/columns."""
    matrix = np.asarray(matrix)
    split = int(split)
    rows = slice(0, split) if int(row) == 1 else slice(split, None)
    columns = slice(0, split) if int(column) == 1 else slice(split, None)
    return matrix[rows, columns]


def aligned_block_value(correlation: Any, strengths: Any, row: Any, column: Any) -> Any:
    """A block of ``[[V D Vᵀ, V D Uᵀ], [U D Vᵀ, U D Uᵀ]]``, ``Σ = U S Vᵀ``, ``D = diag(strengths)``.

    The matrix ``Q Qᵀ`` of a network whose modes are aligned with the singular
    vectors of ``Σ`` (thin SVD, descending) with strengths ``D``: block (2, 1) is
    the network ``U D Vᵀ``. Signs of singular pairs cancel in every block.
    """
    left, _, right_t = np.linalg.svd(np.asarray(correlation, dtype=np.float64),
                                     full_matrices=False)
    strengths = np.asarray(strengths)
    out = left if int(row) == 2 else right_t.T
    into = right_t if int(column) == 1 else left.T
    return (out * strengths) @ into


def zero_balance_residual(first: Any, second: Any) -> float:
    """``||W1 W1ᵀ - W2ᵀ W2||_F / ||W1 W1ᵀ||_F`` (0 for zero weights; NaN if they overflow)."""
    first = np.asarray(first, dtype=np.float64)
    second = np.asarray(second, dtype=np.float64)
    with np.errstate(all="ignore"):
        gram = first @ first.T
        scale = float(np.linalg.norm(gram))
        gap = float(np.linalg.norm(gram - second.T @ second))
        if not (np.isfinite(scale) and np.isfinite(gap)):
            return math.nan
    return gap / scale if scale > 0 else gap


def _print(printer: Any, argument: Any) -> str:
    return printer._print(argument)


def _solution_latex(self: sympy.Function, printer: Any, exp: Any = None) -> str:
    generator, start, time, rate = (_print(printer, a) for a in self.args)
    text = (rf"e^{{{generator} {time}}} {start} \left[I + {rate}\, {start}^{{T}} "
            rf"{generator}^{{-1}} \left(e^{{2 {generator} {time}}} - I\right) {start}"
            rf"\right]^{{-1}} {start}^{{T}} e^{{{generator} {time}}}")
    return text if exp is None else rf"\left({text}\right)^{{{exp}}}"


def _joined(printer: Any, *pieces: Any) -> Any:
    """Pretty pieces side by side: strings as text, sympy objects through the printer."""
    from sympy.printing.pretty.stringpict import prettyForm, stringPict

    forms = [prettyForm(piece) if isinstance(piece, str) else printer._print(piece)
             for piece in pieces]
    return prettyForm(*stringPict.next(*forms))


def _solution_pretty(self: sympy.Function, printer: Any) -> Any:
    generator, start, time, rate = self.args
    return _joined(printer, "exp(", generator, " ", time, ") ", start, " [I + ", rate, " ", start,
                   "ᵀ ", generator, "⁻¹ (exp(2 ", generator, " ", time, ") - I) ", start, "]⁻¹ ",
                   start, "ᵀ exp(", generator, " ", time, ")")


def _block_latex(self: sympy.Function, printer: Any, exp: Any = None) -> str:
    matrix, row, column = (_print(printer, a) for a in self.args[:3])
    text = rf"\left[{matrix}\right]_{{{row}{column}}}"
    return text if exp is None else rf"\left({text}\right)^{{{exp}}}"


def _block_pretty(self: sympy.Function, printer: Any) -> Any:
    matrix, row, column = self.args[:3]
    return _joined(printer, "[", matrix, f"]_{row}{column}")


def _bare(latex: str, pretty: str) -> tuple[Any, Any]:
    """Printers that show a function by its letter alone (its arguments are in its definition)."""
    from sympy.printing.pretty.stringpict import prettyForm

    return (lambda self, printer, exp=None: latex if exp is None else f"{{{latex}}}^{{{exp}}}",
            lambda self, printer: prettyForm(pretty))


#: ``coupling(Σ) = F = [[0, Σᵀ], [Σ, 0]]``, printed as F.
coupling = named_function("coupling", coupling_matrix)
coupling._latex, coupling._pretty = _bare("F", "F")
#: ``stacked(W1, W2) = Q0 = [W1ᵀ; W2]``, printed as Q0.
stacked = named_function("stacked", stacked_weights)
stacked._latex, stacked._pretty = _bare("Q_0", "Q₀")
#: ``riccati_solution(F, Q0, t, r)``: the closed form above, printed as written there.
riccati_solution = named_function("riccati_solution", riccati_solution_value)
riccati_solution._latex = _solution_latex
riccati_solution._pretty = _solution_pretty
#: ``block(M, i, j, n)``: the (i, j) block of M split after n rows and columns.
block = named_function("block", block_value)
block._latex = _block_latex
block._pretty = _block_pretty
#: ``matrix_product(A, B) = A B``.
matrix_product = named_function("matrix_product", lambda first, second: np.asarray(first)
                                @ np.asarray(second), latex=r"\operatorname{prod}",
                                pretty="prod")
#: ``aligned_block(Σ, d, i, j)``: a block of the aligned-mode ``Q Qᵀ`` with strengths ``d``.
aligned_block = named_function("aligned_block", aligned_block_value,
                               latex=r"\operatorname{modes}", pretty="modes")
