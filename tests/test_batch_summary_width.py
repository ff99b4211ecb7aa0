"""A batch summary with more variables than the console has room for: one 'gradients' column, a line
per variable, every number whole (a column per variable made 116 columns of 5 short jobs)."""

import math
import re

import pytest
from rich.cells import cell_len

from conftest import read_layouts

FIVE = "a=1; a*2\nb=2; b^2\nc=3; c+1\nd=4; d/2\ne=5; e-1\n"
FIVE_GRADIENTS = {1: {"a": 2.0}, 2: {"b": 4.0}, 3: {"c": 1.0}, 4: {"d": 0.5}, 5: {"e": 1.0}}  # by hand


def _summary(run_cli, monkeypatch, tmp_path, text, width):
    monkeypatch.setenv("COLUMNS", str(width))
    path = tmp_path / "jobs.txt"
    path.write_text(text, encoding="utf-8")
    code, out, err = run_cli("-f", str(path))
    return code, out, err


def _gradients_by_line(out: str) -> dict:
    """{line: {name: value}} read from the 'gradients' column, continuation lines included."""
    found, line = {}, None
    for row in out.splitlines():
        if not row.startswith("│"):
            continue
        cells = [cell.strip() for cell in row.split("│")[1:-1]]
        if cells[0]:
            line = int(cells[0])
        for name, value in re.findall(r"∂/∂(\w+) +(\S+)", row):
            found.setdefault(line, {})[name] = float(value)
    return found


def test_a_column_per_variable_while_it_fits(run_cli, monkeypatch, tmp_path):
    code, out, err = _summary(run_cli, monkeypatch, tmp_path, FIVE, 80)
    assert code == 0, err
    assert "┃ ∂/∂a ┃ ∂/∂b ┃" in out and "gradients" not in out
    assert max(cell_len(line) for line in out.splitlines()) <= 80


@pytest.mark.parametrize("width", [50, 60])
def test_one_gradients_column_when_a_column_each_does_not_fit(run_cli, monkeypatch, tmp_path, width):
    code, out, err = _summary(run_cli, monkeypatch, tmp_path, FIVE, width)
    assert code == 0, err
    assert "gradients" in out and "┃ ∂/∂a" not in out
    assert max(cell_len(line) for line in out.splitlines()) <= width
    assert _gradients_by_line(out) == FIVE_GRADIENTS


def _gradients_of_records(out: str) -> dict:
    """{line: {name: value}} read from records, a '∂/∂NAME value' line each."""
    return {int(row["line"]): {header[3:]: float(cell) for header, cell in row.items() if header.startswith("∂/∂")}
            for row in read_layouts(out)[0][1]}


def test_records_when_not_even_one_gradients_column_fits(run_cli, monkeypatch, tmp_path):
    # at 40 columns the table takes at least 50: each job a record, a line per variable it has
    code, out, err = _summary(run_cli, monkeypatch, tmp_path, FIVE, 40)
    assert code == 0, err
    assert max(cell_len(line) for line in out.splitlines()) <= 40
    assert "┃" not in out and _gradients_of_records(out) == FIVE_GRADIENTS


def test_long_gradients_stay_whole_a_line_per_variable(run_cli, monkeypatch, tmp_path):
    jobs = "x=0.3; y=1.7; sin(x)*exp(y)\nz=2; w=0.1; ln(z)/w + sqrt(z*w)\nu=1; v=2; u/v + 1/0\n"
    expected = {1: {"x": math.cos(0.3) * math.exp(1.7), "y": math.sin(0.3) * math.exp(1.7)},
                2: {"z": 1 / (2 * 0.1) + 0.1 / (2 * math.sqrt(0.2)),
                    "w": -math.log(2) / 0.1 ** 2 + 2 / (2 * math.sqrt(0.2))}}
    # at 90 one gradients column; at 80 it would take 81 (the value and gradient columns whole, the
    # expression and error as narrow as they go): records
    for width, read in ((90, _gradients_by_line), (80, _gradients_of_records)):
        code, out, err = _summary(run_cli, monkeypatch, tmp_path, jobs, width)
        assert code == 1  # the third job divides by zero
        got = {line: gradients for line, gradients in read(out).items() if gradients}
        assert got.keys() == expected.keys()
        for line, gradients in expected.items():
            assert got[line] == pytest.approx(gradients, rel=1e-15)
        assert "division" in out and max(cell_len(line) for line in out.splitlines()) <= width
