"""Tests of the free_probability family beyond the generic battery.

The numerical core (:mod:`theorylab.free`) against independent mpmath references
at 50 digits; the CLI's handling of quantities and optional arguments; the lemmas
of ``proofs/free_probability``; independence of the simulations; ``spectra``.
"""

from __future__ import annotations

import ast
import json
import math
import pathlib

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis.errors import InvalidArgument
from theorylab.theory import free_probability as theory

from theorylab import free, laws, registry, strategies
from theorylab.errors import ParameterError

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _mp_density_reference(x, ratio, variance):
    """Closed-form MP density in mpmath (independent of the root tracking)."""
    x, ratio, variance = (mpmath.mpf(v) for v in (x, ratio, variance))
    low = variance * (1 - mpmath.sqrt(ratio)) ** 2
    high = variance * (1 + mpmath.sqrt(ratio)) ** 2
    if not low < x < high:
        return mpmath.mpf(0)
    return mpmath.sqrt((high - x) * (x - low)) / (2 * mpmath.pi * variance * ratio * x)


@pytest.mark.parametrize("ratio, variance", [(0.5, 1.0), (0.25, 1.7), (2.0, 0.6), (1.0, 1.0)])
def test_root_tracking_matches_mpmath_for_marchenko_pastur(ratio, variance):
    law = free.s_transform("marchenko_pastur", ratio=ratio, variance=variance)
    low, high = laws.marchenko_pastur_edges(ratio, variance)
    grid = np.linspace(low + 1e-3 * (high - low), high - 1e-3 * (high - low), 200)
    with mpmath.workdps(50):
        reference = np.array([float(_mp_density_reference(x, ratio, variance)) for x in grid])
    assert np.allclose(law.density(grid), reference, rtol=1e-9, atol=1e-12)
    with mpmath.workdps(50):
        x = grid[57]
        precise = law.density(x, precision=50)
        assert abs(precise - _mp_density_reference(x, ratio, variance)) < mpmath.mpf(10) ** -45
    assert math.isclose(law.edge(), high, rel_tol=1e-12)


def test_fuss_catalan_angle_parametrisation_matches_root_tracking():
    for s in (1, 2, 3):
        law = free.s_transform("fuss_catalan", s=s)
        grid = np.linspace(0.05, laws.fuss_catalan_edge(s) * 0.99, 300)
        assert np.allclose(law.density(grid), laws.fuss_catalan_density(grid, s),
                           rtol=1e-8, atol=1e-12)
        with mpmath.workdps(50):
            tracked = law.density(1.3, precision=50)
            angle = laws.fuss_catalan_density(mpmath.mpf(1.3), s)
            assert abs(tracked - angle) < mpmath.mpf(10) ** -40
        assert math.isclose(law.edge(), (s + 1) ** (s + 1) / s**s, rel_tol=1e-10)


def test_lagrange_inversion_is_exact():
    # Fuss-Catalan numbers, Narayana sums and an exact sympy series for MP ⊠ MP.
    for s in (1, 2, 3):
        moments = free.s_transform("fuss_catalan", s=s).moments(8, precision=50)
        assert [int(mpmath.nint(m)) for m in moments] == [
            laws.fuss_catalan_number(s, k) for k in range(1, 9)]
    law = free.free_multiplicative_convolution(
        free.s_transform("marchenko_pastur", ratio=0.5),
        free.s_transform("marchenko_pastur", ratio=0.25))
    w = sympy.Symbol("w")
    inverse = (1 + w) * (1 + sympy.Rational(1, 2) * w) * (1 + sympy.Rational(1, 4) * w)
    with mpmath.workdps(50):
        computed = law.moments(6, precision=50)
        for k in range(1, 7):
            exact = sympy.expand(inverse**k).coeff(w, k - 1) / k
            assert abs(computed[k - 1] - mpmath.mpf(sympy.Rational(exact).p)
                       / sympy.Rational(exact).q) < mpmath.mpf(10) ** -45
    assert np.allclose(law.moments(6), [float(m) for m in computed], rtol=1e-12)


