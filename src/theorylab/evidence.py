"""Where verdicts and derivation checks are kept between runs.

An append-only JSON-lines file: each result is written as soon as it exists, so
an interrupted ``theorylab verify`` never loses what it already computed. The
latest record for a claim counts only while the claim's fingerprint (its
statement, parameters and decoys) is unchanged.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from theorylab.claim import Claim

__all__ = ["Evidence", "default_path"]


def default_path() -> Path:
    """``$THEORYLAB_EVIDENCE`` or ``.theorylab/evidence.jsonl`` in the working directory."""
    return Path(os.environ.get("THEORYLAB_EVIDENCE", ".theorylab/evidence.jsonl"))


class Evidence:
    """An append-only store of results."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_path()

    def record(self, kind: str, claim: Claim, data: dict[str, Any]) -> None:
        """Append one result, flushed to disk immediately."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"kind": kind, "claim": claim.id, "fingerprint": claim.fingerprint(),
                 "time": time.time(), "data": data}
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def entries(self) -> list[dict[str, Any]]:
        """All records, oldest first; unreadable lines (a torn write) are skipped."""
        if not self.path.exists():
            return []
        found = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return found

    def latest(self, kind: str, claim: Claim, *,
               include_smoke: bool = False) -> dict[str, Any] | None:
        """The newest record of this kind for the claim's current fingerprint.

        Smoke checks (below the claim's default budget) are skipped unless
        ``include_smoke``: they are shown, but never raise or lower a status.
        """
        fingerprint = claim.fingerprint()
        for entry in reversed(self.entries()):
            if (entry.get("kind") == kind and entry.get("claim") == claim.id
                    and entry.get("fingerprint") == fingerprint
                    and isinstance(entry.get("data"), dict)
                    and (include_smoke or not entry["data"].get("smoke"))):
                return entry["data"]
        return None
