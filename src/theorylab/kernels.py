r"""Infinite-width kernels of wide networks: Gaussian expectations, recursions, fixed points.

Definitions and methods (Roberts, Yaida & Hanin, PDLT, arXiv:2106.10165), used by the
``rg_flow`` claims' named functions and by anyone building a kernel claim:

- :func:`gaussian_moments`: ``<s(u)^2>, <s(v)^2>, <s(u)s(v)>`` (and the same of ``s'``)
  for ``(u, v) ~ N(0, [[K11, K12], [K12, K22]])``: closed forms where
  :mod:`theorylab.activations` knows them, else a tensor-product trapezoid rule
  (:mod:`theorylab.quadrature`), in float64 or in mpmath at any precision; a kinked
  activation with single-input closed forms (hard_tanh's ``Activation.moments``) gets
  those, for one input or two independent ones;
- :func:`nngp_kernels`, :func:`ntk_kernels`: the kernel recursions of two inputs
  ``K^(l+1) = C_b + C_W <s s>_{K^(l)}`` and the NTK forward equation
  ``Theta^(l+1) = C_b + C_W <s s> + C_W <s' s'> Theta^(l)`` ('ntk' parameterization);
  :func:`nngp_gram`, :func:`ntk_gram` for Gram matrices (closed-form activations);
- :func:`chi_parallel`, :func:`chi_perpendicular` (PDLT §5.1), :func:`fixed_point`,
  :func:`critical_line_kernel`, :func:`critical_bias_variance` (Schoenholz et al. 2017),
  :func:`correlation_slope`, :func:`zero_class_vertex_ratio` (PDLT §4.3 vertex
  recursion), :func:`apjn` (Doshi, He & Gromov 2021).

Every function takes an activation name (or an :class:`~theorylab.activations.Activation`)
and ``precision=None`` for float64 or a number of digits for mpmath. The functions in
the last section (``statement_*``) are shaped for :func:`theorylab.named_function`:
they read the path from their arguments' types (mpmath numbers: the mpmath path).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import mpmath
import numpy as np
import sympy

from theorylab.activations import (
    K11,
    K12,
    K22,
    ZERO_FIXED_POINT,
    Activation,
    activation,
    variance,
    z,
)
from theorylab.errors import ParameterError
from theorylab.quadrature import (
    FLOAT_DIGITS,
    gaussian_rule,
    gaussian_step,
    hermite_rule,
    hermite_rule_precise,
    weighted_sum,
)

__all__ = [
    "FLOAT_NODES", "PRECISE_NODES", "ARCHITECTURES", "gaussian_moments", "nngp_kernels",
    "ntk_kernels", "nngp_gram", "ntk_gram", "chi_parallel", "chi_perpendicular",
    "fixed_point", "critical_weight_variance", "critical_line_kernel",
    "critical_bias_variance", "correlation_slope", "zero_class_vertex_ratio",
    "zero_class_vertex_series", "apjn", "apjn_layer_factors",
]

# Gauss-Hermite nodes of the zero-class vertex recursion (small kernels, where sigma is
# analytic far from the real axis); the other expectations use trapezoid rules.
FLOAT_NODES = 200  # float64 path
PRECISE_NODES = 300  # mpmath path
ARCHITECTURES = ("plain", "layer_norm", "residual", "residual_layer_norm")


def _activation(name: str | Activation) -> Activation:
    return name if isinstance(name, Activation) else activation(name)


def _numbers(precision: int | None, *values: Any) -> list:
    if precision:
        return [mpmath.mpf(v) if not isinstance(v, mpmath.mpf) else v for v in values]
    return [float(v) for v in values]


def _clamp(value11: Any, value22: Any, value12: Any) -> Any:
    bound = (value11 * value22) ** 0.5 if not isinstance(value11, mpmath.mpf) else mpmath.sqrt(
        value11 * value22)
    return min(max(value12, -bound), bound)


# -- Gaussian expectations ---------------------------------------------------------------


def gaussian_moments(name: str | Activation, K11: Any, K22: Any, K12: Any, *,
                     precision: int | None = None, derivative: bool = True) -> tuple[Any, ...]:
    """Gaussian expectations of a pair (u, v) ~ N(0, [[K11, K12], [K12, K22]]).

    Returns ``(<s(u)^2>, <s(v)^2>, <s(u)s(v)>)`` followed, with ``derivative``,
    by ``(<s'(u)^2>, <s'(v)^2>, <s'(u)s'(v)>)``. Closed forms where known (``<s's'>``
    is their K12-derivative by Price's theorem), else a tensor-product trapezoid rule
    whose step follows sigma's singularities at the kernel's scale (theorylab.quadrature),
    to float64's precision or, with ``precision``, to that many digits in mpmath.
    """
    act = _activation(name)
    if act.kernel is not None:
        module = "mpmath" if precision else "numpy"
        if precision:
            cosine = K12 / mpmath.sqrt(K11 * K22)
        else:
            cosine = float(K12) / math.sqrt(float(K11) * float(K22))
        cosine = min(max(cosine, -1), 1)
        plain = act.closed(module)
        values = [plain(K11, K11, 1), plain(K22, K22, 1), plain(K11, K22, cosine)]
        if derivative:
            slope = act.closed(module, True)
            values += [slope(K11, K11, 1), slope(K22, K22, 1), slope(K11, K22, cosine)]
        if precision:
            return tuple(mpmath.mpf(v) if not isinstance(v, mpmath.mpf) else v for v in values)
        return tuple(float(v) for v in values)
    if act.moments is not None:
        return _moments_closed(act, K11, K22, K12, precision, derivative)
    if precision:
        return _moments_precise(act, K11, K22, K12, precision, derivative)
    return _moments_float(act, float(K11), float(K22), float(K12), derivative)


def _single_moment(act: Activation, key: str, precision: int | None) -> Callable:
    """``act.moments[key]`` lambdified in the variance (mpmath or numpy/scipy)."""
    module = "mpmath" if precision else "numpy"
    if (key, module) not in act._cache:
        act._cache[(key, module)] = sympy.lambdify(variance, act.moments[key],
                                                   modules=["mpmath"] if precision
                                                   else ["scipy", "numpy"])
    return act._cache[(key, module)]


def _moments_closed(act: Activation, K11: Any, K22: Any, K12: Any, precision: int | None,
                    derivative: bool) -> tuple[Any, ...]:
    """One input's closed forms (``act.moments``): the diagonal, or independent inputs.

    A kinked sigma (hard_tanh) defeats the trapezoid rule, so only the expectations with a
    closed form are given: ``K12 = K11 = K22`` (one input) and ``K12 = 0`` (independent,
    ``<s(u) s(v)> = <s>_11 <s>_22``).

    Raises:
        ParameterError: any other correlation.

    """
    K11, K22, K12 = _numbers(precision, K11, K22, K12)
    diagonal = K11 == K22 == K12
    if not diagonal and K12 != 0:
        raise ParameterError("K12", f"K11 = K22 = K12 or 0 ({act.name}'s Gaussian "
                             "expectations are closed forms only there)", K12)
    pairs = [("sigma_squared", "mean")] + ([("slope_squared", "mean_slope")] if derivative
                                          else [])
    values: list[Any] = []
    for square, mean in pairs:
        first, second = (_single_moment(act, square, precision)(k) for k in (K11, K22))
        cross = first if diagonal else (_single_moment(act, mean, precision)(K11)
                                        * _single_moment(act, mean, precision)(K22))
        values += [first, second, cross]
    return tuple(_numbers(precision, *values))


def _rule(act: Activation, kernel: Any, digits: int | None) -> tuple[Any, Any]:
    """The trapezoid rule for sigma at scale sqrt(kernel) (theorylab.quadrature)."""
    step = gaussian_step(scale=max(math.sqrt(float(kernel)), 1e-8),
                         digits=digits or FLOAT_DIGITS, singularity=act.singularity)
    return gaussian_rule(step, digits)


def _moments_float(act: Activation, K11: float, K22: float, K12: float,
                   derivative: bool) -> tuple[float, ...]:
    nodes, weights = _rule(act, max(K11, K22), None)
    K12 = _clamp(K11, K22, K12)
    a = math.sqrt(K11)
    b = K12 / a
    c = math.sqrt(max(K22 - b * b, 0.0))
    functions = [act.function("numpy")] + ([act.function("numpy", True)] if derivative else [])
    values: list[float] = []
    if K11 == K22 == K12:  # one kernel: the cross term is the diagonal one (1-D rule)
        for f in functions:
            value = weighted_sum(weights, np.broadcast_to(f(a * nodes), nodes.shape) ** 2)
            values += [value, value, value]
        return tuple(values)
    u = a * nodes
    v = b * nodes[:, None] + c * nodes[None, :]
    for f in functions:
        fu = np.broadcast_to(f(u), u.shape)
        fv_diag = np.broadcast_to(f(math.sqrt(K22) * nodes), nodes.shape)
        fv = np.broadcast_to(f(v), v.shape)
        inner = np.array([weighted_sum(weights, row) for row in fv])
        values += [weighted_sum(weights, fu**2), weighted_sum(weights, fv_diag**2),
                   weighted_sum(weights, fu * inner)]
    return tuple(values)


def _moments_precise(act: Activation, K11: Any, K22: Any, K12: Any, digits: int,
                     derivative: bool) -> tuple[Any, ...]:
    nodes, weights = _rule(act, max(K11, K22), digits)
    with mpmath.workdps(digits + 10):
        K11, K22, K12 = mpmath.mpf(K11), mpmath.mpf(K22), mpmath.mpf(K12)
        K12 = _clamp(K11, K22, K12)
        a = mpmath.sqrt(K11)
        b = K12 / a
        c = mpmath.sqrt(max(K22 - b * b, mpmath.mpf(0)))
        root22 = mpmath.sqrt(K22)
        same = K11 == K22 == K12
        functions = [act.function("mpmath")]
        if derivative:
            functions.append(act.function("mpmath", True))
        values: list[Any] = []
        # Product weights below 10^-(digits+8) cannot matter: a disc, not the square.
        floor = mpmath.mpf(10) ** (-(digits + 8))
        for f in functions:
            fu = [f(a * x) for x in nodes]
            diag11 = mpmath.fsum(w * y * y for w, y in zip(weights, fu, strict=True))
            if same:
                values += [diag11, diag11, diag11]
                continue
            diag22 = mpmath.fsum(w * f(root22 * x) ** 2 for w, x in zip(weights, nodes,
                                                                          strict=True))
            cross = mpmath.fsum(
                wi * fi * mpmath.fsum(wj * f(b * xi + c * xj)
                                      for wj, xj in zip(weights, nodes, strict=True)
                                      if wi * wj > floor)
                for wi, xi, fi in zip(weights, nodes, fu, strict=True))
            values += [diag11, diag22, cross]
    return tuple(values)


def _expect(name: str | Activation, kernel: Any, precision: int | None) -> tuple[Any, Any]:
    """(<s^2>_K, <s'^2>_K)."""
    s, _, _, d, _, _ = gaussian_moments(name, kernel, kernel, kernel, precision=precision)
    return s, d


def _dk_sigma_squared(name: str | Activation, kernel: Any, precision: int | None) -> Any:
    """d<s^2>_K/dK: the closed form's total K-derivative, or <s^2 (z^2 - K)>/(2 K^2)."""
    act = _activation(name)
    module = "mpmath" if precision else "numpy"
    variable = sympy.Symbol("K", positive=True)
    if act.moments is not None:  # the closed form's derivative (hard_tanh)
        key = ("dK moments", module)
        if key not in act._cache:
            act._cache[key] = sympy.lambdify(variance, sympy.diff(
                act.moments["sigma_squared"], variance), modules=["mpmath"] if precision
                else ["scipy", "numpy"])
        return act._cache[key](kernel)
    if act.kernel is not None:
        key = ("dK", module)
        if key not in act._cache:
            expression = sympy.simplify(sympy.diff(act.kernel.subs(
                {K11: variable, K22: variable, K12: variable}), variable))
            act._cache[key] = sympy.lambdify(variable, expression,
                                             modules=["mpmath"] if precision else ["numpy"])
        return act._cache[key](kernel)
    # PDLT's form of chi_par, valid for any s: d<s^2>/dK = <s^2 (z^2/K - 1)>/(2K).
    key = ("weighted", module)
    if key not in act._cache:
        expression = act.expression**2 * (z**2 / variable - 1) / (2 * variable)
        act._cache[key] = sympy.lambdify((z, variable), expression,
                                         modules=["mpmath"] if precision else ["scipy", "numpy"])
    f = act._cache[key]
    nodes, weights = _rule(act, kernel, precision)
    if precision:
        with mpmath.workdps(precision + 10):
            root = mpmath.sqrt(kernel)
            return mpmath.fsum(w * f(root * x, kernel) for w, x in zip(weights, nodes,
                                                                      strict=True))
    return weighted_sum(weights, f(math.sqrt(kernel) * nodes, kernel))


# -- kernel recursions -----------------------------------------------------------------


def _input_kernel(x1: Any, x2: Any, weight: Any, bias: Any, precision: int | None) -> list:
    if precision:
        with mpmath.workdps(precision + 10):
            v1 = [mpmath.mpf(float(t)) for t in np.ravel(x1)]
            v2 = [mpmath.mpf(float(t)) for t in np.ravel(x2)]
            n0 = len(v1)

            def dot(p: list, q: list) -> Any:
                return mpmath.fsum(a * b for a, b in zip(p, q, strict=True))

            return [bias + weight * dot(v1, v1) / n0, bias + weight * dot(v2, v2) / n0,
                    bias + weight * dot(v1, v2) / n0]
    x1, x2 = np.ravel(x1).astype(float), np.ravel(x2).astype(float)
    n0 = x1.size
    return [bias + weight * math.fsum((x1 * x1).tolist()) / n0,
            bias + weight * math.fsum((x2 * x2).tolist()) / n0,
            bias + weight * math.fsum((x1 * x2).tolist()) / n0]


def nngp_kernels(name: str | Activation, depth: int, C_W: Any, C_b: Any, x1: Any,
                 x2: Any, *, precision: int | None = None) -> list:
    """``[K11, K22, K12]`` at layer ``depth`` (PDLT §4.3 recursion; ``depth = 1``: inputs)."""
    with mpmath.workdps((precision or 15) + 10):
        weight, bias = _numbers(precision, C_W, C_b)
        kernel = _input_kernel(x1, x2, weight, bias, precision)
        for _ in range(depth - 1):
            s11, s22, s12 = gaussian_moments(name, *kernel, precision=precision,
                                             derivative=False)
            kernel = [bias + weight * s11, bias + weight * s22, bias + weight * s12]
        return kernel


def ntk_kernels(name: str | Activation, depth: int, C_W: Any, C_b: Any, x1: Any,
                x2: Any, *, precision: int | None = None) -> list:
    """``[Theta11, Theta22, Theta12]`` at layer ``depth`` (PDLT Ch. 8, 'ntk' parameterization).

    ``Theta^(1) = C_b + C_W x.x/n_0`` and
    ``Theta^(l+1) = C_b + C_W <s s>_{K^(l)} + C_W <s' s'>_{K^(l)} Theta^(l)``.
    """
    with mpmath.workdps((precision or 15) + 10):
        weight, bias = _numbers(precision, C_W, C_b)
        kernel = _input_kernel(x1, x2, weight, bias, precision)
        theta = list(kernel)
        for _ in range(depth - 1):
            s11, s22, s12, d11, d22, d12 = gaussian_moments(name, *kernel, precision=precision)
            theta = [bias + weight * s + weight * d * t
                     for s, d, t in zip((s11, s22, s12), (d11, d22, d12), theta, strict=True)]
            kernel = [bias + weight * s11, bias + weight * s22, bias + weight * s12]
        return theta


# Entries per block of the Gram recursions: a block's temporaries stay in cache for all
# layers, and 2^16 float64s is above torch's grain size, so both threads work on it.
GRAM_BLOCK_ENTRIES = 1 << 16


def _gram_layer(kernel: Any, theta: Any, rows: Any, columns: Any, C_W: float, C_b: float,
                slopes: tuple[float, float] | None) -> tuple[Any, Any]:
    """One layer of the closed-form recursions on a block ``K[rows, columns >= rows]``.

    ``rows``/``columns`` hold ``1/sqrt(K_ii)`` (ABReLU class) or ``1/sqrt(1 + 2 K_ii)``
    (erf) of the block's rows and columns, whose global diagonal is the block's offset-0
    diagonal. Works in place where it can; ``theta`` is None for the NNGP alone.
    """
    import torch

    outer = rows[:, None] * columns[None, :]
    if slopes is not None:
        a_plus, a_minus = slopes
        square = (a_plus - a_minus) ** 2 / (2 * math.pi)
        cosine = torch.mul(kernel, outer).clamp_(-1.0, 1.0)
        # A diagonal's cosine is 1 exactly; rounding to 1 - eps would put an angle of
        # sqrt(2 eps) ~ 1e-8 into arccos and the derivative kernel.
        torch.diagonal(cosine).fill_(1.0)
        angle = torch.arccos(cosine)
        remaining = torch.sub(math.pi, angle)
        # sqrt(K11 K22) (sin t + (pi - t) cos t): Cho & Saul's J_1
        arc = torch.sin(angle).addcmul_(remaining, cosine).div_(outer)
        if a_plus * a_minus:
            kernel = kernel.mul_(C_W * a_plus * a_minus).add_(arc, alpha=C_W * square).add_(C_b)
        else:
            kernel = arc.mul_(C_W * square).add_(C_b)
        if theta is not None:  # <s's'> = a+ a- + (a+ - a-)^2 (pi - t) / (2 pi)
            theta.mul_(remaining.mul_(C_W * square).add_(C_W * a_plus * a_minus)).add_(kernel)
    else:  # erf: <s s> = (2/pi) asin(a), a = 2 K12 / sqrt((1 + 2 K11)(1 + 2 K22))
        argument = torch.mul(kernel, outer).mul_(2.0).clamp_(-1.0, 1.0)
        if theta is not None:
            # <s's'> = (4/pi) / sqrt((1+2K11)(1+2K22) - 4K12^2) = (4/pi) outer / sqrt(1-a^2)
            slope = torch.mul(argument, argument).neg_().add_(1.0).clamp_(min=1e-300).rsqrt_()
            theta.mul_(slope.mul_(outer).mul_(4 * C_W / math.pi))
        kernel = torch.asin(argument).mul_(2 * C_W / math.pi).add_(C_b)
        if theta is not None:
            theta.add_(kernel)
    return kernel, theta


def gram_closed(name: str | Activation, gram: Any, depth: int, C_W: float, C_b: float,
                ntk: bool, block_entries: int = GRAM_BLOCK_ENTRIES) -> Any:
    """Gram-matrix recursions for closed-form activations (torch, float64) from ``x x^T/n_0``.

    The diagonal's own recursion runs first, so every layer's norms are known; then
    each block of rows of the upper triangle runs through all layers while it is in
    cache, and is mirrored into the lower triangle.
    """
    import torch

    act = _activation(name)
    if act.kernel is None:
        raise ParameterError("activation", "an activation with a closed-form kernel for Gram "
                             "matrices: relu, leaky_relu, abs, linear, erf", act.name)
    slopes = None if act.slopes is None else tuple(float(a) for a in act.slopes)
    initial = C_b + C_W * gram
    count = initial.shape[0]
    diagonal = torch.diagonal(initial).clone()
    scales = []
    for _ in range(depth - 1):
        if slopes is not None:  # on the diagonal, <s^2>_K = A_2 K
            scales.append(diagonal.rsqrt())
            diagonal = C_b + C_W * (slopes[0] ** 2 + slopes[1] ** 2) / 2 * diagonal
        else:
            scales.append((1 + 2 * diagonal).rsqrt())
            diagonal = C_b + C_W * 2 / math.pi * torch.asin(2 * diagonal / (1 + 2 * diagonal))
    result = torch.empty_like(initial)
    step = max(1, block_entries // count)
    for start in range(0, count, step):
        stop = min(start + step, count)
        kernel = initial[start:stop, start:].clone()
        theta = kernel.clone() if ntk else None
        for scale in scales:
            kernel, theta = _gram_layer(kernel, theta, scale[start:stop], scale[start:],
                                        C_W, C_b, slopes)
        block = theta if ntk else kernel
        result[start:stop, start:] = block
        result[start:, start:stop] = block.T
    return result


def input_gram(inputs: Any) -> Any:
    """``x x^T / n_0`` (torch, float64), symmetric by construction.

    BLAS may block ``x @ x.T`` so that entry (i, j) and entry (j, i) round differently;
    the upper triangle is computed once and mirrored, so the Gram (and every layer's
    recursion built on it) is exactly symmetric whatever the BLAS.
    """
    import torch

    x = torch.as_tensor(np.asarray(inputs, dtype=np.float64))
    gram = x @ x.T / x.shape[1]
    return torch.triu(gram) + torch.triu(gram, diagonal=1).T


def nngp_gram(name: str | Activation, inputs: Any, depth: int, C_W: float,
              C_b: float) -> np.ndarray:
    """NNGP Gram matrix ``K^(depth)`` of the rows of ``inputs`` (N x n_0), float64.

    Closed-form activations only (relu, leaky_relu, abs, linear, erf).
    """
    return gram_closed(name, input_gram(inputs), depth, C_W, C_b, ntk=False).numpy()


def ntk_gram(name: str | Activation, inputs: Any, depth: int, C_W: float,
             C_b: float) -> np.ndarray:
    """NTK Gram matrix ``Theta^(depth)`` ('ntk' parameterization), float64."""
    return gram_closed(name, input_gram(inputs), depth, C_W, C_b, ntk=True).numpy()


# -- susceptibilities and critical points ------------------------------------------------


def chi_parallel(name: str | Activation, C_W: Any, K: Any, *,
                 precision: int | None = None) -> Any:
    """``chi_par(K) = C_W d<sigma^2>_K/dK`` (PDLT §5.1)."""
    with mpmath.workdps((precision or 15) + 10):
        weight, kernel = _numbers(precision, C_W, K)
        return weight * _dk_sigma_squared(name, kernel, precision)


def chi_perpendicular(name: str | Activation, C_W: Any, K: Any, *,
                      precision: int | None = None) -> Any:
    """``chi_perp(K) = C_W <sigma'^2>_K`` (PDLT §5.1)."""
    with mpmath.workdps((precision or 15) + 10):
        weight, kernel = _numbers(precision, C_W, K)
        return weight * _expect(name, kernel, precision)[1]


def solve(function: Callable[[Any], Any], low: float, high: float,
          precision: int | None = None) -> Any:
    """A root of ``function`` bracketed in [low, high]: brentq to 1e-15, then mpmath.findroot."""
    from scipy.optimize import brentq

    root = brentq(lambda q: float(function(q)), low, high, xtol=1e-15, rtol=1e-15, maxiter=200)
    if not precision:
        return root
    with mpmath.workdps(precision + 10):
        return mpmath.findroot(function, mpmath.mpf(root),
                               tol=mpmath.mpf(10) ** (-2 * precision))


def fixed_point(name: str | Activation, C_W: Any, C_b: Any, *,
                precision: int | None = None) -> Any:
    """``K*`` solving ``K = C_b + C_W <sigma^2>_K`` (bounded activations, C_b > 0)."""
    with mpmath.workdps((precision or 15) + 10):
        weight, bias = _numbers(precision, C_W, C_b)

        def gap(kernel: Any) -> Any:
            kernel = mpmath.mpf(kernel) if precision else float(kernel)
            return bias + weight * _expect(name, kernel, precision)[0] - kernel

        return solve(gap, float(C_b) * (1 - 1e-12), float(C_b + C_W) * 1.5 + 1.0, precision)


def critical_weight_variance(name: str | Activation) -> sympy.Expr:
    """Critical ``C_W`` at ``C_b = 0``, exact (sympy).

    ``1/A_2`` for the scale-invariant class (PDLT §5.2), ``1/sigma'(0)^2`` for the
    K* = 0 class (PDLT §5.3.3).

    Raises:
        ParameterError: an activation of neither class (gelu, swish).

    """
    act = _activation(name)
    if act.slopes is not None:
        return 2 / (act.slopes[0] ** 2 + act.slopes[1] ** 2)
    if act.name in ZERO_FIXED_POINT:
        return 1 / act.derivative.subs(z, 0) ** 2
    raise ParameterError("activation", "a scale-invariant or K*=0 activation", act.name)


def critical_line_kernel(name: str | Activation, C_W: Any, *,
                         precision: int | None = None, susceptibility: str = "perpendicular"
                         ) -> Any:
    """The kernel ``q`` where a susceptibility is 1: ``C_W <sigma'^2>_q = 1`` (Schoenholz et al.).

    ``susceptibility='parallel'`` solves ``chi_par(q) = 1`` instead, ``'uncorrelated'``
    ``C_W <sigma'>_q^2 = 1`` (the correlation map's slope at c = 0).
    """
    chi = {"perpendicular": chi_perpendicular, "parallel": chi_parallel,
           "uncorrelated": partial(correlation_slope, c=0)}[susceptibility]
    with mpmath.workdps((precision or 15) + 10):

        def gap(kernel: Any) -> Any:
            kernel = mpmath.mpf(kernel) if precision else float(kernel)
            return chi(name, C_W, kernel, precision=precision) - 1

        high = 1.0
        while float(gap(high)) > 0:
            high *= 2
        return solve(gap, 1e-12, high, precision)


def critical_bias_variance(name: str | Activation, C_W: Any, *,
                           precision: int | None = None) -> Any:
    """Schoenholz et al.'s critical line: ``C_b`` with ``chi_perp(q*) = 1`` at the fixed point.

    Solves ``C_W <sigma'^2>_q = 1`` for ``q`` and returns ``q - C_W <sigma^2>_q``.
    """
    with mpmath.workdps((precision or 15) + 10):
        weight = _numbers(precision, C_W)[0]
        q = critical_line_kernel(name, C_W, precision=precision)
        return q - weight * _expect(name, q, precision)[0]


def correlation_slope(name: str | Activation, C_W: Any, q: Any, c: Any = 1, *,
                      precision: int | None = None) -> Any:
    """``chi_c = C_W <sigma'(u1) sigma'(u2)>`` with ``(u1, u2)`` of variance q, correlation c.

    The slope of Schoenholz et al.'s correlation map; at ``c = 1`` it is ``chi_perp(q)``.
    """
    with mpmath.workdps((precision or 15) + 10):
        weight, kernel, cosine = _numbers(precision, C_W, q, c)
        return weight * gaussian_moments(name, kernel, kernel, kernel * cosine,
                                         precision=precision)[5]


def zero_class_vertex_ratio(name: str | Activation, depth: int, *,
                            precision: int | None = None) -> Any:
    """``V^(l)/K^(l)^2`` at K* = 0 criticality from the infinite-width vertex recursion.

    ``C_b = 0``, ``C_W = 1/sigma'(0)^2``, one input with ``K^(1) = C_W`` (x.x/n_0 = 1), and
    (PDLT §4.3) ``K^(l+1) = C_W <sigma^2>_K``,
    ``V^(l+1) = chi_par(K^(l))^2 V^(l) + C_W^2 (<sigma^4>_K - <sigma^2>_K^2)``, ``V^(1) = 0``.
    """
    if not precision:
        return float(zero_class_vertex_series(name, depth)[-1])
    act = _activation(name)
    nodes, weights = hermite_rule_precise(PRECISE_NODES, precision)
    f = act.function("mpmath")
    with mpmath.workdps(precision + 10):
        weight = 1 / mpmath.mpf(sympy.N(act.derivative.subs(z, 0), precision + 10)) ** 2
        kernel, vertex = weight, mpmath.mpf(0)
        for _ in range(depth - 1):
            root = mpmath.sqrt(kernel)
            values = [f(root * x) ** 2 for x in nodes]
            second = mpmath.fsum(w * v for w, v in zip(weights, values, strict=True))
            fourth = mpmath.fsum(w * v**2 for w, v in zip(weights, values, strict=True))
            chi = weight * mpmath.fsum(w * v * (x**2 - 1) for w, v, x in
                                       zip(weights, values, nodes, strict=True)) / (2 * kernel)
            vertex = chi**2 * vertex + weight**2 * (fourth - second**2)
            kernel = weight * second
        return vertex / kernel**2


def zero_class_vertex_series(name: str | Activation, depth: int) -> np.ndarray:
    """``V^(l)/K^(l)^2`` for ``l = 1..depth`` (float64), as :func:`zero_class_vertex_ratio`."""
    act = _activation(name)
    nodes, weights = hermite_rule(FLOAT_NODES)
    f = act.function("numpy")
    weight = 1 / float(act.derivative.subs(z, 0)) ** 2
    kernel, vertex = weight, 0.0
    ratios = np.zeros(depth)
    for layer in range(1, depth):
        values = f(math.sqrt(kernel) * nodes) ** 2
        second, fourth = weighted_sum(weights, values), weighted_sum(weights, values**2)
        chi = weight * weighted_sum(weights, values * (nodes**2 - 1)) / (2 * kernel)
        vertex = chi**2 * vertex + weight**2 * (fourth - second**2)
        kernel = weight * second
        ratios[layer] = vertex / kernel**2
    return ratios


def apjn_kernels(name: str | Activation, layer: int, C_W: Any, C_b: Any, mu: Any, q: Any, *,
                 precision: int | None = None) -> list:
    """``K^(layer)`` feeding layer ``layer``'s Jacobian, per architecture (see :func:`apjn`)."""
    with mpmath.workdps((precision or 15) + 10):
        weight, bias, strength, signal = _numbers(precision, C_W, C_b, mu, q)
        unit_s2 = _expect(name, _numbers(precision, 1.0)[0], precision)[0]
        kernels = []
        for architecture in ARCHITECTURES:
            kernel = bias + weight * signal
            residual = architecture.startswith("residual")
            for _ in range(layer - 1):
                if architecture.endswith("layer_norm"):
                    s2 = unit_s2
                else:
                    s2 = _expect(name, kernel, precision)[0]
                kernel = (strength**2 * kernel if residual else 0) + bias + weight * s2
            kernels.append(kernel)
        return kernels


def apjn_layer_factors(name: str | Activation, depth: int, C_W: Any, C_b: Any, mu: Any,
                       q: Any, *, precision: int | None = None) -> list:
    """``[chi_J^(1), ..., chi_J^(depth-1)]`` for each architecture (see :func:`apjn`)."""
    with mpmath.workdps((precision or 15) + 10):
        weight, bias, strength, signal = _numbers(precision, C_W, C_b, mu, q)
        one = _numbers(precision, 1.0)[0]
        unit_s2, unit_d2 = _expect(name, one, precision)
        results = []
        for architecture in ARCHITECTURES:
            kernel = bias + weight * signal
            factors = []
            residual = architecture.startswith("residual")
            normalized = architecture.endswith("layer_norm")
            for _ in range(depth - 1):
                if normalized:
                    s2, d2 = unit_s2, unit_d2
                    gain = weight * d2 / kernel
                else:
                    s2, d2 = _expect(name, kernel, precision)
                    gain = weight * d2
                factors.append((strength**2 if residual else 0) + gain)
                kernel = (strength**2 * kernel if residual else 0) + bias + weight * s2
            results.append(factors)
        return results


def apjn(name: str | Activation, depth: int, C_W: Any, C_b: Any, mu: Any, q: Any, *,
         precision: int | None = None) -> list:
    """``J^(1,depth)`` for the four architectures (Doshi, He & Gromov 2021), ARCHITECTURES order.

    ``z^(1) = W x + b`` with ``|x|^2/n_0 = q``; ``J^(1,l) = prod_{l'<l} chi_J^(l')`` with
    plain ``C_W <s'^2>_K``; layer_norm ``C_W E_N(0,1)[s'^2] / K`` (``K^(l+1) = C_b + C_W
    E_N(0,1)[s^2]``); residual ``mu^2 + C_W <s'^2>_K`` (``K^(l+1) = mu^2 K + C_b + C_W
    <s^2>_K``); residual_layer_norm ``mu^2 + C_W E_N(0,1)[s'^2]/K``.
    """
    factors = apjn_layer_factors(name, depth, C_W, C_b, mu, q, precision=precision)
    with mpmath.workdps((precision or 15) + 10):
        results = []
        for architecture in factors:
            total = _numbers(precision, 1.0)[0]
            for chi in architecture:
                total = total * chi
            results.append(total)
        return results


# -- statement functions: for named_function, the path read from the arguments ------------


def _digits(*values: Any) -> int | None:
    """The working precision on the mpmath path (mpmath arguments), None on float64.

    Numbers decide by their type: the float64 path passes floats, the mpmath path mpf.
    Only a function of no number (an activation's name, float inputs) reads the working
    precision, which the mpmath path raises; a global ``mp.dps`` left high elsewhere
    must not send a float64 evaluation down the mpmath path.
    """
    if values:
        return mpmath.mp.dps if any(isinstance(v, mpmath.mpf) for v in values) else None
    return mpmath.mp.dps if mpmath.mp.dps > 15 else None


def _vector(values: Any, precision: int | None) -> np.ndarray:
    """A 1-d array that statements can add and scale: objects (mpf) or float64."""
    return np.array(list(values), dtype=object) if precision else np.asarray(
        list(values), dtype=np.float64)


def _exact_number(value: Any) -> Any:
    """An exact sympy number on the path of the call (no numeric argument to read it from)."""
    digits = _digits()
    return mpmath.mpf(sympy.N(value, digits + 10)) if digits else float(value)


def statement_input_gram(x1: Any, x2: Any) -> np.ndarray:
    """``[x1.x1, x2.x2, x1.x2]/n_0`` (float inputs on both paths)."""
    precision = _digits()
    return _vector(_input_kernel(x1, x2, 1, 0, precision), precision)


def statement_sigma_pair(name: str, kernel: Any) -> np.ndarray:
    """``[<s^2>_11, <s^2>_22, <s s>_12]`` at a kernel vector ``[K11, K22, K12]``."""
    precision = _digits(*kernel)
    with mpmath.workdps((precision or 15) + 10):
        return _vector(gaussian_moments(name, *kernel, precision=precision,
                                        derivative=False), precision)


def statement_derivative_pair(name: str, kernel: Any) -> np.ndarray:
    """``[<s'^2>_11, <s'^2>_22, <s' s'>_12]`` at a kernel vector."""
    precision = _digits(*kernel)
    with mpmath.workdps((precision or 15) + 10):
        return _vector(gaussian_moments(name, *kernel, precision=precision)[3:], precision)


def statement_nngp(name: str, depth: Any, C_W: Any, C_b: Any, x1: Any, x2: Any) -> np.ndarray:
    """:func:`nngp_kernels` as a vector (depth 0, the Piecewise's other branch: the inputs)."""
    precision = _digits(C_W, C_b)
    return _vector(nngp_kernels(name, int(depth), C_W, C_b, x1, x2, precision=precision),
                   precision)


def statement_ntk(name: str, depth: Any, C_W: Any, C_b: Any, x1: Any, x2: Any) -> np.ndarray:
    """:func:`ntk_kernels` as a vector."""
    precision = _digits(C_W, C_b)
    return _vector(ntk_kernels(name, int(depth), C_W, C_b, x1, x2, precision=precision),
                   precision)


def statement_sigma_squared(name: str, K: Any) -> Any:
    """``<sigma^2>_K``."""
    return _expect(name, K, _digits(K))[0]


def statement_slope_squared(name: str, K: Any) -> Any:
    """``<sigma'^2>_K``."""
    return _expect(name, K, _digits(K))[1]


def statement_sigma_squared_slope(name: str, K: Any) -> Any:
    """``d<sigma^2>_K/dK``."""
    return chi_parallel(name, 1, K, precision=_digits(K))


def statement_slope_pair_at(name: str, q: Any, c: Any) -> Any:
    """``<sigma'(u1) sigma'(u2)>`` at variance q and correlation c."""
    return correlation_slope(name, 1, q, c, precision=_digits(q))


def statement_fixed_point(name: str, C_W: Any, C_b: Any) -> Any:
    """``K*`` of ``K = C_b + C_W <sigma^2>_K``."""
    return fixed_point(name, C_W, C_b, precision=_digits(C_W, C_b))


def statement_critical_kernel(name: str, C_W: Any) -> Any:
    """The kernel with ``C_W <sigma'^2>_q = 1``."""
    return critical_line_kernel(name, C_W, precision=_digits(C_W))


def statement_parallel_critical_kernel(name: str, C_W: Any) -> Any:
    """The kernel with ``chi_par(q) = C_W d<sigma^2>_q/dq = 1``."""
    return critical_line_kernel(name, C_W, precision=_digits(C_W), susceptibility="parallel")


def statement_activation(name: str, leaky_slope: Any) -> Activation:
    """The activation ``name``; ``leaky_slope`` is leaky_relu's negative slope (others: unused)."""
    return activation(name, float(leaky_slope)) if name == "leaky_relu" else activation(name)


def statement_input_size(x: Any) -> int:
    """``n_0``: the number of entries of an input."""
    return int(np.size(x))


def statement_uncorrelated_critical_kernel(name: str, C_W: Any) -> Any:
    """The kernel with ``C_W <sigma'>_q^2 = 1``."""
    return critical_line_kernel(name, C_W, precision=_digits(C_W), susceptibility="uncorrelated")


def _slopes_at_zero(name: str) -> tuple[Any, Any]:
    """``(sigma'(0-), sigma'(0+))``, exact."""
    act = _activation(name)
    if act.slopes is not None:
        return act.slopes[1], act.slopes[0]
    slope = act.derivative.subs(z, 0)
    return slope, slope


def statement_slope_squared_at_zero(name: str) -> Any:
    """``<sigma'^2>_{K -> 0}``: ``A_2 = (a_+^2 + a_-^2)/2`` for the ABReLU, else ``sigma'(0)^2``."""
    below, above = _slopes_at_zero(name)
    return _exact_number((below**2 + above**2) / 2)


def statement_mean_slope_squared_at_zero(name: str) -> Any:
    """``<sigma'>^2_{K -> 0}``: ``((a_+ + a_-)/2)^2`` for the ABReLU, else ``sigma'(0)^2``."""
    below, above = _slopes_at_zero(name)
    return _exact_number(((below + above) / 2) ** 2)


def statement_slope_at_zero(name: str) -> Any:
    """``sigma'(0+)``: ``a_+`` for the ABReLU."""
    return _exact_number(_slopes_at_zero(name)[1])


def statement_positive_side(name: str) -> str:
    """The activation with its negative side given the positive slope (ABReLU -> linear)."""
    return "linear" if _activation(name).slopes is not None else name


def statement_taylor_coefficient(name: str, order: Any) -> Any:
    """The coefficient of ``z^order`` in sigma's Taylor series at 0."""
    series = sympy.series(_activation(name).expression, z, 0, int(order) + 2).removeO()
    return _exact_number(series.coeff(z, int(order)))


def statement_slope_moment(name: str, power: Any) -> Any:
    """``A_p = (a_+^p + a_-^p)/2`` of a scale-invariant activation."""
    a_plus, a_minus = _activation(name).slopes
    return _exact_number((a_plus ** int(power) + a_minus ** int(power)) / 2)


def statement_apjn(name: str, depth: Any, C_W: Any, C_b: Any, mu: Any, q: Any) -> np.ndarray:
    """:func:`apjn` as a vector (depth at least 1)."""
    precision = _digits(C_W, C_b, mu, q)
    return _vector(apjn(name, max(int(depth), 1), C_W, C_b, mu, q, precision=precision),
                   precision)


def statement_apjn_slope(name: str, layer: Any, C_W: Any, C_b: Any, mu: Any,
                         q: Any) -> np.ndarray:
    """``<s'^2>`` seen by layer ``layer``'s Jacobian, per architecture.

    At ``K^(layer)``, or ``E_N(0,1)[s'^2]`` behind a LayerNorm.
    """
    precision = _digits(C_W, C_b, mu, q)
    with mpmath.workdps((precision or 15) + 10):
        plain, _, residual, _ = apjn_kernels(name, max(int(layer), 1), C_W, C_b, mu, q,
                                             precision=precision)
        unit = _expect(name, _numbers(precision, 1.0)[0], precision)[1]
        return _vector([_expect(name, plain, precision)[1], unit,
                        _expect(name, residual, precision)[1], unit], precision)


def statement_apjn_scale(name: str, layer: Any, C_W: Any, C_b: Any, mu: Any,
                         q: Any) -> np.ndarray:
    """The LayerNorm's ``K^(layer)`` dividing the slope (1 without a LayerNorm)."""
    precision = _digits(C_W, C_b, mu, q)
    with mpmath.workdps((precision or 15) + 10):
        _, normalized, _, residual = apjn_kernels(name, max(int(layer), 1), C_W, C_b, mu, q,
                                                  precision=precision)
        one = _numbers(precision, 1.0)[0]
        return _vector([one, normalized, one, residual], precision)


def statement_residual_mask() -> np.ndarray:
    """1 for the architectures with a skip connection, 0 for the others."""
    return np.array([0, 0, 1, 1])
