r"""Free probability: spectral laws, S-transform calculus, deep-network Jacobian spectra.

Conventions (those of :mod:`theorylab.free` and :mod:`theorylab.laws`): ``G(z) =
∫ dμ(x)/(z − x)``, ``ρ(x) = −(1/π) Im G(x + i0⁺)``, ``M(z) = zG(z) − 1``, ``S(w) =
(1 + w)/(w M⁻¹(w))`` with ``S_{μ⊠ν} = S_μ S_ν`` for free positive elements, ``R(w) =
G⁻¹(w) − 1/w``. Marchenko–Pastur: the ``p`` eigenvalues of ``XXᵀ/n``, ``X ∈ ℝ^{p×n}``
i.i.d. ``N(0, σ²)``, ``λ = p/n``; semicircle: GOE with off-diagonal variance ``σ²/n``.

Quantities: every claim has a ``quantity`` parameter; ``moment`` (``m_k``, needs ``k``),
``mean``, ``variance`` and ``relative_variance`` (``(m₂ − m₁²)/m₁²``), ``density``
(``ρ(x)``), ``cdf`` (``μ((−∞, x])``, atoms included), ``mass`` (``μ((x, upper])``: the
expected fraction of eigenvalues in the bin), ``edge`` (the limit of ``λ_max``), ``atom``
(mass at 0), ``r_transform`` (``R(x)``) and ``s_transform`` (``S(w)``, ``w ≥ 0``). An
argument a quantity needs is a constraint (left out, it is refused by name); the others
may be left out.

Statements: one sympy statement per quantity (``statements=``) is the number ``predict``
returns and the verifier compares; there are no ``evaluate`` hooks. Closed forms where
there are; named functions (:func:`theorylab.functions.named_function`) bound to the
definitions of :mod:`theorylab.laws` where there are not: exact Narayana, Catalan and
Fuss–Catalan numbers, the Fuss–Catalan density and CDF, densities, bin masses and edges
of laws given by an S-transform, ``p(activation, q*)``, and for the Jacobian spectra the
moments ``μ(activation, q*, k)`` of D², ``S_D²`` and ``m_JJᵀ`` (:mod:`theorylab.jacobian_law`:
tanh and erf by quadrature and series reversion). Decoys are statements,
substitutions into the statements (``_replacing``: each quantity's statement by its
wrong variant's) or the claim at changed parameters. Integer arguments are bounded:
``k ≤ 200`` (``k ≤ 100`` for Wishart products, O(k²) terms), ``s ≤ 100``, ``L ≤ 100``; a
moment beyond float64 overflows there and is finite with ``predict(precision=...)``.
Example: ``theorylab predict free_probability.fuss_catalan s=2 quantity=moment k=4``
prints 55.

Simulations (``theorylab.numerics.free_probability``) sample the matrices and networks
in torch, never these formulas; the finite-size bias is extrapolated over matrix sizes
(``1/n`` in the bulk, ``n^{−2/3}`` at edges). Densities are checked through ``mass``
in bins between quantiles of the predicted law, of mass ≥ 0.3 (where the check reaches
the 5% resolution): the standard error is the spread between independent matrices (a
bin's count fluctuates by O(1) eigenvalues, not O(√n)), the bias ``O(1/n)``. ``edge``
converges as ``n^{−2/3}`` with Tracy–Widom fluctuations, out of a 5% check per point at
the default budget: ``tests/test_free_probability_spectra.py`` checks it by the
convergence order (slope −2/3 of ``|E λ_max − edge|``; the fit's intercept is the
predicted edge, not the decoy's).
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import partial
from typing import Any

import sympy

from theorylab import activations, law_samplers, silverstein
from theorylab.claim import REQUIRED, Citation, Claim, Constraint, Decoy, Parameter, SystematicError
from theorylab.domains import Choice, Integer, Real
from theorylab.spectral_functions import (
    active_fraction_function,
    bernoulli_jacobian_mass_function,
    bernoulli_jacobian_moment_function,
    catalan,
    deformed_cdf_function,
    deformed_density_function,
    deformed_edge_function,
    derivative_moment_function,
    derivative_s_transform_function,
    fuss_catalan_cdf_function,
    fuss_catalan_density_function,
    fuss_catalan_number,
    gaussian_weights_function,
    jacobian_density_function,
    jacobian_edge_function,
    jacobian_mass_function,
    jacobian_moment_function,
    narayana,
    population_bell_function,
    population_mean_function,
    product_density_function,
    product_edge_function,
    product_mass_function,
)

# -- citations ---------------------------------------------------------------------

MINGO_SPEICHER = Citation(
    authors=("Roland Speicher",), year=2009,
    title="Free probability theory",
    where="Sec. 2 (semicircle: Catalan moments, R(w) = sigma^2 w); Sec. 3 (free Poisson / "
          "Marchenko-Pastur, S-transform multiplicativity, Voiculescu 1987)",
    arxiv="0911.0087", venue="Encyclopedia of Mathematical Physics (lecture notes)",
)
HAAGERUP_MOLLER = Citation(
    authors=("Uffe Haagerup", "Sören Möller"), year=2012,
    title="The law of large numbers for the free multiplicative convolution",
    where="Prop. 5 (density of the Fuss-Catalan law mu_s in the angle parametrisation; "
          "S-transform (1 + z)^-s; proposition number unchecked: the abstract confirms only the "
          "family mu_{alpha,beta} with S(z) = (-z)^beta (1 + z)^-alpha, mu_s = mu_{s,0}); "
          "Neuschel 2014 (arXiv:1311.0365) gives the same form",
    arxiv="1211.4457", venue="Operator Algebra and Dynamics (Springer Proc.)",
)
PENNINGTON = Citation(
    authors=("Jeffrey Pennington", "Samuel S. Schoenholz", "Surya Ganguli"), year=2017,
    title="Resurrecting the sigmoid in deep learning through dynamical isometry: "
          "theory and practice",
    where="Sec. 2: eq. (2) (J = prod D_l W_l), eq. (5) (chi), eqs. (7)-(10) (G, M and the "
          "S-transform), eq. (12) (S_JJT = S_WWT^L S_D2^L, proved in the first appendix), "
          "eq. (18) (Lagrange inversion); Sec. 2.2 (the fixed point q*), Sec. 2.3 (free "
          "probability). These numbers are as quoted by the Depth First Learning curriculum on "
          "the paper (depthfirstlearning.com, 'Resurrecting the sigmoid: Theory and practice', "
          "2020), which also derives m_2 = m_1^2 (L + p)/p for Gaussian weights; not read in "
          "the paper's own text. Table numbers unchecked",
    arxiv="1711.04735", venue="NeurIPS",
)
PENNINGTON_2018 = Citation(
    authors=("Jeffrey Pennington", "Samuel S. Schoenholz", "Surya Ganguli"), year=2018,
    title="The emergence of spectral universality in deep networks",
    where="S_JJT = prod_l S_{D_l^2} S_{W_l W_l^T} (the S-transform of JJ^T as a product "
          "over layers), the moments of JJ^T from the S-transform's series (m_1 = (sigma_w^2 "
          "mu_1)^L, the variance through -S'(0)/S(0)) and the density by inverting the "
          "S-transform, for smooth activations with mu_k = E phi'(h)^(2k) at the fixed point "
          "q*; section and equation numbers not checked against the paper's text (only its "
          "abstract and introduction were read here)",
    arxiv="1802.09979", venue="AISTATS",
)
COLLINS_HAYASE = Citation(
    authors=("Benoît Collins", "Tomohiro Hayase"), year=2023,
    title="Asymptotic freeness of layerwise Jacobians caused by invariance of multilayer "
          "perceptron: the Haar orthogonal case",
    where="Sec. 1.1, Main Results (asymptotic freeness of the layerwise Jacobians D_l, W_l "
          "for Haar orthogonal weights; section title from the contents of arXiv v4, the "
          "theorem number unchecked), which justifies the S-transform product",
    arxiv="2103.13466", venue="Comm. Math. Phys.",
)
MARCHENKO_PASTUR = replace(MINGO_SPEICHER, where="Sec. 3 (free Poisson = Marchenko-Pastur "
                           "law: density, atom (1 - 1/lambda)_+, S(w) = 1/(sigma^2(1 + "
                           "lambda w)), Narayana moments); Marchenko & Pastur, Mat. Sb. 1967")

COMMON = (
    "G(z) = ∫ dμ(x)/(z − x); ρ(x) = −(1/π) Im G(x + i0⁺); M(z) = zG(z) − 1 = Σ m_k z^−k; "
    "S(w) = (1 + w)/(w M⁻¹(w)).",
    "quantity names: moment (k), mean, variance, relative_variance, density (x), cdf (x), "
    "mass (x, upper: μ((x, upper]), the expected fraction of eigenvalues in the bin), "
    "edge (upper edge of the support = lim λ_max), atom (mass at 0), r_transform (x); "
    "arguments a quantity does not use may be left out.",
    "N(k, j) = binom(k, j) binom(k, j − 1)/k (Narayana), C(n) = binom(2n, n)/(n + 1) "
    "(Catalan), FC(s, k) = binom((s + 1)k, k)/(sk + 1) (Fuss–Catalan): exact integers.",
)
MP_CONVENTION = ("Marchenko–Pastur: X ∈ ℝ^{p×n} with i.i.d. N(0, σ²) entries, ratio λ = p/n, "
                 "the p eigenvalues of XXᵀ/n (zeros included); atom (1 − 1/λ)₊ at 0, edges "
                 "σ²(1 ± √λ)², S(w) = 1/(σ²(1 + λw)).")

BULK = SystematicError(
    "1/n", 1,
    "Bulk statistics converge as 1/n, edges (λ_max) as n^-2/3; Richardson extrapolation "
    "over the matrix sizes, remainder bounded by the last corrections.",
)

# -- symbols (bound to the parameters by name or LaTeX name) and named functions --------

lam, sigma2 = sympy.Symbol("lambda", positive=True), sympy.Symbol("sigma^2", positive=True)
x_symbol, _real_x = sympy.Symbol("x", positive=True), sympy.Symbol("x", real=True)
_upper_symbol, _w_symbol = sympy.Symbol("upper", real=True), sympy.Symbol("w")
_k_symbol, _s_symbol, _j_symbol = sympy.symbols("k s j", integer=True, positive=True)
_radius = sympy.Symbol("R", positive=True)  # placeholder for the semicircle's radius




def _needs(quantity: Parameter) -> tuple[Constraint, ...]:
    """For each argument that options of ``quantity`` need, a constraint that it is given."""
    def given(name: str, options: list[str]) -> Constraint:
        return Constraint(f"{name} is given for " + " or ".join(f"quantity={q!r}" for q in
                          options), lambda v: v["quantity"] not in options
                          or v.get(name) is not None, (name,))

    return tuple(given(name, [q for q in quantity.domain.options if q in needers])
                 for name, needers in NEEDED_BY.items()
                 if set(needers) & set(quantity.domain.options))


def _replacing(truth: dict[str, Any], wrong: dict[str, Any]) -> dict[Any, Any]:
    """A substitution that replaces each quantity's statement by its wrong variant."""
    return {truth[quantity]: wrong[quantity] for quantity in wrong}


