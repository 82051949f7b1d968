"""theorylab's 1-D CNN kernels (rg_flow.cnn_kernel) against neural-tangents' stax.

    python benchmarks/cnn_vs_neural_tangents.py [--nt-python /work/nt-venv/bin/python]
                                                [--create-venv /work/nt-venv]

neural-tangents runs in its own virtual environment (see
benchmarks/rg_flow_vs_neural_tangents.py: jax/jaxlib 0.4.26, numpy 1.26, tf2jax 0.3.6,
neural-tangents 0.6.5; ``--create-venv PATH`` installs exactly that), as a subprocess,
in float64 (``jax_enable_x64``) on the CPU.

The network, the same on both sides: ``stax.serial(*[Conv(C, (filter,),
padding='CIRCULAR', W_std=sqrt(C_W), b_std=sqrt(C_b)), act] * depth, GlobalAvgPool(),
Dense(1, W_std=sqrt(C_W), b_std=sqrt(C_b)))`` ('ntk' parameterization; the channel
count C does not enter the infinite-width kernels); theorylab's side is
:func:`theorylab.convolution_kernels.gram`.

Reported, in one run: for 100 inputs of 16 positions x 3 channels (standard normal,
seed 0), depth 5, filter 3, relu (C_W = 2, C_b = 0.1) and erf (C_W = 1.5, C_b = 0.2),
the max relative difference of the full 100 x 100 NNGP and NTK Gram matrices (goal
<= 1e-12) and the NTK's worst entry on both sides, and the time of one call computing both
kernels on each side (best of 3; neural-tangents' first call, which compiles, shown
apart), on ``--threads`` threads each (default 1: torch.set_num_threads, and XLA's
single-threaded CPU flags). The load average is printed before and after: timings on a
shared machine overstate.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

CASES = (("relu", 2.0, 0.1), ("erf", 1.5, 0.2))
DEPTH, FILTER, INPUTS, POSITIONS, CHANNELS = 5, 3, 100, 16, 3

NT_PROGRAM = r"""
import json, sys, time
import numpy as np
import jax
jax.config.update("jax_enable_x64", True)
from neural_tangents import stax
inputs = np.load(sys.argv[1]); out = sys.argv[2]; cases = json.loads(sys.argv[3])
depth, width = int(sys.argv[4]), int(sys.argv[5])
results = {}
for name, C_W, C_b in cases:
    act = {"relu": stax.Relu(), "erf": stax.Erf()}[name]
    layers = []
    for _ in range(depth):
        layers += [stax.Conv(1, (width,), padding="CIRCULAR", W_std=C_W ** 0.5,
                             b_std=C_b ** 0.5), act]
    layers += [stax.GlobalAvgPool(), stax.Dense(1, W_std=C_W ** 0.5, b_std=C_b ** 0.5)]
    _, _, kernel_fn = stax.serial(*layers)
    kernel_fn = jax.jit(kernel_fn, static_argnames="get")
    started = time.perf_counter()
    k = kernel_fn(inputs, None, get=("nngp", "ntk"))
    k.ntk.block_until_ready()
    first = time.perf_counter() - started
    times = []
    for _ in range(3):
        started = time.perf_counter()
        k = kernel_fn(inputs, None, get=("nngp", "ntk"))
        k.ntk.block_until_ready()
        times.append(time.perf_counter() - started)
    np.save(f"{out}/{name}-nngp.npy", np.asarray(k.nngp))
    np.save(f"{out}/{name}-ntk.npy", np.asarray(k.ntk))
    results[name] = {"first": first, "best": min(times)}
