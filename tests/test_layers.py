"""Every layer's backward against central finite differences of its own forward."""

import math
import sys

import pytest

from conftest import central_difference
from gradcalc.errors import DomainError
from gradcalc.layers import FUNCTIONS, REGISTRY, Abs, Divide, Ln, Power, ReLU, Sigmoid, Sqrt
from gradcalc.ops import ArrayOps, ScalarOps


def backward(layer, *xs, gy=1.0):
    """The layer's gradients at xs, by its stateless rule run on floats."""
    return layer.backward(ScalarOps, gy, layer.forward(*xs), *xs)

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
    "sign": [-2.0, 0.5],
    "step": [-2.0, 0.5],
    "tan": [-1.2, 0.0, 0.7, 1.5],
    "asin": [-0.9, 0.0, 0.3, 0.99],
    "arcsin": [0.5],
    "acos": [-0.9, 0.0, 0.3, 0.99],
    "arccos": [0.5],
    "atan": [-40.0, -0.5, 0.0, 2.0],
    "arctan": [3.0],
    "sinh": [-3.0, 0.0, 0.8, 10.0],
    "cosh": [-3.0, 0.0, 0.8, 10.0],
    "asinh": [-50.0, -0.5, 0.0, 3.0],
    "arcsinh": [1.0],
    "acosh": [1.001, 1.5, 40.0],
    "arccosh": [2.0],
    "atanh": [-0.99, -0.3, 0.0, 0.8],
    "arctanh": [0.5],
    "log10": [1e-3, 0.5, 1.0, 250.0],
    "log2": [1e-3, 0.5, 1.0, 250.0],
    "log1p": [-0.9, -1e-4, 0.0, 3.0],
    "expm1": [-5.0, -1e-4, 0.0, 2.0],
    "exp2": [-5.0, 0.0, 0.5, 10.0],
    "softplus": [-40.0, -1.0, 0.0, 0.7, 35.0],
    "log_sigmoid": [-40.0, -1.0, 0.0, 0.7, 35.0],
    "gelu": [-6.0, -1.0, 0.0, 0.4, 3.0],
    "erf": [-3.0, -0.2, 0.0, 1.1],
    "erfc": [-3.0, -0.2, 0.0, 1.1, 5.0],
    "leaky_relu": [-2.0, -0.1, 0.3],
    "elu": [-3.0, -0.2, 0.5],
    "floor": [-2.5, 0.3, 7.9],
    "ceil": [-2.5, 0.3, 7.9],
    "round": [-2.4, 0.3, 7.7],
}
BINARY_POINTS = {
    "add": [(1.5, -2.0), (0.0, 3.0)],
    "sub": [(1.5, -2.0), (-4.0, 3.0)],
    "mul": [(1.5, -2.0), (0.0, 3.0), (-7.0, 0.25)],
    "div": [(1.5, -2.0), (0.0, 3.0), (-7.0, 0.25)],
    "pow": [(1.5, -2.0), (2.0, 3.0), (0.3, 0.5), (-2.0, 3.0), (4.0, 0.0), (-1.5, 2.0)],
    "xlogy": [(1.5, 2.0), (-0.5, 0.3), (2.0, 7.0)],
    "atan2": [(1.0, 2.0), (-0.5, -3.0), (2.0, -0.1), (0.0, 1.0)],
    "arctan2": [(1.0, -1.0)],
    "hypot": [(3.0, 4.0), (-0.5, 1e-3), (1e-3, -2.0)],
    "maximum": [(1.0, 2.0), (-0.5, -3.0)],
    "minimum": [(1.0, 2.0), (-0.5, -3.0)],
    "mod": [(7.5, 2.0), (-7.5, 2.0), (7.5, -2.0), (0.3, 0.25)],
}
# functions whose every input needs numpy (three inputs): tested through evaluate, as arrays are
THREE_ARGUMENT_POINTS = {"clip": [(0.5, 0.0, 1.0), (-2.0, -1.0, 3.0), (4.0, -1.0, 3.0)]}


def test_every_scalar_operation_has_test_points():
    scalar = {name for name, layer in REGISTRY.items() if not layer.array_only or name == "clip"}
    assert scalar == set(UNARY_POINTS) | set(BINARY_POINTS) | set(THREE_ARGUMENT_POINTS)  # arrays: test_arrays.py


