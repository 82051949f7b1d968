r"""Elementwise activations, each defined once: sympy, torch and Gaussian kernels.

As neural-tangents' ``stax`` pairs a layer's function with its kernel map, an
:class:`Activation` holds ``sigma`` as a sympy expression in ``z`` (the theory's
definition), the torch function a simulation runs, and the closed form of the
Gaussian kernel ``<sigma(u) sigma(v)>`` for ``(u, v) ~ N(0, [[K11, K12], [K12, K22]])``
where one is known (the ABReLU class after Cho & Saul, and erf after Williams).
Activations without one are integrated by :mod:`theorylab.kernels`.

Names: ``relu``; ``leaky_relu`` (the ABReLU with slopes ``a_+ = 1``, ``a_- =
leaky_slope``, 0.2 by default; neural-tangents' ``LeakyRelu(0.1)`` is
``activation("leaky_relu", 0.1)``); ``abs``; ``linear``; ``erf`` (plain ``erf(z)``);
``tanh``; ``gelu`` (exact, ``z Phi(z)``); ``swish`` (``z / (1 + e^-z)``, SiLU); ``sin``;
and ``hard_tanh`` (``max(-1, min(1, z))``), one of the piecewise-linear activations of
Pennington, Schoenholz & Ganguli's Jacobian spectra (:data:`PIECEWISE_LINEAR`), whose
Gaussian moments are closed forms (:func:`mean_square`, :func:`derivative_mean_square`).

Example::

    from theorylab.activations import activation

    relu = activation("relu")
    relu.kernel           # the arc-cosine kernel in K11, K22, K12 (sympy)
    relu.torch(x)         # torch.relu(x)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import sympy

__all__ = ["Activation", "activation", "torch_function", "torch_derivative", "mean_square",
           "derivative_mean_square", "derivative_moment", "NAMES", "PIECEWISE_LINEAR",
           "SMOOTH_JACOBIAN", "SCALE_INVARIANT",
           "ZERO_FIXED_POINT", "BOUNDED", "LEAKY_SLOPE", "z", "K11", "K22", "K12", "variance"]

#: The default negative slope of ``leaky_relu`` (PyTorch's 0.01 is not it: 0.2 as in
#: neural-tangents' examples and this catalogue's pins).
LEAKY_SLOPE = 0.2
NAMES = ("relu", "leaky_relu", "abs", "linear", "erf", "tanh", "gelu", "swish", "sin")
SCALE_INVARIANT = ("relu", "leaky_relu", "abs", "linear")
ZERO_FIXED_POINT = ("tanh", "erf", "sin")  # the K* = 0 universality class (PDLT §5.3.3)
BOUNDED = ("tanh", "erf")
#: The Jacobian-spectrum activations (Pennington et al. 2017): phi' takes the values 0 and 1.
PIECEWISE_LINEAR = ("linear", "relu", "hard_tanh")
#: Smooth activations of the Jacobian spectra (Pennington, Schoenholz & Ganguli 2018): phi'^2
#: has a continuous law, whose moments :func:`derivative_moment` gives.
SMOOTH_JACOBIAN = ("tanh", "erf")

z = sympy.Symbol("z", real=True)
K11, K22 = sympy.symbols("K11 K22", positive=True)
K12 = sympy.Symbol("K12", real=True)
_cosine = sympy.Symbol("c", real=True)
#: The variance K of a single Gaussian input u ~ N(0, K) in :attr:`Activation.moments`.
variance = sympy.Symbol("K", positive=True)


def _abrelu_kernel(a_plus: Any, a_minus: Any) -> sympy.Expr:
    """<sigma(u) sigma(v)> of the ABReLU: a_+ a_- K12 + (a_+ - a_-)^2 J1(theta)/(2 pi)."""
    theta = sympy.acos(K12 / sympy.sqrt(K11 * K22))
    arc = sympy.sqrt(K11 * K22) * (sympy.sin(theta) + (sympy.pi - theta) * sympy.cos(theta))
    return a_plus * a_minus * K12 + (a_plus - a_minus) ** 2 * arc / (2 * sympy.pi)


def _modules(module: str) -> list[str]:
    return ["mpmath"] if module == "mpmath" else ["scipy", "numpy"]


@dataclass(frozen=True)
class Activation:
    """An elementwise activation and its Gaussian kernel.

    Attributes:
        name: the public name (``activation=`` parameter).
        expression: sigma as a sympy expression in :data:`z`.
        kernel: closed form of ``<sigma(u) sigma(v)>`` in ``K11, K22, K12``, or None.
        slopes: ``(a_+, a_-)`` (exact sympy numbers) for the scale-invariant class.
        singularity: distance from the real axis of sigma's nearest complex singularity
            (tanh: pi/2, swish: pi), None for an entire sigma; quadrature steps scale with it.
        moments: closed forms in :data:`variance` of one input's ``<sigma>``,
            ``<sigma'>``, ``<sigma^2>``, ``<sigma'^2>`` (keys ``mean``, ``mean_slope``,
            ``sigma_squared``, ``slope_squared``) for an activation without a closed-form
            kernel whose kinks defeat the trapezoid rule (hard_tanh), or None.

    """

    name: str
    expression: sympy.Expr
    kernel: sympy.Expr | None = None
    slopes: tuple[Any, Any] | None = None
    singularity: float | None = None
    moments: dict | None = field(default=None, compare=False)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def derivative(self) -> sympy.Expr:
        """Sigma' (sympy)."""
        return sympy.diff(self.expression, z)

    @property
    def derivative_kernel(self) -> sympy.Expr | None:
        """<sigma'(u) sigma'(v)> = d<sigma sigma>/dK12 (Price's theorem), or None."""
        if self.kernel is None:
            return None
        if "dk" not in self._cache:
            self._cache["dk"] = sympy.simplify(sympy.diff(self.kernel, K12))
        return self._cache["dk"]

    def function(self, module: str, derivative: bool = False) -> Callable:
        """Sigma (or sigma') lambdified for ``'numpy'`` or ``'mpmath'``."""
        key = (module, derivative)
        if key not in self._cache:
            expression = self.derivative if derivative else self.expression
            if self.slopes is not None and derivative:  # no Heaviside/DiracDelta
                expression = sympy.Piecewise((self.slopes[0], z > 0), (self.slopes[1], True))
            self._cache[key] = sympy.lambdify(z, expression, modules=_modules(module))
        return self._cache[key]

    def closed(self, module: str, derivative: bool = False) -> Callable:
        """The closed-form kernel (or its K12-derivative) as a function of (K11, K22, cosine).

        Written in the cosine ``K12/sqrt(K11 K22)`` so that callers can clamp it to
        [-1, 1] (rounding puts a diagonal's cosine at 1 + eps, outside arccos' domain).
        """
        key = ("closed", module, derivative)
        if key not in self._cache:
            expression = self.derivative_kernel if derivative else self.kernel
            expression = sympy.simplify(expression.subs(K12, _cosine * sympy.sqrt(K11 * K22)))
            self._cache[key] = sympy.lambdify((K11, K22, _cosine), expression,
                                              modules=_modules(module))
        return self._cache[key]

    def torch(self, x: Any) -> Any:
        """Sigma applied to a torch tensor (float64 in the simulations)."""
        return torch_function(self.name, *([float(self.slopes[1])]
                                           if self.name == "leaky_relu" else []))(x)


