"""Parameter domains: what values a claim's parameter may take.

A domain validates a value (raising :class:`~theorylab.errors.ParameterError`
that names the parameter and the domain), describes itself in one phrase, and
provides a hypothesis strategy that draws from it.
"""

from __future__ import annotations

import json
import math
import reprlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from theorylab.errors import ParameterError

__all__ = ["Domain", "Real", "Integer", "Choice", "Matrix"]


class Domain:
    """Base class of parameter domains."""

    #: sympy assumptions for the parameter's symbol
    assumptions: dict[str, bool] = {}

    def describe(self) -> str:
        """One phrase for error messages, e.g. 'a real number in (0, inf)'."""
        raise NotImplementedError

    def validate(self, name: str, value: Any) -> Any:
        """Return ``value`` coerced to the domain's type, or raise ParameterError."""
        raise NotImplementedError

    def strategy(self) -> st.SearchStrategy:
        """A hypothesis strategy drawing values from this domain."""
        raise NotImplementedError

    def parse(self, name: str, text: str) -> Any:
        """Parse a command-line string (JSON allowed) and validate it.

        JSON ``true``/``false`` and quoted strings are not numbers; text longer than
        :data:`MAX_TEXT` characters, numbers of more than 4300 digits and brackets
        nested deeper than Python's recursion limit are refused in one line.
        """
        if len(text) > MAX_TEXT:
            raise ParameterError(name, self.describe(), _elide(text),
                                 f"longer than {MAX_TEXT} characters")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        except RecursionError:
            raise ParameterError(name, self.describe(), _elide(text),
                                 "brackets nested too deeply") from None
        except ValueError as error:  # Python refuses integers of more than 4300 digits
            raise ParameterError(name, self.describe(), _elide(text),
                                 f"not a usable number: {str(error).split(';')[0]}") from None
        if isinstance(value, str) and value != text:
            raise ParameterError(name, self.describe(), _elide(text),
                                 "a quoted string is not a number")
        return self.validate(name, value)


#: Longest command-line text a parameter may have (a JSON matrix included).
MAX_TEXT = 1_000_000
#: Largest magnitude an Integer domain without an upper bound accepts (exact in float64).
MAX_INTEGER = 2**53


def _elide(value: Any, limit: int = 40) -> str:
    """A value's text cut to ``limit`` characters, so that errors stay one short line."""
    text = value if isinstance(value, str) else reprlib.repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _number_from_text(name: str, text: str, domain: str) -> float:
    """A number written as text (``"0.5"``, ``"1/sqrt(2)"``), parsed without ``eval``."""
    from theorylab.expressions import ExpressionError, parse_number

    try:
        return float(text)
    except ValueError:
        pass
    except OverflowError:  # pragma: no cover (float() of text returns inf instead)
        raise ParameterError(name, domain, _elide(text), "too large") from None
    try:
        return parse_number(text, name=name)
    except ExpressionError as error:
        raise ParameterError(name, domain, _elide(text),
                             detail=f"not a number: {error.detail}; "
                             "use digits, + - * / ** and functions like sqrt, exp, log") from None


def _integer_from_text(name: str, text: str, domain: str) -> int | float:
    """An integer written as text: digits exactly, or a constant expression such as ``2**10``."""
    stripped = text.strip()
    if stripped.lstrip("+-").isdigit():
        if len(stripped) > 30:
            raise ParameterError(name, domain, _elide(text), f"{len(stripped)} digits")
        return int(stripped)
    return _number_from_text(name, text, domain)


def _bracket(lower: float, upper: float, lower_open: bool, upper_open: bool) -> str:
    low = "-inf" if lower == -math.inf else f"{lower:g}"
    high = "inf" if upper == math.inf else f"{upper:g}"
    return f"{'(' if lower_open else '['}{low}, {high}{')' if upper_open else ']'}"


