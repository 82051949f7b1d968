"""Deep linear networks trained by real full-batch gradient descent.

Conventions (Saxe, McClelland & Ganguli 2014, arXiv:1312.6120):

- the loss is ``1/2 sum_mu ||y_mu - W_D ... W_1 x_mu||^2`` over examples;
- inputs are whitened: ``Sigma11 = sum_mu x x^T = I`` exactly, built from the rows
  of a Haar-orthogonal matrix; ``Sigma31 = sum_mu y x^T = U S V^T``;
- ``t`` is measured in units where ``k`` steps at learning rate ``lr`` last
  ``t / tau = k * lr``; gradient flow is the limit ``lr -> 0``, which the verifier
  reaches by Richardson extrapolation over three learning rates (five for
  learning times).

Every network is a real ``torch`` product of weight matrices whose gradients come
from autograd; an ensemble of networks (random rotations ``U, V, R_j``, random
datasets, random strengths of the other modes) and all parameter points of a
call run as one batched program (``bmm`` over a leading ensemble axis).
Nothing here knows the closed forms being checked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from theorylab.numerics._torch import FLOAT64_EPS, generator, haar_orthogonal

from theorylab.measurement import Measurement, extrapolate

__all__ = [
    "ModeNetworks",
    "mode_networks",
    "train",
    "mode_strength_at",
    "learning_time",
    "balanced_factorization",
    "end_to_end_velocity",
    "singular_value_velocity",
    "saxe_mode_strength",
    "saxe_learning_time",
    "unequal_layer_time",
    "deep_learning_time",
]

WIDTH = 3  # neurons per layer: the measured mode plus two others
EXAMPLES = 5  # whitened examples (> WIDTH, so X is a proper subset of an orthogonal basis)
LEVELS = (1.0, 0.5, 0.25)  # learning rates, relative to the coarsest, for extrapolation
# Learning times get five levels: their O(lr^2) or O(lr^3) coefficient can nearly vanish,
# and a bias bound from fewer levels then understates the remainder (calibration: with four,
# saxe_learning_time seed 192 and unequal_layer_time seed 5 at s = 1.1, uf ~ 1 erred by
# 6e-10 against a bound of 3e-10; with five the error is 1.5e-11 against 6e-10).
TIME_LEVELS = (1.0, 0.5, 0.25, 0.125, 0.0625)
BASE_RATE = 0.05  # coarsest learning rate for learning-time runs, in units of 1/s
MIN_STEPS = 100  # fewest steps before a crossing, at the coarsest learning rate


@dataclass
class ModeNetworks:
    """A batch of deep linear networks with a known target mode.

    ``weights[j]`` has shape (batch, WIDTH, WIDTH); ``inputs`` and ``targets``
    (batch, WIDTH, EXAMPLES); ``left``/``right`` are the target's top singular
    vectors, so the mode strength is ``left^T W_D ... W_1 right``.
    """

    weights: list[torch.Tensor]
    inputs: torch.Tensor
    targets: torch.Tensor
    left: torch.Tensor
    right: torch.Tensor


def mode_networks(strengths: torch.Tensor, singular_value: torch.Tensor, *,
                  rng: torch.Generator, device: str) -> ModeNetworks:
    """Build decoupled networks whose first mode starts at per-layer ``strengths``.

    Args:
        strengths: (batch, depth) initial strength of the measured mode in each
            weight matrix, first layer first.
        singular_value: (batch,) the target's singular value ``s`` for that mode.

    """
    batch, depth = strengths.shape
    options = {"rng": rng, "device": device}
    left_basis = haar_orthogonal(batch, WIDTH, **options)
    right_basis = haar_orthogonal(batch, WIDTH, **options)
    hidden = [haar_orthogonal(batch, WIDTH, **options) for _ in range(depth - 1)]
    # The other modes: their own target strengths and small balanced initial strengths.
    spectrum = torch.empty(batch, WIDTH, dtype=torch.float64, device=device)
    spectrum[:, 0] = singular_value
    spectrum[:, 1:] = 0.2 + 1.8 * torch.rand(batch, WIDTH - 1, generator=rng, device=device,
                                             dtype=torch.float64)
    others = 0.05 + 0.2 * torch.rand(batch, WIDTH - 1, generator=rng, device=device,
                                     dtype=torch.float64)
    target = left_basis @ torch.diag_embed(spectrum) @ right_basis.transpose(1, 2)
    rows = haar_orthogonal(batch, EXAMPLES, **options)[:, :WIDTH, :]  # X X^T = I exactly
    inputs = rows
    targets = target @ inputs
    weights = []
    for layer in range(depth):
        diagonal = torch.cat([strengths[:, layer : layer + 1], others], dim=1)
        scale = torch.diag_embed(diagonal)
        into = right_basis.transpose(1, 2) if layer == 0 else hidden[layer - 1].transpose(1, 2)
        out = left_basis if layer == depth - 1 else hidden[layer]
        weights.append(out @ scale @ into)
    return ModeNetworks(weights, inputs, targets, left_basis[:, :, 0], right_basis[:, :, 0])


def _product(weights: Sequence[torch.Tensor]) -> torch.Tensor:
    result = weights[0]
    for weight in weights[1:]:
        result = weight @ result
    return result


def train(networks: ModeNetworks, learning_rate: torch.Tensor, steps: int,
          *, until: torch.Tensor | None = None, max_steps: int = 200_000) -> torch.Tensor:
    """Full-batch gradient descent with simultaneous updates, via autograd.

    Args:
        learning_rate: (batch,) one learning rate per network.
        steps: number of steps (or the chunk size when ``until`` is given).
        until: (batch,) keep going until every network's mode strength has
            passed this value.

    Returns:
        The mode strength after each step, shape (steps + 1, batch), step 0 first.

    """
    weights = [w.detach().clone().requires_grad_(True) for w in networks.weights]
    rate = learning_rate.view(-1, 1, 1)
    history = []

    def strength(product: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bi,bij,bj->b", networks.left, product, networks.right)

    done = 0
    while True:
        for _ in range(steps):
            product = _product(weights)
            history.append(strength(product.detach()))
            residual = networks.targets - product @ networks.inputs
            loss = 0.5 * residual.square().sum()
            gradients = torch.autograd.grad(loss, weights)
            with torch.no_grad():
                for weight, gradient in zip(weights, gradients, strict=True):
                    weight -= rate * gradient
        done += steps
        if until is None or done >= max_steps:
            break
        latest = strength(_product(weights).detach())
        if bool(torch.all((latest >= until) | ~torch.isfinite(latest))):
            break
    history.append(strength(_product(weights).detach()))
    return torch.stack(history)


def mode_strength_at(strengths: torch.Tensor, singular_value: torch.Tensor,
                     duration: torch.Tensor, *, steps: int, rng: torch.Generator,
                     device: str) -> torch.Tensor:
    """Mode strength after gradient descent for ``duration = t / tau``.

    Runs each network at the learning rates ``duration * level / steps`` for the
    levels in LEVELS, on the same networks. Returns (levels, batch).
    """
    networks = mode_networks(strengths, singular_value, rng=rng, device=device)
    results = []
    for level in LEVELS:
        count = int(round(steps / level))
        rate = duration / count
        results.append(train(networks, rate, count)[-1])
    return torch.stack(results)


def _crossing_times(history: np.ndarray, threshold: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Fractional step at which each column first reaches its threshold, and its error.

    Degree-7 inverse interpolation through the eight steps around the crossing. Its
    error is not smooth in lr (it depends on where the crossing falls between steps), so
    extrapolation does not remove it: it is bounded by the distance to the degree-5
    interpolant through the middle six steps (calibration: at s = 1, uf = 0.96 that
    distance is 1.5e-10 in time, and the degree-5 value alone failed seed 45).

    Returns:
        (times, errors), each (batch,), in steps; NaN where no crossing was seen.

    """
    steps, batch = history.shape
    result = np.full(batch, np.nan)
    error = np.full(batch, np.nan)
    for column in range(batch):
        trace = history[:, column]
        above = np.nonzero(trace >= threshold[column])[0]
        if above.size == 0 or above[0] == 0 or not np.all(np.isfinite(trace[: above[0] + 1])):
            continue
        k = int(above[0])
        estimates = []
        for half in (4, 3):
            window = np.arange(max(k - half, 0), min(k + half, steps))
            values = trace[window]
            if np.any(np.diff(values) <= 0):  # not monotone: no inverse to interpolate
                continue
            # Scaled and centred so the Vandermonde system stays well conditioned.
            offsets = values - threshold[column]
            scale = np.max(np.abs(offsets))
            coefficients = np.polyfit(offsets / scale, (window - k).astype(float),
                                      len(window) - 1)
            estimates.append(k + coefficients[-1])
        if len(estimates) == 2:
            result[column], error[column] = estimates[0], abs(estimates[0] - estimates[1])
        else:  # linear between the two steps; its error is below one step
            below, reached = trace[k - 1], trace[k]
            result[column] = k - 1 + (threshold[column] - below) / (reached - below)
            error[column] = 1.0
    return result, error