def _scale_invariant(name: str, a_plus: Any, a_minus: Any) -> Activation:
    expression = sympy.Piecewise((a_plus * z, z > 0), (a_minus * z, True))
    return Activation(name, expression, _abrelu_kernel(a_plus, a_minus), (a_plus, a_minus))


def _exact(value: Any) -> Any:
    """A float slope as the exact rational it was written as (0.2 -> 1/5)."""
    return sympy.nsimplify(sympy.Float(repr(float(value))), rational=True)


@cache
def activation(name: str, leaky_slope: float = LEAKY_SLOPE) -> Activation:
    """The activation called ``name``; ``leaky_slope`` is leaky_relu's negative slope.

    Raises:
        ValueError: an unknown name, or a slope that is not a finite number.

    """
    if name == "leaky_relu":
        slope = float(leaky_slope)
        if slope != slope or abs(slope) == float("inf"):
            raise ValueError(f"leaky_slope must be a finite number, got {leaky_slope!r}")
        return _scale_invariant(name, sympy.Integer(1), _exact(slope))
    table: dict[str, Callable[[], Activation]] = {
        "relu": lambda: _scale_invariant("relu", sympy.Integer(1), sympy.Integer(0)),
        "abs": lambda: _scale_invariant("abs", sympy.Integer(1), sympy.Integer(-1)),
        "linear": lambda: _scale_invariant("linear", sympy.Integer(1), sympy.Integer(1)),
        # Williams (1997): <erf erf> = (2/pi) asin(2 K12 / sqrt((1 + 2 K11)(1 + 2 K22))).
        "erf": lambda: Activation("erf", sympy.erf(z), 2 / sympy.pi * sympy.asin(
            2 * K12 / sympy.sqrt((1 + 2 * K11) * (1 + 2 * K22)))),
        "tanh": lambda: Activation("tanh", sympy.tanh(z), singularity=math.pi / 2),
        "gelu": lambda: Activation("gelu", z * (1 + sympy.erf(z / sympy.sqrt(2))) / 2),
        "swish": lambda: Activation("swish", z / (1 + sympy.exp(-z)), singularity=math.pi),
        "sin": lambda: Activation("sin", sympy.sin(z)),
        "hard_tanh": lambda: Activation("hard_tanh", sympy.Piecewise(
            (-1, z < -1), (z, z < 1), (1, True)), moments=_hard_tanh_moments()),
    }
    if name not in table:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(NAMES)}")
    return table[name]()


