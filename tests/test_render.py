"""Renderers: JSON shape, CSV columns, plain text, number formatting."""

import io
import json

from gradcalc import evaluate
from gradcalc.errors import DomainError
from gradcalc.formatting import caret_excerpt, format_number, shorten
from gradcalc.render import CsvRenderer, JsonLinesRenderer, PlainRenderer, result_record


def test_number_text():
    assert format_number(-12.0) == "-12"
    assert format_number(-0.0) == "0"
    assert format_number(0.1 + 0.2) == "0.30000000000000004"
    assert format_number(1 / 3, 3) == "0.333"
    assert format_number(1e20) == "1e+20"
    assert format_number(2.5e-7) == "2.5e-07"


def test_shorten_cuts_the_middle_and_collapses_whitespace():
    assert shorten("a  +\n b") == "a + b"
    long = " + ".join(f"x{i}" for i in range(1000))
    short = shorten(long)
    assert len(short) <= 80 and short.startswith("x0 + x1") and short.endswith("x998 + x999") and "…" in short


def test_caret_excerpt_underlines_the_span():
    assert caret_excerpt("ln(a - b) + 1", 0, 9) == "    ln(a - b) + 1\n    ^^^^^^^^^"


def test_result_record_matches_design():
    record = result_record(evaluate("x*x + x", x=3))
    assert record["value"] == 12.0 and record["gradients"] == {"x": 7.0}
    assert record["nodes"][1] == {"id": 1, "layer": "Multiply", "expr": "x*x", "inputs": [0, 0],
                                  "value": 9.0, "grad": 1.0}


def test_named_node_record():
    record = result_record(evaluate("e = a - b; e * 2", a=1, b=2))
    assert record["nodes"][2]["name"] == "e" and record["nodes"][2]["expr"] == "a - b"


def test_jsonl_full_precision_round_trips():
    out = io.StringIO()
    renderer = JsonLinesRenderer(out, batch=True, nodes=False)
    renderer.result(evaluate("x/3", x=1), 7)
    record = json.loads(out.getvalue())
    assert record == {"line": 7, "expression": "x/3", "value": 1 / 3, "gradients": {"x": 1 / 3}}


def test_csv_columns_are_every_variable_of_the_run_in_name_order():
    out = io.StringIO()
    renderer = CsvRenderer(out, batch=True)
    renderer.result(evaluate("z*y", z=2, y=3), 1)
    renderer.error(DomainError("ln(x): argument is 0", source="ln(x)", span=(0, 5)), "ln(x)", 2)
    renderer.result(evaluate("a + y", a=1, y=1), 3)
    renderer.close()
    assert out.getvalue().splitlines() == [
        "line,expression,value,grad_a,grad_y,grad_z,error",
        "1,z*y,6.0,,2.0,3.0,",
        "2,ln(x),,,,,DomainError: ln(x): argument is 0 (column 1)",
        "3,a + y,2.0,1.0,1.0,,",
    ]


def test_csv_with_wrt_streams_rows_at_once():
    out = io.StringIO()
    renderer = CsvRenderer(out, batch=True, wrt=["y"])
    renderer.result(evaluate("z*y", z=2, y=3), 1)
    assert out.getvalue() == "line,expression,value,grad_y,error\n1,z*y,6.0,2.0,\n"


def test_plain_one_line_per_job():
    out = io.StringIO()
    renderer = PlainRenderer(out, batch=True, precision=3)
    renderer.result(evaluate("x/3", x=1), 1)
    renderer.result(evaluate("x*2", x=1), 2)
    assert out.getvalue() == "0.333 x=0.333\n2 x=2\n"
