"""The settings the session's commands change (:wrt, :unset, :diff, :check, :format), checked in the
session's words: a hint says the command that fixes it (:check off), never a command-line option."""

import re

import pytest

FORMULA = "x = 2; 3*x^2"  # ∂/∂x of x^3, as the session's -o plain prints it


@pytest.mark.parametrize("lines,argv,message,hint,fix,after", [
    ((":check on", ":diff x"), (), ":diff prints a formula; :check does not apply to it",
     ":check off to print formulas, or :diff alone to evaluate again", ":check off", FORMULA),
    ((":wrt x", ":diff x"), (), ":diff prints a formula; :wrt does not apply to it",
     ":wrt alone to print formulas, or :diff alone to evaluate again", ":wrt", FORMULA),
    ((":format csv", ":diff x"), (), ":diff prints formulas as text, json, jsonl or latex, not csv",
     "use :format plain, :format json, :format jsonl or :format latex", ":format plain", FORMULA),
    ((":format latex",), (), ":format latex prints formulas: it goes with :diff NAME",
     ":diff x prints ∂/∂x as a formula; :format table evaluates again", ":diff x", "x = 2 \\\\ 3 \\cdot {x}^{2}"),
    # an option given when the session started cannot be changed by a command
    ((":diff x",), ("--jvp", "x=1"), ":diff prints a formula; --jvp does not apply to it",
     "start again without --jvp to print formulas, or :diff alone to evaluate again", ":diff", "8 x=12 jvp=12"),
])
def test_a_setting_that_does_not_go_with_diff_names_the_session_command(session, lines, argv, message, hint, fix,
                                                                        after):
    code, out, err = session("x = 2", *lines, "x^3", fix, "x^3", argv=(*argv, "-o", "plain"))
    assert f"gradcalc: error: {message}\n  hint: {hint}\n" in err
    assert "--diff" not in err and "-o " not in err and "--check" not in err
    # the line that failed printed nothing; after the command the hint names, it prints
    assert out.splitlines()[1:] == [after], out  # the first line: x = 2's result


def test_the_command_line_keeps_its_own_words(run_cli):
    code, _, err = run_cli("x^2", "--x", "1", "--diff", "x", "--check")
    assert code == 2 and "--diff prints a formula; --check does not apply to it" in err
    assert "run them without --diff" in err


# ---- :wrt and the session's variables ----------------------------------------------------------------

def test_unset_of_a_wrt_variable_drops_it_from_wrt(session):
    code, out, err = session("x = 2; y = 3", "x*y", ":wrt x", ":unset x", "y*2", ":graph", ":explain",
                             argv=("-o", "plain"))
    assert "x is no longer in :wrt: reporting every gradient" in err
    assert "no variable x" not in err and "gradcalc: error" not in err
    assert out.splitlines() == ["3 x=0 y=1", "6 x=3 y=2", "6 y=2"]  # y*2 reports every gradient: ∂/∂y = 2
    assert "#2 y*2 Multiply  value = 6  grad = 1" in err and "∂(y*2)/∂y = 2" in err  # :graph, :explain


def test_unset_keeps_the_other_wrt_variables(session):
    code, out, err = session("x = 2; y = 3", ":wrt x y", ":unset x", "y*5", argv=("-o", "plain"))
    assert "x is no longer in :wrt: reporting ∂/∂y" in err
    assert out.splitlines()[-1] == "5"  # one :wrt variable left: the bare ∂(y*5)/∂y


@pytest.mark.parametrize("name,message,hint", [
    ("alpah", ":wrt alpah: the session has no variable alpah",
     "did you mean :wrt alpha? the session's variables: alpha, beta, ans; define alpah first (alpah = 1)"),
    ("q", ":wrt q: the session has no variable q", "the session's variables: alpha, beta, ans; define q first (q = 1)"),
    ("f", ":wrt f: f names an expression; gradients are reported for variables",
     "the session's variables: alpha, beta, ans; :vars lists the definitions"),
])
def test_wrt_refuses_a_name_that_is_not_a_variable(session, name, message, hint):
    code, out, err = session("alpha = 2", "beta = 3", "f = alpha*beta", f":wrt {name}", "f", argv=("-o", "plain"))
    assert f"gradcalc: error: {message}\n  hint: {hint}\n" in err
    assert "reporting" not in err  # the setting did not change: f reports every gradient
    assert out.splitlines()[-1] == "6 alpha=3 beta=2"


def test_wrt_takes_the_session_values_and_the_command_line_arrays(session):
    code, out, err = session("a = 2", ":wrt a v", "sum(v*a)", argv=("--v", "1,2", "-o", "plain"))
    assert "reporting ∂/∂a, ∂/∂v" in err and "gradcalc: error" not in err
    assert out.splitlines()[-1] == "6 a=3 v=[2,2]"