BIN_ORDER = Constraint("upper > x (the bin (x, upper])", lambda v: v.get("upper") is None
                       or v.get("x") is None or v["upper"] > v["x"], ("upper",))

# -- 1. Marchenko–Pastur ---------------------------------------------------------------

_a1, _b1 = (1 - sympy.sqrt(lam)) ** 2, (1 + sympy.sqrt(lam)) ** 2
_a, _b = sigma2 * _a1, sigma2 * _b1
MP_DENSITY = sympy.sqrt((_b - x_symbol) * (x_symbol - _a)) / (2 * sympy.pi * sigma2 * lam
                                                                * x_symbol)
MP_ATOM = sympy.Max(0, 1 - 1 / lam)
_y = x_symbol / sigma2
_r = sympy.sqrt((_b1 - _y) * (_y - _a1))
#: The arctan CDF on the support (derived in proofs/free_probability).
MP_CDF = MP_ATOM + (
    _r + (1 + lam) * (sympy.atan((2 * _y - _a1 - _b1) / (2 * _r)) + sympy.pi / 2)
    - sympy.Abs(1 - lam) * (sympy.atan(((_a1 + _b1) * _y - 2 * _a1 * _b1)
                                       / (2 * sympy.Abs(1 - lam) * _r)) + sympy.pi / 2)
) / (2 * sympy.pi * lam)
# MP_CDF everywhere (0 below 0, the atom up to a, 1 from b), atan(u/v) as atan2(u, v) (v > 0
# on the support): at λ = 1 the second term is 0·(π/2 + π/2), not 0·atan(1/0).
_y_real = _real_x / sigma2
_ry = sympy.sqrt((_b1 - _y_real) * (_y_real - _a1))
MP_CDF_EVERYWHERE = sympy.Piecewise(
    (0, _real_x < 0), (MP_ATOM, _y_real <= _a1), (1, _y_real >= _b1),
    (MP_ATOM + (_ry + (1 + lam) * (sympy.atan2(2 * _y_real - _a1 - _b1, 2 * _ry) + sympy.pi / 2)
                - sympy.Abs(1 - lam) * (sympy.atan2((_a1 + _b1) * _y_real - 2 * _a1 * _b1, 2
                                                    * sympy.Abs(1 - lam) * _ry) + sympy.pi / 2))
     / (2 * sympy.pi * lam), True))
