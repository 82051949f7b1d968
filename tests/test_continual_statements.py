"""The continual family states the number it checks (issue 13) and bounds its integers (18)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from theorylab.theory import continual as theory

from theorylab.claim import claims_in
from theorylab.cli import main
from theorylab.errors import ParameterError
from theorylab.verifier import compare_statement

CLAIMS = {claim.id: claim for claim in claims_in(vars(theory))}
PINNED = json.loads((Path(__file__).parent / "data" / "continual_predictions.json").read_text())


def _same(value, pinned):
    if isinstance(pinned, str):  # the decoy raised (1/(T - 1) at T = 1)
        return False
    value, pinned = np.asarray(value, dtype=float), np.asarray(pinned, dtype=float)
    scale = max(float(np.abs(pinned).max(initial=0.0)), 1e-300)
    return value.shape == pinned.shape and float(np.abs(value - pinned).max(initial=0.0)) \
        <= 1e-12 * scale


@pytest.mark.parametrize("record", PINNED, ids=[f"{r['claim']}-{n}" for n, r in
                                                 enumerate(PINNED)])
def test_predictions_are_pinned_and_statements_reproduce_them(record):
    """Binding the statements changed no prediction, and each statement is the number."""
    claim = CLAIMS[record["claim"]]
    point = record["point"]
    assert _same(claim.predict(**point), record["value"])
    for name, pinned in record["decoys"].items():
        if isinstance(pinned, str):
            with pytest.raises(ZeroDivisionError):
                claim.predict_decoy(claim.decoy(name), **point)
        else:
            assert _same(claim.predict_decoy(claim.decoy(name), **point), pinned), name
    assert compare_statement(claim, point, claim.predict(**point)) == ""


@pytest.mark.parametrize("claim", list(CLAIMS.values()), ids=list(CLAIMS))
def test_every_symbol_is_a_parameter(claim):
    assert claim.definition_problems() == []


def test_model_error_statement_is_the_task_by_task_matrix():
    point = {"p": 100, "n": 20, "T": 2, "sigma": 0.0, "gram": [[1, 0], [0, 1]]}
    claim = theory.expected_model_error
    stated = claim.evaluate_statement(claim.validate(point))
    assert stated == pytest.approx(np.array([[0.8, 1.2], [1.04, 0.96]]), abs=1e-14)
    precise = claim.evaluate_statement(claim.validate(point), precision=30)
    assert np.asarray(precise.tolist(), dtype=float) == pytest.approx(stated, abs=1e-14)
    assert r"\right]_{t, i = 1}^{T}" in claim.latex()
    assert "for t, i = 1..T" in claim.pretty() and "‖w*_t - w*_i‖²" in \
        theory.expected_model_error_underparameterized.pretty()


def test_two_task_statement_is_a_vector_of_the_components():
    point = {"theta": 0.5, "k": 3, "w_along": 1.0, "w_normal": 0.0}
    claim = theory.two_task_forgetting
    stated = claim.evaluate_statement(claim.validate(point))
    assert stated.shape == (2,) and stated == pytest.approx(claim.predict(**point), rel=1e-14)


def test_named_task_functions_read_the_gram_matrix():
    gram = np.array([[2.0, 0.5], [0.5, 1.0]])
    assert theory.squared_norm_value(gram, 2) == 1.0
    assert theory.squared_distance_value(gram, 1, 2) == pytest.approx(2.0)
    assert theory.SquaredDistance(theory.G, theory.t, theory.t) == 0


@pytest.mark.parametrize("claim_id, name, value", [
    ("continual.expected_forgetting", "T", 10**9),
    ("continual.expected_forgetting", "p", 10**7),
    ("continual.two_task_forgetting", "k", 10**7),
    ("continual.cyclic_forgetting_bound", "k", 10**7),
    ("continual.cyclic_forgetting_bound", "d", 10**7),
])
def test_huge_integers_are_refused_at_validation(claim_id, name, value):
    claim = CLAIMS[claim_id]
    with pytest.raises(ParameterError, match=f"'{name}'") as error:
        claim.parameter(name).domain.validate(name, value)
    assert "an integer in [" in str(error.value)


def test_huge_iteration_count_is_one_line_on_the_cli(capsys):
    code = main(["predict", "continual.two_task_forgetting", "theta=0.5", "k=10000000",
                 "w_along=1", "w_normal=0"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "'k'" in err
