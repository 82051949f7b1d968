"""rg_flow.cnn_kernel: the CNN-GP/CNTK recursion against independent references."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy
import torch
from theorylab.numerics import rg_flow as numerics
from theorylab.proofs import rg_flow as proofs

from theorylab import convolution_kernels, registry
from theorylab.activations import Activation, z
from theorylab.cli import main
from theorylab.derivation import check_derivation
from theorylab.errors import ParameterError
from theorylab.verifier import Status, check

CLAIM = registry.get("rg_flow.cnn_kernel")
RNG = np.random.default_rng(11)
X1 = RNG.standard_normal((3, 2))
X2 = 0.7 * X1 + 0.5 * RNG.standard_normal((3, 2))


def _relu_pair(k11, k22, k12):
    """<relu relu> and <relu' relu'> written out (Cho & Saul), in mpmath."""
    cosine = max(min(k12 / mpmath.sqrt(k11 * k22), 1), -1)
    angle = mpmath.acos(cosine)
    pair = mpmath.sqrt(k11 * k22) * (mpmath.sin(angle) + (mpmath.pi - angle) * cosine) / (
        2 * mpmath.pi)
    return pair, (mpmath.pi - angle) / (2 * mpmath.pi)


def _tanh_pair(k11, k22, k12):
    """<tanh tanh> and <tanh' tanh'> by adaptive 2-D quadrature (QUADPACK), u = a x,
    v = b x + c y with x, y ~ N(0, 1)."""
    from scipy.integrate import dblquad

    k11, k22, k12 = float(k11), float(k22), float(k12)
    a = math.sqrt(k11)
    b = k12 / a
    c = math.sqrt(max(k22 - b * b, 0.0))
    density = lambda x, y: math.exp(-(x * x + y * y) / 2) / (2 * math.pi)  # noqa: E731
    slope = lambda t: 1 / math.cosh(t) ** 2  # noqa: E731
    key = (k11, k22, k12) if k11 <= k22 else (k22, k11, k12)
    if key in _TANH:
        return _TANH[key]
    values = []
    for f in (math.tanh, slope):
        integrand = lambda y, x, f=f: f(a * x) * f(b * x + c * y) * density(x, y)  # noqa: E731
        values.append(dblquad(integrand, -9, 9, -9, 9, epsabs=1e-14, epsrel=1e-13)[0])
    _TANH[key] = values
    return values


_TANH: dict = {}


def _reference(x1, x2, depth, filter, C_W, C_b, expectation, zero_padding=False):
    """[K11, K22, K12] and [Theta11, Theta22, Theta12], one position pair at a time."""
    positions, channels = x1.shape
    inputs = (x1, x2)
    offset = (filter - 1) // 2
    # kernel[(a, p), (b, q)] over the 2P (input, position) sites
    sites = [(a, p) for a in range(2) for p in range(positions)]

    def read(matrix, a, p, b, q):
        if zero_padding and not (0 <= p < positions and 0 <= q < positions):
            return 0
        return matrix[(a, p % positions), (b, q % positions)]

    def window(matrix):
        return {(s, t): sum(read(matrix, s[0], s[1] + k - offset, t[0], t[1] + k - offset)
                            for k in range(filter)) / filter for s in sites for t in sites}

    start = {(s, t): sum(mpmath.mpf(float(inputs[s[0]][s[1], c]))
                         * mpmath.mpf(float(inputs[t[0]][t[1], c])) for c in range(channels))
             / channels for s in sites for t in sites}
    kernel = window({key: C_b + C_W * value for key, value in start.items()})
    theta = dict(kernel)
    for layer in range(depth):
        dense, chained = {}, {}
        for s in sites:
            for t in sites:
                pair, slope = expectation(kernel[(s, s)], kernel[(t, t)], kernel[(s, t)])
                dense[(s, t)] = C_b + C_W * pair
                chained[(s, t)] = dense[(s, t)] + C_W * slope * theta[(s, t)]
        if layer < depth - 1:
            kernel, theta = window(dense), window(chained)
    outputs = []
    for values in (dense, chained):
        outputs.append([float(sum(values[((a, p), (b, q))] for p in range(positions)
                                  for q in range(positions)) / positions**2)
                        for a, b in ((0, 0), (1, 1), (0, 1))])
    return outputs


@pytest.mark.parametrize("depth, filter", [(1, 2), (2, 3)])
def test_relu_recursion_against_an_explicit_mpmath_loop(depth, filter):
    expected = _reference(X1, X2, depth, filter, 1.7, 0.2, _relu_pair)
    for quantity, values in zip(("nngp", "ntk"), expected, strict=True):
        predicted = CLAIM.predict(quantity=quantity, activation="relu", depth=depth,
                                  filter=filter, C_W=1.7, C_b=0.2, x1=X1, x2=X2)
        np.testing.assert_allclose(predicted, values, rtol=1e-13)


@pytest.mark.slow  # about 40 adaptive 2-D quadratures: 5-15 s
def test_tanh_quadrature_against_adaptive_quadrature():
    expected = _reference(X1[:2], X2[:2], 2, 2, 1.3, 0.1, _tanh_pair)
    predicted = CLAIM.predict(quantity="ntk", activation="tanh", depth=2, filter=2, C_W=1.3,
                              C_b=0.1, x1=X1[:2], x2=X2[:2])
    np.testing.assert_allclose(predicted, expected[1], rtol=1e-11)


def test_zero_padding_decoy_against_an_explicit_loop():
    zero = _reference(X1, X2, 2, 3, 1.7, 0.2, _relu_pair, zero_padding=True)
    decoy = CLAIM.predict_decoy(CLAIM.decoy("zero_padding"), quantity="nngp",
                                activation="relu", depth=2, filter=3, C_W=1.7, C_b=0.2,
                                x1=X1, x2=X2)
    np.testing.assert_allclose(decoy, zero[0], rtol=1e-13)


@pytest.mark.parametrize("activation", ["relu", "erf", "gelu"])
def test_filter_one_is_the_mean_of_dense_kernels_over_position_pairs(activation):
    """filter = 1: every position pair is a dense network's pair; pooling averages them."""
    nngp, ntk = registry.get("rg_flow.nngp_kernel"), registry.get("rg_flow.ntk_kernel")
    for quantity, dense in (("nngp", nngp), ("ntk", ntk)):
        cnn = CLAIM.predict(quantity=quantity, activation=activation, depth=2, filter=1,
                            C_W=1.4, C_b=0.3, x1=X1, x2=X2)
        pairs = {(a, b): np.mean([dense.predict(activation=activation, depth=3, C_W=1.4,
                                                C_b=0.3, x1=first[p], x2=second[q])[2]
                                  for p in range(3) for q in range(3)])
                 for a, (first, second) in enumerate(((X1, X1), (X2, X2), (X1, X2)))
                 for b in (0,)}
        np.testing.assert_allclose(cnn, [pairs[(0, 0)], pairs[(1, 0)], pairs[(2, 0)]],
                                   rtol=1e-12)


