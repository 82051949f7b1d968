"""Continual learning in linear models, simulated by real sequential training.

Lin et al. setting (arXiv:2302.05836): ground truths ``w_1^*, ..., w_T^*`` are built
from their Gram matrix (eigendecomposition, embedded in ``R^p``); each ensemble member
draws fresh Gaussian features ``X_t`` (``p x n``) and label noise, and fits the tasks
one after another from ``w_0 = 0``:

- overparameterized (``p > n``): the minimum-norm change from the previous weights,
  ``w_t = w_{t-1} + X_t (X_t^T X_t)^{-1} (y_t - X_t^T w_{t-1})``;
- underparameterized (``p < n``): the least-squares fit ``(X_t X_t^T)^{-1} X_t y_t``.

Both are batched solves over the ensemble (one ``torch.linalg.solve`` per task). Each
member draws its features; the label noise, which the weights depend on affinely, is
averaged exactly given those features (Rao-Blackwell, :func:`noise_averaged_fit`),
which removes the noise-sampling part of the Monte Carlo variance. For a subset of
members of the first point the noise is drawn and the tasks are fitted by plain gradient
descent from ``w_{t-1}`` run to convergence; those runs enter the measurement, which
checks the step "gradient descent converges to the minimum-norm change".

Evron et al. setting (arXiv:2205.09588): tasks ``X_m w = y_m`` with a common solution,
fitted in cyclic order by gradient descent to convergence (a projection), from ``w_0 = 0``.

Nothing here knows the closed forms being checked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from theorylab.numerics._torch import FLOAT64_EPS, generator, haar_orthogonal

from theorylab.linear_regression import (
    forgetting_of,
    generalization_of,
    ground_truths,
    normalized_collection,
)
from theorylab.measurement import Measurement

__all__ = [
    "ground_truths",
    "sequential_fit",
    "gradient_descent_fit",
    "model_error_samples",
    "noise_averaged_fit",
    "model_errors",
    "forgetting",
    "generalization",
    "two_task_forgetting",
    "cyclic_forgetting",
    "cyclic_forgetting_value",
]

GRADIENT_DESCENT_MEMBERS = 16  # members of the first point trained by gradient descent
STEP_TOLERANCE = 1e-12  # relative size of a step at which gradient descent stops
MAX_GRADIENT_STEPS = 50_000


def gradient_descent_fit(features: torch.Tensor, labels: torch.Tensor, start: torch.Tensor,
                         *, max_steps: int = MAX_GRADIENT_STEPS) -> tuple[torch.Tensor, int]:
    """Plain gradient descent on ``1/2 ||X^T w - y||^2`` from ``start``, to convergence.

    Args:
        features: (batch, p, n); labels: (batch, n); start: (batch, p).

    The learning rate is ``2/(lambda_min + lambda_max)`` of ``X^T X`` per member (the
    fastest constant step); it stops when every member's step is below
    STEP_TOLERANCE relative to its weights (underparameterized, the gradient at the
    limit is zero only up to rounding of the nonzero residual, so a gradient
    threshold could stall). Returns (weights, steps).

    """
    # The nonzero spectrum of X X^T is that of the smaller of X^T X and X X^T.
    small = (features.transpose(1, 2) @ features if features.shape[1] >= features.shape[2]
             else features @ features.transpose(1, 2))
    spectrum = torch.linalg.eigvalsh(small)
    rate = (2.0 / (spectrum[:, 0] + spectrum[:, -1])).unsqueeze(1)
    weights = start.clone()

    def gradient(current: torch.Tensor) -> torch.Tensor:
        residual = torch.einsum("bpn,bp->bn", features, current) - labels
        return torch.einsum("bpn,bn->bp", features, residual)

    steps = 0
    while steps < max_steps:
        for _ in range(100):
            weights = weights - rate * gradient(weights)
        steps += 100
        step = (rate * gradient(weights)).norm(dim=1)
        if bool(torch.all(step <= STEP_TOLERANCE * weights.norm(dim=1).clamp_min(1e-300))):
            break
    return weights, steps


def _direct_fit(features: torch.Tensor, labels: torch.Tensor,
                start: torch.Tensor) -> torch.Tensor:
    """Minimum-norm change (p > n) or least-squares fit (p < n), batched."""
    dimension, samples = features.shape[1], features.shape[2]
    if dimension > samples:
        residual = labels - torch.einsum("bpn,bp->bn", features, start)
        coefficients = torch.linalg.solve(features.transpose(1, 2) @ features, residual)
        return start + torch.einsum("bpn,bn->bp", features, coefficients)
    moments = torch.einsum("bpn,bn->bp", features, labels)
    return torch.linalg.solve(features @ features.transpose(1, 2), moments)


def sequential_fit(features: torch.Tensor, labels: torch.Tensor, *,
                   gradient_descent: bool = False) -> tuple[torch.Tensor, dict[str, Any]]:
    """Fit tasks 1..T in order from ``w_0 = 0``.

    Args:
        features: (batch, T, p, n); labels: (batch, T, n).
        gradient_descent: fit each task by gradient descent from the previous
            weights instead of the direct solve.

    Returns:
        weights (batch, T, p) after each task, and diagnostics.

    """
    batch, count, dimension, _ = features.shape
    weights = torch.zeros(batch, dimension, dtype=features.dtype, device=features.device)
    history, steps, deviation = [], 0, 0.0
    for task in range(count):
        if gradient_descent:
            fitted, taken = gradient_descent_fit(features[:, task], labels[:, task], weights)
            direct = _direct_fit(features[:, task], labels[:, task], weights)
            scale = float(direct.norm(dim=1).max().clamp_min(1e-300))
            deviation = max(deviation, float((fitted - direct).norm(dim=1).max()) / scale)
            steps = max(steps, taken)
            weights = fitted
        else:
            weights = _direct_fit(features[:, task], labels[:, task], weights)
        history.append(weights)
    return torch.stack(history, dim=1), {"gradient_steps": steps,
                                        "relative_deviation_from_solve": deviation}


def noise_averaged_fit(features: torch.Tensor, truths: torch.Tensor,
                       noise: float) -> torch.Tensor:
    """``E_z ||w_t - w_i^*||^2`` given the features, for the direct solves.

    The weights are affine in the label noise, ``w_t = a_t + B_t z``, with ``a_t``
    the noiseless sequential fit and ``B_t`` the realized noise-to-weights map
    (``p x T n``), propagated task by task exactly as the weights are (through
    ``B_t B_t^T``). The Gaussian noise is then averaged exactly (Rao-Blackwell):
    ``E_z ||a_t + B_t z - w_i^*||^2 = ||a_t - w_i^*||^2 + sigma^2 ||B_t||_F^2``.

    Args:
        features: (batch, T, p, n); truths: (T, p).

    Returns:
        (batch, T, T): row t (after task t), column i (ground truth i).

    """
    batch, count, dimension, samples = features.shape
    options = {"dtype": features.dtype, "device": features.device}
    weights = torch.zeros(batch, dimension, **options)
    # Over: B_t B_t^T (p x p) = (I - P_t) B_{t-1} B_{t-1}^T (I - P_t) + X_t (X_t^T X_t)^-2 X_t^T.
    covariance = torch.zeros(batch, dimension, dimension, **options)
    rows = []
    for task in range(count):
        current = features[:, task]
        labels = torch.einsum("bpn,p->bn", current, truths[task])
        if dimension > samples:
            basis, triangle = torch.linalg.qr(current)  # X = Q R, P_t = Q Q^T
            residual = labels - torch.einsum("bpn,bp->bn", current, weights)
            # X (X^T X)^{-1} = Q R^{-T}
            block = torch.linalg.solve_triangular(triangle, basis.transpose(1, 2),
                                                  upper=True).transpose(1, 2)
            weights = weights + torch.einsum("bpn,bn->bp", block, residual)
            kept = covariance - basis @ (basis.transpose(1, 2) @ covariance)
            kept = kept - (kept @ basis) @ basis.transpose(1, 2)
            covariance = kept + block @ block.transpose(1, 2)
            spread = torch.diagonal(covariance, dim1=1, dim2=2).sum(-1)
        else:
            moments = current @ current.transpose(1, 2)
            weights = torch.linalg.solve(moments, torch.einsum("bpn,bn->bp", current, labels))
            # B_t = (X X^T)^{-1} X: the start is forgotten, ||B_t||_F^2 = tr (X X^T)^{-1}.
            spread = torch.diagonal(torch.linalg.inv(moments), dim1=1, dim2=2).sum(-1)
        distance = (weights.unsqueeze(1) - truths.unsqueeze(0)).square().sum(-1)
        rows.append(distance + noise**2 * spread.unsqueeze(1))
    return torch.stack(rows, dim=1)


def model_error_samples(point: dict[str, Any], ensemble: int, *, rng: torch.Generator,
                        device: str, gradient_members: int = 0, chunk: int = 2000,
                        draw_noise: bool = False) -> tuple[np.ndarray, dict]:
    """Samples of ``||w_t - w_i^*||^2``, shape (ensemble, T, T): row t, column i.

    Each member draws its own Gaussian features. By default the label noise is
    averaged exactly given the features (:func:`noise_averaged_fit`); with
    ``draw_noise`` every member also draws the noise and fits the noisy labels.
    The first ``gradient_members`` members always draw the noise and are
    trained by gradient descent from the previous weights. The ensemble is
    simulated in batches of ``chunk`` members to bound memory.
    """
    if ensemble > chunk:
        first, info = model_error_samples(point, chunk, rng=rng, device=device,
                                          gradient_members=gradient_members, chunk=chunk,
                                          draw_noise=draw_noise)
        rest, _ = model_error_samples(point, ensemble - chunk, rng=rng, device=device,
                                      chunk=chunk, draw_noise=draw_noise)
        return np.concatenate([first, rest]), info
    dimension, samples = int(point["p"]), int(point["n"])
    noise = float(point["sigma"])
    truths = torch.as_tensor(ground_truths(point["gram"], dimension), device=device)
    count = truths.shape[0]
    options = {"generator": rng, "device": device, "dtype": torch.float64}
    features = torch.randn(ensemble, count, dimension, samples, **options)
    info: dict[str, Any] = {"noise": "drawn" if draw_noise else "averaged given features"}
    drawn = ensemble if draw_noise else gradient_members
    errors = noise_averaged_fit(features[drawn:], truths, noise) if drawn < ensemble else None
    if drawn:
        labels = (torch.einsum("etpn,tp->etn", features[:drawn], truths)
                  + noise * torch.randn(drawn, count, samples, **options))
        weights, _ = sequential_fit(features[:drawn], labels)
        if gradient_members:
            trained, info_gd = sequential_fit(features[:gradient_members],
                                              labels[:gradient_members], gradient_descent=True)
            weights = torch.cat([trained, weights[gradient_members:]])
            info.update(info_gd, gradient_members=gradient_members)
        noisy = (weights.unsqueeze(2) - truths.view(1, 1, count, dimension)).square().sum(-1)
        errors = noisy if errors is None else torch.cat([noisy, errors])
    return errors.cpu().numpy(), info


def _rounding(point: dict[str, Any], values: np.ndarray) -> float:
    # Normal-equation solves lose ~cond(X^T X) eps per task; cond is O((p+n)/(p-n))^2 here.
    dimension, samples = int(point["p"]), int(point["n"])
    condition = ((math.sqrt(dimension) + math.sqrt(samples))
                 / abs(math.sqrt(dimension) - math.sqrt(samples))) ** 2
    return 64 * condition * FLOAT64_EPS * float(np.abs(values).mean() + 1.0)


def _measure(points: Sequence[dict[str, Any]], seed: int, device: str, ensemble: int,
             reduce_to: Any) -> list[Measurement]:
    rng = generator(seed, device)
    measurements = []
    for index, point in enumerate(points):
        members = min(GRADIENT_DESCENT_MEMBERS, ensemble // 4) if index == 0 else 0
        errors, info = model_error_samples(point, ensemble, rng=rng, device=device,
                                           gradient_members=members)
        values = reduce_to(errors)
        measurements.append(Measurement(values[None], np.zeros(1), _rounding(point, values),
                                        info))
    return measurements


def model_errors(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                 ensemble: int) -> list[Measurement]:
    """The T x T matrix of ``||w_t - w_i^*||^2`` per member."""
    return _measure(points, seed, device, ensemble, lambda errors: errors)


def forgetting(points: Sequence[dict[str, Any]], *, seed: int, device: str,
               ensemble: int) -> list[Measurement]:
    """``F_T = 1/(T-1) sum_{i<T} [L_i(w_T) - L_i(w_i)]`` per member."""
    return _measure(points, seed, device, ensemble, forgetting_of)


def generalization(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                   ensemble: int) -> list[Measurement]:
    """``G_T = 1/T sum_i L_i(w_T)`` per member."""
    return _measure(points, seed, device, ensemble, generalization_of)


# -- Evron et al.: projections ---------------------------------------------------------------


def _project(weights: torch.Tensor, rows: torch.Tensor, inverse: torch.Tensor,
             labels: torch.Tensor) -> torch.Tensor:
    """Gradient descent on 1/2||X w - y||^2 run to convergence from ``weights``.

    With the pseudo-inverse as preconditioner one step lands on the limit, the
    projection of ``weights`` onto the task's solution set.
    """
    residual = labels - torch.einsum("brd,bd->br", rows, weights)
    return weights + torch.einsum("bdr,br->bd", inverse, residual)


def _cyclic_run(tasks: torch.Tensor, solution: torch.Tensor, iterations: int) -> torch.Tensor:
    """Forgetting after ``iterations`` cyclic visits; tasks (batch, T, rows, d)."""
    count = tasks.shape[1]
    # Rescaling X_m w = y_m leaves its solution set unchanged, so each task is projected at
    # unit spectral norm: the pseudo-inverse of a task with subnormal entries overflows
    # (1/2.2e-313 = inf, NaN forgetting: cyclic_forgetting_bound, seed 135).
    scale = torch.linalg.matrix_norm(tasks, ord=2)
    unit = tasks / torch.where(scale > 0, scale, 1.0)[..., None, None]
    labels = torch.einsum("btrd,bd->btr", unit, solution)
    inverse = torch.linalg.pinv(unit)
    weights = torch.zeros_like(solution)
    visits = torch.zeros(count, dtype=tasks.dtype, device=tasks.device)
    for step in range(iterations):
        task = step % count
        weights = _project(weights, unit[:, task], inverse[:, task], labels[:, task])
        visits[task] += 1
    residuals = (torch.einsum("btrd,bd->btr", unit, weights) - labels).square().sum(-1)
    return (scale.square() * residuals * visits).sum(-1) / iterations


def two_task_forgetting(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                        ensemble: int) -> list[Measurement]:
    """Forgetting of two rank-one tasks in R^2 and its maximum over the angle.

    Each member rotates the whole configuration by a random angle (forgetting is
    rotation invariant, so members agree up to rounding). The maximum over
    theta in (0, pi/2] is found by golden-section search on the simulated
    forgetting (unimodal in theta), to 1e-10 in theta.
    """
    rng = generator(seed, device)
    results = []
    for point in points:
        iterations = int(point["k"])
        rotation = torch.rand(ensemble, generator=rng, device=device,
                              dtype=torch.float64) * 2 * math.pi
        solution_plane = torch.tensor([point["w_normal"], point["w_along"]],
                                      dtype=torch.float64, device=device)

        def simulate(angle: torch.Tensor, rotation: torch.Tensor = rotation,
                     solution_plane: torch.Tensor = solution_plane,
                     iterations: int = iterations) -> torch.Tensor:
            normals = torch.stack([torch.zeros_like(angle), angle], dim=-1)
            normals = normals + rotation.unsqueeze(-1)
            tasks = torch.stack([torch.cos(normals), torch.sin(normals)], dim=-1)
            cosine, sine = torch.cos(rotation), torch.sin(rotation)
            solution = torch.stack([cosine * solution_plane[0] - sine * solution_plane[1],
                                    sine * solution_plane[0] + cosine * solution_plane[1]],
                                   dim=-1)
            return _cyclic_run(tasks.unsqueeze(2), solution, iterations)

        angle = torch.full((ensemble,), float(point["theta"]), dtype=torch.float64,
                           device=device)
        value = simulate(angle)
        low = torch.zeros(ensemble, dtype=torch.float64, device=device)
        high = torch.full_like(low, math.pi / 2)
        golden = (math.sqrt(5) - 1) / 2
        while float((high - low).max()) > 1e-10:
            first, second = high - golden * (high - low), low + golden * (high - low)
            better = simulate(first) > simulate(second)
            high = torch.where(better, second, high)
            low = torch.where(better, low, first)
        supremum = simulate((low + high) / 2)
        samples = torch.stack([value, supremum], dim=-1).cpu().numpy()
        # Each projection errs by ~eps |w^*| in the weights, so the residual by
        # ~(k + 4) eps |w^*| absolute, and F = residual^2 by 2 sqrt(F) times that.
        step = 16 * (iterations + 4) * FLOAT64_EPS * math.hypot(point["w_along"],
                                                                point["w_normal"])
        rounding = 2 * math.sqrt(float(np.abs(samples).max())) * step + step**2
        results.append(Measurement(samples[None], np.zeros(1), rounding,
                                   {"theta_at_supremum": float((low[0] + high[0]) / 2)}))
    return results


def cyclic_forgetting_value(tasks: np.ndarray, solution: np.ndarray, iterations: int, *,
                            rotations: torch.Tensor | None = None,
                            device: str = "cpu") -> np.ndarray:
    """Normalized cyclic forgetting of one task collection, per rotation.

    Rescales the data to ``max_m ||X_m||_2 = 1`` and the common solution to the
    minimum-norm one with norm 1 (the paper's normalization,
    :func:`theorylab.linear_regression.normalized_collection`), then runs the projections.
    """
    normalized, target = normalized_collection(tasks, solution)
    data = torch.as_tensor(normalized, device=device)
    target = torch.as_tensor(target, device=device)
    if rotations is None:
        rotations = torch.eye(data.shape[-1], dtype=torch.float64, device=device)[None]
    rotated = torch.einsum("trd,bed->btre", data, rotations)
    moved = torch.einsum("bed,d->be", rotations, target)
    return _cyclic_run(rotated, moved, iterations).cpu().numpy()


def cyclic_forgetting(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                      ensemble: int) -> list[Measurement]:
    """Forgetting after k cyclic iterations over each point's task collection.

    Each member applies a Haar-random rotation of R^d to the whole collection
    (forgetting is invariant), so members agree up to rounding.
    """
    rng = generator(seed, device)
    results = []
    for point in points:
        tasks = np.asarray(point["tasks"], dtype=np.float64)
        dimension = tasks.shape[-1]
        rotations = haar_orthogonal(ensemble, dimension, rng=rng, device=device)
        values = cyclic_forgetting_value(tasks, np.asarray(point["w_star"]), int(point["k"]),
                                         rotations=rotations, device=device)
        rows = tasks.shape[1]
        # Projections are contractions: each visit adds ~ cond(X_m) (rows d) eps of
        # relative error, cond over the singular values pinv keeps.
        singular = np.linalg.svd(tasks, compute_uv=False)
        kept = singular > max(rows, dimension) * FLOAT64_EPS * singular.max(initial=0.0)
        condition = max((row.max() / row[keep].min() for row, keep in zip(singular, kept,
                                                                          strict=True)
                         if keep.any()), default=1.0)
        rounding = 64 * (int(point["k"]) + 4) * rows * dimension * condition * FLOAT64_EPS
        results.append(Measurement(values[None, :], np.zeros(1), rounding,
                                   {"iterations": int(point["k"])}))
    return results
