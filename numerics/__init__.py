"""First-principles simulations: real torch networks and random matrices.

Nothing here imports ``theorylab.theory``: a simulation that reused the formula
it checks would prove nothing.
"""

if __name__ != "theorylab.numerics":
    raise ImportError(
        "numerics/ is theorylab's simulation package: import it as 'theorylab.numerics' "
        "after 'pip install -e .' (the bare name 'numerics' is a different PyPI project)"
    )
