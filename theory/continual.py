r"""Continual learning in linear models: exact expected forgetting and generalization.

Conventions of the Lin et al. claims (Lin, Ju, Liang & Shroff 2023, arXiv:2302.05836):

- Task ``t`` has features ``X_t`` in ``R^{p x n}`` with i.i.d. ``N(0, 1)`` entries and
  labels ``y_t = X_t^T w_t^* + z_t``, ``z_t ~ N(0, sigma^2 I_n)``, independent across tasks.
- Training starts at ``w_0 = 0``. Overparameterized (``p >= n + 2``): each task is fitted
  by the minimum-norm change ``w_t = argmin ||w - w_{t-1}||`` s.t. ``X_t^T w = y_t``, the
  point gradient descent started at ``w_{t-1}`` converges to. Underparameterized
  (``p <= n - 2``): ``X_t^T w = y_t`` has no solution and gradient descent converges to
  the least-squares solution, whatever ``w_{t-1}`` was.
- Model error ``L_i(w) = ||w - w_i^*||^2`` (the test error of task ``i`` minus ``sigma^2``).
  Forgetting ``F_T = 1/(T-1) sum_{i<T} [L_i(w_T) - L_i(w_i)]``; generalization error
  ``G_T = 1/T sum_{i<=T} L_i(w_T)``. ``r = 1 - n/p``.
- The expectations are over features and noise at fixed ground truths, exact at finite
  ``p`` and ``n``; they depend on ``w_1^*, ..., w_T^*`` only through their Gram matrix
  ``gram[i, j] = <w_i^*, w_j^*>``, which is the claims' parameter.

Conventions of the Evron et al. claims (Evron, Moroshko, Ward, Srebro & Soudry 2022,
arXiv:2205.09588): realizable tasks ``X_m w = y_m`` with a common solution ``w^*``;
each visit fits its task to convergence from the previous weights (an orthogonal
projection onto the task's solution set), starting at ``w_0 = 0``; after ``k``
iterations of the ordering ``tau`` the forgetting is
``F(k) = 1/k sum_{t=1}^{k} ||X_{tau(t)} w_k - y_{tau(t)}||^2``: the average over visits,
each task counted once per visit.
"""

from __future__ import annotations

import math

import sympy
from hypothesis import strategies as st

from theorylab.claim import Citation, Claim, Constraint, Decoy, Parameter, SystematicError
from theorylab.domains import Integer, Matrix, Real
from theorylab.linear_regression import (
    ComponentVector,
    ExpectedModelError,
    GramMatrix,
    SquaredDistance,
    SquaredNorm,
    TaskTable,
    average_forgetting,
    average_generalization,
    gram_rank,
    model_error_scale,
    sequential_regressions,
    squared_distance_value,
    squared_norm_value,
    task_collections,
)

__all__ = ["expected_model_error", "expected_forgetting", "expected_generalization",
           "expected_model_error_underparameterized", "expected_forgetting_underparameterized",
           "expected_generalization_underparameterized", "two_task_forgetting",
           "cyclic_forgetting_bound",
           # the notation, defined in theorylab.linear_regression, as users met it here
           "SquaredDistance", "SquaredNorm", "TaskTable", "squared_distance_value",
           "squared_norm_value"]

LIN = Citation(
    authors=("Sen Lin", "Peizhong Ju", "Yingbin Liang", "Ness Shroff"),
    year=2023,
    title="Theory on Forgetting and Generalization of Continual Learning",
    where="Theorem 1 (overparameterized, p >= n + 2; theorem number unchecked: only the "
          "abstract could be read)",
    arxiv="2302.05836",
    venue="ICML",
)
LIN_MODEL_ERROR = Citation(**{**LIN.__dict__, "where": "proof of Theorem 1 (overparameterized): "
                                 "the per-task model error E||w_t - w_i^*||^2 behind E[F_T], "
                                 "E[G_T] (unchecked: only the abstract could be read)"})
LIN_UNDER = Citation(**{**LIN.__dict__, "where": "Theorem 2 (underparameterized, p <= n - 2; "
                                                 "theorem number unchecked: only the abstract "
                                                 "could be read)"})
