"""The claim model: one closed-form result, declared, never special-cased.

A family module in ``theory/`` is mostly declarative: it builds :class:`Claim`
objects from parameters, a sympy statement, conventions, a citation and decoys.
The generic verifier (:mod:`theorylab.verifier`) checks every claim the same way,
in the spirit of ``scipy.stats.rv_continuous``: a few optional hooks
(``evaluate``, ``sample``) cover what a plain sympy expression cannot.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy
from hypothesis import strategies as st

from theorylab.domains import Choice, Domain, Matrix
from theorylab.errors import ClaimDefinitionError, ParameterError

__all__ = [
    "Citation",
    "Parameter",
    "Constraint",
    "Decoy",
    "SystematicError",
    "Claim",
    "DEFAULT_RESOLUTION",
    "STATEMENT_AGREEMENT",
]

#: The required resolution of a claim that declares none: its check must detect a
#: relative error of 5% in the prediction, or it is INCONCLUSIVE (underpowered).
DEFAULT_RESOLUTION = 0.05

#: Relative agreement required between an ``evaluate`` hook and the statement.
STATEMENT_AGREEMENT = 1e-10


@dataclass(frozen=True)
class Citation:
    """Where a result comes from: paper and equation or theorem number."""

    authors: tuple[str, ...]
    year: int
    title: str
    where: str
    arxiv: str | None = None
    venue: str = ""

    @property
    def key(self) -> str:
        """A BibTeX key such as ``saxe2014exact``."""
        last = self.authors[0].split()[-1].lower()
        first_word = next(
            (w for w in self.title.lower().split() if w not in {"a", "an", "the", "on", "of"}),
            "paper",
        )
        return f"{last}{self.year}{''.join(c for c in first_word if c.isalnum())}"

    def short(self) -> str:
        """E.g. 'Saxe, McClelland & Ganguli 2014 (arXiv:1312.6120), eq. 12'."""
        names = [a.split()[-1] for a in self.authors]
        who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " & " + names[-1]
        arxiv = f" (arXiv:{self.arxiv})" if self.arxiv else ""
        return f"{who} {self.year}{arxiv}, {self.where}"

    @property
    def url(self) -> str | None:
        """The arXiv abstract page, if any."""
        return f"https://arxiv.org/abs/{self.arxiv}" if self.arxiv else None

    def bibtex(self) -> str:
        """A BibTeX entry."""
        fields = {
            "author": " and ".join(self.authors),
            "title": "{" + self.title + "}",
            "year": str(self.year),
        }
        if self.venue:
            fields["journal"] = self.venue
        if self.arxiv:
            fields["eprint"] = self.arxiv
            fields["archivePrefix"] = "arXiv"
        body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items())
        return f"@article{{{self.key},\n{body}\n}}"


class _Required:
    """Marker: a :class:`Parameter` whose default is this must be given."""

    def __repr__(self) -> str:
        return "REQUIRED"


#: The default of :attr:`Parameter.default`: the parameter must be given.
REQUIRED = _Required()


@dataclass(frozen=True)
class Parameter:
    """A named parameter with its domain.

    Attributes:
        name: the keyword used by ``predict`` and the CLI.
        domain: the values allowed (:mod:`theorylab.domains`).
        description: what the parameter means, with its convention.
        latex: how the symbol prints (defaults to ``name``).
        default: the value taken when the parameter is left out (or given as
            None); :data:`REQUIRED` (the default) makes it required. Defaults
            are not validated, so ``None`` can mean "not used by this
            quantity" for a claim's own ``evaluate`` hook.

    """

    name: str
    domain: Domain
    description: str = ""
    latex: str | None = None
    default: Any = REQUIRED

    @property
    def symbol(self) -> sympy.Symbol:
        """The sympy symbol, carrying the domain's assumptions."""
        return _symbol(self.name, self.latex, tuple(sorted(self.domain.assumptions.items())))

    def strategy(self) -> st.SearchStrategy:
        """A hypothesis strategy drawing from the domain."""
        return self.domain.strategy()


