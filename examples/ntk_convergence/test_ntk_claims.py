"""The worked example, verified through theorylab's pytest plugin.

Run from this folder (or the repository root) with plain ``pytest``; the plugin
is found through its entry point once theorylab is installed.
"""

import math

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


def test_prediction_is_the_average_over_directions():
    """x1.x2 times the fraction of directions w on the circle that open both gates."""
    cosine = 0.3
    angles = np.linspace(0, 2 * math.pi, 2_000_001)[:-1]
    first = np.cos(angles)
    second = cosine * np.cos(angles) + math.sqrt(1 - cosine**2) * np.sin(angles)
    expected = cosine * np.mean((first >= 0) & (second >= 0))
    assert ntk_claims.ntk_convergence.predict(cosine=cosine) == pytest.approx(expected, rel=1e-5)
