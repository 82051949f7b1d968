"""Tests of the neural_collapse family: metrics on constructed inputs, hand-derived
closed-form values, the collapse edge of the deep head, proofs, bad input, the CLI example
and the class_sizes strategy. The generic battery (tests/test_battery.py) runs the checks."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis.errors import InvalidArgument
from theorylab.numerics import neural_collapse as nc
from theorylab.proofs import neural_collapse as proofs
from theorylab.theory import neural_collapse as theory

from theorylab import collapse_geometry as geometry
from theorylab import registry, strategies
from theorylab.derivation import StepStatus, check_derivation
from theorylab.errors import ParameterError

CE = registry.get("neural_collapse.ufm_ce_minimizer")
MSE = registry.get("neural_collapse.ufm_mse_minimizer")
DEEP = registry.get("neural_collapse.deep_linear_imbalanced")
ETF = registry.get("neural_collapse.simplex_etf")


def _simplex(classes: int) -> np.ndarray:
    """Rows: the simplex ETF in R^K, sqrt(K/(K-1)) (e_k - 1/K)."""
    return math.sqrt(classes / (classes - 1)) * (np.eye(classes) - 1 / classes)


# -- metrics on constructed inputs -------------------------------------------------------


def test_nc1_is_zero_for_collapsed_features_and_known_for_two_points():
    means = np.array([[1.0, 0.0], [-1.0, 0.0]])
    labels = np.array([0, 0, 1, 1])
    assert nc.nc1_papyan(means[labels], labels) == pytest.approx(0.0, abs=1e-15)
    # Class 0 at (1, +-a), class 1 at (-1, +-a): Sigma_W = diag(0, a^2), Sigma_B = diag(1, 0),
    # so Sigma_W Sigma_B^+ = 0; with the spread along x instead, (1 +- a, 0):
    # Sigma_W = diag(a^2, 0), Sigma_B^+ = diag(1, 0): Tr/K = a^2/2.
    spread = 0.3
    features = np.array([[1 + spread, 0], [1 - spread, 0], [-1 + spread, 0], [-1 - spread, 0]])
    assert nc.nc1_papyan(features, labels) == pytest.approx(spread**2 / 2, rel=1e-12)
    across = np.array([[1, spread], [1, -spread], [-1, spread], [-1, -spread]])
    assert nc.nc1_papyan(across, labels) == pytest.approx(0.0, abs=1e-15)


def test_nc2_statistics_vanish_on_the_simplex_and_take_known_values_off_it():
    etf = _simplex(4) * 2.5  # scale does not matter
    assert nc.nc2_equinorm_papyan(etf) == pytest.approx(0.0, abs=1e-14)
    assert nc.nc2_equiangularity_papyan(etf) == pytest.approx(0.0, abs=1e-14)
    assert nc.nc2_max_angle_papyan(etf) == pytest.approx(0.0, abs=1e-14)
    assert nc.nc2_etf_distance_zhu(etf) == pytest.approx(0.0, abs=1e-14)
    # Norms 1 and 3: mean 2, population std 1 -> 1/2.
    assert nc.nc2_equinorm_papyan(np.array([[1.0, 0.0], [0.0, 3.0]])) == pytest.approx(0.5)
    # Three orthonormal vectors: cosines all 0, so equiangular (std 0); max-angle
    # statistic |0 + 1/2| = 1/2.
    identity = np.eye(3)
    assert nc.nc2_equiangularity_papyan(identity) == pytest.approx(0.0, abs=1e-15)
    assert nc.nc2_max_angle_papyan(identity) == pytest.approx(0.5)
    # Zhu's distance for W W^T = I (K = 3): ||I/sqrt(3) - (I - J/3)/sqrt(2)||_F; entries:
    # diagonal 1/sqrt(3) - (2/3)/sqrt(2), off-diagonal (1/3)/sqrt(2) (6 of them).
    diagonal = 1 / math.sqrt(3) - (2 / 3) / math.sqrt(2)
    off = (1 / 3) / math.sqrt(2)
    expected = math.sqrt(3 * diagonal**2 + 6 * off**2)
    assert nc.nc2_etf_distance_zhu(identity) == pytest.approx(expected, rel=1e-12)
    # Angles 0, 90, 180 degrees in the plane: cosines (0, -1, 0) each twice.
    three = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    cosines = np.array([0, -1, 0, 0, -1, 0], dtype=float)
    assert nc.nc2_equiangularity_papyan(three) == pytest.approx(cosines.std())
    assert nc.nc2_max_angle_papyan(three) == pytest.approx(np.abs(cosines + 0.5).mean())


def test_nc3_and_nc4_on_constructed_inputs():
    means = _simplex(3)
    assert nc.nc3_self_duality(4.0 * means, means) == pytest.approx(0.0, abs=1e-14)
    # W = -Mdot: ||-a - a||^2 with ||a||_F = 1 gives 4.
    assert nc.nc3_self_duality(-means, means) == pytest.approx(4.0)
    labels = np.array([0, 1, 2, 0])
    features = means[labels] + 0.01
    assert nc.nc4_ncc_agreement(features, means, None, means) == 1.0
    # A bias large enough to make class 2 win everywhere: agreement only on the class-2 example.
    bias = np.array([0.0, 0.0, 100.0])
    assert nc.nc4_ncc_agreement(features, means, bias, means) == pytest.approx(0.25)


def test_metrics_reject_a_single_vector():
    with pytest.raises(ValueError):
        nc.nc2_equinorm_papyan(np.ones((1, 3)))


# -- closed forms: values derived by hand ---------------------------------------------------


def test_ce_closed_form_at_a_hand_computed_point():
    # K = 2, n = 1, lambda_W = lambda_H = 0.1: r = sqrt(n lambda_W lambda_H) = 0.1,
    # ||w||^2 = (1/2) sqrt(1) log(1/0.1 - 1) = log(3); value -log(0.9) + 0.1 log 9.
    point = {"K": 2, "n": 1, "d": 1, "lambda_W": 0.1, "lambda_H": 0.1, "lambda_b": 0.0}
    norms = CE.predict(quantity="weight_norm_squared", **point)
    assert norms == pytest.approx([math.log(3)] * 2, rel=1e-13)
    value = CE.predict(quantity="optimal_value", **point)
    assert value == pytest.approx(-math.log(0.9) + 0.1 * math.log(9), rel=1e-13)
    assert CE.predict(quantity="feature_scale", **point) == pytest.approx(1.0)
    assert np.allclose(CE.predict(quantity="cosine", **point), [[1, -1], [-1, 1]])
    # Collapse: K sqrt(n lambda_W lambda_H) = 2 * 0.6 >= 1 -> W = H = 0, value log 2.
    collapsed = {**point, "lambda_W": 0.6, "lambda_H": 0.6}
    assert CE.predict(quantity="optimal_value", **collapsed) == pytest.approx(math.log(2))
    assert CE.predict(quantity="weight_norm_squared", **collapsed) == pytest.approx([0, 0])
    with pytest.raises(ParameterError, match="quantity"):
        CE.predict(quantity="cosine", **collapsed)


def test_ce_value_is_continuous_at_the_collapse_threshold():
    below = {"K": 3, "n": 2, "d": 2, "lambda_b": 0.0, "quantity": "optimal_value"}
    edge = 1 / (3 * math.sqrt(2))  # lambda_W = lambda_H with K sqrt(n) lambda = 1
    values = [CE.predict(lambda_W=edge * f, lambda_H=edge * f, **below) for f in (0.999999, 1)]
    assert values[0] == pytest.approx(math.log(3), rel=1e-5) and values[1] == math.log(3)


def test_mse_closed_form_at_a_hand_computed_point():
    # K = 2, n = 2, lambda_W = 0.1, lambda_H = 0.05: sqrt(n lambda_W lambda_H) = 0.1, c = 0.8.
    point = {"K": 2, "n": 2, "d": 2, "lambda_W": 0.1, "lambda_H": 0.05}
    free = MSE.predict(bias="none", quantity="logit_matrix", **point)
    assert np.allclose(free, 0.8 * np.eye(2), rtol=1e-13)
    # ||w||^2 = c sqrt(n lambda_H/lambda_W) = 0.8 * 1; with bias times (K-1)/K = 1/2.
    assert MSE.predict(bias="none", quantity="weight_norm_squared", **point) == \
        pytest.approx([0.8, 0.8])
    assert MSE.predict(bias="unregularized", quantity="weight_norm_squared", **point) == \
        pytest.approx([0.4, 0.4])
    with_bias = MSE.predict(bias="unregularized", quantity="logit_matrix", **point)
    assert np.allclose(with_bias, 0.8 * (np.eye(2) - 0.5), rtol=1e-13)
    # value K[(1-c)^2/(2K) + r c] = 2[0.04/4 + 0.08] = 0.18; with bias (K-1)/K of it.
    assert MSE.predict(bias="none", quantity="optimal_value", **point) == pytest.approx(0.18)
    assert MSE.predict(bias="unregularized", quantity="optimal_value", **point) == \
        pytest.approx(0.09)
    assert MSE.predict(bias="none", quantity="feature_scale", **point) == pytest.approx(1.0)


def test_deep_head_depth_one_by_hand():
    # n = [3, 1], lambda = 0.2: N = 4, b = N^2 lambda^2 = 0.64 (M = 1);
    # x_k = sqrt(n_k/b) - 1, s_k^2 = N lambda_H x_k.
    point = {"n": [3, 1], "M": 1, "lambda_W": 0.2, "lambda_H": 0.2}
    x = [math.sqrt(3 / 0.64) - 1, math.sqrt(1 / 0.64) - 1]
    expected = [math.sqrt(4 * 0.2 * v) for v in x]
    assert DEEP.predict(**point) == pytest.approx(expected, rel=1e-13)  # default quantity
    value = sum(size / (1 + v) + 0.64 * v for size, v in zip((3, 1), x, strict=True)) / 8
    assert DEEP.predict(quantity="optimal_value", **point) == pytest.approx(value, rel=1e-13)
    # Threshold n_k <= N^2 lambda_W lambda_H: with lambda = 0.3, b = 1.44 > 1: class 2 collapses.
    assert DEEP.predict(**{**point, "lambda_W": 0.3, "lambda_H": 0.3})[1] == 0.0
    assert theory.collapse_threshold(4, 0.3, 0.3, 1) == pytest.approx(16 * 0.09)


def test_deep_head_edge_where_the_largest_root_is_not_the_minimizer():
    # M = 2: phi(x) = 2x/(x^2+1)^2 peaks at x = 1/sqrt(3), phi = 9/(8 sqrt 3) ~ 0.6495.
    # With n_k/b = 1.7 the root exists (b/n_k = 0.588 < 0.6495) but the collapse edge is
    # n_k/b = M (M-1)^(1/M-1) = 2, so s_k = 0 is the global minimizer.
    ratio = 1.7
    root = geometry.largest_root(1 / ratio, 2)
    assert root is not None
    assert 2 * float(root) / (float(root) ** 2 + 1) ** 2 == pytest.approx(1 / ratio, rel=1e-12)
    size, b = 1.0, 1 / ratio  # g(x) = n/(x^2+1) + b x in units of n
    assert size / (float(root) ** 2 + 1) + b * float(root) > size  # worse than s = 0
    sizes, depth, decay = [4, 1], 2, None
    total = sum(sizes)
    # choose lambda_W = lambda_H = lam with b = M N lam (N lam)^(1/M) = n_min / ratio
    decay = ((1 / ratio) / (depth * total ** 1.5)) ** (2 / 3)
    point = {"n": sizes, "M": depth, "lambda_W": decay, "lambda_H": decay}
    assert DEEP.predict(**point)[1] == 0.0
    literal = DEEP.predict_decoy(DEEP.decoy("largest_root_always"), **point)
    assert literal[1] > 0.1
    assert theory.collapse_threshold(total, decay, decay, depth) == pytest.approx(2 / ratio)


def test_etf_predictions():
    assert ETF.predict(K=4, d=3, quantity="cosine") == pytest.approx(-1 / 3)
    gram = ETF.predict(K=3, d=5, quantity="gram")
    assert np.allclose(gram, [[1, -0.5, -0.5], [-0.5, 1, -0.5], [-0.5, -0.5, 1]])
    assert np.allclose(ETF.predict(K=3, d=2, quantity="gram_eigenvalues"), [0, 1.5, 1.5])
    assert np.allclose(gram, _simplex(3) @ _simplex(3).T)


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("claim, change, name", [
    (CE, {"K": 1}, "K"),
    (CE, {"lambda_W": -0.1}, "lambda_W"),
    (CE, {"lambda_H": 0.0}, "lambda_H"),
    (CE, {"d": 1, "K": 3}, "d"),
    (MSE, {"d": 2, "K": 3, "bias": "none"}, "d"),
    (ETF, {"K": 5, "d": 3}, "d"),
])
def test_bad_input_names_the_parameter(claim, change, name):
    base = {"K": 3, "n": 2, "d": 3, "lambda_W": 0.01, "lambda_H": 0.01, "lambda_b": 0.0,
            "bias": "unregularized", "quantity": "optimal_value"}
    if claim is ETF:
        base = {"K": 3, "d": 3, "quantity": "cosine"}
    known = {p.name for p in claim.parameters}
    point = {k: v for k, v in {**base, **change}.items() if k in known}
    with pytest.raises(ParameterError) as error:
        claim.predict(**point)
    assert error.value.parameter == name


@pytest.mark.parametrize("sizes, detail", [
    ([3, 0, 2], "empty"), ([3], "K >= 2"), ([2.5, 1], "integers"), ([True, 2], None),
    ("[3, 1]", None), ([[3, 1]], None),
])
def test_class_sizes_are_validated(sizes, detail):
    with pytest.raises(ParameterError, match=detail or "positive integers"):
        DEEP.predict(n=sizes, M=1, lambda_W=0.01, lambda_H=0.01)


def test_cli_prints_per_class_values_as_json():
    result = subprocess.run(
        [sys.executable, "-m", "theorylab.cli", "predict", "neural_collapse.deep_linear_imbalanced",
         "n=[20,10,5,2]", "lambda_W=0.002", "lambda_H=0.002", "M=1", "--json"],
        capture_output=True, text=True, check=False)
    if result.returncode != 0 and "No module named theorylab.cli.__main__" in result.stderr:
        pytest.skip("no module entry point")
    record = json.loads(result.stdout)
    assert len(record["value"]) == 4 and record["parameters"]["quantity"] == \
        "layer_singular_value"
    # M = 1: s_k^2 = N lambda_H x_k, x_k = sqrt(n_k/(N^2 lambda^2)) - 1 (N = 37).
    expected = [math.sqrt(37 * 0.002 * (math.sqrt(size) / (37 * 0.002) - 1))
                for size in (20, 10, 5, 2)]
    assert record["value"] == pytest.approx(expected, rel=1e-12)
    bad = subprocess.run(
        [sys.executable, "-m", "theorylab.cli", "predict", "neural_collapse.deep_linear_imbalanced",
         "n=[20,0,5]", "lambda_W=0.002", "lambda_H=0.002", "M=1"],
        capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "empty" in bad.stderr


# -- proofs ----------------------------------------------------------------------------------


def test_registered_derivations_cover_every_claim_and_the_etf_proofs_are_exact():
    for claim in registry.claims("neural_collapse"):
        found = registry.derivations(claim.id)
        assert found, claim.id
        for derivation in found:
            result = check_derivation(derivation, claim.statement)
            assert result.ok, (derivation.title, [s.detail for s in result.steps])
    for derivation in registry.derivations(ETF.id):
        assert check_derivation(derivation, ETF.statement).status is StepStatus.EXACT


def test_consequences_check():
    for derivation in proofs.CONSEQUENCES:
        last = derivation.steps[-1].expression
        result = check_derivation(derivation, last.rhs)
        assert result.ok, (derivation.title, [(s.index, s.detail) for s in result.steps])


def test_etf_proof_uses_symbolic_K():
    gram = proofs.etf_gram_from_construction.steps[-1].expression.rhs
    assert gram.free_symbols == {theory.K} and gram.has(theory.J_K)


def test_a_wrong_etf_step_fails():
    from sympy import Eq

    from theorylab.derivation import Derivation, Step

    wrong = Derivation(
        claim=ETF.id, title="wrong: (I - J/K)^2 = I - 2J/K",
        steps=(Step.assume(Eq(proofs.G, (theory.I_K - theory.J_K / theory.K) ** 2), "square"),
               Step.substitute(Eq(proofs.G, theory.I_K - 2 * theory.J_K / theory.K),
                               {}, "forgetting J^2 = K J")))
    assert not check_derivation(wrong, ETF.statement).ok


# -- numerics ----------------------------------------------------------------------------


def test_minimize_reaches_the_minimum_of_a_rosenbrock_batch():
    def rosenbrock(x: torch.Tensor, hyper: torch.Tensor) -> torch.Tensor:
        return (hyper[0] - x[0]) ** 2 + 10 * (x[1] - x[0] ** 2) ** 2

    hyper = torch.tensor([[1.0], [2.0]], dtype=torch.float64)
    start = torch.zeros(2, 2, dtype=torch.float64)
    result = nc.minimize(rosenbrock, start, hyper)
    expected = torch.tensor([[1.0, 1.0], [2.0, 4.0]], dtype=torch.float64)
    assert torch.allclose(result["x"], expected, atol=1e-9)
    assert float(result["gradient_norm"].max()) < 1e-9


def test_simulation_reports_the_best_start_and_a_bias_bound():
    point = {"K": 3, "n": 1, "d": 2, "lambda_W": 0.01, "lambda_H": 0.01, "bias": "none",
             "quantity": "optimal_value"}
    point["d"] = 3
    (measurement,) = nc.ufm_mse_minimizer([point], seed=0, device="cpu", ensemble=2)
    assert measurement.info["starts"] == 2 * nc.RESTARTS
    assert 0 < measurement.rounding < 1e-9
    # K r - K^2 r^2/2 with r = 0.01, K = 3 (bias-free, c > 0)
    assert measurement.samples[0, 0] == pytest.approx(0.03 - 9e-4 / 2, rel=1e-10)


def test_terminal_phase_metrics_reach_collapse():
    history = nc.terminal_phase_metrics(seed=0)
    assert set(history) >= {"step", "nc1", "nc2_equinorm", "nc2_equiangularity",
                            "nc2_etf_distance", "nc3", "nc4", "train_accuracy"}
    assert len({len(v) for v in history.values()}) == 1
    assert history["train_accuracy"][-1] == 1.0 and history["nc4"][-1] == 1.0
    # In the terminal phase (after 100% training accuracy) the metrics keep falling.
    start = int(np.argmax(history["train_accuracy"] == 1.0))
    for name in ("nc1", "nc2_equinorm", "nc2_etf_distance", "nc3"):
        assert history[name][-1] < history[name][start] < history[name][0], name


# -- strategies --------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(strategies.class_sizes(min_classes=3, max_classes=5, min_size=2, max_size=9))
def test_class_sizes_draws_valid_lists(sizes):
    assert 3 <= len(sizes) <= 5 and all(2 <= s <= 9 for s in sizes)
    assert DEEP.validate({"n": sizes, "M": 1, "lambda_W": 0.1, "lambda_H": 0.1})["n"].tolist() \
        == sizes


@pytest.mark.parametrize("strategy", [
    strategies.class_sizes(min_classes=1),
    strategies.class_sizes(min_size=0),
    strategies.class_sizes(min_classes=4, max_classes=3),
    strategies.class_sizes(min_size=5, max_size=2),
    strategies.class_sizes(max_size=2.5),
])
def test_class_sizes_invalid_arguments_fail_when_drawn(strategy):
    @given(strategy)
    def draw(value):
        pass

    with pytest.raises(InvalidArgument, match="must"):
        draw()