def learning_time(strengths: torch.Tensor, singular_value: torch.Tensor,
                  final: torch.Tensor, base_rate: torch.Tensor, *, rng: torch.Generator,
                  device: str) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """Time (in units of tau) for the mode strength to reach ``final``.

    Returns (levels, batch) times at the TIME_LEVELS, the number of steps taken at the
    finest level, the coarsest learning rate used for each network, and (levels, batch)
    bounds on each time's interpolation error.
    """
    networks = mode_networks(strengths, singular_value, rng=rng, device=device)
    # Pilot run: where the crossing comes within MIN_STEPS steps, lower the rate so
    # that every level resolves it with at least MIN_STEPS steps.
    pilot = train(networks, base_rate, 256, until=final).cpu().numpy()
    pilot_time = _crossing_times(pilot, final.cpu().numpy())[0] * base_rate.cpu().numpy()
    pilot_time = np.where(np.isfinite(pilot_time), pilot_time, np.inf)
    base_rate = torch.minimum(base_rate, torch.as_tensor(pilot_time / MIN_STEPS,
                                                         device=base_rate.device))
    results, errors = [], []
    longest = 0
    for level in TIME_LEVELS:
        rate = base_rate * level
        history = train(networks, rate, 256, until=final).cpu().numpy()
        longest = max(longest, history.shape[0])
        steps, error = _crossing_times(history, final.cpu().numpy())
        results.append(steps * rate.cpu().numpy())
        errors.append(error * rate.cpu().numpy())
    return np.stack(results), longest, base_rate.cpu().numpy(), np.stack(errors)


