"""Batch work through the command line: files, pipes, every format on a mixed file, streaming,
per-line errors, broken pipes."""

import contextlib
import json
import os
import select
import subprocess
import sys
import time

import pytest

from conftest import read_terminal

MIXED = (b"# gradients of the seed and friends\n"
         b"c*d/(a-b)\n"
         b"\n"
         b"ln(a - b)\n"
         b"x*x + x\r\n"
         b"a +* b\n"
         b"k = 2; k*x\n"
         b"caf\xe9 + 1\n"
         b"x/(a-a)")  # no final newline
VALUES = ("--a", "1", "--b", "2", "--c", "3", "--d", "4", "--x", "3")


@pytest.fixture
def mixed(tmp_path):
    path = tmp_path / "jobs.txt"
    path.write_bytes(MIXED)
    return str(path)


def gradcalc(*argv, input=None, env=None):
    return subprocess.run([sys.executable, "-m", "gradcalc", *argv], capture_output=True,
                          input=input, env={**os.environ, **(env or {})}, timeout=120)


def test_jsonl_on_the_mixed_file(run_cli, mixed):
    code, out, err = run_cli("-f", mixed, *VALUES, "-o", "jsonl")
    assert code == 2 and err == ""
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["line"] for r in records] == [2, 4, 5, 6, 7, 8, 9]
    assert records[0] == {"line": 2, "expression": "c*d/(a-b)", "value": -12.0,
                          "gradients": {"a": -12.0, "b": 12.0, "c": -4.0, "d": -3.0}}
    assert records[1]["error"] == {"type": "DomainError", "column": 1,
                                   "message": "ln(a - b): argument is -1, ln needs a positive number",
                                   "hint": "choose a point inside the function's domain"}
    assert records[2] == {"line": 5, "expression": "x*x + x", "value": 12.0, "gradients": {"x": 7.0}}
    assert records[3]["error"]["type"] == "ParseError" and records[3]["error"]["column"] == 4
    assert records[4] == {"line": 7, "expression": "k = 2; k*x", "value": 6.0,
                          "gradients": {"k": 3.0, "x": 2.0}}
    assert records[5]["error"]["type"] == "ParseError" and "UTF-8" in records[5]["error"]["message"]
    assert records[6]["error"]["type"] == "DomainError" and "division by zero" in records[6]["error"]["message"]


def test_csv_on_the_mixed_file(run_cli, mixed):
    code, out, err = run_cli("-f", mixed, *VALUES, "-o", "csv")
    assert code == 2 and err == ""
    assert out.splitlines() == [
        "line,expression,value,grad_a,grad_b,grad_c,grad_d,grad_k,grad_x,error",
        "2,c*d/(a-b),-12.0,-12.0,12.0,-4.0,-3.0,,,",
        '4,ln(a - b),,,,,,,,"DomainError: ln(a - b): argument is -1, ln needs a positive number (column 1)"',
        "5,x*x + x,12.0,,,,,,7.0,",
        "6,a +* b,,,,,,,,\"ParseError: unexpected '*'; expected a number, a name, '(' or '[' (column 4)\"",
        "7,k = 2; k*x,6.0,,,,,3.0,2.0,",
        "8,caf\ufffd + 1,,,,,,,,ParseError: the line is not valid UTF-8 (byte 0xe9) (column 4)",
        "9,x/(a-a),,,,,,,,\"DomainError: x/(a-a): division by zero: the divisor is 0 "
        "(inputs: x = 3, a-a = 0) (column 1)\"",
    ]


def test_tsv_with_wrt_on_the_mixed_file(run_cli, mixed):
    code, out, _ = run_cli("-f", mixed, *VALUES, "-o", "tsv", "--wrt", "x")
    lines = out.splitlines()
    assert lines[0] == "line\texpression\tvalue\tgrad_x\terror"
    assert lines[3] == "5\tx*x + x\t12.0\t7.0\t"
    assert lines[1].startswith("2\tc*d/(a-b)\t\t\tUsageError: --wrt x: the expression has no variable x")
    assert code == 2


def test_plain_on_the_mixed_file(run_cli, mixed):
    code, out, err = run_cli("-f", mixed, *VALUES, "-o", "plain")
    assert code == 2
    # one output line per job (lines 2, 4, 5, 6, 7, 8, 9 of the file): a failed job is `error`
    assert out == "-12 a=-12 b=12 c=-4 d=-3\nerror\n12 x=7\nerror\n6 k=3 x=2\nerror\nerror\n"
    errors = [line for line in err.splitlines() if line.startswith("gradcalc: error:")]
    assert [e.split("(at ")[1].split(")")[0] for e in errors] == [
        "line 4, column 1", "line 6, column 4", "line 8, column 4", "line 9, column 1"]