def test_product_density_matches_polynomial_roots_at_50_digits():
    # Independent reference: all roots of the cubic χ(M) = x (mpmath.polyroots), the
    # branch with Im M < 0.
    law = free.free_multiplicative_convolution(
        free.s_transform("marchenko_pastur", ratio=0.5),
        free.s_transform("marchenko_pastur", ratio=0.25))
    for x in (0.3, 1.0, 2.2):
        with mpmath.workdps(50):
            # x M = (1 + M)(1 + M/2)(1 + M/4) -> cubic in M
            coefficients = [mpmath.mpf(1) / 8, mpmath.mpf(7) / 8, mpmath.mpf(7) / 4 - x, 1]
            roots = mpmath.polyroots(coefficients, maxsteps=200, extraprec=100)
            lower = [r for r in roots if mpmath.im(r) < -mpmath.mpf(10) ** -30]
            reference = -mpmath.im(lower[0]) / (mpmath.pi * x)
            assert abs(law.density(x, precision=50) - reference) < mpmath.mpf(10) ** -40
            assert abs(law.density(np.array([x]))[0] - float(reference)) < 1e-10


def test_density_integrates_to_the_continuous_mass():
    law = free.free_multiplicative_convolution(free.s_transform("marchenko_pastur", ratio=2.0),
                                               free.s_transform("marchenko_pastur", ratio=0.5))
    edge = law.edge()
    grid = np.linspace(1e-6, edge, 20001)
    mass = np.trapezoid(law.density(grid), grid)
    assert abs(mass - 0.5) < 2e-3  # atom 1 - 1/2 at zero


def test_core_rejects_bad_input():
    with pytest.raises(ValueError, match="law="):
        free.s_transform("cauchy")
    with pytest.raises(ValueError, match="ratio"):
        free.s_transform("marchenko_pastur", ratio=-1.0)
    with pytest.raises(ValueError, match="positive"):
        free.density_from_s_transform(free.s_transform("fuss_catalan", s=1), [0.0, 1.0])
    with pytest.raises(ValueError, match="upper half-plane"):
        free.stieltjes(free.s_transform("fuss_catalan", s=1), 1 - 1j)


def test_stieltjes_transform_is_one_over_z_at_infinity():
    law = free.s_transform("fuss_catalan", s=2)
    z = np.array([1e6 + 1j, 3 + 4j])
    g = free.stieltjes(law, z)
    assert abs(g[0] * z[0] - 1) < 1e-5
    assert g[1].imag < 0


