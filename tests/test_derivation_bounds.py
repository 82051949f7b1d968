"""Inequality relations of the derivation core (Step.at_most, Step.supremum), entry-by-entry
matrices, the even/odd split, and the two Evron et al. derivations of the continual family."""

from __future__ import annotations

import sympy
from theorylab.proofs.continual import (
    cyclic_bound_from_paper,
    two_task_forgetting_by_projections,
)
from theorylab.theory.continual import cyclic_forgetting_bound, two_task_forgetting

from theorylab import registry
from theorylab.derivation import (
    Derivation,
    Step,
    StepStatus,
    at_most,
    check_derivation,
    equivalent,
)

x = sympy.Symbol("x", positive=True)
y = sympy.Symbol("y", real=True)
k = sympy.Symbol("k", integer=True, positive=True)
UNIT = {x: (0.0, 1.0)}


def test_a_decidable_bound_is_exact():
    assert at_most(x, x + 1)[0] is StepStatus.EXACT
    assert at_most(x**2, x**2 + y**2)[0] is StepStatus.EXACT


def test_a_true_bound_sympy_cannot_decide_is_numeric_evidence():
    status, detail = at_most(sympy.sin(x) ** 2 * sympy.cos(x) ** 2, sympy.Rational(1, 4))
    assert status is StepStatus.NUMERIC, detail


def test_a_false_bound_fails():
    # decided by sympy
    assert at_most(x + 1, x)[0] is StepStatus.FAILED
    # found at a random point: sin^2 cos^2 reaches 1/4 > 1/5
    status, detail = at_most(sympy.sin(x) ** 2 * sympy.cos(x) ** 2, sympy.Rational(1, 5))
    assert status is StepStatus.FAILED and "exceeds the bound" in detail


def test_at_most_in_a_chain_and_a_false_step_fails_the_derivation():
    good = Derivation("toy.bound", "x(1 - x) <= 1/4", (
        Step.assume(x * (1 - x), "a quantity"),
        Step.at_most(x * (1 - x) + (x - sympy.Rational(1, 2)) ** 2, "add a square"),
        Step.equal(sympy.Rational(1, 4), "expand"),
    ), ranges=UNIT, conclusion="expression")
    result = check_derivation(good, sympy.Rational(1, 4))
    assert result.ok and result.status is StepStatus.EXACT
    bad = Derivation("toy.bound", "x(1 - x) <= 1/5", (
        Step.assume(x * (1 - x), "a quantity"),
        Step.at_most(sympy.Rational(1, 5), "wrong"),
    ), ranges=UNIT, conclusion="expression")
    result = check_derivation(bad, sympy.Rational(1, 5))
    assert not result.ok and result.steps[1].status is StepStatus.FAILED


def test_supremum_needs_the_value_and_the_bound():
    def chain(value, point):
        return Derivation("toy.sup", "sup x(1 - x)", (
            Step.assume(x * (1 - x), "a quantity"),
            Step.supremum(value, x, point, "peak"),
        ), ranges=UNIT, conclusion="expression")

    assert check_derivation(chain(sympy.Rational(1, 4), sympy.Rational(1, 2)),
                            sympy.Rational(1, 4)).ok
    # the value at x = 1/3 is 2/9, but it is not an upper bound
    wrong_point = check_derivation(chain(sympy.Rational(2, 9), sympy.Rational(1, 3)),
                                   sympy.Rational(2, 9))
    assert wrong_point.steps[1].status is StepStatus.FAILED
    # an upper bound that is not attained
    loose = check_derivation(chain(sympy.Rational(1, 3), sympy.Rational(1, 2)),
                             sympy.Rational(1, 3))
    assert loose.steps[1].status is StepStatus.FAILED
    # a "supremum" that still depends on the variable
    assert check_derivation(chain(x, 1), x).steps[1].status is StepStatus.FAILED


def test_matrices_compare_entry_by_entry():
    assert equivalent(sympy.Matrix([x, 2 * x]), sympy.Matrix([x, x + x]))[0] is StepStatus.EXACT
    assert equivalent(sympy.Matrix([x, 2 * x]), sympy.Matrix([x, 3 * x]))[0] \
        is StepStatus.FAILED
    assert equivalent(sympy.Matrix([x]), sympy.Matrix([x, x]))[0] is StepStatus.FAILED
    assert at_most(sympy.Matrix([x, x]), sympy.Matrix([x + 1, x]))[0] is StepStatus.EXACT
    assert at_most(sympy.Matrix([x, x]), sympy.Matrix([x + 1, x - 1]))[0] is StepStatus.FAILED


def test_even_and_odd_split_decides_floor_exactly():
    count = (2 * k - 1 + (-1) ** k) / 4
    assert equivalent(sympy.floor(k / 2), count)[0] is StepStatus.EXACT
    assert equivalent(sympy.floor(k / 2), k / 2)[0] is StepStatus.FAILED


def test_the_evron_derivations_check():
    two = check_derivation(two_task_forgetting_by_projections, two_task_forgetting.statement)
    assert two.ok, [(s.index, s.detail) for s in two.steps]
    # every step is exact except the worst-angle bound, which sympy cannot decide
    statuses = [s.status for s in two.steps if s.status is not StepStatus.ASSUMED]
    assert statuses[:-1] == [StepStatus.EXACT] * (len(statuses) - 1)
    assert two.steps[-1].relation == "supremum" and two.steps[-1].status is StepStatus.NUMERIC
    cyclic = check_derivation(cyclic_bound_from_paper, cyclic_forgetting_bound.statement)
    assert cyclic.ok, [(s.index, s.detail) for s in cyclic.steps]
    for claim in (two_task_forgetting, cyclic_forgetting_bound):
        assert registry.derivations(claim.id)


def test_the_two_task_derivation_rejects_the_literal_half():
    """The issue's literal 1/2 for every k is not what the projections give."""
    visits = two_task_forgetting.parameters[1].symbol
    half = two_task_forgetting.statement.subs(sympy.floor(visits / 2), visits / 2)
    assert half != two_task_forgetting.statement
    result = check_derivation(two_task_forgetting_by_projections, half)
    assert not result.ok
