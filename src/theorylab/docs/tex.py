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

__all__ = ["tex", "text_to_tex", "latex_fragment", "bibtex", "bib_entry", "safe_tex",
           "derivation_summary", "step_label", "label", "STEP_VERBS"]

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


#: Control words a name or a prose formula may use; any other (``\input``,
#: ``\write18``, ``\href``...) makes it text, never TeX.
SAFE_COMMANDS = frozenset("""
alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi
pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta
Lambda Xi Pi Sigma Upsilon Phi Psi Omega mathrm mathbf mathcal mathbb mathsf mathit mathtt
boldsymbol operatorname text textrm dot ddot hat bar tilde vec widehat widetilde overline
underline to gets rightarrow leftarrow Rightarrow mapsto prime ell infty partial nabla langle
rangle left right big Big bigg Bigg cdot cdots ldots dots times div pm mp sum prod int oint
min max sup inf lim log ln exp det tr sin cos tan sinh cosh tanh arcsin arccos arctan star
dagger top perp quad qquad frac dfrac tfrac sqrt mid vert Vert lvert rvert lVert rVert ast
circ odot otimes oplus hbar emptyset leq le geq ge neq approx sim simeq propto equiv in
notin subset subseteq cup cap forall exists lfloor rfloor lceil rceil binom choose parallel
bot wedge vee setminus mathfrak liminf limsup varkappa colon ll gg lesssim gtrsim
""".split())
_COMMAND = re.compile(r"\\([A-Za-z]+|.)", re.S)
_TEX_ALLOWED = re.compile(r"^[A-Za-z0-9_{}^\\ ,.'()+\-=|*/<>:;!\[\]]*$")


def safe_tex(latex: str) -> bool:
    r"""True when ``latex`` is a formula that can only typeset.

    Plain ASCII maths characters, balanced braces, and control words from
    :data:`SAFE_COMMANDS` (or ``\,``, ``\;``, ``\!``, ``\|``, ``\{``, ``\}``);
    no ``#``, ``%``, ``&``, ``$``, ``~``, ``^^``, backtick, quote, newline or
    control character. Non-ASCII letters and symbols are allowed.
    """
    if not isinstance(latex, str) or len(latex) > 2000 or "^^" in latex:
        return False  # ^^5c is TeX's way of writing a backslash
    ascii_part = "".join(c for c in latex if ord(c) < 128)
    if any(unicodedata.category(c)[0] in "CZ" and c != " " for c in latex):
        return False
    if not _TEX_ALLOWED.match(ascii_part):
        return False
    for match in _COMMAND.finditer(latex):
        word = match.group(1)
        if word not in SAFE_COMMANDS and word not in {",", ";", "!", "|", "{", "}", " "}:
            return False
    depth = 0
    for character in _COMMAND.sub("", latex):  # \{ and \} are not grouping
        depth += {"{": 1, "}": -1}.get(character, 0)
        if depth < 0:
            return False
    return depth == 0


def _safe_name(name: str) -> str:
    r"""A name as TeX: as written when :func:`safe_tex`, else its letters in ``\mathrm``."""
    written = _written_name(name)
    if safe_tex(written):
        return written
    letters = re.sub(r"[^A-Za-z0-9]", "", name)[:40]
    return r"\mathrm{" + (letters or "?") + "}"


def _sanitised(expression: Any) -> Any:
    """The expression with every function or matrix whose name is not safe TeX renamed."""
    replacements = {}
    for applied in expression.atoms(sympy.core.function.AppliedUndef):
        name = type(applied).__name__
        if not _PLAIN_NAME.match(name) and not safe_tex(name):
            replacements[applied] = sympy.Function(_safe_name(name))(*applied.args)
    for matrix in expression.atoms(sympy.MatrixSymbol):
        name = str(matrix.name)
        if not _PLAIN_NAME.match(name) and not safe_tex(name):
            replacements[matrix] = sympy.MatrixSymbol(_safe_name(name), *matrix.shape)
    return expression.xreplace(replacements) if replacements else expression


def tex(expression: Any) -> str:
    r"""LaTeX of a sympy expression, keeping symbol names that are written as TeX.

    Only sympy's printer writes the result: a name that is not safe TeX (see
    :func:`safe_tex`) is printed as its letters, so a hostile name cannot run
    ``\input`` or end a block.
    """
    expression = _sanitised(sympy.sympify(expression))
    names = {}
    for symbol in expression.atoms(sympy.Symbol):
        if _PLAIN_NAME.match(symbol.name):
            continue
        if symbol.name.startswith("_") and safe_tex(sympy.latex(symbol)):
            continue  # sympy's own printing of a private name
        names[symbol] = _safe_name(symbol.name)
    latex = sympy.latex(expression, symbol_names=names) if names else sympy.latex(expression)
    return latex.replace("\n", " ").replace("\r", " ")


def equation_tex(claim: Claim) -> str:
    """LaTeX of a claim's statement as ``quantity = expression``."""
    return tex(claim.equation())


