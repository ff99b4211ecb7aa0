"""--diff's text evaluated at special points against the derivative gradcalc reports there.

The text's value must be the derivative wherever gradcalc gives one. Evaluating the text with
gradcalc differentiates it too (one order more), so where that next order is not finite the
evaluation is the error "its derivative is not finite" (as sqrt(x) at 0 is), never another error
or another value; the README says so and gives the direct route."""

import itertools
import json
import math
import subprocess
import sys

import pytest

import gradcalc
from gradcalc.errors import GradcalcError, NonFiniteError
from gradcalc.evaluator import bind, forward
from gradcalc.layers import FUNCTIONS, REGISTRY


def _expressions():
    """Every scalar function of one or two inputs in the registry, and every binary operator."""
    found = []
    for name in sorted(FUNCTIONS):
        layer = REGISTRY[name]
        if layer.array_only or layer.arity not in (1, 2):
            continue
        found.append(f"{name}(x)" if layer.arity == 1 else f"{name}(x, y)")
        if layer.wider is not None:
            found.append(f"{name}(x, y)")  # log(x, base)
    for layer in dict.fromkeys(REGISTRY.values()):
        if layer.symbol and not layer.array_only and layer.arity == 2:
            found.append(f"x {layer.symbol} y")
    return found


EXPRESSIONS = _expressions()
ONE = [0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 1e-300, 40.0, -40.0, 710.0, -710.0, 1e10]
TWO = list(itertools.product([0.0, 1.0, -1.0, 2.0, 0.5, -2.0], repeat=2))


def _points(text):
    if "y" in gradcalc.parse(text).variables:
        return [{"x": x, "y": y} for x, y in TWO]
    return [{"x": x} for x in ONE]


def _value_only(text, point):
    """The text's value, without differentiating it: what the formula itself says at the point."""
    graph = gradcalc.parse(text)
    return forward(graph, bind(graph, point))[graph.output]


def _direct(text, point, name, order):
    """The derivative gradcalc reports at the point, or None where it reports none."""
    try:
        if order == 1:
            return gradcalc.evaluate(text, **point).gradients[name]
        return gradcalc.derivatives(text, point, order=2)[2][name][name]
    except GradcalcError:
        return None


def test_the_list_covers_the_registry():
    assert {"xlogy(x, y)", "x ** y", "log(x, y)", "sqrt(x)", "hypot(x, y)", "x / y"} <= set(EXPRESSIONS)
    assert len(EXPRESSIONS) > 50


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("text", EXPRESSIONS)
def test_the_texts_value_is_the_derivative_wherever_gradcalc_reports_one(text, order):
    checked = 0
    for name in gradcalc.parse(text).variables:
        formula = gradcalc.diff(text, name, order=order)
        for point in _points(text):
            direct = _direct(text, point, name, order)
            if direct is None:
                continue
            given = {key: point[key] for key in gradcalc.parse(formula).variables}
            value = _value_only(formula, given)
            assert value == pytest.approx(direct, rel=1e-12, abs=1e-300), (text, name, point, formula)
            try:
                evaluated = gradcalc.evaluate(formula, **given).value
            except NonFiniteError as error:  # the next order is not finite here: documented
                assert "its derivative is not finite" in error.message, (formula, point, error.message)
            else:
                assert evaluated == value
            checked += 1
    assert checked  # every expression has points where its derivative exists


# (expression, variable, point, the derivative there derived by hand)
BY_HAND = [
    ("x^y", "y", {"x": 2.0, "y": 3.0}, 8 * math.log(2)),  # x^y ln x
    ("x^y", "x", {"x": 2.0, "y": 3.0}, 12.0),  # y x^(y-1)
    ("x^y", "x", {"x": 0.0, "y": 2.0}, 0.0),
    ("x^y", "y", {"x": 0.5, "y": 2.0}, 0.25 * math.log(0.5)),
    ("xlogy(a, x)", "x", {"a": 3.0, "x": 2.0}, 1.5),  # a/x
    ("sqrt(x)*y", "x", {"x": 4.0, "y": 3.0}, 0.75),  # y/(2√x)
    ("relu(x)*y", "x", {"x": 0.0, "y": 5.0}, 0.0),  # relu'(0) = 0: step(0) = 0
    ("abs(x - y)", "y", {"x": 1.0, "y": 3.0}, 1.0),  # -sign(x - y)
]


