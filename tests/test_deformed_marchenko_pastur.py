"""free_probability.deformed_marchenko_pastur and its core, theorylab.silverstein.

Every number is checked against an independent computation: moments against a brute-force
sum over non-crossing partitions, the S-transform product (sympy series reversion) and
Wick's finite-n expectation; the tracked root against the polynomial form of the
Silverstein equation (numpy roots); the exact CDF against quadrature of the density; and
T = σ²I against the Marchenko–Pastur claim's own statements.
"""

from __future__ import annotations

import itertools
import json
import math

import mpmath
import numpy as np
import pytest
import sympy
import torch
from theorylab.numerics.free_probability import (
    sample_covariance_moments,
    sample_covariance_spectra,
)
from theorylab.theory import free_probability as theory

from theorylab import registry, silverstein
from theorylab.cli import main
from theorylab.errors import ParameterError
from theorylab.verifier import Status, check

CLAIM = theory.deformed_marchenko_pastur
POPULATIONS = ([0.5, 2.0], [0.3, 1.0, 4.0], [0.25, 0.25, 1.5, 3.0, 6.0])
RATIOS = (0.3, 1.0, 2.5)
# Necks between three bumps (λ = 0.3), the hard edge (λ = 1), an atom (λ = 2.5).
CASES = [(POPULATIONS[2], 0.3), (POPULATIONS[1], 1.0), (POPULATIONS[0], 2.5)]
GAUSS_NODES, GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(48)


def _noncrossing_partitions(k: int):
    """Every non-crossing partition of {0..k-1} (brute force over set partitions)."""
    def partitions(items):
        if not items:
            yield []
            return
        first, rest = items[0], items[1:]
        for smaller in partitions(rest):
            for index in range(len(smaller)):
                yield smaller[:index] + [[first, *smaller[index]]] + smaller[index + 1:]
            yield [[first], *smaller]

    def crossing(blocks):
        for one, two in itertools.permutations(blocks, 2):
            for a, c in itertools.combinations(sorted(one), 2):
                if any(a < b < c for b in two) and any(d < a or d > c for d in two):
                    return True
        return False

    return [blocks for blocks in partitions(list(range(k))) if not crossing(blocks)]


@pytest.mark.parametrize("population", POPULATIONS)
def test_moments_are_the_noncrossing_sum(population):
    # m_k = Σ_{σ ∈ NC(k)} λ^(|σ|−1) Π_B h_|B| (free cumulants of MP: λ^(j−1)).
    h = [float(np.mean(np.asarray(population) ** j)) for j in range(8)]
    for k in range(1, 7):
        partitions = _noncrossing_partitions(k)
        assert len(partitions) == math.comb(2 * k, k) // (k + 1)  # Catalan: the list is complete
        for ratio in RATIOS:
            expected = sum(ratio ** (len(blocks) - 1) * math.prod(h[len(b)] for b in blocks)
                           for blocks in partitions)
            value = CLAIM.predict(population=population, ratio=ratio, quantity="moment", k=k)
            assert math.isclose(value, expected, rel_tol=1e-13)


def test_moments_are_the_s_transform_product():
    from theorylab.proofs import free_probability as proofs

    for k in range(1, 4):
        from_s_transform, statement = proofs.deformed_moments_from_s_transform(k)
        assert sympy.expand(from_s_transform - statement) == 0
        population, ratio = [0.4, 1.0, 2.5], 0.7
        h = {sympy.Symbol(f"h{j}", positive=True): float(np.mean(np.asarray(population) ** j))
             for j in range(1, k + 1)}
        expected = float(from_s_transform.subs(h).subs(theory.lam, ratio))
        assert math.isclose(CLAIM.predict(population=population, ratio=ratio,
                                          quantity="moment", k=k), expected, rel_tol=1e-12)


def test_second_moment_by_wick_at_finite_n_tends_to_the_statement():
    # E tr(S²)/p = h₂(1 + 1/n) + (p/n)h₁² exactly (the control variate's mean): the limit.
    population, p = [0.5, 1.0, 3.0], 30
    rng = torch.Generator().manual_seed(0)
    moments, controls = sample_covariance_moments(population, p, 60, 4000, 3, rng=rng,
                                                  device="cpu")
    z = controls.mean(dim=0) / (controls.std(dim=0) / math.sqrt(controls.shape[0]))
    assert torch.all(z.abs() < 4.5)  # both controls have mean zero
    h1, h2 = np.mean(population), np.mean(np.square(population))
    assert math.isclose(CLAIM.predict(population=population, ratio=0.5, quantity="moment", k=2),
                        h2 + 0.5 * h1**2, rel_tol=1e-14)


