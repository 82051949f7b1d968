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
the same shapes measured in the same run (width 1024, depth 10, ensemble 64), for
2 to 256 inputs per network: with 2 inputs each sampled weight is used for 4
FLOPs, so sampling, not arithmetic, bounds the simulation. The load average is
printed before and after: timings on a shared machine overstate.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from typing import Any

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

    from theorylab.kernels import gram_closed

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
                    ours = gram_closed(name, gram, depth, C_W, C_b, ntk=which == "ntk")
                    times.append(time.perf_counter() - started)
                theirs = np.load(f"{folder}/{key}-{which}.npy")
                difference = np.max(np.abs(ours.numpy() - theirs) / np.abs(theirs))
                best = min(times)
                # NT computes both kernels in one call; its time is charged to each.
                print(f"{key:<10} {which:<5} {difference:>12.2e} {best:>11.3f} "
                      f"{nt_times[key]['best']:>11.3f} {nt_times[key]['first']:>10.3f} "
                      f"{nt_times[key]['best'] / best:>12.1f}")


def _timed(function: Callable[..., Any], *args: Any, device: str) -> tuple[float, Any]:
    """Wall time of one call (synchronized on CUDA) and its result."""
    import torch

    if device == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    result = function(*args)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - started, result


def _repeat_matmul(weights: Any, activations: Any, times: int) -> None:
    for _ in range(times):
        weights @ activations


def throughput(device: str, width: int = 1024, depth: int = 10, ensemble: int = 64,
               input_counts: tuple[int, ...] = (2, 16, 64, 256, 1024), chunk: int = 16) -> None:
    """FLOP/s of the empirical-kernel simulation vs a plain batched matmul of the same shapes.

    The simulation is ``random_networks`` (sampling every weight) then
    ``empirical_kernels`` (the forward pass and the last layer's Gram), run over the
    ensemble in chunks of ``chunk`` networks to bound memory (64 networks of width
    1024 and depth 10 hold 5 GB of float64 weights). The reference multiplies
    preallocated weights of the same shapes, so it does no sampling. Both are timed
    in this run, on this machine and its current load.
    """
    import torch
    from theorylab.numerics._torch import generator
    from theorylab.numerics.rg_flow import empirical_kernels, random_networks

    rng = generator(0, device)
    print(f"\nempirical kernels: width {width}, depth {depth}, ensemble {ensemble} "
          f"(chunks of {chunk}), {device}, {torch.get_num_threads()} threads")
    print(f"{'inputs':>6} {'sample s':>9} {'forward s':>9} {'GFLOP/s':>8} {'matmul GFLOP/s':>14} "
          f"{'fraction':>8} {'fwd only':>8}")
    for inputs in input_counts:
        x = torch.randn(width, inputs, dtype=torch.float64, device=device)
        # forward layers 1 .. depth-1, then the Gram of the last hidden layer
        flops = 2 * ensemble * (width * width * inputs * (depth - 1) + width * inputs * inputs)
        sampling = forward = 0.0
        for _ in range(ensemble // chunk):
            seconds, networks = _timed(partial(random_networks, rng=rng, device=device),
                                       chunk, width, width, depth - 1, device=device)
            sampling += seconds
            with torch.no_grad():
                seconds, _ = _timed(empirical_kernels, networks, width, x, 2.0, 0.0, torch.relu,
                                    depth, device=device)
            forward += seconds
            del networks
        weights = torch.randn(chunk, width, width, dtype=torch.float64, device=device)
        activations = torch.randn(chunk, width, inputs, dtype=torch.float64, device=device)
        reference, _ = _timed(_repeat_matmul, weights, activations,
                              (ensemble // chunk) * (depth - 1), device=device)
        rate = flops / (sampling + forward)
        reference_rate = 2 * ensemble * width * width * inputs * (depth - 1) / reference
        print(f"{inputs:>6} {sampling:>9.3f} {forward:>9.3f} {rate / 1e9:>8.2f} "
              f"{reference_rate / 1e9:>14.2f} {rate / reference_rate:>8.1%} "
              f"{flops / forward / reference_rate:>8.1%}")
    square = torch.randn(chunk, width, width, dtype=torch.float64, device=device)
    dense, _ = _timed(torch.matmul, square, square, device=device)
    print(f"dense batched matmul {width}^3 x {chunk}: "
          f"{2 * chunk * width**3 / dense / 1e9:.2f} GFLOP/s (the machine's GEMM rate)")


def main() -> None:
    """Run the comparison and the throughput measurement."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--nt-python", default="/work/nt-venv/bin/python")
    parser.add_argument("--create-venv", metavar="PATH")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--inputs", type=int, default=1000)
    parser.add_argument("--skip-nt", action="store_true")
    args = parser.parse_args()
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if args.create_venv:
        create_venv(args.create_venv)
        args.nt_python = f"{args.create_venv}/bin/python"
    if not args.skip_nt:
        compare(args.nt_python, args.inputs)
    throughput(args.device)
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
