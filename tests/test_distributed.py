"""Checks on a 2-worker Dask LocalCluster: identical verdicts, resume, a killed worker.

Two fast user claims (Gaussian means, numpy only) x 3 seeds keep it under a minute
on 2 busy cores; one cluster serves the whole module.
"""

from __future__ import annotations

import os
import signal
import textwrap

import pytest

from theorylab import registry
from theorylab.evidence import Evidence
from theorylab.verifier import check

CLAIMS = textwrap.dedent('''
    """Fast user claims for the distributed tests."""
    import math
    import os
    import signal
    import time

    import numpy as np
    import sympy

    from theorylab.claim import Citation, Claim, Decoy, Parameter
    from theorylab.domains import Real
    from theorylab.measurement import Measurement

    mean = Parameter("mean", Real(-math.inf, math.inf, sample_lower=1, sample_upper=2))
    CITATION = Citation(("A. Tester",), 2024, "Synthetic", "eq. 1", arxiv="0000.00000")


    def gaussian(points, *, seed, device, ensemble):
        generator = np.random.default_rng(seed)
        return [Measurement(generator.normal(p["mean"], 0.01, size=(1, ensemble)))
                for p in points]


    def slow_twice(points, *, seed, device, ensemble):
        time.sleep(1.0)  # long enough to be killed mid-task
        generator = np.random.default_rng(seed)
        return [Measurement(generator.normal(2 * p["mean"], 0.01, size=(1, ensemble)))
                for p in points]


    def dies(points, *, seed, device, ensemble):
        os.kill(os.getpid(), signal.SIGKILL)


    def claim(name, statement, simulation):
        return Claim(id=f"dasktest.{name}", title=name, citation=CITATION,
                     parameters=(mean,), statement=statement, quantity=sympy.Symbol("m"),
                     simulation=simulation, budget=3, ensemble=8, resolution=0.05,
                     decoys=(Decoy("off", "ten percent off",
                                   statement=statement * sympy.Rational(11, 10)),))


    first = claim("mean", mean.symbol, gaussian)
    second = claim("twice", 2 * mean.symbol, slow_twice)
    fatal = claim("dies", mean.symbol, dies)
''')
SEEDS = 3


@pytest.fixture(scope="module")
def module_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("dask") / "dask_user_claims.py"
    path.write_text(CLAIMS)
    registry.load(str(path))
    return str(path)


@pytest.fixture(scope="module")
def engine(module_path):
    from theorylab.distributed import client

    with client(workers=2) as connected:
        yield connected


def _tasks(ids=("dasktest.mean", "dasktest.twice")):
    from theorylab.distributed import Task

    return [Task(claim_id, seed) for claim_id in ids for seed in range(SEEDS)]


def _pairs(evidence):
    return sorted((e["claim"], e["data"]["seed"]) for e in evidence.entries())


def _without_time(verdict):
    data = verdict.to_dict()
    data.pop("wall_time")
    for decoy in data["decoys"]:
        decoy.pop("wall_time")
    return data


@pytest.mark.parametrize("catalogue", [
    False, pytest.param(True, marks=pytest.mark.slow)])  # a catalogue claim (torch): ~30 s
def test_serial_and_distributed_verdicts_are_identical(engine, module_path, tmp_path,
                                                       catalogue):
    from theorylab.distributed import Task, run_checks

    tasks = ([Task("deep_linear.saxe_mode_strength", 0, budget=1)] if catalogue else
             [Task("dasktest.mean", 1), Task("dasktest.twice", 2)])
    evidence = Evidence(tmp_path / "evidence.jsonl")
    distributed = run_checks(tasks, modules=[module_path], evidence=evidence, engine=engine)
    for task, verdict in zip(tasks, distributed, strict=True):
        serial = check(registry.get(task.claim), budget=task.budget, seed=task.seed,
                       record=False)
        assert _without_time(serial) == _without_time(verdict)
    assert len(evidence.entries()) == len(tasks)  # recorded by the client
    # the same cluster reached by its address, as --scheduler does for a remote one
    remote = run_checks(tasks, modules=[module_path], scheduler=engine.scheduler.address)
    assert [_without_time(v) for v in remote] == [_without_time(v) for v in distributed]


