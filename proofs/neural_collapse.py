"""Machine-checked derivations for ``theorylab.theory.neural_collapse``.

The simplex-ETF facts are proved for a *symbolic* number of classes ``K``, in
the algebra spanned by the identity ``I`` and the all-ones matrix
``J = 1 1^T``: it is commutative, with ``I^2 = I``, ``I J = J`` and
``J^2 = K J`` (because ``1^T 1 = K``). An element ``a I + b J`` has entries
``a + b`` on the diagonal and ``b`` off it (the substitutions ``I -> 1`` or
``0``, ``J -> 1``), and eigenvalue ``a + K b`` on ``1`` (``I -> 1``,
``J -> K``) and ``a`` on ``1^perp``. No loop over small ``K`` is involved.

Every module-level :class:`~theorylab.derivation.Derivation` ends in its
claim's statement and is registered. :data:`CONSEQUENCES` holds derivations of
further closed forms used by the claims (entries and cosine of the ETF, the
optimal values, the scalar factorization bound behind the MSE shrinkage, the
first-order condition and collapse edge of the deep head); they end in other
expressions, so they are kept out of the registry and checked by the tests.
"""

from __future__ import annotations

import sympy
from sympy import Derivative, Eq, exp, log, sqrt
from theorylab.theory.neural_collapse import (
    I_K,
    J_K,
    K,
    M,
    N_symbol,
    b_symbol,
    ce_norm_interior,
    ce_norm_statement,
    class_sum,
    deep_linear_imbalanced,
    deep_statement,
    lambda_H,
    lambda_W,
    n,
    n_k,
    reduced_minimizer,
    simplex_etf,
    simplex_statement,
    ufm_ce_minimizer,
    ufm_mse_minimizer,
    x_symbol,
)

from theorylab.derivation import Derivation, Step

__all__ = ["CONSEQUENCES", "etf_gram_from_construction", "etf_is_maximally_equiangular",
           "ce_norm_from_reduced_objective", "mse_shrinkage_from_singular_values",
           "deep_layer_value_from_reduced_objective"]

ALGEBRA = {J_K**2: K * J_K, I_K**2: I_K, I_K * J_K: J_K}
ALGEBRA_REASON = "I^2 = I, I J = J, J^2 = K J (1^T 1 = K)"
G = sympy.Symbol("G")  # a Gram matrix, an element a I + b J of the algebra
c = sympy.Symbol("c", real=True)  # common pairwise cosine
lam = sympy.Symbol("lambda_1", real=True)  # eigenvalue on the all-ones vector
g_off, g_diag, cosine = sympy.symbols("G_ij G_ii cos_ij", real=True)
w = sympy.Symbol("omega", positive=True)  # ||w_k||^2
z = sympy.Symbol("z", positive=True)  # a singular value of W Hbar
layer = sympy.Symbol("s", positive=True)  # a singular value of each layer
F = sympy.Function("F")
R = sympy.Function("R")
T = sympy.Function("T")
factor_w = sympy.Symbol("w", positive=True)  # scalar factorization z = w h
alpha, cs = sympy.symbols("alpha cs", real=True)

# Keeps 0 < K sqrt(n lambda_W lambda_H) < 1 (the nonzero minimizer) at random points.
RANGES = {K: (2, 6), n: (1, 4), lambda_W: (0.001, 0.02), lambda_H: (0.001, 0.02),
          M: (1, 4), x_symbol: (0.3, 3.0), N_symbol: (4, 40), n_k: (1, 20),
          b_symbol: (0.1, 3.0)}

# -- simplex ETF ---------------------------------------------------------------------------

