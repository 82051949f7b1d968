"""The catalogue: every claim in ``theorylab.theory``, its derivations, its status.

Family modules are discovered, not listed: each module of ``theorylab.theory``
is a family, and its :class:`~theorylab.claim.Claim` objects are its claims.
Derivations live in the module of the same name in ``theorylab.proofs``.

A theorist's own claims join the catalogue with :func:`load` (a ``.py`` path or
an importable module) or :func:`register`: their families then appear beside
the catalogue's in listings, checks and the docs site.

Statuses are computed from evidence, never set by hand:
``stated`` -> ``derived`` (every derivation checks) -> ``verified`` (the latest
check passed and rejected every decoy) -> ``fully verified`` (it and everything
it uses are verified).
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from theorylab.claim import Claim, claims_in
from theorylab.derivation import Derivation
from theorylab.errors import ParameterError, TheorylabError, UnknownClaimError

if TYPE_CHECKING:
    from theorylab.evidence import Evidence

__all__ = ["families", "claims", "get", "derivations", "status", "STATUSES", "load",
           "register", "user_families", "closure", "derivation_summary"]

STATUSES = ("stated", "derived", "verified", "fully verified")


# A theorist's own claims and derivations, by family (see :func:`register`).
_USER_CLAIMS: dict[str, dict[str, Claim]] = {}
_USER_DERIVATIONS: dict[str, list[Derivation]] = {}


@cache
def _catalogue_families() -> tuple[str, ...]:
    import theorylab.theory as theory

    return tuple(sorted(m.name for m in pkgutil.iter_modules(theory.__path__)
                        if not m.name.startswith("_")))


def families() -> tuple[str, ...]:
    """Names of the catalogue's families, then those of registered user claims."""
    return _catalogue_families() + tuple(sorted(_USER_CLAIMS))


def user_families() -> tuple[str, ...]:
    """Names of the families registered with :func:`register` or :func:`load`."""
    return tuple(sorted(_USER_CLAIMS))


def register(claims: Iterable[Claim], derivations: Iterable[Derivation] = ()) -> list[Claim]:
    """Add a theorist's own claims (and their derivations) to the registry.

    Registering a claim id again replaces the earlier claim, so re-running a
    notebook cell or re-importing a module is harmless.

    Raises:
        TheorylabError: for a claim in a catalogue family, or one whose id has
            no family prefix.

    """
    added = list(claims)
    for claim in added:
        if not isinstance(claim, Claim):
            raise TheorylabError(f"register() takes Claim objects, got {type(claim).__name__}")
        if "." not in claim.id:
            raise TheorylabError(f"claim id '{claim.id}' needs a family prefix, "
                                 "as in 'mywork.my_claim'")
        if claim.family in _catalogue_families():
            raise TheorylabError(f"claim '{claim.id}' is in the catalogue family "
                                 f"'{claim.family}'; give your claims a family of their own")
    for claim in added:
        _USER_CLAIMS.setdefault(claim.family, {})[claim.id] = claim
    for derivation in derivations:
        family = derivation.claim.split(".", 1)[0]
        kept = [d for d in _USER_DERIVATIONS.get(family, []) if d.title != derivation.title
                or d.claim != derivation.claim]
        _USER_DERIVATIONS[family] = kept + [derivation]
    return added


def load(source: str | Path | ModuleType) -> list[Claim]:
    """Import a theorist's module (a ``.py`` path or a module name) and register its claims.

    The module's claims are the ones it defines; claims it imports are registered
    as dependencies (so that ``uses`` resolves) but not returned, so a shared base
    claim is not checked again by every file that imports it. Its
    :class:`~theorylab.derivation.Derivation` objects are registered too. The
    working directory is importable, as under pytest.

    Raises:
        TheorylabError: when the file or module cannot be found or imported, holds no
            claim, defines an id that another loaded claim already has, or names in
            ``uses`` a claim that is not loaded (before any simulation runs).

    """
    module = source if isinstance(source, ModuleType) else _import(str(source))
    namespace = vars(module)
    found = claims_in(namespace)
    own = [claim for claim in found if claim._module == module.__name__] or found
    if not own:
        raise TheorylabError(f"no Claim objects found in {module.__name__}")
    _refuse_duplicates(own, module.__name__)
    register(found, [v for v in namespace.values() if isinstance(v, Derivation)])
    for claim in own:
        for used in claim.uses:
            try:
                get(used)
            except UnknownClaimError:
                raise TheorylabError(
                    f"claim {claim.id!r} uses {used!r}, which is not loaded: import the module "
                    f"that defines it in {module.__name__}, pass it with --module as well, or "
                    f"correct the id") from None
    return own


