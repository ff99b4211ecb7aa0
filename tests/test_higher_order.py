"""Derivatives of every order against SymPy and finite differences; formulas that evaluate back;
Jacobians, JVP and HVP against their definitions; the command line's shapes of each."""

import itertools
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_differential import POINTS, SYMBOLS, exact, programs

import gradcalc
from gradcalc import parse
from gradcalc.errors import EvaluationError, NonFiniteError, UsageError
from gradcalc.evaluator import evaluate_graph
from gradcalc.higher_order import derivatives, diff
from gradcalc.layers import REGISTRY

x, y = sympy.symbols("x y", real=True)


def cli(*argv):
    return subprocess.run([sys.executable, "-m", "gradcalc", *argv], capture_output=True, text=True, timeout=60)


# --- pinned results --------------------------------------------------------------------------

def test_second_derivative_of_a_quartic():
    assert gradcalc.derivatives("x^4 - 2*x^2", {"x": 2})[2]["x"]["x"] == 44.0
    assert cli("x^4 - 2*x^2", "--x", "2", "--wrt", "x", "--order", "2", "-o", "plain").stdout == "44\n"


def test_rosenbrock_hessian_at_its_minimum():
    assert gradcalc.hessian("(1-x)^2 + 100*(y-x^2)^2", {"x": 1, "y": 1}) == {
        "x": {"x": 802.0, "y": -400.0}, "y": {"x": -400.0, "y": 200.0}}


@pytest.mark.parametrize("point", [-1.3, -0.2, 0.0, 0.4, 2.1])
def test_derivatives_of_tanh_up_to_order_six(point):
    for order in range(2, 7):
        truth = float(sympy.diff(sympy.tanh(x), x, order).subs(x, sympy.Rational(repr(point))).evalf(30))
        value = gradcalc.derivatives("tanh(x)", {"x": point}, order=order)[order]
        for _ in range(order):
            value = value["x"]
        assert value == pytest.approx(truth, rel=1e-12, abs=1e-13), order


def test_kinks_have_zero_second_derivative():
    assert gradcalc.hessian("relu(x) + abs(x)", {"x": 0.0})["x"]["x"] == 0.0
    assert gradcalc.hessian("relu(x) * x", {"x": 2.0})["x"]["x"] == 2.0  # d²(x²)/dx² where relu = x


def test_sqrt_second_derivative_at_zero_is_an_error_naming_the_node():
    with pytest.raises(NonFiniteError) as caught:
        gradcalc.hessian("sqrt(x) + x", {"x": 0.0})
    assert "sqrt(x)" in caught.value.message
    # a point where the first derivative exists but the second does not: |x|^1.5 is C¹ at 0
    assert gradcalc.hessian("x^3", {"x": 0.0})["x"]["x"] == 0.0


def test_a_variable_called_order_keeps_working():
    found = gradcalc.derivatives("order * wrt^3", {"order": 2, "wrt": 1}, order=3)
    assert found[2]["wrt"]["wrt"] == 12.0 and found[3]["order"]["wrt"]["wrt"] == 6.0


def test_order_out_of_range_is_a_usage_error():
    with pytest.raises(UsageError):
        gradcalc.derivatives("x", {"x": 1}, order=11)
    assert cli("x", "--x", "1", "--order", "11").returncode == 2


def test_zero_to_a_fractional_power_has_a_gradient_in_the_exponent():
    # issue 12, item 15: the infinite slope belongs to the constant base, which nothing varies
    assert gradcalc.evaluate("0**y", y=0.5).gradients == {"y": 0.0}


# --- against SymPy on generated programs ---------------------------------------------------------

def _scalar_truths(expr, subs, names, order):
    truths = {}
    for index in itertools.combinations_with_replacement(names, order):
        derivative = sympy.diff(expr, *[SYMBOLS[n] for n in index])
        truths[index] = exact(derivative, subs)
    return truths


