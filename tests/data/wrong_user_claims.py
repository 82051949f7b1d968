"""Wrong claims a theorist might write; none of them may end "verified".

1. ``factor_two``: E||relu(Wx)||^2 = n sigma^2 r^2 / (2d) for W with N(0, sigma^2/d)
   entries, written without the 1/2, checked with an ensemble of 3: too weak to see
   a factor of 2, so it must be INCONCLUSIVE (underpowered), never PASS. Its
   derivation assumes the statement.
2. ``assumed_only``: a true claim (E||g||^2 = d sigma^2) whose derivation only assumes.
3. ``hook_disagrees``: the same true claim, but its ``evaluate`` hook doubles the
   statement that ``show`` would display.
4. ``wrong_order``: a simulation whose bias is O(h), declared O(h^2).
5. ``wrong_noise``: the prediction plus noise ten times its size: no check can
   resolve anything at 5%.
"""

import numpy as np
import sympy
import torch

from theorylab import Citation, Claim, Derivation, Integer, Measurement, Parameter, Real, Step
from theorylab.claim import Decoy, SystematicError

NOTES = Citation(authors=("A. Theorist",), year=2026, title="Notes", where="eq. 1",
                 arxiv="0000.00000")
width, dimension, sigma, radius = sympy.symbols("width dimension sigma radius", positive=True)
PARAMETERS = (Parameter("width", Integer(1, 64, sample_upper=32), "hidden units n"),
              Parameter("dimension", Integer(1, 16, sample_upper=8), "input dimension d"),
              Parameter("sigma", Real(0, 4, sample_lower=0.5, sample_upper=2.0), "weight scale"),
              Parameter("radius", Real(0, 4, sample_lower=0.5, sample_upper=2.0), "||x||"))


def _generator(seed: int, index: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1000 + index)


def relu_energy(points, *, seed, device, ensemble):
    """One network per ensemble member: ||relu(Wx)||^2 with x = radius e_1."""
    results = []
    for index, point in enumerate(points):
        weights = point["sigma"] / np.sqrt(point["dimension"]) * torch.randn(
            ensemble, point["width"], generator=_generator(seed, index), dtype=torch.float64)
        energy = (torch.relu(weights * point["radius"]) ** 2).sum(-1)
        results.append(Measurement(samples=energy[None].numpy()))
    return results


factor_two = Claim(
    id="wrongwork.factor_two",
    title="E||relu(Wx)||^2 without the 1/2 (wrong), checked by 3 networks",
    citation=NOTES, parameters=PARAMETERS,
    statement=width * sigma**2 * radius**2 / dimension,
    quantity=sympy.Symbol(r"\mathbb{E}\|\mathrm{relu}(Wx)\|^2"),
    conventions=("W_ij ~ N(0, sigma^2/d); x = radius e_1.",),
    simulation=relu_energy, ensemble=3, budget=6,
    decoys=(Decoy("far", "a far-off value", width * sigma**2 * radius**2 * 100),),
)

factor_two_derivation = Derivation(
    claim="wrongwork.factor_two", title="Assumed, not derived",
    steps=(Step.assume(sympy.Eq(sympy.Symbol("E"), width * sigma**2 * radius**2 / dimension),
                       "the result"),
           Step.equal(sympy.Eq(sympy.Symbol("E"), sigma**2 * width * radius**2 / dimension),
                      "reordered")),
)


def gaussian_norm(points, *, seed, device, ensemble):
    """ensemble members, each the mean of ||g||^2 over 4096 draws of g ~ N(0, sigma^2 I_d)."""
    results = []
    for index, point in enumerate(points):
        draws = point["sigma"] * torch.randn(ensemble, 4096, point["dimension"],
                                             generator=_generator(seed, index),
                                             dtype=torch.float64)
        results.append(Measurement(samples=(draws**2).sum(-1).mean(-1)[None].numpy()))
    return results


NORM_PARAMETERS = PARAMETERS[1:3]
NORM = dimension * sigma**2
NORM_DECOYS = (Decoy("no_sigma", "sigma forgotten", dimension),
               Decoy("doubled", "twice the truth", 2 * dimension * sigma**2))

assumed_only = Claim(
    id="wrongwork.assumed_only", title="E||g||^2 = d sigma^2 (true), derivation only assumed",
    citation=NOTES, parameters=NORM_PARAMETERS, statement=NORM,
    quantity=sympy.Symbol(r"\mathbb{E}\|g\|^2"), conventions=("g ~ N(0, sigma^2 I_d)",),
    simulation=gaussian_norm, ensemble=8, budget=6, decoys=NORM_DECOYS,
)

assumed_only_derivation = Derivation(
    claim="wrongwork.assumed_only", title="Only assumptions",
    steps=(Step.assume(sympy.Eq(sympy.Symbol("E"), sympy.Symbol("a")), "a premise"),
           Step.assume(sympy.Eq(sympy.Symbol("E"), NORM), "the result")),
)

hook_disagrees = Claim(
    id="wrongwork.hook_disagrees", title="E||g||^2: the hook computes twice the statement",
    citation=NOTES, parameters=NORM_PARAMETERS, statement=NORM / 2,
    quantity=sympy.Symbol(r"\mathbb{E}\|g\|^2"), conventions=("g ~ N(0, sigma^2 I_d)",),
    simulation=gaussian_norm, ensemble=8, budget=6, decoys=NORM_DECOYS,
    evaluate=lambda values, precision: values["dimension"] * values["sigma"] ** 2,
)

STEPS = np.array([0.2, 0.1, 0.05])


def biased_in_step(points, *, seed, device, ensemble):
    """d sigma^2 (1 + h): an O(h) bias, with small noise, at h = 0.2, 0.1, 0.05."""
    rng = np.random.default_rng(seed)
    results = []
    for point in points:
        truth = point["dimension"] * point["sigma"] ** 2
        noise = 1e-4 * truth * rng.standard_normal((STEPS.size, ensemble))
        results.append(Measurement(samples=truth * (1 + STEPS[:, None]) + noise,
                                   resolutions=STEPS))
    return results


wrong_order = Claim(
    id="wrongwork.wrong_order", title="E||g||^2 with an O(h) bias declared O(h^2)",
    citation=NOTES, parameters=NORM_PARAMETERS, statement=NORM,
    quantity=sympy.Symbol(r"\mathbb{E}\|g\|^2"), conventions=("g ~ N(0, sigma^2 I_d)",),
    simulation=biased_in_step, ensemble=8, budget=6, decoys=NORM_DECOYS,
    systematic_error=SystematicError("step size h", order=2, description="declared O(h^2)"),
)


def noisy(points, *, seed, device, ensemble):
    """The prediction itself plus noise ten times its size."""
    rng = np.random.default_rng(seed)
    return [Measurement(samples=(point["dimension"] * point["sigma"] ** 2)
                        * (1 + 10 * rng.standard_normal((1, ensemble)))) for point in points]


wrong_noise = Claim(
    id="wrongwork.wrong_noise", title="E||g||^2 'measured' as the prediction plus huge noise",
    citation=NOTES, parameters=NORM_PARAMETERS, statement=NORM,
    quantity=sympy.Symbol(r"\mathbb{E}\|g\|^2"), conventions=("g ~ N(0, sigma^2 I_d)",),
    simulation=noisy, ensemble=8, budget=6, decoys=NORM_DECOYS,
)
