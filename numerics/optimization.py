"""Simulations for the optimization family: real networks trained by gradient descent.

- :func:`ntk_residual` trains ensembles of wide two-layer ReLU networks (first layer
  only, antisymmetric start) by full-batch gradient descent at three widths.
- :func:`exponential_lr` trains a scale-invariant network (two layers, each followed
  by a batch normalisation without affine terms or epsilon) twice: with weight decay
  and momentum, and without weight decay at an exponentially growing learning rate
  whose rate it finds by itself.

Nothing here knows the closed forms: no NTK Gram matrix, no root formula.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from theorylab.numerics._torch import FLOAT64_EPS, generator

from theorylab.measurement import Measurement
from theorylab.simulations import point_seed, simulation

__all__ = ["ntk_residual", "exponential_lr", "WIDTHS"]

# -- NTK regime ---------------------------------------------------------------------

#: Network widths m; the levels are h = m^(-1/2), exact powers of two.
WIDTHS = (256, 1024, 4096)


@simulation(levels=tuple(width**-0.5 for width in WIDTHS))
def ntk_residual(point: dict[str, Any], *, ensemble: int, generator: torch.Generator,
                 device: str, resolution: float) -> torch.Tensor:
    """||y - u(k)|| of ``ensemble`` two-layer ReLU networks of width ``resolution^-2``.

    f(x) = m^(-1/2) sum_r a_r relu(w_r.x); gradient descent with step eta on the w_r of
    1/2 ||y - u||^2. Every level draws the widest network's first layer and keeps its
    first neurons, so levels share their randomness (Richardson per member).
    """
    inputs = torch.as_tensor(point["X"], dtype=torch.float64, device=device)
    labels = torch.as_tensor(point["y"], dtype=torch.float64, device=device)
    width = round(resolution**-2)
    half = torch.randn(ensemble, WIDTHS[-1] // 2, inputs.shape[1], generator=generator,
                       dtype=torch.float64, device=device)[:, : width // 2]
    weights = torch.cat([half, half], dim=1)  # pairs with opposite a_r: u(0) = 0 exactly
    ones = torch.ones(width // 2, 1, dtype=torch.float64, device=device)
    readout = torch.cat([ones, -ones]) / math.sqrt(width)
    for step in range(point["k"] + 1):
        preactivations = weights @ inputs.T  # (ensemble, m, n)
        residual = labels - (readout * preactivations.clamp_min(0)).sum(dim=1)
        if step < point["k"]:
            # -dPhi/dw_r = m^(-1/2) a_r sum_i (y_i - u_i) 1{w_r.x_i > 0} x_i
            weights = weights + point["eta"] * (
                (preactivations > 0) * readout * residual[:, None, :]) @ inputs
    return residual.norm(dim=1)


# -- exponential learning rate --------------------------------------------------------

SAMPLES, INPUTS, HIDDEN = 16, 5, 6
#: Rates tried from 1 down (1 - x log-spaced) to bracket the first sign change.
CANDIDATES = 1 - np.logspace(-7, -0.05, 64)
ROOT_ITERATIONS = 10  # regula falsi steps; 8 reached 5.6e-16 in 100 ensembles of 8
#: Relative noise added to every weight after every step of the jittered copies: several
#: times float64's rounding of a step (a few eps on w, eps times the gradient's ops on
#: eta b, which is small against w), so the jittered runs drift further than rounding does.
JITTER = 64 * FLOAT64_EPS
#: The rounding bound: this many times the largest drift of the jittered runs' quantity.
ROUNDING_MARGIN = 4


class _Network:
    """An ensemble of scale-invariant networks: x -> BN(W2 tanh(BN(W1 x))) . readout."""

    def __init__(self, ensemble: int, rng: torch.Generator, device: str) -> None:
        def normal(*shape: int) -> torch.Tensor:
            return torch.randn(*shape, generator=rng, dtype=torch.float64, device=device)

        self.data, self.targets = normal(ensemble, SAMPLES, INPUTS), normal(ensemble, SAMPLES)
        self.readout = normal(ensemble, HIDDEN)
        self.start = normal(ensemble, HIDDEN * INPUTS + HIDDEN * HIDDEN)

    @staticmethod
    def _normalized(z: torch.Tensor) -> torch.Tensor:
        centred = z - z.mean(dim=1, keepdim=True)  # over the samples; no epsilon, no affine
        return centred / centred.pow(2).mean(dim=1, keepdim=True).sqrt()

    def gradient(self, weights: torch.Tensor) -> torch.Tensor:
        """dL/dw for each member (batched: the members' losses are independent)."""
        copies = weights.shape[0] // self.data.shape[0]
        weights = weights.detach().requires_grad_(True)
        first = weights[:, : HIDDEN * INPUTS].reshape(-1, HIDDEN, INPUTS)
        second = weights[:, HIDDEN * INPUTS:].reshape(-1, HIDDEN, HIDDEN)
        data = self.data.repeat(copies, 1, 1)
        hidden = torch.tanh(self._normalized(data @ first.transpose(1, 2)))
        outputs = self._normalized(hidden @ second.transpose(1, 2)) @ \
            self.readout.repeat(copies, 1)[:, :, None]
        loss = 0.5 * (outputs.squeeze(-1) - self.targets.repeat(copies, 1)).pow(2).mean(1).sum()
        (gradient,) = torch.autograd.grad(loss, weights)
        return gradient


def _direction(weights: torch.Tensor) -> torch.Tensor:
    return weights / weights.norm(dim=1, keepdim=True)


def _train(network: _Network, start: torch.Tensor, buffer: torch.Tensor, steps: int,
           momentum: float, decay: torch.Tensor, rate: Any,
           jitter: tuple[torch.Tensor, torch.Generator] | None = None) -> tuple[list, list]:
    """Heavy ball, PyTorch's form, on stacked copies of the ensemble; one gradient call a step.

    b_s = momentum b_(s-1) + grad L(w_s) + decay w_s and w_(s+1) = w_s - rate(s) b_s, with
    ``decay`` and ``rate(s)`` one value per row; ``jitter`` (a relative size per row and a
    generator) multiplies each new weight by 1 + size N(0, 1). Returns the iterates
    w_0 ... w_steps and the buffers b_(-1) ... b_(steps-1).
    """
    weights, iterates, buffers = start, [start], [buffer]
    for step in range(steps):
        buffer = momentum * buffer + network.gradient(weights) + decay[:, None] * weights
        weights = weights - rate(step)[:, None] * buffer
        if jitter is not None:
            size, rng = jitter
            weights = weights * (1 + size[:, None] * torch.randn(
                weights.shape, generator=rng, dtype=weights.dtype, device=weights.device))
        iterates.append(weights)
        buffers.append(buffer)
    return iterates, buffers


def _pair(network: _Network, starts: torch.Tensor, steps: int, eta: float, decay: float,
          momentum: float, rates: torch.Tensor,
          jitter: tuple[torch.Tensor, torch.Generator] | None = None) -> tuple[list, list]:
    """Run A (weight decay, from rest) on the first rows, run B on the rest, in one batch.

    B has no weight decay and the rate eta x^(-2s-1) for its x in ``rates``; its buffer
    starts at (1 - 1/x) w_0/eta, so that the iterate before its start is x w_0, scaled
    like every other one. ``starts`` stacks A's starts over B's.
    """
    ones = torch.ones(starts.shape[0] - rates.shape[0], dtype=starts.dtype, device=starts.device)
    x = torch.cat([ones, rates])
    decays = torch.cat([decay * ones, torch.zeros_like(rates)])
    first = torch.cat([torch.zeros_like(starts[: ones.shape[0]]),
                       ((1 - 1 / rates) / eta)[:, None] * starts[ones.shape[0]:]])
    schedule = torch.cat([torch.zeros_like(ones), torch.ones_like(rates)])
    return _train(network, starts, first, steps, momentum, decays,
                  lambda step: eta * x ** (-(2 * step + 1) * schedule), jitter)


def _rate(network: _Network, eta: float, decay: float,
          momentum: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The largest x in (0, 1] whose schedule eta x^(-2s-1) keeps run A's directions.

    The signed mismatch <x^2 v_2 - w_2, w_2>/||w_2||^2 after two steps is positive at
    x = 1 (no decay: B outgrows A); the first sign change below 1 is bracketed on a
    grid and closed by regula falsi (Illinois), member by member, to float64 resolution.
    Returns the rates and the mismatch's slope across the grid's bracket.
    """
    ensemble = network.data.shape[0]
    start = network.start

    def mismatch(rates: torch.Tensor) -> torch.Tensor:
        copies = rates.shape[0] // ensemble
        final = _pair(network, start.repeat(copies + 1, 1), 2, eta, decay, momentum,
                      rates)[0][2]
        aimed = final[:ensemble].repeat(copies, 1)
        return ((rates[:, None] ** 2 * final[ensemble:] - aimed) * aimed).sum(1) / \
            aimed.pow(2).sum(1)

    grid = torch.as_tensor(CANDIDATES, dtype=torch.float64, device=start.device)
    values = mismatch(grid.repeat_interleave(ensemble)).reshape(-1, ensemble)
    negative = values < 0
    first = negative.int().argmax(dim=0)
    above = (first - 1).clamp_min(0)
    members = torch.arange(ensemble, device=start.device)
    low, high = grid[first], torch.where(first > 0, grid[above], torch.ones_like(grid[first]))
    f_low, f_high = values[first, members], values[above, members]
    slope = torch.where(first > 0, (f_high - f_low) / (high - low), 1.0)
    side = torch.zeros(ensemble, dtype=torch.int64, device=start.device)
    for _ in range(ROOT_ITERATIONS):
        gap = f_high - f_low
        middle = torch.where(gap > 0, high - f_high * (high - low) / gap, (low + high) / 2)
        middle = torch.minimum(torch.maximum(middle, low), high)
        value = mismatch(middle)
        below = value < 0
        # Illinois: halve the end that stayed twice, so that both ends converge.
        f_high = torch.where(below & (side < 0), f_high / 2, f_high)
        f_low = torch.where(~below & (side > 0), f_low / 2, f_low)
        low, f_low = torch.where(below, middle, low), torch.where(below, value, f_low)
        high, f_high = torch.where(below, high, middle), torch.where(below, f_high, value)
        side = torch.where(below, -1, 1)
    root = torch.where(f_high - f_low > 0, high - f_high * (high - low) / (f_high - f_low),
                       (low + high) / 2)
    # No sign change: no decay (lambda = 0), where x = 1 keeps the directions.
    return torch.where(negative.any(dim=0), root, 1.0), slope


def _quantities(network: _Network, decayed: list, exponential: list, buffer: torch.Tensor,
                steps: int, momentum: float) -> dict[str, torch.Tensor]:
    """eta_t, the direction gap and the norm ratio at step t, per member.

    eta_t by least squares: v_t - eta_t b'_t = c w_(t+1), with b'_t B's buffer after step
    t's gradient; two unknowns (eta_t, c), an exact solution when the runs are equivalent.
    """
    weights, last = decayed[steps], exponential[steps]
    buffer = momentum * buffer + network.gradient(last)
    columns = torch.stack([buffer, decayed[steps + 1]], dim=2)
    solution = torch.linalg.lstsq(columns, last[:, :, None]).solution[:, :, 0]
    return {"learning_rate": solution[:, 0],
            "direction_gap": (_direction(weights) - _direction(last)).norm(dim=1),
            "norm_ratio": last.norm(dim=1) / weights.norm(dim=1)}


def _measure(point: dict[str, Any], ensemble: int, seed: int, device: str) -> Measurement:
    rng = generator(point_seed(seed, point), device)
    network = _Network(ensemble, rng, device)
    eta, decay, momentum, steps = (point[name] for name in ("eta", "weight_decay", "momentum",
                                                           "t"))
    rate, slope = _rate(network, eta, decay, momentum)
    if point["quantity"] == "alpha":
        # The mismatch is computed to a few eps (64 here): x is known to that over the
        # mismatch's slope at the root.
        rounding = float((64 * FLOAT64_EPS / slope.abs()).max())
        return Measurement(samples=rate.detach().cpu().numpy()[None], rounding=rounding)
    # Rows: A, jittered A, B, jittered B. The jittered copies drift from the plain ones
    # further than rounding moves them, through the same (time-varying) amplification.
    sizes = torch.tensor([0.0, JITTER, 0.0, JITTER], dtype=torch.float64,
                         device=device).repeat_interleave(ensemble)
    iterates, buffers = _pair(network, network.start.repeat(4, 1), steps + 1, eta, decay,
                              momentum, torch.cat([rate, rate]), (sizes, rng))
    plain, jittered = (
        _quantities(network, [w[part:part + ensemble] for w in iterates],
                    [w[2 * ensemble + part:3 * ensemble + part] for w in iterates],
                    buffers[steps][2 * ensemble + part:3 * ensemble + part], steps, momentum)
        [point["quantity"]] for part in (0, ensemble))
    drift = float((jittered - plain).abs().max())
    rounding = ROUNDING_MARGIN * drift + 64 * FLOAT64_EPS * float(plain.abs().max())
    return Measurement(samples=plain.detach().cpu().numpy()[None], rounding=rounding,
                       info={"jittered_drift": drift})


def exponential_lr(points: list[dict[str, Any]], *, seed: int, device: str,
                   ensemble: int) -> list[Measurement]:
    """Measure alpha, eta_t, the direction gap or the norm ratio at each point."""
    return [_measure(point, ensemble, seed, device) for point in points]
