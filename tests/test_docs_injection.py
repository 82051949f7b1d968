"""The docs site and the LaTeX/BibTeX export stay inert under hostile claim fields and evidence.

The site is built once per module from ``tests/data/hostile_claims.py`` (every text
field hostile) and an evidence file whose records carry hostile values: one that
matches the schema but holds markup in its free text, and one whose status, seed
and device are themselves hostile (it must not be rendered at all).
"""

from __future__ import annotations

import html
import json
import re
import secrets
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from theorylab import registry
from theorylab.cli import main

DATA = Path(__file__).resolve().parent / "data"
HOSTILE = str(DATA / "hostile_claims.py")


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The hostile claims loaded, their evidence written and the site built once."""
    folder = tmp_path_factory.mktemp("hostile")
    sentinel = folder / "sentinel.txt"
    secret = "SENTINEL-" + secrets.token_hex(16)
    sentinel.write_text(secret + "\n")
    patch = pytest.MonkeyPatch()
    patch.setenv("THEORYLAB_TEST_SENTINEL", str(sentinel))
    patch.setenv("THEORYLAB_EVIDENCE", str(folder / "evidence.jsonl"))
    try:
        from theorylab.verifier import check

        claims = registry.load(HOSTILE)
        base, claim = (next(c for c in claims if c.id.startswith("hostile.base")),
                       registry.get("hostile.claim"))
        lines = []

        def record(kind, subject, data):  # as Evidence.record writes it, hostile included
            lines.append(json.dumps({"kind": kind, "claim": subject.id, "time": time.time(),
                                     "fingerprint": subject.fingerprint(), "data": data}))
        data = check(claim, budget=2, seed=3, decoys=True).to_dict()
        # Schema-valid, with markup in every free-text field it may carry.
        data["reason"] = "<script>alert(4)</script> ```{eval-rst}\n.. include:: " + str(sentinel)
        for decoy in data.get("decoys", []):
            decoy["subject"] = decoy.get("subject", "") + "<script>alert(5)</script>"
        record("verdict", claim, data)
        from theorylab.derivation import check_derivation
        from theorylab.workflow import derivation_record

        proofs = derivation_record([check_derivation(d, claim.statement)
                                    for d in registry.derivations(claim.id)])
        for result in proofs["results"]:  # schema-valid, with markup in its free text
            result["conclusion_detail"] = "<script>alert(9)</script>"
            for step in result["steps"]:
                step["detail"] = "<script>alert(8)</script>"
        record("derivation", claim, proofs)
        # Hostile where the schema is strict: never rendered.
        bad = dict(data, status="<script>alert(10)</script>", seed="<img src=x>",
                   device="cpu<script>alert(11)</script>")
        record("verdict", base, bad)
        (folder / "evidence.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        site = folder / "site"
        code = main(["docs", "--module", HOSTILE, "--out", str(site)])
        assert code == 0
        yield {"site": site, "secret": secret, "claim": claim, "base": base}
    finally:
        patch.undo()
        registry._USER_CLAIMS.pop("hostile", None)  # other tests see only their own claims
        registry._USER_DERIVATIONS.pop("hostile", None)


def _built_files(site: Path) -> list[Path]:
    return [path for path in site.rglob("*") if path.is_file()
            and path.suffix in {".html", ".js", ".svg", ".txt", ".json", ".css"}]


def test_no_script_from_user_text_reaches_the_site(hostile):
    files = _built_files(hostile["site"])
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.name == "searchindex.js":
            # Titles are data there: one JSON object, which searchtools escapes on display.
            found = re.fullmatch(r"Search\.setIndex\((.*)\)\s*;?\s*", text, re.S)
            assert found and isinstance(json.loads(found.group(1)), dict)
            continue
        if path.suffix not in {".html", ".svg"}:
            assert "alert(" not in text, path  # Sphinx's static files hold no user text
            continue
        tags, scripts = _parse(text)
        # The only scripts are Sphinx's own; every hostile string holds "alert(".
        assert not [s for s in scripts if "alert(" in s], path
        for tag, attributes in tags:
            assert not [name for name, _ in attributes if name.lower().startswith("on")], (
                path, tag, attributes)
            assert not (tag == "img" and ("src", "x") in attributes), path
            assert not [value for name, value in attributes if name in {"href", "src"}
                        and (value or "").strip().lower().startswith("javascript:")], path


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def _parse(text: str) -> tuple[list[tuple[str, list]], list[str]]:
    """Every tag with its attributes, and the text of every inline script."""
    collector = _Collector()
    collector.feed(text)
    return collector.tags, collector.scripts


def test_no_directive_ran_and_no_file_was_included(hostile):
    for path in hostile["site"].rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert hostile["secret"].encode() not in content, path
    pages = list(hostile["site"].rglob("*.html"))
    text = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    # A .. raw:: html that ran would put a live <script> or an unescaped tag in a page.
    assert "<script>alert" not in text
    assert "system-message" not in text  # docutils reports directives it tried to run
    # The hostile text is there, shown as text.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "eval-rst" in text and ".. include::" in text


def test_hostile_evidence_is_not_rendered(hostile):
    site = hostile["site"]
    pages = {p.name: p.read_text(encoding="utf-8") for p in site.rglob("*.html")}
    everything = "\n".join(pages.values())
    assert "alert(10)" not in everything and "alert(11)" not in everything
    assert "&lt;img src=x&gt;" not in everything
    claim_page = html.unescape(pages["claim.html"])
    assert "Last verdict" in claim_page  # the schema-valid verdict is shown, escaped
    assert "<script>alert(4)" in claim_page
    assert "cited, not checked" in claim_page
    # Its derivation does not reach the statement: never shown as derived.
    assert "FAILED: 1 exact, 0 numeric, 1 cited" in claim_page
    assert "<script>alert(8)" in claim_page


def test_latex_and_bibtex_escape_every_field(hostile, capsys):
    capsys.readouterr()
    code, latex, err = _run(capsys, "export", "hostile.claim", "--module", HOSTILE, "--latex")
    assert code == 0, err
    code, bib, err = _run(capsys, "export", "hostile.claim", "--module", HOSTILE, "--bib")
    assert code == 0, err
    for text in (latex, bib):
        assert not re.search(r"\\(input|include|write18|openout|immediate|catcode|def|csname)\b",
                             text), re.findall(r".{40}\\(?:input|write18).{20}", text)[:3]
        assert hostile["secret"] not in text
        assert "<script" not in text
        assert "^^" not in text  # TeX would read ^^5c as a backslash
    # Special characters escaped; no comment can be opened by user text.
    assert r"\#" in latex and r"\%" in latex and r"\&" in latex and r"\_" in latex
    assert all(not line.lstrip().startswith("%") or line.startswith("% ")
               for line in latex.splitlines())
    assert "%" not in re.sub(r"\\%", "", "\n".join(
        line for line in latex.splitlines() if not line.startswith("% ")))
    # BibTeX counts every brace, escaped or not: they must balance within each entry.
    assert bib.count("{") == bib.count("}")
    assert r"\textbraceleft{}" in bib


def test_site_build_is_swapped_in_and_survives_an_interruption(hostile, capsys, monkeypatch):
    from theorylab.docs import site as site_module

    site = hostile["site"]
    before = {p.relative_to(site) for p in site.rglob("*")}

    def interrupted(*_arguments, **_options):
        raise KeyboardInterrupt

    monkeypatch.setattr(site_module, "_sphinx_build", interrupted)
    with pytest.raises(KeyboardInterrupt):
        site_module.build_site(site, claims=[hostile["claim"]])
    # The earlier site is whole and nothing was left beside it.
    assert {p.relative_to(site) for p in site.rglob("*")} == before
    assert not [p for p in site.parent.iterdir() if ".theorylab-" in p.name]


@pytest.mark.parametrize("kind", ["under_a_file", "read_only"])
def test_docs_out_that_cannot_be_written_fails_at_once(tmp_path, capsys, monkeypatch, kind):
    monkeypatch.setenv("THEORYLAB_EVIDENCE", str(tmp_path / "evidence.jsonl"))
    if kind == "under_a_file":
        (tmp_path / "afile").write_text("x")
        out = tmp_path / "afile" / "sub"
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        out = locked / "site"
    from theorylab.docs import site as site_module

    if kind == "read_only":
        probe = out.parent / "probe"
        try:  # root writes anywhere: stand in for the read-only file system
            probe.mkdir()
            probe.rmdir()

            def refuse(*_arguments, **_options):
                raise PermissionError(13, "Permission denied")

            monkeypatch.setattr(site_module.tempfile, "mkdtemp", refuse)
        except OSError:
            pass

    monkeypatch.setattr(site_module, "_sphinx_build",
                        lambda *a, **k: pytest.fail("built before checking the folder"))
    code, _, err = _run(capsys, "docs", "--family", "deep_linear", "--out", str(out))
    assert code == 2 and "'out'" in err and err.count("\n") == 1 and "Traceback" not in err


def test_calibration_page_is_linked_and_bad_evidence_lines_are_skipped(tmp_path):
    from theorylab.docs import build_site
    from theorylab.evidence import Evidence

    evidence = tmp_path / "evidence.jsonl"
    evidence.write_text('[1]\n42\nnull\n{"kind": ["x"], "claim": 1}\n', encoding="utf-8")
    (tmp_path / "calibration.json").write_text(json.dumps({}), encoding="utf-8")
    result = build_site(tmp_path / "site", claims=[registry.get("deep_linear.saxe_mode_strength")],
                        evidence=Evidence(evidence))
    index = result.index.read_text(encoding="utf-8")
    link = re.search(r'<a href="(calibration/[^"]+)">Calibration report</a>', html.unescape(index))
    assert link and (result.out / link.group(1)).is_file()
    assert "Not yet verified" in result.pages[0].read_text(encoding="utf-8")


@pytest.mark.parametrize("latex, safe", [
    (r"\sigma_w^2 \|x\|^2 / d", True),
    (r"\dot{W}_e", True),
    (r"w^*_{\parallel}", True),
    (r"\frac{s e^{2 s t / \tau}}{1 + u_0}", True),
    (r"\input{/etc/passwd}", False),
    (r"\write18{ls}", False),
    (r"^^5cinput{/etc/passwd}", False),  # TeX's ^^ notation for a backslash
    (r"\mathrm{a}}\begin{x}", False),
    ("x\n```{eval-rst}", False),
    (r"a # b", False),
    (r"a % b", False),
    (r"\catcode`\@=11", False),
])
def test_safe_tex_lets_through_only_formulas(latex, safe):
    from theorylab.docs.tex import safe_tex, text_to_tex

    assert safe_tex(latex) is safe
    if not safe:  # as prose math, it is escaped as text
        escaped = text_to_tex(f"see ${latex}$")
        assert not re.search(r"\\(input|write18|catcode|begin)\b", escaped), escaped
        assert "^^" not in escaped and "$" not in escaped.replace("\\$", "")
