"""The free_probability statements are the checked numbers (issue 13) and the refactor that
made them so left every prediction unchanged (issue 18's bounds included).

``tests/data/free_probability_predictions.json`` pins ``predict`` and every decoy at the
points ``draw_points(claim, claim.budget, 0)`` draws and at hand-made points of every
quantity (supports' edges, λ = 1, x outside the support, large k), as they were before the
statements were bound; ``"error: ..."`` records a ParameterError. The ``s_transform``
points (a quantity added with the binding) are pinned as first computed.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest
from theorylab.theory import free_probability as theory

from theorylab import registry
from theorylab.errors import ParameterError
from theorylab.verifier import compare_statement

PINNED = json.loads((Path(__file__).parent / "data" / "free_probability_predictions.json")
                    .read_text())
CLAIMS = [theory.marchenko_pastur, theory.mp_cdf, theory.semicircle, theory.fuss_catalan,
          theory.s_transform_product, theory.jacobian_spectrum, theory.dynamical_isometry]


def _relative_gap(expected: object, actual: object) -> float:
    expected, actual = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    assert expected.shape == actual.shape
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    return float(np.max(np.abs(expected - actual), initial=0.0)) / scale


def _same(expected: object, compute: object) -> None:
    if isinstance(expected, str):
        with pytest.raises(ParameterError):
            compute()
    else:
        assert _relative_gap(expected, compute()) <= 1e-12


def test_the_fixture_covers_every_claim_quantity_and_decoy():
    for claim in CLAIMS:
        records = [r for r in PINNED if r["claim"] == claim.id]
        assert {r["point"]["quantity"] for r in records} == set(
            claim.parameter("quantity").domain.options), claim.id
        assert all(set(r["decoys"]) == {d.name for d in claim.decoys} for r in records)


def test_predictions_and_decoys_are_unchanged():
    for record in PINNED:
        claim = registry.get(record["claim"])
        point = record["point"]
        _same(record["predict"], lambda c=claim, p=point: c.predict(**p))
        for decoy in claim.decoys:
            _same(record["decoys"][decoy.name],
                  lambda c=claim, d=decoy, p=point: c.predict_decoy(d, **p))


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda claim: claim.name)
def test_every_quantity_has_an_evaluable_statement(claim):
    assert claim.definition_problems() == []
    options = set(claim.parameter("quantity").domain.options)
    assert set(claim.statements) == options or (not claim.statements and len(options) == 1)


def test_statements_reproduce_the_predictions_at_every_pinned_point():
    for record in PINNED:
        if isinstance(record["predict"], str):
            continue
        claim = registry.get(record["claim"])
        point = record["point"]
        assert compare_statement(claim, point, claim.predict(**point)) == "", record
        stated = claim.evaluate_statement(claim.validate(point))
        assert _relative_gap(record["predict"], stated) <= 1e-10, record


@pytest.mark.parametrize(("claim", "point"), [
    (theory.dynamical_isometry, {"activation": "hard_tanh", "weights": "gaussian", "depth": 3,
                                 "preactivation_variance": 0.7}),
    (theory.jacobian_spectrum, {"activation": "hard_tanh", "weights": "orthogonal",
                                "depth": 2, "weight_variance": 0.9,
                                "preactivation_variance": 0.7, "quantity": "s_transform",
                                "w": 0.3}),
    (theory.s_transform_product, {"ratio_a": 0.5, "ratio_b": 2.0, "variance": 1.2,
                                  "quantity": "moment", "k": 5}),
    (theory.mp_cdf, {"ratio": 3.0, "variance": 0.8, "x": 1.7}),
    (theory.mp_cdf, {"ratio": 1.0, "variance": 0.8, "x": 1.7}),  # |1 − λ| = 0: atan2, no 1/0
    (theory.marchenko_pastur, {"ratio": 1.0, "variance": 1.0, "quantity": "mass", "x": 1.0,
                               "upper": 2.0}),
], ids=lambda item: item.name if hasattr(item, "name") else "")
def test_statements_evaluate_in_mpmath(claim, point):
    values = claim.validate(point)
    floating = claim.evaluate_statement(values)
    precise = claim.evaluate_statement(values, precision=40)
    assert abs(float(precise) - floating) <= 1e-12 * abs(floating)


def test_the_s_transforms_carry_the_checked_moments():
    # S(0) = 1/m₁ and −S'(0)/S(0) = σ²/m₁²: a wrong S-transform fails these.
    network = {"activation": "relu", "weights": "gaussian", "depth": 3, "weight_variance": 1.7,
               "preactivation_variance": 1.0}
    claim = theory.jacobian_spectrum
    mean = claim.predict(**network, quantity="mean")
    spread = claim.predict(**network, quantity="relative_variance")
    step = 1e-6
    at_zero, at_step = (claim.predict(**network, quantity="s_transform", w=w) for w in (0, step))
    assert at_zero == pytest.approx(1 / mean, rel=1e-12)
    assert -(at_step - at_zero) / step / at_zero == pytest.approx(spread, rel=1e-5)
    product = {"ratio_a": 0.5, "ratio_b": 1.5, "variance": 1.3}
    first = theory.s_transform_product.predict(**product, quantity="moment", k=1)
    assert theory.s_transform_product.predict(**product, quantity="s_transform", w=0) == \
        pytest.approx(1 / first, rel=1e-12)


@pytest.mark.parametrize("claim", [theory.mp_cdf, theory.semicircle],
                         ids=lambda claim: claim.name)
def test_the_statements_x_is_the_parameter_x(claim):
    point = ({"ratio": 0.5, "variance": 1.0, "quantity": "cdf"} if claim is theory.mp_cdf
             else {"variance": 1.0, "quantity": "mass", "upper": 5.0})
    for statement in [claim.statement, *claim.statements.values()]:
        names = {symbol.name for symbol in statement.free_symbols}
        assert names <= set(claim.symbols) | {p.symbol.name for p in claim.parameters}
    values = [claim.evaluate_statement(claim.validate({**point, "x": x}))
              for x in (-3.0, -0.5, 0.5, 1.0, 3.0)]
    assert values == [claim.predict(**point, x=x) for x in (-3.0, -0.5, 0.5, 1.0, 3.0)]
    assert len(set(values)) >= 4  # the statement moves with the parameter x


def test_mp_cdf_states_the_atom_and_the_tails():
    claim = theory.mp_cdf
    point = {"ratio": 4.0, "variance": 1.0, "quantity": "cdf"}
    cdf = [claim.evaluate_statement(claim.validate({**point, "x": x})) for x in (-1.0, 0.5, 10.0)]
    assert cdf == [0.0, 0.75, 1.0]


def test_large_moment_orders_are_bounded_not_crashes():
    claim = theory.marchenko_pastur
    point = {"ratio": 0.5, "variance": 1.0, "quantity": "moment"}
    with pytest.raises(ParameterError, match="'k'.*200"):
        claim.predict(**point, k=517)
    assert np.isfinite(claim.predict(**point, k=200))
    # In the domain, but m_k beyond float64: it overflows in float64 (inf, or Python's
    # OverflowError from a float power; no hook refuses it), and is finite with precision
    # (exact counts).
    assert _overflows(claim, ratio=4.0, variance=30.0, quantity="moment", k=200)
    assert claim.predict(ratio=4.0, variance=30.0, quantity="moment", k=200, precision=20) > 0
    for other, extra in ((theory.semicircle, {"variance": 1000.0}),
                         (theory.fuss_catalan, {"s": 100, "variance": 3.0})):
        assert _overflows(other, quantity="moment", k=200, **extra)
        assert mpmath.isfinite(other.predict(quantity="moment", k=200, precision=30, **extra))


def _overflows(claim, **point):
    try:
        return not math.isfinite(claim.predict(**point))
    except OverflowError:
        return True


@pytest.mark.parametrize(("claim", "point", "parameter"), [
    (theory.marchenko_pastur, {"ratio": 0.5, "variance": 1.0, "quantity": "moment",
                               "k": 201}, "k"),
    (theory.s_transform_product, {"ratio_a": 0.5, "ratio_b": 0.5, "quantity": "moment",
                                  "k": 101}, "k"),
    (theory.fuss_catalan, {"s": 101, "quantity": "edge"}, "s"),
    (theory.jacobian_spectrum, {"activation": "relu", "weights": "gaussian", "depth": 101,
                                "weight_variance": 2.0, "preactivation_variance": 1.0,
                                "quantity": "mean"}, "depth"),
    (theory.dynamical_isometry, {"activation": "relu", "weights": "gaussian", "depth": 101,
                                 "preactivation_variance": 1.0}, "depth"),
], ids=lambda item: item if isinstance(item, str) else "")
def test_integer_parameters_have_a_practical_upper_bound(claim, point, parameter):
    with pytest.raises(ParameterError, match=f"'{parameter}'"):
        claim.validate(point)
    assert claim.parameter(parameter).domain.upper is not None


def test_cli_refuses_a_huge_moment_order_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "theorylab.cli", "predict", "free_probability.marchenko_pastur",
         "ratio=0.5", "variance=1", "quantity=moment", "k=517"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "THEORYLAB_EVIDENCE": str(tmp_path / "evidence.jsonl")})
    if result.returncode != 0 and "No module named theorylab.cli.__main__" in result.stderr:
        pytest.skip("no module entry point")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "'k'" in lines[0] and "200" in lines[0], result.stderr
