"""--sweep: values and every gradient along a range or a grid, against SymPy's exact derivatives;
gaps where a point is outside the domain; chunking; streaming formats; errors."""

import csv
import io
import json
import math

import numpy as np
import pytest
import sympy

from gradcalc import parse
from gradcalc.errors import UsageError
from gradcalc.sweep import Axis, Sweep, kink_breaks, parse_axis

X, W = sympy.symbols("x w", real=True)
SYMPY_NAMES = {"x": X, "w": W, "ln": sympy.log, "exp": sympy.exp, "sin": sympy.sin, "sqrt": sympy.sqrt,
               "tanh": sympy.tanh, "sigmoid": lambda u: 1 / (1 + sympy.exp(-u))}


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def exact(expression: str, point: dict):
    """Value and derivatives by SymPy at `point`, or None where one of them is not a real number."""
    expr = sympy.parse_expr(expression, local_dict=SYMPY_NAMES)
    subs = {X: sympy.Rational(repr(point["x"])), W: sympy.Rational(repr(point["w"]))}
    numbers = [sympy.N(e.subs(subs), 30) for e in (expr, sympy.diff(expr, W), sympy.diff(expr, X))]
    if not all(n.is_real and n.is_finite for n in numbers):
        return None
    value, grad_w, grad_x = map(float, numbers)
    return value, {"w": grad_w, "x": grad_x}


@pytest.mark.parametrize("expression", ["x**3 - 2*x*w", "ln(x) * sin(w*x)", "sigmoid(x*w) + tanh(x - 1)",
                                        "sqrt(x) / (1 + x*x) + exp(w)"])
def test_every_point_matches_sympy(run_cli, expression):
    code, out, err = run_cli(expression, "--sweep", "x=-2:3:26", "--w", "0.7", "-o", "csv")
    assert code == 0
    table = rows(out)
    assert list(table[0]) == ["x", "value", "grad_w", "grad_x"]
    assert [float(row["x"]) for row in table] == np.linspace(-2, 3, 26).tolist()
    gaps = 0
    for row in table:
        expected = exact(expression, {"x": float(row["x"]), "w": 0.7})
        if expected is None:
            assert row["value"] == row["grad_x"] == row["grad_w"] == ""  # a gap, not a crash
            gaps += 1
            continue
        value, gradients = expected
        assert math.isclose(float(row["value"]), value, rel_tol=1e-12, abs_tol=1e-12)
        for name, gradient in gradients.items():
            assert math.isclose(float(row[f"grad_{name}"]), gradient, rel_tol=1e-9, abs_tol=1e-12), (row, name)
    if gaps:
        assert f"{gaps} of 26 points are gaps" in err and "the first at x = -2:" in err


@pytest.mark.parametrize("start, stop, count", [(-5, 5, 100_001), (0.1, 0.7, 7), (1, 1, 5), (3, -2, 11), (2, 9, 1)])
def test_points_are_numpys_linspace_chunk_by_chunk(start, stop, count):
    sweep = Sweep(parse("x"), [Axis("x", start, stop, count)], {})
    points = np.concatenate([columns["x"] for columns, _ in sweep.chunks(999)])
    assert np.array_equal(points, np.linspace(start, stop, count))


@pytest.mark.parametrize("expression", ["x**3 * w + sin(x*w)", "ln(x) * exp(w*x)"])
def test_order_2_columns_match_sympy(run_cli, expression):
    code, out, _ = run_cli(expression, "--sweep", "x=-1:2:13", "--w", "0.7", "--order", "2", "-o", "csv", "-q")
    assert code == 0
    table = rows(out)
    assert list(table[0])[-3:] == ["d2_w_w", "d2_w_x", "d2_x_x"]
    expr = sympy.parse_expr(expression, local_dict=SYMPY_NAMES)
    for row in table:
        subs = {X: sympy.Rational(row["x"]), W: sympy.Rational("0.7")}
        if exact(expression, {"x": float(row["x"]), "w": 0.7}) is None:
            assert row["d2_x_x"] == ""
            continue
        for column, (a, b) in {"d2_w_w": (W, W), "d2_w_x": (W, X), "d2_x_x": (X, X)}.items():
            expected = float(sympy.N(sympy.diff(expr, a, b).subs(subs), 30))
            assert math.isclose(float(row[column]), expected, rel_tol=1e-9, abs_tol=1e-12), (row, column)


