"""A Sphinx math renderer that writes MathML at build time: no JavaScript, no network.

Sphinx's default renderer loads MathJax from a CDN, which fails offline. This
extension converts each formula's LaTeX to MathML with docutils' converter
(:func:`docutils.utils.math.latex2mathml.tex2mathml`), which browsers render
natively (MathML Core: Chromium 109+, Firefox, Safari). A formula the converter
cannot read is shown as its LaTeX source in a ``<code class="tex-fallback">``
and reported as a Sphinx warning, so a build never hides a broken formula.

Use ``extensions = ["theorylab.docs.mathml"]`` and ``html_math_renderer = "mathml"``.
"""

from __future__ import annotations

import html
import re
from typing import Any

from docutils import nodes
from docutils.utils.math.latex2mathml import tex2mathml
from sphinx.util import logging

__all__ = ["setup", "to_mathml"]

logger = logging.getLogger(__name__)
_SUBSTACK = re.compile(r"\\substack\{([^{}]*)\}")


def to_mathml(latex: str, *, block: bool = False) -> str | None:
    """MathML for a LaTeX formula, or None when the converter cannot read it."""
    # docutils has no \substack (sympy writes it under double sums): one line, commas.
    latex = _SUBSTACK.sub(lambda found: "{" + found.group(1).replace("\\\\", ",\\; ") + "}",
                          latex)
    try:
        return tex2mathml(latex, as_block=block)
    except Exception:  # noqa: BLE001  (docutils raises SyntaxError, ValueError, KeyError...)
        return None


def _fallback(translator: Any, node: nodes.Node, latex: str) -> str:
    logger.warning("theorylab.docs.mathml: cannot convert %r to MathML", latex[:80],
                   location=node)
    return f'<code class="tex-fallback">{html.escape(latex)}</code>'


def _visit_inline(translator: Any, node: nodes.Node) -> None:
    latex = node.astext()
    translator.body.append(to_mathml(latex) or _fallback(translator, node, latex))
    raise nodes.SkipNode


def _visit_block(translator: Any, node: nodes.Node) -> None:
    latex = node.astext()
    rendered = to_mathml(latex, block=True) or _fallback(translator, node, latex)
    anchor = f' id="{node["ids"][0]}"' if node.get("ids") else ""
    translator.body.append(f'<div class="math-display"{anchor}>{rendered}</div>\n')
    raise nodes.SkipNode


def setup(app: Any) -> dict[str, Any]:
    """Register the ``mathml`` HTML math renderer."""
    app.add_html_math_renderer("mathml", (_visit_inline, None), (_visit_block, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
