r"""LaTeX for claims: sympy's printer with readable quantity names, and the export.

:func:`tex` prints a sympy expression with :func:`sympy.latex`, except that
symbols whose names are already written as TeX (``\dot{W}_e``,
``t(u_0 -> u_f)``) are printed as written, where sympy's name parser would split
them at every underscore. :func:`latex_fragment` writes a claim's statement and
derivation as a LaTeX fragment with amsthm environments, for a paper's appendix;
:func:`bibtex` the BibTeX of the papers it cites.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import sympy

from theorylab.claim import Claim

__all__ = ["tex", "text_to_tex", "latex_fragment", "bibtex", "STEP_VERBS"]

# Names sympy prints well: a word, optionally with a subscript word (tau, u_0, N_l).
_PLAIN_NAME = re.compile(r"^[A-Za-z]+\d*(_[A-Za-z0-9]+)?$")

#: How each derivation relation reads in prose.
STEP_VERBS = {
    "assume": "Assume", "equal": "Rewrite", "substitute": "Substitute",
    "differentiate": "Differentiate", "integrate": "Integrate", "limit": "Take the limit",
    "solve": "Solve", "solve_ode": "Solve the ODE",
    "at_most": "Bound above", "supremum": "Take the supremum",
}


def _written_name(name: str) -> str:
    r"""A symbol name meant as TeX, with ASCII arrows turned into ``\to``."""
    return name.replace("->", r"\to ").replace("<-", r"\gets ")


def tex(expression: Any) -> str:
    """LaTeX of a sympy expression, keeping symbol names that are written as TeX."""
    expression = sympy.sympify(expression)
    names = {}
    for symbol in expression.atoms(sympy.Symbol):
        if not _PLAIN_NAME.match(symbol.name) and not symbol.name.startswith("_"):
            names[symbol] = _written_name(symbol.name)
    return sympy.latex(expression, symbol_names=names) if names else sympy.latex(expression)


def equation_tex(claim: Claim) -> str:
    """LaTeX of a claim's statement as ``quantity = expression``."""
    return tex(claim.equation())


# Characters special to LaTeX in running text, and the few non-ASCII ones the
# catalogue's prose uses.
_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
}
_UNICODE = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\epsilon",
    "η": r"\eta", "θ": r"\theta", "κ": r"\kappa", "λ": r"\lambda", "μ": r"\mu", "ν": r"\nu",
    "π": r"\pi", "ρ": r"\rho", "σ": r"\sigma", "τ": r"\tau", "φ": r"\phi", "χ": r"\chi",
    "ψ": r"\psi", "ω": r"\omega", "Σ": r"\Sigma", "Δ": r"\Delta", "Λ": r"\Lambda",
    "→": r"\to", "←": r"\gets", "≤": r"\le", "≥": r"\ge", "≈": r"\approx", "≠": r"\neq",
    "×": r"\times", "·": r"\cdot", "∞": r"\infty", "∈": r"\in", "‖": r"\|", "√": r"\surd",
    "∂": r"\partial", "∇": r"\nabla", "±": r"\pm", "²": "^2", "³": "^3", "⁻": "^{-}",
    "∑": r"\sum", "∫": r"\int",
}
_TEXT_UNICODE = {"–": "--", "—": "---", "−": "-", "…": r"\ldots{}", "’": "'", "‘": "`",
                 "“": "``", "”": "''", "\u00a0": "~"}


def _escape(text: str) -> str:
    out = []
    for character in text:
        if character in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[character])
        elif character in _UNICODE:
            out.append(f"${_UNICODE[character]}$")
        elif character in _TEXT_UNICODE:
            out.append(_TEXT_UNICODE[character])
        elif ord(character) < 128:
            out.append(character)
        else:
            plain = unicodedata.normalize("NFKD", character).encode("ascii", "ignore").decode()
            out.append(_escape(plain) if plain else "?")
    return "".join(out)


def split_math(text: str) -> list[tuple[bool, str]]:
    """Split prose into ``(is_math, piece)`` at ``$...$`` delimiters."""
    pieces: list[tuple[bool, str]] = []
    for index, piece in enumerate(re.split(r"(?<!\\)\$", text)):
        if piece:
            pieces.append((index % 2 == 1, piece))
    if text.count("$") % 2:  # an unmatched dollar is a dollar sign, not math
        return [(False, text)]
    return pieces


def text_to_tex(text: str) -> str:
    """Prose as LaTeX: special characters escaped, ``$...$`` kept as math."""
    return "".join(f"${piece}$" if is_math else _escape(piece)
                   for is_math, piece in split_math(text))


_ENVIRONMENTS = {"theorem": "Theorem", "lemma": "Lemma", "definition": "Definition",
                 "proposition": "Proposition", "corollary": "Corollary"}