def _hard_tanh_moments() -> dict[str, sympy.Expr]:
    """One input u ~ N(0, K) through clip(u, -1, 1) (proofs.rg_flow derives them).

    ``<sigma'^2> = <sigma'> = P(|u| < 1) = erf(1/sqrt(2K))``; ``<sigma> = 0`` (odd);
    ``<sigma^2> = K (erf(1/sqrt(2K)) - sqrt(2/(pi K)) e^(-1/(2K))) + 1 - erf(1/sqrt(2K))``:
    ``u^2`` inside the clip, 1 outside.
    """
    inside = sympy.erf(1 / sympy.sqrt(2 * variance))
    density = sympy.sqrt(2 / (sympy.pi * variance)) * sympy.exp(-1 / (2 * variance))
    return {"mean": sympy.Integer(0), "mean_slope": inside,
            "sigma_squared": variance * (inside - density) + 1 - inside,
            "slope_squared": inside}


def torch_function(name: str, leaky_slope: float = LEAKY_SLOPE) -> Callable[[Any], Any]:
    """The torch function of an activation (what a simulation applies elementwise)."""
    import torch

    table: dict[str, Callable[[Any], Any]] = {
        "relu": torch.relu,
        "leaky_relu": lambda x: torch.nn.functional.leaky_relu(x, float(leaky_slope)),
        "abs": torch.abs,
        "linear": lambda x: x,
        "erf": torch.erf,
        "tanh": torch.tanh,
        "gelu": torch.nn.functional.gelu,  # exact: x Phi(x)
        "swish": torch.nn.functional.silu,
        "sin": torch.sin,
        "hard_tanh": torch.nn.functional.hardtanh,
    }
    if name not in table:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(NAMES)}")
    return table[name]


def torch_derivative(name: str) -> Callable[[Any], Any]:
    """The derivative phi' as a torch function: 0 or 1 (piecewise-linear), or smooth.

    The smooth activations of the Jacobian spectra (:data:`SMOOTH_JACOBIAN`): tanh
    (``1 − tanh²``) and erf (``(2/√π) e^{−h²}``).
    """
    import torch

    table: dict[str, Callable[[Any], Any]] = {
        "linear": torch.ones_like,
        "relu": lambda h: (h > 0).to(h.dtype),
        "hard_tanh": lambda h: (h.abs() < 1).to(h.dtype),
        "tanh": lambda h: 1 - torch.tanh(h) ** 2,
        "erf": lambda h: 2 / math.sqrt(math.pi) * torch.exp(-h * h),
    }
    if name not in table:
        raise ValueError(f"no closed-form derivative for {name!r}; known: "
                         f"{', '.join(PIECEWISE_LINEAR + SMOOTH_JACOBIAN)}")
    return table[name]


def _library(value: Any) -> Any:
    import mpmath

    return mpmath if isinstance(value, (mpmath.mpf, mpmath.mpc)) else math


