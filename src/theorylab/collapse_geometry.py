r"""Definitions and methods behind the neural-collapse claims (``theory/neural_collapse.py``).

Nothing here is a result of the papers; these are the objects their results are stated
with, and the numerical methods that evaluate a definition:

- the ``K x K`` identity and all-ones matrices, per-class vectors (``repeat``), diagonal
  matrices and class sums, as float64 or mpmath arrays (the implementations of the named
  functions ``I_K``, ``J_K``, ``repeat``, ``diag``, ``Σ_k`` of the statements);
- :class:`ClassSizes`, the domain of a list of examples per class;
- the simplex ETF (:func:`simplex_frame`) and the neural-collapse metrics NC1-NC4 of
  Papyan et al. 2020 and Zhu et al. 2021, each citing the definition it follows;
- :func:`class_minimizers`: the global minimizer over ``x >= 0`` of the per-class function
  ``g(x) = n_k/(x^M + 1) + b x`` (a root of ``g'`` found by bisection, compared with
  ``g(0)``), and :func:`largest_root` of ``g' = 0`` alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy
from hypothesis import strategies as st

from theorylab.domains import Domain
from theorylab.errors import ParameterError
from theorylab.strategies import class_sizes

__all__ = ["numbers", "subscripted", "identity_matrix", "ones_matrix", "repeated",
           "diagonal_matrix", "class_sum", "bias_indicator", "ClassSizes", "largest_root",
           "class_minimizers", "reduced_minimizers", "largest_stationary_points",
           "simplex_frame", "class_means", "nc1_papyan", "nc2_equinorm_papyan",
           "nc2_equiangularity_papyan", "nc2_max_angle_papyan", "nc2_etf_distance_zhu",
           "nc3_self_duality", "nc4_ncc_agreement"]

#: Digits beyond the requested precision carried through bisection (float64: 20 + 10).
GUARD_DIGITS = 10


def numbers(values: Sequence[Any]) -> np.ndarray:
    """float64, or an object array of mpmath numbers (statements evaluated with precision)."""
    exact = any(isinstance(value, mpmath.mpf) for value in values)
    return np.array(list(values), dtype=object if exact else np.float64)


def subscripted(function: type[sympy.Function], letter: str) -> type[sympy.Function]:
    """Print ``function(K)`` as ``letter_K`` in LaTeX (the papers' ``I_K``, ``J_K``)."""

    def latex(self: sympy.Function, printer: Any, exp: Any = None) -> str:
        text = rf"{letter}_{{{printer._print(self.args[0])}}}"
        return text if exp is None else rf"{text}^{{{exp}}}"

    function._latex = latex
    return function


def identity_matrix(size: Any) -> np.ndarray:
    """The ``size x size`` identity matrix."""
    return np.eye(int(size))


def ones_matrix(size: Any) -> np.ndarray:
    """The ``size x size`` all-ones matrix ``1 1^T``."""
    return np.ones((int(size), int(size)))


def repeated(*pairs: Any) -> np.ndarray:
    """``repeated(a, m, b, m', ...)``: ``a`` m times, then ``b`` m' times, ..."""
    return numbers([value for value, count in zip(pairs[::2], pairs[1::2], strict=True)
                    for _ in range(int(count))])


def diagonal_matrix(vector: Any) -> np.ndarray:
    """The diagonal matrix of a vector."""
    return np.diag(np.asarray(vector))


def class_sum(vector: Any) -> Any:
    """The sum of a per-class vector."""
    return np.sum(np.asarray(vector))


def bias_indicator(bias: str) -> float:
    """1 for an unregularized bias (``bias='unregularized'``), 0 for a bias-free model."""
    return 1.0 if bias == "unregularized" else 0.0


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
        """Lists of 2..4 class sizes in 1..6 (:func:`theorylab.strategies.class_sizes`)."""
        return class_sizes(min_classes=self.min_classes, max_classes=self.max_sample_classes,
                           max_size=self.max_sample_size).map(
                               lambda sizes: np.asarray(sizes, np.int64))


def largest_root(ratio: Any, depth: int, *, precision: int | None = None) -> Any:
    """Largest positive root of ``M x^(M-1)/(x^M + 1)^2 = ratio``, or None (mpmath).

    ``phi(x) = M x^(M-1)/(x^M+1)^2`` rises from ``phi(0)`` to its peak at
    ``x^M = (M-1)/(M+1)`` and then decreases, so the largest root lies on the
    decreasing branch, below ``(M/ratio)^(1/(M+1))`` (where ``phi < M/x^(M+1)``
    is ``ratio``); bisection to the working precision finds it.
    """
    with mpmath.workdps((precision or 20) + GUARD_DIGITS):
        r = mpmath.mpf(ratio)
        m = mpmath.mpf(depth)

        def phi(x: Any) -> Any:
            return m * x ** (m - 1) / (x**m + 1) ** 2

        peak = ((m - 1) / (m + 1)) ** (1 / m)
        if phi(peak) <= r:
            return None
        low, high = peak, (m / r) ** (1 / (m + 1))
        for _ in range(int(3.4 * mpmath.mp.dps) + 20):  # log2(10) bits per digit
            middle = (low + high) / 2
            if phi(middle) > r:
                low = middle
            else:
                high = middle
        return (low + high) / 2


def class_minimizers(sizes: Any, b: Any, depth: int, *, precision: int | None = None,
                     always_root: bool = False) -> list:
    """``x_k = argmin_{x >= 0} n_k/(x^M + 1) + b x``, one per class ``n_k`` (mpmath).

    An interior minimum is stationary, and the largest stationary point is the only
    local minimum on ``x > 0`` (:func:`largest_root`), so ``x_k`` is that root when ``g``
    there is below ``g(0) = n_k``, else 0. ``always_root`` takes the root whenever one
    exists, without the comparison with ``g(0)``.
    """
    roots = []
    with mpmath.workdps((precision or 20) + GUARD_DIGITS):
        b, m = mpmath.mpf(b), mpmath.mpf(int(depth))
        for size in sizes:
            count = mpmath.mpf(int(size))
            x = largest_root(b / count, int(depth), precision=precision)
            if x is not None and not always_root and count / (x**m + 1) + b * x >= count:
                x = None  # the stationary point is not below g(0) = n_k
            roots.append(mpmath.mpf(0) if x is None else x)
    return roots


def _vector(sizes: Any, b: Any, depth: Any, always_root: bool) -> np.ndarray:
    """:func:`class_minimizers` at float64, or for an mpmath ``b`` at the working precision."""
    if isinstance(b, (float, np.floating, int, np.integer)):
        return np.array([float(x) for x in class_minimizers(
            sizes, float(b), int(depth), always_root=always_root)])
    return np.array([+x for x in class_minimizers(sizes, b, int(depth), precision=mpmath.mp.dps,
                                                  always_root=always_root)], dtype=object)


def reduced_minimizers(sizes: Any, b: Any, depth: Any) -> np.ndarray:
    """The vector of :func:`class_minimizers` (float64, or mpmath for an mpmath ``b``)."""
    return _vector(sizes, b, depth, always_root=False)


def largest_stationary_points(sizes: Any, b: Any, depth: Any) -> np.ndarray:
    """Per class, the largest positive root of ``g' = 0`` where one exists, else 0."""
    return _vector(sizes, b, depth, always_root=True)


# -- the simplex ETF and the neural-collapse metrics ---------------------------------------


def simplex_frame(classes: int, rotation: np.ndarray | None = None) -> np.ndarray:
    """The simplex ETF as K rows: ``sqrt(K/(K-1)) (I_K - 1 1^T/K) U^T`` (Papyan et al. Sec. 2).

    ``rotation`` is ``U`` (``d x K`` with orthonormal columns, ``d >= K``); by default
    ``U = I_K``, the rows ``sqrt(K/(K-1)) (e_k - 1/K)`` in ``R^K``.
    """
    centred = math.sqrt(classes / (classes - 1)) * (np.eye(classes) - 1 / classes)
    return centred if rotation is None else centred @ np.asarray(rotation, np.float64).T


def class_means(features: np.ndarray, labels: np.ndarray, classes: int | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Class means ``mu_k`` (rows, ``K x d``) and the global mean ``mu_G`` of ``features`` (N x d).

    ``mu_G`` is the mean of the class means (Papyan et al. 2020 use balanced
    data, where it equals the mean over examples).
    """
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    classes = int(labels.max()) + 1 if classes is None else classes
    means = np.stack([features[labels == k].mean(axis=0) for k in range(classes)])
    return means, means.mean(axis=0)


def nc1_papyan(features: np.ndarray, labels: np.ndarray) -> float:
    r"""Within-class variability relative to between-class: ``Tr(Sigma_W Sigma_B^+)/K``.

    ``Sigma_W = (1/N) sum_i (h_i - mu_{y_i})(h_i - mu_{y_i})^T``,
    ``Sigma_B = (1/K) sum_k (mu_k - mu_G)(mu_k - mu_G)^T``, ``^+`` the
    Moore-Penrose pseudoinverse. Source: Papyan, Han & Donoho 2020
    (arXiv:2008.08186), Fig. 6. Zero iff every example sits on its class mean.

    Args:
        features: ``N x d`` last-layer features, one row per example.
        labels: ``N`` integer labels in ``0..K-1``.

    """
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    means, centre = class_means(features, labels)
    classes = means.shape[0]
    within = features - means[labels]
    sigma_w = within.T @ within / features.shape[0]
    between = means - centre
    sigma_b = between.T @ between / classes
    return float(np.trace(sigma_w @ np.linalg.pinv(sigma_b)) / classes)


def _rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] < 2:
        raise ValueError("need a K x d array of K >= 2 row vectors")
    return vectors


def _cosines(vectors: np.ndarray) -> np.ndarray:
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    gram = unit @ unit.T
    return gram[~np.eye(len(gram), dtype=bool)]


def nc2_equinorm_papyan(vectors: np.ndarray) -> float:
    """Coefficient of variation of the row norms: ``std_k ||v_k|| / mean_k ||v_k||``.

    Pass centred class means ``mu_k - mu_G`` or classifier rows ``w_k``. The
    standard deviation is the population one (``ddof = 0``). Source: Papyan,
    Han & Donoho 2020 (arXiv:2008.08186), Fig. 2. Zero for equal norms.
    """
    norms = np.linalg.norm(_rows(vectors), axis=1)
    return float(norms.std() / norms.mean())


def nc2_equiangularity_papyan(vectors: np.ndarray) -> float:
    """Standard deviation (``ddof = 0``) of the pairwise cosines ``cos(v_k, v_l)``, ``k != l``.

    Source: Papyan, Han & Donoho 2020 (arXiv:2008.08186), Fig. 3. Zero for
    equiangular vectors.
    """
    return float(_cosines(_rows(vectors)).std())


def nc2_max_angle_papyan(vectors: np.ndarray) -> float:
    """Mean over pairs ``k != l`` of ``|cos(v_k, v_l) + 1/(K-1)|``.

    Source: Papyan, Han & Donoho 2020 (arXiv:2008.08186), Fig. 4. Zero iff
    every pair has the simplex-ETF cosine ``-1/(K-1)`` (maximal angle).
    """
    vectors = _rows(vectors)
    return float(np.abs(_cosines(vectors) + 1 / (vectors.shape[0] - 1)).mean())


def nc2_etf_distance_zhu(weights: np.ndarray) -> float:
    """``|| W W^T/||W W^T||_F - (I_K - 1 1^T/K)/sqrt(K-1) ||_F`` for ``W`` with rows ``w_k``.

    Source: Zhu et al. 2021 (arXiv:2105.02375), the NC2 metric of Sec. 5
    (``||I - 11^T/K||_F = sqrt(K-1)``). Zero iff the rows form a simplex ETF up
    to scale; it is invariant to rotations of the rows' space.
    """
    weights = _rows(weights)
    classes = weights.shape[0]
    gram = weights @ weights.T
    target = (np.eye(classes) - 1 / classes) / math.sqrt(classes - 1)
    return float(np.linalg.norm(gram / np.linalg.norm(gram) - target))


def nc3_self_duality(weights: np.ndarray, centred_means: np.ndarray) -> float:
    """``|| W/||W||_F - Mdot/||Mdot||_F ||_F^2``, ``Mdot`` the centred class means (rows).

    Source: Papyan, Han & Donoho 2020 (arXiv:2008.08186), Fig. 5 (there with
    ``W^T`` and means as columns; the same number). Zero iff the classifier is
    a positive multiple of the centred class means.
    """
    weights = _rows(weights)
    means = _rows(centred_means)
    return float(np.linalg.norm(weights / np.linalg.norm(weights)
                                - means / np.linalg.norm(means)) ** 2)


def nc4_ncc_agreement(features: np.ndarray, weights: np.ndarray, bias: np.ndarray | None,
                      means: np.ndarray) -> float:
    """Fraction of examples where ``argmax_k (w_k^T h + b_k)`` equals ``argmin_k ||h - mu_k||``.

    Source: Papyan, Han & Donoho 2020 (arXiv:2008.08186), Fig. 7, which plots
    the mismatch ``1 - agreement``. One when the classifier acts as the
    nearest-class-mean rule on these features.
    """
    features = np.asarray(features, dtype=np.float64)
    logits = features @ np.asarray(weights, dtype=np.float64).T
    if bias is not None:
        logits = logits + np.asarray(bias, dtype=np.float64)
    distances = ((features[:, None, :] - np.asarray(means)[None, :, :]) ** 2).sum(-1)
    return float(np.mean(logits.argmax(1) == distances.argmin(1)))
