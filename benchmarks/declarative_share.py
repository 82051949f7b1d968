"""Share of declarative code in each theory/ family module (issue 14's measure).

Declarative lines are top-level definitions: ``Claim``, ``Parameter``, ``Decoy``,
``Citation``, ``Constraint`` objects and sympy expressions. Imperative lines are helper
functions, classes and the hooks inside definitions (every ``lambda``). The module
docstring, imports, blank lines and comments count for neither.

``python benchmarks/declarative_share.py`` prints one row per family, with the file's
line count; the goal is at least 75% declarative and at most 800 lines per file.
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _code_lines(source: str) -> set[int]:
    """Line numbers holding code (not blank, not only a comment)."""
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                          tokenize.DEDENT, tokenize.ENDMARKER):
            continue
        lines.update(range(token.start[0], token.end[0] + 1))
    return lines


def _span(node: ast.AST) -> set[int]:
    return set(range(node.lineno, node.end_lineno + 1))  # type: ignore[attr-defined]


def share(path: Path) -> tuple[int, int, int]:
    """Return (declarative lines, imperative lines, total lines) of one module."""
    source = path.read_text()
    tree = ast.parse(source)
    code = _code_lines(source)
    declarative: set[int] = set()
    imperative: set[int] = set()
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the module docstring
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            lines = _span(node)
            lines.update(range(min((d.lineno for d in node.decorator_list),
                                   default=node.lineno), node.lineno))
            imperative |= lines
            continue
        hooks = set().union(*(_span(sub) for sub in ast.walk(node)
                              if isinstance(sub, ast.Lambda)))
        imperative |= hooks
        declarative |= _span(node) - hooks
    declarative &= code
    imperative &= code
    return len(declarative), len(imperative), len(source.splitlines())


def main(argv: list[str] | None = None) -> int:
    """Print the table; exit 1 when a family misses a goal."""
    paths = [Path(p) for p in (argv or [])] or sorted(
        p for p in (ROOT / "theory").glob("*.py") if p.name != "__init__.py")
    missed = False
    print(f"{'module':28s} {'declarative':>11s} {'imperative':>10s} {'share':>6s} {'lines':>6s}")
    for path in paths:
        declarative, imperative, total = share(path)
        fraction = declarative / max(declarative + imperative, 1)
        missed |= fraction < 0.75 or total > 800
        print(f"{path.stem:28s} {declarative:11d} {imperative:10d} {fraction:6.0%} {total:6d}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
