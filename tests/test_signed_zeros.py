"""Signed zeros: the scalar loops, the plain array path and its fast paths (blocks, tapes) give the
same bits at ±0.0 for every elementwise function of the registry, and the hand-derived cases."""

import math

import numpy as np
import pytest

from conftest import plain_path, through_api
from gradcalc import blocked, evaluate, tape
from gradcalc.errors import GradcalcError
from gradcalc.evaluator import evaluate_graph
from gradcalc.layers import OPERATOR_NAMES, REGISTRY
from gradcalc.parser import parse


def expressions() -> list:
    """One expression per elementwise layer with a scalar path (operators written as operators),
    and log's two-argument form."""
    texts, seen = [], set()
    for name, layer in REGISTRY.items():
        if layer.internal or layer.array_only or layer in seen:
            continue
        seen.add(layer)
        if name == "neg":
            texts.append("-x")
        elif name in OPERATOR_NAMES or layer.symbol:
            texts.append(f"x {layer.symbol} y")
        else:
            texts.append(f"{name}(x)" if layer.arity == 1 else f"{name}(x, y)")
        if layer.wider is not None:
            texts.append(f"{name}(x, y)")
    return texts


EXPRESSIONS = expressions()
OTHERS = [0.0, -0.0, 0.5, -0.5, 2.0]  # the other argument of a two-argument function


def points(text) -> list:
    """x at ±0.0; with two arguments, every pair with at least one zero."""
    if "y" not in text:
        return [{"x": 0.0}, {"x": -0.0}]
    return [{"x": x, "y": y} for x in OTHERS for y in OTHERS if x == 0 or y == 0]


def same_bits(a, b) -> bool:
    """Equal, with the same sign where zero; a function's value at a nonzero point may differ in
    its last bit between math and numpy (sin(0.5)), which is not what this test is about."""
    a, b = float(a), float(b)
    if a == 0 or b == 0:
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return a == pytest.approx(b, rel=1e-15)


def scalar_answer(text, point):
    try:
        result = evaluate(text, **point)
    except GradcalcError as error:
        return type(error)
    return result.value, result.gradients


def assert_same_bits(scalar, got, text, point, elementwise):
    if isinstance(scalar, type):  # outside the domain: the same kind of error (the array one names the element)
        assert isinstance(got, scalar), (text, point, got)
        return
    assert not isinstance(got, GradcalcError), (text, point, got)
    value, gradients = got
    if elementwise:
        assert all(same_bits(scalar[0], element) for element in np.ravel(value)), (text, point, value)
    for name, expected in scalar[1].items():
        assert all(same_bits(expected, element) for element in np.ravel(gradients[name])), (text, point, name)


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_scalar_and_array_paths_give_the_same_signed_zeros(text, monkeypatch):
    monkeypatch.setattr(blocked, "BLOCK", 64)  # blocks of 64 elements from 256 up, as tests/test_blocked.py
    monkeypatch.setattr(blocked, "SMALLEST", 256)
    monkeypatch.setattr(blocked, "SHARED", 256)
    for point in points(text):
        scalar = scalar_answer(text, point)
        for output, elementwise in ((text, True), (f"sum({text})", False)):
            graph = parse(output)
            # no sum over elements reaches a gradient here: each element's is its own, as a scalar's
            for size in (3, 300):  # the plain path; blocks; a shape's second call records a tape, later ones replay
                values = {name: np.full(size, number) for name, number in point.items()}
                assert_same_bits(scalar, plain_path(graph, values), output, point, elementwise)
                for _ in range(3):
                    assert_same_bits(scalar, through_api(graph, values), output, point, elementwise)


def test_the_sizes_compared_take_a_tape_and_blocks(monkeypatch):
    monkeypatch.setattr(blocked, "BLOCK", 64)
    monkeypatch.setattr(blocked, "SMALLEST", 256)
    monkeypatch.setattr(blocked, "SHARED", 256)
    graph = parse("x * y")
    for size in (3, 300):
        values = {"x": np.full(size, -0.0), "y": np.full(size, 0.5)}
        results = [evaluate_graph(graph, values) for _ in range(3)]
        assert all(isinstance(result, blocked.BlockedResult) for result in results)
    assert isinstance(graph.__dict__["blocked_program"][1].tapes.get(((3,), (3,))), tape.Tape)