def _refuse_duplicates(claims: list[Claim], module_name: str) -> None:
    seen: dict[str, Claim] = {}
    for claim in claims:
        if claim.id in seen and seen[claim.id] is not claim:
            raise TheorylabError(f"claim id {claim.id!r} is defined twice in {module_name}")
        seen[claim.id] = claim
        earlier = _USER_CLAIMS.get(claim.family, {}).get(claim.id)
        if earlier is not None and earlier is not claim and _origin(earlier) != _origin(claim):
            raise TheorylabError(f"claim id {claim.id!r} is defined both in {earlier._module} "
                                 f"and in {claim._module}; give one of them another id")


def _origin(claim: Claim) -> str:
    """The file that defines a claim (the same file imported by path and by name is one)."""
    module = sys.modules.get(claim._module)
    path = getattr(module, "__file__", None)
    return str(Path(path).resolve()) if path else claim._module


def _import(source: str) -> ModuleType:
    import os

    if not source.strip() or source.strip() in {".", ".."}:
        raise TheorylabError(f"--module {source!r} is not a module name or a .py file")
    if len(source) > 1000:
        raise TheorylabError(f"--module path is too long ({len(source)} characters)")
    path = Path(source)
    try:
        is_file = path.is_file()
    except OSError as error:  # a name too long for the file system, say
        shown = source if len(source) <= 80 else source[:77] + "..."
        raise TheorylabError(f"--module {shown!r} cannot be read: {error.strerror}") from None
    if source.endswith(".py") or is_file:
        if not is_file:
            raise TheorylabError(f"no such file: {source}")
        name = "theorylab_user_" + "".join(c if c.isalnum() else "_" for c in path.stem)
        spec = importlib.util.spec_from_file_location(name, path.resolve())
        if spec is None or spec.loader is None:
            raise TheorylabError(f"cannot import {source}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling look modules up by name
        folder = str(path.resolve().parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)  # so the file can import its neighbours
        _execute(spec.loader, module, source)
        return module
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # the working directory is importable, as in pytest
    try:
        return importlib.import_module(source)
    except ModuleNotFoundError as error:
        if error.name and source.startswith(error.name):
            raise TheorylabError(f"no module named '{source}' (nor a file of that name)") from None
        raise TheorylabError(f"module {source!r} could not be imported: {error}") from None
    except SyntaxError as error:
        raise TheorylabError(f"module {source!r} has a syntax error at line {error.lineno}: "
                             f"{error.msg}") from None
    except (TheorylabError, ImportError):
        raise
    except Exception as error:  # noqa: BLE001  (a user's module raising at import)
        raise TheorylabError(f"importing {source!r} raised {type(error).__name__}: "
                             f"{' '.join(str(error).split())[:200]}") from None


def _execute(loader: Any, module: ModuleType, source: str) -> None:
    try:
        loader.exec_module(module)
    except SyntaxError as error:
        raise TheorylabError(f"{source} has a syntax error at line {error.lineno}: "
                             f"{error.msg}") from None
    except TheorylabError:
        raise
    except Exception as error:  # noqa: BLE001  (a user's module raising at import)
        raise TheorylabError(f"importing {source} raised {type(error).__name__}: "
                             f"{' '.join(str(error).split())[:200]}") from None


def _family_claims(family: str) -> tuple[Claim, ...]:
    if family in _USER_CLAIMS:
        return tuple(_USER_CLAIMS[family].values())
    return _catalogue_claims(family)


@cache
def _catalogue_claims(family: str) -> tuple[Claim, ...]:
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


def _family_derivations(family: str) -> tuple[Derivation, ...]:
    if family in _USER_CLAIMS:
        return tuple(_USER_DERIVATIONS.get(family, ()))
    return _catalogue_derivations(family)


@cache
def _catalogue_derivations(family: str) -> tuple[Derivation, ...]:
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
    # "derives", not merely "ok": a derivation that assumes its conclusion, or only
    # assumes, checks nothing about the claim.
    derived = bool(needed) and proofs is not None and all(
        isinstance(p, dict) and p.get("derives") is True for p in proofs.get("results", [])
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



def derivation_summary(claim: Claim, evidence: Evidence) -> str:
    """What the claim's latest derivation check rests on, e.g. '7 exact, 2 numeric, 1 cited'.

    Summed over its derivations; '' when none was checked for the current statement.
    """
    proofs = evidence.latest("derivation", claim)
    if proofs is None:
        return ""
    totals = {"exact": 0, "numeric": 0, "cited": 0}
    for result in proofs.get("results", []):
        counts = result.get("counts") if isinstance(result, dict) else None
        if not isinstance(counts, dict):
            return ""
        for key in totals:
            value = counts.get(key, 0)
            totals[key] += value if isinstance(value, int) else 0
    return f"{totals['exact']} exact, {totals['numeric']} numeric, {totals['cited']} cited"
