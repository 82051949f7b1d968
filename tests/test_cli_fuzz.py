"""Hostile command lines: every subcommand answers with 0, 1 or 2, quickly, never a traceback.

Hypothesis drives :func:`theorylab.cli.main` in-process with generated argv built
from hostile pieces (huge, nested, non-finite, boolean and quoted numbers,
expressions that would take hours, bad paths and options). Every call must exit
with 0, 1 or 2, print no traceback, keep every error line under 300 characters,
and return within a few seconds. check and verify run one fast claim with a budget
of 1 (or fail on their arguments first); docs always has an unknown family, so it
never builds a site. The default run takes well under a minute; ``-m slow`` runs
a larger profile.
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from theorylab.cli import main

# CPU seconds a call may use (this process and its children): a few, whatever the load of
# the machine; wall-clock seconds only catch hangs, generously, as other work shares the cores
CPU_SECONDS_PER_CALL = 5.0
WALL_SECONDS_PER_CALL = 60.0
SAXE = "deep_linear.saxe_mode_strength"

FAST_CLAIM = '''
import numpy as np
import sympy
from theorylab import Citation, Claim, Parameter, Real
from theorylab.measurement import Measurement

mean = Parameter("mean", Real(1, 5, sample_lower=1, sample_upper=4))


def simulate(points, *, seed, device, ensemble):
    generator = np.random.default_rng(seed)
    return [Measurement(p["mean"] + 1e-9 * generator.standard_normal((1, ensemble)))
            for p in points]


fast = Claim(id="fuzz.fast", title="fast", citation=Citation(("A. Tester",), 2024, "Fuzz",
             "eq. 1", arxiv="0000.00000"), parameters=(mean,), statement=mean.symbol,
             quantity=sympy.Symbol("m"), simulation=simulate, budget=1, ensemble=4)
'''


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Evidence, a fast claim module, a module with a syntax error and a binary file."""
    root = tmp_path_factory.mktemp("fuzz")
    (root / "fast_claims.py").write_text(FAST_CLAIM)
    (root / "broken_syntax.py").write_text("x = (\n")
    (root / "binary.jsonl").write_bytes(bytes(range(256)) * 4)
    (root / "folder").mkdir()
    previous = os.environ.get("THEORYLAB_EVIDENCE")
    os.environ["THEORYLAB_EVIDENCE"] = str(root / "evidence.jsonl")
    main(["show", SAXE])  # imports the catalogue once, outside the timed calls
    yield root
    if previous is None:
        os.environ.pop("THEORYLAB_EVIDENCE", None)
    else:
        os.environ["THEORYLAB_EVIDENCE"] = previous


NUMBERS = st.sampled_from([
    "1", "0", "-1", "0.5", "1e308", "-1e308", "1e-320", "nan", "NaN", "inf", "-inf", "true",
    "false", "null", '"1"', "[]", "[[]]", "[[true]]", "[[1,2],[3]]", "{}", "9" * 5001,
    "[" * 10_000, "1" * 400, "10**9", "10**10**10", "sin(10**10**10)", "cos(2**2**30)",
    "factorial(factorial(20))", "sqrt(10**10**10)", "gamma(-1)", "exp(exp(exp(exp(10))))",
    "1/0", "0**-1", "log(-1)", "__import__('os')", "1_000", "0x10", "1j", "", " ", "\x00",
    "é", "1/sqrt(2)", "2**-2000", "-" * 900 + "1", "[1e400]", "[[nan]]",
]) | st.text(max_size=30) | st.integers(-(2**70), 2**70).map(str) | st.floats().map(repr)

NAMES = st.sampled_from(["s", "u0", "tau", "t", "mean", "N", "k", "W", "x", "", "s=s", "é"])
ASSIGNMENTS = st.lists(st.builds(lambda n, v: f"{n}={v}", NAMES, NUMBERS), max_size=5) | \
    st.lists(st.sampled_from(["s", "=1", "s==1", "s=1", "s=1"]), max_size=3)
IDS = st.sampled_from([SAXE, "fuzz.fast", "no.such.claim", "", "x" * 1000, "x" * 300,
                       "deep_linear",
                       "../../etc/passwd", "deep_linear.saxe_mode_strenght", "é", "-"])
FAMILIES = st.sampled_from(["no_such_family", "", "x" * 500, "../..", "é", "--json"])


def _modules(root: Path) -> st.SearchStrategy[str]:
    return st.sampled_from(["", ".", "..", "x" * 5000, "x" * 300, "x" * 300 + ".py",
                            "no_such_module_xyz", "theorylab.cli",
                            str(root / "broken_syntax.py"), str(root / "missing.py"),
                            str(root / "folder"), str(root / "fast_claims.py")])


def _evidence(root: Path) -> st.SearchStrategy[list[str]]:
    return st.sampled_from([[], [], ["--evidence", str(root / "evidence.jsonl")],
                            ["--evidence", str(root / "folder")], ["--evidence", "/dev/zero"],
                            ["--evidence", str(root / "binary.jsonl")], ["--evidence", ""],
                            ["--evidence", "x" * 300],
                            ["--evidence", "/"]])


