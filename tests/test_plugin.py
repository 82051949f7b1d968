"""The pytest plugin: entry point, light imports, options and markers."""

from __future__ import annotations

from importlib.metadata import entry_points

LIGHT = '''
import sys


def test_nothing_heavy_is_imported(request):
    assert request.config.pluginmanager.hasplugin("theorylab")
    heavy = [m for m in ("torch", "sympy", "theorylab.theory", "theorylab.verifier")
             if m in sys.modules]
    assert not heavy, heavy
'''

OPTIONS = '''
import pytest


def test_options_reach_the_verifier(theorylab):
    verdict = theorylab.verify("deep_linear.saxe_mode_strength")
    assert verdict.seed == 7 and len(verdict.points) == 2 and verdict.device == "cpu"


@pytest.mark.gpu
def test_needs_a_gpu():
    import torch

    assert torch.cuda.is_available()


@pytest.mark.slow
def test_slow_verification(theorylab):
    raise AssertionError("skipped unless --theorylab-slow")


@pytest.mark.theorylab
def test_marker_without_claim():
    pass
'''


def test_registered_through_pytest11():
    (found,) = [e for e in entry_points(group="pytest11") if e.name == "theorylab"]
    assert found.value == "theorylab.pytest_plugin"


def test_loading_the_plugin_imports_nothing_heavy(tmp_path, run_pytest):
    (tmp_path / "test_light.py").write_text(LIGHT)
    result = run_pytest(tmp_path, "-q")
    assert result.returncode == 0, result.stdout + result.stderr


def test_options_and_markers(tmp_path, run_pytest):
    import torch

    (tmp_path / "test_options.py").write_text(OPTIONS)
    result = run_pytest(tmp_path, "-rs", "--theorylab-seed", "7", "--theorylab-budget", "2")
    out = result.stdout
    assert "test_options.py::test_marker_without_claim" in out and "needs a claim" in out
    assert "skipped unless" not in out and "slow theorylab verification" in out
    if not torch.cuda.is_available():
        assert "needs CUDA" in out
    assert "1 passed" in out or "2 passed" in out


def test_bad_device_option_is_a_clear_error(tmp_path, run_pytest):
    (tmp_path / "test_device.py").write_text(
        "def test_device(theorylab):\n    theorylab.verify('deep_linear.saxe_mode_strength')\n")
    result = run_pytest(tmp_path, "-q", "--theorylab-device", "tpu")
    assert result.returncode == 1
    assert "parameter 'device' must be one of 'cpu', 'cuda', 'auto'" in result.stdout
