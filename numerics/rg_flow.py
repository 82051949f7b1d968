"""Random MLPs at initialization, measured at finite width.

Conventions (Roberts, Yaida & Hanin, PDLT, arXiv:2106.10165):
``z^(1) = sqrt(C_b) beta + sqrt(C_W/n_0) omega x`` and
``z^(l+1) = sqrt(C_b) beta + sqrt(C_W/n) omega sigma(z^(l))`` with standard-normal
``omega``, ``beta`` (so ``W ~ N(0, C_W/n)``, ``b ~ N(0, C_b)``).

Every simulation is one batched torch program over an ensemble axis (``bmm``),
float64. Widths come in nested triples: the narrower networks are the top-left
blocks of the widest one's standard-normal matrices, rescaled to their own width,
so each is an exact Gaussian network of its width, and their fluctuations are
correlated (common random numbers), which the verifier's per-member Richardson
extrapolation in 1/width exploits. Nothing here knows the closed forms checked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from theorylab.numerics._torch import FLOAT64_EPS, generator

from theorylab.activations import LEAKY_SLOPE, torch_function
from theorylab.measurement import Measurement
from theorylab.simulations import point_seed

__all__ = [
    "LEAKY_SLOPE",
    "activation",
    "random_networks",
    "empirical_kernels",
    "empirical_ntk",
    "nngp_kernel",
    "ntk_kernel",
    "criticality",
    "depth_scales",
    "power_law_decay",
    "four_point_vertex",
    "vertex_samples",
    "partial_jacobian",
    "partial_jacobian_networks",
    "depth_scales_deep",
    "deep_contractions",
    "partial_jacobian_deep",
    "zero_class_vertex",
]

KERNEL_WIDTHS = (8, 16, 32)
KERNEL_NETWORKS = 500  # networks per ensemble member
NTK_NETWORKS = 2400
NTK_WIDTHS = (4, 8, 16)  # narrower: the projected-gradient estimate is noisier per network


def activation(name: str, leaky_slope: float = LEAKY_SLOPE) -> Callable[[torch.Tensor],
                                                                       torch.Tensor]:
    """The torch function of an activation (its one definition: theorylab.activations)."""
    return torch_function(name, leaky_slope)


class random_networks:  # noqa: N801  (a factory of nested networks; reads as a function)
    """Standard-normal parameters of ``batch`` MLPs of width ``max(widths)``.

    ``weights(layer, width)`` is ``sqrt(C/fan_in) omega[:width, :fan_in]`` for the
    nested network of that width.
    """

    def __init__(self, batch: int, width: int, inputs: int, depth: int, *,
                 rng: torch.Generator, device: str, requires_grad: bool = False) -> None:
        options = {"generator": rng, "device": device, "dtype": torch.float64}
        self.omega = [torch.randn(batch, width, inputs, **options)]
        self.omega += [torch.randn(batch, width, width, **options) for _ in range(depth - 1)]
        self.beta = [torch.randn(batch, width, 1, **options) for _ in range(depth)]
        self.depth = depth

    def layer(self, index: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(omega, beta) blocks of layer ``index`` (0-based) for a network of ``width``."""
        omega = self.omega[index]
        fan_in = omega.shape[2] if index == 0 else width
        return omega[:, :width, :fan_in], self.beta[index][:, :width]


def _forward(networks: random_networks, width: int, x: torch.Tensor, C_W: float, C_b: float,
             sigma: Callable, depth: int, parameters: list | None = None) -> list[torch.Tensor]:
    """Preactivations z^(1..depth), each (batch, width, inputs)."""
    z_all = []
    previous = x
    for index in range(depth):
        omega, beta = networks.layer(index, width)
        if parameters is not None:
            omega = omega.clone().requires_grad_(True)
            beta = beta.clone().requires_grad_(True)
            parameters += [omega, beta]
        fan_in = omega.shape[2]
        source = previous if index == 0 else sigma(previous)
        z = math.sqrt(C_W / fan_in) * (omega @ source) + math.sqrt(C_b) * beta
        z_all.append(z)
        previous = z
    return z_all


def empirical_kernels(networks: random_networks, width: int, x: torch.Tensor, C_W: float,
                      C_b: float, sigma: Callable, depth: int) -> torch.Tensor:
    """Kernel of layer ``depth`` per network, (batch, inputs, inputs).

    Measured as the conditional covariance given layer ``depth - 1``,
    ``C_b + C_W/n sigma(z)^T sigma(z)`` (the average over neurons of
    ``E[z_i z_i | previous layer]``): unbiased, without the last layer's sampling noise.
    """
    if depth == 1:
        gram = (x.T @ x) / x.shape[0]
        return (C_b + C_W * gram).expand(networks.omega[0].shape[0], -1, -1)
    z = _forward(networks, width, x, C_W, C_b, sigma, depth - 1)[-1]
    s = sigma(z)
    return C_b + C_W / width * s.transpose(1, 2) @ s


def empirical_ntk(networks: random_networks, width: int, x: torch.Tensor, C_W: float,
                  C_b: float, sigma: Callable, depth: int, *, rng: torch.Generator) -> torch.Tensor:
    """NTK of layer ``depth`` from parameter gradients, (batch, inputs, inputs).

    ``Theta_ab = (1/n) sum_theta (v.dz_a/dtheta)(v.dz_b/dtheta)`` over the standard-normal
    parameters, with ``v`` uniform on the sphere of radius sqrt(n) (``E[v v^T] = I``),
    an unbiased estimate of ``(1/n) sum_i Theta_ii``.
    """
    parameters: list[torch.Tensor] = []
    z = _forward(networks, width, x, C_W, C_b, sigma, depth, parameters)[-1]
    batch, _, count = z.shape
    v = torch.randn(batch, width, generator=rng, device=z.device, dtype=torch.float64)
    v = v * math.sqrt(width) / v.norm(dim=1, keepdim=True)
    gradients = []
    for index in range(count):
        projected = (v * z[:, :, index]).sum()
        grads = torch.autograd.grad(projected, parameters, retain_graph=index < count - 1)
        gradients.append(torch.cat([g.reshape(batch, -1) for g in grads], dim=1))
    stacked = torch.stack(gradients, dim=1)  # (batch, inputs, parameters)
    return stacked @ stacked.transpose(1, 2) / width


def _pair(point: dict[str, Any], device: str) -> torch.Tensor:
    return torch.stack([torch.as_tensor(np.asarray(point["x1"], dtype=np.float64)),
                        torch.as_tensor(np.asarray(point["x2"], dtype=np.float64))],
                       dim=1).to(device)


def _components(kernel: torch.Tensor) -> torch.Tensor:
    return torch.stack([kernel[:, 0, 0], kernel[:, 1, 1], kernel[:, 0, 1]], dim=-1)


