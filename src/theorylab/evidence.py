"""Where verdicts and derivation checks are kept between runs.

An append-only JSON-lines file: each result is written as soon as it exists, so
an interrupted ``theorylab verify`` never loses what it already computed. The
latest record for a claim counts only while the claim's fingerprint (its
statement, parameters and decoys) is unchanged.

Several processes may append at once (two CLI runs, a calibration client, a test
suite, a notebook): each append holds an exclusive ``fcntl.flock`` on the file
and starts on a new line, so a line torn by a killed writer cannot swallow the
next record. Reads survive damage: a line that is not valid UTF-8, not JSON, or
not a record of the expected shape is skipped with one warning naming the file
and the line, and counted in :attr:`Evidence.skipped`.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path
from typing import Any

from theorylab.claim import Claim
from theorylab.errors import TheorylabError, elide

__all__ = ["MAX_BYTES", "Evidence", "default_path", "valid_entry"]

#: The largest evidence file read (2 GiB): beyond it a path is refused, not read.
MAX_BYTES = 2 * 1024**3
_STATUSES = ("PASS", "FAIL", "INCONCLUSIVE")
_warned: set[tuple[str, int, int]] = set()  # (file, line, its hash): one warning per bad line


def default_path() -> Path:
    """``$THEORYLAB_EVIDENCE`` or ``.theorylab/evidence.jsonl`` in the working directory."""
    return Path(os.environ.get("THEORYLAB_EVIDENCE", ".theorylab/evidence.jsonl"))


def valid_entry(entry: Any) -> str:
    """Why ``entry`` is not an evidence record ('' when it is one).

    A record is an object with ``kind``, ``claim`` and ``fingerprint`` strings and
    a ``data`` object; a verdict's data has a known status, an integer seed and a
    short device string.
    """
    if not isinstance(entry, dict):
        return f"not an object but {type(entry).__name__}"
    for key in ("kind", "claim", "fingerprint"):
        if not isinstance(entry.get(key), str):
            return f"'{key}' is not a string"
    data = entry.get("data")
    if not isinstance(data, dict):
        return "'data' is not an object"
    if entry["kind"] == "verdict":
        if data.get("status") not in _STATUSES:
            return "the verdict's status is not PASS, FAIL or INCONCLUSIVE"
        seed = data.get("seed")
        if isinstance(seed, bool) or not isinstance(seed, int):
            return "the verdict's seed is not an integer"
        device = data.get("device")
        if not isinstance(device, str) or not 0 < len(device) <= 16:
            return "the verdict's device is not a short string"
    return ""


class Evidence:
    """An append-only store of results, safe for several writers at once."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_path()
        #: Lines skipped as damaged by the last read.
        self.skipped = 0
        self._cache: tuple[tuple[int, int, int], list[dict[str, Any]], int] | None = None

    def record(self, kind: str, claim: Claim, data: dict[str, Any]) -> None:
        """Append one result, flushed to disk immediately."""
        self.append({"kind": kind, "claim": claim.id, "fingerprint": claim.fingerprint(),
                     "time": time.time(), "data": data})

    def append(self, entry: dict[str, Any]) -> None:
        """Append one record (a dict as :meth:`entries` returns them) under an exclusive lock."""
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(entry) + "\n").encode("utf-8")
        descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            size = os.fstat(descriptor).st_size
            if size and os.pread(descriptor, 1, size - 1) != b"\n":
                line = b"\n" + line  # a torn last line stays alone, the record stays whole
            _write_all(descriptor, line)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)  # releases the lock

    def entries(self) -> list[dict[str, Any]]:
        """All valid records, oldest first; damaged lines are skipped, warned and counted.

        Raises:
            TheorylabError: the path is a folder, a device or a file over
                :data:`MAX_BYTES` (never read).

        """
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            self.skipped = 0
            return []
        except OSError as error:
            raise TheorylabError(f"evidence {self._shown()} cannot be read: "
                                 f"{error.strerror}") from None
        if stat.S_ISDIR(info.st_mode):
            raise TheorylabError(f"evidence {self._shown()} is a directory, not a .jsonl file")
        if not stat.S_ISREG(info.st_mode):
            raise TheorylabError(f"evidence {self._shown()} is not a regular file")
        if info.st_size > MAX_BYTES:
            raise TheorylabError(f"evidence {self._shown()} is {info.st_size / 1024**3:.1f} "
                                 f"GiB, over the {MAX_BYTES // 1024**3} GiB an evidence file "
                                 f"may be")
        key = (info.st_size, info.st_mtime_ns, info.st_ino)
        if self._cache is not None and self._cache[0] == key:
            self.skipped = self._cache[2]
            return list(self._cache[1])
        with self.path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
        found, skipped = [], 0
        for number, line in enumerate(raw.split(b"\n"), start=1):
            if not line.strip():
                continue
            problem = ""
            try:
                entry = json.loads(line.decode("utf-8"))
                problem = valid_entry(entry)
            except UnicodeDecodeError:
                problem = "not valid UTF-8"
            except (ValueError, RecursionError):
                problem = "not valid JSON"
            if problem:
                skipped += 1
                self._warn(number, hash(line), problem)
                continue
            found.append(entry)
        self.skipped = skipped
        self._cache = (key, found, skipped)
        return list(found)

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
                    and (include_smoke or not entry["data"].get("smoke"))):
                return entry["data"]
        return None

    def verdicts(self, claim: Claim, *, include_smoke: bool = False) -> list[dict[str, Any]]:
        """Every verdict recorded for the claim's current fingerprint, oldest first."""
        fingerprint = claim.fingerprint()
        return [entry["data"] for entry in self.entries()
                if entry["kind"] == "verdict" and entry["claim"] == claim.id
                and entry["fingerprint"] == fingerprint
                and (include_smoke or not entry["data"].get("smoke"))]

    def _shown(self) -> str:
        return repr(elide(str(self.path), 80))

    def _warn(self, number: int, digest: int, problem: str) -> None:
        key = (str(self.path), number, digest)
        if key not in _warned:
            _warned.add(key)
            print(f"theorylab: warning: {elide(str(self.path), 80)} line {number} skipped: "
                  f"{problem}", file=sys.stderr)


def _write_all(descriptor: int, data: bytes) -> None:
    while data:
        written = os.write(descriptor, data)
        data = data[written:]
