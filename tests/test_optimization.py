"""The optimization family: statements against independent references, errors, decoys."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings

from theorylab import registry
from theorylab.errors import ParameterError
from theorylab.strategies import sphere_datasets
from theorylab.verifier import Status, check

NTK = registry.get("optimization.ntk_residual")
EXPONENTIAL = registry.get("optimization.exponential_lr")
INPUTS = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.6, 0.8], [0.0, 0.0, -1.0]])
LABELS = np.array([1.0, -0.5, 2.0, 0.25])


def _gram(inputs: np.ndarray) -> np.ndarray:
    """H^inf by its definition E_w[x_i.x_j 1{w.x_i > 0, w.x_j > 0}]: the angle is pi - theta."""
    cosines = np.clip(inputs @ inputs.T, -1, 1)
    return cosines * (np.pi - np.arccos(cosines)) / (2 * np.pi)


def test_residual_is_the_matrix_power_form():
    """||(I - eta H)^k y|| by repeated multiplication, no eigendecomposition."""
    step = np.eye(4) - 0.7 * _gram(INPUTS)
    residual = np.linalg.matrix_power(step, 6) @ LABELS
    value = NTK.predict(X=INPUTS, y=LABELS, eta=0.7, k=6)
    assert value == pytest.approx(float(np.linalg.norm(residual)), rel=1e-12)


def test_residual_is_the_linear_recursion_at_high_precision():
    """u(k+1) = u(k) + eta H (y - u(k)) from u(0) = 0, 200 steps with 40 digits."""
    with mpmath.workdps(40):
        x = mpmath.matrix(INPUTS.tolist())
        n = x.rows
        gram = mpmath.matrix(n, n)
        for a in range(n):
            for b in range(n):
                c = sum(x[a, j] * x[b, j] for j in range(x.cols))
                c = max(min(c, mpmath.mpf(1)), mpmath.mpf(-1))
                gram[a, b] = c * (mpmath.pi - mpmath.acos(c)) / (2 * mpmath.pi)
        labels = mpmath.matrix(LABELS.tolist())
        outputs = mpmath.matrix(n, 1)
        eta = mpmath.mpf("0.45")
        for _ in range(200):
            outputs = outputs + eta * gram * (labels - outputs)
        expected = float(mpmath.norm(labels - outputs))
    assert NTK.predict(X=INPUTS, y=LABELS, eta=0.45, k=200) == pytest.approx(expected, rel=1e-10)


def test_residual_at_zero_steps_is_the_label_norm():
    assert NTK.predict(X=INPUTS, y=LABELS, eta=0.5, k=0) == pytest.approx(
        float(np.linalg.norm(LABELS)), rel=1e-14)


def test_a_row_that_is_not_unit_norm_is_named():
    bad = INPUTS.copy()
    bad[2] *= 1.5
    with pytest.raises(ParameterError, match=r"parameter 'X'.*unit norm.*row 2 has norm 1\.5"):
        NTK.predict(X=bad, y=LABELS, eta=0.5, k=3)


def test_labels_must_match_the_rows():
    with pytest.raises(ParameterError, match="one entry per row of X"):
        NTK.predict(X=INPUTS, y=LABELS[:3], eta=0.5, k=3)


def test_command_line_values_parse():
    values = NTK.parse({"X": "[[1, 0], [0.6, 0.8]]", "y": "[1, -1]", "eta": "0.5", "k": "3"})
    assert values["X"].shape == (2, 2) and values["k"] == 3


@pytest.mark.parametrize("eta, decay, momentum", [(0.1, 0.05, 0.0), (0.2, 0.03, 0.5),
                                                   (0.3, 0.01, 0.6), (0.05, 0.0, 0.9)])
def test_alpha_is_the_larger_root(eta, decay, momentum):
    roots = np.roots([1, -(1 + momentum - decay * eta), momentum])
    common = {"eta": eta, "weight_decay": decay, "momentum": momentum, "t": 7}
    alpha = EXPONENTIAL.predict(quantity="alpha", **common)
    assert alpha == pytest.approx(float(np.max(roots.real)), rel=1e-13)
    assert EXPONENTIAL.predict(quantity="learning_rate", **common) == pytest.approx(
        eta * alpha**-15, rel=1e-13)
    assert EXPONENTIAL.predict(quantity="norm_ratio", **common) == pytest.approx(
        alpha**-7, rel=1e-13)
    assert EXPONENTIAL.predict(quantity="direction_gap", **common) == 0


def test_without_momentum_alpha_is_one_minus_decay():
    assert EXPONENTIAL.predict(quantity="alpha", eta=0.2, weight_decay=0.05, momentum=0.0,
                               t=3) == pytest.approx(0.99, rel=1e-15)


def test_complex_roots_are_refused():
    with pytest.raises(ParameterError, match="alpha is real"):
        EXPONENTIAL.predict(quantity="alpha", eta=0.1, weight_decay=0.05, momentum=0.9, t=3)


@settings(max_examples=20, deadline=None, database=None)
@given(sphere_datasets(max_points=5, max_dimension=4))
def test_sphere_datasets_have_unit_rows(data):
    inputs, labels = data
    assert np.allclose(np.linalg.norm(inputs, axis=1), 1, atol=1e-12)
    assert labels.shape == (inputs.shape[0],) and 2 <= inputs.shape[0] <= 5


def test_sphere_datasets_refuse_an_empty_range():
    from hypothesis.errors import InvalidArgument

    @given(sphere_datasets(min_points=4, max_points=3))
    def draw(data):
        pass

    with pytest.raises(InvalidArgument, match="min_points=4 must not exceed max_points=3"):
        draw()


@pytest.mark.parametrize("claim", [NTK, EXPONENTIAL], ids=lambda claim: claim.id)
def test_derivation_derives(claim):
    from theorylab.derivation import check_derivation

    (derivation,) = registry.derivations(claim.id)
    result = check_derivation(derivation, claim.statement)
    assert result.ok and result.derives, result.summary()


@pytest.fixture
def one_thread():
    """Torch on one thread for a while (the checks' tensors are small; threads only contend)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("claim, budget", [(NTK, 3), (EXPONENTIAL, 6)],
                         ids=lambda value: getattr(value, "id", str(value)))
def test_check_passes_and_every_decoy_fails(claim, budget, one_thread):
    """A smoke check at a few points of seed 3 (the battery runs the default budget)."""
    from theorylab.verifier import draw_points

    verdict = check(claim, seed=3, record=False, points=draw_points(claim, budget, 3))
    assert verdict.status is Status.PASS, verdict.summary()
    assert verdict.relative_resolution() <= claim.resolution
    rejected = {d.subject.split("~")[1]: d.status for d in verdict.decoys}
    assert rejected == {d.name: Status.FAIL for d in claim.decoys}


def test_statement_shows_the_modes():
    shown = NTK.pretty()
    assert "λ" in shown and "vᵀy" in shown and "2⋅k" in shown
    assert set(EXPONENTIAL.quantity_pretty()) == {"alpha", "learning_rate", "direction_gap",
                                                  "norm_ratio"}
    assert math.isfinite(NTK.predict(precision=30, X=INPUTS, y=LABELS, eta=0.5, k=4))
