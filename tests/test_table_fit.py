"""Every table fits the terminal's width (COLUMNS), as a table or, where its columns cannot fit, as
records, and every number in it is whole: read back, each value and gradient is the JSON output's."""

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from conftest import read_layouts

ROOT = Path(__file__).resolve().parent.parent
NUMBER = re.compile(r"-?(?:\d+\.?\d*(?:e[-+]?\d+)?|inf|nan)")


def _numbers(cell: str) -> list[float]:
    return [float(token) for token in NUMBER.findall(cell)]


def _flat(value) -> list[float]:
    return [float(v) for v in np.ravel(np.asarray(value, dtype=float))]


def _run(run_cli, monkeypatch, width, *argv):
    monkeypatch.setenv("COLUMNS", str(width))
    code, table, err = run_cli(*argv)
    assert code == 0, err
    code, text, err = run_cli(*argv, "-o", "json")
    assert code == 0, err
    return table, json.loads(text)


def _assert_fits(text: str, width: int) -> None:
    wide = [line for line in text.splitlines() if cell_len(line) > width]
    assert not wide, f"{len(wide)} lines wider than {width}:\n{text}"


def _assert_whole(text: str, record: dict) -> None:
    """The node table's and the gradient table's numbers, read back, are the JSON's, every digit."""
    layouts = read_layouts(text)
    nodes = next(rows for headers, rows in layouts if "layer" in headers)
    assert len(nodes) == len(record["nodes"]), text
    for row, node in zip(nodes, record["nodes"]):
        assert row["node"] == node["expr"] or "…" in row["node"], (row, node)  # whole, or cut in the middle
        assert _numbers(row["value"]) == _flat(node["value"]), (row, node)
        if node["grad"] is not None:
            assert _numbers(row["gradient"]) == _flat(node["grad"]), (row, node)
    gradients = next(rows for headers, rows in layouts if "∂output/∂variable" in headers)
    assert {row["variable"]: _numbers(row["∂output/∂variable"]) for row in gradients} == \
        {name: _flat(value) for name, value in record["gradients"].items()}


def test_the_leads_norm_at_80_columns(run_cli, monkeypatch):
    # it printed a node table 88 wide with norm(x) cut to 'no…)': id, node, layer, inputs and shape
    # with the rules take 51, the scalar value 22 and the gradient one element a line 19: 92
    text, record = _run(run_cli, monkeypatch, 80, "norm(x)", "--x", "[1e-9, 2e-9]")
    _assert_fits(text, 80)
    _assert_whole(text, record)
    assert "no…)" not in text
    nodes = next(rows for headers, rows in read_layouts(text) if "layer" in headers)
    assert [row["node"] for row in nodes] == ["x", "norm(x)"]
    assert nodes[1]["value"] == "2.2360679774997897e-09"
    assert nodes[0]["gradient"] == "[0.447213595499958, 0.894427190999916]"  # 1/√5, 2/√5 on one line
    assert math.isclose(float(nodes[1]["value"]), math.hypot(1e-9, 2e-9), rel_tol=1e-15)
    # at 100 columns the same is a table: norm(x) whole, the gradient one element a line
    text, record = _run(run_cli, monkeypatch, 100, "norm(x)", "--x", "[1e-9, 2e-9]")
    _assert_fits(text, 100)
    _assert_whole(text, record)
    assert "│  1 │ norm(x) │ Norm  │ 0      │ scalar    │ 2.2360679774997897e-09 │                   1 │" in text


