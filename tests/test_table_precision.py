"""The sensitivity and --check tables print their numbers whole, as every table does (the shortest
text that reads back to the same double) unless --precision N, and still fit the terminal: as a
table where it fits, else as records. The numbers are checked against values derived by hand."""

import json
import math

import pytest

from gradcalc.formatting import cell_width

PENDULUM = ("pi = 3.141592653589793; 4*pi^2*L/T^2", "--L", "0.992±0.002", "--T", "1.998±0.004", "--no-nodes")


def _rows(out: str, columns: int) -> list[list[str]]:
    """The body rows of the tables in `out` that have `columns` columns, as stripped cells."""
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in out.splitlines()
            if line.startswith("│") and line.count("│") == columns + 1]


def _records(out: str) -> dict:
    """The cells of records (`  header  text` lines) by header, in order."""
    cells = {}
    for line in out.splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            header, _, text = line.strip().partition("  ")
            cells.setdefault(header, []).append(text.strip())
    return cells


def _whole(text: str) -> float:
    """A number printed whole: the shortest text of its double (integral ones without '.0')."""
    number = float(text)
    assert text in (repr(number), repr(number).removesuffix(".0")), text
    return number


def test_the_sensitivity_table_prints_contributions_and_elasticities_whole(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run_cli(*PENDULUM)
    assert code == 0
    assert all(cell_width(line) <= 80 for line in out.splitlines())
    rows = {row[0]: row for row in _rows(out, 5)}
    L, T, sigma_L, sigma_T = 0.992, 1.998, 0.002, 0.004
    g = 4 * math.pi ** 2 * L / T ** 2
    # ∂g/∂L = g/L, ∂g/∂T = -2g/T; the elasticities are the exponents, 1 and -2
    assert _whole(rows["L"][2]) == pytest.approx(g / L * sigma_L, rel=1e-15, abs=0)
    assert _whole(rows["T"][2]) == pytest.approx(-2 * g / T * sigma_T, rel=1e-15, abs=0)
    assert _whole(rows["L"][4]) == pytest.approx(1, rel=1e-15) and _whole(rows["T"][4]) == pytest.approx(-2, rel=1e-15)
    share_T = (2 * g / T * sigma_T) ** 2 / ((g / L * sigma_L) ** 2 + (2 * g / T * sigma_T) ** 2)
    assert rows["T"][3] == f"{share_T:.1%}" == "79.8%"  # a percentage to 0.1%, as the README says


def test_an_elasticity_that_is_not_a_short_number_is_whole(run_cli):
    code, out, _ = run_cli("x + y", "--x", "1±0.1", "--y", "2±0.1", "--no-nodes")
    rows = {row[0]: row for row in _rows(out, 5)}
    assert code == 0 and rows["x"][4] == repr(1 / 3) and rows["y"][4] == repr(2 / 3)  # ∂f/∂x·x/f = x/3


def test_precision_rounds_the_sensitivity_numbers(run_cli):
    code, out, _ = run_cli(*PENDULUM, "--precision", "3")
    rows = {row[0]: row for row in _rows(out, 5)}
    g = 4 * math.pi ** 2 * 0.992 / 1.998 ** 2
    assert code == 0 and rows["T"][2] == f"{-2 * g / 1.998 * 0.004:.3g}" == "-0.0393"


def test_a_sensitivity_table_too_wide_for_the_terminal_is_records(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "50")
    code, out, _ = run_cli(*PENDULUM)
    assert code == 0 and all(cell_width(line) <= 50 for line in out.splitlines())
    cells = _records(out.split("sensitivity")[1])
    g = 4 * math.pi ** 2 * 0.992 / 1.998 ** 2
    assert _whole(cells["contribution"][0]) == pytest.approx(-2 * g / 1.998 * 0.004, rel=1e-15, abs=0)
    assert cells["share"] == ["79.8%", "20.2%"]


@pytest.mark.parametrize("columns", [80, 100])
def test_the_check_prints_both_derivatives_whole(run_cli, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    argv = ("x^2*sin(x)", "--x", "1.3", "--no-nodes")
    code, out, _ = run_cli(*argv, "--check")
    assert code == 0 and all(cell_width(line) <= columns for line in out.splitlines())
    x = 1.3
    exact = 2 * x * math.sin(x) + x * x * math.cos(x)  # (x² sin x)' by hand
    check = out.split("gradient check")[1]
    if columns == 100:  # a table
        analytic, numeric = _rows(check, 6)[0][1:3]
    else:  # 80: two whole derivatives beside the errors and the verdict are wider: records
        cells = _records(check)
        analytic, numeric = cells["analytic"][0], cells["numeric"][0]
    assert _whole(analytic) == pytest.approx(exact, rel=1e-15)
    assert _whole(numeric) == pytest.approx(exact, rel=1e-12)  # finite differences: close, not exact
    code, out, _ = run_cli(*argv, "--check", "-o", "json")
    assert float(numeric) == json.loads(out)["check"]["x"]["numeric"]  # the very double JSON gives
