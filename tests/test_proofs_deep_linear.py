"""The deep-linear derivations check, and broken ones are caught."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import sympy
from scipy.integrate import solve_ivp
from theorylab.proofs import deep_linear as proofs
from theorylab.theory import deep_linear as theory

from theorylab import registry
from theorylab.derivation import Derivation, DerivationResult, Step, StepStatus, check_derivation

FAMILY = "deep_linear"

# Derivations per claim (the Arora et al. matrix claims are checked numerically below).
EXPECTED_COUNTS = {
    "deep_linear.saxe_mode_strength": 1,
    "deep_linear.saxe_learning_time": 2,
    "deep_linear.unequal_layer_time": 1,
    "deep_linear.deep_mode_dynamics": 1,
    "deep_linear.end_to_end_dynamics": 1,
    "deep_linear.singular_value_dynamics": 1,
    "deep_linear.zero_balanced_dynamics": 1,
    "deep_linear.critical_period": 1,
    "deep_linear.deep_learning_time_asymptotic": 1,
}

# The only steps allowed to rest on numeric evidence (sympy cannot decide them):
# (a^2 + b^2) = sqrt((a^2 - b^2)^2 + 4a^2b^2), artanh -> log, and splitting the log.
ALLOWED_NUMERIC = {
    ("deep_linear.unequal_layer_time", proofs.unequal_time_from_layers.title): {6, 11, 13},
}


_RESULTS: dict[int, DerivationResult] = {}


def _check(derivation: Derivation) -> DerivationResult:
    """Check against the claim's statement, once per derivation (steps are unhashable)."""
    if id(derivation) not in _RESULTS:
        _RESULTS[id(derivation)] = check_derivation(derivation,
                                                    registry.get(derivation.claim).statement)
    return _RESULTS[id(derivation)]


def _table(result: DerivationResult) -> str:
    lines = [f"{result.claim}: {result.title} -> {result.status.value}"]
    for step in result.steps:
        lines.append(f"  {step.index:2d} {step.relation:13s} {step.status.value:17s} {step.reason}")
    lines.append(f"  conclusion: {result.conclusion.value} ({result.conclusion_detail})")
    return "\n".join(lines)


def _broken(derivation: Derivation, index: int, factor: int = 2) -> Derivation:
    """The derivation with step ``index``'s right side (or expression) times ``factor``."""
    step = derivation.steps[index]
    expression = step.expression
    if isinstance(expression, sympy.Equality):
        wrong = sympy.Eq(expression.lhs, factor * expression.rhs)
    else:
        wrong = factor * expression
    steps = list(derivation.steps)
    steps[index] = dataclasses.replace(step, expression=wrong)
    return dataclasses.replace(derivation, steps=tuple(steps))


# -- the registered derivations ---------------------------------------------------


def test_registry_collects_the_derivations():
    assert {c.id for c in registry.claims(FAMILY)} == set(EXPECTED_COUNTS)
    for claim_id, count in EXPECTED_COUNTS.items():
        found = registry.derivations(claim_id)
        assert len(found) == count, claim_id
        assert all(d.claim == claim_id for d in found)
    registered = {id(d) for claim_id in EXPECTED_COUNTS for d in registry.derivations(claim_id)}
    assert not any(id(d) in registered for d in proofs.REDUCTIONS)


@pytest.mark.parametrize("claim_id", [c for c, n in EXPECTED_COUNTS.items() if n])
def test_derivations_check(claim_id):
    for derivation in registry.derivations(claim_id):
        result = _check(derivation)
        print(_table(result))
        assert result.ok, _table(result)
        assert derivation.steps[0].relation == "assume"
        assert result.conclusion is StepStatus.EXACT, _table(result)
        numeric = {s.index for s in result.steps if s.status is StepStatus.NUMERIC}
        allowed = ALLOWED_NUMERIC.get((claim_id, derivation.title), set())
        assert numeric <= allowed, f"steps {numeric - allowed} only numeric:\n" + _table(result)
        for step in derivation.steps:
            assert step.reason and "\n" not in step.reason


def test_every_derivation_uses_the_claims_symbols():
    for claim_id in EXPECTED_COUNTS:
        claim = registry.get(claim_id)
        for derivation in registry.derivations(claim_id):
            last = derivation.steps[-1].expression
            assert claim.statement.free_symbols <= last.rhs.free_symbols | {theory.u}


