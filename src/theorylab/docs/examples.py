"""Example figures for a family's section of the index (they run a small simulation).

Only ``theorylab verify --report`` draws them (``build_site(..., examples=True)``):
``theorylab docs`` never simulates. Each entry of
:data:`~theorylab.docs.site.FAMILY_EXAMPLES` draws into a folder and returns a
MyST snippet, or None when its numerics are not there.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["neural_collapse_metrics", "plot_metrics"]

_STEP_KEYS = ("epoch", "epochs", "step", "steps", "iteration", "iterations")


def plot_metrics(metrics: Mapping[str, Sequence[float]], path: Path, title: str) -> bool:
    """Plot named metrics over training on log-y axes; False if nothing is plottable."""
    from theorylab.docs.figures import _pyplot

    steps_key = next((k for k in _STEP_KEYS if k in metrics), None)
    series = {name: np.asarray(values, dtype=float) for name, values in metrics.items()
              if name != steps_key and np.ndim(values) == 1 and len(values) > 1}
    if not series:
        return False
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6.4, 3.8))
    for name, values in series.items():
        steps = (np.asarray(metrics[steps_key], dtype=float) if steps_key
                 else np.arange(len(values)))
        positive = values > 0
        axis.plot(steps[positive], values[positive], "-", lw=1.6, label=name)
    axis.set_yscale("log")
    axis.set_xlabel(steps_key or "step")
    axis.set_ylabel("metric")
    axis.set_title(title, fontsize=10)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def neural_collapse_metrics(folder: Path) -> str | None:
    """NC1-NC4 over training, from ``numerics.neural_collapse.terminal_phase_metrics``.

    The hook for the neural_collapse family: it draws the figure when that
    function exists (returning a mapping of metric name -> values over training,
    with an optional 'epoch' or 'step' entry) and skips quietly otherwise.
    """
    try:
        module = importlib.import_module("theorylab.numerics.neural_collapse")
    except ImportError:
        return None
    function: Any = getattr(module, "terminal_phase_metrics", None)
    if function is None:
        return None
    metrics = function()
    folder.mkdir(parents=True, exist_ok=True)
    if not plot_metrics(metrics, folder / "terminal_phase.png",
                        "neural collapse over training (terminal phase)"):
        return None
    return ("```{figure} neural_collapse/figures/terminal_phase.png\n"
            ":alt: NC1 to NC4 over training\n:width: 70%\n\n"
            "Example: the neural-collapse metrics NC1–NC4 over training "
            "(`theorylab.numerics.neural_collapse.terminal_phase_metrics`), drawn when "
            "`theorylab verify` writes the report.\n```")
