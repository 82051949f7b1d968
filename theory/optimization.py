r"""Optimization: NTK-regime convergence and the exponential learning rate.

Two exact statements about gradient descent on real networks:

- ``ntk_residual``: a wide two-layer ReLU network trained by gradient descent
  shrinks its residual mode by mode in the eigenbasis of the NTK Gram matrix
  ``H^inf`` (Arora, Du, Hu, Li & Wang 2019, Thm 4.1);
- ``exponential_lr``: on a scale-invariant loss, weight decay with momentum is
  gradient descent without weight decay at the learning rate ``eta alpha^(-2t-1)``
  (Li & Arora 2020, Thm 1.1).

``H^inf``'s eigenpairs enter the statement as named functions of ``X``; everything
else is a sympy expression in the parameters.
"""

from __future__ import annotations

import math

import numpy as np
import sympy
from hypothesis import strategies as st

from theorylab.claim import Citation, Claim, Constraint, Decoy, Parameter, SystematicError
from theorylab.domains import Choice, Integer, Matrix, Real
from theorylab.errors import ParameterError
from theorylab.functions import named_function
from theorylab.strategies import sphere_datasets

ARORA = Citation(
    authors=("Sanjeev Arora", "Simon S. Du", "Wei Hu", "Zhiyuan Li", "Ruosong Wang"),
    year=2019,
    title="Fine-Grained Analysis of Optimization and Generalization for Overparameterized "
          "Two-Layer Neural Networks",
    where="Theorem 4.1 (H^inf: eq. 3)",
    arxiv="1901.08584",
    venue="ICML",
)
LI_ARORA = Citation(
    authors=("Zhiyuan Li", "Sanjeev Arora"),
    year=2020,
    title="An Exponential Learning Rate Schedule for Deep Learning",
    where="Theorem 1.1 (with momentum)",
    arxiv="1910.07454",
    venue="ICLR",
)

#: A row of X may miss unit norm by this much (JSON decimals of a unit vector do).
UNIT_NORM_TOLERANCE = 1e-8


def ntk_gram(inputs: np.ndarray) -> np.ndarray:
    """H^inf_ij = x_i.x_j (pi - arccos x_i.x_j) / (2 pi) for unit rows (Arora et al. eq. 3)."""
    cosines = np.clip(inputs @ inputs.T, -1.0, 1.0)
    return cosines * (math.pi - np.arccos(cosines)) / (2 * math.pi)


def unit_rows(point: dict) -> bool:
    """True when every row of X has unit norm; else a one-line error naming the row."""
    norms = np.linalg.norm(point["X"], axis=1)
    worst = int(np.argmax(np.abs(norms - 1)))
    if abs(norms[worst] - 1) > UNIT_NORM_TOLERANCE:
        raise ParameterError("X", "a matrix whose rows have unit norm",
                             detail=f"row {worst} has norm {norms[worst]:.10g}")
    return True


# -- 1. NTK-regime residual (Arora et al. 2019, Thm 4.1) ------------------------------

X_parameter = Parameter("X", Matrix(ndim=2), "n x d inputs, one unit-norm row per example")
y_parameter = Parameter("y", Matrix(ndim=1), "the n labels")
eta_parameter = Parameter("eta", Real(0, math.inf), "gradient-descent step on the summed loss",
                          latex="eta")
k_parameter = Parameter("k", Integer(0, 10_000, sample_upper=10), "gradient steps")
X, y, eta, k = (p.symbol for p in (X_parameter, y_parameter, eta_parameter, k_parameter))
i = sympy.Symbol("i", integer=True, positive=True)

# lambda_i and v_i^T y of H^inf(X), ascending in lambda: the sum over i is basis-free.
rows = named_function("rows", lambda inputs: int(np.shape(inputs)[0]), latex="n", pretty="n")
ntk_eigenvalue = named_function(
    "ntk_eigenvalue", lambda inputs, index: np.linalg.eigvalsh(ntk_gram(inputs))[int(index) - 1],
    latex=r"\lambda", pretty="λ")
label_projection = named_function(
    "label_projection",
    lambda inputs, labels, index: np.linalg.eigh(ntk_gram(inputs))[1][:, int(index) - 1] @ labels,
    latex=r"v^{T} y", pretty="vᵀy")
modes = (1 - eta * ntk_eigenvalue(X, i)) ** (2 * k) * label_projection(X, y, i) ** 2
ntk_statement = sympy.sqrt(sympy.Sum(modes, (i, 1, rows(X))))