def _cli(*argv):
    return subprocess.run([sys.executable, "-m", "gradcalc", *argv], capture_output=True, text=True, timeout=120)


def _values(point):
    return [item for name, value in point.items() for item in (f"--{name}", repr(value))]


@pytest.mark.parametrize("text, name, point, expected", BY_HAND)
def test_the_printed_derivative_evaluates_to_the_derivative_by_hand(text, name, point, expected):
    formula = _cli("--diff", name, text, "-o", "plain").stdout.strip()
    used = {key: value for key, value in point.items() if key in gradcalc.parse(formula).variables}
    evaluated = _cli(formula, *_values(used), "-o", "json", "--no-nodes")
    assert evaluated.returncode == 0, (formula, evaluated.stderr)
    assert json.loads(evaluated.stdout)["value"] == pytest.approx(expected, rel=1e-15, abs=1e-300)
    direct = _cli(text, *_values(point), "--wrt", name, "-o", "plain")
    assert float(direct.stdout) == pytest.approx(expected, rel=1e-15, abs=1e-300)


@pytest.mark.parametrize("text, name, point, formula", [
    # the value 0 is right (x^y ln x -> 0); the chain rule through xlogy meets ln(0)·0 in the next order
    ("x^y", "y", {"x": 0.0, "y": 2.0}, "xlogy(x^y, x)"),
    # 1.5*x^0.5 is 0 at 0, and its own derivative is infinite there
    ("x^1.5", "x", {"x": 0.0}, "1.5*x^0.5"),
])
def test_where_the_next_order_is_not_finite_the_derivative_comes_directly(text, name, point, formula):
    assert _cli("--diff", name, text, "-o", "plain").stdout.strip() == formula
    assert _value_only(formula, point) == 0.0
    evaluated = _cli(formula, *_values(point))
    assert evaluated.returncode == 1 and "its derivative is not finite" in evaluated.stderr
    direct = _cli(text, *_values(point), "--wrt", name, "-o", "plain")
    assert (direct.returncode, direct.stdout) == (0, "0\n")


@pytest.mark.parametrize("text, point, expected", [
    # erf' = 2/√π·exp(-x²), erfc' = -erf', gelu' = Φ(x) + x·φ(x): exp(-x²) is 0 in doubles past |x| = 27.3
    # (x² overflows past 1.3e154), so erf' and erfc' are 0 there and gelu' is Φ(x): 1 far right, 0 far left
    ("erf(x)", 1e200, 0.0), ("erf(x)", -1e200, 0.0), ("erfc(x)", 1e200, 0.0), ("erfc(x)", 1e300, 0.0),
    ("erf(x)", 28.0, 0.0), ("erf(x)", 1.0, 2 / math.sqrt(math.pi) * math.exp(-1.0)),
    ("gelu(x)", 1e200, 1.0), ("gelu(x)", -1e200, 0.0), ("gelu(x)", 40.0, 1.0),
    ("gelu(x)", 1.0, 0.5 * math.erfc(-1 / math.sqrt(2)) + math.exp(-0.5) / math.sqrt(2 * math.pi)),
])
def test_the_text_of_a_gaussian_slope_evaluates_at_huge_x(text, point, expected):
    formula = _cli("--diff", "x", text, "-o", "plain").stdout.strip()
    evaluated = _cli(formula, "--x", repr(point), "-o", "json", "--no-nodes")
    assert evaluated.returncode == 0, (formula, evaluated.stderr)  # was 'x*x: the value is inf'
    assert json.loads(evaluated.stdout)["value"] == pytest.approx(expected, rel=1e-15, abs=1e-300)
    direct = _cli(text, "--x", repr(point), "--wrt", "x", "-o", "plain")
    assert float(direct.stdout) == pytest.approx(expected, rel=1e-15, abs=1e-300)
