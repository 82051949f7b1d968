"""Neural-collapse metrics, and minimizers of the unconstrained-feature objectives found by search.

Public metrics (defined in :mod:`theorylab.collapse_geometry`, imported here; each cites
the paper whose definition it follows; the literature uses the same names for different
formulas):

- :func:`nc1_papyan`: ``Tr(Sigma_W Sigma_B^+)/K``;
- :func:`nc2_equinorm_papyan`, :func:`nc2_equiangularity_papyan`,
  :func:`nc2_max_angle_papyan`: Papyan et al.'s NC2 statistics;
- :func:`nc2_etf_distance_zhu`: Zhu et al.'s distance of ``W W^T`` to a simplex ETF;
- :func:`nc3_self_duality`: Papyan et al.'s distance between classifier and class means;
- :func:`nc4_ncc_agreement`: agreement of the classifier with the nearest-class-mean rule.

Simulations: each objective is minimized in torch (float64) from random
starts with a batched saddle-free Newton method (Hessians by ``torch.func``,
``|eigenvalue|`` preconditioning so that saddles repel, a trust region per
problem), all restarts of all points of a shape in one tensor program. Each
ensemble member is the best of ``RESTARTS`` random starts; the measured
quantity is read at that best point. The bias bound is the change of the
quantity along one further Newton step ``-H^+ g`` (the gradient at
termination), doubled, plus rounding. Nothing here knows the closed forms.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from theorylab.numerics._torch import FLOAT64_EPS, generator, haar_orthogonal

from theorylab.collapse_geometry import (
    class_means,
    nc1_papyan,
    nc2_equiangularity_papyan,
    nc2_equinorm_papyan,
    nc2_etf_distance_zhu,
    nc2_max_angle_papyan,
    nc3_self_duality,
    nc4_ncc_agreement,
)
from theorylab.measurement import Measurement

__all__ = [
    "class_means",
    "nc1_papyan",
    "nc2_equinorm_papyan",
    "nc2_equiangularity_papyan",
    "nc2_max_angle_papyan",
    "nc2_etf_distance_zhu",
    "nc3_self_duality",
    "nc4_ncc_agreement",
    "minimize",
    "terminal_phase_metrics",
    "simplex_etf",
    "ufm_ce_minimizer",
    "ufm_mse_minimizer",
    "deep_linear_imbalanced",
]

RESTARTS = 4  # random starts behind each ensemble member
ETF_SHARPNESS = 4.0  # beta in sum_{i<j} exp(beta cos_ij)

# -- batched minimization: gradient descent, then saddle-free Newton ----------------------

Objective = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def minimize(objective: Objective, start: torch.Tensor, hyper: torch.Tensor, *,
             descent_steps: int = 300, newton_steps: int = 40, tolerance: float = 1e-11,
             restarts: int = 1) -> dict[str, torch.Tensor]:
    """Minimize independent problems ``objective(x_b, hyper_b)`` in one batch.

    First ``descent_steps`` of gradient descent with a per-problem step size
    (grown on success, halved on failure), then saddle-free Newton steps
    ``-V |Lambda|^+ V^T g`` (eigenvalues below ``1e-9`` of the largest are
    treated as null: symmetry directions and padding) inside a per-problem
    trust radius, until every ``||g|| <= tolerance (1 + |f|)`` or no problem
    can make progress.

    Args:
        objective: ``(x (P,), hyper (Q,)) -> scalar``, written for one problem.
        start: ``(B, P)`` starting points.
        hyper: ``(B, Q)`` per-problem constants.
        descent_steps: gradient steps before Newton.
        newton_steps: the most Newton steps.
        tolerance: relative gradient norm at which a problem counts as converged.
        restarts: consecutive blocks of this many problems are restarts of one
            problem (kept for callers; every start is refined to convergence).

    Returns:
        ``x`` (final points), ``value``, ``gradient_norm``, ``step`` (one more
        untruncated Newton step from ``x``: the estimated displacement to the
        critical point) and ``iterations`` (Newton steps taken).

    """
    value_of = torch.func.vmap(objective)
    gradient_of = torch.func.vmap(torch.func.grad(objective))
    hessian_of = torch.func.vmap(torch.func.jacrev(torch.func.grad(objective)))

    def value_and_gradient(point: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        point = point.detach().requires_grad_(True)
        value = value_of(point, hyper)
        (gradient,) = torch.autograd.grad(value.sum(), point)
        return value.detach(), gradient.detach()

    x = start.clone()
    value, gradient = value_and_gradient(x)
    rate = torch.full_like(value, 0.05)
    for _ in range(descent_steps):
        trial = x - rate.unsqueeze(1) * gradient
        trial_value, trial_gradient = value_and_gradient(trial)
        accept = (trial_value <= value) & torch.isfinite(trial_value)
        x = torch.where(accept.unsqueeze(1), trial, x)
        value = torch.where(accept, trial_value, value)
        gradient = torch.where(accept.unsqueeze(1), trial_gradient, gradient)
        rate = torch.where(accept, rate * 1.3, rate * 0.5)

    def newton(point: torch.Tensor, constants: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        gradient = gradient_of(point, constants)
        hessian = hessian_of(point, constants)
        eigenvalues, eigenvectors = torch.linalg.eigh((hessian + hessian.transpose(1, 2)) / 2)
        magnitude = eigenvalues.abs()
        keep = magnitude > 1e-9 * magnitude.amax(dim=1, keepdim=True)
        projected = (eigenvectors.transpose(1, 2) @ gradient.unsqueeze(-1)).squeeze(-1)
        coefficients = torch.where(keep, projected / torch.where(keep, magnitude, 1.0), 0.0)
        return -(eigenvectors @ coefficients.unsqueeze(-1)).squeeze(-1), gradient

    radius = 0.1 * (x.norm(dim=1) + 1.0)
    active = torch.ones_like(value, dtype=torch.bool)
    taken = 0
    for taken in range(1, newton_steps + 1):  # noqa: B007
        # Only problems still in play are refined: converged and stalled ones keep their
        # point. (A start above its block's current best is not dropped: it may still
        # descend below it.)
        index = active.nonzero().squeeze(1)
        point, current = x[index], value[index]
        step, gradient = newton(point, hyper[index])
        converged = gradient.norm(dim=1) <= tolerance * (1 + current.abs())
        length = step.norm(dim=1)
        factor = torch.clamp(radius[index] / torch.clamp(length, min=1e-300), max=1.0)
        trial = point + step * factor.unsqueeze(1)
        trial_value = value_of(trial, hyper[index])
        slack = 4 * FLOAT64_EPS * (1 + current.abs())
        accept = (trial_value <= current + slack) & torch.isfinite(trial_value) & ~converged
        x[index] = torch.where(accept.unsqueeze(1), trial, point)
        value[index] = torch.where(accept, trial_value, current)
        grow = accept & (factor < 1.0)
        radius[index] = torch.where(accept, torch.where(grow, radius[index] * 3.0,
                                                        radius[index]), radius[index] / 4.0)
        stalled = radius < 1e-10 * (1 + x.norm(dim=1))
        done = torch.zeros_like(active)
        done[index] = converged
        active = active & ~(done | stalled)
        if not bool(active.any()):
            break
    step, gradient = newton(x, hyper)
    return {"x": x, "value": value, "gradient_norm": gradient.norm(dim=1), "step": step,
            "iterations": torch.tensor(taken)}


def _run(points: Sequence[dict[str, Any]], problem: dict[str, Any], *, seed: int, device: str,
         ensemble: int) -> list[Measurement]:
    """Minimize every point's problem from ``ensemble x RESTARTS`` starts in one batch.

    Each ensemble member is the best (lowest objective) of its ``RESTARTS``
    starts. Per point, the measured quantity is read at each member's best
    point; the bias bound is twice its change along one more Newton step,
    plus rounding, the worst over members and components.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # many tiny batched kernels: threads only add contention
    try:
        return _run_single_threaded(points, problem, seed=seed, device=device,
                                    ensemble=ensemble)
    finally:
        torch.set_num_threads(threads)