def test_a_line_without_a_wrt_variable_is_an_error_in_the_session_words_and_changes_nothing(session):
    code, out, err = session("x = 2; y = 3", "x*y", ":wrt x", "z = 7; y*z", ":vars", argv=("-o", "plain"))
    assert ("gradcalc: error: :wrt x: the line has no variable x\n"
            "  hint: its variables are: y, z; :wrt alone clears :wrt and reports every gradient\n") in err
    assert "--wrt" not in err
    assert out.splitlines() == ["3 x=0 y=1", "6 x=3 y=2"]
    assert "z = 7" not in err and "ans = 6" in err  # :vars: the failed line defined nothing


def test_a_line_whose_output_fails_is_not_recorded():
    from gradcalc.errors import UsageError
    from gradcalc.session import Recorder

    class Failing:
        def result(self, result, line):
            raise UsageError("cannot print it")

    recorder = Recorder(Failing())
    with pytest.raises(UsageError):
        recorder.result("a result", 1)
    assert recorder.last is None


def test_a_definition_is_not_held_to_wrt_so_the_variable_wrt_needs_can_be_defined(session):
    # the review's dead end: with :wrt t, `x = 2` was refused, then :wrt x (no variable x yet) too
    code, out, err = session("t = 3; t^2", ":wrt t", "x = 2", ":wrt x", "x^2", "y = t*x", ":vars",
                             argv=("-o", "plain"))
    assert "gradcalc: error" not in err, err
    # t² at 3: 9, 2t = 6; `x = 2` has no t: every gradient, ∂x/∂x = 1; then :wrt x: ∂(x²)/∂x = 2x = 4;
    # y = t*x names an expression with x: ∂(t*x)/∂x = t = 3, alone as one :wrt asks
    assert out.splitlines() == ["9 t=6", "2 x=1", "4", "3"]
    assert "reporting ∂/∂x" in err and "\nx = 2\n" in err and "y = t*x    # = 6" in err  # :vars: both defined


def test_a_definition_reports_the_wrt_variables_it_has(session):
    code, out, err = session("a = 2; b = 3", ":wrt a b", "c = a*4", "c*b", argv=("-o", "plain"))
    assert "gradcalc: error" not in err, err
    # the last of `a = 2; b = 3` is b: 3, ∂b/∂a = 0, ∂b/∂b = 1; c = a*4 has a, not b: ∂/∂a = 4 alone
    # (one variable: the bare number); c*b = 4ab = 24 with ∂/∂a = 4b = 12 and ∂/∂b = 4a = 8
    assert out.splitlines() == ["3 a=0 b=1", "4", "24 a=12 b=8"]


def test_explain_and_graph_of_a_definition_under_wrt(session):
    code, out, err = session("t = 3", ":wrt t", "x = 2", ":explain", ":graph", argv=("-o", "plain"))
    assert "gradcalc: error" not in err, err
    assert out.splitlines()[:2] == ["3 t=1", "2 x=1"]
    assert "the chain rule, from the output #0 x (its gradient: the seed, 1) back" in err  # :explain, a reply
    assert "output = 2" not in err  # the result is not printed again


def test_diff_takes_a_name_the_session_lacks_with_a_note(session):
    # a formula needs no values (SymPy's diff(x**3*y, y) with y undefined): `:diff y` is taken, and a
    # name the session lacks gets a note with the closest variable, for a typo
    code, out, err = session("x = 3", ":diff y", "x^3*y", ":diff xx", ":diff x", "x^3")
    assert "lines print ∂/∂y as a formula" in err
    assert "note: :diff y: the session has no variable y yet" in err
    assert "note: :diff xx: the session has no variable xx yet" in err and "did you mean :diff x?" in err
    assert "gradcalc: error" not in err, err
    # ∂(x^3*y)/∂y = x^3 and d(x^3)/dx = 3x^2, each with the session's x spelled as it is
    assert out.rstrip().splitlines()[-2:] == ["x = 3; x^3", "x = 3; 3*x^2"]


def test_diff_refuses_a_named_expression(session):
    code, out, err = session("x = 1", "f = x*2", ":diff f", "x^2")
    assert ":diff f: f names an expression" in err
    assert "lines print ∂/∂f" not in err


@pytest.mark.parametrize("shown", ["table", "csv"])
def test_explain_prints_only_the_explanation_not_the_result_again(session, shown):
    # with -o table > file the file held `output = 12` and its table twice
    code, out, err = session("x = 3", "x*x + x", ":explain", argv=("-o", shown))
    where = out if shown == "table" else err  # beside csv the table is a reply, on stderr
    assert out.count("12") == 1 and err.count("12") == 0  # x*x + x at 3, printed once, as the result
    assert where.count("the chain rule, from the output #2 x*x + x") == 1
    assert re.search(r"│ #0 x +│ sum +│ +│ 1 \+ 3 \+ 3 +│ +7 │", where)  # ∂/∂x = 1 + 3 + 3 = 2·3 + 1
