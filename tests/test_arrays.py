"""Arrays: every array operation and broadcasting against central finite differences, the seed
notebook's Affine layer done right, array values on the command line, shape errors."""

import json
import re

import numpy as np
import pytest

from gradcalc import GradcalcError, evaluate, parse
from gradcalc.errors import DomainError, ShapeError, ValueFormatError
from gradcalc.formula import to_text
from gradcalc.layers import REGISTRY

RNG = np.random.default_rng(12345)
X = [[7, 1, 7], [5, 5, 2]]
W = [[4, 4, 7, 8], [6, 3, 7, 2], [5, 4, 2, 3]]
B = [3, 6, 8, 6]


def numeric_gradients(expr, values, h=1e-6):
    """∂ sum(output) / ∂ each element of each array value, by central differences."""
    grads = {}
    for name, value in values.items():
        value = np.array(value, dtype=float)
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            plus, minus = value.copy(), value.copy()
            plus[index] += h
            minus[index] -= h
            f_plus = np.sum(evaluate(expr, **{**values, name: plus}).value)
            f_minus = np.sum(evaluate(expr, **{**values, name: minus}).value)
            grad[index] = (f_plus - f_minus) / (2 * h)
        grads[name] = grad if value.shape else float(grad)
    return grads


def assert_matches_finite_differences(expr, **values):
    result = evaluate(expr, **values)
    numeric = numeric_gradients(expr, values)
    for name, expected in numeric.items():
        got = result.gradients[name]
        assert np.shape(got) == np.shape(values[name]), name
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6, err_msg=f"{expr}: d/d{name}")
    return result


def positive(*shape):
    return RNG.uniform(0.5, 2.0, shape)


def anywhere(*shape):
    return RNG.uniform(-2.0, 2.0, shape)


def inside(function, shape):
    """A random array inside the function's domain and away from its kinks and jumps."""
    if function in ("ln", "log", "sqrt", "log10", "log2", "log1p"):
        return positive(*shape)
    if function in ("acosh", "arccosh"):
        return 1 + positive(*shape)
    if function in ("asin", "acos", "atanh", "arcsin", "arccos", "arctanh"):
        return RNG.uniform(-0.9, 0.9, shape)
    if function in ("floor", "ceil", "round"):
        return np.floor(anywhere(*shape)) + RNG.uniform(0.1, 0.4, shape)
    return anywhere(*shape)


UNARY = sorted(name for name, layer in REGISTRY.items()
               if layer.arity == 1 and not layer.array_only and not layer.symbol and not layer.internal)


@pytest.mark.parametrize("function", UNARY)
def test_elementwise_functions(function):
    assert_matches_finite_differences(f"{function}(x)", x=inside(function, (2, 3)))


@pytest.mark.parametrize("expr", ["atan2(x, y)", "hypot(x, y)", "maximum(x, y)", "minimum(x, y)",
                                  "mod(x, y)", "x % y", "log(x, y)", "clip(x, y, y + 1)", "clip(x, -0.5, 0.5)"])
def test_two_argument_functions_broadcast(expr):
    y = positive(3) + 0.1 if "log" in expr else positive(3)
    x = positive(2, 3) if "log" in expr else anywhere(2, 3)
    assert_matches_finite_differences(expr, x=x, **({"y": y} if "y" in expr else {}))


@pytest.mark.parametrize("expr,shapes", [
    ("x + y", ((3, 1), (1, 4))),
    ("x - y", ((3, 4), (4,))),
    ("x * y", ((2, 3), ())),
    ("x / y", ((3, 1), (1, 4))),
    ("x ** y", ((2, 3), (3,))),
    ("-x * y + x", ((2, 2), (2, 2))),
])
def test_broadcasting_gradients_are_reduced_to_each_shape(expr, shapes):
    values = {"x": positive(*shapes[0]), "y": positive(*shapes[1]) if shapes[1] else 1.7}
    assert_matches_finite_differences(expr, **values)


