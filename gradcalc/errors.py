"""One error hierarchy: every failure a user can cause is a GradcalcError that knows its exit code."""

import difflib

from gradcalc.formatting import bounded, caret_excerpt, encodable, line_and_column, message_lines

_HINT = "  hint: "  # a hint's further lines start under its first word
_EXCERPT_INDENT = "    "  # caret_excerpt's
_UNBROKEN = "\x00"  # a space no wrapping breaks at (str.split's whitespace has \x1c-\x1f; a message's own are escaped)


class GradcalcError(Exception):
    """Base of every gradcalc error: a message, where it happened, how to fix it, an exit code."""

    exit_code = 2
    says_column = True  # "(at column N)" before the caret; not where the source is an option and its value

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

    def describe(self, line: int | None = None, encoding: str | None = None, width: int | None = None,
                 lead: str = "") -> str:
        """The full message after `lead` ("gradcalc: error: "): what, where (with a caret under the
        place), how to fix it.

        `line` is the physical input line of a batch job; a multi-line expression adds its own offset.
        What `encoding` (the message's stream's) lacks is escaped, θ as \\u03b8, in the excerpt too,
        with the caret under the escape. With a `width` (the terminal's), the message and the hint
        wrap between words within it and the excerpt is windowed to fit beside its indent.
        """
        text = encodable(self.message, encoding)
        excerpt = None
        if self.position is not None:
            expr_line, column = self.position
            if line is not None:
                where = f"line {line + expr_line - 1}, column {column}"
            elif "\n" in self.source:
                where = f"line {expr_line}, column {column}"
            else:
                where = f"column {column}"
            where = f" (at {where})" if self.says_column else "" if line is None else f" (at line {line})"
            text = f"{text}{where[:1]}{where[1:].replace(' ', _UNBROKEN)}"  # "(at column 12)" wraps as one word
            window = 72 if width is None else max(min(72, width - len(_EXCERPT_INDENT)), 8)
            excerpt = caret_excerpt(self.source, *self.span, width=window, encoding=encoding)
        elif line is not None:
            text = f"{text} (at line {line})"
        text = message_lines(lead, text, width).replace(_UNBROKEN, " ")
        if excerpt is not None:
            text = f"{text}\n{excerpt}"
        if self.hint:
            text = f"{text}\n{message_lines(_HINT, encodable(self.hint, encoding), width, ' ' * len(_HINT))}"
        return text

    def to_dict(self) -> dict:
        record = {"type": self.type, "message": self.message}
        if self.column is not None and self.says_column:  # not a column within `--wrt y`
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
    """Variables used by the expression that have no value (`names`, sorted)."""

    def __init__(self, message: str, *, names=(), **details):
        super().__init__(message, **details)
        self.names = tuple(names)


class ValueFormatError(InputError):
    """A value that is not a finite number."""


class ShapeError(InputError):
    """Array shapes that do not fit together, named with the node and both shapes."""

    of_seed = False  # the seed gradient's shape is not the output's (its hint says how to give the seed)


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


# Hints that say how to give a value. The command line's wording is the default; the Python API
# re-words them with its own arguments (gradcalc/__init__.py), so each sentence is written once.

def command_line_values(names, options=()) -> str:
    """How the command line gives `names` values: --x VALUE, or --var NAME=VALUE for a name that is
    also one of gradcalc's `options` (--format)."""
    return " ".join(f"--var {name}=VALUE" if f"--{name}" in options else f"--{name} VALUE" for name in names)


def variables_hint(name: str, variables, option: str = "") -> str:
    """The hint for a `name` that is not one of `variables`: the closest one (`did you mean --wrt
    x1?`, as `option` names it), then all of them."""
    known = sorted(variables)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    guess = f"did you mean {option}{close[0]}? " if close else ""
    return f"{guess}its variables are: {', '.join(known) or 'none'}"


def missing_value_hint(names, given: str) -> str:
    """Give the variables `names` values as `given` says (--x VALUE, evaluate(..., x=1)), or bind
    them on the line, which works wherever the expression comes from."""
    them = "it" if len(names) == 1 else "them"
    return f"give {given}, or bind {them} on the line ({names[0]} = 1; ...)"


def seed_shape_error(seed_shape: tuple, output_shape: tuple) -> ShapeError:
    """The error for a seed gradient whose shape is not the output's."""
    error = ShapeError(f"the seed gradient has shape {seed_shape}, the output {output_shape}",
                       hint=seed_shape_hint("--seed-grad"))
    error.of_seed = True
    return error


def seed_shape_hint(given: str) -> str:
    """Give the seed (`given`: --seed-grad, seed_grad=) the output's shape."""
    return f"give {given} an array of the output's shape"


# Options that hints name, spelled (command line, Python API). A hint that names them is written once,
# with {placeholders}, and worded for the command line; the Python API re-words it (python_hint).
OPTIONS = {
    "order2": ("--order 2 (or --hessian)", "order=2 (or hessian())"),
    "hessian": ("--hessian", "hessian()"),
    "hvp": ("--hvp", "hvp()"),
    "jacobian": ("--jacobian", "jacobian()"),
}


def naming_options(error: GradcalcError, hint: str) -> GradcalcError:
    """`error` with `hint`, whose {placeholders} name OPTIONS as the command line spells them."""
    error.hint_naming_options = hint
    error.hint = hint.format_map({key: spelled[0] for key, spelled in OPTIONS.items()})
    return error


def python_hint(error: GradcalcError) -> str | None:
    """The hint of an error made by naming_options, with the Python API's spelling; else None."""
    hint = getattr(error, "hint_naming_options", None)
    return None if hint is None else hint.format_map({key: spelled[1] for key, spelled in OPTIONS.items()})
