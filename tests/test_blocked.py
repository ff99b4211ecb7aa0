"""The blocked fast path (gradcalc.blocked) is held to the plain array path: same values, same
gradients, the same error naming the same node, on random elementwise graphs over large arrays."""

import math
import os
import random
import subprocess
import sys

import numpy as np
import pytest

from conftest import assert_same_answer, plain_path, through_api
from gradcalc import blocked
from gradcalc.block_steps import Program
from gradcalc.errors import GradcalcError
from gradcalc.evaluator import bind, evaluate_graph
from gradcalc.layers import FUNCTIONS, REGISTRY
from gradcalc.parser import parse

# the language's elementwise functions of one argument, read from the registry
UNARY = [name for name in FUNCTIONS if REGISTRY[name].arity == 1 and not REGISTRY[name].array_only]
BINARY = ["+", "-", "*", "/"]


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    """Blocks of 64 elements from 256 up: many blocks, uneven last one, on small test arrays."""
    monkeypatch.setattr(blocked, "BLOCK", 64)
    monkeypatch.setattr(blocked, "SMALLEST", 256)
    monkeypatch.setattr(blocked, "SHARED", 256)


def random_expression(rng, names, depth=4) -> str:
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(names + ["0.5", "2"])
    if rng.random() < 0.45:
        return f"{rng.choice(UNARY)}({random_expression(rng, names, depth - 1)})"
    left, right = random_expression(rng, names, depth - 1), random_expression(rng, names, depth - 1)
    return f"({left} {rng.choice(BINARY)} {right})"


plain = plain_path  # the unblocked, untaped array path


def assert_same(expected, got, text):
    assert_same_answer(expected, got, text)


SHAPES = [  # x, y, z: full length, broadcast along a second axis, a scalar; then below SMALLEST
    {"x": (1000,), "y": (1000,), "z": ()},
    {"x": (700, 1), "y": (700, 3), "z": (3,)},
    {"x": (301,), "y": (), "z": (301,)},
    {"x": (50,), "y": (50,), "z": ()},
    {"x": (20, 1), "y": (20, 3), "z": (3,)},
]


@pytest.mark.parametrize("shapes", SHAPES, ids=["vectors", "broadcast", "scalar", "small", "small-broadcast"])
@pytest.mark.parametrize("output", ["sum({})", "{}"], ids=["sum", "elementwise"])
@pytest.mark.parametrize("shared", [256, 10**6], ids=["blocks", "block-per-thread"])
def test_random_graphs_match_the_plain_path(shapes, output, shared, monkeypatch):
    monkeypatch.setattr(blocked, "SHARED", shared)  # 10**6: one block of the rows per thread
    rng = random.Random(f"{shapes}{output}")
    data = np.random.default_rng(0)
    for _ in range(40):
        text = output.format(random_expression(rng, ["x", "y", "z"]))
        graph = parse(text)
        values = {name: data.uniform(0.2, 1.5, size=shape) if shape else data.uniform(0.2, 1.5)
                  for name, shape in shapes.items() if name in graph.variables}
        assert_same(plain(graph, values), through_api(graph, values), text)


def test_the_fast_path_is_taken_for_a_large_elementwise_graph():
    x = np.linspace(-3, 3, 1001)
    result = evaluate_graph(parse("sum(sigmoid(w*x + b) * ln(1 + exp(x)))"), {"x": x, "w": 0.7, "b": x})
    assert isinstance(result, blocked.BlockedResult)
    expected = plain(parse("sum(sigmoid(w*x + b) * ln(1 + exp(x)))"), {"x": x, "w": 0.7, "b": x})
    assert_same(expected, (result.value, result.gradients), "seed expression")
    # per-node records come from the plain path when asked for
    assert [node.expr for node in result.nodes][-1] == "sum(sigmoid(w*x + b) * ln(1 + exp(x)))"
    assert result.nodes[-1].value == pytest.approx(expected[0], rel=1e-12)


