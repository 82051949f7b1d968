r"""Matrix functions and quadratures that statements name, in float64 and mpmath.

Definitions and numerical methods, no results: the fractional power of a symmetric
positive semidefinite matrix, the Gram "sandwich" ``[W Wᵀ]^p G [Wᵀ W]^q``, the
singular values of a matrix and a gradient's projections on its singular pairs, and
the integral ``∫ du / (u^p (s - u))`` by tanh-sinh quadrature. Each is bound once to a
:func:`~theorylab.functions.named_function`, so that a statement prints it as a paper
writes it and evaluates it through the one implementation here. :func:`matrix_pairs`
draws the matrices these functions take (a hypothesis strategy, in
:mod:`theorylab.strategies`' style).

Every function evaluates in float64, or with mpmath at its working precision when a
claim is predicted with ``precision=`` (see :func:`precise`). Matrix arguments arrive
as float64 arrays either way; with mpmath the results are numpy arrays of mpmath
numbers.
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np
import sympy
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from theorylab.functions import named_function

__all__ = [
    "precise",
    "psd_power",
    "transposed",
    "gram_sandwich",
    "gram_sandwich_value",
    "singular_value",
    "singular_values",
    "singular_projection",
    "singular_projections",
    "saturation_integral",
    "saturation_integral_value",
    "matrix_pairs",
]


def precise() -> bool:
    """Whether a statement is being evaluated with mpmath (``predict(precision=...)``).

    Matrix parameters arrive as float64 arrays either way; only mpmath's working
    precision (raised above float64's 53 bits) tells the two evaluations apart.
    """
    return mpmath.mp.prec > 53


def psd_power(matrix: Any, exponent: float) -> Any:
    """``matrix^exponent`` of a symmetric PSD matrix by eigendecomposition (``A^0 = I``).

    A numpy array gives a float64 array; an ``mpmath.matrix`` gives an mpmath matrix
    at the working precision. Eigenvalues below ``8 n eps max(eigenvalue)`` are set to
    exactly zero: rounding leaves eps-sized eigenvalues where the matrix is rank
    deficient, and a fractional power would blow them up (``eps^(1/4) ~ 1e-4``).
    """
    if isinstance(matrix, np.ndarray):
        values, vectors = np.linalg.eigh(matrix)
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


def _transposed_latex(self: sympy.Function, printer: Any, exp: Any = None) -> str:
    text = rf"{{{printer._print(self.args[0])}}}^{{T}}"
    return text if exp is None else rf"\left({text}\right)^{{{exp}}}"


#: ``transposed(W) = Wᵀ``. A statement's matrix symbols are scalars to sympy, whose own
#: ``transpose`` would fold away when they are bound to parameters.
transposed = named_function("transposed", np.transpose, pretty="transpose")
transposed._latex = _transposed_latex


def _objects(values: Any) -> np.ndarray:
    """An mpmath matrix (or list) as a numpy array of mpmath numbers."""
    rows = values.tolist() if hasattr(values, "tolist") else values
    return np.array(rows, dtype=object)


def gram_sandwich_value(matrix: Any, gradient: Any, left_power: Any, right_power: Any) -> Any:
    """``[W Wᵀ]^left_power G [Wᵀ W]^right_power`` for ``W = matrix``, ``G = gradient``.

    Raises:
        ValueError: when the shapes do not chain (``G`` must have ``W``'s shape).

    """
    matrix = np.asarray(matrix, dtype=np.float64)
    gradient = np.asarray(gradient, dtype=np.float64)
    if not precise():
        return (psd_power(matrix @ matrix.T, float(left_power)) @ gradient
                @ psd_power(matrix.T @ matrix, float(right_power)))
    if gradient.shape != matrix.shape:
        raise ValueError(f"gram_sandwich: gradient shape {gradient.shape} is not the "
                         f"matrix's {matrix.shape}")
    weights, grad = mpmath.matrix(matrix.tolist()), mpmath.matrix(gradient.tolist())
    return _objects(psd_power(weights * weights.T, float(left_power)) * grad
                    * psd_power(weights.T * weights, float(right_power)))


def _grams(matrix: Any, show: Any, transpose: str) -> tuple[str, str]:
    """The printed ``W Wᵀ`` and ``Wᵀ W``; for ``W = Vᵀ``, ``Vᵀ V`` and ``V Vᵀ``."""
    if isinstance(matrix, transposed):
        inner = show(matrix.args[0])
        return f"{inner}{transpose} {inner}", f"{inner} {inner}{transpose}"
    outer = show(matrix)
    return f"{outer} {outer}{transpose}", f"{outer}{transpose} {outer}"


def _sandwich_latex(self: sympy.Function, printer: Any, exp: Any = None) -> str:
    left, right = _grams(self.args[0], printer._print, "^{T}")
    gradient, left_power, right_power = (printer._print(a) for a in self.args[1:])
    text = (rf"\left[{left}\right]^{{{left_power}}} {gradient} "
            rf"\left[{right}\right]^{{{right_power}}}")
    return text if exp is None else rf"\left({text}\right)^{{{exp}}}"


def _sandwich_pretty(self: sympy.Function, printer: Any) -> Any:
    from sympy.printing.pretty.stringpict import prettyForm

    left, right = _grams(self.args[0], sympy.sstr, "ᵀ")
    gradient, left_power, right_power = (sympy.sstr(a) for a in self.args[1:])
    return prettyForm(f"[{left}]^({left_power}) {gradient} [{right}]^({right_power})")


#: ``gram_sandwich(W, G, p, q) = [W Wᵀ]^p G [Wᵀ W]^q``, a matrix.
gram_sandwich = named_function("gram_sandwich", gram_sandwich_value)
gram_sandwich._latex = _sandwich_latex
gram_sandwich._pretty = _sandwich_pretty


def singular_values(matrix: Any) -> Any:
    """The singular values ``sigma_1 >= sigma_2 >= ...`` of ``matrix`` (a vector)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if not precise():
        return np.linalg.svd(matrix, compute_uv=False)
    _, values, _ = mpmath.svd_r(mpmath.matrix(matrix.tolist()))
    return _objects([values[r] for r in range(min(matrix.shape))])


def singular_projections(matrix: Any, gradient: Any) -> Any:
    """``<G, u_r v_rᵀ> = u_rᵀ G v_r`` for the singular pairs of ``matrix``, descending.

    A singular pair's signs cancel in the product, so the value is well defined
    wherever the singular values are distinct.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    gradient = np.asarray(gradient, dtype=np.float64)
    if not precise():
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
singular_value = named_function("singular_value", singular_values, pretty="σᵣ")
singular_value._latex = _sigma_latex
#: <G, u_r v_rᵀ>_W: the matrix G projected on the r-th singular pair of W.
singular_projection = named_function("singular_projection", singular_projections,
                                     pretty="⟨∇L, uᵣvᵣᵀ⟩")
singular_projection._latex = _projection_latex


def saturation_integral_value(exponent: Any, strength: Any, lower: Any, upper: Any) -> Any:
    """``∫_lower^upper du / (u^exponent (strength - u))`` for ``0 < lower < upper < strength``.

    mpmath's tanh-sinh rule on log-spaced pieces (the integrand spans many decades
    when ``lower`` is tiny), 10 digits beyond float64, or beyond mpmath's working
    precision.
    """
    exact = precise()
    with mpmath.workdps((mpmath.mp.dps if exact else 15) + 10):
        power, target, start, end = (mpmath.mpf(value)
                                     for value in (exponent, strength, lower, upper))
        pieces = max(1, int(mpmath.ceil(mpmath.log10(end / start))))
        breaks = [start * (end / start) ** (mpmath.mpf(k) / pieces) for k in range(pieces)]
        value = mpmath.quad(lambda v: 1 / (v**power * (target - v)), [*breaks, end])
    return +value if exact else float(value)


_u = sympy.Symbol("u", positive=True)


def _as_integral(self: sympy.Function) -> sympy.Integral:
    exponent, strength, lower, upper = self.args
    return sympy.Integral(1 / (_u**exponent * (strength - _u)), (_u, lower, upper))


def _integral_latex(self: sympy.Function, printer: Any, exp: Any = None) -> str:
    text = printer._print(_as_integral(self))
    return text if exp is None else rf"\left({text}\right)^{{{exp}}}"


#: ``saturation_integral(p, s, a, b) = ∫_a^b du / (u^p (s - u))``, printed as the integral.
saturation_integral = named_function("saturation_integral", saturation_integral_value)
saturation_integral._latex = _integral_latex
saturation_integral._pretty = lambda self, printer: printer._print(_as_integral(self))


def matrix_pairs(*, min_side: int = 1, max_side: int = 3, min_singular_gap: float | None = None
                 ) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """Pairs ``(W, G)`` of real matrices of one shape: a matrix and a direction at it.

    Rows and columns lie in ``[min_side, max_side]`` and are equal half the time (a
    square ``W``, whose ``W Wᵀ`` and ``Wᵀ W`` have one size). ``G`` has standard
    Gaussian entries, and so has ``W`` by default; with ``min_singular_gap``,
    ``W = U diag(sigma) Vᵀ`` has Haar singular vectors and singular values at least
    ``min_singular_gap`` apart and from zero (where they are analytic functions of ``W``).
    Bad arguments raise :class:`hypothesis.errors.InvalidArgument` when first drawn.
    """

    def build() -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
        for name, value in (("min_side", min_side), ("max_side", max_side)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidArgument(f"{name}={value!r} must be an integer >= 1")
        if min_side > max_side:
            raise InvalidArgument(f"min_side={min_side} must not exceed max_side={max_side}")
        gap = min_singular_gap
        if gap is not None and (isinstance(gap, bool) or not isinstance(gap, (int, float))
                                or not 0 < gap < np.inf):
            raise InvalidArgument(f"min_singular_gap={min_singular_gap!r} must be a positive "
                                  "finite number (or None)")

        def make(rows: int, columns: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
            generator = np.random.default_rng(seed)
            if gap is None:
                matrix = generator.standard_normal((rows, columns))
            else:
                rank = min(rows, columns)
                gaps = gap + generator.random(rank)  # spacings in [gap, gap + 1)
                values = np.sort(np.cumsum(gaps))[::-1]
                left = np.linalg.qr(generator.standard_normal((rows, rows)))[0][:, :rank]
                right = np.linalg.qr(generator.standard_normal((columns, columns)))[0][:, :rank]
                matrix = left @ np.diag(values) @ right.T
            return matrix, generator.standard_normal((rows, columns))

        side = st.integers(min_side, max_side)
        return side.flatmap(lambda rows: st.builds(make, st.just(rows),
                                                   st.one_of(st.just(rows), side),
                                                   st.integers(0, 2**32 - 1)))

    return st.deferred(build)
