"""Tables and array text as a person reads them, at any terminal width (issue 12, items 10-11)."""

import io
import json
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from conftest import read_layouts
from gradcalc import evaluate
from gradcalc.errors import DomainError
from gradcalc.formatting import format_array, format_number, labelled, shorten
from gradcalc.render import PlainRenderer
from gradcalc.render_table import TableRenderer
from gradcalc.render_tables import (
    Column,
    aligned_blocks,
    drawn_table,
    fitted_widths,
    rich_table,
    stacked_rows,
    table_texts,
)

X, Y = 0.3, 2.2
LONG = "ln(x)*x + sigmoid(x*y)/tanh(y) + exp(-x*y) + x*x*x*y*y*y + sqrt(x + y*y)"


def _sigmoid(z):
    return 1 / (1 + math.exp(-z))


def _long_value_and_gradients():
    """LONG's value and partial derivatives, by hand."""
    s, t = _sigmoid(X * Y), math.tanh(Y)
    value = (math.log(X) * X + s / t + math.exp(-X * Y) + X**3 * Y**3 + math.sqrt(X + Y * Y))
    dx = (math.log(X) + 1 + s * (1 - s) * Y / t - Y * math.exp(-X * Y) + 3 * X**2 * Y**3
          + 0.5 / math.sqrt(X + Y * Y))
    dy = (s * (1 - s) * X / t - s * (1 - t * t) / t**2 - X * math.exp(-X * Y) + 3 * X**3 * Y**2
          + Y / math.sqrt(X + Y * Y))
    return value, dx, dy


def _table(width, jobs, **options):
    """What TableRenderer prints on a console `width` columns wide, for [(expression, values)]."""
    out = io.StringIO()
    renderer = TableRenderer(out, color=False, **options)
    renderer.console.width = width
    for line, (expression, values) in enumerate(jobs, start=1):
        renderer.result(evaluate(expression, **values), line)
    renderer.close()
    return out.getvalue()


def _cells(text):
    """Every table cell's text, stripped, per line (header and body rows)."""
    return [[cell.strip() for cell in re.split("[│┃]", line)[1:-1]]
            for line in text.splitlines() if line[:1] in "│┃"]


@pytest.mark.parametrize("width", [40, 80, 120])
def test_node_table_never_splits_a_number_or_a_header(width):
    text = _table(width, [(LONG, {"x": X, "y": Y})])
    value, dx, dy = _long_value_and_gradients()
    layouts = read_layouts(text)  # at 40 columns records: the table's columns cannot fit
    cells = {cell for _, rows in layouts for row in rows for cell in row.values()}
    for number in (value, dx, dy, math.log(X), math.exp(-X * Y)):
        assert any(cell == repr(number) or abs(float(cell) - number) <= 4e-16 * abs(number)
                   for cell in cells if re.fullmatch(r"-?[\d.e+-]+", cell)), (number, text)
    headers = {header for found, _ in layouts for header in found} | {row[""].split()[0] for _, rows in layouts
                                                                      for row in rows if "" in row}
    assert {"id", "node", "layer", "inputs", "value", "gradient", "variable", "∂output/∂variable"} <= headers
    assert not any(line != line.rstrip() for line in text.splitlines())  # no trailing spaces
    assert max(cell_len(line) for line in text.splitlines()) <= width


@pytest.mark.parametrize("width", [80, 120])
def test_the_node_column_gives_way_so_the_table_fits(width):
    text = _table(width, [(LONG, {"x": X, "y": Y})])
    assert max(cell_len(line) for line in text.splitlines()) <= width
    nodes = [row[1] for row in _cells(text)[1:] if len(row) == 6]
    assert nodes[-1] == shorten(LONG, limit=len(nodes[-1])) and "…" in nodes[-1]


def test_at_40_columns_a_table_that_cannot_fit_is_records():
    # id, node, layer, inputs, value and gradient with their rules and two numbers of 19 take 75:
    # each node a record, every line within 40 columns
    text = _table(40, [(LONG, {"x": X, "y": Y})])
    title = text.splitlines()[0]
    assert cell_len(title) <= 40 and "…" in title  # the title line is shortened to the width
    assert max(cell_len(line) for line in text.splitlines()) <= 40
    nodes = next(rows for headers, rows in read_layouts(text) if "layer" in headers)
    assert nodes[-1]["node"] == shorten(LONG, limit=40 - 12) and nodes[-1]["id"] == "22"  # 2 + 8 + 2 beside
    assert float(nodes[-1]["value"]) == _long_value_and_gradients()[0] or \
        math.isclose(float(nodes[-1]["value"]), _long_value_and_gradients()[0], rel_tol=1e-15)


