"""Where jobs come from: expression arguments, a file, standard input, or JSON Lines.

Lines are read and decoded one at a time, so a job is evaluated (and its output flushed) before
the next line is read: `tail -f jobs.txt | gradcalc -o jsonl` answers line by line, and memory
stays flat on files of millions of lines.
"""

import json
from dataclasses import dataclass, field

from gradcalc.errors import GradcalcError, ParseError, ValueFormatError


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


def line_jobs(stream, input_format: str = "text"):
    """Jobs from a binary stream, one per line; blank lines and '#' comment lines are skipped
    but counted, so `line` is the physical line number (CRLF endings are fine)."""
    for number, raw in enumerate(stream, start=1):
        raw = raw.rstrip(b"\r\n")
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a UTF-8 byte order mark
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            yield _undecodable(number, raw, error)
            continue
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        yield _json_job(number, text) if input_format == "jsonl" else Job(number, text)


def _undecodable(number: int, raw: bytes, error: UnicodeDecodeError) -> Job:
    text = raw.decode("utf-8", errors="replace")
    column = len(raw[: error.start].decode("utf-8", errors="replace"))
    problem = ParseError(f"the line is not valid UTF-8 (byte 0x{raw[error.start]:02x})",
                         source=text, span=(column, column + 1),
                         hint="save the input as UTF-8")
    return Job(number, text, error=problem)


def _json_job(number: int, text: str) -> Job:
    """A JSON Lines job: {"expression": "...", "values": {"a": 1}}."""
    hint = 'each line is an object such as {"expression": "a*b", "values": {"a": 1, "b": 2}}'
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