@settings(max_examples=40)
@given(programs(), POINTS, st.sampled_from([2, 2, 3, 4]))
def test_higher_derivatives_against_sympy(program, point, order):
    text, expr, bindings = program
    assume(not expr.has(sympy.nan))
    graph = parse(text)
    try:
        result = evaluate_graph(graph, point)
        found = derivatives(graph, point, order)[order]
    except EvaluationError:
        assume(False)
    assume(all(abs(node.value) < 1e6 for node in result.nodes))
    for node in graph.nodes:  # near a kink the derivatives are conventions
        if node.layer.kink:
            assume(abs(node.layer.kink_input(*[result.values[i] for i in node.inputs])) > 1e-4)
    names = sorted(graph.variables)
    subs = {SYMBOLS[name]: sympy.Rational(repr(value)) for name, value in {**point, **bindings}.items()}
    truths = _scalar_truths(expr, subs, names, order)
    scale = max([abs(t) for t in truths.values()] + [abs(v) for v in result.values] + [1.0])
    for index, truth in truths.items():
        assume(abs(truth) < 1e6)
        for ordering in set(itertools.permutations(index)):  # every ordering: symmetric to rounding
            value = found
            for name in ordering:
                value = value[name]
            assert value == pytest.approx(truth, rel=1e-9, abs=1e-9 * scale), (text, index)


@settings(max_examples=40)
@given(programs(), POINTS)
def test_printed_derivative_evaluates_to_the_gradient(program, point):
    text, _, _ = program
    graph = parse(text)
    try:
        result = evaluate_graph(graph, point)
    except EvaluationError:
        assume(False)
    # --diff refuses array operations (sum, @) by design; clip of scalars is written as a formula
    assume(not any(node.layer.array_only and not node.layer.scalar_elementwise for node in graph.nodes))
    for name in graph.variables:
        if name in graph.bindings:
            continue
        formula = diff(graph, name)
        try:
            again = gradcalc.evaluate(formula, **point).value
        except EvaluationError:  # a formula may divide by a node that is 0 only in rounding
            assume(False)
        scale = max([abs(v) for v in result.values] + [abs(g or 0) for g in result.grads] + [1.0])
        assert again == pytest.approx(result.gradients[name], rel=1e-9, abs=1e-9 * scale), (text, formula)


def test_formula_is_linear_in_the_size_of_the_expression():
    terms = " + ".join(f"sin(x{i % 7})*cos(x{(i + 1) % 7})*exp(x{i % 5})" for i in range(300))
    formula = gradcalc.diff(terms, "x0")
    assert len(formula) < 10 * len(terms)
    point = {f"x{i}": 0.1 * i for i in range(7)}
    assert gradcalc.evaluate(formula, **point).value == pytest.approx(
        gradcalc.evaluate(terms, **point).gradients["x0"], rel=1e-9)


@pytest.mark.parametrize("text,expected", [
    ("x^3*y", "3*(y*x^2)"),
    ("x*1 + 0", "1"),
    ("x^4 - 2*x^2", "-4*x + 4*x^3"),
    ("-(-x)", "1"),
    ("relu(x)", "step(x)"),
    ("abs(x)", "sign(x)"),
])
def test_formulas_are_simplified(text, expected):
    assert gradcalc.diff(text, "x") == expected


def test_formula_keeps_the_line_bindings_so_it_evaluates_alone():
    formula = gradcalc.diff("a = 3; a*x^2", "x")
    assert gradcalc.evaluate(formula, x=2).value == 12.0


def test_latex():
    assert gradcalc.diff("x^3", "x", latex=True) == r"3 \cdot {x}^{2}"
    assert gradcalc.diff("ln(x)/y", "x", latex=True) == r"\frac{\frac{1}{y}}{x}"


def test_diff_refuses_array_operations_and_unknown_names():
    with pytest.raises(UsageError):
        gradcalc.diff("sum(x)", "x")
    with pytest.raises(UsageError):
        gradcalc.diff("x*y", "z")


# --- arrays: Hessian blocks, Jacobians, JVP and HVP against finite differences -----------------

def _numeric_jacobian(function, value, h=1e-6):
    """d function / d value by central differences, shape shape(f) + shape(value)."""
    value = np.asarray(value, dtype=float)
    columns = []
    for index in np.ndindex(value.shape or (1,)):
        step = np.zeros_like(value)
        step[index if value.shape else ()] = h
        columns.append((np.asarray(function(value + step)) - np.asarray(function(value - step))) / (2 * h))
    stacked = np.stack(columns, axis=-1)
    return stacked.reshape(np.shape(columns[0]) + value.shape)


