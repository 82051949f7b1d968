"""Calibrate the verifier: how often true claims FAIL, and whether its error model holds.

:func:`study` runs ``seeds`` checks of each claim (seeds 0 .. N-1) on Dask
(:mod:`theorylab.distributed`), skipping the (claim, seed) pairs the evidence
store already holds for the claim's current fingerprint, so an interrupted
study resumes. :func:`report` summarises the stored verdicts; per claim and
pooled per family:

* false FAILs and INCONCLUSIVEs, with one-sided 95% Clopper-Pearson upper bounds
  on their rates (a true claim should FAIL at most at alpha = 1e-3);
* each decoy's rejection rate (it should be 1);
* the achieved relative resolution over seeds;
* the calibration of the test itself: at each point, and each component, the
  two-sided p-value of t = |estimate - prediction| / SE under Student's t with
  ensemble - 1 degrees of freedom, tested for uniformity (Kolmogorov-Smirnov).
  Where the point carries a nonzero bias bound (an extrapolation) or the claim
  is a bound (relation '<='), t is not exactly Student: those p-values come from
  max(|d| - bias, 0) / SE, which can only be too large, and are tested one-sided
  for an excess of small values. A claim whose p-values are far from uniform
  (KS p < 1e-3) has a wrong error model even with zero failures: it is flagged.

:func:`write_report_page` writes the report as one self-contained HTML page.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["KS_WARNING", "MAX_SEEDS", "report", "study", "write_report", "write_report_page"]

#: The most seeds per claim of one study.
MAX_SEEDS = 100_000
#: A KS p-value below this flags a claim's error model as wrong.
KS_WARNING = 1e-3
_CONFIDENCE = 0.95
_MAX_STORED_P = 20_000  # p-values kept per claim in the JSON (for the QQ plot)


def upper_bound(failures: int, trials: int, confidence: float = _CONFIDENCE) -> float:
    """One-sided Clopper-Pearson upper confidence bound on a binomial rate."""
    from scipy import stats

    if trials <= 0:
        return 1.0
    if failures >= trials:
        return 1.0
    return float(stats.beta.ppf(confidence, failures + 1, trials - failures))


def study(claims: Sequence[Any], seeds: int, *, evidence: Any, modules: Sequence[str] = (),
          scheduler: str | None = None, workers: int | None = None, device: str = "cpu",
          timeout: float | None = None, progress: Callable[[str], None] | None = None,
          engine: Any = None) -> dict[str, Any]:
    """Run the missing (claim, seed) checks for seeds ``0 .. seeds-1``; return the report.

    Every finished verdict is in ``evidence`` even when the run is interrupted or a
    task fails (:class:`~theorylab.distributed.TaskError` is raised after the
    others finished). ``engine``: an existing Dask client (default: start one).
    """
    from theorylab.distributed import Task, run_checks
    from theorylab.errors import ParameterError

    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise ParameterError("--seeds", f"an integer in [1, {MAX_SEEDS}]", seeds)
    done = {claim.id: {v["seed"] for v in evidence.verdicts(claim)} for claim in claims}
    # seed-major, so that an interrupted study has as many seeds of every claim
    tasks = [Task(claim.id, seed, None, device) for seed in range(seeds) for claim in claims
             if seed not in done[claim.id]]
    if tasks:
        run_checks(tasks, modules=modules, scheduler=scheduler, workers=workers,
                   evidence=evidence, timeout=timeout, progress=progress, engine=engine)
    return report(claims, evidence, seeds)


def _point_p_values(point: dict[str, Any], ensemble: int, exact_model: bool
                    ) -> tuple[list[float], bool]:
    """Two-sided p-values of a point's components, and whether they are exact."""
    import numpy as np
    from scipy import stats

    if point.get("status") == "INCONCLUSIVE" or point.get("prediction") is None:
        return [], True
    try:
        estimate = np.asarray(point["estimate"], dtype=float).ravel()
        prediction = np.asarray(point["prediction"], dtype=float).ravel()
        error = np.asarray(point["standard_error"], dtype=float).ravel()
        bias = np.asarray(point.get("bias_bound") or 0.0, dtype=float).ravel()
        estimate, prediction, error, bias = np.broadcast_arrays(estimate, prediction, error,
                                                                bias)
    except (TypeError, ValueError, KeyError):
        return [], True
    exact = exact_model and bool(np.all(bias == 0))
    difference = np.abs(estimate - prediction)
    if not exact:
        difference = np.maximum(difference - np.abs(bias), 0.0)
    usable = np.isfinite(difference) & np.isfinite(error) & (error > 0)
    statistic = difference[usable] / error[usable]
    return [float(p) for p in 2 * stats.t.sf(statistic, max(ensemble - 1, 1))], exact


