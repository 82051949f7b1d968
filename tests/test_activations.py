"""theorylab.activations: each activation's Gaussian kernel against independent references.

One parametrized test per activation: the closed form (where known) and the quadrature of
its sympy expression against a torch Monte-Carlo of its torch function, with a tolerance
from the Monte-Carlo's standard error; the smooth closed form (erf) and the quadrature's
float64 and 30-digit paths against each other to 1e-12.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from theorylab import kernels
from theorylab.activations import NAMES, Activation, activation, torch_function

PAIR = (1.3, 0.7, 0.4)  # K11, K22, K12
SAMPLES = 1 << 20
# |z| beyond 6 standard errors: a false failure of 2e-9 per comparison (the seed is fixed).
Z = 6.0


def _monte_carlo(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Means and standard errors of s(u)^2, s(v)^2, s(u)s(v), s'(u)^2, s'(v)^2, s'(u)s'(v)."""
    k11, k22, k12 = PAIR
    generator = torch.Generator().manual_seed(NAMES.index(name))
    gaussian = torch.randn((2, SAMPLES), generator=generator, dtype=torch.float64)
    slope = k12 / math.sqrt(k11)
    u = (math.sqrt(k11) * gaussian[0]).requires_grad_(True)
    v = (slope * gaussian[0] + math.sqrt(k22 - slope**2) * gaussian[1]).detach()
    v.requires_grad_(True)
    function = torch_function(name)
    fu, fv = function(u), function(v)
    du, dv = torch.autograd.grad(fu.sum() + fv.sum(), (u, v))
    samples = torch.stack([fu**2, fv**2, fu * fv, du**2, dv**2, du * dv]).detach()
    return (samples.mean(1).numpy(), (samples.std(1) / math.sqrt(SAMPLES)).numpy())


@pytest.mark.parametrize("name", NAMES)
def test_kernel_against_monte_carlo_and_quadrature(name):
    act = activation(name)
    mean, error = _monte_carlo(name)
    tolerance = Z * error + 1e-12
    quadrature = np.array(kernels.gaussian_moments(Activation(name, act.expression,
                                                              singularity=act.singularity),
                                                   *PAIR))
    if act.kernel is not None:
        closed = np.array(kernels.gaussian_moments(name, *PAIR))
        assert np.all(np.abs(closed - mean) <= tolerance), (closed, mean, error)
        if act.slopes is None:  # smooth (erf): the quadrature converges geometrically
            assert np.allclose(quadrature, closed, rtol=1e-12, atol=0)
    else:
        assert np.all(np.abs(quadrature - mean) <= tolerance), (quadrature, mean, error)


@pytest.mark.parametrize("name", ["gelu", "tanh", "swish", "sin"])
def test_float_and_precise_paths_agree_on_one_kernel(name):
    # One kernel (1-D rules): the fast case of the default run; pairs are in the slow test.
    fast = np.array(kernels.gaussian_moments(name, 4.0, 4.0, 4.0))
    precise = np.array([float(v) for v in kernels.gaussian_moments(name, 4.0, 4.0, 4.0,
                                                                   precision=30)])
    assert np.allclose(fast, precise, rtol=1e-12, atol=0)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["gelu", "tanh", "swish", "sin"])
def test_float_and_precise_paths_agree_on_pairs(name):
    for pair in (PAIR, (4.0, 3.0, 2.5), (2.0, 1.0, -1.2)):
        fast = np.array(kernels.gaussian_moments(name, *pair))
        precise = np.array([float(v) for v in kernels.gaussian_moments(name, *pair,
                                                                       precision=30)])
        assert np.allclose(fast, precise, rtol=1e-12, atol=0), pair


def test_leaky_slope_is_a_parameter():
    # neural-tangents' LeakyRelu(0.1): A_2 = (1 + 0.01)/2 on the diagonal.
    leaky = activation("leaky_relu", 0.1)
    assert leaky.slopes[1] == pytest.approx(0.1)
    assert kernels.gaussian_moments(leaky, 2.0, 2.0, 2.0)[0] == pytest.approx(1.01, rel=1e-14)
    grid = torch.linspace(-2, 2, 9, dtype=torch.float64)
    assert torch.allclose(leaky.torch(grid), torch.where(grid > 0, grid, 0.1 * grid))
    with pytest.raises(ValueError, match="leaky_slope"):
        activation("leaky_relu", math.nan)
    with pytest.raises(ValueError, match="unknown activation"):
        activation("softplus")


@pytest.mark.parametrize("name", ["linear", "relu", "hard_tanh"])
@pytest.mark.parametrize("variance", [0.3, 1.0, 4.0])
def test_piecewise_linear_moments_are_their_gaussian_integrals(name, variance):
    """The Jacobian activations' closed forms (mean_square, derivative_mean_square) against
    mpmath quadrature of the sympy expression (split at the kinks) and a torch Monte-Carlo."""
    import mpmath
    import sympy

    from theorylab.activations import (
        derivative_mean_square,
        mean_square,
        torch_derivative,
        z,
    )

    act = activation(name)
    phi = sympy.lambdify(z, act.expression, "mpmath")
    slope = sympy.lambdify(z, sympy.diff(act.expression, z), "mpmath")
    with mpmath.workdps(30):
        root = mpmath.sqrt(variance)

        def expect(function):
            weight = lambda x: function(root * x) ** 2 * mpmath.npdf(x)  # noqa: E731
            return mpmath.quad(weight, [-mpmath.inf, -1 / root, 0, 1 / root, mpmath.inf])

        assert abs(expect(phi) - mpmath.mpf(mean_square(name, variance))) < 1e-14
        assert abs(expect(slope) - mpmath.mpf(derivative_mean_square(name, variance))) < 1e-14
        assert abs(mean_square(name, mpmath.mpf(variance)) - expect(phi)) < mpmath.mpf(10)**-25
    generator = torch.Generator().manual_seed(7)
    h = math.sqrt(variance) * torch.randn(SAMPLES, generator=generator, dtype=torch.float64)
    for samples, exact in [(torch_function(name)(h) ** 2, mean_square(name, variance)),
                           (torch_derivative(name)(h) ** 2,
                            derivative_mean_square(name, variance))]:
        error = float(samples.std()) / math.sqrt(SAMPLES)
        assert abs(float(samples.mean()) - exact) <= Z * error + 1e-15
