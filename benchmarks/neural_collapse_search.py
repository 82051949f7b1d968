"""How reliably the neural_collapse simulations find the global minimum, and how fast.

    python benchmarks/neural_collapse_search.py [--seeds 10]

For each claim and seed: the points of a default check, the fraction of random
starts that end at the best value found (per point; a global search fails only
if none does), the smallest such fraction, the largest bias bound relative to
the measured value, and the wall time of one batched simulation. Timings on a
shared 2-core machine are pessimistic.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from theorylab import registry
from theorylab.verifier import draw_points


def main() -> None:
    """Print one row per claim."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    print(f"{'claim':<40} {'points':>6} {'starts at best':>14} {'worst':>6} "
          f"{'bias/|q| max':>12} {'s/call':>7}")
    for claim in registry.claims("neural_collapse"):
        fractions, biases, times, count = [], [], [], 0
        for seed in range(args.seeds):
            points = draw_points(claim, claim.budget, seed)
            started = time.perf_counter()
            measured = claim.simulator()(points, seed=seed, device="cpu", ensemble=claim.ensemble)
            times.append(time.perf_counter() - started)
            for measurement in measured:
                count += 1
                fractions.append(measurement.info["starts_at_best"] / measurement.info["starts"])
                scale = float(np.abs(measurement.samples).max()) or 1.0
                biases.append(measurement.rounding / scale)
        print(f"{claim.id:<40} {count:>6} {np.mean(fractions):>14.2f} {np.min(fractions):>6.2f} "
              f"{np.max(biases):>12.1e} {np.mean(times):>7.2f}", flush=True)


if __name__ == "__main__":
    main()