print(json.dumps(results))
"""


def create_venv(path: str) -> None:
    """Create the neural-tangents environment (outside the repository)."""
    subprocess.run([sys.executable, "-m", "venv", path], check=True)
    subprocess.run([f"{path}/bin/pip", "install", "jax==0.4.26", "jaxlib==0.4.26",
                    "numpy==1.26.*", "tf2jax==0.3.6", "neural-tangents==0.6.5"], check=True)


def compare(nt_python: str, threads: int) -> dict:
    """Both libraries' Gram matrices, their max relative difference and the timings."""
    import torch

    from theorylab.convolution_kernels import grams

    torch.set_num_threads(threads)
    inputs = np.random.default_rng(0).standard_normal((INPUTS, POSITIONS, CHANNELS))
    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        np.save(f"{folder}/inputs.npy", inputs)
        environment = dict(os.environ, JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3")
        if threads == 1:  # XLA's CPU backend on one thread, as torch here
            environment["XLA_FLAGS"] = ("--xla_cpu_multi_thread_eigen=false "
                                        "intra_op_parallelism_threads=1")
        result = subprocess.run([nt_python, "-c", NT_PROGRAM, f"{folder}/inputs.npy", folder,
                                 json.dumps(CASES), str(DEPTH), str(FILTER)],
                                capture_output=True, text=True, env=environment, check=False)
        if result.returncode != 0:
            print("neural-tangents failed:\n" + result.stderr[-3000:])
            return rows
        nt_times = json.loads(result.stdout.strip().splitlines()[-1])
        print(f"{INPUTS} inputs of {POSITIONS} positions x {CHANNELS} channels, depth {DEPTH}, "
              f"filter {FILTER}, {threads} thread(s) per library")
        print(f"{'case':<6} {'max rel diff NNGP':>17} {'NTK':>9} {'theorylab s':>11} "
              f"{'NT s (best)':>11} {'NT s (1st)':>10} {'NT/theorylab':>12}")
        for name, C_W, C_b in CASES:
            times = []
            for _ in range(3):
                started = time.perf_counter()
                ours = grams(name, inputs, DEPTH, FILTER, C_W, C_b)
                times.append(time.perf_counter() - started)
            best = min(times)
            differences = []
            for which, mine in zip(("nngp", "ntk"), ours, strict=True):
                theirs = np.load(f"{folder}/{name}-{which}.npy")
                differences.append(float(np.max(np.abs(mine - theirs) / np.abs(theirs))))
                if which == "ntk":  # where the worst entry is: a diagonal one or not
                    off = ~np.eye(len(mine), dtype=bool)
                    rows[(name, "off-diagonal")] = float(np.max(
                        np.abs(mine - theirs)[off] / np.abs(theirs)[off]))
                    worst = np.unravel_index(np.argmax(np.abs(mine - theirs) / np.abs(theirs)),
                                             mine.shape)
                    rows[(name, "worst")] = tuple(int(i) for i in worst)
                    rows[(name, "values")] = (float(mine[worst]), float(theirs[worst]))
            rows[name] = {"nngp": differences[0], "ntk": differences[1], "theorylab": best,
                          "neural_tangents": nt_times[name]["best"]}
            print(f"{name:<6} {differences[0]:>17.2e} {differences[1]:>9.2e} {best:>11.3f} "
                  f"{nt_times[name]['best']:>11.3f} {nt_times[name]['first']:>10.3f} "
                  f"{nt_times[name]['best'] / best:>12.1f}")
            pins = {which: repr(float(np.load(f"{folder}/{name}-{which}.npy")[0, 1]))
                    for which in ("nngp", "ntk")}
            print(f"       neural-tangents at inputs (0, 1): NNGP {pins['nngp']}, NTK "
                  f"{pins['ntk']} (tests/test_cnn_kernel.py pins these)")
            print(f"       NTK's max rel diff off the diagonal: "
                  f"{rows[(name, 'off-diagonal')]:.2e}")
            print(f"       NTK's worst entry {rows[(name, 'worst')]}: theorylab "
                  f"{rows[(name, 'values')][0]:.15g}, neural-tangents "
                  f"{rows[(name, 'values')][1]:.15g}")
    return rows


def main() -> None:
    """Run the comparison."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--nt-python", default="/work/nt-venv/bin/python")
    parser.add_argument("--create-venv", metavar="PATH")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if args.create_venv:
        create_venv(args.create_venv)
        args.nt_python = f"{args.create_venv}/bin/python"
    compare(args.nt_python, args.threads)
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
