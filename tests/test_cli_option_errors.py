"""Every option of the command given a value it does not take: gradcalc's error format (what, the
option and its value with a caret under the value, a hint with the choices or the range) and exit
code 2, never click's `Usage:` line and message box; values that are options (`--wrt -o plain`);
names after --plot that are not a picture file's."""

import os
import pty
import subprocess
import sys

import pytest
import typer

from conftest import read_terminal
from gradcalc.argv import command_line
from gradcalc.cli import app
from gradcalc.errors import UsageError
from gradcalc.option_errors import option_error


def _params() -> list:
    """The options of the command, as click reads them (with -h/--help)."""
    command = typer.main.get_command(app)
    return [param for param in command.get_params(typer.Context(command, **command.context_settings))
            if param.param_type_name == "option"]


def _invalid(param) -> list:
    """(argv, the option and value as the error shows them, the value, words of the message, of the hint)
    for values `param` does not take, derived from its kind as click declares it."""
    long = next(opt for opt in param.opts if opt.startswith("--"))
    if long == "--plot":  # --plot=FILE names a picture file: its name is what is refused
        return [(("--plot=1",), "--plot 1", "1", "the file name must end in .png, .svg or .pdf", "--plot plot.png")]
    if param.is_flag:
        return [((f"{opt}=1",), f"{opt}=1", "1", f"{opt} takes no value", f"write {opt} alone")
                for opt in (long, *param.secondary_opts)]
    kind = param.type
    if hasattr(kind, "choices"):
        choices = [str(getattr(choice, "value", choice)) for choice in kind.choices]
        return [((opt, "nope"), f"{opt} nope", "nope", f"'nope' is not one of {opt}'s choices",
                 f"{opt} takes {', '.join(choices[:-1])} or {choices[-1]}") for opt in param.opts]
    if hasattr(kind, "min"):
        span = (f"from {kind.min} to {kind.max}" if kind.max is not None else f"of at least {kind.min}")
        cases = [((long, str(kind.min - 1)), f"{long} {kind.min - 1}", str(kind.min - 1),
                  f"{kind.min - 1} is less than {kind.min}", f"give {long} a whole number {span}"),
                 ((long, "x"), f"{long} x", "x", "'x' is not a whole number", f"give {long} a whole number {span}")]
        if kind.max is not None:
            cases.append(((long, str(kind.max + 1)), f"{long} {kind.max + 1}", str(kind.max + 1),
                          f"{kind.max + 1} is more than {kind.max}", f"give {long} a whole number {span}"))
        return cases
    # a text value (a name, a file, an array): one of gradcalc's options is no value for it
    return [((opt, "-q"), f"{opt} -q", "-q", f"option {opt} needs a value; -q is an option", f"write {opt} ")
            for opt in param.opts]


CASES = [pytest.param(param, case, id=" ".join(case[0])) for param in _params() for case in _invalid(param)]


def test_every_option_has_a_case():
    assert {param.name for param, _ in (case.values for case in CASES)} == {param.name for param in _params()}
    # the command's options were read, with the ones a new user tried first
    assert {"-o", "--precision", "--order", "--input", "--max-elements", "--chunk-rows", "--help"} <= {
        opt for param in _params() for opt in param.opts}


@pytest.mark.parametrize("param,case", CASES)
def test_an_invalid_option_value_is_a_gradcalc_error(run_cli, param, case):
    argv, shown, value, message, hint = case
    code, out, err = run_cli("x*x", "--x", "2", *argv)
    assert (code, out) == (2, ""), err
    assert "Usage:" not in err and "╭" not in err and "Try '" not in err
    first, source, carets, hint_line = err.splitlines()
    assert first.startswith("gradcalc: error: ") and message in first, err
    # where: the option and its value as given, the caret under the value
    assert source == "    " + shown
    assert carets == "    " + " " * (len(shown) - len(value)) + "^" * len(value)
    assert hint_line.startswith("  hint: ") and hint in hint_line, err


@pytest.mark.parametrize("param", [p for p in _params() if hasattr(p.type, "min")], ids=lambda p: p.opts[0])
def test_the_bounds_of_a_range_are_values(run_cli, param):
    bounds = [param.type.min] + ([param.type.max] if param.type.max is not None else [])
    for bound in bounds:
        code, out, err = run_cli("x*x", "--x", "2", param.opts[0], str(bound), "-o", "plain")
        assert code == 0 and out.startswith("4 x=4"), (bound, err)


def test_a_near_miss_of_a_choice_is_named(run_cli):
    code, _, err = run_cli("x", "--x", "1", "-o", "jsn")
    assert code == 2 and "did you mean -o json?" in err
    code, _, err = run_cli("x", "--x", "1", "--format=tabel")
    assert err.splitlines()[1:3] == ["    --format=tabel", "             ^^^^^"]
    assert "did you mean --format table?" in err


