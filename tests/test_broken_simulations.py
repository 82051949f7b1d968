"""Broken user simulations never PASS and never abort a run.

Each claim below states that the measured quantity equals ``mean``; a correct,
nearly noiseless simulation PASSes it (the control), and every broken variant
must end INCONCLUSIVE or FAIL with a one-line reason, both through
:func:`theorylab.check` and through ``theorylab check --module`` (which runs the
claims one after another in child processes with a deadline). This file is
itself the module the CLI loads.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
import pytest
import sympy

from theorylab.claim import Citation, Claim, Parameter
from theorylab.domains import Real
from theorylab.measurement import Measurement

mean = Parameter("mean", Real(1, 5, sample_lower=1, sample_upper=4))
CITATION = Citation(("A. Tester",), 2024, "Broken simulations", "eq. 1", arxiv="0000.00000")
SLEEP_TIMEOUT = 3


def _samples(point, ensemble, seed):
    """Nearly noiseless samples of ``mean``: precise enough for the check to PASS."""
    generator = np.random.default_rng(seed)
    return point["mean"] + 1e-9 * generator.standard_normal((1, ensemble))


def _each(build):
    """A simulation from a function of (point, ensemble, seed) -> Measurement."""
    def simulate(points, *, seed, device, ensemble):
        return [build(point, ensemble, seed) for point in points]
    return simulate


def _raises(error):
    def simulate(points, *, seed, device, ensemble):
        raise error
    return simulate


def _exits(code):
    def simulate(points, *, seed, device, ensemble):
        sys.exit(code)
    return simulate


def _returns(value):
    def simulate(points, *, seed, device, ensemble):
        return value(points, ensemble) if callable(value) else value
    return simulate


def _with_sample(value):
    def build(point, ensemble, seed):
        samples = _samples(point, ensemble, seed)
        samples[0, 0] = value
        return Measurement(samples)
    return _each(build)


def _recurse(points, *, seed, device, ensemble):
    return _recurse(points, seed=seed, device=device, ensemble=ensemble)


def _sleeps(points, *, seed, device, ensemble):
    time.sleep(1000)


def _generator(points, *, seed, device, ensemble):
    yield from (Measurement(_samples(point, ensemble, seed)) for point in points)


def _alternating(point, ensemble, seed):
    return Measurement(point["mean"] + 1e300 * (-1.0) ** np.arange(ensemble)[None, :])


CONTROL = _each(lambda point, ensemble, seed: Measurement(_samples(point, ensemble, seed)))

BROKEN = {
    "type_error": _raises(TypeError("unsupported operand")),
    "key_error": _raises(KeyError("width")),
    "assertion_error": _raises(AssertionError("shapes differ")),
    "import_error": _raises(ImportError("no module named jax")),
    "memory_error": _raises(MemoryError()),
    "zero_division": _raises(ZeroDivisionError("division by zero")),
    "recursion": _recurse,
    "sys_exit_3": _exits(3),
    "sys_exit_0": _exits(0),
    "returns_none": _returns(None),
    "returns_string": _returns("done"),
    "returns_dict": _returns({"mean": 1.0}),
    "returns_array": _returns(lambda points, ensemble: np.ones((len(points), ensemble))),
    "returns_arrays": _returns(lambda points, ensemble: [np.ones((1, ensemble))] * len(points)),
    "returns_generator": _generator,
    "one_too_few": _returns(lambda points, ensemble: [
        Measurement(np.ones((1, ensemble)))] * (len(points) - 1)),
    "one_too_many": _returns(lambda points, ensemble: [
        Measurement(np.ones((1, ensemble)))] * (len(points) + 1)),
    "complex_samples": _each(lambda point, ensemble, seed: Measurement(
        _samples(point, ensemble, seed) + 1e-3j)),
    "object_samples": _each(lambda point, ensemble, seed: Measurement(
        np.array([[point, None]], dtype=object))),
    "one_sample_1e308": _with_sample(1e308),
    "one_sample_nan": _with_sample(np.nan),
    "one_sample_inf": _with_sample(np.inf),
    "one_sample_minus_inf": _with_sample(-np.inf),
    "constant_1e307": _each(lambda point, ensemble, seed: Measurement(
        np.full((1, ensemble), 1e307))),
    "constant_wrong": _each(lambda point, ensemble, seed: Measurement(
        np.full((1, ensemble), 2 * point["mean"]))),
    "alternating_1e300": _each(_alternating),
    "empty_ensemble": _each(lambda point, ensemble, seed: Measurement(np.ones((1, 0)))),
    "single_member": _each(lambda point, ensemble, seed: Measurement(
        np.full((1, 1), point["mean"]))),
    "wrong_shape": _each(lambda point, ensemble, seed: Measurement(
        np.repeat(_samples(point, ensemble, seed)[..., None], 3, axis=-1))),
    "nan_resolution": _each(lambda point, ensemble, seed: Measurement(
        _samples(point, ensemble, seed), resolutions=np.array([np.nan]))),
    "negative_resolution": _each(lambda point, ensemble, seed: Measurement(
        _samples(point, ensemble, seed), resolutions=np.array([-1.0]))),
    "nan_rounding": _each(lambda point, ensemble, seed: Measurement(
        _samples(point, ensemble, seed), rounding=np.nan)),
}
SLOW = {"sleeps": _sleeps}
#: Variants that still PASS: the verifier (owned by the lead) must refuse them.
KNOWN_PASS: dict[str, str] = {}  # none: every broken simulation is caught


def _claim(name, simulation):
    return Claim(
        id=f"broken.{name}", title=f"broken simulation: {name}", citation=CITATION,
        parameters=(mean,), statement=mean.symbol, quantity=sympy.Symbol("m"),
        simulation=simulation, budget=2, ensemble=8)


def _claims():
    """The claims, built when asked (a variant that fails at definition is reported)."""
    built, refused = {}, {}
    for name, simulation in {"control": CONTROL, **BROKEN, **SLOW}.items():
        try:
            built[name] = _claim(name, simulation)
        except Exception as error:  # noqa: BLE001  (refused at definition: also fine)
            refused[name] = f"{type(error).__name__}: {error}"
    return built, refused


claims, refused_at_definition = _claims()
globals().update({f"claim_{name}": claim for name, claim in claims.items()})


def _has_reason(verdict) -> bool:
    reasons = [verdict.reason] + [p.reason for p in verdict.points]
    text = verdict.summary()
    return "\n" not in text and (any(reasons) or verdict.status.value == "FAIL")


def test_control_passes():
    from theorylab import check

    verdict = check(claims["control"], budget=2, record=False)
    assert verdict.status.value == "PASS", verdict.summary()


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN_PASS[name], strict=True))
    if name in KNOWN_PASS else name for name in sorted(BROKEN)])
def test_broken_simulation_never_passes(name):
    from theorylab import check

    if name in refused_at_definition:
        return  # refused when the claim is built: the user sees it before any run
    verdict = check(claims[name], budget=2, record=False)
    assert verdict.status.value != "PASS", verdict.summary()
    assert _has_reason(verdict), verdict.summary()


def test_a_simulation_that_never_returns_is_timed_out():
    from theorylab.isolation import check_with_deadline

    started = time.monotonic()
    verdict = check_with_deadline(claims["sleeps"], timeout=SLEEP_TIMEOUT, budget=2,
                                  record=False)
    assert verdict.status.value == "INCONCLUSIVE"
    assert verdict.reason == f"timed out after {SLEEP_TIMEOUT} s"
    assert time.monotonic() - started < SLEEP_TIMEOUT + 10


def test_a_process_that_dies_is_inconclusive():
    from theorylab.isolation import check_with_deadline

    def dies(points, *, seed, device, ensemble):
        os._exit(7)

    verdict = check_with_deadline(_claim("dies", dies), timeout=60, budget=2, record=False)
    assert verdict.status.value == "INCONCLUSIVE" and "exit code 7" in verdict.reason


def test_through_the_cli_none_passes_and_the_run_goes_on(tmp_path, capsys, monkeypatch):
    from theorylab.cli import main

    monkeypatch.setenv("THEORYLAB_EVIDENCE", str(tmp_path / "evidence.jsonl"))
    code = main(["check", "--module", __file__, "--budget", "2", "--timeout",
                 str(SLEEP_TIMEOUT), "--json"])
    captured = capsys.readouterr()
    verdicts = {v["claim"]: v for v in json.loads(captured.out)}
    assert code == 1 and "Traceback" not in captured.err
    assert set(verdicts) == {f"broken.{name}" for name in claims}
    assert verdicts["broken.control"]["status"] == "PASS"
    passed = {c for c, v in verdicts.items() if v["status"] == "PASS"}
    assert passed == {"broken.control"} | {f"broken.{name}" for name in KNOWN_PASS}
    assert verdicts["broken.sleeps"]["reason"] == f"timed out after {SLEEP_TIMEOUT} s"
    recorded = (tmp_path / "evidence.jsonl").read_text().splitlines()
    assert len(recorded) == len(claims)
