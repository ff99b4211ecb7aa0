"""Where jobs come from: expression arguments, a file, standard input, or JSON Lines.

Lines are read and decoded one at a time, so a job is evaluated (and its output flushed) before
the next line is read: `tail -f jobs.txt | gradcalc -o jsonl` answers line by line, and memory
stays flat on files of millions of lines.
"""

import json
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field

from gradcalc.errors import GradcalcError, ParseError, UsageError, ValueFormatError
from gradcalc.formatting import shorten
from gradcalc.option_errors import at_value
from gradcalc.undecoded import not_utf8


@dataclass(frozen=True, slots=True)
class Job:
    """One expression to evaluate: its physical line, its text, values of its own, or why not."""

    line: int
    text: str | None
    values: dict = field(default_factory=dict)
    error: GradcalcError | None = None


def argument_jobs(expressions) -> list[Job]:
    """Expression arguments, numbered 1, 2, ... in order."""
    return [Job(number, text) for number, text in enumerate(expressions, start=1)]


@contextmanager
def open_input(expressions: list, file: str | None):
    """The binary stream jobs are read from, or None when the expressions are arguments."""
    if file is not None and expressions:
        raise at_value(f"expressions are given as arguments too ({shorten(expressions[0], limit=30)})", "--file", file,
                       "give the jobs one way: as arguments (without --file), or one a line in the file "
                       "(without the arguments)")
    if file is None and expressions == ["-"]:
        file = "-"
    elif "-" in expressions:
        raise UsageError("'-' (read standard input) cannot be mixed with expression arguments")
    if file is None and not expressions:
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("no expression given",
                             hint='gradcalc "c*d/(a-b)" --a 1 --b 2 --c 3 --d 4, or pipe expressions in')
        file = "-"
    if file is None:
        yield None
    elif file == "-":
        yield _ReadLines(getattr(sys.stdin, "buffer", sys.stdin), "standard input")
    else:
        try:
            stream = open(file, "rb")
        except (OSError, ValueError) as error:  # ValueError: a NUL byte in the name
            reason = getattr(error, "strerror", None) or str(error)
            raise at_value(f"cannot read it: {reason}", "--file", file,
                           "check the path; --file - reads the jobs from standard input") from None
        with stream:
            yield _ReadLines(stream, file)


class _ReadLines:
    """A binary stream's lines; a failure to read is a usage error naming the source."""

    def __init__(self, stream, name: str):
        self.stream, self.name = stream, name

    def fileno(self) -> int:
        return self.stream.fileno()

    def __iter__(self):
        try:
            yield from self.stream
        except OSError as error:
            raise UsageError(f"cannot read {self.name}: {error.strerror or error}") from None


def line_jobs(stream, input_format: str = "text"):
    """Jobs from a binary stream, one per line; blank lines and '#' comment lines are skipped
    but counted, so `line` is the physical line number (CRLF endings are fine)."""
    for number, raw in enumerate(stream, start=1):
        raw = raw.rstrip(b"\r\n")
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a UTF-8 byte order mark
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield _undecodable(number, raw)
            continue
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        yield _json_job(number, text) if input_format == "jsonl" else Job(number, text)


def _undecodable(number: int, raw: bytes) -> Job:
    problem = not_utf8(raw.decode("utf-8", errors="surrogateescape"), "the line", "save the input as UTF-8")
    return Job(number, raw.decode("utf-8", errors="replace"), error=problem)


def _json_job(number: int, text: str) -> Job:
    """A JSON Lines job: {"expression": "...", "values": {"a": 1}}."""
    hint = 'each line is an object such as {"expression": "a*b", "values": {"a": 1, "b": 2}}'
    if text.count("[") + text.count("{") > 64:  # json's decoding recursion must not meet 1,000 '['
        from gradcalc.values import nesting_refusal

        too_deep = nesting_refusal(text, objects=2)  # {"values": {"x": [...]}}
        if too_deep is not None:
            return Job(number, text, error=ValueFormatError(str(too_deep), source=text, span=too_deep.span,
                                                            hint=too_deep.hint))
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        return Job(number, text, error=ParseError(f"the line is not valid JSON: {error.msg}",
                                                  source=text, span=(error.pos, error.pos + 1),
                                                  hint=hint))
    if not isinstance(record, dict) or not isinstance(record.get("expression"), str):
        return Job(number, text, error=ParseError('the line has no "expression" string', hint=hint))
    values = record.get("values", {})
    if not isinstance(values, dict):
        return Job(number, record["expression"],
                   error=ValueFormatError('"values" must be an object of name: number', hint=hint))
    return Job(number, record["expression"], values)
