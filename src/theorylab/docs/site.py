"""Build the static site: MyST pages from the registry and the evidence, then Sphinx."""

from __future__ import annotations

import glob
import hashlib
import importlib
import io
import json
import math
import re
import shutil
import tempfile
import time
import warnings as python_warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from theorylab.claim import Claim
from theorylab.docs import examples, figures
from theorylab.docs.graph import REFUTED_FILL, STATUS_STYLE, GraphNode, dependency_svg
from theorylab.docs.tex import STEP_VERBS, equation_tex, safe_tex, split_math, tex
from theorylab.errors import ParameterError

__all__ = ["build_site", "default_site_dir", "prepare_out", "SiteResult", "MARKER",
           "FAMILY_EXAMPLES"]

#: A file in every generated site; only a folder holding it is ever overwritten.
MARKER = ".theorylab-site"

#: Optional per-family example figures for the index: family -> function that
#: draws into the given folder and returns a MyST snippet (or None to skip).
FAMILY_EXAMPLES: dict[str, Callable[[Path], str | None]] = {
    "neural_collapse": examples.neural_collapse_metrics,
}


def default_site_dir(evidence_path: str | Path) -> Path:
    """Where the site goes by default: ``site/`` beside the evidence file."""
    return Path(evidence_path).parent / "site"


def prepare_out(out: str | Path) -> Path:
    """Check that ``out`` can take a site: absent, empty, or an earlier site, and writable.

    The site is swapped in by renaming a sibling folder, so the folder that will
    hold ``out`` (or its nearest existing ancestor) must be a writable folder.

    Raises:
        ParameterError: naming the folder, before any work is done.

    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ParameterError("out", "a folder, not a file", str(out))
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ParameterError("out", "an empty folder or an earlier theorylab site "
                             "(it holds other files)", str(out))
    ancestor = out.absolute().parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ParameterError("out", "a folder path", str(out),
                             detail=f"{ancestor} is a file, not a folder")
    try:  # os.access says yes to root even on a read-only file system: try it
        Path(tempfile.mkdtemp(prefix=".theorylab-probe-", dir=ancestor)).rmdir()
    except OSError as error:
        raise ParameterError("out", "a folder that can be written", str(out),
                             detail=f"{ancestor}: {error.strerror or error}") from None
    return out


@dataclass
class SiteResult:
    """What :func:`build_site` wrote."""

    out: Path
    index: Path
    pages: list[Path]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class _Info:
    claim: Claim
    status: str
    verdict: dict[str, Any] | None
    verdict_time: float | None
    proofs: dict[str, Any] | None
    derivations: list[Any]

    @property
    def refuted(self) -> bool:
        if self.verdict is None:
            return False
        return self.verdict.get("status") == "FAIL" or any(
            d.get("status") != "FAIL" for d in self.verdict.get("decoys", []))


# -- small MyST helpers -------------------------------------------------------------
# User text reaches MyST only through these. Every ASCII punctuation character
# becomes a numeric character reference: markdown decodes it to a literal
# character (never to syntax: no role, directive, link, code span or HTML tag),
# and in raw HTML the browser shows it as text.

_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _entities(text: Any) -> str:
    """Any text as inert MyST or HTML: punctuation as character references, one line."""
    flat = _INVISIBLE.sub(" ", str(text))
    return _PUNCTUATION.sub(lambda match: f"&#{ord(match.group())};", flat)


def _text(text: Any) -> str:
    """Prose as MyST: inert text, ``$...$`` as inline math when it is safe TeX."""
    out = []
    for is_math, piece in split_math(str(text)):
        if is_math and safe_tex(piece):
            out.append(_math_role(piece))
        else:
            out.append(_entities(f"${piece}$" if is_math else piece))
    return "".join(out)


def _code(text: Any) -> str:
    """Literal text in a ``<code>`` element."""
    return f"<code>{_entities(text)}</code>"


def _math_role(latex: str) -> str:
    """Inline math; ``latex`` comes from sympy's printer or passed :func:`safe_tex`."""
    # No pipe may split a table cell: \vert and \Vert typeset the same.
    latex = _INVISIBLE.sub(" ", latex).strip().replace("\\|", "\\Vert ").replace("|", "\\vert ")
    if "`" in latex:  # cannot happen for safe TeX; never end the role early
        return _entities(latex)
    return f"{{math}}`{latex}`"