def _run_single_threaded(points: Sequence[dict[str, Any]], problem: dict[str, Any], *,
                         seed: int, device: str, ensemble: int) -> list[Measurement]:
    rng = generator(seed, device)
    members = len(points) * ensemble
    restarts = problem.get("restarts", RESTARTS)
    hyper = problem["hyper"].repeat_interleave(ensemble * restarts, dim=0)
    low, high = problem.get("scales", (0.1, 2.0))
    scales = torch.logspace(math.log10(low), math.log10(high), restarts, dtype=torch.float64,
                            device=device).repeat(members)
    start = torch.randn(members * restarts, problem["size"], generator=rng, device=device,
                        dtype=torch.float64) * scales.unsqueeze(1)
    if "shape_start" in problem:
        start = problem["shape_start"](start, hyper, restarts, rng)
    result = minimize(problem["objective"], start, hyper, restarts=restarts,
                      **problem.get("minimize", {}))
    value = torch.where(torch.isfinite(result["value"]), result["value"], math.inf)
    pool = ensemble * restarts  # every start of a point
    per_point = value.view(len(points), pool)
    best = torch.arange(len(points), device=device) * pool + per_point.argmin(dim=1)
    x, step, best_hyper = result["x"][best], result["step"][best], hyper[best]
    gradients = result["gradient_norm"][best].cpu().numpy()
    lowest = per_point.min(dim=1).values
    found = (per_point <= (lowest + 1e-9 * (1 + lowest.abs())).unsqueeze(1)).sum(1)
    cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    measurements = []
    for index, point in enumerate(points):
        name = point["quantity"]
        if name not in cache:
            function = torch.func.vmap(problem["quantities"][name])
            here = function(x, best_hyper)
            there = function(x + step, best_hyper)
            cache[name] = (here.cpu().numpy(), (here - there).abs().cpu().numpy())
        here, shift = cache[name]
        value_here = problem["crop"](name, point, here[index])
        moved = problem["crop"](name, point, shift[index])
        rounding = 8 * problem["size"] * FLOAT64_EPS * (1 + np.abs(value_here).max())
        # One sample: the quantity at the best of all starts. A minimum carries no sampling
        # noise; its error is the optimizer's, bounded by the last Newton step (bias).
        measurements.append(Measurement(
            np.asarray(value_here)[None, None], np.zeros(1), float(2 * moved.max() + rounding),
            {"starts": pool, "starts_at_best": int(found[index]),
             "gradient_norm": float(gradients[index]),
             "newton_steps": int(result["iterations"]), "best_value": float(lowest[index])}))
    return measurements


