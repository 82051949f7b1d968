"""The generated derivation docs: a static site from the registry and the evidence.

:func:`build_site` writes one MyST page per claim (statement, conventions,
parameters, derivation steps with their check status, verification figures,
decoy table, last verdict) and an index with every claim's status and a
blueprint-style dependency graph, then builds them with Sphinx into static
HTML. Math is converted to MathML at build time (:mod:`theorylab.docs.mathml`),
so pages render with no network and no JavaScript; figures are matplotlib PNGs
drawn from the stored verdicts. Nothing is simulated: a claim with no stored
verdict says "not yet verified".

The CLI's ``theorylab docs`` and ``theorylab verify --report`` call it; the
LaTeX export (``theorylab export ID --latex/--bib``) lives in
:mod:`theorylab.docs.tex`.
"""

from theorylab.docs.site import MARKER, SiteResult, build_site, default_site_dir, prepare_out

__all__ = ["build_site", "default_site_dir", "prepare_out", "SiteResult", "MARKER"]
