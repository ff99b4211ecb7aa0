"""Errors in the values of gradcalc's own options, in gradcalc's format: the option and its value as
given, a caret under the value, and what the option takes (its choices, its range).

Click finds most of them while it parses (a --format that is not a choice, a --precision out of its
range, a value given to a flag). cli.py, the module of Typer and click, catches click's exception
and hands it to option_error(), which reads only the exception's attributes (`param`,
`option_name`): click's own `Usage:` line and message box never reach the user.
"""

import difflib

from gradcalc.errors import UsageError


class OptionError(UsageError):
    """A value that one of gradcalc's options does not take: the option and the value, the caret
    under the value."""

    says_column = False  # the caret is under a value on the command line, not in an expression


class TypedValue(str):
    """An option's value that gradcalc/argv.py took out of a cluster of short options (`-qo foo`,
    `-ofoo`), with the text the user typed for the option and the value, ending in the value: an
    error shows that text, not the `-o foo` that click was given."""

    typed: str

    def __new__(cls, value: str, typed: str):
        text = super().__new__(cls, value)
        text.typed = typed
        return text


def at_value(message: str, option: str, value: str, hint: str | None, shown: str | None = None,
             within: tuple[int, int] | None = None, kind: type = OptionError) -> UsageError:
    """The error `shown: message` ("--precision 0: ..."), the caret under `value` at the end of `shown`
    (by default the option and the value as two arguments), or under the characters `within` of the
    value. The one way every option's value is shown in an error, whatever module refuses it: click's
    errors here, the values of variables (values.py: `kind` ValueFormatError), --sweep, --jvp ..."""
    if shown is None:
        value = value or "''"  # an empty value, seen
        shown = f"{option} {value}"
    start = len(shown) - len(value)
    span = (start, len(shown)) if within is None else (start + within[0], start + within[1])
    error = kind(f"{shown}: {message}", hint=hint, source=shown, span=span)
    error.says_column = False  # the caret is under a value on the command line, not in an expression
    return error


def option_error(error, args: list, params: list) -> UsageError:
    """gradcalc's error for click's `error` (BadParameter, BadOptionUsage ...), raised while parsing
    `args` (argv as click saw it: our options, then '--' and the expressions) for a command of `params`."""
    param = getattr(error, "param", None)
    name = getattr(error, "option_name", None)
    if param is None and name:
        param = next((p for p in params if name in (*p.opts, *getattr(p, "secondary_opts", ()))), None)
    given = None if param is None else _given(args, param)
    if given is None:  # nothing of ours says more than click's message
        return UsageError(error.format_message(), hint="see gradcalc --help")
    option, value, shown = given
    if _is_flag(param):
        variable = option[2:]
        hint = f"write {option} alone: it is a switch"
        if variable.isidentifier():
            hint += f"; for a variable named {variable}, write --var {variable}={value}"
        return at_value(f"{option} takes no value", option, value, hint, shown)
    kind = param.type
    choices = getattr(kind, "choices", None)
    if choices is not None:
        choices = [str(getattr(choice, "value", choice)) for choice in choices]
        close = difflib.get_close_matches(value.lower(), choices, n=1, cutoff=0.6)
        hint = (f"{option} takes {', '.join(choices[:-1])} or {choices[-1]}"
                + (f"; did you mean {option} {close[0]}?" if close else ""))
        return at_value(f"{value!r} is not one of {option}'s choices", option, value, hint, shown)
    if hasattr(kind, "min"):  # a range of whole numbers (click's IntRange)
        low, high = _bounds(kind)
        hint = f"give {option} {_whole_numbers(low, high)}"
        try:
            number = int(value)
        except ValueError:
            return at_value(f"{value!r} is not a whole number", option, value, hint, shown)
        below = low is not None and number < low
        return at_value(f"{number} is {'less' if below else 'more'} than {low if below else high}",
                        option, value, hint, shown)
    return at_value(error.format_message(), option, value, "see gradcalc --help", shown)


def about_option(error: UsageError, name: str, whole: bool = False) -> UsageError:
    """`error`, refusing the option of the command's parameter `name` (output_format, check): where
    the command line is at hand (cli.py), pointed_at shows that option as typed, the caret under its
    value (-o csv), or under all of it when the option itself is refused (`whole`: --graph g.svg)."""
    error.about_option, error.about_whole_option = name, whole
    return error


def pointed_at(error, args: list, params: list):
    """`error` with the option it is about (about_option) as the user typed it in `args` (argv as
    click saw it) and the caret under its value, or under a flag itself; as it is when it has a
    place already, or the option is not in `args`."""
    name = getattr(error, "about_option", None)
    param = next((p for p in params if p.name == name), None)
    if param is None or error.source is not None:
        return error
    if _is_flag(param):
        typed = [token for token in args[:args.index("--")] if token in param.opts] if "--" in args else []
        if not typed:
            return error
        shown, start = typed[-1], 0
    else:
        given = _given(args, param)
        if given is None:
            return error
        option, value, shown = given
        shown = shown or f"{option} {value}"
        start = 0 if error.about_whole_option else len(shown) - len(value)
    error.source, error.span, error.says_column = shown, (start, len(shown)), False
    return error


def _given(args: list, param) -> tuple | None:
    """(the option, its value, the text the user typed for both or None) for the last time `param` was given a value in
    `args` (the last value is the one an option that is given twice keeps); None if never."""
    opts = (*param.opts, *getattr(param, "secondary_opts", ()))
    takes_value = not _is_flag(param)
    found, i = None, 0
    while i < len(args) and args[i] != "--":
        token = args[i]
        flag, equals, text = token.partition("=")
        if equals and flag.startswith("--") and flag in opts:
            found = (flag, text, token)
        elif token in opts and takes_value and i + 1 < len(args):
            found = (token, args[i + 1], getattr(args[i + 1], "typed", None))  # -qo foo as typed
            i += 1
        i += 1
    return found


def _is_flag(param) -> bool:
    return bool(getattr(param, "is_flag", False) or getattr(param, "count", False))


def _bounds(kind) -> tuple:
    """The smallest and largest whole number a range takes (None: no bound)."""
    low, high = kind.min, kind.max
    if low is not None and getattr(kind, "min_open", False):
        low += 1
    if high is not None and getattr(kind, "max_open", False):
        high -= 1
    return low, high


def _whole_numbers(low, high) -> str:
    if low is not None and high is not None:
        return f"a whole number from {low} to {high}"
    if low is not None:
        return f"a whole number of at least {low}"
    return "a whole number" if high is None else f"a whole number of at most {high}"