@pytest.mark.parametrize("derivation", proofs.REDUCTIONS, ids=lambda d: d.title)
def test_special_cases_reduce_to_eq_11(derivation):
    result = _check(derivation)
    print(_table(result))
    assert result.ok, _table(result)
    assert result.conclusion is StepStatus.EXACT, _table(result)
    # Only joining or splitting the statements' logs is numeric: sympy does not split logs
    # of factors (s - u0, s - uf) whose sign it cannot see.
    numeric = [step.reason for step in result.steps if step.status is StepStatus.NUMERIC]
    assert all(reason.startswith(proofs.LOG_OF_QUOTIENT) for reason in numeric), _table(result)


# -- broken derivations are caught ------------------------------------------------


@pytest.mark.parametrize(("name", "index"), [
    ("saxe_mode_strength_from_layers", 8),   # the ODE solution
    ("saxe_mode_strength_from_layers", 7),   # tau u' = 2u(s - u)
    ("saxe_time_from_solution", 2),          # solving for T
    ("saxe_time_by_separation", 3),          # the definite integral
    ("deep_time_from_layers", 3),            # eq. 15
    ("deep_time_from_layers", 2),            # the layer equation inserted
])
def test_a_wrong_factor_fails_its_step(name, index):
    derivation = getattr(proofs, name)
    assert _check(derivation).ok
    result = check_derivation(_broken(derivation, index),
                              registry.get(derivation.claim).statement)
    assert result.steps[index].status is StepStatus.FAILED, _table(result)
    assert not result.ok
    assert result.status is StepStatus.FAILED
    # Steps before the broken one are untouched.
    assert all(s.status is not StepStatus.FAILED for s in result.steps[:index])


@pytest.mark.parametrize("index", [6, 11])
def test_a_wrong_factor_fails_a_numeric_step(index):
    # Only the steps around the broken one are rechecked (the full chain takes seconds).
    derivation = proofs.unequal_time_from_layers
    window = (Step.assume(derivation.steps[index - 1].expression, "previous step"),
              derivation.steps[index])
    assert _check(derivation).steps[index].status is StepStatus.NUMERIC
    piece = dataclasses.replace(derivation, steps=window)
    result = check_derivation(_broken(piece, 1), registry.get(derivation.claim).statement)
    assert result.steps[1].status is StepStatus.FAILED, _table(result)
    assert not result.ok


def test_a_derivation_that_stops_early_fails_the_conclusion():
    derivation = proofs.saxe_time_by_separation
    shortened = dataclasses.replace(derivation, steps=derivation.steps[:-1])
    result = check_derivation(shortened, theory.saxe_learning_time.statement)
    assert all(s.status is not StepStatus.FAILED for s in result.steps)
    assert result.conclusion is StepStatus.FAILED
    assert "not the claim's statement" in result.conclusion_detail
    assert not result.ok


def test_a_derivation_ending_in_an_expression_fails_the_conclusion():
    lemma = dataclasses.replace(proofs.unequal_time_from_layers,
                                steps=proofs.unequal_time_from_layers.steps[:3])
    result = check_derivation(lemma, theory.unequal_layer_time.statement)
    assert [s.status for s in result.steps[1:]] == [StepStatus.EXACT, StepStatus.EXACT]
    assert result.conclusion is StepStatus.FAILED
    assert "not an equation" in result.conclusion_detail


def _conclusion_cases():
    """Every (claim, decoy) pair; past the first, singular_value_dynamics' 20-s symbolic
    comparisons run under -m slow."""
    cases, seen = [], set()
    for claim in registry.claims(FAMILY):
        for decoy in claim.decoys:
            if decoy.statement is None and decoy.substitute is None:
                continue
            slow = claim.id == "deep_linear.singular_value_dynamics" and claim.id in seen
            seen.add(claim.id)
            cases.append(pytest.param(claim.id, decoy.name, id=f"{claim.id}-{decoy.name}",
                                      marks=[pytest.mark.slow] if slow else []))
    return cases


