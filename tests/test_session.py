"""The interactive session: its definitions and commands with scripted lines, then real sessions on
a pseudo-terminal (prompt_toolkit and the readline fallback): history, completion, Ctrl-R, paste,
a failed line leaving the session alive, and :save replaying to identical JSON."""

import errno
import io
import json
import math
import os
import re
import select
import stat
import subprocess
import sys
import time

import pytest

from conftest import read_terminal
from gradcalc.session_input import completions

# a replay in another directory runs this checkout's gradcalc, not the one installed (main's)
THIS_CHECKOUT = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}


def _plain(out):
    """The result lines of a session in plain format (the banner and command replies left out)."""
    return [line for line in out.splitlines() if line and line[0] in "-0123456789"]


def test_bindings_persist_and_named_expressions_follow_them(session):
    code, out, err = session(":format plain", "x = 2", "x^3", "y = x^2 * 3", "x = 5", "y", "ans * 2")
    assert code == 0 and err.startswith("gradcalc ") and len(err.splitlines()) == 2  # the banner alone
    # x^3 at 2 is 8 (∂ 12); y at x = 2 is 12 (∂ 12); after x = 5, y is 75 (∂ 30); ans*2 is 150
    assert _plain(out) == ["2 x=1", "8 x=12", "12 x=12", "5 x=1", "75 x=30", "150 ans=2"]


def test_a_name_defined_from_itself_means_its_previous_definition(session):
    code, out, _ = session(":format plain", "x = 2", "x = x + 1", "x = x * 10", "x")
    assert _plain(out) == ["2 x=1", "3 x=1", "30 x=10", "30 x=10"]  # x is (2 + 1)·10, ∂/∂(the 2) = 10


def test_a_cycle_through_another_name_uses_the_definitions_so_far(session):
    # y = 3x, then x = y + 1: x is 3·2 + 1 = 7 from then on, and y follows it: 21
    code, out, _ = session(":format plain", "x = 2", "y = x*3", "x = y + 1", "x", "y")
    assert _plain(out) == ["2 x=1", "6 x=3", "7 x=3", "7 x=3", "21 x=9"]


def test_a_failed_line_changes_nothing_and_the_session_goes_on(session):
    code, out, err = session(":format plain", "x = 2", "x = ln(0 - x)", "y = (x", "x + 1", "ans")
    assert code == 0
    assert "ln(0 - x): argument is -2" in err and "'(' is not closed" in err
    assert _plain(out) == ["2 x=1", "3 x=1", "3 ans=1"]  # x is still 2; ans is the 3 of x + 1


def test_statements_of_one_line_define_each_name(session):
    code, out, err = session(":format plain", "a = 1; b = 2; c = 3; d = 4; e = a - b; f = c*d; f/e",
                             "a = 5", "f/e", ":vars")
    results = _plain(out)
    assert results[0] == "-12 a=-12 b=12 c=-4 d=-3"
    assert results[2] == "4 a=-1.3333333333333333 b=1.3333333333333333 c=1.3333333333333333 d=1"
    assert "e = a - b    # = 3" in err and "f = c*d    # = 12" in err and "ans = 4" in err


def test_options_given_at_the_start_are_definitions(session):
    code, out, err = session(":format plain", "x*y", ":vars", argv=("--x", "2", "--y", "3±0.5"))
    assert _plain(out) == ["6 ±1 x=3 y=2"]
    assert "x = 2\ny = 3 ± 0.5\n" in err


def test_uncertainties_on_lines(session):
    code, out, _ = session(":format json", "L = 0.992 ± 0.002; T = 1.998 +- 0.004", "4*9.8696044*L/T^2")
    records = _json_records(out)
    assert records[-1]["uncertainty"]["elasticity"] == pytest.approx({"T": -2.0, "L": 1.0})


def test_wrt_check_format_and_unset(session):
    code, out, err = session("x = 2; y = 3", ":wrt x", ":format plain", "x*y", ":wrt", ":check on", "x*y",
                             ":unset y", "x*y", ":unset z", ":format xml")
    assert _plain(out) == ["3", "6 x=3 y=2 check=ok"]  # one --wrt: the bare gradient; then all, checked
    assert "no value for y" in err  # unset
    assert "z is not defined" in err and ":format takes one of" in err


