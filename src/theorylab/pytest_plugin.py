"""The theorylab pytest plugin: verify claims in a theorist's own test suite.

Registered through the ``pytest11`` entry point, so it loads whenever theorylab
is installed. At load time it imports nothing heavier than pytest: sympy, torch
and the catalogue load only when a test verifies a claim.

A test verifies a claim in one line, with the ``theorylab`` fixture::

    def test_my_claim(theorylab):
        theorylab.verify(my_claim)

or with the marker decorator (``theorylab.verifies``, equally
``pytest.mark.theorylab(...)``)::

    @theorylab.verifies(my_claim, budget=8)
    def test_my_claim():
        pass

A FAIL shows the minimal counterexample, the prediction, the estimate, its
standard error and the z-score; a decoy that survives fails the test too (a
check that cannot fail proves nothing).

Options: ``--theorylab-device`` (cpu, cuda or auto), ``--theorylab-budget``,
``--theorylab-seed``, ``--theorylab-slow``. Markers: ``gpu`` skips cleanly
without CUDA; ``slow`` skips theorylab verifications (tests using the fixture
or the marker) unless ``--theorylab-slow`` or ``-m slow`` is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from theorylab.claim import Claim
    from theorylab.verifier import Verdict

__all__ = ["verifies", "TheorylabFixture", "format_failure"]


def verifies(claim: Claim | str, *, budget: int | None = None, seed: int | None = None,
             ensemble: int | None = None, decoys: bool = True) -> pytest.MarkDecorator:
    """Mark a test as verifying ``claim`` (a Claim or a registered id).

    The verification runs before the test's body, which may then make further
    assertions; ``budget``, ``seed`` and ``ensemble`` override the claim's
    defaults and the command-line options.
    """
    return pytest.mark.theorylab(claim, budget=budget, seed=seed, ensemble=ensemble,
                                 decoys=decoys)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``--theorylab-*`` options."""
    group = parser.getgroup("theorylab", "verifying theory against simulation")
    group.addoption("--theorylab-device", default="cpu",
                    help="device for simulations: cpu (default), cuda or auto")
    group.addoption("--theorylab-budget", type=int, default=None,
                    help="parameter points per claim (default: each claim's own)")
    group.addoption("--theorylab-seed", type=int, default=0,
                    help="seed of the parameter search and the simulations (default 0)")
    group.addoption("--theorylab-slow", action="store_true", default=False,
                    help="run theorylab verifications marked slow")
    group.addoption("--theorylab-no-record", action="store_true", default=False,
                    help="do not record verdicts and derivation checks in the evidence store "
                         "(by default they count towards claims' statuses, as on the CLI)")


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers."""
    config.addinivalue_line(
        "markers", "theorylab(claim, budget=None, seed=None, ensemble=None, decoys=True): "
                   "verify a claim before the test body runs")
    config.addinivalue_line("markers", "gpu: needs CUDA; skipped cleanly without it")
    config.addinivalue_line("markers", "slow: long-running; theorylab verifications marked "
                                       "slow run only with --theorylab-slow or -m slow")


def _has_cuda() -> bool:
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip gpu tests without CUDA and slow verifications unless asked for."""
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if gpu_items and not _has_cuda():
        for item in gpu_items:
            item.add_marker(pytest.mark.skip(reason="needs CUDA (none available here)"))
    wanted = config.getoption("--theorylab-slow") or "slow" in (config.getoption("-m") or "")
    if wanted:
        return
    for item in items:
        uses_theorylab = item.get_closest_marker("theorylab") is not None or (
            "theorylab" in getattr(item, "fixturenames", ()))
        if uses_theorylab and item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.skip(
                reason="slow theorylab verification: run with --theorylab-slow or -m slow"))