@pytest.mark.parametrize("width", [40, 80, 120])
def test_batch_summary_keeps_numbers_whole_and_right_aligned(width):
    jobs = [("x*y/3 + " + " + ".join(f"x*{k}" for k in range(1, 30)), {"x": 1 / 7, "y": 1 / 9}),
            ("x**2", {"x": 2, "y": 1}), ("ln(x - 3)", {"x": 1, "y": 1})]
    out = io.StringIO()
    renderer = TableRenderer(out, color=False, batch=True)
    renderer.console.width = width
    for line, (expression, values) in enumerate(jobs, start=1):
        try:
            renderer.result(evaluate(expression, **values), line)
        except DomainError as error:
            renderer.error(error, expression, line)
    renderer.close()
    text = out.getvalue()
    value = (1 / 7) * (1 / 9) / 3 + (1 / 7) * sum(range(1, 30))
    gradient_x = (1 / 9) / 3 + sum(range(1, 30))
    assert max(cell_len(line) for line in text.splitlines()) <= width
    if width < 120:  # line, expression, value, the gradients (one column) and error take 82: records
        first, second, third = read_layouts(text)[0][1]
        for cell, expected in ((first["value"], value), (first["∂/∂x"], gradient_x)):  # whole: every digit
            assert math.isclose(float(cell), expected, rel_tol=1e-15) and cell == repr(float(cell))
        assert (second["value"], second["∂/∂x"], second["line"]) == ("4", "4", "2")
        assert "…" in first["expression"] and third["expression"] == "ln(x - 3)"
        assert " ".join(third["error"].split()) == "ln(x - 3): argument is -2, ln needs a positive number"
        assert not any(line != line.rstrip() for line in text.splitlines())
        return
    lines = [line for line in text.splitlines() if line.startswith("│")]
    first = re.split("│", lines[0])[1:-1]
    one_column = width < 120  # ∂/∂x and ∂/∂y do not fit beside each other: one "gradients" column
    assert ("gradients" in text) == one_column
    if one_column:  # a line per variable, "∂/∂x 29.03...": the label off, the number whole
        first[3] = first[3].replace("∂/∂x", "")
        lines = [line for line in lines if "∂/∂y" not in line]  # job 1's second line
    for cell, expected in ((first[2], value), (first[3], gradient_x)):  # whole: every digit
        assert math.isclose(float(cell), expected, rel_tol=1e-15) and cell.strip() == repr(float(cell))
    second = re.split("│", lines[1])[1:-1]
    assert [cell.strip().replace("∂/∂x", "").strip() for cell in second[2:4]] == ["4", "4"]
    for cell in second[2:4 - one_column]:  # right-aligned under the wider numbers above
        assert cell.endswith(" 4 ") and cell.startswith("     ")
    assert "…" in first[1]
    errors = " ".join(" ".join(re.split("│", line)[-2].split()) for line in lines).split()
    assert "ln(x - 3): argument is -2, ln needs a positive number" in " ".join(errors)  # wrapped whole
    assert not any(line != line.rstrip() for line in text.splitlines())