ntk_residual = Claim(
    id="optimization.ntk_residual",
    title="Residual of a wide two-layer ReLU network under gradient descent, mode by mode",
    citation=ARORA,
    parameters=(X_parameter, y_parameter, eta_parameter, k_parameter),
    quantity=sympy.Symbol("||y - u(k)||"),
    statement=ntk_statement,
    conventions=(
        "f(x) = m^(-1/2) sum_r a_r relu(w_r . x), a_r = +-1 fixed (not trained), w_r(0) ~ "
        "N(0, I); u(k)_i = f(x_i) after k steps; width m -> infinity.",
        "Loss 1/2 ||y - u||^2 summed over the n examples; plain gradient descent on the w_r "
        "only, step eta; k counts steps.",
        "Antisymmetric start: neurons in pairs with equal w_r and opposite a_r, so u(0) = 0 "
        "(Thm 4.1's small-kappa limit without its kappa).",
        "Inputs on the unit sphere; H^inf_ij = x_i.x_j (pi - arccos x_i.x_j)/(2 pi); "
        "lambda(X, i) is its i-th eigenvalue (ascending) and v^T y(X, y, i) the labels' "
        "projection on the i-th eigenvector.",
        "Checked for eta lambda_max(H^inf) < 1, where every mode decays monotonically; Thm "
        "4.1 proves the statement for eta = O(lambda_0/n^2) at polynomial width, and at "
        "infinite width the linear recursion u(k+1) = u(k) + eta H^inf (y - u(k)) is exact.",
    ),
    simulation="theorylab.numerics.optimization:ntk_residual",
    systematic_error=SystematicError(
        "1/sqrt(width)", order=1,
        description="Finite width m moves the kernel by O(m^-1/2) (random at initialization, "
        "and activation patterns that flip during training): the residual is biased by "
        "O(m^-1/2) and O(1/m) terms, which the verifier removes by extrapolating in "
        "h = m^-1/2 over m = 256, 1024, 4096 (coupled: narrower networks are the first "
        "neurons of the widest)."),
    constraints=(
        Constraint("every row of X has unit norm", unit_rows, ("X",)),
        Constraint("y has one entry per row of X",
                   lambda p: p["y"].shape[0] == p["X"].shape[0], ("y", "X")),
        Constraint("eta lambda_max(H^inf(X)) < 1 (every mode decays monotonically)",
                   lambda p: p["eta"] * np.linalg.eigvalsh(ntk_gram(p["X"]))[-1] < 1,
                   ("eta", "X")),
    ),
    # eta = f (1 - 2^(-1/k)) / lambda_max: the fastest mode keeps at least 2^(-f) of itself,
    # so the residual stays well above the finite-width noise.
    sample=lambda: st.builds(
        lambda data, fraction, steps: {
            "X": data[0], "y": data[1], "k": steps,
            "eta": fraction * (1 - 0.5 ** (1 / max(steps, 1)))
            / np.linalg.eigvalsh(ntk_gram(data[0]))[-1]},
        sphere_datasets(max_points=6, max_dimension=5), st.floats(0.3, 1.0),
        k_parameter.strategy()),
    decoys=(
        Decoy("single_power", "(1 - eta lambda_i)^k: the decay of the residual taken for the "
              "decay of its square", substitute={k: k / 2}),
        Decoy("gram_over_pi", "H^inf normalised by 1/pi instead of 1/(2 pi): every eigenvalue "
              "doubled", substitute={eta: 2 * eta}),
        Decoy("averaged_loss", "the loss averaged over the n examples, so the step is eta/n",
              substitute={eta: eta / rows(X)}),
    ),
    ensemble=64,
    budget=6,
)

# -- 2. exponential learning rate (Li & Arora 2020, Thm 1.1) --------------------------

LR_QUANTITIES = ("alpha", "learning_rate", "direction_gap", "norm_ratio")
quantity_parameter = Parameter(
    "quantity", Choice(LR_QUANTITIES),
    "alpha; learning_rate (the schedule's eta_t); direction_gap ||w_t/||w_t|| - v_t/||v_t|| ||; "
    "norm_ratio ||v_t|| / ||w_t||")
step_parameter = Parameter("eta", Real(0, math.inf, sample_lower=0.05, sample_upper=0.3),
                           "learning rate of the weight-decay run", latex="eta")
decay_parameter = Parameter("weight_decay", Real(0, math.inf, lower_open=False,
                                                 sample_lower=0.005, sample_upper=0.05),
                            "weight decay lambda (the gradient gains lambda w)", latex="lambda")
momentum_parameter = Parameter("momentum", Real(0, 1, lower_open=False, sample_upper=0.6),
                               "heavy-ball momentum gamma", latex="gamma")
