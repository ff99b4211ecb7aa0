"""What a new user met, run as they ran it (a subprocess, stderr a pipe, COLUMNS 50 and 80): every
failure says what, where (the option as typed, a caret under the part at fault) and how to fix it,
with exit code 2; every line of stderr fits the width, words wrapped, never cut."""

import json
import os
import subprocess
import sys
import unicodedata

import pytest

from conftest import unwrapped

CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def gradcalc(*argv, columns=80):
    done = subprocess.run([sys.executable, "-m", "gradcalc", *argv], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL,
                          env={**os.environ, "COLUMNS": str(columns), "PYTHONPATH": CHECKOUT, "NO_COLOR": "1"})
    return done.returncode, done.stdout, done.stderr


def cells(line: str) -> int:
    """Terminal cells, counted here independently of gradcalc: 2 for a wide character, 0 for a mark."""
    return sum(0 if unicodedata.combining(char) else 2 if unicodedata.east_asian_width(char) in "WF" else 1
               for char in line)


# (argv, message, the excerpt, the part of it the carets are under, hint)
ERRORS = [
    pytest.param(("x^3", "--x", "1", "--hesian"), "--hesian is not one of gradcalc's options", "--hesian",
                 "--hesian", "did you mean --hessian? (a variable hesian is given as --hesian VALUE)", id="--hesian"),
    pytest.param(("x^3", "--x", "1", "--chek", "-o", "plain"), "--chek is not one of gradcalc's options", "--chek",
                 "--chek", "did you mean --check? (a variable chek is given as --chek VALUE)", id="--chek -o plain"),
    pytest.param(("x^3", "--x", "1", "--chek", "1"),
                 "--chek is not one of gradcalc's options, nor a variable of the expression", "--chek 1", "--chek",
                 "did you mean --check? (--check takes no value: write it alone)", id="--chek 1"),
    pytest.param(("x^3", "x^2", "--x", "1", "--fail_fast=1"),
                 "--fail_fast is not one of gradcalc's options, nor a variable of the expressions", "--fail_fast=1",
                 "--fail_fast", "did you mean --fail-fast? (--fail-fast takes no value: write it alone)",
                 id="--fail_fast=1"),
    pytest.param(("x", "--x", "1", "--wrt", "y"), "--wrt y: the expression has no variable y", "--wrt y", "y",
                 "its variables are: x", id="--wrt y"),
    pytest.param(("x1*x2", "--x1", "1", "--x2", "2", "--wrt", "x3"), "--wrt x3: the expression has no variable x3",
                 "--wrt x3", "x3", "its variables are: x1, x2", id="--wrt x3"),
    pytest.param(("x1*y", "--x1", "1", "--y", "2", "--wrt", "x"), "--wrt x: the expression has no variable x",
                 "--wrt x", "x", "did you mean --wrt x1? its variables are: x1, y", id="--wrt x"),
    pytest.param(("x", "--x", "2", "--x", "3"), "--x 2 --x 3: x is given twice", "--x 2 --x 3", "--x 3",
                 "give each variable once: --x 2 or --x 3", id="--x 2 --x 3"),
    pytest.param(("x", "--x=2", "--var", "x=3"), "--x=2 --var x=3: x is given twice", "--x=2 --var x=3",
                 "--var x=3", "give each variable once: --x=2 or --var x=3", id="--x=2 --var x=3"),
    pytest.param(("x", "--sweep", "z=0:1:3"), "--sweep z=0:1:3: the expression has no variable z", "--sweep z=0:1:3",
                 "z", "its variables are: x", id="--sweep z"),
    pytest.param(("x", "--x", "1", "--hvp", "z=1"), "--hvp z=1: the expression has no variable z", "--hvp z=1",
                 "z=1", "its variables are: x", id="--hvp z=1"),
    pytest.param(("x*y", "--x", "1", "--y", "2", "--jvp", "x=1,yy=2"),
                 "--jvp x=1,yy=2: the expression has no variable yy", "--jvp x=1,yy=2", "yy=2",
                 "did you mean --jvp y? its variables are: x, y", id="--jvp yy"),
    pytest.param(("--diff", "z", "x"), "--diff z: the expression has no variable z", "--diff z", "z",
                 "its variables are: x", id="--diff z"),
    pytest.param(("x", "--x", "1", "-o", "latex"), "-o latex prints formulas: it goes with --diff NAME", "-o latex",
                 "latex", 'gradcalc --diff x "x^3*y" -o latex', id="-o latex"),
    pytest.param(("x", "--x", "1", "--format=latex"), "-o latex prints formulas: it goes with --diff NAME",
                 "--format=latex", "latex", 'gradcalc --diff x "x^3*y" -o latex', id="--format=latex"),
    pytest.param(("x", "--x", "1", "--explain", "-o", "csv"), "--explain shows in a table, json or jsonl, not -o csv",
                 "-o csv", "csv", "leave out -o for a table, or write -o json or -o jsonl", id="--explain -o csv"),
    pytest.param(("x", "--x", "1", "--explain", "-qocsv"), "--explain shows in a table, json or jsonl, not -o csv",
                 "-qocsv", "csv", "leave out -o for a table, or write -o json or -o jsonl", id="--explain -qocsv"),
    pytest.param(("x", "--sweep", "x=0:1:3", "--graph", "g.svg"), "--sweep cannot be combined with --graph",
                 "--graph g.svg", "--graph g.svg", "run --sweep and --graph separately", id="--sweep --graph"),
    pytest.param(("--diff", "x", "sin(x) + sum(x*2)"),
                 "sum(x*2) is an array operation; a derivative as a formula is written in scalar operations only "
                 "(at column 10)", "sin(x) + sum(x*2)", "sum(x*2)",
                 "evaluate array derivatives at a point with --hessian or --jacobian", id="--diff of sum"),
]