@pytest.mark.parametrize("expr", [
    "sum(x)", "sum(x, 0)", "sum(x, 1)", "sum(x, -1)", "mean(x)", "mean(x, 0)", "mean(x, 1)",
    "max(x)", "max(x, 0)", "min(x)", "min(x, 1)", "transpose(x) * y", "softmax(x) * y", "logsumexp(x)",
])
def test_reductions_and_shape_operations(expr):
    values = {"x": anywhere(3, 4)}
    if "y" in expr:
        values["y"] = anywhere(4, 3) if "transpose" in expr else anywhere(3, 4)
    assert_matches_finite_differences(expr, **values)


@pytest.mark.parametrize("shapes", [((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((3,), (3,))])
def test_matrix_product_and_dot(shapes):
    x, y = anywhere(*shapes[0]), anywhere(*shapes[1])
    assert_matches_finite_differences("x @ y", x=x, y=y)
    assert_matches_finite_differences("dot(x, y)", x=x, y=y)


def test_every_array_operation_is_tested():
    array_ops = {name for name, layer in REGISTRY.items() if layer.array_only and not layer.internal}
    assert array_ops == {"matmul", "dot", "sum", "mean", "max", "min", "transpose", "softmax", "logsumexp",
                         "clip", "stack", "index", "reshape", "flatten", "outer", "diag", "trace", "norm",
                         "log_softmax", "var", "std", "concat", "cumsum", "prod"}


ARRAY_EXPRESSIONS = [
    "v[0] * v[-1]", "sum(v[1:] * v[:-1])", "sum(v[::2])", "sum(v[::-1] * w)", "v[1] + v[1] * v[2]",
    "sum(X[0, :] * X[:, 1])", "X[1, 0] * X[-1, -1]", "sum(X[:, ::2])", "sum(X[1:] * X[1:])",
    "sum([x, v[0], 2 * v[1]] * w)", "sum([[x, v[0]], [v[1], x]] @ X[:2])", "sum(stack(v, w, axis=1) @ X[:2, :2])",
    "sum(100 * (v[1:] - v[:-1]^2)^2 + (1 - v[:-1])^2)",
    "sum(reshape(X, [9]) * reshape(X, -1))", "sum(reshape(X, [1, 9]) @ reshape(X, [9, 1]))",
    "sum(flatten(X) * flatten(transpose(X)))", "sum(outer(v, w) * X)", "trace(X @ X)",
    "sum(diag(v) @ X) + sum(diag(X) * v)", "norm(v) * norm(X)", "sum(log_softmax(X, axis=0) * X)",
    "sum(log_softmax(v) * w)", "sum(softmax(X, axis=0) * X)", "sum(logsumexp(X, 1) * v)",
    "logsumexp(X, axis=0)[1]",
    "sum(concat(v, w * w, v) * concat(w, v, w))", "sum(concat(X, X[:, :1], axis=1) @ [v[0], 1, 2, v[2]])",
    "sum(cumsum(X, 0) * X)", "sum(cumsum(v * v) * w)",
    "cumsum(X, axis=1)[2, 2] + cumsum(X)[4]", "prod(v)", "sum(prod(X, 0) * v) + prod(X, axis=1)[1]",
    "var(v)", "var(X, 1)[0] + var(X, axis=0, ddof=1)[2]", "std(v) * std(X, 0, ddof=1)[1]", "sum(var(X * X, 0) * v)",
]


@pytest.mark.parametrize("expr", ARRAY_EXPRESSIONS)
def test_literals_and_indexing(expr):
    values = {"v": anywhere(3), "w": anywhere(3), "X": anywhere(3, 3), "x": 0.7}
    used = set(re.findall(r"\b[a-zA-Z]\b", expr))  # one-letter names: v, w, X, x
    assert_matches_finite_differences(expr, **{k: v for k, v in values.items() if k in used})


@pytest.mark.parametrize("expr", ARRAY_EXPRESSIONS + [
    "sum(x, axis=[0, 1])", "sum(sum(X, 1, keepdims=1) * X)", "sum(max(X, axis=0, keepdims=1) * X)",
    "mean(X, keepdims=1)[0, 0]", "max(X, [0, 1]) + min(X, axis=[1, 0])", "[x, x][0] + [[x, x]][0, 1]",
])
def test_formula_of_an_array_expression_parses_back(expr):
    values = {"v": anywhere(3), "w": anywhere(3), "X": anywhere(3, 3), "x": 0.7 if "v" in expr else anywhere(2, 2)}
    used = {k: v for k, v in values.items() if k in set(re.findall(r"\b[a-zA-Z]\b", expr))}
    text = to_text(parse(expr))
    original, again = evaluate(expr, **used), evaluate(text, **used)
    np.testing.assert_allclose(again.value, original.value, rtol=1e-12, err_msg=text)
    for name in used:
        np.testing.assert_allclose(again.gradients[name], original.gradients[name], rtol=1e-12, err_msg=text)


@pytest.mark.parametrize("expr", ["sum(x, axis=[0, 1])", "sum(sum(x, 1, keepdims=1) * x)",
                                  "sum(max(x, axis=0, keepdims=1) * x)", "sum(mean(x, [0, 1], keepdims=1) * x)"])
def test_keepdims_and_axis_lists(expr):
    assert_matches_finite_differences(expr, x=anywhere(3, 4))


def test_norm_at_zero_has_gradient_zero_and_new_reductions_by_hand():
    r = evaluate("norm(v)", v=[0.0, 0.0])
    assert r.value == 0.0 and r.gradients["v"].tolist() == [0.0, 0.0]  # the convention
    assert evaluate("norm(v)", v=[3.0, 4.0]).gradients["v"].tolist() == [0.6, 0.8]
    assert evaluate("norm(v)", v=[3e300, 4e300]).value == pytest.approx(5e300)  # no overflow
    assert evaluate("trace(X)", X=[[1.0, 2.0], [3.0, 4.0]]).gradients["X"].tolist() == [[1, 0], [0, 1]]
    r = evaluate("log_softmax(v)[0]", v=[1000.0, 0.0])
    assert r.value == 0.0 and r.gradients["v"].tolist() == [0.0, 0.0]  # stable: no exp(1000)
    with pytest.raises(ShapeError, match="cannot reshape"):
        evaluate("reshape(v, [4])", v=[1.0, 2.0, 3.0])
    with pytest.raises(GradcalcError, match="list of integers"):
        evaluate("reshape(v, [x, 1])", v=[1.0], x=1.0)


def test_prod_at_zeros_by_hand():
    assert evaluate("prod(v)", v=[2.0, 0.0, 4.0]).gradients["v"].tolist() == [0.0, 8.0, 0.0]
    assert evaluate("prod(v)", v=[0.0, 0.0, 4.0]).gradients["v"].tolist() == [0.0, 0.0, 0.0]
    from gradcalc.higher_order import derivatives

    hessian = derivatives(parse("prod(v)"), {"v": [2.0, 3.0, 4.0]}, 2)[2]["v"]["v"]
    np.testing.assert_array_equal(hessian, [[0, 4, 3], [4, 0, 2], [3, 2, 0]])
    with pytest.raises(GradcalcError, match="order 2 is not finite"):  # documented: the rule divides
        derivatives(parse("prod(v)"), {"v": [2.0, 0.0, 4.0]}, 2)


def test_var_and_std_by_hand():
    r = evaluate("var(v)", v=[1.0, 2.0, 6.0])  # mean 3: (4 + 1 + 9) / 3
    assert r.value == pytest.approx(14 / 3)
    np.testing.assert_allclose(r.gradients["v"], [2 * -2 / 3, 2 * -1 / 3, 2 * 3 / 3])  # 2 (x - mean) / n
    r = evaluate("std(v, ddof=1)", v=[1.0, 2.0, 6.0])  # sqrt(14 / 2)
    assert r.value == pytest.approx(np.sqrt(7.0))
    np.testing.assert_allclose(r.gradients["v"], np.array([-2, -1, 3]) / 2 / np.sqrt(7.0))
    with pytest.raises(ShapeError, match="ddof=1"):
        evaluate("var(v, ddof=1)", v=[1.0])


def test_rosenbrock_in_array_form_by_hand():
    r = evaluate("sum(100*(v[1:] - v[:-1]^2)^2 + (1 - v[:-1])^2)", v=[1.2, 1.0, 0.8])
    assert r.value == pytest.approx(19.4 + 4.0)
    # ∂/∂v0 = -400 v0 (v1 - v0²) - 2(1 - v0); ∂/∂v1 = 200 (v1 - v0²) - 400 v1 (v2 - v1²) - 2(1 - v1)
    np.testing.assert_allclose(r.gradients["v"], [211.6, -8.0, -40.0], rtol=1e-12)
    assert evaluate("v[1] + v[1]", v=[1.0, 2.0]).gradients["v"].tolist() == [0.0, 2.0]  # used twice: added


@pytest.mark.parametrize("expr,words", [
    ("v[3]", "index 3 is out of bounds"), ("X[0, 0, 0]", "too many indices"),
    ("[x, v]", "different shapes"), ("x[0]", "too many indices"), ("concat(x, v)", "a number has no axis"),
    ("concat(v, X)", "dimensions"),
])
def test_indexing_shape_errors_name_the_node(expr, words):
    with pytest.raises(ShapeError, match=words):
        evaluate(expr, v=[1.0, 2.0, 3.0], X=[[1.0, 2.0]], x=1.0)


@pytest.mark.parametrize("expr,words", [
    ("v[x]", "an index must be an integer"), ("v[0.5]", "an index must be an integer"),
    ("v[::0]", "step cannot be 0"), ("v[1:x]", "slice's bounds"),
])
def test_indices_are_integers_written_as_numbers(expr, words):
    with pytest.raises(GradcalcError, match=words) as caught:
        evaluate(expr, v=[1.0, 2.0, 3.0], x=1.0)
    assert caught.value.exit_code == 2


def test_max_ties_split_the_gradient_evenly():
    r = evaluate("max(x)", x=[1.0, 3.0, 3.0, 2.0])
    assert r.value == 3.0
    np.testing.assert_array_equal(r.gradients["x"], [0, 0.5, 0.5, 0])
    r = evaluate("min(x, 1)", x=[[1.0, 1.0], [2.0, 0.0]])
    np.testing.assert_array_equal(r.gradients["x"], [[0.5, 0.5], [0, 1]])


def test_softmax_and_logsumexp_are_stable():
    r = evaluate("logsumexp(x)", x=[1000.0, 1000.0])
    assert r.value == pytest.approx(1000 + np.log(2))
    np.testing.assert_allclose(r.gradients["x"], [0.5, 0.5])
    r = evaluate("sum(softmax(x) * c)", x=[1000.0, -1000.0, 0.0], c=[1.0, 2.0, 3.0])
    assert r.value == pytest.approx(1.0)


def test_seed_affine_example():
    r = evaluate("X @ W + b", X=X, W=W, b=B)
    np.testing.assert_array_equal(r.value, [[72, 65, 78, 85], [63, 49, 82, 62]])
    np.testing.assert_array_equal(r.gradients["X"], [[23, 18, 14], [23, 18, 14]])
    np.testing.assert_array_equal(r.gradients["W"], [[12] * 4, [6] * 4, [9] * 4])
    np.testing.assert_array_equal(r.gradients["b"], [2, 2, 2, 2])
    again = evaluate("X @ W + b", X=X, W=W, b=B)  # the notebook doubled these on a second run
    np.testing.assert_array_equal(again.gradients["W"], r.gradients["W"])


def test_seed_affine_example_cli(run_cli):
    code, out, _ = run_cli("X @ W + b", "--X", json.dumps(X), "--W", json.dumps(W), "--b", json.dumps(B),
                           "-o", "json")
    record = json.loads(out)
    assert code == 0
    assert record["value"] == [[72, 65, 78, 85], [63, 49, 82, 62]]
    assert record["gradients"] == {"X": [[23, 18, 14], [23, 18, 14]], "W": [[12] * 4, [6] * 4, [9] * 4],
                                   "b": [2, 2, 2, 2]}
    assert record["seed_grad"] == "ones"
    code, out, _ = run_cli("X @ W + b", "--X", json.dumps(X), "--W", json.dumps(W), "--b", json.dumps(B))
    words = " ".join(out.replace("│", " ").split())
    assert "backward was seeded with ones" in words and "2×3 float64" in words


def test_two_layer_network():
    values = {"X": anywhere(4, 3), "W1": anywhere(3, 5), "b1": anywhere(5), "W2": anywhere(5, 2),
              "b2": anywhere(2)}
    assert_matches_finite_differences("sum(relu(X @ W1 + b1) @ W2 + b2)", **values)


def test_seed_grad_option(run_cli):
    code, out, _ = run_cli("x * 2", "--x", "1,2,3", "--seed-grad", "1,0,-1", "-o", "json", "--no-nodes")
    record = json.loads(out)
    assert code == 0 and record["gradients"] == {"x": [2.0, 0.0, -2.0]} and record["seed_grad"] == [1, 0, -1]
    code, _, err = run_cli("x * 2", "--x", "1,2,3", "--seed-grad", "1,0")
    assert code == 2 and "seed gradient has shape (2,)" in err


@pytest.mark.parametrize("text,expected", [
    ("[[1, 2], [3, 4]]", [[1, 2], [3, 4]]), ("1,2,3", [1, 2, 3]), ("-1,-2.5", [-1, -2.5]),
    ("linspace(-1, 1, 5)", [-1, -0.5, 0, 0.5, 1]), ("arange(0, 1, 0.25)", [0, 0.25, 0.5, 0.75]),
])
def test_array_values_on_the_command_line(run_cli, text, expected):
    code, out, _ = run_cli("sum(x)", "--x", text, "-o", "json", "--no-nodes")
    assert code == 0 and json.loads(out)["gradients"]["x"] == np.ones_like(expected).tolist()
    assert json.loads(out)["value"] == pytest.approx(np.sum(expected))


def test_array_values_from_files(run_cli, tmp_path):
    np.save(tmp_path / "x.npy", np.array([[1.0, 2.0], [3.0, 4.0]]))
    (tmp_path / "x.csv").write_text("1,2\n3,4\n")
    (tmp_path / "x.txt").write_text("1 2\n3 4\n")
    for name in ("x.npy", "x.csv", "x.txt"):
        code, out, _ = run_cli("sum(x*x)", "--x", f"@{tmp_path / name}", "-o", "plain")
        assert (code, out) == (0, "30 x=[[2,4],[6,8]]\n"), name


@pytest.mark.parametrize("text,words", [
    ("[[1, 2], [3]]", "this row has 1 element, the first row has 2"), ("[1, nope]", "'nope' is not a number"),
    ("1,x,3", "'x' is not a number"), ("@/no/such/file.npy", "cannot read the file"),
    ("linspace(0, 1)", "linspace(start, stop, count)"), ("[1, 1e999]", "1e999 overflows"),
])
def test_bad_array_values_exit_2(run_cli, text, words):
    code, out, err = run_cli("sum(x)", "--x", text)
    assert code == 2 and out == "" and words in err


def test_ragged_array_through_the_api():
    with pytest.raises(ValueFormatError, match="rectangular"):
        evaluate("sum(x)", x=[[1, 2], [3]])


@pytest.mark.parametrize("expr,values,words", [
    ("X @ W", {"X": np.ones((2, 3)), "W": np.ones((4, 3))},
     "X @ W: the left side has 3 columns, the right side 4 rows"),
    ("x + y", {"x": np.ones(3), "y": np.ones(2)},
     "x + y: the shapes do not broadcast together (x has shape (3,), y has shape (2,))"),
    ("sum(x, 2)", {"x": np.ones((2, 2))}, "axis 2 is out of range for shape (2, 2)"),
])
def test_shape_errors_name_the_node_and_both_shapes(expr, values, words):
    with pytest.raises(ShapeError) as caught:
        evaluate(expr, **values)
    assert words in caught.value.message and caught.value.exit_code == 2


def test_array_domain_error_names_the_element(run_cli):
    with pytest.raises(DomainError, match=r"ln\(x\): argument is -2 at index \(1,\)"):
        evaluate("ln(x)", x=[1.0, -2.0])
    code, _, err = run_cli("sum(ln(x))", "--x", "1,-2")
    assert code == 1 and "at index (1,)" in err


def test_array_overflow_is_an_error_naming_the_element():
    with pytest.raises(Exception, match=r"exp\(x\): the value is inf at index \(1,\)"):
        evaluate("exp(x)", x=[1.0, 1000.0])


def test_axis_must_be_an_integer_literal():
    from gradcalc.errors import UnknownFunctionError

    with pytest.raises(UnknownFunctionError, match="axis of sum"):
        evaluate("sum(x, y)", x=[1.0], y=0)
    with pytest.raises(UnknownFunctionError, match="takes 2 arguments"):
        evaluate("dot(x)", x=[1.0])


@pytest.mark.parametrize("extra", [[], ["--wrt", "x"]])
def test_array_cells_in_batch_csv(run_cli, extra):
    # found by the atheris campaign: spooled CSV rows could not hold arrays
    code, out, _ = run_cli("x*2", "sum(x)", "--x", "1,2,3", "-o", "csv", *extra)
    assert code == 0
    assert out.splitlines()[1:] == ['1,x*2,"[2.0, 4.0, 6.0]","[2.0, 2.0, 2.0]",',
                                    '2,sum(x),6.0,"[1.0, 1.0, 1.0]",']


def test_large_arrays_are_summarised_unless_full(run_cli):
    code, out, _ = run_cli("x * 1", "--x", "linspace(0, 1, 5000)", "-o", "plain", "--wrt", "x")
    assert code == 0 and "..." in out
    code, out, _ = run_cli("x * 1", "--x", "linspace(0, 1, 5000)", "-o", "plain", "--wrt", "x", "--full")
    assert "..." not in out and out.count(",") == 4999


def test_scalar_through_array_code():
    # found by atheris: sigmoid of a scalar in a graph evaluated with numpy wrote in place into a scalar
    r = evaluate("sigmoid(x) * relu(y)", x=0.0, y=[[1.0], [2.0]])
    np.testing.assert_array_equal(r.value, [[0.5], [1.0]])
    assert r.gradients["x"] == pytest.approx(0.25 * 3)


def test_no_numpy_warning_when_gradients_overflow(run_cli):
    # found by atheris: the final finiteness test summed huge gradients outside numpy's errstate
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, out, err = run_cli("c*d/(a-b)", "--a", "[0]", "--b", "linspace(-1, 1, 4)",
                                 "--c", "linspace(-1, 1, 4)", "--d", "-1.79e308", "-o", "json")
    assert code == 1 and "Warning" not in err and json.loads(out)["error"]["type"] == "NonFiniteError"


def test_scalar_expressions_stay_on_floats():
    r = evaluate("x*y + 1", x=2, y=3)
    assert type(r.value) is float and all(type(g) is float for g in r.gradients.values())


def test_gradient_of_a_summed_product_is_the_other_factor():
    # the ones that sum() passes down are not multiplied out: the factor itself is the gradient
    a, b = np.array([1.5, -2.0, 4.0]), np.array([3.0, 0.25, -1.0])
    result = evaluate("sum(a*b) + sum(exp(a))", a=a, b=b)
    assert np.array_equal(result.gradients["a"], b + np.exp(a))
    assert np.array_equal(result.gradients["b"], a)
    product = next(n for n in result.nodes if n.expr == "a*b")
    assert np.array_equal(product.grad, np.ones(3))


@pytest.mark.parametrize("expr", ["sum(a*b)", "sum(a + b)", "a + b", "sum(a)*sum(b)", "mean(a - b)"])
def test_each_variable_gradient_is_its_own_writable_array(expr):
    a, b = [1.0, 2.0], [3.0, 4.0]
    result = evaluate(expr, a=a, b=b)
    expected = evaluate(expr, a=a, b=b)
    before = [(np.array(node.value), None if node.grad is None else np.array(node.grad))
              for node in result.nodes if node.layer != "Input"]
    result.gradients["a"][:] = 99.0
    result.gradients["b"][:] = -99.0
    assert result.inputs["a"].tolist() == a and result.inputs["b"].tolist() == b
    after = [(node.value, node.grad) for node in result.nodes if node.layer != "Input"]
    for (value, grad), (value_now, grad_now) in zip(before, after):
        np.testing.assert_array_equal(value_now, value)
        if grad is not None:
            np.testing.assert_array_equal(grad_now, grad)
    again = evaluate(expr, a=a, b=b)
    np.testing.assert_array_equal(again.gradients["a"], expected.gradients["a"])


def test_a_cached_graph_keeps_no_arrays_after_an_evaluation():
    # parse() caches graphs by text; layers must not keep the last evaluation's arrays alive
    import gradcalc

    text = "sum(sigmoid(w*x + b) * ln(1 + exp(x))) + sum(max(X, 0)) + sum(X @ transpose(X))"
    result = evaluate(text, w=0.5, b=1.0, x=np.linspace(-1, 1, 5), X=np.arange(6.0).reshape(2, 3))
    graph = gradcalc.parse(text)
    for node in graph.nodes:
        for cls in type(node.layer).__mro__:
            for name in getattr(cls, "__slots__", ()):
                assert not isinstance(getattr(node.layer, name, None), np.ndarray), (node.layer, name)
    again = evaluate(text, w=0.5, b=1.0, x=np.linspace(-1, 1, 5), X=np.arange(6.0).reshape(2, 3))
    assert again.value == result.value
    np.testing.assert_array_equal(again.gradients["X"], result.gradients["X"])


@pytest.mark.parametrize("expr,expected_w", [
    ("sum(w*x)", lambda w, x: x.sum()),                          # ones from sum(): the sum of x
    ("sum(exp(w*x))", lambda w, x: (x * np.exp(w * x)).sum()),   # a dot product with the upstream gradient
    ("sum(x*w)", lambda w, x: x.sum()),
    ("sum(w*transpose(X))", lambda w, x: x.sum()),               # a non-contiguous factor
    ("w*x", lambda w, x: x.sum()),                               # an array output seeded with ones
])
def test_gradient_of_a_scalar_factor(expr, expected_w):
    x = np.array([[0.5, -1.5, 2.0], [1.0, 0.25, -3.0]])
    result = evaluate(expr, w=0.75, x=x, X=x)
    assert isinstance(result.gradients["w"], float)
    assert result.gradients["w"] == pytest.approx(expected_w(0.75, x), rel=1e-13)


@pytest.mark.parametrize("text, values, message", [
    ("sum(exp(x*w))", {"x": [1.0, 2.0, 800.0], "w": [1.0, 1.0, 1.0]},
     "exp(x*w): the value is inf at index (2,) (inputs at index (2,): x*w = 800)"),
    ("sum(x/y)", {"x": [1.0, 2.0, 3.0], "y": [1.0, 0.0, 2.0]},
     "x/y: division by zero: the divisor is 0 at index (1,) (inputs at index (1,): x = 2, y = 0)"),
    ("sum(x/y)", {"x": [1.0, 2.0, 3.0], "y": 0.0},  # a scalar divisor is 0 everywhere: no element to name
     "x/y: division by zero: the divisor is 0 (inputs: x = an array of shape (3,), y = 0)"),
    ("sum(exp(x*w) * z)", {"x": [[1.0, 2.0], [3.0, 800.0]], "w": [1.0, 1.0], "z": [[1.0, 1.0], [1.0, 1.0]]},
     "exp(x*w): the value is inf at index (1, 1) (inputs at index (1, 1): x*w = 800)"),
    # w[0] = -1: the gradient sqrt passes on is -inf, though sqrt's derivative at 0 is +inf
    ("sum(sqrt(x)*w)", {"x": [0.0, 2.0, 3.0], "w": [-1.0, 1.0, 1.0]},
     "sqrt(x): its derivative is not finite at this point (the gradient it passes to x is -inf at index (0,))"
     " (inputs at index (0,): x = 0)"),
    ("sum(x*y)", {"x": [1.0, 1e200], "y": [1.0, 1e200]},
     "x*y: the value is inf at index (1,) (inputs at index (1,): x = 1e+200, y = 1e+200)"),
    # d/dp x^p = x^p ln x: not real at x < 0 (p = 2 binds a variable); the element is found before
    # p's gradient is summed to p's shape, a number
    ("p = 2; sum(x^p)", {"x": [1.0, -2.0]},
     "x^p: its derivative in p needs ln(x), which is not real for x < 0 (inputs at index (1,): x = -2, p = 2)"),
    ("sum(x^y)", {"x": [[1.0, 3.0], [-2.0, -2.0]], "y": [2.0, 3.0]},
     "x^y: its derivative in y needs ln(x), which is not real for x < 0 (inputs at index (1, 0): x = -2, y = 2)"),
    # a base of 0 gives log(x, 0) = 0 in numpy, a finite value: its derivative's failure finds the
    # point outside the domain, the same domain error as for numbers
    ("sum(log(x, y))", {"x": [2.0, 2.0], "y": [2.0, 0.0]},
     "log(x, y): the base is 0 at index (1,), log needs a positive base other than 1 "
     "(inputs at index (1,): x = 2, y = 0)"),
    # the gradient y receives is a sum over x's elements: its value, and the element it failed at
    ("sum(atan2(y, x))", {"y": 0.0, "x": [1.0, 0.0]},
     "atan2(y, x): its derivative is not finite at this point (the gradient it passes to y is nan) (inputs at "
     "index (1,): y = 0, x = 0)"),
])
def test_an_error_at_an_element_shows_the_inputs_there(text, values, message):
    with pytest.raises(GradcalcError) as caught:
        evaluate(text, **{name: np.array(value) for name, value in values.items()})
    assert caught.value.message == message


def test_arrays_of_more_axes_than_einsum_and_flat_allow():
    # numpy allows 64 axes; einsum and ndarray.flat stop at 32 (a RuntimeError reached the user)
    x = np.array([1.0, 2.0]).reshape((1,) * 40 + (2,))
    result = evaluate("sum(x*w)", x=x, w=3.0)
    assert result.value == 9.0 and result.gradients["w"] == 3.0
    np.testing.assert_array_equal(result.gradients["x"], np.full(x.shape, 3.0))
    result = evaluate("exp(x)*w", x=x, w=3.0)
    np.testing.assert_allclose(result.value.ravel(), 3.0 * np.exp([1.0, 2.0]), rtol=1e-15)
    assert result.gradients["w"] == pytest.approx(np.exp(1.0) + np.exp(2.0), rel=1e-15)


@pytest.mark.parametrize("text, values, message", [
    # not elementwise: the element at the index is not made of the inputs' elements there
    ("sum(outer(x, y))", {"x": [1.0, 1e200], "y": [1e200, 1.0]},
     "outer(x, y): the value is inf at index (1, 0) (inputs: x = an array of shape (2,), y = an array of shape (2,))"),
    ("sum(A @ B)", {"A": [[1e200, 1.0], [1.0, 1.0]], "B": [[1.0, 1e200], [1.0, 1.0]]},
     "A @ B: the value is inf at index (0, 1) (inputs: A = an array of shape (2, 2), B = an array of shape (2, 2))"),
    # the index is y's: x, of another shape, cannot be read there, so neither is shown by element
    ("sum(x/y)", {"x": [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]], "y": [1.0, 0.0, 2.0]},
     "x/y: division by zero: the divisor is 0 at index (1,) (inputs: x = an array of shape (2, 3),"
     " y = an array of shape (3,))"),
])
def test_inputs_are_shown_by_element_only_where_the_element_is_made_of_them(text, values, message):
    with pytest.raises(GradcalcError) as caught:
        evaluate(text, **{name: np.array(value) for name, value in values.items()})
    assert caught.value.message == message


@pytest.mark.parametrize("value", [1.0, 0.0, -0.0, 2.5, float("nan"), float("inf")])
def test_the_cached_constant_is_broadcast_to_bit_for_bit_and_cannot_be_written(value):
    from gradcalc.numeric import constant

    for shape in [(3,), (2, 4)]:
        got = constant(value, shape)
        assert got.shape == shape and got.tobytes() == np.broadcast_to(value, shape).tobytes()
        with pytest.raises(ValueError):
            got.base[...] = 7.0  # the number under the view: shared by every later evaluation
        with pytest.raises(ValueError):
            got.flags.writeable = True
    assert constant(-0.0, (3,)).tobytes() != constant(0.0, (3,)).tobytes()  # not one dict key


def test_float64_inputs_of_any_layout_give_the_contiguous_results():
    data = np.random.default_rng(9)
    x = data.uniform(0.5, 2, (40, 30))
    text = "sum(sigmoid(x) * ln(1 + exp(x)))"
    expected = evaluate(text, x=np.ascontiguousarray(x))
    for layout in (x.astype(">f8"), np.asfortranarray(x), np.repeat(x, 2, axis=1)[:, ::2], x[::-1][::-1]):
        result = evaluate(text, x=layout)
        assert result.value == pytest.approx(expected.value, rel=1e-13)
        np.testing.assert_allclose(result.gradients["x"], expected.gradients["x"], rtol=1e-13)
        assert result.gradients["x"].dtype == np.float64 and result.gradients["x"].dtype.isnative
