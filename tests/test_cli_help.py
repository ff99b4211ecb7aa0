"""--help at 80 columns, the --syntax page the error hints point to, and closed pipes on table and
help output (issue 12, items 7 and 8)."""

import os
import subprocess
import sys

import pytest
import typer

from gradcalc.cli import Panel, app
from gradcalc.layers import FUNCTIONS, REGISTRY

SEED = ("c*d/(a-b)", "--a", "1", "--b", "2", "--c", "3", "--d", "4")


def gradcalc(*argv, columns=80):
    return subprocess.run([sys.executable, "-m", "gradcalc", *argv], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": str(columns)}, timeout=60)


def test_help_fits_80_columns_with_whole_option_names_and_metavars():
    result = gradcalc("--help")
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    words = {word for line in lines for word in line.replace("│", " ").split()}
    for option in _visible_options():
        assert option in words, f"{option} is not whole in the help"
    for metavar in ("FORMAT", "NAME", "NAME=VALUE", "FILE", "ARRAY", "text|jsonl"):
        assert metavar in words
    # the help column is wide enough for phrases, not a word per line
    assert "table (default), json, jsonl," in result.stdout


def _visible_options() -> list:
    command = typer.main.get_command(app)
    params = command.get_params(typer.Context(command, **command.context_settings))
    return [opt for param in params if param.param_type_name == "option" and not getattr(param, "hidden", False)
            for opt in (*param.opts, *param.secondary_opts)]


def test_help_groups_options_in_panels():
    out = gradcalc("--help").stdout
    panels = [line.split("─")[1].strip() for line in out.splitlines() if line.startswith("╭─")]
    assert panels[:4] == ["Arguments", "Options", "Variables", "Output"]
    # every panel is one of cli.Panel's, shown once, and none is left empty
    assert sorted(panels) == sorted({"Arguments", "Options", *(v for k, v in vars(Panel).items() if k.isupper())})


def _panel_of(out: str, option: str) -> str:
    panel = None
    for line in out.splitlines():
        if line.startswith("╭─"):
            panel = line.split("─")[1].strip()
        elif f" {option} " in line:
            return panel
    raise AssertionError(option)


@pytest.mark.parametrize("option,panel", [("--format", "Output"), ("--wrt", "Output"), ("--file", "Many jobs"),
                                          ("--fail-fast", "Many jobs"), ("--data", "Arrays and data"),
                                          ("--max-elements", "Arrays and data"), ("--check", "Checking")])
def test_option_panels(option, panel):
    assert _panel_of(gradcalc("--help", columns=120).stdout, option) == panel


def test_syntax_page():
    result = gradcalc("--syntax")
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 79
    for heading in ("Operators, loosest first", "Functions", "Statements", "Values", "Exit codes"):
        assert any(line.startswith(heading) for line in lines)
    listed = {line.split()[0] for line in lines if line.startswith("  ") and not line.startswith("   ")}
    assert set(FUNCTIONS) <= listed
    assert "2^3^2 = 512" in result.stdout and "-x**2 = -(x**2)" in result.stdout
    assert "x = 5 ± 0.2" in result.stdout
    # each function's description is its docstring's whole first paragraph, not its first line
    text = " ".join(result.stdout.split())
    for name in FUNCTIONS:
        paragraph = " ".join(REGISTRY[name].__doc__.strip().split("\n\n")[0].split())
        assert paragraph in text, name


def test_error_hints_point_to_a_page_that_exists(run_cli):
    code, _, err = run_cli("a b", "--a", "1", "--b", "2")
    assert code == 2 and "hint: see `gradcalc --syntax` for the expression syntax" in err
    assert "gradcalc --syntax" in gradcalc("--help").stdout
    assert run_cli("--syntax")[0] == 0


def _run_with_stdout_closed(*argv, input=None):
    """Run gradcalc with nobody reading its stdout (like `| head -1` once head has gone): every
    write fails with EPIPE, deterministically. Returns (exit code, stderr)."""
    process = subprocess.Popen([sys.executable, "-m", "gradcalc", *argv], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "COLUMNS": "80"})
    process.stdout.close()
    _, err = process.communicate(input, timeout=60)
    return process.returncode, err