CASES = [
    ("norm(x)", "--x", "[1e-9, 2e-9]"),
    ("x*y", "--x", "[1,2,3]", "--y", "[4,5,6]"),
    ("sum(x^2)", "--x", "linspace(0, 1, 7)"),
    ("softmax(x)", "--x", "[1, 2.5, -3]"),
    ("x @ y", "--x", "[[1.5,2],[3,4.25]]", "--y", "[[0.1,0.2,0.3],[0.4,0.5,0.6]]"),
    ("sigmoid(w*x + b) * ln(1 + exp(x))", "--w", "[0.5, -1.25, 2]", "--x", "[0.1, 0.2, 0.3]", "--b", "0.7"),
    ("ln(x)*x + sigmoid(x*y)/tanh(y) + exp(-x*y) + x*x*x*y*y*y + sqrt(x + y*y)", "--x", "0.3", "--y", "2.2"),
    ("c*d/(a-b)", "--a", "1", "--b", "2", "--c", "3", "--d", "4"),
]


@pytest.mark.parametrize("width", [30, 40, 60, 80, 100, 120])
@pytest.mark.parametrize("case", CASES, ids=[case[0][:24] for case in CASES])
def test_tables_fit_and_keep_every_number(run_cli, monkeypatch, case, width):
    text, record = _run(run_cli, monkeypatch, width, *case)
    _assert_fits(text, width)
    _assert_whole(text, record)


_FLOATS = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False).filter(lambda v: v == 0 or abs(v) > 1e-300)
_EXPRESSIONS = ["x*y", "sum(x*y)", "exp(-x*x)*y", "x/(1 + y*y)", "tanh(x) + y", "sin(x*y) - cos(x)"]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(_EXPRESSIONS), st.integers(1, 9), st.data(), st.integers(30, 140))
def test_a_family_of_arrays_fits_every_width(expression, size, data, width):
    x = data.draw(st.lists(_FLOATS, min_size=size, max_size=size))
    y = data.draw(st.lists(_FLOATS, min_size=size, max_size=size))
    from gradcalc.cli import main

    argv = [expression, "--x", json.dumps(x), "--y", json.dumps(y)]
    text, record = _in_process(main, width, argv)
    _assert_fits(text, width)
    _assert_whole(text, record)