class TheorylabFixture:
    """What the ``theorylab`` fixture gives a test: ``verify`` and ``prove``."""

    def __init__(self, config: pytest.Config):
        self._config = config

    @property
    def _record(self) -> bool:
        return not self._config.getoption("--theorylab-no-record")

    @property
    def device(self) -> str:
        """The device from ``--theorylab-device``."""
        from theorylab.verifier import resolve_device

        return resolve_device(self._config.getoption("--theorylab-device"))

    def verify(self, claim: Claim | str, *, budget: int | None = None, seed: int | None = None,
               ensemble: int | None = None, decoys: bool = True) -> Verdict:
        """Check ``claim`` against its simulation; fail the test unless it passes.

        Returns:
            The verdict, for further assertions.

        """
        from theorylab.verifier import Status, check

        resolved = _resolve(claim)
        budget = budget if budget is not None else self._config.getoption("--theorylab-budget")
        seed = seed if seed is not None else self._config.getoption("--theorylab-seed")
        verdict = check(resolved, budget=budget, seed=seed, device=self.device,
                        ensemble=ensemble, decoys=decoys, record=self._record)
        surviving = [d for d in verdict.decoys if d.status is not Status.FAIL]
        if verdict.status is not Status.PASS or surviving:
            pytest.fail(format_failure(verdict), pytrace=False)
        return verdict

    def prove(self, claim: Claim | str) -> list[Any]:
        """Check the claim's derivations; fail the test unless each one derives the statement."""
        from theorylab.workflow import prove

        resolved = _resolve(claim)
        results = prove(resolved, record=self._record)
        failed = [r for r in results if not r.derives]
        if failed:
            lines = [f"theorylab: a derivation of {resolved.id} does not derive it"]
            for result in failed:
                lines.append(f"  {result.title}: {result.summary()}")
                lines += [f"    step {s.index} ({s.relation}): {s.detail}"
                          for s in result.steps if s.status.value == "failed"]
                if result.conclusion.value == "failed" or result.circular:
                    lines.append(f"    conclusion: {result.conclusion_detail}")
            pytest.fail("\n".join(lines), pytrace=False)
        return results


def _resolve(claim: Claim | str) -> Claim:
    from theorylab import registry

    if isinstance(claim, str):
        return registry.get(claim)
    module = _defining_module(claim)
    if module is not None:
        registry.load(module)  # its derivations and the claims it uses come along
    else:
        registry.register([claim])
    return claim


def _defining_module(claim: Claim) -> Any:
    """The imported module that holds ``claim`` at its top level, if any."""
    import sys

    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if isinstance(namespace, dict) and any(value is claim for value in namespace.values()):
            return module
    return None


def format_failure(verdict: Verdict) -> str:
    """A readable report of a failed verdict: the counterexample and its numbers."""
    from theorylab.verifier import Status, _fmt, format_point

    lines = [f"theorylab: {verdict.claim} {verdict.status.value} "
             f"(seed {verdict.seed}, device {verdict.device}, {len(verdict.points)} points x "
             f"{verdict.ensemble} runs, alpha {verdict.alpha:g})"]
    point = verdict.counterexample or verdict.worst
    if verdict.status is not Status.PASS and point is not None:
        label = "minimal counterexample" if verdict.counterexample else "worst point"
        lines += [f"  {label}: {format_point(point.point)}"]
        if point.prediction is not None:
            lines += [
                f"  prediction:  {_fmt(point.prediction)}",
                f"  estimate:    {_fmt(point.estimate)}  (SE {_fmt(point.standard_error)}, "
                f"bias bound {_fmt(point.bias_bound)})",
                f"  z-score:     {_fmt(point.z_score)}  (|estimate - prediction| / SE)",
                f"  |diff|/tol:  {_fmt(point.ratio)}  (tolerance {_fmt(point.tolerance)}; "
                f"PASS needs <= 1)",
            ]
        if point.reason:
            lines.append(f"  reason: {point.reason}")
    if verdict.reason:
        lines.append(f"  {verdict.reason}")
    for decoy in verdict.decoys:
        if decoy.status is not Status.FAIL:
            lines.append(f"  decoy not rejected (the check cannot tell it apart): "
                         f"{decoy.summary()}")
    return "\n".join(lines)


@pytest.fixture
def theorylab(request: pytest.FixtureRequest) -> TheorylabFixture:
    """Verify claims in one line: ``theorylab.verify(claim)``."""
    return TheorylabFixture(request.config)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Run the verification of a ``@theorylab.verifies`` test before its body."""
    marker = item.get_closest_marker("theorylab")
    if marker is None:
        return
    if not marker.args:
        raise pytest.UsageError(f"{item.nodeid}: the theorylab marker needs a claim")
    TheorylabFixture(item.config).verify(marker.args[0], **marker.kwargs)
