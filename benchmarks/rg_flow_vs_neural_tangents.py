"""theorylab's infinite-width kernels against neural-tangents, and the simulation's FLOP/s.

    python benchmarks/rg_flow_vs_neural_tangents.py [--nt-python /work/nt-venv/bin/python]
                                                    [--device cpu|cuda] [--inputs 1000]

neural-tangents 0.6.5 breaks with current jax; it runs with jax/jaxlib 0.4.26,
numpy 1.26 and tf2jax 0.3.6, in a separate virtual environment outside the repo:

    python3 -m venv /work/nt-venv
    /work/nt-venv/bin/pip install "jax==0.4.26" "jaxlib==0.4.26" "numpy==1.26.*" \\
        "tf2jax==0.3.6" "neural-tangents==0.6.5"

(``--create-venv`` runs exactly that.) The neural-tangents side runs in that
interpreter as a subprocess, in float64 (``jax_enable_x64``).

Depth convention: theorylab's ``depth`` is PDLT's layer index l; neural-tangents'
``Dense -> [sigma -> Dense] x L`` is l = L + 1. Parameterization: 'ntk' (the
default of both), ``W_std^2 = C_W``, ``b_std^2 = C_b``.

Reported: the max relative disagreement of the NNGP and NTK Gram matrices of N
inputs in R^64 at depths 10 and 100 for relu and erf (goal <= 1e-12), the time
of each (best of 3; neural-tangents' first, compiling call shown apart), and the
empirical-kernel simulation's FLOP/s as a fraction of a plain batched matmul of
the same shapes measured in the same run (width 1024, depth 10, ensemble 64).
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

CASES = (("relu", 2.0, 0.05), ("erf", 1.5, 0.1))
DEPTHS = (10, 100)

NT_PROGRAM = r"""
import json, sys, time
import numpy as np
import jax
jax.config.update("jax_enable_x64", True)
from neural_tangents import stax
inputs = np.load(sys.argv[1]); out = sys.argv[2]; cases = json.loads(sys.argv[3])
results = {}
for name, C_W, C_b, depth in cases:
    act = {"relu": stax.Relu(), "erf": stax.Erf()}[name]
    layers = [stax.Dense(1, W_std=C_W ** 0.5, b_std=C_b ** 0.5)]
    for _ in range(depth - 1):
        layers += [act, stax.Dense(1, W_std=C_W ** 0.5, b_std=C_b ** 0.5)]
    _, _, kernel_fn = stax.serial(*layers)
    kernel_fn = jax.jit(kernel_fn, static_argnames="get")
    started = time.perf_counter()
    k = kernel_fn(inputs, None, get=("nngp", "ntk"))
    k.nngp.block_until_ready()
    first = time.perf_counter() - started
    times = []
    for _ in range(3):
        started = time.perf_counter()
        k = kernel_fn(inputs, None, get=("nngp", "ntk"))
        k.ntk.block_until_ready()
        times.append(time.perf_counter() - started)
    key = f"{name}-{depth}"
    np.save(f"{out}/{key}-nngp.npy", np.asarray(k.nngp))
    np.save(f"{out}/{key}-ntk.npy", np.asarray(k.ntk))
    results[key] = {"first": first, "best": min(times)}
