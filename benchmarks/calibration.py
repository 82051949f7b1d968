"""Measure how often true claims FAIL, and whether the verifier's error model holds.

A thin call of ``theorylab calibrate`` (see ``theorylab calibrate --help``):

    python benchmarks/calibration.py --seeds 200 --family deep_linear [--workers 2]

With no arguments: 200 seeds of every catalogue claim on a local Dask cluster.
The report goes to calibration.json and calibration.html beside the evidence file.
"""

from __future__ import annotations

import sys

from theorylab.cli import main

if __name__ == "__main__":
    sys.exit(main(["calibrate", *(sys.argv[1:] or ["--seeds", "200"])]))
