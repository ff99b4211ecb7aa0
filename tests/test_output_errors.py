"""Output that cannot be written (a full disk, a closed or read-only standard output, a picture file
in a missing directory) is the user's situation, not a bug in gradcalc: an error that names the
problem, with a hint, on stderr, exit code 74 (sysexits' EX_IOERR) — never the internal error's 70."""

import errno
import io
import os
import shutil
import subprocess
import sys

import pytest

from conftest import unwrapped

OUTPUT_ERROR = 74
SEED = ("c*d/(a-b)", "--a", "1", "--b", "2", "--c", "3", "--d", "4")
needs_dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")


def _run(argv, stdout, input=None):
    """gradcalc in a subprocess with the given stdout: (exit code, stderr as text)."""
    done = subprocess.run([sys.executable, "-m", "gradcalc", *argv], input=input, stdout=stdout,
                          stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "80"}, timeout=60)
    return done.returncode, done.stderr.decode("utf-8")


def _run_to_full_disk(*argv, input=None):
    with open("/dev/full", "wb") as full:
        return _run(argv, full, input)


def _assert_output_error(code, err, reason):
    assert code == OUTPUT_ERROR, err
    err = unwrapped(err)  # the words; wrapped to the width is tests/test_message_width.py's
    first, *rest = err.splitlines()
    assert first == f"gradcalc: error: cannot write the output: {reason}"
    assert len(rest) == 1 and rest[0].startswith("  hint: "), err  # one message, one hint, no more
    assert "internal error" not in err and "Exception ignored" not in err and "Traceback" not in err


@needs_dev_full
@pytest.mark.parametrize("argv,input", [
    (SEED, None),
    (("x*2", "--x", "1", "-o", "json"), None),
    (("x*2", "--x", "1", "-o", "jsonl"), None),
    (("x*2", "--x", "1", "-o", "csv"), None),
    (("x*2", "--x", "1", "-o", "plain"), None),
    (("x*2", "--x", "1", "-o", "dot"), None),
    (("x*2", "--x", "1", "--tree"), None),
    ((), b"x=1;x\n"),                                            # a batch from stdin, tables
    (("-o", "plain", "--x", "1"), b"x*2\n" * 5000),              # a batch bigger than a buffer
    (("x*x", "--sweep", "x=0:1:5"), None),
    (("x*x", "--sweep", "x=0:1:5", "--plot"), None),             # the terminal plot
    (("--help",), None),
    (("--version",), None),
], ids=["table", "json", "jsonl", "csv", "plain", "dot", "tree", "batch", "long-batch", "sweep",
        "terminal-plot", "help", "version"])
def test_a_full_disk_is_an_output_error(argv, input):
    code, err = _run_to_full_disk(*argv, input=input)
    _assert_output_error(code, err, os.strerror(errno.ENOSPC))


@needs_dev_full
def test_a_full_disk_under_data_rows_is_an_output_error(tmp_path):
    points = tmp_path / "points.csv"
    points.write_text("x\n" + "".join(f"{i}\n" for i in range(1, 2000)), encoding="utf-8")
    code, err = _run_to_full_disk("ln(x)", "--data", str(points))
    _assert_output_error(code, err, os.strerror(errno.ENOSPC))


