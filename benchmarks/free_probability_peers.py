"""Time and check our free-probability densities against freealg and scikit-rmt.

    PEERS_PYTHON=/path/to/venv/bin/python python benchmarks/free_probability_peers.py

The peers are NOT theorylab dependencies: install them into a separate virtual
environment (``python -m venv peers && peers/bin/pip install freealg scikit-rmt``)
and point ``PEERS_PYTHON`` at its interpreter; this script runs them there in a
subprocess on the same grids. References are mpmath at 50 digits: the closed-form
MP density, ``mpmath.quad`` of it for the CDF, and the Haagerup–Möller angle
parametrisation for Fuss–Catalan. Timings are per call on the grid: the median over 7
runs of the mean over ``LOOPS`` calls (both sides the same way; the machine's load
still moves them, so compare rows of one run).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import mpmath
import numpy as np

from theorylab import free, laws

POINTS = 1000
RATIO = 0.5
LOOPS = 200

PEER_SCRIPT = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    grids = {k: np.array(v) for k, v in json.loads(sys.stdin.read()).items()}
    out = {}
    def timed(name, function, grid):
        try:
            values = function(grid)
            times = []
            for _ in range(7):
                start = time.perf_counter()
                for _ in range(%(loops)r):
                    function(grid)
                times.append((time.perf_counter() - start) / %(loops)r)
            out[name] = {"time": float(np.median(times)),
                         "values": np.asarray(values, dtype=float).tolist()}
        except Exception as error:  # report, never crash the benchmark
            out[name] = {"error": f"{type(error).__name__}: {error}"}
    from freealg import distributions as fd
    import skrmt.ensemble.spectral_law as sl
    mp = fd.MarchenkoPastur(%(ratio)r)
    timed("freealg MP density", mp.density, grids["mp"])
    law = sl.MarchenkoPasturDistribution(ratio=%(ratio)r, beta=1, sigma=1.0)
    timed("scikit-rmt MP density", law.pdf, grids["mp"])
    timed("scikit-rmt MP CDF", law.cdf, grids["mp"])
    for s in (2, 3):
        fc = fd.FussCatalan(s)
        timed(f"freealg Fuss-Catalan s={s} density", fc.density, grids[f"fc{s}"])
    print(json.dumps(out))
""") % {"ratio": RATIO, "loops": LOOPS}


def _median_time(function, grid, loops: int = LOOPS) -> tuple[float, np.ndarray]:
    """Seconds per call (median over 7 runs of ``loops`` calls) and the values."""
    values = function(grid)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(loops):
            function(grid)
        times.append((time.perf_counter() - start) / loops)
    return float(np.median(times)), np.asarray(values, dtype=float)


def _cumulative(function, start, grid):
    """``∫_start^x function`` at every grid point (quad between neighbours, summed)."""
    total, previous = mpmath.mpf(0), start
    for x in grid:
        total += mpmath.quad(function, [previous, mpmath.mpf(x)])
        previous = mpmath.mpf(x)
        yield total


def main() -> None:
    """Print one row per method: time for the grid and max errors against mpmath."""
    low, high = laws.marchenko_pastur_edges(RATIO, 1.0)
    grids = {"mp": np.linspace(low + 1e-4, high - 1e-4, POINTS)}
    for s in (2, 3):
        edge = laws.fuss_catalan_edge(s)
        grids[f"fc{s}"] = np.linspace(1e-3 * edge, edge * (1 - 1e-4), POINTS)

    with mpmath.workdps(50):
        def mp_reference(x):
            a, b = laws.marchenko_pastur_edges(mpmath.mpf(RATIO), mpmath.mpf(1))
            x = mpmath.mpf(x)
            return mpmath.sqrt((b - x) * (x - a)) / (2 * mpmath.pi * RATIO * x)

        references = {
            "mp_density": np.array([float(mp_reference(x)) for x in grids["mp"]]),
            "mp_cdf": np.array([float(value) for value in _cumulative(
                mp_reference, laws.marchenko_pastur_edges(mpmath.mpf(RATIO), mpmath.mpf(1))[0],
                grids["mp"])]),
        }
        for s in (2, 3):
            references[f"fc{s}"] = np.array([
                float(laws.fuss_catalan_density(mpmath.mpf(x), s)) for x in grids[f"fc{s}"]])

    law = free.s_transform("marchenko_pastur", ratio=RATIO)
    ours = {
        "theorylab MP density (closed form)": (
            lambda grid: laws.marchenko_pastur_density(grid, RATIO), "mp", "mp_density"),
        "theorylab MP CDF (closed form)": (
            lambda grid: laws.marchenko_pastur_cdf(grid, RATIO), "mp", "mp_cdf"),
        "theorylab MP density (root tracking)": (law.density, "mp", "mp_density"),
        "theorylab MP CDF (root tracking)": (law.cdf, "mp", "mp_cdf"),
    }
    for s in (2, 3):
        ours[f"theorylab Fuss-Catalan s={s} density (angle)"] = (
            lambda grid, s=s: laws.fuss_catalan_density(grid, s), f"fc{s}", f"fc{s}")
        ours[f"theorylab Fuss-Catalan s={s} density (root tracking)"] = (
            free.s_transform("fuss_catalan", s=s).density, f"fc{s}", f"fc{s}")
    rows = []
    for name, (function, grid, reference) in ours.items():
        # the slow methods (root tracking, bisection) with fewer loops
        fast = "closed form" in name
        seconds, values = _median_time(function, grids[grid], LOOPS if fast else 3)
        rows.append((name, seconds, np.max(np.abs(values - references[reference])), ""))

    peers_python = os.environ.get("PEERS_PYTHON")
    if peers_python:
        completed = subprocess.run([peers_python, "-c", PEER_SCRIPT], input=json.dumps(
            {k: v.tolist() for k, v in grids.items()}), capture_output=True, text=True,
            check=False)
        if completed.returncode != 0:
            print(completed.stderr[-2000:], file=sys.stderr)
        else:
            peers = json.loads(completed.stdout.strip().splitlines()[-1])
            keys = {"freealg MP density": "mp_density", "scikit-rmt MP density": "mp_density",
                    "scikit-rmt MP CDF": "mp_cdf", "freealg Fuss-Catalan s=2 density": "fc2",
                    "freealg Fuss-Catalan s=3 density": "fc3"}
            for name, result in peers.items():
                if "error" in result:
                    rows.append((name, float("nan"), float("nan"), result["error"]))
                    continue
                values = np.asarray(result["values"])
                error = np.abs(values - references[keys[name]])
                worst = int(np.argmax(error))
                grid = grids["mp" if keys[name].startswith("mp") else keys[name]]
                note = f"worst at x={grid[worst]:.4g}: {values[worst]:.6g} vs " \
                       f"{references[keys[name]][worst]:.6g}"
                rows.append((name, result["time"], float(error.max()), note))
    print(f"{POINTS}-point grids; MP ratio {RATIO}; reference mpmath at 50 digits")
    print(f"{'method':<52} {'time [ms]':>10} {'max abs error':>14}  note")
    for name, seconds, error, note in rows:
        print(f"{name:<52} {1e3 * seconds:>10.2f} {error:>14.2e}  {note}")


if __name__ == "__main__":
    main()