def _math_block(latex: str, indent: str = "") -> str:
    """Display math; a fence longer than any backtick run, on one line."""
    latex = _INVISIBLE.sub(" ", latex).strip()
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", latex)), default=0))
    return f"{indent}{fence}{{math}}\n{indent}{latex}\n{indent}{fence}\n"


_STATUS_SLUG = re.compile(r"[^a-z]+")


def _badge(status: str, label: str | None = None) -> str:
    slug = _STATUS_SLUG.sub("-", str(status).lower()).strip("-")[:40]
    return f'<span class="tl-badge tl-{slug}">{_entities(label or status)}</span>'


def _cell(text: str) -> str:
    """MyST from :func:`_text` in a table cell: its pipes are already references."""
    return text.replace("\n", " ")


def _when(seconds: Any) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(float(seconds)))
    except (TypeError, ValueError, OverflowError, OSError):
        return "unknown time"


def _number(value: Any, digits: int = 4) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "–"
    try:
        number = float(value)
    except (OverflowError, ValueError):
        return "–"
    if math.isnan(number):
        return "–"
    if math.isinf(number):
        return "∞"
    return f"{number:.{digits}g}"


def _slug(text: str) -> str:
    """A file name: the text when it is a plain word, else its letters and a hash."""
    if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,80}", text):
        return text
    digest = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:10]
    return (re.sub(r"[^A-Za-z0-9_]", "", text)[:40] or "x") + "-" + digest


def _page_path(claim: Claim) -> str:
    """The page's document name (without suffix) relative to the source root."""
    return f"{_slug(claim.family)}/{_slug(claim.name)}"


# -- evidence -----------------------------------------------------------------------
# An evidence file may be shared, so a record is rendered only once it matches
# a small schema; one that does not is dropped with a docs warning.

VERDICT_STATUSES = frozenset({"PASS", "FAIL", "INCONCLUSIVE"})
STEP_STATUSES = frozenset({"assumed", "exact", "numeric evidence", "failed"})
_DEVICE = re.compile(r"[a-z0-9:]{1,32}")
_COUNT_KEYS = ("exact", "numeric", "cited", "assumed", "failed")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**6


def _numbers(value: Any) -> bool:
    """A number, None, or a (nested) list of them: what a point's values may be."""
    if value is None or _is_number(value):
        return True
    return isinstance(value, list) and len(value) <= 10**5 and all(_numbers(v) for v in value)


def _valid_point(point: Any) -> bool:
    if not isinstance(point, dict) or not isinstance(point.get("point", {}), dict):
        return False
    numeric = ("estimate", "prediction", "tolerance", "ratio", "z_score", "resolutions",
               "level_estimates", "level_standard_errors", "standard_error", "bias_bound")
    return (all(_numbers(point.get(key)) for key in numeric)
            and all(isinstance(k, str) and (_numbers(v) or isinstance(v, str))
                    for k, v in point.get("point", {}).items()))


def valid_verdict(data: Any) -> dict[str, Any] | None:
    """The stored verdict when it matches the schema the pages render, else None.

    Status one of PASS/FAIL/INCONCLUSIVE, seed an integer (or absent), device a
    short ``[a-z0-9:]+`` string (or absent), reason a string, the numbers
    numbers, points and decoys lists of records of the same shape.
    """
    if not isinstance(data, dict) or data.get("status") not in VERDICT_STATUSES:
        return None
    seed, device = data.get("seed"), data.get("device")
    if seed is not None and not (isinstance(seed, int) and not isinstance(seed, bool)):
        return None
    if device is not None and not (isinstance(device, str) and _DEVICE.fullmatch(device)):
        return None
    if not isinstance(data.get("reason", ""), str):
        return None
    if not all(data.get(key) is None or _is_number(data.get(key))
               for key in ("alpha", "critical_value", "wall_time")):
        return None
    if data.get("ensemble") is not None and not _is_count(data.get("ensemble")):
        return None
    points, decoys = data.get("points", []), data.get("decoys", [])
    if not isinstance(points, list) or not all(_valid_point(p) for p in points):
        return None
    if not isinstance(decoys, list) or not all(
            isinstance(d, dict) and d.get("status") in VERDICT_STATUSES
            and isinstance(d.get("subject", ""), str)
            and isinstance(d.get("points", []), list)
            and all(_valid_point(p) for p in d.get("points", [])) for d in decoys):
        return None
    return data


