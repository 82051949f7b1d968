"""Machine-checked derivations, one module per family (same names as theory/)."""

if __name__ != "theorylab.proofs":
    raise ImportError(
        "proofs/ is theorylab's derivation package: import it as 'theorylab.proofs' "
        "after 'pip install -e .' (the bare name 'proofs' is a different PyPI project)"
    )
