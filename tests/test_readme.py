"""The README's console examples print what the README shows, at 80 columns (the README's width).

Every `$ gradcalc ...` line of a ```console block whose output is shown is run (in-process when it
is a plain command, through the shell when it pipes, redirects or substitutes) and its standard
output, then its standard error, compared line by line with the lines under it. A line `...` or
`…` stands for any lines (the README's elisions). Commands whose output is not shown still run,
in order, so that the files they write (`points.csv`) are there for the next ones. The interactive
session's transcript (`$ gradcalc` alone) is tests/test_session.py's.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
ELISIONS = {"...", "…"}
SHELL = re.compile(r"[|<>;&`]|\$\(")  # what a command needs the shell for


def _examples() -> list[tuple[int, list[tuple[str, list[str]]]]]:
    """Each console block: (its line in the README, [(command, the lines shown under it)])."""
    text = README.read_text(encoding="utf-8")
    blocks = []
    for match in re.finditer(r"^( *)```console\n(.*?)^\1```$", text, re.M | re.S):
        indent = len(match.group(1))
        commands = []
        for line in match.group(2).splitlines():
            line = line[indent:]
            if line.startswith("$ "):
                commands.append((line[2:], []))
            elif commands:
                commands[-1][1].append(line)
        blocks.append((text.count("\n", 0, match.start()) + 1, commands))
    return blocks


def _matches(shown: list[str], printed: list[str]) -> bool:
    """Whether `printed` reads as `shown`, each elision line standing for any lines."""
    pattern = "".join(".*?" if line in ELISIONS else re.escape(line.rstrip()) + "\n" for line in shown)
    return re.fullmatch(pattern, "".join(line.rstrip() + "\n" for line in printed), re.S) is not None


def _shim(directory: Path) -> dict:
    """An environment whose `gradcalc` is this checkout's, at the README's terminal size."""
    script = directory / "gradcalc"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m gradcalc "$@"\n')
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{directory}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT),
            "COLUMNS": "80", "LINES": "24"}


def _needs(command: str) -> str | None:
    """Why `command` cannot run here (a tool or device it needs is missing), or None."""
    for tool in ("jq",):
        if re.search(rf"\|\s*{tool}\b", command) and shutil.which(tool) is None:
            return f"{tool} is not installed"
    if "/dev/full" in command and not os.path.exists("/dev/full"):
        return "no /dev/full here"
    if "--plot" in command:
        try:
            import plotext  # noqa: F401
        except ImportError:
            return "plotext is not installed (pip install 'gradcalc[plot]')"
    return None


BLOCKS = [(line, commands) for line, commands in _examples() if all(command != "gradcalc" for command, _ in commands)]


def test_the_readme_has_console_examples_with_output():
    shown = [command for _, commands in BLOCKS for command, lines in commands if lines]
    assert len(shown) >= 15, shown  # a parse that found nothing would pass every example below


@pytest.mark.parametrize("line, commands", BLOCKS, ids=[f"README line {line}" for line, _ in BLOCKS])
def test_a_readme_example_prints_what_the_readme_shows(line, commands, run_cli, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")
    monkeypatch.delenv("NO_COLOR", raising=False)
    environment = None
    for command, shown in commands:
        if shown and (why := _needs(command)):
            pytest.skip(why)
        if SHELL.search(command) or not command.startswith("gradcalc "):
            if environment is None:
                shim = tmp_path / "bin"
                shim.mkdir()
                environment = _shim(shim)
            ran = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=environment,
                                 cwd=tmp_path, timeout=120)
            out, err = ran.stdout, ran.stderr
        else:
            _, out, err = run_cli(*shlex.split(command, comments=True)[1:], as_printed=True)
        if shown:
            printed = (out + err).splitlines()
            assert _matches(shown, printed), f"README line {line}: $ {command}\n" + "\n".join(printed)


@pytest.mark.parametrize("shown, printed, same", [
    (["a", "...", "d"], ["a", "b", "c", "d"], True),
    (["…", "d"], ["a", "d"], True),
    (["a", "d"], ["a", "b", "d"], False),
    (["a", "..."], ["b"], False),
    (["a"], ["a", "b"], False),
])
def test_elisions_stand_for_any_lines_and_nothing_else(shown, printed, same):
    assert _matches(shown, printed) is same


def test_the_readme_pipelines_over_tsv_leave_error_rows_out(tmp_path):
    # `sort -g` puts the error rows' empty ∂/∂x first: the README's "smallest ∂/∂x" listed them
    text = README.read_text(encoding="utf-8")
    smallest = re.search(r"^(gradcalc -f jobs.txt -o tsv --wrt x .*sort.*?)\s+# smallest ∂/∂x$", text, re.M).group(1)
    total = re.search(r"^(gradcalc -f jobs.txt -o tsv --wrt x \| awk .*s \+= .*)$", text, re.M).group(1)
    # ∂/∂x by hand: 2x at 3 is 6, 3x² at -1 is 3, 1/x at 0.5 is 2, 2x at -2 is -4; two lines fail
    (tmp_path / "jobs.txt").write_text("x = 3; x^2\nx = -1; ln(x)\nx = -1; x^3\nx = 2; sqrt(x - 5)\n"
                                       "x = 0.5; ln(x)\nx = -2; x^2\n")
    shim = tmp_path / "bin"
    shim.mkdir()
    environment = _shim(shim)
    rows = subprocess.run(["bash", "-c", smallest], capture_output=True, text=True, env=environment, cwd=tmp_path,
                          timeout=120).stdout.splitlines()
    assert [row.split("\t")[3] for row in rows] == ["-4.0", "2.0", "3.0"]
    summed = subprocess.run(["bash", "-c", total], capture_output=True, text=True, env=environment, cwd=tmp_path,
                            timeout=120).stdout
    assert float(summed) == 6 + 3 + 2 - 4