etf_gram_from_construction = Derivation(
    claim=simplex_etf.id,
    title="Gram matrix of M = sqrt(K/(K-1)) U (I - J/K), symbolic K",
    steps=(
        Step.assume(Eq(G, K / (K - 1) * (I_K - J_K / K) * (I_K - J_K / K)),
                    "M^T M = K/(K-1) (I - J/K)^T U^T U (I - J/K) with U^T U = I and "
                    "I - J/K symmetric"),
        Step.equal(Eq(G, K / (K - 1) * (I_K**2 - 2 * I_K * J_K / K + J_K**2 / K**2)),
                   "expand the product (I and J commute)"),
        Step.substitute(Eq(G, K / (K - 1) * (I_K - J_K / K)), ALGEBRA,
                        ALGEBRA_REASON + ": I - J/K is idempotent (a projector)"),
    ),
    ranges=RANGES,
)

etf_is_maximally_equiangular = Derivation(
    claim=simplex_etf.id,
    title="Equiangular unit vectors have cosine >= -1/(K-1); equality is the simplex ETF",
    steps=(
        Step.assume(Eq(G, (1 - c) * I_K + c * J_K),
                    "K unit vectors with common pairwise cosine c: Gram (1 - c) I + c J"),
        Step.substitute(Eq(lam, 1 + (K - 1) * c), {I_K: 1, J_K: K, G: lam},
                        "G 1 = lambda_1 1 with I 1 = 1, J 1 = K 1"),
        Step.substitute(Eq(0, 1 + (K - 1) * c), {lam: 0},
                        "a Gram matrix is PSD, so lambda_1 >= 0; the smallest c has lambda_1 = 0 "
                        "(the other eigenvalue, 1 - c, stays positive)"),
        Step.solve(Eq(c, -1 / (K - 1)), c, "the smallest common cosine"),
        Step.assume(Eq(G, (1 - c) * I_K + c * J_K), "the equiangular Gram matrix again"),
        Step.substitute(Eq(G, K / (K - 1) * (I_K - J_K / K)), {c: -1 / (K - 1)},
                        "at c = -1/(K-1) it is the simplex-ETF Gram matrix"),
    ),
    ranges=RANGES,
)

etf_entries = Derivation(
    claim=simplex_etf.id,
    title="Off-diagonal entry and diagonal of the simplex-ETF Gram matrix",
    steps=(
        Step.assume(Eq(G, simplex_statement), "the Gram matrix (etf_gram_from_construction)"),
        Step.substitute(Eq(g_off, -1 / (K - 1)), {I_K: 0, J_K: 1, G: g_off},
                        "entry (i, j), i != j: I_ij = 0, J_ij = 1"),
    ),
    ranges=RANGES,
)

etf_diagonal = Derivation(
    claim=simplex_etf.id,
    title="The columns of the simplex ETF are unit vectors",
    steps=(
        Step.assume(Eq(G, simplex_statement), "the Gram matrix"),
        Step.substitute(Eq(g_diag, 1), {I_K: 1, J_K: 1, G: g_diag},
                        "entry (i, i): I_ii = J_ii = 1"),
    ),
    ranges=RANGES,
)

etf_cosine = Derivation(
    claim=simplex_etf.id,
    title="Pairwise cosine of the simplex ETF",
    steps=(
        Step.assume(Eq(cosine, g_off / sqrt(g_diag * g_diag)), "cos = G_ij/sqrt(G_ii G_jj)"),
        Step.substitute(Eq(cosine, -1 / (K - 1)), {g_off: -1 / (K - 1), g_diag: 1},
                        "the entries (etf_entries, etf_diagonal)"),
    ),
    ranges=RANGES,
)

etf_spectrum = Derivation(
    claim=simplex_etf.id,
    title="Eigenvalue of the simplex-ETF Gram matrix on 1 (the other K - 1 are K/(K-1))",
    steps=(
        Step.assume(Eq(G, simplex_statement), "the Gram matrix"),
        Step.substitute(Eq(lam, 0), {I_K: 1, J_K: K, G: lam}, "on 1: I -> 1, J -> K"),
    ),
    ranges=RANGES,
)

# -- cross-entropy UFM ------------------------------------------------------------------------