@pytest.mark.parametrize(("claim_id", "decoy"), _conclusion_cases())
def test_the_conclusion_rejects_every_decoy(claim_id, decoy):
    claim = registry.get(claim_id)
    wrong = claim.decoy(decoy)
    expression = (wrong.statement if wrong.statement is not None
                  else claim.statement.subs(wrong.substitute))
    for derivation in registry.derivations(claim_id):
        # The conclusion depends only on the last expression.
        last = dataclasses.replace(derivation, steps=(
            Step.assume(derivation.steps[-1].expression, "last step"),))
        assert check_derivation(last, claim.statement).conclusion is StepStatus.EXACT
        result = check_derivation(last, expression)
        assert result.conclusion is StepStatus.FAILED
        assert not result.ok


def _deep_time(prefactor, exponent):
    u, s, tau = theory.u, theory.s, theory.tau
    return prefactor * tau * sympy.Integral(1 / (u**exponent * (s - u)), (u, theory.u0, theory.uf))


@pytest.mark.parametrize("decoy", [
    _deep_time(1 / theory.N_l, 2 - 2 / theory.N_l),  # depth_off_by_one
    _deep_time(1 / (theory.N_l - 1), 2),  # infinite_depth_integrand
    # 54 s in a quiet default run (the other two: 11 s and under 1 s): a slow test.
    pytest.param(_deep_time(1, 2 - 2 / (theory.N_l - 1)), marks=pytest.mark.slow,
                 id="missing_prefactor"),
])
def test_the_quadrature_step_rejects_the_deep_decoys(decoy):
    # The deep decoys are quadratures too: the integrate step itself must reject them.
    derivation = proofs.deep_time_from_layers
    step = derivation.steps[-1]
    window = (Step.assume(derivation.steps[-2].expression, "dt/du"),
              dataclasses.replace(step, expression=sympy.Eq(step.expression.lhs, decoy)))
    result = check_derivation(dataclasses.replace(derivation, steps=window), decoy)
    assert result.steps[1].status is StepStatus.FAILED, _table(result)
    assert not result.ok


# -- numeric cross-checks of the formulas ------------------------------------------

POINTS = [
    {"s": 1.0, "u0": 0.05, "uf": 0.8, "tau": 1.0},
    {"s": 2.5, "u0": 0.3, "uf": 2.0, "tau": 3.0},
    {"s": 0.7, "u0": 0.01, "uf": 0.4, "tau": 0.5},
]


@pytest.mark.parametrize("point", POINTS)
def test_deep_time_at_three_layers_is_eq_11(point):
    deep = theory.deep_mode_dynamics.predict(N_l=3, **point)
    assert deep == pytest.approx(theory.saxe_learning_time.predict(**point), rel=1e-12)
    # One weight matrix (N_l = 2): tau u' = s - u, so t = tau ln((s - u0)/(s - uf)).
    single = theory.deep_mode_dynamics.predict(N_l=2, **point)
    expected = point["tau"] * math.log((point["s"] - point["u0"]) / (point["s"] - point["uf"]))
    assert single == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("point", POINTS)
def test_unequal_time_at_equal_layers_is_eq_11(point):
    strength = math.sqrt(point["u0"])
    unequal = theory.unequal_layer_time.predict(
        a0=strength, b0=strength, s=point["s"], uf=point["uf"], tau=point["tau"])
    assert unequal == pytest.approx(theory.saxe_learning_time.predict(**point), rel=1e-12)


@pytest.mark.parametrize(("a0", "b0", "s", "uf", "tau"), [
    (0.05, 0.4, 1.0, 0.8, 1.0),
    (0.9, 0.1, 2.0, 1.5, 2.0),
    (0.3, 0.3, 1.5, 1.0, 0.7),
])
def test_unequal_time_matches_the_layer_equations(a0, b0, s, uf, tau):
    # Integrate tau a' = b(s - ab), tau b' = a(s - ab) until ab = uf.
    def layers(_, y):
        gap = s - y[0] * y[1]
        return [y[1] * gap / tau, y[0] * gap / tau]

    def reached(_, y):
        return y[0] * y[1] - uf

    reached.terminal = True
    solution = solve_ivp(layers, (0.0, 1e3), [a0, b0], events=reached, method="DOP853",
                         rtol=1e-12, atol=1e-14)
    crossing = solution.t_events[0][0]
    predicted = theory.unequal_layer_time.predict(a0=a0, b0=b0, s=s, uf=uf, tau=tau)
    assert crossing == pytest.approx(predicted, rel=1e-8)
    # The conserved imbalance of the derivation's lemma.
    a, b = solution.y_events[0][0]
    assert a**2 - b**2 == pytest.approx(a0**2 - b0**2, abs=1e-9)


