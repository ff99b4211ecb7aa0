"""--check: reverse mode against central finite differences, kinks, mismatches."""

import json
import math

import pytest

from conftest import load_cases
from gradcalc import evaluate
from gradcalc.check import gradient_check
from gradcalc.errors import GradcalcError
from gradcalc.layers import Divide


def verdicts(expr, **values):
    return {row.name: row.verdict for row in gradient_check(evaluate(expr, **values)).rows}


def test_seed_example_checks_out():
    report = gradient_check(evaluate("c*d/(a-b)", a=1, b=2, c=3, d=4))
    assert report.passed and report.token() == "ok"
    numeric = {row.name: row.numeric for row in report.rows}
    assert numeric == pytest.approx({"a": -12.0, "b": 12.0, "c": -4.0, "d": -3.0}, rel=1e-8)


def test_every_shared_case_checks_out():
    for case in load_cases():
        result = evaluate(case["expr"], **{k: float(v) for k, v in case["vars"].items()})
        report = gradient_check(result)
        assert report.passed, (case["expr"], report.rows)


@pytest.mark.parametrize("expr,values,kinked,node", [
    ("relu(x)*y", {"x": 0, "y": 2}, "x", "relu(x)"),
    ("abs(x - 1e-7) + y", {"x": 0, "y": 1}, "x", "abs(x - 1e-7)"),
    ("relu(x - y)", {"x": 1, "y": 1 + 1e-9}, "x", "relu(x - y)"),
])
def test_kinks_are_named_not_failed(expr, values, kinked, node):
    report = gradient_check(evaluate(expr, **values))
    row = next(row for row in report.rows if row.name == kinked)
    assert row.verdict == "kink" and node in row.note
    assert report.passed
    others = [r.verdict for r in report.rows if r.name != kinked]
    assert all(v in ("ok", "kink") for v in others)


def test_variable_that_does_not_move_the_kink_is_checked_normally():
    assert verdicts("relu(x)*y", x=0, y=2)["y"] == "ok"


@pytest.mark.parametrize("expr,x", [("ln(x)", 1e-7), ("sqrt(x)", 1e-12), ("ln(x - 5)", 5.000001)])
def test_points_near_the_edge_of_the_domain(expr, x):
    row = gradient_check(evaluate(expr, x=x)).rows[0]
    assert row.verdict == "ok" and "shrunk" in row.note


@pytest.fixture
def seed_division_bug(monkeypatch):
    """The seed notebook's Divind.backward: -g*y/y**2 instead of -g*x/y**2."""
    from gradcalc.parser import clear_caches

    clear_caches()  # cached graphs hold bound methods of the real layer
    monkeypatch.setattr(Divide, "backward", lambda self, ops, gy, out, x, y: (gy / y, -gy * y / y ** 2))
    yield
    clear_caches()


def test_a_wrong_derivative_is_a_mismatch(seed_division_bug):
    report = gradient_check(evaluate("c*d/(a-b)", a=1, b=2, c=3, d=4))
    assert not report.passed
    assert {row.name: row.verdict for row in report.rows} == \
        {"a": "mismatch", "b": "mismatch", "c": "ok", "d": "ok"}
    assert report.token() == "mismatch:a,b"


def test_cli_mismatch_exits_1_in_every_format(seed_division_bug, run_cli):
    seed = ("c*d/(a-b)", "--a", "1", "--b", "2", "--c", "3", "--d", "4", "--check")
    for output_format in ("table", "json", "jsonl", "csv", "tsv", "plain"):
        code, out, err = run_cli(*seed, "-o", output_format)
        assert code == 1, output_format
        if output_format in ("table", "plain"):
            assert "check failed: ∂/∂a is 1.0 by reverse mode but -12.0000000" in err
    code, out, _ = run_cli(*seed, "-o", "json")
    assert json.loads(out)["check"]["a"]["verdict"] == "mismatch"


