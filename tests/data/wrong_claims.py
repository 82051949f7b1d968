"""A deliberately wrong user claim, for the plugin's failure report.

E||g||^2 for g ~ N(0, sigma^2 I_d) is d sigma^2; this claim forgets sigma^2, so
it is right only at sigma = 1 and hypothesis must shrink to a clear failure.
"""

import sympy
import torch

from theorylab import Citation, Claim, Integer, Measurement, Parameter, Real

dimension, sigma = sympy.symbols("d sigma", positive=True)


def simulate(points, *, seed, device, ensemble):
    """Draw ensemble x 256 Gaussian vectors per point; average ||g||^2 per member."""
    generator = torch.Generator(device=device).manual_seed(seed)
    results = []
    for point in points:
        draws = point["sigma"] * torch.randn(ensemble, 256, point["dimension"],
                                             generator=generator, device=device,
                                             dtype=torch.float64)
        results.append(Measurement(samples=(draws**2).sum(-1).mean(-1)[None].cpu().numpy()))
    return results


squared_norm = Claim(
    id="userwork.squared_norm",
    title="Mean squared norm of a Gaussian vector (wrong: sigma^2 forgotten)",
    citation=Citation(authors=("A. Theorist",), year=2026, title="Notes", where="eq. 1",
                      arxiv="0000.00000"),
    parameters=(Parameter("dimension", Integer(1, 64, sample_upper=16), "dimension d", "d"),
                Parameter("sigma", Real(0, sample_lower=0.5, sample_upper=2.0), "scale",
                          r"\sigma")),
    statement=dimension,
    quantity=sympy.Symbol(r"\mathbb{E}\|g\|^2"),
    conventions=("g ~ N(0, sigma^2 I_d)",),
    simulation=simulate,
    budget=8,
)
