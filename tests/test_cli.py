"""The command line: options, values, formats, exit codes, stdout/stderr split, no tracebacks."""

import json
import os
import subprocess
import sys

import pytest

from conftest import read_terminal

SEED = ("c*d/(a-b)", "--a", "1", "--b", "2", "--c", "3", "--d", "4")


def gradcalc(*argv, env=None, input=None):
    """Run the real command in a subprocess."""
    return subprocess.run([sys.executable, "-m", "gradcalc", *argv], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, input=input, timeout=60)


def test_seed_json(run_cli):
    code, out, err = run_cli(*SEED, "--format", "json")
    assert code == 0 and err == ""
    record = json.loads(out)
    assert record["expression"] == "c*d/(a-b)"
    assert record["value"] == -12.0
    assert record["gradients"] == {"a": -12.0, "b": 12.0, "c": -4.0, "d": -3.0}
    nodes = {node["expr"]: node for node in record["nodes"]}
    assert nodes["a-b"]["grad"] == -12.0 and nodes["c*d"]["grad"] == -1.0
    assert nodes["c"] == {"id": 0, "layer": "Input", "expr": "c", "inputs": [], "value": 3.0, "grad": -4.0}
    assert nodes["c*d/(a-b)"]["inputs"] == [2, 5]


def test_seed_table(run_cli):
    code, out, err = run_cli(*SEED)
    assert code == 0 and err == ""
    rows = {cells[1]: cells for cells in _table_rows(out) if len(cells) == 6}
    assert rows["a-b"][2:] == ["Minus", "3, 4", "-1", "-12"]
    assert rows["c*d"][2:] == ["Multiply", "0, 1", "12", "-1"]
    assert rows["c*d/(a-b)"][4:] == ["-12", "1"]
    assert "output = -12" in out
    gradients = {cells[0]: cells[1:] for cells in _table_rows(out) if len(cells) == 3}
    assert gradients["a"] == ["1", "-12"] and gradients["d"] == ["4", "-3"]
    assert ".0" not in out  # integral values print without a trailing .0


def test_only_the_process_command_freezes_its_set_up_objects(run_cli):
    """main() of the process itself (argv None) freezes what it set up (gc.freeze: a faster start);
    a caller passing argv (tests, embedding) keeps all its objects collectable."""
    import gc

    before = gc.get_freeze_count()
    assert run_cli(*SEED, "-o", "json")[0] == 0
    assert gc.get_freeze_count() == before
    script = ("import gc, sys; from gradcalc.cli import main; sys.argv[1:] = %r; code = main(); "
              "sys.stdout.flush(); print(gc.get_freeze_count(), code)" % (list(SEED) + ["-o", "json"]))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    frozen, code = done.stdout.split()[-2:]
    assert code == "0" and int(frozen) > 1000, done.stdout + done.stderr


@pytest.mark.parametrize("output", ["table", "json"])
def test_the_process_command_leaves_the_collector_on(run_cli, monkeypatch, output):
    """The process's own main() turns the cyclic collector off while it imports the renderer (Rich)
    and back on after freezing the set-up (a long batch must still collect its garbage), and prints
    what main(argv) prints."""
    monkeypatch.setenv("COLUMNS", "80")
    script = ("import gc, sys; from gradcalc.cli import main; sys.argv[1:] = %r; code = main(); "
              "sys.stdout.flush(); print(gc.isenabled(), gc.get_freeze_count() > 1000, code)"
              % (list(SEED) + ["-o", output]))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    printed, _, last = done.stdout[:-1].rpartition("\n")
    assert last.split() == ["True", "True", "0"], done.stdout + done.stderr
    assert printed + "\n" == run_cli(*SEED, "-o", output)[1]


def _table_rows(text):
    for line in text.splitlines():
        if line.startswith("│"):
            yield [cell.strip() for cell in line.strip("│").split("│")]


def test_named_statements_in_table(run_cli):
    code, out, _ = run_cli("e = a - b; f = c*d; f/e", "--a", "1", "--b", "2", "--c", "3", "--d", "4")
    assert code == 0
    names = [cells[1] for cells in _table_rows(out) if len(cells) == 6]
    assert "e = a - b" in names and "f = c*d" in names and "f/e" in names


def test_line_carries_its_own_values(run_cli):
    code, out, _ = run_cli("a=1; b=2; c=3; d=4; c*d/(a-b)", "-o", "plain")
    assert (code, out) == (0, "-12 a=-12 b=12 c=-4 d=-3\n")


