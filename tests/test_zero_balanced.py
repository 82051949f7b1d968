"""deep_linear.zero_balanced_dynamics: the closed form against independent references."""

from __future__ import annotations

import dataclasses
import json

import mpmath
import numpy as np
import pytest
import sympy
from scipy.integrate import solve_ivp
from theorylab.proofs.deep_linear import ZERO_BALANCED_LEMMAS, zero_balanced_from_riccati
from theorylab.theory.deep_linear import (
    RSM_QUANTITIES,
    saxe_mode_strength,
    zero_balanced_dynamics,
)

import theorylab
from theorylab import registry
from theorylab.cli import main
from theorylab.derivation import Step, StepStatus, check_derivation
from theorylab.errors import ParameterError
from theorylab.riccati import (
    FLOAT64_EXPONENT,
    _float64_solution,
    coupling_matrix,
    riccati_exponent,
    riccati_solution_value,
    stacked_weights,
)

claim = zero_balanced_dynamics


def _orthonormal(rng: np.random.Generator, rows: int, columns: int) -> np.ndarray:
    return np.linalg.qr(rng.standard_normal((rows, rows)))[0][:, :columns]


def zero_balanced_start(rng: np.random.Generator, inputs: int, outputs: int, hidden: int,
                        scale: float) -> tuple[np.ndarray, np.ndarray]:
    """W1 = R S V1^T, W2 = V2 S R^T: W1 W1^T = R S^2 R^T = W2^T W2, in random orientations."""
    rank = min(inputs, outputs, hidden)
    values = np.diag(scale * rng.uniform(0.3, 1.0, rank))
    frame = _orthonormal(rng, hidden, rank)
    first = frame @ values @ _orthonormal(rng, inputs, rank).T
    second = _orthonormal(rng, outputs, rank) @ values @ frame.T
    return first, second


def gradient_flow(correlation: np.ndarray, first: np.ndarray, second: np.ndarray,
                  duration: float) -> tuple[np.ndarray, np.ndarray]:
    """Integrate dW1/ds = W2^T (S - W2 W1), dW2/ds = (S - W2 W1) W1^T to s = t/tau (DOP853)."""
    hidden, inputs = first.shape

    def velocity(_: float, state: np.ndarray) -> np.ndarray:
        lower = state[:hidden * inputs].reshape(first.shape)
        upper = state[hidden * inputs:].reshape(second.shape)
        residual = correlation - upper @ lower
        return np.concatenate([(upper.T @ residual).ravel(), (residual @ lower.T).ravel()])

    state = np.concatenate([first.ravel(), second.ravel()])
    solution = solve_ivp(velocity, (0.0, duration), state, method="DOP853", rtol=1e-12,
                         atol=1e-30)
    final = solution.y[:, -1]
    return final[:hidden * inputs].reshape(first.shape), final[hidden * inputs:].reshape(
        second.shape)


def _blocks(first: np.ndarray, second: np.ndarray) -> dict[str, np.ndarray]:
    return {"network": second @ first, "input_similarity": first.T @ first,
            "output_similarity": second @ second.T}


def _problem(seed: int, inputs: int, outputs: int, hidden: int, scale: float) -> dict:
    rng = np.random.default_rng(seed)
    correlation = rng.standard_normal((outputs, inputs))
    first, second = zero_balanced_start(rng, inputs, outputs, hidden, scale)
    return {"correlation": correlation, "W1": first, "W2": second}


def _exponent(problem: dict, duration: float) -> float:
    return 2 * np.linalg.svd(problem["correlation"], compute_uv=False)[0] * duration


@pytest.mark.parametrize(("seed", "shape"), [(0, (3, 2, 2)), (1, (2, 3, 4)), (2, (3, 3, 1))])
def test_float64_path_matches_ode_integration(seed: int, shape: tuple[int, int, int]) -> None:
    problem = _problem(seed, *shape, scale=0.3)
    tau = 1.5
    t = 0.8 * FLOAT64_EXPONENT / _exponent(problem, 1.0) * tau  # inside the float64 path
    first, second = gradient_flow(problem["correlation"], problem["W1"], problem["W2"], t / tau)
    for quantity, reference in _blocks(first, second).items():
        value = claim.predict(quantity=quantity, tau=tau, t=t, **problem)
        assert value.shape == reference.shape
        np.testing.assert_allclose(value, reference, rtol=0, atol=1e-9 * np.abs(reference).max())