def test_interrupted_study_resumes_without_repeating(engine, module_path, tmp_path):
    from theorylab.calibration import study
    from theorylab.distributed import run_checks

    evidence = Evidence(tmp_path / "evidence.jsonl")

    def interrupt(task, verdict):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_checks(_tasks(), modules=[module_path], evidence=evidence, engine=engine,
                   on_verdict=interrupt)
    kept = _pairs(evidence)
    assert len(kept) == 1  # the finished result survives the interrupt
    claims = [registry.get("dasktest.mean"), registry.get("dasktest.twice")]
    result = study(claims, SEEDS, evidence=evidence, modules=[module_path], engine=engine)
    assert _pairs(evidence) == sorted((t.claim, t.seed) for t in _tasks())  # none twice
    assert all(result["claims"][c.id]["checks"] == SEEDS for c in claims)
    assert all(result["claims"][c.id]["fails"] == 0 for c in claims)
    assert all(d["rate"] == 1.0 for c in claims for d in result["claims"][c.id]["decoys"].values())


def test_a_killed_worker_loses_only_its_task(engine, module_path, tmp_path):
    from theorylab.distributed import run_checks

    evidence = Evidence(tmp_path / "evidence.jsonl")
    killed = []

    def kill_one(task, verdict):
        if not killed:  # the other worker is busy with a slow task: kill it mid-task
            pids = engine.run(os.getpid)
            victim = max(pids.values())
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    verdicts = run_checks(_tasks(("dasktest.twice",)) + _tasks(("dasktest.mean",)),
                          modules=[module_path], evidence=evidence, engine=engine,
                          on_verdict=kill_one)
    assert killed
    assert all(v is not None for v in verdicts)
    assert _pairs(evidence) == sorted((t.claim, t.seed) for t in _tasks())


@pytest.mark.slow
def test_a_task_that_kills_every_worker_is_one_error_naming_claim_and_seed(engine,
                                                                         module_path):
    from theorylab.distributed import Task, TaskError, run_checks

    with pytest.raises(TaskError, match=r"dasktest\.dies seed 4"):
        run_checks([Task("dasktest.dies", 4)], modules=[module_path], engine=engine)


@pytest.mark.parametrize("argv, named", [
    (["calibrate", "--seeds", "0", "dasktest.mean"], "--seeds"),
    (["calibrate", "--seeds", "-2", "dasktest.mean"], "--seeds"),
    (["calibrate", "--seeds", "2", "--workers", "0", "dasktest.mean"], "--workers"),
    (["calibrate", "--seeds", "2", "no.such_claim"], "no.such_claim"),
    (["check", "--workers", "0", "dasktest.mean"], "--workers"),
])
def test_bad_input_is_one_line(argv, named, module_path, tmp_path, capsys):
    from theorylab.cli import main

    code = main(["--evidence", str(tmp_path / "e.jsonl"), *argv[:1], "--module", module_path,
                 *argv[1:]])
    error = capsys.readouterr().err.strip()
    assert code == 2
    assert named in error and "\n" not in error and "Traceback" not in error


def test_unreachable_scheduler_is_one_line(module_path, tmp_path, capsys):
    from theorylab.cli import main

    code = main(["--evidence", str(tmp_path / "e.jsonl"), "calibrate", "--module",
                 module_path, "--seeds", "1", "--scheduler", "tcp://127.0.0.1:9"])
    error = capsys.readouterr().err.strip()
    assert code == 2
    assert "--scheduler" in error and "\n" not in error


