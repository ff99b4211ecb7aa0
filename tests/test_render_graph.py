"""The graph as a picture: DOT text (parsed back with pydot), SVG/PNG through Graphviz's dot, the
Rich tree, and the per-edge gradients they show (each edge's label is what that use sends back;
the labels reaching a variable add up to its exact gradient)."""

import json
import math
import re
import shutil
import struct
import subprocess
import sys

import pytest

from conftest import load_cases
from gradcalc import evaluate

# pydot 4.0 still calls pyparsing's camelCase names, which pyparsing 3.3 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated - use:DeprecationWarning")
pydot = pytest.importorskip("pydot", reason="pydot (in the test extra) parses the DOT text")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot program is not installed (apt-get install graphviz)")
SEED = ("c*d/(a-b)", "--a", "1", "--b", "2", "--c", "3", "--d", "4")


def parse_dot(text):
    (graph,) = pydot.graph_from_dot_data(text)
    return graph


def boxes(graph) -> dict:
    """Node name -> the lines of its label."""
    found = {}
    for node in graph.get_nodes():
        label = node.get_label()
        if node.get_name().startswith("n") and label:
            found[node.get_name()] = json.loads(label).split("\n")  # a DOT string is a JSON string here
    return found


def edge_labels(graph) -> list:
    """(tail, head, label) of every edge, the label as a float (None when unlabelled)."""
    edges = []
    for edge in graph.get_edges():
        label = edge.get_label()
        edges.append((edge.get_source(), edge.get_destination(), None if label is None else float(json.loads(label))))
    return edges


def test_seed_dot_has_one_box_per_node_and_one_edge_per_input(run_cli):
    code, out, err = run_cli(*SEED, "-o", "dot")
    assert code == 0 and err == ""
    graph = parse_dot(out)
    assert graph.get_graph_defaults()[0]["rankdir"] == "LR"
    nodes = boxes(graph)
    assert len(nodes) == 7
    by_text = {lines[0].split(None, 1)[1]: lines for lines in nodes.values()}
    # hand-derived: d/dc (c*d/(a-b)) = d/(a-b) = -4; d/da = -c*d/(a-b)^2 = -12; ∂out/∂(c*d) = 1/(a-b) = -1
    assert by_text["c"] == ["#0  c", "Input", "value 3", "grad -4"]
    assert by_text["a-b"] == ["#5  a-b", "Minus", "value -1", "grad -12"]
    assert by_text["c*d/(a-b)"][1:] == ["Divide", "value -12", "grad 1"]
    edges = edge_labels(graph)
    assert len(edges) == 6  # three binary operations, two inputs each
    assert ("n2", "n6", -1.0) in edges and ("n5", "n6", -12.0) in edges
    assert ("n3", "n5", -12.0) in edges and ("n4", "n5", 12.0) in edges


def test_a_node_used_twice_has_an_edge_per_use_labelled_with_what_it_sends_back(run_cli):
    code, out, _ = run_cli("x*x + x", "--x", "3", "-o", "dot")
    assert code == 0
    edges = edge_labels(parse_dot(out))
    from_x = sorted(label for tail, _, label in edges if tail == "n0")
    assert from_x == [1.0, 3.0, 3.0]  # x*x sends back x twice, + sends back 1
    assert sum(from_x) == 7.0 == 2 * 3 + 1  # d/dx (x² + x) = 2x + 1


def test_statement_names_and_constants(run_cli):
    code, out, _ = run_cli("e = a - b; f = c*d; f/e + 2*3", "--a", "1", "--b", "2", "--c", "3", "--d", "4",
                           "-o", "dot")
    assert code == 0
    graph = parse_dot(out)
    first_lines = [lines[0] for lines in boxes(graph).values()]
    assert "#2  e = a - b" in first_lines and "#5  f = c*d" in first_lines
    constant = next(lines for lines in boxes(graph).values() if lines[0].endswith("2*3"))
    assert constant[2:] == ["value 6", "grad —"]  # a constant has no gradient
    unlabelled = [(tail, head) for tail, head, label in edge_labels(graph) if label is None]
    # a constant takes no gradient: 2 -> 2*3, 3 -> 2*3 and 2*3 -> the sum carry nothing back
    assert unlabelled == [("n7", "n9"), ("n8", "n9"), ("n9", "n10")]


@pytest.mark.parametrize("case", load_cases()[::10], ids=lambda case: str(case["id"]))
def test_edge_labels_add_up_to_the_exact_gradients(run_cli, case):
    """The contributions are computed edge by edge, apart from the evaluator's sums; their sums
    must still match the computer-algebra gradients of the shared cases."""
    values = [f"--{name}={value}" for name, value in case["vars"].items()]
    code, out, err = run_cli(case["expr"], *values, "-o", "dot", "--precision", "17")
    assert code == 0, err
    graph = parse_dot(out)
    nodes = boxes(graph)
    totals = {}
    for tail, _, label in edge_labels(graph):
        totals[tail] = totals.get(tail, 0.0) + (label or 0.0)
    for name, expected in case["grad"].items():
        box = next(key for key, lines in nodes.items() if lines[1] == "Input" and lines[0].split()[1] == name)
        assert math.isclose(totals.get(box, 0.0), expected, rel_tol=1e-9, abs_tol=1e-9), name


def test_long_expressions_are_shortened_and_quotes_escaped():
    from gradcalc.render_graph import to_dot

    text = " + ".join(f"x{i}" for i in range(40))
    result = evaluate(text, **{f"x{i}": 1.0 for i in range(40)})
    graph = parse_dot(to_dot(result))
    first = [lines[0] for lines in boxes(graph).values()]
    assert max(len(line) for line in first) <= 32 + 6 and any("…" in line for line in first)
    assert len(boxes(graph)) == 40 + 39
    from gradcalc.render_graph import _quote

    assert json.loads(_quote('a "b" \\ c\nd')) == 'a "b" \\ c\nd'