def test_check_verdict_with_one_wrt_in_plain(session):
    code, out, _ = session(":format plain", "x = 0", ":check on", ":wrt x", "relu(x)", "x = 2", "x^2")
    # relu'(0) = 0 at a kink; (x^2)' at 2 = 4, checked ok (a definition line's own ∂x/∂x = 1 too)
    assert _plain(out) == ["0 x=1", "0 check=kink:x", "1 check=ok", "4 check=ok"]


def test_unset_warns_about_definitions_that_read_the_name(session):
    code, out, err = session("x = 2", "y = x + 1", ":unset x")
    assert "y still reads x" in err


def test_help_and_unknown_commands(session):
    code, out, err = session(":help", ":frobnicate", ":quit", "x = 1")
    assert ":save FILE" in err and ":unset NAME" in err and out == ""  # replies: for the terminal
    assert "unknown command :frobnicate" in err
    assert "output =" not in out  # :quit ended the session before x = 1


_EVERY_COMMAND = ("x = 2", ":diff x", "x^2", ":diff", ":wrt x", "x^2", ":check on", "x^3", ":vars", ":help",
                  ":save s.txt", ":graph", ":explain", ":check off", ":order 2", "x^2", ":unset x", ":frobnicate")


def test_command_replies_keep_json_lines_on_stdout(session):
    # `gradcalc -o jsonl > out`: stdout holds the results alone, one JSON object a line
    code, out, err = session(*_EVERY_COMMAND, argv=("-o", "jsonl"))
    records = [json.loads(line) for line in out.splitlines()]  # every line parses
    assert [r.get("value") for r in records] == [2.0, None, 4.0, 8.0, 8.0, 4.0]
    assert records[1]["derivative"] == "x = 2; 2*x"  # :diff x, then x^2 as a formula
    assert records[2]["gradients"] == {"x": 4.0}  # x^2 at 2, :wrt x
    assert records[3]["gradients"] == {"x": 12.0} and records[3]["check"]["x"]["verdict"] == "ok"  # x^3
    assert [step["contribution"] for step in records[4]["explain"]] == [12.0]  # :explain of x^3: one use
    assert records[5]["derivatives"]["2"] == {"x": {"x": 2.0}}  # :order 2, x^2
    for reply in ("reporting ∂/∂x", "lines print ∂/∂x as a formula", "lines are evaluated", "gradient check on",
                  "x = 2\nans = 8\n", ":save FILE", "saved 3 jobs to s.txt", "#2 x^3", "gradient check off",
                  "unknown command :frobnicate"):
        assert reply in err, reply


def test_command_replies_keep_csv_rows_on_stdout(session):
    import csv

    code, out, err = session(*_EVERY_COMMAND, argv=("-o", "csv"))
    rows = list(csv.reader(io.StringIO(out)))
    # each line's row, under a header written again only where the columns change (:check on adds
    # check, :order 2 d2_x_x); nothing else
    assert [row[0] for row in rows] == ["line", "1", "3", "line", "4", "line", "5"]
    assert rows[3][-1] == "check" and "d2_x_x" in rows[5]
    assert [(row[2], row[3]) for row in rows if row[0] != "line"] == [("2.0", "1.0"), ("4.0", "4.0"), ("8.0", "12.0"),
                                                                     ("4.0", "4.0")]
    assert "the chain rule" in err and "#2 x^3" in err  # :explain's table and :graph's tree: replies