def _group(points: Sequence[dict[str, Any]], key: str | None) -> dict[Any, list[int]]:
    groups: dict[Any, list[int]] = defaultdict(list)
    for index, point in enumerate(points):
        groups[point[key] if key else None].append(index)
    return groups


def _tensor(values: Sequence[float], ensemble: int, device: str) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64, device=device).repeat_interleave(ensemble)


def _split(levels_by_batch: np.ndarray, count: int, ensemble: int) -> list[np.ndarray]:
    """(levels, count * ensemble) -> per point (levels, ensemble)."""
    shaped = levels_by_batch.reshape(levels_by_batch.shape[0], count, ensemble)
    return [shaped[:, index, :] for index in range(count)]


def _rounding(steps: int, scale: float) -> float:
    # Forward error of `steps` updates, each a sum of WIDTH * EXAMPLES products.
    return WIDTH * EXAMPLES * FLOAT64_EPS * steps * scale


# -- simulations named by the claims ------------------------------------------


def saxe_mode_strength(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                       ensemble: int, steps: int = 200) -> list[Measurement]:
    """Mode strength u(t) of two-layer networks from a balanced decoupled start."""
    rng = generator(seed, device)
    s = _tensor([p["s"] for p in points], ensemble, device)
    start = _tensor([np.sqrt(p["u0"]) for p in points], ensemble, device)
    duration = _tensor([p["t"] / p["tau"] for p in points], ensemble, device)
    strengths = torch.stack([start, start], dim=1)
    measured = mode_strength_at(strengths, s, duration, steps=steps, rng=rng, device=device)
    resolutions = [np.array(LEVELS) * p["t"] / p["tau"] / steps for p in points]
    return [
        Measurement(samples, resolution, _rounding(4 * steps, p["s"]), {"steps": 4 * steps})
        for samples, resolution, p in zip(
            _split(measured.cpu().numpy(), len(points), ensemble), resolutions, points,
            strict=True)
    ]


def _time_measurements(points: Sequence[dict[str, Any]], strengths: list[list[float]],
                       *, seed: int, device: str, ensemble: int) -> list[Measurement]:
    rng = generator(seed, device)
    s = _tensor([p["s"] for p in points], ensemble, device)
    final = _tensor([p["uf"] for p in points], ensemble, device)
    layered = torch.stack([_tensor(list(column), ensemble, device)
                           for column in zip(*strengths, strict=True)], dim=1)
    # Coarsest learning rate: a fixed fraction of the mode's fastest time scale 1/s.
    base_rate = BASE_RATE / s
    times, longest, rates, errors = learning_time(layered, s, final, base_rate, rng=rng,
                                                  device=device)
    tau = np.array([p["tau"] for p in points])
    # Richardson's weights carry each level's interpolation error into the extrapolation.
    weights = np.abs(extrapolate(np.eye(len(TIME_LEVELS)), np.array(TIME_LEVELS), 1)).sum()
    measurements = []
    for index, (samples, error) in enumerate(zip(_split(times, len(points), ensemble),
                                                 _split(errors, len(points), ensemble),
                                                 strict=True)):
        resolution = np.array(TIME_LEVELS) * rates[index * ensemble]
        # A run that never crossed is NaN: that point is INCONCLUSIVE, the others stand
        # (saxe_learning_time seed 184: a NaN rounding bound made the whole batch raise).
        finite = samples[np.isfinite(samples)]
        scale = float(np.max(finite)) if finite.size else 0.0
        interpolation = float(np.max(error[np.isfinite(error)], initial=0.0)) * weights
        measurements.append(Measurement(samples * tau[index], resolution,
                                        (_rounding(longest, scale) + interpolation) * tau[index],
                                        {"steps": longest}))
    return measurements


