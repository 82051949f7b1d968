"""theorylab: check deep-learning theory against first-principles simulation.

The public API::

    from theorylab import Claim, Parameter, check, get
    claim = get("deep_linear.saxe_mode_strength")
    claim.predict(s=1, u0=0.001, tau=1, t=3)
    verdict = check(claim, budget=8, seed=0)

Heavy modules (torch, the family catalogues) load only when first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Claim": "theorylab.claim",
    "Citation": "theorylab.claim",
    "Parameter": "theorylab.claim",
    "Constraint": "theorylab.claim",
    "Decoy": "theorylab.claim",
    "SystematicError": "theorylab.claim",
    "Real": "theorylab.domains",
    "Integer": "theorylab.domains",
    "Choice": "theorylab.domains",
    "Matrix": "theorylab.domains",
    "Measurement": "theorylab.measurement",
    "Step": "theorylab.derivation",
    "Derivation": "theorylab.derivation",
    "check_derivation": "theorylab.derivation",
    "check": "theorylab.verifier",
    "verify": "theorylab.workflow",
    "prove": "theorylab.workflow",
    "named_function": "theorylab.functions",
    "simulation": "theorylab.simulations",
    "ClaimDefinitionError": "theorylab.errors",
    "Verdict": "theorylab.verifier",
    "Status": "theorylab.verifier",
    "get": "theorylab.registry",
    "claims": "theorylab.registry",
    "families": "theorylab.registry",
    "load": "theorylab.registry",
    "register": "theorylab.registry",
    "verifies": "theorylab.pytest_plugin",
    "parse_expression": "theorylab.expressions",
    "ParameterError": "theorylab.errors",
    "TheorylabError": "theorylab.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'theorylab' has no attribute {name!r}")