def test_a_second_derivative_infinite_at_one_point_is_a_gap():
    """sqrt(x)**3 and its first derivative are finite at 0, its second is not."""
    sweep = Sweep(parse("sqrt(x)**3"), [Axis("x", 0.0, 1.0, 5)], {}, order=2)
    (columns, (value, first, second)), = list(sweep.chunks(64))
    x = columns["x"]
    assert np.isnan(value).tolist() == [True, False, False, False, False]
    np.testing.assert_allclose(second[1:], 0.75 / np.sqrt(x[1:]), rtol=1e-13)


def test_a_gap_of_the_second_derivative_says_why(run_cli):
    # x^1.5: value 0 and slope 1.5·√0 = 0 at 0 are finite, the second 0.75/√x is not
    code, out, err = run_cli("x^1.5", "--sweep", "x=0:1:2", "--order", "2", "-o", "csv")
    assert code == 0 and rows(out)[1]["d2_x_x"] == "0.75"
    assert "the first at x = 0: " in err and "derivative of order 2 is not finite" in err
    # a domain error comes first, as at order 1
    code, out, err = run_cli("sqrt(x)", "--sweep", "x=-1:1:3", "--order", "2", "-o", "csv")
    assert code == 0 and "the first at x = -1: sqrt(x): " in err


def test_a_second_derivative_not_asked_for_makes_no_gap(run_cli):
    # erf(x)·y with --wrt y: ∂/∂y = erf(x), ∂²/∂y² = 0, at x = 1e200 too (erf = 1), where ∂²/∂x² is a gap
    code, out, err = run_cli("erf(x)*y", "--sweep", "x=1:1e200:2", "--y", "2", "--wrt", "y", "--order", "2",
                             "-o", "csv")
    assert (code, err) == (0, "")
    assert [(row["grad_y"], row["d2_y_y"]) for row in rows(out)] == [(repr(math.erf(1.0)), "0.0"), ("1.0", "0.0")]


def test_a_grid_varies_the_first_sweep_slowest(run_cli):
    code, out, _ = run_cli("x*x*w", "--sweep", "x=1:3:3", "--sweep", "w=-1:1:2", "-o", "csv")
    assert code == 0
    got = [(float(r["x"]), float(r["w"]), float(r["value"]), float(r["grad_x"]), float(r["grad_w"]))
           for r in rows(out)]
    expected = [(x, w, x * x * w, 2 * x * w, x * x) for x in (1.0, 2.0, 3.0) for w in (-1.0, 1.0)]
    assert got == expected


def test_chunks_do_not_change_the_result(run_cli):
    _, whole, _ = run_cli("ln(x) * w + sqrt(x)", "--sweep", "x=-1:4:101", "--w", "3", "-o", "csv")
    code, chunked, err = run_cli("ln(x) * w + sqrt(x)", "--sweep", "x=-1:4:101", "--w", "3", "-o", "csv",
                                 "--chunk-rows", "7")
    assert code == 0 and chunked == whole
    assert "21 of 101 points are gaps" in err  # x = -1 ... 0: ln needs x > 0, and sqrt'(0) is infinite


def test_isolated_failures_are_found_by_halving():
    """sqrt(x) is defined at 0 but its derivative is not: no value is inf or nan on the way
    forward, so only evaluating smaller and smaller groups of points finds the one that fails."""
    sweep = Sweep(parse("sqrt(x)"), [Axis("x", 0.0, 1.0, 11)], {})
    (columns, outputs), = list(sweep.chunks(64))
    value, gradient = outputs
    assert math.isnan(value[0]) and math.isnan(gradient[0])
    np.testing.assert_allclose(value[1:], np.sqrt(columns["x"][1:]), rtol=1e-15)
    np.testing.assert_allclose(gradient[1:], 0.5 / np.sqrt(columns["x"][1:]), rtol=1e-15)
    assert sweep.gaps == 1 and sweep.describe_first_gap().startswith("x = 0: sqrt(x)")


