"""What a verdict means: power floor, evidence of every check, guards, definition errors."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from scipy import stats

from theorylab import registry
from theorylab.claim import Citation, Claim, Decoy, Parameter, SystematicError
from theorylab.domains import Integer, Real
from theorylab.errors import ClaimDefinitionError
from theorylab.evidence import Evidence
from theorylab.measurement import Measurement, observed_order
from theorylab.verifier import Status, check

NOTES = Citation(authors=("A. Theorist",), year=2026, title="Notes", where="eq. 1",
                 arxiv="0000.00000")
PARAMETERS = (Parameter("a", Real(0, 4, sample_lower=0.5, sample_upper=2.0), "a scale"),
              Parameter("k", Integer(1, 8), "an integer"))


def _claim(simulation, **options):
    fields = dict(id="unit.claim", title="a k", citation=NOTES, parameters=PARAMETERS,
                  statement=sympy.Symbol("a") * sympy.Symbol("k"), quantity=sympy.Symbol("q"),
                  conventions=("none",), simulation=simulation, budget=4, ensemble=8,
                  decoys=(Decoy("double", "twice", 2 * sympy.Symbol("a") * sympy.Symbol("k")),))
    fields.update(options)
    return Claim(**fields)


def _exact(noise: float = 1e-3, value=None):
    def simulate(points, *, seed, device, ensemble):
        rng = np.random.default_rng(seed)
        return [Measurement(samples=(point["a"] * point["k"] if value is None else value)
                            * (1 + noise * rng.standard_normal((1, ensemble))))
                for point in points]
    return simulate


def test_a_check_below_the_default_budget_is_a_smoke_check(tmp_path):
    evidence = Evidence(tmp_path / "evidence.jsonl")
    claim = _claim(_exact())
    full = check(claim, seed=0, record=evidence)
    assert full.status is Status.PASS and not full.smoke
    smoke = check(_claim(_exact(value=1e-9)), budget=2, seed=0, record=evidence)
    assert smoke.smoke and smoke.status is Status.FAIL
    assert evidence.latest("verdict", claim)["status"] == "PASS"  # smoke never lowers it
    assert evidence.latest("verdict", claim, include_smoke=True)["smoke"] is True


def test_check_records_by_default_and_can_opt_out(tmp_path, monkeypatch):
    path = tmp_path / "default.jsonl"
    monkeypatch.setenv("THEORYLAB_EVIDENCE", str(path))
    check(_claim(_exact()), seed=0)
    assert len(Evidence(path).entries()) == 1
    check(_claim(_exact()), seed=0, record=False)
    assert len(Evidence(path).entries()) == 1


def test_one_overflowed_sample_never_widens_the_tolerance_into_a_pass():
    def overflowing(points, *, seed, device, ensemble):
        samples = np.ones((1, ensemble))
        samples[0, 0] = 1e308
        return [Measurement(samples=samples) for _ in points]

    verdict = check(_claim(overflowing), seed=0, record=False)
    assert verdict.status is Status.INCONCLUSIVE and "not finite" in verdict.reason
    assert all(d.status is not Status.PASS for d in verdict.decoys)


def test_constant_garbage_near_the_float_limit_is_not_a_pass():
    verdict = check(_claim(_exact(noise=0.5, value=1e307)), seed=0, record=False)
    assert verdict.status is not Status.PASS


def test_complex_samples_are_refused_with_a_reason():
    def complex_samples(points, *, seed, device, ensemble):
        return [Measurement(samples=np.full((1, ensemble), 1 + 1j)) for _ in points]

    verdict = check(_claim(complex_samples), seed=0, record=False)
    assert verdict.status is Status.INCONCLUSIVE and "complex" in verdict.reason


@pytest.mark.parametrize("error", [TypeError("bad"), KeyError("k"), AssertionError(),
                                   ImportError("nope"), MemoryError(), SystemExit(3)])
def test_a_simulation_that_raises_is_inconclusive_with_its_summary(error):
    def raising(points, *, seed, device, ensemble):
        raise error

    verdict = check(_claim(raising), seed=0, record=False)
    assert verdict.status is Status.INCONCLUSIVE
    assert type(error).__name__ in verdict.reason and "\n" not in verdict.reason


def test_several_levels_without_a_declared_bias_are_refused():
    def levels(points, *, seed, device, ensemble):
        return [Measurement(samples=np.ones((2, ensemble)), resolutions=[0.1, 0.05])
                for _ in points]

    with pytest.raises(ClaimDefinitionError, match="declares no systematic_error"):
        check(_claim(levels), seed=0, record=False)


@pytest.mark.parametrize(("options", "message"), [
    ({"resolution": 0.0}, "resolution must be a number in \\(0, 1\\)"),
    ({"resolution": 1.5}, "resolution must be a number in \\(0, 1\\)"),
    ({"statement": sympy.Symbol("eta") * 2}, "symbol 'eta', which is not a parameter"),
    ({"id": "nofamily"}, "family prefix"),
    ({"decoys": (Decoy("x", "x", sympy.Symbol("zeta")),)}, "decoy 'x' uses the symbol 'zeta'"),
])
def test_a_wrongly_defined_claim_is_a_one_line_error(options, message):
    with pytest.raises(ClaimDefinitionError, match=message) as raised:
        _claim(_exact(), **options)
    assert "\n" not in str(raised.value)


def test_parameters_bind_by_name():
    claim = _claim(_exact(), statement=sympy.Symbol("a", positive=True) ** 2)
    assert claim.predict(a=3.0, k=1) == 9.0


@pytest.mark.parametrize("order", [1, 2, 3])
def test_observed_order_matches_the_true_order(order):
    """diffrax-style: log|level differences| against log h has slope p (linregress)."""
    steps = 0.2 / 2.0 ** np.arange(5)
    rng = np.random.default_rng(order)
    samples = 1 + 0.7 * steps[:, None] ** order + 1e-9 * rng.standard_normal((5, 16))
    fit = observed_order(Measurement(samples=samples, resolutions=steps), critical=4.0)
    differences = np.abs(np.diff(samples.mean(axis=1)))[-2:]  # the three finest levels
    slope = stats.linregress(np.log(steps[-3:-1]), np.log(differences)).slope
    assert fit.identifiable and abs(float(fit.observed) - order) < 1e-3
    assert abs(float(fit.observed) - slope) < 1e-9


def test_order_is_not_judged_from_noise():
    steps = np.array([0.2, 0.1, 0.05])
    samples = 1 + np.random.default_rng(0).standard_normal((3, 16))
    fit = observed_order(Measurement(samples=samples, resolutions=steps), critical=4.0)
    assert not fit.identifiable


def test_declared_order_one_with_true_order_two_is_accepted():
    """Only an order below the declared one makes the bias bound unsafe."""
    steps = np.array([0.2, 0.1, 0.05])

    def quadratic(points, *, seed, device, ensemble):
        rng = np.random.default_rng(seed)
        return [Measurement(samples=point["a"] * point["k"] * (1 + steps[:, None] ** 2)
                            + 1e-6 * rng.standard_normal((3, ensemble)), resolutions=steps)
                for point in points]

    claim = _claim(quadratic, systematic_error=SystematicError("h", order=1))
    assert check(claim, seed=0, record=False).status is Status.PASS


def test_catalogue_status_ignores_smoke_checks(tmp_path):
    claim = registry.get("deep_linear.saxe_mode_strength")
    evidence = Evidence(tmp_path / "evidence.jsonl")
    verdict = check(claim, budget=2, seed=0, record=evidence)
    assert verdict.smoke
    assert evidence.latest("verdict", claim) is None


def test_a_deterministic_quantity_has_no_order_to_contradict():
    """Equal at every level up to rounding: nothing to judge (no false INCONCLUSIVE)."""
    steps = np.array([0.2, 0.1, 0.05])
    samples = np.full((3, 8), 0.7)
    samples[1] += 1e-17
    fit = observed_order(Measurement(samples=samples, resolutions=steps), critical=4.0)
    assert not fit.identifiable


def test_a_pre_asymptotic_coarse_level_does_not_fake_a_low_order():
    """saxe_learning_time, seed 22: differences 7.9e-7, 6.8e-7, 4.1e-7 (ratios 1.17, 1.66,
    climbing to 2) are a first-order bias; the order comes from the finest levels."""
    steps = np.array([0.00244213, 0.00122107, 0.00061053, 0.00030527])
    means = np.array([0.4639152, 0.46391599, 0.46391667, 0.46391708])
    fit = observed_order(Measurement(samples=np.repeat(means[:, None], 8, axis=1),
                                     resolutions=steps), critical=8.0)
    assert fit.identifiable and 0.5 < float(fit.observed) < 1.0


def test_differences_within_the_declared_rounding_carry_no_order():
    """singular_value_dynamics seed 180 (device sweep): a difference quotient at learning
    rates 6.4e-5, 3.2e-5, 1.6e-5 whose true bias is below its eps/h cancellation (declared
    rounding 6.5e-10): level differences -5.2e-12, -1.39e-11 grow as h shrinks (order -1.4)."""
    steps = np.array([6.390644407846242e-05, 3.195322203923121e-05, 1.5976611019615605e-05])
    means = np.array([0.7370076653338030, 0.7370076653285912, 0.7370076653146931])
    samples = np.repeat(means[:, None], 4, axis=1)
    fit = observed_order(Measurement(samples=samples, resolutions=steps,
                                     rounding=6.5e-10), critical=8.0)
    assert not fit.identifiable
    # Without the declared rounding the same means would contradict order 1.
    fit = observed_order(Measurement(samples=samples, resolutions=steps), critical=8.0)
    assert fit.identifiable and float(fit.observed) < 0


@pytest.mark.parametrize("differences", [
    # saxe_learning_time seed 20 point 4; unequal_layer_time seed 169 point 11 (16-core
    # sweep): the coarse difference has the other sign, so h and h^2 terms compete.
    (-1.22005491e-06, 8.50463959e-07, 7.90264586e-07),
    (-7.10807232e-06, 7.90337986e-06, 6.80166690e-06),
])
def test_a_sign_change_at_a_coarse_level_hides_the_order(differences):
    steps = 0.004 / 2.0 ** np.arange(4)
    means = 1.49 + np.concatenate([[0.0], np.cumsum(differences)])
    samples = means[:, None] + 1e-15 * np.random.default_rng(0).standard_normal((4, 8))
    fit = observed_order(Measurement(samples=samples, resolutions=steps), critical=8.0)
    assert not fit.identifiable


def test_a_clean_first_order_bias_still_contradicts_a_declared_second_order():
    steps = 0.004 / 2.0 ** np.arange(4)
    samples = 1.49 + 0.3 * steps[:, None] + 1e-12 * np.random.default_rng(0).standard_normal(
        (4, 8))
    fit = observed_order(Measurement(samples=samples, resolutions=steps), critical=8.0)
    assert fit.identifiable and abs(float(fit.observed) - 1) < 1e-3
