"""Claims whose every text field is hostile: the docs site and the LaTeX export must stay inert.

``tests/test_docs_injection.py`` builds the site and the export from this module.
The file named by ``THEORYLAB_TEST_SENTINEL`` must never be included anywhere.
"""

import os

import numpy as np
import sympy

from theorylab import Citation, Claim, Derivation, Measurement, Parameter, Real, Step
from theorylab.claim import Constraint, Decoy

SENTINEL = os.environ.get("THEORYLAB_TEST_SENTINEL", "/nonexistent-sentinel")

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
DIRECTIVES = (f"\n```\n```{{eval-rst}}\n.. raw:: html\n\n   {SCRIPT}\n\n.. include:: {SENTINEL}\n"
              "```\n:::{raw} html\n<script>alert(2)</script>\n:::\n")
TEX = (rf"\input{{{SENTINEL}}} \write18{{touch /tmp/pwned}} # % & _ {{ }} ~ ^ \ "
       rf"$\input{{x}}$ ^^5cinput{{{SENTINEL}}}")
MYST = "{{ title }} {eval-rst}`.. include:: x` [click](javascript:alert(3)) <!-- `"


def hostile(label: str) -> str:
    """One field's hostile text, naming the field."""
    return f"{label} {SCRIPT} {IMAGE} {DIRECTIVES} {TEX} {MYST}"


CITATION = Citation(authors=(hostile("author"), "B. " + SCRIPT), year=hostile("year"),
                    title=hostile("paper"), where=hostile("where"), arxiv=hostile("arxiv"),
                    venue=hostile("venue"))

scale_name = "scale" + IMAGE
scale = Parameter(scale_name, Real(0, 4, sample_lower=0.5, sample_upper=2.0),
                  hostile("parameter description"), latex=hostile("latex"))
SCALE = scale.symbol


def doubled(points, *, seed, device, ensemble):
    """2 * scale plus a little noise, per point."""
    generator = np.random.default_rng(seed)
    return [Measurement(samples=(2 * point[scale_name]
                                 + 0.01 * generator.standard_normal(ensemble))[None])
            for point in points]


base = Claim(
    id=f"hostile.base{SCRIPT}{IMAGE}\n```{{eval-rst}}^^5cinput{{{SENTINEL}}}",
    title=hostile("base title"), citation=CITATION, parameters=(scale,),
    statement=2 * SCALE, quantity=sympy.Symbol(hostile("base quantity")),
    simulation=doubled, ensemble=8, budget=3, kind=hostile("kind"),
    conventions=(hostile("convention"),), notes=hostile("notes"),
    decoys=(Decoy(hostile("decoy"), hostile("decoy description"), 3 * SCALE),),
)

claim = Claim(
    id="hostile.claim",
    title=hostile("title"), citation=CITATION, parameters=(scale,),
    statement=2 * SCALE, quantity=sympy.Symbol(hostile("quantity")),
    simulation=doubled, ensemble=8, budget=3,
    conventions=(hostile("convention"),), notes=hostile("notes"),
    uses=(base.id,), components=(hostile("component"),),
    constraints=(Constraint(hostile("constraint"), lambda point: True, (scale_name,)),),
    decoys=(Decoy(hostile("decoy"), hostile("decoy description"), 3 * SCALE),),
)

derivation = Derivation(
    claim="hostile.claim", title=hostile("derivation title"),
    steps=(Step.assume(sympy.Eq(sympy.Symbol(hostile("lhs")), SCALE), hostile("assumption"),
                       cite=hostile("cite")),
           Step.equal(sympy.Eq(sympy.Symbol(hostile("lhs")), SCALE), hostile("step reason"))),
)
