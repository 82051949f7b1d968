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

# Strategies of structured objects that live beside their definitions, public here too
# (imported on first use: those modules import this one).
_ELSEWHERE = {"matrix_pairs": "theorylab.matrix_functions",
              "sequential_regressions": "theorylab.linear_regression",
              "task_collections": "theorylab.linear_regression"}
__all__ = ["widths", "depths", "orthogonal_matrices", "balanced_initializations",
           "psd_matrices", "gram_matrices", "activations", "input_pairs", "spectra", "class_sizes",
           "sphere_datasets", "quantile_bins", *_ELSEWHERE]


def __getattr__(name: str) -> object:
    if name in _ELSEWHERE:
        import importlib

        return getattr(importlib.import_module(_ELSEWHERE[name]), name)
    raise AttributeError(f"module 'theorylab.strategies' has no attribute {name!r}")


def _check_integer(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidArgument(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


def _check_range(low_name: str, low: int, high_name: str, high: int) -> None:
    if low > high:
        raise InvalidArgument(f"{low_name}={low} must not exceed {high_name}={high}")


def _integer_bounds(low_name: str, low: object, high_name: str, high: object,
                    minimum: int) -> tuple[int, int]:
    """Both bounds integers >= ``minimum``, the first not above the second."""
    fewest = _check_integer(low_name, low, minimum)
    most = _check_integer(high_name, high, minimum)
    _check_range(low_name, fewest, high_name, most)
    return fewest, most


def _positive_integers(min_value: object, max_value: object) -> st.SearchStrategy[int]:
    def build() -> st.SearchStrategy[int]:
        low, high = _integer_bounds("min_value", min_value, "max_value", max_value, 1)
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
    by default every activation of :mod:`theorylab.activations` is drawn.
    """

    def build() -> st.SearchStrategy[str]:
        from theorylab.activations import NAMES as ACTIVATION_NAMES

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


def input_pairs(*, min_dimension: int = 2, max_dimension: int = 4, min_angle: float = 0.0,
                max_angle: float = math.pi, min_scale: float = 0.7,
                max_scale: float = 1.3) -> st.SearchStrategy[dict[str, np.ndarray]]:
    """Two network inputs ``{"x1": x_1, "x2": x_2}`` of one dimension ``n_0``.

    ``|x_1|^2 = s_1^2 n_0`` and ``x_2`` at an angle in ``[min_angle, max_angle]`` (radians)
    from ``x_1`` with ``|x_2| = s_2 |x_1|``, the scales ``s_1, s_2`` in ``[min_scale,
    max_scale]`` and ``n_0`` in ``[min_dimension, max_dimension]`` (``>= 2``, so that the
    angle is free); directions are Gaussian.
    """

    def build() -> st.SearchStrategy[dict[str, np.ndarray]]:
        low, high = _integer_bounds("min_dimension", min_dimension, "max_dimension",
                                    max_dimension, 2)
        first_angle = _check_real("min_angle", min_angle, minimum=0.0, maximum=math.pi)
        last_angle = _check_real("max_angle", max_angle, minimum=first_angle, maximum=math.pi)
        smallest = _check_real("min_scale", min_scale, minimum=0.0)
        largest = _check_real("max_scale", max_scale, minimum=smallest)
        if smallest == 0.0:
            raise InvalidArgument("min_scale=0.0 must be > 0 (a zero input has no angle)")

        def make(dimension: int, seed: int, scale: float, angle: float,
                 ratio: float) -> dict[str, np.ndarray]:
            generator = np.random.default_rng(seed)
            first = generator.standard_normal(dimension)
            first *= math.sqrt(dimension) / np.linalg.norm(first) * scale
            other = generator.standard_normal(dimension)
            other -= (other @ first) / (first @ first) * first
            other *= np.linalg.norm(first) / max(np.linalg.norm(other), 1e-12)
            second = (math.cos(angle) * first + math.sin(angle) * other) * ratio
            return {"x1": first, "x2": second}

        return st.builds(make, st.integers(low, high), st.integers(0, 2**32 - 1),
                         st.floats(smallest, largest), st.floats(first_angle, last_angle),
                         st.floats(smallest, largest))

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
        low, high = _integer_bounds("min_size", min_size, "max_size", max_size, 1)
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
        fewest, most = _integer_bounds("min_classes", min_classes, "max_classes", max_classes, 2)
        smallest, largest = _integer_bounds("min_size", min_size, "max_size", max_size, 1)
        return st.lists(st.integers(smallest, largest), min_size=fewest, max_size=most)

    return st.deferred(build)


def sphere_datasets(*, min_points: int = 2, max_points: int = 6, min_dimension: int = 2,
                    max_dimension: int = 5) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """Regression data ``(X, y)``: ``n`` inputs on the unit sphere of ``R^d``, ``n`` labels.

    The rows of ``X`` are independent uniform points on the sphere (normalised
    Gaussians, so no two are parallel almost surely); ``y`` is standard Gaussian.
    ``n`` lies in ``[min_points, max_points]`` and ``d`` in ``[min_dimension,
    max_dimension]`` (both minima >= 1).
    """

    def build() -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
        fewest, most = _integer_bounds("min_points", min_points, "max_points", max_points, 1)
        low, high = _integer_bounds("min_dimension", min_dimension, "max_dimension",
                                    max_dimension, 1)

        def make(points: int, dimension: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
            generator = np.random.default_rng(seed)
            inputs = generator.standard_normal((points, dimension))
            inputs /= np.linalg.norm(inputs, axis=1, keepdims=True)
            return inputs, generator.standard_normal(points)

        return st.builds(make, st.integers(fewest, most), st.integers(low, high),
                         st.integers(0, 2**32 - 1))

    return st.deferred(build)


def quantile_bins(*, cdf: object, low: float, high: float, min_mass: float = 0.3,
                  max_mass: float = 0.45) -> st.SearchStrategy[tuple[float, float]]:
    """Bins ``(x, upper]`` between quantiles of a law with distribution function ``cdf``.

    ``cdf`` maps a float64 array to the law's CDF there. The bin holds a mass drawn in
    ``[min_mass, max_mass]`` (at most 90% of the mass on ``[low, high]``), and the mass
    left below it is a uniform fraction of the rest (:func:`theorylab.laws.quantile_bin`);
    ``low < high`` and ``0 < min_mass <= max_mass < 1``.
    """

    def build() -> st.SearchStrategy[tuple[float, float]]:
        from theorylab.laws import quantile_bin

        if not callable(cdf):
            raise InvalidArgument(f"cdf={cdf!r} must be a function of a float64 array")
        start, stop = _check_real("low", low), _check_real("high", high)
        if start >= stop:
            raise InvalidArgument(f"low={start} must be less than high={stop}")
        least = _check_real("min_mass", min_mass, minimum=0.0, maximum=1.0)
        most = _check_real("max_mass", max_mass, minimum=0.0, maximum=1.0)
        if not 0 < least <= most < 1:
            raise InvalidArgument(f"min_mass={least} and max_mass={most} must satisfy "
                                  "0 < min_mass <= max_mass < 1")
        return st.builds(lambda place, mass: quantile_bin(cdf, start, stop, place, mass),
                         st.floats(0.0, 1.0), st.floats(least, most))

    return st.deferred(build)
