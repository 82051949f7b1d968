"""Shared fixtures: every test writes evidence to its own temporary file."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_evidence(tmp_path, monkeypatch):
    monkeypatch.setenv("THEORYLAB_EVIDENCE", str(tmp_path / "evidence.jsonl"))


def pytest_collection_modifyitems(config, items):
    import importlib.util

    has_cuda = False
    if importlib.util.find_spec("torch") is not None:
        import torch

        has_cuda = torch.cuda.is_available()
    skip_gpu = pytest.mark.skip(reason="needs CUDA (no GPU on this machine)")
    selected = config.getoption("-m") or ""
    skip_slow = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip_gpu)
        if "slow" in item.keywords and "slow" not in selected:
            item.add_marker(skip_slow)
