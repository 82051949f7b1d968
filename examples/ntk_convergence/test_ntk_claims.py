"""The worked example, verified through theorylab's pytest plugin.

Run from this folder (or the repository root) with plain ``pytest``; the plugin
is found through its entry point once theorylab is installed.
"""

import ntk_claims
import numpy as np
import pytest

import theorylab


@theorylab.verifies(ntk_claims.ntk_convergence)
def test_ntk_convergence_is_verified():
    """The claim passes at its default budget, and every decoy is rejected."""


def test_ntk_convergence_derivation(theorylab):
    """Every step of the derivation checks."""
    (result,) = theorylab.prove(ntk_claims.ntk_convergence)
    assert result.ok


def test_prediction_is_the_matrix_power_form():
    """||(I - eta H)^k y||^2, computed without the eigendecomposition, agrees."""
    inputs, labels = ntk_claims.dataset(5, 3, 7)
    step = np.eye(5) - 0.5 * ntk_claims.gram_infinity(inputs)
    residual = np.linalg.matrix_power(step, 4) @ labels
    value = ntk_claims.ntk_convergence.predict(samples=5, dimension=3, data_seed=7,
                                               learning_rate=0.5, steps=4)
    assert value == pytest.approx(float(residual @ residual), rel=1e-12)
