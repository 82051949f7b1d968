"""The evidence store under damage and under several writers at once."""

from __future__ import annotations

import json
import multiprocessing
import os
import time

import pytest

from theorylab.errors import TheorylabError
from theorylab.evidence import MAX_BYTES, Evidence, valid_entry


def _record(number: int, **changes) -> dict:
    entry = {"kind": "verdict", "claim": "family.claim", "fingerprint": "f",
             "time": 0.0, "data": {"status": "PASS", "seed": number, "device": "cpu"}}
    entry.update(changes)
    return entry


def _line(entry) -> bytes:
    return (json.dumps(entry) + "\n").encode()


DAMAGED = [
    b"[1]\n", b"42\n", b"null\n", b"\"text\"\n", b"\xff\xfe not utf-8\n", b"{\"kind\": \n",
    _line({"claim": "c", "fingerprint": "f", "data": {}}),  # no kind
    _line(_record(9, data=[1])),  # data not an object
    _line(_record(9, data={"status": "MAYBE", "seed": 1, "device": "cpu"})),
    _line(_record(9, data={"status": "PASS", "seed": "1", "device": "cpu"})),
    _line(_record(9, data={"status": "PASS", "seed": True, "device": "cpu"})),
    _line(_record(9, data={"status": "PASS", "seed": 1, "device": "x" * 100})),
    b"[" * 100_000 + b"\n",  # deep nesting
]


def test_each_damaged_line_is_skipped_warned_and_counted(tmp_path, capsys):
    path = tmp_path / "evidence.jsonl"
    path.write_bytes(_line(_record(0)) + b"".join(DAMAGED) + _line(_record(1)))
    store = Evidence(path)
    assert [e["data"]["seed"] for e in store.entries()] == [0, 1]
    assert store.skipped == len(DAMAGED)
    warnings = capsys.readouterr().err.strip().splitlines()
    assert len(warnings) == len(DAMAGED)
    assert all(str(path.name) in w and f"line {n}" in w
               for n, w in enumerate(warnings, start=2))
    store.entries()
    assert capsys.readouterr().err == ""  # one warning per bad line, not one per read


def test_valid_entry_names_the_problem():
    assert valid_entry(_record(0)) == ""
    assert "object" in valid_entry([1])
    assert "status" in valid_entry(_record(0, data={"status": "?", "seed": 0, "device": "c"}))


def test_a_torn_last_line_does_not_eat_the_next_record(tmp_path):
    path = tmp_path / "evidence.jsonl"
    path.write_bytes(_line(_record(0)) + _line(_record(1))[:25])  # a writer killed mid-line
    store = Evidence(path)
    store.append(_record(2))
    assert [e["data"]["seed"] for e in store.entries()] == [0, 2]
    assert store.skipped == 1


@pytest.mark.parametrize("target", ["directory", "/dev/zero", "huge"])
def test_paths_that_are_not_evidence_are_refused_unread(tmp_path, target):
    if target == "directory":
        path = tmp_path
    elif target == "huge":
        path = tmp_path / "huge.jsonl"
        with path.open("wb") as handle:
            handle.truncate(MAX_BYTES + 1)  # sparse: nothing is written
    else:
        path = target
    started = time.perf_counter()
    with pytest.raises(TheorylabError) as raised:
        Evidence(path).entries()
    assert time.perf_counter() - started < 1.0
    assert "\n" not in str(raised.value)


def _writer(path: str, writer: int, count: int) -> None:
    store = Evidence(path)
    for number in range(count):
        store.append(_record(number, claim=f"writer{writer}", fingerprint="x" * 2000))


def test_concurrent_writers_corrupt_nothing(tmp_path):
    # On a local disk O_APPEND alone keeps each 2 kB write whole; the lock also makes the
    # torn-line check and the write one step, and covers network file systems.
    path = str(tmp_path / "evidence.jsonl")
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_writer, args=(path, w, 40)) for w in range(4)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(60)
        assert process.exitcode == 0
    store = Evidence(path)
    entries = store.entries()
    assert store.skipped == 0
    assert sorted((e["claim"], e["data"]["seed"]) for e in entries) == sorted(
        (f"writer{w}", n) for w in range(4) for n in range(40))


def test_cli_reads_a_damaged_store(tmp_path, capsys):
    from theorylab.cli import main

    path = tmp_path / "evidence.jsonl"
    path.write_bytes(b"".join(DAMAGED))
    assert main(["--evidence", str(path), "show", "deep_linear.saxe_mode_strength"]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_record_appends_after_a_read(tmp_path):
    store = Evidence(tmp_path / "sub" / "evidence.jsonl")
    assert store.entries() == []
    store.append(_record(0))
    os.utime(store.path, ns=(0, 0))  # same size, changed time: the cache must not go stale
    store.append(_record(1))
    assert len(store.entries()) == 2
