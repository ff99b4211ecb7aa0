"""--explain: each step's upstream, local derivative (number and formula) and contribution; the
contributions add up to the exact gradients; the local derivatives agree with central differences
of each operation alone, and their formulas evaluate to the same numbers."""

import json
import math
import re

import numpy as np
import pytest

from conftest import load_cases, read_layouts
from gradcalc import GradcalcError, evaluate
from gradcalc.explain import explain

KEYS = {"node", "from", "upstream", "local", "local_formula", "contribution"}
SEED = ("c*d/(a-b)", "--a", "1", "--b", "2", "--c", "3", "--d", "4")


def _values(case):
    return {name: float(value) for name, value in case["vars"].items()}


def test_seed_steps_in_json(run_cli):
    code, out, err = run_cli(*SEED, "--explain", "-o", "json")
    assert code == 0 and err == ""
    steps = json.loads(out)["explain"]
    assert all(set(step) == KEYS for step in steps)
    # ids: c 0, d 1, c*d 2, a 3, b 4, a-b 5, output 6; hand-derived with x = c*d = 12, y = a-b = -1
    assert steps == [
        {"node": 5, "from": 6, "upstream": 1.0, "local": -12.0,  # ∂(x/y)/∂y = -x/y² = -12
         "local_formula": "-(1/(a-b))*(c*d/(a-b))", "contribution": -12.0},
        {"node": 4, "from": 5, "upstream": -12.0, "local": -1.0, "local_formula": "-1", "contribution": 12.0},
        {"node": 3, "from": 5, "upstream": -12.0, "local": 1.0, "local_formula": "1", "contribution": -12.0},
        {"node": 2, "from": 6, "upstream": 1.0, "local": -1.0,  # ∂(x/y)/∂x = 1/y = -1
         "local_formula": "1/(a-b)", "contribution": -1.0},
        {"node": 1, "from": 2, "upstream": -1.0, "local": 3.0, "local_formula": "c", "contribution": -3.0},
        {"node": 0, "from": 2, "upstream": -1.0, "local": 4.0, "local_formula": "d", "contribution": -4.0},
    ]


def test_a_node_used_three_times_sums_its_contributions(run_cli):
    code, out, _ = run_cli("x*x + x", "--x", "3", "--explain", "--no-nodes")
    assert code == 0
    assert "∂(x*x)/∂x = x = 3" in out
    sum_row = next(line for line in out.splitlines() if "│ sum " in line)
    assert "1 + 3 + 3" in sum_row and sum_row.rstrip("│ ").endswith("7")  # d/dx (x² + x) = 2x + 1


@pytest.mark.parametrize("case", load_cases(), ids=lambda case: str(case["id"]))
def test_steps_make_the_exact_gradients(case):
    values = _values(case)
    result = evaluate(case["expr"], **values)
    steps = explain(result)
    totals = {}
    for step in steps:
        totals[step.node] = totals.get(step.node, 0.0) + step.contribution
        if math.isfinite(step.local):
            assert math.isclose(step.upstream * step.local, step.contribution, rel_tol=1e-12, abs_tol=1e-300)
    for name, expected in case["grad"].items():
        got = totals.get(result.graph.variables[name], 0.0)
        assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9), (name, got, expected)
    for node, total in totals.items():  # each node's steps add up to the gradient backward reported
        assert math.isclose(total, result.grads[node], rel_tol=1e-12, abs_tol=1e-300)
    order = [step.node for step in steps]
    assert order == sorted(order, reverse=True)  # from the output back


@pytest.mark.parametrize("case", load_cases()[::3], ids=lambda case: str(case["id"]))
def test_local_derivatives_by_central_differences_and_formulas(case):
    """Each operation alone, its other inputs fixed: the slope by central differences of its
    forward, and the formula's text evaluated by gradcalc itself, both equal the step's local."""
    values = _values(case)
    result = evaluate(case["expr"], **values)
    graph = result.graph
    steps, checked = explain(result), 0
    for step in steps:
        node = graph.nodes[step.source]
        if not math.isfinite(step.local):
            continue
        formula_value = evaluate(step.local_formula, **values).value
        assert math.isclose(formula_value, step.local, rel_tol=1e-12, abs_tol=1e-12), step.local_formula
        if node.layer.kink:  # a difference quotient across the kink would straddle two slopes
            continue
        xs = [result.values[i] for i in node.inputs]
        h = 1e-6 * max(1.0, abs(xs[step.position]))

        def shifted(delta):
            moved = list(xs)
            moved[step.position] += delta
            return node.layer.forward(*moved)

        try:
            slope = (shifted(h) - shifted(-h)) / (2 * h)
        except (ArithmeticError, GradcalcError):  # a step leaves the domain: skip this one
            continue
        checked += 1
        assert math.isclose(slope, step.local, rel_tol=1e-5, abs_tol=1e-6 * max(1.0, abs(result.values[node.id]))), \
            (graph.text(node), step.position, slope, step.local)
    assert checked or not steps or all(graph.nodes[step.source].layer.kink for step in steps)