@needs_dev_full
@needs_dot
@pytest.mark.parametrize("picture", ["svg", "png"])
def test_a_full_disk_under_a_picture_is_an_output_error(picture):
    code, err = _run_to_full_disk("x*2", "--x", "1", "-o", picture)
    _assert_output_error(code, err, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("output", [
    (), ("-o", "json"), ("-o", "plain"),
    pytest.param(("-o", "svg"), marks=needs_dot), pytest.param(("-o", "png"), marks=needs_dot),  # png: binary
])
def test_a_closed_stdout_is_an_output_error(output):
    # `>&-`: Python starts with sys.stdout None
    done = subprocess.run(["sh", "-c", 'exec "$0" -m gradcalc "$@" >&-', sys.executable, "x*2", "--x", "1", *output],
                          stderr=subprocess.PIPE, timeout=60)
    err = done.stderr.decode("utf-8")
    _assert_output_error(done.returncode, err, "standard output is closed")


def test_a_stdout_opened_for_reading_is_an_output_error():
    # `1</dev/null`: every write fails with EBADF
    with open(os.devnull, "rb") as read_only:
        code, err = _run(("x*2", "--x", "1", "-o", "plain"), read_only)
    _assert_output_error(code, err, os.strerror(errno.EBADF))


def test_errors_of_the_input_keep_their_exit_code_with_stdout_closed():
    # nothing to write on stdout: the job's own error, not an output error
    done = subprocess.run(["sh", "-c", 'exec "$0" -m gradcalc "$@" >&-', sys.executable, "ln(x)", "--x", "-1"],
                          stderr=subprocess.PIPE, timeout=60)
    err = done.stderr.decode("utf-8")
    assert done.returncode == 1 and "ln needs a positive number" in err and "cannot write" not in err


def test_a_picture_file_in_a_missing_directory_is_an_output_error(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short name: a message shortens a long one in the middle
    code, _, err = run_cli(*SEED, "--graph", "missing/graph.dot")
    assert code == OUTPUT_ERROR
    assert err.startswith(f"gradcalc: error: cannot write 'missing/graph.dot': {os.strerror(errno.ENOENT)}\n"
                          "  hint: ")


@needs_dev_full
def test_a_picture_file_on_a_full_disk_is_an_output_error(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "graph.dot").symlink_to("/dev/full")
    code, _, err = run_cli(*SEED, "--graph", "graph.dot")
    assert code == OUTPUT_ERROR
    assert err.startswith(f"gradcalc: error: cannot write 'graph.dot': {os.strerror(errno.ENOSPC)}\n  hint: ")


def test_a_plot_file_in_a_missing_directory_is_an_output_error(run_cli, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib", reason="--plot FILE needs matplotlib")
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli("x*x", "--sweep", "x=0:1:5", "--plot", "missing/plot.png")
    assert code == OUTPUT_ERROR
    assert err.startswith(f"gradcalc: error: cannot write 'missing/plot.png': {os.strerror(errno.ENOENT)}\n"
                          "  hint: ")


@needs_dev_full
@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_a_plot_file_on_a_full_disk_is_an_output_error(run_cli, tmp_path, monkeypatch, suffix):
    # matplotlib's PDF writer hid the OSError behind an AttributeError of its own clean-up (exit 70)
    pytest.importorskip("matplotlib", reason="--plot FILE needs matplotlib")
    monkeypatch.chdir(tmp_path)
    (tmp_path / f"full{suffix}").symlink_to("/dev/full")
    code, out, err = run_cli("ln(x)*w", "--sweep", "x=0.1:2:50", "--w", "3", "--plot", f"full{suffix}")
    assert code == OUTPUT_ERROR and out == ""
    assert err == (f"gradcalc: error: cannot write 'full{suffix}': {os.strerror(errno.ENOSPC)}\n"
                   "  hint: free some space, or send the output elsewhere\n")


def test_in_process_output_errors_leave_stdout_as_it_was(run_cli):
    # main() guards stdout while it runs and gives the caller's stream back
    before = sys.stdout
    assert run_cli(*SEED)[0] == 0
    assert sys.stdout is before


class _FullDisk(io.StringIO):
    """A standard output on a full disk: every write fails as /dev/full's do."""

    def write(self, text):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def isatty(self):
        return False


def test_a_full_disk_ends_an_interactive_session_with_an_output_error(session, monkeypatch):  # noqa: F811
    monkeypatch.setattr(sys, "stdout", _FullDisk())
    code, _, err = session("x*2", "x*3", argv=("--x", "1"))
    assert code == OUTPUT_ERROR and "internal error" not in err
    # the session ended at its first result: one message, not one a line
    assert err.count("cannot write") == 1
    assert err.endswith(f"gradcalc: error: cannot write the output: {os.strerror(errno.ENOSPC)}\n"
                        "  hint: free some space, or send the output elsewhere\n")


# ---- standard error that cannot be written: the run's own exit code, and a quiet end -------------

def _with_stderr(argv, stderr_setup, stdout=subprocess.PIPE):
    """gradcalc with stderr as `stderr_setup` makes it (sh redirections): (exit code, stdout, stderr of sh)."""
    done = subprocess.run(["sh", "-c", f'exec "$0" -m gradcalc "$@" {stderr_setup}', sys.executable, *argv],
                          stdout=stdout, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "80"}, timeout=60)
    return done.returncode, done.stdout, done.stderr


UNUSED_OPTION = ("x*x", "--x", "3", "--zz", "1", "-o", "plain")  # 9, ∂ 6, and a warning on stderr


@needs_dev_full
@pytest.mark.parametrize("argv,code,out", [
    (UNUSED_OPTION, 0, b"9 x=6\n"),                               # a warning it cannot show
    (("ln(x)", "--x", "-1"), 1, b""),                               # an error of the numbers
    (("x*", "--x", "1"), 2, b""),                                   # an error of the input
    (("x", "--frobnicate"), 2, b""),                                # a usage error of the options
])
def test_a_full_disk_under_stderr_keeps_the_runs_exit_code(argv, code, out):
    assert _with_stderr(argv, "2>/dev/full") == (code, out, b"")


def test_a_closed_stderr_keeps_the_runs_exit_code():
    assert _with_stderr(UNUSED_OPTION, "2>&-") == (0, b"9 x=6\n", b"")


def test_stderr_on_a_pipe_whose_reader_has_gone_keeps_the_runs_exit_code():
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "gradcalc", *UNUSED_OPTION], stdout=subprocess.PIPE,
                              stderr=write_end, timeout=60)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stdout) == (0, b"9 x=6\n")


