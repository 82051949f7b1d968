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