@pytest.mark.parametrize("output_format, separator", [("csv", ","), ("tsv", "\t")])
def test_a_sessions_rows_share_their_header_until_the_columns_change(session, output_format, separator):
    # `gradcalc -o csv > results.csv`: one header over the rows of the same columns, a new one where
    # a line brings another variable, and again after results of another format
    code, out, err = session("x = 2", "x*3", "y = 1; x*y", "x + y", ":format json", "x", f":format {output_format}",
                             "x^2", argv=("-o", output_format))
    lines = out.splitlines()
    header_x = separator.join(["line", "expression", "value", "grad_x", "error"])
    header_xy = separator.join(["line", "expression", "value", "grad_x", "grad_y", "error"])
    assert lines[:5] == [header_x, separator.join(["1", "x = 2", "2.0", "1.0", ""]),
                         separator.join(["2", "x = 2; x*3", "6.0", "3.0", ""]),
                         header_xy, separator.join(["3", "x = 2; y = 1; x*y", "2.0", "1.0", "2.0", ""])]
    # x + y: 3, gradient 1 for both, under the same header
    assert lines[5] == separator.join(["4", "x = 2; y = 1; x + y", "3.0", "1.0", "1.0", ""])
    assert json.loads("\n".join(lines[6:-2]))["value"] == 2.0
    assert lines[-2:] == [header_x, separator.join(["6", "x = 2; x^2", "4.0", "4.0", ""])]


def test_save_replays_to_identical_json(session, tmp_path):
    lines = (":format jsonl", "a = 1; b = 2", "c = 3; d = 4", "e = a - b", "f = c*d", "f/e", "ln(a - b)",
             "a = 5", "f/e", "w = 0.5 ± 0.1", "sigmoid(w*f)", "ans + e")
    code, out, err = session(*lines, ":save saved.txt")
    records = [{k: v for k, v in r.items() if k != "line"} for r in _json_records(out) if "error" not in r]
    assert len(records) == 10 and records[4]["value"] == -12.0 and records[6]["value"] == 4.0
    replay = subprocess.run([sys.executable, "-m", "gradcalc", "-f", str(tmp_path / "saved.txt"), "-o", "jsonl"],
                            capture_output=True, text=True, timeout=60, cwd=os.getcwd(), env=THIS_CHECKOUT)
    assert replay.returncode == 0, replay.stderr
    replayed = [{k: v for k, v in json.loads(line).items() if k != "line"} for line in replay.stdout.splitlines()]
    assert replayed == records


def _json_records(out):
    decoder, records, text = json.JSONDecoder(), [], out
    for match in re.finditer(r"^\{", text, re.MULTILINE):
        record, _ = decoder.raw_decode(text[match.start():])
        records.append(record)
    return records


def test_completion_words():
    from gradcalc.layers import FUNCTIONS
    from gradcalc.session import COMMANDS, Definition, Session

    class Options:
        output_format, wrt, check, nodes, order, diff, precision = "table", (), False, None, 1, None, None

    state = Session(None, Options(), {"xval": 2.0}, {})
    state.definitions["sigma_total"] = Definition(1.0)
    assert completions(state, "sqr") == ("sqr", ["sqrt"])
    functions = [f for f in FUNCTIONS if f.startswith("sig")]
    assert completions(state, "3*sig") == ("sig", sorted(["sigma_total", *functions]))
    assert completions(state, "x") == ("x", sorted(["xval", *[f for f in FUNCTIONS if f.startswith("x")]]))
    assert completions(state, ":") == (":", list(COMMANDS))
    assert completions(state, ":fo") == (":fo", [":format"])
    assert completions(state, ":format j") == ("j", ["json", "jsonl"])
    assert completions(state, ":unset x") == ("x", ["xval"])
    assert completions(state, ":save s") == ("s", [])


# ---- real sessions on a pseudo-terminal ----------------------------------------------------------