EVRON = Citation(
    authors=("Itay Evron", "Edward Moroshko", "Rachel Ward", "Nathan Srebro", "Daniel Soudry"),
    year=2022,
    title="How catastrophic can catastrophic forgetting be in linear regression?",
    where="two tasks in cyclic ordering, rank-one tasks in R^2 at angle theta (section and "
          "theorem numbers unchecked: only the abstract could be read)",
    arxiv="2205.09588",
    venue="COLT",
)
EVRON_CYCLIC = Citation(**{**EVRON.__dict__,
                           "where": "abstract: cyclic-ordering upper bound T^2 min(1/sqrt(k), "
                                    "d/k) (theorem number in the body unchecked)"})

MONTE_CARLO = SystematicError(
    variable="none",
    order=1,
    description="The expectations are exact at finite p and n: no finite-size bias to "
    "extrapolate; only Monte Carlo error over independent feature and noise draws.",
)
DETERMINISTIC = SystematicError(
    variable="none",
    order=1,
    description="Exact projections in float64: no bias but rounding, bounded by the "
    "simulation (the ensemble only rotates the whole configuration).",
)

COMMON = (
    "Features X_t in R^{p x n} with i.i.d. N(0, 1) entries; labels y_t = X_t^T w_t^* + z_t "
    "with z_t ~ N(0, sigma^2 I_n), independent across tasks.",
    "Training starts at w_0 = 0 and visits tasks 1, ..., T once each.",
    "Model error L_i(w) = ||w - w_i^*||^2 (it excludes sigma^2); r = 1 - n/p.",
    "gram[i, j] = <w_i^*, w_j^*> (1-based tasks); ||w_k^* - w_i^*||^2 = G_kk + G_ii - 2 G_ki.",
)
OVER = COMMON + (
    "Overparameterized, p >= n + 2: w_t is the minimum-norm change from w_{t-1} with "
    "X_t^T w_t = y_t (the limit of gradient descent started at w_{t-1}).",
)
UNDER = COMMON + (
    "Underparameterized, p <= n - 2: w_t is the least-squares fit of task t (the limit of "
    "gradient descent from any start, so w_{t-1} is forgotten).",
)

# -- parameters ------------------------------------------------------------------------

p_parameter = Parameter("p", Integer(1, 10_000), "number of features (model dimension); at most "
                        "10^4: the simulation draws p x n Gaussian features per task and member")
n_parameter = Parameter("n", Integer(1, 10_000), "number of samples per task; at most 10^4: the "
                        "simulation draws p x n Gaussian features per task and member")
tasks_parameter = Parameter("T", Integer(1, 100), "number of tasks, visited once each in order; "
                            "at most 100: the closed forms sum over T^3 task triples")
tasks_two_or_more = Parameter("T", Integer(2, 100), "number of tasks (forgetting needs T >= 2); "
                              "at most 100: the closed forms sum over T^3 task triples")
sigma_parameter = Parameter("sigma", Real(0, math.inf, lower_open=False),
                            "standard deviation of the label noise", latex="sigma")
gram_parameter = Parameter("gram", GramMatrix(ndim=2),
                           "Gram matrix of the ground truths w_1^*, ..., w_T^*", latex="G")
p, n, T, sigma = (prm.symbol for prm in (p_parameter, n_parameter, tasks_parameter,
                                         sigma_parameter))
T2 = tasks_two_or_more.symbol
G = gram_parameter.symbol
LIN_PARAMETERS = (p_parameter, n_parameter, tasks_parameter, sigma_parameter, gram_parameter)
LIN_PARAMETERS_FORGETTING = (p_parameter, n_parameter, tasks_two_or_more, sigma_parameter,
                             gram_parameter)

GRAM_SHAPE = Constraint("gram is T x T", lambda v: v["gram"].shape == (v["T"], v["T"]),
                        ("gram", "T"))
GRAM_RANK = Constraint("the ground truths fit in R^p: rank(gram) <= p",
                       lambda v: gram_rank(v["gram"]) <= v["p"], ("gram", "p"))
OVERPARAMETERIZED = Constraint(
    "p >= n + 2 (overparameterized; at p = n + 1, n, n - 1 the noise term diverges)",
    lambda v: v["p"] >= v["n"] + 2, ("p", "n"))
UNDERPARAMETERIZED = Constraint(
    "p <= n - 2 (underparameterized; at p = n - 1, n, n + 1 the noise term diverges)",
    lambda v: v["p"] <= v["n"] - 2, ("p", "n"))
OVER_CONSTRAINTS = (GRAM_SHAPE, OVERPARAMETERIZED, GRAM_RANK)
UNDER_CONSTRAINTS = (GRAM_SHAPE, UNDERPARAMETERIZED, GRAM_RANK)