MP_STATEMENTS = {
    "moment": sigma2**_k_symbol * sympy.Sum(narayana(_k_symbol, _j_symbol)
                                            * lam ** (_j_symbol - 1), (_j_symbol, 1, _k_symbol)),
    "density": sympy.Piecewise((MP_DENSITY, (x_symbol > _a) & (x_symbol < _b)), (0, True)),
    "mass": MP_CDF_EVERYWHERE.subs(_real_x, _upper_symbol)
    - MP_CDF_EVERYWHERE.subs(_real_x, x_symbol),
    "edge": _b,
    "atom": MP_ATOM,
}

ratio_parameter = Parameter("ratio", Real(0, math.inf), "λ = p/n (rows over columns of X)",
                            latex="lambda")
variance_parameter = Parameter("variance", Real(0, math.inf, sample_lower=0.5, sample_upper=2.0),
                               "σ²: variance of the entries (MP) or of the off-diagonal "
                               "entries times n (GOE)", latex="sigma^2")
#: Practical bound on moment orders: the exact sums take O(k) to O(k²) (products) big-integer
#: terms, and beyond it m_k leaves float64 at typical scales anyway (MP at λ = 4: 9^k).
MAX_MOMENT_ORDER = 200
k_parameter = Parameter("k", Integer(1, MAX_MOMENT_ORDER, sample_upper=6),
                        f"moment order (quantity=moment), at most {MAX_MOMENT_ORDER}: the "
                        "exact sums grow as k (k² for products) and m_k leaves float64 beyond",
                        default=None)
x_parameter = Parameter("x", Real(0, math.inf), "point where density, cdf or transform is "
                        "evaluated", default=None)
real_x_parameter = Parameter("x", Real(-math.inf, math.inf), "point where the density or the "
                             "R-transform is evaluated; lower end of the bin (quantity=mass)",
                             default=None)
upper_parameter = Parameter("upper", Real(0, math.inf), "upper end of the bin (x, upper] "
                            "(quantity=mass)", default=None)
real_upper_parameter = Parameter("upper", Real(-math.inf, math.inf), "upper end of the bin "
                                 "(x, upper] (quantity=mass)", default=None)
w_parameter = Parameter("w", Real(0, math.inf, lower_open=False), "argument of the "
                        "S-transform (quantity=s_transform); S(0) = 1/m₁", default=None)
#: The quantities that need each argument.
NEEDED_BY = {"k": ("moment",), "x": ("density", "cdf", "mass", "r_transform"),
             "upper": ("mass",), "w": ("s_transform",)}


def _quantity(*options: str, default: Any = REQUIRED) -> Parameter:
    return Parameter("quantity", Choice(options), "which quantity: " + ", ".join(options),
                     default=default)


MP_QUANTITY = _quantity("moment", "density", "mass", "edge", "atom")
marchenko_pastur = Claim(
    id="free_probability.marchenko_pastur",
    title="Marchenko–Pastur law: density, Narayana moments and atom of XXᵀ/n",
    citation=MARCHENKO_PASTUR,
    parameters=(ratio_parameter, variance_parameter,
                MP_QUANTITY, k_parameter,
                x_parameter, upper_parameter),
    quantity=sympy.Symbol("rho(x)"),
    statement=MP_DENSITY,
    statements=MP_STATEMENTS,
    conventions=COMMON + (MP_CONVENTION,),
    simulation="theorylab.numerics.free_probability:marchenko_pastur",
    systematic_error=BULK,
    constraints=_needs(MP_QUANTITY) + (BIN_ORDER,),
    sample=lambda: law_samplers.marchenko_pastur_points(
        quantities=("moment", "mass", "atom")),
    decoys=(
        Decoy("inverted_ratio", "λ in place of 1/λ: the law of the n×n companion XᵀX/n "
              "mislabelled (atom (1 − λ)₊, moments and density at ratio 1/λ)",
              at={"ratio": lambda point: 1 / point["ratio"]}),
        Decoy("narayana_shift", "normalised by n instead of p: the law of the n eigenvalues "
              "of XᵀX/n, MP(1/λ, λσ²): moments Σ N(k, j) λ^j, density (and bin masses) without "
              "the 1/λ, atom (1 − λ)₊, the same edges",
              at={"ratio": lambda point: 1 / point["ratio"],
                  "variance": lambda point: point["ratio"] * point["variance"]}),
    ),
    ensemble=16,
    budget=15,
    resolution=0.05,
)

# -- 7. MP CDF ------------------------------------------------------------------------

mp_cdf = Claim(
    id="free_probability.mp_cdf",
    title="Closed-form (arctan) cumulative distribution function of Marchenko–Pastur",
    citation=replace(MARCHENKO_PASTUR, where="antiderivative of the MP density (Sec. 3 of "
                     "the notes); closed form derived in theorylab.proofs.free_probability"),
    parameters=(ratio_parameter, variance_parameter, _quantity("cdf", default="cdf"),
                Parameter("x", Real(-math.inf, math.inf), "where the CDF is evaluated")),
    quantity=sympy.Symbol("F(x)"),
    statement=MP_CDF,
    # The arctan form holds on the support; the checked number extends it (x is real here).
    statements={"cdf": MP_CDF_EVERYWHERE},
    conventions=COMMON + (MP_CONVENTION, "F(x) = μ((−∞, x]) includes the atom at 0; the "
                          "arctan form holds on the support (a, b), F = 0 below 0, "
                          "(1 − 1/λ)₊ on [0, a] and 1 from b on."),
    simulation="theorylab.numerics.free_probability:mp_cdf",
    systematic_error=BULK,
    sample=lambda: law_samplers.marchenko_pastur_points(quantities=("cdf",)),
    uses=("free_probability.marchenko_pastur",),
    decoys=(
        Decoy("atom_ratio", "atom (1 − λ)₊ in place of (1 − 1/λ)₊",
              substitute={MP_ATOM: sympy.Max(0, 1 - lam)}),
        Decoy("missing_lambda", "continuous part divided by 2π instead of 2πλ",
              statement=MP_ATOM + lam * (MP_CDF_EVERYWHERE - MP_ATOM)),
    ),
    ensemble=16,
    budget=12,
    resolution=0.05,
)

# -- 2. semicircle ----------------------------------------------------------------------

# By the radius R (2σ; σ in the catalan_shift decoy); the per-quantity forms take a real x
# (sympy would fold the x < 0 branches away for the displayed statement's positive x).
SEMICIRCLE_DENSITY = sympy.sqrt(4 * sigma2 - x_symbol**2) / (2 * sympy.pi * sigma2)
_semicircle_cdf = sympy.Piecewise(
    (0, _real_x <= -_radius), (1, _real_x >= _radius),
    (sympy.Rational(1, 2) + _real_x * sympy.sqrt(_radius**2 - _real_x**2)
     / (sympy.pi * _radius**2) + sympy.asin(_real_x / _radius) / sympy.pi, True))