def test_a_hidden_division_by_zero_is_a_gap():
    """sigmoid(1/x) at 0 is sigmoid(inf) = 1, finite: the point is still outside the domain."""
    sweep = Sweep(parse("sigmoid(1/x)"), [Axis("x", -1.0, 1.0, 5)], {})
    (_, (value, gradient)), = list(sweep.chunks(64))
    assert np.isnan(value).tolist() == [False, False, True, False, False]
    x = np.array([-1.0, -0.5, 0.5, 1.0])
    s = 1 / (1 + np.exp(-1 / x))
    np.testing.assert_allclose(value[[0, 1, 3, 4]], s, rtol=1e-15)
    np.testing.assert_allclose(gradient[[0, 1, 3, 4]], s * (1 - s) * -1 / x**2, rtol=1e-14)


def test_every_point_a_gap_is_exit_1(run_cli):
    code, out, err = run_cli("x + 1/(w - w)", "--sweep", "x=0:1:3", "--w", "2", "-o", "csv")
    assert code == 1
    assert [row["value"] for row in rows(out)] == ["", "", ""]
    assert "3 of 3 points are gaps" in err and "division by zero" in err


def test_jsonl_and_tsv(run_cli):
    code, out, err = run_cli("ln(x)", "--sweep", "x=0:1:3", "-o", "jsonl", "-q")
    assert code == 0 and err == ""
    records = [json.loads(line) for line in out.splitlines()]
    assert records[0] == {"x": 0.0, "value": None, "grad_x": None}
    assert records[1] == {"x": 0.5, "value": math.log(0.5), "grad_x": 2.0}
    code, out, _ = run_cli("x*y", "--sweep", "x=1:2:2", "--y", "5", "-o", "tsv", "--wrt", "y")
    assert out == "x\tvalue\tgrad_y\n1.0\t5.0\t1.0\n2.0\t10.0\t2.0\n"


def test_table(run_cli):
    code, out, _ = run_cli("ln(x)*w", "--sweep", "x=0:2:3", "--w", "2")
    assert code == 0
    lines = [[cell.strip() for cell in line.strip("│").split("│")] for line in out.splitlines()
             if line.startswith("│")]
    assert lines == [["0", "—", "—", "—"], ["1", "0", "0", "2"],
                     ["2", repr(2 * math.log(2)), repr(math.log(2)), "1"]]


def test_kink_breaks():
    graph = parse("relu(x - 0.5) + abs(x)")
    x = np.linspace(-1, 1, 11)  # abs's input is 0 at index 5; relu's turns positive between 7 and 8
    breaks = kink_breaks(graph, {"x": x}, len(x))
    assert np.flatnonzero(breaks).tolist() == [5, 6, 8]
    assert not kink_breaks(graph, {"x": x}, len(x), jumps_only=True).any()  # the value is continuous


@pytest.mark.parametrize("text, step, jumps", [
    # x = 0, 0.3, ..., 4.5: floor steps up at 1.2 (index 4), 2.1, 3.0, 4.2; a sign test of sin(πx)
    # (the check's old kink input) saw no change from 0.9 to 1.2 to 2.1 ...
    ("floor(x)*x", math.floor, [4, 7, 10, 14]),
    ("mod(x, 1.5)", lambda v: math.floor(v / 1.5), [5, 10, 15]),  # the quotient steps at 1.5, 3.0, 4.5
    ("round(x) + x^2", round, [2, 5, 9, 12]),  # at 0.6, 1.5, 2.7, 3.6 (half to even: 2.5 and 4.5 go down)
])
def test_a_plot_breaks_its_lines_where_a_step_function_moves_to_its_next_step(text, step, jumps):
    graph = parse(text)
    x = np.round(np.arange(16) * 0.3, 12)
    assert [index for index in range(1, 16) if step(x[index]) != step(x[index - 1])] == jumps
    assert np.flatnonzero(kink_breaks(graph, {"x": x}, len(x))).tolist() == jumps
    assert np.flatnonzero(kink_breaks(graph, {"x": x}, len(x), jumps_only=True)).tolist() == jumps