def _summary(verdicts: list[dict[str, Any]], exact_model: bool) -> dict[str, Any]:
    import numpy as np
    from scipy import stats

    count = len(verdicts)
    fails = sum(v["status"] == "FAIL" for v in verdicts)
    inconclusive = sum(v["status"] == "INCONCLUSIVE" for v in verdicts)
    decoys: dict[str, list[int]] = {}
    resolutions, exact_p, bounded_p = [], [], []
    for verdict in verdicts:
        for decoy in verdict.get("decoys", []):
            name = str(decoy.get("subject", "")).partition("~")[2] or "?"
            tally = decoys.setdefault(name, [0, 0])
            tally[0] += decoy.get("status") == "FAIL"
            tally[1] += 1
        resolution = _resolution(verdict)
        if math.isfinite(resolution):
            resolutions.append(resolution)
        for point in verdict.get("points", []):
            values, exact = _point_p_values(point, int(verdict.get("ensemble", 2)),
                                            exact_model)
            (exact_p if exact else bounded_p).extend(values)
    summary: dict[str, Any] = {
        "checks": count, "fails": fails, "fail_upper": upper_bound(fails, count),
        "inconclusive": inconclusive,
        "inconclusive_upper": upper_bound(inconclusive, count),
        "seeds": sorted({int(v["seed"]) for v in verdicts}),
        "decoys": {name: {"rejected": r, "checks": n, "rate": r / n if n else math.nan}
                   for name, (r, n) in sorted(decoys.items())},
        "resolution": _quantiles(resolutions),
        "p_values": {"exact": len(exact_p), "bounded": len(bounded_p)},
    }
    if exact_p:
        summary["p_values"]["ks_p"] = float(stats.kstest(exact_p, "uniform").pvalue)
    if bounded_p:  # conservative values: only an excess of small ones is evidence
        summary["p_values"]["bounded_ks_p"] = float(
            stats.kstest(bounded_p, "uniform", alternative="greater").pvalue)
    worst = min(summary["p_values"].get("ks_p", 1.0), summary["p_values"].get("bounded_ks_p",
                                                                              1.0))
    summary["error_model_ok"] = worst >= KS_WARNING
    rng = np.random.default_rng(0)  # a fixed thinning so the JSON stays small
    kept = np.asarray(exact_p + bounded_p)
    if kept.size > _MAX_STORED_P:
        kept = rng.choice(kept, _MAX_STORED_P, replace=False)
    summary["p_sample"] = [round(float(p), 5) for p in np.sort(kept)]
    summary["p_sample_exact"] = len(exact_p) > 0 and not bounded_p
    summary["resolutions"] = [round(r, 6) for r in resolutions]
    return summary


def _resolution(verdict: dict[str, Any]) -> float:
    from theorylab.verifier import Verdict

    try:
        return float(Verdict.from_dict(verdict).relative_resolution())
    except (TypeError, ValueError, KeyError):
        return math.nan


