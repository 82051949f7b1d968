"""Public hypothesis strategies for deep-learning theory, in hypothesis's API style.

Plural nouns, keyword-only bounds, and a clear
:class:`hypothesis.errors.InvalidArgument` for bad arguments, raised when the
strategy is first drawn from (as hypothesis's own strategies do).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

__all__ = ["widths", "depths", "orthogonal_matrices", "balanced_initializations",
           "psd_matrices", "gram_matrices", "activations", "spectra", "class_sizes"]


def _check_integer(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidArgument(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


def _check_range(low_name: str, low: int, high_name: str, high: int) -> None:
    if low > high:
        raise InvalidArgument(f"{low_name}={low} must not exceed {high_name}={high}")


def _positive_integers(min_value: object, max_value: object) -> st.SearchStrategy[int]:
    def build() -> st.SearchStrategy[int]:
        low = _check_integer("min_value", min_value, 1)
        high = _check_integer("max_value", max_value, 1)
        _check_range("min_value", low, "max_value", high)
        return st.integers(low, high)

    return st.deferred(build)


def widths(*, min_value: int = 1, max_value: int = 64) -> st.SearchStrategy[int]:
    """Layer widths: integers in [min_value, max_value], min_value >= 1."""
    return _positive_integers(min_value, max_value)


def depths(*, min_value: int = 1, max_value: int = 8) -> st.SearchStrategy[int]:
    """Numbers of weight matrices: integers in [min_value, max_value], min_value >= 1."""
    return _positive_integers(min_value, max_value)


def orthogonal_matrices(*, size: int) -> st.SearchStrategy[np.ndarray]:
    """Haar-distributed orthogonal ``size x size`` matrices (QR with sign fix)."""

    def build() -> st.SearchStrategy[np.ndarray]:
        n = _check_integer("size", size, 1)

        def make(seed: int) -> np.ndarray:
            q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
            return q * np.where(np.diag(r) < 0, -1.0, 1.0)

        return st.integers(0, 2**32 - 1).map(make)

    return st.deferred(build)


def balanced_initializations(
    *, depth: int, rows: int, columns: int, max_singular_value: float = 3.0
) -> st.SearchStrategy[list[np.ndarray]]:
    """Balanced factorizations ``[W_1, ..., W_depth]``: ``W_{j+1}^T W_{j+1} = W_j W_j^T``.

    Built exactly from an SVD with random orthonormal hidden frames; the
    end-to-end matrix ``W_depth ... W_1`` is ``rows x columns``.
    """

    def build() -> st.SearchStrategy[list[np.ndarray]]:
        n = _check_integer("depth", depth, 1)
        out = _check_integer("rows", rows, 1)
        inp = _check_integer("columns", columns, 1)
        if not (isinstance(max_singular_value, (int, float)) and math.isfinite(max_singular_value)
                and max_singular_value > 0):
            raise InvalidArgument(
                f"max_singular_value={max_singular_value!r} must be a positive finite number")

        def make(seed: int) -> list[np.ndarray]:
            generator = np.random.default_rng(seed)
            rank = min(out, inp)
            left = np.linalg.qr(generator.standard_normal((out, out)))[0][:, :rank]
            right = np.linalg.qr(generator.standard_normal((inp, inp)))[0][:, :rank]
            root = np.diag(generator.uniform(0.1, max_singular_value, rank) ** (1.0 / n))
            frames = [np.linalg.qr(generator.standard_normal((rank + 1, rank + 1)))[0][:, :rank]
                      for _ in range(n - 1)]
            chain = [right.T] + [f.T for f in frames]
            outs = frames + [left]
            return [o @ root @ i for o, i in zip(outs, chain, strict=True)]

        return st.integers(0, 2**32 - 1).map(make)

    return st.deferred(build)


def _check_real(name: str, value: object, *, minimum: float | None = None,
                maximum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value):
        raise InvalidArgument(f"{name}={value!r} must be a finite real number")
    if minimum is not None and value < minimum:
        raise InvalidArgument(f"{name}={value!r} must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise InvalidArgument(f"{name}={value!r} must be <= {maximum}")
    return float(value)


def psd_matrices(*, size: int, min_eigenvalue: float = 0.0,
                 max_eigenvalue: float = 4.0) -> st.SearchStrategy[np.ndarray]:
    """Symmetric positive semidefinite ``size x size`` matrices.

    ``Q diag(lambda) Q^T`` with a Haar-orthogonal ``Q`` and eigenvalues drawn
    in ``[min_eigenvalue, max_eigenvalue]`` (``min_eigenvalue >= 0``); exact
    zeros are drawn too, so rank-deficient matrices occur.
    """

    def build() -> st.SearchStrategy[np.ndarray]:
        n = _check_integer("size", size, 1)
        low = _check_real("min_eigenvalue", min_eigenvalue, minimum=0.0)
        high = _check_real("max_eigenvalue", max_eigenvalue, minimum=0.0)
        if low > high:
            raise InvalidArgument(
                f"min_eigenvalue={low} must not exceed max_eigenvalue={high}")
        eigenvalue = st.floats(low, high)
        if low == 0.0:
            eigenvalue = st.one_of(st.just(0.0), eigenvalue)

        def make(values: list[float], rotation: np.ndarray) -> np.ndarray:
            matrix = (rotation * np.asarray(values)) @ rotation.T
            return (matrix + matrix.T) / 2

        return st.builds(make, st.lists(eigenvalue, min_size=n, max_size=n),
                         orthogonal_matrices(size=n))

    return st.deferred(build)


def gram_matrices(*, tasks: int, min_norm: float = 0.5, max_norm: float = 2.0,
                  equicorrelated: bool = False, min_correlation: float = -1.0,
                  max_correlation: float = 1.0) -> st.SearchStrategy[np.ndarray]:
    """Gram matrices ``G_ij = <w_i, w_j>`` of ``tasks`` vectors (PSD, ``tasks x tasks``).

    By default the vectors have norms in ``[min_norm, max_norm]`` and directions
    drawn entry by entry (so hypothesis shrinks them towards simple ones).
    With ``equicorrelated=True`` they have unit norm and every pairwise inner
    product is one ``rho`` in ``[min_correlation, max_correlation]``, clipped to
    ``rho >= -1/(tasks - 1)``, where ``(1 - rho) I + rho 1 1^T`` stops being PSD.
    """

    def build() -> st.SearchStrategy[np.ndarray]:
        count = _check_integer("tasks", tasks, 1)
        if not isinstance(equicorrelated, bool):
            raise InvalidArgument(f"equicorrelated={equicorrelated!r} must be True or False")
        if equicorrelated:
            low = _check_real("min_correlation", min_correlation, minimum=-1.0, maximum=1.0)
            high = _check_real("max_correlation", max_correlation, minimum=-1.0, maximum=1.0)
            if low > high:
                raise InvalidArgument(
                    f"min_correlation={low} must not exceed max_correlation={high}")
            floor = -1.0 / (count - 1) if count > 1 else -1.0
            if high < floor:
                raise InvalidArgument(
                    f"max_correlation={high} must be >= -1/(tasks - 1) = {floor:.6g}, "
                    "where the equicorrelated Gram matrix stops being PSD")

            def equal(rho: float) -> np.ndarray:
                return (1 - rho) * np.eye(count) + rho * np.ones((count, count))

            return st.floats(max(low, floor), high).map(equal)
        smallest = _check_real("min_norm", min_norm, minimum=0.0)
        largest = _check_real("max_norm", max_norm, minimum=0.0)
        if smallest > largest:
            raise InvalidArgument(f"min_norm={smallest} must not exceed max_norm={largest}")

        def make(norms: list[float], entries: list[float]) -> np.ndarray:
            directions = np.asarray(entries).reshape(count, count)
            lengths = np.linalg.norm(directions, axis=1, keepdims=True)
            directions = np.where(lengths > 1e-6, directions / np.maximum(lengths, 1e-300),
                                  np.eye(count))
            vectors = directions * np.asarray(norms)[:, None]
            return vectors @ vectors.T

        return st.builds(make, st.lists(st.floats(smallest, largest), min_size=count,
                                        max_size=count),
                         st.lists(st.floats(-1.0, 1.0), min_size=count * count,
                                  max_size=count * count))

    return st.deferred(build)


def activations(*, names: object = None) -> st.SearchStrategy[str]:
    """Names of elementwise activations that theorylab's kernel claims accept.

    ``names`` restricts the draw to a subset (a non-empty sequence of known names);
    by default every activation of ``theorylab.theory.rg_flow`` is drawn.
    """

    def build() -> st.SearchStrategy[str]:
        from theorylab.theory.rg_flow import ACTIVATION_NAMES

        if names is None:
            return st.sampled_from(ACTIVATION_NAMES)
        if isinstance(names, str) or not hasattr(names, "__iter__"):
            raise InvalidArgument(f"names={names!r} must be a sequence of activation names")
        chosen = list(names)
        if not chosen:
            raise InvalidArgument("names=[] must name at least one activation")
        unknown = [name for name in chosen if name not in ACTIVATION_NAMES]
        if unknown:
            raise InvalidArgument(f"names={chosen!r} must be among {list(ACTIVATION_NAMES)}; "
                                  f"unknown: {unknown}")
        return st.sampled_from(chosen)

    return st.deferred(build)


SPECTRUM_ENSEMBLES = ("wishart", "wigner")


def spectra(*, min_size: int = 2, max_size: int = 32,
            ensembles: tuple[str, ...] = SPECTRUM_ENSEMBLES) -> st.SearchStrategy[np.ndarray]:
    """Eigenvalue spectra (ascending float64 vectors) of random matrices.

    ``wishart``: the ``p`` eigenvalues of ``XXᵀ/n`` with ``X ∈ ℝ^{p×n}`` standard
    Gaussian and ``n`` drawn in ``[1, 2 max_size]`` (zeros included when ``p > n``);
    ``wigner``: a GOE matrix with off-diagonal variance ``1/p``. ``p`` lies in
    ``[min_size, max_size]``.
    """

    def build() -> st.SearchStrategy[np.ndarray]:
        low = _check_integer("min_size", min_size, 1)
        high = _check_integer("max_size", max_size, 1)
        _check_range("min_size", low, "max_size", high)
        chosen = tuple(ensembles) if isinstance(ensembles, (tuple, list)) else ()
        unknown = [name for name in chosen if name not in SPECTRUM_ENSEMBLES]
        if not chosen or unknown:
            raise InvalidArgument(f"ensembles={ensembles!r} must be a non-empty tuple of "
                                  f"{list(SPECTRUM_ENSEMBLES)}")

        def make(ensemble: str, size: int, columns: int, seed: int) -> np.ndarray:
            generator = np.random.default_rng(seed)
            if ensemble == "wishart":
                data = generator.standard_normal((size, columns))
                matrix = data @ data.T / columns
            else:
                data = generator.standard_normal((size, size))
                matrix = (data + data.T) / np.sqrt(2 * size)
            return np.linalg.eigvalsh(matrix)

        return st.builds(make, st.sampled_from(chosen), st.integers(low, high),
                         st.integers(1, 2 * high), st.integers(0, 2**32 - 1))

    return st.deferred(build)


def class_sizes(*, min_classes: int = 2, max_classes: int = 6, min_size: int = 1,
                max_size: int = 20) -> st.SearchStrategy[list[int]]:
    """Examples per class for imbalanced classification: lists of positive integers.

    ``min_classes..max_classes`` entries (``min_classes >= 2``), each in
    ``min_size..max_size`` (``min_size >= 1``: no empty class). Shrinks towards
    few, small, balanced classes.
    """

    def build() -> st.SearchStrategy[list[int]]:
        fewest = _check_integer("min_classes", min_classes, 2)
        most = _check_integer("max_classes", max_classes, 2)
        _check_range("min_classes", fewest, "max_classes", most)
        smallest = _check_integer("min_size", min_size, 1)
        largest = _check_integer("max_size", max_size, 1)
        _check_range("min_size", smallest, "max_size", largest)
        return st.lists(st.integers(smallest, largest), min_size=fewest, max_size=most)

    return st.deferred(build)