def _balanced_factors(matrix: np.ndarray, depth: int, rng: np.random.Generator) -> list:
    """W_1 ... W_N with W_N ... W_1 = matrix and W_{j+1}^T W_{j+1} = W_j W_j^T."""
    left, values, right_t = np.linalg.svd(matrix, full_matrices=False)
    rank = values.size
    root = np.diag(values ** (1 / depth))
    rotations = [np.linalg.qr(rng.standard_normal((rank, rank)))[0] for _ in range(depth - 1)]
    bases = [right_t.T, *rotations, left]  # R_0 = V, R_N = U
    return [bases[j + 1] @ root @ bases[j].T for j in range(depth)]


def _end_to_end_velocity(factors: list, gradient: np.ndarray, decay: float) -> np.ndarray:
    """dW_e/dt under gradient flow on L(W_e) + decay/2 sum_j ||W_j||^2."""
    def product(parts: list, size: int) -> np.ndarray:
        result = np.eye(size)
        for part in parts:
            result = part @ result
        return result

    rows, columns = factors[-1].shape[0], factors[0].shape[1]
    velocity = np.zeros((rows, columns))
    for j, weight in enumerate(factors):
        above = product(factors[j + 1:], weight.shape[0])  # W_N ... W_{j+1}
        below = product(factors[:j], columns)  # W_{j-1} ... W_1
        weight_velocity = -(above.T @ gradient @ below.T) - decay * weight
        velocity += above @ weight_velocity @ below
    return velocity


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("shape", [(3, 3), (2, 3), (3, 2)])
def test_end_to_end_dynamics_matches_balanced_gradient_flow(depth, shape):
    rng = np.random.default_rng(depth * 10 + shape[0])
    matrix, gradient = rng.standard_normal(shape), rng.standard_normal(shape)
    decay = 0.3
    factors = _balanced_factors(matrix, depth, rng)
    product = factors[0]
    for weight in factors[1:]:
        product = weight @ product
    np.testing.assert_allclose(product, matrix, atol=1e-12)
    for lower, upper in zip(factors, factors[1:], strict=False):
        np.testing.assert_allclose(upper.T @ upper, lower @ lower.T, atol=1e-12)
    predicted = theory.end_to_end_dynamics.predict(N=depth, weight_decay=decay, W=matrix,
                                                   gradient=gradient)
    np.testing.assert_allclose(predicted, _end_to_end_velocity(factors, gradient, decay),
                               rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_singular_value_dynamics_matches_balanced_gradient_flow(depth):
    rng = np.random.default_rng(100 + depth)
    left = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    right = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    values = np.array([2.1, 1.2, 0.5])
    matrix = left @ np.diag(values) @ right.T
    gradient = rng.standard_normal((3, 3))
    velocity = _end_to_end_velocity(_balanced_factors(matrix, depth, rng), gradient, 0.0)
    # d sigma_r / dt = u_r^T (dW/dt) v_r for distinct singular values.
    expected = np.einsum("ir,ij,jr->r", left, velocity, right)
    predicted = theory.singular_value_dynamics.predict(N=depth, W=matrix, gradient=gradient)
    np.testing.assert_allclose(predicted, expected, rtol=1e-9, atol=1e-12)


def test_non_commuting_step_with_swapped_factors_is_caught():
    # Swapping the Gram factors (a decoy of the end-to-end claim) must break the
    # balancedness step: the engine keeps the order of matrix products.
    import dataclasses

    from theorylab.proofs import deep_linear as proofs

    from theorylab.derivation import StepStatus, check_derivation

    derivation = proofs.end_to_end_from_layers
    step = derivation.steps[3]
    left, right = proofs._left, proofs._right
    swapped_rhs = step.expression.rhs.xreplace({left: right, right: left})
    broken_step = dataclasses.replace(step, expression=sympy.Eq(step.expression.lhs, swapped_rhs))
    broken = dataclasses.replace(derivation, steps=derivation.steps[:3] + (broken_step,))
    result = check_derivation(broken, registry.get("deep_linear.end_to_end_dynamics").statement)
    assert result.steps[3].status is StepStatus.FAILED and not result.ok