SEMICIRCLE_BY_RADIUS = {
    "density": sympy.Piecewise((2 * sympy.sqrt(_radius**2 - _real_x**2) / (sympy.pi * _radius**2),
                                _real_x**2 < _radius**2), (0, True)),
    "mass": _semicircle_cdf.subs(_real_x, _upper_symbol) - _semicircle_cdf,
    "edge": _radius,
}
SEMICIRCLE_STATEMENTS = {
    "moment": sympy.Piecewise((catalan(_k_symbol / 2) * sigma2 ** (_k_symbol / 2),
                               sympy.Eq(sympy.Mod(_k_symbol, 2), 0)), (0, True)),
    **{q: e.subs(_radius, 2 * sympy.sqrt(sigma2)) for q, e in SEMICIRCLE_BY_RADIUS.items()},
    "r_transform": sigma2 * _real_x,
}
#: The catalan_shift decoy: C(k/2 + 1) for C(k/2), radius σ for 2σ, R(w) = σ²w².
CATALAN_SHIFT = {
    "moment": sympy.Piecewise((catalan(_k_symbol / 2 + 1) * sigma2 ** (_k_symbol / 2),
                               sympy.Eq(sympy.Mod(_k_symbol, 2), 0)), (0, True)),
    **{q: e.subs(_radius, sympy.sqrt(sigma2)) for q, e in SEMICIRCLE_BY_RADIUS.items()},
    "r_transform": sigma2 * _real_x**2,
}


SEMICIRCLE_QUANTITY = _quantity("moment", "density", "mass", "edge", "r_transform")
semicircle = Claim(
    id="free_probability.semicircle",
    title="Wigner semicircle: density, Catalan moments and R-transform R(w) = σ²w",
    citation=MINGO_SPEICHER,
    parameters=(variance_parameter,
                SEMICIRCLE_QUANTITY,
                k_parameter, real_x_parameter, real_upper_parameter),
    quantity=sympy.Symbol("rho(x)"),
    statement=SEMICIRCLE_DENSITY,
    statements=SEMICIRCLE_STATEMENTS,
    conventions=COMMON + ("GOE: symmetric n×n, off-diagonal entries N(0, σ²/n), diagonal "
                          "N(0, 2σ²/n); support [−2σ, 2σ]; m_2k = C_k σ^2k.",),
    simulation="theorylab.numerics.free_probability:semicircle",
    systematic_error=BULK,
    constraints=_needs(SEMICIRCLE_QUANTITY) + (BIN_ORDER,),
    sample=law_samplers.semicircle_points,
    decoys=(
        Decoy("doubled_variance", "σ² → 2σ² (the GOE diagonal variance taken for all "
              "entries)", at={"variance": lambda point: 2 * point["variance"]}),
        Decoy("catalan_shift", "C_{k/2+1} for C_{k/2}; radius σ for 2σ; R(w) = σ²w²",
              substitute=_replacing(SEMICIRCLE_STATEMENTS, CATALAN_SHIFT)),
    ),
    ensemble=16,
    budget=12,
    resolution=0.05,
)

# -- 4. Fuss-Catalan ---------------------------------------------------------------------

#: Practical bound on the number of factors: density, mass and edge stay fast (< 0.4 s)
#: and accurate at s = 50.
MAX_FACTORS = 100
s_parameter = Parameter("s", Integer(1, MAX_FACTORS, sample_upper=3),
                        f"number of Gaussian factors (at most {MAX_FACTORS})")
_fc_scale = sigma2**_s_symbol  # the law of σ^(2s) x, x unit Fuss–Catalan
_order = sympy.Symbol("n", integer=True, positive=True)  # placeholder: the unit law's order
FUSS_CATALAN_MOMENT = (sympy.binomial((_s_symbol + 1) * _k_symbol, _k_symbol)
                       / (_s_symbol * _k_symbol + 1) * sigma2 ** (_s_symbol * _k_symbol))
FUSS_CATALAN_BY_ORDER = {
    "moment": fuss_catalan_number(_order, _k_symbol) * sigma2 ** (_s_symbol * _k_symbol),
    "density": fuss_catalan_density_function(x_symbol / _fc_scale, _order) / _fc_scale,
    "mass": fuss_catalan_cdf_function(_upper_symbol / _fc_scale, _order)
    - fuss_catalan_cdf_function(x_symbol / _fc_scale, _order),
    "edge": _fc_scale * (_order + 1) ** (_order + 1) / _order**_order,
}
FUSS_CATALAN_STATEMENTS = {q: e.xreplace({_order: _s_symbol})
                           for q, e in FUSS_CATALAN_BY_ORDER.items()}
#: The depth_off_by_one decoy: the unit law of s + 1 factors at the scale σ^(2s).
FUSS_CATALAN_OFF_BY_ONE = {q: e.xreplace({_order: _s_symbol + 1})
                           for q, e in FUSS_CATALAN_BY_ORDER.items()}
#: The moment_matched_mp decoy: MP with the same m₁ and m₂ (λ = s, σ² → σ^(2s)).
MOMENT_MATCHED_MP = {quantity: MP_STATEMENTS[quantity].xreplace({lam: _s_symbol,
                                                                 sigma2: _fc_scale})
                     for quantity in FUSS_CATALAN_STATEMENTS}


FUSS_CATALAN_QUANTITY = _quantity("moment", "density", "mass", "edge")
fuss_catalan = Claim(
    id="free_probability.fuss_catalan",
    title="Fuss–Catalan law of products of s Gaussian matrices",
    citation=HAAGERUP_MOLLER,
    parameters=(s_parameter, FUSS_CATALAN_QUANTITY, k_parameter,
                x_parameter, upper_parameter,
                Parameter("variance", Real(0, math.inf), "σ²: entries N(0, σ²/n) (the law "
                          "scales by σ^(2s))", latex="sigma^2", default=1.0)),
    quantity=sympy.Symbol("m_k"),
    statement=FUSS_CATALAN_MOMENT,
    statements=FUSS_CATALAN_STATEMENTS,
    conventions=COMMON + (
        "W = G_s ⋯ G_1 with independent square G_i of i.i.d. N(0, σ²/n) entries (σ² = 1 by "
        "default); the law of the eigenvalues of WWᵀ; S(w) = σ^(−2s)(1 + w)^−s; support "
        "[0, σ^(2s)(s + 1)^(s+1)/s^s].",
        "Density by the angle parametrisation x(φ) = sin((s+1)φ)^(s+1)/(sin φ sin(sφ)^s), "
        "ρ = sin²φ sin(sφ)^(s−1)/(π sin((s+1)φ)^s), 0 < φ < π/(s+1) (theorylab.laws).",
    ),
    simulation="theorylab.numerics.free_probability:fuss_catalan",
    systematic_error=BULK,
    constraints=_needs(FUSS_CATALAN_QUANTITY) + (BIN_ORDER,),
    sample=law_samplers.fuss_catalan_points,
    decoys=(
        Decoy("edge_power", "support edge (s + 1)^s/s^s: the law scaled by 1/(s + 1)",
              at={"variance": lambda point: point["variance"]
                  / (point["s"] + 1) ** (1 / point["s"])}),
        Decoy("depth_off_by_one", "s + 1 factors in place of s",
              substitute=_replacing(FUSS_CATALAN_STATEMENTS, FUSS_CATALAN_OFF_BY_ONE)),
        Decoy("moment_matched_mp", "the Marchenko–Pastur law with the same m₁ and m₂ "
              "(σ^(2s), λ = s): right mean and variance, wrong density and edge (distinct "
              "for s >= 2; the moments sampled, k <= 2, cannot tell: the bins must)",
              substitute=_replacing(FUSS_CATALAN_STATEMENTS, MOMENT_MATCHED_MP)),
    ),
    ensemble=16,
    budget=12,
    resolution=0.05,
)

