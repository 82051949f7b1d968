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


def _verdicts(seeds: int, error_scale: float, rng) -> list[dict]:
    """Verdict dicts whose t statistics are Student t, with SEs scaled by ``error_scale``."""
    verdicts = []
    for seed in range(seeds):
        points = []
        for _ in range(5):
            t = rng.standard_t(7)
            points.append({"point": {}, "status": "PASS", "prediction": 1.0,
                           "estimate": 1.0 + 0.01 * t, "standard_error": 0.01 * error_scale,
                           "bias_bound": 0.0, "tolerance": 0.05})
        verdicts.append({"claim": "fam.<b>x</b>", "subject": "fam.<b>x</b>", "status": "PASS",
                         "points": points, "seed": seed, "device": "cpu", "budget": 5,
                         "ensemble": 8, "alpha": 1e-3, "critical_value": 5.0, "wall_time": 0.0,
                         "decoys": [{"claim": "fam.<b>x</b>", "subject": "fam.<b>x</b>~<i>d",
                                     "status": "FAIL", "points": [], "seed": seed,
                                     "device": "cpu", "budget": 5, "ensemble": 8,
                                     "alpha": 1e-3, "critical_value": 5.0, "wall_time": 0.0}]})
    return verdicts


@pytest.mark.parametrize("error_scale, flagged", [(1.0, False), (0.5, True)])
def test_report_flags_a_wrong_error_model(tmp_path, error_scale, flagged):
    # SEs half their true size: no FAIL at these tolerances, but p-values pile up near 0.
    from types import SimpleNamespace

    import numpy as np

    from theorylab.calibration import report, write_report, write_report_page

    claim = SimpleNamespace(id="fam.<b>x</b>", family="fam", title="<script>t</script>",
                            resolution=0.05, relation="==")
    store = SimpleNamespace(path=tmp_path / "e.jsonl",
                            verdicts=lambda c: _verdicts(200, error_scale,
                                                         np.random.default_rng(1)))
    result = report([claim], store, 200)
    entry = result["claims"][claim.id]
    assert entry["checks"] == 200 and entry["fails"] == 0
    assert entry["fail_upper"] == pytest.approx(1 - 0.05 ** (1 / 200))
    assert entry["decoys"]["<i>d"]["rate"] == 1.0
    assert entry["p_values"]["exact"] == 1000
    assert entry["error_model_ok"] is not flagged
    write_report(result, tmp_path / "calibration.json")
    page = write_report_page(result, tmp_path).read_text()
    assert ("far from uniform" in page) is flagged
    assert "<script>" not in page and "<b>x" not in page and "<i>d" not in page


def test_report_page_escapes_a_hostile_report_file(tmp_path):
    from theorylab.calibration import write_report_page

    evil = "<script>alert(1)</script>"
    entry = {"checks": evil, "fails": evil, "fail_upper": evil, "inconclusive": evil,
             "inconclusive_upper": evil, "decoys": {evil: {"rejected": evil, "checks": evil}},
             "resolution": {"median": evil}, "p_values": {"ks_p": evil, "exact": evil},
             "title": evil, "error_model_ok": False}
    report = {"alpha": evil, "claims": {evil: entry}, "families": {evil: entry}}
    page = write_report_page(report, tmp_path).read_text()
    assert "<script" not in page