# -- the model error, overparameterized (Theorem 1) ------------------------------------------

t = sympy.Symbol("t", integer=True, positive=True)  # after task t
i = sympy.Symbol("i", integer=True, positive=True)  # ground truth of task i
k = sympy.Symbol("k", integer=True, positive=True)  # a task visited before t
rate, mixing, noise = sympy.symbols("r mixing noise")  # bound by model_error_with below
r = 1 - n / p
noise_over = p * sigma**2 / (p - n - 1)
noise_under = p * sigma**2 / (n - p - 1)

# E||w_t - w_i^*||^2 in terms of the contraction rate, the weight of the task distances and
# the noise level. Theorem 1 has them r = 1 - n/p, 1 - r and p sigma^2/(p - n - 1); each
# decoy in OVER_DECOYS gets one of them wrong.
model_error_with = sympy.Lambda(
    (t, i, rate, mixing, noise),
    rate**t * SquaredNorm(G, i)
    + mixing * sympy.Sum(rate ** (t - k) * SquaredDistance(G, k, i), (k, 1, t))
    + noise * (1 - rate**t))
model_error_over = sympy.Lambda((t, i), model_error_with(t, i, r, 1 - r, noise_over))
OVER_DECOYS = (  # (name, what is wrong, the wrong model error)
    ("r_is_n_over_p", "r = n/p instead of 1 - n/p",
     sympy.Lambda((t, i), model_error_with(t, i, n / p, 1 - n / p, noise_over))),
    ("noise_p_minus_n", "noise term p sigma^2/(p - n) instead of p sigma^2/(p - n - 1)",
     sympy.Lambda((t, i), model_error_with(t, i, r, 1 - r, p * sigma**2 / (p - n)))),
    ("missing_one_minus_r", "the factor (1 - r) in front of the task-distance sum dropped",
     sympy.Lambda((t, i), model_error_with(t, i, r, 1, noise_over))),
)
model_error_symbol = TaskTable(ExpectedModelError(t, i), t, i, T)

expected_model_error = Claim(
    id="continual.expected_model_error",
    title="Expected model error of sequential minimum-norm fitting (overparameterized)",
    citation=LIN_MODEL_ERROR,
    parameters=LIN_PARAMETERS,
    quantity=model_error_symbol,
    statement=TaskTable(model_error_over(t, i), t, i, T),
    conventions=OVER + (
        "The quantity is the T x T matrix of E||w_t - w_i^*||^2, row t = 1..T (after task t), "
        "column i = 1..T (ground truth of task i).",
    ),
    simulation="theorylab.numerics.continual:model_errors",
    systematic_error=MONTE_CARLO,
    constraints=OVER_CONSTRAINTS,
    # Noise up to the largest ground-truth norm (2): noise_p_minus_n moves the noise term by
    # 1/(p - n) of itself, resolvable only where it dominates (seeds 48, 84, 92, 171 at 1).
    sample=lambda: sequential_regressions(overparameterized=True, max_noise=2.0),
    decoys=tuple(Decoy(name, text, statement=TaskTable(wrong(t, i), t, i, T))
                 for name, text, wrong in OVER_DECOYS),
    ensemble=2000,
    budget=8,
    resolution=0.05,
)

expected_forgetting = Claim(
    id="continual.expected_forgetting",
    title="Expected forgetting of sequential minimum-norm fitting (overparameterized)",
    citation=LIN,
    parameters=LIN_PARAMETERS_FORGETTING,
    quantity=sympy.Symbol(r"\mathbb{E}[F_T]"),
    statement=average_forgetting(model_error_over, T2),
    conventions=OVER + ("F_T = 1/(T-1) sum_{i<T} [L_i(w_T) - L_i(w_i)]; negative when later "
                        "tasks resemble earlier ones (backward transfer).",),
    simulation="theorylab.numerics.continual:forgetting",
    systematic_error=MONTE_CARLO,
    constraints=OVER_CONSTRAINTS,
    uses=("continual.expected_model_error",),
    # Forgetting changes sign with task similarity; a relative resolution needs it away
    # from zero (the sign change itself is tested at chosen points).
    sample=lambda: sequential_regressions(overparameterized=True, min_tasks=2).filter(
        lambda v: abs(expected_forgetting.evaluate_statement(v)) >= 0.25 * model_error_scale(v)),
    decoys=(
        *(Decoy(name, text, statement=average_forgetting(wrong, T2))
          for name, text, wrong in (OVER_DECOYS[0], OVER_DECOYS[2])),
        Decoy("divide_by_T", "averaged with 1/T instead of 1/(T - 1)",
              statement=average_forgetting(model_error_over, T2) * (T2 - 1) / T2),
    ),
    ensemble=4000,
    budget=8,
    resolution=0.05,
)

