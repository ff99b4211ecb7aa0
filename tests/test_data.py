"""--data: one expression at every row of a file of points, vectorized, in chunks."""

import csv
import io
import json
import math

import numpy as np
import pytest

from gradcalc import evaluate


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def points(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x,y\n1,2\n3,4\n0.5,-1\n")
    return str(path)


def test_one_output_row_per_point(run_cli, points):
    code, out, err = run_cli("x*y + ln(x)", "--data", points)
    assert code == 0 and err == ""
    assert out.splitlines() == [
        "x,y,value,grad_x,grad_y,error",
        "1.0,2.0,2.0,3.0,1.0,",
        f"3.0,4.0,{float(12 + np.log(3))!r},{4 + 1 / 3!r},3.0,",
        f"0.5,-1.0,{float(-0.5 + np.log(0.5))!r},1.0,0.5,",
    ]


def test_options_fill_missing_columns_with_a_gradient_per_row(run_cli, points):
    code, out, _ = run_cli("w*x + y", "--data", points, "--w", "2", "-o", "jsonl")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["grad_w"] for r in records] == [1.0, 3.0, 0.5]
    assert [r["value"] for r in records] == [4.0, 10.0, 0.0]


def test_tsv(run_cli, points):
    code, out, _ = run_cli("x - y", "--data", points, "-o", "tsv")
    assert out.splitlines()[1] == "1.0\t2.0\t-1.0\t1.0\t-1.0\t"


def test_hundred_thousand_rows_match_the_scalar_path(run_cli, tmp_path):
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0.1, 3, 100_000), rng.uniform(-2, 2, 100_000)
    path = tmp_path / "big.csv"
    with path.open("w") as out:
        out.write("x,y\n")
        for a, b in zip(x.tolist(), y.tolist()):
            out.write(f"{a!r},{b!r}\n")
    expr = "sigmoid(x*y) * ln(1 + exp(y)) / sqrt(x) + x**y"
    code, text, _ = run_cli(expr, "--data", str(path))
    table = rows(text)
    assert code == 0 and len(table) == 100_000
    for i in rng.choice(100_000, 50, replace=False):
        scalar = evaluate(expr, x=x[i], y=y[i])
        row = table[i]
        assert float(row["x"]) == x[i]
        assert float(row["value"]) == pytest.approx(scalar.value, rel=1e-13)
        assert float(row["grad_x"]) == pytest.approx(scalar.gradients["x"], rel=1e-12)
        assert float(row["grad_y"]) == pytest.approx(scalar.gradients["y"], rel=1e-12)


