"""What a simulation returns, and the statistics that turn it into an estimate.

A simulation in ``numerics/`` returns one :class:`Measurement` per parameter
point: raw samples over an ensemble of independent runs, at one or more
resolutions (step sizes, inverse widths). It never sees the theory. The
verifier reduces a measurement to an :class:`Estimate` here: Richardson
extrapolation in the resolution (per ensemble member, so correlations between
levels are respected), the ensemble mean and its standard error, and a bias
bound from the size of the last extrapolation correction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Measurement", "Estimate", "OrderFit", "extrapolate", "reduce", "observed_order"]


@dataclass
class Measurement:
    """Raw simulation output for one parameter point.

    Attributes:
        samples: array of shape ``(levels, ensemble, *quantity_shape)``.
        resolutions: shape ``(levels,)``; the step size or 1/width at each level.
            A single level means no extrapolation.
        rounding: an absolute bound on accumulated floating-point error.
        info: free-form diagnostics (steps, learning rates, widths).

    """

    samples: np.ndarray
    resolutions: np.ndarray = field(default_factory=lambda: np.zeros(1))
    rounding: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples)
        if np.iscomplexobj(samples):
            raise ValueError("samples are complex: a real quantity must be measured "
                             "(take .real or abs() in the simulation if that is meant)")
        if samples.dtype == object:
            raise ValueError("samples must be a numeric array, not objects")
        self.samples = samples.astype(np.float64)
        self.resolutions = np.atleast_1d(np.asarray(self.resolutions, dtype=np.float64))
        if self.samples.ndim < 2 or self.samples.shape[0] != self.resolutions.shape[0]:
            raise ValueError(
                "samples must have shape (levels, ensemble, ...) matching resolutions; "
                f"got {self.samples.shape} for {self.resolutions.shape[0]} levels"
            )
        if self.samples.shape[1] == 0:
            raise ValueError("the ensemble is empty (samples have 0 runs)")
        levels = self.resolutions
        # All zero means nothing to extrapolate (e.g. zero time: no steps taken).
        if levels.size > 1 and np.any(levels != 0) and not (
                np.all(np.isfinite(levels)) and np.all(levels > 0)
                and len(set(levels.tolist())) == levels.size):
            raise ValueError(f"resolutions must be finite, positive and distinct (or all "
                             f"zero), got {levels.tolist()}")
        if not np.all(np.isfinite(levels)) or np.any(levels < 0):
            raise ValueError(f"resolutions must be finite and >= 0, got {levels.tolist()}")
        if not (np.isfinite(self.rounding) and self.rounding >= 0):
            raise ValueError(f"rounding must be finite and >= 0, got {self.rounding}")

    @property
    def ensemble(self) -> int:
        """Number of independent runs."""
        return int(self.samples.shape[1])


@dataclass
class Estimate:
    """A measured value with its uncertainty model.

    ``value``, ``standard_error`` and ``bias_bound`` share the quantity's shape.
    ``level_values`` and ``level_errors`` (shape ``(levels, *quantity_shape)``)
    are the ensemble mean and its standard error at each resolution, before
    extrapolation: what a convergence plot of the bias against ``h`` shows.
    """

    value: np.ndarray
    standard_error: np.ndarray
    bias_bound: np.ndarray
    samples: int
    levels: np.ndarray
    finite: bool
    reason: str = ""
    level_values: np.ndarray | None = None
    level_errors: np.ndarray | None = None


def extrapolate(values: np.ndarray, resolutions: np.ndarray, order: int) -> np.ndarray:
    """Richardson-extrapolate ``values(h)`` to ``h = 0``.

    Fits ``v(h) = v0 + c_p h^p + ... + c_{p+L-2} h^{p+L-2}`` exactly through the
    ``L`` levels and returns ``v0``, along the first axis.
    """
    levels = resolutions.shape[0]
    largest = float(np.max(np.abs(resolutions)))
    if levels == 1 or largest == 0:
        return values[-1]  # nothing to extrapolate (e.g. zero time: no steps taken)
    scaled = resolutions / largest  # conditioning only; v0 is scale-free
    exponents = order + np.arange(levels - 1)
    design = np.column_stack([np.ones(levels)] + [scaled**k for k in exponents])
    weights = np.linalg.solve(design.T, np.eye(levels)[:, 0])
    return np.tensordot(weights, values, axes=(0, 0))


def reduce(measurement: Measurement, order: int = 1) -> Estimate:
    """Turn raw samples into an estimate, standard error and bias bound.

    The extrapolated value uses every level. The bias bound adds its distance
    from the extrapolation that omits the coarsest level (the last correction)
    and the distance between the extrapolations that omit the finest and the
    coarsest level; once the series is in its asymptotic regime this exceeds the
    remaining error even where one bias coefficient happens to vanish. With one
    level the bias bound is zero.
    """
    samples = measurement.samples
    resolutions = measurement.resolutions
    n = measurement.ensemble
    finite = bool(np.all(np.isfinite(samples)))
    if not finite:
        bad = ~np.isfinite(samples)
        shape = samples.shape[2:]
        nan = np.full(shape, np.nan)
        levels = [float(h) for h, b in zip(resolutions, bad.reshape(len(resolutions), -1).any(1),
                                           strict=True) if b]
        return Estimate(nan, nan, nan, n, resolutions, False,
                        f"simulation produced NaN or inf ({int(bad.sum())} of {bad.size} "
                        f"samples; at resolution {levels})")
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported, not warned
        return _reduce_finite(measurement, order)


def _reduce_finite(measurement: Measurement, order: int) -> Estimate:
    samples = measurement.samples
    resolutions = measurement.resolutions
    n = measurement.ensemble
    best = extrapolate(samples, resolutions, order)
    value = best.mean(axis=0)
    standard_error = best.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros_like(value)
    if len(resolutions) > 1:
        # Both corrections of the last tableau column: one alone can vanish by
        # accident (a bias coefficient crossing zero) and understate the error.
        finer = extrapolate(samples[1:], resolutions[1:], order).mean(axis=0)
        coarser = extrapolate(samples[:-1], resolutions[:-1], order).mean(axis=0)
        bias = np.abs(value - finer) + np.abs(finer - coarser)
    else:
        bias = np.zeros_like(value)
    bias = bias + measurement.rounding
    level_values = samples.mean(axis=1)
    level_errors = (samples.std(axis=1, ddof=1) / np.sqrt(n) if n > 1
                    else np.zeros_like(level_values))
    return Estimate(value, standard_error, bias, n, resolutions, True,
                    level_values=level_values, level_errors=level_errors)


@dataclass
class OrderFit:
    """The convergence order of the level means, observed (diffrax-style order test).

    ``observed`` is the slope of ``log|m(h_k) - m(h_{k+1})|`` against ``log h_k``
    over the three finest levels (for a bias ``c h^p`` and geometric levels it is
    exactly ``p``; the coarser levels are the most pre-asymptotic, and a
    deterministic first-order bias whose ratios climb 1.17, 1.66, ... towards 2
    must not read as order 0.5), per component of the quantity; ``standard_error`` is its
    jackknife standard error over ensemble members. ``identifiable`` marks the
    components whose every level difference exceeds ``critical`` standard errors and
    a floating-point floor, and keeps one sign: elsewhere noise, rounding or a
    pre-asymptotic sign change hides the order and nothing is concluded.
    """

    observed: np.ndarray
    standard_error: np.ndarray
    identifiable: np.ndarray


def _slopes(level_means: np.ndarray, log_h: np.ndarray) -> np.ndarray:
    """Least-squares slope of log|consecutive differences| on log h, along axis 0."""
    differences = np.abs(level_means[:-1] - level_means[1:])
    with np.errstate(divide="ignore"):
        logs = np.log(differences)
    x = log_h - log_h.mean()
    x = x.reshape((-1,) + (1,) * (logs.ndim - 1))
    with np.errstate(invalid="ignore"):  # a zero difference: not identifiable, never judged
        return (x * (logs - logs.mean(axis=0))).sum(axis=0) / (x**2).sum()


def observed_order(measurement: Measurement, critical: float) -> OrderFit | None:
    """Fit the observed order of the bias from three or more levels; None with fewer."""
    resolutions = measurement.resolutions
    if (resolutions.size < 3 or not np.all(resolutions > 0)
            or not np.all(np.isfinite(measurement.samples))):
        return None
    order = np.argsort(-resolutions)[-3:]  # the three finest levels, coarse to fine
    h = resolutions[order]
    samples = measurement.samples[order].reshape(h.size, measurement.ensemble, -1)
    n = measurement.ensemble
    means = samples.mean(axis=1)
    member_differences = samples[:-1] - samples[1:]
    differences = member_differences.mean(axis=1)
    spread = (member_differences.std(axis=1, ddof=1) / np.sqrt(n) if n > 1
              else np.full_like(differences, np.inf))
    # A power law c h^p keeps one sign at every level: a sign change anywhere (coarser
    # levels included) is competing terms of the series, where no single order is seen.
    every = measurement.samples[np.argsort(-resolutions)].reshape(resolutions.size, n, -1)
    every_difference = np.diff(every.mean(axis=1), axis=0)
    same_sign = np.all(np.sign(every_difference) == np.sign(every_difference[-1:]), axis=0)
    # Differences at rounding level (a deterministic quantity, equal at every level) carry
    # no order: they must also clear a floating-point floor of the values themselves, and
    # the simulation's declared rounding (each level carries up to that much, e.g. a
    # difference quotient's eps/h cancellation, which grows as h shrinks).
    rounding = np.maximum(1e3 * np.finfo(np.float64).eps * np.max(np.abs(means), axis=0),
                          2 * measurement.rounding)
    identifiable = (np.all(np.abs(differences) > np.maximum(critical * spread, rounding), axis=0)
                    & same_sign)
    log_h = np.log(h[:-1])
    observed = _slopes(means, log_h)
    # Jackknife over ensemble members: leave-one-out level means.
    leave_one_out = (n * means[:, None, :] - samples) / max(n - 1, 1)
    replicates = np.stack([_slopes(leave_one_out[:, j], log_h) for j in range(n)])
    with np.errstate(invalid="ignore"):
        error = np.sqrt((n - 1) / n * ((replicates - replicates.mean(axis=0)) ** 2).sum(axis=0))
    shape = measurement.samples.shape[2:]
    return OrderFit(observed.reshape(shape), error.reshape(shape), identifiable.reshape(shape))
