"""deep_linear.critical_period: predictions against an independent ODE integration."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy
from scipy.integrate import solve_ivp
from theorylab.proofs import deep_linear as proofs
from theorylab.theory.deep_linear import T_path, critical_period, deficit_logistic

from theorylab.cli import main
from theorylab.derivation import StepStatus, check_derivation
from theorylab.gain_flow import conserved_split_value, gain_flow_value

POINTS = [(2, 1.0, 0.1, 0.5), (2, 1.5, 0.02, 2.0), (3, 1.0, 0.1, 0.5), (3, 2.0, 0.05, 0.3),
          (4, 0.7, 0.3, 1.0), (4, 1.5, 0.02, 2.0), (6, 1.0, 0.2, 0.8)]


def _trajectory(depth: int, target: float, start: float, deficit: float):
    """K_a, K_b by DOP853 (rtol 1e-12): the deficit, then both pathways to t = 60/S^..."""

    def flow(frozen_b: bool):
        def rhs(_t: float, gains: np.ndarray) -> list[float]:
            residual = target - gains[0] - gains[1]
            rate = depth * gains ** (2 - 2 / depth) * residual
            return [rate[0], 0.0 if frozen_b else rate[1]]
        return rhs

    options = {"rtol": 1e-12, "atol": 1e-15, "method": "DOP853"}
    a = start
    if deficit > 0:
        a = solve_ivp(flow(True), (0, deficit), [start, start], **options).y[0, -1]
    after = solve_ivp(flow(False), (0, 80 / target ** (2 - 2 / depth)), [a, start],
                      dense_output=True, **options)
    return a, after


@pytest.mark.parametrize("point", POINTS)
def test_predictions_match_the_gain_ode(point):
    depth, target, start, deficit = point
    values = {"depth": depth, "target": target, "initial_gain": start, "deficit_time": deficit}
    a, after = _trajectory(*point)
    assert critical_period.predict(quantity="deficit_gain_a", **values) == pytest.approx(
        a, rel=1e-10)
    assert after.y[0, -1] + after.y[1, -1] == pytest.approx(target, rel=1e-11)
    assert critical_period.predict(quantity="final_gain_a", **values) == pytest.approx(
        after.y[0, -1], rel=1e-9)
    # The conserved quantity along the solution: the ratio (D = 2), else the power difference.
    times = np.linspace(0, after.t[-1], 7)
    k_a, k_b = after.sol(times)
    exponent = (depth - 2) / depth
    conserved = k_a / k_b if depth == 2 else k_a**-exponent - k_b**-exponent
    assert np.ptp(conserved) <= 1e-9 * np.max(np.abs(conserved))


def test_the_mpmath_path_agrees_with_float64():
    for quantity in ("final_gain_a", "deficit_gain_a"):
        for depth in (2, 3, 5):
            values = {"quantity": quantity, "depth": depth, "target": 1.3,
                      "initial_gain": 0.07, "deficit_time": 0.9}
            precise = critical_period.predict(precision=30, **values)
            assert float(precise) == pytest.approx(critical_period.predict(**values), rel=1e-12)


def test_no_deficit_splits_the_target_evenly():
    for depth in (2, 4):
        values = {"depth": depth, "target": 1.2, "initial_gain": 0.2, "deficit_time": 0.0}
        assert critical_period.predict(quantity="final_gain_a", **values) == pytest.approx(0.6)
        assert critical_period.predict(quantity="deficit_gain_a", **values) == 0.2


def test_deep_flow_differs_from_the_ratio_law():
    # The ratio_law_every_depth decoy must be wrong at D > 2 (else it would not be a decoy).
    values = {"quantity": "final_gain_a", "depth": 4, "target": 1.0, "initial_gain": 0.1,
              "deficit_time": 0.8}
    truth = critical_period.predict(**values)
    decoy = critical_period.predict_decoy(critical_period.decoy("ratio_law_every_depth"),
                                          **values)
    assert abs(truth - decoy) > 0.01


def test_core_functions_at_their_edges():
    assert gain_flow_value(3, 1.0, 0.2, 0.0) == 0.2
    assert gain_flow_value(3, 1.0, 0.2, 1e3) == pytest.approx(1.0, rel=1e-15)
    assert math.isnan(conserved_split_value(2, 1.0, 0.0))
    assert conserved_split_value(5, 2.0, 0.0) == pytest.approx(1.0, rel=1e-15)


def test_lemmas_check():
    ratio, logistic = proofs.PATHWAY_LEMMAS
    assert check_derivation(ratio, sympy.Integer(0)).status is StepStatus.EXACT
    result = check_derivation(logistic, deficit_logistic.subs(T_path, proofs.t))
    assert result.status is StepStatus.EXACT and result.derives


def test_decoys_are_rejected_at_one_seed():
    import theorylab

    verdict = theorylab.check(critical_period, seed=3, budget=6, record=False)
    assert verdict.passed, verdict.summary()
    assert verdict.decoys_rejected, [d.summary() for d in verdict.decoys]


@pytest.mark.parametrize(("arguments", "named"), [
    (["depth=1"], "depth"),
    (["initial_gain=0.6"], "initial_gain"),
    (["deficit_time=-1"], "deficit_time"),
    (["quantity=final"], "quantity"),
])
def test_bad_input_is_one_line(arguments, named, capsys):
    base = {"quantity": "final_gain_a", "depth": "3", "target": "1", "initial_gain": "0.1",
            "deficit_time": "0.5"}
    for argument in arguments:
        key, value = argument.split("=")
        base[key] = value
    code = main(["predict", critical_period.id, *[f"{k}={v}" for k, v in base.items()]])
    error = capsys.readouterr().err.strip()
    assert code == 2 and named in error and len(error.splitlines()) == 1


def test_predict_from_the_command_line(capsys):
    arguments = ["predict", critical_period.id, "quantity=final_gain_a", "depth=3", "target=1",
                 "initial_gain=0.1", "deficit_time=0.5", "--json"]
    assert main(arguments) == 0
    value = json.loads(capsys.readouterr().out)["value"]
    assert value == pytest.approx(critical_period.predict(
        quantity="final_gain_a", depth=3, target=1.0, initial_gain=0.1, deficit_time=0.5))


# -- deep_linear.deep_learning_time_asymptotic (Saxe et al. eq. 17) ---------------------


def test_eq_17_relative_error_falls_as_one_over_depth():
    from scipy.integrate import quad
    from scipy.stats import linregress
    from theorylab.theory.deep_linear import deep_learning_time_asymptotic as claim

    s, u0, uf, tau = 0.6, 0.05, 0.5, 1.3
    limit = claim.predict(quantity="scaled_time", s=s, u0=u0, uf=uf, tau=tau)
    depths = np.array([64, 128, 256, 512])
    exact = [tau * quad(lambda u, d=d: u ** (-2 + 2 / d) / (s - u), u0, uf,
                        epsabs=0, epsrel=1e-13)[0] for d in depths]
    errors = np.abs(np.array(exact) / limit - 1)
    assert linregress(np.log(depths), np.log(errors)).slope == pytest.approx(-1, abs=0.03)


def test_eq_17_checks_and_rejects_its_decoys():
    from theorylab.theory.deep_linear import deep_learning_time_asymptotic as claim

    import theorylab

    verdict = theorylab.check(claim, seed=2, record=False)
    assert verdict.passed, verdict.summary()
    assert verdict.decoys_rejected, [d.summary() for d in verdict.decoys]
    assert {p.point["quantity"] for p in verdict.points} == {"scaled_time", "error_order"}


def test_eq_17_derivation_is_exact():
    from theorylab.theory.deep_linear import deep_learning_time_asymptotic as claim

    result = check_derivation(proofs.deep_time_at_large_depth, claim.statement)
    assert result.status is StepStatus.EXACT and result.derives


def test_eq_17_predict_and_bad_input(capsys):
    arguments = ["predict", "deep_linear.deep_learning_time_asymptotic", "quantity=scaled_time",
                 "s=0.6", "u0=0.05", "uf=0.5", "tau=1.3", "--json"]
    assert main(arguments) == 0
    assert json.loads(capsys.readouterr().out)["value"] > 0
    assert main(arguments[:-2] + ["uf=0.7"]) == 2
    error = capsys.readouterr().err.strip()
    assert "uf" in error and len(error.splitlines()) == 1
