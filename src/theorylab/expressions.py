"""Safe parsing of mathematical expressions given as strings.

Strings from the command line or a configuration file (``sigma=1/sqrt(2)``,
``t=3*tau``) are parsed with Python's :mod:`ast` and rebuilt node by node into
sympy: only numbers, the arithmetic operators, a fixed list of constants and
functions, and the caller's own symbols are allowed. Nothing is ever passed to
``eval`` (which :func:`sympy.sympify` and ``parse_expr`` use underneath), so a
string such as ``__import__('os').system('rm -rf ~')`` is refused with a clear
error instead of being run.

The parser's work is bounded: every constant subexpression is also evaluated
with mpmath as it is built, and a power, exponential, factorial or gamma whose
result would exceed :data:`MAX_DIGITS` decimal digits is refused before it is
computed (``10**10**10`` would otherwise hold the interpreter for hours). The
nesting depth is bounded, and so is the wall-clock time of the whole parse.
"""

from __future__ import annotations

import ast
import math
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import mpmath
import sympy

from theorylab.errors import TheorylabError

__all__ = ["ExpressionError", "parse_expression", "parse_number", "FUNCTIONS", "CONSTANTS",
           "MAX_DIGITS", "TIME_LIMIT"]

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
#: Largest number of decimal digits an intermediate constant may have.
MAX_DIGITS = 10_000
#: Seconds a parse may take (enforced on the main thread, where signals arrive).
TIME_LIMIT = 2.0
_MAX_FACTORIAL = 3000  # 3000! has 9131 digits
_WORKING_DIGITS = 30

#: The same functions in mpmath, for the bounded evaluation of constants.
_NUMERIC: dict[str, Any] = {
    "sqrt": mpmath.sqrt, "exp": mpmath.exp, "log": mpmath.log,
    "sin": mpmath.sin, "cos": mpmath.cos, "tan": mpmath.tan,
    "asin": mpmath.asin, "acos": mpmath.acos, "atan": mpmath.atan,
    "sinh": mpmath.sinh, "cosh": mpmath.cosh, "tanh": mpmath.tanh,
    "erf": mpmath.erf, "gamma": mpmath.gamma, "abs": abs, "Abs": abs,
    "binomial": mpmath.binomial, "factorial": mpmath.factorial,
}
_CONSTANT_VALUES: dict[str, Any] = {
    "pi": mpmath.pi, "E": mpmath.e, "e": mpmath.e, "oo": mpmath.inf, "inf": mpmath.inf,
}


class ExpressionError(TheorylabError, ValueError):
    """A string that is not an allowed mathematical expression."""

    def __init__(self, text: str, detail: str, name: str | None = None):
        self.text, self.detail = text, detail
        shown = text if len(text) <= 60 else text[:57] + "..."
        where = f"parameter '{name}': " if name else ""
        # the list of what is allowed helps with syntax, not with a value out of bounds
        allowed = "" if not _about_syntax(detail) else (
            f" (allowed: numbers, + - * / **, {', '.join(sorted(CONSTANTS))} and the functions "
            f"{', '.join(sorted(FUNCTIONS))})")
        super().__init__(f"{where}cannot parse {shown!r} as an expression: {detail}{allowed}")


def _about_syntax(detail: str) -> bool:
    return any(word in detail for word in ("syntax", "not allowed", "unknown name", "literal"))


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
    return _parse(text, symbols, name)[0]


def parse_number(text: str, *, name: str | None = None) -> float:
    """Parse a constant expression such as ``"1/sqrt(2)"`` to a float.

    Raises:
        ExpressionError: for disallowed syntax, an expression with free symbols,
            work beyond the parser's bounds, or a value that is not a finite real.

    """
    expression, value = _parse(text, None, name)
    if value is None or expression.free_symbols:
        raise ExpressionError(text, "it is not a number", name)
    if isinstance(value, mpmath.mpc):
        if value.imag != 0:
            raise ExpressionError(text, "it is not real", name)
        value = value.real
    result = float(value) if mpmath.isfinite(value) and abs(value) < 1.8e308 else math.inf
    if not math.isfinite(result):
        raise ExpressionError(text, "its value is not a finite float64 number", name)
    return result


def _parse(text: str, symbols: Mapping[str, sympy.Symbol] | None,
           name: str | None) -> tuple[sympy.Expr, Any]:
    if not isinstance(text, str):
        raise ExpressionError(repr(text), "not a string", name)
    if len(text) > _MAX_LENGTH:
        raise ExpressionError(text, f"longer than {_MAX_LENGTH} characters", name)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as error:
        detail = getattr(error, "msg", None) or str(error).split("\n")[0][:80]
        raise ExpressionError(text, f"invalid syntax ({detail})", name) from None
    with _deadline(TIME_LIMIT, text, name), mpmath.workdps(_WORKING_DIGITS):
        try:
            return _build(tree.body, text, dict(symbols or {}), name, 0)
        except RecursionError:
            raise ExpressionError(text, f"nested deeper than {_MAX_DEPTH} levels",
                                  name) from None
        except (OverflowError, MemoryError):
            raise ExpressionError(text, f"a value exceeds {MAX_DIGITS} digits", name) from None


class _DeadlineError(Exception):
    """The parse ran past its time limit."""


