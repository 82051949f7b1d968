"""Measure how often true claims FAIL, and the smallest error each check detects.

    python benchmarks/calibration.py [--seeds 200] [--family deep_linear] [--claim ID]

For each claim: the number of FAILs over independent seeds (the verifier is
configured for a family-wise rate alpha = 1e-3, so expect 0 and report the 95%
upper confidence bound on the rate), the smallest relative perturbation
``prediction * (1 + epsilon)`` that the default budget rejects, for both signs,
and the decoys that survived a seed (each must be rejected at every seed).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

from theorylab import registry
from theorylab.verifier import Status, check


def smallest_rejected(verdict) -> float:
    """Smallest |epsilon| such that prediction*(1+epsilon) FAILs at some point."""
    best = np.inf
    for point in verdict.points:
        if point.status is Status.INCONCLUSIVE:
            continue
        prediction = np.asarray(point.prediction, dtype=float).ravel()
        difference = (np.asarray(point.estimate, dtype=float).ravel() - prediction)
        tolerance = np.asarray(point.tolerance, dtype=float).ravel()
        magnitude = np.abs(prediction)
        mask = magnitude > 0
        for sign in (1.0, -1.0):
            # |difference - sign*eps*p| > tol  <=>  eps > (tol + sign*difference*sgn(p)) / |p|
            needed = (tolerance + sign * difference * np.sign(prediction))[mask] / magnitude[mask]
            if needed.size:
                best = min(best, float(needed.min()))
    return best


def main() -> None:
    """Run the calibration and print one row per claim."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--family")
    parser.add_argument("--claim", action="append")
    args = parser.parse_args()
    claims = ([registry.get(c) for c in args.claim] if args.claim
              else registry.claims(args.family))
    print(f"{'claim':<40} {'checks':>6} {'FAIL':>5} {'INC':>4} {'rate 95% UB':>11} "
          f"{'eps (median)':>12} {'eps (max)':>10} {'s/check':>8}  decoys survived")
    for claim in claims:
        failures = inconclusive = 0
        epsilons = []
        survived: dict[str, int] = {}
        started = time.perf_counter()
        for seed in range(args.seeds):
            # Shrinking is skipped for speed, except for bounds: their decoys are
            # rejected by the targeted search that runs with it, as by default.
            verdict = check(claim, seed=seed, shrink=claim.relation == "<=")
            failures += verdict.status is Status.FAIL
            inconclusive += verdict.status is Status.INCONCLUSIVE
            for decoy in verdict.decoys:
                if decoy.status is not Status.FAIL:
                    name = decoy.subject.split("~", 1)[1]
                    survived[name] = survived.get(name, 0) + 1
            if seed < 20:
                epsilons.append(smallest_rejected(verdict))
        elapsed = (time.perf_counter() - started) / args.seeds
        upper = stats.beta.ppf(0.95, failures + 1, args.seeds - failures)
        print(f"{claim.id:<40} {args.seeds:>6} {failures:>5} {inconclusive:>4} {upper:>11.2e} "
              f"{np.median(epsilons):>12.1e} {np.max(epsilons):>10.1e} {elapsed:>8.2f}  "
              + (", ".join(f"{k} {v}/{args.seeds}" for k, v in survived.items()) or "none"),
              flush=True)


if __name__ == "__main__":
    main()
