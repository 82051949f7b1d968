"""The generated docs: a site that renders offline in a real browser, and the LaTeX export."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from theorylab import registry
from theorylab.cli import main

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "build" / "docs-screenshots"  # build/ is gitignored
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
# TeX source that would mean a formula was not rendered.
RAW_TEX = re.compile(r"\$[^$\n]{1,200}\$|\\[A-Za-z]{2,}|\\[\[\]()]")


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse's own usage errors
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


# -- LaTeX and BibTeX export ---------------------------------------------------------

def test_export_latex_has_amsthm_statement_and_steps(capsys):
    code, out, err = run(capsys, "export", "deep_linear.saxe_mode_strength", "--latex")
    assert code == 0, err
    assert r"\begin{theorem}" in out and r"\end{theorem}" in out
    assert r"\begin{proof}" in out and r"\end{proof}" in out
    assert r"\cite[eq. 12]{saxe2014exact}" in out
    # The statement and every derivation step, each with its checked status.
    assert r"\frac{s e^{\frac{2 s t}{\tau}}}" in out
    steps = sum(len(d.steps) for d in registry.derivations("deep_linear.saxe_mode_strength"))
    assert out.count(r"\item Assume") + out.count("[exact]") + out.count(
        "[numeric evidence]") >= steps
    assert "[failed]" not in out


def test_export_latex_compiles_with_pdflatex(capsys, tmp_path):
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("pdflatex not installed (apt-get install texlive-latex-base to run this)")
    code, out, _ = run(capsys, "export", "deep_linear.saxe_mode_strength", "--latex")
    assert code == 0
    document = tmp_path / "appendix.tex"
    document.write_text("\\documentclass{amsart}\n\\begin{document}\n" + out
                        + "\\end{document}\n")
    result = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error",
                             document.name], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "appendix.pdf").stat().st_size > 1000


def test_export_bib_lists_the_cited_papers(capsys):
    code, out, _ = run(capsys, "export", "deep_linear.unequal_layer_time", "--bib")
    assert code == 0
    # Its own citation and those of what it uses (all Saxe et al. 2014): one entry.
    assert out.count("@article{") == 1 and "saxe2014exact" in out and "1312.6120" in out
    code, out, _ = run(capsys, "export", "deep_linear.singular_value_dynamics", "--bib")
    assert code == 0 and {"arora2019implicit", "arora2018optimization"} <= set(
        re.findall(r"@article\{(\w+),", out))


@pytest.mark.parametrize("argv, parameter", [
    (["export", "deep_linear.saxe_mode_strenght", "--latex"], "deep_linear.saxe_mode_strength"),
    (["export", "deep_linear.saxe_mode_strength"], "--latex"),
    (["export", "deep_linear.saxe_mode_strength", "--latex", "--bib"], "--bib"),
    (["docs", "--family", "no_such_family"], "'family'"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, parameter):
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and parameter in err and "Traceback" not in err


def test_docs_refuses_to_overwrite_a_folder_it_did_not_write(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = run(capsys, "docs", "--out", str(tmp_path))
    assert code == 2 and "'out'" in err and err.count("\n") == 1
    assert (tmp_path / "notes.txt").read_text() == "mine"


# -- the site without and with evidence ------------------------------------------------

def test_docs_without_evidence_says_not_yet_verified(capsys, tmp_path):
    out = tmp_path / "site"
    code, stdout, err = run(capsys, "docs", "--family", "deep_linear", "--out", str(out))
    assert code == 0, err
    assert "open" in stdout and (out / "index.html").exists()
    page = (out / "deep_linear" / "saxe_mode_strength.html").read_text()
    assert "Not yet verified" in page and "Not yet checked" in page
    assert "<math" in page and "tex-fallback" not in page
    # Rebuilding into the same folder replaces the earlier site.
    code, _, _ = run(capsys, "docs", "--family", "deep_linear", "--out", str(out))
    assert code == 0


def test_verdict_keeps_per_level_estimates_and_reads_old_records():
    from theorylab.verifier import Verdict, check

    claim = registry.get("deep_linear.saxe_learning_time")
    verdict = check(claim, budget=2, seed=1, decoys=True)
    point = verdict.points[0]
    assert len(point.resolutions) == len(point.level_estimates) >= 2
    assert all(p.level_estimates is None for d in verdict.decoys for p in d.points)
    again = Verdict.from_dict(verdict.to_dict())
    assert again.points[0].level_estimates == point.level_estimates
    # Evidence written before the per-level fields existed still loads.
    old = verdict.to_dict()
    for stored in old["points"]:
        for key in ("resolutions", "level_estimates", "level_standard_errors"):
            stored.pop(key)
    assert Verdict.from_dict(old).points[0].level_estimates is None


def test_convergence_fit_recovers_the_order_and_flags_a_wrong_one():
    from theorylab.docs.figures import convergence

    claim = registry.get("deep_linear.saxe_learning_time")  # declares order 1
    steps = [0.04, 0.02, 0.01, 0.005]

    def verdict(order):
        return {"points": [{"prediction": 2.0, "resolutions": steps,
                            "level_estimates": [2.0 + 3.0 * h**order for h in steps],
                            "level_standard_errors": [1e-9] * 4} for _ in range(3)]}

    first = convergence(claim, verdict(1))
    assert first.predicted == 1 and first.slope == pytest.approx(1.0, abs=1e-6)
    second = convergence(claim, verdict(2))
    assert second.slope == pytest.approx(2.0, abs=1e-6)  # shown next to "predicted 1"


# -- in a real browser -------------------------------------------------------------------

_HARNESS = """<!DOCTYPE html><html><body><script>
const pages = %s;
const results = {};
function inspect(doc, url) {
  const main = doc.querySelector("div.body") || doc.body;
  return {
    text: main.innerText,
    images: [...doc.images].map(i => ({src: i.getAttribute("src"),
                                       ok: i.complete && i.naturalWidth > 0})),
    links: [...doc.querySelectorAll("a[href]")].map(a => new URL(a.getAttribute("href"),
                                                                 url).href),
    ids: [...doc.querySelectorAll("[id]")].map(e => e.id),
    maths: doc.querySelectorAll("math").length,
    fallbacks: doc.querySelectorAll(".tex-fallback").length,
    graph: doc.querySelectorAll("svg.tl-graph").length,
    graphLinks: doc.querySelectorAll("svg.tl-graph a").length,
  };
}
async function run() {
  for (const page of pages) {
    await new Promise(resolve => {
      const frame = document.createElement("iframe");
      frame.onload = () => {
        try { results[page] = inspect(frame.contentDocument, frame.contentWindow.location.href); }
        catch (error) { results[page] = {error: String(error)}; }
        frame.remove(); resolve();
      };
      frame.src = page;
      document.body.appendChild(frame);
    });
  }
  const out = document.createElement("pre");
  out.id = "results";
  out.textContent = JSON.stringify(results);
  document.body.appendChild(out);
}
run();
</script></body></html>
"""


def _browser(chromium: str, profile: Path, *arguments: str, timeout: int = 120) -> str:
    result = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                             *arguments], capture_output=True, text=True, timeout=timeout,
                            check=False)
    return result.stdout


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("Chromium not found: install Debian's 'chromium' package "
                    "(apt-get install chromium) to run the browser test")
    folder = tmp_path_factory.mktemp("docs")
    evidence = folder / "evidence.jsonl"
    patch = pytest.MonkeyPatch()
    patch.setenv("THEORYLAB_EVIDENCE", str(evidence))
    try:
        # Evidence for one family (small budget; test_cli's verify runs cover the
        # default report), then `theorylab docs` builds every family present from it.
        assert main(["verify", "--family", "deep_linear", "--budget", "3",
                     "--no-report"]) == 0
        assert main(["docs", "--out", str(folder / "site")]) == 0
    finally:
        patch.undo()
    return chromium, folder


def test_site_renders_in_a_browser(built_site, capsys):
    capsys.readouterr()
    chromium, folder = built_site
    site = folder / "site"
    pages = sorted(str(p.relative_to(site)) for p in site.rglob("*.html"))
    (site / "_check.html").write_text(_HARNESS % json.dumps(pages))
    dom = _browser(chromium, folder / "profile", "--allow-file-access-from-files",
                   "--virtual-time-budget=60000", "--dump-dom",
                   (site / "_check.html").as_uri())
    found = re.search(r'<pre id="results">(.*?)</pre>', dom, re.S)
    assert found, "the browser produced no results:\n" + dom[-2000:]
    results = json.loads(html.unescape(found.group(1)))
    assert set(results) == set(pages)
    claims = registry.claims()
    for page, seen in results.items():
        assert "error" not in seen, (page, seen)
        # Math rendered: MathML, no converter fallback, no TeX source in the text.
        assert seen["fallbacks"] == 0, page
        raw = RAW_TEX.findall(seen["text"])
        assert not raw, (page, raw[:5])
        # Figures load.
        broken = [image["src"] for image in seen["images"] if not image["ok"]]
        assert not broken, (page, broken)
        # Every internal link resolves, anchors included.
        for link in seen["links"]:
            if not link.startswith("file://"):
                continue
            target, _, anchor = link[len("file://"):].partition("#")
            assert Path(target).exists(), (page, link)
            relative = str(Path(target).relative_to(site)) if target.startswith(str(site)) else ""
            if anchor and relative in results:
                assert anchor in results[relative]["ids"], (page, link)
    index = results["index.html"]
    assert index["graph"] == 1 and index["graphLinks"] == len(claims)
    for claim in claims:
        page = results[f"{claim.family}/{claim.name}.html"]
        assert page["maths"] >= 1, claim.id
    verified = results["deep_linear/saxe_mode_strength.html"]
    assert any(image["src"].endswith("saxe_mode_strength-check.png")
               for image in verified["images"])
    assert any(image["src"].endswith("saxe_mode_strength-convergence.png")
               for image in verified["images"])
    assert "Decoys" in verified["text"] and "rejected" in verified["text"]
    assert "seed" in verified["text"] and "device" in verified["text"]


def test_screenshots_of_the_index_and_a_claim_page(built_site):
    chromium, folder = built_site
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, page, height in (("index", "index.html", 1600),
                               ("saxe_mode_strength", "deep_linear/saxe_mode_strength.html",
                                4200)):
        target = SCREENSHOTS / f"{name}.png"
        target.unlink(missing_ok=True)
        _browser(chromium, folder / "profile-shots", f"--window-size=1400,{height}",
                 f"--screenshot={target}", (folder / "site" / page).as_uri())
        assert target.exists() and target.stat().st_size > 20_000, target


def test_every_quantity_statement_converts_to_mathml():
    """The claim pages show each quantity's statement; none may fall back to TeX source."""
    from theorylab.docs.mathml import to_mathml
    from theorylab.docs.tex import tex

    shown = [(claim.id, quantity, tex(claim.quantity_equation(quantity)))
             for claim in registry.claims() for quantity in claim.statements]
    assert len(shown) >= 20
    assert [(c, q) for c, q, latex in shown if to_mathml(latex, block=True) is None] == []