def derivative_mean_square(name: str, variance: Any) -> Any:
    """``E phi'(sqrt(q) z)^2`` for ``z ~ N(0, 1)``: the fraction of active units.

    1 (linear), 1/2 (ReLU), ``erf(1/sqrt(2q))`` (hard-tanh: ``P(|h| < 1)``); float64,
    or mpmath for an mpmath ``variance``.
    """
    if name == "hard_tanh":
        library = _library(variance)
        return library.erf(1 / library.sqrt(2 * variance))
    if name in ("linear", "relu"):
        return (1 if name == "linear" else 0.5) + 0 * variance
    raise ValueError(f"no closed-form Gaussian moment for {name!r}; known: "
                     f"{', '.join(PIECEWISE_LINEAR)}")


def derivative_moment(name: str, variance: Any, k: int) -> Any:
    """``μ_k = E phi'(sqrt(q) z)^(2k)`` for ``z ~ N(0, 1)``: the k-th moment of ``D²``.

    Piecewise-linear: ``p`` for every k (phi'² is Bernoulli(p)); erf: ``(4/π)^k/√(1 + 4kq)``
    (phi'² = (4/π) e^{−2h²}, a Gaussian integral); tanh: the trapezoid rule of
    :mod:`theorylab.quadrature` on ``sech^(4k)`` (poles at ``iπ/2``), float64 only.

    Raises:
        ValueError: an activation outside :data:`PIECEWISE_LINEAR` and
            :data:`SMOOTH_JACOBIAN`, or ``k < 1``.

    """
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"derivative_moment: k must be an integer >= 1, got {k!r}")
    k = int(k)
    if name in PIECEWISE_LINEAR:
        return derivative_mean_square(name, variance)
    if name == "erf":
        library = _library(variance)
        return (4 / library.pi) ** k / library.sqrt(1 + 4 * k * variance)
    if name == "tanh":
        # |sech|^(4k) <= 4^k on |Im h| <= π/4: that strip, with k·log10(4) more digits.
        return _gaussian_expectation(lambda h: np.cosh(h) ** (-4 * k), float(variance),
                                     singularity=math.pi / 4, digits=16 + math.ceil(0.61 * k))
    raise ValueError(f"no derivative moments for {name!r}; known: "
                     f"{', '.join(PIECEWISE_LINEAR + SMOOTH_JACOBIAN)}")


def _gaussian_expectation(function: Callable[[Any], Any], variance: float, *,
                          singularity: float = math.pi / 2, digits: int = 16) -> float:
    """``E f(sqrt(q) z)`` for f analytic and bounded in ``|Im h| < singularity``, to float64."""
    from theorylab.quadrature import gaussian_rule, gaussian_step, weighted_sum

    scale = math.sqrt(variance)
    nodes, weights = gaussian_rule(gaussian_step(scale=scale, singularity=singularity,
                                                 digits=digits))
    return weighted_sum(weights, function(scale * nodes))


def mean_square(name: str, variance: Any) -> Any:
    """``E phi(sqrt(q) z)^2`` for ``z ~ N(0, 1)`` (a fixed point's bias variance needs it).

    q (linear), q/2 (ReLU), ``(2/π) asin(2q/(1 + 2q))`` (erf), quadrature (tanh); hard-tanh,
    with ``c = 1/sqrt(q)`` and the standard normal
    density ``varphi``: ``q (erf(c/sqrt 2) - 2 c varphi(c)) + 1 - erf(c/sqrt 2)``.
    """
    if name == "hard_tanh":
        library = _library(variance)
        cut = 1 / library.sqrt(variance)
        inside = library.erf(cut / library.sqrt(2))
        density = library.exp(-cut * cut / 2) / library.sqrt(2 * library.pi)
        return variance * (inside - 2 * cut * density) + (1 - inside)
    if name in ("linear", "relu"):
        return variance if name == "linear" else variance / 2
    if name == "erf":  # Williams (1997) at K11 = K22 = K12 = q
        library = _library(variance)
        return 2 / library.pi * library.asin(2 * variance / (1 + 2 * variance))
    if name == "tanh":
        return _gaussian_expectation(lambda h: np.tanh(h) ** 2, float(variance))
    raise ValueError(f"no closed-form Gaussian moment for {name!r}; known: "
                     f"{', '.join(PIECEWISE_LINEAR)}")
