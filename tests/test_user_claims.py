"""Theorists' own claims: loading, registering, the CLI and the worked example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from theorylab import registry
from theorylab.cli import main
from theorylab.errors import TheorylabError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ntk_convergence"
WRONG = Path(__file__).resolve().parent / "data" / "wrong_claims.py"


def test_load_registers_a_path_with_its_derivations():
    (claim,) = registry.load(EXAMPLE / "ntk_claims.py")
    assert registry.get("mywork.ntk_convergence") is claim
    assert "mywork" in registry.families() and "mywork" in registry.user_families()
    (derivation,) = registry.derivations(claim.id)
    assert derivation.claim == claim.id
    # Loading again replaces rather than duplicates.
    registry.load(EXAMPLE / "ntk_claims.py")
    assert [c.id for c in registry.claims("mywork")] == ["mywork.ntk_convergence"]


def test_register_refuses_catalogue_families_and_bare_ids():
    from dataclasses import replace

    claim = registry.get("deep_linear.saxe_mode_strength")
    with pytest.raises(TheorylabError, match="catalogue family 'deep_linear'"):
        registry.register([replace(claim, id="deep_linear.mine")])
    with pytest.raises(TheorylabError, match="family prefix"):
        registry.register([replace(claim, id="mine")])
    with pytest.raises(TheorylabError, match="no such file"):
        registry.load("missing_claims.py")
    with pytest.raises(TheorylabError, match="no module named"):
        registry.load("no_such_package.claims")


def test_cli_check_takes_a_path_and_a_module(capsys, monkeypatch):
    assert main(["check", str(EXAMPLE / "ntk_claims.py"), "--budget", "2"]) == 0
    assert "mywork.ntk_convergence" in capsys.readouterr().out
    monkeypatch.syspath_prepend(str(EXAMPLE))
    assert main(["check", "ntk_claims", "--budget", "2", "--json"]) == 0
    (verdict,) = json.loads(capsys.readouterr().out)
    assert verdict["claim"] == "mywork.ntk_convergence" and verdict["status"] == "PASS"


def test_cli_verify_module_proves_and_checks_only_that_module(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    assert main(["verify", "--module", "ntk_claims", "--budget", "2", "--no-report"]) == 0
    out = capsys.readouterr().out
    assert "mywork.ntk_convergence" in out and "deep_linear" not in out
    # Below the claim's default budget: a smoke check, shown but never raising a status.
    assert "smoke check" in out and "fully verified" not in out and "derived" in out


def test_cli_check_reports_a_wrong_user_claim(capsys):
    assert main(["check", str(WRONG), "--budget", "4"]) == 1
    assert "userwork.squared_norm" in capsys.readouterr().out


def test_cli_check_unknown_target_is_one_line(capsys):
    assert main(["check", "no_such_thing.at_all"]) == 2
    assert "no claim with id 'no_such_thing.at_all'" in capsys.readouterr().err


def test_worked_example_passes_under_plain_pytest(run_pytest):
    result = run_pytest(EXAMPLE, "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_wrong_user_claim_fails_with_its_shrunk_counterexample(tmp_path, run_pytest):
    (tmp_path / "wrong_claims.py").write_text(WRONG.read_text())
    (tmp_path / "test_wrong.py").write_text(
        "import wrong_claims\nimport theorylab\n\n\n"
        "@theorylab.verifies(wrong_claims.squared_norm)\n"
        "def test_marker():\n    pass\n\n\n"
        "def test_fixture(theorylab):\n    theorylab.verify(wrong_claims.squared_norm)\n")
    result = run_pytest(tmp_path, "-q", "--theorylab-seed", "3")
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "2 failed" in out
    for expected in ("userwork.squared_norm FAIL", "minimal counterexample: dimension=",
                     "prediction:", "estimate:", "SE ", "z-score:", "seed 3"):
        assert expected in out, (expected, out)
    assert "Traceback" not in out  # pytest shows the report, not the plugin's internals



def test_docs_site_and_export_include_user_claims(tmp_path, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    assert main(["docs", "--family", "deep_linear", "--module", "ntk_claims",
                 "--out", str(tmp_path / "site")]) == 0
    pages = {path.name for path in (tmp_path / "site").rglob("*.html")}
    assert any("ntk_convergence" in name for name in pages), sorted(pages)
    index = next((tmp_path / "site").rglob("index.html")).read_text()
    assert "mywork.ntk_convergence" in index
    capsys.readouterr()
    assert main(["export", "mywork.ntk_convergence", "--module", "ntk_claims", "--bib"]) == 0
    assert "1901.08584" in capsys.readouterr().out
