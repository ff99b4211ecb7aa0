"""Bytes that are not UTF-8 where no file is to blame: the command line's expressions and values,
and the lines of the interactive session (typed on a real terminal: test_session.py). Each is refused
as a batch line is, `not valid UTF-8 (byte 0xff)` with a caret under the byte; Python's '\\udcff' (how
it keeps such a byte) never reaches the user, and the session goes on."""

import os
import subprocess
import sys

import pytest

from gradcalc.session_input import HistoryFile

COMMAND_LINE_HINT = "  hint: give it as UTF-8 text (from a UTF-8 terminal or script: LANG=C.UTF-8)\n"
CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # this checkout's gradcalc, not main's
TERMINAL_HINT = "  hint: type it again as UTF-8 text (set the terminal to UTF-8: LANG=C.UTF-8)\n"


def test_an_expression_argument_as_the_shell_passes_its_bytes():
    # gradcalc "$(printf 'x\377')" --x 1; PYTHONUTF8: argv decoded as UTF-8 whatever the machine's locale
    result = subprocess.run([sys.executable, "-m", "gradcalc", b"x\xff", "--x", "1"], capture_output=True,
                            timeout=60, env={**os.environ, "PYTHONUTF8": "1", "PYTHONPATH": CHECKOUT})
    assert result.returncode == 2 and result.stdout == b""
    assert result.stderr.decode("utf-8") == ("gradcalc: error: the expression is not valid UTF-8 (byte 0xff) "
                                             "(at column 2)\n    x\ufffd\n     ^\n" + COMMAND_LINE_HINT)


@pytest.mark.parametrize("argv, shown, caret", [
    (("θ*\udce9", "--θ", "2"), "the expression is not valid UTF-8 (byte 0xe9) (at column 3)\n    θ*\ufffd", 6),
    (("x", "--x", "1\udcff"), "--x 1\ufffd: not valid UTF-8 (byte 0xff)\n    --x 1\ufffd", 9),
    (("x", "--x=1,2\udcff"), "--x=1,2\ufffd: not valid UTF-8 (byte 0xff)\n    --x=1,2\ufffd", 11),  # as typed
    (("x", "--var", "x=1\udcff"), "--var x=1\ufffd: not valid UTF-8 (byte 0xff)\n    --var x=1\ufffd", 13),
    (("x", "--x", "1", "-o", "json\udcff"), "-o json\ufffd: not valid UTF-8 (byte 0xff)\n    -o json\ufffd", 11),
    (("x", "--x", "1", "-qojson\udcff"), "-qojson\ufffd: not valid UTF-8 (byte 0xff)\n    -qojson\ufffd", 11),
    (("x", "--x", "1", "--wrt", "x\udcff"), "--wrt x\ufffd: not valid UTF-8 (byte 0xff)\n    --wrt x\ufffd", 11),
    (("x", "--x\udcff", "1"), "--x\ufffd: not valid UTF-8 (byte 0xff)\n    --x\ufffd", 7),
])
def test_expressions_and_values_say_the_byte_with_a_caret(run_cli, argv, shown, caret):
    code, out, err = run_cli(*argv)
    assert code == 2 and out == ""
    assert err == f"gradcalc: error: {shown}\n{' ' * caret}^\n{COMMAND_LINE_HINT}"


def test_a_file_name_may_hold_any_byte(run_cli, tmp_path):
    try:
        jobs = tmp_path / os.fsdecode(b"jobs\xff.txt")
        jobs.write_text("x = 2; x^2\n")
    except (OSError, UnicodeEncodeError):  # a file system that keeps names in UTF-8 (macOS)
        pytest.skip("the file system refuses a name that is not UTF-8")
    assert run_cli("-f", str(jobs), "-o", "plain") == (0, "4 x=4\n", "")
    # a message shows such a byte as the shell's $'...' spells it, not as Python's \udcff
    code, _, err = run_cli("-f", str(tmp_path / os.fsdecode(b"missing\xff.txt")))
    assert code == 2 and "missing\\xff.txt: cannot read it" in err and "udcff" not in err


def test_a_session_line_is_refused_where_the_byte_is_and_the_session_goes_on(session, tmp_path):
    code, out, err = session("x = 2", "x*\udcff3", ":save s\udce9.txt", "x*3", ":save s.txt", argv=("-o", "jsonl"))
    assert code == 0
    # the refused line is a line, as a batch counts it; the command is not (commands never count)
    assert out.splitlines() == ['{"line": 1, "expression": "x = 2", "value": 2.0, "gradients": {"x": 1.0}}',
                                '{"line": 3, "expression": "x = 2; x*3", "value": 6.0, "gradients": {"x": 3.0}}']
    assert ("gradcalc: error: the line is not valid UTF-8 (byte 0xff) (at column 3)\n"
            "    x*\ufffd3\n      ^\n" + TERMINAL_HINT) in err
    assert ("gradcalc: error: the line is not valid UTF-8 (byte 0xe9) (at column 8)\n"
            "    :save s\ufffd.txt\n           ^\n" + TERMINAL_HINT) in err
    assert os.listdir(tmp_path) == ["s.txt"]  # no file of the refused :save
    assert "saved 2 jobs to s.txt" in err and "internal error" not in err and "udc" not in err


def test_the_history_file_keeps_only_lines_it_can_read_back(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    history = HistoryFile()
    for entry in ("x = 2", "x*\udcff3", "x*3"):
        history.append(entry)
    assert history.problem is None  # still kept between sessions
    (tmp_path / "gradcalc" / "history").read_bytes().decode("utf-8")  # UTF-8 throughout
    assert HistoryFile().load() == ["x = 2", "x*3"]