def _mask(count: int, active: torch.Tensor, device: str | torch.device) -> torch.Tensor:
    """1.0 for the first ``active`` of ``count`` slots, else 0.0 (``active`` a 0-d tensor)."""
    return (torch.arange(count, device=device, dtype=torch.float64) < active).to(torch.float64)


def _square(name: str, point: dict, value: np.ndarray, size: int) -> np.ndarray:
    return value[:size, :size] if value.ndim == 2 else value[:size]


# -- 1. simplex ETF: K unit vectors with the smallest largest cosine -------------------------


def _etf_problem(points: Sequence[dict[str, Any]], device: str) -> dict[str, Any]:
    classes = max(p["K"] for p in points)
    dimension = max(p["d"] for p in points)
    upper = torch.triu(torch.ones(classes, classes, dtype=torch.float64, device=device), 1)

    def unit(x: torch.Tensor, hyper: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        vectors_mask = _mask(classes, hyper[0], x.device)
        vectors = (x.view(classes, dimension) * vectors_mask.unsqueeze(1)
                   * _mask(dimension, hyper[1], x.device).unsqueeze(0))
        lengths = vectors.square().sum(1)
        safe = torch.where(vectors_mask > 0, lengths, torch.ones_like(lengths))
        return vectors / safe.sqrt().unsqueeze(1), vectors_mask

    def objective(x: torch.Tensor, hyper: torch.Tensor) -> torch.Tensor:
        u, active = unit(x, hyper)
        pairs = upper * active.unsqueeze(0) * active.unsqueeze(1)
        energy = (pairs * torch.exp(ETF_SHARPNESS * (u @ u.T))).sum()
        lengths = (x.view(classes, dimension) * _mask(dimension, hyper[1], x.device)).square()
        return energy + (active * (lengths.sum(1) - 1) ** 2).sum()

    def gram(x: torch.Tensor, hyper: torch.Tensor) -> torch.Tensor:
        u, _ = unit(x, hyper)
        return u @ u.T

    def largest_cosine(x: torch.Tensor, hyper: torch.Tensor) -> torch.Tensor:
        u, active = unit(x, hyper)
        pairs = upper * active.unsqueeze(0) * active.unsqueeze(1)
        return torch.where(pairs > 0, u @ u.T, -torch.inf).max()

    def spectrum(x: torch.Tensor, hyper: torch.Tensor) -> torch.Tensor:
        return torch.linalg.eigvalsh(gram(x, hyper))  # padding adds zeros at the bottom

    def crop(name: str, point: dict, value: np.ndarray) -> np.ndarray:
        if name == "gram_eigenvalues":
            return value[classes - point["K"]:]
        return value if name == "cosine" else value[:point["K"], :point["K"]]

    hyper = torch.tensor([[p["K"], p["d"]] for p in points], dtype=torch.float64, device=device)
    return {"objective": objective, "size": classes * dimension, "hyper": hyper,
            "scales": (0.5, 1.5), "crop": crop,
            "quantities": {"gram": gram, "cosine": largest_cosine,
                           "gram_eigenvalues": spectrum}}


def simplex_etf(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                ensemble: int) -> list[Measurement]:
    """Gram matrix, largest cosine or Gram spectrum of K unit vectors in R^d found by search.

    Minimizes ``sum_{i<j} exp(4 cos_ij) + sum_i (||x_i||^2 - 1)^2`` over K
    vectors ``x_i`` in R^d (the second term only fixes the lengths).
    """
    return _run(points, _etf_problem(points, device), seed=seed, device=device,
                ensemble=ensemble)


# -- 2 & 3. the unconstrained feature model, cross-entropy and MSE --------------------------


def _ufm_problem(points: Sequence[dict[str, Any]], device: str, loss: str) -> dict[str, Any]:
    classes = max(p["K"] for p in points)
    per_class = max(p["n"] for p in points)
    dimension = max(p["d"] for p in points)
    slots = classes * per_class  # example j belongs to class j // per_class
    labels = torch.arange(classes, device=device).repeat_interleave(per_class)
    targets = torch.nn.functional.one_hot(labels, classes).T.to(torch.float64)  # K x slots
    sizes = (classes * dimension, dimension * slots, classes)

    def split(x: torch.Tensor, hyper: torch.Tensor) -> tuple[torch.Tensor, ...]:
        class_mask = _mask(classes, hyper[3], x.device)
        dimension_mask = _mask(dimension, hyper[5], x.device)
        example_mask = class_mask[labels] * (
            torch.arange(slots, device=x.device) % per_class < hyper[4]).to(torch.float64)
        weights = (x[:sizes[0]].view(classes, dimension) * class_mask.unsqueeze(1)
                   * dimension_mask.unsqueeze(0))
        features = (x[sizes[0]:sizes[0] + sizes[1]].view(dimension, slots)
                    * dimension_mask.unsqueeze(1) * example_mask.unsqueeze(0))
        offset = x[sizes[0] + sizes[1]:] * class_mask * hyper[6]
        return weights, features, offset, class_mask, example_mask

    def objective(x: torch.Tensor, hyper: torch.Tensor) -> torch.Tensor:
        weights, features, offset, class_mask, example_mask = split(x, hyper)
        logits = weights @ features + offset.unsqueeze(1)
        count = hyper[3] * hyper[4]
        if loss == "ce":
            masked = logits - 1e4 * (1 - class_mask).unsqueeze(1)  # exp(-1e4) == 0 exactly
            per_example = torch.logsumexp(masked, dim=0) - (logits * targets).sum(0)
            fit = (per_example * example_mask).sum() / count
        else:
            fit = ((logits - targets) * example_mask).square().sum() / (2 * count)
        penalty = hyper[0] * weights.square().sum() + hyper[1] * features.square().sum()
        return fit + penalty / 2 + hyper[2] * offset.square().sum() / 2

    def norms(x: torch.Tensor, hyper: torch.Tensor) -> torch.Tensor:
        return split(x, hyper)[0].square().sum(1)

    def feature_scale(x: torch.Tensor, hyper: torch.Tensor) -> torch.Tensor:
        weights, features, _, _, example_mask = split(x, hyper)
        repeated = weights[labels].T * example_mask  # d x slots: w_{y_i} for every example
        return (features * repeated).sum() / repeated.square().sum()

    def cosine(x: torch.Tensor, hyper: torch.Tensor) -> torch.Tensor:
        weights, _, _, class_mask, _ = split(x, hyper)
        lengths = weights.norm(dim=1)
        safe = torch.where(class_mask > 0, lengths, torch.ones_like(lengths))
        unit = weights / safe.unsqueeze(1)
        return unit @ unit.T

    def logit_matrix(x: torch.Tensor, hyper: torch.Tensor) -> torch.Tensor:
        weights, features, _, _, _ = split(x, hyper)
        means = features.view(dimension, classes, per_class).sum(2) / hyper[4]
        return weights @ means

    def crop(name: str, point: dict, value: np.ndarray) -> np.ndarray:
        if name in ("optimal_value", "feature_scale"):
            return value
        return _square(name, point, value, point["K"])

    hyper = torch.tensor([[p["lambda_W"], p["lambda_H"], p.get("lambda_b", 0.0), p["K"], p["n"],
                           p["d"], float(loss == "ce" or p.get("bias") == "unregularized")]
                          for p in points], dtype=torch.float64, device=device)
    return {"objective": objective, "size": sum(sizes), "hyper": hyper, "crop": crop,
            "quantities": {"optimal_value": objective, "weight_norm_squared": norms,
                           "feature_scale": feature_scale, "cosine": cosine,
                           "logit_matrix": logit_matrix}}


def ufm_ce_minimizer(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                     ensemble: int) -> list[Measurement]:
    """Global search on the CE UFM with weight decay on W, H and b."""
    return _run(points, _ufm_problem(points, device, "ce"), seed=seed, device=device,
                ensemble=ensemble)


def ufm_mse_minimizer(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                      ensemble: int) -> list[Measurement]:
    """Global search on the MSE UFM, bias-free or with a free (unregularized) bias."""
    return _run(points, _ufm_problem(points, device, "mse"), seed=seed, device=device,
                ensemble=ensemble)


# -- 4. deep linear head on imbalanced classes --------------------------------------------


def _deep_problem(points: Sequence[dict[str, Any]], device: str) -> dict[str, Any]:
    classes = max(len(p["n"]) for p in points)
    per_class = max(int(max(p["n"])) for p in points)
    depth = max(int(p["M"]) for p in points)
    dimension = classes  # feature dimension and hidden widths d = the largest K (>= K)
    slots = classes * per_class
    labels = torch.arange(classes, device=device).repeat_interleave(per_class)
    targets = torch.nn.functional.one_hot(labels, classes).T.to(torch.float64)
    layer_size = dimension * dimension
    identity = torch.eye(dimension, dtype=torch.float64, device=device)

    def split(x: torch.Tensor, hyper: torch.Tensor) -> tuple[list[torch.Tensor], ...]:
        sizes = hyper[3:3 + classes]
        class_mask = (sizes > 0).to(torch.float64)
        example_mask = class_mask[labels] * (
            torch.arange(slots, device=x.device) % per_class < sizes[labels]).to(torch.float64)
        layers, active = [], []
        for index in range(depth):
            # The first depth - M layers are fixed identities: the head has M layers.
            on = (index >= depth - hyper[2]).to(torch.float64)
            raw = x[index * layer_size:(index + 1) * layer_size].view(dimension, dimension)
            if index == depth - 1:
                raw = raw * class_mask.unsqueeze(1)
            layers.append(on * raw + (1 - on) * identity)
            active.append(on * raw)
        features = x[depth * layer_size:].view(dimension, slots) * example_mask.unsqueeze(0)
        return layers, active, features, example_mask

    def product(layers: list[torch.Tensor]) -> torch.Tensor:
        result = layers[0]
        for layer in layers[1:]:
            result = layer @ result
        return result

    def objective(x: torch.Tensor, hyper: torch.Tensor) -> torch.Tensor:
        layers, active, features, example_mask = split(x, hyper)
        total = hyper[3:3 + classes].sum()
        residual = (product(layers) @ features - targets) * example_mask
        decay = sum(layer.square().sum() for layer in active)
        return (residual.square().sum() / (2 * total) + hyper[0] * decay / 2
                + hyper[1] * features.square().sum() / 2)

    def first_layer_values(x: torch.Tensor, hyper: torch.Tensor) -> torch.Tensor:
        _, active, _, _ = split(x, hyper)
        chosen = (torch.arange(depth, device=x.device) == depth - hyper[2]).to(torch.float64)
        first = sum(weight * layer for weight, layer in zip(chosen, active, strict=True))
        return torch.linalg.svdvals(first)  # descending

    def classifier_gram(x: torch.Tensor, hyper: torch.Tensor) -> torch.Tensor:
        weights = product(split(x, hyper)[0])
        return weights @ weights.T

    def class_mean_gram(x: torch.Tensor, hyper: torch.Tensor) -> torch.Tensor:
        features = split(x, hyper)[2]
        sizes = hyper[3:3 + classes]
        means = features.view(dimension, classes, per_class).sum(2) / torch.clamp(sizes, min=1)
        return means.T @ means

    def crop(name: str, point: dict, value: np.ndarray) -> np.ndarray:
        count = len(point["n"])
        if name == "optimal_value":
            return value
        if name == "layer_singular_value":
            # descending singular values -> classes, largest class first (ties share values)
            order = sorted(range(count), key=lambda k: -int(point["n"][k]))
            result = np.empty(count)
            result[order] = value[:count]
            return result
        return value[:count, :count]

    def shape_start(start: torch.Tensor, hyper: torch.Tensor, restarts: int,
                    rng: torch.Generator) -> torch.Tensor:
        # Layers start as scaled Haar-orthogonal matrices (orthogonal initialization: no
        # direction starts starved, as in a product of Gaussian matrices). Restart j starts
        # the j smallest classes near zero (classifier row and feature columns scaled by
        # 0.02): with M >= 2 both s = 0 and s > 0 are local minima for every class, so
        # unpatterned starts rarely find the best combination. Which combination is best
        # is left to the objective.
        sizes = hyper[:, 3:3 + classes]
        ranks = torch.argsort(torch.argsort(sizes + 1e-3 * torch.arange(classes, device=device),
                                            dim=1), dim=1)  # 0 = smallest (padding first)
        padding = (sizes == 0).sum(1, keepdim=True)
        pattern = torch.arange(start.shape[0], device=device) % restarts % (classes + 1)
        small = (ranks - padding) < pattern.unsqueeze(1)  # (batch, classes)
        factor = torch.where(small, 0.02, 1.0).to(torch.float64)
        shaped = start.clone()
        scale = start[:, :layer_size].norm(dim=1) / dimension  # the start's own scale
        for index in range(depth):
            rotation = haar_orthogonal(start.shape[0], dimension, rng=rng, device=device)
            shaped[:, index * layer_size:(index + 1) * layer_size] = (
                rotation.reshape(start.shape[0], -1) * scale.unsqueeze(1))
        last = shaped[:, (depth - 1) * layer_size:depth * layer_size].view(-1, dimension,
                                                                           dimension)
        last.mul_(factor.unsqueeze(2))
        features = shaped[:, depth * layer_size:].view(-1, dimension, slots)
        features.mul_(factor[:, labels].unsqueeze(1))
        return shaped

    hyper = torch.tensor([[p["lambda_W"], p["lambda_H"], p["M"]]
                          + [float(v) for v in p["n"]] + [0.0] * (classes - len(p["n"]))
                          for p in points], dtype=torch.float64, device=device)
    return {"objective": objective, "size": depth * layer_size + dimension * slots,
            "hyper": hyper, "scales": (0.7, 2.0), "crop": crop,
            "restarts": 2 * (classes + 1), "shape_start": shape_start,
            # Newton from the start: scale-free, so weak (minority) directions are not left
            # to weight decay as in gradient descent; finds the best basin far more often.
            "minimize": {"descent_steps": 0, "newton_steps": 100},
            "quantities": {"optimal_value": objective,
                           "layer_singular_value": first_layer_values,
                           "classifier_gram": classifier_gram,
                           "class_mean_gram": class_mean_gram}}


def deep_linear_imbalanced(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                           ensemble: int) -> list[Measurement]:
    """Global search on the bias-free deep linear MSE head with class sizes n_k.

    Feature dimension and hidden widths are the largest K among the points
    (``d >= K``); a head of depth ``M`` below the largest depth in the batch
    has identity matrices (not trained, not decayed) in front.
    """
    return _run(points, _deep_problem(points, device), seed=seed, device=device,
                ensemble=ensemble)


# -- terminal phase of a small real network ------------------------------------------------


def terminal_phase_metrics(*, classes: int = 4, per_class: int = 40, input_dimension: int = 16,
                           width: int = 32, steps: int = 1500, record_every: int = 50,
                           weight_decay: float = 5e-4, learning_rate: float = 0.05,
                           seed: int = 0, device: str = "cpu") -> dict[str, np.ndarray]:
    """Train an MLP on a Gaussian mixture into its terminal phase; NC1-NC4 over training.

    A two-hidden-layer ReLU MLP (``width`` units, features = the last hidden
    layer) with a linear classifier and bias, trained by full-batch gradient
    descent with momentum on cross-entropy plus weight decay, on ``classes``
    Gaussian clusters of ``per_class`` points (unit-variance noise around means
    of norm 3). Runs in seconds on a CPU.

    Returns:
        Arrays over the recorded steps: ``step``, ``loss``, ``train_accuracy``,
        ``nc1`` (:func:`nc1_papyan`), ``nc2_equinorm`` and ``nc2_equiangularity``
        (of the centred class means), ``nc2_max_angle``, ``nc2_etf_distance``
        (:func:`nc2_etf_distance_zhu` of the classifier), ``nc3``
        (:func:`nc3_self_duality`), ``nc4`` (:func:`nc4_ncc_agreement`).

    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny network: threads only add contention
    try:
        return _terminal_phase(classes, per_class, input_dimension, width, steps, record_every,
                               weight_decay, learning_rate, seed, device)
    finally:
        torch.set_num_threads(threads)


def _terminal_phase(classes: int, per_class: int, input_dimension: int, width: int, steps: int,
                    record_every: int, weight_decay: float, learning_rate: float, seed: int,
                    device: str) -> dict[str, np.ndarray]:
    torch_rng = generator(seed, device)
    centres = torch.randn(classes, input_dimension, generator=torch_rng, device=device,
                          dtype=torch.float64)
    centres = 3 * centres / centres.norm(dim=1, keepdim=True)
    labels = torch.arange(classes, device=device).repeat_interleave(per_class)
    inputs = centres[labels] + torch.randn(len(labels), input_dimension, generator=torch_rng,
                                           device=device, dtype=torch.float64)

    def layer(fan_in: int, fan_out: int) -> torch.Tensor:
        weight = torch.randn(fan_out, fan_in, generator=torch_rng, device=device,
                             dtype=torch.float64) * math.sqrt(2 / fan_in)
        return weight.requires_grad_(True)

    parameters = [layer(input_dimension, width), layer(width, width), layer(width, classes),
                  torch.zeros(width, dtype=torch.float64, device=device, requires_grad=True),
                  torch.zeros(width, dtype=torch.float64, device=device, requires_grad=True),
                  torch.zeros(classes, dtype=torch.float64, device=device, requires_grad=True)]
    first, second, classifier, bias_1, bias_2, bias = parameters
    optimizer = torch.optim.SGD(parameters, lr=learning_rate, momentum=0.9,
                                weight_decay=weight_decay)

    def features_of() -> torch.Tensor:
        hidden = torch.relu(inputs @ first.T + bias_1)
        return torch.relu(hidden @ second.T + bias_2)

    history: dict[str, list[float]] = defaultdict(list)
    numpy_labels = labels.cpu().numpy()
    for step in range(steps + 1):
        features = features_of()
        logits = features @ classifier.T + bias
        loss = torch.nn.functional.cross_entropy(logits, labels)
        if step % record_every == 0:
            h = features.detach().cpu().numpy()
            w = classifier.detach().cpu().numpy()
            means, centre = class_means(h, numpy_labels, classes)
            centred = means - centre
            history["step"].append(step)
            history["loss"].append(float(loss.detach()))
            history["train_accuracy"].append(float((logits.argmax(1) == labels).double().mean()))
            history["nc1"].append(nc1_papyan(h, numpy_labels))
            history["nc2_equinorm"].append(nc2_equinorm_papyan(centred))
            history["nc2_equiangularity"].append(nc2_equiangularity_papyan(centred))
            history["nc2_max_angle"].append(nc2_max_angle_papyan(centred))
            history["nc2_etf_distance"].append(nc2_etf_distance_zhu(w))
            history["nc3"].append(nc3_self_duality(w, centred))
            history["nc4"].append(nc4_ncc_agreement(h, w, bias.detach().cpu().numpy(), means))
        if step == steps:
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {name: np.asarray(values) for name, values in history.items()}