@pytest.mark.parametrize("width", ["40", "80", "120"])
def test_tables_through_the_command_line_in_a_pipe(run_cli, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", width)
    code, out, err = run_cli("c*d/(a-b) + c*c*c*c*d*d*d*d/(a*a*a - b*b*b)", "--a", "0.1", "--b", "0.7",
                             "--c", "3.3", "--d", "4.1")
    a, b, c, d = 0.1, 0.7, 3.3, 4.1
    expected = c * d / (a - b) + c**4 * d**4 / (a**3 - b**3)
    assert code == 0 and err == ""
    output = [line for line in out.splitlines() if line.startswith("output = ")]
    assert output and math.isclose(float(output[0].split("= ")[1]), expected, rel_tol=1e-14)
    headers, rows = read_layouts(out)[0]  # at 40 columns records, each node's cells a line each
    assert headers == ["id", "node", "layer", "inputs", "value", "gradient"] or \
        width == "40" and set(headers) == {"node", "layer", "inputs", "value", "gradient"}  # 'id 0' heads a record
    assert [row["id"] for row in rows] == [str(index) for index in range(21)]
    assert math.isclose(float(rows[-1]["value"]), expected, rel_tol=1e-14)
    assert max(cell_len(line) for line in out.splitlines()) <= int(width)


def test_title_and_caption_lines_have_no_trailing_spaces():
    text = _table(80, [("c*d/(a-b)", {"a": 1, "b": 2, "c": 3, "d": 4})])
    lines = text.splitlines()
    assert lines[0] == "c*d/(a-b)"
    assert "gradient = ∂output/∂node" in lines


# --- array text ----------------------------------------------------------------------

def test_arrays_use_the_number_text_of_scalars():
    assert format_array(np.array([0.0, 1.5, 3.0])) == "[0, 1.5, 3]"
    assert format_array(np.array([0.0, 1e-20])) == "[0, 1e-20]"  # not 0.0000000000000000e+00
    assert format_array(np.array([-0.0, 2.0])) == "[0, 2]"
    assert format_array(np.array([1 / 3, 2.0]), precision=3) == "[0.333, 2]"
    assert format_array(np.array(2.5)) == "2.5"


def test_multi_line_arrays_line_up_and_sit_under_their_label():
    text = format_array(np.array([[0.0, 0.5, 1.0], [1.5, 2.0, 2.5]]))
    assert text == "[[  0, 0.5,   1],\n [1.5,   2, 2.5]]"
    assert labelled("output = ", text) == "output = [[  0, 0.5,   1],\n          [1.5,   2, 2.5]]"
    out = _table(80, [("X*0.5", {"X": [[0, 1, 2], [3, 4, 5]]})], nodes=False)
    assert "output = [[  0, 0.5,   1],\n          [1.5,   2, 2.5]]\n" in out


def test_a_wrapped_array_in_a_table_keeps_its_last_line_under_the_first_elements(run_cli, monkeypatch):
    # the README: continuation lines start under the first element. Elements right-aligned to the
    # widest (3.125, 5 characters; 6.25 for 2x), wrapped between elements at an equal share of what
    # the variable column leaves of 60 columns: (60 - 8 - 10) // 2 = 21 each, so the table fits
    monkeypatch.setenv("COLUMNS", "60")
    code, out, err = run_cli("sum(x*x)", "--x", "[1.5,2.25,3.125,4,5,6,7,8,9,10,11]", "--no-nodes")
    assert code == 0 and err == ""
    assert out.splitlines()[4:8] == [
        "│ x        │ [  1.5,  2.25, 3.125, │ [   3,  4.5, 6.25, │",
        "│          │      4,     5,     6, │     8,   10,   12, │",
        "│          │      7,     8,     9, │    14,   16,   18, │",
        "│          │     10,    11]        │    20,   22]       │",
    ]
    assert max(cell_len(line) for line in out.splitlines()) <= 60


def _element_ends(line: str) -> list[int]:
    """Where each element of a line of a 1-D array ends: the places of its ',' and ']'."""
    return [match.start() for match in re.finditer(r"[,\]]", line)]


def test_an_array_on_one_line_leaves_its_share_to_the_others():
    # at 120 columns x's gradient, 13 twos, is one line of 39: x's value takes the rest, 120 - 10 of
    # rules - 8 of names - 39 = 63, and is one line too (an equal share, 51, would have wrapped it)
    x = [1.5, 2.25, 3.125, 4, 5, 6, 7, 8, 9, 10, 11, 12, 130.0625]
    text = _table(120, [("sum(x*y)", {"x": x, "y": 2.0})], nodes=False)
    assert "│ x        │ [1.5, 2.25, 3.125, 4, 5, 6, 7, 8, 9, 10, 11, 12, 130.0625] │" in text
    assert max(cell_len(line) for line in text.splitlines()) <= 120


@pytest.mark.parametrize("width", [60, 80, 100])
def test_every_line_of_a_wrapped_array_in_a_table_sits_on_its_first_lines_grid(width):
    x = [1.5, 2.25, 3.125, 4, 5, 6, 7, 8, 9, 10, 11, 12, 130.0625]  # 13: a short last line at each width
    text = _table(width, [("sum(x*y)", {"x": x, "y": 2.0})], nodes=False)
    rows = [re.split("│", line)[1:-1] for line in text.splitlines() if line.startswith("│")]
    x_lines = rows[:next(index for index, row in enumerate(rows) if row[0].strip() == "y")]
    assert len(x_lines) > 1  # x's value is wrapped at every width
    for column in (1, 2):  # x's value, then its gradient (2y = 4 each), when it is wrapped too
        block = [row[column].rstrip() for row in x_lines if row[column].strip()]
        bracket, grid = block[0].index("["), _element_ends(block[0])
        for line in block[1:]:
            ends = _element_ends(line)  # from the first element's place on: a short line is no exception
            assert ends == grid[:len(ends)], (width, block)
            assert line[:bracket + 1].isspace()
        assert block[-1].endswith("]")


_ARRAY_JOBS = [("sum(ln(x)*y)", [1, 2, 3], [1, 1, 1]), ("sum(ln(x)*y)", [1, -2, 3], [1, 1, 1]),
               ("ln(x)*y", [1, 2, 3], [1, 1, 1]), ("ln(x)*y", [2, 2, 3], [1, 2, 1]),
               ("ln(x)*y", [4, 5, 6], [0.5, 0.25, 0.125])]


def _array_batch(run_cli, monkeypatch, tmp_path, width):
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("".join(json.dumps({"expression": expression, "values": {"x": x, "y": y}}) + "\n"
                            for expression, x, y in _ARRAY_JOBS), encoding="utf-8")
    monkeypatch.setenv("COLUMNS", str(width))
    code, out, err = run_cli("-f", str(jobs), "--input", "jsonl")
    assert code == 1 and "argument is -2 at index (1,)" in err  # line 2: ln(-2)
    return out


def _numbers_in(text):
    return [float(number) for number in re.findall(r"-?\d[\d.e+-]*(?=[,\]])", text)]


def test_a_summary_of_several_array_columns_wraps_them_to_fit_the_terminal(run_cli, monkeypatch, tmp_path):
    # three columns of arrays (value, ∂/∂x, ∂/∂y) and an error: at 120 columns the arrays fit when
    # each wraps at a third of what the others leave, not at half the terminal each (162 wide)
    out = _array_batch(run_cli, monkeypatch, tmp_path, 120)
    lines = out.splitlines()
    assert max(cell_len(line) for line in lines) <= 120, out
    # nothing lost: line 5's value, ∂/∂x = y/x and ∂/∂y = ln(x), every element, in its column
    x, y = [4, 5, 6], [0.5, 0.25, 0.125]
    start = next(index for index, line in enumerate(lines) if re.match(r"│ +5 │", line))
    cells = ["".join(re.split("│", line)[index] for line in lines[start:start + 3]) for index in (3, 4, 5)]
    assert _numbers_in(cells[0]) == pytest.approx([math.log(a) * b for a, b in zip(x, y)], rel=1e-15)
    assert _numbers_in(cells[1]) == [b / a for a, b in zip(x, y)]  # correctly rounded: exact
    assert _numbers_in(cells[2]) == pytest.approx([math.log(a) for a in x], rel=1e-15)
    message = " ".join(" ".join(re.split("│", line)[-2].split()) for line in lines if line.startswith("│"))
    assert "ln(x): argument is -2 at index (1,), ln needs a positive number" in " ".join(message.split())


def test_a_summary_is_wider_than_the_terminal_only_by_what_its_arrays_keep(run_cli, monkeypatch, tmp_path):
    # at 100 columns even one element a line does not fit: the arrays are as narrow as they go
    out = _array_batch(run_cli, monkeypatch, tmp_path, 100)
    rows = [re.split("│", line)[1:-1] for line in out.splitlines() if line.startswith("│")]
    for row in rows:
        for cell in row[2:5]:
            assert len(_numbers_in(cell)) <= 1, out


_X8 = [1, 2, 3, 4, 5, 6, 7, 8]
_W8 = [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5]


def _cell_columns(text: str, count: int) -> dict:
    """{first cell of a row: the texts of its next `count` cells, each cell's lines joined}."""
    joined, name = {}, None
    for row in _cells(text)[1:]:
        name = row[0] or name
        joined.setdefault(name, [""] * count)
        for index in range(count):
            joined[name][index] += row[1 + index]
    return joined


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_a_table_of_arrays_fits_the_terminal(width):
    # sum(x*w): ∂/∂x = w, ∂/∂w = x; two columns of 8-element arrays beside the variable's name
    text = _table(width, [("sum(x*w)", {"x": _X8, "w": _W8})], nodes=False)
    assert max(cell_len(line) for line in text.splitlines()) <= width, text
    cells = _cell_columns(text, 2)
    assert [_numbers_in(cell) for cell in cells["x"]] == [_X8, _W8]
    assert [_numbers_in(cell) for cell in cells["w"]] == [_W8, _X8]


@pytest.mark.parametrize("width", [80, 120])
def test_a_node_table_of_arrays_fits_the_terminal(width):
    # x*w elementwise: the products, each node's gradient (the seed of ones, then w and x)
    text = _table(width, [("x*w", {"x": _X8, "w": _W8})])
    node_table = text[:text.index("gradient = ∂output/∂node")]
    assert max(cell_len(line) for line in node_table.splitlines()) <= width, node_table
    values = {key: [_numbers_in(cell) for cell in cells[-2:]] for key, cells in _cell_columns(node_table, 6).items()}
    assert values == {"0": [_X8, _W8], "1": [_W8, _X8], "2": [[a * b for a, b in zip(_X8, _W8)], [1.0] * 8]}


def test_jacobian_and_explain_tables_of_arrays_fit_the_terminal(run_cli, monkeypatch):
    # x*w elementwise: ∂(x*w)/∂x = diag(w), ∂/∂w = diag(x); --explain sends w back to x, x to w
    monkeypatch.setenv("COLUMNS", "60")
    code, out, err = run_cli("x*w", "--x", ",".join(map(str, _X8)), "--w", ",".join(map(str, _W8)),
                             "--jacobian", "--explain", "--no-nodes")
    assert code == 0 and err == ""
    jacobian = out[out.index("Jacobian"):out.index("the chain rule")]
    assert max(cell_len(line) for line in out.splitlines()) <= 60, out
    cells = _cell_columns(jacobian, 2)
    assert _numbers_in(cells["x"][1]) == np.diag(_W8).ravel().tolist()
    assert _numbers_in(cells["w"][1]) == np.diag(_X8).ravel().tolist()
    # the chain rule's headers alone take 64 with their rules: records, a step each
    steps = read_layouts(out[out.index("the chain rule"):])[0][1]
    by_node = {row["node"]: _numbers_in(row["= contribution"]) for row in steps}
    assert by_node == {"#0 x": _W8, "#1 w": _X8}


def test_a_node_table_of_arrays_that_cannot_fit_is_records():
    # at 40 columns id, node, layer, inputs and shape with their rules take 51: a record a node, each
    # array wrapped beside its header (40 - 2 - 8 - 2 = 28) or, wider, below it
    text = _table(40, [("x*w", {"x": _X8, "w": _W8})])
    assert max(cell_len(line) for line in text.splitlines()) <= 40
    nodes = read_layouts(text)[0][1]
    assert [(_numbers_in(row["value"]), _numbers_in(row["gradient"])) for row in nodes] == \
        [(_X8, _W8), (_W8, _X8), ([a * b for a, b in zip(_X8, _W8)], [1.0] * 8)]
    assert "  value     [1, 2, 3, 4, 5, 6, 7, 8]" in text.splitlines()


def _wrap_widths(console_width, columns, rows):
    """{column: the widths its arrays were written at} by table_texts."""
    asked = {}

    def number(value, width=None):
        if hasattr(value, "shape"):
            asked.setdefault(next(index for row in rows for index, cell in enumerate(row) if cell is value),
                             []).append(width)
        return format_array(value, width=width or 100) if hasattr(value, "shape") else format_number(value)

    texts = table_texts(console_width, columns, rows, number)
    return {index: widths[-1] for index, widths in asked.items()}, texts


def test_columns_of_arrays_share_the_room_the_other_columns_leave():
    variable = [Column("variable", "left", "shorten"), Column("value"), Column("∂output/∂variable")]
    long = np.arange(40.0) + 0.5  # wraps at any of these widths
    # 120 columns less 10 of rules and 8 of names, shared: (120 - 10 - 8) / 2 = 51 each
    assert _wrap_widths(120, variable, [["x", long, long + 1]])[0] == {1: 51, 2: 51}
    # 40: a share of 11, under the gradient's header of 17, which it takes; the value gets what is
    # left, 5, and is one element a line
    widths, texts = _wrap_widths(40, variable, [["x", long, long + 1]])
    assert widths == {1: 5, 2: 17} and texts[0][1].split("\n")[1] == "  1.5,"
    named = [Column("name", "left", "shorten"), Column("value")]
    # a 50-character label leaves 80 - 7 - 50 = 23, under 24: the label gives way to 24 for the array
    assert _wrap_widths(80, named, [["a" * 50, long]])[0] == {1: 24}
    assert _wrap_widths(200, named, [["a" * 50, long]])[0] == {1: 143}  # enough: the label stays whole


def test_a_column_of_arrays_is_as_wide_as_a_scalar_in_it_and_leaves_what_it_does_not_use():
    # the lead's norm(x) at [1e-9, 2e-9]: the value column holds the scalar 2.2360679774997897e-09
    # (22 cells), which the arrays' share ignored (16 each: a table 88 wide at 80 columns). At 100:
    # 100 - 22 of rules - 29 of id, node, layer, inputs and shape = 49; the value takes 22, the
    # gradient what is left, 27, under its one-line 39: one element a line (the 88 was the value at
    # 22 and the gradient at 19 beside id, node, layer, inputs and shape: at 80 it cannot be a table)
    nodes = [Column("id"), Column("node", "left", "shorten"), Column("layer", "left"), Column("inputs", "left"),
             Column("shape", "left"), Column("value"), Column("gradient")]
    x, gradient = np.array([1e-9, 2e-9]), np.array([1, 2]) / math.sqrt(5)
    rows = [["0", "x", "Input", "", "2 float64", x, gradient],
            ["1", "norm(x)", "Norm", "0", "scalar", math.sqrt(5) * 1e-9, 1.0]]
    widths, texts = _wrap_widths(100, nodes, rows)
    assert widths == {5: 24, 6: 27}  # the value written at its share, 24: on one line, it takes 22
    assert texts[0][5] == "[1e-09, 2e-09]" and texts[1][5] == repr(math.sqrt(5) * 1e-9)
    assert texts[0][6] == "[0.4472135954999579,\n 0.8944271909999159]"  # one element a line (1/√5, 2/√5)
    assert fitted_widths(100, nodes, texts) == [2, 7, 5, 6, 9, 22, 20]  # 93 with the rules: it fits
    # an array on one line narrower than its share leaves the rest to the other column
    short, long = np.array([1.0, 2.0]), np.arange(40.0) + 0.5
    widths, _ = _wrap_widths(100, nodes[4:], [["2 float64", short, long]])
    assert widths == {1: 40, 2: 100 - 10 - 9 - 6}  # at an equal share (40), then at what "[1, 2]" leaves


def test_large_arrays_are_summarised_with_the_same_numbers():
    values = np.arange(2000.0) / 4
    text = format_array(values)
    assert "..." in text and text.startswith("[") and "499.75]" in text
    assert [float(t) for t in re.findall(r"[\d.]+(?=[,\]])", text) if t != "..."] == \
        [0, 0.25, 0.5, 499.25, 499.5, 499.75]
    assert len(re.findall(r"[\d.]+", format_array(values, full=True))) == 2000


def test_precision_applies_to_integral_values():
    assert format_number(123456789012.0, 3) == "1.23e+11"
    assert format_number(-12.0, 3) == "-12"
    assert format_number(123456789012.0) == "123456789012"
    out = io.StringIO()
    PlainRenderer(out, precision=3).result(evaluate("y*1 + 0*x", y=123456789012, x=[1.0, 2e9]), 1)
    assert out.getvalue() == "[1.23e+11,1.23e+11] x=[0,0] y=2\n"




_CELL = st.text(st.sampled_from("ab1.-e 界\n\t\u0301"), max_size=30)
_COLUMN = st.builds(Column, st.text(st.sampled_from("xy∂界"), min_size=1, max_size=6),
                    st.sampled_from(["left", "right"]), st.sampled_from(["keep", "shorten", "wrap"]))


class _Terminal(io.StringIO):
    """A console's file with the encoding a terminal declares (Rich draws ASCII boxes for ascii)."""

    def __init__(self, encoding):
        super().__init__()
        self._encoding = encoding

    @property
    def encoding(self):
        return self._encoding


def _console(width, color, encoding="utf-8"):
    return Console(file=_Terminal(encoding), width=width, force_terminal=color,
                   color_system="truecolor" if color else None)


def _printed(console, renderable):
    console.print(renderable, crop=False)
    return console.file.getvalue()


def _table_cells(data, columns, width):
    """Random rows for `columns`, fitted, shortened and aligned as print_table prepares them."""
    rows = data.draw(st.lists(st.lists(_CELL, min_size=len(columns), max_size=len(columns)), max_size=6))
    widths = fitted_widths(width, columns, rows)
    rows = [[shorten(cell, limit=width) if column.fit == "shorten" else cell
             for column, width, cell in zip(columns, widths, row)] for row in rows]
    rows, laid_out = aligned_blocks(columns, widths, rows)  # multi-line cells right-aligned as blocks
    return widths, rows, laid_out


@given(st.lists(_COLUMN, min_size=1, max_size=4), st.data(), st.integers(16, 90), st.booleans())
def test_stacked_rows_print_what_one_rich_row_per_row_prints(columns, data, width, color):
    """Rows stacked into few Rich rows (fast) print exactly what Rich prints with a row per row,
    colours included: multi-line cells (arrays), empty and wide cells, messages that wrap."""
    widths, rows, laid_out = _table_cells(data, columns, width)
    stacked = stacked_rows(columns, widths, rows)
    assert _printed(_console(width, color), rich_table(columns, widths, stacked, laid_out)) \
        == _printed(_console(width, color), rich_table(columns, widths, rows, laid_out))


@pytest.mark.parametrize("color", [False, True])
@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
@pytest.mark.parametrize("cells", [
    ["1  ", "a "],  # trailing spaces: Rich drops them before right-aligning, keeps them left-aligned
    ["  2", " b"],
    ["界 ", "e\u0301"],  # a wide character, a combining accent (no width of its own)
    ["1\n\n3", ""],  # an array's lines with a blank one, an empty cell
    ["-1.5e+308", "x   y"],
])
def test_drawn_tables_print_what_rich_tables_print_at_the_edges(cells, encoding, color):
    """Cases the property test below may not draw: each as Rich's table prints it."""
    columns = [Column("v"), Column("name", "left", "shorten")]
    widths = fitted_widths(40, columns, [cells])
    cells = [column.fitted(cell, width) for column, width, cell in zip(columns, widths, cells)]  # as print_table
    drawn = drawn_table(_console(40, color, encoding), columns, widths, [cells], [False, False])
    assert drawn is not None
    assert _printed(_console(40, color, encoding), drawn) == \
        _printed(_console(40, color, encoding), rich_table(columns, widths, [cells], [False, False]))


@given(st.lists(_COLUMN, min_size=1, max_size=4), st.data(), st.integers(16, 90), st.booleans(),
       st.sampled_from(["utf-8", "ascii"]), st.booleans())
def test_drawn_tables_print_what_rich_tables_print(columns, data, width, color, encoding, stacked):
    """The fast path draws exactly what Rich's table prints, colours and ASCII boxes included, rows
    stacked or not, and leaves to Rich every table with a line it would wrap, cut or clean (too wide, tabs)."""
    widths, rows, laid_out = _table_cells(data, columns, width)
    if stacked:
        rows = stacked_rows(columns, widths, rows)
    drawn = drawn_table(_console(width, color, encoding), columns, widths, rows, laid_out)
    lines = [line for row in rows for cell in row for line in cell.split("\n")]
    if drawn is None:
        assert any("\t" in line for line in lines) or any(
            cell_len(line) > width for row in rows for cell, width in zip(row, widths) for line in cell.split("\n"))
        return
    assert _printed(_console(width, color, encoding), drawn) == \
        _printed(_console(width, color, encoding), rich_table(columns, widths, rows, laid_out))


@pytest.mark.parametrize("values", [dict(a=1, b=2, c=3, d=4), dict(a=[1.0, 2.5], b=2, c=[[1.0, 2.0]] * 3, d=4)])
def test_the_seed_tables_and_tables_of_arrays_are_drawn_without_rich_tables(values, monkeypatch):
    """The fast path is the one taken by every table of numbers, and prints what Rich's table does."""
    from gradcalc import render_tables

    printed, drawn = {}, []
    fast_path = render_tables.drawn_table
    monkeypatch.setattr(render_tables, "drawn_table",
                        lambda *arguments: drawn.append(fast_path(*arguments)) or drawn[-1])
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(render_tables, "drawn_table", lambda *arguments: None)
        out = io.StringIO()
        renderer = TableRenderer(out, color=True)
        renderer.console.size = (80, 25)
        renderer.result(evaluate("c*d/(a-b)", **values), None)
        renderer.close()
        printed[fast] = out.getvalue()
    assert len(drawn) == 2 and None not in drawn  # the node table and the gradient table
    assert printed[True] == printed[False]
    assert printed[True].count("┏") == 2


def test_a_table_whose_message_wraps_is_left_to_rich():
    columns = [Column("line"), Column("message", "left", "wrap")]
    widths = [4, 10]
    rows = [["1", "a message longer than ten"]]
    assert drawn_table(_console(30, False), columns, widths, rows, [False, False]) is None
    assert drawn_table(_console(30, False), columns, widths, [["1", "fits"]], [False, False]) is not None


# --- prose and formulas wrapped between words, never inside a number ------------------------

_NUMBER_TEXT = st.floats(allow_nan=False, allow_infinity=False).map(format_number)
_WORD = st.one_of(_NUMBER_TEXT, st.text(st.sampled_from("xy∂()*/+-^,= "), min_size=1, max_size=12))


@given(st.lists(_WORD, min_size=1, max_size=12), st.integers(1, 40))
def test_wrapped_text_keeps_every_number_whole(words, width):
    from gradcalc.render_tables import wrapped

    numbers = [word for word in words if re.fullmatch(r"-?[\d.e+-]+", word)]
    text = " ".join(words)
    lines = wrapped(text, width).split("\n")
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")  # nothing lost, nothing added
    spaced = [f" {line} " for line in lines]
    for number in numbers:  # standing alone in the text, it stands whole on one line
        assert any(f" {number} " in line or f" {number}," in line for line in spaced), (number, lines)
    for line in lines:  # a line is only wider than the column when it is one long number
        assert cell_len(line) <= width or re.fullmatch(r"-?[\d.e+-]+", line), (line, lines)


def test_a_message_column_is_never_narrower_than_its_numbers(run_cli, monkeypatch, tmp_path):
    # main printed 'is' / '-2.9806567' / '89012345,' in a 10-wide error column
    lines = tmp_path / "jobs.txt"
    lines.write_text("x + 1\nln(x - 3.123456789012345)\n")
    monkeypatch.setenv("COLUMNS", "60")
    code, out, _ = run_cli("-f", str(lines), "--x", "0.1428")
    assert code == 1
    argument = format_number(0.1428 - 3.123456789012345)
    assert argument == "-2.980656789012345"
    assert f"│ {argument}, │" in out  # the number and its comma on one line of the error column
    # at 50 the table cannot fit (line, expression, value, ∂/∂x and 19 of error take 59): records,
    # the message wrapped beside its header, the number whole
    monkeypatch.setenv("COLUMNS", "50")
    code, out, _ = run_cli("-f", str(lines), "--x", "0.1428")
    assert code == 1 and max(cell_len(line) for line in out.splitlines()) <= 50
    assert f"is {argument}," in out and "3.123456789012345" in read_layouts(out)[0][1][1]["error"]


@given(st.lists(_COLUMN, min_size=1, max_size=4), st.data(), st.integers(16, 90), st.booleans(),
       st.sampled_from(["utf-8", "ascii"]), st.integers(1, 4))
def test_a_table_printed_in_sections_is_the_table_printed_whole(columns, data, width, color, encoding, section):
    """A long table is laid out a section of rows at a time (so that `| head` gets its first lines
    at once): the sections print exactly the one table, colours, ASCII boxes, arrays and wrapped
    messages included, whether drawn directly or by Rich."""
    from gradcalc import render_tables

    rows = data.draw(st.lists(st.lists(_CELL, min_size=len(columns), max_size=len(columns)), max_size=9))

    def printed(rows_a_section):
        console = _console(width, color, encoding)
        saved, render_tables.SECTION_ROWS = render_tables.SECTION_ROWS, rows_a_section
        try:
            render_tables.print_table(console, columns, rows)
        finally:
            render_tables.SECTION_ROWS = saved
        return console.file.getvalue()

    assert printed(section) == printed(100)


def test_a_batch_of_many_lines_is_one_table_written_in_sections(run_cli, tmp_path):
    # 2,500 jobs x*k at x = 3: one header, 2,500 rows in order, one bottom rule, whatever the sections
    jobs = tmp_path / "jobs.txt"
    jobs.write_text("".join(f"x*{k}\n" for k in range(1, 2501)))
    code, out, err = run_cli("-f", str(jobs), "--x", "3")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert [line[0] for line in lines[:3]] == ["┏", "┃", "┡"] and lines[-1][0] == "└"
    rows = _cells(out)[1:]
    assert [(int(row[0]), row[1], float(row[2]), float(row[3])) for row in rows] == \
        [(k, f"x*{k}", 3.0 * k, float(k)) for k in range(1, 2501)]