def valid_proofs(data: Any) -> dict[str, Any] | None:
    """The stored derivation check when it matches the schema, else None."""
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        return None
    for result in data["results"]:
        if not isinstance(result, dict) or not isinstance(result.get("steps", []), list):
            return None
        counts = result.get("counts", {})
        if not isinstance(counts, dict) or not all(_is_count(counts.get(k, 0))
                                                   for k in _COUNT_KEYS):
            return None
        if not all(isinstance(result.get(k, False), bool) for k in ("ok", "derives", "circular")):
            return None
        for step in result.get("steps", []):
            if (not isinstance(step, dict) or step.get("status") not in STEP_STATUSES
                    or not all(isinstance(step.get(k, ""), str) for k in ("detail", "cited"))):
                return None
        if result.get("status", "exact") not in STEP_STATUSES or result.get(
                "conclusion", "exact") not in STEP_STATUSES:
            return None
        if not isinstance(result.get("conclusion_detail", ""), str):
            return None
    return data


def _latest_records(evidence: Any) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The newest record per (kind, claim, fingerprint), read once."""
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for entry in evidence.entries():
        if not isinstance(entry, dict):
            continue
        key = (entry.get("kind", ""), entry.get("claim", ""), entry.get("fingerprint", ""))
        if all(isinstance(part, str) for part in key):
            latest[key] = entry
    return latest


def _gather(claims: Sequence[Claim], evidence: Any, warnings: list[str]) -> list[_Info]:
    from theorylab import registry

    records = _latest_records(evidence)
    infos = []
    for claim in claims:
        fingerprint = claim.fingerprint()
        verdict = records.get(("verdict", claim.id, fingerprint))
        proofs = records.get(("derivation", claim.id, fingerprint))
        verdict_data = valid_verdict(verdict.get("data")) if verdict else None
        proofs_data = valid_proofs(proofs.get("data")) if proofs else None
        for kind, record, data in (("verdict", verdict, verdict_data),
                                   ("derivation", proofs, proofs_data)):
            if record is not None and data is None:
                warnings.append(f"{claim.id!r}: the stored {kind} does not match the "
                                "evidence schema; it is not shown")
        try:
            state = registry.status(claim, evidence)
        except Exception:  # noqa: BLE001  (a claim outside the registry: no status chain)
            state = "stated"
        if state not in STATUS_STYLE or (state != "stated" and proofs_data is None):
            state = "stated"
        try:
            derivations = registry.derivations(claim.id)
        except Exception:  # noqa: BLE001
            derivations = []
        when = verdict.get("time") if verdict_data is not None else None
        infos.append(_Info(claim, state, verdict_data, when if _is_number(when) else None,
                           proofs_data, derivations))
    return infos


# -- claim page ---------------------------------------------------------------------

_ARXIV = re.compile(r"\d{4}\.\d{4,5}(v\d+)?|[a-z-]+(\.[A-Z]{2})?/\d{7}(v\d+)?")


def _link(claim_id: str, here: Claim | None, pages: dict[str, Claim]) -> str:
    if claim_id not in pages:
        return _code(claim_id)
    target = pages[claim_id]
    prefix = "../" if here is not None else ""
    return f"[{_text(target.title)}]({prefix}{_page_path(target)}.md) ({_code(claim_id)})"


def _citation(claim: Claim) -> str:
    citation = claim.citation
    authors = ", ".join(str(author) for author in citation.authors)
    venue = f", {_text(citation.venue)}" if citation.venue else ""
    arxiv = ""
    if citation.arxiv and _ARXIV.fullmatch(str(citation.arxiv)):
        arxiv = f" [arXiv:{citation.arxiv}](https://arxiv.org/abs/{citation.arxiv})"
    elif citation.arxiv:  # not an arXiv identifier: shown, never linked
        arxiv = f" arXiv: {_entities(citation.arxiv)}"
    return (f"**Source.** {_text(authors)} ({_entities(citation.year)}), "
            f"*{_text(citation.title)}*{venue}; {_text(citation.where)}.{arxiv}")


def _parameters(claim: Claim) -> list[str]:
    lines = ["| parameter | symbol | domain | meaning |", "| --- | --- | --- | --- |"]
    for parameter in claim.parameters:
        lines.append(f"| {_code(parameter.name)} | {_math_role(tex(parameter.symbol))} | "
                     f"{_cell(_text(parameter.domain.describe()))} | "
                     f"{_cell(_text(parameter.description))} |")
    lines.append("")
    for constraint in claim.constraints:
        lines.append(f"- Constraint: {_text(constraint.description)}")
    if claim.components:
        lines.append("- Components of the quantity: " + ", ".join(
            _code(c) for c in claim.components))
    return lines


def _stored_steps(info: _Info, index: int, derivation: Any) -> dict[str, Any] | None:
    """The stored check of this derivation, when it matches the current one."""
    if info.proofs is None:
        return None
    results = info.proofs.get("results", [])
    if len(results) != len(info.derivations) or index >= len(results):
        return None
    result = results[index]
    if result.get("title") != derivation.title or len(result.get("steps", [])) != len(
            derivation.steps):
        return None
    return result


def _summary(stored: dict[str, Any]) -> str:
    """What a stored derivation check rests on, from its validated counts and flags."""
    counts = {key: stored.get("counts", {}).get(key, 0) for key in _COUNT_KEYS}
    from theorylab.derivation import summary_text

    failed = stored.get("ok") is False or counts["failed"] or stored.get("status") == "failed"
    return summary_text(counts, ok=not failed, circular=bool(stored.get("circular")),
                        derives=stored.get("derives") is True)


def _derivation(info: _Info) -> list[str]:
    lines = ["## Derivation", ""]
    if not info.derivations:
        lines += ["No machine-checked derivation is registered for this claim.", ""]
        return lines
    if info.proofs is None:
        lines += ["*Not yet checked:* run " + _code(f"theorylab prove {info.claim.id}")
                  + " (or `theorylab verify`) to check each step; statuses appear here.", ""]
    for index, derivation in enumerate(info.derivations):
        stored = _stored_steps(info, index, derivation)
        lines += [f"### {_text(derivation.title)}", ""]
        if stored:
            summary = _summary(stored)
            slug = "derived" if summary.startswith("derived") else (
                "failed" if summary.startswith("FAILED") else "not-derived")
            lines += [f'<p class="tl-summary">{_badge(slug, summary)}</p>', ""]
        else:
            lines += [f"Status: {_badge('not checked')}", ""]
        for number, step in enumerate(derivation.steps):
            checked = stored["steps"][number] if stored else None
            state = checked.get("status", "not checked") if checked else "not checked"
            cited = checked.get("cited", "") if checked else step.options.get("cite", "")
            badge = (_badge("cited", "cited, not checked") if cited and state == "assumed"
                     else _badge(state))
            verb = STEP_VERBS.get(step.relation, step.relation)
            lines.append(f"{number + 1}. **{_entities(verb)}.** {_text(step.reason)} {badge}")
            lines.append("")
            lines.append(_math_block(tex(step.expression), indent="   "))
            if cited:
                lines.append(f'   <span class="tl-detail">cited: {_entities(cited)}</span>')
                lines.append("")
            if checked and checked.get("detail"):
                lines.append(f'   <span class="tl-detail">{_entities(checked["detail"])}</span>')
                lines.append("")
        if stored:
            conclusion = stored.get("conclusion", "")
            detail = stored.get("conclusion_detail", "")
            lines.append(f"**Conclusion:** the last line is the claim's statement "
                         f'{_badge(conclusion)} <span class="tl-detail">'
                         f"{_entities(detail)}</span>")
            lines.append("")
    return lines


def _verification(info: _Info, figure_folder: Path, warnings: list[str]) -> list[str]:
    claim, verdict = info.claim, info.verdict
    lines = ["## Verification", ""]
    if claim.systematic_error is not None:
        lines += [f"**Systematic error** (resolution: {_text(claim.systematic_error.variable)}, "
                  f"order {_entities(claim.systematic_error.order)}): "
                  f"{_text(claim.systematic_error.description)}", ""]
    if verdict is None:
        lines += ['<p class="tl-unverified"><strong>Not yet verified.</strong> No check of '
                  "the current statement is stored.</p>", "",
                  "Run " + _code(f"theorylab verify --family {claim.family}") + " (or "
                  + _code(f"theorylab check {claim.id}") + ") and rebuild with "
                  "`theorylab docs`.", ""]
        lines += _decoy_table(claim, None)
        return lines
    status = verdict.get("status", "?")
    lines += [f"Latest check: {_badge(status)} at {_when(info.verdict_time)}"
              + (f" — {_entities(verdict['reason'])}" if verdict.get("reason") else ""), ""]
    name = _slug(claim.name)
    try:
        if figures.check_figure(claim, verdict, figure_folder / f"{name}-check.png"):
            lines += [f"```{{figure}} figures/{name}-check.png", ":alt: theory versus simulation",
                      ":width: 100%", "",
                      "Left: the statement as a function of the parameter that varies most, "
                      "through each checked point (others fixed), with the simulation's "
                      "estimate and its tolerance (t·SE + bias bound) as error bars. Right: "
                      "(estimate − prediction)/tolerance for the claim and for each decoy; "
                      "a point passes inside the shaded band [−1, 1].", "```", ""]
    except Exception as error:  # noqa: BLE001  (a figure never breaks the site)
        warnings.append(f"{claim.id!r}: check figure failed: {type(error).__name__}: {error}")
    try:
        fit = figures.convergence_figure(claim, verdict, figure_folder / f"{name}-convergence.png")
    except Exception as error:  # noqa: BLE001
        warnings.append(f"{claim.id!r}: convergence figure failed: {type(error).__name__}: {error}")
        fit = None
    if fit is not None:
        slope = ("not measurable (the bias is below the statistical noise at every point)"
                 if math.isnan(fit.slope) else f"{fit.slope:.2f}")
        lines += [f"```{{figure}} figures/{name}-convergence.png", ":alt: convergence plot",
                  ":width: 75%", "",
                  f"Discrepancy of the un-extrapolated estimate against the "
                  f"{_text(claim.systematic_error.variable)} (log–log). Fitted slope {slope} "
                  f"(median over {fit.fitted} of {fit.total} points whose bias stands above "
                  f"3 SE; dotted: below); predicted order {_entities(fit.predicted)}.", "```", ""]
    lines += _verdict_table(verdict, info.verdict_time)
    lines += _decoy_table(claim, verdict)
    return lines


def _verdict_table(verdict: dict[str, Any], when: float | None) -> list[str]:
    points = verdict.get("points", [])
    ensemble = verdict.get("ensemble") or 0
    ratios = [p.get("ratio") for p in points if p.get("ratio") is not None]
    finite = [r for r in ratios if isinstance(r, (int, float)) and math.isfinite(r)]
    tolerances = []
    for point in points:
        try:
            tolerances.append(float(figures._flat(point.get("tolerance")).max()
                                    / max(abs(figures._flat(point.get("prediction"))).max(),
                                          1e-300)))
        except (TypeError, ValueError):
            continue
    tolerances = [t for t in tolerances if math.isfinite(t)]
    rows = [
        # Validated by valid_verdict: a status word, an integer, a [a-z0-9:]+ string.
        ("status", _entities(verdict.get("status", "?"))),
        ("seed", _entities(verdict.get("seed", "–"))),
        ("device", _entities(verdict.get("device") or "–")),
        ("parameter points", len(points)),
        ("ensemble per point", ensemble),
        ("simulated runs (samples)", len(points) * ensemble),
        ("family-wise α", _number(verdict.get("alpha"))),
        ("critical t", _number(verdict.get("critical_value"))),
        ("worst \\|diff\\|/tolerance", _number(max(finite)) if finite else "–"),
        ("smallest relative tolerance", _number(min(tolerances), 2) if tolerances else "–"),
        ("wall time", f"{_number(verdict.get('wall_time'), 3)} s"),
        ("recorded", _when(when)),
    ]
    lines = ["### Last verdict", "", "| | |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return lines + [""]


def _decoy_table(claim: Claim, verdict: dict[str, Any] | None) -> list[str]:
    if not claim.decoys:
        return ["### Decoys", "", "This claim declares no decoys.", ""]
    stored = {}
    if verdict is not None:
        for decoy in verdict.get("decoys", []):
            stored[decoy.get("subject", "").split("~")[-1]] = decoy
    lines = ["### Decoys", "",
             "Plausible wrong variants checked against the same simulations; each must be "
             "rejected (FAIL).", "",
             "| decoy | what it gets wrong | max z-score | max \\|diff\\|/tolerance | rejected? |",
             "| --- | --- | --- | --- | --- |"]
    for decoy in claim.decoys:
        found = stored.get(decoy.name)
        if found is None:
            z, ratio, rejected = "–", "–", "not yet checked"
        else:
            points = found.get("points", [])
            zs = [p.get("z_score") for p in points if isinstance(p.get("z_score"), (int, float))]
            rs = [p.get("ratio") for p in points if isinstance(p.get("ratio"), (int, float))]
            z = _number(max(zs), 3) if zs else "–"
            ratio = _number(max(rs), 3) if rs else "–"
            rejected = (_badge("rejected") if found.get("status") == "FAIL"
                        else _badge("failed", "NOT rejected"))
        lines.append(f"| {_code(decoy.name)} | {_cell(_text(decoy.description))} | {z} | {ratio} | "
                     f"{rejected} |")
    return lines + [""]


def _claim_page(info: _Info, pages: dict[str, Claim], used_by: dict[str, list[str]],
                figure_folder: Path, warnings: list[str]) -> str:
    claim = info.claim
    lines = [f"# {_text(claim.title)}", "",
             f'<p class="tl-meta">{_badge(info.status)} {_code(claim.id)} · '
             f"{_entities(claim.kind)}</p>", "",
             _citation(claim), ""]
    if claim.uses:
        lines += ["**Uses:** " + "; ".join(_link(u, claim, pages) for u in claim.uses), ""]
    if used_by.get(claim.id):
        lines += ["**Used by:** " + "; ".join(_link(u, claim, pages)
                                              for u in used_by[claim.id]), ""]
    lines += ["## Statement", "", _math_block(equation_tex(claim))]
    for quantity in claim.statements:  # each quantity with its own left-hand side
        lines += [f"With {_code('quantity=' + quantity)}:", "",
                  _math_block(tex(claim.quantity_equation(quantity)))]
    if claim.notes:
        lines += [_text(claim.notes), ""]
    lines += ["Export: " + _code(f"theorylab export {claim.id} --latex") + " (and `--bib`).", ""]
    if claim.conventions:
        lines += ["## Conventions", ""] + [f"- {_text(c)}" for c in claim.conventions] + [""]
    lines += ["## Parameters", ""] + _parameters(claim) + [""]
    lines += _derivation(info)
    lines += _verification(info, figure_folder, warnings)
    return "\n".join(lines) + "\n"


# -- index --------------------------------------------------------------------------

def _family_summary(family: str) -> str:
    if not family.isidentifier():
        return ""
    try:
        module = importlib.import_module(f"theorylab.theory.{family}")
    except Exception:  # noqa: BLE001  (a user family has no catalogue module)
        return ""
    doc = (module.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    return _text(doc) if doc else ""


def _index(infos: list[_Info], evidence_path: Path, source: Path,
           warnings: list[str], with_examples: bool = False,
           calibration: str | None = None) -> str:
    counts = {status: sum(i.status == status for i in infos) for status in STATUS_STYLE}
    families: dict[str, list[_Info]] = {}
    for info in infos:
        families.setdefault(info.claim.family, []).append(info)
    nodes = [GraphNode(i.claim.id, i.claim.name, i.claim.kind, i.status,
                       f"{_page_path(i.claim)}.html", i.claim.title, i.refuted) for i in infos]
    svg = dependency_svg(nodes, {i.claim.id: list(i.claim.uses) for i in infos})
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    lines = [
        "# theorylab: the verified theory", "",
        f"{len(infos)} claims in {len(families)} "
        f"famil{'y' if len(families) == 1 else 'ies'}: {summary}. Generated "
        f"{_when(time.time())} from {_code(str(evidence_path))}.", "",
        "Each claim is stated symbolically, derived step by step (each step checked exactly by "
        "sympy, or by high-precision numerics as weaker evidence), and verified against a "
        "first-principles simulation with decoys that must be rejected. Statuses: **stated** → "
        "**derived** (every derivation checks) → **verified** (the latest check passed and "
        "rejected every decoy) → **fully verified** (it and everything it uses are "
        "verified).", "",
        *([f'<p class="tl-calibration"><a href="{_entities(calibration)}">Calibration report</a>: '
            "how often each check's verdict held over many seeds.</p>", ""]
          if calibration else []),
        "## Dependency graph", "",
        "```{raw} html",
        f'<div class="tl-graph-box" id="dependency-graph">{svg.replace("`", "&#96;")}</div>',
        "```", "",
    ]
    for family, members in families.items():
        lines += [f"## {_text(family)}", ""]
        summary_text = _family_summary(family)
        if summary_text:
            lines += [summary_text, ""]
        example = FAMILY_EXAMPLES.get(family) if with_examples else None
        if example is not None:
            try:
                snippet = example(source / _slug(family) / "figures")
            except Exception as error:  # noqa: BLE001  (an example never breaks the site)
                warnings.append(f"{family}: example figure failed: {error}")
                snippet = None
            if snippet:
                lines += [snippet, ""]
        lines += ["| claim | kind | status | latest check |", "| --- | --- | --- | --- |"]
        for info in members:
            if info.verdict is None:
                check = "not yet verified"
            else:
                check = f"{_entities(info.verdict.get('status', '?'))}, {_when(info.verdict_time)}"
            lines.append(f"| [{_cell(_text(info.claim.title))}]({_page_path(info.claim)}.md)"
                         f"<br>{_code(info.claim.id)} | {_entities(info.claim.kind)} | "
                         f"{_badge(info.status)} | {check} |")
        lines += ["", "```{toctree}", ":hidden:", f":caption: {_slug(family)}", ""]
        lines += [_page_path(i.claim) for i in members]
        lines += ["```", ""]
    return "\n".join(lines) + "\n"


# -- calibration and the swap -------------------------------------------------------

def _calibration_page(evidence_path: Path, source: Path, warnings: list[str]) -> str | None:
    """Write the calibration report beside the pages; its link, or None when there is none."""
    report_path = Path(evidence_path).parent / "calibration.json"
    if not report_path.is_file():
        return None
    try:
        from theorylab.calibration import write_report_page
    except ImportError:
        warnings.append("calibration.json found but theorylab.calibration is not installed; "
                        "no calibration page")
        return None
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
        if not isinstance(report, dict):
            raise ValueError("the report is not a JSON object")
        page = Path(write_report_page(report, source / "calibration"))
        return "calibration/" + page.relative_to(source / "calibration").as_posix()
    except Exception as error:  # noqa: BLE001  (a calibration page never breaks the site)
        warnings.append(f"calibration page failed: {type(error).__name__}: "
                        f"{str(error)[:200]}")
        return None


def _remove_leftovers(out: Path) -> None:
    """Remove what an interrupted swap left beside ``out`` (old sites, stale builds)."""
    for leftover in out.parent.glob(f".{glob.escape(out.name)}.theorylab-*"):
        stale = time.time() - leftover.stat().st_mtime > 3600
        if leftover.is_dir() and ("-old-" in leftover.name or stale):
            shutil.rmtree(leftover, ignore_errors=True)


def _swap(new: Path, out: Path) -> None:
    """Put the folder ``new`` at ``out`` by renames, then delete the earlier site."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.theorylab-old-", dir=out.parent))
        out.rename(old / "site")
    new.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# -- Sphinx -------------------------------------------------------------------------