def test_cli_check_outputs(run_cli):
    seed = ("c*d/(a-b)", "--a", "1", "--b", "2", "--c", "3", "--d", "4", "--check")
    code, out, err = run_cli(*seed, "-o", "plain")
    assert (code, out, err) == (0, "-12 a=-12 b=12 c=-4 d=-3 check=ok\n", "")
    code, out, _ = run_cli(*seed, "-o", "csv")
    assert out.splitlines()[0].endswith(",error,check") and out.splitlines()[1].endswith(",,ok")
    code, out, _ = run_cli(*seed, "-o", "json")
    check = json.loads(out)["check"]
    assert set(check) == {"a", "b", "c", "d"} and check["d"]["numeric"] == pytest.approx(-3.0)
    code, out, _ = run_cli(*seed)
    assert code == 0 and "gradient check" in out
    code, out, _ = run_cli("relu(x)", "--x", "0", "--check", "-o", "plain")
    assert (code, out) == (0, "0 x=0 check=kink:x\n")


@pytest.mark.parametrize("output, verdict", [
    ("plain", lambda out: out == "0 check=kink:x\n"),  # the bare gradient relu'(0) = 0, then the verdict
    ("json", lambda out: json.loads(out)["check"]["x"]["verdict"] == "kink"),
    ("jsonl", lambda out: json.loads(out)["check"]["x"]["verdict"] == "kink"),
    ("csv", lambda out: out.splitlines()[1].endswith(",ok (kink: x)")),
    ("tsv", lambda out: out.splitlines()[1].endswith("\tok (kink: x)")),
    ("table", lambda out: "kink" in out and "relu(x) changes slope" in out),
])
def test_one_wrt_keeps_the_check_verdict(run_cli, output, verdict):
    # relu(x) at 0 is a kink whatever the format; with one --wrt plain prints the bare number and the token
    code, out, _ = run_cli("relu(x)", "--x", "0", "--wrt", "x", "--check", "-o", output)
    assert code == 0 and verdict(out), out


@pytest.mark.parametrize("values, verdict", [
    # std(a, b) = |a - b|/2, a cone's tip at a = b: within 2^-20 of it the differences straddle the tip
    # (they say 0 where the slope is ±0.5), so it is a kink, not a mismatch (exit 1 before, at 1e-140)
    ("1e-140,0", "kink:x[0],x[1]"), ("5e-324,0", "kink:x[0],x[1]"), ("1e-10,0", "kink:x[0],x[1]"),
    # far from any tip: the slopes (x - mean)/(n std) are checked as before, a 0 deviation no kink
    ("1,2,3", "ok"), ("5,1,1", "ok"), ("1e-5,0", "ok"),
])
def test_std_near_its_tip_is_a_kink_not_a_mismatch(run_cli, values, verdict):
    code, out, _ = run_cli("std(x)", "--x", values, "--check", "-o", "plain")
    assert code == 0 and out.split()[-1] == f"check={verdict}", out


def test_check_follows_wrt(run_cli):
    code, out, _ = run_cli("x*y", "--x", "2", "--y", "3", "--check", "--wrt", "y", "-o", "json")
    assert set(json.loads(out)["check"]) == {"y"}


def test_undefined_neighbourhood():
    # sqrt(x) at 0 has an infinite derivative: the evaluation itself is an error
    with pytest.raises(GradcalcError):
        evaluate("sqrt(x)", x=0)


def test_arrays_are_checked_element_by_element(run_cli):
    result = evaluate("sum(relu(X @ W + b))", X=[[1.0, 2.0], [3.0, -4.0]], W=[[0.5, -1.0], [0.25, 2.0]],
                      b=[0.0, -1.0])
    report = gradient_check(result)
    names = [row.name for row in report.rows]
    assert names[:2] == ["W[0,0]", "W[0,1]"] and "X[1,1]" in names and "b[1]" in names
    assert len(names) == 4 + 4 + 2 and report.passed
    row = next(r for r in report.rows if r.name == "W[1,0]")
    assert row.analytic == -2.0 and row.numeric == pytest.approx(-2.0, rel=1e-8)