def test_json_array_on_the_mixed_file(run_cli, mixed):
    code, out, _ = run_cli("-f", mixed, *VALUES, "-o", "json")
    records = json.loads(out)
    assert code == 2 and len(records) == 7 and records[0]["value"] == -12.0


def test_table_summary_on_the_mixed_file(run_cli, mixed):
    code, out, err = run_cli("-f", mixed, *VALUES)
    assert code == 2
    rows = [line for line in out.splitlines() if line.startswith("│") and line.split("│")[1].strip()]
    assert [row.split("│")[1].strip() for row in rows] == ["2", "4", "5", "6", "7", "8", "9"]
    assert "line 4, column 1" in err


def test_exit_code_is_the_worst_line(run_cli, tmp_path):
    path = tmp_path / "jobs.txt"
    path.write_text("x\nln(x - 5)\nx*2\n")
    assert run_cli("-f", str(path), "--x", "1", "-o", "plain")[0] == 1
    path.write_text("x\nx*2\n")
    assert run_cli("-f", str(path), "--x", "1", "-o", "plain")[0] == 0


def test_fail_fast_stops_at_the_first_error(run_cli, mixed):
    code, out, _ = run_cli("-f", mixed, *VALUES, "-o", "jsonl", "--fail-fast")
    assert code == 1 and [json.loads(line)["line"] for line in out.splitlines()] == [2, 4]


def test_line_bindings_win_over_options(run_cli, tmp_path):
    path = tmp_path / "jobs.txt"
    path.write_text("a = 10; a*b\na*b\n")
    code, out, _ = run_cli("-f", str(path), "--a", "1", "--b", "2", "-o", "plain")
    assert (code, out) == (0, "20 a=2 b=10\n2 a=2 b=1\n")


def test_several_expression_arguments_are_several_jobs(run_cli):
    code, out, _ = run_cli("x*x", "x**3", "--x", "2", "-o", "jsonl")
    assert [(r["line"], r["value"], r["gradients"]) for r in map(json.loads, out.splitlines())] == \
        [(1, 4.0, {"x": 4.0}), (2, 8.0, {"x": 12.0})]


def test_unused_option_warns_once_for_the_whole_batch(run_cli, tmp_path):
    path = tmp_path / "jobs.txt"
    path.write_text("x\ny\n")
    code, _, err = run_cli("-f", str(path), "--x", "1", "--y", "2", "--z", "3", "-o", "plain")
    assert code == 0 and err == "gradcalc: warning: --z is not used by the expressions\n"


def test_json_lines_input(run_cli, tmp_path):
    path = tmp_path / "jobs.jsonl"
    path.write_text('{"expression": "a*b", "values": {"a": 2}}\n{"expression": "a*b", "values": {"a": "x"}}\n')
    code, out, _ = run_cli("-f", str(path), "--input", "jsonl", "--b", "5", "-o", "jsonl")
    records = [json.loads(line) for line in out.splitlines()]
    assert records[0]["gradients"] == {"a": 5.0, "b": 2.0}
    assert records[1]["error"]["type"] == "ValueFormatError" and code == 2


def test_stdin_by_dash_and_by_pipe():
    for argv in (("-",), ()):
        result = gradcalc(*argv, "--x", "2", "-o", "plain", input=b"x*x\n# c\nx+1\n")
        assert result.returncode == 0 and result.stdout == b"4 x=4\n3 x=1\n" and result.stderr == b""


@pytest.mark.parametrize("output_format,expected", [
    ("jsonl", b""), ("json", b"[]\n"), ("csv", b"line,expression,value,error\n"), ("plain", b""), ("table", b""),
])
def test_empty_input(output_format, expected):
    result = gradcalc("-o", output_format, input=b"")
    assert (result.returncode, result.stdout, result.stderr) == (0, expected, b"")


def test_one_megabyte_single_line():
    line = b"x" + b" " * 1_000_000 + b"+ 1  # " + b"c" * 50_000 + b"\n"
    result = gradcalc("--x", "2", "-o", "plain", input=line + b"x*3\n")
    assert result.returncode == 0 and result.stdout == b"3 x=1\n6 x=3\n"


def test_missing_file_is_a_usage_error(run_cli, tmp_path):
    code, out, err = run_cli("-f", str(tmp_path / "nope.txt"))
    assert code == 2 and "cannot read" in err


def test_file_name_with_a_nul_byte_is_a_usage_error(run_cli):
    # found by the atheris campaign: open() raised ValueError, an internal error
    code, out, err = run_cli("-fo;-7\x01\x00\x00")
    assert code == 2 and "cannot read" in err and "null byte" in err


