"""Forward and backward: the seed example, conformance cases, fan-out, errors that name nodes."""

import math
import random

import pytest

from conftest import central_difference, load_cases
from gradcalc import GradcalcError, evaluate, parse
from gradcalc.errors import DomainError, MissingValueError, NonFiniteError, ValueFormatError
from gradcalc.evaluator import evaluate_graph

CASES = load_cases()


def test_seed_example():
    r = evaluate("c*d/(a-b)", a=1, b=2, c=3, d=4)
    assert r.value == -12.0
    assert r.gradients == {"a": -12.0, "b": 12.0, "c": -4.0, "d": -3.0}
    by_expr = {node.expr: node for node in r.nodes}
    assert by_expr["a-b"].grad == -12.0 and by_expr["a-b"].value == -1.0
    assert by_expr["c*d"].grad == -1.0 and by_expr["c*d"].value == 12.0
    assert by_expr["c*d/(a-b)"].grad == 1.0
    assert [node.layer for node in r.nodes] == ["Input", "Input", "Multiply", "Input", "Input",
                                                 "Minus", "Divide"]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['id']}:{c['expr']}" for c in CASES])
def test_conformance_with_computer_algebra(case):
    values = {name: float(text) for name, text in case["vars"].items()}
    r = evaluate(case["expr"], **values)
    assert r.value == pytest.approx(case["value"], rel=1e-9, abs=1e-12)
    assert set(r.gradients) == set(case["grad"])
    for name, expected in case["grad"].items():
        assert r.gradients[name] == pytest.approx(expected, rel=1e-9, abs=1e-12), name


def test_gradients_agree_with_finite_differences_on_cases():
    rng = random.Random(7)
    for case in rng.sample(CASES, 40):
        values = {name: float(text) for name, text in case["vars"].items()}
        r = evaluate(case["expr"], **values)
        for name in values:
            def f(t, name=name):
                return evaluate(case["expr"], **{**values, name: t}).value
            try:
                numeric = central_difference(f, values[name])
            except GradcalcError:
                continue  # the step left the domain
            assert r.gradients[name] == pytest.approx(numeric, rel=1e-5, abs=1e-6)


def test_fan_out_accumulates_out_of_place():
    r = evaluate("x*x + x", x=3)
    assert (r.value, r.gradients) == (12.0, {"x": 7.0})


def test_evaluating_twice_gives_the_same_result():
    graph = parse("w*x + b + w*w")
    first = evaluate_graph(graph, {"w": 2, "x": 3, "b": 1})
    second = evaluate_graph(graph, {"w": 2, "x": 3, "b": 1})
    assert first.gradients == second.gradients == {"b": 1.0, "w": 7.0, "x": 2.0}
    other = evaluate_graph(graph, {"w": -1, "x": 5, "b": 0})
    assert other.gradients == {"b": 1.0, "w": 3.0, "x": -1.0}
    assert first.gradients == {"b": 1.0, "w": 7.0, "x": 2.0}  # results do not share state


def test_constant_nodes_have_no_gradient_and_unused_nodes_have_zero():
    r = evaluate("e = a - b; 2*3 + c", a=1, b=2, c=5)
    grads = {node.expr: node.grad for node in r.nodes}
    assert grads["2"] is None and grads["3"] is None and grads["2*3"] is None
    assert grads["a - b"] == 0.0 and grads["c"] == 1.0
    assert r.gradients == {"a": 0.0, "b": 0.0, "c": 1.0}


def test_expression_without_variables():
    r = evaluate("2**10 - 24")
    assert (r.value, r.gradients) == (1000.0, {})


def test_relu_and_abs_at_zero_through_the_api():
    assert evaluate("relu(x) + abs(y)", x=0, y=0).gradients == {"x": 0.0, "y": 0.0}


@pytest.mark.parametrize("x", [-1000, 1000])
def test_sigmoid_extremes_through_the_api(x):
    r = evaluate("sigmoid(x)", x=x)
    assert r.value == (0.0 if x < 0 else 1.0)
    assert r.gradients == {"x": 0.0}


def test_power_with_variable_exponent():
    r = evaluate("x**y", x=2, y=3)
    assert r.value == 8.0
    assert r.gradients == {"x": 12.0, "y": pytest.approx(8 * math.log(2))}


def test_negative_base_with_constant_integer_exponent_is_fine():
    assert evaluate("x**3", x=-2).gradients == {"x": 12.0}
    assert evaluate("x**(1+1)", x=-3).gradients == {"x": -6.0}