def _in_process(main, width, argv):
    import contextlib
    import io

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        outputs = []
        for extra in ([], ["-o", "json"]):
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                code = main([*argv, *extra])
            assert code == 0, argv
            outputs.append(out.getvalue())
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    return outputs[0], json.loads(outputs[1])


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_explain_fits_and_keeps_its_numbers(run_cli, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    argv = ("sigmoid(w*x + b) * ln(1 + exp(x))", "--w", "[0.5, -1.25]", "--x", "[0.1, 0.2]", "--b", "0.7",
            "--explain", "--no-nodes")
    code, text, err = run_cli(*argv)
    assert code == 0, err
    _assert_fits(text, width)
    code, out, err = run_cli(*argv, "-o", "json")
    steps = json.loads(out)["explain"]
    explained = next(rows for headers, rows in read_layouts(text) if "= contribution" in headers)
    contributions = [row["= contribution"] for row in explained if row.get("from", "") != "sum"]
    assert [_numbers(cell) for cell in contributions] == [_flat(step["contribution"]) for step in steps]


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_a_batch_summary_of_arrays_fits(run_cli, monkeypatch, tmp_path, width):
    jobs = tmp_path / "jobs.jsonl"
    lines = [("ln(x)*y", [4, 5, 6], [0.5, 0.25, 0.125]), ("sum(x/y)", [1, 2, 3], [3, 7, 9]),
             ("x*y", [0.1, 0.2, 0.3], [1e-9, 2e-9, 3e-9])]
    jobs.write_text("".join(json.dumps({"expression": e, "values": {"x": x, "y": y}}) + "\n" for e, x, y in lines),
                    encoding="utf-8")
    monkeypatch.setenv("COLUMNS", str(width))
    code, text, err = run_cli("-f", str(jobs), "--input", "jsonl")
    assert code == 0, err
    _assert_fits(text, width)
    code, out, err = run_cli("-f", str(jobs), "--input", "jsonl", "-o", "json")
    records = json.loads(out)
    headers, rows = read_layouts(text)[-1]
    if "gradients" in headers:  # one column, a line per variable: '∂/∂x [...]'
        pytest.skip("the summary's gradients column is read by tests/test_batch_summary_width.py")
    for row, record in zip(rows, records):
        assert _numbers(row["value"]) == _flat(record["value"])
        for name, gradient in record["gradients"].items():
            assert _numbers(row[f"∂/∂{name}"]) == _flat(gradient)


@pytest.mark.parametrize("columns", [None, "60"])
def test_in_a_pipe_the_width_is_80_unless_columns_says(columns):
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    if columns:
        env["COLUMNS"] = columns
    done = subprocess.run([sys.executable, "-m", "gradcalc", "sum(x^2)", "--x", "linspace(0, 1, 7)"],
                          capture_output=True, text=True, env=env, cwd=ROOT, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    _assert_fits(done.stdout, int(columns or 80))
    nodes = next(rows for headers, rows in read_layouts(done.stdout) if "layer" in headers)
    assert _numbers(nodes[-1]["value"]) == [sum((k / 6) ** 2 for k in range(7))] or \
        math.isclose(_numbers(nodes[-1]["value"])[0], sum((k / 6) ** 2 for k in range(7)), rel_tol=1e-15)


def test_a_number_wider_than_the_terminal_is_whole_on_a_line_of_its_own(run_cli, monkeypatch):
    # 20 columns: less than a full-precision number needs beside its header; it starts below the
    # header, indented by four, and is wider than the terminal only by what the number needs
    text, record = _run(run_cli, monkeypatch, 20, "x/3", "--x", "-1e-300")
    _assert_whole(text, record)
    third = repr(-1e-300 / 3)  # -3.3333333333333334e-301, 24 characters
    assert "    " + third in text.splitlines() and "  " + third in text.splitlines()  # the node; output =
    assert max(cell_len(line) for line in text.splitlines()) == 4 + len(third)


@pytest.mark.parametrize("width", [40, 80, 120])
def test_a_sweep_table_keeps_its_numbers_whole(run_cli, monkeypatch, width):
    # Rich's own table cut them to fit: '2.87…' for sin(0.5)*2*3 at 40 columns, and at 80
    monkeypatch.setenv("COLUMNS", str(width))
    argv = ("sin(x)*y*z", "--sweep", "x=0:1:3", "--y", "2", "--z", "3")
    code, text, err = run_cli(*argv)
    assert code == 0, err
    _assert_fits(text, width)
    assert "…" not in text
    code, csv, err = run_cli(*argv, "-o", "csv")
    header, *lines = csv.splitlines()
    expected = [dict(zip(header.split(","), map(float, line.split(",")))) for line in lines]
    headers, rows = read_layouts(text)[0]
    got = [{"x": float(row["x"]), "value": float(row["value"]),
            **{f"grad_{name}": float(row[f"∂f/∂{name}"]) for name in "xyz"}} for row in rows]
    assert got == [{key: row[key] for key in got[0]} for row in expected]
    assert math.isclose(got[1]["value"], math.sin(0.5) * 6, rel_tol=1e-15)


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
def test_records_of_wide_and_escaped_names_fit(encoding):
    # 名前 takes two cells a character; in ASCII it is escaped (\u540d\u524d) before the layout
    env = {**os.environ, "COLUMNS": "40", "PYTHONIOENCODING": encoding}
    done = subprocess.run([sys.executable, "-m", "gradcalc", "norm(名前)", "--名前", "[1e-9, 2e-9]"],
                          capture_output=True, env=env, cwd=ROOT, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode(encoding)
    _assert_fits(text, 40)
    nodes = next(rows for headers, rows in read_layouts(text) if "layer" in headers)
    name = "名前" if encoding == "utf-8" else "\\u540d\\u524d"
    assert [row["node"] for row in nodes] == [name, f"norm({name})"]
    assert nodes[1]["value"] == "2.2360679774997897e-09"