@needs_dev_full
def test_a_full_disk_under_both_outputs_is_still_an_output_error():
    with open("/dev/full", "wb") as full:
        assert _with_stderr(UNUSED_OPTION, "2>/dev/full", stdout=full) == (OUTPUT_ERROR, None, b"")


def test_a_non_blocking_pipe_gets_every_record_however_slowly_it_is_read():
    # Python's text streams drop what a non-blocking pipe cannot take at once: 746 of 3,000 records
    # arrived, exit 0, before gradcalc made its standard output blocking for the run
    import time

    reader, writer = os.pipe()
    os.set_blocking(writer, False)
    lines = "".join(f"x={n}; x*x\n" for n in range(3000)).encode()
    run = subprocess.Popen([sys.executable, "-m", "gradcalc", "-o", "jsonl"], stdin=subprocess.PIPE,
                           stdout=writer, stderr=subprocess.PIPE)
    os.close(writer)
    run.stdin.write(lines)
    run.stdin.close()
    time.sleep(1.5)  # the pipe's 64 KiB fill long before this reader starts
    received = b""
    while chunk := os.read(reader, 1 << 20):
        received += chunk
    os.close(reader)
    assert run.wait(timeout=60) == 0, run.stderr.read()
    records = received.decode().splitlines()
    assert len(records) == 3000
    assert records[-1].startswith('{"line": 3000') and '"value": 8994001' in records[-1]  # 2999²


def test_a_non_blocking_stderr_gets_every_message_and_a_non_blocking_stdin_every_line():
    import time

    reader, writer = os.pipe()
    os.set_blocking(writer, False)
    lines = "".join(f"a={n}; ln(a - {n + 1})\n" for n in range(3000)).encode()  # ln(-1): every line an error
    run = subprocess.Popen([sys.executable, "-m", "gradcalc", "-o", "plain"], stdin=subprocess.PIPE,
                           stdout=subprocess.DEVNULL, stderr=writer)
    os.close(writer)
    run.stdin.write(lines)
    run.stdin.close()
    time.sleep(1.5)
    received = b""
    while chunk := os.read(reader, 1 << 20):
        received += chunk
    os.close(reader)
    assert run.wait(timeout=60) == 1
    messages = received.decode()
    assert messages.count("gradcalc: error: ") == 3000 and "(at line 3000, column " in messages

    feed_reader, feed_writer = os.pipe()
    os.set_blocking(feed_reader, False)  # gradcalc's stdin, non-blocking, with pauses between lines
    run = subprocess.Popen([sys.executable, "-m", "gradcalc", "-o", "plain"], stdin=feed_reader,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(feed_reader)
    for n in range(3):
        time.sleep(0.3)
        os.write(feed_writer, f"x={n}; x*x + 1\n".encode())
    os.close(feed_writer)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    assert [line.split()[0] for line in out.decode().splitlines()] == ["1", "2", "5"]
