"""Build the static site: MyST pages from the registry and the evidence, then Sphinx."""

from __future__ import annotations

import html
import importlib
import io
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
from theorylab.docs.tex import STEP_VERBS, equation_tex, split_math, tex
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
    """Check that ``out`` can take a site: absent, empty, or an earlier site.

    Raises:
        ParameterError: naming the folder, before any work is done.

    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ParameterError("out", "a folder, not a file", str(out))
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ParameterError("out", "an empty folder or an earlier theorylab site "
                             "(it holds other files)", str(out))
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

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~!{}])")


def _text(text: str) -> str:
    """Prose as MyST: markdown specials escaped, ``$...$`` as inline math."""
    out = []
    for is_math, piece in split_math(text):
        if is_math:
            out.append(_math_role(piece))
        else:
            out.append(_MARKDOWN_SPECIAL.sub(r"\\\1", piece).replace("\n", " "))
    return "".join(out)


def _code(text: str) -> str:
    """An inline code span (its content is literal: nothing to escape)."""
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def _math_role(latex: str) -> str:
    latex = latex.replace("\n", " ").strip()
    fence = "``" if "`" in latex else "`"
    return f"{{math}}{fence}{latex}{fence}"


def _math_block(latex: str, indent: str = "") -> str:
    return f"{indent}```{{math}}\n{indent}{latex}\n{indent}```\n"


def _badge(status: str, label: str | None = None) -> str:
    slug = re.sub(r"[^a-z]+", "-", status.lower()).strip("-")
    return f'<span class="tl-badge tl-{slug}">{html.escape(label or status)}</span>'


def _cell(text: str) -> str:
    return text.replace("\n", " ").replace("|", "\\|")


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "unknown time"
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))


def _number(value: Any, digits: int = 4) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "–"
    if math.isnan(number):
        return "–"
    if math.isinf(number):
        return "∞"
    return f"{number:.{digits}g}"


def _page_path(claim: Claim) -> str:
    """The page's document name (without suffix) relative to the source root."""
    return f"{claim.family}/{claim.name}"


# -- evidence -----------------------------------------------------------------------

