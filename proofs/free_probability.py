"""Machine-checked derivations for ``theorylab.theory.free_probability``.

Registered (module-level :class:`~theorylab.derivation.Derivation` objects):

- ``mp_density_from_stieltjes``: the Marchenko–Pastur density from the root of
  the quadratic for ``G`` by Stieltjes inversion.

Lemmas (kept in :data:`LEMMAS`, out of the registry because they end in other
expressions than the claim's statement; checked by ``tests/test_free_probability_proofs.py``):

- ``mp_quadratic``: ``S(w) = 1/(σ²(1 + λw))`` gives ``z = σ²(1 + M)(1 + λM)/M``; with
  ``M = zG − 1`` the root ``G`` with ``G ~ 1/z`` solves it, and that root solves
  ``λσ²zG² − (z − σ²(1 − λ))G + 1 = 0``;
- ``mp_discriminant``: the discriminant factors as ``(z − a)(z − b)`` with
  ``a, b = σ²(1 ∓ √λ)²``, so the density lives on ``[a, b]``;
- ``semicircle_quadratic``: ``R(w) = σ²w`` gives ``σ²G² − zG + 1 = 0``;
- :func:`narayana_from_lagrange`: ``(1/k)[w^{k−1}]((1 + w)(1 + λw))^k σ^{2k}`` equals
  the Narayana sum, exactly for each ``k`` (sympy polynomial identities).
"""

from __future__ import annotations

import sympy
from sympy import Eq, I, im, pi, sqrt
from theorylab.theory.free_probability import MP_DENSITY, lam, marchenko_pastur, sigma2, x_symbol

from theorylab.derivation import Derivation, Step

__all__ = ["mp_density_from_stieltjes", "LEMMAS", "narayana_from_lagrange",
           "G", "M", "z", "root"]

G = sympy.Symbol("G")
M = sympy.Symbol("M")
z = sympy.Symbol("z", positive=True)
root = sympy.Symbol("r", positive=True)  # sqrt((b - x)(x - a)) inside the support
rho = sympy.Symbol("rho")
low = sigma2 * (1 - sqrt(lam)) ** 2
high = sigma2 * (1 + sqrt(lam)) ** 2
# Inside the support the discriminant (x - a)(x - b) is negative; its root is -i r on the
# branch with Im G(x + i0) < 0 (G ~ 1/z continued from the upper half-plane).
G_PLUS = (x_symbol - sigma2 * (1 - lam) - I * root) / (2 * lam * sigma2 * x_symbol)

mp_density_from_stieltjes = Derivation(
    claim=marchenko_pastur.id,
    title="Marchenko–Pastur density by Stieltjes inversion of the quadratic's root",
    steps=(
        Step.assume(Eq(rho, -im(G_PLUS) / pi),
                    "ρ(x) = −Im G(x + i0)/π with G(x + i0) the root of "
                    "λσ²zG² − (z − σ²(1 − λ))G + 1 = 0 with G ~ 1/z (lemma mp_quadratic); "
                    "inside (a, b) its square root of (x − a)(x − b) < 0 is −i r"),
        Step.equal(Eq(rho, root / (2 * pi * lam * sigma2 * x_symbol)),
                   "the imaginary part, for real x, σ², λ and r > 0"),
        Step.substitute(Eq(rho, MP_DENSITY),
                        {root: sqrt((high - x_symbol) * (x_symbol - low))},
                        "r = sqrt((b − x)(x − a)), a, b = σ²(1 ∓ √λ)² (lemma mp_discriminant)"),
    ),
)

DISCRIMINANT = (z - sigma2 * (1 - lam)) ** 2 - 4 * lam * sigma2 * z
G_ROOT = (z - sigma2 * (1 - lam) - sqrt(DISCRIMINANT)) / (2 * lam * sigma2 * z)

mp_quadratic = Derivation(
    claim=marchenko_pastur.id,
    title="The Stieltjes transform of MP solves λσ²zG² − (z − σ²(1 − λ))G + 1 = 0",
    steps=(
        Step.assume(Eq(z, sigma2 * (1 + M) * (1 + lam * M) / M),
                    "z = M⁻¹(M) = (1 + M)/(M S(M)) with S(w) = 1/(σ²(1 + λw))"),
        Step.substitute(Eq(z, sigma2 * z * G * (1 + lam * (z * G - 1)) / (z * G - 1)),
                        {M: z * G - 1}, "M = zG − 1"),
        Step.solve(Eq(G, G_ROOT), G,
                   "multiplying by (zG − 1)/z gives λσ²zG² − (z − σ²(1 − λ))G + 1 = 0; the "
                   "root with G ~ 1/z as z → ∞ takes the minus sign"),
    ),
    ranges={z: (5.0, 9.0), lam: (0.2, 0.8), sigma2: (0.5, 1.0)},
    conclusion="expression",
)

mp_discriminant = Derivation(
    claim=marchenko_pastur.id,
    title="The discriminant of the MP quadratic vanishes at the edges σ²(1 ± √λ)²",
    steps=(
        Step.assume(DISCRIMINANT, "(z − σ²(1 − λ))² − 4λσ²z"),
        Step.equal((z - low) * (z - high), "factored: edges a, b = σ²(1 ∓ √λ)²"),
    ),
    conclusion="expression",
)

semicircle_quadratic = Derivation(
    claim="free_probability.semicircle",
    title="R(w) = σ²w gives σ²G² − zG + 1 = 0 and the semicircle root",
    steps=(
        Step.assume(Eq(z, sigma2 * G + 1 / G), "z = G⁻¹(G) = R(G) + 1/G with R(w) = σ²w"),
        Step.solve(Eq(G, (z - sqrt(z**2 - 4 * sigma2)) / (2 * sigma2)), G,
                   "σ²G² − zG + 1 = 0; the root with G ~ 1/z"),
    ),
    ranges={z: (5.0, 9.0), sigma2: (0.5, 1.5)},
    conclusion="expression",
)

LEMMAS = (mp_quadratic, mp_discriminant, semicircle_quadratic)
del mp_quadratic, mp_discriminant, semicircle_quadratic  # lemmas, not registered derivations


def narayana_from_lagrange(k: int) -> tuple[sympy.Expr, sympy.Expr]:
    """Both sides of ``m_k`` for MP: Lagrange inversion and the Narayana sum (sympy).

    ``m_k = (1/k)[w^{k−1}]((1 + w)/S(w))^k`` with ``S(w) = 1/(σ²(1 + λw))``.
    """
    w = sympy.Symbol("w")
    series = sympy.expand(((1 + w) * (1 + lam * w)) ** k)
    lagrange = sigma2**k * series.coeff(w, k - 1) / k
    narayana = sigma2**k * sum(sympy.binomial(k, j) * sympy.binomial(k, j - 1) / k
                               * lam ** (j - 1) for j in range(1, k + 1))
    return sympy.expand(lagrange), sympy.expand(narayana)
