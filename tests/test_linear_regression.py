"""Definitions of sequential linear regression (theorylab.linear_regression), against references."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis.errors import InvalidArgument

from theorylab import linear_regression as lr
from theorylab.errors import ParameterError

GRAM = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.3]])


def test_ground_truths_reproduce_the_gram_matrix():
    vectors = lr.ground_truths(GRAM, 7)
    assert vectors.shape == (3, 7) and np.allclose(vectors @ vectors.T, GRAM, atol=1e-12)
    # rank 1 fits in R^1: the vectors are +-sqrt(G_ii) along one axis
    rank_one = np.outer([1.0, -2.0], [1.0, -2.0])
    line = lr.ground_truths(rank_one, 1)
    assert np.allclose(line @ line.T, rank_one, atol=1e-12) and lr.gram_rank(rank_one) == 1


def test_task_quantities_are_those_of_the_vectors():
    vectors = lr.ground_truths(GRAM, 3)
    for first in (1, 2, 3):
        assert lr.squared_norm_value(GRAM, first) == pytest.approx(
            float(vectors[first - 1] @ vectors[first - 1]), abs=1e-12)
        for second in (1, 2, 3):
            gap = vectors[first - 1] - vectors[second - 1]
            assert lr.squared_distance_value(GRAM, first, second) == pytest.approx(
                float(gap @ gap), abs=1e-12)


def test_named_task_functions_evaluate_in_float64_and_mpmath():
    gram, step, task, count = sympy.Symbol("G"), *sympy.symbols("t i T", integer=True,
                                                                  positive=True)
    table = lr.TaskTable(lr.SquaredDistance(gram, step, task) + lr.SquaredNorm(gram, task),
                         step, task, count)
    expected = np.array([[GRAM[i, i] + GRAM[t, t] + GRAM[i, i] - 2 * GRAM[t, i]
                          for i in range(3)] for t in range(3)])
    fast = sympy.lambdify([gram, count], table, modules=["numpy"])(GRAM, 3)
    assert fast.shape == (3, 3) and np.allclose(fast, expected, rtol=0, atol=1e-15)
    with mpmath.workdps(30):
        precise = sympy.lambdify([gram, count], table, modules=["mpmath"])(GRAM, 3)
    assert np.allclose(np.asarray(precise.tolist(), dtype=float), expected, atol=1e-15)
    assert lr.SquaredDistance(gram, step, step) == 0
    assert "‖w*_t - w*_i‖²" in sympy.pretty(lr.SquaredDistance(gram, step, task))
    vector = lr.ComponentVector([step, 2 * step])
    assert sympy.lambdify([step], vector, modules=["numpy"])(3).shape == (2,)


def test_forgetting_and_generalization_definitions_agree_symbolically_and_on_arrays():
    step, task = sympy.symbols("t i", integer=True, positive=True)
    count = sympy.Symbol("T", integer=True, positive=True)
    model_error = sympy.Lambda((step, task), step**2 + 3 * task + step * task)
    table = np.array([[[t**2 + 3 * i + t * i for i in range(1, 5)] for t in range(1, 5)]],
                     dtype=float)
    # by hand at T = 4: F = 1/3 sum_{i<4} [M(4, i) - M(i, i)], G = 1/4 sum_i M(4, i)
    forgetting = sum((16 + 3 * i + 4 * i) - (i**2 + 3 * i + i * i) for i in (1, 2, 3)) / 3
    generalization = sum(16 + 3 * i + 4 * i for i in (1, 2, 3, 4)) / 4
    assert float(lr.average_forgetting(model_error, count).subs(count, 4).doit()) == \
        pytest.approx(forgetting, rel=1e-15)
    assert float(lr.average_generalization(model_error, count).subs(count, 4).doit()) == \
        pytest.approx(generalization, rel=1e-15)
    assert lr.forgetting_of(table)[0] == pytest.approx(forgetting, rel=1e-15)
    assert lr.generalization_of(table)[0] == pytest.approx(generalization, rel=1e-15)


def test_model_error_scale():
    assert lr.model_error_scale({"gram": GRAM, "sigma": 0.5}) == pytest.approx(3.3 / 3 + 0.25)


def test_normalized_collection_by_hand():
    tasks = np.array([[[2.0, 0.0]], [[0.0, 4.0]]])
    data, solution = lr.normalized_collection(tasks, np.array([1.0, 1.0]))
    assert np.allclose(data, tasks / 4) and np.allclose(solution, [math.sqrt(0.5)] * 2)
    # one task in R^3: the minimum-norm solution drops the null-space component of w^*
    data, solution = lr.normalized_collection(np.array([[[3.0, 0.0, 0.0]]]),
                                              np.array([2.0, 5.0, -1.0]))
    assert np.allclose(data, [[[1.0, 0.0, 0.0]]]) and np.allclose(solution, [1.0, 0.0, 0.0])
    zero, solution = lr.normalized_collection(np.zeros((2, 1, 2)), np.array([1.0, 0.0]))
    assert np.all(zero == 0) and np.all(solution == 0)


def test_gram_domain_refuses_what_is_no_gram_matrix():
    domain = lr.GramMatrix(ndim=2)
    assert np.array_equal(domain.validate("gram", GRAM.tolist()), GRAM)
    for bad, text in (([[1, 2], [2, 1]], "semidefinite"), ([[1, 0], [1, 1]], "symmetric"),
                      ([[1, 0, 0], [0, 1, 0]], "shape")):
        with pytest.raises(ParameterError, match=text):
            domain.validate("gram", bad)


@settings(max_examples=40, deadline=None)
@given(lr.sequential_regressions(overparameterized=True, max_noise=2.0))
def test_overparameterized_problems_are_valid(point):
    assert 8 <= point["p"] - point["n"] <= 16 and 1 <= point["T"] <= 4
    assert point["sigma"] == 0 or 0.3 <= point["sigma"] <= 2.0
    assert point["gram"].shape == (point["T"], point["T"])
    lr.GramMatrix(ndim=2).validate("gram", point["gram"])


@settings(max_examples=40, deadline=None)
@given(lr.sequential_regressions(overparameterized=False, min_tasks=2))
def test_underparameterized_problems_are_valid(point):
    assert 8 <= point["n"] - point["p"] <= 16 and point["p"] >= 8 and point["T"] >= 2
    assert 0.3 <= point["sigma"] <= 1.0


@settings(max_examples=40, deadline=None)
@given(lr.task_collections())
def test_task_collections_are_realizable(point):
    tasks, solution = point["tasks"], point["w_star"]
    assert tasks.shape[0] == point["T"] and tasks.shape[2] == point["d"] == solution.shape[0]
    assert 1 <= point["k"] <= 64


@pytest.mark.parametrize("strategy", [
    lr.sequential_regressions(overparameterized="yes"),
    lr.sequential_regressions(overparameterized=True, min_tasks=3, max_tasks=2),
    lr.sequential_regressions(overparameterized=True, min_gap=1),
    lr.sequential_regressions(overparameterized=True, max_noise=0.1),
    lr.task_collections(min_tasks=1),
    lr.task_collections(max_dimension=1),
])
def test_invalid_strategy_arguments_fail_when_drawn(strategy):
    @given(strategy)
    def draw(value):
        pass

    with pytest.raises(InvalidArgument, match="must"):
        draw()
