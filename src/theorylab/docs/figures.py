"""Verification figures drawn with matplotlib from a stored verdict (no simulation).

- :func:`check_figure`: the theory curve over a parameter sweep through each
  checked point, with the simulation's estimate and its tolerance as error bar;
  and the discrepancy of the claim and of every decoy in units of the tolerance
  (inside the band [-1, 1] passes).
- :func:`convergence_figure`: for a claim with a step-size or width bias, the
  discrepancy of the un-extrapolated estimate at each resolution against the
  resolution, on log-log axes, with the fitted slope next to the predicted order.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from theorylab.claim import Claim

__all__ = ["check_figure", "convergence_figure", "Convergence", "convergence"]

_CLAIM_COLOUR = "#0b6e4f"
_DECOY_MARKERS = "sDv^<>ph*"


def _pyplot() -> Any:
    """Matplotlib's pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _plain(text: str) -> str:
    """User text as a matplotlib label: dollars are text, never mathtext."""
    return str(text).replace("$", r"\$")


def _flat(value: Any) -> np.ndarray:
    if value is None:
        return np.array([np.nan])
    return np.asarray(value, dtype=float).ravel()


def _usable(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in points if p.get("estimate") is not None
            and p.get("prediction") is not None and p.get("tolerance") is not None]


def _sweep_parameter(claim: Claim, points: list[dict[str, Any]]) -> str | None:
    """The scalar parameter that varies most (relative spread) over the points."""
    best, spread = None, 0.0
    for parameter in claim.parameters:
        values = [p["point"].get(parameter.name) for p in points]
        if not values or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                 for v in values):
            continue
        array = np.asarray(values, dtype=float)
        scale = np.max(np.abs(array)) or 1.0
        relative = float(np.ptp(array) / scale)
        if relative > spread:
            best, spread = parameter.name, relative
    return best


#: Seconds of theory evaluation one figure may spend on its curves (claims whose
#: statement is a quadrature cost tens of milliseconds per value).
CURVE_BUDGET = 0.5


def _predict_or_nan(claim: Claim, point: dict[str, Any]) -> float:
    try:
        value = claim.predict(**point)
    except Exception:  # noqa: BLE001  (outside the domain or constraints: no value)
        return math.nan
    return float(value) if np.ndim(value) == 0 else math.nan


def _margins(figure: Any, *, left: float = 0.8, right: float = 0.15, bottom: float = 0.55,
             top: float = 0.35, between: float = 0.85) -> None:
    """Fixed margins in inches: tight_layout measured every tick label (a third of the time)."""
    width, height = figure.get_size_inches()
    columns = max(len(figure.axes), 1)
    panel = (width - left - right - between * (columns - 1)) / columns
    figure.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                           top=1 - top / height, wspace=between / panel)


def _theory_curve(claim: Claim, point: dict[str, Any], name: str, grid: np.ndarray,
                  integer: bool, deadline: float = math.inf) -> tuple[np.ndarray, np.ndarray]:
    """The statement along ``grid``; no curve at all if ``deadline`` passes first."""
    xs = np.asarray([int(round(x)) if integer else float(x) for x in grid])
    ys = np.full(len(xs), np.nan)
    for index, x in enumerate(xs):
        if time.perf_counter() > deadline:  # a cut-off curve would mislead: none instead
            return xs[:0], ys[:0]
        ys[index] = _predict_or_nan(claim, {**point, name: x.item()})
    keep = np.isfinite(ys)
    return xs[keep], ys[keep]


def _grid_size(claim: Claim, point: dict[str, Any], curves: int) -> int:
    """Grid points per curve that keep all curves within :data:`CURVE_BUDGET`."""
    _predict_or_nan(claim, point)  # the first call may compile (lambdify): not timed
    started = time.perf_counter()
    _predict_or_nan(claim, point)
    cost = max(time.perf_counter() - started, 1e-5)
    return int(np.clip(CURVE_BUDGET / (cost * max(curves, 1)), 0, 120))


