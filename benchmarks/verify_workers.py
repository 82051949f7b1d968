"""Time ``theorylab verify`` of the whole catalogue with 1 and with 2 local Dask workers.

    python benchmarks/verify_workers.py [--workers 1 2] [-- extra verify arguments]

Both runs happen in one invocation, one after the other, each with a fresh evidence
file (so that no result is reused), and the script prints each wall time, each exit
code and the ratio. Run it on a quiet machine: on a shared 2-core box the second
worker competes with everything else.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def main() -> int:
    """Run verify once per worker count; print the times and their ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("extra", nargs="*", help="more arguments for theorylab verify")
    args = parser.parse_args()
    times = {}
    for count in args.workers:
        with tempfile.TemporaryDirectory() as folder:
            environment = dict(os.environ, THEORYLAB_EVIDENCE=os.path.join(folder, "e.jsonl"))
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "theorylab", "verify", "--no-report",
                 "--workers", str(count), *args.extra],
                env=environment, capture_output=True, text=True)
            times[count] = time.perf_counter() - started
            lines = result.stdout.splitlines()
            verified = sum(line.rstrip().endswith(")") and " fully verified (" in line
                           for line in lines)
            total = next((line for line in reversed(lines) if " claims, seed " in line),
                         result.stderr.strip()[-200:])
            print(f"workers {count}: {times[count]:.0f} s, exit {result.returncode}; "
                  f"{verified} fully verified; {total.strip()}", flush=True)
    if len(times) >= 2:
        first, last = args.workers[0], args.workers[-1]
        print(f"ratio {first} : {last} workers = {times[first] / times[last]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