feature_scale = sqrt(lambda_W / (n * lambda_H))
reduced_ce = (log(1 + (K - 1) * exp(-feature_scale * K / (K - 1) * w)) + K * lambda_W * w)

ce_norm_from_reduced_objective = Derivation(
    claim=ufm_ce_minimizer.id,
    title="||w_k||^2 at the global minimizer of the CE UFM",
    steps=(
        Step.assume(Eq(F(w), log(1 + (K - 1) * exp(-alpha * w * (1 - cs)))
                       + lambda_W * K * w / 2 + lambda_H * n * K * alpha**2 * w / 2),
                    "objective on the Thm 3.1 geometry: ||w_k||^2 = omega, h_{k,i} = alpha w_k, "
                    "cos(w_k, w_j) = cs; every example has logit gap alpha omega (1 - cs) to "
                    "each of the K - 1 other classes; ||W||^2 = K omega, ||H||^2 = nK alpha^2 "
                    "omega", cite="Zhu et al. 2021, Thm 3.1"),
        Step.substitute(Eq(F(w), reduced_ce), {alpha: feature_scale, cs: -1 / (K - 1)},
                        "alpha = sqrt(lambda_W/(n lambda_H)), cs = -1/(K-1) (Zhu et al. Thm 3.1)"),
        Step.differentiate(Eq(Derivative(F(w), w), sympy.diff(reduced_ce, w)), w,
                           "phi is convex in omega: its minimum is where phi' = 0"),
        Step.substitute(Eq(0, sympy.diff(reduced_ce, w)), {Derivative(F(w), w): 0},
                        "first-order condition (interior minimum, K sqrt(n lambda_W lambda_H) "
                        "< 1)"),
        Step.solve(Eq(w, ce_norm_interior), w,
                   "x/(1 + x) = (K-1) sqrt(n lambda_W lambda_H) with x = (K-1) exp(-beta omega)"),
        Step.equal(Eq(w, ce_norm_statement),
                   "where K sqrt(n lambda_W lambda_H) < 1; otherwise phi'(0) >= 0 and the convex "
                   "phi is smallest at omega = 0 (numeric check on the nonzero region)"),
    ),
    ranges=RANGES,
)

r = sqrt(n * lambda_W * lambda_H)
ce_optimal_value = Derivation(
    claim=ufm_ce_minimizer.id,
    title="Optimal value of the CE UFM",
    steps=(
        Step.assume(Eq(F(w), reduced_ce), "the reduced objective phi(omega)"),
        Step.substitute(Eq(F(ce_norm_interior), -log(1 - (K - 1) * r)
                           + (K - 1) * r * log(1 / r - K + 1)),
                        {w: ce_norm_interior}, "at the minimizer ce_norm_from_reduced_objective"),
    ),
    ranges=RANGES,
)

# -- MSE UFM ----------------------------------------------------------------------------------

scalar_factorization = Derivation(
    claim=ufm_mse_minimizer.id,
    title="min over z = w h of lambda_W w^2/2 + n lambda_H h^2/2 is sqrt(n lambda_W lambda_H) z",
    steps=(
        Step.assume(Eq(R(factor_w), lambda_W * factor_w**2 / 2
                       + n * lambda_H * (z / factor_w) ** 2 / 2),
                    "one singular value z of W Hbar split as w h (Hbar's decay carries n: n "
                    "examples per class mean)"),
        Step.differentiate(Eq(Derivative(R(factor_w), factor_w),
                              lambda_W * factor_w - n * lambda_H * z**2 / factor_w**3),
                           factor_w, "its derivative"),
        Step.substitute(Eq(0, lambda_W * factor_w - n * lambda_H * z**2 / factor_w**3),
                        {Derivative(R(factor_w), factor_w): 0}, "first-order condition"),
        Step.solve(Eq(factor_w, (n * lambda_H / lambda_W) ** sympy.Rational(1, 4) * sqrt(z)),
                   factor_w, "balanced split: w^2 = z sqrt(n lambda_H/lambda_W)"),
        Step.assume(Eq(R(factor_w), lambda_W * factor_w**2 / 2
                       + n * lambda_H * (z / factor_w) ** 2 / 2), "the split cost again"),
        Step.substitute(Eq(R((n * lambda_H / lambda_W) ** sympy.Rational(1, 4) * sqrt(z)),
                           sqrt(n * lambda_W * lambda_H) * z),
                        {factor_w: (n * lambda_H / lambda_W) ** sympy.Rational(1, 4) * sqrt(z)},
                        "at the balanced split (AM-GM): the nuclear-norm weight"),
    ),
    ranges=RANGES,
)