def check_figure(claim: Claim, verdict: dict[str, Any], path: Path) -> bool:
    """Draw the theory-versus-simulation figure; False when there is nothing to draw."""
    points = _usable(verdict.get("points", []))
    if not points:
        return False
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator, SymmetricalLogLocator

    scalar = all(_flat(p["prediction"]).size == 1 for p in points)
    sweep = _sweep_parameter(claim, points) if scalar else None
    panels = 2 if sweep else 1
    figure, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 3.9), squeeze=False)
    axes = axes[0]
    colours = plt.get_cmap("viridis")(np.linspace(0.05, 0.85, len(points)))

    if sweep:
        axis = axes[0]
        parameter = claim.parameter(sweep)
        integer = all(isinstance(p["point"][sweep], int) for p in points)
        values = np.asarray([p["point"][sweep] for p in points], dtype=float)
        low, high = float(values.min()), float(values.max())
        pad = 0.05 * (high - low or abs(high) or 1.0)
        size = _grid_size(claim, points[0]["point"], len(points))
        # One point's cost estimates the rest, but a quantity can cost 100x more at
        # another point (a density by root tracking): the budget is also a deadline.
        deadline = time.perf_counter() + CURVE_BUDGET
        curves = len(points) if size >= 12 else max(1, int(size * len(points) / 12))
        logarithmic = not integer and low > 0 and high / low > 20
        if integer:
            grid = np.arange(math.floor(low), math.ceil(high) + 1)
        elif logarithmic:
            grid = np.geomspace(low / 1.2, high * 1.2, max(size, 12))
            axis.set_xscale("log")
        else:
            grid = np.linspace(low - pad, high + pad, max(size, 12))
        for number, (colour, point) in enumerate(zip(colours, points, strict=True)):
            if number >= curves:
                xs = ys = np.array([])
            else:
                xs, ys = _theory_curve(claim, point["point"], sweep, grid, integer, deadline)
            if xs.size > 1:
                axis.plot(xs, ys, "-", color=colour, alpha=0.55, lw=1.1)
            axis.errorbar(point["point"][sweep], _flat(point["estimate"])[0],
                          yerr=_flat(point["tolerance"])[0], fmt="o", color=colour, ms=4.5,
                          mec="black", mew=0.5, capsize=2.5)
        axis.plot([], [], "-", color="grey", label="theory (other parameters fixed)")
        axis.errorbar([], [], yerr=[], fmt="o", color="grey", mec="black", mew=0.5,
                      label="simulation ± tolerance")
        axis.set_xlabel(_plain(f"{parameter.name}" + (f" ({parameter.description})"
                                                      if len(parameter.description) < 40
                                                      else "")))
        axis.set_ylabel("predicted quantity")
        axis.set_title("theory curve through each checked point", fontsize=10)
        axis.legend(fontsize=8, loc="best")

    axis = axes[-1]
    index = np.arange(len(points))
    ratio = [_signed_ratio(p) for p in points]
    bound = getattr(claim, "relation", "==") == "<="  # an upper bound: only excess fails
    lowest = min([-1.0] + [r for r in ratio if math.isfinite(r)])
    axis.axhspan(lowest * 1.5 if bound else -1, 1, color=_CLAIM_COLOUR, alpha=0.12, lw=0)
    axis.axhline(0, color="black", lw=0.6)
    axis.plot(index, ratio, "o", color=_CLAIM_COLOUR, mec="black", mew=0.5, ms=5,
              label="claim", zorder=3)
    for number, decoy in enumerate(verdict.get("decoys", [])):
        decoy_points = decoy.get("points", [])
        decoy_ratio = [_signed_ratio(p) for p in decoy_points[:len(points)]]
        name = decoy.get("subject", "").split("~")[-1] or f"decoy {number + 1}"
        axis.plot(index[:len(decoy_ratio)], decoy_ratio, _DECOY_MARKERS[number % 9],
                  mfc="none", ms=5, alpha=0.85, label=_plain(f"decoy {name}"[:60]))
    axis.set_yscale("symlog", linthresh=1.0)
    largest = np.nanmax(np.abs(np.asarray(axis.get_ylim())))
    decades = math.log10(max(largest, 10.0))
    axis.yaxis.set_major_locator(SymmetricalLogLocator(
        linthresh=1.0, base=10.0 ** max(1, math.ceil(decades / 6))))
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("checked parameter point")
    axis.set_ylabel("(estimate − prediction) / tolerance")
    axis.set_title("below 1 passes (an upper bound); every decoy must exceed it" if bound
                   else "inside the band passes; every decoy must leave it", fontsize=10)
    axis.legend(fontsize=7, loc="best", ncol=1 if len(verdict.get("decoys", [])) < 4 else 2)
    _margins(figure)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def _signed_ratio(point: dict[str, Any]) -> float:
    """The component with the largest |difference| / tolerance, with its sign."""
    if point.get("estimate") is None or point.get("prediction") is None:
        return math.nan
    difference = _flat(point["estimate"]) - _flat(point["prediction"])
    tolerance = _flat(point.get("tolerance"))
    if tolerance.size != difference.size:
        return math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(difference == 0, 0.0, difference / tolerance)
    if not np.any(np.isfinite(ratios)):
        return math.nan
    worst = int(np.nanargmax(np.abs(ratios)))
    return float(ratios[worst])