# -- 3. S-transform product -------------------------------------------------------------


_lambda_a, _lambda_b = sympy.symbols("lambda_A lambda_B", positive=True)
_i_symbol, _l_symbol = sympy.symbols("i l", integer=True, nonnegative=True)
PRODUCT_STATEMENTS = {
    "s_transform": 1 / (sigma2 * (1 + _lambda_a * _w_symbol) * (1 + _lambda_b * _w_symbol)),
    # (1/k)[w^(k−1)]((1 + w)(1 + λ_A w)(1 + λ_B w))^k σ^(2k) (lemma product_moments_from_lagrange)
    "moment": sigma2**_k_symbol / _k_symbol * sympy.Sum(sympy.Sum(
        sympy.binomial(_k_symbol, _k_symbol - 1 - _i_symbol - _l_symbol)
        * sympy.binomial(_k_symbol, _i_symbol) * sympy.binomial(_k_symbol, _l_symbol)
        * _lambda_a**_i_symbol * _lambda_b**_l_symbol, (_l_symbol, 0, _k_symbol - 1 - _i_symbol)),
        (_i_symbol, 0, _k_symbol - 1)),
    "density": product_density_function(_lambda_a, _lambda_b, sigma2, x_symbol),
    "mass": product_mass_function(_lambda_a, _lambda_b, sigma2, x_symbol, _upper_symbol),
    "edge": product_edge_function(_lambda_a, _lambda_b, sigma2),
}
#: One Wishart with the summed ratio: S = 1/(σ²(1 + (λ_A + λ_B)w)), the product's law at
#: (λ_A + λ_B, 0).
SINGLE_WISHART = {quantity: statement.xreplace({_lambda_a: _lambda_a + _lambda_b,
                                                _lambda_b: 0})
                  for quantity, statement in PRODUCT_STATEMENTS.items()}
#: A and B commuting: m_k(A) m_k(B); the other quantities as single_wishart.
CLASSICAL = {**SINGLE_WISHART, "moment": MP_STATEMENTS["moment"].xreplace(
    {lam: _lambda_a, sigma2: 1}) * MP_STATEMENTS["moment"].xreplace({lam: _lambda_b})}
#: Practical bound on the product's moment order: Lagrange inversion in mpmath takes 4 s at
#: k = 100 (O(k²) terms).
MAX_PRODUCT_MOMENT_ORDER = 100
#: Ratios sampled at the default budget: up to 1 (with λ > 1 the traces fluctuate
#: several times more and m₃ does not reach the 5% resolution there; predicted, not
#: sampled).
SAMPLED_PRODUCT_RATIOS = (0.25, 1 / 3, 0.5, 2 / 3, 0.75, 1.0)


PRODUCT_QUANTITY = _quantity("s_transform", "moment", "density", "mass", "edge")
s_transform_product = Claim(
    id="free_probability.s_transform_product",
    title="S-multiplicativity: the spectrum of A^½ B A^½ for independent Wisharts",
    citation=replace(MINGO_SPEICHER, where="Sec. 3 (S_{μ⊠ν} = S_μ S_ν, Voiculescu 1987); "
                     "independent Wisharts are asymptotically free (orthogonal invariance)"),
    parameters=(Parameter("ratio_a", Real(0, math.inf), "λ_A = p/n_A of A = XXᵀ/n_A",
                          latex="lambda_A"),
                Parameter("ratio_b", Real(0, math.inf), "λ_B = p/n_B of B = YYᵀ/n_B",
                          latex="lambda_B"),
                Parameter("variance", Real(0, math.inf), "σ² of the entries of Y (B = YYᵀ/n_B)",
                          latex="sigma^2", default=1.0),
                PRODUCT_QUANTITY,
                replace(k_parameter, domain=Integer(1, MAX_PRODUCT_MOMENT_ORDER, sample_upper=6),
                        description=f"moment order (quantity=moment), at most "
                        f"{MAX_PRODUCT_MOMENT_ORDER}: Lagrange inversion takes O(k²) terms"),
                x_parameter, upper_parameter, w_parameter),
    quantity=sympy.Symbol("S_{A^{1/2}BA^{1/2}}(w)"),
    statement=PRODUCT_STATEMENTS["s_transform"],
    statements=PRODUCT_STATEMENTS,
    conventions=COMMON + (
        "A = XXᵀ/n_A, B = YYᵀ/n_B, both p×p; X has unit-variance entries, Y variance σ²; "
        "λ_A = p/n_A, λ_B = p/n_B; the p eigenvalues of A^½BA^½; "
        "S = 1/(σ²(1 + λ_A w)(1 + λ_B w)).",
        "s_transform: S(w) at the parameter w ≥ 0 (predicted; checked through the moments and "
        "bin masses it implies); density, mass and edge: ρ_AB, μ_AB ((x, upper]) and λ_max "
        "of the law with this S-transform.",
        "Moments by Lagrange inversion m_k = (1/k)[w^(k−1)]((1 + w)/S(w))^k; the density by "
        "tracking the root of (1 + M)/(M S(M)) = z with M ~ m₁/z from Im z = ∞ to 0.",
    ),
    simulation="theorylab.numerics.free_probability:s_transform_product",
    systematic_error=BULK,
    constraints=_needs(PRODUCT_QUANTITY) + (BIN_ORDER,),
    sample=partial(law_samplers.product_points, ratios=SAMPLED_PRODUCT_RATIOS),
    decoys=(
        Decoy("single_wishart", "S = 1/(1 + (λ_A + λ_B)w): one Wishart with the summed ratio "
              "(right m₁ and m₂, wrong from m₃ on)",
              substitute=_replacing(PRODUCT_STATEMENTS, SINGLE_WISHART)),
        Decoy("classical", "m_k(A) m_k(B), as if A and B commuted (the other quantities as "
              "single_wishart)", substitute=_replacing(PRODUCT_STATEMENTS, CLASSICAL)),
    ),
    ensemble=64,
    budget=12,
    resolution=0.05,
)