@pytest.mark.parametrize("argv,shown,carets", [
    # as typed, the caret under the value within it: -ofoo is "-o" then "foo" at columns 2..4
    (("-ofoo",), "-ofoo", "  ^^^"), (("-qo", "foo"), "-qo foo", "    ^^^"), (("-qofoo",), "-qofoo", "   ^^^"),
    (("-o", "foo"), "-o foo", "   ^^^"), (("--format", "foo"), "--format foo", "         ^^^"),
    (("--precision=0",), "--precision=0", "            ^"),
    (("--precision", "5", "--precision", "0"), "--precision 0", "            ^"),  # the value kept is the last
    (("-o", "json", "-qofoo"), "-qofoo", "   ^^^"),  # the last -o, in a cluster
])
def test_the_error_shows_the_value_that_was_refused_as_typed(run_cli, argv, shown, carets):
    code, _, err = run_cli("x", "--x", "1", *argv)
    lines = err.splitlines()
    assert code == 2 and lines[0].startswith(f"gradcalc: error: {shown}: ") and lines[1:3] == ["    " + shown,
                                                                                               "    " + carets], err


def test_a_value_given_twice_refuses_only_the_last(run_cli):
    assert run_cli("x*x", "--x", "2", "--precision", "0", "--precision", "3", "-o", "plain") == (0, "4 x=4\n", "")