expected_generalization = Claim(
    id="continual.expected_generalization",
    title="Expected generalization error after T tasks (overparameterized)",
    citation=LIN,
    parameters=LIN_PARAMETERS,
    quantity=sympy.Symbol(r"\mathbb{E}[G_T]"),
    statement=average_generalization(model_error_over, T),
    conventions=OVER + ("G_T = 1/T sum_{i<=T} L_i(w_T).",),
    simulation="theorylab.numerics.continual:generalization",
    systematic_error=MONTE_CARLO,
    constraints=OVER_CONSTRAINTS,
    uses=("continual.expected_model_error",),
    sample=lambda: sequential_regressions(overparameterized=True, max_noise=2.0),  # as above
    decoys=tuple(Decoy(name, text, statement=average_generalization(wrong, T))
                 for name, text, wrong in OVER_DECOYS),
    ensemble=2000,
    budget=8,
    resolution=0.05,
)

# -- underparameterized (Theorem 2) ----------------------------------------------------------

model_error_under = sympy.Lambda((t, i), SquaredDistance(G, t, i) + noise_under)
UNDER_NOISE_DECOYS = (
    Decoy("noise_n_minus_p", "noise p sigma^2/(n - p) instead of p sigma^2/(n - p - 1)",
          substitute={n - p - 1: n - p}),
    Decoy("noise_n_over", "noise n sigma^2/(n - p - 1): p and n swapped in the numerator",
          substitute={p * sigma**2: n * sigma**2}),
)

expected_model_error_underparameterized = Claim(
    id="continual.expected_model_error_underparameterized",
    title="Expected model error of sequential least-squares fitting (underparameterized)",
    citation=LIN_UNDER,
    parameters=LIN_PARAMETERS,
    quantity=model_error_symbol,
    statement=TaskTable(model_error_under(t, i), t, i, T),
    conventions=UNDER + ("The quantity is the T x T matrix of E||w_t - w_i^*||^2, row t, "
                         "column i.",),
    simulation="theorylab.numerics.continual:model_errors",
    systematic_error=MONTE_CARLO,
    constraints=UNDER_CONSTRAINTS,
    sample=lambda: sequential_regressions(overparameterized=False),
    decoys=(*UNDER_NOISE_DECOYS,
            Decoy("missing_noise", "the noise term dropped", substitute={sigma: 0})),
    ensemble=2000,
    budget=8,
    resolution=0.05,
)

expected_forgetting_underparameterized = Claim(
    id="continual.expected_forgetting_underparameterized",
    title="Expected forgetting of sequential least-squares fitting (underparameterized)",
    citation=LIN_UNDER,
    parameters=LIN_PARAMETERS_FORGETTING,
    quantity=sympy.Symbol(r"\mathbb{E}[F_T]"),
    statement=sympy.Sum(SquaredDistance(G, T2, i), (i, 1, T2 - 1)) / (T2 - 1),
    conventions=UNDER + ("F_T = 1/(T-1) sum_{i<T} [L_i(w_T) - L_i(w_i)]; the noise terms "
                         "cancel.",),
    simulation="theorylab.numerics.continual:forgetting",
    systematic_error=MONTE_CARLO,
    constraints=UNDER_CONSTRAINTS,
    uses=("continual.expected_model_error_underparameterized",),
    sample=lambda: sequential_regressions(overparameterized=False, min_tasks=2).filter(
        lambda v: abs(expected_forgetting_underparameterized.evaluate_statement(v))
        >= 0.25 * model_error_scale(v)),
    decoys=(
        Decoy("noise_not_cancelled", "the noise term p sigma^2/(n - p - 1) kept",
              statement=sympy.Sum(SquaredDistance(G, T2, i), (i, 1, T2 - 1)) / (T2 - 1)
              + noise_under),
        Decoy("divide_by_T", "averaged with 1/T instead of 1/(T - 1)",
              statement=sympy.Sum(SquaredDistance(G, T2, i), (i, 1, T2 - 1)) / T2),
    ),
    ensemble=2000,
    budget=8,
    resolution=0.05,
)

