from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.errors import InvalidArgument

from theorylab import strategies


@pytest.mark.parametrize("strategy", [
    strategies.widths(min_value=0),
    strategies.widths(min_value=5, max_value=2),
    strategies.depths(min_value=1.5),
    strategies.orthogonal_matrices(size=0),
    strategies.balanced_initializations(depth=0, rows=2, columns=2),
    strategies.balanced_initializations(depth=2, rows=2, columns=2, max_singular_value=-1),
])
def test_invalid_arguments_fail_clearly_when_drawn(strategy):
    @given(strategy)
    def draw(value):
        pass

    with pytest.raises(InvalidArgument, match="must"):
        draw()


def test_width_zero_names_the_argument():
    @given(strategies.widths(min_value=0))
    def draw(value):
        pass

    with pytest.raises(InvalidArgument, match=r"min_value=0 must be an integer >= 1"):
        draw()


@settings(max_examples=20, deadline=None)
@given(strategies.orthogonal_matrices(size=4))
def test_orthogonal_matrices_are_orthogonal(matrix):
    assert np.allclose(matrix.T @ matrix, np.eye(4), atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(strategies.depths(max_value=4).flatmap(
    lambda n: strategies.balanced_initializations(depth=n, rows=3, columns=2)))
def test_balanced_initializations_are_balanced(weights):
    for lower, upper in zip(weights, weights[1:], strict=False):
        assert np.allclose(upper.T @ upper, lower @ lower.T, atol=1e-10)
    product = weights[0]
    for weight in weights[1:]:
        product = weight @ product
    assert product.shape == (3, 2)


def test_structured_strategies_are_public_here_too():
    from theorylab import linear_regression, matrix_functions, strategies

    assert strategies.matrix_pairs is matrix_functions.matrix_pairs
    assert strategies.task_collections is linear_regression.task_collections
    assert set(strategies.__all__) >= {"matrix_pairs", "sequential_regressions"}
    with pytest.raises(AttributeError, match="no attribute 'no_such'"):
        strategies.no_such  # noqa: B018
