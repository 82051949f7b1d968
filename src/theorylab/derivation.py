"""Machine-checked derivations: chains of steps from assumptions to a claim.

Each :class:`Step` states its relation to the previous expression (equality,
substitution, differentiation, integration, limit, solving an equation or an
ODE) and a one-line reason. :func:`check_derivation` checks every step exactly
with sympy; where sympy cannot decide, it evaluates the residual with mpmath at
``NUMERIC_POINTS`` random points with ``NUMERIC_DIGITS`` digits and marks the
step as *numeric evidence*, weaker than *exact*. The last expression must be
the claim's statement.

Inequalities: :meth:`Step.at_most` states that the previous expression is at most
the new one (a chain of upper bounds ending in an inequality claim's bound), and
:meth:`Step.supremum` that the new expression is the supremum of the previous one
over a variable, attained at a given point. Both are exact when sympy decides the
sign of the difference, else numeric evidence at random points, and FAILED when
any point violates them. Matrices (vector-valued claims) are compared entry by
entry.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import mpmath
import sympy
from sympy.core.function import AppliedUndef

from theorylab.errors import DerivationError

__all__ = ["Step", "Derivation", "StepStatus", "StepResult", "DerivationResult",
           "check_derivation", "equivalent", "at_most", "NUMERIC_POINTS", "NUMERIC_DIGITS"]

NUMERIC_POINTS = 24
NUMERIC_DIGITS = 40


class StepStatus(str, Enum):
    """How strongly a step is established."""

    ASSUMED = "assumed"
    EXACT = "exact"
    NUMERIC = "numeric evidence"
    FAILED = "failed"


RELATIONS = ("assume", "equal", "substitute", "differentiate", "integrate", "limit",
             "solve", "solve_ode", "at_most", "supremum")


@dataclass(frozen=True, eq=False)
class Step:
    """One step of a derivation.

    Use the constructors (:meth:`assume`, :meth:`equal`, :meth:`substitute`,
    :meth:`differentiate`, :meth:`integrate`, :meth:`limit`, :meth:`solve`,
    :meth:`solve_ode`) rather than building steps by hand.
    """

    expression: Any
    relation: str
    reason: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.relation not in RELATIONS:
            raise DerivationError(f"unknown relation {self.relation!r}; use one of {RELATIONS}")

    @classmethod
    def assume(cls, expression: Any, reason: str, *, cite: str | None = None) -> Step:
        """A starting point: a model equation or a definition (not checked).

        With ``cite`` (for example "Evron et al. 2022, Thm 5"), the assumption is a
        published result taken as given: it is counted and shown as *cited*.
        """
        options = {"cite": cite} if cite else {}
        return cls(sympy.sympify(expression), "assume", reason, options)

    @classmethod
    def equal(cls, expression: Any, reason: str) -> Step:
        """The same quantity (or an equivalent equation), rewritten."""
        return cls(sympy.sympify(expression), "equal", reason)

    @classmethod
    def substitute(cls, expression: Any, mapping: Mapping[Any, Any], reason: str) -> Step:
        """The previous expression with ``mapping`` substituted, then simplified."""
        return cls(sympy.sympify(expression), "substitute", reason, {"mapping": dict(mapping)})

    @classmethod
    def differentiate(cls, expression: Any, variable: sympy.Symbol, reason: str) -> Step:
        """The derivative of the previous expression (both sides of an equation)."""
        return cls(sympy.sympify(expression), "differentiate", reason, {"variable": variable})

    @classmethod
    def integrate(cls, expression: Any, variable: sympy.Symbol, reason: str,
                  lower: Any = None, upper: Any = None) -> Step:
        """An antiderivative of the previous expression.

        With ``lower`` and ``upper`` (a symbol): the definite integral from
        ``lower`` to ``upper``.
        """
        options = {"variable": variable, "lower": lower, "upper": upper}
        return cls(sympy.sympify(expression), "integrate", reason, options)

    @classmethod
    def limit(cls, expression: Any, variable: sympy.Symbol, point: Any, reason: str) -> Step:
        """The limit of the previous expression as ``variable -> point``."""
        return cls(sympy.sympify(expression), "limit", reason,
                   {"variable": variable, "point": point})

    @classmethod
    def solve(cls, expression: sympy.Eq, unknown: sympy.Symbol, reason: str) -> Step:
        """``Eq(unknown, value)`` solving the previous equation."""
        return cls(expression, "solve", reason, {"unknown": unknown})

    @classmethod
    def solve_ode(cls, expression: sympy.Eq, function: Any, variable: sympy.Symbol,
                  initial: tuple[Any, Any] | None, reason: str) -> Step:
        """``Eq(f(t), g(t))`` solving the previous ODE, with ``f(t0) = f0``."""
        return cls(expression, "solve_ode", reason,
                   {"function": function, "variable": variable, "initial": initial})

    @classmethod
    def at_most(cls, expression: Any, reason: str) -> Step:
        """An upper bound: the previous expression is at most ``expression``.

        Exact when sympy decides ``expression - previous >= 0`` under the
        symbols' assumptions; otherwise checked at random points in the
        derivation's ranges (numeric evidence); FAILED at any violation.
        """
        return cls(sympy.sympify(expression), "at_most", reason)

    @classmethod
    def supremum(cls, expression: Any, variable: sympy.Symbol, at: Any, reason: str) -> Step:
        """The supremum over ``variable`` of the previous expression, attained at ``at``.

        Checked as two parts: the previous expression at ``variable = at`` equals
        ``expression``, and the previous expression is at most ``expression``
        for every ``variable`` in its range (as :meth:`at_most`).
        """
        return cls(sympy.sympify(expression), "supremum", reason,
                   {"variable": variable, "at": sympy.sympify(at)})


@dataclass(frozen=True, eq=False)
class Derivation:
    """An ordered list of steps ending in a claim's statement.

    Attributes:
        claim: the id of the claim derived.
        title: what the derivation shows.
        steps: the steps; the first is usually :meth:`Step.assume`.
        ranges: sampling intervals for numeric checks, per symbol; symbols not
            listed are drawn from (0.2, 3) if positive, integers from [2, 6].
        conclusion: 'rhs' compares the last equation's right side with the
            statement; 'expression' compares the last expression itself.

    """

    claim: str
    title: str
    steps: tuple[Step, ...]
    ranges: Mapping[sympy.Symbol, tuple[float, float]] = field(default_factory=dict)
    conclusion: str = "rhs"


@dataclass
class StepResult:
    """The check of one step."""

    index: int
    relation: str
    reason: str
    status: StepStatus
    detail: str = ""
    latex: str = ""
    cited: str = ""


@dataclass
class DerivationResult:
    """The check of a whole derivation."""

    claim: str
    title: str
    steps: list[StepResult]
    conclusion: StepStatus
    conclusion_detail: str = ""

    @property
    def status(self) -> StepStatus:
        """FAILED if any step or the conclusion fails, else the weakest status."""
        statuses = [s.status for s in self.steps if s.status is not StepStatus.ASSUMED]
        statuses.append(self.conclusion)
        if StepStatus.FAILED in statuses:
            return StepStatus.FAILED
        if StepStatus.NUMERIC in statuses:
            return StepStatus.NUMERIC
        return StepStatus.EXACT

    circular: bool = False

    @property
    def ok(self) -> bool:
        """True when every step and the conclusion check."""
        return self.status is not StepStatus.FAILED

    @property
    def counts(self) -> dict[str, int]:
        """Steps by strength: ``exact``, ``numeric``, ``cited`` and plain ``assumed`` premises."""
        counts = {"exact": 0, "numeric": 0, "cited": 0, "assumed": 0, "failed": 0}
        for step in self.steps:
            if step.status is StepStatus.ASSUMED:
                counts["cited" if step.cited else "assumed"] += 1
            else:
                counts[{StepStatus.EXACT: "exact", StepStatus.NUMERIC: "numeric",
                        StepStatus.FAILED: "failed"}[step.status]] += 1
        return counts

    @property
    def derives(self) -> bool:
        """True when it checks and actually derives the statement.

        A derivation whose steps are all assumptions, or whose conclusion is reached
        only by assuming it (its last premise is already the statement), checks
        nothing about the claim and does not make it *derived*.
        """
        return self.ok and not self.circular and (self.counts["exact"]
                                                  + self.counts["numeric"]) > 0

    def summary(self) -> str:
        """E.g. 'derived: 7 exact, 2 numeric, 1 cited; 3 premises'."""
        return summary_text(self.counts, ok=self.ok, circular=self.circular,
                            derives=self.derives)


def summary_text(counts: Mapping[str, int], *, ok: bool, circular: bool, derives: bool) -> str:
    """'derived: 7 exact, 2 numeric, 1 cited; 3 premises', or why it is not derived."""
    if not ok:
        head = "FAILED"
    elif circular:
        head = "not derived (it assumes its conclusion)"
    elif not derives:
        head = "not derived (assumptions only)"
    else:
        head = "derived"
    text = (f"{head}: {counts['exact']} exact, {counts['numeric']} numeric, "
            f"{counts['cited']} cited")
    if counts["assumed"]:
        text += f"; {counts['assumed']} premise{'s' if counts['assumed'] != 1 else ''}"
    return text


def _residual(expression: Any) -> Any:
    if isinstance(expression, sympy.Equality):
        return expression.lhs - expression.rhs
    return expression


def _freeze(expression: Any) -> Any:
    """Replace derivatives and undefined functions by plain symbols."""
    replacements: dict[Any, Any] = {}
    for index, atom in enumerate(expression.atoms(sympy.Derivative)):
        replacements[atom] = sympy.Symbol(f"_derivative{index}", real=True)
    expression = expression.xreplace(replacements)
    functions = {}
    for index, atom in enumerate(expression.atoms(AppliedUndef)):
        functions[atom] = sympy.Symbol(f"_function{index}", positive=True)
    return expression.xreplace(functions)


def _sample(symbol: sympy.Symbol, ranges: Mapping, generator: random.Random) -> Any:
    if symbol in ranges:
        low, high = ranges[symbol]
        if symbol.is_integer:
            return sympy.Integer(generator.randint(int(low), int(high)))
        return sympy.Float(generator.uniform(low, high), NUMERIC_DIGITS)
    if symbol.is_integer:
        return sympy.Integer(generator.randint(2, 6))
    if symbol.is_positive or symbol.is_nonnegative:
        return sympy.Float(generator.uniform(0.2, 3.0), NUMERIC_DIGITS)
    return sympy.Float(generator.uniform(-2.0, 2.0), NUMERIC_DIGITS)


#: Relative size below which a numerically evaluated difference counts as zero.
_THRESHOLD = mpmath.mpf(10) ** (-(NUMERIC_DIGITS - 10))


def _evaluations(difference: Any, scale_expression: Any, ranges: Mapping | None, seed: int,
                 real: bool = False) -> Iterator[tuple[dict, Any, Any]]:
    """``(point, difference, scale)`` with mpmath at up to ``NUMERIC_POINTS`` random points.

    Points where either expression does not evaluate to a finite number (or, with
    ``real``, to a real one) are skipped, up to ``4 * NUMERIC_POINTS`` attempts.
    """
    ranges = ranges or {}
    difference = _freeze(difference)
    scale_expression = _freeze(scale_expression)
    symbols = sorted(difference.free_symbols | scale_expression.free_symbols, key=str)
    generator = random.Random(seed)
    evaluated = attempts = 0
    while evaluated < NUMERIC_POINTS and attempts < 4 * NUMERIC_POINTS:
        attempts += 1
        point = {s: _sample(s, ranges, generator) for s in symbols}
        with mpmath.workdps(NUMERIC_DIGITS + 10):
            try:
                value = sympy.N(difference.subs(point), NUMERIC_DIGITS + 5)
                scale = sympy.N(scale_expression.subs(point), NUMERIC_DIGITS + 5)
                value = mpmath.mpmathify(complex(value)) if value.is_number else None
                scale = mpmath.mpmathify(complex(scale)) if scale.is_number else None
            except (TypeError, ValueError, ZeroDivisionError):
                value = None
        if value is None or scale is None or not mpmath.isfinite(value):
            continue
        if real and abs(mpmath.im(value)) > _THRESHOLD * (1 + abs(scale)):
            continue
        evaluated += 1
        yield point, value, scale


def _shown(point: Mapping) -> str:
    return ", ".join(f"{s}={float(v):.6g}" for s, v in point.items())


def numeric_equivalent(left: Any, right: Any, ranges: Mapping | None = None,
                       seed: int = 0) -> tuple[bool, str]:
    """Compare two expressions at random points with mpmath.

    Returns ``(True, detail)`` when the difference is below
    ``10**-(NUMERIC_DIGITS - 10)`` relative at every one of ``NUMERIC_POINTS``
    points, else ``(False, the first failing point)``.
    """
    left = sympy.sympify(left)
    evaluated = 0
    for point, value, scale in _evaluations(left - sympy.sympify(right), left, ranges, seed):
        evaluated += 1
        if abs(value) > _THRESHOLD * (1 + abs(scale)):
            return False, f"differs by {mpmath.nstr(abs(value), 5)} at {_shown(point)}"
    if evaluated < NUMERIC_POINTS:
        return False, f"could evaluate at only {evaluated} of {NUMERIC_POINTS} points"
    return True, f"agrees to {NUMERIC_DIGITS - 10} digits at {evaluated} random points"


def _split_sum(total: sympy.Sum) -> Any:
    """Sum of an Add -> Add of Sums; summands free of the index become multiples."""
    (index, lower, upper), = total.limits
    result = sympy.Integer(0)
    for term in sympy.Add.make_args(sympy.expand(total.function)):
        if index in term.free_symbols:
            result += sympy.Sum(term, (index, lower, upper))
        else:
            result += term * (upper - lower + 1)
    return result


def _sums_cancel(expression: Any) -> bool:
    """Zero test that compares summands of sums over the same range, term by term.

    Works for non-commuting symbols (matrix products), where simplify cannot.
    """
    if not expression.has(sympy.Sum):
        return sympy.expand(expression) == 0
    expanded = sympy.expand(expression.replace(lambda e: isinstance(e, sympy.Sum), _split_sum))
    groups: dict[Any, Any] = {}
    rest = sympy.Integer(0)
    for term in sympy.Add.make_args(expanded):
        coefficient, body = term.as_coeff_Mul()
        if isinstance(body, sympy.Sum) and len(body.limits) == 1:
            groups[body.limits] = groups.get(body.limits, 0) + coefficient * body.function
        else:
            rest += term
    return sympy.expand(rest) == 0 and all(sympy.expand(g) == 0 for g in groups.values())


def _parity_split(expression: Any) -> Any:
    """Zero when zero for even and for odd values of each integer symbol.

    Decides identities with ``floor(k/2)``, ``ceiling(k/2)`` or ``(-1)**k``
    exactly: it substitutes ``k = 2j`` and ``k = 2j + 1`` (``j`` a nonnegative
    integer) and simplifies both. Returns the expression itself when undecided.
    """
    integers = sorted((s for s in expression.free_symbols if s.is_integer), key=str)
    parity_dependent = [s for s in integers if any(
        s in atom.free_symbols for atom in expression.atoms(sympy.floor, sympy.ceiling))
        or any(isinstance(atom, sympy.Pow) and atom.base == -1 and s in atom.exp.free_symbols
               for atom in expression.atoms(sympy.Pow))]
    if not parity_dependent:
        return expression
    symbol = parity_dependent[0]
    half = sympy.Symbol(f"_{symbol}_half", integer=True, nonnegative=True)
    for value in (2 * half, 2 * half + 1):
        if sympy.simplify(expression.doit().subs(symbol, value)) != 0:
            return expression
    return 0


def _is_zero(expression: Any) -> bool:
    for attempt in (
        lambda e: 0 if _sums_cancel(e) else e,
        lambda e: sympy.simplify(e),
        lambda e: sympy.simplify(sympy.expand_log(sympy.expand(e), force=True)),
        lambda e: sympy.simplify(e.rewrite(sympy.exp)),
        lambda e: sympy.simplify(e.doit()),  # unevaluated Product/Sum with symbolic limits
        _parity_split,  # floor(k/2), (-1)**k: even and odd k separately
    ):
        try:
            if attempt(expression) == 0:
                return True
        except Exception:  # noqa: BLE001,S112  (an undecided attempt is not a proof)
            continue
    return False


def _entrywise(left: Any, right: Any,
               check: Callable[[Any, Any], tuple[StepStatus, str]]) -> tuple[StepStatus, str]:
    """Apply ``check`` to matching entries of two matrices; the weakest result wins."""
    if not (isinstance(left, sympy.MatrixBase) and isinstance(right, sympy.MatrixBase)):
        return StepStatus.FAILED, "compares a matrix with a scalar"
    if left.shape != right.shape:
        return StepStatus.FAILED, f"shapes differ: {left.shape} and {right.shape}"
    results = [check(a, b) for a, b in zip(left, right, strict=True)]
    worst = max(range(len(results)), key=lambda index: _rank(results[index][0]))
    status, detail = results[worst]
    if len(results) > 1:
        detail = f"entry {worst}: {detail}"
    return status, detail


def equivalent(left: Any, right: Any, ranges: Mapping | None = None,
               seed: int = 0) -> tuple[StepStatus, str]:
    """Decide whether two expressions (or equations) are equal.

    Equations are equivalent when their residuals ``lhs - rhs`` differ by a
    nonzero constant factor. Exact when sympy simplifies the difference to
    zero; otherwise numeric evidence or failure. Matrices are compared entry
    by entry.
    """
    left, right = sympy.sympify(left), sympy.sympify(right)
    if isinstance(left, sympy.MatrixBase) or isinstance(right, sympy.MatrixBase):
        return _entrywise(left, right, lambda a, b: equivalent(a, b, ranges, seed))
    both_equations = isinstance(left, sympy.Equality) and isinstance(right, sympy.Equality)
    if both_equations:
        a, b = _residual(left), _residual(right)
        if _is_zero(a - b) or _is_zero(a + b):
            return StepStatus.EXACT, "equivalent equations"
        try:
            ratio = sympy.simplify(a / b)
        except Exception:  # noqa: BLE001  (non-commutative: no ratio)
            ratio = None
        if ratio is not None and ratio.is_number and ratio != 0 and ratio.is_finite:
            return StepStatus.EXACT, f"equations differ by the factor {ratio}"
        if not (a.is_commutative and b.is_commutative):
            return StepStatus.FAILED, "non-commuting expressions differ term by term"
        ok, detail = numeric_equivalent(a, b, ranges, seed)
        if not ok:
            ok, detail = numeric_equivalent(a, -b, ranges, seed)
        return (StepStatus.NUMERIC if ok else StepStatus.FAILED), detail
    if isinstance(left, sympy.Equality) or isinstance(right, sympy.Equality):
        return StepStatus.FAILED, "compares an equation with an expression"
    if _is_zero(left - right):
        return StepStatus.EXACT, "sympy simplifies the difference to 0"
    if not (left.is_commutative and right.is_commutative):
        return StepStatus.FAILED, "non-commuting expressions differ term by term"
    ok, detail = numeric_equivalent(left, right, ranges, seed)
    return (StepStatus.NUMERIC if ok else StepStatus.FAILED), detail


def numeric_at_most(lower: Any, upper: Any, ranges: Mapping | None = None,
                    seed: int = 0) -> tuple[bool, str]:
    """Check ``lower <= upper`` with mpmath at ``NUMERIC_POINTS`` random points.

    A point violates the bound when ``lower - upper`` exceeds
    ``10**-(NUMERIC_DIGITS - 10)`` relative to ``1 + |upper|``. Returns
    ``(True, detail)`` when no point does, else ``(False, the first violation)``.
    """
    upper = sympy.sympify(upper)
    evaluated = 0
    for point, value, scale in _evaluations(upper - sympy.sympify(lower), upper, ranges, seed,
                                            real=True):
        evaluated += 1
        if mpmath.re(value) < -_THRESHOLD * (1 + abs(scale)):
            return False, (f"exceeds the bound by {mpmath.nstr(-mpmath.re(value), 5)} at "
                           f"{_shown(point)}")
    if evaluated < NUMERIC_POINTS:
        return False, f"could evaluate at only {evaluated} of {NUMERIC_POINTS} points"
    return True, f"holds at {evaluated} random points ({NUMERIC_DIGITS} digits)"


def at_most(lower: Any, upper: Any, ranges: Mapping | None = None,
            seed: int = 0) -> tuple[StepStatus, str]:
    """Decide whether ``lower <= upper`` (entry by entry for matrices).

    Exact when sympy decides the sign of ``upper - lower`` (or it simplifies
    to zero); FAILED when sympy decides it is negative or a random point
    violates the bound; otherwise numeric evidence.
    """
    lower, upper = sympy.sympify(lower), sympy.sympify(upper)
    if isinstance(lower, sympy.MatrixBase) or isinstance(upper, sympy.MatrixBase):
        return _entrywise(lower, upper, lambda a, b: at_most(a, b, ranges, seed))
    if isinstance(lower, sympy.Equality) or isinstance(upper, sympy.Equality):
        return StepStatus.FAILED, "an upper bound compares expressions, not equations"
    gap = upper - lower
    try:
        for candidate in (gap, sympy.simplify(gap), sympy.factor(sympy.simplify(gap))):
            if candidate.is_nonnegative:
                return StepStatus.EXACT, "sympy decides the gap upper - lower >= 0"
            if candidate.is_negative:
                return StepStatus.FAILED, f"sympy decides the gap is negative: {candidate}"
    except Exception:  # noqa: BLE001,S110  (an undecided sign is not a proof)
        pass
    if _is_zero(gap):
        return StepStatus.EXACT, "sympy simplifies upper - lower to 0"
    ok, detail = numeric_at_most(lower, upper, ranges, seed)
    return (StepStatus.NUMERIC if ok else StepStatus.FAILED), detail


def _substitute(expression: Any, mapping: Mapping) -> Any:
    """``subs`` that also reaches into summands (sympy keeps a sum's index bound)."""
    def into_summand(total: sympy.Sum) -> sympy.Sum:
        try:
            return sympy.Sum(total.function.subs(mapping), *total.limits)
        except ValueError:  # a value with its own sums: replace the literal terms
            return sympy.Sum(total.function.xreplace(dict(mapping)), *total.limits)

    inside = expression.replace(lambda e: isinstance(e, sympy.Sum), into_summand)
    try:
        return inside.subs(mapping)
    except ValueError:  # "cannot create dummy dependencies": the keys use a sum's index
        return inside.xreplace(dict(mapping))


def _evaluate_derivatives(expression: Any) -> Any:
    return expression.replace(lambda e: isinstance(e, sympy.Derivative), lambda e: e.doit())


def _apply(expression: Any, function: Callable[[Any], Any]) -> Any:
    if isinstance(expression, sympy.Equality):
        return sympy.Eq(function(expression.lhs), function(expression.rhs), evaluate=False)
    return function(expression)


def _check_step(previous: Any, step: Step, ranges: Mapping, seed: int) -> tuple[StepStatus, str]:
    options = step.options
    new = step.expression
    if step.relation == "equal":
        return equivalent(previous, new, ranges, seed)
    if step.relation == "substitute":
        # Evaluate derivatives the substitution created, but leave sums and integrals.
        candidate = _apply(previous,
                           lambda e: _evaluate_derivatives(_substitute(e, options["mapping"])))
        return equivalent(candidate, new, ranges, seed)
    if step.relation == "differentiate":
        variable = options["variable"]
        candidate = _apply(previous, lambda e: sympy.diff(e, variable))
        return equivalent(candidate, new, ranges, seed)
    if step.relation == "limit":
        candidate = _apply(previous, lambda e: sympy.limit(e, options["variable"],
                                                           options["point"]))
        return equivalent(candidate, new, ranges, seed)
    if step.relation == "integrate":
        variable, lower, upper = options["variable"], options["lower"], options["upper"]
        if upper is None:
            # An antiderivative: its derivative is the previous integrand.
            derivative = _apply(new, lambda e: sympy.diff(e, variable))
            return equivalent(previous, derivative, ranges, seed)
        # A definite integral F(upper): F' = integrand at upper and F(lower) = 0.
        new_value = _residual(new) if not isinstance(new, sympy.Equality) else new.rhs
        integrand = previous.rhs if isinstance(previous, sympy.Equality) else previous
        slope = equivalent(sympy.diff(new_value, upper), integrand.subs(variable, upper),
                           ranges, seed)
        start = equivalent(new_value.subs(upper, lower), sympy.Integer(0), ranges, seed)
        worst = max((slope, start), key=lambda r: _rank(r[0]))
        return worst[0], f"d/d{upper}: {slope[1]}; at {upper}={lower}: {start[1]}"
    if step.relation == "solve":
        unknown = options["unknown"]
        if not (isinstance(new, sympy.Equality) and new.lhs == unknown):
            return StepStatus.FAILED, f"a solve step must read Eq({unknown}, value)"
        residual = _residual(previous).subs(unknown, new.rhs)
        return equivalent(residual, sympy.Integer(0), ranges, seed)
    if step.relation == "solve_ode":
        function, variable, initial = options["function"], options["variable"], options["initial"]
        if not (isinstance(new, sympy.Equality) and new.lhs == function):
            return StepStatus.FAILED, f"an ODE solution must read Eq({function}, g)"
        residual = _residual(previous).subs(function, new.rhs).doit()
        result = equivalent(residual, sympy.Integer(0), ranges, seed)
        if initial is not None and result[0] is not StepStatus.FAILED:
            at, value = initial
            start = equivalent(new.rhs.subs(variable, at), value, ranges, seed)
            if _rank(start[0]) > _rank(result[0]):
                return start[0], f"initial condition: {start[1]}"
            return result[0], f"{result[1]}; initial condition holds"
        return result
    if step.relation == "at_most":
        return at_most(previous, new, ranges, seed)
    if step.relation == "supremum":
        variable, point = options["variable"], options["at"]
        if variable in new.free_symbols:
            return StepStatus.FAILED, f"a supremum over {variable} still depends on it"
        attained = equivalent(_apply(previous, lambda e: e.subs(variable, point)), new,
                              ranges, seed)
        bounded = at_most(previous, new, ranges, seed)
        worst = max((attained, bounded), key=lambda r: _rank(r[0]))
        return worst[0], f"attained at {variable} = {point}: {attained[1]}; bound: {bounded[1]}"
    raise DerivationError(f"cannot check relation {step.relation!r}")


def _rank(status: StepStatus) -> int:
    return {StepStatus.ASSUMED: 0, StepStatus.EXACT: 1, StepStatus.NUMERIC: 2,
            StepStatus.FAILED: 3}[status]


def check_derivation(derivation: Derivation, statement: Any, seed: int = 0) -> DerivationResult:
    """Check every step, then that the last expression is ``statement``."""
    if not derivation.steps:
        raise DerivationError(f"derivation of {derivation.claim} has no steps")
    results: list[StepResult] = []
    previous = None
    for index, step in enumerate(derivation.steps):
        if step.relation == "assume":
            status, detail = StepStatus.ASSUMED, ""
        elif previous is None:
            status, detail = StepStatus.FAILED, "the first step must be an assumption"
        else:
            try:
                status, detail = _check_step(previous, step, derivation.ranges, seed + index)
            except Exception as error:  # noqa: BLE001  (a failed check never crashes)
                status = StepStatus.FAILED
                detail = f"could not check: {type(error).__name__}: {error}"
        results.append(StepResult(index, step.relation, step.reason, status, detail,
                                  sympy.latex(step.expression),
                                  str(step.options.get("cite") or "")
                                  if step.relation == "assume" else ""))
        previous = step.expression
    last = derivation.steps[-1].expression
    if derivation.conclusion == "rhs":
        if not isinstance(last, sympy.Equality):
            conclusion = (StepStatus.FAILED, "the last step is not an equation")
        else:
            conclusion = equivalent(last.rhs, statement, derivation.ranges, seed)
    else:
        conclusion = equivalent(last, statement, derivation.ranges, seed)
    detail = conclusion[1]
    if conclusion[0] is StepStatus.FAILED:
        detail = "the last expression is not the claim's statement: " + detail
    circular = (conclusion[0] is not StepStatus.FAILED
                and _assumes_conclusion(derivation, statement, seed))
    if circular:
        detail = ("the conclusion is reached only by assuming it: the last premise is "
                  "already the statement")
    return DerivationResult(derivation.claim, derivation.title, results, conclusion[0], detail,
                            circular=circular)


def _assumes_conclusion(derivation: Derivation, statement: Any, seed: int) -> bool:
    """Whether the premise that starts the chain to the conclusion already is the conclusion.

    "Already is" means equal up to rearrangement (expanding and cancelling, entry by
    entry for matrices), without evaluating sums, products, integrals, derivatives or
    limits, without identities of special functions and without numeric sampling: a
    premise that is an unrolled sum, an ODE or a binomial identity away is a starting
    point; one that differs from the statement only by rearrangement assumes it.
    """
    premise = next(step for step in reversed(derivation.steps) if step.relation == "assume")
    expression = premise.expression
    if derivation.conclusion == "rhs":
        if not isinstance(expression, sympy.Equality):
            return False
        expression = expression.rhs
    elif isinstance(expression, sympy.Equality) and isinstance(statement, sympy.Equality):
        expression, statement = _residual(expression), _residual(statement)
    try:
        if isinstance(expression, sympy.MatrixBase) or isinstance(statement, sympy.MatrixBase):
            left, right = sympy.Matrix(expression), sympy.Matrix(statement)
            return left.shape == right.shape and all(
                _algebraically_zero(a - b) for a, b in zip(left, right, strict=True))
        return _algebraically_zero(expression - statement)
    except Exception:  # noqa: BLE001  (undecided: not shown to be circular)
        return False


def _algebraically_zero(difference: Any) -> bool:
    if difference == 0:
        return True
    held = (sympy.Sum, sympy.Product, sympy.Integral, sympy.Derivative, sympy.Limit)
    if any(difference.has(kind) for kind in held):
        return False  # an unevaluated operation: the chain must evaluate it
    return sympy.cancel(sympy.expand(difference)) == 0
