"""The simulation helper: a user writes the physics of one point, the helper does the rest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy
import torch

from theorylab import registry
from theorylab.claim import Citation, Claim, Decoy, Parameter
from theorylab.domains import Integer, Real
from theorylab.errors import ClaimDefinitionError
from theorylab.simulations import simulation
from theorylab.verifier import Status, check

EXAMPLE = Path(__file__).parents[1] / "examples" / "sgd_noise" / "sgd_claims.py"
NOTES = Citation(authors=("A. Theorist",), year=2026, title="Notes", where="eq. 1",
                 arxiv="0000.00000")


@simulation(levels=(0.2, 0.1))
def two_levels(point, *, ensemble, generator, device, resolution):
    return point["a"] * (1 + resolution) + torch.randn(ensemble, generator=generator,
                                                       dtype=torch.float64)


@simulation
def one_level(point, *, ensemble, generator, device, resolution):
    return point["a"] + 1e-3 * torch.randn(ensemble, generator=generator, dtype=torch.float64)


def _claim(simulate, **options):
    fields = dict(id="unit.helper", title="a", citation=NOTES,
                  parameters=(Parameter("a", Real(0, 4, sample_lower=0.5, sample_upper=2.0)),),
                  statement=sympy.Symbol("a"), quantity=sympy.Symbol("q"), conventions=("-",),
                  simulation=simulate, budget=4,
                  decoys=(Decoy("double", "twice", 2 * sympy.Symbol("a")),))
    fields.update(options)
    return Claim(**fields)


def test_the_sgd_example_is_forty_lines_and_fully_verified(tmp_path):
    from theorylab.evidence import Evidence
    from theorylab.workflow import verify

    assert len(EXAMPLE.read_text().splitlines()) <= 40
    (claim,) = registry.load(EXAMPLE)
    evidence = Evidence(tmp_path / "evidence.jsonl")
    result = verify(claim, seed=0, record=evidence)
    assert result.succeeded, result.verdict.summary()
    assert registry.status(claim, evidence) == "fully verified"


def test_a_point_is_seeded_by_itself_and_levels_share_random_numbers():
    first = two_levels([{"a": 1.0}, {"a": 2.0}], seed=3, device="cpu", ensemble=4)
    alone = two_levels([{"a": 2.0}], seed=3, device="cpu", ensemble=4)
    assert np.array_equal(first[1].samples, alone[0].samples)
    noise = first[0].samples - np.array([[1.2], [1.1]])
    assert np.allclose(noise[0], noise[1])  # common random numbers across levels
    assert first[0].resolutions.tolist() == [0.2, 0.1]


def test_several_levels_without_a_bias_model_are_refused_when_the_claim_is_built():
    with pytest.raises(ClaimDefinitionError, match="2 resolutions .* no systematic_error"):
        _claim(two_levels)


def test_a_simulation_with_the_wrong_signature_is_refused_quoting_the_contract():
    def wrong(points, seed):
        return []

    with pytest.raises(ClaimDefinitionError,
                       match=r"simulate\(points, \*, seed, device, ensemble\)"):
        _claim(wrong)


def test_a_wrong_shape_is_an_inconclusive_verdict_with_its_reason():
    @simulation
    def scalar(point, *, ensemble, generator, device, resolution):
        return torch.tensor(1.0)

    verdict = check(_claim(scalar), seed=0, record=False)
    assert verdict.status is Status.INCONCLUSIVE and "first axis must be the ensemble" in \
        verdict.reason


def test_a_decoy_equal_to_the_statement_is_a_definition_error():
    a = sympy.Symbol("a")
    with pytest.raises(ClaimDefinitionError, match="decoy 'same' is the statement itself"):
        _claim(one_level, decoys=(Decoy("same", "expanded", (a + 1) ** 2 - 2 * a - 1),),
               statement=a**2)


def test_the_helper_fulfils_the_contract():
    verdict = check(_claim(one_level), seed=0, record=False)
    assert verdict.status is Status.PASS and verdict.decoys_rejected


def test_declarative_decoys_substitution_changed_parameters_and_another_claim():
    from hypothesis import strategies as st

    a, k = sympy.Symbol("a"), sympy.Symbol("k")
    parameters = (Parameter("a", Real(0, 4, sample_lower=0.5, sample_upper=2.0)),
                  Parameter("k", Integer(1, 8)))
    claim = _claim(one_level, parameters=parameters, statement=a * k, decoys=(
        Decoy("doubled", "a -> 2a", substitute={"a": "2*a"}),
        Decoy("one_less", "k - 1", at={"k": lambda point: point["k"] - 1}),
        Decoy("squared", "a^2", statement=a**2)), sample=lambda: st.fixed_dictionaries(
            {"a": st.just(1.5), "k": st.just(3)}))
    assert claim.predict_decoy(claim.decoy("doubled"), a=1.5, k=3) == 9.0
    assert claim.predict_decoy(claim.decoy("one_less"), a=1.5, k=3) == 3.0
    registry.register([_claim(one_level, id="unit.other", statement=a + 1)])
    other = Decoy("other", "another claim's prediction", claim="unit.other")
    assert _claim(one_level, parameters=parameters, statement=a * k,
                  decoys=(other,)).predict_decoy(other, a=1.5, k=3) == 2.5


def test_a_decoy_needs_exactly_one_form():
    with pytest.raises(ClaimDefinitionError, match="exactly one of"):
        Decoy("both", "two forms", statement=sympy.Symbol("a"), substitute={"a": "2*a"})


def test_a_substitution_that_changes_nothing_is_a_definition_error():
    a = sympy.Symbol("a")
    with pytest.raises(ClaimDefinitionError, match="leaves the statement unchanged"):
        _claim(one_level, statement=a**2, decoys=(Decoy("noop", "b -> 2b",
                                                        substitute={sympy.Symbol("b"): 2}),))


def test_a_sampler_that_leaves_the_domain_is_a_one_line_error():
    from hypothesis import strategies as st

    from theorylab.verifier import draw_points

    claim = _claim(one_level, sample=lambda: st.fixed_dictionaries({"a": st.just(9.0)}))
    with pytest.raises(ClaimDefinitionError, match="sampler drew a point outside"):
        draw_points(claim, 2, seed=0)


def test_predict_without_a_hook_uses_the_quantitys_statement():
    from theorylab.domains import Choice

    a = sympy.Symbol("a")
    claim = _claim(one_level, parameters=(
        Parameter("a", Real(0, 4, sample_lower=0.5, sample_upper=2.0)),
        Parameter("quantity", Choice(("value", "square")))),
        statement=a, statements={"value": a, "square": a**2})
    assert claim.predict(a=3.0, quantity="square") == 9.0
    assert claim.predict(a=3.0, quantity="value") == 3.0


def test_a_substitution_binds_to_the_statement_symbols_whatever_their_assumptions():
    """deep_linear's helper found {"s": "2*s"} silently void on a positive (or LaTeX-named)
    symbol: names now bind to the statement's own symbols, keys given as strings or not."""
    a, k = sympy.Symbol("a", positive=True), sympy.Symbol("k", integer=True)
    parameters = (Parameter("a", Real(0, 4, sample_lower=0.5, sample_upper=2.0)),
                  Parameter("k", Integer(1, 8)))
    claim = _claim(one_level, parameters=parameters, statement=a**2 * k, decoys=(
        Decoy("string", "a -> 2a", substitute={"a": "2*a"}),
        Decoy("plain_symbol", "a -> 2a", substitute={sympy.Symbol("a"): 2 * sympy.Symbol("a")}),
        Decoy("swap", "a <-> k", substitute={"a": "k", "k": "a"})))
    assert claim.predict_decoy(claim.decoy("string"), a=1.5, k=3) == 27.0
    assert claim.predict_decoy(claim.decoy("plain_symbol"), a=1.5, k=3) == 27.0
    assert claim.predict_decoy(claim.decoy("swap"), a=1.5, k=3) == 9 * 1.5  # simultaneous
    with pytest.raises(ClaimDefinitionError, match="leaves the statement unchanged"):
        _claim(one_level, parameters=parameters, statement=a**2 * k,
               decoys=(Decoy("void", "c -> 2", substitute={"c": "2"}),))


def test_a_decoy_may_be_wrong_differently_for_each_quantity():
    a = sympy.Symbol("a")
    from theorylab.domains import Choice

    parameters = (Parameter("a", Real(0, 4, sample_lower=0.5, sample_upper=2.0)),
                  Parameter("quantity", Choice(("mean", "square"))))
    statements = {"mean": a, "square": a**2}
    claim = _claim(one_level, parameters=parameters, statements=statements, decoys=(
        Decoy("shifted", "one more", statements={"mean": a + 1}),))
    shifted = claim.decoy("shifted")
    assert claim.predict_decoy(shifted, a=2.0, quantity="mean") == 3.0
    assert claim.predict_decoy(shifted, a=2.0, quantity="square") == 4.0  # the truth there
    with pytest.raises(ClaimDefinitionError, match="not one of the claim's statements"):
        _claim(one_level, parameters=parameters, statements=statements,
               decoys=(Decoy("bad", "x", statements={"cube": a**3}),))
    with pytest.raises(ClaimDefinitionError, match="every statement it gives is the claim's"):
        _claim(one_level, parameters=parameters, statements=statements,
               decoys=(Decoy("same", "x", statements={"square": a**2}),))
