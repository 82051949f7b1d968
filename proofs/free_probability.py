"""Machine-checked derivations for ``theorylab.theory.free_probability``.

Registered (module-level :class:`~theorylab.derivation.Derivation` objects):

- ``mp_density_from_stieltjes``: the Marchenko–Pastur density from the root of
  the quadratic for ``G`` by Stieltjes inversion.
- ``mp_cdf_by_antiderivative``: the arctan CDF of MP is an antiderivative of the
  density (written with the half-sum ``h = σ²(1 + λ)`` and the geometric mean
  ``g = σ²|1 − λ|`` of the edges, ``(b − x)(x − a) = −x² + 2hx − g²``), plus the
  atom ``(1 − 1/λ)₊`` below the lower edge.

- ``product_s_transform``: ``S_{A^½BA^½} = S_A S_B`` for the asymptotically free
  Wisharts A and B, with the MP S-transforms ``1/(1 + λ_A w)`` and ``1/(σ²(1 + λ_B w))``;
- ``semicircle_from_stieltjes``: the semicircle density from the root of
  ``σ²G² − zG + 1 = 0`` (lemma ``semicircle_quadratic``) by Stieltjes inversion;
- ``fuss_catalan_by_lagrange``: ``m_k = (1/k)[w^{k−1}]((1 + w)/S(w))^k`` with
  ``S(w) = (1 + w)^{−s}`` is ``binom((s + 1)k, k − 1)/k = binom((s + 1)k, k)/(sk + 1)``,
  for symbolic ``k`` and ``s``;
- ``jacobian_s_transform_product``: ``J = D_L W_L ⋯ D_1 W_1``, so ``JJᵀ`` has the
  spectrum of the product of the 2L free positive elements ``W_lW_lᵀ`` and ``D_l²``
  (asymptotic freeness: Collins & Hayase for Haar orthogonal weights) and ``S``
  multiplies;
- ``isometry_variance_from_s_transform``: ``σ²/m₁² = −S'(0)/S(0)`` (from
  ``S(w) = 1/m₁ − (m₂ − m₁²)w/m₁³ + O(w²)``) for
  ``S = σ_w^{−2L}(1 + w)^{−gL}((1 + w)/(p + w))^L`` gives ``L(1/p − 1 + g)``.

Lemmas (kept in :data:`LEMMAS`, out of the registry because they end in other
expressions than the claim's statement; checked by ``tests/test_free_probability_proofs.py``):

- ``mp_quadratic``: ``S(w) = 1/(σ²(1 + λw))`` gives ``z = σ²(1 + M)(1 + λM)/M``; with
  ``M = zG − 1`` the root ``G`` with ``G ~ 1/z`` solves it, and that root solves
  ``λσ²zG² − (z − σ²(1 − λ))G + 1 = 0``;
- ``mp_discriminant``: the discriminant factors as ``(z − a)(z − b)`` with
  ``a, b = σ²(1 ∓ √λ)²``, so the density lives on ``[a, b]``;
- ``semicircle_quadratic``: ``R(w) = σ²w`` gives ``σ²G² − zG + 1 = 0``;
- :func:`narayana_from_lagrange`: ``(1/k)[w^{k−1}]((1 + w)(1 + λw))^k σ^{2k}`` equals
  the Narayana sum, exactly for each ``k`` (sympy polynomial identities);
- :func:`product_moments_from_lagrange`: the same for MP ⊠ MP, whose moments are
  ``(σ^{2k}/k) Σ_{i+j+l=k−1} binom(k, i) binom(k, j) binom(k, l) λ_A^j λ_B^l``.
"""

from __future__ import annotations

import sympy
from sympy import Eq, I, im, pi, sqrt
from theorylab.theory.free_probability import (
    MP_CDF,
    MP_DENSITY,
    derivative_moment_function,
    derivative_s_transform_function,
    dynamical_isometry,
    fuss_catalan,
    gaussian_weights_function,
    jacobian_spectrum,
    lam,
    marchenko_pastur,
    mp_cdf,
    s_transform_product,
    semicircle,
    sigma2,
    x_symbol,
)

from theorylab.derivation import Derivation, Step