# -- 5. Jacobian spectra -------------------------------------------------------------------

ACTIVATIONS = activations.PIECEWISE_LINEAR + activations.SMOOTH_JACOBIAN
WEIGHTS = ("orthogonal", "gaussian")
#: Largest moment order of JJᵀ (quantity=moment): the series of S_{D²} from μ_1..μ_k.
MAX_JACOBIAN_MOMENT_ORDER = 6


_activation, _weights, _depth_symbol = sympy.symbols("activation weights L")
_weight_variance, _q_symbol = sympy.symbols("sigma_w^2 q^*", positive=True)
_p = active_fraction_function(_activation, _q_symbol)
_mu_1 = derivative_moment_function(_activation, _q_symbol, 1)
_mu_2 = derivative_moment_function(_activation, _q_symbol, 2)
_gaussian = gaussian_weights_function(_weights)
_network = (_activation, _weights, _depth_symbol, _weight_variance, _q_symbol)
#: S_{JJᵀ}(w) = S_{WWᵀ}(w)^L S_{D²}(w)^L with S_{WWᵀ} = σ_w^{−2}(1 + w)^{−[Gaussian]} and
#: S_{D²}(w) ((1 + w)/(p + w) for Bernoulli D²), evaluated at the parameter w.
JACOBIAN_S_TRANSFORM = (_weight_variance ** (-_depth_symbol)
                        * (1 + _w_symbol) ** (-_gaussian * _depth_symbol)
                        * derivative_s_transform_function(_activation, _q_symbol, _w_symbol)
                        ** _depth_symbol)
#: σ²_{JJᵀ}/m₁² = −S'(0)/S(0) of S_{JJᵀ}, with −S_{D²}'(0)/S_{D²}(0) = μ₂/μ₁² − 1.
JACOBIAN_RELATIVE_VARIANCE = _depth_symbol * (_mu_2 / _mu_1**2 - 1 + _gaussian)
#: The decoy: D² as Bernoulli(μ₁) (right mean, μ₂ = μ₁ in place of the smooth law's μ₂).
BERNOULLI_RELATIVE_VARIANCE = _depth_symbol * (1 / _mu_1 - 1 + _gaussian)
JACOBIAN_STATEMENTS = {
    "s_transform": JACOBIAN_S_TRANSFORM,
    "mean": (_weight_variance * _mu_1) ** _depth_symbol,
    "relative_variance": JACOBIAN_RELATIVE_VARIANCE,
    "moment": jacobian_moment_function(*_network, _k_symbol),
    "density": jacobian_density_function(*_network, x_symbol),
    "mass": jacobian_mass_function(*_network, x_symbol, _upper_symbol),
    "edge": jacobian_edge_function(*_network),
}


#: D² as Bernoulli(μ₁): the piecewise-linear formulas with p = μ₁ (right mean, wrong spread
#: and higher moments for tanh and erf; the same law for piecewise-linear φ).
BERNOULLI_STATEMENTS = {
    "s_transform": JACOBIAN_S_TRANSFORM.xreplace({derivative_s_transform_function(
        _activation, _q_symbol, _w_symbol): (1 + _w_symbol) / (_mu_1 + _w_symbol)}),
    "relative_variance": BERNOULLI_RELATIVE_VARIANCE,
    "moment": bernoulli_jacobian_moment_function(*_network, _k_symbol),
    "mass": bernoulli_jacobian_mass_function(*_network, x_symbol, _upper_symbol),
}

activation_parameter = Parameter("activation", Choice(ACTIVATIONS), "φ: linear, relu, "
                                 "hard_tanh (piecewise-linear), tanh or erf (smooth)")
weights_parameter = Parameter("weights", Choice(WEIGHTS), "orthogonal (σ_w × Haar) or "
                              "gaussian (N(0, σ_w²/n)) weights")
#: Practical bound on the depth: the S-transform power and the root tracking stay fast and
#: accurate (density, mass and edge in < 0.3 s at L = 100).
MAX_DEPTH = 100
depth_parameter = Parameter("depth", Integer(1, MAX_DEPTH, sample_upper=4),
                            f"L: number of layers (at most {MAX_DEPTH})", latex="L")

#: Deepest sampled network per weight ensemble. Orthogonal networks are in their 1/n regime
#: from n = 32 on at depths to 4 (n × relative bias of the spread constant within its SE).
#: Deeper Gaussian networks are predicted, not sampled: their bias is not yet 1/n at
#: n ≤ 128 (ReLU, L = 4: n × relative bias 1.5, 3.2, 4.1, then 4.5 at 128–512); at L = 2
#: with twice the networks the tolerance still reached 5.4–5.8% (3 of 16 checks).
SAMPLED_DEPTH = {"orthogonal": 4, "gaussian": 1}
NETWORK_CONVENTIONS = (
    f"Asymptotic freeness of the D_l and W_l for Haar orthogonal weights: "
    f"{COLLINS_HAYASE.short()}.",
    "Checked on sampled networks at depths L ≤ 4 (orthogonal weights) and L = 1 (Gaussian "
    "weights): deeper Gaussian networks are predicted, not sampled, because their "
    "finite-width bias is not yet O(1/n) at n ≤ 128 (see SAMPLED_DEPTH).",
)
weight_variance_parameter = Parameter("weight_variance", Real(0, math.inf), "σ_w²",
                                      latex="sigma_w^2")
q_parameter = Parameter("preactivation_variance", Real(0, math.inf, sample_lower=0.4,
                                                        sample_upper=1.5),
                        "q*: the fixed point of the pre-activation variance", latex="q^*")


JACOBIAN_QUANTITY = _quantity("s_transform", "mean", "relative_variance", "moment", "density",
                              "mass", "edge")