def test_file_and_expressions_cannot_mix(run_cli, mixed):
    assert run_cli("-f", mixed, "x")[0] == 2
    assert run_cli("x", "-")[0] == 2


def test_streaming_answers_each_line_before_the_next_is_written():
    process = subprocess.Popen([sys.executable, "-m", "gradcalc", "-o", "jsonl", "--x", "3"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for expression, value in (("x*x", 9.0), ("x+1", 4.0), ("ln(x)*0", 0.0)):
            process.stdin.write(expression.encode() + b"\n")
            process.stdin.flush()
            ready, _, _ = select.select([process.stdout], [], [], 30)
            assert ready, f"no answer to {expression!r} while stdin stays open"
            assert json.loads(process.stdout.readline())["value"] == value
    finally:
        process.stdin.close()
        process.wait(timeout=30)
    assert process.returncode == 0


def test_broken_pipe_ends_quietly(tmp_path):
    path = tmp_path / "many.txt"
    path.write_text("x*2\n" * 200_000)
    process = subprocess.Popen([sys.executable, "-m", "gradcalc", "-f", str(path), "--x", "1", "-o", "jsonl"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = process.stdout.readline()
    process.stdout.close()  # like `| head -1`
    _, err = process.communicate(timeout=120)
    assert json.loads(first)["value"] == 2.0
    assert err == b"" and process.returncode == 0


def test_a_batch_table_ends_when_its_reader_has_gone_before_the_input_ends():
    # the summary is printed when the input ends, but a reader that has gone (`| head -1` done,
    # `| true`) ends the run at once, as the first write would for JSON: exit 0, nothing on stderr,
    # though the input never ends here
    process = subprocess.Popen([sys.executable, "-m", "gradcalc", "--x", "1"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    deadline = time.monotonic() + 120  # never hang: a run that does not end fails below
    try:
        while process.poll() is None and time.monotonic() < deadline:
            process.stdin.write(b"x*2\n" * 100)
            process.stdin.flush()
    except BrokenPipeError:
        pass  # gradcalc has gone, and with it the reader of its input
    if process.poll() is None:
        process.kill()
    with contextlib.suppress(BrokenPipeError):
        process.stdin.close()
    assert process.wait(timeout=30) == 0
    assert process.stderr.read() == b""


def test_progress_bar_only_when_stderr_is_a_terminal(tmp_path):
    import pty

    path = tmp_path / "jobs.txt"
    path.write_text("x*2\n" * 20_000)
    out = tmp_path / "out.jsonl"
    leader, follower = pty.openpty()
    with out.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "gradcalc", "-f", str(path), "--x", "1",
                                    "-o", "jsonl"], stdout=sink, stderr=follower,
                                   env={**os.environ, "TERM": "xterm"})
        os.close(follower)
        seen = read_terminal(leader)
        process.wait(timeout=120)
    assert process.returncode == 0 and len(out.read_text().splitlines()) == 20_000
    assert b"gradcalc" in seen  # the bar's description
    quiet = gradcalc("-f", str(path), "--x", "1", "-o", "jsonl")
    assert quiet.stderr == b""  # stderr is a pipe here: no bar


def test_plain_keeps_one_line_per_job_with_wrt(run_cli):
    # line N of the output is job N: `paste` can pair them with the input
    code, out, err = run_cli("ln(x)", "ln(x-5)", "x**3", "--x", "2", "--wrt", "x", "-o", "plain")
    assert code == 1
    assert out == f"{1 / 2!r}\nerror\n12\n"
    assert "ln(x-5): argument is -3" in err and "(at line 2" in err


def test_plain_single_job_failure_prints_nothing_on_stdout(run_cli):
    code, out, err = run_cli("ln(x)", "--x", "-1", "--wrt", "x", "-o", "plain")
    assert (code, out) == (1, "") and "ln needs a positive number" in err


def test_fail_fast_does_not_call_values_of_unread_lines_unused(run_cli, tmp_path):
    jobs = tmp_path / "jobs.txt"
    jobs.write_text("x*2\nln(x-5)\ny*x\n")
    code, out, err = run_cli("-f", str(jobs), "--x", "2", "--y", "1", "-o", "plain", "--fail-fast")
    assert (code, out) == (1, "4 x=2\nerror\n")
    assert "not used" not in err
    # every line read, and none uses z: that one is unused
    code, _, err = run_cli("-f", str(jobs), "--x", "6", "--y", "1", "--z", "1", "-o", "plain", "--fail-fast")
    assert code == 0 and "--y" not in err
    assert err == "gradcalc: warning: --z is not used by the expressions\n"