ARRAY_CASES = [
    ("sum(x*x*x) * b", {"x": [1.0, -2.0, 0.5], "b": 1.5}),
    ("sum(A@x * x)", {"x": [1.0, 2.0], "A": [[1.0, 2.0], [3.0, 4.0]]}),
    ("sum(softmax(x) * c)", {"x": [1.0, 2.0, 0.5], "c": [1.0, 0.0, 2.0]}),
    ("logsumexp(x * b)", {"x": [1.0, 2.0], "b": 0.7}),
    ("max(x*x) + mean(x^3)", {"x": [1.0, -3.0]}),
    ("sum(transpose(M) @ x) + sum(M, 0) @ x", {"M": [[1.0, 2.0], [0.5, -1.0]], "x": [0.3, 0.7]}),
    ("dot(x, x) * sum(tanh(M), 1) @ x", {"M": [[1.0, 2.0], [0.5, -1.0]], "x": [0.3, 0.7]}),
    ("x @ M @ x", {"M": [[1.0, 2.0], [0.5, -1.0]], "x": [0.3, 0.7]}),
]


@pytest.mark.parametrize("text,values", ARRAY_CASES)
def test_hessian_blocks_are_derivatives_of_the_gradient(text, values):
    values = {name: np.array(value) if isinstance(value, list) else value for name, value in values.items()}
    hessian = gradcalc.hessian(text, values)
    for a in values:
        for b in values:
            def gradient_a(moved, b=b, a=a):
                return gradcalc.evaluate(text, **{**values, b: moved}).gradients[a]
            numeric = _numeric_jacobian(gradient_a, values[b])
            assert np.shape(hessian[a][b]) == np.shape(values[a]) + np.shape(values[b])
            assert np.allclose(hessian[a][b], numeric, rtol=1e-6, atol=1e-6), (a, b)


@pytest.mark.parametrize("text,values", [
    ("x * y", {"x": [1.0, 2.0], "y": 3.0}),
    ("M @ x", {"M": [[1.0, 2.0], [0.5, -1.0]], "x": [0.3, 0.7]}),
    ("softmax(x)", {"x": [1.0, 2.0, 0.5]}),
    ("sin(x) * y", {"x": 1.0, "y": 2.0}),
])
def test_jacobian_jvp_and_hvp_against_their_definitions(text, values):
    values = {name: np.array(value) if isinstance(value, list) else value for name, value in values.items()}
    jacobian = gradcalc.jacobian(text, values)
    rng = np.random.default_rng(3)
    direction = {name: rng.normal(size=np.shape(value)) if np.shape(value) else float(rng.normal())
                 for name, value in values.items()}
    expected_jvp = 0.0
    for name, value in values.items():
        numeric = _numeric_jacobian(lambda moved, name=name: gradcalc.evaluate(text, **{**values, name: moved}).value,
                                    value)
        assert np.allclose(jacobian[name], numeric, rtol=1e-6, atol=1e-6), name
        axes = np.ndim(value)
        expected_jvp = expected_jvp + np.tensordot(jacobian[name], direction[name], axes=axes)
    assert np.allclose(gradcalc.jvp(text, values, direction), expected_jvp, rtol=1e-9, atol=1e-12)
    hessian = gradcalc.hessian(text, values)
    hvp = gradcalc.hvp(text, values, direction)
    for a in values:
        expected = sum(np.tensordot(hessian[a][b], direction[b], axes=np.ndim(values[b])) for b in values)
        assert np.allclose(hvp[a], expected, rtol=1e-9, atol=1e-12), a


def test_every_internal_layer_rule_matches_finite_differences():
    # the layers that only derivative graphs use: their rules are what makes order 3 possible
    from gradcalc.ops import ArrayOps

    rng = np.random.default_rng(5)
    cases = {
        "_spread": ((rng.normal(size=3), rng.normal(size=(3, 4))), {"axis": 1, "mean": True}),
        "_sum_like": ((rng.normal(size=(2, 3)), rng.normal(size=(3,))), {}),
        "_broadcast_like": ((rng.normal(size=(3,)), rng.normal(size=(2, 3))), {}),
        "_matmul_grad": ((rng.normal(size=(2,)), rng.normal(size=(2, 3)), rng.normal(size=(3,))), {"side": 0}),
        "_winners": ((rng.normal(size=(4,)),), {}),
        "_prod_others": ((rng.uniform(0.5, 2, size=(4,)),), {}),
        "_rev_cumsum": ((rng.normal(size=(6,)), rng.normal(size=(2, 3))), {}),
        "_part": ((rng.normal(size=(5, 2)), rng.normal(size=(2, 2)), rng.normal(size=(3, 2))), {"index": 1}),
        "_place": ((rng.normal(size=(2, 3)), rng.normal(size=(2, 2)), rng.normal(size=(2, 3))),
                   {"axis": 1, "index": 1}),
        "_reshape_like": ((rng.normal(size=(6,)), rng.normal(size=(2, 3))), {}),
        "_scatter": ((rng.normal(size=(2,)), rng.normal(size=(3, 4))), {"key": (1, ("slice", None, None, 2))}),
    }
    internal = {name for name, layer in REGISTRY.items() if layer.internal}
    assert internal == set(cases)
    for name, (inputs, params) in cases.items():
        layer = REGISTRY[name](**params)
        out = layer.forward(*inputs)
        g = rng.normal(size=np.shape(out))
        grads = layer.backward(ArrayOps, g, out, *inputs)
        for position, (value, grad) in enumerate(zip(inputs, grads)):
            def objective(moved, position=position):
                moved_inputs = list(inputs)
                moved_inputs[position] = moved
                return float(np.sum(g * layer.forward(*moved_inputs)))
            numeric = _numeric_jacobian(objective, value)
            assert np.allclose(0.0 if grad is None else grad, numeric, atol=1e-6), (name, position)


