"""Shared fixtures: every test writes evidence to its own temporary file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.fixture(autouse=True)
def _isolated_evidence(tmp_path, monkeypatch):
    monkeypatch.setenv("THEORYLAB_EVIDENCE", str(tmp_path / "evidence.jsonl"))


def pytest_collection_modifyitems(config, items):
    # gpu tests are skipped without CUDA by theorylab's own pytest plugin.
    selected = config.getoption("-m") or ""
    skip_slow = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if "slow" in item.keywords and "slow" not in selected:
            item.add_marker(skip_slow)


@pytest.fixture
def run_pytest():
    """Run pytest in a subprocess in ``folder``, as a user would (plugin via its entry point)."""

    def run(folder, *arguments):
        environment = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *arguments],
            cwd=folder, capture_output=True, text=True, env=environment, timeout=600)

    return run
