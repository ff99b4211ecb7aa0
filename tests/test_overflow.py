"""Reductions at the edge of the double range: var, std, norm and trace overflow only where their
true value does (then an error naming them, exit 1), and give the true value where it is finite
though the squares on the way are not. Expected values are derived by hand in each test."""

import json
import math

import numpy as np
import pytest

from gradcalc import evaluate
from gradcalc.errors import NonFiniteError

LARGEST = 1.7976931348623157e308


def strict_json(text: str):
    """JSON as the standard has it: Infinity and NaN are not numbers (jq would turn them into 1.8e308)."""
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("argv, node", [
    (["var(x)", "--x", "1e200,-1e200", "-o", "json"], "var(x)"),  # 1e400
    (["trace(X)", "--X", "[[1e308,0],[0,1e308]]", "-o", "json"], "trace(X)"),  # 2e308
    (["norm(x)", "--x", "1.7e308,1.7e308", "-o", "json"], "norm(x)"),  # 1.7e308 √2
    (["std(x, ddof=1)", "--x", "1.7e308,-1.7e308", "-o", "json"], "std(x, ddof=1)"),  # 1.7e308 √2
    (["sum(var(x))", "--x", "1e200,-1e200", "-o", "json"], "var(x)"),  # var's, not sum's
    (["var(x) - var(x)", "--x", "1e200,-1e200", "-o", "json"], "var(x)"),
])
def test_a_reduction_that_overflows_is_an_error_naming_it(run_cli, argv, node):
    code, out, err = run_cli(*argv)
    assert code == 1
    record = strict_json(out)
    assert "value" not in record
    assert record["error"]["type"] == "NonFiniteError"
    assert record["error"]["message"].startswith(f"{node}: the value is inf")


def test_trace_as_csv_has_no_inf_cell(run_cli):
    code, out, err = run_cli("trace(X)", "--X", "[[1e308,0],[0,1e308]]", "-o", "csv")
    assert code == 1
    assert "inf" not in out.split("\n")[1].split(",")[2]  # the value cell is empty
    assert "NonFiniteError: trace(X): the value is inf" in out


def test_std_whose_squares_overflow_is_still_the_true_std():
    # x = ±1e300: the mean is 0, both deviations have the square 1e600, so std = √(1e600) = 1e300;
    # ∂std/∂x_i = (x_i - mean) / (n std) = ±1e300 / (2e300) = ±1/2
    result = evaluate("std(x)", x=[1e300, -1e300])
    assert result.value == 1e300
    np.testing.assert_allclose(result.gradients["x"], [0.5, -0.5], rtol=1e-15)


def test_std_near_the_largest_double_with_an_uneven_mean():
    # x = a·(1, -1, -1), a = 1.7e308: mean -a/3, deviations (4a/3, -2a/3, -2a/3), whose squares
    # add to 24a²/9; std = √(8a²/9) = a√8/3 (the deviation 4a/3 itself overflows);
    # ∂std/∂x_i = deviation_i / (3 std): (4/3)/√8 = √2/3, and -√2/6 twice
    a = 1.7e308
    result = evaluate("std(x)", x=[a, -a, -a])
    assert result.value == pytest.approx(a * (math.sqrt(8) / 3), rel=1e-15)
    np.testing.assert_allclose(result.gradients["x"], [math.sqrt(2) / 3, -math.sqrt(2) / 6, -math.sqrt(2) / 6],
                               rtol=1e-15)


def test_var_of_equal_huge_numbers_is_zero():
    # the sum 3.4e308 overflows, so numpy's mean is inf and its variance nan; the true variance is 0,
    # and its gradient 2 (x_i - mean) / n is 0 too
    result = evaluate("var(x)", x=[1.7e308, 1.7e308])
    assert result.value == 0.0
    assert result.gradients["x"].tolist() == [0.0, 0.0]


def test_std_whose_squares_underflow_is_still_the_true_std():
    # x = ±1e-200: the squares 1e-400 vanish (numpy says std 0, where std has no derivative);
    # std = 1e-200, with the gradient ±1/2 as at ±1e300
    result = evaluate("std(x)", x=[1e-200, -1e-200])
    assert result.value == 1e-200
    np.testing.assert_allclose(result.gradients["x"], [0.5, -0.5], rtol=1e-15)


def test_var_along_an_axis_scales_each_row_by_its_own_largest_element():
    # row 0: equal huge numbers, variance 0; row 1: (1, 3), mean 2, variance ((-1)² + 1²)/2 = 1,
    # gradient 2 (x - mean) / 2 = (-1, 1); row 0's tiny neighbour row is not scaled with row 1
    result = evaluate("var(X, 1)", X=[[1.7e308, 1.7e308], [1.0, 3.0]])
    assert result.value.tolist() == [0.0, 1.0]
    assert result.gradients["X"].tolist() == [[0.0, 0.0], [-1.0, 1.0]]
    with pytest.raises(NonFiniteError, match=r"var\(X, 1\): the value is inf"):
        evaluate("var(X, 1)", X=[[1e200, -1e200], [1.0, 3.0]])


