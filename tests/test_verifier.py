"""The verifier's statistics: calibration, NaN handling, shrinking, errors."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import sympy
from scipy import stats

from theorylab import registry
from theorylab.claim import Citation, Claim, Decoy, Parameter
from theorylab.domains import Real
from theorylab.errors import ParameterError
from theorylab.measurement import Measurement, extrapolate, reduce
from theorylab.verifier import Status, check, critical_value

mean = Parameter("mean", Real(-math.inf, math.inf, sample_lower=-2, sample_upper=2))
CITATION = Citation(("A. Tester",), 2024, "Synthetic", "eq. 1", arxiv="0000.00000")


def synthetic(simulation, statement=None, decoys=()):
    return Claim(
        id="synthetic.mean", title="mean", citation=CITATION, parameters=(mean,),
        statement=mean.symbol if statement is None else statement,
        quantity=sympy.Symbol("m"),
        simulation=f"tests._synthetic:{simulation}" if "." not in simulation else simulation,
        decoys=decoys, budget=1, ensemble=8,
    )


@pytest.fixture(autouse=True)
def _importable(monkeypatch):
    import pathlib
    import sys

    monkeypatch.syspath_prepend(str(pathlib.Path(__file__).parent.parent))
    sys.modules.pop("tests._synthetic", None)


def test_false_failure_rate_matches_alpha():
    # With exact Gaussian noise the check is an exact t-test: a true claim must
    # FAIL at rate alpha. 400 checks at alpha = 0.05: expect 20, sd 4.4. (Means near 0
    # cannot reach a 5% resolution, so PASS becomes INCONCLUSIVE; FAIL is unaffected.)
    claim = synthetic("gaussian_mean")
    failures = sum(check(claim, seed=seed, alpha=0.05, decoys=False, shrink=False).status
                   is Status.FAIL for seed in range(400))
    low, high = stats.binom.ppf([0.0005, 0.9995], 400, 0.05)
    assert low <= failures <= high, failures


def test_shifted_claim_fails_and_decoy_table_reports_it():
    # Means of about 100 with unit noise: 8 runs resolve 5% of the prediction.
    claim = dataclasses.replace(synthetic("gaussian_mean", decoys=(
        Decoy("shifted", "mean + 3", mean.symbol + 3),
    )), parameters=(Parameter("mean", Real(-math.inf, math.inf, sample_lower=90,
                                           sample_upper=110)),))
    verdict = check(claim, seed=0)
    assert verdict.status is Status.PASS
    assert verdict.decoys[0].status is Status.FAIL
    assert verdict.decoys[0].worst.z_score > 3


def _upper_only(threshold):
    """A decoy wrong only above ``threshold``; the first drawn point is the lower bound."""
    m = mean.symbol
    return dataclasses.replace(synthetic("gaussian_mean", decoys=(
        Decoy("upper_only", f"wrong above {threshold}",
              sympy.Piecewise((m + 30, m > threshold), (m, True))),
    )), parameters=(Parameter("mean", Real(-math.inf, math.inf, sample_lower=90,
                                           sample_upper=110)),))


def test_a_decoy_the_drawn_points_do_not_exercise_gets_a_point_that_does():
    """jacobian_spectrum seed 8 drew only quantities where its decoy equals the truth."""
    verdict = check(_upper_only(100), seed=0, record=False)
    assert len(verdict.points) == 2 and verdict.points[0].point["mean"] == 90
    assert verdict.points[1].point["mean"] > 100
    assert verdict.status is Status.PASS
    assert verdict.decoys[0].status is Status.FAIL


def test_a_decoy_no_drawn_point_separates_is_inconclusive_never_passed():
    verdict = check(_upper_only(1000), seed=0, record=False)
    assert verdict.status is Status.PASS and not verdict.decoys_rejected
    assert verdict.decoys[0].status is Status.INCONCLUSIVE
    assert "cannot tell them apart" in verdict.decoys[0].reason


def test_separation_counts_a_point_where_the_decoy_cannot_be_evaluated_as_none():
    """end_to_end_dynamics' swapped_gram is undefined at non-square points: they cannot
    reject it, so they must not count as exercising it."""
    from theorylab.verifier import separation

    assert separation([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 2.2)
    assert separation(0.0, 1e-3) == 1.0  # relative to the larger magnitude
    assert separation(1.0, ValueError("non-square")) == 0.0
    assert separation(ValueError("x"), 1.0) == 0.0
    assert separation([1.0, 2.0], [1.0]) == 0.0


def test_nan_in_simulation_is_inconclusive_never_pass():
    claim = dataclasses.replace(synthetic("blows_up"), budget=6,
                                parameters=(Parameter("mean", Real(0, 3, sample_lower=0,
                                                                   sample_upper=3)),))
    verdict = check(claim, seed=0)
    assert verdict.status is Status.INCONCLUSIVE
    assert "NaN" in verdict.reason
    bad = [p for p in verdict.points if p.status is Status.INCONCLUSIVE]
    good = [p for p in verdict.points if p.status is Status.PASS]
    assert bad and good  # computed points are kept alongside the blow-up
    assert all(p.point["mean"] > 1 for p in bad)


def test_crashing_simulation_is_inconclusive_with_reason():
    verdict = check(synthetic("raises"), seed=0)
    assert verdict.status is Status.INCONCLUSIVE
    assert "out of memory" in verdict.reason


def test_wrong_claim_fails_with_shrunk_counterexample():
    # A 1% error in the two-layer sigmoid, only visible once learning has started.
    true = registry.get("deep_linear.saxe_mode_strength")
    s, u0, tau, t = (true.symbols[k] for k in ("s", "u0", "tau", "t"))
    growth = sympy.exp(2.02 * s * t / tau)
    wrong = dataclasses.replace(true, id="deep_linear.wrong_rate", decoys=(),
                                statement=s * growth / (growth - 1 + s / u0), _cache={})
    verdict = check(wrong, seed=0, budget=6, shrink_time=30)
    assert verdict.status is Status.FAIL
    minimal = verdict.counterexample
    assert minimal is not None and minimal.status is Status.FAIL and minimal.ratio > 1
    # The minimal point still fails when checked on its own (same statistics).
    recheck = check(wrong, seed=1, points=[minimal.point], shrink=False)
    assert recheck.status is Status.FAIL


@pytest.mark.parametrize("bad, name", [
    ({"budget": 0}, "budget"), ({"seed": -1}, "seed"), ({"ensemble": 1}, "ensemble"),
    ({"device": "tpu"}, "device"), ({"alpha": 2.0}, "alpha"),
])
def test_bad_check_arguments_name_the_parameter(bad, name):
    claim = registry.get("deep_linear.end_to_end_dynamics")
    with pytest.raises(ParameterError, match=f"'{name}'"):
        check(claim, **bad)


def test_cuda_without_gpu_is_a_clear_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ParameterError, match="'device'"):
        check(registry.get("deep_linear.end_to_end_dynamics"), device="cuda")


@pytest.mark.gpu
def test_cuda_matches_cpu():
    claim = registry.get("deep_linear.saxe_mode_strength")
    on_gpu = check(claim, seed=2, device="cuda")
    assert on_gpu.status is Status.PASS and on_gpu.device == "cuda"
    assert all(d.status is Status.FAIL for d in on_gpu.decoys)


def test_richardson_removes_polynomial_bias_exactly():
    h = np.array([0.1, 0.05, 0.025])
    values = 2.0 + 3 * h + 5 * h**2
    assert extrapolate(values[:, None], h, order=1)[0] == pytest.approx(2.0, abs=1e-12)
    samples = np.stack([values + noise for noise in (0, 1e-9, -1e-9, 2e-9)], axis=1)
    estimate = reduce(Measurement(samples, h), order=1)
    assert estimate.value == pytest.approx(2.0, abs=1e-7)
    # The bias bound: the finer 2-level extrapolant's residual 5*h1*h2, plus the gap
    # between the coarser and finer 2-level extrapolants 5*(h0*h1 - h1*h2).
    expected = 5 * 0.05 * 0.025 + 5 * (0.1 * 0.05 - 0.05 * 0.025)
    assert estimate.bias_bound == pytest.approx(expected, rel=1e-3)


def test_bias_bound_is_slope_consistent():
    # diffrax-style order check: the GD error of the sigmoid falls like lr^1.
    from theorylab.numerics import deep_linear
    from theorylab.numerics._torch import generator

    claim = registry.get("deep_linear.saxe_mode_strength")
    point = {"s": 1.5, "u0": 0.05, "tau": 1.0, "t": 1.2}
    exact = claim.predict(**point)
    errors, rates = [], []
    torch = deep_linear.torch
    for steps in (50, 100, 200, 400):
        strengths = torch.full((2, 2), math.sqrt(point["u0"]), dtype=torch.float64)
        s = torch.full((2,), point["s"], dtype=torch.float64)
        duration = torch.full((2,), point["t"] / point["tau"], dtype=torch.float64)
        networks = deep_linear.mode_networks(strengths, s, rng=generator(0, "cpu"), device="cpu")
        final = deep_linear.train(networks, duration / steps, steps)[-1, 0].item()
        errors.append(abs(final - exact))
        rates.append(point["t"] / point["tau"] / steps)
    slope = stats.linregress(np.log(rates), np.log(errors)).slope
    assert slope == pytest.approx(1.0, abs=0.1)


def test_critical_value_grows_with_comparisons():
    assert critical_value(1e-3, 1, 8) < critical_value(1e-3, 100, 8)
    assert critical_value(1e-3, 1, 10**6) == pytest.approx(stats.norm.ppf(1 - 5e-4), rel=1e-3)


def test_points_depend_on_the_seed_alone(monkeypatch):
    # hypothesis mixes literals from local source files into its draws; the points for
    # a seed must not change with what the process has imported or with those literals.
    from hypothesis.internal.conjecture import providers

    from theorylab.verifier import _key, draw_points

    def keys(seed):
        return [_key(point) for point in draw_points(claim, 6, seed=seed)]

    claim = registry.get("rg_flow.nngp_kernel")
    before = keys(3)
    # (without the guard, this pool changes seed 3's points: checked when written)
    polluted = providers.Constants(integers=set(range(1, 50)), floats={x / 7 for x in range(1, 60)})
    monkeypatch.setattr(providers, "_get_local_constants", lambda: polluted)
    providers.CONSTANTS_CACHE.cache.clear()
    assert keys(3) == before
    assert keys(4) != before
