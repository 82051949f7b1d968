r"""A theorist's own claim: NTK-regime convergence of a wide two-layer ReLU net.

This file is written the way a user of theorylab writes their own claims, in
their own repository: nothing here is part of the theorylab catalogue. Verify
it with ``theorylab check ntk_claims.py`` or through the pytest plugin
(``test_ntk_claims.py`` beside this file).

The result (Arora, Du, Hu, Li & Wang 2019, arXiv:1901.08584, Theorem 4.1): for
``f(x) = m^{-1/2} sum_r a_r relu(w_r . x)`` with ``a_r = +-1`` fixed, only the
first layer trained by gradient descent with step ``eta`` on
``Phi(W) = 1/2 sum_i (y_i - f(x_i))^2``, and a width ``m -> infinity``,

    ||y - u(k)||^2 = sum_i (1 - eta lambda_i)^{2k} (v_i^T y)^2,

where ``lambda_i, v_i`` are the eigenpairs of the Gram matrix

    H^inf_ij = E_{w ~ N(0, I)}[x_i.x_j 1{w.x_i >= 0, w.x_j >= 0}]
             = x_i.x_j (pi - arccos(x_i.x_j)) / (2 pi)      (unit-norm inputs).

Conventions: inputs on the unit sphere; ``w_r(0) ~ N(0, I)`` (kappa = 1) with the
antisymmetric ("doubling") initialisation, neurons in pairs with equal ``w_r``
and opposite ``a_r``, so that ``u(0) = 0`` exactly (the theorem's small-kappa
limit, without its kappa); ``eta`` is the plain step on the summed loss.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import sympy
import torch

from theorylab import (
    Citation,
    Claim,
    Constraint,
    Decoy,
    Derivation,
    Integer,
    Measurement,
    Parameter,
    Real,
    Step,
    SystematicError,
    named_function,
)

ARORA = Citation(
    authors=("Sanjeev Arora", "Simon S. Du", "Wei Hu", "Zhiyuan Li", "Ruosong Wang"),
    year=2019,
    title="Fine-Grained Analysis of Optimization and Generalization for Overparameterized "
          "Two-Layer Neural Networks",
    where="Theorem 4.1",
    arxiv="1901.08584",
    venue="ICML",
)

WIDTHS = (256, 1024, 4096)


def dataset(samples: int, dimension: int, data_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs on the unit sphere and Gaussian labels, fixed by ``data_seed``."""
    generator = np.random.default_rng(data_seed)
    inputs = generator.standard_normal((samples, dimension))
    inputs /= np.linalg.norm(inputs, axis=1, keepdims=True)
    return inputs, generator.standard_normal(samples)


def gram_infinity(inputs: np.ndarray) -> np.ndarray:
    """H^inf for unit-norm inputs (Arora et al. 2019, eq. 3 in closed form)."""
    cosines = np.clip(inputs @ inputs.T, -1.0, 1.0)
    return cosines * (math.pi - np.arccos(cosines)) / (2 * math.pi)


def _residual(params: dict[str, Any], gram: Any, power: int = 2) -> float:
    inputs, labels = dataset(params["samples"], params["dimension"], params["data_seed"])
    eigenvalues, eigenvectors = np.linalg.eigh(gram(inputs))
    decay = (1 - params["learning_rate"] * eigenvalues) ** (power * params["steps"])
    return float(np.sum(decay * (eigenvectors.T @ labels) ** 2))


def _predict(params: dict[str, Any], precision: int | None = None) -> float:
    return _residual(params, gram_infinity)


def _stable(params: dict[str, Any]) -> bool:
    inputs, _ = dataset(params["samples"], params["dimension"], params["data_seed"])
    return params["learning_rate"] * np.linalg.eigvalsh(gram_infinity(inputs))[-1] < 1