expected_generalization_underparameterized = Claim(
    id="continual.expected_generalization_underparameterized",
    title="Expected generalization error after T tasks (underparameterized)",
    citation=LIN_UNDER,
    parameters=LIN_PARAMETERS,
    quantity=sympy.Symbol(r"\mathbb{E}[G_T]"),
    statement=sympy.Sum(SquaredDistance(G, T, i), (i, 1, T)) / T + noise_under,
    conventions=UNDER + ("G_T = 1/T sum_{i<=T} L_i(w_T).",),
    simulation="theorylab.numerics.continual:generalization",
    systematic_error=MONTE_CARLO,
    constraints=UNDER_CONSTRAINTS,
    uses=("continual.expected_model_error_underparameterized",),
    sample=lambda: sequential_regressions(overparameterized=False),
    decoys=(*UNDER_NOISE_DECOYS,
            Decoy("divide_by_T_minus_1", "averaged with 1/(T - 1) instead of 1/T",
                  statement=sympy.Sum(model_error_under(T, i), (i, 1, T)) / (T - 1))),
    ensemble=2000,
    budget=8,
    resolution=0.05,
)

# -- two tasks at angle theta (Evron et al.) ---------------------------------------------------

theta_parameter = Parameter("theta", Real(0, math.pi / 2, upper_open=False, sample_lower=0.05,
                                          sample_upper=1.0),
                            "angle between the two tasks' normals (and solution lines)",
                            latex="theta")
visits_parameter = Parameter("k", Integer(1, 10_000), "iterations (task visits) 1, 2, 1, 2, ...; "
                             "at most 10^4: the simulation projects k times at each of ~50 "
                             "angles of its search for the supremum")
along_parameter = Parameter("w_along", Real(sample_lower=-2.0, sample_upper=2.0),
                            "component of w^* along task 1's solution line (orthogonal to its "
                            "normal x_1)", latex=r"w^*_{\parallel}")
normal_parameter = Parameter("w_normal", Real(sample_lower=-2.0, sample_upper=2.0),
                             "component of w^* along task 1's unit normal x_1",
                             latex=r"w^*_{\perp}")
theta, visits, along = theta_parameter.symbol, visits_parameter.symbol, along_parameter.symbol
normal = normal_parameter.symbol
visit_share = sympy.floor(visits / 2) / visits  # visits of the task not visited last, per visit

two_task_forgetting = Claim(
    id="continual.two_task_forgetting",
    title="Forgetting of two rank-one tasks at angle theta in cyclic order, and its supremum",
    citation=EVRON,
    parameters=(theta_parameter, visits_parameter, along_parameter, normal_parameter),
    quantity=sympy.ImmutableMatrix([sympy.Symbol("F(k)"), sympy.Symbol(r"\sup_{\theta} F(k)")]),
    statement=ComponentVector([
        visit_share * sympy.sin(theta) ** 2 * sympy.cos(theta) ** (2 * (visits - 1)) * along**2,
        visit_share * (1 - 1 / visits) ** (visits - 1) / visits * along**2,
    ]),
    conventions=(
        "Two tasks in R^2, x_1^T w = y_1 and x_2^T w = y_2 with unit normals at angle theta, "
        "realizable by w^* = w_normal x_1 + w_along v_1 (v_1 spans task 1's solution line).",
        "Visits 1, 2, 1, 2, ...; each fits its task to convergence from the previous weights "
        "(an orthogonal projection), from w_0 = 0.",
        "F(k) = 1/k sum_{t<=k} (x_{tau(t)}^T w_k - y_{tau(t)})^2 counts a task once per visit: "
        "the task not visited last was visited floor(k/2) times, hence floor(k/2)/k, which is "
        "1/2 for even k.",
        "The second component is sup over theta in (0, pi/2] at fixed k and w_along, attained "
        "at cos^2 theta = 1 - 1/k; it is at most 1/(2e(k-1)) w_along^2.",
    ),
    simulation="theorylab.numerics.continual:two_task_forgetting",
    systematic_error=DETERMINISTIC,
    # k = 1 forgets nothing (F = 0 at every angle): searched from k = 2.
    sample=lambda: st.fixed_dictionaries({
        "theta": theta_parameter.strategy(), "k": st.integers(2, 16),
        "w_along": along_parameter.strategy(), "w_normal": normal_parameter.strategy()}),
    components=("forgetting", "supremum_over_theta"),
    decoys=(
        Decoy("half_for_every_k", "1/2 in place of floor(k/2)/k (ignores visit multiplicity "
              "at odd k)", substitute={sympy.floor(visits / 2): visits / 2}),
        Decoy("normal_component", "<w^*, x_1>^2 (the component along task 1's normal, which the "
              "first visit fits exactly) in place of the component along its solution line",
              substitute={along: normal}),
        Decoy("exponent_k", "cos^(2k) theta in place of cos^(2(k-1)) theta", statement=(
            ComponentVector([
                visit_share * sympy.sin(theta) ** 2 * sympy.cos(theta) ** (2 * visits) * along**2,
                # its supremum: c^k (1 - c) peaks at c = k/(k + 1)
                visit_share * (visits / (visits + 1)) ** visits / (visits + 1) * along**2]))),
    ),
    ensemble=4,
    budget=16,
    resolution=1e-4,
)