mse_shrinkage_from_singular_values = Derivation(
    claim=ufm_mse_minimizer.id,
    title="c = (1 - K sqrt(n lambda_W lambda_H))_+ from one singular value of W Hbar",
    steps=(
        Step.assume(Eq(F(z), (1 - z) ** 2 / (2 * K) + sqrt(n * lambda_W * lambda_H) * z),
                    "per singular value (target 1, weight n/(2N) = 1/(2K) per class mean) with "
                    "the factorization cost of scalar_factorization; the same with a free bias, "
                    "on the K - 1 unit singular values of I - J/K",
                    cite="Zhou et al. 2022, Thm 3.1 (reduction to the singular values)"),
        Step.differentiate(Eq(Derivative(F(z), z), -(1 - z) / K + sqrt(n * lambda_W * lambda_H)),
                           z, "its derivative"),
        Step.substitute(Eq(0, -(1 - z) / K + sqrt(n * lambda_W * lambda_H)),
                        {Derivative(F(z), z): 0}, "first-order condition (convex in z >= 0)"),
        Step.solve(Eq(z, 1 - K * sqrt(n * lambda_W * lambda_H)), z, "the interior minimizer"),
        Step.equal(Eq(z, ufm_mse_minimizer.statement),
                   "where K sqrt(n lambda_W lambda_H) < 1; otherwise F' > 0 on z > 0 and z = 0 "
                   "(numeric check on that region)"),
    ),
    ranges=RANGES,
)

mse_optimal_value = Derivation(
    claim=ufm_mse_minimizer.id,
    title="Optimal value of the bias-free MSE UFM: K F(c)",
    steps=(
        Step.assume(Eq(F(z), K * ((1 - z) ** 2 / (2 * K) + r * z)),
                    "K equal singular values z (bias-free)"),
        Step.substitute(Eq(F(1 - K * r), K * r - K**2 * r**2 / 2), {z: 1 - K * r},
                        "at z = c = 1 - K sqrt(n lambda_W lambda_H)"),
    ),
    ranges=RANGES,
)

# -- deep linear head, imbalanced ---------------------------------------------------------------

b_value = M * N_symbol * (N_symbol * lambda_W**M * lambda_H) ** (1 / M)
deep_b = b_value.subs(N_symbol, class_sum(n_k))
reduced_deep = (n_k / (x_symbol**M + 1) + b_value * x_symbol) / (2 * N_symbol)