def test_mpmath_path_matches_ode_integration_at_large_t() -> None:
    # Singular values 3 and 0.2 at 2 s_max t/tau = 40: the fast mode is learnt, the slow one
    # mid-transition, and the float64 closed form has lost four digits to cancellation.
    rng = np.random.default_rng(0)
    problem = _problem(0, 3, 2, 3, scale=0.5)
    problem["correlation"] = (_orthonormal(rng, 2, 2) @ np.diag([3.0, 0.2])
                              @ _orthonormal(rng, 3, 2).T)
    tau = 1.0
    t = 40.0 / _exponent(problem, 1.0)
    first, second = gradient_flow(problem["correlation"], problem["W1"], problem["W2"], t / tau)
    references = _blocks(first, second)
    assert np.abs(references["network"] - problem["correlation"]).max() > 0.05  # not converged
    in_float64 = _float64_solution(coupling_matrix(problem["correlation"]),
                                   stacked_weights(problem["W1"], problem["W2"]), t / tau, 0.5)
    assert np.abs(in_float64[3:, :3] - references["network"]).max() > 1e-6
    for quantity, reference in references.items():
        value = claim.predict(quantity=quantity, tau=tau, t=t, **problem)
        np.testing.assert_allclose(value, reference, rtol=0,
                                   atol=1e-10 * np.abs(reference).max())


def test_float64_and_mpmath_agree_where_both_work() -> None:
    problem = _problem(4, 2, 3, 3, scale=0.1)
    for fraction in (0.1, 0.5, 1.0):
        t = fraction * FLOAT64_EXPONENT / _exponent(problem, 1.0)
        for quantity in RSM_QUANTITIES:
            fast = claim.predict(quantity=quantity, tau=1.0, t=t, **problem)
            exact = np.array(claim.predict(quantity=quantity, tau=1.0, t=t, precision=40,
                                           **problem), dtype=float)
            np.testing.assert_allclose(fast, exact, rtol=0, atol=1e-11 * np.abs(exact).max())


def test_riccati_value_is_exact_at_zero_and_converges() -> None:
    problem = _problem(5, 3, 3, 4, scale=0.5)
    for quantity, start in _blocks(problem["W1"], problem["W2"]).items():
        np.testing.assert_allclose(claim.predict(quantity=quantity, tau=2.0, t=0.0, **problem),
                                   start, atol=1e-15)
    # Hidden width 4 >= rank 3: the network converges to Sigma_yx; at 2 s_min t/tau = 80
    # every mode has (e^-80 from its fixed point), deep in the mpmath path.
    rng = np.random.default_rng(5)
    problem["correlation"] = (_orthonormal(rng, 3, 3) @ np.diag([2.0, 1.5, 1.0])
                              @ _orthonormal(rng, 3, 3).T)
    late = claim.predict(quantity="network", tau=1.0, t=40.0, **problem)
    np.testing.assert_allclose(late, problem["correlation"], atol=1e-12)