@pytest.mark.parametrize("argv", [
    ("-x*y", "--x", "2", "--y", "3"),
    ("--x", "2", "-x*y", "--y=3"),
    ("--x=2", "--y", "3", "-x*y"),
    ("--y", "3", "--x", "2", "--", "-x*y"),
])
def test_expression_may_start_with_minus(run_cli, argv):
    code, out, err = run_cli("-o", "plain", *argv)
    assert (code, out, err) == (0, "-6 x=-3 y=-2\n", "")


@pytest.mark.parametrize("argv", [
    ("--a", "-1"), ("--a=-1"), ("--a", "-1e-3"), ("--a", "-.5"), ("--a", "+2"), ("--a", "1E+2"),
])
def test_negative_and_signed_values(run_cli, argv):
    argv = (argv,) if isinstance(argv, str) else argv
    code, out, _ = run_cli("a*a", *argv, "-o", "json")
    value = float((argv[0].split("=", 1)[1:] or [argv[-1]])[0])
    record = json.loads(out)
    assert code == 0
    assert record["value"] == value * value and record["gradients"] == {"a": 2 * value}


def test_values_before_expression_and_mixed_order(run_cli):
    code, out, _ = run_cli("--b", "-2", "-o", "plain", "a-b", "--a=-1")
    assert (code, out) == (0, "1 a=1 b=-1\n")


def test_variable_named_like_an_option(run_cli):
    code, out, _ = run_cli("format*wrt + o", "--var", "format=2", "--var", "wrt=-3", "--o", "1",
                           "-o", "plain")
    assert (code, out) == (0, "-5 format=-3 o=1 wrt=2\n")


def test_wrt_plain_is_a_bare_number(run_cli):
    assert run_cli(*SEED, "--wrt", "a", "-o", "plain")[1] == "-12\n"
    assert run_cli(*SEED, "--wrt", "d", "--wrt", "a", "-o", "plain")[1] == "-12 d=-3 a=-12\n"
    record = json.loads(run_cli(*SEED, "--wrt", "b", "-o", "json")[1])
    assert record["gradients"] == {"b": 12.0}


def test_wrt_unknown_variable(run_cli):
    code, out, err = run_cli(*SEED, "--wrt", "z", "-o", "plain")
    assert code == 2 and out == ""
    assert "no variable z" in err and "a, b, c, d" in err


def test_precision(run_cli):
    code, out, _ = run_cli("x/3", "--x", "1", "-o", "plain", "--precision", "3")
    assert out == "0.333 x=0.333\n"
    code, out, _ = run_cli("x/3", "--x", "1", "-o", "plain")
    assert out == f"{1 / 3!r} x={1 / 3!r}\n"
    code, out, _ = run_cli("x/3", "--x", "1", "-o", "json", "--precision", "3")
    assert json.loads(out)["value"] == 1 / 3  # JSON keeps full precision


def test_unused_value_warns_on_stderr(run_cli):
    code, out, err = run_cli("x + 1", "--x", "1", "--y", "2", "-o", "plain")
    assert (code, out) == (0, "2 x=1\n")
    assert err == "gradcalc: warning: --y is not used by the expression; its variables are: x\n"
    assert run_cli("x + 1", "--x", "1", "--y", "2", "-o", "plain", "--quiet")[2] == ""


def test_value_bound_on_the_line_wins_and_warns(run_cli):
    code, out, err = run_cli("a = 1; a*b", "--a", "5", "--b", "3", "-o", "plain")
    assert (code, out) == (0, "3 a=3 b=1\n")
    assert "--a is not used" in err


def test_missing_values_exit_2_naming_every_variable(run_cli):
    code, out, err = run_cli("c*d/(a-b)", "--a", "1")
    assert code == 2 and out == ""
    assert "no value for b, c and d" in err and "--b VALUE --c VALUE --d VALUE" in err


def test_syntax_error_exit_2_with_caret(run_cli):
    code, out, err = run_cli("c*d/(a-)", "--a", "1")
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "gradcalc: error: unexpected ')'; expected a number, a name, '(' or '[' (at column 8)",
        "    c*d/(a-)",
        "           ^",
        "  hint: an operator needs an operand on each side",
    ]