def saxe_learning_time(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                       ensemble: int) -> list[Measurement]:
    """Time for a two-layer balanced mode to grow from u0 to uf."""
    strengths = [[np.sqrt(p["u0"])] * 2 for p in points]
    return _time_measurements(points, strengths, seed=seed, device=device, ensemble=ensemble)


def unequal_layer_time(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                       ensemble: int) -> list[Measurement]:
    """Time for a two-layer mode started at strengths (a0, b0) to reach uf."""
    strengths = [[p["a0"], p["b0"]] for p in points]
    return _time_measurements(points, strengths, seed=seed, device=device, ensemble=ensemble)


def deep_learning_time(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                       ensemble: int) -> list[Measurement]:
    """Time for a balanced mode of an N_l-layer network (N_l - 1 matrices) to reach uf."""
    results: list[Measurement | None] = [None] * len(points)
    for layers, indices in _group(points, "N_l").items():
        group = [points[i] for i in indices]
        depth = layers - 1
        strengths = [[p["u0"] ** (1.0 / depth)] * depth for p in group]
        measured = _time_measurements(group, strengths, seed=seed + layers, device=device,
                                      ensemble=ensemble)
        for index, measurement in zip(indices, measured, strict=True):
            results[index] = measurement
    return results  # type: ignore[return-value]


# -- Arora et al.: end-to-end and singular-value dynamics ----------------------


def balanced_factorization(matrix: np.ndarray, depth: int, ensemble: int, *,
                           rng: torch.Generator, device: str) -> list[torch.Tensor]:
    """``ensemble`` balanced factorizations ``W_depth ... W_1 = matrix``.

    From the thin SVD ``U S V^T``: ``W_1 = R_1 S^(1/N) V^T``,
    ``W_j = R_j S^(1/N) R_(j-1)^T``, ``W_N = U S^(1/N) R_(N-1)^T`` with random
    orthonormal ``R_j`` of one extra row, so ``W_(j+1)^T W_(j+1) = W_j W_j^T``
    holds exactly whatever the shapes (orthogonal init alone does not ensure it).
    """
    target = torch.as_tensor(matrix, dtype=torch.float64, device=device)
    left, values, right_t = torch.linalg.svd(target, full_matrices=False)
    rank = values.shape[0]
    root = torch.diag(values ** (1.0 / depth))
    hidden = rank + 1
    frames = [haar_orthogonal(ensemble, hidden, rng=rng, device=device)[:, :, :rank]
              for _ in range(depth - 1)]
    weights = []
    for layer in range(depth):
        into = right_t.expand(ensemble, -1, -1) if layer == 0 else frames[layer - 1].transpose(1, 2)
        out = left.expand(ensemble, -1, -1) if layer == depth - 1 else frames[layer]
        weights.append(out @ root @ into)
    return weights


def _one_step(weights: list[torch.Tensor], target: torch.Tensor, weight_decay: float,
              rate: float) -> torch.Tensor:
    """End-to-end matrix after one GD step on 1/2||W_e - T||^2 + decay/2 sum ||W_j||^2."""
    live = [w.detach().clone().requires_grad_(True) for w in weights]
    product = _product(live)
    loss = 0.5 * (product - target).square().sum()
    loss = loss + 0.5 * weight_decay * sum(w.square().sum() for w in live)
    gradients = torch.autograd.grad(loss, live)
    with torch.no_grad():
        return _product([w - rate * g for w, g in zip(live, gradients, strict=True)])