class PseudoTerminal:
    """gradcalc started on a pseudo-terminal: type keys, wait for text, read everything at the end."""

    ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>]|[\r\x08]")

    def __init__(self, state, python=(), argv=(), stdout=None, environment=()):
        import pty

        env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "GRADCALC_DEBUG")}
        env.update({"TERM": "xterm", "NO_COLOR": "1", "PROMPT_TOOLKIT_NO_CPR": "1", "XDG_STATE_HOME": str(state),
                    "COLUMNS": "100", "LINES": "40", **dict(environment)})
        self.leader, follower = pty.openpty()
        command = [sys.executable, *python] if python else [sys.executable, "-m", "gradcalc", *argv]
        self.process = subprocess.Popen(command, stdin=follower, stdout=stdout or follower, stderr=follower,
                                        env=env, start_new_session=True)
        os.close(follower)
        self.seen = b""

    def text(self) -> str:
        return self.ESCAPES.sub(b"", self.seen).decode("utf-8", "replace")

    def wait_for(self, words: str, timeout: float = 60, since: int = 0) -> str:
        """Read until `words` appear (in what was shown after the first `since` characters)."""
        deadline = time.monotonic() + timeout
        while words not in self.text()[since:]:
            ready, _, _ = select.select([self.leader], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise AssertionError(f"{words!r} never appeared; the terminal shows:\n{self.text()}")
            try:
                chunk = os.read(self.leader, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                raise AssertionError(f"the session ended before {words!r}:\n{self.text()}")
            self.seen += chunk
        return self.text()

    def type(self, keys: str, then: str | None = None) -> None:
        """Type `keys`, then wait until `then` is shown after them."""
        since = len(self.text())
        os.write(self.leader, keys.encode())
        if then is not None:
            self.wait_for(then, since=since)

    def run(self, line: str, then: str) -> None:
        """Enter a line, wait for `then`, and for the prompt to be back (keys typed before it would
        reach the terminal's own line editing, not the session's)."""
        self.type(line + "\r", then=then)
        self.wait_for("\n>", since=self.text().rindex(then))

    def finish(self) -> tuple[int, str]:
        self.wait_for("\n>", since=len(self.text()) - 200)  # at the prompt: Ctrl-D before it would be lost
        os.write(self.leader, b"\x04")  # Ctrl-D
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:  # the session did not end: fail below, never hang
            self.process.kill()
        self.seen += read_terminal(self.leader)
        return self.process.wait(timeout=60), self.text()


PROMPT_TOOLKIT = pytest.importorskip("prompt_toolkit", reason="the test extra installs prompt_toolkit")


@pytest.fixture
def state(tmp_path):
    directory = tmp_path / "state"
    directory.mkdir(mode=0o700)
    return directory


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_prompt_toolkit_session_history_completion_and_failures(state):
    terminal = PseudoTerminal(state)
    terminal.wait_for("(prompt_toolkit)")
    terminal.run("t = 2", then="output = 2")
    terminal.run("ln(t - 3)", then="ln needs a positive number")  # the session goes on
    terminal.type("sqr\t", then="sqrt")  # completion runs in a thread: wait for it
    terminal.run("(t)", then="0.35355339059327373")  # ∂sqrt(t)/∂t at 2
    terminal.type(":fo\t", then=":format")
    terminal.type(" plain\r", then=">")
    terminal.run("t*3", then="6 t=3")
    code, shown = terminal.finish()
    assert code == 0
    history = state / "gradcalc" / "history"
    assert stat.S_IMODE(os.stat(state / "gradcalc").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(history).st_mode) == 0o600
    entries = [line[1:] for line in history.read_text().splitlines() if line.startswith("+")]
    assert entries == ["t = 2", "ln(t - 3)", "sqrt(t)", ":format plain", "t*3"]

    # a new session reads the history back: Ctrl-R finds a line, Enter takes it, Enter runs it
    terminal = PseudoTerminal(state)
    terminal.wait_for("(prompt_toolkit)")
    terminal.run("u = 9; sqrt(u)", then="output = 3")
    terminal.type("\x12sqrt(t", then="reverse-i-search")
    terminal.type("\r")
    terminal.run("", then="no value for t")  # found "sqrt(t)": t is not defined in this session
    code, shown = terminal.finish()
    assert code == 0


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_multi_line_paste_is_one_job_per_line(state):
    terminal = PseudoTerminal(state)
    terminal.wait_for("(prompt_toolkit)")
    terminal.type(":format plain\r", then=">")
    terminal.type("\x1b[200~x = 2\ny = x*3\ny + x\x1b[201~")  # bracketed paste, as terminals send it
    terminal.run("", then="8 x=4")
    code, shown = terminal.finish()
    assert "2 x=1" in shown and "6 x=3" in shown


_WITHOUT_PROMPT_TOOLKIT = ("import sys; sys.modules['prompt_toolkit'] = None; from gradcalc.cli import main; "
                           "sys.exit(main())")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_readline_fallback_without_prompt_toolkit(state):
    terminal = PseudoTerminal(state, python=("-c", _WITHOUT_PROMPT_TOOLKIT))
    terminal.wait_for("pip install 'gradcalc[session]'")
    terminal.run("t = 3", then="output = 3")
    terminal.type("sqr\t", then="sqrt")
    terminal.run("(t)", then="0.2886751345948129")  # ∂sqrt(t)/∂t at 3
    terminal.run("ln(0)", then="ln needs a positive number")
    code, shown = terminal.finish()
    assert code == 0
    entries = [line[1:] for line in (state / "gradcalc" / "history").read_text().splitlines()
               if line.startswith("+")]
    assert entries == ["t = 3", "sqrt(t)", "ln(0)"]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_history_file_others_can_write_is_never_read(state):
    directory = state / "gradcalc"
    directory.mkdir(mode=0o700)
    planted = directory / "history"
    planted.write_text("#\n+planted_by_someone_else\n")
    planted.chmod(0o666)
    terminal = PseudoTerminal(state)
    terminal.wait_for("history is not kept between sessions")
    terminal.wait_for("(prompt_toolkit)")
    terminal.type("\x1b[A")  # Up: the previous history entry, if any was read
    terminal.type("\r")
    terminal.run("1 + 1", then="output = 2")
    code, shown = terminal.finish()
    assert "planted_by_someone_else" not in shown
    assert planted.read_text() == "#\n+planted_by_someone_else\n"  # nothing appended either


def test_piped_standard_input_stays_batch(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gradcalc", "-o", "plain"], input="x = 2; x*x\n",
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "XDG_STATE_HOME": str(tmp_path)})
    assert result.stdout == "4 x=4\n" and result.returncode == 0
    assert not (tmp_path / "gradcalc").exists()  # no session, no history


def test_a_session_command_in_a_pipe_says_where_commands_work(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gradcalc", "-o", "jsonl"], input="x = 2\n  :vars\n:2\n",
                            capture_output=True, text=True, timeout=60)
    errors = [json.loads(line)["error"] for line in result.stdout.splitlines()[1:]]
    assert result.returncode == 2 and [error["column"] for error in errors] == [3, 1]
    assert errors[0]["hint"].startswith(":vars works only in the interactive session (gradcalc with no expression")
    assert errors[1]["hint"] == "see `gradcalc --syntax` for the expression syntax"  # ':' of a slice, not a command


def test_session_commands_piped_in_leave_json_lines_on_stdout():
    # printf 'x=2\n:wrt x\nx^2\n' | gradcalc -o jsonl: a pipe is a batch, each line a job and a record
    result = subprocess.run([sys.executable, "-m", "gradcalc", "-o", "jsonl"], input="x=2\n:wrt x\nx^2\n",
                            capture_output=True, text=True, timeout=60)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["line"], r.get("value"), r.get("error", {}).get("type")) for r in records] == [
        (1, 2.0, None), (2, None, "ParseError"), (3, None, "MissingValueError")]  # lines do not share x
    assert result.returncode == 2 and result.stderr == ""