def test_negative_base_with_variable_exponent_has_no_real_derivative():
    # d/dy x**y = x**y ln x: ln(-2) is not real, a domain error of the derivative (exit 1), whose
    # hint says how to raise to a fixed power instead
    with pytest.raises(DomainError) as caught:
        evaluate("x**y", x=-2, y=2)
    assert caught.value.message == ("x**y: its derivative in y needs ln(x), which is not real for x < 0 "
                                    "(inputs: x = -2, y = 2)")
    assert "For a fixed power write the number: x^2" in caught.value.hint
    assert evaluate("x^2", x=-2).gradients == {"x": -4.0}  # what the hint suggests works: 2x at -2


@pytest.mark.parametrize("expr,values,kind,words", [
    ("ln(a - b)", {"a": 1, "b": 2}, DomainError, "ln(a - b): argument is -1, ln needs a positive number"),
    ("log(x)", {"x": 0}, DomainError, "log(x): argument is 0, ln needs a positive number"),
    ("c*d/(a-b)", {"a": 2, "b": 2, "c": 3, "d": 4},
     DomainError, "c*d/(a-b): division by zero: the divisor is 0 (inputs: c*d = 12, a-b = 0)"),
    ("sqrt(x - 3)", {"x": 1}, DomainError, "sqrt(x - 3): argument is -2, sqrt needs a number >= 0"),
    ("x ** 0.5", {"x": -4}, DomainError, "non-integer power needs a positive base"),
    ("1 + exp(x)", {"x": 1000}, NonFiniteError, "exp(x): the value overflows a float (inputs: x = 1000)"),
    ("x*y", {"x": 1e300, "y": 1e10}, NonFiniteError, "x*y: the value is inf"),
    ("sqrt(x)", {"x": 0}, NonFiniteError, "sqrt(x): its derivative is not finite at this point"),
    ("x**0.5 + 1", {"x": 0}, NonFiniteError, "x**0.5: its derivative is not finite"),
])
def test_numeric_errors_name_the_node(expr, values, kind, words):
    with pytest.raises(kind) as caught:
        evaluate(expr, **values)
    error = caught.value
    assert error.exit_code == 1
    assert words in error.message
    assert error.span is not None and "^" in error.describe()


RANGE_HINT = "choose a point where the values stay within floating-point range"


@pytest.mark.parametrize("expr, values, hint", [
    # infinite slopes, by hand: d sqrt(x) = 1/(2 sqrt x), d asin(x) = 1/sqrt(1 - x²), d x^0.5 = 0.5 x^-0.5
    # are 1/0 at these points: vertical tangents, nothing a wider float would fix
    ("sqrt(x)", {"x": 0}, "the derivative of sqrt is infinite at 0 (a vertical tangent); choose a point away from it"),
    ("asin(x)", {"x": 1}, "the derivative of asin is infinite at 1 (a vertical tangent); choose a point away from it"),
    ("x^0.5", {"x": 0}, "the derivative of x^0.5 is infinite at x = 0 (a vertical tangent); "
                        "choose a point away from it"),
    ("sum(sqrt(x))", {"x": [4.0, 0.0]}, "the derivative of sqrt is infinite at 0 (a vertical tangent); "
                                        "choose a point away from it"),  # the element named, not the array
    # no derivative: d atan2(y, x) = (x, -y)/(x² + y²) and d std(v) = (v - mean)/(n std) are 0/0 there
    ("atan2(y, x)", {"x": 0, "y": 0}, "atan2 has no derivative at the origin, y = x = 0 (its slope there is 0/0); "
                                      "choose a point away from it"),
    ("std([x, x])", {"x": 1}, "std has no derivative where all its values are equal (its slope there is 0/0); "
                              "choose a point away from it"),
    ("std(v)", {"v": [3.0, 3.0, 3.0]}, "std has no derivative where all its values are equal (its slope there is "
                                       "0/0); choose a point away from it"),
    # equal values near the largest double: their sum 3.4e308 overflows numpy's mean on the way (std
    # recovers from x / 2**1024, where the deviations are 0); the slope is still 0/0, not an overflow
    ("std(v)", {"v": [1.7e308, 1.7e308]}, "std has no derivative where all its values are equal (its slope "
                                          "there is 0/0); choose a point away from it"),
    ("std(v, 0)", {"v": [[1.7e308, 1.0], [1.7e308, 2.0]]}, "std has no derivative where all its values are equal "
                                                           "(its slope there is 0/0); choose a point away from it"),
    # real overflows: d ln(x) = 1/x = 1e320 and d(1/x) = -1/x² = -1e400 are finite, only too large
    ("ln(x)", {"x": 1e-320}, RANGE_HINT),
    ("2 + 1/x", {"x": 1e-200}, RANGE_HINT),
    ("x*x*1e300*1e10", {"x": 1e-150}, RANGE_HINT),
])
def test_a_derivative_that_is_not_finite_has_the_hint_of_its_cause(expr, values, hint):
    with pytest.raises(NonFiniteError) as caught:
        evaluate(expr, **values)
    assert caught.value.hint == hint
    assert caught.value.exit_code == 1


