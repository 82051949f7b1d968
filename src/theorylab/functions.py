r"""Named functions in statements, bound once to their implementation.

A statement often names a quantity that has no closed form in elementary
functions: a Gaussian expectation ``⟨σσ⟩(K)``, an S-transform ``S_{WWᵀ}(w)``, the
fixed point ``q*``. :func:`named_function` makes such a name a sympy function
that prints as the paper writes it and evaluates through one implementation, so
the statement that ``show`` displays, ``prove`` derives and ``export`` writes is
the number the verifier compares with the simulation.

Example::

    from theorylab.functions import named_function

    gaussian_product = named_function(
        "gaussian_product", lambda activation, K: ...,  # float64 or mpmath, by argument type
        latex=r"\\langle\\sigma\\sigma\\rangle", pretty="⟨σσ⟩")
    statement = C_b + C_W * gaussian_product(activation, K)

The implementation receives the values of the arguments as the verifier and
``predict`` pass them: floats (or mpmath numbers with ``precision``), strings
for :class:`~theorylab.domains.Choice` parameters, numpy arrays for
:class:`~theorylab.domains.Matrix` parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy

__all__ = ["named_function"]


def named_function(name: str, implementation: Callable[..., Any], *, latex: str | None = None,
                   pretty: str | None = None) -> type[sympy.Function]:
    r"""A sympy function called ``name``, evaluated numerically by ``implementation``.

    Args:
        name: a Python identifier (it appears in generated code).
        implementation: the numerical function of the arguments.
        latex: how the name prints in LaTeX (default: ``\\operatorname{name}``).
        pretty: how the name prints in the terminal (default: ``name``).

    Returns:
        A sympy ``Function`` subclass: call it on expressions to use it in a statement.

    Raises:
        ValueError: when ``name`` is not an identifier or ``implementation`` is not callable.

    """
    if not name.isidentifier():
        raise ValueError(f"named_function: name {name!r} must be a Python identifier "
                         "(give the printed form as latex= and pretty=)")
    if not callable(implementation):
        raise ValueError(f"named_function {name!r}: implementation must be callable")
    latex_name = latex if latex is not None else rf"\operatorname{{{name}}}"
    shown = pretty if pretty is not None else name

    def _latex(self: sympy.Function, printer: Any, exp: Any = None) -> str:
        arguments = ", ".join(printer._print(argument) for argument in self.args)
        text = rf"{latex_name}\left({arguments}\right)"
        return text if exp is None else rf"{{{text}}}^{{{exp}}}"

    def _pretty(self: sympy.Function, printer: Any) -> Any:
        return printer._print_Function(self, func_name=shown)

    def _sympystr(self: sympy.Function, printer: Any) -> str:
        return f"{name}({', '.join(printer._print(a) for a in self.args)})"

    attributes = {"_imp_": staticmethod(implementation), "_latex": _latex, "_pretty": _pretty,
                  "_sympystr": _sympystr, "__module__": __name__,
                  "__doc__": f"{shown}: a named function bound to its implementation."}
    return type(name, (sympy.Function,), attributes)
