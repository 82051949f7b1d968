r"""Infinite-width NNGP and NTK of one-dimensional convolutional networks.

The network (neural-tangents' ``stax``, 'ntk' parameterization): ``depth`` blocks of
[Conv1D(filter size ``filter``, stride 1, circular padding) -> sigma], global average
pooling over positions, a dense readout; every weight ``W ~ N(0, C_W/fan_in)`` with
``fan_in = filter x channels`` (the readout's: channels), every bias ``b ~ N(0, C_b)``.

The kernels live on pairs of (input, position): an ``(N P) x (N P)`` matrix for N
inputs of P positions, entry ``[(a, p), (b, q)]``. The recursion (Arora et al. 2019,
CNTK; Novak et al. 2019):

- inputs: ``K^(0)_{ap,bq} = x_a[p] . x_b[q] / C_0`` (neural-tangents' input kernel);
- a convolution is the circular window average
  ``(A F)_{ap,bq} = (1/filter) sum_k F_{a p+k, b q+k}`` (positions mod P) of the dense
  layer's map: ``K^(1) = A(C_b + C_W K^(0))``, ``Theta^(1) = K^(1)``, and
  ``K^(h+1) = A(C_b + C_W <s s>_{K^(h)})``,
  ``Theta^(h+1) = A(C_b + C_W <s s>_{K^(h)} + C_W <s' s'>_{K^(h)} Theta^(h))``;
- the readout after global average pooling is the same dense map averaged over all
  position pairs, ``K = mean_{pq}(C_b + C_W <s s>)``, ``Theta = mean_{pq}(C_b + C_W
  <s s> + C_W <s' s'> Theta^(depth))``.

Each Gaussian expectation ``<s s>_{ap,bq}`` is the 2x2 one at variances ``K_{ap,ap}``,
``K_{bq,bq}`` and covariance ``K_{ap,bq}``: the activation carries its kernel
(:mod:`theorylab.activations`). Closed forms (relu, leaky_relu, abs, linear, erf) are
evaluated elementwise, the Gram path in place in torch (:func:`theorylab.kernels`'s
dense layer map); the others (tanh, gelu, swish, sin) by one tensor-product
trapezoid rule for all pairs, whose step follows sigma's singularities at the largest
variance (:mod:`theorylab.quadrature`). With ``precision`` the same recursion runs in
mpmath, the closed forms one pair at a time; the quadrature activations keep float64's
rule there (about 1e-15: an mpmath 2-D rule takes seconds per position pair).

Example::

    from theorylab import convolution_kernels

    inputs = np.random.default_rng(0).standard_normal((100, 16, 3))
    K = convolution_kernels.gram("relu", inputs, depth=5, filter=3, C_W=2.0, C_b=0.1)
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np

from theorylab.activations import Activation, activation
from theorylab.errors import ParameterError
from theorylab.kernels import gaussian_moments
from theorylab.quadrature import gaussian_rule, gaussian_step

__all__ = ["PADDINGS", "input_kernel", "window_average", "position_mean", "diagonal_mean",
           "gaussian_fields", "layer_kernels", "gram", "grams", "pair_kernels", "blocks", "matrix",
           "statement_nngp", "statement_ntk", "statement_nngp_zero_padded",
           "statement_ntk_zero_padded", "statement_sigma_pair", "statement_derivative_pair",
           "statement_pooled", "statement_diagonal_pooled"]

PADDINGS = ("circular", "zero")
FLOAT_DIGITS = 16  # what the float64 quadrature asks of its rule (as theorylab.kernels)


def _activation(name: str | Activation) -> Activation:
    return name if isinstance(name, Activation) else activation(name)


def _inputs(inputs: Any) -> np.ndarray:
    """Inputs as an (N, positions, channels) float64 array."""
    array = np.asarray(inputs, dtype=np.float64) if not isinstance(inputs, np.ndarray) else inputs
    if array.ndim != 3 or array.size == 0:
        raise ParameterError("inputs", "an array of shape (inputs, positions, channels)",
                             None, f"shape {array.shape}")
    return array.astype(np.float64, copy=False)


def _check_filter(filter: int, positions: int) -> None:
    if not 1 <= int(filter) <= positions:
        raise ParameterError("filter", f"an integer in [1, positions = {positions}]", filter)


# -- the linear pieces: input kernel, window average, pooling ----------------------------------


def input_kernel(inputs: Any) -> np.ndarray:
    """``x_a[p] . x_b[q] / C_0`` as an ``(N P) x (N P)`` matrix, exactly symmetric."""
    x = _inputs(inputs)
    rows = x.reshape(-1, x.shape[2])
    kernel = rows @ rows.T / x.shape[2]
    return np.triu(kernel) + np.triu(kernel, 1).T


def _shifted(kernel: Any, count: int, positions: int, shift: int, padding: str) -> Any:
    """``F_{a p+shift, b q+shift}``: positions mod P (circular) or 0 outside (zero)."""
    index = np.arange(positions) + shift
    view = kernel.reshape(count, positions, count, positions)
    if padding == "circular":
        index %= positions
        return view[:, index][:, :, :, index]
    inside = (index >= 0) & (index < positions)
    taken = view[:, index.clip(0, positions - 1)][:, :, :, index.clip(0, positions - 1)]
    return taken * (inside[None, :, None, None] & inside[None, None, None, :])


def window_average(kernel: Any, count: int, filter: int, padding: str = "circular") -> Any:
    """The convolution's ``(1/filter) sum_k F_{a p+k-o, b q+k-o}``, o = (filter - 1)//2.

    ``kernel`` is ``(count P) x (count P)`` (numpy, float or mpmath objects); ``padding``
    'circular' wraps positions, 'zero' reads zeros outside (neural-tangents' 'SAME').
    """
    if padding not in PADDINGS:
        raise ParameterError("padding", " or ".join(PADDINGS), padding)
    positions = kernel.shape[0] // count
    offset = (int(filter) - 1) // 2
    total = sum(_shifted(kernel, count, positions, k - offset, padding)
                for k in range(int(filter)))
    return (total / int(filter)).reshape(kernel.shape)


def position_mean(kernel: Any, count: int) -> Any:
    """Global average pooling: the mean over all position pairs, ``(count, count)``."""
    positions = kernel.shape[0] // count
    return kernel.reshape(count, positions, count, positions).mean(axis=(1, 3))


def diagonal_mean(kernel: Any, count: int) -> Any:
    """Flattening instead of pooling: the mean over equal positions only, ``(count, count)``."""
    positions = kernel.shape[0] // count
    view = kernel.reshape(count, positions, count, positions)
    return np.einsum("apbp->ab", view) / positions


# -- Gaussian expectations of every entry at once --------------------------------------------


def _closed_fields(act: Activation, kernel: np.ndarray, derivative: bool) -> list[np.ndarray]:
    variances = np.diagonal(kernel).copy()
    outer = np.sqrt(np.outer(variances, variances))
    cosine = np.clip(kernel / outer, -1.0, 1.0)
    # A diagonal's cosine is 1 exactly (rounding would put an angle of 1e-8 into arccos).
    np.fill_diagonal(cosine, 1.0)
    rows, columns = np.broadcast_arrays(variances[:, None], variances[None, :])
    values = [np.broadcast_to(act.closed("numpy")(rows, columns, cosine), kernel.shape)]
    if derivative:
        values.append(np.broadcast_to(act.closed("numpy", True)(rows, columns, cosine),
                                      kernel.shape))
    return [np.array(v, dtype=np.float64) for v in values]


def _quadrature_fields(act: Activation, kernel: np.ndarray,
                       derivative: bool) -> list[np.ndarray]:
    """``<f(u) f(v)>`` per entry: u = a x, v = b x + c y, x, y ~ N(0, 1), one shared rule.

    The step is set by the largest variance (sigma's singularity is nearest in x there),
    so every entry is integrated to float64's precision by the same nodes.
    """
    variances = np.diagonal(kernel).copy()
    step = gaussian_step(scale=max(math.sqrt(float(variances.max())), 1e-8),
                         digits=FLOAT_DIGITS, singularity=act.singularity)
    nodes, weights = gaussian_rule(step)
    a = np.sqrt(variances)
    size = len(variances)
    upper = np.triu_indices(size)
    b = kernel[upper] / a[upper[0]]
    c = np.sqrt(np.clip(variances[upper[1]] - b * b, 0.0, None))
    functions = [act.function("numpy")] + ([act.function("numpy", True)] if derivative else [])
    values = []
    for f in functions:
        outer = np.broadcast_to(f(a[:, None] * nodes[None, :]), (size, len(nodes)))[upper[0]]
        inner = np.broadcast_to(f(b[:, None, None] * nodes[None, :, None]
                                  + c[:, None, None] * nodes[None, None, :]),
                                (len(b), len(nodes), len(nodes)))
        entries = np.einsum("ex,x,exy,y->e", outer, weights, inner, weights)
        field = np.zeros_like(kernel)
        field[upper] = entries
        values.append(field + np.triu(field, 1).T)
    return values


def _precise_fields(act: Activation, kernel: np.ndarray, derivative: bool,
                    precision: int) -> list[np.ndarray]:
    """mpmath: :func:`theorylab.kernels.gaussian_moments` one pair at a time."""
    size = kernel.shape[0]
    values = [np.empty((size, size), dtype=object) for _ in range(2 if derivative else 1)]
    for i in range(size):
        for j in range(i, size):
            moments = gaussian_moments(act, kernel[i, i], kernel[j, j], kernel[i, j],
                                       precision=precision, derivative=derivative)
            values[0][i, j] = values[0][j, i] = moments[2]
            if derivative:
                values[1][i, j] = values[1][j, i] = moments[5]
    return values


def gaussian_fields(name: str | Activation, kernel: Any, *, derivative: bool = True,
                    precision: int | None = None) -> list[np.ndarray]:
    """``[<s s>]`` (and ``<s' s'>``) of every entry of a kernel matrix.

    Entry (i, j) is the expectation over (u, v) ~ N(0, [[K_ii, K_ij], [K_ij, K_jj]]).
    """
    act = _activation(name)
    if precision and act.kernel is not None:
        return _precise_fields(act, kernel, derivative, precision)
    if precision:
        # No closed form: the 2-D rule in mpmath costs 2-20 s per position pair at 40
        # digits (a P-position input has P(2P+1) pairs per layer), so these activations
        # keep float64's rule (about 1e-15) on the mpmath path.
        values = _quadrature_fields(act, np.asarray(kernel, dtype=np.float64), derivative)
        return [np.vectorize(mpmath.mpf, otypes=[object])(v) for v in values]
    kernel = np.asarray(kernel, dtype=np.float64)
    if act.kernel is not None:
        return _closed_fields(act, kernel, derivative)
    return _quadrature_fields(act, kernel, derivative)


# -- the recursion -------------------------------------------------------------------------


def _numbers(precision: int | None, *values: Any) -> list:
    if precision:
        return [mpmath.mpf(v) if not isinstance(v, mpmath.mpf) else v for v in values]
    return [float(v) for v in values]


def layer_kernels(name: str | Activation, inputs: Any, depth: int, filter: int, C_W: Any,
                  C_b: Any, *, padding: str = "circular",
                  precision: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(K^(depth), Theta^(depth))``: the last convolution's preactivation kernels.

    ``(N P) x (N P)`` matrices for inputs of shape (N, P, C); ``depth >= 1`` convolutions.
    """
    x = _inputs(inputs)
    count, positions = x.shape[:2]
    _check_filter(filter, positions)
    with mpmath.workdps((precision or 15) + 10):
        weight, bias = _numbers(precision, C_W, C_b)
        start = input_kernel(x)
        if precision:
            start = np.vectorize(lambda v: mpmath.mpf(float(v)), otypes=[object])(start)
        kernel = window_average(bias + weight * start, count, filter, padding)
        theta = kernel
        for _ in range(int(depth) - 1):
            pair, slope = gaussian_fields(name, kernel, precision=precision)
            dense = bias + weight * pair
            theta = window_average(dense + weight * slope * theta, count, filter, padding)
            kernel = window_average(dense, count, filter, padding)
        return kernel, theta


def pair_kernels(name: str | Activation, x1: Any, x2: Any, depth: int, filter: int,
                 C_W: Any, C_b: Any, *, padding: str = "circular",
                 precision: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(K, Theta)`` of layer ``depth`` for two inputs, each as ``(3, P, P)`` blocks 11, 22, 12."""
    first, second = np.asarray(x1, dtype=np.float64), np.asarray(x2, dtype=np.float64)
    kernel, theta = layer_kernels(name, np.stack([first, second]), depth, filter, C_W, C_b,
                                  padding=padding, precision=precision)
    return blocks(kernel), blocks(theta)


def blocks(matrix: Any) -> np.ndarray:
    """A two-input ``2P x 2P`` matrix as its ``(3, P, P)`` blocks 11, 22, 12."""
    positions = matrix.shape[0] // 2
    return np.stack([matrix[:positions, :positions], matrix[positions:, positions:],
                     matrix[:positions, positions:]])


def matrix(fields: Any) -> np.ndarray:
    """``(3, P, P)`` blocks 11, 22, 12 back to the symmetric ``2P x 2P`` matrix."""
    first, second, cross = fields[0], fields[1], fields[2]
    return np.block([[first, cross], [cross.T, second]])


def gram(name: str | Activation, inputs: Any, depth: int, filter: int, C_W: float,
         C_b: float, *, ntk: bool = False, block_entries: int | None = None) -> np.ndarray:
    """The network's output NNGP (or, with ``ntk``, NTK) Gram matrix of inputs ``(N, P, C)``."""
    nngp, theta = grams(name, inputs, depth, filter, C_W, C_b, ntk=ntk,
                        block_entries=block_entries)
    return theta if ntk else nngp


def grams(name: str | Activation, inputs: Any, depth: int, filter: int, C_W: float,
          C_b: float, *, ntk: bool = True,
          block_entries: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The output NNGP and NTK Gram matrices of inputs ``(N, P, C)`` in one pass, float64.

    The NTK's recursion carries the NNGP's; ``ntk=False`` skips the NTK (None).

    Closed-form activations run in torch, as :func:`theorylab.kernels.gram_closed` does for
    the MLP: the diagonal's recursion first (a convolution averages variances along the
    window only), then each block of input rows, all positions, through every layer while
    it is in cache (the window never mixes inputs), only the upper triangle of inputs,
    mirrored. Each layer is the MLP's dense map (:func:`theorylab.kernels._gram_layer`) and
    one window average. The other activations go through :func:`gaussian_fields`.
    """
    import torch

    from theorylab.kernels import GRAM_BLOCK_ENTRIES, _gram_layer

    x = _inputs(inputs)
    count, positions, channels = x.shape
    _check_filter(filter, positions)
    act = _activation(name)
    if act.kernel is None:
        kernel, theta = layer_kernels(act, x, depth, filter, C_W, C_b)
        pair, slope = gaussian_fields(act, kernel)
        dense = C_b + C_W * pair
        return (position_mean(dense, count),
                position_mean(dense + C_W * slope * theta, count) if ntk else None)
    slopes = None if act.slopes is None else tuple(float(a) for a in act.slopes)
    width = int(filter)
    offset = (width - 1) // 2
    tensor = torch.as_tensor(x)
    # The diagonal K[a p, a p] of every layer: the window averages variances along p only.
    diagonal = C_b + C_W * _window_rows(tensor.square().sum(-1) / channels, offset, width)
    scales = []
    for layer in range(int(depth)):
        if slopes is not None:  # ABReLU: <s^2>_K = A_2 K
            scales.append(diagonal.rsqrt())
            dense = C_b + C_W * (slopes[0] ** 2 + slopes[1] ** 2) / 2 * diagonal
        else:  # erf: <s^2>_K = (2/pi) asin(2K/(1 + 2K))
            scales.append((1 + 2 * diagonal).rsqrt())
            dense = C_b + C_W * 2 / math.pi * torch.asin(2 * diagonal / (1 + 2 * diagonal))
        if layer < int(depth) - 1:
            diagonal = _window_rows(dense, offset, width)
    results = [torch.zeros(count, count, dtype=torch.float64) for _ in range(1 + ntk)]
    per_input = positions * positions * count
    step = max(1, (block_entries or GRAM_BLOCK_ENTRIES) // per_input)
    for start in range(0, count, step):
        stop = min(start + step, count)
        rows, columns = tensor[start:stop], tensor[start:]
        shape = (stop - start, positions, count - start, positions)
        products = torch.einsum("apc,bqc->apbq", rows, columns) / channels
        kernel = _window_block(products, offset, width).mul_(C_W).add_(C_b)
        theta = kernel.clone() if ntk else None
        for layer, scale in enumerate(scales):
            kernel, theta = _gram_layer(
                kernel.reshape(shape[0] * positions, -1),
                None if theta is None else theta.reshape(shape[0] * positions, -1),
                scale[start:stop].reshape(-1), scale[start:].reshape(-1), C_W, C_b, slopes)
            kernel = kernel.reshape(shape)
            theta = None if theta is None else theta.reshape(shape)
            if layer < len(scales) - 1:
                kernel = _window_block(kernel, offset, width)
                theta = None if theta is None else _window_block(theta, offset, width)
        for result, block in zip(results, (kernel, theta), strict=False):
            result[start:stop, start:] = block.mean(dim=(1, 3))  # global average pooling
    # The upper triangle, mirrored: exactly symmetric whatever the rounding within a block.
    symmetric = [(torch.triu(r) + torch.triu(r, 1).T).numpy() for r in results]
    return symmetric[0], symmetric[1] if ntk else None


def _window_rows(values: Any, offset: int, width: int) -> Any:
    """The window average of per-position values ``(N, P)``: ``mean_k v[p + k - o]``."""
    import torch

    return sum(torch.roll(values, offset - k, dims=1) for k in range(width)) / width


def _window_block(block: Any, offset: int, width: int) -> Any:
    """The circular window average of a block ``(rows, P, columns, P)`` of position pairs.

    ``mean_k K[p + k - o, q + k - o]`` (positions mod P): each shift adds the block to
    itself displaced along the diagonal, in the four rectangles that the wrap-around
    cuts it into (strided views, no copies).
    """
    positions = block.shape[1]
    total = block.clone()
    for k in range(width):
        shift = (k - offset) % positions
        if shift == 0:
            continue
        rest = positions - shift
        # total[p, q] += block[p + shift, q + shift]: p + shift wraps for p >= rest.
        for target_p, source_p in ((slice(0, rest), slice(shift, None)),
                                   (slice(rest, None), slice(0, shift))):
            for target_q, source_q in ((slice(0, rest), slice(shift, None)),
                                       (slice(rest, None), slice(0, shift))):
                total[:, target_p, :, target_q].add_(block[:, source_p, :, source_q])
    return total.div_(width)


# -- statement functions: for named_function (mpmath arguments: the mpmath path) -----------


def _precision(*values: Any) -> int | None:
    """Mpmath's working precision when any argument holds mpmath numbers, else None."""
    for value in values:
        if isinstance(value, mpmath.mpf) or (isinstance(value, np.ndarray)
                                             and value.dtype == object):
            return mpmath.mp.dps
    return None


#: The last few recursions and Gaussian fields: a statement names K^(L) in both of the NTK's
#: terms and Theta^(L) once, and its decoys repeat them; each is computed once per point.
_RECENT: dict[tuple, Any] = {}
_RECENT_SIZE = 32


def _remembered(key: tuple, compute: Any) -> Any:
    if key not in _RECENT:
        if len(_RECENT) >= _RECENT_SIZE:
            _RECENT.pop(next(iter(_RECENT)))
        _RECENT[key] = compute()
    return _RECENT[key]


def _array_key(value: Any) -> tuple:
    array = np.asarray(value)
    if array.dtype == object:
        return (array.shape, tuple(str(v) for v in array.ravel()))
    return (array.shape, array.astype(np.float64).tobytes())


def _activation_key(name: Any) -> tuple:
    act = _activation(name)
    return (act.name, act.slopes)


def _statement_fields(name: Any, depth: Any, filter: Any, C_W: Any, C_b: Any, x1: Any,
                      x2: Any, padding: str, ntk: bool) -> np.ndarray:
    precision = _precision(C_W, C_b)
    key = ("layers", _activation_key(name), int(depth), int(filter), str(C_W), str(C_b),
           _array_key(x1), _array_key(x2), padding, precision)
    kernel, theta = _remembered(key, lambda: pair_kernels(
        name, x1, x2, int(depth), int(filter), C_W, C_b, padding=padding, precision=precision))
    return theta if ntk else kernel


def statement_nngp(name: Any, depth: Any, filter: Any, C_W: Any, C_b: Any, x1: Any,
                   x2: Any) -> np.ndarray:
    """``K^(depth)`` of the last convolution, blocks 11, 22, 12 ``(3, P, P)``."""
    return _statement_fields(name, depth, filter, C_W, C_b, x1, x2, "circular", False)


def statement_ntk(name: Any, depth: Any, filter: Any, C_W: Any, C_b: Any, x1: Any,
                  x2: Any) -> np.ndarray:
    """``Theta^(depth)`` of the last convolution, blocks ``(3, P, P)``."""
    return _statement_fields(name, depth, filter, C_W, C_b, x1, x2, "circular", True)


def statement_nngp_zero_padded(name: Any, depth: Any, filter: Any, C_W: Any, C_b: Any,
                               x1: Any, x2: Any) -> np.ndarray:
    """:func:`statement_nngp` with zero padding (the decoy)."""
    return _statement_fields(name, depth, filter, C_W, C_b, x1, x2, "zero", False)


def statement_ntk_zero_padded(name: Any, depth: Any, filter: Any, C_W: Any, C_b: Any,
                              x1: Any, x2: Any) -> np.ndarray:
    """:func:`statement_ntk` with zero padding (the decoy)."""
    return _statement_fields(name, depth, filter, C_W, C_b, x1, x2, "zero", True)


def _pair_fields(name: Any, fields: Any, derivative: bool) -> np.ndarray:
    precision = _precision(np.asarray(fields))

    def compute() -> list[np.ndarray]:
        with mpmath.workdps((precision or 15) + 10):
            return gaussian_fields(name, matrix(np.asarray(fields)), precision=precision)

    values = _remembered(("fields", _activation_key(name), _array_key(fields), precision),
                         compute)
    return blocks(values[1] if derivative else values[0])


def statement_sigma_pair(name: Any, fields: Any) -> np.ndarray:
    """``<s s>`` of every position pair, blocks ``(3, P, P)``, at the kernel blocks ``fields``."""
    return _pair_fields(name, fields, False)


def statement_derivative_pair(name: Any, fields: Any) -> np.ndarray:
    """``<s' s'>`` of every position pair, blocks ``(3, P, P)``."""
    return _pair_fields(name, fields, True)


def statement_pooled(fields: Any) -> np.ndarray:
    """Global average pooling: ``[K11, K22, K12]``, each block's mean over all position pairs."""
    fields = np.asarray(fields)
    return fields.reshape(3, -1).mean(axis=1) if fields.dtype != object else np.array(
        [mpmath.fsum(block.ravel()) / block.size for block in fields], dtype=object)


def statement_diagonal_pooled(fields: Any) -> np.ndarray:
    """Flattening (the decoy): each block's mean over equal positions only."""
    fields = np.asarray(fields)
    diagonals = np.stack([np.diagonal(block) for block in fields])
    return diagonals.mean(axis=1) if fields.dtype != object else np.array(
        [mpmath.fsum(row) / len(row) for row in diagonals], dtype=object)
