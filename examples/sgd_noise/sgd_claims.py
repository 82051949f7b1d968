"""E[w_t^2] of SGD with additive gradient noise on a 1-d quadratic (exact, discrete time)."""
import sympy
import torch

from theorylab import Citation, Claim, Decoy, Derivation, Integer, Parameter, Real, Step, simulation

eta, h, sigma, w0 = sympy.symbols("eta h sigma w0", positive=True)
t, k = sympy.symbols("t k", integer=True, nonnegative=True)
a, stationary = (1 - eta * h) ** 2, eta * sigma**2 / (h * (2 - eta * h))
moment = a**t * w0**2 + stationary * (1 - a**t)


@simulation
def sgd(point, *, ensemble, generator, device, resolution):
    """SGD steps w <- w - eta (h w + sigma xi); 16384 runs per ensemble member."""
    w = torch.full((ensemble, 16384), point["w0"], dtype=torch.float64, device=device)
    for _ in range(point["t"]):
        noise = torch.randn(w.shape, generator=generator, dtype=w.dtype, device=device)
        w = w - point["eta"] * (point["h"] * w + point["sigma"] * noise)
    return (w**2).mean(-1)


sgd_second_moment = Claim(
    id="sgd.second_moment", title="Second moment of SGD with additive noise on a quadratic",
    citation=Citation(("A. Theorist",), 2026, "SGD notes", "eq. 3", arxiv="0000.00000"),
    parameters=(Parameter("eta", Real(0, 1, sample_lower=0.05, sample_upper=0.5), "step size"),
                Parameter("h", Real(0, 1.5, sample_lower=0.2), "curvature (eta h < 1)"),
                Parameter("sigma", Real(0, 2, sample_lower=0.2), "gradient noise scale"),
                Parameter("w0", Real(-2, 2, sample_lower=0.5), "initial weight"),
                Parameter("t", Integer(0, 200, sample_upper=40), "steps")),
    statement=moment, quantity=sympy.Symbol(r"\mathbb{E}[w_t^2]"), simulation=sgd,
    conventions=("loss h w^2 / 2; gradient h w + sigma xi with xi ~ N(0, 1) i.i.d.",),
    decoys=(Decoy("continuous_time", "eta sigma^2/(2h): the SDE's stationary variance",
                  a**t * w0**2 + eta * sigma**2 / (2 * h) * (1 - a**t)),
            Decoy("exponent_t", "(1 - eta h)^t in place of ^2t",
                  moment.subs(t, t / 2))))
unrolled = a**t * w0**2 + eta**2 * sigma**2 * sympy.Sum(a**k, (k, 0, t - 1))
derivation = Derivation(claim="sgd.second_moment", title="Unrolled recursion", steps=(
    Step.assume(sympy.Eq(sympy.Symbol("m_t"), unrolled), "m_{t+1} = a m_t + eta^2 sigma^2"),
    Step.equal(sympy.Eq(sympy.Symbol("m_t"), moment), "geometric sum")))