# --- the command line ------------------------------------------------------------------------------

def test_json_derivatives_shape_for_jq():
    record = json.loads(cli("(1-x)^2 + 100*(y-x^2)^2", "--x", "1", "--y", "1", "--order", "3", "-o", "json").stdout)
    assert record["derivatives"]["2"]["x"]["y"] == -400.0
    assert record["derivatives"]["3"]["x"]["x"]["x"] == 2400.0
    assert record["derivatives"]["3"]["x"]["y"]["x"] == record["derivatives"]["3"]["x"]["x"]["y"] == -400.0
    assert "1" not in record["derivatives"] and record["gradients"] == {"x": 0.0, "y": 0.0}


def test_csv_has_one_column_per_distinct_derivative():
    out = cli("x^2*y", "--x", "2", "--y", "3", "--hessian", "-o", "csv").stdout.splitlines()
    assert out[0] == "line,expression,value,grad_x,grad_y,d2_x_x,d2_x_y,d2_y_y,error"
    assert out[1] == "1,x^2*y,12.0,12.0,4.0,6.0,4.0,0.0,"


def test_table_prints_the_hessian_as_a_matrix():
    out = cli("x^2*y", "--x", "2", "--y", "3", "--hessian", "--no-nodes").stdout
    hessian = out[out.index("Hessian"):].splitlines()
    rows = {cells[1].strip(): [c.strip() for c in cells[2:4]]
            for cells in (line.split("│") for line in hessian if line.startswith("│"))}
    assert rows == {"x": ["6", "4"], "y": ["4", "0"]}


def test_batch_and_jsonl_carry_derivatives_per_line():
    process = subprocess.run([sys.executable, "-m", "gradcalc", "-o", "jsonl", "--order", "2", "--x", "2"],
                             input="x^3\nsin(x)\nln(-x)\n", capture_output=True, text=True, timeout=60)
    records = [json.loads(line) for line in process.stdout.splitlines()]
    assert records[0]["derivatives"]["2"]["x"]["x"] == 12.0
    assert records[1]["derivatives"]["2"]["x"]["x"] == pytest.approx(-math.sin(2))
    assert records[2]["error"]["type"] == "DomainError" and process.returncode == 1


def test_jvp_and_hvp_options():
    record = json.loads(cli("x^2*y", "--x", "2", "--y", "3", "--jvp", "x=1,y=2", "--hvp", "x=1", "-o", "json",
                            "--no-nodes").stdout)
    assert record["jvp"] == 12 * 1 + 4 * 2
    assert record["hvp"] == {"x": 6.0, "y": 4.0}
    arrays = json.loads(cli("x*x", "--x", "1,2", "--jvp", "x=[1,0]", "-o", "json", "--no-nodes").stdout)
    assert arrays["jvp"] == [2.0, 0.0]
    assert cli("x", "--x", "1", "--jvp", "q=1").returncode == 2


def test_jacobian_option():
    record = json.loads(cli("x*y", "--x", "1,2", "--y", "3", "--jacobian", "-o", "json", "--no-nodes").stdout)
    assert record["jacobian"] == {"x": [[3.0, 0.0], [0.0, 3.0]], "y": [1.0, 2.0]}


def test_diff_option_round_trips_through_the_shell():
    formula = cli("--diff", "x", "x^3*y").stdout.strip()
    assert cli(formula, "--x", "2", "--y", "3", "-o", "plain").stdout.split()[0] == "36"
    assert json.loads(cli("--diff", "x", "x^3*y", "-o", "json").stdout) == {
        "expression": "x^3*y", "wrt": "x", "derivative": formula}
    assert cli("--diff", "x", "--order", "2", "x^3*y", "-o", "latex").stdout.strip().startswith("6")
    batch = subprocess.run([sys.executable, "-m", "gradcalc", "--diff", "x", "-o", "plain"],
                           input="x^2\n\nexp(2*x)\n", capture_output=True, text=True, timeout=60)
    assert batch.stdout.splitlines() == ["2*x", "2*exp(2*x)"]


