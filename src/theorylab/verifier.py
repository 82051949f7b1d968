"""Cross-check a claim against its simulation, with honest statistics.

``check(claim, budget, seed, device)``:

1. draws ``budget`` parameter points from the claim's domain with hypothesis,
   deterministically for the seed, and adds one for each decoy that none of them
   separates from the statement (a decoy no point separates is INCONCLUSIVE);
2. runs the simulation once, batched over points and an ensemble;
3. reduces each measurement to an estimate, a standard error and a bias bound
   (:mod:`theorylab.measurement`);
4. passes a point when ``|estimate - prediction| <= t * SE + bias + rounding``,
   with ``t`` the Student-t quantile that keeps the family-wise false-failure
   rate of the whole check at ``alpha`` (Bonferroni over points and components);
5. on a FAIL, replays the same hypothesis search with the failing point and lets
   hypothesis shrink it to a minimal counterexample;
6. evaluates every decoy against the same estimates: each must FAIL.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from theorylab.claim import STATEMENT_AGREEMENT, Claim, Decoy, ParameterPoint
from theorylab.errors import ClaimDefinitionError, ParameterError
from theorylab.measurement import Estimate, Measurement, observed_order, reduce

__all__ = ["Status", "PointResult", "Verdict", "check", "resolve_device", "DEFAULT_ALPHA",
           "statement_disagreement", "ORDER_MARGIN"]

#: Family-wise probability that a check of a true claim FAILs.
DEFAULT_ALPHA = 1e-3


class Status(str, Enum):
    """Outcome of a check."""

    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"


@dataclass
class PointResult:
    """The comparison at one parameter point.

    ``resolutions``, ``level_estimates`` and ``level_standard_errors`` (claims'
    verdicts only, not decoys') keep the ensemble mean at each step size or
    inverse width before extrapolation, for convergence plots.
    """

    point: dict[str, Any]
    status: Status
    prediction: Any = None
    estimate: Any = None
    standard_error: Any = None
    bias_bound: Any = None
    tolerance: Any = None
    z_score: float = math.nan
    ratio: float = math.nan
    reason: str = ""
    resolutions: Any = None
    level_estimates: Any = None
    level_standard_errors: Any = None

    @property
    def relative_tolerance(self) -> float:
        """Largest tolerance relative to the prediction, over components."""
        prediction = np.abs(np.asarray(self.prediction, dtype=float))
        tolerance = np.asarray(self.tolerance, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = tolerance / prediction
        relative = relative[np.isfinite(relative)]
        return float(relative.max()) if relative.size else math.nan


@dataclass
class Verdict:
    """What a check found: the numbers behind PASS, FAIL or INCONCLUSIVE.

    For a claim, ``decoys`` holds one verdict per decoy (each should FAIL).
    """

    claim: str
    subject: str
    status: Status
    points: list[PointResult]
    seed: int
    device: str
    budget: int
    ensemble: int
    alpha: float
    critical_value: float
    wall_time: float
    systematic_error: str = ""
    counterexample: PointResult | None = None
    decoys: list[Verdict] = field(default_factory=list)
    fingerprint: str = ""
    reason: str = ""
    required_resolution: float = math.nan
    smoke: bool = False
    failure: str = ""

    @property
    def passed(self) -> bool:
        """True for PASS."""
        return self.status is Status.PASS

    @property
    def worst(self) -> PointResult | None:
        """The point with the largest discrepancy relative to its tolerance."""
        finite = [p for p in self.points if math.isfinite(p.ratio)]
        return max(finite, key=lambda p: p.ratio) if finite else None

    @property
    def samples(self) -> int:
        """Simulated runs behind the verdict (points x ensemble)."""
        return len(self.points) * self.ensemble

    @property
    def decoys_rejected(self) -> bool:
        """Every decoy FAILed."""
        return all(d.status is Status.FAIL for d in self.decoys)

    def relative_resolution(self) -> float:
        """The achieved resolution: the relative error of the prediction this check detects.

        The median over points of ``tolerance / |prediction|`` (largest over a
        point's components): at half the points or more, a prediction off by this
        relative amount falls outside the tolerance. The median, not the minimum,
        so that one trivially exact point (zero time, say) cannot certify the power
        of the whole check. Where every prediction is zero it is the median
        absolute tolerance (relative to a scale of 1).
        """
        judged = [p for p in self.points if p.status is not Status.INCONCLUSIVE]
        values = [v for v in (p.relative_tolerance for p in judged) if math.isfinite(v)]
        if values:
            return float(np.median(values))
        absolute = [float(np.max(np.asarray(p.tolerance, dtype=float))) for p in judged
                    if p.tolerance is not None
                    and np.all(np.asarray(p.prediction, dtype=float) == 0)]
        absolute = [v for v in absolute if math.isfinite(v)]
        return float(np.median(absolute)) if absolute else math.nan

    def summary(self) -> str:
        """One line: status, worst point and its numbers."""
        worst = self.counterexample or self.worst
        text = f"{self.subject}: {self.status.value}"
        if worst is not None and worst.prediction is not None:
            text += (f" (worst |z|={_fmt(worst.z_score)}, |diff|/tol={_fmt(worst.ratio)} "
                     f"at {format_point(worst.point)})")
        if self.reason:
            text += f" [{self.reason}]"
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict."""
        return json.loads(json.dumps(asdict(self), default=_json_default))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        """Inverse of :meth:`to_dict`."""
        data = dict(data)
        data["status"] = Status(data["status"])
        data["points"] = [_point_from_dict(p) for p in data["points"]]
        if data.get("counterexample"):
            data["counterexample"] = _point_from_dict(data["counterexample"])
        data["decoys"] = [cls.from_dict(d) for d in data.get("decoys", [])]
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def _repr_html_(self) -> str:
        """An HTML card: status, the verdict's numbers, a figure and the decoy table."""
        from html import escape

        colour = {"PASS": "#1a7f37", "FAIL": "#cf222e", "INCONCLUSIVE": "#9a6700"}
        rows = "".join(
            f"<tr><td>{escape(format_point(p.point))}</td><td>{_fmt(p.prediction)}</td>"
            f"<td>{_fmt(p.estimate)}</td><td>{_fmt(p.standard_error)}</td>"
            f"<td>{_fmt(p.bias_bound)}</td><td>{_fmt(p.z_score)}</td>"
            f"<td style='color:{colour[p.status.value]}'>{p.status.value}</td></tr>"
            for p in self.points[:20]
        )
        decoys = "".join(
            f"<tr><td>{escape(d.subject.split('~')[-1])}</td>"
            f"<td>{_fmt(d.worst.z_score if d.worst else math.nan)}</td>"
            f"<td>{'rejected' if d.status is Status.FAIL else 'NOT rejected'}</td></tr>"
            for d in self.decoys
        )
        decoy_table = (f"<table><tr><th>decoy</th><th>max |z|</th><th></th></tr>{decoys}"
                       f"</table>" if decoys else "")
        cell = "style='padding:2px 8px;text-align:right'"
        return (
            f"<div style='border:1px solid #d0d7de;border-radius:6px;padding:8px;"
            f"font-family:sans-serif;font-size:13px'>"
            f"<div><b style='color:{colour[self.status.value]}'>{self.status.value}</b> "
            f"<code>{escape(self.subject)}</code>: seed {self.seed}, device {self.device}, "
            f"{len(self.points)} points x {self.ensemble} runs, alpha {self.alpha:g} "
            f"(t = {self.critical_value:.3g}), {self.wall_time:.2f} s</div>"
            f"{self._svg()}"
            f"<table {cell}><tr><th>point</th><th>prediction</th><th>estimate</th><th>SE</th>"
            f"<th>bias bound</th><th>z</th><th>status</th></tr>{rows}</table>{decoy_table}"
            f"</div>"
        )

    def _svg(self) -> str:
        """Each point's |estimate - prediction| / tolerance as a bar; PASS needs <= 1."""
        ratios = [p.ratio if math.isfinite(p.ratio) else 0.0 for p in self.points]
        if not ratios:
            return ""
        top = max(2.0, *ratios)
        width, height, bar = 24 * len(ratios) + 40, 90, 16
        colour = {"PASS": "#1a7f37", "FAIL": "#cf222e", "INCONCLUSIVE": "#9a6700"}
        bars = "".join(
            f"<rect x='{32 + 24 * i}' y='{80 - 70 * min(r, top) / top:.1f}' width='{bar}' "
            f"height='{70 * min(r, top) / top:.1f}' fill='{colour[p.status.value]}'>"
            f"<title>{r:.3g}</title></rect>"
            for i, (r, p) in enumerate(zip(ratios, self.points, strict=True)))
        level = 80 - 70 / top
        return (f"<svg width='{width}' height='{height}' role='img' "
                f"aria-label='discrepancy over tolerance per point'>"
                f"<line x1='28' y1='80' x2='{width}' y2='80' stroke='#57606a'/>"
                f"<line x1='28' y1='{level:.1f}' x2='{width}' y2='{level:.1f}' "
                f"stroke='#cf222e' stroke-dasharray='4 3'/>"
                f"<text x='0' y='{level + 4:.1f}' font-size='10'>tol</text>{bars}</svg>")

def _point_from_dict(data: dict[str, Any]) -> PointResult:
    data = dict(data)
    data["status"] = Status(data["status"])
    return PointResult(**data)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, Enum):
        return value.value
    return str(value)


def _fmt(value: Any) -> str:
    array = np.asarray(value, dtype=float) if value is not None else np.array(math.nan)
    if array.ndim == 0:
        return f"{float(array):.6g}"
    flat = array.ravel()
    head = ", ".join(f"{v:.4g}" for v in flat[:4])
    return f"[{head}{', ...' if flat.size > 4 else ''}]"


def format_point(point: dict[str, Any]) -> str:
    """Compact ``name=value`` rendering of a parameter point."""
    parts = []
    for name, value in point.items():
        if isinstance(value, (list, np.ndarray)):
            array = np.asarray(value)
            parts.append(f"{name}=<{'x'.join(map(str, array.shape))} array>")
        elif isinstance(value, float):
            parts.append(f"{name}={value:.6g}")
        else:
            parts.append(f"{name}={value}")
    return " ".join(parts)


def resolve_device(device: str | None) -> str:
    """Map 'auto' to 'cuda' when CUDA is available, else 'cpu'.

    Raises:
        ParameterError: for an unknown device, or 'cuda' without CUDA.

    """
    device = (device or "cpu").lower()
    if device not in {"cpu", "cuda", "auto"}:
        raise ParameterError("device", "one of 'cpu', 'cuda', 'auto'", device)
    if device == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise ParameterError("device", "'cuda' only where CUDA is available (use 'auto')", device)
    return "cpu"


def _key(point: ParameterPoint) -> str:
    return json.dumps(point, sort_keys=True, default=_json_default)


def _jsonable(point: ParameterPoint) -> dict[str, Any]:
    return json.loads(_key(point))


def _settings(budget: int) -> settings:
    return settings(
        max_examples=budget,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
    )


@contextmanager
def _seed_only() -> Iterator[None]:
    """Make hypothesis' draws depend on the seed alone while the block runs.

    hypothesis (>= 6.131) mixes numeric literals found in *local* source files into its
    draws: which files count depends on what the process has imported and on whether
    theorylab is an editable install, so the same seed could give other points in
    pytest, on the CLI or after a one-character edit. Verdicts must be reproducible
    from the seed, so the local pool is emptied here (hypothesis' fixed pool of edge
    values stays). A no-op if a future hypothesis drops these internals.
    """
    try:
        from hypothesis.internal.conjecture import providers

        original = providers._get_local_constants
        empty = providers.Constants()
        cache = providers.CONSTANTS_CACHE.cache
    except (ImportError, AttributeError):
        yield
        return
    providers._get_local_constants = lambda: empty
    cache.clear()  # it may hold local constants drawn before
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.clear()


def draw_points(claim: Claim, budget: int, seed: int) -> list[ParameterPoint]:
    """Draw ``budget`` distinct points from the claim's domain, deterministically."""
    drawn: dict[str, ParameterPoint] = {}

    @_settings(budget)
    @hypothesis_seed(seed)
    @given(claim.points())
    def record(point: ParameterPoint) -> None:
        drawn.setdefault(_key(point), point)

    with _seed_only():
        record()
    points = list(drawn.values())[:budget]
    for point in points:  # a custom sampler must respect the domains and the constraints
        try:
            claim.validate(point)
        except ParameterError as error:
            raise ClaimDefinitionError(f"claim {claim.id!r}: its sampler drew a point outside "
                                       f"the claim's domain: {error}") from None
    return points


#: A decoy is exercised by a point where it differs from the statement by more than
#: this many times the claim's resolution (the relative error the check must detect).
EXERCISED = 2.0
#: Candidate points searched (predictions only), per point of the budget, for one that
#: separates an unexercised decoy from the statement.
SEPARATION_FACTOR = 10


def separation(prediction: Any, decoy_prediction: Any) -> float:
    """Largest relative difference of a decoy's prediction from the statement's.

    Relative to the larger magnitude of the two, component by component. 0 where the
    two cannot be compared (either raised, or the shapes differ): such a point cannot
    reject the decoy.
    """
    if isinstance(prediction, Exception) or isinstance(decoy_prediction, Exception):
        return 0.0
    try:
        first = np.asarray(prediction, dtype=float)
        second = np.asarray(decoy_prediction, dtype=float)
    except (TypeError, ValueError):
        return 0.0
    if first.shape != second.shape:
        return 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.maximum(np.maximum(np.abs(first), np.abs(second)), np.finfo(float).tiny)
        relative = np.abs(second - first) / scale
    relative = relative[np.isfinite(relative)]
    return float(relative.max()) if relative.size else 0.0


def _exercise_decoys(claim: Claim, points: list[ParameterPoint], seed: int,
                     predict: Callable[[Decoy | None, ParameterPoint], Any]
                     ) -> tuple[list[ParameterPoint], dict[str, float]]:
    """Add, for each decoy the drawn points do not exercise, a point that does.

    A decoy is exercised by a point where it differs from the statement by more than
    ``EXERCISED`` times the claim's resolution, the error the check promises to detect.
    Seeds where no drawn point did so let decoys pass: jacobian_spectrum seed 8 drew
    only quantities where orthogonal and Gaussian weights agree; continual's
    noise_p_minus_n differed by 4-9% at resolution 5%; end_to_end_dynamics'
    swapped_gram is undefined at non-square points. Candidates come from a second
    seeded stream, judged by their predictions alone (``predict(decoy, point)``,
    memoized by the caller); the one added is the least extreme that separates the
    decoy by twice the threshold, else the best. Returns the points and, per decoy that
    no candidate exercises, its best separation.
    """
    threshold = EXERCISED * claim.resolution
    predictions = [predict(None, point) for point in points]
    candidates: list[ParameterPoint] | None = None
    unexercised: dict[str, float] = {}
    for decoy in claim.decoys:
        if any(separation(c, predict(decoy, p)) > threshold
               for p, c in zip(points, predictions, strict=True)):
            continue
        if candidates is None:
            candidates = draw_points(claim, SEPARATION_FACTOR * claim.budget,
                                     (seed + 0x9E3779B9) % 2**32)
            candidate_predictions = [predict(None, p) for p in candidates]
        scores = [separation(c, predict(decoy, p))
                  for p, c in zip(candidates, candidate_predictions, strict=True)]
        if not scores or max(scores) <= threshold:
            unexercised[decoy.name] = max(scores, default=0.0)
            continue
        clear = [index for index, score in enumerate(scores) if score > 2 * threshold]
        best = (min(clear, key=scores.__getitem__) if clear
                else int(np.argmax(scores)))
        if _key(candidates[best]) not in {_key(p) for p in points}:
            points = [*points, candidates[best]]
            predictions.append(candidate_predictions[best])
    return points, unexercised


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _simulate(claim: Claim, points: list[ParameterPoint], seed: int, device: str,
              ensemble: int) -> list[Measurement] | str:
    """Run the simulation; anything it raises or returns wrongly becomes a reason string."""
    try:
        simulate = claim.simulator()
    except Exception as error:  # noqa: BLE001  (a broken import is the claim's problem)
        return f"simulation could not be loaded: {_one_line(error)}"
    try:
        measurements = simulate(points, seed=seed, device=device, ensemble=ensemble)
    except (Exception, SystemExit) as error:  # noqa: BLE001  (never abort the whole run)
        return f"simulation raised {_one_line(error)}"
    if measurements is None or not hasattr(measurements, "__len__"):
        return (f"simulation returned {type(measurements).__name__}, not a list of "
                f"Measurement (one per point)")
    if len(measurements) != len(points):
        return f"simulation returned {len(measurements)} measurements for {len(points)} points"
    for measurement in measurements:
        if not isinstance(measurement, Measurement):
            return (f"simulation returned a {type(measurement).__name__} where a Measurement "
                    f"was expected")
        # A deterministic result (a minimum, an exact computation) may come as one sample,
        # but then it must declare its error bound; otherwise the ensemble asked for.
        deterministic = measurement.ensemble == 1 and measurement.rounding > 0
        if measurement.ensemble != ensemble and not deterministic:
            return (f"simulation returned {measurement.ensemble} runs where {ensemble} were "
                    f"asked for (a single deterministic sample must declare its error bound "
                    f"as the Measurement's rounding)")
    levels = max(m.resolutions.size for m in measurements) if measurements else 0
    if levels > 1 and claim.systematic_error is None:
        raise ClaimDefinitionError(
            f"claim {claim.id!r}: its simulation reports {levels} resolutions but the claim "
            f"declares no systematic_error; declare SystematicError(variable=..., order=p) "
            f"with the order p of the bias in the resolution")
    return list(measurements)


def _compare(point: ParameterPoint, prediction: Any, estimate: Estimate | str,
             critical: float, *, levels: bool = False, relation: str = "==") -> PointResult:
    shown = _jsonable(point)
    if isinstance(estimate, str):
        return PointResult(shown, Status.INCONCLUSIVE, reason=estimate)
    if isinstance(prediction, Exception):
        return PointResult(shown, Status.INCONCLUSIVE,
                           reason=f"prediction raised {type(prediction).__name__}: {prediction}")
    predicted = np.asarray(prediction, dtype=np.float64)
    if not estimate.finite:
        return PointResult(shown, Status.INCONCLUSIVE, prediction=predicted.tolist(),
                           reason=estimate.reason)
    if predicted.shape != estimate.value.shape:
        return PointResult(shown, Status.FAIL, prediction=predicted.tolist(),
                           estimate=estimate.value.tolist(),
                           reason=f"prediction shape {predicted.shape} differs from the "
                                  f"measured shape {estimate.value.shape}")
    if not np.all(np.isfinite(predicted)):
        return PointResult(shown, Status.INCONCLUSIVE, prediction=predicted.tolist(),
                           estimate=estimate.value.tolist(), reason="prediction is not finite")
    difference = np.abs(estimate.value - predicted)
    if relation == "<=":  # an upper bound: only an excess over it counts
        difference = np.maximum(estimate.value - predicted, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        # The prediction is itself a float64 computation: a few ulps of it are never a
        # discrepancy (a deterministic point, zero time say, has SE = 0).
        tolerance = (critical * estimate.standard_error + estimate.bias_bound
                     + FLOAT_AGREEMENT * np.abs(predicted))
    unusable = [name for name, array in (("estimate", estimate.value),
                                         ("standard error", estimate.standard_error),
                                         ("bias bound", estimate.bias_bound),
                                         ("tolerance", tolerance), ("difference", difference))
                if not np.all(np.isfinite(array))]
    if unusable:  # an overflowed sample must never widen the tolerance into a PASS
        return PointResult(shown, Status.INCONCLUSIVE, prediction=predicted.tolist(),
                           reason=f"the {unusable[0]} is not finite (a sample overflowed "
                                  f"or diverged)")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = np.where(difference == 0, 0.0, difference / estimate.standard_error)
        ratio = np.where(difference == 0, 0.0, difference / tolerance)
    status = Status.PASS if bool(np.all(difference <= tolerance)) else Status.FAIL
    return PointResult(
        shown, status,
        prediction=predicted.tolist(),
        estimate=estimate.value.tolist(),
        standard_error=estimate.standard_error.tolist(),
        bias_bound=estimate.bias_bound.tolist(),
        tolerance=tolerance.tolist(),
        z_score=float(np.max(z)),
        ratio=float(np.max(ratio)),
        **(_levels(estimate) if levels else {}),
    )


def statement_disagreement(claim: Claim, point: ParameterPoint, prediction: Any) -> str:
    """Why the ``evaluate`` hook and the sympy statement disagree at a point ('' if they agree).

    Agreement is to :data:`~theorylab.claim.STATEMENT_AGREEMENT` relative to the
    largest entry, so that a statement that cannot be evaluated, or that differs
    from what is checked, never passes unnoticed.
    """
    if claim.evaluate is None or isinstance(prediction, Exception):
        return ""
    try:
        stated = claim.evaluate_statement(claim.validate(point))
    except Exception as error:  # noqa: BLE001  (reported as the disagreement)
        return f"the statement could not be evaluated: {_one_line(error)}"
    try:
        hook = np.asarray(prediction, dtype=np.float64)
        value = np.asarray(stated, dtype=np.float64)
    except (TypeError, ValueError) as error:
        return f"the statement is not a number here: {_one_line(error)}"
    if hook.shape != value.shape:
        return f"statement shape {value.shape} differs from evaluate's {hook.shape}"
    scale = max(float(np.max(np.abs(hook), initial=0.0)), float(np.max(np.abs(value),
                                                                        initial=0.0)))
    with np.errstate(invalid="ignore"):
        gap = float(np.max(np.abs(hook - value), initial=0.0))
    if not np.isfinite(gap) or gap > STATEMENT_AGREEMENT * scale:
        return (f"statement and evaluate disagree at {format_point(_jsonable(point))}: "
                f"statement {_fmt(value)}, evaluate {_fmt(hook)}")
    return ""


compare_statement = statement_disagreement  # the name the battery uses


#: Relative floating-point floor of every tolerance: two float64 evaluations of the same
#: number (the statement with numpy, the simulation with torch) differ by a few ulps.
FLOAT_AGREEMENT = 64 * float(np.finfo(np.float64).eps)

#: An observed bias order contradicts the declared order ``p`` when it is below
#: ``p - ORDER_MARGIN`` beyond its standard error: orders are integers, and half a
#: power is the boundary between the declared order and the next lower one.
ORDER_MARGIN = 0.5


def _order_contradiction(claim: Claim, measurement: Measurement, critical: float) -> str:
    if claim.systematic_error is None:
        return ""
    declared = claim.systematic_error.order
    fit = observed_order(measurement, critical)
    if fit is None:
        return ""
    with np.errstate(invalid="ignore"):
        low = fit.observed + critical * fit.standard_error
        contradicted = fit.identifiable & np.isfinite(low) & (low < declared - ORDER_MARGIN)
    if not np.any(contradicted):
        return ""
    index = np.unravel_index(int(np.argmax(contradicted)), contradicted.shape)
    return (f"bias order: the level means converge at order "
            f"{float(fit.observed[index]):.2f} ± {float(fit.standard_error[index]):.2f} in "
            f"{claim.systematic_error.variable}, but order {declared} is declared; "
            f"declare the observed order (the bias bound assumes {declared})")


def _underpowered(claim: Claim, verdict: Verdict) -> str:
    achieved = verdict.relative_resolution()
    required = claim.resolution
    if math.isfinite(achieved) and achieved <= required:
        return ""
    if not math.isfinite(achieved):
        return (f"underpowered: no point gives a finite relative tolerance, so the check's "
                f"resolution is unknown (required {required:.3g})")
    judged = sorted((p for p in verdict.points if p.status is not Status.INCONCLUSIVE
                     and math.isfinite(p.relative_tolerance)), key=lambda p: p.relative_tolerance)
    if not judged:  # every prediction is zero: the resolution is absolute
        judged = sorted((p for p in verdict.points if p.status is not Status.INCONCLUSIVE
                         and p.tolerance is not None),
                        key=lambda p: float(np.max(np.asarray(p.tolerance, dtype=float))))
    best = judged[len(judged) // 2]  # the median point
    statistical = float(np.max(verdict.critical_value * np.asarray(best.standard_error)))
    bias = float(np.max(np.asarray(best.bias_bound)))
    factor = achieved / required
    if statistical >= bias:
        remedy = (f"the tolerance is mostly statistical: an ensemble of about "
                  f"{math.ceil(verdict.ensemble * factor**2)} (now {verdict.ensemble}) would "
                  f"close it")
    else:
        remedy = ("the tolerance is mostly the bias bound: add finer resolution levels or "
                  "reduce the bias")
    return (f"underpowered: this check detects relative errors above {achieved:.3g}, but "
            f"the claim requires {required:.3g}; {remedy}")


def _levels(estimate: Estimate) -> dict[str, Any]:
    """The per-resolution means of a multi-level estimate, as JSON-ready lists."""
    if estimate.level_values is None or len(estimate.levels) < 2:
        return {}
    return {"resolutions": np.asarray(estimate.levels).tolist(),
            "level_estimates": estimate.level_values.tolist(),
            "level_standard_errors": estimate.level_errors.tolist()}


def _predict(claim: Claim, decoy: Decoy | None, point: ParameterPoint) -> Any:
    try:
        if decoy is None:
            return claim.predict(**point)
        return claim.predict_decoy(decoy, **point)
    except (ArithmeticError, ValueError, TypeError, np.linalg.LinAlgError) as error:
        return error


def critical_value(alpha: float, comparisons: int, ensemble: int) -> float:
    """Two-sided Student-t quantile at ``alpha / comparisons`` (Bonferroni)."""
    from scipy import stats

    per_comparison = alpha / max(comparisons, 1)
    dof = max(ensemble - 1, 1)
    return float(stats.t.ppf(1 - per_comparison / 2, dof))


def _overall(results: list[PointResult]) -> tuple[Status, str]:
    if any(r.status is Status.FAIL for r in results):
        return Status.FAIL, ""
    inconclusive = [r for r in results if r.status is Status.INCONCLUSIVE]
    if inconclusive or not results:
        reason = inconclusive[0].reason if inconclusive else "no parameter points"
        return Status.INCONCLUSIVE, f"{len(inconclusive)} point(s) inconclusive: {reason}"
    return Status.PASS, ""


def _shrink(claim: Claim, decoy: Decoy | None, budget: int, seed: int, device: str,
            ensemble: int, order: int, critical: float, known: dict[str, PointResult],
            time_limit: float) -> PointResult | None:
    """Replay the seeded search; hypothesis shrinks from the first failing point."""
    cache = dict(known)
    state: dict[str, Any] = {"last": None}
    deadline = time.monotonic() + time_limit

    @_settings(budget)
    @hypothesis_seed(seed)
    @given(claim.points())
    def replay(point: ParameterPoint) -> None:
        key = _key(point)
        if key not in cache:
            if time.monotonic() > deadline:
                return  # out of shrinking time: treat unknown points as passing
            measured = _simulate(claim, [point], seed, device, ensemble)
            estimate = measured if isinstance(measured, str) else reduce(measured[0], order)
            cache[key] = _compare(point, _predict(claim, decoy, point), estimate, critical,
                                  relation=claim.relation)
        if cache[key].status is Status.FAIL:
            state["last"] = cache[key]
            raise AssertionError(key)

    try:
        with _seed_only():
            replay()
    except AssertionError:
        pass
    return state["last"]


#: Examples a violation search may try, per point of the check's budget.
HUNT_FACTOR = 10


def _hunt(claim: Claim, decoy: Decoy | None, budget: int, seed: int, device: str,
          ensemble: int, order: int, critical: float, time_limit: float) -> PointResult | None:
    """Search the domain for a point where an upper bound is exceeded; shrink it.

    For claims with ``relation="<="`` (and their decoys): hypothesis generates
    points, steers towards larger excess ``(estimate - bound) / |bound|`` with
    ``hypothesis.target``, and shrinks the first violation (beyond the
    statistical tolerance) to a minimal one, which is returned.
    """
    cache: dict[str, PointResult] = {}
    state: dict[str, Any] = {"last": None}
    deadline = time.monotonic() + time_limit

    @settings(_settings(budget), phases=[Phase.generate, Phase.target, Phase.shrink])
    @hypothesis_seed(seed)
    @given(claim.points())
    def search(point: ParameterPoint) -> None:
        from hypothesis import target

        key = _key(point)
        if key not in cache:
            if time.monotonic() > deadline:
                return  # out of time: unknown points count as satisfying the bound
            measured = _simulate(claim, [point], seed, device, ensemble)
            estimate = measured if isinstance(measured, str) else reduce(measured[0], order)
            cache[key] = _compare(point, _predict(claim, decoy, point), estimate, critical,
                                  relation="<=")
        result = cache[key]
        if result.estimate is not None and result.prediction is not None:
            excess = ((np.asarray(result.estimate, dtype=float)
                       - np.asarray(result.prediction, dtype=float))
                      / np.maximum(np.abs(np.asarray(result.prediction, dtype=float)), 1e-300))
            if np.all(np.isfinite(excess)):
                target(float(np.max(excess)), label="relative excess over the bound")
        if result.status is Status.FAIL:
            state["last"] = result
            raise AssertionError(key)

    try:
        with _seed_only():
            search()
    except AssertionError:
        pass
    return state["last"]


def check(
    claim: Claim,
    budget: int | None = None,
    seed: int = 0,
    device: str | None = "cpu",
    *,
    ensemble: int | None = None,
    alpha: float = DEFAULT_ALPHA,
    decoys: bool = True,
    shrink: bool = True,
    shrink_time: float = 60.0,
    progress: Callable[[str], None] | None = None,
    points: list[ParameterPoint] | None = None,
    record: bool | Any = True,
) -> Verdict:
    """Verify a claim against its simulation.

    Args:
        claim: the claim.
        budget: parameter points to draw (default: the claim's).
        seed: seeds hypothesis and the simulation; the same seed gives the same verdict.
        device: 'cpu', 'cuda' or 'auto'.
        ensemble: independent simulations per point (default: the claim's).
        alpha: family-wise false-failure probability of the check.
        decoys: also evaluate every decoy against the same measurements.
        shrink: on FAIL, shrink to a minimal counterexample with hypothesis.
        shrink_time: seconds allowed for shrinking.
        progress: called with a short message as work proceeds.
        points: check exactly these parameter points (validated) instead of
            drawing ``budget`` points; shrinking is then skipped.
        record: append the verdict to the evidence store (True: the default
            store, :func:`theorylab.evidence.default_path`; an
            :class:`~theorylab.evidence.Evidence`: that one; False: nowhere). A
            check below the claim's default budget, or at given points, is
            recorded as a *smoke* check: shown, but it never changes a status.

    Returns:
        The verdict, with one verdict per decoy in ``decoys``. It is PASS only when
        every point agrees within its tolerance, the ``evaluate`` hook reproduces
        the statement, the observed bias order does not contradict the declared
        one, and the check reaches the claim's required resolution; otherwise FAIL
        (a discrepancy, or statement and evaluate disagree) or INCONCLUSIVE (with
        its reason).

    Raises:
        ParameterError: for a bad budget, seed, ensemble, alpha or device.
        ClaimDefinitionError: when the claim's simulation reports several
            resolutions but the claim declares no systematic error.

    """
    budget = claim.budget if budget is None else budget
    ensemble = claim.ensemble if ensemble is None else ensemble
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise ParameterError("budget", "an integer >= 1", budget)
    if isinstance(ensemble, bool) or not isinstance(ensemble, int) or ensemble < 2:
        raise ParameterError("ensemble", "an integer >= 2", ensemble)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ParameterError("seed", "an integer in [0, 2**32)", seed)
    if not (0 < alpha < 1):
        raise ParameterError("alpha", "a real number in (0, 1)", alpha)
    device = resolve_device(device)
    order = claim.systematic_error.order if claim.systematic_error else 1
    started = time.perf_counter()
    say = progress or (lambda message: None)

    smoke = points is not None or budget < claim.budget
    memo: dict[tuple[str | None, str], Any] = {}

    def predicted(decoy: Decoy | None, point: ParameterPoint) -> Any:
        key = (None if decoy is None else decoy.name, _key(point))
        if key not in memo:
            memo[key] = _predict(claim, decoy, point)
        return memo[key]

    unexercised: dict[str, float] = {}
    if points is None:
        points = draw_points(claim, budget, seed)
        if decoys and claim.relation == "==":
            points, unexercised = _exercise_decoys(claim, points, seed, predicted)
    else:
        points = [claim.validate(point) for point in points]
        budget, shrink = len(points), False
    say(f"{claim.id}: simulating {len(points)} points x {ensemble}")
    measured = _simulate(claim, points, seed, device, ensemble)
    if isinstance(measured, str):
        estimates: list[Estimate | str] = [measured] * len(points)
    else:
        estimates = [reduce(m, order) for m in measured]

    components = sum(
        int(np.size(e.value)) for e in estimates if isinstance(e, Estimate) and e.finite
    )
    critical = critical_value(alpha, components, ensemble)
    bias_text = claim.systematic_error.description if claim.systematic_error else ""

    predictions = [predicted(None, point) for point in points]
    disagreements = [statement_disagreement(claim, point, prediction)
                     for point, prediction in zip(points, predictions, strict=True)]
    orders = ([_order_contradiction(claim, m, critical) for m in measured]
              if not isinstance(measured, str) else [""] * len(points))

    def judge(decoy: Decoy | None) -> Verdict:
        results = [
            _compare(point, prediction if decoy is None else predicted(decoy, point),
                     estimate, critical, levels=decoy is None, relation=claim.relation)
            for point, prediction, estimate in zip(points, predictions, estimates, strict=True)
        ]
        status, reason = _overall(results)
        return Verdict(
            claim=claim.id, subject=claim.id if decoy is None else f"{claim.id}~{decoy.name}",
            status=status, points=results, seed=seed, device=device, budget=budget,
            ensemble=ensemble, alpha=alpha, critical_value=critical, wall_time=0.0,
            systematic_error=bias_text, fingerprint=claim.fingerprint(), reason=reason,
            required_resolution=claim.resolution, smoke=smoke,
            failure="discrepancy" if status is Status.FAIL else "",
        )

    verdict = judge(None)
    for result, contradiction in zip(verdict.points, orders, strict=True):
        if contradiction and result.status is not Status.INCONCLUSIVE:
            result.status, result.reason = Status.INCONCLUSIVE, contradiction
    if any(orders) and verdict.status is not Status.FAIL:
        verdict.status, verdict.reason = _overall(verdict.points)
    disagreement = next((d for d in disagreements if d), "")
    if disagreement:  # a FAIL of its own kind: what is checked is not what is stated
        index = disagreements.index(disagreement)
        verdict.status, verdict.failure = Status.FAIL, "statement and evaluate disagree"
        verdict.reason = disagreement
        verdict.points[index].reason = disagreement
        verdict.counterexample = verdict.points[index]
        shrink = False
    if verdict.status is Status.FAIL and shrink:
        say(f"{claim.id}: FAIL, shrinking the counterexample")
        known = {_key(p): r for p, r in zip(points, verdict.points, strict=True)}
        verdict.counterexample = _shrink(claim, None, budget, seed, device, ensemble, order,
                                         critical, known, shrink_time)
    hunting = claim.relation == "<=" and shrink
    if hunting:
        hunt_budget = HUNT_FACTOR * budget
        hunt_critical = critical_value(alpha, max(components // max(len(points), 1), 1)
                                       * hunt_budget, ensemble)
    if hunting and verdict.status is Status.PASS:
        say(f"{claim.id}: searching for a violation of the bound")
        found = _hunt(claim, None, hunt_budget, seed, device, ensemble, order, hunt_critical,
                      shrink_time)
        if found is not None:
            verdict.status, verdict.counterexample = Status.FAIL, found
            verdict.reason = "a targeted search found the bound exceeded"
    if verdict.status is Status.PASS:
        weak = _underpowered(claim, verdict)
        if weak:
            verdict.status, verdict.reason = Status.INCONCLUSIVE, weak
    if decoys:
        for decoy in claim.decoys:
            decoy_verdict = judge(decoy)
            decoy_verdict.counterexample = decoy_verdict.worst
            if hunting:
                say(f"{claim.id}~{decoy.name}: searching for a violation")
                found = _hunt(claim, decoy, hunt_budget, seed, device, ensemble, order,
                              hunt_critical, shrink_time)
                if found is not None:  # shrunk by hypothesis: the minimal violation
                    decoy_verdict.points.append(found)
                    decoy_verdict.status, decoy_verdict.counterexample = Status.FAIL, found
            if decoy.name in unexercised and decoy_verdict.status is not Status.FAIL:
                decoy_verdict.status = Status.INCONCLUSIVE
                decoy_verdict.reason = (
                    f"the decoy differs from the statement by at most "
                    f"{unexercised[decoy.name]:.2g} (relative) at every point drawn, "
                    f"{SEPARATION_FACTOR} x the budget searched: the check cannot tell them "
                    f"apart at resolution {claim.resolution:g}")
            verdict.decoys.append(decoy_verdict)
    verdict.wall_time = time.perf_counter() - started
    _record(record, claim, verdict)
    return verdict


def _record(record: Any, claim: Claim, verdict: Verdict) -> None:
    if record is False or record is None:
        return
    from theorylab.evidence import Evidence

    store = Evidence() if record is True else record
    store.record("verdict", claim, verdict.to_dict())