def test_an_input_that_is_already_float64_is_not_copied_and_gradients_are_fresh():
    x = np.linspace(0.1, 2, 5000)
    result = evaluate_graph(parse("sum(x * y)"), {"x": x, "y": x})
    assert result.inputs["x"] is x
    assert result.gradients["x"] is not x and result.gradients["x"].flags.writeable
    np.testing.assert_array_equal(result.gradients["x"], x)


@pytest.mark.parametrize("text", ["sum(x * y, 0)", "sum(x) * y", "x @ y", "mean(x * y)"])
def test_graphs_with_other_array_operations_take_the_plain_path(text):
    data = np.random.default_rng(1)
    values = {"x": data.uniform(0.5, 1, size=(600, 600)), "y": data.uniform(0.5, 1, size=(600, 600))}
    graph = parse(text)
    result = evaluate_graph(graph, values)
    assert not isinstance(result, blocked.BlockedResult)
    assert_same(plain(graph, values), (result.value, result.gradients), text)


@pytest.mark.parametrize("text, bad", [
    ("sum(x * ln(y - 0.5))", "domain"),  # ln of a negative element in one block
    ("sum(exp(x * 800))", "overflow"),  # inf in the output
    ("sum(sigmoid(exp(x * 800)))", "hidden"),  # inf hidden by sigmoid: the checkpoint finds it
    ("sum(sign(exp(x * 800)) * y)", "hidden"),  # and by sign
    ("sum(sqrt(y - 0.2))", "derivative"),  # sqrt'(0) is infinite
    ("sum(relu(x) * (1/(y - 0.2)))", "relu"),  # an infinite gradient a relu mask could drop
])
def test_errors_name_the_same_node_as_the_plain_path(text, bad):
    x = np.linspace(0.1, 1, 3000)
    y = np.full(3000, 0.9)
    y[2017] = 0.2  # one element, deep in one block
    graph = parse(text)
    expected = plain(graph, {"x": x, "y": y})
    got = through_api(graph, {"x": x, "y": y})
    assert isinstance(expected, GradcalcError) or bad in ("relu",), text
    assert_same(expected, got, text)


def test_a_derivative_not_defined_at_one_element_deep_in_a_block_is_named_there():
    y = np.full(3000, 0.9)
    y[2017] = -2.0
    graph = parse("p = 2; sum(y^p * x)")
    values = {"x": np.linspace(0.1, 1, 3000), "y": y}
    got = through_api(graph, values)
    assert got.message == ("y^p: its derivative in p needs ln(y), which is not real for y < 0 "
                           "(inputs at index (2017,): y = -2, p = 2)")
    assert_same(plain(graph, values), got, "y^p")


@pytest.mark.parametrize("size", [100, 3000], ids=["whole", "blocks"])
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("text", [
    "sum(x * y)",
    "sum(sigmoid(x) * y)",  # sigmoid(inf) = 1: a finite output, so x itself is checked
    "sum(x ** 0 * y)",  # inf ** 0 = 1 as well
    "sum(exp(-x * x) + y)",  # exp(-inf) = 0
    "sum(sign(x) * y)",  # sign(inf) = 1
    "sum(atan2(y, x))",  # atan2(1, inf) = 0
    "sum(xlogy(0, x) + y)",  # xlogy(0, inf) = 0
    "sum(log(2, x) * y)",  # log(2, inf) = ln 2 / inf = 0
    "a = x; sum(y)",  # x never reaches the output: nothing after it would see the inf
    "sigmoid(x) + y",  # an elementwise output
    "sum(ln(1 + exp(x)) + sigmoid(x * y))",  # x is not checked itself: x * y is, and the product keeps inf
    "sum(sigmoid(exp(x)) * y)",  # exp(x) is checked, but exp(-inf) = 0 hides it: x is checked too
])
@pytest.mark.parametrize("where", [0, -1])
def test_a_non_finite_input_element_is_refused_as_bind_refuses_it(size, bad, text, where):
    x = np.linspace(0.1, 1, size)
    x[where] = bad
    with pytest.raises(GradcalcError) as caught:
        evaluate_graph(parse(text), {"x": x, "y": np.ones(size)})
    with pytest.raises(GradcalcError) as expected:
        bind(parse(text), {"x": x, "y": np.ones(size)})
    index = where % size
    assert caught.value.message == expected.value.message == \
        f"the value of x has a non-finite element ({bad} at index ({index},)); values must be finite"