@contextmanager
def _deadline(seconds: float, text: str, name: str | None) -> Iterator[None]:
    """Interrupt a parse that runs past ``seconds`` (main thread without a timer only)."""
    usable = (threading.current_thread() is threading.main_thread()
              and hasattr(signal, "setitimer") and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _DeadlineError

    previous = signal.signal(signal.SIGALRM, expire)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        yield
    except _DeadlineError:
        raise ExpressionError(text, f"evaluating it took longer than {seconds:g} s",
                              name) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _digits(value: Any) -> float:
    """Decimal digits of ``|value|`` (0 for zero, inf for a non-finite value)."""
    if value is None:
        return 0.0
    size = abs(value)
    if not mpmath.isfinite(size):
        return math.inf
    return float(mpmath.log10(size)) if size > 1 else 0.0


def _check_size(value: Any, text: str, name: str | None) -> Any:
    if value is not None and mpmath.isfinite(value) and _digits(value) > MAX_DIGITS:
        raise ExpressionError(text, f"an intermediate value exceeds {MAX_DIGITS} digits", name)
    return value


def _power(base: Any, exponent: Any, text: str, name: str | None) -> Any:
    """``base ** exponent`` evaluated only when the result has at most MAX_DIGITS digits."""
    if base is None or exponent is None:
        return None
    size = abs(base)
    if mpmath.isfinite(size) and size != 0 and size != 1 and mpmath.isfinite(exponent):
        digits = abs(mpmath.re(exponent)) * abs(mpmath.log10(size))
        if digits > MAX_DIGITS and (size > 1) == (mpmath.re(exponent) > 0):
            raise ExpressionError(text, f"a power would exceed {MAX_DIGITS} digits", name)
    if base == 0 and mpmath.re(exponent) < 0:
        return mpmath.inf
    return _check_size(mpmath.power(base, exponent), text, name)


def _call(function: str, arguments: list[Any], text: str, name: str | None) -> Any:
    """The mpmath value of an allowed function call, refused where it would be huge."""
    if any(a is None for a in arguments):
        return None
    first = arguments[0] if arguments else mpmath.mpf(0)
    real = mpmath.re(first) if mpmath.isfinite(first) else first
    if function in {"factorial", "gamma", "binomial"} and abs(real) > _MAX_FACTORIAL:
        raise ExpressionError(
            text, f"{function}() of an argument above {_MAX_FACTORIAL} is refused (its "
            f"value would exceed {MAX_DIGITS} digits)", name)
    limit = MAX_DIGITS * math.log(10)
    if (function == "exp" and real > limit) or (function in {"sinh", "cosh"}
                                                  and abs(real) > limit):
        raise ExpressionError(text, f"{function}() would exceed {MAX_DIGITS} digits", name)
    try:
        return _check_size(_NUMERIC[function](*arguments), text, name)
    except (ValueError, ZeroDivisionError):  # poles, such as gamma(-1)
        return mpmath.nan


def _build(node: ast.AST, text: str, symbols: dict[str, sympy.Symbol], name: str | None,
           depth: int) -> tuple[sympy.Expr, Any]:
    """The sympy expression of ``node`` and, for a constant, its mpmath value (else None)."""
    if depth > _MAX_DEPTH:
        raise ExpressionError(text, f"nested deeper than {_MAX_DEPTH} levels", name)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(text, f"the literal {node.value!r} is not a number", name)
        if isinstance(node.value, int):
            return sympy.Integer(node.value), _check_size(mpmath.mpf(node.value), text, name)
        return sympy.Float(repr(node.value)), mpmath.mpf(repr(node.value))
    if isinstance(node, ast.Name):
        if node.id in symbols:
            return symbols[node.id], None
        if node.id in CONSTANTS:
            return CONSTANTS[node.id], +_CONSTANT_VALUES[node.id]
        raise ExpressionError(text, f"unknown name {node.id!r}", name)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, left_value = _build(node.left, text, symbols, name, depth + 1)
        right, right_value = _build(node.right, text, symbols, name, depth + 1)
        return _BINARY[type(node.op)](left, right), _arithmetic(
            type(node.op), left_value, right_value, text, name)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitXor):
        raise ExpressionError(text, "'^' is not a power here; write '**'", name)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand, value = _build(node.operand, text, symbols, name, depth + 1)
        if isinstance(node.op, ast.UAdd):
            return operand, value
        return sympy.Mul(-1, operand, evaluate=False), None if value is None else -value
    if isinstance(node, ast.Call):
        function = node.func.id if isinstance(node.func, ast.Name) else None
        if function not in FUNCTIONS:
            shown = function or ast.unparse(node.func)
            raise ExpressionError(text, f"calling {shown!r} is not allowed", name)
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise ExpressionError(text, f"{function}() takes plain arguments only", name)
        built = [_build(a, text, symbols, name, depth + 1) for a in node.args]
        expected = 2 if function == "binomial" else 1
        if len(built) != expected:
            raise ExpressionError(text, f"{function}() takes {expected} argument(s), "
                                  f"got {len(built)}", name)
        value = _call(function, [v for _, v in built], text, name)
        try:
            return FUNCTIONS[function](*[e for e, _ in built]), value  # type: ignore[operator]
        except (TypeError, ValueError) as error:
            raise ExpressionError(text, f"{function}(): {error}", name) from None
    if isinstance(node, ast.Attribute):
        raise ExpressionError(text, f"attribute access ('.{node.attr}') is not allowed", name)
    raise ExpressionError(text, f"{type(node).__name__} syntax is not allowed", name)


def _arithmetic(operator: type, left: Any, right: Any, text: str, name: str | None) -> Any:
    if left is None or right is None:
        return None
    if operator is ast.Pow:
        return _power(left, right, text, name)
    if operator is ast.Div:
        return mpmath.inf if right == 0 else _check_size(left / right, text, name)
    combine = {ast.Add: lambda: left + right, ast.Sub: lambda: left - right,
               ast.Mult: lambda: left * right}[operator]
    return _check_size(combine(), text, name)