def test_bad_combinations_are_usage_errors():
    assert cli("x", "--x", "1", "-o", "latex").returncode == 2
    assert cli("--diff", "x", "x", "-o", "csv").returncode == 2
    assert cli("--diff", "z", "x").returncode == 2


def test_data_rows_get_their_own_derivative_columns(tmp_path):
    points = tmp_path / "points.csv"
    points.write_text("x,y\n1,2\n2,3\n-1,0.5\n")
    out = cli("x^3*y + ln(y)", "--data", str(points), "--order", "3").stdout.splitlines()
    header = out[0].split(",")
    assert header[5:12] == ["d2_x_x", "d2_x_y", "d2_y_y", "d3_x_x_x", "d3_x_x_y", "d3_x_y_y", "d3_y_y_y"]
    for line in out[1:]:
        row = dict(zip(header, line.split(",")))
        px, py = float(row["x"]), float(row["y"])
        expected = {"d2_x_x": 6 * px * py, "d2_x_y": 3 * px ** 2, "d2_y_y": -1 / py ** 2, "d3_x_x_x": 6 * py,
                    "d3_x_x_y": 6 * px, "d3_x_y_y": 0.0, "d3_y_y_y": 2 / py ** 3}
        for column, value in expected.items():
            assert float(row[column]) == pytest.approx(value, rel=1e-12), column


# --- --check with --order 2 ----------------------------------------------------------------------

def _checked(text, values):
    from gradcalc.check import CheckReport, gradient_check
    from gradcalc.check_hessian import hessian_check
    from gradcalc.higher_order import add_to_result

    result = gradcalc.gradient(text, values)
    add_to_result(result, order=2)
    return CheckReport(gradient_check(result).rows + hessian_check(result).rows)


@pytest.mark.parametrize("text,values", [
    ("(1-x)^2 + 100*(y-x^2)^2", {"x": 1.0, "y": 1.0}),
    ("ln(x)*y + sqrt(x)", {"x": 1e-5, "y": 3.0}),
    ("sin(x)*exp(y)/x", {"x": 0.3, "y": 2.0}),
    ("sigmoid(x*y) * tanh(x - y) + x^-2", {"x": 0.7, "y": -1.2}),
    ("sum(x*x*x) * b", {"x": [1.0, 2.0], "b": 3.0}),
])
def test_second_order_check_passes_right_hessians(text, values):
    values = {k: np.array(v) if isinstance(v, list) else v for k, v in values.items()}
    report = _checked(text, values)
    assert report.passed
    names = {row.name for row in report.rows}
    assert {"d2_x_x"} <= names or {"d2_x[0]_x[0]"} <= names
    assert all(row.verdict in ("ok", "unreliable") for row in report.rows)


def test_second_order_check_catches_a_wrong_symbolic_rule(monkeypatch):
    # the gradient graph is built from GraphOps; a wrong one there is what this check exists for
    from gradcalc.layers import Sin
    from gradcalc.ops import ScalarOps
    from gradcalc.symbolic import GraphOps, _unary

    monkeypatch.setattr(GraphOps, "cos", _unary(Sin, ScalarOps.sin))
    report = _checked("sin(x) * y", {"x": 0.7, "y": 2.0})
    verdicts = {row.name: row.verdict for row in report.rows}
    assert verdicts["x"] == "ok"  # the numbers' rule is right: first order passes
    assert verdicts["d2_x_x"] == "mismatch" and not report.passed


def test_second_order_check_on_the_command_line():
    out = cli("sin(x)*exp(y)/x", "--x", "0.3", "--y", "2", "--hessian", "--check", "-o", "json", "--no-nodes")
    record = json.loads(out.stdout)
    assert {row: value["verdict"] for row, value in record["check"].items()} == {
        "x": "ok", "y": "ok", "d2_x_x": "ok", "d2_x_y": "ok", "d2_y_y": "ok"}
    assert out.returncode == 0


@settings(max_examples=60)
@given(programs(), POINTS)
def test_second_order_check_never_cries_wolf_on_generated_programs(program, point):
    text, _, _ = program
    try:
        report = _checked(text, point)
    except EvaluationError:
        assume(False)
    assert report.passed, [(row.name, row.analytic, row.numeric, row.note) for row in report.rows
                           if row.verdict == "mismatch"]