@pytest.mark.parametrize("name,x", [(n, x) for n, xs in UNARY_POINTS.items() for x in xs])
def test_unary_gradient_matches_finite_difference(name, x):
    layer = REGISTRY[name]()
    (analytic,) = backward(layer, x)
    numeric = central_difference(layer.forward, x)
    assert analytic == pytest.approx(numeric, rel=1e-6, abs=1e-7)
    (scaled,) = backward(layer, x, gy=-2.5)  # backward is linear in the upstream gradient
    assert scaled == pytest.approx(-2.5 * analytic, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("name,x,y", [(n, x, y) for n, ps in BINARY_POINTS.items() for x, y in ps])
def test_binary_gradient_matches_finite_difference(name, x, y):
    layer = REGISTRY[name]()
    gx, gy = backward(layer, x, y)
    assert gx == pytest.approx(central_difference(lambda t: REGISTRY[name]().forward(t, y), x),
                               rel=1e-6, abs=1e-7)
    if name == "pow" and x < 0:
        assert math.isnan(gy)  # d/dy x**y has no real value for x < 0
    else:
        numeric = central_difference(lambda t: REGISTRY[name]().forward(x, t), y)
        assert gy == pytest.approx(numeric, rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("name,point", [(n, p) for n, ps in THREE_ARGUMENT_POINTS.items() for p in ps])
def test_three_argument_gradient_matches_finite_difference(name, point):
    layer = REGISTRY[name]()
    analytic = backward(layer, *point)
    for k in range(3):
        def moved(t, k=k):
            return float(REGISTRY[name]().forward(*point[:k], t, *point[k + 1:]))
        assert analytic[k] == pytest.approx(central_difference(moved, point[k]), rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("x,base", [(8.0, 2.0), (0.3, 10.0), (5.0, 0.5), (2.0, 1.5)])
def test_log_with_a_base_matches_finite_difference(x, base):
    layer = REGISTRY["log"].wider()
    assert layer.forward(x, base) == pytest.approx(math.log(x) / math.log(base), rel=1e-15)
    gx, gbase = backward(layer, x, base)
    assert gx == pytest.approx(central_difference(lambda t: layer.forward(t, base), x), rel=1e-6)
    assert gbase == pytest.approx(central_difference(lambda t: layer.forward(x, t), base), rel=1e-6)


@pytest.mark.parametrize("name,params,x", [("leaky_relu", (0.2,), -1.5), ("leaky_relu", (0.2,), 2.0),
                                           ("elu", (0.5,), -1.5), ("elu", (2.0,), -0.3)])
def test_parameters_reach_the_rule(name, params, x):
    layer = REGISTRY[name](*params)
    (analytic,) = backward(layer, x)
    assert analytic == pytest.approx(central_difference(layer.forward, x), rel=1e-6)


def test_function_names_are_the_callable_registry_entries():
    assert {"exp", "ln", "log", "sigmoid", "relu", "sqrt", "tanh", "sin", "cos", "abs", "sign", "step", "xlogy",
            "dot", "sum", "mean", "max", "min", "transpose", "softmax", "logsumexp", "pow", "mod"} <= set(FUNCTIONS)
    assert not {"add", "sub", "mul", "div", "neg", "matmul"} & set(FUNCTIONS)
    assert not any(name.startswith("_") for name in FUNCTIONS)
    assert REGISTRY["log"] is REGISTRY["ln"]
    assert REGISTRY["arcsin"] is REGISTRY["asin"] and REGISTRY["arctan2"] is REGISTRY["atan2"]


def test_exact_derivatives_by_hand():
    assert Divide().forward(12.0, -1.0) == -12.0
    assert backward(Divide(), 12.0, -1.0) == (-1.0, -12.0)  # -x/y**2 = -12, the seed notebook's bug gave 1
    assert Power().forward(3.0, 2.0) == 9.0
    assert backward(Power(), 3.0, 2.0) == (6.0, pytest.approx(9 * math.log(3)))


@pytest.mark.parametrize("layer", [ReLU, Abs, REGISTRY["floor"], REGISTRY["round"], REGISTRY["step"]])
def test_kinks_have_zero_derivative_at_zero(layer):
    instance = layer()
    assert instance.forward(0.0) == 0.0
    assert backward(instance, 0.0) == (0.0,)


@pytest.mark.parametrize("x,value", [(-1000.0, 0.0), (1000.0, 1.0), (0.0, 0.5)])
def test_sigmoid_is_stable_at_extremes(x, value):
    s = Sigmoid()
    assert s.forward(x) == value
    (gradient,) = backward(s, x)
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
    gx, gy = backward(p, 0.0, 0.0)
    assert gx == 0.0 and math.isnan(gy)  # 0**y is undefined for y < 0: no derivative in y at 0
    assert p.forward(0.0, 2.0) == 0.0 and backward(p, 0.0, 2.0) == (0.0, 0.0)
    assert p.forward(-2.0, 3.0) == -8.0 and backward(p, -2.0, 3.0)[0] == 12.0
    # 0**0.5: the base's slope is infinite, which matters only if a variable feeds the base
    assert backward(p, 0.0, 0.5) == (math.inf, 0.0)


@pytest.mark.parametrize("x, y, gy", [(1.5, -4.0, -2.5), (0.0, 2.0, 0.0), (-3.25, 1e300, 3.0), (7.0, 7.0, 1e-300)])
def test_inlined_layers_compute_what_the_scalar_loops_do(x, y, gy):
    # the scalar evaluator skips forward() and backward() of these layers and computes them inline
    inline = {"add": (x + y, (gy, gy)), "mul": (x * y, (gy * y, gy * x))}
    inlined = {name for name, layer in REGISTRY.items() if layer.inlined}
    assert inlined == set(inline)
    for name, (value, grads) in inline.items():
        layer = REGISTRY[name]()
        assert layer.forward(x, y) == value
        assert backward(layer, x, y, gy=gy) == grads


def test_layers_keep_no_state():
    # a shared graph needs no lock: no layer has a slot that an evaluation could fill
    for layer in REGISTRY.values():
        slots = {name for cls in layer.__mro__ for name in getattr(cls, "__slots__", ())}
        assert slots <= set(layer.params), layer


@pytest.mark.parametrize("name", [name for name, layer in REGISTRY.items() if layer.backward_array is not None])
def test_array_fast_paths_compute_what_the_rule_computes(name):
    # backward_array is a shortcut (a dot product, in-place passes): the rule is the definition
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(7)
    layer = REGISTRY[name]()
    for shapes in [((5,),) * layer.arity, ((4, 3),) * layer.arity, ((), (6,))[: layer.arity],
                   ((6,), ())[: layer.arity]]:
        if len(shapes) < layer.arity:
            continue
        xs = [rng.uniform(0.5, 2.0, shape) if shape else float(rng.uniform(0.5, 2)) for shape in shapes]
        y = layer.forward_array(*xs)
        for gy in (np.ones_like(y), rng.normal(size=np.shape(y))):
            with np.errstate(all="ignore"):  # std of one number is 0, where neither has a derivative: nan
                fast = layer.backward_array(gy, y, *xs)
                rule = layer.backward(ArrayOps, gy, y, *xs)
            for a, b, x in zip(fast, rule, xs):
                from gradcalc.numeric import unbroadcast

                assert np.allclose(unbroadcast(a, np.shape(x)), unbroadcast(b, np.shape(x)), rtol=1e-12, equal_nan=True)


SAVING = [name for name, layer in REGISTRY.items() if layer.forward_saving is not None]


def test_a_layer_saves_an_intermediate_for_its_backward():  # else the test below tests nothing
    assert "sigmoid" in SAVING


@pytest.mark.parametrize("name", SAVING)
def test_a_saved_intermediate_gives_the_gradients_the_rule_gives_without_it(name):
    # the blocks (gradcalc.blocked) take forward_saving's value as forward_array's, and its saved
    # intermediate to backward_array; where that is nan (sigmoid below x = -709.78, where exp(-x)
    # overflows) they take it as 0, which must be what the layer's own rule gives there
    np = pytest.importorskip("numpy")
    layer = REGISTRY[name]()
    assert layer.backward_array is not None  # the one that takes `saved=`
    edges = [0.0, -0.0, 5e-324, 1e-300, 20.0, 36.0, 40.0, 700.0, 709.7, 709.8, 745.0, 800.0, 1e300]
    grid = np.concatenate([np.linspace(-50, 50, 1001), edges, np.negative(edges)])  # 1,027 = 13 * 79
    gy = np.random.default_rng(5).normal(size=grid.size)
    for xs in ([grid] * layer.arity, [np.float64(0.75)] * layer.arity, [grid.reshape(-1, 13)] * layer.arity):
        grads = gy if np.ndim(xs[0]) == 1 else np.ones_like(xs[0])
        with np.errstate(all="ignore"):
            y, saved = layer.forward_saving(*xs)
            plain = layer.forward_array(*xs)
            fast = layer.backward_array(grads, y, *xs, saved=saved)
            rule = layer.backward_array(grads, y, *xs)
        assert np.asarray(y).tobytes() == np.asarray(plain).tobytes()  # the same bits
        for a, b in zip(fast, rule):
            a, b = np.ravel(a), np.ravel(b)
            finite = np.isfinite(a)
            assert finite.sum() >= 0.95 * a.size
            # a nan stands for a slope that is 0 as a double, as the blocks take it (Layer.forward_saving)
            assert np.all(np.abs(b[~finite]) < sys.float_info.min) and np.isnan(a[~finite]).all()
            # below the smallest normal double, within it (sigmoid'(709.8) is 1.6e-309; the rule's exp overflows: 0)
            np.testing.assert_allclose(a[finite], b[finite], rtol=1e-13, atol=sys.float_info.min)


ELEMENTWISE = [name for name, layer in REGISTRY.items() if not layer.array_only and not layer.internal]
# the registry's layers and the ones a call with one more argument means (log(x, base))
ELEMENTWISE_LAYERS = {**{name: REGISTRY[name] for name in ELEMENTWISE},
                      **{f"{name} with one more argument": REGISTRY[name].wider
                         for name in ELEMENTWISE if REGISTRY[name].wider}}


@pytest.mark.parametrize("name", ELEMENTWISE_LAYERS)
def test_a_layer_that_can_turn_inf_or_nan_into_a_number_says_so(name):
    # hides_infinity decides what the array paths check for inf and nan: a non-finite value that
    # reaches such a layer could come out finite (sign(inf) = 1, log(2, inf) = 0), so its inputs
    # are checked there
    import itertools

    np = pytest.importorskip("numpy")
    layer = ELEMENTWISE_LAYERS[name]()
    # the other arguments at special values too: xlogy(0, inf) = 0 is finite only where x = 0
    others = [0.0, 0.7, -0.7, 1.0, -1.0, 2.0, -2.0, 1e300]
    for position in range(layer.arity):
        for rest in itertools.product(others, repeat=layer.arity - 1):
            for bad in (np.inf, -np.inf, np.nan):
                xs = [np.array([x]) for x in rest]
                xs.insert(position, np.array([bad]))
                with np.errstate(all="ignore"):
                    try:
                        value = layer.forward_array(*xs)
                    except (DomainError, ZeroDivisionError, ValueError):
                        continue  # refused outright: nothing hidden
                if np.all(np.isfinite(value)):
                    assert layer.hides_infinity, f"{name}{tuple(float(x[0]) for x in xs)} gives {value}"


@pytest.mark.parametrize("shape", [(5,), (4, 3), (70_000,), (300, 300)],
                         ids=["einsum-1d", "einsum-2d", "vdot-1d", "vdot-2d"])
def test_a_scalar_factors_gradient_is_the_sum_of_the_products(shape):
    # times() sums gy * factor for a scalar target in one pass: einsum below BLAS_DOT_FROM elements
    # (blocks: no BLAS threads), BLAS's dot above; both are held to the product summed
    np = pytest.importorskip("numpy")
    from gradcalc.numeric import times

    rng = np.random.default_rng(11)
    gy, factor = rng.normal(size=shape), rng.normal(size=shape)
    expected = math.fsum((gy * factor).ravel().tolist())
    assert times(gy, factor, 0.5) == pytest.approx(expected, rel=1e-12, abs=1e-9)
    ones = np.broadcast_to(1.0, shape)  # what sum() hands down: the factor's own sum
    assert times(ones, factor, 0.5) == pytest.approx(math.fsum(factor.ravel().tolist()), rel=1e-12, abs=1e-9)