def simulate(points: list[dict[str, Any]], *, seed: int, device: str,
             ensemble: int) -> list[Measurement]:
    """Train ``ensemble`` real two-layer ReLU nets per point at three widths."""
    generator = torch.Generator(device=device).manual_seed(seed)
    measurements = []
    for point in points:
        inputs, labels = dataset(point["samples"], point["dimension"], point["data_seed"])
        x = torch.tensor(inputs, device=device)
        y = torch.tensor(labels, device=device)
        # One draw at the largest width; narrower nets use its first neurons,
        # so the widths are coupled and Richardson extrapolation stays precise.
        half = torch.randn(ensemble, WIDTHS[-1] // 2, x.shape[1], generator=generator,
                           device=device, dtype=torch.float64)
        levels = []
        for width in WIDTHS:
            weights = torch.cat([half[:, : width // 2], half[:, : width // 2]], dim=1)
            signs = torch.cat([torch.ones(width // 2), -torch.ones(width // 2)]).to(x)
            for _ in range(point["steps"] + 1):
                preactivations = torch.einsum("emd,nd->emn", weights, x)
                outputs = torch.einsum("m,emn->en", signs, preactivations.clamp_min(0))
                residual = y - outputs / math.sqrt(width)
                gradient = -torch.einsum("m,emn,en,nd->emd", signs,
                                         (preactivations > 0).to(x), residual, x)
                weights = weights - point["learning_rate"] * gradient / math.sqrt(width)
            levels.append((residual**2).sum(dim=1))  # the loss before the last update
        measurements.append(Measurement(
            samples=torch.stack(levels).cpu().numpy(),
            resolutions=np.array([width**-0.5 for width in WIDTHS]),
            info={"widths": WIDTHS},
        ))
    return measurements


@functools.lru_cache(maxsize=64)
def _eigenpairs(samples: int, dimension: int, data_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues of H^inf and the labels' projections c_i = v_i^T y, ascending."""
    inputs, labels = dataset(int(samples), int(dimension), int(data_seed))
    eigenvalues, eigenvectors = np.linalg.eigh(gram_infinity(inputs))
    return eigenvalues, eigenvectors.T @ labels


# lambda_i and c_i, bound once to the dataset's H^inf, so the statement evaluates.
eigenvalue = named_function(
    "gram_eigenvalue", lambda n, d, seed, i: _eigenpairs(n, d, seed)[0][int(i)],
    latex=r"\lambda", pretty="λ")
projection = named_function(
    "label_projection", lambda n, d, seed, i: _eigenpairs(n, d, seed)[1][int(i)],
    latex="c", pretty="c")
i = sympy.Symbol("i", integer=True, nonnegative=True)
samples, dimension, data_seed, steps = sympy.symbols("samples dimension data_seed steps",
                                                     integer=True, positive=True)
learning_rate = sympy.Symbol("learning_rate", positive=True)
data = (samples, dimension, data_seed, i)
mode = sympy.Function("rho")  # rho_i(k) = v_i^T (y - u(k)), a premise's unknown
STATEMENT = sympy.Sum((1 - learning_rate * eigenvalue(*data)) ** (2 * steps)
                      * projection(*data) ** 2, (i, 0, samples - 1))

ntk_convergence = Claim(
    id="mywork.ntk_convergence",
    title="Loss of a wide two-layer ReLU net under gradient descent, mode by mode",
    citation=ARORA,
    parameters=(
        Parameter("samples", Integer(2, 8), "number of training points n", "n"),
        Parameter("dimension", Integer(2, 8), "input dimension d", "d"),
        Parameter("data_seed", Integer(0, 10_000), "seed of the dataset", r"\mathrm{seed}"),
        Parameter("learning_rate", Real(0, sample_lower=0.2, sample_upper=1.0),
                  "gradient-descent step eta", r"\eta"),
        Parameter("steps", Integer(1, 10_000, sample_upper=12), "gradient steps k", "k"),
    ),
    statement=STATEMENT,
    quantity=sympy.Symbol(r"\|y - u(k)\|^2"),
    conventions=(
        "f(x) = m^{-1/2} sum_r a_r relu(w_r.x), a_r = +-1 fixed, w_r(0) ~ N(0, I), "
        "antisymmetric pairs so u(0) = 0.",
        "Loss 1/2 sum_i (y_i - f(x_i))^2; plain gradient descent on W with step eta; "
        "k counts steps.",
        "Inputs on the unit sphere; lambda_i, v_i eigenpairs of H^inf; c_i = v_i^T y.",
    ),
    simulation=simulate,
    systematic_error=SystematicError(
        "1/sqrt(width)", order=1,
        description="Finite width m moves the kernel by O(m^{-1/2}) (pattern flips) and "
                    "biases the mean by O(1/m): extrapolated in h = m^{-1/2} over "
                    "m = 256, 1024, 4096, removing the h and h^2 terms."),
    decoys=(
        Decoy("single_power", "(1 - eta lambda)^k: the residual, not its square",
              evaluate=lambda p, precision=None: _residual(p, gram_infinity, power=1)),
        Decoy("gram_without_half", "H^inf without the 1/(2 pi) normalisation (1/pi)",
              evaluate=lambda p, precision=None: _residual(p, lambda x: 2 * gram_infinity(x))),
        Decoy("nngp_kernel", "the arc-cosine NNGP kernel in place of the NTK Gram matrix",
              evaluate=lambda p, precision=None: _residual(p, _nngp_gram)),
    ),
    constraints=(Constraint("learning_rate * lambda_max(H^inf) < 1 (stable steps)",
                            _stable, ("learning_rate",)),),
    evaluate=_predict,
    ensemble=192,
    budget=6,
    resolution=0.05,
)


def _nngp_gram(inputs: np.ndarray) -> np.ndarray:
    cosines = np.clip(inputs @ inputs.T, -1.0, 1.0)
    angles = np.arccos(cosines)
    return (np.sin(angles) + (math.pi - angles) * cosines) / (2 * math.pi)


ntk_convergence_by_modes = Derivation(
    claim="mywork.ntk_convergence",
    title="Linearised gradient descent, diagonalised in the eigenbasis of H^inf",
    conclusion="expression",
    steps=(
        Step.assume(sympy.Sum(mode(*data) ** 2, (i, 0, samples - 1)),
                    "||y - u(k)||^2 in the orthonormal eigenbasis v_i of H^inf (Parseval)"),
        Step.substitute(
            sympy.Sum(((1 - learning_rate * eigenvalue(*data)) ** steps * projection(*data)) ** 2,
                      (i, 0, samples - 1)),
            {mode(*data): (1 - learning_rate * eigenvalue(*data)) ** steps * projection(*data)},
            "at infinite width y - u(k+1) = (I - eta H^inf)(y - u(k)) (Arora et al. eq. 11), "
            "so rho_i(k) = (1 - eta lambda_i)^k rho_i(0), and rho_i(0) = c_i as u(0) = 0"),
        Step.equal(STATEMENT, "expand the square"),
    ),
)
