"""The deep_linear statements are the checked numbers (issue 13) and the refactor that
made them so left every prediction unchanged.

``tests/data/deep_linear_predictions.json`` pins ``predict`` and every decoy at the points
``draw_points(claim, claim.budget, 0)`` draws, as they were before the statements were
bound (a decoy that raised there, swapped_gram at a non-square W, records the error).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy
from theorylab.theory import deep_linear as theory

from theorylab import registry
from theorylab.errors import ParameterError
from theorylab.verifier import compare_statement

# deep_linear_predictions*.json: one file per round of claims (round 2: issue 16).
PINNED = [record for path in sorted((Path(__file__).parent / "data")
                                    .glob("deep_linear_predictions*.json"))
          for record in json.loads(path.read_text())]
CLAIMS = registry.claims("deep_linear")


def _point(record: dict) -> dict:
    return {name: np.asarray(value["matrix"], dtype=float) if isinstance(value, dict) else value
            for name, value in record["point"].items()}


def _relative_gap(expected: object, actual: object) -> float:
    expected, actual = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    assert expected.shape == actual.shape
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    return float(np.max(np.abs(expected - actual), initial=0.0)) / scale


def test_the_fixture_covers_every_claim_and_decoy():
    assert {record["claim"] for record in PINNED} == {claim.id for claim in CLAIMS}
    for record in PINNED:
        claim = registry.get(record["claim"])
        assert set(record["decoys"]) == {decoy.name for decoy in claim.decoys}


def test_predictions_and_decoys_are_unchanged():
    for record in PINNED:
        claim = registry.get(record["claim"])
        point = _point(record)
        assert _relative_gap(record["prediction"], claim.predict(**point)) <= 1e-12, record
        for decoy in claim.decoys:
            expected = record["decoys"][decoy.name]
            if isinstance(expected, str):  # the decoy is undefined here (non-square W)
                with pytest.raises(ValueError):
                    claim.predict_decoy(decoy, **point)
                continue
            value = claim.predict_decoy(decoy, **point)
            assert _relative_gap(expected, value) <= 1e-12, (claim.id, decoy.name)


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda claim: claim.name)
def test_every_statement_names_only_parameters(claim):
    assert claim.definition_problems() == []


def test_statements_are_the_predictions_at_every_pinned_point():
    for record in PINNED:
        claim = registry.get(record["claim"])
        point = _point(record)
        assert compare_statement(claim, point, claim.predict(**point)) == "", record
        stated = claim.evaluate_statement(claim.validate(point))
        assert _relative_gap(record["prediction"], stated) <= 1e-10, record


def test_no_claim_keeps_a_hook():
    # predict evaluates the statement itself; the quadrature is a named function.
    assert [claim.id for claim in CLAIMS if claim.evaluate is not None] == []


def test_decoys_are_declared_not_computed():
    # A statement, a substitution, changed parameters or another claim: never a hook.
    assert [(claim.name, decoy.name) for claim in CLAIMS for decoy in claim.decoys
            if decoy.evaluate is not None] == []


def test_only_the_claims_that_need_one_write_a_sampler():
    # The other claims draw from their parameters' domains, filtered by the constraints.
    # W and its gradient must share a shape, which independent domains cannot say.
    # critical_period and deep_learning_time_asymptotic draw their quantity from a hash of
    # the point (hypothesis favours an option), and the deficit relative to the escape time.
    # The learning times stop short of saturation (s - uf >= 1e-3 s), which their domain
    # allows but float64 gradient descent cannot resolve.
    assert sorted(claim.name for claim in CLAIMS if claim.sample is not None) == [
        "critical_period", "deep_learning_time_asymptotic", "deep_mode_dynamics",
        "end_to_end_dynamics", "saxe_learning_time", "singular_value_dynamics",
        "unequal_layer_time", "zero_balanced_dynamics"]


@pytest.mark.parametrize("point", [
    {"N_l": 100, "s": 1, "u0": 1e-8, "uf": 0.999, "tau": 1},
    {"N_l": 6, "s": 3, "u0": 1e-12, "uf": 2.9999, "tau": 1},
])
def test_the_quadrature_holds_where_the_integrand_spans_many_decades(point):
    # scipy's quad, what lambdify makes of a sympy Integral, returns 0.12 at the first point.
    fast = theory.deep_mode_dynamics.predict(**point)
    precise = theory.deep_mode_dynamics.predict(precision=40, **point)
    assert fast == pytest.approx(float(precise), rel=1e-13)
    exponent = 1 - 2 / (point["N_l"] - 1)  # the u0^-exponent plateau dominates
    leading = point["tau"] * point["u0"] ** -exponent / (exponent * (point["N_l"] - 1)
                                                          * point["s"])
    assert fast == pytest.approx(leading, rel=0.05)


def test_one_weight_matrix_at_a_tiny_start():
    # N_l = 2: tau u' = s - u, so t = tau ln((s - u0)/(s - uf)).
    end = 1 - 1e-12
    value = theory.deep_mode_dynamics.predict(N_l=2, s=1, u0=1e-300, uf=end, tau=1)
    assert value == pytest.approx(math.log(1 / (1 - end)), rel=1e-14)


def test_statements_read_as_the_papers_write_them():
    assert sympy.latex(theory.end_to_end_dynamics.statement) == (
        r"- N \lambda W_{e} - \sum_{j=1}^{N} \left[W_{e} W_{e}^{T}\right]^{\frac{N - j}{N}} "
        r"\nabla L \left[W_{e}^{T} W_{e}\right]^{\frac{j - 1}{N}}")
    assert sympy.latex(theory.singular_value_dynamics.statement) == (
        r"- N \left(\sigma_r\left(W\right)^{2}\right)^{1 - \frac{1}{N}} "
        r"\left\langle \nabla L, u_r v_r^{T} \right\rangle_{W}")


def test_mode_strength_is_finite_for_every_time():
    # eq. 12 as printed overflows to inf/inf at 2st/tau > 709.
    claim = theory.saxe_mode_strength
    assert claim.predict(s=1, u0=0.001, tau=1, t=400) == 1.0
    assert claim.predict(s=2, u0=1e-300, tau=1, t=1e6) == 2.0
    assert claim.predict(s=1, u0=1e-300, tau=1, t=0) == pytest.approx(1e-300, rel=1e-14)
    precise = claim.predict(precision=30, s=1, u0=0.001, tau=1, t=400)
    assert float(precise) == pytest.approx(1.0, rel=1e-15)


def test_learning_time_is_finite_at_a_tiny_start():
    # uf (s - u0)/(u0 (s - uf)) overflows here; the difference of logs does not.
    point = {"s": 1.0, "u0": 1e-300, "uf": 1 - 1e-10, "tau": 1.0}
    with mpmath.workdps(50):
        s, u0, uf = (mpmath.mpf(point[name]) for name in ("s", "u0", "uf"))
        exact = float(mpmath.log(uf * (s - u0) / (u0 * (s - uf))) / (2 * s))
    assert theory.saxe_learning_time.predict(**point) == pytest.approx(exact, rel=1e-14)


@pytest.mark.parametrize(("claim", "name", "point"), [
    (theory.deep_mode_dynamics, "N_l", {"s": 1, "u0": 0.1, "uf": 0.5, "tau": 1}),
    (theory.end_to_end_dynamics, "N", {"weight_decay": 0, "W": [[1.0]], "gradient": [[1.0]]}),
    (theory.singular_value_dynamics, "N", {"W": [[1.0]], "gradient": [[1.0]]}),
])
def test_depths_have_a_practical_upper_bound(claim, name, point):
    claim.predict(**{name: 100}, **point)
    with pytest.raises(ParameterError, match=rf"{name}.*\[\d+, 100\]"):
        claim.predict(**{name: 10**9}, **point)