def test_array_output_checks_the_seeded_sum(run_cli):
    seed = ("X @ W + b", "--X", "[[7,1,7],[5,5,2]]", "--W", "[[4,4,7,8],[6,3,7,2],[5,4,2,3]]",
            "--b", "[3,6,8,6]", "--check", "-o", "json", "--no-nodes")
    code, out, _ = run_cli(*seed)
    check = json.loads(out)["check"]
    assert code == 0 and len(check) == 6 + 12 + 4
    assert check["W[2,3]"]["numeric"] == pytest.approx(9.0) and check["b[0]"]["verdict"] == "ok"
    code, out, _ = run_cli(*seed, "--seed-grad", "[[1,0,0,0],[0,0,0,0]]")
    assert code == 0 and json.loads(out)["check"]["b[1]"]["numeric"] == pytest.approx(0.0, abs=1e-8)


def test_max_ties_are_kinks_for_the_tied_elements_only():
    rows = {row.name: row.verdict for row in gradient_check(evaluate("max(x)", x=[1.0, 3.0, 3.0])).rows}
    assert rows == {"x[0]": "ok", "x[1]": "kink", "x[2]": "kink"}


def test_a_wrong_array_derivative_is_a_mismatch(monkeypatch):
    from gradcalc.array_layers import Sum
    from gradcalc.numeric import spread
    from gradcalc.parser import clear_caches

    clear_caches()  # twice the true gradient of a sum
    monkeypatch.setattr(Sum, "backward", lambda self, ops, gy, out, x: (2 * spread(gy, x.shape, self.axis),))
    try:
        report = gradient_check(evaluate("sum(x*x)", x=[1.0, 2.0]))
    finally:
        clear_caches()
    assert not report.passed and report.token() == "mismatch:x[0],x[1]"


def test_unreliable_does_not_fail_and_says_so_in_every_format(run_cli):
    line = ("relu(x)*y + sin(w)", "--x", "0", "--y", "2", "--w", "1e20", "--check")
    code, out, err = run_cli(*line, "-o", "plain")
    assert (code, err) == (0, "") and out.endswith(" check=kink:x;unreliable:w\n")
    code, out, _ = run_cli(*line, "-o", "csv")
    assert code == 0 and out.splitlines()[1].endswith(",unreliable: w (kink: x)")
    code, out, _ = run_cli(*line, "-o", "json")
    check = json.loads(out)["check"]
    assert code == 0 and check["w"]["verdict"] == "unreliable" and check["w"]["numeric"] is None
    assert "sin(w)" in check["w"]["note"] and check["x"]["verdict"] == "kink"
    code, out, _ = run_cli(*line)
    assert code == 0 and "unreliable" in out and "w: no usable step" in out


def test_a_statement_the_output_does_not_use_cannot_refuse_a_step():
    # s fails for b below 2.0000001, but the output, x*b, does not use it: b is checked as usual
    report = gradient_check(evaluate("s = ln(b - 2.0000001); x * b", b=2.0000002, x=3.0))
    row = {r.name: r for r in report.rows}["b"]
    assert (row.verdict, row.note) == ("ok", "") and row.numeric == pytest.approx(3.0, rel=1e-12)


def test_a_variable_the_output_does_not_depend_on_is_exactly_zero():
    rows = {row.name: row for row in gradient_check(evaluate("s = sqrt(b); x * 2", b=4.0, x=1.0)).rows}
    assert (rows["b"].verdict, rows["b"].numeric) == ("ok", 0.0)
    assert "does not depend on b" in rows["b"].note


def test_a_mismatch_note_gives_the_estimate_and_its_error(seed_division_bug):
    rows = {row.name: row for row in gradient_check(evaluate("c*d/(a-b)", a=1, b=2, c=3, d=4)).rows}
    assert rows["a"].note.startswith("finite differences give -12.0") and " ± " in rows["a"].note


def test_near_the_largest_float():
    # 64·D(h/4) would overflow: the extrapolation works in differences of the quotients
    (row,) = gradient_check(evaluate("x * 1e308", x=1.5)).rows
    assert row.verdict == "ok" and row.numeric == pytest.approx(1e308, rel=1e-12)
    # the seeded sum of an array output overflows beyond x = 709.09: those stencils are refused
    rows = gradient_check(evaluate("exp(x)", x=[709.0, 709.0])).rows
    assert [row.verdict for row in rows] == ["ok", "ok"]
    assert rows[0].numeric == pytest.approx(math.exp(709.0), rel=1e-9)