t_parameter = Parameter("t", Integer(0, 1000, sample_upper=40), "steps")
lr, decay, gamma, t = (p.symbol for p in (step_parameter, decay_parameter, momentum_parameter,
                                           t_parameter))

trace = 1 + gamma - decay * lr  # x^2 - trace x + gamma = 0
# Held unevaluated so that show prints (trace + sqrt(trace^2 - 4 gamma))/2, not its expansion.
alpha = sympy.Mul(sympy.Rational(1, 2), trace + sympy.sqrt(trace**2 - 4 * gamma),
                  evaluate=False)
LR_STATEMENTS = {  # each quantity with the symbol show prints on its left
    "alpha": sympy.Eq(sympy.Symbol("alpha"), alpha, evaluate=False),
    "learning_rate": sympy.Eq(sympy.Symbol("eta_t"), lr * alpha ** (-2 * t - 1),
                              evaluate=False),
    "direction_gap": sympy.Eq(sympy.Symbol("delta_t"), sympy.Integer(0), evaluate=False),
    "norm_ratio": sympy.Eq(sympy.Symbol("rho_t"), alpha ** (-t), evaluate=False),
}

exponential_lr = Claim(
    id="optimization.exponential_lr",
    title="Weight decay with momentum on a scale-invariant loss is an exponentially growing "
          "learning rate",
    citation=LI_ARORA,
    parameters=(quantity_parameter, step_parameter, decay_parameter, momentum_parameter,
                t_parameter),
    quantity=sympy.Symbol("alpha"),
    statement=alpha,
    statements=LR_STATEMENTS,
    conventions=(
        "L(c w) = L(w) for every c > 0. Run A (weight decay): b_s = gamma b_(s-1) + grad L(w_s) "
        "+ lambda w_s, w_(s+1) = w_s - eta b_s, from rest (b_(-1) = 0). Run B (no weight "
        "decay): b'_s = gamma b'_(s-1) + grad L(v_s), v_(s+1) = v_s - eta_s b'_s with "
        "eta_s = eta alpha^(-2s-1), from v_0 = w_0.",
        "Momentum buffers matched as in the proof of Thm 1.1: every iterate of B is "
        "alpha^(-s) times A's, the one before the start included (v_(-1) = alpha w_(-1)); "
        "from A at rest this is B's buffer b'_(-1) = (1 - 1/alpha) w_0/eta.",
        "alpha is the larger root of x^2 - (1 + gamma - lambda eta) x + gamma = 0 (gamma = 0: "
        "alpha = 1 - lambda eta); the roots are real for lambda eta <= (1 - sqrt(gamma))^2. "
        "The smaller root gamma/alpha reproduces the directions as well; the measured alpha "
        "is the largest rate in (0, 1] that does.",
        "quantity='learning_rate': eta_t, the step that B's step t needs to reproduce A's "
        "direction at t + 1; 'direction_gap': ||w_t/||w_t|| - v_t/||v_t|| ||, which is 0; "
        "'norm_ratio': ||v_t|| / ||w_t|| = alpha^(-t).",
    ),
    simulation="theorylab.numerics.optimization:exponential_lr",
    systematic_error=SystematicError(
        "none", order=1,
        description="Both runs are exact in discrete time: no bias, only float64 rounding, "
        "which the simulation bounds at each point by 4 times the drift of copies of both "
        "runs whose weights get a relative N(0, (64 eps)^2) kick after every step (alpha: "
        "64 eps over the root-finder's slope)."),
    constraints=(Constraint("weight_decay eta <= (1 - sqrt(momentum))^2 (alpha is real)",
                            lambda p: p["weight_decay"] * p["eta"]
                            <= (1 - math.sqrt(p["momentum"])) ** 2,
                            ("weight_decay", "eta", "momentum")),),
    decoys=(
        Decoy("momentum_ignored", "alpha = 1 - lambda eta, the momentum-free rate, used with "
              "momentum", substitute={gamma: 0}),
        Decoy("exponent_missing_one", "eta alpha^(-2t): the -1 dropped from the exponent (the "
              "schedule half a step late)", substitute={t: t - sympy.Rational(1, 2)}),
        Decoy("decay_doubled", "weight decay as the penalty lambda ||w||^2 (gradient 2 lambda w)",
              substitute={decay: 2 * decay}),
    ),
    ensemble=8,
    budget=12,
    # Both runs are exact up to rounding, so the check resolves 0.1% and says so: at the
    # default 5%, exponent_missing_one (off by 1-3%) was rejected only by the precision.
    resolution=1e-3,
)