def _latest_records(evidence: Any) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The newest record per (kind, claim, fingerprint), read once."""
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for entry in evidence.entries():
        key = (entry.get("kind", ""), entry.get("claim", ""), entry.get("fingerprint", ""))
        latest[key] = entry
    return latest


def _gather(claims: Sequence[Claim], evidence: Any) -> list[_Info]:
    from theorylab import registry

    records = _latest_records(evidence)
    infos = []
    for claim in claims:
        fingerprint = claim.fingerprint()
        verdict = records.get(("verdict", claim.id, fingerprint))
        proofs = records.get(("derivation", claim.id, fingerprint))
        try:
            state = registry.status(claim, evidence)
        except Exception:  # noqa: BLE001  (a claim outside the registry: no status chain)
            state = "stated"
        try:
            derivations = registry.derivations(claim.id)
        except Exception:  # noqa: BLE001
            derivations = []
        infos.append(_Info(claim, state, verdict["data"] if verdict else None,
                           verdict.get("time") if verdict else None,
                           proofs["data"] if proofs else None, derivations))
    return infos


# -- claim page ---------------------------------------------------------------------

def _link(claim_id: str, here: Claim | None, pages: dict[str, Claim]) -> str:
    if claim_id not in pages:
        return f"`{claim_id}`"
    target = pages[claim_id]
    prefix = "../" if here is not None else ""
    return f"[{target.title}]({prefix}{_page_path(target)}.md) (`{claim_id}`)"


def _citation(claim: Claim) -> str:
    citation = claim.citation
    authors = ", ".join(citation.authors)
    venue = f", {_text(citation.venue)}" if citation.venue else ""
    arxiv = (f" [arXiv:{citation.arxiv}]({citation.url})" if citation.arxiv else "")
    return (f"**Source.** {_text(authors)} ({citation.year}), *{_text(citation.title)}*{venue}; "
            f"{_text(citation.where)}.{arxiv}")


def _parameters(claim: Claim) -> list[str]:
    lines = ["| parameter | symbol | domain | meaning |", "| --- | --- | --- | --- |"]
    for parameter in claim.parameters:
        lines.append(f"| `{parameter.name}` | {_math_role(tex(parameter.symbol))} | "
                     f"{_cell(_text(parameter.domain.describe()))} | "
                     f"{_cell(_text(parameter.description))} |")
    lines.append("")
    for constraint in claim.constraints:
        lines.append(f"- Constraint: {_text(constraint.description)}")
    if claim.components:
        lines.append("- Components of the quantity: " + ", ".join(
            f"`{c}`" for c in claim.components))
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


def _derivation(info: _Info) -> list[str]:
    lines = ["## Derivation", ""]
    if not info.derivations:
        lines += ["No machine-checked derivation is registered for this claim.", ""]
        return lines
    if info.proofs is None:
        lines += ["*Not yet checked:* run `theorylab prove " + info.claim.id + "` (or "
                  "`theorylab verify`) to check each step; statuses appear here.", ""]
    for index, derivation in enumerate(info.derivations):
        stored = _stored_steps(info, index, derivation)
        overall = stored.get("status", "not checked") if stored else "not checked"
        lines += [f"### {_text(derivation.title)}", "", f"Status: {_badge(overall)}", ""]
        for number, step in enumerate(derivation.steps):
            checked = stored["steps"][number] if stored else None
            state = checked.get("status", "not checked") if checked else "not checked"
            verb = STEP_VERBS.get(step.relation, step.relation)
            lines.append(f"{number + 1}. **{verb}.** {_text(step.reason)} {_badge(state)}")
            lines.append("")
            lines.append(_math_block(tex(step.expression), indent="   "))
            if checked and checked.get("detail"):
                lines.append(f"   <span class=\"tl-detail\">{html.escape(checked['detail'])}"
                             "</span>")
                lines.append("")
        if stored:
            conclusion = stored.get("conclusion", "")
            detail = stored.get("conclusion_detail", "")
            lines.append(f"**Conclusion:** the last line is the claim's statement "
                         f"{_badge(conclusion)} <span class=\"tl-detail\">"
                         f"{html.escape(detail)}</span>")
            lines.append("")
    return lines


def _verification(info: _Info, figure_folder: Path, warnings: list[str]) -> list[str]:
    claim, verdict = info.claim, info.verdict
    lines = ["## Verification", ""]
    if claim.systematic_error is not None:
        lines += [f"**Systematic error** (resolution: {_text(claim.systematic_error.variable)}, "
                  f"order {claim.systematic_error.order}): "
                  f"{_text(claim.systematic_error.description)}", ""]
    if verdict is None:
        lines += ['<p class="tl-unverified"><strong>Not yet verified.</strong> No check of '
                  "the current statement is stored.</p>", "",
                  f"Run `theorylab verify --family {claim.family}` (or `theorylab check "
                  f"{claim.id}`) and rebuild with `theorylab docs`.", ""]
        lines += _decoy_table(claim, None)
        return lines
    status = verdict.get("status", "?")
    lines += [f"Latest check: {_badge(status)} at {_when(info.verdict_time)}"
              + (f" — {_text(verdict['reason'])}" if verdict.get("reason") else ""), ""]
    name = claim.name
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
        warnings.append(f"{claim.id}: check figure failed: {type(error).__name__}: {error}")
    try:
        fit = figures.convergence_figure(claim, verdict, figure_folder / f"{name}-convergence.png")
    except Exception as error:  # noqa: BLE001
        warnings.append(f"{claim.id}: convergence figure failed: {type(error).__name__}: {error}")
        fit = None
    if fit is not None:
        slope = ("not measurable (the bias is below the statistical noise at every point)"
                 if math.isnan(fit.slope) else f"{fit.slope:.2f}")
        lines += [f"```{{figure}} figures/{name}-convergence.png", ":alt: convergence plot",
                  ":width: 75%", "",
                  f"Discrepancy of the un-extrapolated estimate against the "
                  f"{_text(claim.systematic_error.variable)} (log–log). Fitted slope {slope} "
                  f"(median over {fit.fitted} of {fit.total} points whose bias stands above "
                  f"3 SE; dotted: below); predicted order {fit.predicted}.", "```", ""]
    lines += _verdict_table(verdict, info.verdict_time)
    lines += _decoy_table(claim, verdict)
    return lines


def _verdict_table(verdict: dict[str, Any], when: float | None) -> list[str]:
    points = verdict.get("points", [])
    ensemble = verdict.get("ensemble", 0)
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
        ("status", verdict.get("status", "?")),
        ("seed", verdict.get("seed")),
        ("device", verdict.get("device")),
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
        lines.append(f"| `{decoy.name}` | {_cell(_text(decoy.description))} | {z} | {ratio} | "
                     f"{rejected} |")
    return lines + [""]


def _claim_page(info: _Info, pages: dict[str, Claim], used_by: dict[str, list[str]],
                figure_folder: Path, warnings: list[str]) -> str:
    claim = info.claim
    lines = [f"# {_text(claim.title)}", "",
             f'<p class="tl-meta">{_badge(info.status)} <code>{claim.id}</code> · '
             f"{html.escape(claim.kind)}</p>", "",
             _citation(claim), ""]
    if claim.uses:
        lines += ["**Uses:** " + "; ".join(_link(u, claim, pages) for u in claim.uses), ""]
    if used_by.get(claim.id):
        lines += ["**Used by:** " + "; ".join(_link(u, claim, pages)
                                              for u in used_by[claim.id]), ""]
    lines += ["## Statement", "", _math_block(equation_tex(claim))]
    if claim.notes:
        lines += [_text(claim.notes), ""]
    lines += ["Export: `theorylab export " + claim.id + " --latex` (and `--bib`).", ""]
    if claim.conventions:
        lines += ["## Conventions", ""] + [f"- {_text(c)}" for c in claim.conventions] + [""]
    lines += ["## Parameters", ""] + _parameters(claim) + [""]
    lines += _derivation(info)
    lines += _verification(info, figure_folder, warnings)
    return "\n".join(lines) + "\n"


# -- index --------------------------------------------------------------------------

def _family_summary(family: str) -> str:
    try:
        module = importlib.import_module(f"theorylab.theory.{family}")
    except Exception:  # noqa: BLE001  (a user family has no catalogue module)
        return ""
    doc = (module.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    return _text(doc) if doc else ""


def _index(infos: list[_Info], evidence_path: Path, source: Path,
           warnings: list[str], with_examples: bool = False) -> str:
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
        "## Dependency graph", "",
        "```{raw} html",
        f'<div class="tl-graph-box" id="dependency-graph">{svg}</div>',
        "```", "",
    ]
    for family, members in families.items():
        lines += [f"## {family}", ""]
        summary_text = _family_summary(family)
        if summary_text:
            lines += [summary_text, ""]
        example = FAMILY_EXAMPLES.get(family) if with_examples else None
        if example is not None:
            try:
                snippet = example(source / family / "figures")
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
                check = f"{info.verdict.get('status', '?')}, {_when(info.verdict_time)}"
            lines.append(f"| [{_cell(_text(info.claim.title))}]({_page_path(info.claim)}.md)"
                         f"<br>`{info.claim.id}` | {info.claim.kind} | "
                         f"{_badge(info.status)} | {check} |")
        lines += ["", "```{toctree}", ":hidden:", f":caption: {family}", ""]
        lines += [_page_path(i.claim) for i in members]
        lines += ["```", ""]
    return "\n".join(lines) + "\n"


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
    infos = _gather(selected, evidence)
    pages = {i.claim.id: i.claim for i in infos}
    used_by: dict[str, list[str]] = {}
    for info in infos:
        for used in info.claim.uses:
            used_by.setdefault(used, []).append(info.claim.id)
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="theorylab-docs-") as scratch:
        source, staging = Path(scratch) / "source", Path(scratch) / "html"
        (source / "_static").mkdir(parents=True)
        (source / "conf.py").write_text(_CONF, encoding="utf-8")
        (source / "_static" / "theorylab.css").write_text(_CSS, encoding="utf-8")
        for info in infos:
            say(f"docs: {info.claim.id}")
            folder = source / info.claim.family
            (folder / "figures").mkdir(parents=True, exist_ok=True)
            page = _claim_page(info, pages, used_by, folder / "figures", warnings)
            (folder / f"{info.claim.name}.md").write_text(page, encoding="utf-8")
        (source / "index.md").write_text(
            _index(infos, evidence.path, source, warnings, examples), encoding="utf-8")
        say("docs: building HTML with Sphinx")
        warnings += _sphinx_build(source, staging, Path(scratch) / "doctrees")
        (staging / MARKER).write_text("generated by theorylab docs; safe to delete\n")
        sources = staging / "_sources"
        if sources.is_dir() and not any(sources.iterdir()):
            sources.rmdir()  # html_copy_source is off: Sphinx leaves it empty
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, out)
    written = [out / f"{_page_path(i.claim)}.html" for i in infos]
    return SiteResult(out, out / "index.html", written, warnings,
                      time.perf_counter() - started)