# Characters special to LaTeX in running text, and the few non-ASCII ones the
# catalogue's prose uses.
_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}", "&": r"\&", "$": r"\$", "%": r"\%", "#": r"\#", "_": r"\_",
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
    """Text as LaTeX text: every special character escaped, line breaks as spaces."""
    out = []
    for character in str(text):
        if character in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[character])
        elif character in _UNICODE:
            out.append(f"${_UNICODE[character]}$")
        elif character in _TEXT_UNICODE:
            out.append(_TEXT_UNICODE[character])
        elif unicodedata.category(character)[0] in "CZ":
            out.append(" ")  # newlines and control characters end comments and lines
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
    """Prose as LaTeX: special characters escaped, safe ``$...$`` kept as math.

    A formula that is not :func:`safe_tex` is escaped as text, dollars included.
    """
    return "".join(f"${piece}$" if is_math and safe_tex(piece)
                   else _escape(f"${piece}$" if is_math else piece)
                   for is_math, piece in split_math(str(text)))


def label(text: str) -> str:
    """A string usable as a LaTeX label or BibTeX key: letters, digits, ``.:_-``."""
    return re.sub(r"[^A-Za-z0-9.:_-]", "", str(text))[:80] or "x"


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
    claim_label = "claim:" + label(claim.id)
    shown_id = _comment(claim.id)
    key = label(citation.key)
    lines = [
        f"% {shown_id}: exported by `theorylab export {shown_id} --latex`.",
        "% Needs amsmath and amsthm (amsart loads both); the \\cite key is in "
        f"`theorylab export {shown_id} --bib`.",
        "\\makeatletter",
        f"\\@ifundefined{{{environment}}}{{\\theoremstyle{{{style}}}"
        f"\\newtheorem{{{environment}}}{{{_ENVIRONMENTS[environment]}}}"
        "\\theoremstyle{plain}}{}",
        "\\makeatother",
        "",
        # Braces around the optional argument: it holds a \cite[...] of its own.
        f"\\begin{{{environment}}}[{{{_escape(claim.title)}; "
        f"\\cite[{_escape(citation.where)}]{{{key}}}}}]",
        f"\\label{{{claim_label}}}",
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
        status = f" ({derivation_summary(result)})" if result is not None else ""
        lines += ["", f"\\begin{{proof}}[{{{_escape(derivation.title)}{_escape(status)}}}]",
                  "\\begin{enumerate}"]
        for number, step in enumerate(derivation.steps):
            checked = ""
            if result is not None and number < len(result.steps):
                checked = f" \\emph{{[{_escape(step_label(result.steps[number]))}]}}"
            lines.append(f"  \\item {STEP_VERBS.get(step.relation, step.relation)}: "
                         f"{text_to_tex(step.reason)}{checked}")
            lines.append(f"  \\[ {tex(step.expression)} \\]")
        lines.append("\\end{enumerate}")
        lines.append(f"The last line is the statement of {_ENVIRONMENTS[environment]}~"
                     f"\\ref{{{claim_label}}}.")
        lines.append("\\end{proof}")
    if not derivations:
        lines += ["", "% No machine-checked derivation is registered for this claim."]
    return "\n".join(lines) + "\n"


def derivation_summary(result: Any) -> str:
    """What a derivation rests on, e.g. 'derived: 7 exact, 2 numeric, 1 cited; 3 premises'.

    A derivation that assumes its conclusion, or only assumes, is "not derived".
    """
    summary = getattr(result, "summary", None)
    if callable(summary):
        return str(summary())
    return str(getattr(getattr(result, "status", None), "value", "not checked"))


def step_label(step: Any) -> str:
    """A checked step's status; a cited assumption reads 'cited: SOURCE (not checked)'."""
    if getattr(step, "cited", ""):
        return f"cited: {step.cited} (not checked)"
    return str(getattr(step.status, "value", step.status))


# In BibTeX every brace counts, escaped or not: braces become text commands.
_BIB_ESCAPES = {"{": r"\textbraceleft{}", "}": r"\textbraceright{}"}


def _bib_text(text: str) -> str:
    """A BibTeX field: LaTeX-escaped, braces as text, accented letters kept."""
    return "".join(_BIB_ESCAPES.get(c) or (c if ord(c) > 127 and unicodedata.category(c)[0]
                                           in "LM" else _escape(c)) for c in str(text))


def _comment(text: str) -> str:
    """Text inside a ``%`` comment: on one line (a line break would end it), no ``^^``."""
    return "".join(" " if unicodedata.category(c)[0] in "CZ" else c
                   for c in str(text)).replace("^^", "^ ^")


def bib_entry(citation: Any) -> str:
    """One BibTeX entry for a :class:`~theorylab.claim.Citation`, every field escaped."""
    fields = {
        "author": " and ".join(_bib_text(author) for author in citation.authors),
        "title": "{" + _bib_text(citation.title) + "}",
        "year": _bib_text(citation.year),
    }
    if citation.venue:
        fields["journal"] = _bib_text(citation.venue)
    if citation.arxiv:
        fields["eprint"] = _bib_text(citation.arxiv)
        fields["archivePrefix"] = "arXiv"
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return f"@article{{{label(citation.key)},\n{body}\n}}"


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
        seen.setdefault(label(cited.key), bib_entry(cited))
    return "\n\n".join(seen.values()) + "\n"