@dataclass(frozen=True)
class Real(Domain):
    """A real interval; bounds are open unless stated.

    ``sample_lower``/``sample_upper`` restrict where the verifier draws points
    (a simulation's practical range) without narrowing what ``predict`` accepts.
    ``log_scale`` draws log-uniformly, for scale parameters spanning decades.
    """

    lower: float = -math.inf
    upper: float = math.inf
    lower_open: bool = True
    upper_open: bool = True
    sample_lower: float | None = None
    sample_upper: float | None = None
    log_scale: bool = False

    @property
    def assumptions(self) -> dict[str, bool]:  # type: ignore[override]
        """Sympy assumptions implied by the bounds."""
        if self.lower > 0 or (self.lower == 0 and self.lower_open):
            return {"positive": True}
        if self.lower == 0:
            return {"nonnegative": True}
        return {"real": True}

    def describe(self) -> str:
        """Describe the interval."""
        return "a real number in " + _bracket(
            self.lower, self.upper, self.lower_open, self.upper_open
        )

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the interval."""
        if math.isnan(value):
            return False
        above = value > self.lower if self.lower_open else value >= self.lower
        below = value < self.upper if self.upper_open else value <= self.upper
        return above and below

    def validate(self, name: str, value: Any) -> float:
        """Coerce to float and check the bounds."""
        if isinstance(value, (bool, np.bool_)):
            raise ParameterError(name, self.describe(), value, "a boolean is not a number")
        if isinstance(value, str):
            value = _number_from_text(name, value, self.describe())
        if not isinstance(value, (int, float, np.floating, np.integer)):
            try:
                value = float(value)
            except (TypeError, ValueError, OverflowError):
                raise ParameterError(name, self.describe(), _elide(value)) from None
        try:
            value = float(value)
        except OverflowError:
            raise ParameterError(name, self.describe(), _elide(value), "too large") from None
        if not self.contains(value):
            raise ParameterError(name, self.describe(), value)
        return value

    def strategy(self) -> st.SearchStrategy[float]:
        """Uniform (or log-uniform) draws inside the sampling range."""
        low = self.sample_lower if self.sample_lower is not None else self.lower
        high = self.sample_upper if self.sample_upper is not None else self.upper
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError("Real domains used for sampling need finite sample bounds")
        if self.log_scale:
            return st.floats(math.log(low), math.log(high)).map(math.exp).filter(self.contains)
        return st.floats(low, high, exclude_min=self.lower_open and low == self.lower,
                         exclude_max=self.upper_open and high == self.upper)


@dataclass(frozen=True)
class Integer(Domain):
    """Integers in [lower, upper]."""

    lower: int = 0
    upper: int | None = None
    sample_upper: int | None = None

    @property
    def assumptions(self) -> dict[str, bool]:  # type: ignore[override]
        """Sympy assumptions implied by the bounds."""
        if self.lower >= 1:
            return {"integer": True, "positive": True}
        if self.lower >= 0:
            return {"integer": True, "nonnegative": True}
        return {"integer": True}

    def describe(self) -> str:
        """Describe the integer range."""
        if self.upper is None:
            return f"an integer >= {self.lower}"
        return f"an integer in [{self.lower}, {self.upper}]"

    def validate(self, name: str, value: Any) -> int:
        """Accept ints, and floats that are exact integers, inside the range.

        A float beyond 2**53 (``1e308``) is refused: it is not an exact integer.
        Without a declared upper bound, magnitudes beyond 2**53 are refused too.
        """
        if isinstance(value, (bool, np.bool_)):
            raise ParameterError(name, self.describe(), value, "a boolean is not a number")
        if isinstance(value, str):
            value = _integer_from_text(name, value, self.describe())
        if isinstance(value, (float, np.floating)):
            if not math.isfinite(value) or value != int(value) or abs(value) > MAX_INTEGER:
                raise ParameterError(name, self.describe(), value,
                                     "not an exact integer (|value| <= 2**53)")
            value = int(value)
        if not isinstance(value, (int, np.integer)):
            raise ParameterError(name, self.describe(), _elide(value))
        value = int(value)
        if value < self.lower or (self.upper is not None and value > self.upper):
            raise ParameterError(name, self.describe(), value)
        if self.upper is None and abs(value) > MAX_INTEGER:
            raise ParameterError(name, self.describe(), value,
                                 "beyond 2**53, the practical bound of an unbounded integer")
        return value

    def strategy(self) -> st.SearchStrategy[int]:
        """Uniform integers inside the sampling range."""
        high = self.sample_upper if self.sample_upper is not None else self.upper
        if high is None:
            raise ValueError("Integer domains used for sampling need an upper sample bound")
        return st.integers(self.lower, high)


@dataclass(frozen=True)
class Choice(Domain):
    """One of a fixed set of strings."""

    options: tuple[str, ...] = ()

    def describe(self) -> str:
        """List the options."""
        return "one of " + ", ".join(repr(option) for option in self.options)

    def validate(self, name: str, value: Any) -> str:
        """Accept only the listed options."""
        if value not in self.options:
            raise ParameterError(name, self.describe(), value)
        return str(value)

    def parse(self, name: str, text: str) -> str:
        """Options are plain strings; no JSON decoding."""
        return self.validate(name, text)

    def strategy(self) -> st.SearchStrategy[str]:
        """Draw one option."""
        return st.sampled_from(self.options)


@dataclass(frozen=True)
class Matrix(Domain):
    """A real matrix (or vector with ``ndim=1``), finite entries.

    ``shape`` fixes dimensions where given (None entries are free);
    ``same_shape_as`` names another parameter whose shape this one must match,
    checked by the claim.
    """

    ndim: int = 2
    shape: tuple[int | None, ...] | None = None
    min_size: int = 1
    max_size: int = 8
    same_shape_as: str | None = None

    def describe(self) -> str:
        """Describe the array."""
        what = "a real vector" if self.ndim == 1 else "a real matrix"
        if self.shape is not None:
            dims = "x".join("n" if d is None else str(d) for d in self.shape)
            what += f" of shape {dims}"
        if self.same_shape_as:
            what += f" with the shape of '{self.same_shape_as}'"
        return what + " with finite entries (JSON nested list)"

    def validate(self, name: str, value: Any) -> np.ndarray:
        """Coerce to a float64 array of the right rank with finite entries.

        Entries must be numbers: booleans and strings are refused, not converted.
        """
        if isinstance(value, np.ndarray) and value.dtype.kind not in "iuf":
            raise ParameterError(name, self.describe(), _elide(value),
                                 f"entries of type {value.dtype}")
        if isinstance(value, (list, tuple)):
            wrong = _non_number(value)
            if wrong is not None:
                raise ParameterError(name, self.describe(), _elide(value),
                                     f"entry {_elide(wrong, 20)} is not a number")
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise ParameterError(name, self.describe(), _elide(value)) from None
        if array.ndim != self.ndim or array.size == 0:
            raise ParameterError(name, self.describe(), _elide(value),
                                 f"got {array.ndim} dimension(s)")
        if self.shape is not None:
            for actual, wanted in zip(array.shape, self.shape, strict=True):
                if wanted is not None and actual != wanted:
                    raise ParameterError(name, self.describe(), _elide(value),
                                         f"shape {array.shape}")
        if not np.all(np.isfinite(array)):
            raise ParameterError(name, self.describe(), _elide(value), "non-finite entry")
        return array

    def strategy(self) -> st.SearchStrategy[np.ndarray]:
        """Gaussian-entry matrices of random shape (claims usually override)."""
        def build(shape: Sequence[int], seed: int) -> np.ndarray:
            return np.random.default_rng(seed).standard_normal(tuple(shape))

        side = st.integers(self.min_size, self.max_size)
        return st.builds(build, st.lists(side, min_size=self.ndim, max_size=self.ndim),
                         st.integers(0, 2**32 - 1))


def _non_number(value: Any) -> Any:
    """The first entry of nested lists that is not an int or float (booleans included)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, (bool, np.bool_)) or not isinstance(
                item, (int, float, np.integer, np.floating)):
            return item
    return None
