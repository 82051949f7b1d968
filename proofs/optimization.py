"""Machine-checked derivations for ``theorylab.theory.optimization``.

The physics enters as cited assumptions, each with its reason:

- at infinite width the activation patterns of a two-layer ReLU network do not
  change during gradient descent and its Gram matrix stays ``H^inf``, so the
  residual follows ``y - u(k+1) = (I - eta H^inf)(y - u(k))`` (Arora et al. 2019,
  Sec. 4, proof of Thm 4.1);
- a scale-invariant loss has ``grad L(c w) = grad L(w)/c`` (differentiate
  ``L(c w) = L(w)``), so the updates of the two runs match term by term under
  ``v_s = c_s w_s`` when the coefficients of ``w_s``, ``w_(s-1)`` and ``grad L(w_s)``
  agree (Li & Arora 2020, proof of Thm 1.1).
"""

from __future__ import annotations

import sympy
from sympy import Eq
from theorylab.theory.optimization import (
    X,
    alpha,
    decay,
    eta,
    exponential_lr,
    gamma,
    i,
    k,
    label_projection,
    lr,
    ntk_eigenvalue,
    ntk_residual,
    ntk_statement,
    rows,
    trace,
    y,
)

from theorylab.derivation import Derivation, Step

__all__ = ["residual_by_modes", "rate_from_matched_updates"]

residual = ntk_residual.quantity
j = sympy.Symbol("j", integer=True, positive=True)
decay_per_step = sympy.Product(1 - eta * ntk_eigenvalue(X, i), (j, 1, k))

residual_by_modes = Derivation(
    claim=ntk_residual.id,
    title="The infinite-width linear recursion, diagonalised in the eigenbasis of H^inf",
    steps=(
        Step.assume(
            Eq(residual, sympy.sqrt(sympy.Sum((decay_per_step * label_projection(X, y, i)) ** 2,
                                              (i, 1, rows(X))))),
            "||y - u(k)||^2 = sum_i (v_i^T (y - u(k)))^2 (Parseval, v_i orthonormal "
            "eigenvectors of the symmetric H^inf); at infinite width y - u(k+1) = "
            "(I - eta H^inf)(y - u(k)) multiplies v_i^T (y - u(k)) by 1 - eta lambda_i per "
            "step, from v_i^T y at k = 0 since u(0) = 0 (antisymmetric start)",
            cite="Arora et al. 2019, Sec. 4 (proof of Thm 4.1)"),
        Step.equal(Eq(residual, ntk_statement), "evaluate the product and square"),
    ),
)

x = sympy.Symbol("x", positive=True)  # the ratio c_s / c_(s+1) of the scales
s = sympy.Symbol("s", integer=True)
scale = sympy.Function("c")

rate_from_matched_updates = Derivation(
    claim=exponential_lr.id,
    title="alpha from matching the weight-decay update with a rescaled decay-free one",
    steps=(
        Step.assume(
            Eq(scale(s + 1) * trace, scale(s) * (1 + gamma * scale(s + 1) / scale(s - 1))),
            "v_s = c_s w_s: A gives w_(s+1) = trace w_s - gamma w_(s-1) - eta grad L(w_s); "
            "B gives v_(s+1) = (1 + gamma r_s) v_s - gamma r_s v_(s-1) - eta_s grad L(v_s) with "
            "r_s = eta_s/eta_(s-1). The w_(s-1) terms match for r_s = c_(s+1)/c_(s-1), the "
            "gradients for eta_s = eta c_s c_(s+1) (grad L(c w) = grad L(w)/c); this is the "
            "w_s coefficient",
            cite="Li & Arora 2020, proof of Thm 1.1"),
        Step.substitute(Eq(x ** (-s - 1) * trace, x ** (-s) * (1 + gamma * x ** (-2))),
                        {scale(s + 1): x ** (-s - 1), scale(s): x ** (-s),
                         scale(s - 1): x ** (1 - s)},
                        "geometric scales c_s = x^(-s), so that r_s = x^(-2) is constant"),
        Step.equal(Eq(x ** (-s - 2) * (trace * x - x**2 - gamma), 0),
                   "collect: x^(-s-2) times the quadratic x^2 - trace x + gamma"),
        Step.solve(Eq(x, alpha), x, "the larger root (the smaller one is gamma/alpha)"),
    ),
    ranges={gamma: (0.0, 0.5), decay: (0.001, 0.05), lr: (0.05, 0.3)},
)
