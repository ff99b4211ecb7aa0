"""One error hierarchy: every failure a user can cause is a GradcalcError that knows its exit code."""

from gradcalc.formatting import bounded, caret_excerpt, line_and_column


class GradcalcError(Exception):
    """Base of every gradcalc error: a message, where it happened, how to fix it, an exit code."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None, source: str | None = None,
                 span: tuple[int, int] | None = None):
        # whatever a message quotes (a name, a token, a value) it reaches a terminal escaped and
        # bounded: a 2 MB input must not make an 8 MB message, nor an ESC byte recolour the screen
        message = bounded(message)
        super().__init__(message)
        self.message = message
        self.hint = None if hint is None else bounded(hint)
        self.source = source
        self.span = span

    @property
    def type(self) -> str:
        return type(self).__name__

    @property
    def position(self) -> tuple[int, int] | None:
        """(line, column) within the expression, both 1-based, when the error has a place."""
        if self.source is None or self.span is None:
            return None
        return line_and_column(self.source, self.span[0])

    @property
    def column(self) -> int | None:
        return None if self.position is None else self.position[1]

    def describe(self, line: int | None = None) -> str:
        """The full message: what, where (with a caret under the place), how to fix it.

        `line` is the physical input line of a batch job; a multi-line expression adds its own offset.
        """
        text = self.message
        if self.position is not None:
            expr_line, column = self.position
            if line is not None:
                where = f"line {line + expr_line - 1}, column {column}"
            elif "\n" in self.source:
                where = f"line {expr_line}, column {column}"
            else:
                where = f"column {column}"
            text = f"{text} (at {where})\n{caret_excerpt(self.source, *self.span)}"
        elif line is not None:
            text = f"{text} (at line {line})"
        if self.hint:
            text = f"{text}\n  hint: {self.hint}"
        return text

    def to_dict(self) -> dict:
        record = {"type": self.type, "message": self.message}
        if self.column is not None:
            record["column"] = self.column
        if self.hint:
            record["hint"] = self.hint
        return record


class InputError(GradcalcError):
    """The input could not be understood (exit code 2)."""

    exit_code = 2


class UsageError(InputError):
    """A command-line or API call that does not make sense."""


class ParseError(InputError):
    """The text is not a gradcalc expression."""


class UnknownFunctionError(InputError):
    """A call of a function gradcalc does not know, or with the wrong number of arguments."""


class MissingValueError(InputError):
    """Variables used by the expression that have no value."""


class ValueFormatError(InputError):
    """A value that is not a finite number."""


class ShapeError(InputError):
    """Array shapes that do not fit together, named with the node and both shapes."""


class EvaluationError(GradcalcError):
    """The expression was understood but cannot be evaluated at this point (exit code 1)."""

    exit_code = 1


class DomainError(EvaluationError):
    """An argument outside a function's domain: ln(-1), division by zero, 0**-1."""


class NonFiniteError(EvaluationError):
    """A value or gradient overflowed or became nan."""


class OutputError(GradcalcError):
    """The output could not be written: a full disk, a closed standard output (exit code 74)."""

    exit_code = 74  # sysexits' EX_IOERR: neither the input's fault (2) nor its numbers' (1)