# -- cyclic forgetting bound (Evron et al.) ---------------------------------------------------

cyclic_tasks_parameter = Parameter("T", Integer(2, 1000), "number of tasks, visited cyclically; "
                                   "at most 1000 (each is pseudo-inverted)")
dimension_parameter = Parameter("d", Integer(1, 1000), "dimension of the weights; at most 1000 "
                                "(each member draws a Haar rotation of R^d)")
iterations_parameter = Parameter("k", Integer(1, 100_000), "iterations (task visits); at most "
                                 "10^5: the simulation projects k times, one after another")
collection_parameter = Parameter(
    "tasks", Matrix(ndim=3), "the data matrices X_1..X_T stacked, shape T x rows x d "
    "(zero rows lower a task's rank)", latex="X")
solution_parameter = Parameter("w_star", Matrix(ndim=1), "a common solution w^*, length d "
                               "(y_m = X_m w^*)", latex="w^*")
cycle_T, cycle_d, cycle_k = (prm.symbol for prm in (cyclic_tasks_parameter,
                                                    dimension_parameter, iterations_parameter))

COLLECTION_SHAPE = Constraint("tasks has shape T x rows x d",
                              lambda v: v["tasks"].shape[0] == v["T"]
                              and v["tasks"].shape[2] == v["d"], ("tasks", "T", "d"))
SOLUTION_SHAPE = Constraint("w_star has length d", lambda v: v["w_star"].shape == (v["d"],),
                            ("w_star", "d"))

cyclic_forgetting_bound = Claim(
    id="continual.cyclic_forgetting_bound",
    title="Upper bound on forgetting for T tasks in cyclic order",
    citation=EVRON_CYCLIC,
    parameters=(cyclic_tasks_parameter, dimension_parameter, iterations_parameter,
                collection_parameter, solution_parameter),
    quantity=sympy.Symbol("F(k)"),
    statement=cycle_T**2 * sympy.Min(1 / sympy.sqrt(cycle_k), cycle_d / cycle_k),
    relation="<=",
    conventions=(
        "Tasks X_m w = y_m (m = 1..T) with y_m = X_m w^*, visited cyclically "
        "tau(t) = ((t - 1) mod T) + 1 for k iterations, each fitted to convergence from the "
        "previous weights (a projection), from w_0 = 0.",
        "F(k) = 1/k sum_{t<=k} ||X_{tau(t)} w_k - y_{tau(t)}||^2 (once per visit).",
        "Normalized as in the paper: the data are rescaled so that max_m ||X_m||_2 = 1 and "
        "w^* is replaced by the minimum-norm common solution, rescaled to norm 1; for raw "
        "data the bound reads R^2 ||w^*||^2 T^2 min(1/sqrt(k), d/k).",
        "An inequality: the check passes where the measured forgetting does not exceed the "
        "bound beyond rounding, and hypothesis searches task collections for a violation.",
    ),
    simulation="theorylab.numerics.continual:cyclic_forgetting",
    systematic_error=DETERMINISTIC,
    constraints=(COLLECTION_SHAPE, SOLUTION_SHAPE),
    sample=task_collections,
    decoys=(
        Decoy("exponential_rate", "T^2 exp(-k/d): a linear convergence rate, as for the "
              "distance to the offline solution under a spectral gap",
              cycle_T**2 * sympy.exp(-cycle_k / cycle_d)),
        Decoy("kaczmarz_rate", "T^2 (1 - 1/d)^k: a randomized-Kaczmarz contraction per "
              "iteration taken as the forgetting rate", cycle_T**2 * (1 - 1 / cycle_d) ** cycle_k),
    ),
    ensemble=2,
    budget=24,
    resolution=1e-4,
)
