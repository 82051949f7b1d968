"""Notebook display: a claim as LaTeX, a verdict as an HTML card with a figure."""

from __future__ import annotations

from html.parser import HTMLParser

from theorylab import registry
from theorylab.verifier import Status, check


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_claim_repr_latex_is_display_math():
    claim = registry.get("deep_linear.saxe_mode_strength")
    latex = claim._repr_latex_()
    assert latex.startswith("$\\displaystyle ") and latex.endswith("$")
    assert "\\frac" in latex and "e^{" in latex


def test_verdict_repr_html_is_a_card_with_numbers_and_a_figure():
    claim = registry.get("deep_linear.saxe_mode_strength")
    verdict = check(claim, budget=3, seed=2)
    html = verdict._repr_html_()
    parsed = _Collector()
    parsed.feed(html)
    text = " ".join(parsed.text)
    assert "svg" in parsed.tags and parsed.tags.count("rect") == len(verdict.points)
    assert verdict.status is Status.PASS and "PASS" in text
    assert "seed 2" in text and "device cpu" in text and "3 points x" in text
    for decoy in claim.decoys:
        assert decoy.name in text
    assert text.count("rejected") >= len(claim.decoys)


def test_display_hooks_in_a_notebook_like_namespace():
    # What IPython does to show a cell's value: call the _repr_*_ hooks.
    namespace = {}
    exec("from theorylab import get\nclaim = get('deep_linear.saxe_learning_time')", namespace)
    formats = {name: getattr(namespace["claim"], name)() for name in ("_repr_latex_",)}
    assert formats["_repr_latex_"].startswith("$")


def test_each_quantity_prints_its_own_left_hand_side():
    import sympy

    from theorylab.claim import Citation, Claim, Parameter
    from theorylab.domains import Choice, Integer, Real

    variance, k, x = sympy.symbols("variance k x")
    moment = sympy.Symbol("m_k")
    claim = Claim(
        id="unit.semicircle", title="t", citation=Citation(("A",), 2026, "T", "eq. 1"),
        parameters=(Parameter("variance", Real(0.1, 4)), Parameter("k", Integer(0, 8)),
                    Parameter("x", Real(-1, 1)),
                    Parameter("quantity", Choice(("density", "moment", "mass")))),
        statement=sympy.sqrt(4 * variance - x**2) / (2 * sympy.pi * variance),
        quantity=sympy.Function("rho")(x), conventions=("-",),
        statements={"density": sympy.sqrt(4 * variance - x**2) / (2 * sympy.pi * variance),
                    "moment": sympy.Eq(moment, variance ** (k / 2)),
                    "mass": x / 2})
    shown = {quantity: next(line for line in text.splitlines() if "=" in line)
             for quantity, text in claim.quantity_pretty().items()}
    assert shown["density"].startswith("ρ(x) =")
    assert shown["moment"].startswith("mₖ =") and "ρ" not in shown["moment"]
    assert shown["mass"].startswith("mass =")
    assert claim.statements["moment"] == variance ** (k / 2)  # the evaluated right-hand side
    assert claim.predict(variance=3.0, k=2, x=0.0, quantity="moment") == 3.0