def test_arrays_give_contributions_and_no_local_number():
    w = np.array([1.0, -2.0, 4.0])
    result = evaluate("sum(w * x)", w=w, x=0.5)
    steps = {(step.node, step.source): step for step in explain(result)}
    ids = result.graph.variables
    to_w = steps[(ids["w"], 2)]
    assert to_w.local is None and to_w.local_formula == "x"
    np.testing.assert_array_equal(to_w.contribution, [0.5, 0.5, 0.5])
    assert steps[(2, 3)].local_formula is None  # sum's derivative spreads: no formula
    record = to_w.to_dict()
    assert set(record) == KEYS and record["contribution"] == [0.5, 0.5, 0.5]


ARRAYS = {"vector": np.array([0.3, 1.2, 0.7]), "matrix": np.array([[0.3, 1.2], [0.7, 2.1]])}


def _array_calls():
    """Each call of an array function of the registry (and its axis variants) that takes x."""
    from test_empty_arrays import CALLS

    from gradcalc.layers import REGISTRY

    return [text for name, text, _ in CALLS if REGISTRY[name].array_only]


@pytest.mark.parametrize("shape", list(ARRAYS))
@pytest.mark.parametrize("text", _array_calls())
def test_every_array_function_explains_its_steps(text, shape):
    # transpose, stack, diag, outer and log_softmax ran their rules on a number as the upstream
    # gradient to write a formula, and failed (exit 70): an array operation has none to write
    try:
        result = evaluate(f"sum({text} * {text})", x=ARRAYS[shape])
    except GradcalcError:
        return  # not a shape this function takes (outer of a matrix)
    steps = explain(result)
    to_x = [step.contribution for step in steps if step.node == result.graph.variables["x"]]
    np.testing.assert_allclose(sum(to_x), result.gradients["x"], rtol=1e-14)
    graph = result.graph
    call = next(node for node in graph.nodes if graph.text(node) == text)
    if not call.layer.broadcasts():  # clip is elementwise: its local derivatives are formulas
        assert all(step.local_formula is None for step in steps if step.source == call.id)


def test_constants_and_unused_nodes_have_no_steps():
    result = evaluate("e = a*b; 2*3*a", a=1.5, b=2.0)
    steps = explain(result)
    graph = result.graph
    assert {graph.text(graph.nodes[step.node]) for step in steps} == {"a"}  # 2*3 is constant, e unused
    assert [step.contribution for step in steps] == [6.0]


def test_a_non_finite_number_is_null_in_json():
    from gradcalc.explain import Step

    record = Step(0, 1, 0, 0.0, math.inf, "1/(2*sqrt(x))", 0.0).to_dict()
    assert record["local"] is None
    json.dumps(record, allow_nan=False)


@pytest.mark.parametrize("output_format", ["csv", "tsv", "plain", "dot", "tree"])
def test_explain_needs_a_table_or_json(run_cli, output_format):
    code, _, err = run_cli(*SEED, "--explain", "-o", output_format)
    assert code == 2 and "--explain shows in a table, json or jsonl" in err


def test_explain_in_a_batch_names_the_line(run_cli):
    code, out, _ = run_cli("x*y", "x+y", "--x", "2", "--y", "5", "--explain")
    assert code == 0
    assert "line 1: the chain rule" in out and "line 2: the chain rule" in out
    code, out, _ = run_cli("x*y", "x+y", "--x", "2", "--y", "5", "--explain", "-o", "jsonl")
    records = [json.loads(line) for line in out.splitlines()]
    assert [[step["local"] for step in record["explain"]] for record in records] == [[2.0, 5.0], [1.0, 1.0]]


@pytest.mark.parametrize("x, clipped", [(2.0, 1.0), (4.0, 0.0)])  # x*y = 3 inside [0, 5]; 6 above it
def test_clip_takes_numpy_yet_scalar_steps_keep_their_local_numbers(x, clipped):
    # clip is evaluated by numpy only; the graph still holds numbers, so every local is a number.
    # Hand-derived for clip(x*y, 0, 5) + x at y = 1.5: ∂clip/∂(x*y) is 1 inside the bounds, 0 outside
    result = evaluate("clip(x*y, 0, 5) + x", x=x, y=1.5)
    locals_ = {(step.node, step.source): step.local for step in explain(result)}
    # ids: x 0, y 1, x*y 2, 0 3, 5 4, clip 5, output 6
    assert locals_ == {(5, 6): 1.0, (2, 5): clipped, (1, 2): x, (0, 6): 1.0, (0, 2): 1.5}


