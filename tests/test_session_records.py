"""The session's records as a batch would write them: csv/tsv rows under :wrt keep the σ of inputs
given ± on earlier lines."""

import csv
import io
import json
import math
import os
import subprocess
import sys

import pytest

# a replay in another directory runs this checkout's gradcalc, not the one installed (main's)
THIS_CHECKOUT = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}

# y = 1 ± 0.1, z = 3 ± 0.2 and f = x*y*z at x = 2: σ = √((x z σ_y)² + (x y σ_z)²) = √(0.6² + 0.4²),
# the shares 0.36/0.52 and 0.16/0.52; ∂f/∂x = y z = 3
XYZ_SIGMA, XYZ_SHARES = math.sqrt(0.52), {"share_y": 0.36 / 0.52, "share_z": 0.16 / 0.52}


def _rows(out: str, separator: str) -> list:
    """Each data row as {column: cell} under the header above it."""
    rows, header = [], None
    for row in csv.reader(io.StringIO(out), delimiter=separator):
        if row[0] == "line":
            header = row
        else:
            rows.append(dict(zip(header, row, strict=True)))
    return rows


@pytest.mark.parametrize("output_format, separator", [("csv", ","), ("tsv", "\t")])
def test_csv_rows_under_wrt_keep_the_sigma_of_inputs_given_on_lines(session, output_format, separator):
    code, out, err = session("x = 2", "y = 1 ± 0.1", "z = 3 ± 0.2", ":wrt x", "x*y*z", "x*y + z", "x*3", "x*y",
                             argv=("-o", output_format))
    assert code == 0 and "error" not in err
    rows = _rows(out, separator)
    assert [row["expression"] for row in rows[3:]] == [
        "x = 2; y = 1 ± 0.1; z = 3 ± 0.2; x*y*z", "x = 2; y = 1 ± 0.1; z = 3 ± 0.2; x*y + z", "x = 2; x*3",
        "x = 2; y = 1 ± 0.1; x*y"]
    xyz, sum_, plain, xy = rows[3:]
    assert list(xyz) == ["line", "expression", "value", "grad_x", "sigma", "share_y", "share_z", "error"]
    assert float(xyz["value"]) == 6.0 and float(xyz["grad_x"]) == 3.0
    assert float(xyz["sigma"]) == pytest.approx(XYZ_SIGMA, rel=1e-15)
    assert {name: float(xyz[name]) for name in XYZ_SHARES} == pytest.approx(XYZ_SHARES, rel=1e-15)
    # x*y + z: ∂/∂y = x = 2, ∂/∂z = 1: σ = √(0.2² + 0.2²), half each; the same columns, so no new header
    assert float(sum_["sigma"]) == pytest.approx(math.hypot(0.2, 0.2), rel=1e-15)
    assert float(sum_["share_y"]) == pytest.approx(0.5) and float(sum_["share_z"]) == pytest.approx(0.5)
    # the headers over x = 2, y, z (each its own gradient and σ), x*y*z and x*y + z (one), x*3, x*y
    assert out.count("line" + separator) == 6
    assert "sigma" not in plain  # x*3 reads no uncertain input
    # x*y: σ = |∂f/∂y|·σ_y = 2·0.1
    assert list(xy) == ["line", "expression", "value", "grad_x", "sigma", "share_y", "error"]
    assert float(xy["sigma"]) == pytest.approx(0.2, rel=1e-15) and float(xy["share_y"]) == 1.0


def test_the_session_csv_says_what_its_json_lines_and_a_batch_say(session):
    lines = ("x = 2", "y = 1 ± 0.1", "z = 3 ± 0.2", ":wrt x", "x*y*z")
    csv_row = _rows(session(*lines, argv=("-o", "csv"))[1], ",")[-1]
    record = json.loads(session(*lines, argv=("-o", "jsonl"))[1].splitlines()[-1])
    assert float(csv_row["sigma"]) == record["uncertainty"]["sigma"]
    assert {name: float(csv_row[name]) for name in XYZ_SHARES} == {
        f"share_{name}": share for name, share in record["uncertainty"]["share"].items()}
    for argv in (("x*y*z", "--x", "2", "--y", "1±0.1", "--z", "3±0.2"), ("x = 2; y = 1 ± 0.1; z = 3 ± 0.2; x*y*z",)):
        batch = subprocess.run([sys.executable, "-m", "gradcalc", *argv, "--wrt", "x", "-o", "csv"],
                               capture_output=True, text=True, timeout=60, env=THIS_CHECKOUT)
        row = _rows(batch.stdout, ",")[0]
        assert {name: row[name] for name in ("value", "grad_x", "sigma", *XYZ_SHARES)} == {
            name: csv_row[name] for name in ("value", "grad_x", "sigma", *XYZ_SHARES)}, argv


def test_a_batch_under_wrt_says_once_that_a_lines_own_sigma_has_no_column():
    # a stream's columns are fixed by --wrt before its lines: a σ given on a line has no column
    lines = "x = 2; x*3\nx = 2; y = 1 ± 0.1; x*y\nx = 2; y = 1 ± 0.1; x*y\n"
    for quiet, said in (((), "gradcalc: warning: line 2 has no sigma column: --wrt fixed the csv columns before its "
                             "y ± σ\n  hint: leave out --wrt, or give --y VALUE±SIGMA instead of y = VALUE ± SIGMA "
                             "on the lines\n"), (("-q",), "")):
        batch = subprocess.run([sys.executable, "-m", "gradcalc", "-f", "-", "--wrt", "x", "-o", "csv", *quiet],
                               input=lines, capture_output=True, text=True, timeout=60, env=THIS_CHECKOUT)
        assert batch.stderr == said and batch.returncode == 0
        columns = ["line", "expression", "value", "grad_x", "error"]
        assert [list(row) for row in _rows(batch.stdout, ",")] == [columns] * 3
    # the same lines without --wrt have the column (rows written when the input ends)
    batch = subprocess.run([sys.executable, "-m", "gradcalc", "-f", "-", "-o", "csv"], input=lines,
                           capture_output=True, text=True, timeout=60, env=THIS_CHECKOUT)
    assert [row["sigma"] for row in _rows(batch.stdout, ",")] == ["", "0.2", "0.2"] and batch.stderr == ""
