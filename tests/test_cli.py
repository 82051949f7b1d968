"""The command line: output, exit codes, and one-line errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from theorylab.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_predict_json_gives_the_documented_value(capsys):
    code, out, _ = run(capsys, "predict", "deep_linear.saxe_mode_strength",
                       "s=1", "u0=0.001", "tau=1", "t=3", "--json")
    assert code == 0
    value = json.loads(out)["value"]
    # s e^6 / (e^6 - 1 + 1000), by hand.
    assert value == pytest.approx(0.287664368676, abs=1e-12)


def test_predict_accepts_json_matrices(capsys):
    code, out, _ = run(capsys, "predict", "deep_linear.end_to_end_dynamics", "N=1",
                       "weight_decay=0", "W=[[1,0],[0,2]]", "gradient=[[1,2],[3,4]]", "--json")
    assert code == 0
    # N = 1: dW/dt = -grad L.
    assert json.loads(out)["value"] == [[-1, -2], [-3, -4]]


def test_predict_with_precision(capsys):
    code, out, _ = run(capsys, "predict", "deep_linear.saxe_learning_time", "s=1", "u0=0.5",
                       "uf=0.75", "tau=2", "--precision", "40")
    assert code == 0
    # tau/(2s) ln(uf (s-u0) / (u0 (s-uf))) = ln 3
    assert out.strip().startswith("1.09861228866810969139524523692")


@pytest.mark.parametrize("argv, parameter", [
    (["predict", "deep_linear.saxe_mode_strength", "s=-1", "u0=0.1", "tau=1", "t=1"], "'s'"),
    (["predict", "deep_linear.saxe_mode_strength", "s=1", "u0=1", "tau=1", "t=1"], "'u0'"),
    (["predict", "deep_linear.saxe_mode_strength", "s=1", "u0=2", "tau=1", "t=1"], "'u0'"),
    (["predict", "deep_linear.saxe_mode_strength", "s=nan", "u0=0.1", "tau=1", "t=1"], "'s'"),
    (["predict", "deep_linear.saxe_mode_strength", "s=1", "u0=0.1", "tau=1"], "'t'"),
    (["predict", "deep_linear.saxe_mode_strength", "s=1", "u0=0.1", "tau=1", "t=1", "w=2"],
     "'w'"),
    (["predict", "deep_linear.deep_mode_dynamics", "N_l=0", "s=1", "u0=0.1", "uf=0.5",
      "tau=1"], "'N_l'"),
    (["predict", "deep_linear.deep_mode_dynamics", "N_l=2.5", "s=1", "u0=0.1", "uf=0.5",
      "tau=1"], "'N_l'"),
    (["predict", "deep_linear.end_to_end_dynamics", "N=2", "weight_decay=0", "W=[]",
      "gradient=[[1]]"], "'W'"),
    (["predict", "deep_linear.end_to_end_dynamics", "N=2", "weight_decay=0", "W=[[1,2]]",
      "gradient=[[1]]"], "'gradient'"),
    (["check", "deep_linear.saxe_mode_strength", "--budget", "0"], "'--budget'"),
    (["check", "deep_linear.saxe_mode_strength", "--device", "tpu"], "'device'"),
    (["verify", "--family", "no_such_family"], "'family'"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, parameter):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and parameter in err and "Traceback" not in err
    assert "must be" in err


def test_unknown_claim_suggests_close_ids(capsys):
    code, _, err = run(capsys, "show", "deep_linear.saxe_mode_strenght")
    assert code == 2 and "did you mean deep_linear.saxe_mode_strength" in err


def test_list_show_and_latex(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0 and "deep_linear.saxe_mode_strength" in out and "stated" in out
    code, out, _ = run(capsys, "show", "deep_linear.saxe_mode_strength")
    assert code == 0 and "arXiv:1312.6120" in out and "eq. 12" in out and "Decoys" in out
    code, out, _ = run(capsys, "show", "deep_linear.saxe_mode_strength", "--latex")
    assert code == 0 and r"\frac" in out and "e^{" in out


def test_check_json_and_exit_code(capsys):
    code, out, _ = run(capsys, "check", "deep_linear.singular_value_dynamics", "--budget", "3",
                       "--seed", "2", "--json")
    assert code == 0
    (verdict,) = json.loads(out)
    assert verdict["status"] == "PASS" and verdict["seed"] == 2 and verdict["device"] == "cpu"
    assert all(decoy["status"] == "FAIL" for decoy in verdict["decoys"])


def test_verify_exits_1_when_a_decoy_survives(capsys, monkeypatch):
    import dataclasses

    import sympy

    from theorylab import registry
    from theorylab.claim import Decoy

    claim = registry.get("deep_linear.singular_value_dynamics")
    # A decoy 1e-12 away from the claim cannot be rejected: verify must say so and exit 1.
    weak = dataclasses.replace(claim, decoys=claim.decoys + (
        Decoy("nearly_identical", "the statement times 1 + 1e-12",
              statement=claim.statement * (1 + sympy.Rational(1, 10**12))),))
    monkeypatch.setattr(registry, "claims", lambda family=None: [weak])
    monkeypatch.setattr(registry, "get", lambda claim_id: weak)
    code, out, _ = run(capsys, "verify", "--family", "deep_linear", "--budget", "3",
                       "--no-report")
    assert code == 1 and "decoy not rejected" in out


def test_status_is_computed_from_evidence(capsys, tmp_path, monkeypatch):
    from theorylab import registry

    # Two claims of the family stand for it (the whole family's verify is the battery's).
    subset = registry.claims("deep_linear")[:2]
    original = registry.claims
    monkeypatch.setattr(registry, "claims", lambda family=None: (
        subset if family in (None, "deep_linear") else original(family)))
    code, _, _ = run(capsys, "verify", "--family", "deep_linear", "--budget", "3",
                     "--no-report")
    assert code == 0
    code, out, _ = run(capsys, "list", "--family", "deep_linear")
    statuses = {line.split()[0]: line for line in out.splitlines()}
    assert set(statuses) == {claim.id for claim in subset}
    # Budget 3 is below every claim's default: smoke checks, which never raise a status.
    assert all(" derived " in line for line in statuses.values()), out
    code, _, _ = run(capsys, "check", "deep_linear.saxe_mode_strength")  # the default budget
    assert code == 0
    code, out, _ = run(capsys, "list", "--family", "deep_linear")
    statuses = {line.split()[0]: line for line in out.splitlines()}
    assert "fully verified" in statuses["deep_linear.saxe_mode_strength"], out
    assert "exact" in statuses["deep_linear.saxe_mode_strength"]  # what the derivation rests on
    # A fresh evidence file knows nothing: every claim is merely stated again.
    monkeypatch.setenv("THEORYLAB_EVIDENCE", str(tmp_path / "fresh.jsonl"))
    code, out, _ = run(capsys, "list", "--family", "deep_linear")
    assert all(" stated " in line for line in out.splitlines()), out


def test_installed_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "theorylab.cli", "predict",
                             "deep_linear.saxe_mode_strength", "s=1", "u0=5", "tau=1", "t=1"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "theorylab: error: parameter 'u0' must be such that 0 < u0 < s, got 5.0")


SAXE = ["deep_linear.saxe_mode_strength"]


@pytest.mark.parametrize("argv, named", [
    (["predict", *SAXE, "s=1", "s=2", "u0=0.1", "tau=1", "t=1"], "'s'"),
    (["predict", *SAXE, "s=true", "u0=0.1", "tau=1", "t=1"], "'s'"),
    (["predict", *SAXE, 's="1"', "u0=0.1", "tau=1", "t=1"], "'s'"),
    (["predict", *SAXE, "s=" + "9" * 5001, "u0=0.1", "tau=1", "t=1"], "'s'"),
    (["predict", *SAXE, "s=" + "[" * 10_000, "u0=0.1", "tau=1", "t=1"], "'s'"),
    (["predict", *SAXE, "s=sin(10**10**10)", "u0=0.1", "tau=1", "t=1"], "'s'"),
    (["predict", *SAXE, "s=gamma(-1)", "u0=0.1", "tau=1", "t=1"], "'s'"),
    (["predict", *SAXE, "s=1", "--precision", "1000000"], "'--precision'"),
    (["check", *SAXE, "--seed", str(2**64)], "'--seed'"),
    (["check", *SAXE, "--budget", "1000000000"], "'--budget'"),
    (["check", *SAXE, "--device", ""], "'--device'"),
    (["check", *SAXE, "--timeout", "-1"], "'--timeout'"),
    (["--evidence", "/", "list"], "--evidence"),
    (["--evidence", "/dev/zero", "list"], "--evidence"),
    (["list", "--module", ""], "--module"),
    (["list", "--module", ".."], "--module"),
    (["list", "--module", "x" * 5000], "--module"),
    (["list", "--module", "x" * 300 + ".py"], "--module"),
    (["--evidence", "x" * 300, "list"], "--evidence"),
    (["check", "x" * 300, "--budget", "1"], "x" * 10),
])
def test_hostile_input_is_one_short_line(capsys, argv, named):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and named in err and len(err) < 300 and "Traceback" not in err


def test_non_finite_prediction_is_an_error_not_nan(capsys):
    code, out, err = run(capsys, "predict", *SAXE, "s=1", "u0=1e-300", "tau=1", "t=1e6",
                         "--json")
    assert code in (0, 2) and "NaN" not in out
    if code == 0:
        assert json.loads(out)["value"] == pytest.approx(1.0)
    else:
        assert "not finite" in err and SAXE[0] in err


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("theorylab ")


def test_show_into_a_closed_pipe_exits_quietly():
    command = [sys.executable, "-c", "import sys; from theorylab.cli import main; "
               "sys.exit(main(['show', 'deep_linear.saxe_mode_strength'] * 1))"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0 and b"Traceback" not in err and b"Exception" not in err


def test_a_simulation_that_never_returns_times_out(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("THEORYLAB_EVIDENCE", str(tmp_path / "evidence.jsonl"))
    module = tmp_path / "sleepy_claims.py"
    module.write_text(
        "import time\nimport sympy\n"
        "from theorylab import Citation, Claim, Parameter, Real\n"
        "mean = Parameter('mean', Real(-5, 5, sample_lower=-2, sample_upper=2))\n"
        "def sleeps(points, *, seed, device, ensemble):\n    time.sleep(1000)\n"
        "sleepy = Claim(id='sleepy.mean', title='sleeps', citation=Citation(('A. B',), 2024, "
        "'T', 'eq. 1', arxiv='0000.00000'), parameters=(mean,), statement=mean.symbol, "
        "quantity=sympy.Symbol('m'), simulation=sleeps, budget=2, ensemble=8)\n")
    code, out, err = run(capsys, "check", "--module", str(module), "--timeout", "2", "--json")
    (verdict,) = json.loads(out)
    assert err.splitlines() == ["[1/1] sleepy.mean INCONCLUSIVE"]  # logs: a line per claim
    assert code == 1 and verdict["status"] == "INCONCLUSIVE"
    assert verdict["reason"] == "timed out after 2 s"
    recorded = [json.loads(line) for line in (tmp_path / "evidence.jsonl").read_text().splitlines()]
    assert recorded[-1]["data"]["reason"] == "timed out after 2 s"