_CONF = '''\
# Generated by theorylab.docs; rebuilt on every `theorylab docs`.
project = "theorylab"
extensions = ["myst_parser", "theorylab.docs.mathml"]
html_math_renderer = "mathml"
source_suffix = {".md": "markdown"}
root_doc = "index"
html_theme = "alabaster"
html_theme_options = {"page_width": "1240px", "sidebar_width": "230px",
                      "show_powered_by": False,
                      "description": "verified deep-learning theory"}
html_show_copyright = False
html_sidebars = {"**": ["about.html", "navigation.html", "searchbox.html"]}
html_static_path = ["_static"]
html_css_files = ["theorylab.css"]
html_show_sourcelink = False
html_copy_source = False
html_show_sphinx = False
html_title = "theorylab"
myst_heading_anchors = 3
smartquotes = False  # text is shown as written ("--" stays "--")
suppress_warnings = ["myst.header"]
'''

_CSS = """\
math { font-family: "Latin Modern Math", "STIX Two Math", "DejaVu Math TeX Gyre", math; }
div.math-display { overflow-x: auto; margin: 0.6em 0 1em 0; font-size: 1.12em; }
.tl-badge { display: inline-block; padding: 0 0.5em; border-radius: 0.8em; font-size: 0.8em;
  font-weight: 600; border: 1.5px solid #57606a; background: #fff; color: #1f2328;
  white-space: nowrap; vertical-align: middle; }
.tl-stated { border-color: #1f6feb; color: #1f6feb; }
.tl-derived, .tl-exact { border-color: #1a7f37; color: #1a7f37; }
.tl-verified, .tl-pass, .tl-rejected { border-color: #1a7f37; background: #aceebb; }
.tl-fully-verified { border-color: #1a7f37; background: #1a7f37; color: #fff; }
.tl-numeric-evidence { border-color: #9a6700; color: #9a6700; background: #fff8c5; }
.tl-failed, .tl-fail { border-color: #cf222e; background: REFUTED; color: #82071e; }
.tl-inconclusive { border-color: #9a6700; background: #fff8c5; }
.tl-assumed, .tl-not-checked { border-color: #8c959f; color: #57606a; }
.tl-detail { color: #57606a; font-size: 0.85em; }
.tl-meta { margin-top: -0.6em; }
.tl-unverified { padding: 0.6em 0.9em; background: #fff8c5; border-left: 4px solid #9a6700; }
.tl-graph-box { overflow-x: auto; border: 1px solid #d0d7de; border-radius: 6px;
  padding: 6px; background: #fff; }
div.body { max-width: none; }
table.docutils td, table.docutils th { padding: 0.25em 0.6em; vertical-align: top; }
""".replace("REFUTED", REFUTED_FILL)


