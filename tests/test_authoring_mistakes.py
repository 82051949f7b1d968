"""Each authoring mistake of docs/authoring.md's table is one line, never a traceback."""

from __future__ import annotations

import textwrap

import pytest

from theorylab.cli import main

HEADER = '''
import numpy as np
import sympy
import torch
from hypothesis import strategies as st
from theorylab import (Citation, Claim, Constraint, Decoy, Integer, Measurement, Parameter,
                       Real, SystematicError, simulation)
from theorylab.domains import Choice

NOTES = Citation(("A. Theorist",), 2026, "Notes", "eq. 1", arxiv="0000.00000")
a = sympy.Symbol("a")
PARAMETERS = (Parameter("a", Real(0, 4, sample_lower=0.5, sample_upper=2.0), "a scale"),)

@simulation
def good(point, *, ensemble, generator, device, resolution):
    return point["a"] + 1e-3 * torch.randn(ensemble, generator=generator, dtype=torch.float64)

def claim(**options):
    name = "mistakes." + __file__.rsplit("/", 1)[-1][:-3]
    fields = dict(id=name, title="a", citation=NOTES, parameters=PARAMETERS,
                  statement=a, quantity=sympy.Symbol("q"), conventions=("-",),
                  simulation=good, budget=3, decoys=(Decoy("double", "2a", 2 * a),))
    fields.update(options)
    return Claim(**fields)
'''

MISTAKES = {
    "wrong_symbol": ("c = claim(statement=sympy.Symbol('eta') * a)",
                     "the statement uses the symbol 'eta', which is not a parameter", 2),
    "wrong_signature": ("def sim(points, seed):\n    return []\nc = claim(simulation=sim)",
                        "cannot be called as simulate(points, *, seed, device, ensemble)", 2),
    "arrays_not_measurements": (
        "def sim(points, *, seed, device, ensemble):\n"
        "    return [np.ones((1, ensemble)) for _ in points]\nc = claim(simulation=sim)",
        "simulation returned a ndarray where a Measurement was expected", 1),
    "missing_systematic_error": (
        "@simulation(levels=(0.1, 0.05, 0.025))\n"
        "def sim(point, *, ensemble, generator, device, resolution):\n"
        "    return torch.ones(ensemble)\nc = claim(simulation=sim)",
        "declares no systematic_error", 2),
    "duplicate_id": ("c = claim()\nd = claim(title='again')", "is defined twice", 2),
    "unresolved_uses": ("c = claim(uses=('mistakes.missing',))",
                        "uses 'mistakes.missing', which is not loaded", 2),
    "sampler_violates_constraint": (
        "c = claim(constraints=(Constraint('a < 1', lambda p: p['a'] < 1, ('a',)),),\n"
        "          sample=lambda: st.fixed_dictionaries({'a': st.just(1.5)}))",
        "its sampler drew a point outside the claim's domain", 2),
    "resolution_out_of_range": ("c = claim(resolution=5)",
                                "resolution must be a number in (0, 1)", 2),
    "decoy_is_the_statement": ("c = claim(decoys=(Decoy('same', 'a', a),))",
                               "decoy 'same' is the statement itself", 2),
    "decoy_with_two_forms": ("c = claim(decoys=(Decoy('d', 'x', 2 * a, substitute={a: 3}),))",
                             "needs exactly one of", 2),
    "id_without_family": ("c = claim(id='myclaim')", "the id needs a family prefix", 2),
    "syntax_error": ("c = claim(\n", "has a syntax error at line", 2),
    "statements_for_unknown_quantity": (
        "c = claim(parameters=PARAMETERS + (Parameter('quantity', Choice(('value',)), 'q'),),\n"
        "          statements={'mean': a})",
        "statements for 'mean', which is not a quantity option", 2),
    "wrong_shape": (
        "@simulation\n"
        "def sim(point, *, ensemble, generator, device, resolution):\n"
        "    return torch.tensor(1.0)\nc = claim(simulation=sim)",
        "its first axis must be the ensemble", 1),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_an_authoring_mistake_is_one_line(mistake, tmp_path, capsys):
    body, message, code = MISTAKES[mistake]
    module = tmp_path / f"{mistake}.py"
    module.write_text(HEADER + "\n" + textwrap.dedent(body) + "\n")
    status = main(["--evidence", str(tmp_path / "evidence.jsonl"), "check", "--module",
                   str(module)])
    captured = capsys.readouterr()
    assert status == code, captured
    assert "Traceback" not in captured.out + captured.err
    if code == 2:
        # Progress lines may precede it on stderr; the error itself is one line.
        (line,) = [text for text in captured.err.splitlines() if "error" in text]
        assert line.startswith("theorylab: error:") and message in line, line
        assert len(line) < 300
    else:
        assert message in captured.out


def test_the_guide_lists_every_mistake():
    from pathlib import Path

    guide = (Path(__file__).parents[1] / "docs" / "authoring.md").read_text()
    rows = [line for line in guide.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) >= len(MISTAKES) >= 10