def test_var_over_several_axes():
    # every element: mean 11/4, deviations (-7, -3, 1, 9)/4, squares 140/16 over 4: 2.1875;
    # gradient 2 deviation / 4 = deviation / 2
    result = evaluate("var(X, [0, 1])", X=[[1.0, 2.0], [3.0, 5.0]])
    assert result.value == 2.1875
    assert result.gradients["X"].tolist() == [[-0.875, -0.375], [0.125, 1.125]]


@pytest.mark.parametrize("text, values", [("exp(hypot(x, y))", {"x": 709.0, "y": 0.0}),
                                          ("exp(norm(x))", {"x": [709.0, 0.0]})])
def test_a_huge_upstream_gradient_times_a_slope_of_one_is_not_an_overflow(text, values):
    # ∂/∂x exp(|x|) = exp(709) · x/|x| = exp(709) = 8.2e307: the upstream exp(709) times x = 709
    # overflows on the way, the gradient does not
    result = evaluate(text, **values)
    assert result.value == math.exp(709)
    assert np.ravel(result.gradients["x"])[0] == math.exp(709)


def test_mean_whose_sum_overflows_is_still_the_true_mean():
    # 1.7e308 + 1.7e308 overflows, so np.mean is inf; the mean of two equal numbers is the number, and
    # ∂mean/∂x_i = 1/n = 1/2. Along an axis: column 0 as before, column 1 (1 + 2)/2 = 1.5
    result = evaluate("mean(x)", x=[1.7e308, 1.7e308])
    assert result.value == 1.7e308 and result.gradients["x"].tolist() == [0.5, 0.5]
    result = evaluate("mean(X, 0)", X=[[1.7e308, 1.0], [1.7e308, 2.0]])
    assert result.value.tolist() == [1.7e308, 1.5]


@pytest.mark.parametrize("count", [4, 16, 1000])
def test_sum_of_huge_numbers_that_cancel_is_zero(count):
    # numpy adds a + a (inf) before a - a: inf, or inf - inf = nan from its 8 partial sums; the
    # true sum of count/2 pairs (a, -a) is 0, and ∂sum/∂x_i = 1
    a = 1.7976931348623157e308
    result = evaluate("sum(x)", x=[a, a, -a, -a] * (count // 4))
    assert result.value == 0.0 and result.gradients["x"].tolist() == [1.0] * count
    result = evaluate("sum(X, 1, keepdims=1)", X=[[a, a, -a, -a], [1.0, 2.0, 3.0, 4.0]])
    assert result.value.tolist() == [[0.0], [10.0]]


def test_a_sum_or_mean_beyond_the_double_range_is_still_an_error():
    # 1.7e308 · 2 = 3.4e308 > 1.798e308: the true sum overflows
    with pytest.raises(NonFiniteError, match=r"sum\(x\): the value is inf"):
        evaluate("sum(x)", x=[1.7e308, 1.7e308])
    with pytest.raises(NonFiniteError, match=r"mean\(x\) \* 2: the value is inf"):
        evaluate("mean(x) * 2", x=[1.7e308, 1.7e308])


@pytest.mark.parametrize("x, value, gradient", [
    # std(a, b) = |a - b| / 2, ∂/∂(a, b) = ±1/2 for a > b, at every scale: 1.7e308·2 overflows on the
    # way (it gave slopes 0), 2.5e-324 rounds to 0 (it gave an error, all values equal it said)
    ([1.7e308, -1.7e308], 1.7e308, [0.5, -0.5]),
    ([5e-324, 0.0], 0.0, [0.5, -0.5]),
    ([1e-170, 0.0], 5e-171, [0.5, -0.5]),
    # std(a, 0, 0): mean a/3, deviations (2a/3, -a/3, -a/3), std = a√2/3; ∂ = deviation/(3 std) = (√2/3, -√2/6, -√2/6)
    ([5e-324, 0.0, 0.0], 0.0, [math.sqrt(2) / 3, -math.sqrt(2) / 6, -math.sqrt(2) / 6]),
])
def test_std_slopes_where_its_value_overflows_or_underflows_on_the_way(x, value, gradient):
    result = evaluate("std(x)", x=x)
    assert result.value == value
    np.testing.assert_allclose(result.gradients["x"], gradient, rtol=1e-15)


def test_std_of_values_that_differ_by_the_smallest_double_is_no_error(run_cli):
    code, out, err = run_cli("std(x)", "--x", "5e-324,0", "-o", "plain")
    assert (code, out, err) == (0, "0 x=[0.5,-0.5]\n", "")
    code, out, err = run_cli("std(x)", "--x", "5e-324,5e-324", "-o", "plain")
    assert code == 1 and "where all its values are equal" in err  # they are