def test_a_written_negative_base_is_not_asked_to_be_chosen_positive():
    # (-2)^y: ln(-2) is not real (d/dy b^y = b^y ln b); -2 is written on the line, so only the fixed
    # power can help, written with the base's own parentheses once
    with pytest.raises(DomainError) as caught:
        evaluate("(-2)^y", y=2)
    assert caught.value.message == "(-2)^y: its derivative in y needs ln(-2), which is not real (inputs: y = 2)"
    assert "write the number: (-2)^2 (" in caught.value.hint and "choose" not in caught.value.hint
    assert evaluate("(-2)^2 + y", y=2).value == 6.0  # what the hint suggests works
    with pytest.raises(DomainError) as caught:
        evaluate("(x+1)^y", x=-3, y=2)
    assert caught.value.hint.endswith("else choose x+1 > 0")


def test_gradient_overflow_names_the_node_whose_derivative_overflowed():
    # 1/x at x = 1e-200 is 1e200, finite; its derivative -1/x**2 = -1e400 is not
    with pytest.raises(NonFiniteError) as caught:
        evaluate("2 + 1/x", x=1e-200)
    assert caught.value.message.startswith("1/x: its derivative is not finite")
    assert caught.value.span == (4, 7)


def test_product_derivative_overflow_names_the_product():
    # value 1e10 * x**2 * 1e300 = 1e10 at x = 1e-150; ∂/∂(x*x) = 1e310 overflows inside x*x*1e300's backward
    with pytest.raises(NonFiniteError) as caught:
        evaluate("x*x*1e300*1e10", x=1e-150)
    assert caught.value.message.startswith("x*x*1e300: its derivative is not finite")
    assert caught.value.span == (0, 9)


def test_a_constant_whose_unused_gradient_overflows_is_no_error():
    # backward of x*1e-300 at gy = 1e300 gives the constant 1e300 * 1e10 = inf, which nobody needs
    r = evaluate("x*1e-300*1e300", x=1e10)
    assert r.value == pytest.approx(1e10) and r.gradients == {"x": pytest.approx(1.0)}
    grads = {node.expr: node.grad for node in r.nodes}
    assert grads["1e-300"] is None and grads["1e300"] is None and grads["x*1e-300"] == 1e300


def test_missing_values_are_all_named():
    with pytest.raises(MissingValueError) as caught:
        evaluate("a*b + c - d", b=1)
    assert caught.value.message == "no value for a, c and d"
    assert caught.value.exit_code == 2
    assert caught.value.span == (0, 1)  # the first missing name's first use: where the caret points
    with pytest.raises(MissingValueError) as caught:
        evaluate("x = 2; x * y + y", x=1)
    assert caught.value.message == "no value for y" and caught.value.span == (11, 12)


@pytest.mark.parametrize("bad", ["1", None, math.inf, math.nan, True, [[1], [1, 2]], [1, math.nan]])
def test_values_must_be_finite_numbers(bad):
    with pytest.raises(ValueFormatError):
        evaluate("x + 1", x=bad) if bad is not None else evaluate("x + 1", x="nope")


def test_api_errors_are_gradcalc_errors():
    for expr in ["1 +", "foo(1)", "ln(0)", "x"]:
        with pytest.raises(GradcalcError):
            evaluate(expr)


def test_an_error_lists_the_inputs_but_not_the_literals_that_show_their_own_value():
    with pytest.raises(GradcalcError) as caught:
        evaluate("1e308*10")
    assert caught.value.message == "1e308*10: the value is inf"  # not "(inputs: 1e308 = 1e+308)"
    with pytest.raises(GradcalcError) as caught:
        evaluate("1/(x - 1)", x=1)
    assert caught.value.message.endswith("(inputs: x - 1 = 0)")