def test_a_batch_gives_one_digraph_per_line(run_cli):
    code, out, _ = run_cli("x*y", "x+y", "--x", "2", "--y", "5", "-o", "dot")
    assert code == 0
    graphs = pydot.graph_from_dot_data(out)
    assert [g.get_name() for g in graphs] == ['"line 1"', '"line 2"']


def test_arrays_show_small_values_inline():
    from gradcalc.render_graph import to_dot

    result = evaluate("sum(w * x)", w=[1.0, 2.0], x=3.0)
    nodes = boxes(parse_dot(to_dot(result)))
    w = next(lines for lines in nodes.values() if lines[0].endswith(" w"))
    assert w[2:] == ["value [1, 2]", "grad [3, 3]"]
    x = next(lines for lines in nodes.values() if lines[0].endswith(" x"))
    assert x[3] == "grad 3"  # w1 + w2: the scalar broadcast over w gets the sum


@needs_dot
def test_svg_on_stdout(run_cli):
    code, out, err = run_cli(*SEED, "-o", "svg")
    assert code == 0 and err == ""
    assert out.lstrip().startswith("<?xml") and "</svg>" in out
    assert ">c*d/(a&#45;b)</text>" in out or "c*d/(a&#45;b)" in out


@needs_dot
def test_png_file_is_a_picture_of_the_graph(tmp_path):
    path = tmp_path / "graph.png"
    done = subprocess.run([sys.executable, "-m", "gradcalc", *SEED, "--graph", str(path), "-o", "plain"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "-12 a=-12 b=12 c=-4 d=-3\n"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert 300 < width < 3000 and 150 < height < 2000  # seven boxes, left to right
    colors = _png_colors(path)
    assert len(colors) > 10  # boxes, fills and text, not a blank canvas
    assert (0xDB, 0xEA, 0xFE) in colors  # the variables' fill


def _png_colors(path):
    matplotlib_image = pytest.importorskip("matplotlib.image", reason="matplotlib reads the PNG back")
    pixels = matplotlib_image.imread(str(path))
    rgb = (pixels[..., :3] * 255).round().astype(int).reshape(-1, 3)
    return {tuple(int(v) for v in row) for row in rgb[:: max(1, len(rgb) // 200_000)]}


@needs_dot
def test_graph_file_formats(tmp_path, run_cli):
    for suffix, start in ((".svg", b"<?xml"), (".dot", b"digraph")):
        path = tmp_path / f"graph{suffix}"
        code, _, err = run_cli(*SEED, "--graph", str(path), "-o", "json")
        assert code == 0, err
        assert path.read_bytes().lstrip().startswith(start)


def test_missing_graphviz_is_a_clear_error(run_cli, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    code, out, err = run_cli(*SEED, "-o", "svg")
    assert code == 2 and out == ""
    assert "needs Graphviz's `dot` program" in err and "apt-get install graphviz" in err
    assert "Traceback" not in err


def test_bad_graph_requests(run_cli, tmp_path):
    code, _, err = run_cli(*SEED, "--graph", str(tmp_path / "graph.jpg"))
    assert code == 2 and "must end in .svg, .png, .dot or .gv" in err
    code, _, err = run_cli("x", "y", "--x", "1", "--y", "2", "-o", "svg")
    assert code == 2 and "draws one expression" in err
    code, _, err = run_cli(*SEED, "--tree", "-o", "json")
    assert code == 2 and "--tree draws a tree" in err
    code, _, err = run_cli(*SEED, "--graph", str(tmp_path / "missing" / "graph.dot"))
    assert code == 74 and "cannot write" in err  # an output error (README: Exit codes)


def test_tree_shows_each_node_once_and_refers_to_shared_ones_by_id(run_cli):
    code, out, err = run_cli("x*x + x", "--x", "3", "--tree")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "x*x + x"
    assert re.search(r"#2 x\*x \+ x Plus\s+value = 12\s+grad = 1$", lines[1])
    assert re.search(r"#1 x\*x Multiply\s+value = 9\s+grad = 1$", lines[2])
    assert re.search(r"#0 x\s+value = 3\s+grad = 7$", lines[3])  # 2x + 1 at 3
    assert lines[4].endswith("#0 x (shown above)") and lines[5].endswith("#0 x (shown above)")
    assert len(lines) == 6


def test_tree_of_named_statements_and_unused_nodes(run_cli):
    code, out, _ = run_cli("e = a - b; f = c*d; c + 1", "--a", "1", "--b", "2", "--c", "3", "--d", "4",
                           "-o", "tree")
    assert code == 0
    assert "(not used by the output) #5 f = c*d Multiply" in out
    assert "(not used by the output) #2 e = a - b Minus" in out
    assert re.search(r"#1 b\s+value = 2\s+grad = 0", out)  # the output does not depend on b


def test_tree_is_not_recursive():
    from rich.console import Console

    from gradcalc.render_graph import TreeRenderer

    depth = 1500  # past Python's default recursion limit of 1000
    result = evaluate("(" * depth + "x" + " + 1)" * depth, x=1.0)
    renderer = TreeRenderer(open("/dev/null", "w"))
    (tree,) = renderer.trees(result)
    console = Console(file=open("/dev/null", "w"), width=80)
    console.print(tree)  # neither building nor drawing may recurse per level
    assert result.gradients == {"x": 1.0}