def test_sampled_moments_and_spectra_agree_at_large_n():
    population, ratio = [0.5, 1.0, 3.0], 0.5
    rng = torch.Generator().manual_seed(1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small batched eigendecompositions: threads only contend
    try:
        values = sample_covariance_spectra(population, 150, 300, 8, rng=rng, device="cpu")
    finally:
        torch.set_num_threads(threads)
    for k in (1, 2, 3):
        per_matrix = (values**k).mean(dim=1).numpy()
        error = per_matrix.std(ddof=1) / math.sqrt(len(per_matrix))
        value = CLAIM.predict(population=population, ratio=ratio, quantity="moment", k=k)
        # 1/n bias: E tr(S²)/p − m₂ = h₂/n, 0.3% of m₂ at n = 300; 3% allows m₃'s too.
        assert abs(per_matrix.mean() - value) < 5 * error + 0.03 * value
    mass = CLAIM.predict(population=population, ratio=ratio, quantity="mass", x=0.5, upper=2.0)
    fraction = ((values > 0.5) & (values <= 2.0)).double().mean().item()
    assert abs(fraction - mass) < 0.01


def _polynomial_density(law, x):
    """ρ(x) from the roots of x·m̲·Π(1 + t m̲) = −Π(1 + t m̲) + λm̲ Σ w t Π_{j≠i}(1 + t_j m̲)."""
    t, w = np.array(law.values), np.array(law.weights)
    product = np.poly1d([1.0])
    for value in t:
        product *= np.poly1d([value, 1.0])
    right = np.poly1d([0.0])
    for i in range(len(t)):
        term = np.poly1d([law.ratio * w[i] * t[i], 0.0])
        for j in range(len(t)):
            if j != i:
                term *= np.poly1d([t[j], 1.0])
        right += term
    roots = (np.poly1d([x, 1.0]) * product - right).roots
    return max(max(root.imag for root in roots), 0.0) / (math.pi * law.ratio)


@pytest.mark.parametrize("population, ratio", CASES)
def test_tracked_density_is_the_polynomial_root(population, ratio):
    law = silverstein.DeformedMarchenkoPastur.of(population, ratio)
    grid = np.linspace(1e-3, 1.1 * law.edge(), 120)
    tracked = law.density(grid)
    expected = np.array([_polynomial_density(law, x) for x in grid])
    assert np.max(np.abs(tracked - expected) / (1 + expected)) < 1e-9
    # The upper edge (critical value of z(m̲)): the polynomial has a complex root just
    # below it and none just above.
    edge = law.edge()
    assert _polynomial_density(law, edge * (1 - 1e-4)) > 1e-5
    assert _polynomial_density(law, edge * (1 + 1e-6)) < 1e-8


def _nodes(law, lower, upper, panels=64):
    """Points and weights for ∫ f·ρ over [lower, upper] ∩ support, with ρ folded in.

    Per piece [a, b]: y = (a + b)/2 − (b − a)/2 cos θ. The density vanishes as a square
    root at the edges, so ρ(y(θ)) sin θ is smooth in θ; composite Gauss–Legendre (panels ×
    48 nodes) resolves the necks between bumps. Vectorised, independent of the exact CDF.
    """
    points, weights = [], []
    edges = law.edges()
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        low, high = max(lower, a), min(upper, b)
        if low >= high:
            continue
        start, stop = (np.arccos(np.clip((a + b - 2 * y) / (b - a), -1, 1)) for y in (low, high))
        bounds = np.linspace(start, stop, panels + 1)
        half = np.diff(bounds)[:, None] / 2
        theta = (bounds[:-1, None] + half * (GAUSS_NODES + 1)).ravel()
        y = (a + b) / 2 - (b - a) / 2 * np.cos(theta)
        points.append(y)
        weights.append((half * GAUSS_WEIGHTS).ravel() * law.density(y) * (b - a) / 2
                       * np.sin(theta))
    return np.concatenate(points), np.concatenate(weights)


@pytest.mark.parametrize("population, ratio", CASES)
def test_density_integrates_to_one_minus_the_atom_with_mean_m1(population, ratio):
    law = silverstein.DeformedMarchenkoPastur.of(population, ratio)
    edges = law.edges()
    assert len(edges) % 2 == 0 and edges[-1] == pytest.approx(law.edge(), rel=1e-12)
    points, weights = _nodes(law, 0.0, edges[-1])
    assert weights.sum() == pytest.approx(1 - law.atom, abs=1e-7)
    assert weights @ points == pytest.approx(law.moments(1)[0], rel=1e-7)
    # The exact CDF (antiderivative of m̲) against quadrature, inside every piece.
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        x = a + 0.6 * (b - a)
        assert law.cdf(x) == pytest.approx(law.atom + _nodes(law, 0.0, x)[1].sum(), abs=1e-7)
    for b, a in zip(edges[1:-1:2], edges[2::2], strict=True):  # gaps carry no mass
        assert law.mass(b, a) == pytest.approx(0.0, abs=1e-10)
        assert law.density(0.5 * (a + b)) < 1e-12


def test_two_separated_eigenvalues_split_the_support():
    law = silverstein.DeformedMarchenkoPastur.of([1.0, 10.0], 0.05)
    assert len(law.edges()) == 4  # two bulks, one around each population eigenvalue
    low, high = law.edges()[1], law.edges()[2]
    assert low < 2.0 < high
    assert law.cdf(0.5 * (low + high)) == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize("ratio", (0.25, 1.0, 2.0))
def test_identity_population_is_marchenko_pastur(ratio):
    mp = registry.get("free_probability.marchenko_pastur")
    variance = 1.7
    population = [variance] * 3
    for k in range(1, 6):
        assert math.isclose(CLAIM.predict(population=population, ratio=ratio, quantity="moment",
                                          k=k),
                            mp.predict(ratio=ratio, variance=variance, quantity="moment", k=k),
                            rel_tol=1e-13)
    low, high = mp.predict(ratio=ratio, variance=variance, quantity="edge") * np.array(
        [(1 - math.sqrt(ratio)) ** 2 / (1 + math.sqrt(ratio)) ** 2, 1.0])
    for x in np.linspace(max(low, 1e-3), high, 9)[1:-1]:
        assert math.isclose(
            CLAIM.predict(population=population, ratio=ratio, quantity="density", x=x),
            mp.predict(ratio=ratio, variance=variance, quantity="density", x=x), rel_tol=1e-10)
        assert math.isclose(
            CLAIM.predict(population=population, ratio=ratio, quantity="mass", x=x, upper=high),
            mp.predict(ratio=ratio, variance=variance, quantity="mass", x=x, upper=high),
            rel_tol=1e-10, abs_tol=1e-13)
    for quantity in ("edge", "atom"):
        assert math.isclose(CLAIM.predict(population=population, ratio=ratio, quantity=quantity),
                            mp.predict(ratio=ratio, variance=variance, quantity=quantity),
                            rel_tol=1e-12, abs_tol=1e-15)
    # The mean_variance_mp decoy is the truth here (one eigenvalue): it differs only for
    # spread populations.
    decoy = CLAIM.decoy("mean_variance_mp")
    assert math.isclose(CLAIM.predict_decoy(decoy, population=population, ratio=ratio,
                                            quantity="moment", k=3),
                        CLAIM.predict(population=population, ratio=ratio, quantity="moment",
                                      k=3), rel_tol=1e-13)


def test_the_atom_is_counted_only_in_bins_that_hold_zero():
    point = {"population": [0.5, 2.0], "ratio": 2.0, "quantity": "mass"}
    assert CLAIM.predict(**point, x=-1.0, upper=1e-9) == pytest.approx(0.5, abs=1e-12)
    assert CLAIM.predict(**point, x=0.0, upper=1e-9) == pytest.approx(0.0, abs=1e-12)
    assert CLAIM.predict(**point, x=-1.0, upper=100.0) == pytest.approx(1.0, abs=1e-12)
    assert CLAIM.predict(**point, x=-1.0, upper=-0.5) == 0.0
    assert CLAIM.predict(population=[0.5, 2.0], ratio=2.0, quantity="density", x=-1.0) == 0.0


def test_precision_agrees_with_float64():
    point = {"population": [0.3, 1.0, 4.0], "ratio": 0.7}
    for quantity, extra in (("moment", {"k": 4}), ("density", {"x": 1.3}),
                            ("mass", {"x": 0.5, "upper": 2.0}), ("edge", {})):
        precise = CLAIM.predict(**point, quantity=quantity, precision=40, **extra)
        value = CLAIM.predict(**point, quantity=quantity, **extra)
        assert isinstance(precise, mpmath.mpf)
        assert abs(float(precise) - value) <= 1e-11 * abs(value)


def test_check_passes_and_rejects_both_decoys():
    verdict = check(CLAIM, seed=0, record=False)
    assert verdict.status is Status.PASS, verdict.reason
    assert verdict.relative_resolution() <= CLAIM.resolution
    assert {d.subject.split("~")[1]: d.status for d in verdict.decoys} == {
        "mean_variance_mp": Status.FAIL, "inverted_ratio": Status.FAIL}


def test_sampled_populations_are_spread_enough_for_the_decoy():
    from theorylab.verifier import draw_points

    for point in draw_points(CLAIM, 10, seed=5):
        population = np.asarray(point["population"])
        assert population.max() / population.min() >= 3.9
        if point["quantity"] == "moment":
            truth = CLAIM.predict(**point)
            decoy = CLAIM.predict_decoy(CLAIM.decoy("mean_variance_mp"), **point)
            assert abs(decoy - truth) > 0.05 * truth  # beyond the 5% resolution


@pytest.mark.parametrize("arguments, named", [
    (["population=[]"], "population"),
    (["population=[0.5, -2]"], "population"),
    (["population=[[0.5, 2]]"], "population"),
    (["population=[0.5, 2]", "ratio=0"], "ratio"),
    (["population=[0.5, 2]", "ratio=-1"], "ratio"),
])
def test_bad_input_is_one_line_naming_the_parameter(arguments, named, capsys):
    defaults = {"population": "[0.5, 2]", "ratio": "0.5"}
    given = dict(argument.split("=", 1) for argument in arguments)
    assignments = [f"{k}={v}" for k, v in {**defaults, **given}.items()]
    code = main(["predict", CLAIM.id, *assignments, "quantity=moment", "k=2"])
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1 and f"'{named}'" in error
    assert "Traceback" not in error
    with pytest.raises(ParameterError):
        CLAIM.predict(**{**defaults, **{k: json.loads(v) for k, v in given.items()}},
                      quantity="moment", k=2)


def test_predict_on_the_command_line(capsys):
    for arguments, expected in (
            (["quantity=moment", "k=2"], 2.90625),  # h₂ + λh₁² = 2.125 + 0.5·1.5625
            (["quantity=atom"], 0.0),
            (["quantity=edge"], CLAIM.predict(population=[0.5, 2], ratio=0.5,
                                              quantity="edge"))):
        assert main(["predict", CLAIM.id, "population=[0.5, 2]", "ratio=0.5", *arguments,
                     "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["value"] == pytest.approx(expected,
                                                                             rel=1e-14)


def test_largest_eigenvalue_extrapolates_to_the_upper_edge():
    # E λ_max = edge + a p^(−2/3) + b p^(−4/3) (Tracy–Widom scaling): weighted least squares
    # over four sizes; the intercept is the predicted edge, not the mean_variance_mp decoy's.
    population, ratio = [0.5, 2.0], 0.5
    sizes, counts = np.array([24, 48, 96, 192]), (800, 400, 200, 100)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rng = torch.Generator().manual_seed(3)
    means, errors = [], []
    try:
        for size, count in zip(sizes, counts, strict=True):
            top = sample_covariance_spectra(population, int(size), int(size / ratio), count,
                                            rng=rng, device="cpu").max(dim=1).values.numpy()
            means.append(top.mean())
            errors.append(top.std(ddof=1) / math.sqrt(count))
    finally:
        torch.set_num_threads(threads)
    h = sizes ** (-2 / 3)
    design = np.column_stack([np.ones_like(h), h, h**2])
    weights = 1 / np.square(errors)
    normal = (design * weights[:, None]).T @ design
    intercept = np.linalg.solve(normal, (design * weights[:, None]).T @ np.array(means))[0]
    error = math.sqrt(np.linalg.inv(normal)[0, 0])
    edge = CLAIM.predict(population=population, ratio=ratio, quantity="edge")
    decoy = CLAIM.predict_decoy(CLAIM.decoy("mean_variance_mp"), population=population,
                                ratio=ratio, quantity="edge")
    assert abs(intercept - edge) < 4 * error
    assert abs(intercept - decoy) > 4 * error