jacobian_spectrum = Claim(
    id="free_probability.jacobian_spectrum",
    title="Spectrum of JJᵀ for deep networks at their fixed point q*",
    citation=replace(PENNINGTON, where=PENNINGTON.where + "; tanh and erf networks: "
                     + PENNINGTON_2018.short()),
    parameters=(activation_parameter, weights_parameter, depth_parameter,
                weight_variance_parameter, q_parameter,
                JACOBIAN_QUANTITY, x_parameter, upper_parameter, w_parameter,
                replace(k_parameter, domain=Integer(1, MAX_JACOBIAN_MOMENT_ORDER,
                                                    sample_upper=3),
                        description=f"moment order of JJᵀ (quantity=moment), at most "
                        f"{MAX_JACOBIAN_MOMENT_ORDER}")),
    quantity=sympy.Symbol("S_{JJ^T}(w)"),
    statement=JACOBIAN_S_TRANSFORM,
    statements=JACOBIAN_STATEMENTS,
    conventions=COMMON + (
        "h_l = W_l φ(h_{l−1}) + b_l, width n, at the fixed point q* of the pre-activation "
        "variance (σ_b² = q* − σ_w² E φ(√q* z)² ≥ 0); J = Π_l D_l W_l, D_l = diag φ'(h_l).",
        "S_{WWᵀ} = σ_w^−2 (orthogonal: σ_w × Haar) or σ_w^−2/(1 + w) (Gaussian N(0, σ_w²/n)); "
        "piecewise-linear φ: D² is Bernoulli(p), S_{D²} = (1 + w)/(p + w), p = 1 (linear), 1/2 "
        "(ReLU), erf(1/√(2q*)) (hard-tanh).",
        "tanh and erf (erf(z), not erf(z/√2)): D² = φ'(h)² with h ~ N(0, q*) has moments "
        "μ_k = E φ'(h)^{2k} (μ(activation, q*, k); erf: (4/π)^k/√(1 + 4kq*), tanh: trapezoid "
        "quadrature) and S_{D²}(w) = (1 + w)/(w M_{D²}⁻¹(w)); piecewise-linear: μ_k = p.",
        "m₁ = χ^L with χ = σ_w² μ₁; relative variance σ²/m₁² = L(μ₂/μ₁² − 1 + [Gaussian]) "
        "(= L(1/p − 1 + [Gaussian]) for Bernoulli D²); moment: m_k by Lagrange inversion, "
        "m_k = (1/k)[w^(k−1)]((1 + w)/S_{JJᵀ}(w))^k, with S_{D²}'s series from μ_1..μ_k.",
        "Smooth φ: density, mass and edge from G_{D²}(ζ) = E 1/(ζ − φ'(h)²) by quadrature "
        "on a complex contour in h, ζ = M_{D²}⁻¹(M) tracked by Newton's method "
        "(theorylab.jacobian_law, float64).",
        "s_transform: S_{JJᵀ}(w) at the parameter w ≥ 0 (predicted; checked through the "
        "mean, spread and bin masses it implies); density, mass and edge: ρ_JJᵀ, μ_JJᵀ "
        "((x, upper]) and λ_max of the law with this S-transform (theorylab.free).",
    ) + NETWORK_CONVENTIONS,
    simulation="theorylab.numerics.free_probability:jacobian_spectrum",
    systematic_error=BULK,
    constraints=_needs(JACOBIAN_QUANTITY) + (BIN_ORDER,),
    sample=partial(law_samplers.jacobian_points, networks=ACTIVATIONS,
                   weight_ensembles=WEIGHTS, sampled_depth=SAMPLED_DEPTH),
    decoys=(
        Decoy("orthogonal_as_gaussian", "S_{WWᵀ} = σ_w^−2/(1 + w) also for orthogonal weights",
              at={"weights": "gaussian"}),
        Decoy("depth_off_by_one", "L + 1 layers (counting the input layer)",
              substitute={_depth_symbol: _depth_symbol + 1}),
        Decoy("bernoulli_derivative", "D² as Bernoulli(μ₁), the piecewise-linear law with the "
              "smooth activation's mean: right m₁, wrong spread and higher moments",
              statements=BERNOULLI_STATEMENTS),
    ),
    ensemble=32,
    budget=12,
    resolution=0.05,
)

# -- 6. dynamical isometry ---------------------------------------------------------------

dynamical_isometry = Claim(
    id="free_probability.dynamical_isometry",
    title="Dynamical isometry: the variance of JJᵀ's spectrum at criticality",
    citation=replace(PENNINGTON, where="tanh and erf networks: " + PENNINGTON_2018.short()
                     + "; Sec. 2: eq. (12) (S_JJT) at chi = 1 (eq. (5)), "
                     "sigma^2_JJT = -S'(0)/S(0) through the Lagrange inversion eq. (18); "
                     "m_2 = m_1^2 (L + p)/p for Gaussian weights (equation numbers as quoted "
                     "by the Depth First Learning curriculum on the paper, 2020, not read in "
                     "the paper's own text; table numbers unchecked); asymptotic freeness for "
                     "orthogonal weights: Collins & Hayase (arXiv:2103.13466), Sec. 1.1"),
    parameters=(activation_parameter, weights_parameter, depth_parameter,
                q_parameter, _quantity("variance", default="variance")),
    quantity=sympy.Symbol("sigma^2_{JJ^T}"),
    statement=JACOBIAN_RELATIVE_VARIANCE,
    conventions=COMMON + (
        "Criticality χ = σ_w² μ₁ = 1, so σ_w² = 1/μ₁ and m₁ = 1, with μ_k = E φ'(√q* z)^{2k}; "
        "piecewise-linear φ: μ_k = p = 1 (linear), 1/2 (ReLU), erf(1/√(2q*)) (hard-tanh); "
        "tanh and erf (erf(z)): quadrature, erf: (4/π)^k/√(1 + 4kq*).",
        "σ²_{JJᵀ} = L(μ₂/μ₁² − 1) + L [Gaussian weights] (= L(1/p − 1) + L [Gaussian] for "
        "Bernoulli D²): it grows with L for Gaussian weights and for ReLU (1/p − 1 = 1), and "
        "stays O(1) for orthogonal hard-tanh, tanh and erf as q* → 0 (D² → a point mass) "
        "at fixed L (Pennington, Schoenholz & Ganguli 2018 for tanh and erf).",
        "Measured as var/mean² of each network's spectrum (the same limit; free of the "
        "O(n^-1/2) fluctuation of the overall scale Π_l p̂_l). Orthogonal linear networks "
        "(σ² = 0 exactly) are excluded from sampling.",
    ) + NETWORK_CONVENTIONS,
    simulation="theorylab.numerics.free_probability:dynamical_isometry",
    systematic_error=BULK,
    sample=partial(law_samplers.isometry_points, networks=ACTIVATIONS,
                   weight_ensembles=WEIGHTS, sampled_depth=SAMPLED_DEPTH),
    decoys=(
        Decoy("depth_not_doubled", "variance L(1/p − 1): L in place of 2L for Gaussian ReLU",
              substitute={_gaussian: 0}),
        Decoy("orthogonal_as_gaussian", "S_{WWᵀ} = σ_w^−2/(1 + w) for orthogonal weights",
              substitute={_gaussian: 1}),
        Decoy("bernoulli_derivative", "D² as Bernoulli(μ₁): L(1/μ₁ − 1 + [Gaussian]), the "
              "piecewise-linear formula with the smooth activation's μ₁",
              statement=BERNOULLI_RELATIVE_VARIANCE),
    ),
    ensemble=32,
    budget=10,
    resolution=0.05,
)


#: Claims stated, predicted and simulated, but left out of the registry (none now: the
#: product moments reach the 5% resolution with four sizes and control variates, see
#: ``theorylab.numerics.free_probability.wishart_product_moments``).
UNVERIFIED: tuple[Claim, ...] = ()