def test_unknown_function_exit_2(run_cli):
    code, _, err = run_cli("expp(x)", "--x", "1")
    assert code == 2 and "unknown function 'expp'" in err and "did you mean exp?" in err
    assert "trigonometric: sin cos tan" in err and "hyperbolic: sinh" in err  # grouped


def test_domain_error_exit_1(run_cli):
    code, out, err = run_cli("ln(a - b)", "--a", "1", "--b", "2")
    assert code == 1 and out == ""
    assert "ln(a - b): argument is -1, ln needs a positive number" in err


def test_json_error_record(run_cli):
    code, out, err = run_cli("ln(a - b)", "--a", "1", "--b", "2", "-o", "json")
    assert code == 1
    record = json.loads(out)
    assert record["expression"] == "ln(a - b)"
    assert record["error"]["type"] == "DomainError" and record["error"]["column"] == 1


@pytest.mark.parametrize("argv,words", [
    (("x", "--x", "abc"), "--x abc: not a number\n    --x abc\n        ^^^\n"),
    (("x", "--x"), "--x needs a value"),
    (("x", "--x", "1", "--x", "2"), "--x 1 --x 2: x is given twice"),
    (("x", "--1x", "2"), "--1x: not an option"),
    (("x", "--x", "inf"), "not a number"),
    (("x", "--var", "nonsense"), "expected NAME=VALUE"),
])
def test_usage_errors_exit_2(run_cli, argv, words):
    code, out, err = run_cli(*argv)
    assert code == 2 and out == "" and words in err


def test_no_expression_on_a_terminal_opens_a_session(run_cli, monkeypatch, tmp_path):
    from gradcalc import session_input

    class Terminal:
        def isatty(self):
            return True

    def end_of_input():
        raise EOFError

    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setattr(session_input, "line_reader", lambda session: (end_of_input, "scripted"))
    code, out, err = run_cli("--x", "1")
    assert code == 0 and out == "" and ":help lists the commands" in err  # tests/test_session.py has more


def test_no_standard_input_at_all_is_a_usage_error(run_cli, monkeypatch):
    monkeypatch.setattr("sys.stdin", None)
    code, out, err = run_cli("--x", "1")
    assert code == 2 and out == "" and "no expression given" in err


def test_bad_format_exit_2(run_cli):
    code, out, err = run_cli("x", "--x", "1", "-o", "xml")
    assert code == 2 and "xml" in err


def test_version(run_cli):
    from gradcalc import __version__

    assert run_cli("--version") == (0, f"gradcalc {__version__}\n", "")


def test_help_mentions_variables_and_exit_codes(run_cli):
    code, out, _ = run_cli("--help")
    assert code == 0 and "--NAME VALUE" in out and "Exit codes" in out


@pytest.mark.parametrize("argv", [
    ("",), ("(((",), ("\x01",), ("1/0",), ("--",), ("x", "--x"), ("1e999",), ("exp(exp(10))",),
    ("é + 1", "--é", "1"), ("a=1; a=; a",), (")" * 5000,), ("x" * 100_000,), ("--wrt",),
    ("-o",), ("--precision", "0", "x"), ("sqrt(-0.0)",), ("2**1e10",), ("(-8)**(1/3)",),
])
def test_no_traceback_for_any_input(argv):
    result = gradcalc(*argv)
    assert result.returncode in (0, 1, 2), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "Warning" not in result.stderr


def test_real_process_seed_and_exit_codes():
    result = gradcalc(*SEED, "-o", "json")
    assert result.returncode == 0 and json.loads(result.stdout)["gradients"]["a"] == -12.0
    assert gradcalc("ln(x)", "--x", "-1").returncode == 1
    assert gradcalc("ln(x", "--x", "1").returncode == 2


def test_no_colour_in_pipes():
    result = gradcalc(*SEED, env={"TERM": "xterm-256color"})
    assert result.returncode == 0 and "\x1b[" not in result.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("no_color", [False, True])
def test_colour_only_on_a_terminal_and_no_color_honoured(no_color):
    import pty

    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["TERM"] = "xterm-256color"
    if no_color:
        env["NO_COLOR"] = "1"
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "gradcalc", *SEED], stdout=follower,
                               stderr=subprocess.PIPE, env=env)
    os.close(follower)
    output = read_terminal(leader).decode()
    process.wait(timeout=60)
    assert "-12" in output
    assert ("\x1b[" in output) is (not no_color)
