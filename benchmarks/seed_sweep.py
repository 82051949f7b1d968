"""Seed sweep without Dask: every (claim, seed) check in a process pool, one torch thread each.

For machines where ``theorylab calibrate`` (Dask) is not installed, such as a borrowed
GPU box: ``python benchmarks/seed_sweep.py --seeds 20 --processes 14 --out sweep.jsonl``
writes one compact JSON line per check as it completes; ``--cuda-family F`` also times
checks of family F on CUDA in a separate process (``cuda.jsonl``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time


def _compact(verdict) -> dict:
    return {
        "claim": verdict.claim, "seed": verdict.seed, "device": verdict.device,
        "status": verdict.status.value, "reason": verdict.reason, "failure": verdict.failure,
        "resolution": verdict.relative_resolution(), "required": verdict.required_resolution,
        "wall_time": verdict.wall_time, "ensemble": verdict.ensemble,
        "critical": verdict.critical_value,
        "points": [[p.status.value, p.z_score, p.ratio,
                    float(max(map(abs, _flat(p.bias_bound)))) if p.bias_bound is not None
                    else None] for p in verdict.points],
        "decoys": {d.subject.split("~")[-1]: d.status.value for d in verdict.decoys},
    }


def _flat(value) -> list:
    if isinstance(value, list):
        return [x for item in value for x in _flat(item)]
    return [value]


def _work(task: tuple[str, int, str]) -> dict:
    import torch

    torch.set_num_threads(1)
    from theorylab import registry
    from theorylab.evidence import Evidence
    from theorylab.verifier import check

    claim_id, seed, device = task
    started = time.perf_counter()
    # Full verdicts go to an evidence store (file-locked, so processes may share it), from
    # which theorylab.calibration.report computes per-component p-values and KS tests.
    store = os.environ.get("SWEEP_EVIDENCE")
    record = Evidence(store) if store else False
    try:
        return _compact(check(registry.get(claim_id), seed=seed, device=device, record=record))
    except Exception as error:  # noqa: BLE001
        return {"claim": claim_id, "seed": seed, "device": device, "status": "ERROR",
                "reason": f"{type(error).__name__}: {error}",
                "wall_time": time.perf_counter() - started}


def _cuda(family: list[str], seeds: int, out: str) -> None:
    from theorylab import registry

    with open(out, "a") as handle:
        for claim in [c for f in family for c in registry.claims(f)]:
            for seed in range(seeds):
                result = _work((claim.id, seed, "cuda"))
                handle.write(json.dumps(result, allow_nan=True) + "\n")
                handle.flush()


def main() -> None:
    """Run the sweep."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--processes", type=int, default=os.cpu_count())
    parser.add_argument("--claims", nargs="*")
    parser.add_argument("--out", default="sweep.jsonl")
    parser.add_argument("--cuda-family", action="append", default=[])
    parser.add_argument("--cuda-seeds", type=int, default=2)
    parser.add_argument("--cuda-out", default="cuda.jsonl")
    parser.add_argument("--evidence", help="also store full verdicts here, and write the "
                        "calibration report (JSON) next to it at the end")
    args = parser.parse_args()
    if args.evidence:
        os.environ["SWEEP_EVIDENCE"] = os.path.abspath(args.evidence)
    from theorylab import registry

    claims = args.claims or [c.id for c in registry.claims()]
    slow_first = sorted(claims, key=lambda c: -{"rg_flow": 3, "free_probability": 2}.get(
        c.split(".")[0], 1))
    # Seed-major, so that a run cut by a deadline leaves every claim with as many seeds.
    tasks = [(c, s, "cpu") for s in range(args.first_seed, args.first_seed + args.seeds)
             for c in slow_first]
    context = multiprocessing.get_context("spawn")
    cuda = None
    if args.cuda_family:
        cuda = context.Process(target=_cuda, args=(args.cuda_family, args.cuda_seeds,
                                                   args.cuda_out))
        cuda.start()
    started = time.perf_counter()
    with context.Pool(args.processes) as pool, open(args.out, "a") as handle:
        for done, result in enumerate(pool.imap_unordered(_work, tasks), 1):
            handle.write(json.dumps(result) + "\n")
            handle.flush()
            if done % 50 == 0 or result["status"] not in ("PASS",):
                print(f"{done}/{len(tasks)} {time.perf_counter() - started:.0f}s "
                      f"{result['claim']} {result['seed']} {result['status']} "
                      f"{result.get('reason', '')[:150]}", flush=True)
    if cuda is not None:
        cuda.join()
    print(f"done {len(tasks)} in {time.perf_counter() - started:.0f}s", flush=True)
    if args.evidence:
        from theorylab.calibration import report, write_report
        from theorylab.evidence import Evidence

        studied = [registry.get(c) for c in claims]
        path = write_report(report(studied, Evidence(args.evidence)),
                            os.path.splitext(args.evidence)[0] + "-report.json")
        print(f"report: {path}", flush=True)


if __name__ == "__main__":
    main()