def _quantiles(values: list[float]) -> dict[str, float]:
    import numpy as np

    if not values:
        return {}
    levels = {"min": 0.0, "q05": 0.05, "median": 0.5, "q95": 0.95, "max": 1.0}
    return {name: float(np.quantile(values, q)) for name, q in levels.items()}


def report(claims: Sequence[Any], evidence: Any, seeds: int | None = None) -> dict[str, Any]:
    """The calibration report of the stored verdicts (seeds below ``seeds``, or all).

    Smoke checks are left out; one verdict per (claim, seed), the newest.
    """
    from theorylab.verifier import DEFAULT_ALPHA

    per_claim: dict[str, Any] = {}
    families: dict[str, list[dict[str, Any]]] = {}
    exactness: dict[str, bool] = {}
    for claim in claims:
        newest: dict[int, dict[str, Any]] = {}
        for verdict in evidence.verdicts(claim):
            if seeds is None or 0 <= verdict["seed"] < seeds:
                newest[verdict["seed"]] = verdict
        verdicts = [newest[s] for s in sorted(newest)]
        exact_model = claim.relation == "=="
        entry = _summary(verdicts, exact_model)
        entry.update(family=claim.family, title=claim.title,
                     required_resolution=claim.resolution)
        per_claim[claim.id] = entry
        families.setdefault(claim.family, []).extend(verdicts)
        exactness[claim.family] = exactness.get(claim.family, True) and exact_model
    pooled = {}
    for family, verdicts in families.items():
        entry = _summary(verdicts, exactness[family])
        entry.pop("resolutions")
        entry.pop("seeds")
        pooled[family] = entry
    return {"alpha": DEFAULT_ALPHA, "confidence": _CONFIDENCE, "ks_warning": KS_WARNING,
            "seeds": seeds, "evidence": str(evidence.path), "claims": per_claim,
            "families": pooled}


def strict_json(value: Any) -> Any:
    """``value`` with every non-finite float replaced by null (strict JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: strict_json(entry) for key, entry in value.items()}
    if isinstance(value, list):
        return [strict_json(entry) for entry in value]
    return value


def write_report(result: dict[str, Any], path: str | Path) -> Path:
    """Write the report as strict JSON (non-finite numbers as null)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(strict_json(result), indent=1, allow_nan=False) + "\n",
                    encoding="utf-8")
    return path


def _figure(entry: dict[str, Any]) -> str:
    """A PNG (base64) of the QQ plot of p-values and the histogram of resolutions."""
    import base64
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    figure, (qq, spread) = plt.subplots(1, 2, figsize=(8, 3.2))
    p_values = np.asarray(entry.get("p_sample", []), dtype=float)
    if p_values.size:
        expected = (np.arange(1, p_values.size + 1) - 0.5) / p_values.size
        qq.plot(expected, np.sort(p_values), ".", markersize=2)
    qq.plot([0, 1], [0, 1], "k--", linewidth=0.8)
    qq.set(xlabel="uniform quantile", ylabel="p-value quantile", title="p-values (QQ)",
           xlim=(0, 1), ylim=(0, 1))
    resolutions = [r for r in entry.get("resolutions", []) if r and r > 0]
    if resolutions:
        spread.hist(np.log10(resolutions), bins=20)
    required = entry.get("required_resolution")
    if required and required > 0:
        spread.axvline(math.log10(required), color="r", linestyle="--", label="required")
        spread.legend()
    spread.set(xlabel="log10 achieved relative resolution", ylabel="checks",
               title="resolution")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _rows(entry: dict[str, Any]) -> list[tuple[str, str]]:
    decoys = ", ".join(f"{name} {d['rejected']}/{d['checks']}"
                       for name, d in entry.get("decoys", {}).items()) or "none"
    p = entry.get("p_values", {})
    resolution = entry.get("resolution", {})
    return [
        ("checks", _number(entry["checks"])),
        ("false FAIL", f"{_number(entry['fails'])} (95% upper bound "
                       f"{_number(entry['fail_upper'])})"),
        ("INCONCLUSIVE", f"{_number(entry['inconclusive'])} (95% upper bound "
                         f"{_number(entry['inconclusive_upper'])})"),
        ("decoys rejected", decoys),
        ("achieved resolution", f"median {_number(resolution.get('median'))}, range "
                                f"{_number(resolution.get('min'))} to "
                                f"{_number(resolution.get('max'))}"),
        ("p-values", f"{_number(p.get('exact', 0))} exact (KS p {_number(p.get('ks_p'))}), "
                     f"{_number(p.get('bounded', 0))} with a bias bound or one-sided "
                     f"(one-sided KS p {_number(p.get('bounded_ks_p'))})"),
    ]