def _levels(values: list[torch.Tensor], ensemble: int) -> np.ndarray:
    """Per width (batch, ...) -> (levels, ensemble, ...) averaged within each member."""
    stacked = torch.stack(values).detach().cpu().numpy()
    levels, batch = stacked.shape[:2]
    return stacked.reshape(levels, ensemble, batch // ensemble, *stacked.shape[2:]).mean(axis=2)


def _kernel_measurements(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                         ensemble: int, ntk: bool) -> list[Measurement]:
    results = []
    for index, point in enumerate(points):
        rng = generator(seed * 1000 + index, device)
        x = _pair(point, device)
        sigma = activation(point["activation"], point.get("leaky_slope", LEAKY_SLOPE))
        batch = ensemble * (NTK_NETWORKS if ntk else KERNEL_NETWORKS)
        widths = NTK_WIDTHS if ntk else KERNEL_WIDTHS
        networks = random_networks(batch, max(widths), x.shape[0], point["depth"],
                                   rng=rng, device=device)
        values = []
        for width in widths:
            if ntk:
                kernel = empirical_ntk(networks, width, x, point["C_W"], point["C_b"], sigma,
                                       point["depth"], rng=rng)
            else:
                with torch.no_grad():
                    kernel = empirical_kernels(networks, width, x, point["C_W"], point["C_b"],
                                               sigma, point["depth"])
            values.append(_components(kernel))
        samples = _levels(values, ensemble)
        scale = float(np.abs(samples).max())
        results.append(Measurement(samples, 1.0 / np.array(widths),
                                   # sums of up to ~10^3 products, then Richardson
                                   # weights of total size ~5: a generous float64 bound
                                   rounding=4096 * point["depth"] * FLOAT64_EPS * scale,
                                   info={"widths": widths,
                                         "networks": batch}))
    return results


def nngp_kernel(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                ensemble: int) -> list[Measurement]:
    """K11, K22, K12 of layer ``depth`` of random MLPs at widths 8, 16, 32."""
    return _kernel_measurements(points, seed=seed, device=device, ensemble=ensemble, ntk=False)


def ntk_kernel(points: Sequence[dict[str, Any]], *, seed: int, device: str,
               ensemble: int) -> list[Measurement]:
    """Theta11, Theta22, Theta12 of random MLPs at widths 4, 8, 16, from parameter gradients."""
    return _kernel_measurements(points, seed=seed, device=device, ensemble=ensemble, ntk=True)


# -- single-layer measurements: susceptibilities and critical points ---------------------

LAYER_INPUTS = 2048  # strata of the layer's input neurons
STRATIFIED_COPIES = 8  # independent stratified copies per ensemble member
# Inputs for the K -> 0 limit of 1/chi_perp. Small enough that the K^3 term left after
# two Richardson steps (8 c_3 K^3: sin's 1/chi_perp = 1 + tanh K gives -2.7e-12 at 1e-4)
# is below rounding: sin has no K^2 term, so the last correction cannot bound it.
SMALL_KERNELS = (4e-5, 2e-5, 1e-5)


def _stratified(ensemble: int, rng: torch.Generator, device: str) -> torch.Tensor:
    """Per member: STRATIFIED_COPIES stratified N(0, 1) samples of LAYER_INPUTS strata.

    ``g_k = Phi^-1((k + u_k)/N)`` with independent uniform ``u_k``: each is N(0, 1) and
    neuron averages are unbiased with far smaller variance than iid draws. Averaging
    several independent copies keeps the members' errors near Gaussian (a single copy's
    error is skewed by the two tail strata), as the verifier's t-test assumes.
    """
    shape = (ensemble, STRATIFIED_COPIES, LAYER_INPUTS)
    jitter = torch.rand(shape, generator=rng, device=device, dtype=torch.float64)
    strata = torch.arange(LAYER_INPUTS, device=device, dtype=torch.float64)
    return torch.special.ndtri((strata + jitter) / LAYER_INPUTS).reshape(ensemble, -1)


def _layer_statistics(gaussian: torch.Tensor, kernel: torch.Tensor, C_W: float,
                      sigma: Callable) -> tuple[torch.Tensor, torch.Tensor]:
    """One random layer z^(2) = W sigma(z^(1)) fed with z^(1) = sqrt(K) g.

    Returns per network (its mean square output, (1/n)||dz^(2)/dz^(1)||_F^2), each
    averaged over the layer's weights given its inputs: ``E[(W s)_i^2 | s] = C_W |s|^2/n``
    and ``E[sum_ij (W_ij s'_j)^2 | s] / n = C_W |s'|^2 / n`` (Rao-Blackwell; sigma' by
    autograd). ``kernel`` has shape (batch,).
    """
    z = (torch.sqrt(kernel)[:, None] * gaussian)
    if not z.requires_grad:
        z = z.detach().requires_grad_(True)
    value = sigma(z)
    slope = torch.autograd.grad(value.sum(), z, create_graph=kernel.requires_grad)[0]
    return C_W * value.square().mean(dim=1), C_W * slope.square().mean(dim=1)


def _bisect(function: Callable[[torch.Tensor], torch.Tensor], low: torch.Tensor,
            high: torch.Tensor, steps: int = 48) -> torch.Tensor:
    """Vectorized bisection for a root of a function positive below it and negative above."""
    for _ in range(steps):
        middle = (low + high) / 2
        positive = function(middle) > 0
        low = torch.where(positive, middle, low)
        high = torch.where(positive, high, middle)
    return (low + high) / 2


def _active_fraction_root(gaussian: torch.Tensor, C_W: float) -> torch.Tensor:
    """Per member: q where a fraction 1/C_W of hard_tanh's neurons |sqrt(q) g| < 1 is active.

    The layer's Jacobian norm C_W #{active}/N is a step function of q, and bisection lands
    on a step: up to half a step (1/(2N)) off, the same way in every member, a bias many
    standard errors wide. Instead, per stratified copy, |g|'s order statistics are placed at
    their expected levels (two draws per stratum of |g|: the lower at 1/3, the upper at 2/3
    of it) and the level 1/C_W is interpolated between them; the kernel is 1/a^2 at that
    |g| = a, averaged over the copies.
    """
    members = gaussian.shape[0]
    magnitudes = gaussian.reshape(members, STRATIFIED_COPIES, LAYER_INPUTS).abs().sort(
        dim=-1).values
    rank = torch.arange(1, LAYER_INPUTS + 1, dtype=torch.float64, device=gaussian.device)
    levels = torch.where(rank % 2 == 1, rank - 1 / 3, rank - 2 / 3) / LAYER_INPUTS
    target = torch.tensor(1 / C_W, dtype=torch.float64, device=gaussian.device)
    above = int(torch.searchsorted(levels, target).clamp(1, LAYER_INPUTS - 1))
    weight = (target - levels[above - 1]) / (levels[above] - levels[above - 1])
    cut = magnitudes[..., above - 1] * (1 - weight) + magnitudes[..., above] * weight
    return (1 / cut.square()).mean(dim=1)


def criticality(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                ensemble: int) -> list[Measurement]:
    """Susceptibilities, fixed points and critical points of one random layer."""
    results = []
    for index, point in enumerate(points):
        rng = generator(seed * 1000 + index, device)
        sigma = activation(point["activation"], point.get("leaky_slope", LEAKY_SLOPE))
        # One wide layer per ensemble member. Its input neurons are stratified Gaussians,
        # g_k = Phi^-1((k + u_k)/N) with independent uniform u_k: each is N(0, 1) and the
        # average over neurons is unbiased with far smaller variance than iid draws.
        gaussian = _stratified(ensemble, rng, device)
        C_W, C_b, quantity = point["C_W"], point["C_b"], point["quantity"]
        ones = torch.ones(ensemble, dtype=torch.float64, device=device)
        if quantity == "chi_parallel":
            # Pathwise derivative of the mean square output w.r.t. the input kernel.
            kernel = (float(point["K"]) * ones).requires_grad_(True)
            square, _ = _layer_statistics(gaussian, kernel, C_W, sigma)
            value = torch.autograd.grad(square.sum(), kernel)[0]
        elif quantity == "chi_perpendicular":
            value = _layer_statistics(gaussian, float(point["K"]) * ones, C_W, sigma)[1]
        elif quantity == "critical_weight_variance":
            # chi_perp at C_W = 1 at small inputs, then K -> 0 by Richardson (exact for scale
            # invariance); criticality needs C_W chi = 1.
            value = torch.stack([1.0 / _layer_statistics(gaussian, kernel * ones, 1.0, sigma)[1]
                                 for kernel in SMALL_KERNELS])
        elif quantity == "fixed_point":
            def gap(q: torch.Tensor, g: torch.Tensor = gaussian,
                    f: Callable = sigma) -> torch.Tensor:
                return C_b + _layer_statistics(g, q, C_W, f)[0] - q  # noqa: B023

            value = _bisect(gap, 1e-12 * ones, (4.0 * (C_b + C_W) + 4.0) * ones)
        elif quantity == "critical_line_bias_variance":
            # The critical network whose fixed point is K: C_W = 1/<s'^2>_K makes the layer's
            # Jacobian norm 1, and C_b = K - C_W <s^2>_K keeps K fixed (one layer at C_W = 1).
            square, slope = _layer_statistics(gaussian, float(point["K"]) * ones, 1.0, sigma)
            value = float(point["K"]) - square / slope
        else:  # critical_bias_variance: chi_perp(q) = 1, then C_b = q - C_W <s^2>_q
            def excess(q: torch.Tensor, g: torch.Tensor = gaussian,
                       f: Callable = sigma) -> torch.Tensor:
                return _layer_statistics(g, q, C_W, f)[1] - 1  # noqa: B023

            if point["activation"] == "hard_tanh":
                q = _active_fraction_root(gaussian, C_W)
            else:
                q = _bisect(excess, 1e-12 * ones, 1e3 * ones)
            value = q - _layer_statistics(gaussian, q, C_W, sigma)[0]
        samples = value.detach().cpu().numpy().reshape(-1, ensemble)
        levels = np.array(SMALL_KERNELS) if samples.shape[0] > 1 else np.zeros(1)
        results.append(Measurement(samples, levels,
                                   rounding=1e3 * FLOAT64_EPS * float(np.abs(samples).max()),
                                   info={"inputs": LAYER_INPUTS * STRATIFIED_COPIES}))
    return results


# -- deep networks: depth scales ----------------------------------------------------------

DEEP_WIDTHS = (16, 32, 64)
DEEP_LAYERS = 10
DEEP_NETWORKS = 40
FIT_FROM = 2  # first layer of the fit (the input already sits at the measured q*)


def _slope(values: np.ndarray) -> np.ndarray:
    """Least-squares slope of log(values) over the layers FIT_FROM.., per row."""
    layers = np.arange(values.shape[-1])[FIT_FROM:]
    logs = np.log(np.abs(values[..., FIT_FROM:]))
    centred = layers - layers.mean()
    return (logs * centred).sum(-1) / (centred**2).sum()


def _measured_fixed_point(gaussian: torch.Tensor, C_W: float, C_b: float,
                          sigma: Callable) -> torch.Tensor:
    """Per member: the root q* of the measured layer map q -> C_b + C_W/n |sigma(sqrt(q) g)|^2."""
    ones = torch.ones(gaussian.shape[0], dtype=torch.float64, device=gaussian.device)

    def gap(q: torch.Tensor) -> torch.Tensor:
        return C_b + _layer_statistics(gaussian, q, C_W, sigma)[0] - q

    return _bisect(gap, 1e-12 * ones, (4.0 * (C_b + C_W) + 4.0) * ones).detach()


def _gaussian(*shape: int, rng: torch.Generator, device: str) -> torch.Tensor:
    """Standard normals drawn in float32 (twice as fast on CPU) and used in float64.

    Rounding a normal to float32 moves it by ~1e-7 relative: far below any tolerance here,
    and the network's arithmetic stays float64.
    """
    return torch.randn(*shape, generator=rng, device=device, dtype=torch.float32).double()


CONTRACTION_WIDTHS = (8, 16, 32)
# Networks per ensemble member; the correlation's Richardson corrections (the verifier's bias
# bound) are the noisier part of its tolerance.
CONTRACTION_NETWORKS = {"variance": 512, "correlation": 1024}
# Layers l = 1..L, ratios l -> l+1. A perturbation of q fades below the finite-width noise
# of the perpendicular directions within a few layers (chi_par < chi_perp), so q uses fewer.
CONTRACTION_LAYERS = {"variance": 3, "correlation": 6}


def _contraction_levels(series: dict[int, list[torch.Tensor]], widths: Sequence[int],
                        ensemble: int, networks: int, layers: int) -> np.ndarray:
    """Per width, the mean ratio of successive layers' means, half-split jackknifed.

    ``series[n]`` holds one (batch,) tensor per layer; the ratio of means is biased at
    O(1/networks), so 2 x (whole) - mean(halves) removes that. Returns (widths, ensemble).
    """
    def contraction(means: torch.Tensor) -> torch.Tensor:
        return (means[..., 1:] / means[..., :-1]).mean(-1)

    levels = []
    for n in widths:
        values = torch.stack(series[n], dim=-1)  # (batch, layers)
        halves = values.reshape(ensemble, 2, networks // 2, layers).mean(2)
        levels.append(2 * contraction(halves.mean(1)) - contraction(halves).mean(1))
    return torch.stack(levels).cpu().numpy()


def deep_contractions(name: str, C_W: float, C_b: float, q_star: torch.Tensor, which: str, *,
                      ensemble: int, rng: torch.Generator, device: str,
                      c_star: torch.Tensor | None = None) -> Measurement:
    """Per-layer contraction of a perturbation of the fixed point, on real deep MLPs.

    Real networks of widths 8, 16, 32 (nested blocks of the widest one's standard-normal
    weights, fresh per layer, batched over ``ensemble x CONTRACTION_NETWORKS`` networks),
    one input per network scaled so that K^(1) = C_b + C_W |x|^2/n_0 equals the measured
    fixed point ``q_star`` (one value per ensemble member). The input is perturbed along a
    tangent (forward-mode linearization of the real network, ``torch.func.jvp`` through
    sigma; the exact limit of two inputs with common random numbers and a vanishing
    separation, so the linear regime holds without rounding loss):

    - ``variance``: x -> x sqrt(1 + s); ``D^(l) = dG^(l)/ds``;
    - ``correlation``: x -> x + s r with r orthogonal to x and |r| = |x|;
      ``D^(l) = lim (1 - c^(l))/s^2``, ``c^(l) = G_ab/sqrt(G_aa G_bb)``.

    ``G^(l)`` is layer l's kernel given layer l - 1, ``C_b + C_W/n sigma.sigma`` (layer l's
    weights averaged out exactly). Per member the contraction is the mean over the layers of
    ``mean D^(l+1) / mean D^(l)`` over its networks (jackknifed over two halves for the
    ratio of means); the verifier extrapolates the widths in 1/n.

    With ``c_star`` (one measured correlation fixed point c* < 1 per member: the chaotic
    phase) the correlation is measured on two inputs at K^(1) = q* [[1, c*], [c*, 1]]
    instead (:func:`_chaotic_contractions`).
    """
    if c_star is not None and which == "correlation":
        return _chaotic_contractions(name, C_W, C_b, q_star, c_star, ensemble=ensemble,
                                     rng=rng, device=device)
    sigma = activation(name)
    widths = CONTRACTION_WIDTHS
    widest = max(widths)
    layers = CONTRACTION_LAYERS[which]
    networks = CONTRACTION_NETWORKS[which]
    batch = ensemble * networks
    options = {"generator": rng, "device": device, "dtype": torch.float64}
    with torch.no_grad():
        kernel = q_star.repeat_interleave(networks)  # (batch,)
        x = torch.randn(batch, widest, **options)
        x = x * torch.sqrt((kernel - C_b) / C_W * widest)[:, None] / x.norm(dim=1, keepdim=True)
        if which == "variance":
            tangent = x / 2
        else:
            other = torch.randn(batch, widest, **options)
            other = other - (other * x).sum(1, keepdim=True) / x.square().sum(1, keepdim=True) * x
            tangent = other * x.norm(dim=1, keepdim=True) / other.norm(dim=1, keepdim=True)
        first = C_b + C_W * x.square().sum(1) / widest
        first_slope = 2 * C_W * (x * tangent).sum(1) / widest
        first_gap = (C_W * tangent.square().sum(1) / widest
                     - first_slope.square() / (4 * first)) / (2 * first)
        start = first_slope if which == "variance" else first_gap
        series: dict[int, list[torch.Tensor]] = {n: [start] for n in widths}
        omega = _gaussian(batch, widest, widest, rng=rng, device=device)
        beta = torch.randn(batch, widest, **options)
        pair = math.sqrt(C_W / widest) * (omega @ torch.stack([x, tangent], dim=-1))
        z = {n: pair[:, :n, 0] + math.sqrt(C_b) * beta[:, :n] for n in widths}
        dz = {n: pair[:, :n, 1] for n in widths}
        for layer in range(1, layers):
            last = layer == layers - 1
            if not last:
                omega = _gaussian(batch, widest, widest, rng=rng, device=device)
                beta = torch.randn(batch, widest, **options)
            for n in widths:
                s, ds = torch.func.jvp(sigma, (z[n],), (dz[n],))
                kernel_n = C_b + C_W / n * s.square().sum(1)
                slope = 2 * C_W / n * (s * ds).sum(1)
                if which == "variance":
                    series[n].append(slope)
                else:
                    series[n].append((C_W / n * ds.square().sum(1)
                                      - slope.square() / (4 * kernel_n)) / (2 * kernel_n))
                if not last:
                    pair = math.sqrt(C_W / n) * (omega[:, :n, :n] @ torch.stack([s, ds], -1))
                    z[n] = pair[..., 0] + math.sqrt(C_b) * beta[:, :n]
                    dz[n] = pair[..., 1]
        samples = _contraction_levels(series, widths, ensemble, networks, layers)
    return Measurement(samples, 1.0 / np.array(widths, dtype=float),
                       rounding=1e-12 * float(np.abs(samples).max()),
                       info={"widths": widths, "layers": layers,
                             "networks": batch})


def _chaotic_contractions(name: str, C_W: float, C_b: float, q_star: torch.Tensor,
                          c_star: torch.Tensor, *, ensemble: int, rng: torch.Generator,
                          device: str) -> Measurement:
    """Per-layer contraction of a perturbation of c around c* < 1, on real deep MLPs.

    As :func:`deep_contractions` (widths 8, 16, 32 nested, fresh weights per layer,
    ``ensemble x CONTRACTION_NETWORKS['correlation']`` networks), with two inputs per
    network: |x_a|^2 = |x_b|^2 with K^(1)_aa = K^(1)_bb = q* and K^(1)_ab = c* q* (the
    member's measured fixed points), and x_b rotated towards x_a in their plane by a
    tangent t (|x_b| fixed to first order). ``D^(l) = dc^(l)/ds`` with
    ``c^(l) = G_ab/sqrt(G_aa G_bb)`` and ``G`` layer l's kernel given layer l - 1 (its
    weights averaged out exactly); forward-mode through sigma. In the chaotic phase
    dc^(l+1) = chi_c dc^(l) at first order (Schoenholz et al. §3), so the contraction is the
    mean over layers of ``mean D^(l+1)/mean D^(l)``, jackknifed over two halves.
    """
    sigma = activation(name)
    widths = CONTRACTION_WIDTHS
    widest = max(widths)
    layers = CONTRACTION_LAYERS["correlation"]
    networks = CONTRACTION_NETWORKS["correlation"]
    batch = ensemble * networks
    options = {"generator": rng, "device": device, "dtype": torch.float64}
    with torch.no_grad():
        kernel = q_star.repeat_interleave(networks)  # (batch,)
        correlation = c_star.repeat_interleave(networks)
        # Orthonormal e1, e2 per network; x_a = r e1, x_b = r (cos e1 + sin e2).
        first = torch.randn(batch, widest, **options)
        first = first / first.norm(dim=1, keepdim=True)
        second = torch.randn(batch, widest, **options)
        second = second - (second * first).sum(1, keepdim=True) * first
        second = second / second.norm(dim=1, keepdim=True)
        radius = torch.sqrt((kernel - C_b) / C_W * widest)[:, None]
        cosine = ((correlation * kernel - C_b) / (kernel - C_b))[:, None]
        sine = torch.sqrt(1 - cosine.square())
        x_a = radius * first
        x_b = radius * (cosine * first + sine * second)
        tangent = radius * (-sine * first + cosine * second)  # d x_b / d(angle)
        start = C_W * (x_a * tangent).sum(1) / widest / kernel  # G_aa = G_bb = q*
        series: dict[int, list[torch.Tensor]] = {n: [start] for n in widths}
        omega = _gaussian(batch, widest, widest, rng=rng, device=device)
        beta = torch.randn(batch, widest, **options)
        pair = math.sqrt(C_W / widest) * (omega @ torch.stack([x_a, x_b, tangent], dim=-1))
        z_a = {n: pair[:, :n, 0] + math.sqrt(C_b) * beta[:, :n] for n in widths}
        z_b = {n: pair[:, :n, 1] + math.sqrt(C_b) * beta[:, :n] for n in widths}
        dz = {n: pair[:, :n, 2] for n in widths}
        for layer in range(1, layers):
            last = layer == layers - 1
            if not last:
                omega = _gaussian(batch, widest, widest, rng=rng, device=device)
                beta = torch.randn(batch, widest, **options)
            for n in widths:
                s_a = sigma(z_a[n])
                s_b, ds = torch.func.jvp(sigma, (z_b[n],), (dz[n],))
                aa = C_b + C_W / n * s_a.square().sum(1)
                bb = C_b + C_W / n * s_b.square().sum(1)
                ab = C_b + C_W / n * (s_a * s_b).sum(1)
                d_ab = C_W / n * (s_a * ds).sum(1)
                d_bb = 2 * C_W / n * (s_b * ds).sum(1)
                series[n].append(d_ab / torch.sqrt(aa * bb) - ab * d_bb / (2 * bb
                                                                           * torch.sqrt(aa * bb)))
                if not last:
                    pair = math.sqrt(C_W / n) * (omega[:, :n, :n] @ torch.stack([s_a, s_b, ds],
                                                                                 -1))
                    z_a[n] = pair[..., 0] + math.sqrt(C_b) * beta[:, :n]
                    z_b[n] = pair[..., 1] + math.sqrt(C_b) * beta[:, :n]
                    dz[n] = pair[..., 2]
        samples = _contraction_levels(series, widths, ensemble, networks, layers)
    return Measurement(samples, 1.0 / np.array(widths, dtype=float),
                       rounding=1e-12 * float(np.abs(samples).max()),
                       info={"widths": widths, "layers": layers, "networks": batch,
                             "phase": "chaotic"})


PAIR_STRATA = 256  # strata per input of the correlation map's grid of neuron pairs


def _pair_grid(ensemble: int, rng: torch.Generator, device: str) -> tuple[torch.Tensor,
                                                                          torch.Tensor]:
    """Two independent stratified N(0, 1) draws (g, h) of PAIR_STRATA strata per member.

    The layer's neurons are the grid of pairs (g_i, h_j): stratified in both coordinates,
    an unbiased average of any function of two independent normals, with a variance far
    below that of as many independent pairs (the map's root amplifies that noise by
    1/(1 - chi_c)).
    """
    strata = torch.arange(PAIR_STRATA, device=device, dtype=torch.float64)
    draws = []
    for _ in range(2):
        jitter = torch.rand((ensemble, PAIR_STRATA), generator=rng, device=device,
                            dtype=torch.float64)
        draws.append(torch.special.ndtri((strata + jitter) / PAIR_STRATA))
    return draws[0], draws[1]


def _pair_map(first: torch.Tensor, second: torch.Tensor, q: torch.Tensor, c: torch.Tensor,
              C_W: float, C_b: float, sigma: Callable) -> torch.Tensor:
    """The measured correlation map of one random layer, per member.

    ``(C_b + C_W <sigma(u1) sigma(u2)>)/q`` over the neurons (g_i, h_j) of
    :func:`_pair_grid`, ``u1 = sqrt(q) g_i``, ``u2 = sqrt(q) (c g_i + sqrt(1 - c^2) h_j)``:
    the layer's weights averaged out given its inputs, as in :func:`_layer_statistics`.
    """
    root = torch.sqrt(q)[:, None, None]
    u1 = root * first[:, :, None]
    u2 = root * (c[:, None, None] * first[:, :, None]
                 + torch.sqrt(1 - c.square())[:, None, None] * second[:, None, :])
    return (C_b + C_W * (sigma(u1) * sigma(u2)).mean(dim=(1, 2))) / q


def _measured_correlation_point(first: torch.Tensor, second: torch.Tensor, q: torch.Tensor,
                                C_W: float, C_b: float, sigma: Callable) -> torch.Tensor:
    """Per member: the root c* in [0, 1) of the measured correlation map, other than c = 1.

    ``q`` is the root of the variance map measured on ``first`` alone, so that the measured
    map has c = 1 as a fixed point exactly. In the chaotic phase (slope above 1 at c = 1)
    the map lies above the diagonal below c* and below it between c* and 1: bisection on
    [0, 1 - 1e-6] to 2^-24 (the root's noise across members is ~1e-3).
    """
    ones = torch.ones_like(q)

    def gap(c: torch.Tensor) -> torch.Tensor:
        return _pair_map(first, second, q, c, C_W, C_b, sigma) - c

    return _bisect(gap, 0 * ones, (1 - 1e-6) * ones, steps=24).detach()


def depth_scales(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                 ensemble: int) -> list[Measurement]:
    """Depth scales xi = -1/ln(slope of the per-layer map at its measured fixed point).

    One wide random layer fed with stratified Gaussian neurons (as in :func:`criticality`):
    q* is the root of the measured variance map q -> C_b + C_W/n |sigma(sqrt(q) g)|^2; then
    variance_depth_scale uses the map's pathwise slope dq'/dq at q* (how a perturbation of
    q decays per layer) and correlation_depth_scale the slope of the correlation map at
    c* = 1, dc'/dc = C_W/n |sigma'(sqrt(q*) g)|^2 (the layer's Jacobian norm, the
    linearization of 1 - c^(l+1) against 1 - c^(l) for two nearly parallel inputs).
    The ``*_contraction`` quantities are measured on deep networks by
    :func:`deep_contractions`.

    The phase is the measured one: where the layer's Jacobian norm at q* (the correlation
    map's slope at c = 1), averaged over the members, exceeds 1, c = 1 repels (chaotic
    phase) and the correlation quantities are measured at the root c* < 1 of the measured
    correlation map on a grid of stratified neuron pairs (:func:`_pair_grid`,
    :func:`_measured_correlation_point`): correlation_depth_scale from the map's pathwise
    slope dc'/dc there (autograd through u2(c)), correlation_contraction on deep networks
    fed two inputs at correlation c*.
    """
    results = []
    for index, point in enumerate(points):
        rng = generator(seed * 1000 + index, device)
        sigma = activation(point["activation"], point.get("leaky_slope", LEAKY_SLOPE))
        gaussian = _stratified(ensemble, rng, device)
        C_W, C_b = point["C_W"], point["C_b"]
        q_star = _measured_fixed_point(gaussian, C_W, C_b, sigma)
        c_star = None
        if point["quantity"].startswith("correlation"):
            jacobian = _layer_statistics(gaussian, q_star, C_W, sigma)[1].detach()
            if float(jacobian.mean()) > 1:
                first, second = _pair_grid(ensemble, rng, device)
                q_pair = _measured_fixed_point(first, C_W, C_b, sigma)
                c_star = _measured_correlation_point(first, second, q_pair, C_W, C_b, sigma)
        if point["quantity"].endswith("contraction"):
            which = "variance" if point["quantity"].startswith("variance") else "correlation"
            results.append(deep_contractions(point["activation"], C_W, C_b, q_star, which,
                                             ensemble=ensemble, rng=rng, device=device,
                                             c_star=c_star))
            continue
        if point["quantity"] == "variance_depth_scale":
            kernel = q_star.clone().requires_grad_(True)
            square, _ = _layer_statistics(gaussian, kernel, C_W, sigma)
            slope = torch.autograd.grad(square.sum(), kernel)[0]
        elif c_star is not None:  # the chaotic phase: the pathwise slope dc'/dc at c*
            cosine = c_star.clone().requires_grad_(True)
            mapped = _pair_map(first, second, q_pair, cosine, C_W, C_b, sigma)
            slope = torch.autograd.grad(mapped.sum(), cosine)[0]
        else:
            slope = _layer_statistics(gaussian, q_star, C_W, sigma)[1]
        value = (-1.0 / torch.log(slope)).detach().cpu().numpy()[None]
        results.append(Measurement(value, np.zeros(1),
                                   rounding=1e3 * FLOAT64_EPS * float(np.abs(value).max()),
                                   info={"inputs": LAYER_INPUTS * STRATIFIED_COPIES}))
    return results


def depth_scales_deep(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                      ensemble: int) -> list[Measurement]:
    """xi_q from dq^(l)/dq^(1) (forward-mode AD) and xi_c from 1 - c^(l) of two inputs.

    The raw decay on deep networks (widths 16, 32, 64, Richardson in 1/n): correct but too
    noisy for the battery's 5% (relative tolerance 0.1-2.4), kept for comparison.
    """
    from torch.autograd import forward_ad

    results = []
    for index, point in enumerate(points):
        rng = generator(seed * 1000 + index, device)
        batch = ensemble * DEEP_NETWORKS
        sigma = activation(point["activation"], point.get("leaky_slope", LEAKY_SLOPE))
        widest = max(DEEP_WIDTHS)
        networks = random_networks(batch, widest, widest, DEEP_LAYERS, rng=rng, device=device)
        C_W, C_b = point["C_W"], point["C_b"]
        inputs = torch.randn(widest, 2, generator=rng, device=device, dtype=torch.float64)
        # Pilot: the fixed point q* measured as the mean square of a deep layer, and inputs
        # scaled so that the first layer starts there (no transient in the fit window).
        with torch.no_grad():
            pilot = random_networks(DEEP_NETWORKS, widest, widest, 30, rng=rng, device=device)
            deep = _forward(pilot, widest, inputs[:, :1], C_W, C_b, sigma, 30)[-1]
            q_star = float(deep.square().mean())
        inputs = inputs * math.sqrt(max(q_star - C_b, 1e-6) / C_W * widest) / inputs.norm(
            dim=0, keepdim=True)
        values = []
        for width in DEEP_WIDTHS:
            if point["quantity"] == "variance_depth_scale":
                x = inputs[:, :1]
                with forward_ad.dual_level():
                    scale = forward_ad.make_dual(torch.ones((), dtype=torch.float64,
                                                            device=device),
                                                 torch.ones((), dtype=torch.float64,
                                                            device=device))
                    layers = _forward_scaled(networks, width, x, scale, C_W, C_b, sigma)
                    tangents = torch.stack([forward_ad.unpack_dual(q).tangent for q in layers],
                                           dim=-1)
                curve = tangents.reshape(ensemble, DEEP_NETWORKS, -1).mean(dim=1)
            else:
                # Nearly parallel inputs: 1 - c starts small, so its decay is linear at once.
                x = inputs[:, :1] + 0.05 * inputs[:, 1:2] * torch.tensor(
                    [0.0, 1.0], dtype=torch.float64, device=device)
                with torch.no_grad():
                    layers = _forward(networks, width, x, C_W, C_b, sigma, DEEP_LAYERS)
                gaps = []
                for z in layers:
                    unit = z / z.norm(dim=1, keepdim=True)
                    gaps.append((unit[:, :, 0] - unit[:, :, 1]).square().sum(1) / 2)  # 1 - c
                curve = torch.stack(gaps, dim=-1).reshape(ensemble, DEEP_NETWORKS, -1).mean(1)
            slope = _slope(curve.detach().cpu().numpy())
            values.append(torch.as_tensor(-1.0 / slope))
        samples = torch.stack(values).numpy()
        results.append(Measurement(samples, 1.0 / np.array(DEEP_WIDTHS),
                                   rounding=1e-9 * float(np.abs(samples).max()),
                                   info={"widths": DEEP_WIDTHS, "layers": DEEP_LAYERS}))
    return results


def _forward_scaled(networks: random_networks, width: int, x: torch.Tensor, scale: torch.Tensor,
                    C_W: float, C_b: float, sigma: Callable) -> list[torch.Tensor]:
    """Per-layer mean square q^(l) of a single input scaled so that q^(1) moves with ``scale``."""
    out = []
    previous = None
    for index in range(networks.depth):
        omega, beta = networks.layer(index, width)
        fan_in = omega.shape[2]
        if index == 0:
            z = math.sqrt(C_W / fan_in) * torch.sqrt(scale) * (omega @ x) + math.sqrt(C_b) * beta
        else:
            z = math.sqrt(C_W / fan_in) * (omega @ sigma(previous)) + math.sqrt(C_b) * beta
        out.append(z.square().mean(dim=(1, 2)))
        previous = z
    return out


# -- power-law decay at K* = 0 criticality ------------------------------------------------

POWER_KERNELS = (0.08, 0.04, 0.02)  # input kernels K of the layer map, Richardson in K
POWER_INPUTS = 16384  # stratified input neurons per ensemble member


def power_law_decay(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                    ensemble: int) -> list[Measurement]:
    """``1/a(K)`` with ``a(K) = (1/K' - 1/K)`` the per-layer growth of ``1/K``.

    One random critical layer (``C_W = 1/sigma'(0)^2`` with sigma'(0) by autograd,
    ``C_b = 0``) maps its input kernel K to ``K'``; the flow ``1/K^(l+1) = 1/K^(l) + a + O(K)``
    gives ``K^(l) ~ 1/(a l)``. The layer is averaged over its weights given its stratified
    Gaussian inputs (as in :func:`criticality`); the verifier extrapolates K -> 0.
    """
    results = []
    for index, point in enumerate(points):
        rng = generator(seed * 1000 + index, device)
        sigma = activation(point["activation"], point.get("leaky_slope", LEAKY_SLOPE))
        origin = torch.zeros((), dtype=torch.float64, device=device, requires_grad=True)
        slope = float(torch.autograd.grad(sigma(origin), origin)[0])
        C_W = 1.0 / slope**2
        jitter = torch.rand(ensemble, POWER_INPUTS, generator=rng, device=device,
                            dtype=torch.float64)
        strata = torch.arange(POWER_INPUTS, device=device, dtype=torch.float64)
        gaussian = torch.special.ndtri((strata + jitter) / POWER_INPUTS)
        values = []
        with torch.no_grad():
            for kernel in POWER_KERNELS:
                output = C_W * sigma(math.sqrt(kernel) * gaussian).square().mean(dim=1)
                values.append(1.0 / (1.0 / output - 1.0 / kernel))
        samples = torch.stack(values).cpu().numpy()
        results.append(Measurement(samples, np.array(POWER_KERNELS),
                                   rounding=1e-9 * float(np.abs(samples).max()),
                                   info={"kernels": POWER_KERNELS, "inputs": POWER_INPUTS}))
    return results


# -- four-point vertex ------------------------------------------------------------------------



def vertex_samples(name: str, depth: int, C_W: float, widths: Sequence[int], batch: int, *,
                   quantity: str, rng: torch.Generator, device: str) -> torch.Tensor:
    """Per network and width: the pieces of n Cov(z_j^2, z_k^2)/K^2 (single input, C_b = 0).

    Returns (widths, batch, 2): ``cross_neuron`` gives (G^2, G) with ``G = C_W/n |sigma|^2``
    the conditional variance of layer ``depth`` given the layer below (so E[G^2] =
    E[z_j^2 z_k^2], j != k, and E[G] = E[z^2]); ``single_neuron`` gives (mean z^4,
    mean z^2) over the neurons of layer ``depth``.
    """
    sigma = activation(name)
    widest = max(widths)
    networks = random_networks(batch, widest, widest, depth, rng=rng, device=device)
    x = torch.ones(widest, 1, dtype=torch.float64, device=device)
    out = []
    with torch.no_grad():
        for width in widths:
            if quantity == "cross_neuron":
                if depth == 1:
                    g = torch.full((batch,), C_W, dtype=torch.float64, device=device)
                else:
                    z = _forward(networks, width, x, C_W, 0.0, sigma, depth - 1)[-1]
                    g = C_W / width * sigma(z).square().sum(dim=(1, 2))
                out.append(torch.stack([g * g, g], dim=-1))
            else:
                z = _forward(networks, width, x, C_W, 0.0, sigma, depth)[-1][:, :, 0]
                out.append(torch.stack([z.pow(4).mean(1), z.square().mean(1)], dim=-1))
    return torch.stack(out)


VERTEX_NETWORK_WIDTHS = 75_000  # networks x width per ensemble member (cost ~ width)
VERTEX_CHUNK = 8_000_000  # weight entries per layer in one batched product (memory)


def _vertex_pieces(name: str, depth: int, width: int, C_W: float, networks: int, *,
                   quantity: str, rng: torch.Generator, device: str,
                   leaky_slope: float = LEAKY_SLOPE) -> torch.Tensor:
    """Per network: (G^2, G) (cross_neuron) or (mean z^4, mean z^2) (single_neuron).

    Real width-``width`` MLPs with one input, C_b = 0, fresh Gaussian weights per layer
    (batched in chunks to bound memory). ``G = C_W/n |sigma(z^(l-1))|^2`` is the variance of
    layer ``depth`` given the layer below, so ``E[G^2] = E[z_j^2 z_k^2]`` (j != k) and
    ``E[G] = E[z^2]``.
    """
    sigma = activation(name, leaky_slope)
    chunk = max(1, VERTEX_CHUNK // (width * width))
    out = []
    with torch.no_grad():
        for first in range(0, networks, chunk):
            count = min(chunk, networks - first)
            options = {"generator": rng, "device": device, "dtype": torch.float64}
            z = math.sqrt(C_W) * torch.randn(count, width, **options)  # x = (1,..,1), n_0 = 1
            variance = torch.full((count,), C_W, dtype=torch.float64, device=device)
            for _ in range(depth - 1):
                s = sigma(z)
                variance = C_W / width * s.square().sum(dim=1)
                omega = torch.randn(count, width, width, **options)
                z = math.sqrt(C_W / width) * (omega @ s.unsqueeze(-1)).squeeze(-1)
            if quantity == "cross_neuron":
                out.append(torch.stack([variance.square(), variance], dim=-1))
            else:
                out.append(torch.stack([z.pow(4).mean(dim=1), z.square().mean(dim=1)], dim=-1))
    return torch.cat(out)


ZERO_CLASS_WIDTHS = (16, 32)


def zero_class_vertex(name: str, depth: int, *, ensemble: int, networks: int,
                      rng: torch.Generator, device: str) -> Measurement:
    """``n Cov(z_j^2, z_k^2)/E[z^2]^2`` (j != k) of real critical K* = 0 networks.

    ``C_b = 0``, ``C_W = 1/sigma'(0)^2`` (sigma'(0) by autograd), one input with x.x/n_0 = 1
    (so z^(1) ~ N(0, C_W) per neuron), widths 16 and 32 nested in the same standard-normal
    weights (common random numbers; the verifier extrapolates 1/n). As in
    :func:`vertex_samples`, ``G = C_W/n |sigma(z^(l-1))|^2`` is layer l's variance given the
    layer below, so ``E[G^2] - E[G]^2 = Cov(z_j^2, z_k^2)``; per member the ratio of means
    over ``networks`` networks is jackknifed over two halves.
    """
    sigma = activation(name)
    origin = torch.zeros((), dtype=torch.float64, device=device, requires_grad=True)
    C_W = 1.0 / float(torch.autograd.grad(sigma(origin), origin)[0]) ** 2
    widths = ZERO_CLASS_WIDTHS
    widest = max(widths)
    total = ensemble * networks
    chunk = max(1, VERTEX_CHUNK // (widest * widest))
    pieces: dict[int, list[torch.Tensor]] = {n: [] for n in widths}
    with torch.no_grad():
        for first in range(0, total, chunk):
            count = min(chunk, total - first)
            start = math.sqrt(C_W) * torch.randn(count, widest, generator=rng, device=device,
                                                 dtype=torch.float64)
            z = {n: start[:, :n] for n in widths}
            for _ in range(depth - 2):
                omega = _gaussian(count, widest, widest, rng=rng, device=device)
                for n in widths:
                    z[n] = math.sqrt(C_W / n) * (omega[:, :n, :n] @ sigma(z[n])[..., None])[..., 0]
            for n in widths:
                variance = (C_W / n * sigma(z[n]).square().sum(1) if depth > 1
                            else torch.full((count,), C_W, dtype=torch.float64, device=device))
                pieces[n].append(torch.stack([variance.square(), variance], dim=-1))
    levels = []
    for n in widths:
        halves = torch.cat(pieces[n]).reshape(ensemble, 2, networks // 2, 2).mean(dim=2)

        def excess(means: torch.Tensor, width: int = n) -> torch.Tensor:
            return width * (means[..., 0] / means[..., 1].square() - 1)

        levels.append(2 * excess(halves.mean(dim=1)) - excess(halves).mean(dim=1))
    samples = torch.stack(levels).cpu().numpy()
    return Measurement(samples, 1.0 / np.array(widths, dtype=float), rounding=1e-10,
                       info={"widths": widths, "networks": total})


def four_point_vertex(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                      ensemble: int) -> list[Measurement]:
    """E[z_j^2 z_k^2]/E[z^2]^2 (cross_neuron) or E[z^4]/E[z^2]^2 (single_neuron) at width n.

    Exact finite-width moments, no extrapolation: each ensemble member is the ratio of means
    over its own networks, jackknifed over two halves to remove the O(1/networks) bias of
    a ratio of means.
    """
    results = []
    for index, point in enumerate(points):
        rng = generator(seed * 1000 + index, device)
        width = int(point["width"])
        per_member = 2 * max(500, VERTEX_NETWORK_WIDTHS // (2 * width))
        pieces = _vertex_pieces(point["activation"], point["depth"], width, point["C_W"],
                                ensemble * per_member, quantity=point["quantity"], rng=rng,
                                device=device,
                                leaky_slope=point.get("leaky_slope", LEAKY_SLOPE))
        halves = pieces.reshape(ensemble, 2, per_member // 2, 2).mean(dim=2)
        whole = halves.mean(dim=1)
        ratio = whole[:, 0] / whole[:, 1].square()
        half_ratios = halves[..., 0] / halves[..., 1].square()
        samples = 2 * ratio - half_ratios.mean(dim=1)
        results.append(Measurement(samples.cpu().numpy()[None], np.zeros(1), rounding=1e-10,
                                   info={"width": width, "networks": ensemble * per_member}))
    return results


# -- partial Jacobians -------------------------------------------------------------------------

APJN_WIDTHS = (16, 32, 64)
APJN_NETWORKS = 64
ARCHITECTURES = ("plain", "layer_norm", "residual", "residual_layer_norm")


def _layer_norm(z: torch.Tensor) -> torch.Tensor:
    centred = z - z.mean(dim=1, keepdim=True)
    return centred / centred.square().mean(dim=1, keepdim=True).sqrt()


def _layer_norm_jacobian(z: torch.Tensor) -> torch.Tensor:
    """Jacobian of LN per network, (batch, n, n): (I - 1/n - y y^T/n)/s with y = LN(z)."""
    width = z.shape[1]
    centred = z - z.mean(dim=1, keepdim=True)
    scale = centred.square().mean(dim=1, keepdim=True).sqrt()  # (batch, 1, 1)
    y = centred / scale
    eye = torch.eye(width, dtype=z.dtype, device=z.device)
    return (eye - 1.0 / width - y @ y.transpose(1, 2) / width) / scale


def _apjn(networks: random_networks, width: int, x: torch.Tensor, point: dict[str, Any],
          architecture: str) -> torch.Tensor:
    """J^(1,l) per network from the exact Jacobian dz^(l-1)/dz^(1) (explicit products).

    The last layer's weights are averaged out exactly (E[W M M^T W^T] = C_W/n tr(M M^T) I,
    W independent of M): ``J^(1,l) = (mu^2 |J|^2 + C_W |A J|^2)/n`` with ``J = dz^(l-1)/dz^(1)``
    and ``A = d sigma(source)/dz^(l-1)``, an unbiased estimate without the last layer's noise.
    """
    sigma = activation(point["activation"], point.get("leaky_slope", LEAKY_SLOPE))
    C_W, C_b, mu = point["C_W"], point["C_b"], point["mu"]
    residual = architecture.startswith("residual")
    strength = mu if residual else 0.0
    omega, beta = networks.layer(0, width)
    z = math.sqrt(C_W / omega.shape[2]) * (omega @ x) + math.sqrt(C_b) * beta  # (batch, n, 1)
    jacobian = torch.eye(width, dtype=z.dtype, device=z.device).expand(z.shape[0], -1, -1)
    for index in range(1, point["depth"]):
        source = _layer_norm(z) if architecture.endswith("layer_norm") else z
        with torch.enable_grad():
            leaf = source.detach().requires_grad_(True)
            (slope,) = torch.autograd.grad(sigma(leaf).sum(), leaf)
        local = slope * (_layer_norm_jacobian(z) if architecture.endswith("layer_norm")
                         else torch.eye(width, dtype=z.dtype, device=z.device))
        through = local @ jacobian  # d sigma(source)/dz^(1)
        if index == point["depth"] - 1:
            return (strength**2 * jacobian.square().sum(dim=(1, 2))
                    + C_W * through.square().sum(dim=(1, 2))) / width
        omega, beta = networks.layer(index, width)
        update = math.sqrt(C_W / width) * (omega @ sigma(source)) + math.sqrt(C_b) * beta
        jacobian = strength * jacobian + math.sqrt(C_W / width) * (omega @ through)
        z = strength * z + update
    return torch.ones(z.shape[0], dtype=z.dtype, device=z.device)  # depth 1: J^(1,1) = 1


def partial_jacobian(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                     ensemble: int) -> list[Measurement]:
    """APJN J^(1,l) of plain, LayerNorm, residual and residual+LayerNorm MLPs.

    Layer by layer on one wide random layer per step (stratified Gaussian neurons as in
    :func:`criticality`, fresh per layer): given the measured kernel K^(l), the layer's
    Jacobian norm chi = (1/n) E_W ||dz^(l+1)/dz^(l)||_F^2 is averaged over its weights
    exactly, ``mu^2 + C_W/n ||diag(sigma'(source)) d source/dz||_F^2`` with the LayerNorm
    Jacobian ``(I - 1/n - y y^T/n)/s`` (its row norms ``(1 - (1 + y_i^2)/n)/s^2``), and the
    next kernel is the layer's measured mean square output. J^(1,l) is the product of the
    measured chi over l - 1 layers (Doshi et al.'s recursion, measured one step at a time);
    the per-network finite-width measurement is :func:`partial_jacobian_networks`.
    """
    results = []
    for index, point in enumerate(points):
        rng = generator(seed * 1000 + index, device)
        sigma = activation(point["activation"], point.get("leaky_slope", LEAKY_SLOPE))
        # Two layer sizes n = N/2, N (common random numbers: the first half of the same
        # neurons); LayerNorm's O(1/n) finite-size bias is removed by Richardson in 1/n.
        draws = [_stratified(ensemble, rng, device) for _ in range(point["depth"] - 1)]
        full = LAYER_INPUTS * STRATIFIED_COPIES
        sizes = (full // 2, full)
        levels = []
        for size in sizes:
            columns = []
            for architecture in ARCHITECTURES:
                columns.append(_apjn_layers(draws, size, sigma, architecture, point))
            levels.append(torch.stack(columns, dim=-1))
        samples = torch.stack(levels).cpu().numpy()
        results.append(Measurement(samples, 1.0 / np.array(sizes, dtype=float),
                                   rounding=1e3 * FLOAT64_EPS * float(np.abs(samples).max()),
                                   info={"inputs": sizes}))
    return results


def _apjn_layers(draws: list[torch.Tensor], size: int, sigma: Callable, architecture: str,
                 point: dict[str, Any]) -> torch.Tensor:
    """Product of the measured per-layer chi_J over the layers, per ensemble member."""
    C_W, C_b, mu = point["C_W"], point["C_b"], point["mu"]
    strength = mu**2 if architecture.startswith("residual") else 0.0
    ensemble = draws[0].shape[0] if draws else 1
    device = draws[0].device if draws else "cpu"
    kernel = torch.full((ensemble,), C_b + C_W * point["q"], dtype=torch.float64, device=device)
    total = torch.ones(ensemble, dtype=torch.float64, device=device)
    for gaussian in draws:
        z = kernel.sqrt()[:, None] * gaussian[:, :size]
        if architecture.endswith("layer_norm"):
            centred = z - z.mean(dim=1, keepdim=True)
            variance = centred.square().mean(dim=1, keepdim=True)
            source = centred / variance.sqrt()
            rows = (1 - (1 + source.square()) / size) / variance
        else:
            source, rows = z, torch.ones_like(z)
        leaf = source.detach().requires_grad_(True)
        with torch.enable_grad():
            value = sigma(leaf)
            (slope,) = torch.autograd.grad(value.sum(), leaf)
        value = value.detach()
        total = total * (strength + C_W * (slope.square() * rows).mean(dim=1))
        kernel = strength * kernel + C_b + C_W * value.square().mean(dim=1)
    return total


APJN_DEEP_WIDTHS = (16, 32, 64)
APJN_DEEP_NETWORKS = 128  # networks per ensemble member


def _apjn_projected(point: dict[str, Any], *, ensemble: int, rng: torch.Generator,
                    device: str) -> Measurement:
    """J^(1,l) of real deep MLPs from random projections, for the four architectures.

    Per network: a random direction v at layer 1, uniform on the sphere of radius sqrt(n)
    (``E[v v^T] = I``, so ``E|J v|^2 = ||J||_F^2``), pushed forward through layers 2..l-1 by
    forward-mode AD (``torch.func.jvp`` through LayerNorm and sigma); layer l's weights are
    averaged out exactly, ``E_W |dz^(l)|^2 / n = (mu^2 |t|^2 + C_W |d sigma(source) t|^2)/n``
    with t = dz^(l-1). Widths 8, 16, 32 share nested weights; the verifier extrapolates 1/n.
    """
    sigma = activation(point["activation"], point.get("leaky_slope", LEAKY_SLOPE))
    C_W, C_b, mu, depth = point["C_W"], point["C_b"], point["mu"], point["depth"]
    widths = APJN_DEEP_WIDTHS
    widest = max(widths)
    batch = ensemble * APJN_DEEP_NETWORKS
    options = {"generator": rng, "device": device, "dtype": torch.float64}
    with torch.no_grad():
        # x = sqrt(q) (1, ..., 1): |x|^2/n_0 = q; layer 1 shared by all architectures.
        first = _gaussian(batch, widest, widest, rng=rng, device=device).sum(-1)
        beta = torch.randn(batch, widest, **options)
        direction = torch.randn(batch, widest, **options)
        weights = [_gaussian(batch, widest, widest, rng=rng, device=device)
                   for _ in range(depth - 2)]
        biases = [torch.randn(batch, widest, **options) for _ in range(depth - 2)]
        levels = []
        for n in widths:
            z0 = math.sqrt(C_W * point["q"] / widest) * first[:, :n] + math.sqrt(C_b) * beta[:, :n]
            v0 = direction[:, :n] * math.sqrt(n) / direction[:, :n].norm(dim=1, keepdim=True)
            columns = []
            for architecture in ARCHITECTURES:
                strength = mu if architecture.startswith("residual") else 0.0

                def step(h: torch.Tensor, arch: str = architecture) -> torch.Tensor:
                    return sigma(_layer_norm(h[..., None])[..., 0] if arch.endswith("layer_norm")
                                 else h)

                z, t = z0, v0
                for layer in range(depth - 1):
                    s, ds = torch.func.jvp(step, (z,), (t,))
                    if layer == depth - 2:
                        columns.append((strength**2 * t.square().sum(1)
                                        + C_W * ds.square().sum(1)) / n)
                        break
                    pair = math.sqrt(C_W / n) * (weights[layer][:, :n, :n]
                                                 @ torch.stack([s, ds], -1))
                    z = strength * z + pair[..., 0] + math.sqrt(C_b) * biases[layer][:, :n]
                    t = strength * t + pair[..., 1]
            if depth == 1:  # J^(1,1) = 1
                columns = [torch.ones(batch, dtype=torch.float64, device=device)] * 4
            levels.append(torch.stack(columns, dim=-1))
        samples = _levels(levels, ensemble)
    return Measurement(samples, 1.0 / np.array(widths, dtype=float),
                       rounding=1e-12 * float(np.abs(samples).max()),
                       info={"widths": widths, "networks": batch})


def partial_jacobian_deep(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                          ensemble: int) -> list[Measurement]:
    """APJN J^(1,l) of real deep networks by random projections (:func:`_apjn_projected`).

    Correct but noisy: at 32 x 128 networks per point the tolerance is 5-18% (LayerNorm's
    O(l/n) bias needs the wider levels), so the battery's claim uses the layer-by-layer
    :func:`partial_jacobian` and this one is checked by a slow test.
    """
    return [_apjn_projected(point, ensemble=ensemble, rng=generator(seed * 1000 + index, device),
                            device=device) for index, point in enumerate(points)]


def partial_jacobian_networks(points: Sequence[dict[str, Any]], *, seed: int, device: str,
                              ensemble: int) -> list[Measurement]:
    """APJN J^(1,l) of finite networks (widths 16, 32, 64, Richardson in 1/n).

    Exact Jacobians by explicit products; correct but, with LayerNorm, too noisy for the
    battery's 5% at a CI budget (relative tolerance ~0.14), kept for comparison.
    """
    results = []
    for index, point in enumerate(points):
        rng = generator(seed * 1000 + index, device)
        batch = ensemble * APJN_NETWORKS
        widest = max(APJN_WIDTHS)
        networks = random_networks(batch, widest, widest, point["depth"], rng=rng, device=device)
        x = torch.full((widest, 1), math.sqrt(point["q"]), dtype=torch.float64, device=device)
        values = []
        for width in APJN_WIDTHS:
            with torch.no_grad():
                columns = [_apjn(networks, width, x, point, name) for name in ARCHITECTURES]
            values.append(torch.stack(columns, dim=-1))
        samples = _levels(values, ensemble)
        results.append(Measurement(samples, 1.0 / np.array(APJN_WIDTHS),
                                   rounding=1e-10 * float(np.abs(samples).max()),
                                   info={"widths": APJN_WIDTHS, "networks": batch}))
    return results


# -- convolutional networks: pooled CNN kernels at finite channel count ----------------------

__all__ += ["cnn_features", "cnn_kernels", "cnn_kernel"]

# Nested: the narrower networks are sub-blocks of the widest. Two levels: at depth 2 the
# O(1/n) bias is below the noise of 32 x 1024 networks (a third level, n = 4, left the
# observed order unidentifiable and multiplied the tolerance by about 1.5).
CNN_CHANNELS = (8, 16)
# Networks per ensemble member: one convolution is measured unbiased at one width; deeper
# networks are extrapolated linearly in 1/n (2 v_16 - v_8: about twice the noise).
CNN_NETWORKS = {1: 128, 2: 1024}


def _circular_convolution(h: torch.Tensor, omega: torch.Tensor, beta: torch.Tensor,
                          C_W: float, C_b: float) -> torch.Tensor:
    """One Conv1D per network, all networks in one einsum over the ensemble axis.

    ``h`` is (inputs, networks, c_in, P), ``omega`` (networks, c_out, c_in, filter) standard
    normal, ``beta`` (networks, c_out). Output position p reads p + k - o (mod P: circular
    padding), o = (filter-1)//2; W = sqrt(C_W/(filter c_in)) omega. (A grouped conv1d is the
    same product, but 25x slower on the CPU with one group per network.)
    """
    width, c_in = omega.shape[3], omega.shape[2]
    offset = (width - 1) // 2
    # torch.roll by s gives h[p - s]: s = offset - k reads position p + k - offset.
    windows = torch.stack([torch.roll(h, offset - k, dims=-1) for k in range(width)], dim=-1)
    z = torch.einsum("nock,anckp->anop", omega, windows.transpose(-1, -2))
    return math.sqrt(C_W / (width * c_in)) * z + math.sqrt(C_b) * beta[None, :, :, None]


def cnn_features(x: torch.Tensor, omegas: list[torch.Tensor], betas: list[torch.Tensor],
                 C_W: float, C_b: float, sigma: Callable) -> torch.Tensor:
    """Pooled features ``g_j = mean_p sigma(z^(depth)_j[p])``, (inputs, networks, channels).

    ``x`` is (inputs, P, C_0); one (omega, beta) per convolution, batched over networks.
    """
    h = x.transpose(1, 2)[:, None].expand(-1, omegas[0].shape[0], -1, -1)
    for omega, beta in zip(omegas, betas, strict=True):
        h = sigma(_circular_convolution(h, omega, beta, C_W, C_b))
    return h.mean(dim=-1)


def cnn_kernels(point: dict[str, Any], parameters: list[torch.Tensor],
                channels: int) -> torch.Tensor:
    """[K11, K22, K12] of random CNNs with ``channels`` channels, (networks, 3).

    ``parameters``: the standard-normal omegas, betas of the convolutions, the readout's
    omega and beta, drawn at a larger width and sliced here (common random numbers).
    'nngp': the readout's covariance given the pooled features,
    ``C_b + C_W/n g(x_a).g(x_b)`` (unbiased for the output kernel, without the readout's
    sampling noise); 'ntk': the empirical NTK ``sum_theta df(x_a)/dtheta df(x_b)/dtheta``
    over every omega and beta (autograd).
    """
    x = torch.stack([torch.as_tensor(np.asarray(point[key], dtype=np.float64))
                     for key in ("x1", "x2")]).to(parameters[0].device)
    depth = (len(parameters) - 2) // 2
    ntk = point["quantity"] == "ntk"
    sliced = [parameters[0][:, :channels]] + [omega[:, :channels, :channels]
                                              for omega in parameters[1:depth]]
    sliced += [beta[:, :channels] for beta in parameters[depth:2 * depth]]
    sliced += [parameters[-2][:, :channels], parameters[-1]]
    sliced = [p.clone().requires_grad_(ntk) for p in sliced]
    networks = sliced[0].shape[0]
    sigma = activation(point["activation"], point.get("leaky_slope", LEAKY_SLOPE))
    C_W, C_b = float(point["C_W"]), float(point["C_b"])
    with torch.set_grad_enabled(ntk):
        g = cnn_features(x, sliced[:depth], sliced[depth:2 * depth], C_W, C_b, sigma)
        if not ntk:
            gram = C_b + C_W / channels * torch.einsum("anj,bnj->nab", g, g)
            return torch.stack([gram[:, 0, 0], gram[:, 1, 1], gram[:, 0, 1]], dim=-1)
        output = (math.sqrt(C_W / channels) * torch.einsum("anj,nj->an", g, sliced[-2])
                  + math.sqrt(C_b) * sliced[-1])
        # Networks are independent: the gradient of a sum over networks is each one's own.
        gradients = [torch.autograd.grad(output[index].sum(), sliced,
                                         retain_graph=index == 0) for index in range(2)]
    pairs = ((0, 0), (1, 1), (0, 1))
    return torch.stack([sum((gradients[a][k] * gradients[b][k]).reshape(networks, -1).sum(1)
                            for k in range(len(sliced))) for a, b in pairs], dim=-1)


def cnn_kernel(points: Sequence[dict[str, Any]], *, seed: int, device: str,
               ensemble: int) -> list[Measurement]:
    """Pooled 1-D CNN kernels (rg_flow.cnn_kernel) at 8 and 16 channels.

    CNN_NETWORKS[depth] networks per ensemble member, drawn once at 16 channels; the narrower
    networks are their sub-blocks. Seeded by (seed, point) (theorylab.simulations).
    """
    results = []
    for point in points:
        rng = generator(point_seed(seed, point), device)
        depth = int(point["depth"])
        networks = ensemble * CNN_NETWORKS.get(depth, CNN_NETWORKS[2])
        widest = max(CNN_CHANNELS)
        options = {"generator": rng, "device": device, "dtype": torch.float64}
        fan_ins = [np.shape(point["x1"])[1]] + [widest] * (depth - 1)
        parameters = [torch.randn(networks, widest, fan_in, int(point["filter"]), **options)
                      for fan_in in fan_ins]
        parameters += [torch.randn(networks, widest, **options) for _ in fan_ins]
        parameters += [torch.randn(networks, widest, **options),
                       torch.randn(networks, **options)]
        # One convolution: its preactivations are exactly Gaussian given the inputs, and
        # both estimators (the readout's covariance given the features; the gradients,
        # whose readout weights are independent of the features) are unbiased at every
        # width, so the widest alone is measured and nothing is extrapolated.
        channels = CNN_CHANNELS if depth > 1 else CNN_CHANNELS[-1:]
        values = [cnn_kernels(point, parameters, width).detach() for width in channels]
        samples = _levels(values, ensemble)
        scale = float(np.abs(samples).max())
        results.append(Measurement(samples, 1.0 / np.array(channels),
                                   # sums of ~10^3 products per network, then Richardson
                                   # weights of total size ~5: a generous float64 bound
                                   rounding=4096 * depth * FLOAT64_EPS * scale,
                                   info={"channels": channels, "networks": networks}))
    return results