def test_import_theorylab_does_not_import_dask():
    import subprocess
    import sys

    code = "import sys, theorylab; sys.exit('distributed' in sys.modules or 'dask' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.parametrize("requested, environment, claims, expected", [
    (None, "", 39, "cores"),  # the default: one per usable core
    (None, "", 1, 1),  # one claim: no cluster to start
    (None, "3", 39, 3),  # $THEORYLAB_WORKERS
    (2, "1", 39, 2),  # --workers overrides it
    (4, "", 2, 2),  # never more workers than claims
])
def test_check_and_verify_use_one_worker_per_core_by_default(requested, environment, claims,
                                                             expected, monkeypatch):
    from theorylab.cli import check_workers
    from theorylab.distributed import usable_cores

    monkeypatch.setenv("THEORYLAB_WORKERS", environment)
    cores = usable_cores()
    want = min(cores, claims) if expected == "cores" else expected
    if requested is not None and requested > 4 * cores or environment == "3" and 3 > 4 * cores:
        pytest.skip("more workers than this machine allows")
    assert check_workers(requested, claims) == want


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_theorylab_workers_is_one_line(value, module_path, tmp_path, capsys, monkeypatch):
    from theorylab.cli import main

    monkeypatch.setenv("THEORYLAB_WORKERS", value)
    code = main(["--evidence", str(tmp_path / "e.jsonl"), "check", "--module", module_path,
                 "dasktest.mean", "dasktest.twice"])
    error = capsys.readouterr().err.strip()
    assert code == 2
    assert "THEORYLAB_WORKERS" in error and "\n" not in error and "Traceback" not in error


def test_checks_go_longest_first_by_their_last_recorded_time(tmp_path):
    from theorylab.distributed import expected_costs

    evidence = Evidence(tmp_path / "e.jsonl")
    for claim, seconds in [("a.one", 5.0), ("a.two", 80.0), ("a.one", 7.0)]:
        evidence.append({"kind": "verdict", "claim": claim, "fingerprint": "f", "time": 0.0,
                         "data": {"wall_time": seconds, "status": "PASS", "seed": 0,
                                  "device": "cpu"}})
    assert expected_costs(evidence, {"a.one", "a.two", "a.three"}) == {"a.one": 7.0,
                                                                        "a.two": 80.0}


PROVED = textwrap.dedent('''
    """One fast user claim with a derivation, for verify on Dask."""
    import math

    import numpy as np
    import sympy

    from theorylab.claim import Citation, Claim, Decoy, Parameter
    from theorylab.derivation import Derivation, Step
    from theorylab.domains import Real
    from theorylab.measurement import Measurement

    mean = Parameter("mean", Real(-math.inf, math.inf, sample_lower=1, sample_upper=2))
    CITATION = Citation(("A. Tester",), 2024, "Synthetic", "eq. 1", arxiv="0000.00000")


    def gaussian(points, *, seed, device, ensemble):
        generator = np.random.default_rng(seed)
        return [Measurement(generator.normal(2 * p["mean"], 0.01, size=(1, ensemble)))
                for p in points]


    def claim(name):
        return Claim(id=f"daskproof.{name}", title=name, citation=CITATION,
                     parameters=(mean,), statement=2 * mean.symbol, quantity=sympy.Symbol("m"),
                     simulation=gaussian, budget=3, ensemble=8, resolution=0.05,
                     decoys=(Decoy("off", "ten percent off", statement=2.2 * mean.symbol),))


    first, second = claim("first"), claim("second")
    m, x, y = sympy.symbols("m x y")
    derivation = Derivation(claim="daskproof.first", title="Doubled", steps=(
        Step.assume(sympy.Eq(m, x + y), "the sum of two draws"),
        Step.substitute(sympy.Eq(m, 2 * mean.symbol), {x: mean.symbol, y: mean.symbol},
                        "each draw is the mean"),
    ))
''')


def test_verify_on_workers_proves_and_records_as_a_serial_run_does(tmp_path, capsys):
    from theorylab.cli import main

    path = tmp_path / "dask_proved_claims.py"
    path.write_text(PROVED)
    outputs = {}
    for workers in ("1", "2"):
        evidence = tmp_path / f"e{workers}.jsonl"
        code = main(["--evidence", str(evidence), "verify", "--module", str(path),
                     "--no-report", "--workers", workers])
        out = capsys.readouterr().out
        assert code == 0
        stored = Evidence(evidence).entries()
        proofs = [e for e in stored if e["kind"] == "derivation"]
        assert [e["claim"] for e in proofs] == ["daskproof.first"]
        assert proofs[0]["data"]["results"][0]["derives"]
        assert proofs[0]["data"]["seconds"] >= 0
        outputs[workers] = [line for line in out.splitlines() if line.startswith("daskproof.")]
    # The same lines in the same order; only the check times differ.
    assert [line.split()[:2] for line in outputs["1"]] == \
        [line.split()[:2] for line in outputs["2"]]
    assert any("EXACT" in line for line in outputs["2"])
