"""``prove`` and ``verify`` from Python, with the command line's semantics.

``theorylab.prove(claim)`` checks a claim's derivations; ``theorylab.verify(claim)``
proves, checks against the simulation and runs the decoys. Both record to the
same evidence store as the CLI (opt out with ``record=False``), so a check run in
a notebook or a test suite counts towards the claim's status like one run from
the shell. A verification *succeeds* only when the check is PASS, every decoy is
rejected and every derivation derives the statement: INCONCLUSIVE is not success.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from theorylab.claim import Claim
from theorylab.derivation import DerivationResult, check_derivation
from theorylab.verifier import Status, Verdict, check

__all__ = ["prove", "verify", "Verification", "derivation_record"]


def _store(record: Any) -> Any:
    if record is False or record is None:
        return None
    from theorylab.evidence import Evidence

    return Evidence() if record is True else record


def derivation_record(results: list[DerivationResult],
                      seconds: float | None = None) -> dict[str, Any]:
    """The evidence record of a claim's derivation checks (and the seconds they took)."""
    timing = {} if seconds is None else {"seconds": seconds}
    return {**timing, "results": [{
        "title": r.title, "ok": r.ok, "derives": r.derives, "circular": r.circular,
        "status": r.status.value, "counts": r.counts, "summary": r.summary(),
        "steps": [{"relation": s.relation, "reason": s.reason, "status": s.status.value,
                   "detail": s.detail, "latex": s.latex, "cited": s.cited} for s in r.steps],
        "conclusion": r.conclusion.value, "conclusion_detail": r.conclusion_detail,
    } for r in results]}


def prove(claim: Claim | str, *, record: Any = True) -> list[DerivationResult]:
    """Check every derivation of a claim (a Claim or a registered id).

    Args:
        claim: the claim.
        record: True (the default evidence store), an
            :class:`~theorylab.evidence.Evidence`, or False.

    Returns:
        One result per derivation (empty when the claim has none).

    """
    from theorylab import registry

    resolved = registry.get(claim) if isinstance(claim, str) else claim
    started = time.perf_counter()
    results = [check_derivation(d, resolved.statement) for d in registry.derivations(resolved.id)]
    store = _store(record)
    if store is not None and results:
        store.record("derivation", resolved,
                     derivation_record(results, time.perf_counter() - started))
    return results


@dataclass
class Verification:
    """What :func:`verify` found: the derivations and the check."""

    claim: str
    derivations: list[DerivationResult]
    verdict: Verdict
    notes: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        """PASS, every decoy rejected, and every derivation derives the statement."""
        return (self.verdict.status is Status.PASS and self.verdict.decoys_rejected
                and all(result.derives for result in self.derivations))


def verify(claim: Claim | str, *, budget: int | None = None, seed: int = 0,
           device: str | None = "cpu", record: Any = True, **options: Any) -> Verification:
    """Prove, check and run the decoys of one claim, as ``theorylab verify`` does.

    Extra keyword arguments go to :func:`theorylab.verifier.check`.
    """
    from theorylab import registry

    resolved = registry.get(claim) if isinstance(claim, str) else claim
    store = _store(record)
    derivations = prove(resolved, record=store if store is not None else False)
    verdict = check(resolved, budget=budget, seed=seed, device=device,
                    record=store if store is not None else False, **options)
    return Verification(resolved.id, derivations, verdict)