def _velocity_samples(point: dict[str, Any], ensemble: int, rng: torch.Generator, device: str,
                      reduce_to: str) -> Measurement:
    matrix = np.asarray(point["W"], dtype=np.float64)
    gradient = np.asarray(point["gradient"], dtype=np.float64)
    depth = int(point["N"])
    decay = float(point.get("weight_decay", 0.0))
    weights = balanced_factorization(matrix, depth, ensemble, rng=rng, device=device)
    # Loss 1/2||W_e - T||^2 over examples x_mu = e_mu has gradient W_e - T = gradient at W.
    target = torch.as_tensor(matrix - gradient, dtype=torch.float64, device=device)
    start = _product(weights)
    scale = float(np.abs(gradient).max() + decay * np.abs(matrix).max() + np.abs(matrix).max())
    # Small enough that the O(lr) term dominates the bias: at 1e-3 the lr and lr^2 terms
    # still competed at 3 levels (singular_value_dynamics seed 85: order 0.03 observed).
    base = 1e-4 / max(scale, 1e-12)
    samples = []
    for level in LEVELS:
        rate = base * level
        after = _one_step(weights, target, decay, rate)
        if reduce_to == "matrix":
            samples.append(((after - start) / rate).cpu().numpy())
        else:
            before = torch.linalg.svdvals(start)
            samples.append(((torch.linalg.svdvals(after) - before) / rate).cpu().numpy())
    size = sum(matrix.shape)
    # (W_e(lr) - W_e(0)) / lr loses about eps * |W_e| / lr to cancellation.
    magnitude = float(np.abs(matrix).max() + 1)
    rounding = 8 * depth * size * FLOAT64_EPS * magnitude / (base * LEVELS[-1])
    return Measurement(np.stack(samples), base * np.array(LEVELS), rounding,
                       {"learning_rate": base, "hidden": matrix.shape})


def end_to_end_velocity(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                        ensemble: int) -> list[Measurement]:
    """dW_e/dt of balanced deep linear networks, from one GD step at three learning rates."""
    rng = generator(seed, device)
    return [_velocity_samples(p, ensemble, rng, device, "matrix") for p in points]


def singular_value_velocity(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                            ensemble: int) -> list[Measurement]:
    """D sigma_r/dt (descending order) of balanced deep linear networks."""
    rng = generator(seed, device)
    return [_velocity_samples(p, ensemble, rng, device, "singular") for p in points]


# -- Braun et al. 2022: two-layer networks from zero-balanced starts -----------------

__all__ += ["zero_balanced_dynamics"]  # this block is added after the others

# Steps at the coarsest level (levels 1024, 2048, 4096): at 256 a component whose O(lr) and
# O(lr^2) terms nearly cancel still looked like order 0.1 over the three levels (seed 2).
ZERO_BALANCED_STEPS = 1024
SPARE_EXAMPLES = 2  # examples beyond the input dimension: X X^T = I with X not square


def _padded(arrays: Sequence[np.ndarray], rows: int, columns: int, ensemble: int,
            device: str) -> torch.Tensor:
    """Zero-pad each (r x c) array to (rows x columns), each repeated ensemble times."""
    result = torch.zeros(len(arrays) * ensemble, rows, columns, dtype=torch.float64,
                         device=device)
    for index, array in enumerate(arrays):
        block = torch.as_tensor(array, dtype=torch.float64, device=device)
        result[index * ensemble:(index + 1) * ensemble, :array.shape[0], :array.shape[1]] = block
    return result