__all__ = ["mp_density_from_stieltjes", "mp_cdf_by_antiderivative", "semicircle_from_stieltjes",
           "fuss_catalan_by_lagrange", "jacobian_s_transform_product",
           "isometry_variance_from_s_transform", "product_s_transform",
           "product_moments_from_lagrange", "LEMMAS", "SMOOTH_JACOBIAN_LEMMAS",
           "narayana_from_lagrange",
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

# MP CDF: with h = (a + b)/2 = σ²(1 + λ) and g = sqrt(ab) = σ²|1 − λ| the edges' half-sum
# and geometric mean, (b − x)(x − a) = −x² + 2hx − g², and
# ∫ sqrt(−x² + 2hx − g²)/x dx = r + h atan((x − h)/r) − g atan((hx − g²)/(g r)) (+ const).
_half_sum, _geometric_mean = sigma2 * (1 + lam), sigma2 * sympy.Abs(1 - lam)
_cdf_root = sqrt(-x_symbol**2 + 2 * _half_sum * x_symbol - _geometric_mean**2)
_cdf_bracket = (_cdf_root
                + _half_sum * (sympy.atan((x_symbol - _half_sum) / _cdf_root) + pi / 2)
                - _geometric_mean * (sympy.atan((_half_sum * x_symbol - _geometric_mean**2)
                                                / (_geometric_mean * _cdf_root)) + pi / 2))
mp_cdf_by_antiderivative = Derivation(
    claim=mp_cdf.id,
    title="The arctan CDF of Marchenko–Pastur as the antiderivative of its density",
    steps=(
        Step.assume(MP_DENSITY, "the MP density on (a, b), a, b = σ²(1 ∓ √λ)² (claim "
                    "marchenko_pastur)"),
        Step.equal(_cdf_root / (2 * pi * sigma2 * lam * x_symbol),
                   "(b − x)(x − a) = −x² + 2hx − g² with h = (a + b)/2 = σ²(1 + λ) and "
                   "g = sqrt(ab) = σ²|1 − λ|"),
        Step.integrate(sympy.Max(0, 1 - 1 / lam) + _cdf_bracket / (2 * pi * sigma2 * lam),
                       x_symbol,
                       "d/dx [r + h atan((x − h)/r) − g atan((hx − g²)/(g r))] = r/x with "
                       "r = sqrt(−x² + 2hx − g²); the constant: at x = a both atan "
                       "arguments tend to −∞, so F(a) = (1 − 1/λ)₊, the atom"),
        Step.equal(MP_CDF, "y = x/σ²: r = σ² sqrt((b/σ² − y)(y − a/σ²)), h = σ²(1 + λ), "
                   "g = σ²|1 − λ|; the atan arguments are scale-free"),
    ),
    conclusion="expression",
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


lambda_a, lambda_b = (sympy.Symbol("lambda_A", positive=True),
                      sympy.Symbol("lambda_B", positive=True))
w_product = sympy.Symbol("w")  # as in the claim's statement
S_A, S_B = sympy.Symbol("S_A(w)"), sympy.Symbol("S_B(w)")
product_s_transform = Derivation(
    claim=s_transform_product.id,
    title="S-transform of A^½BA^½ for independent Wisharts: the product S_A S_B",
    steps=(
        Step.assume(Eq(s_transform_product.quantity, S_A * S_B),
                    "A and B are independent and orthogonally invariant, hence asymptotically "
                    "free; A^½BA^½ has the moments of AB; S_{μ⊠ν} = S_μ S_ν (Voiculescu 1987)",
                    cite="Voiculescu 1987; Speicher 2009 (arXiv:0911.0087), Sec. 3"),
        Step.substitute(Eq(s_transform_product.quantity, s_transform_product.statement),
                        {S_A: 1 / (1 + lambda_a * w_product),
                         S_B: 1 / (sigma2 * (1 + lambda_b * w_product))},
                        "MP S-transforms S(w) = 1/(σ²(1 + λw)) (claim marchenko_pastur); X has "
                        "unit variance, Y variance σ²"),
    ),
)


def product_moments_from_lagrange(k: int) -> tuple[sympy.Expr, sympy.Expr]:
    """Both sides of ``m_k`` for MP(λ_A) ⊠ MP(λ_B, σ²): Lagrange inversion and the sum.

    ``m_k = (1/k)[w^{k−1}]((1 + w)/S(w))^k`` with ``S = 1/(σ²(1 + λ_A w)(1 + λ_B w))``,
    and ``(σ^{2k}/k) Σ_{i+j+l=k−1} binom(k, i) binom(k, j) binom(k, l) λ_A^j λ_B^l``.
    """
    series = sympy.expand(((1 + w_product) * (1 + lambda_a * w_product)
                           * (1 + lambda_b * w_product)) ** k)
    lagrange = sigma2**k * series.coeff(w_product, k - 1) / k
    explicit = sigma2**k / k * sum(
        sympy.binomial(k, k - 1 - j - m) * sympy.binomial(k, j) * sympy.binomial(k, m)
        * lambda_a**j * lambda_b**m for j in range(k) for m in range(k - j))
    return sympy.expand(lagrange), sympy.expand(explicit)


SEMICIRCLE_ROOT = (x_symbol - I * root) / (2 * sigma2)
semicircle_from_stieltjes = Derivation(
    claim=semicircle.id,
    title="Semicircle density by Stieltjes inversion of the quadratic's root",
    steps=(
        Step.assume(Eq(rho, -im(SEMICIRCLE_ROOT) / pi),
                    "ρ(x) = −Im G(x + i0)/π with G = (z − sqrt(z² − 4σ²))/(2σ²) the root "
                    "of σ²G² − zG + 1 = 0 with G ~ 1/z (lemma semicircle_quadratic); inside "
                    "(−2σ, 2σ) its square root of x² − 4σ² < 0 is i r on this branch"),
        Step.equal(Eq(rho, root / (2 * pi * sigma2)), "the imaginary part, for real x, r"),
        Step.substitute(Eq(rho, semicircle.statement), {root: sqrt(4 * sigma2 - x_symbol**2)},
                        "r = sqrt(4σ² − x²)"),
    ),
    ranges={x_symbol: (0.1, 1.0), sigma2: (0.5, 1.5)},
)

s_factors = sympy.Symbol("s", integer=True, positive=True)
k_order = sympy.Symbol("k", integer=True, positive=True)
moment_symbol = sympy.Symbol("m_k")
fuss_catalan_by_lagrange = Derivation(
    claim=fuss_catalan.id,
    title="Fuss–Catalan moments from S(w) = (1 + w)^−s by Lagrange inversion",
    steps=(
        Step.assume(Eq(moment_symbol, sympy.binomial((s_factors + 1) * k_order, k_order - 1)
                       / k_order * sympy.Symbol("sigma^2", positive=True) ** (s_factors
                                                                              * k_order)),
                    "m_k = (1/k)[w^(k−1)]((1 + w)/S(w))^k = (1/k)[w^(k−1)](1 + w)^((s+1)k) "
                    "(Lagrange inversion of M⁻¹(w) = (1 + w)/(w S(w)); binomial theorem) for "
                    "σ² = 1; the law of σ^(2s)x has m_k scaled by σ^(2sk)",
                    cite="Haagerup & Möller 2012 (S(w) = (1 + w)^−s), Lagrange inversion"),
        Step.equal(Eq(moment_symbol, fuss_catalan.statement),
                   "binom(N, k − 1) = binom(N, k) k/(N − k + 1) with N = (s + 1)k"),
    ),
    ranges={s_factors: (1, 4), k_order: (1, 6), sympy.Symbol("sigma^2", positive=True): (0.5, 2)},
)

w = sympy.Symbol("w")
depth_symbol = sympy.Symbol("L")  # as in the claims' statements
activation, weights, q_star = (sympy.Symbol("activation"), sympy.Symbol("weights"),
                               sympy.Symbol("q^*", positive=True))
p_symbol, gaussian_symbol = sympy.Symbol("p"), sympy.Symbol("[Gaussian]")
weight_variance_symbol = sympy.Symbol("sigma_w^2", positive=True)
S_W, S_D, S_J = (sympy.Symbol("S_{WW^T}(w)"), sympy.Symbol("S_{D^2}(w)"),
                 sympy.Symbol("S_{JJ^T}(w)"))
jacobian_s_transform_product = Derivation(
    claim=jacobian_spectrum.id,
    title="S_JJᵀ as the product of the layers' S-transforms",
    ranges={S_W: (0.2, 2.0), S_D: (0.2, 2.0), S_J: (0.2, 2.0), depth_symbol: (1, 5),
            w: (0.0, 0.5), p_symbol: (0.2, 1.0), gaussian_symbol: (0.0, 1.0)},
    steps=(
        Step.assume(Eq(S_J, sympy.Product(S_W * S_D, (sympy.Symbol("l"), 1, depth_symbol))),
                    "JJᵀ = D_L W_L ⋯ D_1 W_1 W_1ᵀ D_1 ⋯ has, by cyclicity of the trace, the "
                    "moments of the product of the 2L positive elements W_lW_lᵀ and D_l², "
                    "asymptotically free (Pennington et al. 2017 Sec. 2; Collins & Hayase for "
                    "Haar orthogonal W); S_{μ⊠ν} = S_μ S_ν",
                    cite="Pennington et al. 2017, eq. (12); Collins & Hayase 2023, Sec. 1.1"),
        Step.equal(Eq(S_J, (S_W * S_D) ** depth_symbol),
                   "every layer has the same S_WWᵀ and S_D² at the fixed point q*"),
        Step.equal(Eq(S_J, S_W**depth_symbol * S_D**depth_symbol),
                   "expanded (S-transforms of positive elements are positive near 0)"),
        Step.substitute(Eq(S_J, weight_variance_symbol ** (-depth_symbol)
                           * (1 + w) ** (-gaussian_symbol * depth_symbol)
                           * S_D**depth_symbol),
                        {S_W: 1 / (weight_variance_symbol * (1 + w) ** gaussian_symbol)},
                        "S_WWᵀ = σ_w^−2 (σ_w × Haar: a point mass) or σ_w^−2/(1 + w) "
                        "(Gaussian: MP at ratio 1), i.e. σ_w^−2 (1 + w)^−g with g = 1 Gaussian, "
                        "0 orthogonal"),
        Step.substitute(Eq(S_J, jacobian_spectrum.statement),
                        {S_D: derivative_s_transform_function(activation, q_star, w),
                         gaussian_symbol: gaussian_weights_function(weights)},
                        "S_D² is the S-transform of the law of φ'(h)², h ~ N(0, q*) at the "
                        "fixed point: (1 + w)/(p + w) for Bernoulli D² (piecewise-linear φ), "
                        "from its moments μ_k for tanh and erf (lemma "
                        "derivative_s_transform_series); g = [Gaussian weights]"),
    ),
)

relative_variance_symbol = sympy.Symbol("sigma^2_{JJ^T}")
# Moments of D² = φ'(h)² (μ_1, μ_2, μ_3) and the reversion of M_D(u) = Σ μ_k u^k (u = 1/z).
mu_1, mu_2, mu_3 = sympy.symbols("mu_1 mu_2 mu_3", positive=True)
u_symbol, residual_symbol = sympy.Symbol("u"), sympy.Symbol("r")
#: u(w) = M_D⁻¹ as a series in w to third order (Lagrange: [w^n]u = (1/n)[u^(n−1)](u/M(u))^n).
REVERSION = w / mu_1 - mu_2 * w**2 / mu_1**3 + (2 * mu_2**2 - mu_1 * mu_3) * w**3 / mu_1**5
#: S_D²(w) = (1 + w)/(w M_D⁻¹(w)) = (1 + w) u(w)/w, to second order in w.
DERIVATIVE_S_SERIES = (1 / mu_1 + (1 / mu_1 - mu_2 / mu_1**3) * w
                       + ((2 * mu_2**2 - mu_1 * mu_3) / mu_1**5 - mu_2 / mu_1**3) * w**2)
derivative_moment_reversion = Derivation(
    claim=jacobian_spectrum.id,
    title="M_D⁻¹ from the moments of D²: the series reversion to third order",
    steps=(
        Step.assume(Eq(residual_symbol, (sum(m * REVERSION**j for j, m in enumerate(
            (mu_1, mu_2, mu_3), start=1)) - w) / w**3),
                    "the residual of M_D(u(w)) = w, M_D(u) = μ₁u + μ₂u² + μ₃u³ + O(u⁴), "
                    "divided by w³ (u = O(w), so the O(u⁴) terms are O(w⁴))"),
        Step.limit(Eq(residual_symbol, 0), w, 0,
                   "it vanishes as w → 0: u(w) inverts M_D through order w³"),
    ),
    ranges={mu_1: (0.3, 1.2), mu_2: (0.1, 1.0), mu_3: (0.05, 1.0), w: (0.0, 0.5)},
    conclusion="expression",
)
derivative_s_transform_series = Derivation(
    claim=jacobian_spectrum.id,
    title="S_D² from the moments of D² at low order",
    steps=(
        Step.assume(Eq(S_D, (1 + w) * sympy.expand(REVERSION / w)),
                    "S(w) = (1 + w)/(w M⁻¹(w)) with M⁻¹(w) = 1/u(w), u the reversion of "
                    "M_D (lemma derivative_moment_reversion), truncated after w²",
                    cite="Pennington, Schoenholz & Ganguli 2018 (arXiv:1802.09979; section "
                         "unchecked); series reversion (Lagrange)"),
        Step.equal(Eq(S_D, DERIVATIVE_S_SERIES + (2 * mu_2**2 - mu_1 * mu_3) / mu_1**5 * w**3),
                   "expanded: S_D²(0) = 1/μ₁, S_D²'(0) = 1/μ₁ − μ₂/μ₁³; Bernoulli(p) (μ_k = p) "
                   "gives 1/p − (1 − p)w/p² + ..., the series of (1 + w)/(p + w)"),
    ),
    ranges={mu_1: (0.3, 1.2), mu_2: (0.1, 1.0), mu_3: (0.05, 1.0), w: (0.0, 0.5)},
    conclusion="expression",
)
S_NETWORK = (weight_variance_symbol ** (-depth_symbol) * (1 + w) ** (-gaussian_symbol
             * depth_symbol) * (1 / mu_1 + (1 / mu_1 - mu_2 / mu_1**3) * w) ** depth_symbol)
isometry_variance_from_s_transform = Derivation(
    claim=dynamical_isometry.id,
    title="The spread of JJᵀ's spectrum from −S'(0)/S(0)",
    steps=(
        Step.assume(Eq(relative_variance_symbol, -sympy.diff(sympy.log(S_NETWORK), w)),
                    "σ²/m₁² = −S'(0)/S(0), since S(w) = 1/m₁ − (m₂ − m₁²)w/m₁³ + O(w²); "
                    "S_JJᵀ = S_WWᵀ^L S_D²^L with S_WWᵀ = σ_w^−2 (1 + w)^−g (g = 1 Gaussian, "
                    "0 orthogonal) and S_D²(w) = 1/μ₁ + (1/μ₁ − μ₂/μ₁³)w + O(w²) (lemma "
                    "derivative_s_transform_series; the O(w²) terms do not enter at w = 0); "
                    "at criticality m₁ = (σ_w² μ₁)^L = 1, so σ²/m₁² is the variance",
                    cite="Pennington et al. 2017, eqs. (12) and (18); Pennington, Schoenholz & "
                         "Ganguli 2018 (arXiv:1802.09979; section unchecked)"),
        Step.equal(Eq(relative_variance_symbol, depth_symbol * (
            gaussian_symbol / (1 + w) - (mu_1**2 - mu_2)
            / (mu_1**2 + (mu_1**2 - mu_2) * w))),
                   "the logarithmic derivative"),
        Step.substitute(Eq(relative_variance_symbol, depth_symbol * (
            mu_2 / mu_1**2 - 1 + gaussian_symbol)), {w: 0}, "at w = 0"),
        Step.substitute(Eq(relative_variance_symbol, dynamical_isometry.statement),
                        {mu_1: derivative_moment_function(activation, q_star, 1),
                         mu_2: derivative_moment_function(activation, q_star, 2),
                         gaussian_symbol: gaussian_weights_function(weights)},
                        "μ_k = E φ'(√q* z)^{2k} at the fixed point q* (μ_k = p for Bernoulli D², "
                        "giving L(1/p − 1 + g)); g = [Gaussian weights]"),
    ),
    ranges={mu_1: (0.3, 1.2), mu_2: (0.1, 1.0), gaussian_symbol: (0.0, 1.0), w: (0.0, 0.5)},
)


# -- deformed Marchenko–Pastur (a discrete population) ---------------------------------------

# Imported here, with its derivations, so that the block stays one addition at the end.
from theorylab.theory.free_probability import (  # noqa: E402
    DEFORMED_MOMENT,
    deformed_marchenko_pastur,
    population_bell_function,
)

__all__ += ["deformed_moments_by_kreweras", "deformed_moments_from_s_transform"]

population_symbol = sympy.Symbol("T")
block_count = sympy.Symbol("b", integer=True, positive=True)  # as in the statement
#: NC(T, k, b): the sum over non-crossing partitions of k points into b blocks of the
#: products Π_blocks h_{|block|}, h_j = mean(t^j) (an undefined function: only named).
noncrossing = sympy.Function("NC")
deformed_moments_by_kreweras = Derivation(
    claim=deformed_marchenko_pastur.id,
    title="Moments of H ⊠ MP(λ): non-crossing partitions counted by type (Kreweras)",
    steps=(
        Step.assume(Eq(moment_symbol, sympy.Sum(lam ** (block_count - 1) * noncrossing(
            population_symbol, k_order, block_count), (block_count, 1, k_order))),
                    "S has the moments of T·W, T and W = XXᵀ/n asymptotically free (W is "
                    "orthogonally invariant); m_k(TW) = Σ_{π ∈ NC(k)} κ_π[W] h_{K(π)} with "
                    "MP's free cumulants κ_j = λ^(j−1) and the Kreweras complement K(π), "
                    "|π| + |K(π)| = k + 1; so m_k = Σ_{σ ∈ NC(k)} λ^(|σ|−1) Π_{B ∈ σ} h_|B|",
                    cite="Nica & Speicher 2006, Lectures on the Combinatorics of Free "
                         "Probability, Lect. 14 (products of free variables) and Lect. 12 "
                         "(free Poisson cumulants); lecture numbers not checked"),
        Step.substitute(Eq(moment_symbol, sympy.Sum(
            lam ** (block_count - 1) * sympy.factorial(k_order)
            / (sympy.factorial(k_order - block_count + 1) * sympy.factorial(block_count))
            * population_bell_function(population_symbol, k_order, block_count),
            (block_count, 1, k_order))),
                        {noncrossing(population_symbol, k_order, block_count):
                         sympy.factorial(k_order)
                         / (sympy.factorial(k_order - block_count + 1)
                            * sympy.factorial(block_count))
                         * population_bell_function(population_symbol, k_order, block_count)},
                        "the non-crossing partitions of [k] with r_j blocks of size j number "
                        "k!/((k − b + 1)! Π r_j!) (Kreweras 1972), b = Σ r_j; the ordinary "
                        "partial Bell polynomial B̂_{k,b} = [w^k](Σ h_j w^j)^b weights each "
                        "type by b!/Π r_j!"),
        Step.equal(Eq(moment_symbol, DEFORMED_MOMENT),
                   "k!/((k − b + 1)! b!) = binom(k + 1, b)/(k + 1)"),
    ),
    ranges={k_order: (1, 6), lam: (0.2, 3.0)},
)


def deformed_moments_from_s_transform(k: int) -> tuple[sympy.Expr, sympy.Expr]:
    """Both sides of ``m_k`` for ``H ⊠ MP(λ)`` in the population moments ``h_1..h_k`` (sympy).

    Left: from the S-transform, ``S_S(w) = S_H(w)/(1 + λw)``. With ``ψ(u) = Σ_j m_j u^j``
    (``u = 1/z``), ``S(w) = (1 + w) ψ^{<−1>}(w)/w``, so ``ψ_S^{<−1>}(w) =
    ψ_H^{<−1>}(w)/(1 + λw)``: two series reversions, exact to order ``k``. Right: the
    claim's statement with ``B̂_{k,b} = [w^k](Σ_j h_j w^j)^b`` expanded.
    """
    w_series = sympy.Symbol("w")
    moments = sympy.symbols(f"h1:{k + 1}", positive=True)
    population_series = sum(h * w_series ** (j + 1) for j, h in enumerate(moments))
    inverse_population = _reverse(population_series, w_series, k)
    product_inverse = sympy.series(inverse_population / (1 + lam * w_series), w_series, 0,
                                   k + 1).removeO()
    product = _reverse(sympy.expand(product_inverse), w_series, k)
    from_s_transform = sympy.expand(product.coeff(w_series, k))
    statement = sum(
        sympy.binomial(k + 1, b) / (k + 1) * lam ** (b - 1)
        * sympy.expand(population_series**b).coeff(w_series, k) for b in range(1, k + 1))
    return from_s_transform, sympy.expand(statement)


def _reverse(series: sympy.Expr, variable: sympy.Symbol, order: int) -> sympy.Expr:
    """The compositional inverse ``Σ a_i w^i`` of ``series`` (no constant term) to ``order``."""
    unknowns = sympy.symbols(f"a1:{order + 1}")
    guess = sum(a * variable ** (i + 1) for i, a in enumerate(unknowns))
    composed = sympy.expand(series.subs(variable, guess))
    solution: dict[sympy.Symbol, sympy.Expr] = {}
    for degree in range(1, order + 1):
        equation = composed.coeff(variable, degree).subs(solution) - (1 if degree == 1 else 0)
        solution[unknowns[degree - 1]] = sympy.solve(equation, unknowns[degree - 1])[0]
    return sympy.expand(guess.subs(solution))


#: T = σ²I: B̂_{k,b} = σ^(2k) binom(k − 1, b − 1) (compositions of k into b parts).
deformed_moment_at_identity = Derivation(
    claim=deformed_marchenko_pastur.id,
    title="T = σ²I: the deformed moments are Marchenko–Pastur's Narayana sums",
    steps=(
        Step.assume(Eq(moment_symbol, sympy.Sum(
            sympy.binomial(k_order + 1, block_count) / (k_order + 1) * lam ** (block_count - 1)
            * sigma2**k_order * sympy.binomial(k_order - 1, block_count - 1),
            (block_count, 1, k_order))),
                    "the statement at h_j = σ^(2j): [w^k](σ²w/(1 − σ²w))^b = σ^(2k) "
                    "binom(k − 1, b − 1)"),
        Step.equal(Eq(moment_symbol, sympy.Sum(
            sympy.binomial(k_order, block_count) * sympy.binomial(k_order, block_count - 1)
            / k_order * lam ** (block_count - 1) * sigma2**k_order, (block_count, 1, k_order))),
                   "binom(k + 1, b) binom(k − 1, b − 1)/(k + 1) = binom(k, b) binom(k, b − 1)/k "
                   "= N(k, b): the Narayana moments of MP(λ, σ²) (claim marchenko_pastur)"),
    ),
    ranges={k_order: (1, 8), lam: (0.2, 3.0), sigma2: (0.5, 2.0)},
    conclusion="expression",
)

#: The Silverstein equation at H = δ_{σ²} is MP's quadratic (lemma mp_quadratic's root).
companion = sympy.Symbol("mu")  # m̲, the companion Stieltjes transform
silverstein_at_identity = Derivation(
    claim=deformed_marchenko_pastur.id,
    title="The Silverstein equation at T = σ²I gives the Marchenko–Pastur root",
    steps=(
        Step.assume(Eq(z, -1 / companion + lam * sigma2 / (1 + sigma2 * companion)),
                    "z = −1/m̲ + λ ∫ t dH(t)/(1 + t m̲) with H = δ_{σ²}",
                    cite="Silverstein & Bai 1995, Thm 1.1 at A = 0; Silverstein & Choi 1995"),
        Step.substitute(Eq(z, -1 / (-(1 - lam) / z - lam * G)
                           + lam * sigma2 / (1 + sigma2 * (-(1 - lam) / z - lam * G))),
                        {companion: -(1 - lam) / z - lam * G},
                        "m̲ = −(1 − λ)/z + λm and m = ∫ dF(x)/(x − z) = −G"),
        Step.solve(Eq(G, G_ROOT), G, "the root with G ~ 1/z: MP's (lemma mp_quadratic)"),
    ),
    ranges={z: (5.0, 9.0), lam: (0.2, 0.8), sigma2: (0.5, 1.0)},
    conclusion="expression",
)
LEMMAS = (*LEMMAS, deformed_moment_at_identity, silverstein_at_identity)
del deformed_moment_at_identity, silverstein_at_identity  # lemmas, not registered
SMOOTH_JACOBIAN_LEMMAS = (derivative_moment_reversion, derivative_s_transform_series)
LEMMAS = LEMMAS + SMOOTH_JACOBIAN_LEMMAS
del derivative_moment_reversion, derivative_s_transform_series  # lemmas, not registered
