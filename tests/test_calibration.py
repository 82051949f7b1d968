"""True catalogue claims must FAIL no more often than the configured alpha.

The fast test runs the cheap claims over many seeds; the slow one (``-m slow``)
runs every claim. ``theorylab calibrate`` (benchmarks/calibration.py) measures the
same rates at scale on Dask, with p-value calibration.
"""

from __future__ import annotations

import pytest
from scipy import stats

from theorylab import registry
from theorylab.verifier import DEFAULT_ALPHA, Status, check


def _failures(claim_id: str, seeds: int) -> int:
    claim = registry.get(claim_id)
    return sum(check(claim, seed=seed, decoys=False, shrink=False).status is Status.FAIL
               for seed in range(1000, 1000 + seeds))


def _allowed(seeds: int) -> int:
    # Largest failure count still consistent (at the 0.1% level) with rate <= alpha.
    return int(stats.binom.ppf(0.999, seeds, DEFAULT_ALPHA))


@pytest.mark.parametrize("claim_id, seeds", [
    ("deep_linear.end_to_end_dynamics", 100),
    ("deep_linear.singular_value_dynamics", 100),
    ("deep_linear.saxe_mode_strength", 25),
])
def test_true_claim_failure_rate_is_consistent_with_alpha(claim_id, seeds):
    assert _failures(claim_id, seeds) <= _allowed(seeds)


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", [c.id for c in registry.claims()])
def test_true_claim_failure_rate_full(claim_id):
    seeds = 300
    assert _failures(claim_id, seeds) <= _allowed(seeds)
