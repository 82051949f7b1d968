"""Closed-form results, one module per family, encoded symbolically with sympy."""

if __name__ != "theorylab.theory":
    raise ImportError(
        "theory/ is theorylab's claim catalogue: import it as 'theorylab.theory' "
        "after 'pip install -e .'"
    )
