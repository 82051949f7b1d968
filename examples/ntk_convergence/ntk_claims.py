"""A user's claim: the NTK Gram matrix of a wide ReLU layer at initialization is H^inf."""
import sympy
import torch

from theorylab import Citation, Claim, Decoy, Derivation, Parameter, Real, Step, simulation

rho, theta, gate = sympy.symbols("cosine theta P", real=True)
kernel = rho * (sympy.pi - sympy.acos(rho)) / (2 * sympy.pi)


@simulation
def empirical_kernel(point, *, ensemble, generator, device, resolution):
    """H_12(0) = (1/m) sum_r x1.x2 1{w_r.x1 >= 0} 1{w_r.x2 >= 0}, w_r ~ N(0, I), m = 4096."""
    c = point["cosine"]
    inputs = torch.tensor([[1.0, 0.0], [c, (1 - c**2) ** 0.5]], dtype=torch.float64, device=device)
    weights = torch.randn(ensemble, 4096, 2, generator=generator, dtype=inputs.dtype, device=device)
    gates = (weights @ inputs.T >= 0).double()
    return c * (gates[..., 0] * gates[..., 1]).mean(-1)


ntk_convergence = Claim(
    id="mywork.ntk_convergence", title="The empirical NTK of a wide ReLU layer is H^inf",
    citation=Citation(("Sanjeev Arora", "Simon S. Du", "Wei Hu", "Zhiyuan Li", "Ruosong Wang"),
                      2019, "Fine-Grained Analysis of Optimization and Generalization for "
                      "Overparameterized Two-Layer Neural Networks", "eq. 3", arxiv="1901.08584"),
    parameters=(Parameter("cosine", Real(-1, 1, sample_lower=0.1, sample_upper=0.99),
                          "x1.x2 of two unit inputs"),),
    statement=kernel, quantity=sympy.Symbol("H^inf_12"), simulation=empirical_kernel,
    conventions=("f(x) = m^(-1/2) sum_r a_r relu(w_r.x), a_r = +-1, w_r ~ N(0, I); the kernel "
                 "of the first layer's gradients, averaged over m = 4096 neurons (unbiased).",),
    decoys=(Decoy("nngp_kernel", "E[relu(w.x1) relu(w.x2)], the NNGP kernel, in its place",
                  (sympy.sqrt(1 - rho**2) + (sympy.pi - sympy.acos(rho)) * rho) / (2 * sympy.pi)),
            Decoy("independent_gates", "the two gates open independently: x1.x2 / 4", rho / 4),
            Decoy("without_half", "normalised by 1/pi instead of 1/(2 pi)", 2 * kernel)),
    ensemble=64)
derivation = Derivation(claim="mywork.ntk_convergence", title="Both gates open on an arc", steps=(
    Step.assume(sympy.Eq(sympy.Symbol("H"), rho * gate), "H^inf_12 = x1.x2 P(both gates open)"),
    Step.substitute(sympy.Eq(sympy.Symbol("H"), rho * (sympy.pi - theta) / (2 * sympy.pi)),
                    {gate: (sympy.pi - theta) / (2 * sympy.pi)},
                    "w's direction is uniform: both open on an arc pi - theta of 2 pi"),
    Step.substitute(sympy.Eq(sympy.Symbol("H"), kernel), {theta: sympy.acos(rho)},
                    "theta is the angle between x1 and x2")))