def test_session_module_is_not_imported_in_batch_mode():
    code = ("import sys; from gradcalc.cli import main; main(['x*2', '--x', '1', '-o', 'json']); "
            "print('prompt_toolkit' in sys.modules, 'gradcalc.session' in sys.modules, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stderr.strip().endswith("False False")
    assert math.isclose(json.loads(result.stdout)["value"], 2.0)


def test_array_options_stay_options_and_save_says_how_to_replay(session, tmp_path):
    import shlex

    code, out, err = session(":format jsonl", "x = 2", "sum(v*x)", ":vars", ":save saved.txt", argv=("--v", "1,2,3"))
    record = _json_records(out)[-1]
    assert record["value"] == 12.0 and record["gradients"] == {"v": [2.0, 2.0, 2.0], "x": 6.0}
    assert "v: an array of shape (3,)" in err
    header = (tmp_path / "saved.txt").read_text().splitlines()[0]
    replay = shlex.split(header.partition("replay with ")[2])
    assert replay[:3] == ["gradcalc", "-f", "saved.txt"]
    result = subprocess.run([sys.executable, "-m", "gradcalc", *replay[1:], "-o", "jsonl"], capture_output=True,
                            text=True, timeout=60, cwd=tmp_path, env=THIS_CHECKOUT)
    replayed = json.loads(result.stdout.splitlines()[-1])
    assert {k: v for k, v in replayed.items() if k != "line"} == {k: v for k, v in record.items() if k != "line"}


def test_vars_lists_array_values(session):
    # sum([1, 2, 3])·2 = 12; an array-valued definition is listed with its elements, not a crash
    code, out, err = session(":format plain", "x = 2 ± 0.1", "v = [1,2,3]", "w = sum(v)*x", ":vars")
    assert "internal error" not in err
    listing = err.splitlines()[-4:]
    assert listing == ["x = 2 ± 0.1", "v = [1,2,3]    # = [1, 2, 3]", "w = sum(v)*x    # = 12", "ans = 12"]


def test_vars_wraps_a_long_array_under_its_value(session, monkeypatch):
    # k + 1000000 for k = 1..12 at 50 columns: wrapped between elements, under the first one
    monkeypatch.setenv("COLUMNS", "50")
    elements = [str(1000000 + k) for k in range(1, 13)]
    k = ",".join(map(str, range(1, 13)))
    code, out, err = session(":format plain", "u = k + 1000000", ":vars", argv=("--k", k))
    label = "u = k + 1000000    # = "
    listing = err[err.index(label):].splitlines()[:-1]  # then the line about --k
    assert listing[0].startswith(label + "[1000001, ") and listing[-1].endswith("]")
    assert all(line.startswith(" " * (len(label) + 1) + "1000") for line in listing[1:])
    assert re.findall(r"\d{7}", " ".join(listing)[len(label):]) == elements
    assert len(listing) > 1 and all(len(line) <= 50 for line in listing)


def test_vars_evaluates_definitions_that_read_command_line_arrays(session):
    # v = (1, 2, 3): v*2 = (2, 4, 6), sum(v*v) = 1 + 4 + 9 = 14
    code, out, err = session(":format plain", "g = v*2", "h = sum(v*v)", ":vars", argv=("--v", "1,2,3"))
    assert "g = v*2    # = [2, 4, 6]" in err.splitlines()
    assert "h = sum(v*v)    # = 14" in err.splitlines()
    assert "cannot evaluate" not in err


def test_order_diff_and_graph_commands(session, tmp_path):
    code, out, err = session("x = 1.2 ± 0.3", ":format json", ":order 2", "sin(x)", ":diff x", "y = x^3",
                             ":diff", "y", ":graph", ":graph g.dot", ":order 11")
    records = _json_records(out)
    second = records[0]["uncertainty"]["second_order"]
    # E sin X ≈ sin μ - ½ sin μ σ², Var ≈ cos²μ σ² + ½ sin²μ σ⁴ (a Hessian of -sin μ)
    assert second["mean"] == pytest.approx(math.sin(1.2) * (1 - 0.045), rel=1e-14)
    variance = (math.cos(1.2) * 0.3) ** 2 + 0.5 * (math.sin(1.2) * 0.09) ** 2
    assert second["sigma"] == pytest.approx(math.sqrt(variance), rel=1e-14)
    assert records[0]["derivatives"]["2"] == {"x": {"x": pytest.approx(-math.sin(1.2))}}
    assert records[1] == {"expression": "x = 1.2 ± 0.3; y = x^3", "wrt": "x", "order": 2,
                          "derivative": "x = 1.2 ± 0.3; 6*x"}  # :order 2 still in force
    assert records[2]["error"]["message"] == "no value for y"  # the formula line defined nothing
    # :graph drew the last line that evaluated, sin(x), as a tree: beside JSON, a reply on stderr
    assert "#0 x  value = 1.2" in err and "#0 x" not in out
    assert (tmp_path / "g.dot").read_text().startswith('digraph "gradcalc"')
    assert ":order takes a number from 1 to 10" in err


@pytest.mark.parametrize("where", ["missing directory", "directory", "full disk"])
def test_a_graph_file_that_cannot_be_written_is_that_lines_error(session, tmp_path, where):
    # README: a line that fails prints its error and changes nothing; the session goes on
    path, reason = "missing/g.dot", os.strerror(errno.ENOENT)
    if where == "directory":
        (tmp_path / "g.dot").mkdir()
        path, reason = "g.dot", os.strerror(errno.EISDIR)
    elif where == "full disk":
        if not os.path.exists("/dev/full"):
            pytest.skip("needs /dev/full (Linux)")
        (tmp_path / "g.dot").symlink_to("/dev/full")
        path, reason = "g.dot", os.strerror(errno.ENOSPC)
    code, out, err = session(":format plain", "x = 2", "x*x", f":graph {path}", "x*x + 1")
    assert code == 0
    assert _plain(out) == ["2 x=1", "4 x=4", "5 x=4"]  # x is still 2 after the failed :graph
    assert f"gradcalc: error: cannot write {path!r}: {reason}\n  hint: " in err
    assert "internal error" not in err


def test_graph_names_its_own_command_when_the_file_name_is_wrong(session):
    code, out, err = session(":format plain", "x = 2", "x*x", ":graph g.txt", "x + 1")
    assert code == 0 and _plain(out) == ["2 x=1", "4 x=4", "3 x=1"]
    assert ("gradcalc: error: :graph g.txt: the file name must end in .svg, .png, .dot or .gv\n"
            "    :graph g.txt\n"
            "           ^^^^^\n"
            "  hint: for example :graph graph.svg\n") in err
    assert "internal error" not in err and "--graph" not in err


def test_graph_into_a_file_writes_the_file_and_no_result(session, tmp_path):
    # a `-o jsonl > out` reader sees each result once: :graph FILE writes the picture, a note on stderr
    code, out, err = session(":format jsonl", "x = 3", "x*x + x", ":graph g.dot")
    assert [record["value"] for record in _json_records(out)] == [3.0, 12.0]
    # d(x² + x)/dx at 3 is 2·3 + 1 = 7; x*x is 9 and sends back 1 to each side's 3
    dot = (tmp_path / "g.dot").read_text()
    assert 'n0 [label="#0  x\\nInput\\nvalue 3\\ngrad 7"' in dot
    assert "n2 [label=\"#2  x*x + x\\nPlus\\nvalue 12\\ngrad 1\"" in dot
    assert "drew the last line's graph into g.dot\n" in err


def test_explain_shows_the_chain_rule_of_the_last_line(session):
    code, out, err = session(":explain", "x = 3", "x*x + x", ":format json", ":explain")
    assert ":explain shows the last one" in err
    steps = _json_records(out)[-1]["explain"]
    assert sum(step["contribution"] for step in steps if step["node"] == 0) == 7.0  # ∂(x² + x)/∂x at 3


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_session_whose_results_reader_has_gone_ends_quietly(state):
    # gradcalc | head -0: the first result finds the pipe closed; as a batch would, the session stops
    read_end, write_end = os.pipe()
    terminal = PseudoTerminal(state, argv=("-o", "plain"), stdout=write_end)
    os.close(write_end)
    os.close(read_end)
    terminal.wait_for("(prompt_toolkit)")
    os.write(terminal.leader, b"x = 2\r")
    assert terminal.process.wait(timeout=60) == 0
    terminal.seen += read_terminal(terminal.leader)
    assert "internal error" not in terminal.text() and "Traceback" not in terminal.text()


_READERS = {"prompt_toolkit": {}, "readline": {"python": ("-c", _WITHOUT_PROMPT_TOOLKIT)}}


def _started(state, reader, argv, stdout, environment=()):
    """A session on a pseudo-terminal, read by `reader`, with stdout elsewhere; once it has greeted."""
    how = _READERS[reader]
    terminal = PseudoTerminal(state, python=(*how["python"], *argv) if how else (), argv=argv, stdout=stdout,
                              environment=environment)
    terminal.wait_for(f"({reader})")
    return terminal


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("reader", list(_READERS))
def test_results_to_a_file_while_editing_on_the_terminal(state, tmp_path, reader):
    # gradcalc -o plain > results.txt: the prompt and the editing stay on the terminal (stderr)
    with open(tmp_path / "results.txt", "w") as results:
        terminal = _started(state, reader, ("-o", "plain"), results)
        terminal.type("x = 2\r", then="\n>")
        terminal.type("sqr\t", then="sqrt")  # completion works: the line editor has the terminal
        terminal.type("(x)*3\r", then="\n>")
        terminal.type(":graph missing/g.dot\r", then="\n>")  # that line's error; the session goes on
        terminal.type("x*3\r", then="\n>")
        code, shown = terminal.finish()
    assert code == 0
    # √2·3 = 4.242640687119286 (∂ 3/(2√2) = 1.0606601717798212), then x*3 at 2: 6 (∂ 3)
    assert (tmp_path / "results.txt").read_text() == "2 x=1\n4.242640687119286 x=1.0606601717798212\n6 x=3\n"
    assert shown.count("> ") >= 5 and "6 x=3" not in shown
    assert f"cannot write 'missing/g.dot': {os.strerror(errno.ENOENT)}" in shown


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_real_session_into_json_lines_shows_its_replies_on_the_terminal(state, tmp_path):
    # gradcalc -o jsonl > results.jsonl, typed at a terminal: the file is JSON Lines alone
    with open(tmp_path / "results.jsonl", "w") as results:
        terminal = _started(state, "prompt_toolkit", ("-o", "jsonl"), results)
        terminal.type("x = 2\r", then="\n>")
        terminal.type(":wrt x\r", then="reporting ∂/∂x")
        terminal.type("x^2\r", then="\n>")
        terminal.type(":vars\r", then="ans = 4")
        terminal.type(":help\r", then=":quit")
        code, shown = terminal.finish()
    assert code == 0
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [(r["value"], r["gradients"]) for r in records] == [(2.0, {"x": 1.0}), (4.0, {"x": 4.0})]
    assert '"value"' not in shown  # the results went to the file, the replies to the terminal


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("reader", list(_READERS))
def test_results_to_a_full_disk_end_the_session_at_the_first_result(state, reader):
    # the prompt is on the terminal, so the session waits for a line; its result cannot be written: 74
    with open("/dev/full", "w") as full:
        terminal = _started(state, reader, ("-o", "plain"), full)
        terminal.wait_for(">")
        terminal.type("x = 2\r")
        code = terminal.process.wait(timeout=60)
    terminal.seen += read_terminal(terminal.leader)
    assert code == 74
    assert terminal.text().endswith(f"gradcalc: error: cannot write the output: {os.strerror(errno.ENOSPC)}\n"
                                    "  hint: free some space, or send the output elsewhere\n")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("reader, environment", [
    ("prompt_toolkit", {}),
    ("readline", {}),  # a C or C.UTF-8 locale: input() keeps the byte as Python's '\udcff'
    ("readline", {"PYTHONIOENCODING": "utf-8:strict"}),  # as a UTF-8 locale decodes: input() raises
])
def test_a_typed_byte_that_is_not_utf8_is_refused_and_kept_out_of_the_history(state, reader, environment):
    terminal = _started(state, reader, (), None, environment)
    terminal.run("x = 2", then="output = 2")
    since = len(terminal.text())
    os.write(terminal.leader, b"x*\xff3\r")  # a terminal set to Latin-1 sends \xff for ÿ
    terminal.wait_for("hint: type it again as UTF-8 text (set the terminal to UTF-8: LANG=C.UTF-8)", since=since)
    terminal.run("x*3", then="output = 6")  # the session goes on
    code, shown = terminal.finish()
    assert code == 0
    assert ("gradcalc: error: the line is not valid UTF-8 (byte 0xff) (at column 3)\n"
            "    x*\ufffd3\n      ^\n") in shown[since:]
    for word in ("Traceback", "Unhandled exception", "Press ENTER", "RuntimeWarning", "internal error", "udcff"):
        assert word not in shown, word
    # the history reads back (as UTF-8) in the next session: the refused line is not in it
    history = (state / "gradcalc" / "history").read_bytes().decode("utf-8")
    assert [line[1:] for line in history.splitlines() if line.startswith("+")] == ["x = 2", "x*3"]
