"""Parameter domains refuse what is not in them, in one short line."""

from __future__ import annotations

import numpy as np
import pytest

from theorylab.domains import Choice, Integer, Matrix, Real
from theorylab.errors import ParameterError

HOSTILE = [
    (Real(0), "true", "boolean"), (Real(0), '"1"', "quoted string"),
    (Real(0), "1" * 5001, "4300 digits"), (Real(0), "[" * 10_000, "nested too deeply"),
    (Real(0), "1" * 400, "too large"), (Real(0), "nan", "got nan"),
    (Real(0), "x" * 2_000_000, "longer than"),
    (Integer(1, 100), "1e308", "exact integer"), (Integer(1, 100), "1.5", "exact integer"),
    (Integer(1, 100), "101", r"\[1, 100\]"), (Integer(1), "1e308", "exact integer"),
    (Integer(1), "1" * 40, "2\\*\\*53"), (Integer(1), "false", "boolean"),
    (Matrix(), "[[true]]", "entry True"), (Matrix(), '[["1"]]', "not a number"),
    (Matrix(), "[[1e400]]", "non-finite"), (Matrix(), "[]", "dimension"),
    (Choice(("a", "b")), "c", "one of"),
]


@pytest.mark.parametrize("domain, text, reason", HOSTILE)
def test_refused_in_one_line(domain, text, reason):
    with pytest.raises(ParameterError, match=reason) as error:
        domain.parse("s", text)
    message = str(error.value)
    assert message.startswith("parameter 's'") and "\n" not in message and len(message) < 300


@pytest.mark.parametrize("domain, text, value", [
    (Real(0), "0.5", 0.5), (Real(0), "1/sqrt(2)", 2 ** -0.5), (Integer(1, 100), "7", 7),
    (Integer(1, 100), "7.0", 7), (Integer(1, 100), "2**3", 8), (Integer(0), "9007199254740992",
                                                                2**53),
])
def test_accepted(domain, text, value):
    assert domain.parse("s", text) == value


def test_python_values():
    with pytest.raises(ParameterError, match="boolean"):
        Real().validate("s", True)
    with pytest.raises(ParameterError, match="boolean"):
        Integer().validate("s", np.bool_(True))
    with pytest.raises(ParameterError, match="entries of type bool"):
        Matrix().validate("W", np.ones((2, 2), dtype=bool))
    with pytest.raises(ParameterError, match="too large"):
        Real().validate("s", 10**400)
    assert Matrix().validate("W", [[1, 2.5]]).dtype == np.float64