def _option(name: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(values.map(lambda value: [name, value]), max_size=1).map(
        lambda chosen: chosen[0] if chosen else [])


def _argv(root: Path) -> st.SearchStrategy[list[str]]:
    modules = _option("--module", _modules(root))
    budget = st.sampled_from(["1", "0", "-1", "10000000000", "1e3", "nan", "", "1" * 5000])
    seed = st.sampled_from(["0", "-1", str(2**32), str(2**64), "1.5", "x", "9" * 5000])
    device = st.sampled_from(["cpu", "", "cuda", "tpu", "CPU", "auto", "cpu;rm"])
    timeout = st.sampled_from(["30", "0.001", "-1", "nan", "inf", "1e308", "x"])

    def run(command: str, ids: st.SearchStrategy) -> st.SearchStrategy[list[str]]:
        fast_target = st.sampled_from([["fuzz.fast", "--module", str(root / "fast_claims.py")],
                                       [SAXE], ["x" * 300], ["x" * 300 + ".py"], ["no.such"]])
        return st.tuples(
            _evidence(root), st.just([command]), fast_target if command == "check" else
            st.just(["--module", str(root / "fast_claims.py")]),
            st.just(["--budget", "1"]), _option("--budget", budget), _option("--seed", seed),
            _option("--device", device), _option("--timeout", timeout), ids,
            st.sampled_from([[], ["--json"]]),
            st.just(["--no-report"] if command == "verify" else []),
        ).map(lambda parts: [token for part in parts for token in part])

    commands = st.one_of(
        st.tuples(_evidence(root), st.just(["list"]), _option("--family", FAMILIES), modules),
        st.tuples(_evidence(root), st.just(["show"]), IDS.map(lambda i: [i]),
                  st.sampled_from([[], ["--latex"]]), modules),
        st.tuples(_evidence(root), st.just(["predict"]), IDS.map(lambda i: [i]), ASSIGNMENTS,
                  _option("--precision", st.sampled_from(
                      ["30", "0", "-5", "1000000", "x", "1" * 5000])),
                  st.sampled_from([[], ["--json"]]), modules),
        st.tuples(_evidence(root), st.just(["prove"]), IDS.filter(
            lambda i: i != "deep_linear").map(lambda i: [i]), modules),
        run("check", st.just([])),
        run("verify", st.just([])),
        st.tuples(_evidence(root), st.just(["docs", "--family"]), FAMILIES.map(lambda f: [f]),
                  _option("--out", st.sampled_from([str(root / "site"), "/dev/null/x", ""]))),
        st.tuples(_evidence(root), st.just(["export"]), IDS.map(lambda i: [i]),
                  st.sampled_from([["--latex"], ["--bib"], [], ["--latex", "--bib"]]), modules),
    )
    return commands.map(lambda parts: [token for part in parts for token in part])


def _cpu_seconds() -> float:
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _run(argv: list[str]) -> tuple[int, str, str, tuple[float, float]]:
    out, err = io.StringIO(), io.StringIO()
    started, cpu = time.perf_counter(), _cpu_seconds()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    seconds = (time.perf_counter() - started, _cpu_seconds() - cpu)
    return code, out.getvalue(), err.getvalue(), seconds


def _assert_clean(argv: list[str], code: int, out: str, err: str,
                  seconds: tuple[float, float]) -> None:
    shown = [a if len(a) < 60 else a[:57] + "..." for a in argv]
    assert code in (0, 1, 2), (shown, code, err[-500:])
    assert "Traceback" not in err and "Traceback" not in out, (shown, err[-2000:])
    for line in err.splitlines():
        if "error" in line:
            assert len(line) <= 300, (shown, line[:400])
    wall, cpu = seconds
    assert cpu < CPU_SECONDS_PER_CALL and wall < WALL_SECONDS_PER_CALL, (shown, wall, cpu)
    if code == 2:
        assert err.count("theorylab: error") == 1, (shown, err[-500:])


def _fuzz(folder: Path, examples: int) -> None:
    @settings(max_examples=examples, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(argv=_argv(folder))
    def run(argv: list[str]) -> None:
        _assert_clean(argv, *_run(argv))

    run()


def test_hostile_command_lines(folder):
    _fuzz(folder, examples=120)


@pytest.mark.slow
def test_hostile_command_lines_at_length(folder):
    _fuzz(folder, examples=1500)


@pytest.mark.parametrize("argv", [
    ["check", SAXE, "--budget", "1", "--seed", str(2**64)],
    ["predict", SAXE, "s=1", "s=2", "u0=0.1", "tau=1", "t=1"],
    ["predict", SAXE, "s=[[" * 5000, "u0=0.1", "tau=1", "t=1"],
    ["list", "--module", "x" * 5000],
    ["--evidence", "/dev/zero", "list"],
])
def test_known_hostile_examples(folder, argv):
    code, out, err, seconds = _run(argv)
    _assert_clean(argv, code, out, err, seconds)
    assert code == 2