@pytest.mark.parametrize("size", [100, 3000], ids=["whole", "blocks"])
def test_a_variable_the_output_does_not_use_gets_a_gradient_of_zeros(size):
    x, y = np.linspace(0.1, 1, size), np.linspace(1, 2, size)
    result = evaluate_graph(parse("a = x; sum(y * y)"), {"x": x, "y": y})
    assert isinstance(result, blocked.BlockedResult)
    np.testing.assert_array_equal(result.gradients["x"], np.zeros(size))
    np.testing.assert_allclose(result.gradients["y"], 2 * y, rtol=1e-15)
    assert result.value == pytest.approx(float(np.sum(y * y)), rel=1e-14)


def test_repeated_calls_give_the_same_bits_whichever_thread_takes_a_block():
    # the blocks' sums and the gradients of inputs used whole are added up in block order
    data = np.random.default_rng(3)
    x, y = data.uniform(0.2, 1.5, 20_000), data.uniform(0.2, 1.5, (3001, 1))
    graph = parse("sum(sigmoid(w*x + b) * ln(1 + exp(x)))")
    values = {"x": x, "w": 0.7, "b": data.uniform(0.2, 1.5, 20_000)}  # 313 blocks of 64
    first = evaluate_graph(graph, values)
    assert isinstance(first, blocked.BlockedResult)
    for _ in range(30):
        again = evaluate_graph(graph, values)
        assert again.value == first.value and again.gradients["w"] == first.gradients["w"]
        np.testing.assert_array_equal(again.gradients["x"], first.gradients["x"])
    broadcast = parse("sum(y * v)")
    values = {"y": y, "v": data.uniform(0.2, 1.5, 3)}
    first = evaluate_graph(broadcast, values)
    for _ in range(30):
        np.testing.assert_array_equal(evaluate_graph(broadcast, values).gradients["v"], first.gradients["v"])


@pytest.mark.parametrize("text, checked", [
    ("sum(sigmoid(w*x + b) * ln(1 + exp(x)))", ["w*x + b", "sum(sigmoid(w*x + b) * ln(1 + exp(x)))"]),
    ("sum(sigmoid(exp(x)) * y)", ["x", "exp(x)", "sum(sigmoid(exp(x)) * y)"]),
    ("sigmoid(x) + y", ["x", "sigmoid(x) + y"]),
    ("a = x; sum(y)", ["x", "sum(y)"]),
])
def test_a_block_checks_only_values_whose_inf_no_other_check_would_see(text, checked):
    graph = parse(text)
    assert [graph.text(graph.nodes[i]) for i in Program(graph).checkpoints] == checked


def test_an_unused_variable_used_whole_gets_zeros_of_its_shape():
    y = np.linspace(1, 2, 3000).reshape(1000, 3)
    result = evaluate_graph(parse("a = v; sum(y * y)"), {"y": y, "v": np.array([1.0, 2.0, 3.0])})
    assert isinstance(result, blocked.BlockedResult)
    assert result.gradients["v"].shape == (3,)
    np.testing.assert_array_equal(result.gradients["v"], np.zeros(3))


@pytest.mark.parametrize("size", [100, 3000], ids=["whole", "blocks"])
def test_a_gradient_is_never_the_output_value_itself(size):
    # exp's gradient is its own value: handed on as it is, writing into one would change the other
    x = np.linspace(0, 1, size)
    result = evaluate_graph(parse("exp(x)"), {"x": x})
    assert not np.shares_memory(result.value, result.gradients["x"])
    np.testing.assert_array_equal(result.gradients["x"], np.exp(x))
    result.gradients["x"][0] = 99.0
    assert result.value[0] == 1.0


