"""The calculator's vocabulary end to end: constants and how a binding shadows them, keyword
parameters, every function's second derivatives (Hessians) against SymPy's, and formulas of
derivatives that parse back to the same values."""

import math

import pytest
import sympy
from test_differential import CALLS, UNARY

from gradcalc import GradcalcError, evaluate, parse
from gradcalc.higher_order import derivatives, diff
from gradcalc.layers import REGISTRY

X, Y, Z = sympy.symbols("x y z", real=True)
# a point inside every function's domain and away from its kinks
POINT = {"x": 0.37, "y": 1.6, "z": 2.9}
ARRAY_OF_A_SCALAR = {"sum", "mean", "max", "min", "transpose", "softmax", "logsumexp", "norm", "var", "prod"}


def sympy_at(expr, point):
    return float(sympy.N(expr.subs({X: sympy.Rational(repr(point["x"])), Y: sympy.Rational(repr(point["y"])),
                                    Z: sympy.Rational(repr(point["z"]))}), 30))


def scalar_point(name):
    return {**POINT, "x": 1.37} if name in ("acosh", "arccosh") else POINT


@pytest.mark.parametrize("name", sorted(set(UNARY) - ARRAY_OF_A_SCALAR))
def test_second_derivative_of_every_unary_function_matches_sympy(name):
    point = scalar_point(name)
    exact = sympy.diff(UNARY[name](X), X, 2)
    got = derivatives(parse(f"{name}(x)"), {"x": point["x"]}, 2)[2]["x"]["x"]
    assert got == pytest.approx(sympy_at(exact, point), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_hessian_of_every_function_of_several_arguments_matches_sympy(name):
    arity, form = CALLS[name]
    names = ("x", "y", "z")[:arity]
    if name == "clip":
        names = ("y", "x", "z")  # x = 1.6 between lo = 0.37 and hi = 2.9
    text = f"{name}({', '.join(names)})"
    expr = form(*[sympy.Symbol(n, real=True) for n in names])
    got = derivatives(parse(text), POINT, 2)[2]
    for a in names:
        for b in names:
            exact = sympy.diff(expr, sympy.Symbol(a, real=True), sympy.Symbol(b, real=True))
            assert got[a][b] == pytest.approx(sympy_at(exact, POINT), rel=1e-10, abs=1e-12), (text, a, b)


@pytest.mark.parametrize("name", sorted(set(UNARY) - ARRAY_OF_A_SCALAR) + sorted(CALLS))
def test_derivative_formula_parses_back_to_the_same_derivative(name):
    arity = CALLS[name][0] if name in CALLS else 1
    names = ("y", "x", "z") if name == "clip" else ("x", "y", "z")[:arity]
    text = f"{name}({', '.join(names)}) * x"
    point = scalar_point(name)
    formula = diff(parse(text), "x")
    assert evaluate(formula, **point).value == pytest.approx(evaluate(text, **point).gradients["x"], rel=1e-12)


# clip(x, a, b) at a = -1, b = 2: x below a, at a, inside, at b, above b. By hand (the bounds belong
# to the inside, as PyTorch's clamp has them): ∂x = 1 on [a, b], ∂a = 1 below it, ∂b = 1 above it
CLIP_PIECES = [(-2.5, {"x": 0, "a": 1, "b": 0}), (-1.0, {"x": 1, "a": 0, "b": 0}), (0.3, {"x": 1, "a": 0, "b": 0}),
               (2.0, {"x": 1, "a": 0, "b": 0}), (3.7, {"x": 0, "a": 0, "b": 1})]


@pytest.mark.parametrize("x, slopes", CLIP_PIECES)
def test_the_formula_of_clips_derivative_parses_back_to_its_slope_on_every_piece(x, slopes):
    # clip goes through numpy (three inputs), but of scalars it is a scalar: --diff writes its formula
    point = {"x": x, "a": -1.0, "b": 2.0}
    reverse = evaluate("clip(x, a, b)", **point).gradients
    for name, slope in slopes.items():
        formula = diff(parse("clip(x, a, b)"), name)
        assert evaluate(formula, **point).value == slope == reverse[name], (name, formula)
        assert diff(parse("clip(x, a, b)"), name, order=2) == "0"  # step's slope is 0


@pytest.mark.parametrize("x, slopes", CLIP_PIECES)
def test_formulas_through_clip_agree_with_differences_away_from_its_kinks(x, slopes):
    # clip(x, a, b)^2 * x and maximum/minimum of scalars, orders 1 and 2, against central differences
    point = {"x": x, "a": -1.0, "b": 2.0}
    for text in ("clip(x, a, b)^2 * x", "maximum(x, a) * minimum(x, b)"):
        for name in ("x", "a", "b"):
            first = evaluate(diff(parse(text), name), **point).value
            assert first == pytest.approx(evaluate(text, **point).gradients[name], rel=1e-12, abs=1e-12)
            if x in (-1.0, 2.0):
                continue  # at a bound the slope jumps: only the convention above holds there
            moved = lambda h, name=name: evaluate(text, **{**point, name: point[name] + h}).value  # noqa: E731
            assert first == pytest.approx((moved(1e-6) - moved(-1e-6)) / 2e-6, rel=1e-6, abs=1e-6), (text, name)
            second = evaluate(diff(parse(text), name, order=2), **point).value
            slope = lambda h, name=name: evaluate(text, **{**point, name: point[name] + h}).gradients[name]  # noqa: E731
            assert second == pytest.approx((slope(1e-6) - slope(-1e-6)) / 2e-6, rel=1e-6, abs=1e-6), (text, name)


@pytest.mark.parametrize("text, shown, column", [
    ("sum(x*2)", "sum(x*2)", 1), ("sin(x) + x @ w", "x @ w", 10), ("y = [x, 2]; y[0]*x", "[x, 2]", 5),
])
def test_diff_refuses_an_array_operation_with_a_caret_under_it(text, shown, column):
    with pytest.raises(GradcalcError) as caught:
        diff(parse(text), "x")
    error = caught.value
    assert error.message == f"{shown} is an array operation; a derivative as a formula is written in scalar " \
                            "operations only"
    assert error.column == column and text[error.span[0]:error.span[1]] == shown


def test_pi_and_e_are_constants_without_gradients():
    r = evaluate("sin(pi*x) + e*x", x=0.5)
    assert r.value == pytest.approx(1 + math.e / 2, rel=1e-15)
    assert r.gradients == {"x": pytest.approx(math.pi * math.cos(math.pi / 2) + math.e, rel=1e-15)}


def test_a_binding_shadows_a_constant():
    assert evaluate("e = 2; e*x", x=3).gradients == {"e": 3.0, "x": 2.0}  # a line binding: a variable
    r = evaluate("e*x + pi", x=3, e=5)  # a value given for e: a variable too, as before constants
    assert r.value == pytest.approx(15 + math.pi) and r.gradients == {"e": 3.0, "x": 5.0}
    r = evaluate("e = a - b; 2*e", a=3, b=1)  # a named intermediate, as in the design's example
    assert r.value == 4.0 and r.gradients == {"a": 2.0, "b": -2.0}
    assert diff(parse("e*x"), "e") == "x"  # --diff e differentiates in e
    assert diff(parse("sin(pi*x)"), "x") == "pi*cos(pi*x)"


def test_lines_of_one_structure_shadow_with_their_own_bindings():
    # lines that differ only in a bound number share a graph (gradcalc.structure): each keeps its own
    for a in (1.0, 2.0, 3.0, 4.0):
        r = evaluate(f"a = {a}; e*a", e=3.0)
        assert r.value == 3 * a and r.gradients == {"a": 3.0, "e": a}


def test_formula_of_an_output_that_a_statement_also_uses():
    from gradcalc.formula import to_text

    text = to_text(parse("s0 = abs(a); a"))  # a is the output and abs's input: its text is kept
    assert evaluate(text, a=-2.0).value == -2.0 and evaluate(text, a=-2.0).gradients == {"a": 1.0}


def test_keyword_parameters():
    assert evaluate("max(x, axis=0)", x=[1.0, 3.0]).value == 3.0
    assert evaluate("sum(x, axis=1)", x=[[1.0, 2.0], [3.0, 4.0]]).value.tolist() == [3.0, 7.0]
    r = evaluate("leaky_relu(x, slope=0.2) + elu(y, alpha=2)", x=-1.0, y=-1.0)
    assert r.value == pytest.approx(-0.2 + 2 * math.expm1(-1.0))
    assert r.gradients == {"x": pytest.approx(0.2), "y": pytest.approx(2 * math.exp(-1.0))}
    assert evaluate("leaky_relu(x, 0.2)", x=-1.0).value == -0.2  # the parameter by position


def test_softmax_of_a_number_is_a_shape_error_not_a_crash():
    with pytest.raises(GradcalcError, match="softmax needs a vector"):
        evaluate("softmax(x)", x=1.0)


def test_log_with_a_base_and_mod_operator():
    r = evaluate("log(x, 2) + x % 3", x=8.0)
    assert r.value == pytest.approx(3.0 + 2.0)
    assert r.gradients["x"] == pytest.approx(1 / (8 * math.log(2)) + 1)
    assert evaluate("7.5 % y", y=-2.0).value == -0.5  # the sign of the divisor, as numpy and Python
    assert evaluate("-7 % 3 * 2", ).value == 4.0  # % binds as * and /: (-7 % 3) * 2


def test_every_registry_function_is_reachable_from_the_language():
    for name, layer in REGISTRY.items():
        if layer.internal or layer.symbol and name != "pow" and name != "mod":
            continue
        if name in ("dot", "softmax", "stack", "index", "reshape", "flatten", "outer", "diag", "trace",
                    "log_softmax", "std", "concat", "cumsum"):
            continue  # arrays: tested in test_arrays (of a scalar, a shape error or an array)
        arguments = ", ".join(["x", "y", "z"][: layer.arity])
        x = 1.3 if name in ("acosh", "arccosh") else 0.3
        assert isinstance(evaluate(f"{name}({arguments})", x=x, y=0.5, z=0.9).value, float), name
