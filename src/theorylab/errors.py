"""Exceptions raised by theorylab.

Every user-facing error names what was wrong in one line, so that the CLI can
print it as is and exit with status 2.
"""

from __future__ import annotations

import reprlib


class TheorylabError(Exception):
    """Base class of theorylab's own errors."""


class ParameterError(TheorylabError, ValueError):
    """A parameter value outside its declared domain.

    Attributes:
        parameter: the parameter's name.
        domain: a human-readable description of the domain.

    """

    def __init__(self, parameter: str, domain: str, value: object = None, detail: str = ""):
        self.parameter = parameter
        self.domain = domain
        self.value = value
        got = "" if value is None else f", got {elide(reprlib.repr(value), 60)}"
        extra = f" ({elide(detail, 120)})" if detail else ""
        super().__init__(f"parameter '{elide(parameter, 40)}' must be {elide(domain, 120)}"
                         f"{got}{extra}")


def elide(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with '...' (errors stay short)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


class UnknownClaimError(TheorylabError, KeyError):
    """No claim with the requested id is registered."""

    def __init__(self, claim_id: str, known: list[str] | None = None):
        self.claim_id = claim_id
        hint = ""
        if known:
            import difflib

            close = difflib.get_close_matches(claim_id, known, n=3)
            if close:
                hint = f"; did you mean {', '.join(close)}?"
        super().__init__(f"no claim with id '{elide(claim_id, 80)}'{hint}")

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


class DerivationError(TheorylabError):
    """A derivation is malformed (not merely failing a check)."""


class ClaimDefinitionError(TheorylabError):
    """A claim is declared wrongly (caught when it is built or loaded, not at check time)."""