deep_layer_value_from_reduced_objective = Derivation(
    claim=deep_linear_imbalanced.id,
    title="The per-class problem in x = (s^(2M)/(N lambda_H))^(1/M), and s_k from x_k",
    steps=(
        Step.assume(Eq(F(layer), n_k * lambda_H / (2 * (layer ** (2 * M) + N_symbol * lambda_H))
                       + M * lambda_W * layer**2 / 2),
                    "class k with every layer's singular value s: the product has s^M; the "
                    "optimal class mean h = (W^T W + N lambda_H)^-1 W^T e_k leaves fit + feature "
                    "decay n_k lambda_H/(2(s^(2M) + N lambda_H)); the M layers cost M lambda_W "
                    "s^2/2", cite="Dang et al. 2023, imbalanced deep linear MSE theorem"),
        Step.substitute(Eq(F((N_symbol * lambda_H * x_symbol**M) ** (1 / (2 * M))), reduced_deep),
                        {layer: (N_symbol * lambda_H * x_symbol**M) ** (1 / (2 * M))},
                        "s^(2M) = N lambda_H x^M: g(x)/(2N) with b = M N (N lambda_W^M "
                        "lambda_H)^(1/M)"),
        Step.assume(Eq(layer ** (2 * M), N_symbol * lambda_H * x_symbol**M),
                    "at the minimizing x_k (deep_first_order_condition, collapse edge)"),
        Step.solve(Eq(layer, deep_statement), layer, "s_k > 0"),
        Step.substitute(Eq(layer, deep_linear_imbalanced.statement),
                        {N_symbol: class_sum(n_k),
                         x_symbol: reduced_minimizer(n_k, deep_b, M)},
                        "N = sum_k n_k, and x_k the minimizer of g_k over x >= 0 "
                        "(deep_first_order_condition, deep_collapse_edge)"),
    ),
    ranges=RANGES,
)

deep_first_order_condition = Derivation(
    claim=deep_linear_imbalanced.id,
    title="Stationary points of g(x) = n_k/(x^M + 1) + b x",
    steps=(
        Step.assume(Eq(F(x_symbol), n_k / (x_symbol**M + 1) + b_symbol * x_symbol),
                    "the per-class objective times 2N"),
        Step.differentiate(Eq(Derivative(F(x_symbol), x_symbol),
                              -n_k * M * x_symbol ** (M - 1) / (x_symbol**M + 1) ** 2 + b_symbol),
                           x_symbol, "its derivative"),
        Step.substitute(Eq(0, -n_k * M * x_symbol ** (M - 1) / (x_symbol**M + 1) ** 2 + b_symbol),
                        {Derivative(F(x_symbol), x_symbol): 0},
                        "an interior minimum is stationary: M x^(M-1)/(x^M+1)^2 = b/n_k"),
    ),
    ranges=RANGES,
)

deep_collapse_edge = Derivation(
    claim=deep_linear_imbalanced.id,
    title="Collapse edge: g(x) >= g(0) for all x iff n_k/b <= min_x (x^M + 1)/x^(M-1)",
    steps=(
        Step.assume(Eq(T(x_symbol), (x_symbol**M + 1) / x_symbol ** (M - 1)),
                    "n_k(1 - 1/(x^M+1)) <= b x for all x > 0 iff n_k/b <= T(x) for all x"),
        Step.differentiate(Eq(Derivative(T(x_symbol), x_symbol),
                              1 - (M - 1) / x_symbol**M), x_symbol, "T(x) = x + x^(1-M)"),
        Step.substitute(Eq(0, 1 - (M - 1) / x_symbol**M), {Derivative(T(x_symbol), x_symbol): 0},
                        "its minimum over x > 0 (M >= 2)"),
        Step.solve(Eq(x_symbol, (M - 1) ** (1 / M)), x_symbol, "x^M = M - 1"),
        Step.assume(Eq(T(x_symbol), (x_symbol**M + 1) / x_symbol ** (M - 1)), "T again"),
        Step.substitute(Eq(T((M - 1) ** (1 / M)), M * (M - 1) ** (1 / M - 1)),
                        {x_symbol: (M - 1) ** (1 / M)},
                        "t_M = min T = M (M-1)^(1/M - 1): class k collapses iff n_k <= b t_M"),
    ),
    ranges={**RANGES, M: (2, 6)},
)

#: Derivations of further closed forms; they end in other expressions than a claim's
#: statement, so they are not registered (the tests check them).
CONSEQUENCES = (etf_entries, etf_diagonal, etf_cosine, etf_spectrum, ce_optimal_value,
                scalar_factorization, mse_optimal_value, deep_first_order_condition,
                deep_collapse_edge)
del etf_entries, etf_diagonal, etf_cosine, etf_spectrum, ce_optimal_value
del scalar_factorization, mse_optimal_value, deep_first_order_condition, deep_collapse_edge