def test_one_position_is_the_dense_network():
    one, other = X1[:1], X2[:1]
    for quantity, dense in (("nngp", "rg_flow.nngp_kernel"), ("ntk", "rg_flow.ntk_kernel")):
        cnn = CLAIM.predict(quantity=quantity, activation="sin", depth=3, filter=1, C_W=1.2,
                            C_b=0.1, x1=one, x2=other)
        mlp = registry.get(dense).predict(activation="sin", depth=4, C_W=1.2, C_b=0.1,
                                          x1=one[0], x2=other[0])
        np.testing.assert_allclose(cnn, mlp, rtol=1e-12)


def test_quadrature_path_matches_closed_forms_and_gram_paths_agree():
    x = RNG.standard_normal((3, 5, 2))
    kernel, _ = convolution_kernels.layer_kernels("erf", x, 2, 3, 1.5, 0.2)
    integrated = convolution_kernels.gaussian_fields(Activation("erf", sympy.erf(z)), kernel)
    closed = convolution_kernels.gaussian_fields("erf", kernel)
    for a, b in zip(integrated, closed, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    for name in ("relu", "erf"):
        # the blocked torch recursion (tiny blocks) against the field path
        blocked = convolution_kernels.grams(name, x, 3, 3, 1.5, 0.2, block_entries=10)
        fields = [convolution_kernels.gram(name, x, 3, 3, 1.5, 0.2, ntk=ntk,
                                           block_entries=10**9) for ntk in (False, True)]
        kernel, theta = convolution_kernels.layer_kernels(name, x, 3, 3, 1.5, 0.2)
        pair, slope = convolution_kernels.gaussian_fields(name, kernel)
        dense = 0.2 + 1.5 * pair
        reference = [convolution_kernels.position_mean(dense, 3),
                     convolution_kernels.position_mean(dense + 1.5 * slope * theta, 3)]
        for ours, full, expected in zip(blocked, fields, reference, strict=True):
            np.testing.assert_allclose(ours, expected, rtol=1e-13)
            np.testing.assert_allclose(full, expected, rtol=1e-13)
            assert np.array_equal(ours, ours.T)


def test_neural_tangents_values_from_the_benchmark_run():
    """Pinned from benchmarks/cnn_vs_neural_tangents.py (neural-tangents 0.6.5, float64):
    its Gram entry (0, 1) for 100 standard-normal inputs (seed 0) of 16 x 3, depth 5,
    filter 3; inputs 0 and 1 alone give the same entry."""
    x = np.random.default_rng(0).standard_normal((100, 16, 3))[:2]
    pins = {"relu": (2.0, 0.1, NT_PINS["relu"]), "erf": (1.5, 0.2, NT_PINS["erf"])}
    for name, (C_W, C_b, (nngp, ntk)) in pins.items():
        ours = convolution_kernels.grams(name, x, 5, 3, C_W, C_b)
        np.testing.assert_allclose([ours[0][0, 1], ours[1][0, 1]], [nngp, ntk], rtol=1e-13)


#: neural-tangents' (NNGP, NTK) at entry (0, 1), as the benchmark prints them.
NT_PINS = {"relu": (1.911312774778437, 4.7929854400160385),
           "erf": (0.5951354329653715, 1.592675228069579)}


def test_circular_convolution_matches_torch_conv1d():
    generator = torch.Generator().manual_seed(0)
    h = torch.randn(2, 3, 4, 5, generator=generator, dtype=torch.float64)
    omega = torch.randn(3, 6, 4, 3, generator=generator, dtype=torch.float64)
    beta = torch.zeros(3, 6, dtype=torch.float64)
    ours = numerics._circular_convolution(h, omega, beta, 2.0, 0.0)
    for network in range(3):
        layer = torch.nn.Conv1d(4, 6, 3, padding=1, padding_mode="circular", bias=False,
                                dtype=torch.float64)
        layer.weight.data = omega[network] * math.sqrt(2.0 / 12)
        np.testing.assert_allclose(ours[:, network].numpy(),
                                   layer(h[:, network]).detach().numpy(), rtol=1e-12)


def test_simulation_of_one_convolution_is_one_unbiased_level():
    point = {"quantity": "ntk", "activation": "relu", "depth": 1, "filter": 2, "C_W": 1.5,
             "C_b": 0.2, "x1": X1, "x2": X2}
    (measurement,) = numerics.cnn_kernel([point], seed=0, device="cpu", ensemble=2)
    assert measurement.samples.shape == (1, 2, 3)
    deep = numerics.cnn_kernel([dict(point, depth=2, quantity="nngp")], seed=0, device="cpu",
                               ensemble=2)[0]
    assert deep.samples.shape == (len(numerics.CNN_CHANNELS), 2, 3)
    np.testing.assert_allclose(1 / deep.resolutions, numerics.CNN_CHANNELS)


def test_decoys_rejected_at_chosen_points():
    points = [CLAIM.validate({"quantity": "nngp", "activation": "relu", "depth": 1,
                              "filter": 3, "C_W": 1.5, "C_b": 0.1, "x1": X1, "x2": X2}),
              CLAIM.validate({"quantity": "ntk", "activation": "erf", "depth": 1, "filter": 2,
                              "C_W": 1.8, "C_b": 0.1, "x1": X1, "x2": X2})]
    verdict = check(CLAIM, seed=0, points=points, ensemble=16, record=False)
    assert verdict.status is Status.PASS, verdict.summary()
    assert [d.status for d in verdict.decoys] == [Status.FAIL] * len(CLAIM.decoys)


def test_derivations_derive_both_statements():
    nngp = check_derivation(proofs.cnn_nngp_from_network, CLAIM.statement)
    ntk = check_derivation(proofs.CNN_NTK[0], CLAIM.statements["ntk"])
    assert nngp.derives and ntk.derives, (nngp.summary(), ntk.summary())


@pytest.mark.parametrize("changes, parameter", [
    ({"x1": [[1.0, 2.0], [3.0]]}, "'x1'"),
    ({"x2": [[1.0, 2.0]]}, "'x2'"),
    ({"filter": 4}, "'filter'"),
    ({"depth": 0}, "'depth'"),
    ({"x1": [1.0, 2.0, 3.0]}, "'x1'"),
])
def test_bad_input_names_the_parameter(changes, parameter):
    values = {"quantity": "nngp", "activation": "relu", "depth": 1, "filter": 2, "C_W": 1.0,
              "C_b": 0.1, "x1": X1.tolist(), "x2": X2.tolist(), **changes}
    with pytest.raises(ParameterError, match=parameter):
        CLAIM.predict(**values)


def test_bad_input_on_the_command_line_is_one_line_exit_2(capsys):
    code = main(["predict", "rg_flow.cnn_kernel", "quantity=nngp", "activation=relu",
                 "depth=1", "filter=5", "C_W=1", "C_b=0.1", "x1=[[1,2],[3,4]]",
                 "x2=[[1,2],[3,5]]"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "'filter'" in err and "Traceback" not in err