def latex_fragment(claim: Claim, results: Sequence[Any] | None = None) -> str:
    r"""The claim's statement and derivations as a LaTeX fragment (amsmath + amsthm).

    Args:
        claim: the claim.
        results: :class:`~theorylab.derivation.DerivationResult` per derivation
            (from :func:`~theorylab.derivation.check_derivation`), giving each
            step's status; None prints the steps without statuses.

    Returns:
        LaTeX text that compiles inside ``\documentclass{amsart}`` (or any
        document loading amsmath and amsthm). The theorem environment is declared
        only if the document has not declared it; the citation is a ``\cite``
        of :meth:`Citation.key <theorylab.claim.Citation.key>` (see :func:`bibtex`).

    """
    from theorylab import registry

    environment = claim.kind if claim.kind in _ENVIRONMENTS else "theorem"
    style = "definition" if environment == "definition" else "plain"
    citation = claim.citation
    label = "claim:" + claim.id
    lines = [
        f"% {claim.id}: exported by `theorylab export {claim.id} --latex`.",
        "% Needs amsmath and amsthm (amsart loads both); the \\cite key is in "
        f"`theorylab export {claim.id} --bib`.",
        "\\makeatletter",
        f"\\@ifundefined{{{environment}}}{{\\theoremstyle{{{style}}}"
        f"\\newtheorem{{{environment}}}{{{_ENVIRONMENTS[environment]}}}"
        "\\theoremstyle{plain}}{}",
        "\\makeatother",
        "",
        # Braces around the optional argument: it holds a \cite[...] of its own.
        f"\\begin{{{environment}}}[{{{_escape(claim.title)}; "
        f"\\cite[{_escape(citation.where)}]{{{citation.key}}}}}]",
        f"\\label{{{label}}}",
    ]
    if claim.conventions:
        lines.append("Conventions:")
        lines.append("\\begin{itemize}")
        lines += [f"  \\item {text_to_tex(c)}" for c in claim.conventions]
        lines.append("\\end{itemize}")
    lines.append("For parameters")
    lines.append("\\begin{itemize}")
    for parameter in claim.parameters:
        lines.append(f"  \\item ${tex(parameter.symbol)}$ ({_escape(parameter.name)}): "
                     f"{_escape(parameter.domain.describe())}"
                     + (f"; {text_to_tex(parameter.description)}"
                        if parameter.description else ""))
    for constraint in claim.constraints:
        lines.append(f"  \\item subject to {_escape(constraint.description)}")
    lines.append("\\end{itemize}")
    lines.append("\\begin{equation}")
    lines.append(f"  {equation_tex(claim)}")
    lines.append("\\end{equation}")
    if claim.uses:
        lines.append("It rests on " + ", ".join(
            f"\\texttt{{{_escape(used)}}}" for used in claim.uses) + ".")
    lines.append(f"\\end{{{environment}}}")
    derivations = registry.derivations(claim.id)
    for index, derivation in enumerate(derivations):
        result = results[index] if results is not None and index < len(results) else None
        status = f" ({result.status.value})" if result is not None else ""
        lines += ["", f"\\begin{{proof}}[{_escape(derivation.title)}{_escape(status)}]",
                  "\\begin{enumerate}"]
        for number, step in enumerate(derivation.steps):
            checked = ""
            if result is not None and number < len(result.steps):
                checked = f" \\emph{{[{_escape(result.steps[number].status.value)}]}}"
            lines.append(f"  \\item {STEP_VERBS.get(step.relation, step.relation)}: "
                         f"{text_to_tex(step.reason)}{checked}")
            lines.append(f"  \\[ {tex(step.expression)} \\]")
        lines.append("\\end{enumerate}")
        lines.append(f"The last line is the statement of {_ENVIRONMENTS[environment]}~"
                     f"\\ref{{{label}}}.")
        lines.append("\\end{proof}")
    if not derivations:
        lines += ["", "% No machine-checked derivation is registered for this claim."]
    return "\n".join(lines) + "\n"


def bibtex(claim: Claim) -> str:
    """BibTeX of the papers a claim cites, with those of the claims it uses."""
    from theorylab import registry

    seen: dict[str, str] = {}
    try:
        ids = registry.closure([claim.id])
    except Exception:  # noqa: BLE001  (a claim outside the registry cites only itself)
        ids = [claim.id]
    for claim_id in reversed(ids):
        try:
            cited = registry.get(claim_id).citation
        except Exception:  # noqa: BLE001
            cited = claim.citation
        seen.setdefault(cited.key, cited.bibtex())
    return "\n\n".join(seen.values()) + "\n"