def test_aligned_start_reduces_to_saxe_per_mode() -> None:
    rng = np.random.default_rng(6)
    outputs, inputs, hidden = 3, 2, 2
    left = _orthonormal(rng, outputs, inputs)
    right = _orthonormal(rng, inputs, inputs)
    frame = _orthonormal(rng, hidden, hidden)
    values = np.array([2.5, 0.8])
    strengths = np.array([0.3, 0.05])  # u0 = a^2 per mode, a = b (balanced, decoupled)
    correlation = left @ np.diag(values) @ right.T
    first = frame @ np.diag(np.sqrt(strengths)) @ right.T
    second = left @ np.diag(np.sqrt(strengths)) @ frame.T
    tau, t = 1.3, 0.9
    network = claim.predict(quantity="network", correlation=correlation, W1=first, W2=second,
                            tau=tau, t=t)
    modes = [saxe_mode_strength.predict(s=s, u0=u0, tau=tau, t=t)
             for s, u0 in zip(values, strengths, strict=True)]
    np.testing.assert_allclose(network, left @ np.diag(modes) @ right.T, atol=1e-13)
    similarity = claim.predict(quantity="input_similarity", correlation=correlation, W1=first,
                               W2=second, tau=tau, t=t)
    np.testing.assert_allclose(similarity, right @ np.diag(modes) @ right.T, atol=1e-13)


def test_unbalanced_start_is_a_one_line_error_naming_the_residual() -> None:
    problem = _problem(7, 2, 2, 2, scale=0.5)
    with pytest.raises(ParameterError, match=r"relative residual .* = 3 > 1e-08") as error:
        claim.predict(quantity="network", correlation=problem["correlation"], W1=problem["W1"],
                      W2=2 * problem["W2"], tau=1.0, t=1.0)
    assert "\n" not in str(error.value) and "'W2'" in str(error.value)
    with pytest.raises(ParameterError, match="overflows float64"):
        claim.predict(quantity="network", correlation=[[1.0]], W1=[[1e200]], W2=[[1e200]],
                      tau=1.0, t=1.0)
    # A rounding-level imbalance is accepted.
    claim.predict(quantity="network", correlation=problem["correlation"], W1=problem["W1"],
                  W2=problem["W2"] * (1 + 1e-12), tau=1.0, t=1.0)


@pytest.mark.parametrize(("name", "shape"), [("W1", (2, 3)), ("W2", (3, 2))])
def test_wrong_shapes_name_the_parameter(name: str, shape: tuple[int, int]) -> None:
    problem = _problem(8, 2, 2, 2, scale=0.5)
    problem[name] = np.ones(shape)
    with pytest.raises(ParameterError, match=f"parameter '{name}' must be a 2 x 2 matrix"):
        claim.predict(quantity="network", tau=1.0, t=1.0, **problem)


def test_exponent_beyond_the_mpmath_range_is_refused() -> None:
    problem = _problem(9, 2, 2, 2, scale=0.5)
    with pytest.raises(ParameterError, match="parameter 't' must be such that 2 sigma_max"):
        claim.predict(quantity="network", tau=1.0, t=2000 / _exponent(problem, 1.0), **problem)
    with pytest.raises(ValueError, match="exponent"):
        generator = np.array([[0.0, 1.0], [1.0, 0.0]])
        riccati_solution_value(generator, np.ones((2, 1)), 600.0, 0.5)
    assert riccati_exponent(np.diag([1.0, -3.0]), 2.0) == 12.0


def test_check_passes_and_rejects_both_decoys() -> None:
    verdict = theorylab.check(claim, seed=0, record=False)
    assert verdict.passed, verdict.reason
    assert {d.subject.split("~")[1]: d.status.value for d in verdict.decoys} == {
        "decoupled_modes": "FAIL", "missing_half": "FAIL"}


def test_closed_form_solves_the_riccati_equation_at_random_points() -> None:
    """Numeric evidence: the implementation is the formula, and it solves the Riccati ODE."""
    for seed in range(3):
        problem = _problem(10 + seed, 2, 2, 3, scale=0.4)  # F invertible: Ni = No
        generator = coupling_matrix(problem["correlation"])
        start = stacked_weights(problem["W1"], problem["W2"])
        time = 0.37 + seed
        with mpmath.workdps(40):
            coupling_ = mpmath.matrix(generator.tolist())
            q0 = mpmath.matrix(start.tolist())
            growth = mpmath.expm(coupling_ * time)
            bracket = mpmath.eye(3) + q0.T * coupling_**-1 * (
                mpmath.expm(2 * coupling_ * time) - mpmath.eye(4)) * q0 / 2
            formula = growth * q0 * bracket**-1 * q0.T * growth

            def value(at: mpmath.mpf, problem: tuple = (generator, start)) -> mpmath.matrix:
                return mpmath.matrix(riccati_solution_value(*problem, at, 0.5).tolist())

            now, step = value(time), mpmath.mpf(10) ** -12
            slope = (value(time + step) - value(time - step)) / (2 * step)
            residual = slope - (coupling_ * now + now * coupling_ - now * now)
            assert mpmath.mnorm(now - formula, 1) < mpmath.mpf(10) ** -30
            assert mpmath.mnorm(residual, 1) < mpmath.mpf(10) ** -20


