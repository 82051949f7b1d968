"""theorylab.kernels: Gram-matrix recursions against the two-input path, and the
two-input recursions, fixed points and susceptibilities against independent references.

The blocked code runs each block of rows of the upper triangle through every layer
and mirrors it; these tests check it against the independent two-input recursion
(``nngp_kernels``/``ntk_kernels``) and against 40-digit mpmath, for block sizes that
split the matrix unevenly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from theorylab import kernels
from theorylab.errors import ParameterError

CASES = [("relu", 2.0, 0.05), ("erf", 1.5, 0.1), ("leaky_relu", 1.9, 0.05), ("abs", 1.0, 0.1),
         ("linear", 1.0, 0.1)]


@pytest.fixture(scope="module")
def inputs():
    return np.random.default_rng(3).standard_normal((7, 5))


@pytest.mark.parametrize(("activation", "C_W", "C_b"), CASES)
@pytest.mark.parametrize("depth", [1, 2, 6])
def test_gram_matches_two_input_recursion(inputs, activation, C_W, C_b, depth):
    nngp = kernels.nngp_gram(activation, inputs, depth, C_W, C_b)
    ntk = kernels.ntk_gram(activation, inputs, depth, C_W, C_b)
    assert np.array_equal(nngp, nngp.T) and np.array_equal(ntk, ntk.T)
    for i in range(len(inputs)):
        for j in range(i, len(inputs)):
            k11, _, k12 = kernels.nngp_kernels(activation, depth, C_W, C_b, inputs[i], inputs[j])
            _, _, t12 = kernels.ntk_kernels(activation, depth, C_W, C_b, inputs[i], inputs[j])
            assert nngp[i, i] == pytest.approx(float(k11), rel=1e-13)
            assert nngp[i, j] == pytest.approx(float(k12), rel=1e-12, abs=1e-15)
            assert ntk[i, j] == pytest.approx(float(t12), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("block_entries", [1, 9, 20, 10_000])
def test_block_size_does_not_change_the_result(inputs, block_entries):
    x = torch.as_tensor(inputs)
    gram = x @ x.T / x.shape[1]
    for activation, C_W, C_b in CASES[:2]:
        whole = kernels.gram_closed(activation, gram, 5, C_W, C_b, ntk=True,
                                     block_entries=10_000)
        blocked = kernels.gram_closed(activation, gram, 5, C_W, C_b, ntk=True,
                                       block_entries=block_entries)
        assert torch.allclose(whole, blocked, rtol=1e-14, atol=0)


def test_relu_diagonal_against_mpmath(inputs):
    # On the diagonal the angle is 0: K' = C_b + C_W K / 2, Theta' = K' + C_W Theta / 2.
    import mpmath

    depth, C_W, C_b = 20, 2.0, 0.05
    ntk = kernels.ntk_gram("relu", inputs, depth, C_W, C_b)
    # workdps, not mp.dps = 40: a global precision would leak into every later test.
    with mpmath.workdps(40):
        for i, row in enumerate(inputs):
            kernel = mpmath.mpf(C_b) + C_W * mpmath.fsum(mpmath.mpf(float(v)) ** 2
                                                          for v in row) / 5
            theta = kernel
            for _ in range(depth - 1):
                kernel = C_b + C_W * kernel / 2
                theta = kernel + C_W * theta / 2
            assert ntk[i, i] == pytest.approx(float(theta), rel=1e-14)


def test_gram_refuses_quadrature_activations(inputs):
    with pytest.raises(ParameterError, match="activation"):
        kernels.nngp_gram("tanh", inputs, 3, 1.0, 0.0)


def _expectation(function, kernel):
    """E[f(sqrt(K) x)] by mpmath.quad (30 digits): an independent reference."""
    import mpmath

    with mpmath.workdps(30):
        return mpmath.quad(lambda x: function(mpmath.sqrt(kernel) * x) * mpmath.exp(-x * x / 2),
                           [-mpmath.inf, -6, -2, 0, 2, 6, mpmath.inf]) / mpmath.sqrt(
                               2 * mpmath.pi)


def test_fixed_point_and_susceptibilities_against_mpmath_quad():
    import mpmath

    C_W, C_b = 1.7, 0.3
    q = kernels.fixed_point("tanh", C_W, C_b)
    with mpmath.workdps(30):
        reference = mpmath.findroot(
            lambda k: C_b + C_W * _expectation(lambda u: mpmath.tanh(u) ** 2, k) - k, q)
        slope = C_W * _expectation(lambda u: mpmath.sech(u) ** 4, reference)
        # d<s^2>/dK = <(s^2)''>/2 (Price): (tanh^2)'' = 2 sech^4 - 4 tanh^2 sech^2.
        curvature = _expectation(lambda u: mpmath.sech(u) ** 4
                                 - 2 * mpmath.tanh(u) ** 2 * mpmath.sech(u) ** 2, reference)
    assert q == pytest.approx(float(reference), rel=1e-14)
    assert kernels.chi_perpendicular("tanh", C_W, q) == pytest.approx(float(slope), rel=1e-13)
    assert kernels.chi_parallel("tanh", C_W, q) == pytest.approx(float(C_W * curvature),
                                                                 rel=1e-12)


def test_critical_bias_variance_at_a_large_weight_variance():
    # tanh at C_W = 3.917: the critical line's kernel q ~ 4, where Gauss-Hermite's 200
    # nodes left the sigma_b^2 off by 6.6e-6 (mpmath.quad: q = 4.021758396603..., below).
    C_W = 3.9168428330773777
    assert kernels.critical_line_kernel("tanh", C_W) == pytest.approx(4.021758396603028,
                                                                      rel=1e-13)
    assert kernels.critical_bias_variance("tanh", C_W) == pytest.approx(1.5302808864228993,
                                                                        rel=1e-12)