def test_clip_shows_its_local_numbers_in_the_table(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # no cell wraps
    code, out, _ = run_cli("clip(x*y, 0, 5) + x", "--x", "2", "--y", "1.5", "--explain", "--no-nodes")
    assert code == 0
    assert "∂(x*y)/∂y = x = 2 " in out and "∂(x*y)/∂x = y = 1.5 " in out


def test_scalar_nodes_of_an_array_graph_keep_their_local_numbers():
    result = evaluate("sum(w*x) + x^2", w=np.array([1.0, 2.0]), x=3.0)
    graph = result.graph
    by_text = {(graph.text(graph.nodes[step.node]), graph.text(graph.nodes[step.source])): step.local
               for step in explain(result)}
    assert by_text[("x", "x^2")] == 6.0  # 2x at 3
    assert by_text[("sum(w*x)", "sum(w*x) + x^2")] == 1.0
    assert by_text[("x", "w*x")] is None and by_text[("w", "w*x")] is None  # Jacobians of arrays


# --- the table at any width: numbers whole, labels readable, prose wrapped between words -----------

TRIAL = ("relu(x)*abs(y) + x^y", "--x", "2", "--y", "-1.5")  # the new-user trial's example


def _explain_table(out):
    """The --explain table's rows as lists of cells, each cell's lines joined by newlines (a table,
    or records where its columns cannot fit)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(("┃ node", "node #")))
    _, found = read_layouts("\n".join(lines[start:]))[0]
    headers = ("node", "from", "upstream", "× local derivative", "= contribution")
    return lines, start, [[row.get(header, "") for header in headers] for row in found]


@pytest.mark.parametrize("width", [80, 60, 40])
def test_the_table_keeps_numbers_whole_and_labels_readable(run_cli, monkeypatch, width):
    from gradcalc.formatting import format_number

    monkeypatch.setenv("COLUMNS", str(width))
    code, out, _ = run_cli(*TRIAL, "--explain", "--no-nodes")
    assert code == 0
    result = evaluate("relu(x)*abs(y) + x^y", x=2.0, y=-1.5)
    steps, graph = explain(result), result.graph
    numbers = {format_number(n) for step in steps for n in (step.upstream, step.local, step.contribution)}
    numbers |= {format_number(result.grads[step.node]) for step in steps}  # the sum rows' totals
    assert "-0.26516504294495535" in numbers  # ∂(x^y)/∂x = y·x^(y-1) = -1.5·2^-2.5
    assert math.isclose(-1.5 * 2 ** -2.5, -0.26516504294495535, rel_tol=1e-15)
    lines, start, rows = _explain_table(out)
    table = "\n".join(lines[start:])
    formulas = " ".join([step.local_formula for step in steps] + [graph.source])
    for line in lines[start:]:  # every number in the table is one of the steps' numbers, whole
        for token in re.findall(r"(?<![\w.#])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])", line):
            assert token in numbers or token in formulas, (token, line)
    for number in numbers:
        assert number in table
    steps_rows = [row for row in rows if row[1] != "sum"]
    assert len(steps_rows) == len(steps)
    for row, step in zip(steps_rows, steps):  # the id whole; the text whole, cut readably, or left out
        for cell, node in ((row[0], step.node), (row[1], step.source)):
            label = f"#{node} {graph.label(graph.nodes[node])}"
            assert "\n" not in cell and cell.split(" ")[0] == f"#{node}"
            text = cell.partition(" ")[2]
            assert cell == label or not text or ("…" in text and len(text) >= 7), cell
    assert max(len(line) for line in lines) <= width  # at 60 and 40 records: the headers alone take 64


@pytest.mark.parametrize("width", [80, 60, 40])
def test_the_title_and_caption_wrap_between_words_to_the_width(run_cli, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    _, out, _ = run_cli(*TRIAL, "--explain", "--no-nodes")
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("the chain rule"))
    title = lines[start:next(i for i, line in enumerate(lines) if line.startswith(("┏", "node #")) and i > start)]
    caption = lines[next(i for i, line in enumerate(lines) if line.startswith("each use")):]
    assert " ".join(title) == ("the chain rule, from the output #6 relu(x)*abs(y) + x^y (its gradient: the seed, "
                               "1) back")
    assert " ".join(caption) == "each use of a node contributes upstream × local; a node's gradient is their sum"
    assert all(len(line) <= width for line in title + caption) and len(title) > 1  # 84 characters
