"""Safe parsing of mathematical expressions given as strings.

Strings from the command line or a configuration file (``sigma=1/sqrt(2)``,
``t=3*tau``) are parsed with Python's :mod:`ast` and rebuilt node by node into
sympy: only numbers, the arithmetic operators, a fixed list of constants and
functions, and the caller's own symbols are allowed. Nothing is ever passed to
``eval`` (which :func:`sympy.sympify` and ``parse_expr`` use underneath), so a
string such as ``__import__('os').system('rm -rf ~')`` is refused with a clear
error instead of being run.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

import sympy

from theorylab.errors import TheorylabError

__all__ = ["ExpressionError", "parse_expression", "parse_number", "FUNCTIONS", "CONSTANTS"]

#: Functions a string may call, by the name it uses.
FUNCTIONS: dict[str, type[sympy.Function] | object] = {
    "sqrt": sympy.sqrt, "exp": sympy.exp, "log": sympy.log,
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
    "asin": sympy.asin, "acos": sympy.acos, "atan": sympy.atan,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh,
    "erf": sympy.erf, "gamma": sympy.gamma, "abs": sympy.Abs, "Abs": sympy.Abs,
    "binomial": sympy.binomial, "factorial": sympy.factorial,
}

#: Named constants a string may use.
CONSTANTS: dict[str, sympy.Expr] = {
    "pi": sympy.pi, "E": sympy.E, "e": sympy.E, "oo": sympy.oo, "inf": sympy.oo,
}

_BINARY = {
    ast.Add: lambda a, b: sympy.Add(a, b, evaluate=False),
    ast.Sub: lambda a, b: sympy.Add(a, sympy.Mul(-1, b, evaluate=False), evaluate=False),
    ast.Mult: lambda a, b: sympy.Mul(a, b, evaluate=False),
    ast.Div: lambda a, b: sympy.Mul(a, sympy.Pow(b, -1, evaluate=False), evaluate=False),
    ast.Pow: lambda a, b: sympy.Pow(a, b, evaluate=False),
}
_MAX_LENGTH = 1000
_MAX_DEPTH = 50


class ExpressionError(TheorylabError, ValueError):
    """A string that is not an allowed mathematical expression."""

    def __init__(self, text: str, detail: str, name: str | None = None):
        self.text, self.detail = text, detail
        shown = text if len(text) <= 60 else text[:57] + "..."
        where = f"parameter '{name}': " if name else ""
        super().__init__(
            f"{where}cannot parse {shown!r} as an expression: {detail} (allowed: numbers, "
            f"+ - * / **, {', '.join(sorted(CONSTANTS))} and the functions "
            f"{', '.join(sorted(FUNCTIONS))})"
        )


def parse_expression(text: str, symbols: Mapping[str, sympy.Symbol] | None = None, *,
                     name: str | None = None) -> sympy.Expr:
    """Parse ``text`` into a sympy expression without evaluating any code.

    Args:
        text: for example ``"1/sqrt(2)"`` or ``"2*pi*t/tau"``.
        symbols: the names a string may use besides the constants and functions.
        name: the parameter being parsed, named in errors.

    Raises:
        ExpressionError: for anything but numbers, arithmetic, the allowed
            constants and functions, and ``symbols``; the message says what was found.

    """
    if not isinstance(text, str):
        raise ExpressionError(repr(text), "not a string", name)
    if len(text) > _MAX_LENGTH:
        raise ExpressionError(text, f"longer than {_MAX_LENGTH} characters", name)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(text, f"invalid syntax ({error.msg})", name) from None
    return _build(tree.body, text, dict(symbols or {}), name, 0)


def parse_number(text: str, *, name: str | None = None) -> float:
    """Parse a constant expression such as ``"1/sqrt(2)"`` to a float.

    Raises:
        ExpressionError: for disallowed syntax or an expression with free symbols.

    """
    expression = parse_expression(text, name=name)
    value = sympy.N(expression, 30)
    if value.free_symbols or not value.is_number:
        raise ExpressionError(text, "it is not a number", name)
    if value.is_real is False:
        raise ExpressionError(text, "it is not real", name)
    try:
        return float(value)
    except TypeError:
        raise ExpressionError(text, "it does not evaluate to a real number", name) from None


def _build(node: ast.AST, text: str, symbols: dict[str, sympy.Symbol], name: str | None,
           depth: int) -> sympy.Expr:
    if depth > _MAX_DEPTH:
        raise ExpressionError(text, f"nested deeper than {_MAX_DEPTH} levels", name)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(text, f"the literal {node.value!r} is not a number", name)
        return sympy.Integer(node.value) if isinstance(node.value, int) else sympy.Float(
            repr(node.value))
    if isinstance(node, ast.Name):
        if node.id in symbols:
            return symbols[node.id]
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise ExpressionError(text, f"unknown name {node.id!r}", name)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left = _build(node.left, text, symbols, name, depth + 1)
        right = _build(node.right, text, symbols, name, depth + 1)
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitXor):
        raise ExpressionError(text, "'^' is not a power here; write '**'", name)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _build(node.operand, text, symbols, name, depth + 1)
        return sympy.Mul(-1, operand, evaluate=False) if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call):
        function = node.func.id if isinstance(node.func, ast.Name) else None
        if function not in FUNCTIONS:
            shown = function or ast.unparse(node.func)
            raise ExpressionError(text, f"calling {shown!r} is not allowed", name)
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise ExpressionError(text, f"{function}() takes plain arguments only", name)
        arguments = [_build(a, text, symbols, name, depth + 1) for a in node.args]
        try:
            return FUNCTIONS[function](*arguments)  # type: ignore[operator]
        except TypeError as error:
            raise ExpressionError(text, f"{function}(): {error}", name) from None
    if isinstance(node, ast.Attribute):
        raise ExpressionError(text, f"attribute access ('.{node.attr}') is not allowed", name)
    raise ExpressionError(text, f"{type(node).__name__} syntax is not allowed", name)