_SYMBOLS: dict[tuple, sympy.Symbol] = {}


def _symbol(name: str, latex: str | None, assumptions: tuple) -> sympy.Symbol:
    key = (name, latex, assumptions)
    if key not in _SYMBOLS:
        symbol = sympy.Symbol(latex or name, **dict(assumptions))
        _SYMBOLS[key] = symbol
    return _SYMBOLS[key]


@dataclass(frozen=True)
class Constraint:
    """A condition linking several parameters, e.g. ``u0 < s``.

    ``holds`` receives the validated parameter dict. The error names
    ``parameters[0]`` (the one a user most likely got wrong).
    """

    description: str
    holds: Callable[[Mapping[str, Any]], bool]
    parameters: tuple[str, ...]


@dataclass(frozen=True)
class Decoy:
    """A plausible wrong variant of a claim that the verifier must reject.

    Give exactly one of:

    - ``statement``: a sympy expression in the claim's parameters (by name);
    - ``substitute``: a substitution into the claim's statement (of the checked
      quantity), e.g. ``{s: 2 * s}`` or ``{"s": "2*s"}`` (strings are sympified with
      the parameters' names);
    - ``at``: the claim's own prediction at changed parameters, e.g.
      ``{"depth": lambda point: point["depth"] - 1}`` (values or functions of the point);
    - ``claim``: the prediction of another registered claim (by id) at the same
      parameter values (the names it shares with this claim);
    - ``statements``: for a claim with several quantities, a wrong statement per
      quantity, e.g. ``{"moment": ..., "density": ...}``; a quantity left out keeps
      the claim's own statement (the decoy agrees with the truth there);
    - ``evaluate``: a callable like :attr:`Claim.evaluate`.
    """

    name: str
    description: str
    statement: sympy.Expr | None = None
    evaluate: Callable[..., Any] | None = None
    substitute: Mapping[Any, Any] | None = None
    at: Mapping[str, Any] | None = None
    claim: str | None = None
    statements: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        given = [name for name in ("statement", "evaluate", "substitute", "at", "claim",
                                   "statements") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ClaimDefinitionError(
                f"decoy {self.name!r} needs exactly one of statement=, substitute=, at=, "
                f"claim=, statements= or evaluate= (got {', '.join(given) or 'none'})")


@dataclass(frozen=True)
class SystematicError:
    """The known bias of a simulation and how the verifier removes it.

    The simulation reports its samples at several resolutions ``h`` (a step
    size, or 1/width). The bias is assumed to be a power series
    ``c_p h^p + c_{p+1} h^{p+1} + ...``; the verifier extrapolates to
    ``h -> 0`` (Richardson) and bounds what is left by the size of the last
    correction. With a single resolution there is no extrapolation and no bias.
    """

    variable: str
    order: int = 1
    description: str = ""


ParameterPoint = dict[str, Any]

@dataclass(frozen=True, eq=False)
class Claim:
    """One closed-form result.

    Attributes:
        id: ``family.name``; public API.
        title: one line.
        citation: the paper and equation or theorem.
        parameters: the parameters with their domains.
        statement: sympy expression for the predicted quantity.
        quantity: sympy expression naming the predicted quantity (the left side).
        conventions: statements of time constants, scalings, initialisation.
        simulation: the function measuring the quantity, or its name as
            ``"module:function"`` (the catalogue's live in numerics/).
        systematic_error: the simulation's bias model.
        decoys: wrong variants that must be rejected.
        uses: ids of claims this one depends on.
        constraints: conditions linking parameters.
        evaluate: optional hook ``(params, precision) -> value`` used instead of
            lambdifying the statement (matrix-valued claims, special functions).
        sample: optional hook returning a strategy of parameter dicts, for
            domains whose parts depend on each other.
        kind: 'theorem', 'lemma' or 'definition' (for the blueprint graph).
        ensemble: default number of independent simulations per point.
        budget: default number of parameter points per check.
        resolution: the required resolution: the largest relative error of the
            prediction that a check may fail to detect (default 5%). A check whose
            achieved resolution is coarser is INCONCLUSIVE (underpowered), never
            PASS; a claim may declare a tighter one, never one outside (0, 1).
        statements: one statement per value of the ``quantity`` parameter, for a
            claim that predicts several quantities; ``statement`` is then the one
            shown first. Each is evaluated at every checked point and must agree
            with the ``evaluate`` hook (when there is one) to 1e-10. A value may be
            ``sympy.Eq(lhs, expression)``: ``lhs`` (say ``m_k``) is what ``show`` and
            the docs print on the left for that quantity.
        quantity_symbols: the left-hand side printed for each quantity, by name
            (filled from ``statements`` given as equations). A quantity without one
            prints as ``quantity`` when its statement is ``statement``, else by its name.
        components: names of the entries of a vector-valued quantity (for
            example ``("K11", "K22", "K12")``), shown by ``predict``.
        relation: ``"=="`` (the quantity equals the statement) or ``"<="`` (an
            upper bound: the measured quantity must not exceed the statement
            beyond its tolerance, and the verifier searches for a violation).

    """

    id: str
    title: str
    citation: Citation
    parameters: tuple[Parameter, ...]
    statement: Any
    quantity: Any
    conventions: tuple[str, ...] = ()
    simulation: str | Callable[..., Any] | None = None
    systematic_error: SystematicError | None = None
    decoys: tuple[Decoy, ...] = ()
    uses: tuple[str, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    evaluate: Callable[..., Any] | None = None
    sample: Callable[[], st.SearchStrategy] | None = None
    kind: str = "theorem"
    ensemble: int = 8
    budget: int = 12
    resolution: float = DEFAULT_RESOLUTION
    components: tuple[str, ...] = ()
    notes: str = ""
    relation: str = "=="
    statements: Mapping[str, Any] = field(default_factory=dict)
    quantity_symbols: Mapping[str, Any] = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)
    _module: str = field(default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        # statements={"moment": Eq(m_k, ...)}: the left-hand side is what show prints for
        # that quantity; the right-hand side is the statement that is evaluated.
        symbols = dict(self.quantity_symbols)
        statements = {}
        for key, value in self.statements.items():
            if isinstance(value, sympy.Equality):
                symbols.setdefault(key, value.lhs)
                value = value.rhs
            statements[key] = value
        object.__setattr__(self, "statements", statements)
        object.__setattr__(self, "quantity_symbols", symbols)
        if not self._module:  # the module whose code built the claim: it "defines" it
            import sys

            frame = sys._getframe(2)
            object.__setattr__(self, "_module", frame.f_globals.get("__name__", ""))
        problems = self.definition_problems()
        if problems:
            raise ClaimDefinitionError(f"claim {self.id!r}: {problems[0]}")

    def definition_problems(self) -> list[str]:
        """What is wrong with the declaration, one line each (empty when it is sound)."""
        problems: list[str] = []
        if not isinstance(self.id, str) or "." not in self.id:
            problems.append("the id needs a family prefix, as in 'mywork.my_claim'")
        resolution = self.resolution
        if (isinstance(resolution, bool) or not isinstance(resolution, (int, float))
                or not 0 < resolution < 1):
            problems.append(f"resolution must be a number in (0, 1), got {resolution!r}")
        if self.relation not in ("==", "<="):
            problems.append(f"relation must be '==' or '<=', got {self.relation!r}")
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            problems.append("two parameters share a name: " + ", ".join(names))
        if self.statements:
            try:
                choice = self.parameter("quantity").domain
            except KeyError:
                choice = None
            if not isinstance(choice, Choice):
                problems.append("statements= needs a 'quantity' parameter with a Choice domain")
            else:
                extra = sorted(set(self.statements) - set(choice.options))
                if extra:
                    problems.append(f"statements for {extra[0]!r}, which is not a quantity "
                                    f"option ({', '.join(choice.options)})")
        if callable(self.simulation):
            from theorylab.simulations import contract_problem

            problem = contract_problem(self.simulation)
            if problem:
                problems.append(problem)
            levels = getattr(self.simulation, "levels", ())
            if len(levels) > 1 and self.systematic_error is None:
                problems.append(f"its simulation measures at {len(levels)} resolutions but the "
                                "claim declares no systematic_error; declare "
                                "SystematicError(variable=..., order=p) with the bias order p")
        for decoy in self.decoys:
            if decoy.substitute is not None and self._substitution_is_void(decoy):
                problems.append(f"decoy {decoy.name!r}: the substitution leaves the statement "
                                f"unchanged (no symbol of it matches, or sympy folded the "
                                f"pattern away)")
            if decoy.statement is not None and _same(decoy.statement, self.statement):
                problems.append(f"decoy {decoy.name!r} is the statement itself (after sympy's "
                                f"automatic simplification), so no check can reject it")
            if decoy.statements is not None:
                options = set(self.statements)
                unknown = sorted(set(decoy.statements) - options)
                if unknown or not options:
                    problems.append(f"decoy {decoy.name!r}: statements= for "
                                    f"{(unknown or list(decoy.statements))[0]!r}, which is not "
                                    f"one of the claim's statements= quantities")
                elif all(_same(wrong, self.statements[quantity])
                         for quantity, wrong in decoy.statements.items()):
                    problems.append(f"decoy {decoy.name!r}: every statement it gives is the "
                                    f"claim's own, so no check can reject it")
        for where, expression in self._expressions():
            unknown = self._unknown_symbols(expression)
            if unknown:
                problems.append(f"{where} uses the symbol {unknown[0]!r}, which is not a "
                                f"parameter (parameters: {', '.join(names)})")
        return problems

    def _substitution_is_void(self, decoy: Decoy) -> bool:
        """True when a substitution decoy changes no statement of the claim."""
        statements = list(self.statements.values()) or [self.statement]
        try:
            return all(_same(self._substitute_into(sympy.sympify(statement),
                                                   decoy.substitute or {}), statement)
                       for statement in statements if isinstance(statement, sympy.Basic))
        except (sympy.SympifyError, TypeError, ValueError, SyntaxError):
            return False  # unparsable: reported when the decoy is evaluated

    def _expressions(self) -> list[tuple[str, Any]]:
        found = [("the statement", self.statement)]
        found += [(f"the statement for quantity={key!r}", value)
                  for key, value in self.statements.items()]
        found += [(f"decoy {d.name!r}", d.statement) for d in self.decoys
                  if d.statement is not None]
        found += [(f"decoy {d.name!r} for quantity={key!r}", value) for d in self.decoys
                  if d.statements is not None for key, value in d.statements.items()]
        return [(where, e) for where, e in found if isinstance(e, sympy.Basic)]

    def _binding(self) -> dict[str, Parameter]:
        """Symbol name -> parameter: a parameter binds by its name and by its LaTeX name."""
        binding: dict[str, Parameter] = {}
        for parameter in self.parameters:
            binding.setdefault(parameter.symbol.name, parameter)
        for parameter in self.parameters:
            binding[parameter.name] = parameter
        return binding

    def _unknown_symbols(self, expression: Any) -> list[str]:
        binding = self._binding()
        return sorted(symbol.name for symbol in _free_symbols(expression)
                      if symbol.name not in binding)

    # -- identity ---------------------------------------------------------

    @property
    def family(self) -> str:
        """The family: the part of the id before the dot."""
        return self.id.split(".", 1)[0]

    @property
    def name(self) -> str:
        """The claim's name within its family."""
        return self.id.split(".", 1)[1]

    def parameter(self, name: str) -> Parameter:
        """Look up a parameter by name."""
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(name)

    @property
    def symbols(self) -> dict[str, sympy.Symbol]:
        """Parameter name -> sympy symbol."""
        return {p.name: p.symbol for p in self.parameters}

    def fingerprint(self) -> str:
        """A hash of what the claim states; stored evidence is tied to it."""
        text = json.dumps(
            [self.id, sympy.srepr(self.statement), [p.name for p in self.parameters],
             [d.name for d in self.decoys], self.conventions],
            sort_keys=True,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    # -- presentation -----------------------------------------------------

    def equation(self) -> sympy.Basic:
        """The statement as ``quantity = expression``."""
        if isinstance(self.statement, sympy.Basic) and isinstance(self.quantity, sympy.Basic):
            if self.relation == "<=":
                return sympy.Le(self.quantity, self.statement, evaluate=False)
            return sympy.Eq(self.quantity, self.statement, evaluate=False)
        return self.statement

    def pretty(self) -> str:
        """Unicode pretty-printed statement."""
        return sympy.pretty(self.equation(), use_unicode=True)

    def latex(self) -> str:
        """LaTeX of the statement."""
        return sympy.latex(self.equation())

    def quantity_pretty(self) -> dict[str, str]:
        """Each quantity's statement (``statements``), pretty-printed, by quantity."""
        return {quantity: sympy.pretty(self._equation(quantity, statement), use_unicode=True)
                for quantity, statement in self.statements.items()}

    def quantity_latex(self) -> dict[str, str]:
        """Each quantity's statement (``statements``) in LaTeX, by quantity."""
        return {quantity: sympy.latex(self._equation(quantity, statement))
                for quantity, statement in self.statements.items()}

    def quantity_symbol(self, quantity: str) -> Any:
        """The left-hand side printed for one quantity of a several-quantity claim."""
        if quantity in self.quantity_symbols:
            return self.quantity_symbols[quantity]
        if quantity in self.statements and self.statements[quantity] != self.statement:
            return sympy.Symbol(quantity)
        return self.quantity

    def quantity_equation(self, quantity: str) -> Any:
        """``lhs = statement`` of one quantity of a several-quantity claim."""
        return self._equation(quantity, self.statements[quantity])

    def _equation(self, quantity: str, statement: Any) -> Any:
        symbol = self.quantity_symbol(quantity)
        if isinstance(statement, sympy.Basic) and isinstance(symbol, sympy.Basic):
            if self.relation == "<=":
                return sympy.Le(symbol, statement, evaluate=False)
            return sympy.Eq(symbol, statement, evaluate=False)
        return statement

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    # -- validation -------------------------------------------------------

    def validate(self, params: Mapping[str, Any]) -> ParameterPoint:
        """Check names, domains and constraints; return coerced values.

        Raises:
            ParameterError: naming the parameter and its domain.

        """
        known = {p.name for p in self.parameters}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ParameterError(unknown[0], f"one of the parameters of {self.id}: "
                                 + ", ".join(sorted(known)))
        optional = {p.name for p in self.parameters if p.default is not REQUIRED}
        params = {k: v for k, v in params.items() if not (v is None and k in optional)}
        missing = [p.name for p in self.parameters
                   if p.name not in params and p.name not in optional]
        if missing:
            parameter = self.parameter(missing[0])
            raise ParameterError(missing[0], parameter.domain.describe(), detail="missing")
        values = {p.name: p.domain.validate(p.name, params[p.name]) if p.name in params
                  else p.default for p in self.parameters}
        for parameter in self.parameters:
            domain = parameter.domain
            if isinstance(domain, Matrix) and domain.same_shape_as:
                other = values[domain.same_shape_as]
                if values[parameter.name].shape != other.shape:
                    raise ParameterError(parameter.name, domain.describe(),
                                         detail=f"shape {values[parameter.name].shape}")
        for constraint in self.constraints:
            if not constraint.holds(values):
                name = constraint.parameters[0]
                raise ParameterError(name, f"such that {constraint.description}",
                                     values[name] if not isinstance(values[name], np.ndarray)
                                     else None)
        return values

    def parse(self, assignments: Mapping[str, str]) -> ParameterPoint:
        """Parse ``name=value`` strings from the command line and validate them."""
        raw: dict[str, Any] = {}
        for name, text in assignments.items():
            try:
                parameter = self.parameter(name)
            except KeyError:
                raise ParameterError(name, f"one of the parameters of {self.id}: "
                                     + ", ".join(p.name for p in self.parameters)) from None
            raw[name] = parameter.domain.parse(name, text)
        return self.validate(raw)

    # -- prediction -------------------------------------------------------

    def predict(self, *, precision: int | None = None, **params: Any) -> Any:
        """Evaluate the statement at a parameter point.

        Args:
            precision: None for float64 (numpy); an integer for that many
                decimal digits with mpmath.
            **params: one value per parameter.

        Returns:
            A float, a numpy array, or (with ``precision``) an mpmath number.

        """
        values = self.validate(params)
        return self._evaluate(self.statement_for(values), self.evaluate, values, precision)

    def statement_for(self, values: Mapping[str, Any]) -> Any:
        """The statement of the quantity at this point (``statements[quantity]``)."""
        if self.statements and values.get("quantity") in self.statements:
            return self.statements[values["quantity"]]
        return self.statement

    def evaluate_statement(self, values: Mapping[str, Any], precision: int | None = None) -> Any:
        """Evaluate the sympy statement itself at validated values, bypassing any hook.

        Symbols bind to parameters by name; named functions
        (:func:`theorylab.functions.named_function`) evaluate through their
        implementation. This is the number that the verifier requires the
        ``evaluate`` hook to reproduce.
        """
        return self._evaluate(self.statement_for(values), None, dict(values), precision)

    def predict_decoy(self, decoy: Decoy, **params: Any) -> Any:
        """Evaluate a decoy at a parameter point (float64)."""
        values = self.validate(params)
        if decoy.substitute is not None:
            return self._evaluate(self._substituted(decoy, values), None, values, None)
        if decoy.at is not None:
            changed = dict(values)
            for name, value in decoy.at.items():
                changed[name] = value(values) if callable(value) else value
            return self.predict(**changed)
        if decoy.statements is not None:
            wrong = decoy.statements.get(values.get("quantity"))
            return self._evaluate(self.statement_for(values) if wrong is None else wrong,
                                  None, values, None)
        if decoy.claim is not None:
            from theorylab import registry

            other = registry.get(decoy.claim)
            shared = {p.name: values[p.name] for p in other.parameters if p.name in values}
            return other.predict(**shared)
        return self._evaluate(decoy.statement, decoy.evaluate, values, None)

    def _substituted(self, decoy: Decoy, values: Mapping[str, Any]) -> Any:
        statement = self.statement_for(values)
        # Per (decoy, statement) object: subs and srepr cost milliseconds a call.
        key = ("substituted", id(decoy), id(statement))
        hit = self._cache.get(key)
        if hit is None or hit[0] is not decoy or hit[1] is not statement:
            hit = (decoy, statement, self._substitute_into(sympy.sympify(statement),
                                                           decoy.substitute or {}))
            self._cache[key] = hit
        return hit[2]

    def _substitute_into(self, statement: Any, substitute: Mapping[Any, Any]) -> Any:
        """Apply a decoy's substitution, binding names to the statement's own symbols.

        ``{"s": "2*s"}`` and ``{Symbol("s"): 2*Symbol("s")}`` both mean the parameter
        ``s``, whatever assumptions or LaTeX name the statement's symbol carries.
        """
        binding = self._binding()
        present: dict[str, list[sympy.Symbol]] = {}
        for symbol in _free_symbols(statement):
            if symbol.name in binding:
                present.setdefault(binding[symbol.name].name, []).append(symbol)
        names = {name: (present.get(parameter.name) or [parameter.symbol])[0]
                 for name, parameter in binding.items()}
        mapping: dict[Any, Any] = {}
        for key, value in substitute.items():
            key = sympy.sympify(key, locals=names) if isinstance(key, str) else key
            value = sympy.sympify(value, locals=names) if isinstance(value, str) else value
            if isinstance(value, sympy.Basic):  # the value's symbols: the statement's too
                value = value.xreplace({symbol: names[symbol.name]
                                        for symbol in _free_symbols(value)
                                        if symbol.name in names})
            if isinstance(key, sympy.Symbol) and key.name in binding:
                for symbol in present.get(binding[key.name].name, [key]):
                    mapping[symbol] = value
            else:
                mapping[key] = value
        return statement.subs(mapping, simultaneous=True)

    def _evaluate(self, statement: Any, hook: Callable | None, values: ParameterPoint,
                  precision: int | None) -> Any:
        if hook is not None:
            return hook(values, precision)
        if statement is None:
            raise ClaimDefinitionError(f"claim {self.id!r} has no statement for "
                                       f"quantity={values.get('quantity')!r}")
        function = self._lambdified(statement, "mpmath" if precision else "numpy")
        arguments = [values[p.name] for p in self.parameters]
        if precision:
            import mpmath

            with mpmath.workdps(precision):
                return function(*[mpmath.mpf(a) if isinstance(a, float) else a
                                  for a in arguments])
        with np.errstate(all="ignore"):
            result = function(*arguments)
        return float(result) if np.ndim(result) == 0 else np.asarray(result, dtype=np.float64)

    def _lambdified(self, statement: Any, module: str) -> Callable:
        # By object first: srepr of a large statement costs milliseconds on every call
        # (a figure's theory curves call this thousands of times).
        same = self._cache.get(("object", id(statement), module))
        if same is not None and same[0] is statement:
            return same[1]
        key = (sympy.srepr(statement), module)
        original = statement
        if key not in self._cache:
            symbols = [sympy.Dummy(p.name) for p in self.parameters]
            binding = self._binding()
            position = {p.name: i for i, p in enumerate(self.parameters)}
            if isinstance(statement, sympy.Basic):
                statement = statement.xreplace({
                    symbol: symbols[position[binding[symbol.name].name]]
                    for symbol in _free_symbols(statement) if symbol.name in binding})
            modules = ["mpmath"] if module == "mpmath" else ["scipy", "numpy"]
            self._cache[key] = sympy.lambdify(symbols, statement, modules=modules)
        self._cache[("object", id(original), module)] = (original, self._cache[key])
        return self._cache[key]

    # -- simulation -------------------------------------------------------

    def simulator(self) -> Callable[..., Any]:
        """The simulation function: :attr:`simulation` itself, or imported by name."""
        if self.simulation is None:
            raise LookupError(f"{self.id} has no simulation")
        if callable(self.simulation):
            return self.simulation
        module_name, _, function_name = self.simulation.partition(":")
        return getattr(importlib.import_module(module_name), function_name)

    def points(self) -> st.SearchStrategy[ParameterPoint]:
        """Strategy of valid parameter points (the domain the verifier searches)."""
        if self.sample is not None:
            return self.sample()
        strategy = st.fixed_dictionaries({p.name: p.strategy() for p in self.parameters})
        if self.constraints:
            strategy = strategy.filter(
                lambda point: all(c.holds(point) for c in self.constraints)
            )
        return strategy

    def decoy(self, name: str) -> Decoy:
        """Look up a decoy by name."""
        for decoy in self.decoys:
            if decoy.name == name:
                return decoy
        raise KeyError(name)


def _same(left: Any, right: Any) -> bool:
    """Structurally equal, or equal once expanded (cheap; no simplify at definition time)."""
    if not (isinstance(left, sympy.Basic) and isinstance(right, sympy.Basic)):
        return False
    if left == right:
        return True
    if isinstance(left, sympy.MatrixBase) or isinstance(right, sympy.MatrixBase):
        return False
    try:
        return sympy.expand(left - right) == 0
    except Exception:  # noqa: BLE001  (undecided: not the same)
        return False


def _free_symbols(expression: Any) -> set[sympy.Symbol]:
    """Free symbols of a statement (scalar or matrix), bound variables excluded."""
    if isinstance(expression, sympy.MatrixBase):
        return set().union(*(_free_symbols(entry) for entry in expression))
    if not isinstance(expression, sympy.Basic):
        return set()
    return {s for s in expression.free_symbols if isinstance(s, sympy.Symbol)}


def claims_in(namespace: Mapping[str, Any] | Sequence[Any]) -> list[Claim]:
    """Every Claim in a module namespace, in definition order."""
    values = namespace.values() if isinstance(namespace, Mapping) else namespace
    return [value for value in values if isinstance(value, Claim)]