@pytest.mark.parametrize("columns", [50, 80])
@pytest.mark.parametrize("argv, message, excerpt, under, hint", ERRORS)
def test_each_error_says_what_where_and_how_and_fits_the_width(argv, message, excerpt, under, hint, columns):
    code, out, err = gradcalc(*argv, columns=columns)
    assert (code, out) == (2, ""), err
    assert all(cells(line) <= columns for line in err.splitlines()), err
    lines = unwrapped(err).splitlines()
    assert lines == [f"gradcalc: error: {message}", f"    {excerpt}", lines[2], f"  hint: {hint}"], err
    assert lines[2] == " " * (4 + excerpt.rindex(under)) + "^" * len(under), err  # --x 3: the second one


@pytest.mark.parametrize("columns", [50, 80])
def test_the_unknown_function_hint_wraps_between_words(columns):
    code, out, err = gradcalc("foo(x)", "--x", "1", columns=columns)
    assert (code, out) == (2, "")
    assert all(cells(line) <= columns for line in err.splitlines()), err
    assert len(err.splitlines()) > 6  # the list of functions on many lines, not one of ~570 characters
    first, excerpt, carets, hint = unwrapped(err).splitlines()
    assert first == "gradcalc: error: unknown function 'foo' (at column 1)"
    assert (excerpt, carets) == ("    foo(x)", "    ^^^")
    assert hint.startswith("  hint: did you mean floor? known functions — exponential and logarithmic: exp ")
    assert hint.endswith(" arrays: sum mean max min dot transpose softmax log_softmax logsumexp stack concat "
                         "reshape flatten outer diag trace norm var std cumsum prod")
    assert "(at\n" not in err and "column\n" not in err  # "(at column 1)" is never split


@pytest.mark.parametrize("columns", [50, 80])
def test_the_sweeps_gap_warning_wraps_between_words(columns):
    code, out, err = gradcalc("ln(x)", "--sweep", "x=-1:1:5", "-o", "csv", columns=columns)
    assert code == 0 and out.splitlines()[4:] == ["0.5,-0.6931471805599453,2.0", "1.0,0.0,1.0"]
    assert all(cells(line) <= columns for line in err.splitlines()) and len(err.splitlines()) > 1, err
    assert unwrapped(err) == ("gradcalc: warning: 3 of 5 points are gaps (outside the domain or not finite); the "
                              "first at x = -1: ln(x): argument is -1, ln needs a positive number\n")


def test_a_variable_named_like_a_switch_still_works():
    # --hx is close to no switch, --chek is close to --check: both are variables when the expression has them
    assert gradcalc("hx*x", "--hx", "1", "--x", "2", "-o", "plain") == (0, "2 hx=2 x=1\n", "")
    assert gradcalc("chek*x", "--chek", "3", "--x", "2", "-o", "plain") == (0, "6 chek=2 x=3\n", "")


def test_a_mistyped_switch_in_a_batch_is_refused_once_the_lines_are_read(tmp_path):
    jobs = tmp_path / "jobs.txt"
    jobs.write_text("x^2\nx^3\n")
    code, out, err = gradcalc("-f", str(jobs), "--x", "2", "--chek", "1", "-o", "plain")
    assert (code, out) == (2, "4 x=4\n8 x=12\n")  # the lines could not be known before: they ran
    assert unwrapped(err).splitlines()[0] == ("gradcalc: error: --chek is not one of gradcalc's options, nor a "
                                              "variable of the expressions")
    jobs.write_text("x^2\nchek*x\n")  # a line that has chek: a variable after all
    assert gradcalc("-f", str(jobs), "--x", "2", "--chek", "1", "-o", "plain") == (0, "4 x=4\n2 chek=2 x=1\n", "")


@pytest.mark.parametrize("columns", [50, 80])
def test_a_variable_given_by_var_and_not_used_is_said_without_a_suggestion_of_itself(columns):
    code, out, err = gradcalc("x", "--x", "1", "--var", "format=2", "-o", "plain", columns=columns)
    assert (code, out) == (0, "1 x=1\n")
    assert all(cells(line) <= columns for line in err.splitlines()), err
    assert unwrapped(err) == ("gradcalc: warning: --var format is not used by the expression; its variables "
                              "are: x\n")


def test_diff_writes_clip_as_a_formula_that_parses_back():
    code, out, err = gradcalc("--diff", "x", "clip(x, 0, 1)")
    assert (code, out, err) == (0, "1 - step(-x) - step(x - 1)\n", "")
    points = {-0.5: 0, 0: 1, 0.5: 1, 1: 1, 1.5: 0}  # clip's slope by hand: the bounds belong to the inside
    code, out, err = gradcalc(*(f"x = {x}; {out.strip()}" for x in points), "-o", "jsonl")
    assert code == 0 and [json.loads(line)["value"] for line in out.splitlines()] == list(points.values())