FORK = """
import os, sys
import numpy as np
import gradcalc
from gradcalc import blocked
from gradcalc.block_steps import Program
x = np.linspace(0.1, 1, 2 * blocked.SMALLEST)
first = gradcalc.evaluate("sum(sigmoid(x) * x)", x=x)
assert isinstance(first, blocked.BlockedResult)  # the parent's pool has started its threads
child = os.fork()
if child == 0:
    again = gradcalc.evaluate("sum(sigmoid(x) * x)", x=x)
    os._exit(0 if again.value == first.value else 3)
_, status = os.waitpid(child, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_evaluates_large_arrays_with_threads_of_its_own():
    # before, the child waited forever on the parent's pool, whose thread it does not have
    subprocess.run([sys.executable, "-c", FORK], check=True, timeout=60)


@pytest.mark.parametrize("shape", [(3001,), (3001, 2)])
def test_below_shared_each_thread_takes_one_block(monkeypatch, shape):
    monkeypatch.setattr(blocked, "SHARED", 10**6)  # every test array is below it
    steps = []
    run = blocked._run

    def spy(graph, program, inputs, sliced, step, rows, *rest):
        steps.append((step, rows))
        return run(graph, program, inputs, sliced, step, rows, *rest)

    monkeypatch.setattr(blocked, "_run", spy)
    data = np.random.default_rng(5)
    values = {"x": data.uniform(0.2, 1.5, shape), "y": data.uniform(0.2, 1.5, shape)}
    graph = parse("sum(sigmoid(x) * ln(1 + exp(y)) * x)")
    assert_same(plain(graph, values), through_api(graph, values), "split")
    assert steps == [(-(-3001 // blocked._WORKERS), 3001)] if blocked._WORKERS > 1 else steps == []


@pytest.mark.parametrize("text, node", [("sum(sigmoid(x) + var(x))", "var(x)"),
                                        ("std(x, ddof=1) * sum(x * 0)", "std(x, ddof=1)"),
                                        ("sum(x * 0) + norm(x)", "norm(x)"),
                                        ("sum(sqrt(abs(x)) * 0) + trace(X)", "trace(X)")])
@pytest.mark.parametrize("size", [50, 1000], ids=["small", "blocks"])
def test_a_reduction_that_overflows_among_elementwise_steps_is_the_plain_paths_error(text, node, size):
    # these reductions used to say their values were always finite: an overflow of theirs was a result
    big = np.resize(np.array([1.7976931348623157e308, -1.7976931348623157e308]), size)
    values = {"x": big, "X": np.diag(big[: math.isqrt(size)] * 0 + 1.7e308)}
    graph = parse(text)
    values = {name: values[name] for name in graph.variables}
    got = through_api(graph, values)
    assert isinstance(got, GradcalcError) and got.message.startswith(f"{node}: the value is "), got
    assert_same(plain(graph, values), got, text)


@pytest.mark.parametrize("size", [200, 1000], ids=["small", "blocks"])
def test_a_scalars_gradient_whose_parts_overflow_when_added_is_the_plain_paths_error(size, monkeypatch):
    # ∂/∂x of sum(x*w) is sum(w) = 1e306 * size, beyond the doubles; each block's part (64 * 1e306)
    # is finite: their sum was an inf gradient with exit 0, where the plain path raises
    monkeypatch.setattr(blocked, "BLOCK", 64)
    monkeypatch.setattr(blocked, "SMALLEST", 256)
    monkeypatch.setattr(blocked, "SHARED", 256)
    graph = parse("sum(x*w)")
    values = {"x": 1e-10, "w": np.full(size, 1e306)}
    got = through_api(graph, values)
    assert isinstance(got, GradcalcError) and "the gradient it passes to x is inf" in got.message, got
    assert_same(plain(graph, values), got, "sum(x*w)")