def zero_balanced_dynamics(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                           ensemble: int) -> list[Measurement]:
    """W2 W1, W1^T W1 or W2 W2^T after gradient descent from the given weights, for t/tau.

    Each ensemble member trains a real two-layer network on its own whitened dataset
    (X X^T = I from rows of a Haar-orthogonal matrix, Y = Sigma_yx X; full-batch gradient
    descent on the loss 1/2 sum_mu ||y - W2 W1 x||^2, its gradients written out by the chain
    rule: 4x faster than autograd here), its hidden units rotated by a Haar R
    (W1 -> R W1, W2 -> W2 R^T, which keeps the start zero-balanced and leaves the
    three measured matrices unchanged). The flow is deterministic: members differ only
    by rounding. Points of all shapes run as one batch, zero-padded to the largest
    (padded inputs, outputs and hidden units have zero data and weights, and their
    gradients stay exactly zero). Learning rates (t/tau)/steps at three levels.
    """
    rng = generator(seed, device)
    inputs = max(p["correlation"].shape[1] for p in points)
    outputs = max(p["correlation"].shape[0] for p in points)
    hidden = max(p["W1"].shape[0] for p in points)
    examples = inputs + SPARE_EXAMPLES
    batch = len(points) * ensemble
    correlation = _padded([p["correlation"] for p in points], outputs, inputs, ensemble, device)
    rotation = haar_orthogonal(batch, hidden, rng=rng, device=device)
    first = rotation @ _padded([p["W1"] for p in points], hidden, inputs, ensemble, device)
    second = _padded([p["W2"] for p in points], outputs, hidden, ensemble,
                     device) @ rotation.transpose(1, 2)
    mask = torch.zeros(batch, inputs, 1, dtype=torch.float64, device=device)
    for index, point in enumerate(points):
        mask[index * ensemble:(index + 1) * ensemble, :point["correlation"].shape[1]] = 1.0
    data = haar_orthogonal(batch, examples, rng=rng, device=device)[:, :inputs, :] * mask
    targets = correlation @ data
    duration = _tensor([p["t"] / p["tau"] for p in points], ensemble, device).view(-1, 1, 1)
    levels = []
    for level in LEVELS:
        steps = int(round(ZERO_BALANCED_STEPS / level))
        rate = duration / steps
        lower, upper = first.clone(), second.clone()
        for _ in range(steps):
            # Simultaneous update with the chain rule of 1/2 sum_mu ||y - W2 W1 x||^2:
            # dL/dW1 = -W2^T (Y - W2 W1 X) X^T, dL/dW2 = -(Y - W2 W1 X) X^T W1^T.
            back = (targets - upper @ lower @ data) @ data.transpose(1, 2)
            lower, upper = (lower + rate * (upper.transpose(1, 2) @ back),
                            upper + rate * (back @ lower.transpose(1, 2)))
        levels.append([lower, upper])
    measurements = []
    for index, point in enumerate(points):
        members = slice(index * ensemble, (index + 1) * ensemble)
        out, into = point["correlation"].shape
        samples = []
        for first_now, second_now in levels:
            w1, w2 = first_now[members, :, :into], second_now[members, :out, :]
            matrix = {"network": w2 @ w1, "input_similarity": w1.transpose(1, 2) @ w1,
                      "output_similarity": w2 @ w2.transpose(1, 2)}[point["quantity"]]
            samples.append(matrix.cpu().numpy())
        x = point["t"] / point["tau"]
        resolution = np.array([x / round(ZERO_BALANCED_STEPS / level) for level in LEVELS])
        scale = float(np.abs(point["correlation"]).max() + np.abs(samples[-1]).max())
        steps = int(round(ZERO_BALANCED_STEPS / LEVELS[-1]))
        rounding = 4 * (inputs + outputs + hidden + examples) * FLOAT64_EPS * steps * scale
        measurements.append(Measurement(np.stack(samples), resolution, rounding,
                                        {"steps": steps, "learning_rate": resolution[0]}))
    return measurements
# -- Kleinman, Achille & Soatto 2024: two pathways and a deficit --------------------

__all__ += ["two_pathway_networks", "critical_period"]

# Four learning rates, as for the learning times: with three, a nearly vanishing O(lr^2)
# coefficient left the bias bound below the O(lr^3) remainder (calibration, seed 20); and
# a coarsest rate of 0.2, not 0.4, where the series in lr is still asymptotic (seed 4).
PATHWAY_LEVELS = (1.0, 0.5, 0.25, 0.125)  # learning rates relative to the coarsest
PATHWAY_RATE = 0.2  # coarsest learning rate, in units of 1/(D S^(2-2/D)) (the fastest rate)
PATHWAY_STOP = 1e-9  # stop once |S - K_a - K_b| <= PATHWAY_STOP * S in every network
PATHWAY_MAX_STEPS = 200_000
PATHWAY_CHECK_EVERY = 64  # steps between convergence checks (each one syncs the device)


