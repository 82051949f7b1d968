"""Synthetic simulations for testing the verifier itself (not catalogue claims)."""

from __future__ import annotations

import numpy as np

from theorylab.measurement import Measurement


def gaussian_mean(points, *, seed, device, ensemble):
    """Monte Carlo: ensemble of N(mean, 1) draws; exact statistics for calibration."""
    generator = np.random.default_rng(seed)
    return [Measurement(generator.normal(p["mean"], 1.0, size=(1, ensemble)))
            for p in points]


def blows_up(points, *, seed, device, ensemble):
    """Diverges (NaN) above mean = 1, as an unstable learning rate would."""
    results = []
    for p in points:
        samples = np.full((1, ensemble), p["mean"])
        if p["mean"] > 1:
            samples[0, 0] = np.nan
        samples[0, 1:] += 1e-3 * np.arange(ensemble - 1)
        results.append(Measurement(samples))
    return results


def raises(points, *, seed, device, ensemble):
    """A simulation that crashes."""
    raise RuntimeError("CUDA error: out of memory (simulated)")