def _sphinx_build(source: Path, target: Path, doctrees: Path) -> list[str]:
    from sphinx.application import Sphinx
    from sphinx.util.console import nocolor
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    nocolor()  # warnings are relayed as plain text

    warnings = io.StringIO()
    with patch_docutils(source), docutils_namespace(), python_warnings.catch_warnings():
        # Extensions' deprecation notices about Sphinx's own API are not the reader's concern.
        python_warnings.simplefilter("ignore", DeprecationWarning)
        python_warnings.simplefilter("ignore", PendingDeprecationWarning)
        app = Sphinx(str(source), str(source), str(target), str(doctrees), "html",
                     status=None, warning=warnings, freshenv=True, verbosity=0)
        app.build(force_all=True)
    return [line for line in warnings.getvalue().splitlines() if line.strip()]


def build_site(out: str | Path | None = None, *, family: str | None = None,
               claims: Sequence[Claim] | None = None, evidence: Any = None,
               progress: Callable[[str], None] | None = None,
               examples: bool = False) -> SiteResult:
    """Build the static site for the selected claims.

    Args:
        out: output folder (default: ``site/`` beside the evidence file). It must
            be absent, empty, or an earlier site (see :func:`prepare_out`); an
            earlier site is replaced only once the new one has built.
        family: only this family's claims (default: every family).
        claims: exactly these claims (overrides ``family``).
        evidence: an :class:`~theorylab.evidence.Evidence` (default: the default file).
        progress: called with a short message as work proceeds.
        examples: also draw the families' example figures
            (:data:`FAMILY_EXAMPLES`), which run small simulations.

    Returns:
        The output folder, the index and the claim pages written, Sphinx's
        warnings and the build time.

    Raises:
        ParameterError: for an unknown family or an unusable output folder.

    """
    from theorylab import registry
    from theorylab.evidence import Evidence

    started = time.perf_counter()
    say = progress or (lambda message: None)
    evidence = evidence if evidence is not None else Evidence()
    selected = list(claims) if claims is not None else registry.claims(family)
    out = prepare_out(out if out is not None else default_site_dir(evidence.path))
    warnings: list[str] = []
    infos = _gather(selected, evidence, warnings)
    pages = {i.claim.id: i.claim for i in infos}
    used_by: dict[str, list[str]] = {}
    for info in infos:
        for used in info.claim.uses:
            used_by.setdefault(used, []).append(info.claim.id)
    with tempfile.TemporaryDirectory(prefix="theorylab-docs-") as scratch:
        source = Path(scratch) / "source"
        (source / "_static").mkdir(parents=True)
        (source / "conf.py").write_text(_CONF, encoding="utf-8")
        (source / "_static" / "theorylab.css").write_text(_CSS, encoding="utf-8")
        for info in infos:
            say(f"docs: {info.claim.id}")
            folder = source / _slug(info.claim.family)
            (folder / "figures").mkdir(parents=True, exist_ok=True)
            page = _claim_page(info, pages, used_by, folder / "figures", warnings)
            (source / f"{_page_path(info.claim)}.md").write_text(page, encoding="utf-8")
        calibration = _calibration_page(evidence.path, source, warnings)
        (source / "index.md").write_text(
            _index(infos, evidence.path, source, warnings, examples, calibration),
            encoding="utf-8")
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(out)
        # Sphinx writes beside the target, then one rename swaps the site in: an
        # interrupted build leaves the earlier site whole and nothing in the way.
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.theorylab-new-", dir=out.parent))
        try:
            say("docs: building HTML with Sphinx")
            warnings += _sphinx_build(source, staging, Path(scratch) / "doctrees")
            if calibration:
                shutil.copytree(source / "calibration", staging / "calibration",
                                dirs_exist_ok=True)
            (staging / MARKER).write_text("generated by theorylab docs; safe to delete\n")
            sources = staging / "_sources"
            if sources.is_dir() and not any(sources.iterdir()):
                sources.rmdir()  # html_copy_source is off: Sphinx leaves it empty
            staging.chmod(0o755)  # mkdtemp makes it private; a site is for reading
            _swap(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    written = [out / f"{_page_path(i.claim)}.html" for i in infos]
    return SiteResult(out, out / "index.html", written, warnings,
                      time.perf_counter() - started)