def two_pathway_networks(depths: torch.Tensor, gains: torch.Tensor, target: torch.Tensor, *,
                         layers: int, rng: torch.Generator, device: str
                         ) -> tuple[list[list[torch.Tensor]], torch.Tensor, torch.Tensor,
                                    torch.Tensor, torch.Tensor]:
    """Two balanced pathways per network, padded to ``layers`` weight matrices.

    Pathway ``a`` and ``b`` of network ``n`` each have ``depths[n]`` layers
    ``W_j = p R_j R_(j-1)^T`` (``p = gains[n]^(1/D)``, Haar frames ``R_j`` of their own,
    ``R_0 = V`` and ``R_D = U`` shared): balanced, ``W_(j+1)^T W_(j+1) = p^2 I = W_j W_j^T``,
    and every mode of ``U p^D V^T`` starts at gain ``gains[n]``. Layers ``D+1..layers`` are
    the identity and never trained. The target is ``target[n] u_1 v_1^T`` (rank one) on
    whitened inputs ``X X^T = I``.

    Returns:
        (weights per pathway, inputs, targets, u_1, v_1).

    """
    batch = depths.shape[0]
    options = {"rng": rng, "device": device}
    left, right = haar_orthogonal(batch, WIDTH, **options), haar_orthogonal(batch, WIDTH, **options)
    scale = gains ** (1.0 / depths.to(torch.float64))
    identity = torch.eye(WIDTH, dtype=torch.float64, device=device).expand(batch, -1, -1)
    pathways = []
    for _ in range(2):
        frames = [right] + [haar_orthogonal(batch, WIDTH, **options) for _ in range(layers - 1)]
        weights = []
        for layer in range(layers):
            out = torch.where((depths == layer + 1).view(-1, 1, 1), left, frames[min(layer + 1,
                                                                                     layers - 1)])
            trained = (scale.view(-1, 1, 1) * out @ frames[layer].transpose(1, 2))
            weights.append(torch.where((layer < depths).view(-1, 1, 1), trained, identity))
        pathways.append(weights)
    inputs = haar_orthogonal(batch, EXAMPLES, **options)[:, :WIDTH, :]  # X X^T = I exactly
    mode = torch.einsum("bi,bj->bij", left[:, :, 0], right[:, :, 0])
    targets = target.view(-1, 1, 1) * mode @ inputs
    return pathways, inputs, targets, left[:, :, 0], right[:, :, 0]


def _pathway_gains(depths: torch.Tensor, gains: torch.Tensor, target: torch.Tensor,
                   rates: torch.Tensor, deficit_rates: torch.Tensor,
                   deficit_steps: torch.Tensor, *, layers: int,
                   rng: torch.Generator, device: str) -> tuple[torch.Tensor, torch.Tensor,
                                                               torch.Tensor, int]:
    """Train both pathways by full-batch GD, freezing ``b`` for ``deficit_steps`` steps.

    Returns K_a at the end of the deficit, K_a at the end, the remaining gap
    ``|S - K_a - K_b|`` and the number of steps taken.
    """
    pathways, inputs, targets, left, right = two_pathway_networks(
        depths, gains, target, layers=layers, rng=rng, device=device)
    live = [[w.clone().requires_grad_(True) for w in weights] for weights in pathways]
    trained = [(layer < depths).view(-1, 1, 1).to(torch.float64) for layer in range(layers)]

    def gain(weights: list[torch.Tensor]) -> torch.Tensor:
        return torch.einsum("bi,bij,bj->b", left, _product(weights).detach(), right)

    deficit_gain = gain(live[0]).clone()
    step = 0
    while True:
        residual = targets - (_product(live[0]) + _product(live[1])) @ inputs
        loss = 0.5 * residual.square().sum()
        gradients = torch.autograd.grad(loss, live[0] + live[1])
        # The deficit: pathway b receives no update while step < deficit_steps.
        open_b = (step >= deficit_steps).to(torch.float64).view(-1, 1, 1)
        rate = torch.where(step < deficit_steps, deficit_rates, rates).view(-1, 1, 1)
        with torch.no_grad():
            for layer in range(layers):
                live[0][layer] -= rate * trained[layer] * gradients[layer]
                live[1][layer] -= rate * trained[layer] * open_b * gradients[layers + layer]
        step += 1
        ending = deficit_steps == step
        if bool(ending.any()):
            deficit_gain = torch.where(ending, gain(live[0]), deficit_gain)
        if step % PATHWAY_CHECK_EVERY == 0 or step >= PATHWAY_MAX_STEPS:
            gap = (target - gain(live[0]) - gain(live[1])).abs()
            done = (step >= deficit_steps) & (gap <= PATHWAY_STOP * target)
            if bool(done.all()) or step >= PATHWAY_MAX_STEPS:
                return deficit_gain, gain(live[0]), gap, step