def test_every_elementwise_layer_is_covered():
    layers = {type(node.layer) for text in EXPRESSIONS for node in parse(text).nodes if node.inputs}
    assert layers >= {layer for layer in REGISTRY.values() if not (layer.internal or layer.array_only)}


def sign(number) -> float:
    return math.copysign(1.0, float(number))


@pytest.mark.parametrize("text", ["x^2", "x*x", "x**2 + x*x"])
def test_the_gradient_of_a_square_at_minus_zero_is_minus_zero(text):
    # d/dx x^2 = 2x = -0.0 at x = -0.0 (x**2 + x*x: 4x, a sum of two -0.0 terms, still -0.0)
    gradient = evaluate(text, x=-0.0).gradients["x"]
    assert gradient == 0 and sign(gradient) == -1.0
    gradients = evaluate(f"sum({text})", x=np.array([-0.0, 1.0])).gradients["x"]
    assert sign(gradients[0]) == -1.0 and gradients[1] == (2.0 if "+" not in text else 4.0)


def test_cos_has_the_slope_minus_sin_zero_at_zero():
    gradient = evaluate("cos(x)", x=0.0).gradients["x"]  # -sin(0) = -0.0
    assert gradient == 0 and sign(gradient) == -1.0


def test_a_variable_the_output_does_not_use_has_a_positive_zero_gradient():
    result = evaluate("a = x*2; y", x=-0.0, y=1.0)
    assert sign(result.gradients["x"]) == 1.0 and result.gradients["y"] == 1.0
    assert sign(evaluate("x + 0*y", x=1.0, y=-0.0).gradients["y"]) == 1.0  # 0 * 1 is +0


@pytest.mark.parametrize("text, x, expected", [
    ("floor(x)", -0.0, -0.0), ("ceil(x)", -0.5, -0.0), ("round(x)", -0.4, -0.0), ("round(x)", -0.5, -0.0),
    ("floor(x)", 0.5, 0.0), ("floor(x)", -0.5, -1.0), ("ceil(x)", 0.5, 1.0), ("round(x)", 2.5, 2.0),
    ("elu(x)", -0.0, -0.0), ("elu(x)", 0.0, 0.0),
])
def test_rounding_and_elu_keep_the_sign_of_zero_as_ieee_does(text, x, expected):
    # roundToIntegral keeps x's sign (IEEE 754 §5.3.1); elu is x, or expm1(x), at 0: -0.0 either way
    for value in (evaluate(text, x=x).value, evaluate(text, x=np.array([x, x])).value[0]):
        assert value == expected and sign(value) == sign(expected), (text, x)


@pytest.mark.parametrize("x, y, larger, smaller", [
    (0.0, -0.0, 0.0, -0.0), (-0.0, 0.0, 0.0, -0.0), (-0.0, -0.0, -0.0, -0.0), (0.0, 0.0, 0.0, 0.0),
    (-0.0, -1.0, -0.0, -1.0), (2.0, 2.0, 2.0, 2.0),
])
def test_maximum_and_minimum_of_zeros_follow_ieee_754_2019(x, y, larger, smaller):
    # IEEE 754-2019 maximum/minimum order -0 below +0; Python's max and numpy's maximum return
    # whichever argument comes first (second) at a tie
    for xs, ys in ((x, y), (np.array([x, 1.0]), np.array([y, 0.5]))):
        for text, expected in (("maximum(x, y)", larger), ("minimum(x, y)", smaller)):
            value = np.ravel(evaluate(text, x=xs, y=ys).value)[0]
            assert value == expected and sign(value) == sign(expected), (text, xs, ys)


def test_a_sum_over_elements_is_numpys_a_positive_zero_where_every_term_is_minus_zero():
    # the documented exception: numpy's reductions start from +0, so a sum of -0.0s is +0.0 (IEEE
    # addition would keep -0.0); the gradient of a scalar used with an array is such a sum
    assert sign(evaluate("w*x", w=1.0, x=-0.0).gradients["w"]) == -1.0
    assert sign(evaluate("sum(w*x)", w=1.0, x=np.array([-0.0])).gradients["w"]) == 1.0
    assert sign(evaluate("sum(x)", x=np.array([-0.0, -0.0])).value) == 1.0