def test_the_error_is_the_same_on_a_terminal_as_in_a_pipe():
    """Rich drew its box on a terminal and in a pipe alike; gradcalc's format is plain text in both."""
    argv = [sys.executable, "-m", "gradcalc", "x", "--x", "1", "--precision", "18"]
    env = {**os.environ, "COLUMNS": "80"}
    piped = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    leader, follower = pty.openpty()
    process = subprocess.Popen(argv, stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    on_terminal = read_terminal(leader).decode().replace("\r\n", "\n")
    assert process.wait(timeout=60) == 2 and piped.returncode == 2
    assert piped.stdout == ""
    assert piped.stderr == on_terminal == ("gradcalc: error: --precision 18: 18 is more than 17\n"
                                           "    --precision 18\n"
                                           "                ^^\n"
                                           "  hint: give --precision a whole number from 1 to 17\n")


def test_a_click_error_that_names_no_option_keeps_its_message():
    error = option_error(typer.BadParameter("something odd"), ["--"], _params())
    assert isinstance(error, UsageError) and "something odd" in error.message and error.hint


# ---- values that are options ---------------------------------------------------------------------

@pytest.mark.parametrize("argv,option,value", [
    (("--wrt", "-o", "plain"), "--wrt", "-o"),  # was: -o taken as a name, `plain` a second job
    (("--precision", "-o", "plain"), "--precision", "-o"),
    (("--wrt", "--format", "json"), "--wrt", "--format"),
    (("--wrt", "--format=json"), "--wrt", "--format=json"),
    (("--diff", "-qo", "plain"), "--diff", "-qo"),
    (("--y", "-q"), "--y", "-q"),  # a variable's value, too
    (("-f", "-q"), "-f", "-q"),
    (("-qo", "--format", "json"), "-o", "--format"),  # shown as typed: -qo --format
])
def test_a_value_that_is_an_option_is_refused(run_cli, argv, option, value):
    code, out, err = run_cli("x*x", "--x", "2", *argv)
    assert (code, out) == (2, "")
    first, source, carets, hint = err.splitlines()
    typed = argv[argv.index(value) - 1]  # the option as typed: -qo for -o
    assert first == f"gradcalc: error: option {option} needs a value; {value} is an option"
    assert source == f"    {typed} {value}"
    assert carets == "    " + " " * (len(typed) + 1) + "^" * len(value)
    assert hint.startswith(f"  hint: write {option} ")


def test_a_file_named_like_an_option_is_given_with_a_path(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-q").write_text("x*3\n")
    code, _, err = run_cli("-f", "-q", "--x", "2")
    assert code == 2 and "./-q" in err
    assert run_cli("-f", "./-q", "--x", "2", "-o", "plain") == (0, "6 x=3\n", "")


@pytest.mark.parametrize("argv,values", [
    (("--a", "-3", "--b", "-1e-3", "--seed-grad", "-1,2"), {"a": "-3", "b": "-1e-3"}),  # numbers stay values
    (("--a", "-x"), {"a": "-x"}),  # not one of our options: a value (then refused as not a number)
])
def test_values_that_start_with_a_dash_but_are_no_option(argv, values):
    table = {"-o": "FORMAT", "-q": None, "--seed-grad": "ARRAY", "--plot": None, "--plot-file": "FILE"}
    assert command_line(["x", *argv], table, frozenset())[1] == values


# ---- --plot followed by a name --------------------------------------------------------------------

PLOT_TABLE = {"--plot": None, "--plot-file": "FILE", "--sweep": "X=A:B:N", "-o": "FORMAT"}


@pytest.mark.parametrize("argv,expected", [
    (["--plot", "ln(x)", "--sweep", "x=1:2:3"], ["--plot", "--sweep", "x=1:2:3", "--", "ln(x)"]),
    (["--plot", "plot", "--sweep", "plot=1:2:3"], ["--plot", "--sweep", "plot=1:2:3", "--", "plot"]),
    (["ln(x)", "--plot", "p.png"], ["--plot-file", "p.png", "--", "ln(x)"]),
    (["ln(x)", "--plot", "out/p.jpg"], ["--plot-file", "out/p.jpg", "--", "ln(x)"]),  # its suffix: the error
    (["--plot", "x*2.e3", "--sweep", "x=1:2:3"], ["--plot", "--sweep", "x=1:2:3", "--", "x*2.e3"]),
])
def test_what_follows_plot(argv, expected):
    assert command_line(argv, PLOT_TABLE, frozenset())[0] == expected


@pytest.mark.parametrize("argv,first,hint", [
    (("--plot", "p.jpg"), "gradcalc: error: --plot p.jpg: the file name must end in .png, .svg or .pdf",
     "for example --plot plot.png"),
    (("--plot", "plot"), "gradcalc: error: --plot plot: not a .png, .svg or .pdf file, so read as a second "
                         "expression", "--plot plot.png (or .svg, .pdf) draws into a file"),
])
def test_a_name_after_plot_is_not_a_second_expression(run_cli, argv, first, hint):
    code, out, err = run_cli("ln(x)", "--sweep", "x=1:6:50", *argv)
    assert (code, out) == (2, "")
    assert err.splitlines()[0] == first and "exactly one expression" not in err
    assert err.splitlines()[-1].startswith(f"  hint: {hint}")


# Values that other modules than click refuse (values.py, sweep.py, derivative_options.py,
# uncertainty.py, jobs.py, argv.py): shown as click's are, the option and its value with a caret
# under the part refused. (argv, the first line's message, the caret line, words of the hint)
VALUE_ERRORS = [
    (("x", "--sweep", "x=0:1:0"), "--sweep x=0:1:0: COUNT must be a whole number of points, at least 1",
     "                  ^", "--sweep x=-5:5:101"),
    (("x", "--sweep", "x=a:1:3"), "--sweep x=a:1:3: START, STOP and COUNT must be numbers: 'a' is not a number",
     "              ^", "--sweep NAME=START:STOP:COUNT"),
    (("x", "--x", "1", "--jvp", "foo"), "--jvp foo: expected NAME=VALUE pairs separated by commas",
     "          ^^^", "--jvp x=1,y=0"),
    (("x*y", "--x", "1", "--y", "2", "--jvp", "x=1,y=abc"), "--jvp x=1,y=abc: not a number",
     "                ^^^", "write a number such as --jvp y=-1.5, or an array such as --jvp y=[1,2,3]"),
    (("x", "--x", "1", "--hvp", "x"), "--hvp x: expected NAME=VALUE pairs separated by commas",
     "          ^", "--hvp x=1,y=0"),
    (("x", "--x", "1", "--seed-grad", "abc"), "--seed-grad abc: not a number", "                ^^^",
     "--seed-grad -1.5"),
    (("x", "--x", "abc"), "--x abc: not a number", "        ^^^", "--x -1.5"),
    (("x", "--x", "5±-1"), "--x 5±-1: the uncertainty must be a finite number >= 0", "          ^^", "--x 5±0.2"),
    (("x", "--var", "foo"), "--var foo: expected NAME=VALUE", "          ^^^", "--var format=2"),
    (("check*2", "--check", "2"), "--check 2: --check is one of gradcalc's options and takes no value",
     "            ^", "--var check=2"),
    (("x", "--x", "1", "--correlation", "nofile.csv"),
     "--correlation nofile.csv: cannot read it: No such file or directory", "                  ^^^^^^^^^^",
     "check the path"),
    (("x", "--x", "1", "-f", "nofile"), "--file nofile: expressions are given as arguments too (x)",
     "           ^^^^^^", "give the jobs one way"),
    (("--x", "1", "-f", "nofile"), "--file nofile: cannot read it: No such file or directory",
     "           ^^^^^^", "check the path"),
]


@pytest.mark.parametrize("argv, message, carets, hint", VALUE_ERRORS, ids=[" ".join(case[0]) for case in VALUE_ERRORS])
def test_a_value_refused_after_parsing_is_shown_with_its_option_and_a_caret(run_cli, tmp_path, monkeypatch,
                                                                              argv, message, carets, hint):
    monkeypatch.chdir(tmp_path)  # nofile and nofile.csv do not exist there
    code, out, err = run_cli(*argv)
    lines = err.splitlines()
    assert (code, out) == (2, "") and len(lines) == 4, err
    shown = message.partition(": ")[0]
    assert lines[:3] == [f"gradcalc: error: {message}", f"    {shown}", carets]
    assert lines[3].startswith("  hint: ") and hint in lines[3]
