"""Shared fixtures: every test writes evidence to its own temporary file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.fixture(autouse=True)
def _isolated_evidence(tmp_path, monkeypatch):
    monkeypatch.setenv("THEORYLAB_EVIDENCE", str(tmp_path / "evidence.jsonl"))
    # check and verify run in the test's own process (monkeypatches reach them); the
    # tests that want Dask workers ask for them with --workers K.
    monkeypatch.setenv("THEORYLAB_WORKERS", "1")


@pytest.fixture(autouse=True)
def _isolated_registry():
    # A theorist's claims are registered process-wide; two tests that load the same id
    # from different files (the guide and the example) must not see each other's.
    from theorylab import registry

    claims = {family: dict(found) for family, found in registry._USER_CLAIMS.items()}
    derivations = {family: list(found) for family, found in registry._USER_DERIVATIONS.items()}
    yield
    registry._USER_CLAIMS.clear()
    registry._USER_CLAIMS.update(claims)
    registry._USER_DERIVATIONS.clear()
    registry._USER_DERIVATIONS.update(derivations)


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