# --- what a new user's trial found -----------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda: gradcalc.hessian("ln(x)", {"x": -1}),
    lambda: gradcalc.derivatives("ln(x-2)+x", {"x": 1}, order=3),
    lambda: gradcalc.hvp("ln(x)*y", {"x": -1, "y": 2}, {"x": 1}),
    lambda: gradcalc.hvp("1/x", {"x": 0}, {"x": 1}),
])
def test_the_api_refuses_points_outside_the_domain(call):
    from gradcalc.errors import DomainError

    with pytest.raises(DomainError):
        call()


@pytest.mark.parametrize("call", [
    lambda: gradcalc.derivatives("x^3", {"x": 1}, order="3"),
    lambda: gradcalc.derivatives("x^3", {"x": 1}, order=2.0),
    lambda: gradcalc.derivatives("x^3", {"x": 1}, order=True),
    lambda: gradcalc.derivatives("x^3", {"x": 1}, order=0),
    lambda: gradcalc.jvp("x*y", {"x": 1, "y": 2}, {"x": "a"}),
    lambda: gradcalc.jvp("x*y", {"x": 1, "y": 2}, [1, 2]),
    lambda: gradcalc.hvp("x*y", {"x": 1, "y": 2}, None),
    lambda: gradcalc.hessian(None, {}),
    lambda: gradcalc.hessian("x", [1]),
    lambda: gradcalc.jvp("x*y", {"x": [1, 2], "y": 2}, {"x": [1, 2, 3]}),
])
def test_the_api_raises_only_gradcalc_errors(call):
    from gradcalc.errors import InputError

    with pytest.raises(InputError):
        call()


def test_a_seed_given_as_a_list_is_an_array():
    hessian = gradcalc.hessian("x*y", {"x": [1.0, 2.0], "y": 2.0}, seed_grad=[1.0, 2.0])
    assert np.allclose(hessian["x"]["y"], [1.0, 2.0])  # d/dy of sum(seed * x * y) in x: seed


def test_zero_to_the_x_is_flat_at_every_order():
    assert gradcalc.derivatives("0^x", {"x": 2.0}, order=3) == {2: {"x": {"x": 0.0}}, 3: {"x": {"x": {"x": 0.0}}}}
    assert gradcalc.diff("0^x", "x", order=2) == "0"


def test_an_infinite_second_derivative_names_the_node_and_its_inputs():
    with pytest.raises(NonFiniteError) as caught:
        gradcalc.hessian("x^1.5 + y", {"x": 0.0, "y": 1.0})
    assert caught.value.message == "x^1.5: its derivative of order 2 is not finite at this point (inputs: x = 0)"
    assert "∂" not in caught.value.message


def test_an_infinite_second_derivative_of_an_array_names_the_element():
    # (x^1.5)'' = 0.75 x^-0.5: infinite at x[1] = 0
    with pytest.raises(NonFiniteError) as caught:
        gradcalc.hessian("sum(x^1.5 * y)", {"x": [1.0, 0.0], "y": 2.0})
    assert caught.value.message == ("x^1.5: its derivative of order 2 is not finite at this point "
                                    "(inputs at index (1,): x = 0)")


@pytest.mark.parametrize("spec", ["x=1,,", "x=1,,y=2", "", "=1", "x=", "x=[1,2"])
def test_malformed_directions_are_usage_errors(spec):
    out = cli("x*y", "--x", "1", "--y", "2", "--jvp", spec)
    assert out.returncode == 2 and "Traceback" not in out.stderr and out.stderr.startswith("gradcalc: error")


def test_diff_text_and_memory_stay_linear_in_a_long_sum():
    import tracemalloc

    def peak_and_text(terms):
        text = "x*y + " + " + ".join(f"sin(x*{i})" for i in range(1, terms + 1))
        graph = parse(text)
        tracemalloc.start()
        formula = diff(graph, "x")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak, text, formula

    small, _, _ = peak_and_text(2000)
    large, text, formula = peak_and_text(8000)
    assert large < 6 * small  # 4x the terms: linear is 4x; the old printer's prefixes made it ~16x
    assert len(formula) < 3 * len(text)
    assert gradcalc.evaluate(formula, x=0.3, y=2.0).value == pytest.approx(
        gradcalc.evaluate(text, x=0.3, y=2.0).gradients["x"], rel=1e-12)