@dataclass
class Convergence:
    """The fitted order of the bias over the checked points.

    Attributes:
        slope: median over points of the log-log slope of discrepancy against
            resolution (NaN if no point could be fitted).
        slopes: each fitted point's slope.
        predicted: the order the claim's :class:`SystematicError` declares.
        fitted: how many points had a discrepancy above noise at every level.
        total: how many points had several resolutions.

    """

    slope: float
    slopes: list[float]
    predicted: int
    fitted: int
    total: int


def _discrepancies(point: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    resolutions = point.get("resolutions")
    levels = point.get("level_estimates")
    if not resolutions or levels is None or point.get("prediction") is None:
        return None
    h = np.asarray(resolutions, dtype=float)
    values = np.asarray(levels, dtype=float).reshape(len(h), -1)
    errors = np.asarray(point.get("level_standard_errors") or np.zeros_like(values),
                        dtype=float).reshape(len(h), -1)
    prediction = _flat(point["prediction"])
    if prediction.size != values.shape[1] or np.any(h <= 0):
        return None
    scale = np.maximum(np.abs(prediction), 1e-300)
    relative = np.abs(values - prediction) / scale
    worst = np.argmax(relative, axis=1)
    chosen = np.arange(len(h))
    return h, relative[chosen, worst], (errors / scale)[chosen, worst]


def convergence(claim: Claim, verdict: dict[str, Any]) -> Convergence | None:
    """Fit the order of the simulation's bias from the verdict's per-level estimates."""
    from scipy import stats

    if claim.systematic_error is None:
        return None
    slopes, total = [], 0
    for point in verdict.get("points", []):
        found = _discrepancies(point)
        if found is None:
            continue
        total += 1
        h, discrepancy, error = found
        # Only levels where the bias stands clear of the statistical noise say
        # anything about its order.
        if len(h) >= 2 and np.all(discrepancy > 3 * error) and np.all(discrepancy > 0):
            slopes.append(float(stats.linregress(np.log(h), np.log(discrepancy)).slope))
    if total == 0:
        return None
    slope = float(np.median(slopes)) if slopes else math.nan
    return Convergence(slope, slopes, claim.systematic_error.order, len(slopes), total)


def convergence_figure(claim: Claim, verdict: dict[str, Any], path: Path) -> Convergence | None:
    """Draw the log-log convergence plot; None when the verdict has no per-level data."""
    fit = convergence(claim, verdict)
    if fit is None:
        return None
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(5.6, 3.9))
    points = [p for p in verdict.get("points", []) if _discrepancies(p) is not None]
    colours = plt.get_cmap("viridis")(np.linspace(0.05, 0.85, len(points)))
    anchor = None
    for colour, point in zip(colours, points, strict=True):
        h, discrepancy, error = _discrepancies(point)
        visible = discrepancy > 0
        if not np.any(visible):
            continue
        clear = bool(np.all(discrepancy > 3 * error))
        axis.errorbar(h[visible], discrepancy[visible], yerr=error[visible],
                      fmt="o-" if clear else "o:", color=colour, ms=3.5, lw=1,
                      mfc=colour if clear else "none", capsize=2)
        if clear and anchor is None:
            anchor = (h[0], discrepancy[0], h)
    if anchor is not None:
        h0, d0, h = anchor
        reference = d0 * (h / h0) ** fit.predicted
        axis.plot(h, reference * 2.5, "k--", lw=1.2, label=f"predicted order {fit.predicted}")
    axis.set_xscale("log")
    axis.set_yscale("log")
    variable = claim.systematic_error.variable if claim.systematic_error else "resolution"
    axis.set_xlabel(_plain(variable))
    axis.set_ylabel("|estimate(h) − prediction| / |prediction|")
    fitted = ("no point with bias above noise" if math.isnan(fit.slope)
              else f"fitted slope {fit.slope:.2f} (median of {fit.fitted})")
    axis.set_title(f"{fitted}; predicted {fit.predicted}", fontsize=10)
    if anchor is not None:
        axis.legend(fontsize=8, loc="best")
    _margins(figure)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return fit
