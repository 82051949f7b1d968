"""Wrong claims must not verify: each ends FAIL or INCONCLUSIVE, never "verified".

The claims live in tests/data/wrong_user_claims.py and are small and fast.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from theorylab import registry
from theorylab.cli import main
from theorylab.evidence import Evidence
from theorylab.verifier import Status, check
from theorylab.workflow import verify

MODULE = Path(__file__).parent / "data" / "wrong_user_claims.py"
IDS = ["wrongwork.factor_two", "wrongwork.assumed_only", "wrongwork.hook_disagrees",
       "wrongwork.wrong_order", "wrongwork.wrong_noise"]


@pytest.fixture(scope="module")
def claims():
    registry.load(MODULE)
    return {claim_id: registry.get(claim_id) for claim_id in IDS}


@pytest.mark.parametrize("claim_id", IDS)
def test_wrong_claim_is_never_verified(claims, claim_id, tmp_path):
    evidence = Evidence(tmp_path / "evidence.jsonl")
    result = verify(claims[claim_id], seed=0, record=evidence)
    assert not result.succeeded
    assert registry.status(claims[claim_id], evidence) not in {"verified", "fully verified"}


def test_factor_two_with_three_networks_is_underpowered(claims):
    verdict = check(claims["wrongwork.factor_two"], seed=0, record=False)
    assert verdict.status is Status.INCONCLUSIVE
    assert "underpowered" in verdict.reason and "requires 0.05" in verdict.reason
    assert verdict.relative_resolution() > 1  # cannot even see a factor of 2


def test_assume_only_and_circular_derivations_do_not_derive(claims):
    from theorylab.workflow import prove

    (circular,) = prove(claims["wrongwork.factor_two"], record=False)
    assert circular.ok and circular.circular and not circular.derives
    (assumed,) = prove(claims["wrongwork.assumed_only"], record=False)
    assert assumed.ok and not assumed.derives
    assert assumed.counts == {"exact": 0, "numeric": 0, "cited": 0, "assumed": 2, "failed": 0}


def test_assumed_only_claim_passes_its_check_but_stays_unverified(claims, tmp_path):
    evidence = Evidence(tmp_path / "evidence.jsonl")
    result = verify(claims["wrongwork.assumed_only"], seed=0, record=evidence)
    assert result.verdict.status is Status.PASS and result.verdict.decoys_rejected
    assert registry.status(claims["wrongwork.assumed_only"], evidence) == "stated"


def test_hook_that_doubles_the_statement_fails_as_a_disagreement(claims):
    verdict = check(claims["wrongwork.hook_disagrees"], seed=0, record=False)
    assert verdict.status is Status.FAIL
    assert verdict.failure == "statement and evaluate disagree"
    assert "statement and evaluate disagree" in verdict.reason


def test_misdeclared_bias_order_is_inconclusive(claims):
    verdict = check(claims["wrongwork.wrong_order"], seed=0, record=False)
    assert verdict.status is Status.INCONCLUSIVE
    assert "bias order" in verdict.reason and "order 2 is declared" in verdict.reason


def test_noise_of_the_wrong_scale_is_inconclusive(claims):
    verdict = check(claims["wrongwork.wrong_noise"], seed=0, record=False)
    assert verdict.status is Status.INCONCLUSIVE and "underpowered" in verdict.reason


def test_cli_verify_of_the_wrong_claims_exits_non_zero(tmp_path, capsys):
    code = main(["--evidence", str(tmp_path / "evidence.jsonl"), "verify", "--module",
                 str(MODULE), "--no-report"])
    output = capsys.readouterr().out
    assert code == 1
    assert "fully verified" not in output and " verified" not in output.replace("not verified",
                                                                                  "")