def test_derivations_are_exact() -> None:
    for derivation, target in ZERO_BALANCED_LEMMAS:
        result = check_derivation(derivation, target)
        assert result.derives and result.status is StepStatus.EXACT, result.summary()
    result = check_derivation(zero_balanced_from_riccati, claim.statement)
    assert result.derives and result.status is StepStatus.EXACT, result.summary()
    assert zero_balanced_from_riccati in registry.derivations(claim.id)


def test_a_missing_half_in_the_flow_breaks_the_derivation() -> None:
    # tau dQ/dt = FQ - Q Q^T Q (the missing_half decoy's premise) gives tau dM/dt = FM + MF
    # - 2M^2, which the bracket with 1/2 does not solve: the chain fails.
    steps = list(zero_balanced_from_riccati.steps)
    flow = steps[1]
    doubled = {key: value.subs(sympy.Rational(1, 2), 1)
               for key, value in flow.options["mapping"].items()}
    derivative = flow.expression.lhs
    quadratic = sympy.Eq(derivative, sympy.expand(steps[0].expression.rhs.subs(doubled)))
    steps[1] = Step.substitute(quadratic, doubled, flow.reason)
    broken = dataclasses.replace(zero_balanced_from_riccati, steps=tuple(steps))
    result = check_derivation(broken, claim.statement)
    assert result.steps[1].status is StepStatus.EXACT  # the doubled premise, consistently used
    assert result.steps[2].status is StepStatus.FAILED  # is not tau dM/dt = FM + MF - M^2
    assert not result.ok
    # A wrong factor in the ODE solution fails that step.
    steps = list(zero_balanced_from_riccati.steps)
    solution = steps[3]
    steps[3] = dataclasses.replace(solution, expression=sympy.Eq(
        solution.expression.lhs, 2 * solution.expression.rhs))
    result = check_derivation(dataclasses.replace(zero_balanced_from_riccati, steps=tuple(steps)),
                              claim.statement)
    assert result.steps[3].status is StepStatus.FAILED


@pytest.mark.parametrize(("quantity", "shape"), [("network", (1, 2)),
                                                 ("input_similarity", (2, 2)),
                                                 ("output_similarity", (1, 1))])
def test_predict_on_the_command_line(capsys, quantity: str, shape: tuple[int, int]) -> None:
    arguments = ["predict", claim.id, f"quantity={quantity}", "correlation=[[2, 0.5]]",
                 "W1=[[0.1, 0.2]]", "W2=[[0.22360679774997896]]", "tau=1.5", "t=2"]
    assert main(arguments) == 0
    value = np.array(json.loads(capsys.readouterr().out))
    assert value.shape == shape
    first, second = np.array([[0.1, 0.2]]), np.array([[0.22360679774997896]])
    expected = claim.predict(quantity=quantity, correlation=[[2, 0.5]], W1=first, W2=second,
                             tau=1.5, t=2.0)
    np.testing.assert_allclose(value, expected, rtol=1e-15)
    assert main([*arguments, "--precision", "30"]) == 0
    precise = np.array(json.loads(capsys.readouterr().out), dtype=float)
    np.testing.assert_allclose(precise, expected, rtol=1e-12)
    assert main([*arguments[:4], "W1=[[0.3, 0.2]]", *arguments[5:]]) == 2
    assert "relative residual" in capsys.readouterr().err