@pytest.mark.parametrize("text, message", [
    ("x", "expected NAME=START:STOP:COUNT"),
    ("x=0:1", "expected NAME=START:STOP:COUNT"),
    ("x=a:1:3", "must be numbers"),
    ("x=0:inf:3", "must be finite"),
    ("x=0:1:2.5", "whole number of points"),
    ("x=0:1:0", "whole number of points"),
])
def test_bad_axes(text, message):
    with pytest.raises(UsageError, match=message):
        parse_axis(text)


@pytest.mark.parametrize("argv, message", [
    (["y*2", "--sweep", "x=0:1:3"], "has no variable x"),
    (["x*y", "--sweep", "x=0:1:3"], "no value for y"),
    (["x*2", "--sweep", "x=0:1:3", "--x", "1"], "both give x a value"),
    (["x = 1; x*2", "--sweep", "x=0:1:3"], "the line binds x itself"),
    (["x*2", "--sweep", "x=0:1:3", "--sweep", "x=0:1:2"], "given twice"),
    (["sum(x)", "--sweep", "x=0:1:3"], "one number per point"),
    (["x*2", "--sweep", "x=0:1:3", "-o", "json"], "writes a table, csv, tsv or jsonl"),
    (["x*2", "--sweep", "x=0:1:20000"], "too long to read"),
    (["x*2", "x*3", "--sweep", "x=0:1:3"], "exactly one expression"),
    (["x*2", "--plot"], "--plot draws along a --sweep"),
    (["x*y", "--sweep", "x=0:1:3", "--sweep", "y=0:1:3", "--plot"], "draws along one variable"),
    (["x*2", "--sweep", "x=0:1:200000", "--plot"], "at most 100,000 points"),
    (["x*2", "--sweep", "x=0:1:3", "--plot", "-o", "csv"], "cannot be combined with -o csv"),
    (["x*2", "--sweep", "x=0:1:3", "--wrt", "z"], "has no variable z"),
    (["x*y", "--sweep", "x=0:1:3", "--y", "1,2"], "are numbers, not arrays"),
    (["x*2", "--sweep", "x=0:1:3", "--check"], "cannot be combined with --check"),
    (["x*2", "--sweep", "x=0:1:3", "--jacobian"], "cannot be combined with --jacobian"),
])
def test_usage_errors(run_cli, argv, message):
    code, out, err = run_cli(*argv)
    assert code == 2 and out == "", out
    assert message in err and "Traceback" not in err


def test_closed_pipe_ends_quietly(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(f"{sys.executable} -m gradcalc 'x*x' --sweep x=0:1:300000 -o csv | head -2",
                          shell=True, capture_output=True, text=True, timeout=120)
    assert done.stdout == "x,value,grad_x\n0.0,0.0,0.0\n" and done.stderr == ""


def test_the_sweep_table_title_is_a_line_without_trailing_spaces(run_cli):
    code, out, _ = run_cli("x*x", "--sweep", "x=0:1:3")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "x*x"
    assert [line.split("│")[1:4] for line in lines[4:7]] == [
        ["   0 ", "     0 ", "     0 "], [" 0.5 ", "  0.25 ", "     1 "], ["   1 ", "     1 ", "     2 "]]


@pytest.mark.parametrize("spec, words", [
    ("x=0:1e-400:3", "1e-400 underflows to 0"),  # float() would sweep 0..0 silently
    ("x=0:1e999:3", "1e999 overflows"),
    ("x=0:١:3", "'١' is not a number (numbers are written with the digits 0-9)"),
])
def test_sweep_bounds_are_read_as_option_values_are(run_cli, spec, words):
    code, out, err = run_cli("x", "--sweep", spec, "-o", "csv")
    assert (code, out) == (2, "") and words in err