def write_report_page(result: dict[str, Any], folder: str | Path) -> Path:
    """Write ``calibration.html`` (self-contained: figures inline) into ``folder``.

    Every text from the report (ids, titles, decoy names) is HTML-escaped.
    """
    from html import escape

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
             "<title>theorylab calibration</title><style>body{font-family:sans-serif;"
             "max-width:60em;margin:auto}table{border-collapse:collapse}td,th{padding:2px 8px;"
             "border-bottom:1px solid #ddd;text-align:left}.warning{color:#a00;"
             "font-weight:bold}</style></head><body>",
             "<h1>Calibration of the verifier</h1>",
             f"<p>Each check of a true claim should FAIL with probability at most alpha = "
             f"{escape(_number(result.get('alpha')))}. Bounds are one-sided "
             f"{escape(_number(100 * result.get('confidence', 0.95)))}% Clopper-Pearson. "
             f"p-values of |estimate - prediction| / SE (Student t, ensemble - 1 degrees of "
             f"freedom) should be uniform; a KS p-value below "
             f"{escape(_number(result.get('ks_warning')))} flags a wrong error model. "
             f"Points with a bias bound, and bounds (relation &lt;=), give conservative "
             f"p-values, tested one-sided for an excess of small values.</p>",
             "<h2>Families (pooled)</h2><table><tr><th>family</th><th>checks</th>"
             "<th>false FAIL (bound)</th><th>INCONCLUSIVE (bound)</th><th>KS p</th>"
             "<th>one-sided KS p</th></tr>"]
    for family, entry in sorted(result.get("families", {}).items()):
        p = entry.get("p_values", {})
        parts.append(
            f"<tr><td>{escape(str(family))}</td><td>{escape(_number(entry['checks']))}</td>"
            f"<td>{escape(_number(entry['fails']))} "
            f"({escape(_number(entry['fail_upper']))})</td>"
            f"<td>{escape(_number(entry['inconclusive']))} "
            f"({escape(_number(entry['inconclusive_upper']))})"
            f"</td><td>{escape(_number(p.get('ks_p')))}</td>"
            f"<td>{escape(_number(p.get('bounded_ks_p')))}</td></tr>")
    parts.append("</table>")
    for claim_id, entry in sorted(result.get("claims", {}).items()):
        claim_id = str(claim_id)
        parts.append(f"<h2 id='{escape(claim_id, quote=True)}'>{escape(claim_id)}</h2>"
                     f"<p>{escape(str(entry.get('title', '')))}</p>")
        if not entry.get("error_model_ok", True):
            parts.append("<p class='warning'>Warning: the p-values are far from uniform "
                         "(KS p below the threshold): the error model of this claim's "
                         "check is wrong, even if it never FAILed.</p>")
        if entry.get("fails"):
            parts.append("<p class='warning'>Warning: a true claim FAILed.</p>")
        parts.append("<table>" + "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>"
                                         for k, v in _rows(entry)) + "</table>")
        if entry.get("checks"):
            parts.append(f"<img alt='p-value QQ plot and resolution histogram' "
                         f"src='data:image/png;base64,{_figure(entry)}'>")
    parts.append("</body></html>")
    page = folder / "calibration.html"
    page.write_text("\n".join(parts), encoding="utf-8")
    return page
