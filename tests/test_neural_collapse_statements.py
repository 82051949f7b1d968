"""The neural_collapse statements are the checked numbers (issue 13) and the refactor that
made them so left every prediction unchanged.

``tests/data/neural_collapse_predictions.json`` pins ``predict`` and every decoy at the
points ``draw_points(claim, claim.budget, 0)`` drew, for every quantity option, as they
were before the statements were bound to the hooks (and the hooks then dropped). One decoy
changed since: the MSE ``inverted_feature_scale`` now swaps lambda_W and lambda_H
consistently (||w||^2 = c sqrt(n lambda_W/lambda_H) where it was c sqrt(lambda_W/(n
lambda_H))), so its weight norms at the 7 pinned points with n > 1 are the new values.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy
from theorylab.theory import neural_collapse as theory

from theorylab import registry
from theorylab.errors import ParameterError
from theorylab.verifier import compare_statement

PINNED = json.loads((Path(__file__).parent / "data" / "neural_collapse_predictions.json")
                    .read_text())
CLAIMS = [theory.simplex_etf, theory.ufm_ce_minimizer, theory.ufm_mse_minimizer,
          theory.deep_linear_imbalanced]


def _relative_gap(expected: object, actual: object) -> float:
    expected, actual = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    assert expected.shape == actual.shape
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    return float(np.max(np.abs(expected - actual), initial=0.0)) / scale


def test_the_fixture_covers_every_claim_quantity_and_decoy():
    for claim in CLAIMS:
        records = [r for r in PINNED if r["claim"] == claim.id]
        assert {r["point"]["quantity"] for r in records} == set(
            claim.parameter("quantity").domain.options)
        assert all(set(r["decoys"]) == {d.name for d in claim.decoys} for r in records)


def test_predictions_and_decoys_are_unchanged():
    for record in PINNED:
        claim = registry.get(record["claim"])
        point = record["point"]
        assert _relative_gap(record["predict"], claim.predict(**point)) <= 1e-12, record
        for decoy in claim.decoys:
            value = claim.predict_decoy(decoy, **point)
            assert _relative_gap(record["decoys"][decoy.name], value) <= 1e-12, decoy.name


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda claim: claim.name)
def test_every_quantity_has_an_evaluable_statement(claim):
    assert claim.definition_problems() == []
    assert set(claim.statements) == set(claim.parameter("quantity").domain.options)


def test_statements_reproduce_the_hooks_at_every_pinned_point():
    for record in PINNED:
        claim = registry.get(record["claim"])
        point = record["point"]
        assert compare_statement(claim, point, claim.predict(**point)) == "", record
        stated = claim.evaluate_statement(claim.validate(point))
        assert _relative_gap(record["predict"], stated) <= 1e-12, record


def test_statements_read_as_the_papers_write_them():
    assert sympy.latex(theory.simplex_statement) == \
        r"\frac{K \left(I_{K} - \frac{J_{K}}{K}\right)}{K - 1}"
    cosine = theory.simplex_etf.statements["cosine"]
    assert cosine == -1 / (theory.K - 1)
    # Piecewise: the norm is zero where the minimizer collapses (K sqrt(n lambda_W lambda_H) >= 1).
    point = {"K": 2, "n": 1, "d": 1, "lambda_W": 0.6, "lambda_H": 0.6, "lambda_b": 0.0,
             "quantity": "weight_norm_squared"}
    values = theory.ufm_ce_minimizer.validate(point)
    assert np.array_equal(theory.ufm_ce_minimizer.evaluate_statement(values), [0.0, 0.0])


def test_every_prediction_and_decoy_is_a_statement():
    # No hook: predict evaluates statements[quantity]; a decoy substitutes into it.
    for claim in CLAIMS:
        assert claim.evaluate is None and all(d.evaluate is None for d in claim.decoys)


def test_the_inverted_feature_scale_of_the_mse_decoy_keeps_the_logits():
    # lambda_W and lambda_H swapped in the geometry: alpha' ||w'||^2 = c, as at the truth.
    point = {"K": 3, "n": 2, "d": 3, "lambda_W": 0.01, "lambda_H": 0.03, "bias": "none"}
    decoy = theory.ufm_mse_minimizer.decoy("inverted_feature_scale")
    scale = theory.ufm_mse_minimizer.predict_decoy(decoy, quantity="feature_scale", **point)
    norms = theory.ufm_mse_minimizer.predict_decoy(decoy, quantity="weight_norm_squared",
                                                   **point)
    c = theory.ufm_mse_minimizer.predict(quantity="logit_matrix", **point)[0, 0]
    assert scale == pytest.approx(np.sqrt(0.03 / (2 * 0.01)), rel=1e-14)
    assert np.allclose(scale * norms, c, rtol=1e-14)


@pytest.mark.parametrize(("claim", "parameter", "value"), [
    (theory.simplex_etf, "K", 100000),
    (theory.simplex_etf, "d", 100000),
    (theory.ufm_ce_minimizer, "n", 10**6),
    (theory.deep_linear_imbalanced, "M", 1000),
], ids=lambda item: item if isinstance(item, str) else "")
def test_integer_parameters_have_a_practical_upper_bound(claim, parameter, value):
    point = {"simplex_etf": {"K": 3, "d": 3, "quantity": "gram"},
             "ufm_ce_minimizer": {"K": 3, "n": 1, "d": 3, "lambda_W": 0.01, "lambda_H": 0.01,
                                  "lambda_b": 0.0, "quantity": "optimal_value"},
             "deep_linear_imbalanced": {"n": [3, 1], "M": 1, "lambda_W": 0.1,
                                        "lambda_H": 0.1}}[claim.name]
    with pytest.raises(ParameterError, match=parameter):
        claim.validate({**point, parameter: value})


def test_class_sizes_have_a_practical_upper_bound():
    point = {"M": 1, "lambda_W": 0.1, "lambda_H": 0.1}
    with pytest.raises(ParameterError, match="K <= 1000"):
        theory.deep_linear_imbalanced.validate({**point, "n": [1] * 1001})
    with pytest.raises(ParameterError, match="n_k <= 10000"):
        theory.deep_linear_imbalanced.validate({**point, "n": [20000, 1]})


def test_cli_refuses_a_huge_gram_matrix_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "theorylab.cli", "predict", "neural_collapse.simplex_etf",
         "K=100000", "d=100000", "quantity=gram"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "THEORYLAB_EVIDENCE": str(tmp_path / "evidence.jsonl")})
    if result.returncode != 0 and "No module named theorylab.cli.__main__" in result.stderr:
        pytest.skip("no module entry point")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "'K'" in lines[0] and "[2, 1000]" in lines[0], result.stderr


def test_the_ce_statements_are_the_reduced_law_on_zhus_geometry():
    # ce_norm_law at alpha = sqrt(lambda_W/(n lambda_H)), mu = K/(K-1) is the paper's form,
    # the one proofs/neural_collapse.py derives
    assert theory.ce_norm_statement == sympy.Piecewise(
        (theory.ce_norm_interior, theory._nonzero), (0, True))
    value = theory.CE_STATEMENTS["optimal_value"]
    r = theory.scale
    assert value == sympy.Piecewise(
        (-sympy.log(1 - (theory.K - 1) * r) + (theory.K - 1) * r * sympy.log(1 / r - theory.K + 1),
         theory._nonzero), (sympy.log(theory.K), True))