def test_predict_fuss_catalan_moment_is_55(capsys):
    from theorylab.cli import main

    claim = registry.get("free_probability.fuss_catalan")
    assert claim.predict(s=2, quantity="moment", k=4) == 55
    assert main(["predict", "free_probability.fuss_catalan", "s=2", "quantity=moment", "k=4",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["value"] == 55


def test_quantity_arguments_are_optional_but_required_when_used():
    claim = registry.get("free_probability.marchenko_pastur")
    assert claim.predict(ratio=2.0, variance=1.0, quantity="atom") == 0.5
    with pytest.raises(ParameterError, match="'x'.*quantity='density'"):
        claim.predict(ratio=2.0, variance=1.0, quantity="density")
    with pytest.raises(ParameterError, match="'quantity'"):
        claim.predict(ratio=2.0, variance=1.0, quantity="median")


def test_mp_cdf_is_the_integral_of_the_density():
    for ratio, variance in ((0.5, 1.3), (2.0, 0.7), (1.0, 1.0)):
        low, high = laws.marchenko_pastur_edges(ratio, variance)
        for fraction in (0.2, 0.5, 0.9):
            x = low + fraction * (high - low)
            with mpmath.workdps(30):
                integral = mpmath.quad(lambda t, r=ratio, v=variance: _mp_density_reference(
                    t, r, v), [low, x])
            expected = max(0.0, 1 - 1 / ratio) + float(integral)
            assert math.isclose(laws.marchenko_pastur_cdf(x, ratio, variance), expected,
                                rel_tol=1e-10)


def test_lemmas_and_narayana_check():
    from theorylab.proofs import free_probability as proofs

    from theorylab.derivation import check_derivation

    for lemma in proofs.LEMMAS:
        result = check_derivation(lemma, lemma.steps[-1].expression)
        assert result.ok, [(s.index, s.detail) for s in result.steps]
    for k in range(1, 9):
        lagrange, narayana = proofs.narayana_from_lagrange(k)
        assert sympy.expand(lagrange - narayana) == 0


def test_numerics_never_imports_the_theory_or_the_core():
    tree = ast.parse((ROOT / "numerics" / "free_probability.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    assert not any(n.startswith(("theorylab.theory", "theorylab.free")) for n in names), names


def test_unverified_claims_are_kept_out_of_the_registry():
    ids = {c.id for c in registry.claims("free_probability")}
    assert "free_probability.s_transform_product" in ids
    for claim in theory.UNVERIFIED:
        assert claim.id not in ids
        assert math.isfinite(claim.predict(**_first_point(claim)))


def test_product_moments_lagrange_and_prediction_agree():
    from theorylab.proofs import free_probability as proofs

    claim = registry.get("free_probability.s_transform_product")
    for k in range(1, 7):
        lagrange, explicit = proofs.product_moments_from_lagrange(k)
        assert sympy.expand(lagrange - explicit) == 0
        values = {proofs.lambda_a: sympy.Rational(2, 3), proofs.lambda_b: sympy.Rational(1, 4),
                  theory.sigma2: sympy.Rational(3, 2)}
        expected = float(explicit.subs(values))
        predicted = claim.predict(ratio_a=2 / 3, ratio_b=0.25, variance=1.5,
                                  quantity="moment", k=k)
        assert math.isclose(predicted, expected, rel_tol=1e-12)
    # m₃ separates the product from the single_wishart decoy by σ⁶ λ_A λ_B exactly.
    point = {"ratio_a": 0.5, "ratio_b": 0.75, "variance": 1.0, "quantity": "moment", "k": 3}
    (single,) = [d for d in claim.decoys if d.name == "single_wishart"]
    decoy = claim.predict_decoy(single, **point)
    assert math.isclose(claim.predict(**point) - decoy, 0.375, rel_tol=1e-12)


def test_product_control_variates_have_mean_zero():
    import torch
    from theorylab.numerics.free_probability import wishart_product_moments

    rng = torch.Generator().manual_seed(0)
    _, controls = wishart_product_moments(6, 9, 12, 40000, 2, rng=rng, device="cpu",
                                          variance=1.7, controls=True)
    controls = controls.numpy()
    z = controls.mean(axis=0) / (controls.std(axis=0) / math.sqrt(len(controls)))
    assert np.all(np.abs(z) < 4.5), z


def _first_point(claim):
    from theorylab.verifier import draw_points

    return draw_points(claim, 1, seed=3)[0]


@pytest.mark.parametrize("strategy", [
    strategies.spectra(min_size=0),
    strategies.spectra(min_size=5, max_size=2),
    strategies.spectra(ensembles=("cauchy",)),
    strategies.spectra(ensembles=()),
])
def test_spectra_invalid_arguments_fail_when_drawn(strategy):
    @given(strategy)
    def draw(value):
        pass

    with pytest.raises(InvalidArgument, match="must"):
        draw()


@settings(max_examples=30, deadline=None)
@given(strategies.spectra(min_size=2, max_size=12, ensembles=("wishart",)))
def test_wishart_spectra_are_sorted_and_nonnegative(values):
    assert 2 <= values.size <= 12
    assert np.all(np.diff(values) >= 0) and values[0] > -1e-10


def test_mp_cdf_derivation_is_exact_and_its_constant_is_the_atom():
    from theorylab.proofs import free_probability as proofs

    from theorylab.derivation import StepStatus, check_derivation

    claim = registry.get("free_probability.mp_cdf")
    result = check_derivation(proofs.mp_cdf_by_antiderivative, claim.statement)
    assert result.status is StepStatus.EXACT, [(s.index, s.detail) for s in result.steps]
    # The integrate step checks F' = ρ only; the constant: F(a⁺) = (1 − 1/λ)₊, F(b⁻) = 1.
    for ratio, variance in ((0.5, 1.3), (2.0, 0.7), (3.0, 1.0)):
        values = {theory.lam: sympy.Rational(ratio), theory.sigma2: sympy.Rational(variance)}
        low, high = (edge.subs(values) for edge in (proofs.low, proofs.high))
        for x, expected in ((low + sympy.Rational(1, 10**30), max(0.0, 1 - 1 / ratio)),
                            (high - sympy.Rational(1, 10**30), 1.0)):
            value = sympy.N(claim.statement.subs({**values, theory.x_symbol: x}), 50)
            assert abs(float(value) - expected) < 1e-12


def test_claims_and_decoys_are_declarative():
    # Issue 14: the statements are the numbers (no evaluate hooks) and every decoy is a
    # statement, a substitution into the statements or the claim at changed parameters.
    for claim in registry.claims("free_probability"):
        assert claim.evaluate is None, claim.id
        for decoy in claim.decoys:
            assert decoy.evaluate is None, f"{claim.id}~{decoy.name}"


def test_mpmath_agrees_with_float64_at_every_pinned_point():
    records = json.loads((ROOT / "tests" / "data" / "free_probability_predictions.json")
                         .read_text())
    for record in records:
        claim, point = registry.get(record["claim"]), record["point"]
        if isinstance(record["predict"], str):
            continue
        fast = claim.predict(**point)
        precise = float(claim.predict(precision=40, **point))
        assert precise == pytest.approx(fast, rel=1e-12, abs=1e-300), record