@pytest.mark.parametrize("argv,input,code", [
    (SEED, None, 0),
    (("--help",), None, 0),
    (("--syntax",), None, 0),
    (("--version",), None, 0),
    (("--nodes", "-f", "-", "--x", "1"), b"a +* b\n" + b"x*2\n" * 100, 2),
    (("x*x", "--x", "2", "--tree"), None, 0),  # Rich's own answer to a closed pipe is exit 1
    (("x*x", "--sweep", "x=0:1:5"), None, 0),
], ids=["table", "help", "syntax", "version", "batch-tables-after-an-error", "tree", "sweep-table"])
def test_closed_pipe_is_quiet_with_the_exit_code_so_far(argv, input, code):
    returncode, err = _run_with_stdout_closed(*argv, input=input)
    assert returncode == code, err
    # nothing but the job's own error message: no "Broken pipe", no traceback
    assert err == b"" or (code == 2 and err.startswith(b"gradcalc: error: unexpected '*'")
                          and b"Traceback" not in err and b"Broken" not in err)


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
def test_help_at_60_columns_wraps_every_help_text_whole(encoding):
    """A word longer than the help column (∂output/∂NAME) is folded, never cut with '…' and lost."""
    result = subprocess.run([sys.executable, "-m", "gradcalc", "--help"], capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "60", "PYTHONIOENCODING": encoding}, timeout=60)
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= 60  # the ASCII '...' of a cut made 62
    assert not any("…" in line for line in lines)
    command = typer.main.get_command(app)
    for param in command.get_params(typer.Context(command, **command.context_settings)):
        if param.param_type_name != "option" or not param.help or param.hidden or "--help" in param.opts:
            continue
        first_word = param.help.split()[0]
        start = next(index for index, line in enumerate(lines)
                     if line.split()[1:2] == [param.opts[0]] and first_word in line)
        column = lines[start].index(f" {first_word} ", lines[start].index(param.opts[0]) + len(param.opts[0])) + 1
        shown = [lines[start][column:]]
        for line in lines[start + 1:]:
            if line[1:column].lstrip().startswith("-") or line.startswith("╰") or line.startswith("+"):
                break  # the next option's row, or the panel's end (a range such as [1<=x<=17] may be beside)
            shown.append(line[column:])
        text = "".join("".join(piece.rstrip()[:-1] for piece in shown).split())  # less the right edge
        # the help whole, then perhaps its [default: 1]
        assert text.startswith("".join(param.help.split())) or text.startswith(ascii_of(param.help)), param.opts


def ascii_of(text: str) -> str:
    from gradcalc.formatting import encodable

    return "".join(encodable(text, "ascii").split())


def test_syntax_page_under_ascii_keeps_80_columns():
    """θ, ², σ are escaped as \\u03b8, \\xb2, \\u03c3: the lines they lengthen are wrapped again."""
    result = subprocess.run([sys.executable, "-m", "gradcalc", "--syntax"], capture_output=True, text=True,
                            env={**os.environ, "PYTHONIOENCODING": "ascii"}, timeout=60)
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert result.stdout.isascii() and max(map(len, lines)) <= 79
    assert "\\u03b8" in result.stdout and "x = 5 +- 0.2           an input" in result.stdout
    text = " ".join(result.stdout.split())
    from gradcalc.formatting import encodable

    for name in FUNCTIONS:  # every description whole, only escaped
        paragraph = " ".join(REGISTRY[name].__doc__.strip().split("\n\n")[0].split())
        assert encodable(paragraph, "ascii") in text, name
    # the same page as in UTF-8, word for word, once escaped
    utf8 = gradcalc("--syntax").stdout
    assert " ".join(encodable(utf8, "ascii").split()) == text


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
def test_help_at_40_columns_folds_option_names_within_the_panel(encoding):
    """At 40 columns even an option's name is wider than its column: folded, not cut with '…' (whose
    ASCII '...' overran the panel's border by 2)."""
    result = subprocess.run([sys.executable, "-m", "gradcalc", "--help"], capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "40", "PYTHONIOENCODING": encoding}, timeout=60)
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= 40
    assert not any("…" in line for line in lines)
    # every option's name is there, in pieces: the text of the page, less its borders, holds it
    text = "".join(line[1:-1].strip() if line[:1] in "│|" else "" for line in lines)
    for option in ("--format", "--max-elements", "--correlation", "--covariance", "--jacobian"):
        assert option[:5] in text