def test_chunks_give_identical_output(run_cli, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("x,y\n" + "".join(f"{i / 7!r},{i % 5 - 2}\n" for i in range(1, 1000)))
    whole = run_cli("exp(x) * y + relu(y)", "--data", str(path))
    chunked = run_cli("exp(x) * y + relu(y)", "--data", str(path), "--chunk-rows", "7")
    assert whole == chunked and whole[0] == 0 and len(whole[1].splitlines()) == 1000


def test_npz_npy_and_jsonl_files(run_cli, tmp_path):
    np.savez(tmp_path / "p.npz", x=np.array([1.0, 2.0]), y=np.array([3.0, 4.0]))
    structured = np.zeros(2, dtype=[("x", float), ("y", float)])
    structured["x"], structured["y"] = [1.0, 2.0], [3.0, 4.0]
    np.save(tmp_path / "p.npy", structured)
    (tmp_path / "p.jsonl").write_text('{"x": 1, "y": 3}\n{"x": 2, "y": 4}\n')
    outputs = {name: run_cli("x*y", "--data", str(tmp_path / name)) for name in ("p.npz", "p.npy", "p.jsonl")}
    for name, (code, out, _) in outputs.items():
        assert code == 0, name
        assert [r["value"] for r in rows(out)] == ["3.0", "8.0"], name
        assert [r["grad_x"] for r in rows(out)] == ["3.0", "4.0"], name


def test_a_failing_row_does_not_lose_the_others(run_cli, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("x\n1\n-3\n4\n")
    code, out, _ = run_cli("ln(x)", "--data", str(path))
    table = rows(out)
    assert code == 1 and [r["value"] for r in table] == ["0.0", "", repr(float(np.log(4)))]
    assert table[1]["error"].startswith("DomainError: ln(x): argument is -3")


@pytest.mark.parametrize("content,words", [
    ("x,y\n1,2\n3,abc\n", "line 3, column y: 'abc' is not a number (at column 3)\n    3,abc\n      ^^^\n"),
    ("x,y\n1,2\n3\n", "line 3: 1 cell, but the header names 2 columns"),
    ("x,y\n1,nan\n", "line 2, column y: 'nan' is not a finite number"),
])
def test_bad_cells_exit_2_with_line_and_column(run_cli, tmp_path, content, words):
    path = tmp_path / "p.csv"
    path.write_text(content)
    code, out, err = run_cli("x*y", "--data", str(path))
    assert code == 2 and out == "" and words in err


def test_missing_columns_are_named(run_cli, points):
    code, _, err = run_cli("x*z*q", "--data", points)
    assert code == 2 and "no column or value for q, z" in err and "columns are x, y" in err


def test_reductions_across_rows_are_refused(run_cli, points):
    code, out, err = run_cli("sum(x)", "--data", points)
    assert code == 2 and out == "" and "one number per row" in err


def test_data_needs_a_row_format(run_cli, points):
    assert run_cli("x", "--data", points, "-o", "json")[0] == 2
    assert run_cli("x", "y", "--data", points)[0] == 2


def test_wrt_limits_the_gradient_columns(run_cli, points):
    # x*y + ln(x): ∂/∂x = y + 1/x, ∂/∂y = x
    code, out, err = run_cli("x*y + ln(x)", "--data", points, "--wrt", "y", "--wrt", "x")
    assert code == 0 and err == ""
    assert out.splitlines() == [
        "x,y,value,grad_y,grad_x,error",
        "1.0,2.0,2.0,1.0,3.0,",
        f"3.0,4.0,{float(12 + np.log(3))!r},3.0,{4 + 1 / 3!r},",
        f"0.5,-1.0,{float(-0.5 + np.log(0.5))!r},0.5,1.0,",
    ]
    out = run_cli("x*y", "--data", points, "--wrt", "x", "-o", "jsonl")[1]
    records = [json.loads(line) for line in out.splitlines()]
    assert [sorted(r) for r in records] == [["error", "grad_x", "value", "x", "y"]] * 3
    assert [r["grad_x"] for r in records] == [2.0, 4.0, -1.0]


def test_wrt_with_a_failing_row_keeps_the_columns(run_cli, tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x,y\n1,2\n-1,3\n")
    code, out, _ = run_cli("ln(x)*y", "--data", str(path), "--wrt", "y")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "x,y,value,grad_y,error" and lines[1] == "1.0,2.0,0.0,0.0,"
    assert lines[2].startswith('-1.0,3.0,,,"DomainError: ln(x)')


def test_wrt_of_a_name_the_expression_lacks(run_cli, points):
    code, out, err = run_cli("x*y", "--data", points, "--wrt", "z")
    assert code == 2 and out == "" and "no variable z" in err and "x, y" in err


@pytest.mark.parametrize("argv,words", [
    (("--check",), "--data does not combine with --check"),
    (("-o", "table"), "--data writes csv, tsv or jsonl, not table"),
    (("-o", "plain"), "not plain"),
    (("--precision", "3"), "--precision"),
    (("--no-nodes",), "--nodes/--no-nodes"),
    (("--seed-grad", "1"), "--seed-grad"),
    (("--fail-fast", "--full"), "--full and --fail-fast"),
    (("--jacobian",), "--jacobian"),
    (("--explain",), "--explain"),
])
def test_options_that_mean_nothing_with_data_are_refused(run_cli, points, argv, words):
    code, out, err = run_cli("x*y", "--data", points, *argv)
    assert code == 2 and out == "" and words in err


def test_data_formats_given_explicitly(run_cli, points):
    default = run_cli("x*y", "--data", points)
    assert run_cli("x*y", "--data", points, "-o", "csv") == default
    assert run_cli("x*y", "--data", points, "-o", "tsv")[1] == default[1].replace(",", "\t")


def test_wrt_with_order_gives_second_derivatives_in_those_variables(run_cli, points):
    # f = x*y + ln(x): f_xx = -1/x**2, f_x = y + 1/x; only x is reported
    code, out, err = run_cli("x*y + ln(x)", "--data", points, "--wrt", "x", "--order", "2")
    assert code == 0 and err == ""
    table = rows(out)
    assert list(table[0]) == ["x", "y", "value", "grad_x", "d2_x_x", "error"]
    for row in table:
        x, y = float(row["x"]), float(row["y"])
        assert float(row["grad_x"]) == pytest.approx(y + 1 / x, rel=1e-15)
        assert float(row["d2_x_x"]) == pytest.approx(-1 / x**2, rel=1e-15)


def test_an_order_2_derivative_not_reported_fails_no_row(run_cli, tmp_path):
    # erf(x)·y with --wrt y: ∂/∂y = erf(x) (1 at 1e200), ∂²/∂y² = 0; ∂²/∂x² is not finite at 1e200 but not asked for
    data = tmp_path / "points.csv"
    data.write_text("x,y\n1e200,2\n1,2\n")
    code, out, err = run_cli("erf(x)*y", "--data", str(data), "--wrt", "y", "--order", "2")
    assert (code, err) == (0, "")
    assert [(row["grad_y"], row["d2_y_y"], row["error"]) for row in rows(out)] == [
        ("1.0", "0.0", ""), (repr(math.erf(1.0)), "0.0", "")]


@pytest.mark.skipif(np.finfo(np.longdouble).max <= np.finfo(float).max, reason="long double is a double here")
def test_a_long_double_beyond_a_double_is_refused_by_row(run_cli, tmp_path):
    column = np.array([1, 2, np.longdouble("-1e4000")], dtype=np.longdouble)
    structured = np.zeros(3, dtype=[("x", np.longdouble)])
    structured["x"] = column
    np.save(tmp_path / "p.npy", structured)
    np.savez(tmp_path / "p.npz", x=column)
    for name in ("p.npy", "p.npz"):
        code, _, err = run_cli("x*2", "--data", str(tmp_path / name), "--chunk-rows", "2")
        assert code == 2, name
        assert f"{name}, row 3, column x: -1e+4000 is too large for a double (beyond ±1.8e308)" in err, name
        assert "RuntimeWarning" not in err, name  # numpy's cast warning used to reach stderr


@pytest.mark.parametrize("column, reason, hint", [
    # numpy's cast ended in "internal error: ValueError: could not convert string to float" (exit 70)
    (np.array(["1", "two"]), "holds strings, not numbers", "np.asarray(x, dtype=float) converts numbers' text"),
    (np.array(["1", "2"]), "holds strings, not numbers", "np.asarray(x, dtype=float)"),  # was read as 1, 2
    (np.array([1 + 2j, 3]), "is complex; values must be real numbers", "pass the real part (x.real)"),  # warned
    (np.array(["2020-01-01", "2020-01-03"], dtype="datetime64[D]"), "holds dates, not numbers",
     "(x - x[0]) / np.timedelta64(1, 'D')"),  # were days since 1970 (18262, ...)
    (np.array([1, 2], dtype="timedelta64[s]"), "holds time spans, not numbers", "x / np.timedelta64(1, 's')"),
    (np.array([True, False]), "holds booleans, not numbers", "x.astype(float)"),  # were 1.0 and 0.0
])
def test_columns_of_other_kinds_than_numbers_are_refused_by_name(run_cli, tmp_path, recwarn, column, reason, hint):
    np.savez(tmp_path / "p.npz", y=np.array([1.0, 2.0]), x=column)
    structured = np.zeros(2, dtype=[("y", float), ("x", column.dtype)])
    structured["y"], structured["x"] = [1.0, 2.0], column
    np.save(tmp_path / "p.npy", structured)
    for name in ("p.npz", "p.npy"):
        path = str(tmp_path / name)
        code, out, err = run_cli("x*y", "--data", path)
        assert (code, out) == (2, ""), (name, err)
        message, _, shown_hint = err.partition("\n  hint: ")
        assert message == f"gradcalc: error: {path}, column x {reason}", name
        assert hint in shown_hint, name
    assert not recwarn.list


def test_inf_and_nan_in_numpy_files_are_named_by_row_and_column(run_cli, tmp_path):
    # the evaluator's refusal said "(nan at index (1,)) ... (rows from line 1)" of an .npz, which has
    # no lines, with a hint for numpy users; the index counted from the chunk's start, from 0
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    y = np.array([1.0, 2.0, 3.0, -np.inf, np.nan])
    np.savez(tmp_path / "p.npz", x=x, y=y)
    structured = np.zeros(5, dtype=[("x", np.longdouble), ("y", np.longdouble)])
    structured["x"], structured["y"] = x, y
    np.save(tmp_path / "p.npy", structured)
    for name in ("p.npz", "p.npy"):
        path = str(tmp_path / name)
        code, out, err = run_cli("x*y", "--data", path, "--chunk-rows", "3")
        assert code == 2 and [r["value"] for r in rows(out)] == ["1.0", "4.0", "9.0"], (name, err)  # chunk 1 streamed
        assert err == (f"gradcalc: error: {path}, row 4, column y: -inf is not a finite number\n"
                       "  hint: every value must be a finite number: fix or remove that row\n"), name
    (tmp_path / "p.jsonl").write_text('{"x": 1, "y": 2}\n{"x": NaN, "y": 2}\n')  # json reads NaN
    code, out, err = run_cli("x*y", "--data", str(tmp_path / "p.jsonl"))
    assert (code, out) == (2, "") and f"{tmp_path / 'p.jsonl'}, line 2, column x: nan is not a finite number" in err


@pytest.mark.parametrize("line, words", [
    ('{"x": true}', "line 2, column x: true is not a number"),
    ('{"x": "1.5"}', 'line 2, column x: "1.5" is not a number'),
    ('{"x": null}', "line 2, column x: null is not a number"),
    ('{"y": 1}', "line 2: no value for x"),
    ('{"x": 1' + "0" * 400 + "}", "line 2, column x: a number too large for a double (beyond ±1.8e308)"),
], ids=["true", "text", "null", "missing", "10**400"])
def test_jsonl_values_that_are_not_numbers_are_refused(run_cli, tmp_path, line, words):
    path = tmp_path / "p.jsonl"
    path.write_text('{"x": 1}\n' + line + "\n")  # float() read true as 1.0 and "1.5" as 1.5
    code, out, err = run_cli("x*2", "--data", str(path))
    assert (code, out) == (2, "") and f"{path}, {words}" in err


def test_errors_of_a_chunk_count_rows_of_numpy_files_and_lines_of_text(run_cli, tmp_path):
    np.savez(tmp_path / "p.npz", x=np.array([1.0, 2.0]), sigma_x=np.array([0.1, -0.2]))
    (tmp_path / "p.csv").write_text("x,sigma_x\n1,0.1\n2,-0.2\n")
    for name, where in (("p.npz", "row 2"), ("p.csv", "line 3")):
        code, out, err = run_cli("x*2", "--data", str(tmp_path / name))
        assert (code, out) == (2, "") and f"error: {where}, column sigma_x: a standard uncertainty is >= 0" in err
    code, _, err = run_cli("sum(x)", "--data", str(tmp_path / "p.npz"), "--chunk-rows", "1")
    assert code == 2 and "one number per row (rows from row 1)" in err
