"""The generic battery: every registered claim, checked the same way.

Like scipy.stats' distribution battery, these tests know nothing about any one
claim: each claim must be cited, conventional, derivable, verified by its
simulation across its domain (hypothesis draws the points), and each of its
decoys must be rejected at the default budget.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorylab import registry
from theorylab.verifier import Status, check

CLAIMS = registry.claims()
IDS = [claim.id for claim in CLAIMS]

#: Claims whose default check takes over 5 s on one core (16-core device sweep, 20 seeds:
#: 5-26 s). Their full-budget check and its decoys are long statistical runs (``-m slow``;
#: ``theorylab verify`` runs them too); the default run checks them on 3 points.
LONG_CHECKS = frozenset({
    "free_probability.dynamical_isometry", "free_probability.fuss_catalan",
    "free_probability.jacobian_spectrum", "free_probability.marchenko_pastur",
    "free_probability.mp_cdf", "free_probability.s_transform_product",
    "free_probability.semicircle", "deep_linear.deep_mode_dynamics",
    "neural_collapse.deep_linear_imbalanced", "rg_flow.depth_scales",
    "rg_flow.four_point_vertex", "rg_flow.nngp_kernel", "rg_flow.ntk_kernel",
    "rg_flow.cnn_kernel",
})
SHORT_BUDGET = 3


def _full(claim):
    return pytest.param(claim, id=claim.id,
                        marks=[pytest.mark.slow] if claim.id in LONG_CHECKS else [])


@pytest.fixture(scope="module")
def verdicts():
    return {}


def _verdict(verdicts, claim, seed=1):
    if (claim.id, seed) not in verdicts:
        verdicts[(claim.id, seed)] = check(claim, seed=seed, record=False)
    return verdicts[(claim.id, seed)]


@pytest.mark.parametrize("claim", CLAIMS, ids=IDS)
def test_declaration_is_complete(claim):
    assert claim.family in registry.families()
    assert claim.citation.arxiv and claim.citation.where
    assert claim.citation.authors and claim.citation.year > 1900
    assert claim.conventions, "state the conventions: time constant, scaling, initialisation"
    assert len(claim.decoys) >= 2
    assert claim.simulation and claim.systematic_error is not None
    for used in claim.uses:
        assert registry.get(used).id == used
    assert len({d.name for d in claim.decoys}) == len(claim.decoys)
    # A claim may declare a coarser resolution (Monte Carlo), never a blanket one.
    assert 0 < claim.resolution <= 0.05


@pytest.mark.parametrize("claim", [_full(claim) for claim in CLAIMS])
def test_claim_passes_across_its_domain(claim, verdicts):
    verdict = _verdict(verdicts, claim)
    assert verdict.status is Status.PASS, verdict.summary()
    assert verdict.relative_resolution() <= claim.resolution  # the verifier's power floor
    # The budget, plus at most one point per decoy the drawn ones did not exercise.
    assert claim.budget <= len(verdict.points) <= claim.budget + len(claim.decoys)
    for point in verdict.points:
        # The tolerance is the statistical model, not a blanket rtol: it must be
        # far tighter than the quantity itself (than 1 where the quantity is 0, the
        # absolute resolution of Verdict.relative_resolution).
        zero = np.all(np.asarray(point.prediction, dtype=float) == 0)
        tightness = float(np.max(point.tolerance)) if zero else point.relative_tolerance
        assert tightness < claim.resolution, point


@pytest.mark.parametrize("claim", [c for c in CLAIMS if c.id in LONG_CHECKS],
                         ids=lambda claim: claim.id)
def test_a_long_claim_passes_a_short_check(claim):
    """The default run's end-to-end check of a long claim: 3 points, no decoys (too few
    points to promise that every decoy differs detectably at one of them)."""
    verdict = check(claim, seed=1, budget=SHORT_BUDGET, decoys=False, record=False)
    assert verdict.status is Status.PASS, verdict.summary()
    assert verdict.relative_resolution() <= claim.resolution
    assert len(verdict.points) == SHORT_BUDGET


@pytest.mark.parametrize(
    "claim, decoy",
    [pytest.param(c, d, id=f"{c.id}~{d.name}",
                  marks=[pytest.mark.slow] if c.id in LONG_CHECKS else [])
     for c in CLAIMS for d in c.decoys],
)
def test_decoy_is_rejected(claim, decoy, verdicts):
    verdict = _verdict(verdicts, claim)
    (found,) = [d for d in verdict.decoys if d.subject.endswith("~" + decoy.name)]
    assert found.status is Status.FAIL, found.summary()
    assert found.worst is not None and found.worst.ratio > 1


@pytest.mark.parametrize("claim", [_full(claim) for claim in CLAIMS])
def test_verdict_carries_its_numbers(claim, verdicts):
    verdict = _verdict(verdicts, claim)
    assert verdict.seed == 1 and verdict.device == "cpu" and verdict.ensemble >= 2
    assert verdict.wall_time > 0 and 0 < verdict.alpha < 1 and verdict.critical_value > 1
    point = verdict.points[0]
    for field in ("prediction", "estimate", "standard_error", "bias_bound", "tolerance"):
        assert np.all(np.isfinite(np.asarray(getattr(point, field), dtype=float)))
    roundtrip = type(verdict).from_dict(verdict.to_dict())
    assert roundtrip.status is verdict.status and len(roundtrip.decoys) == len(verdict.decoys)


@pytest.mark.parametrize("claim", CLAIMS, ids=IDS)
def test_derivations_derive(claim):
    from theorylab.derivation import check_derivation

    derivations = registry.derivations(claim.id)
    assert derivations, "every catalogue claim has a derivation"
    for derivation in derivations:
        result = check_derivation(derivation, claim.statement)
        assert result.ok, [(s.index, s.detail) for s in result.steps] + [result.conclusion_detail]
        assert result.derives, result.summary()


@pytest.mark.parametrize("claim", CLAIMS, ids=IDS)
def test_statement_is_the_checked_number(claim):
    """What show displays is what is compared: the statement evaluates at every point
    (every symbol a parameter, named functions bound) and the hook reproduces it."""
    from theorylab.verifier import compare_statement, draw_points

    assert claim.definition_problems() == []
    points = draw_points(claim, claim.budget, seed=7)
    for point in points:
        assert compare_statement(claim, point, claim.predict(**point)) == ""
        if claim.evaluate is None:
            stated = claim.evaluate_statement(claim.validate(point))
            assert np.array_equal(np.asarray(stated, dtype=float),
                                  np.asarray(claim.predict(**point), dtype=float))


# 40-digit predictions taking over 30 s (the chaotic phase's mpmath fixed point and
# quadratures) run under -m slow; their float64 paths are pinned by the family's tests.
SLOW_PRECISE = frozenset({"rg_flow.depth_scales"})


@pytest.mark.parametrize("claim", [
    pytest.param(claim, id=claim.id,
                 marks=[pytest.mark.slow] if claim.id in SLOW_PRECISE else [])
    for claim in CLAIMS])
def test_predict_is_finite_and_precise(claim):
    from theorylab.verifier import draw_points

    for point in draw_points(claim, 3, seed=5):
        fast = np.asarray(claim.predict(**point), dtype=float)
        assert np.all(np.isfinite(fast))
        precise = claim.predict(precision=40, **point)
        if hasattr(precise, "tolist"):
            precise = precise.tolist()
        precise = np.asarray(precise, dtype=float).reshape(fast.shape)
        assert np.allclose(fast, precise, rtol=1e-9, atol=1e-12)


def test_check_is_deterministic_for_a_seed():
    claim = registry.get("deep_linear.end_to_end_dynamics")
    first, second = check(claim, seed=4), check(claim, seed=4)
    assert [p.point for p in first.points] == [p.point for p in second.points]
    assert [p.estimate for p in first.points] == [p.estimate for p in second.points]
    other = check(claim, seed=5)
    assert [p.point for p in other.points] != [p.point for p in first.points]
    assert math.isfinite(first.relative_resolution())
