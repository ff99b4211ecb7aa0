"""The chain rule edge by edge: each operation's contribution to each input, computed one node at
a time, adds up to the exact gradient of every node (the shared cases' computer-algebra values)."""

import math

import numpy as np
import pytest

from conftest import load_cases
from gradcalc import evaluate
from gradcalc.contributions import contributions


def _values(case):
    return {name: float(value) for name, value in case["vars"].items()}


@pytest.mark.parametrize("case", load_cases(), ids=lambda case: str(case["id"]))
def test_contributions_add_up_to_each_variables_exact_gradient(case):
    result = evaluate(case["expr"], **_values(case))
    totals = {}
    for edge in contributions(result):
        if edge.contribution is not None:
            totals[edge.node] = totals.get(edge.node, 0.0) + edge.contribution
    for name, expected in case["grad"].items():
        got = totals.get(result.graph.variables[name], 0.0)
        assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9), (name, got, expected)


def test_seed_steps_by_hand():
    result = evaluate("c*d/(a-b)", a=1, b=2, c=3, d=4)
    steps = {(edge.node, edge.source): (edge.upstream, edge.contribution) for edge in contributions(result)}
    # ids: c 0, d 1, c*d 2, a 3, b 4, a-b 5, output 6
    assert steps[(2, 6)] == (1.0, -1.0)  # ∂(x/y)/∂x = 1/y = 1/(a-b) = -1
    assert steps[(5, 6)] == (1.0, -12.0)  # ∂(x/y)/∂y = -x/y² = -12
    assert steps[(0, 2)] == (-1.0, -4.0)  # upstream -1 times ∂(c*d)/∂c = d = 4
    assert steps[(4, 5)] == (-12.0, 12.0)  # upstream -12 times ∂(a-b)/∂b = -1


def test_array_contributions_are_summed_back_to_each_input():
    w = np.array([1.0, -2.0, 4.0])
    result = evaluate("sum(w * x)", w=w, x=0.5)
    steps = {(edge.node, edge.source): edge.contribution for edge in contributions(result)}
    ids = result.graph.variables
    np.testing.assert_array_equal(steps[(ids["w"], 2)], np.full(3, 0.5))
    assert steps[(ids["x"], 2)] == pytest.approx(w.sum())


def test_nodes_the_output_does_not_use_receive_zero():
    result = evaluate("e = a ** b; a * 2", a=-1.0, b=3.0)  # (-1)**3 is fine, its ∂/∂b is not real
    for edge in contributions(result):
        if edge.source != result.graph.output and edge.contribution is not None:
            assert edge.contribution == 0.0