# -- 8. deformed Marchenko–Pastur: a discrete population (Silverstein equation) ------------

SILVERSTEIN_BAI = Citation(
    authors=("Haoran Li",), year=2024,
    title="Analysis of the limiting spectral distribution of large random matrices of the "
          "Marčenko-Pastur type",
    where="Sec. 1, restating Silverstein & Bai 1995 (J. Multivariate Anal. 54, 175–192, "
          "'On the empirical distribution of eigenvalues of a class of large dimensional "
          "random matrices', Theorem 1.1: the limit of the spectrum of A + XTX*, X N×n "
          "i.i.d., T n×n diagonal, n/N → c, has the Stieltjes transform m = m_A(z − c ∫ τ "
          "dH(τ)/(1 + τm)); at A = 0 the companion equation z = −1/m̲ + c ∫ τ dH(τ)/(1 + τm̲), "
          "whose real branches give the support: Silverstein & Choi 1995, J. Multivariate "
          "Anal. 54, 295–309, Sec. 4) and Marčenko & Pastur 1967 (Mat. Sb.). The models are "
          "as the abstracts state; the theorem, section and equation numbers were not "
          "checked against the papers' text. Moments: the free multiplicative convolution "
          "H ⊠ MP(λ) (Voiculescu 1987; Speicher 2009, arXiv:0911.0087, Sec. 3)",
    arxiv="2408.10068",
)

#: Practical bound on the moment order: the exact Bell table takes O(k³) big-integer terms.
MAX_DEFORMED_MOMENT_ORDER = 100
_population_symbol = sympy.Symbol("T")
_b_symbol = sympy.Symbol("b", integer=True, positive=True)
#: m_k = Σ_b binom(k + 1, b)/(k + 1) λ^(b−1) B̂_{k,b}(h₁, h₂, ...), h_j = mean(t^j)
#: (derived in proofs/free_probability: deformed_moments_by_kreweras).
DEFORMED_MOMENT = sympy.Sum(sympy.binomial(_k_symbol + 1, _b_symbol) / (_k_symbol + 1)
                            * lam ** (_b_symbol - 1)
                            * population_bell_function(_population_symbol, _k_symbol, _b_symbol),
                            (_b_symbol, 1, _k_symbol))
DEFORMED_STATEMENTS = {
    "moment": sympy.Eq(sympy.Symbol("m_k"), DEFORMED_MOMENT),
    "density": deformed_density_function(_population_symbol, lam, _real_x),
    "mass": deformed_cdf_function(_population_symbol, lam, _upper_symbol)
    - deformed_cdf_function(_population_symbol, lam, _real_x),
    "edge": deformed_edge_function(_population_symbol, lam),
    "atom": MP_ATOM,
}
#: The mean_variance_mp decoy: Marchenko–Pastur with σ² = mean(t) (right m₁, wrong from m₂:
#: it misses the population's spread h₂ − h₁²).
MEAN_VARIANCE_MP = {quantity: MP_STATEMENTS[quantity].xreplace(
    {sigma2: population_mean_function(_population_symbol), x_symbol: _real_x})
    for quantity in ("moment", "density", "mass", "edge")}
DEFORMED_QUANTITY = _quantity("moment", "density", "mass", "edge", "atom")
deformed_marchenko_pastur = Claim(
    id="free_probability.deformed_marchenko_pastur",
    title="Deformed Marchenko–Pastur: the spectrum of T^½XXᵀT^½/n for a discrete population T",
    citation=SILVERSTEIN_BAI,
    parameters=(
        Parameter("population", silverstein.Population(), "the eigenvalues t_i of T, each "
                  "of weight 1/length (H = mean of δ_{t_i}); the p eigenvalues of T repeat "
                  "the list p/length times", latex="T"),
        ratio_parameter, DEFORMED_QUANTITY,
        replace(k_parameter, domain=Integer(1, MAX_DEFORMED_MOMENT_ORDER, sample_upper=3),
                description=f"moment order (quantity=moment), at most "
                f"{MAX_DEFORMED_MOMENT_ORDER}: the exact Bell table takes O(k³) terms"),
        replace(real_x_parameter, description="point where the density is evaluated "
                "(quantity=density); lower end of the bin (quantity=mass)"),
        real_upper_parameter),
    quantity=sympy.Symbol("m_k"),
    statement=DEFORMED_MOMENT,
    statements=DEFORMED_STATEMENTS,
    conventions=COMMON + (
        "S = T^½XXᵀT^½/n, X ∈ ℝ^{p×n} i.i.d. N(0, 1), λ = p/n; T has the eigenvalues t_i of "
        "the list `population`, each p/length times; the p eigenvalues of S, zeros "
        "included: atom (1 − 1/λ)₊ at 0. The law is H ⊠ MP(λ), S_S(w) = S_H(w)/(1 + λw).",
        "moment: m_k = Σ_{b=1}^{k} binom(k + 1, b)/(k + 1) λ^(b−1) B̂_{k,b}, B̂_{k,b} = "
        "[w^k](Σ_j h_j w^j)^b the ordinary partial Bell polynomial of h_j = mean(t^j), "
        "exact (m₁ = h₁, m₂ = h₂ + λh₁², m₃ = h₃ + 3λh₁h₂ + λ²h₁³).",
        "density, mass, edge: from the companion Stieltjes transform m̲ (m̲ = −(1 − λ)/z + "
        "λm, m(z) = ∫ dF(x)/(x − z)), the root with Im m̲ > 0 of the Silverstein equation "
        "z = −1/m̲ + λ Σ_i w_i t_i/(1 + t_i m̲), tracked from Im z = ∞ to 0 "
        "(theorylab.silverstein); ρ(x) = Im m̲(x + i0)/(πλ) for x > 0 (0 for x ≤ 0: the "
        "atom has no density); mass = μ((x, upper]) = F(upper) − F(x) from the exact "
        "antiderivative of m̲, the atom at 0 counted when x < 0 ≤ upper; edge = the upper "
        "edge of the support (lim λ_max), the minimum of z(m̲) on (−1/max t, 0).",
    ),
    simulation="theorylab.numerics.free_probability:deformed_marchenko_pastur",
    systematic_error=BULK,
    constraints=_needs(DEFORMED_QUANTITY) + (BIN_ORDER,),
    sample=law_samplers.deformed_marchenko_pastur_points,
    uses=("free_probability.marchenko_pastur",),
    decoys=(
        Decoy("mean_variance_mp", "ordinary Marchenko–Pastur with σ² = mean(t), the "
              "population's mean variance (right m₁, misses the spread from m₂ on)",
              statements=MEAN_VARIANCE_MP),
        Decoy("inverted_ratio", "λ in place of 1/λ: the n × n companion XᵀTX/n mislabelled",
              at={"ratio": lambda point: 1 / point["ratio"]}),
    ),
    ensemble=16,
    budget=8,
    resolution=0.05,
)
