import json
import os
import re
import sys
from pathlib import Path

import pytest

CASES = Path(__file__).parent / "cases" / "gradients.jsonl"


def load_cases():
    with CASES.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def central_difference(f, x: float, h: float | None = None) -> float:
    """(f(x+h) - f(x-h)) / 2h with a step scaled to x."""
    h = h or 1e-6 * max(1.0, abs(x))
    return (f(x + h) - f(x - h)) / (2 * h)


def plain_path(graph, values):
    """The plain array path (no blocks, no tape): (value, gradients by name), or the error it raises."""
    from gradcalc.arrays import backward_arrays, forward_arrays
    from gradcalc.errors import GradcalcError
    from gradcalc.evaluator import bind

    try:
        inputs = bind(graph, values)
        node_values = forward_arrays(graph, inputs)
        grads = backward_arrays(graph, node_values)
    except GradcalcError as error:
        return error
    return node_values[graph.output], {name: grads[index] for name, index in graph.variables.items()}


def through_api(graph, values):
    """What evaluate_graph gives (whichever fast path it takes): (value, gradients), or the error."""
    from gradcalc.errors import GradcalcError
    from gradcalc.evaluator import evaluate_graph

    try:
        result = evaluate_graph(graph, values)
    except GradcalcError as error:
        return error
    return result.value, result.gradients


def assert_same_answer(expected, got, text, rtol=1e-10):
    """The same error (type, message, caret), or values and gradients of the same shapes within rtol."""
    import numpy as np

    from gradcalc.errors import GradcalcError

    if isinstance(expected, GradcalcError):
        assert isinstance(got, GradcalcError), text
        assert (type(got), got.message, got.span) == (type(expected), expected.message, expected.span), text
        return
    assert not isinstance(got, GradcalcError), f"{text}: {got}"
    assert np.shape(got[0]) == np.shape(expected[0]), text
    np.testing.assert_allclose(got[0], expected[0], rtol=rtol, atol=1e-12, err_msg=text)
    for name, gradient in expected[1].items():
        assert np.shape(got[1][name]) == np.shape(gradient), (text, name)
        np.testing.assert_allclose(got[1][name], gradient, rtol=rtol, atol=1e-12, err_msg=f"{text}: {name}")


def read_terminal(leader: int) -> bytes:
    """Everything written to a pseudo-terminal until its other end closes."""
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the writer has gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return b"".join(chunks)


_CONTINUED = {"message": re.compile(r"  (?! |hint: )"), "hint": re.compile(r" {8}(?! )")}


def unwrapped(err: str) -> str:
    """Standard error with each message and hint that gradcalc wrapped to the width back on one line:
    a message's further lines are indented by two (`gradcalc: error: ...`), a hint's by eight (under
    its first word); an excerpt (indented by four) and its carets stay as they are. Tests of a
    message's words compare it so; the widths themselves are tests/test_message_width.py's."""
    lines, kind = [], None
    for line in err.split("\n"):
        if kind is not None and _CONTINUED[kind].match(line):
            lines[-1] += " " + line.lstrip(" ")
            continue
        kind = "message" if line.startswith("gradcalc: ") else "hint" if line.startswith("  hint: ") else None
        lines.append(line)
    return "\n".join(lines)


def _record_starts(lines: list[str], index: int) -> bool:
    """Whether a record starts at lines[index]: a heading, then `  header  cell`, or `  header` and
    its cell below it, indented by four."""
    if index + 1 >= len(lines) or lines[index][:1] in ("", " ", "┏", "│", "└", "┃", "┡"):
        return False
    field = lines[index + 1]
    if re.match(r"  \S(?:\S| (?! ))* {2,}\S", field):
        return True
    return bool(re.fullmatch(r"  \S(?:\S| (?! ))*", field)) and index + 2 < len(lines) \
        and lines[index + 2].startswith("    ") and not lines[index + 2].startswith("     ")


def read_layouts(text: str) -> list[tuple[list[str], list[dict]]]:
    """Every table in `text`, as a table (box lines) or as records (a heading `header cell`, then
    `  header  cell` lines, a cell's further lines under its first or, when it starts below its
    header, indented by four): [(headers, rows)], each row {header: its cell's lines joined by
    newlines, stripped}. A table's row runs from a line whose first cell is not empty; a record's
    heading is also the key "" (its first word the header: a one-word header)."""
    layouts, lines, index = [], text.splitlines(), 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("┃"):
            headers = [cell.strip() for cell in line.split("┃")[1:-1]]
            rows = []
            index += 2
            while index < len(lines) and lines[index].startswith("│"):
                cells = [cell.strip() for cell in lines[index].split("│")[1:-1]]
                if cells[0] or not rows:
                    rows.append(dict(zip(headers, cells)))
                else:
                    for header, cell in zip(headers, cells):
                        if cell:
                            rows[-1][header] = (rows[-1][header] + "\n" + cell).strip("\n")
                index += 1
            layouts.append((headers, rows))
        elif _record_starts(lines, index):
            rows, headers = [], []
            while _record_starts(lines, index):
                head, _, rest = lines[index].partition(" ")  # 'id 0', 'variable x', 'line 3'
                row, index, header = {"": lines[index], head: rest}, index + 1, None
                while index < len(lines) and lines[index].startswith("  "):
                    field = re.match(r"  (\S(?:\S| (?! ))*)(?: {2,}(.*))?$", lines[index])
                    if field and not lines[index].startswith("   "):
                        header = field.group(1)
                        row[header] = field.group(2) or ""
                        headers += [header] if header not in headers else []
                        offset = field.start(2) if field.group(2) else None
                    else:  # a further line: under the first (at the offset), or below the header
                        rest = lines[index][offset:] if offset else lines[index].strip()
                        row[header] = (row[header] + "\n" + rest.strip()).strip("\n")
                    index += 1
                rows.append(row)
            layouts.append((headers, rows))
            continue
        else:
            index += 1
    return layouts


@pytest.fixture
def run_cli(capsys):
    """Run gradcalc's main() in-process: (exit code, stdout, stderr with its messages `unwrapped`)."""
    from gradcalc.cli import main

    def run(*argv, as_printed: bool = False):
        """`as_printed`: stderr as written, its messages wrapped to the width (else `unwrapped`)."""
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err if as_printed else unwrapped(captured.err)

    return run


class _Terminal:
    """Standard input that says it is a terminal, so that gradcalc opens a session."""

    def isatty(self):
        return True


@pytest.fixture
def session(monkeypatch, capsys, tmp_path):
    """Run a session on scripted lines in-process: (exit code, stdout, stderr)."""
    from gradcalc import session_input
    from gradcalc.cli import main

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)

    def run(*lines, argv=()):
        pending = list(lines)

        def read():
            if not pending:
                raise EOFError
            return pending.pop(0)

        monkeypatch.setattr(session_input, "line_reader", lambda s: (read, "scripted"))
        monkeypatch.setattr(sys, "stdin", _Terminal())
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, unwrapped(captured.err)  # messages' words; their widths: subprocess tests

    return run


# Hypothesis: bounded in CI; `pytest --hypothesis-profile=long` for a deeper run.
from hypothesis import HealthCheck, settings  # noqa: E402

# the default (CI) profile is derandomized: the same examples every run, no stale database replays
settings.register_profile("default", max_examples=120, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.register_profile("long", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.load_profile("default")