print(json.dumps(results))
"""


def create_venv(path: str) -> None:
    """Create the neural-tangents environment (outside the repository)."""
    subprocess.run([sys.executable, "-m", "venv", path], check=True)
    subprocess.run([f"{path}/bin/pip", "install", "jax==0.4.26", "jaxlib==0.4.26",
                    "numpy==1.26.*", "tf2jax==0.3.6", "neural-tangents==0.6.5"], check=True)


def compare(nt_python: str, count: int) -> None:
    """Gram matrices from both libraries, their disagreement and timings."""
    import torch
    from theorylab.theory.rg_flow import _gram_closed

    inputs = np.random.default_rng(0).standard_normal((count, 64))
    cases = [(name, C_W, C_b, depth) for name, C_W, C_b in CASES for depth in DEPTHS]
    with tempfile.TemporaryDirectory() as folder:
        np.save(f"{folder}/inputs.npy", inputs)
        environment = dict(os.environ, JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3")
        result = subprocess.run([nt_python, "-c", NT_PROGRAM, f"{folder}/inputs.npy", folder,
                                 json.dumps(cases)], capture_output=True, text=True,
                                env=environment, check=False)
        if result.returncode != 0:
            print("neural-tangents failed:\n" + result.stderr[-3000:])
            return
        nt_times = json.loads(result.stdout.strip().splitlines()[-1])
        x = torch.as_tensor(inputs)
        gram = x @ x.T / x.shape[1]
        print(f"{'case':<10} {'kernel':<5} {'max rel diff':>12} {'theorylab s':>11} "
              f"{'NT s (best)':>11} {'NT s (1st)':>10} {'NT/theorylab':>12}")
        for name, C_W, C_b, depth in cases:
            key = f"{name}-{depth}"
            for which in ("nngp", "ntk"):
                times = []
                for _ in range(3):
                    started = time.perf_counter()
                    ours = _gram_closed(name, gram, depth, C_W, C_b, ntk=which == "ntk")
                    times.append(time.perf_counter() - started)
                theirs = np.load(f"{folder}/{key}-{which}.npy")
                difference = np.max(np.abs(ours.numpy() - theirs) / np.abs(theirs))
                best = min(times)
                # NT computes both kernels in one call; its time is charged to each.
                print(f"{key:<10} {which:<5} {difference:>12.2e} {best:>11.3f} "
                      f"{nt_times[key]['best']:>11.3f} {nt_times[key]['first']:>10.3f} "
                      f"{nt_times[key]['best'] / best:>12.1f}")


def throughput(device: str, width: int = 1024, depth: int = 10, ensemble: int = 64,
               inputs: int = 2) -> None:
    """FLOP/s of the empirical-kernel simulation vs a plain batched matmul of the same shapes."""
    import torch
    from theorylab.numerics._torch import generator
    from theorylab.numerics.rg_flow import empirical_kernels, random_networks

    x = torch.randn(width, inputs, dtype=torch.float64, device=device)
    rng = generator(0, device)

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    sync()
    started = time.perf_counter()
    networks = random_networks(ensemble, width, width, depth, rng=rng, device=device)
    with torch.no_grad():
        empirical_kernels(networks, width, x, 2.0, 0.0, torch.relu, depth)
    sync()
    simulation = time.perf_counter() - started
    flops = 2 * ensemble * width * width * inputs * (depth - 1)
    weights = torch.randn(ensemble, width, width, dtype=torch.float64, device=device)
    activations = torch.randn(ensemble, width, inputs, dtype=torch.float64, device=device)
    sync()
    started = time.perf_counter()
    for _ in range(depth - 1):
        weights @ activations
    sync()
    plain = time.perf_counter() - started
    square = torch.randn(ensemble, width, width, dtype=torch.float64, device=device)
    sync()
    started = time.perf_counter()
    square @ square
    sync()
    dense = time.perf_counter() - started
    dense_rate = 2 * ensemble * width**3 / dense
    print(f"simulation (width {width}, depth {depth}, ensemble {ensemble}, {inputs} inputs, "
          f"{device}): {flops / simulation / 1e9:.2f} GFLOP/s incl. weight sampling, "
          f"{simulation:.3f} s")
    print(f"plain batched matmul of the same shapes: {flops / plain / 1e9:.2f} GFLOP/s "
          f"-> simulation at {plain / simulation:.1%} of it")
    print(f"dense batched matmul {width}^3 x {ensemble}: {dense_rate / 1e9:.2f} GFLOP/s "
          f"-> simulation at {flops / simulation / dense_rate:.1%} of it")


def main() -> None:
    """Run the comparison and the throughput measurement."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--nt-python", default="/work/nt-venv/bin/python")
    parser.add_argument("--create-venv", metavar="PATH")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--inputs", type=int, default=1000)
    parser.add_argument("--skip-nt", action="store_true")
    args = parser.parse_args()
    if args.create_venv:
        create_venv(args.create_venv)
        args.nt_python = f"{args.create_venv}/bin/python"
    if not args.skip_nt:
        compare(args.nt_python, args.inputs)
    throughput(args.device)


if __name__ == "__main__":
    main()
