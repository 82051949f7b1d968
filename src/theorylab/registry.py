"""The catalogue: every claim in ``theorylab.theory``, its derivations, its status.

Family modules are discovered, not listed: each module of ``theorylab.theory``
is a family, and its :class:`~theorylab.claim.Claim` objects are its claims.
Derivations live in the module of the same name in ``theorylab.proofs``.

Statuses are computed from evidence, never set by hand:
``stated`` -> ``derived`` (every derivation checks) -> ``verified`` (the latest
check passed and rejected every decoy) -> ``fully verified`` (it and everything
it uses are verified).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

from theorylab.claim import Claim, claims_in
from theorylab.derivation import Derivation
from theorylab.errors import ParameterError, UnknownClaimError

if TYPE_CHECKING:
    from theorylab.evidence import Evidence

__all__ = ["families", "claims", "get", "derivations", "status", "STATUSES"]

STATUSES = ("stated", "derived", "verified", "fully verified")


@cache
def families() -> tuple[str, ...]:
    """Names of the families present in ``theorylab.theory``."""
    import theorylab.theory as theory

    return tuple(sorted(m.name for m in pkgutil.iter_modules(theory.__path__)
                        if not m.name.startswith("_")))


@cache
def _family_claims(family: str) -> tuple[Claim, ...]:
    module = importlib.import_module(f"theorylab.theory.{family}")
    found = claims_in(vars(module))
    for claim in found:
        if claim.family != family:
            raise RuntimeError(f"claim {claim.id} is defined in family {family}")
    return tuple(found)


def claims(family: str | None = None) -> list[Claim]:
    """All registered claims, or those of one family.

    Raises:
        ParameterError: for an unknown family.

    """
    if family is None:
        return [c for f in families() for c in _family_claims(f)]
    if family not in families():
        raise ParameterError("family", "one of " + ", ".join(families()), family)
    return list(_family_claims(family))


def get(claim_id: str) -> Claim:
    """The claim with this id.

    Raises:
        UnknownClaimError: with close matches as a hint.

    """
    family = claim_id.split(".", 1)[0]
    if family in families():
        for claim in _family_claims(family):
            if claim.id == claim_id:
                return claim
    raise UnknownClaimError(claim_id, [c.id for c in claims()])


@cache
def _family_derivations(family: str) -> tuple[Derivation, ...]:
    try:
        module = importlib.import_module(f"theorylab.proofs.{family}")
    except ModuleNotFoundError as error:
        if error.name == f"theorylab.proofs.{family}":
            return ()
        raise
    return tuple(v for v in vars(module).values() if isinstance(v, Derivation))


def derivations(claim_id: str) -> list[Derivation]:
    """The derivations of a claim, from ``theorylab.proofs``."""
    family = claim_id.split(".", 1)[0]
    return [d for d in _family_derivations(family) if d.claim == claim_id]


def status(claim: Claim, evidence: Evidence, _seen: frozenset[str] = frozenset()) -> str:
    """The computed status of a claim, from stored evidence."""
    proofs = evidence.latest("derivation", claim)
    needed = derivations(claim.id)
    derived = bool(needed) and proofs is not None and all(
        p.get("ok") for p in proofs.get("results", [])
    ) and len(proofs.get("results", [])) == len(needed)
    if not derived:
        return "stated"
    verdict = evidence.latest("verdict", claim)
    if verdict is None or verdict.get("status") != "PASS" or not all(
        d.get("status") == "FAIL" for d in verdict.get("decoys", [])
    ):
        return "derived"
    seen = _seen | {claim.id}
    for used in claim.uses:
        if used in seen:
            continue
        if status(get(used), evidence, seen) not in {"verified", "fully verified"}:
            return "verified"
    return "fully verified"


def closure(claim_ids: Iterable[str]) -> list[str]:
    """The ids together with everything they use, dependencies first."""
    ordered: list[str] = []

    def visit(claim_id: str) -> None:
        if claim_id in ordered:
            return
        for used in get(claim_id).uses:
            visit(used)
        ordered.append(claim_id)

    for claim_id in claim_ids:
        visit(claim_id)
    return ordered

