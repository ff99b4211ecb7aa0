"""Every layer's backward against central finite differences of its own forward."""

import math

import pytest

from conftest import central_difference
from gradcalc.errors import DomainError
from gradcalc.layers import FUNCTIONS, REGISTRY, Abs, Divide, Ln, Power, ReLU, Sigmoid, Sqrt

UNARY_POINTS = {
    "neg": [-2.5, 0.3, 4.0],
    "exp": [-3.0, 0.0, 0.7, 5.0],
    "ln": [0.01, 0.5, 1.0, 7.3],
    "log": [0.2, 3.0],
    "sigmoid": [-30.0, -2.0, 0.0, 0.4, 12.0],
    "relu": [-1.5, 0.2, 3.0],
    "sqrt": [1e-3, 0.25, 2.0, 100.0],
    "tanh": [-3.0, -0.2, 0.0, 1.1],
    "sin": [-2.0, 0.0, 0.9, 4.0],
    "cos": [-2.0, 0.0, 0.9, 4.0],
    "abs": [-2.0, -0.1, 0.1, 3.0],
}
BINARY_POINTS = {
    "add": [(1.5, -2.0), (0.0, 3.0)],
    "sub": [(1.5, -2.0), (-4.0, 3.0)],
    "mul": [(1.5, -2.0), (0.0, 3.0), (-7.0, 0.25)],
    "div": [(1.5, -2.0), (0.0, 3.0), (-7.0, 0.25)],
    "pow": [(1.5, -2.0), (2.0, 3.0), (0.3, 0.5), (-2.0, 3.0), (4.0, 0.0), (-1.5, 2.0)],
}


def test_every_scalar_operation_has_test_points():
    scalar = {name for name, layer in REGISTRY.items() if not getattr(layer, "array_only", False)}
    assert scalar == set(UNARY_POINTS) | set(BINARY_POINTS)  # array operations: test_arrays.py


@pytest.mark.parametrize("name,x", [(n, x) for n, xs in UNARY_POINTS.items() for x in xs])
def test_unary_gradient_matches_finite_difference(name, x):
    layer = REGISTRY[name]()
    layer.forward(x)
    (analytic,) = layer.backward(1.0)
    numeric = central_difference(lambda t: REGISTRY[name]().forward(t), x)
    assert analytic == pytest.approx(numeric, rel=1e-6, abs=1e-7)
    (scaled,) = layer.backward(-2.5)  # backward is linear in the upstream gradient
    assert scaled == pytest.approx(-2.5 * analytic, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("name,x,y", [(n, x, y) for n, ps in BINARY_POINTS.items() for x, y in ps])
def test_binary_gradient_matches_finite_difference(name, x, y):
    layer = REGISTRY[name]()
    layer.forward(x, y)
    gx, gy = layer.backward(1.0)
    assert gx == pytest.approx(central_difference(lambda t: REGISTRY[name]().forward(t, y), x),
                               rel=1e-6, abs=1e-7)
    if name == "pow" and x < 0:
        assert math.isnan(gy)  # d/dy x**y has no real value for x < 0
    else:
        numeric = central_difference(lambda t: REGISTRY[name]().forward(x, t), y)
        assert gy == pytest.approx(numeric, rel=1e-6, abs=1e-7)


def test_function_names_are_the_callable_registry_entries():
    assert set(FUNCTIONS) == {"exp", "ln", "log", "sigmoid", "relu", "sqrt", "tanh", "sin", "cos", "abs",
                              "dot", "sum", "mean", "max", "min", "transpose", "softmax", "logsumexp"}
    assert REGISTRY["log"] is REGISTRY["ln"]


def test_exact_derivatives_by_hand():
    d = Divide()
    assert d.forward(12.0, -1.0) == -12.0
    assert d.backward(1.0) == (-1.0, -12.0)  # -x/y**2 = -12, the seed notebook's bug gave 1
    p = Power()
    assert p.forward(3.0, 2.0) == 9.0
    assert p.backward(1.0) == (6.0, pytest.approx(9 * math.log(3)))


@pytest.mark.parametrize("layer", [ReLU, Abs])
def test_kinks_have_zero_derivative_at_zero(layer):
    instance = layer()
    assert instance.forward(0.0) == 0.0
    assert instance.backward(1.0) == (0.0,)


@pytest.mark.parametrize("x,value", [(-1000.0, 0.0), (1000.0, 1.0), (0.0, 0.5)])
def test_sigmoid_is_stable_at_extremes(x, value):
    s = Sigmoid()
    assert s.forward(x) == value
    (gradient,) = s.backward(1.0)
    assert gradient == (0.25 if x == 0 else 0.0)


def test_sigmoid_far_tail_keeps_relative_precision():
    s = Sigmoid()
    assert s.forward(-700.0) == pytest.approx(math.exp(-700.0), rel=1e-12)


@pytest.mark.parametrize("layer,args,words", [
    (Ln, (0.0,), "ln needs a positive number"),
    (Ln, (-1.0,), "argument is -1"),
    (Sqrt, (-4.0,), "sqrt needs a number >= 0"),
    (Divide, (1.0, 0.0), "division by zero"),
    (Power, (-8.0, 1 / 3), "non-integer power needs a positive base"),
    (Power, (0.0, -1.0), "0 cannot be raised to a negative power"),
])
def test_domain_errors(layer, args, words):
    with pytest.raises(DomainError, match=words):
        layer().forward(*args)


def test_power_special_points():
    p = Power()
    assert p.forward(0.0, 0.0) == 1.0
    gx, gy = p.backward(1.0)
    assert gx == 0.0 and math.isnan(gy)  # 0**y is undefined for y < 0: no derivative in y at 0
    p = Power()
    assert p.forward(0.0, 2.0) == 0.0 and p.backward(1.0) == (0.0, 0.0)
    p = Power()
    assert p.forward(-2.0, 3.0) == -8.0 and p.backward(1.0)[0] == 12.0


@pytest.mark.parametrize("x, y, gy", [(1.5, -4.0, -2.5), (0.0, 2.0, 0.0), (-3.25, 1e300, 3.0), (7.0, 7.0, 1e-300)])
def test_inlined_layers_compute_what_the_scalar_loops_do(x, y, gy):
    # the scalar evaluator skips forward() and backward() of these layers and computes them inline
    inline = {"add": (x + y, (gy, gy)), "mul": (x * y, (gy * y, gy * x))}
    inlined = {name for name, layer in REGISTRY.items() if getattr(layer, "inlined", False)}
    assert inlined == set(inline)
    for name, (value, grads) in inline.items():
        layer = REGISTRY[name]()
        assert layer.forward(x, y) == value
        assert layer.backward(gy) == grads