def critical_period(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                    ensemble: int) -> list[Measurement]:
    """Gain of pathway a after a deficit of pathway b, and after training to convergence.

    Every point, ensemble member and learning-rate level is one network of one batched
    program (depths padded with frozen identity layers). The coarsest learning rate is
    ``h = PATHWAY_RATE / (D S^(2-2/D))``; during the deficit it is ``deficit_time / n`` with
    ``n = ceil(deficit_time / h)``, so that every level ends the deficit exactly at
    ``deficit_time``. Finer levels halve both.
    """
    rng = generator(seed, device)
    levels = len(PATHWAY_LEVELS)
    depth, target, start, coarsest = [], [], [], []
    rates, deficit_rates, deficit_steps = [], [], []
    for p in points:
        base = PATHWAY_RATE / (p["depth"] * p["target"] ** (2 - 2 / p["depth"]))
        count = int(np.ceil(p["deficit_time"] / base))
        coarse = p["deficit_time"] / count if count else base
        coarsest.append(base)
        for factor in PATHWAY_LEVELS:
            for _ in range(ensemble):
                depth.append(p["depth"])
                target.append(p["target"])
                start.append(p["initial_gain"])
                rates.append(base * factor)
                deficit_rates.append(coarse * factor)
                deficit_steps.append(int(round(count / factor)))

    def tensor(values: list[Any], dtype: torch.dtype = torch.float64) -> torch.Tensor:
        return torch.tensor(values, dtype=dtype, device=device)

    depths = tensor(depth, torch.int64)
    deficit, final, gap, steps = _pathway_gains(
        depths, tensor(start), tensor(target), tensor(rates), tensor(deficit_rates),
        tensor(deficit_steps, torch.int64),
        layers=int(max(depth)), rng=rng, device=device)
    measured = {"deficit_gain_a": deficit.cpu().numpy(), "final_gain_a": final.cpu().numpy()}
    gaps = gap.cpu().numpy()
    results = []
    for index, p in enumerate(points):
        rows = slice(index * levels * ensemble, (index + 1) * levels * ensemble)
        samples = measured[p["quantity"]][rows].reshape(levels, ensemble)
        # After convergence stops, K_a and K_b both still move towards K_a + K_b = S with
        # the sign of the gap, so K_a can change by at most the remaining gap.
        remaining = float(gaps[rows].max()) if p["quantity"] == "final_gain_a" else 0.0
        rounding = _rounding(steps, p["target"]) * p["depth"] + remaining
        results.append(Measurement(samples, coarsest[index] * np.array(PATHWAY_LEVELS), rounding,
                                   {"steps": steps, "remaining_gap": remaining}))
    return results


# -- Saxe et al. eq. 17: the learning time at large depth ------------------------------

__all__ += ["deep_time_series"]

SERIES_DEPTHS = (8, 16, 32, 64, 128, 256)  # weight matrices N_l - 1, doubling
SERIES_DIGITS = 1e-12  # relative accuracy of each quadrature (10 digits beyond float64 asked)


def deep_time_series(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                     ensemble: int) -> list[Measurement]:
    """``(N_l - 1) t`` over doubling depths, or the order at which it converges.

    ``t`` is the exact learning time of a balanced deep mode from ``u0`` to ``uf``, the
    quadrature of eq. 15 that ``deep_linear.deep_mode_dynamics`` checks against real
    gradient descent (:func:`~theorylab.matrix_functions.saturation_integral_value`;
    deterministic, one sample per level). ``scaled_time`` reports ``(N_l - 1) t`` at the
    four deepest depths (resolution ``1/(N_l - 1)``); ``error_order`` the convergence order
    ``p`` of ``|m(D) - m(2D)| ~ D^-p``, fitted by ``scipy.stats.linregress`` of the log
    differences on log depth over windows of three consecutive differences (resolution:
    ``1/D`` of the window's shallowest depth).
    """
    from scipy.stats import linregress

    from theorylab.matrix_functions import saturation_integral_value

    results = []
    depths = np.array(SERIES_DEPTHS, dtype=float)
    for p in points:
        scaled = np.array([p["tau"] * saturation_integral_value(2 - 2 / depth, p["s"], p["u0"],
                                                                p["uf"])
                           for depth in SERIES_DEPTHS])
        error = SERIES_DIGITS * float(np.max(scaled))
        if p["quantity"] == "scaled_time":
            results.append(Measurement(scaled[-4:, None], 1 / depths[-4:], error,
                                       {"depths": SERIES_DEPTHS[-4:]}))
            continue
        differences = np.abs(np.diff(scaled))
        slopes = np.array([-linregress(np.log(depths[k:k + 3]), np.log(differences[k:k + 3])).slope
                           for k in range(len(differences) - 2)])
        # A difference known to +-2 error moves its log by 2 error/difference.
        rounding = 4 * error / float(np.min(differences)) / np.log(2)
        results.append(Measurement(slopes[:, None], 1 / depths[:len(slopes)], rounding,
                                   {"depths": SERIES_DEPTHS, "differences": differences.tolist()}))
    return results
