"""CSV and TSV cells: quoting, escaping, one row per line (issue 12, item 12)."""

import csv
import io

from gradcalc import evaluate
from gradcalc.delimited import tsv_cell, writer
from gradcalc.errors import ParseError
from gradcalc.render import CsvRenderer, TsvRenderer


def test_tsv_escapes_tab_newline_carriage_return_and_backslash():
    out = io.StringIO()
    renderer = TsvRenderer(out, batch=True, wrt=["x"])
    expression = "x\t*\\2"
    renderer.error(ParseError("unexpected character '\\\\'", source=expression, span=(3, 4)), expression, 1)
    renderer.result(evaluate("x *\r\n 2", x=1), 2)
    renderer.close()
    rows = [line.split("\t") for line in out.getvalue().splitlines()]
    assert rows[0] == ["line", "expression", "value", "grad_x", "error"]
    assert rows[1][:2] == ["1", "x\\t*\\\\2"] and len(rows[1]) == 5
    assert rows[2] == ["2", "x *\\r\\n 2", "2.0", "2.0", ""]
    assert tsv_cell("a\\tb") == "a\\\\tb"  # a backslash before 't' stays distinguishable from a tab


def test_csv_quotes_a_bare_carriage_return():
    out = io.StringIO()
    renderer = CsvRenderer(out, batch=True, wrt=["x"])
    renderer.result(evaluate("x\r*2", x=1), 1)
    renderer.close()
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows == [["line", "expression", "value", "grad_x", "error"], ["1", "x\r*2", "2.0", "2.0", ""]]
    assert out.getvalue().endswith("\n") and not out.getvalue().endswith("\r\n")


def test_data_tsv_escapes_error_cells(run_cli, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("x\n1\n-1\n")
    # a comment inside the node's text puts a backslash into the error message
    code, out, err = run_cli("ln(\tx # a\\b\n)", "--data", str(path), "-o", "tsv")
    rows = [line.split("\t") for line in out.splitlines()]
    assert code == 1 and [len(row) for row in rows] == [4, 4, 4]
    assert rows[1][:3] == ["1.0", "0.0", "1.0"]
    assert rows[2][3] == "DomainError: ln( x # a\\\\b ): argument is -1, ln needs a positive number"


def test_a_chunk_of_rows_escapes_only_the_cells_that_need_it():
    out = io.StringIO()
    rows = [["1.0", "2.0", ""], ["3.0", "4.0", "ln(x #\t\\\n): argument is -1"], ["5.0", "6.0", ""]]
    writer(out, "tsv").writerows(rows)
    assert out.getvalue().splitlines() == ["1.0\t2.0\t", "3.0\t4.0\tln(x #\\t\\\\\\n): argument is -1", "5.0\t6.0\t"]
    out = io.StringIO()
    writer(out, "csv").writerows([["1", "a\rb"], ["2", "c"]])
    assert out.getvalue() == '1,"a\rb"\n2,c\n'
