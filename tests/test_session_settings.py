"""The settings the session's commands change (:wrt, :unset, :diff, :check, :format), checked in the
session's words: a hint says the command that fixes it (:check off), never a command-line option."""

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
