"""gradcalc's argv before click reads it: variables (`--NAME VALUE`) taken out, clusters of short
options (`-qo plain`) taken apart, and expressions (which may start with '-') put after '--'.

Variables are options no parser can know in advance, so this runs first. It knows gradcalc's own
options only as a table {option string: the metavar of its value, or None for a flag}, given by
cli.py.
"""

import difflib
import re

from gradcalc.errors import ValueFormatError
from gradcalc.number_syntax import SIGNED_NUMBER
from gradcalc.option_errors import OptionError, TypedValue, at_value
from gradcalc.undecoded import UNDECODED, byte_of, not_utf8, readable

NAME = re.compile(r"[^\W\d]\w*")
_SHORT_START = re.compile(r"-[A-Za-z]")
# a name with a suffix (p.jpg, out/plot.jpeg) that no expression is: not a number's exponent (x*2.e3)
_FILE_NAME = re.compile(r"[^*+^()\[\],;=%@\s]+\.(?![eE][+-]?[0-9])[A-Za-z][A-Za-z0-9]*")
UTF8_HINT = "give it as UTF-8 text (from a UTF-8 terminal or script: LANG=C.UTF-8)"


def command_line(argv: list, options: dict[str, str | None], pages: frozenset) -> tuple[list, dict]:
    """split_argv, once `--plot FILE` is told from a `--plot` that stands before an expression."""
    rewritten, after_plot = _plot_file_argv(argv)
    click_args, values = split_argv(rewritten, options, pages)
    _refuse_undecoded(click_args, values, options)
    expressions = click_args[click_args.index("--") + 1:]
    if after_plot is not None and len(expressions) > 1 and after_plot in expressions:
        # `--sweep x=0:1:5 --plot out`: not "--sweep needs exactly one expression", but why there are two
        raise at_value("not a .png, .svg or .pdf file, so read as a second expression",
                       "--plot", after_plot, f"--plot {after_plot}.png (or .svg, .pdf) draws into a file; "
                                             "--plot alone draws in the terminal")
    return click_args, values


def _plot_file_argv(argv: list) -> tuple[list, str | None]:
    """(argv, the name after a bare --plot or None). `--plot FILE.png` and `--plot=FILE` name a
    picture file (the hidden --plot-file), and so does `--plot p.jpg`, a file name that cannot be
    an expression, so that its suffix is the error; a bare `--plot` draws in the terminal. Only such
    names are taken as the value, so `--plot` may stand before an expression."""
    if not any(token.startswith("--plot") for token in argv):
        return argv, None  # the usual case: no import of the plot module (and numpy)
    from gradcalc.plot import is_picture_file

    rewritten, after_plot, i = [], None, 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            rewritten.extend(argv[i:])
            break
        following = argv[i + 1] if i + 1 < len(argv) else ""
        if token.startswith("--plot="):
            rewritten += ["--plot-file", token[len("--plot="):]]
        elif token == "--plot" and (is_picture_file(following) or _FILE_NAME.fullmatch(following)):
            rewritten += ["--plot-file", following]
            i += 1
        else:
            if token == "--plot" and NAME.fullmatch(following):
                after_plot = following
            rewritten.append(token)
        i += 1
    return rewritten, after_plot


def split_argv(argv: list, options: dict[str, str | None], pages: frozenset = frozenset()) -> tuple[list, dict]:
    """(argv for click: our options, then '--' and the expressions; {variable name: value text}).

    Before '--': a token that is one of our options (or a cluster of our short options) is an
    option; `--NAME VALUE` and `--NAME=VALUE` are variables; anything else is an expression.
    After '--': our options are no longer options, but `--NAME VALUE` pairs are still variables.
    `pages` are the flags that print a page and exit (--help): whatever follows them is left alone.
    """
    own, expressions, values = [], [], {}
    literal = False  # after '--'
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--" and not literal:
            literal = True
        elif token.startswith("--") and len(token) > 2:
            flag, equals, text = token.partition("=")
            name = flag[2:]
            if flag in options and not literal:
                own.append(token)
                if options[flag] is not None and not equals:
                    own.append(_value_after(argv, i, flag, options[flag], options))
                    i += 1
                elif not equals and NAME.fullmatch(name) and flag not in pages:
                    _refuse_number_after_flag(argv, i, name)
            elif NAME.fullmatch(name):
                typed = token
                if not equals:
                    text = _value_after(argv, i, flag, "VALUE", options)
                    typed = f"{token} {text}"
                    i += 1
                add_value(values, name, text, typed)
            elif literal:
                expressions.append(token)
            else:
                _refuse_undecoded_value(token, token)  # --x\xff: said as the byte, not as '\udcff'
                raise OptionError(f"{token}: not an option and not a variable name", source=token,
                                  span=(0, len(flag)), hint=did_you_mean(name, options) or
                                  "variables are --NAME VALUE; see gradcalc --help")
        elif not literal and _SHORT_START.match(token) and _is_cluster(token, options):
            letters = token[1:]
            for k, letter in enumerate(letters):
                short = "-" + letter
                own.append(short)
                if options[short] is not None:
                    attached = letters[k + 1 :]  # -oplain: the rest of the token is the value
                    typed = token
                    if not attached:
                        attached = _value_after(argv, i, short, options[short], options)
                        typed = f"{token} {attached}"
                        i += 1
                    own.append(TypedValue(attached, typed))  # an error about it shows what was typed
                    break
        else:
            expressions.append(token)  # includes "-" (stdin) and expressions such as "-x*y"
        i += 1
    return own + ["--", *expressions], values


def _refuse_undecoded(click_args: list, values: dict, options: dict[str, str | None]) -> None:
    """Refuse a byte that is not UTF-8 (Python's '\\udcff') in an expression, a variable's value or
    one of our options' values, as a batch line that is not UTF-8 is refused; a file name (FILE)
    may hold any byte."""
    split = click_args.index("--")
    for expression in click_args[split + 1:]:
        error = not_utf8(expression, "the expression", UTF8_HINT)
        if error is not None:
            raise error
    own, i = click_args[:split], 0
    while i < len(own):  # as split_argv left them: an option, then its value unless attached (--format=json)
        flag, equals, value = own[i].partition("=")
        metavar = options.get(flag)
        if metavar is not None and not equals and i + 1 < len(own):
            i += 1
            value = own[i]
        if metavar not in (None, "FILE"):
            _refuse_undecoded_value(flag, value)
        i += 1
    for name, text in values.items():
        _refuse_undecoded_value(f"--{name}", text, ValueFormatError)


def _refuse_undecoded_value(option: str, value: str, kind: type = OptionError) -> None:
    """`--x 1\\xff: not valid UTF-8 (byte 0xff)`, the caret under the byte (the whole token when
    `option` is `value`, a name that is not UTF-8)."""
    found = UNDECODED.search(value)
    if found is None:
        return
    typed = readable(getattr(value, "typed", value if option == value else f"{option} {value}"))
    raise at_value(f"not valid UTF-8 ({byte_of(found)})", option, readable(value), UTF8_HINT, shown=typed,
                   within=(found.start(), found.end()), kind=kind)


def _is_cluster(token: str, options: dict[str, str | None]) -> bool:
    """Whether `token` is our short options as click reads them: flags (-q), then perhaps one that
    takes a value, with the value attached (-qo plain, -oplain, -fjobs.txt). Anything else that
    starts with '-' is an expression: -x*y, -q*x, -exp(x)."""
    for letter in token[1:]:
        short = "-" + letter
        if short not in options:
            return False
        if options[short] is not None:
            return True
    return True


def _value_after(argv: list, i: int, option: str, metavar: str, options: dict[str, str | None]) -> str:
    """The token after argv[i], the value of `option`; a missing value is an error, not the next option.
    Values may start with '-' (`--a -1`), but not be one of our options (`--wrt -o plain` would
    take `-o` as a name and evaluate `plain`)."""
    hint = f"write {option} {metavar}; see gradcalc --help"
    following = argv[i + 1] if i + 1 < len(argv) else "--"
    close = _closest_option(option[2:], options) if option not in options and following.startswith("-") else None
    if close is not None and (following.startswith("--") or _is_option(following, options)):
        # `--hesian` last, or before another option: not a variable without its value, an option mistyped
        raise mistyped_option_error(option[2:], argv[i], close, "",
                                    f"a variable {option[2:]} is given as {option} VALUE")
    if _is_option(following, options):
        if metavar == "FILE":
            hint = f"write {option} {metavar} (a file whose name starts with '-': ./{following}); see gradcalc --help"
        shown = f"{argv[i]} {following}"  # as typed: -qo --format, not -o --format
        raise OptionError(f"option {option} needs a value; {following} is an option", hint=hint,
                          source=shown, span=(len(argv[i]) + 1, len(shown)))
    if following.startswith("--"):
        raise OptionError(f"option {option} needs a value", hint=hint, source=argv[i], span=(0, len(argv[i])))
    return following


def _is_option(token: str, options: dict[str, str | None]) -> bool:
    """Whether gradcalc reads `token` as its own options (--format, --format=json, -o, -qo, -oplain)."""
    if token.startswith("--"):
        return token.partition("=")[0] in options
    return bool(_SHORT_START.match(token)) and _is_cluster(token, options)


def _refuse_number_after_flag(argv: list, i: int, name: str) -> None:
    """`--check 2` where the expression uses a variable `check`: say how to give it instead of
    silently taking --check as the flag and 2 as a second expression."""
    following = argv[i + 1] if i + 1 < len(argv) else ""
    if SIGNED_NUMBER.fullmatch(following):
        raise at_value(f"--{name} is one of gradcalc's options and takes no value", f"--{name}", following,
                       f"for a variable named {name}, write --var {name}={following}; to evaluate "
                       f"the expression {following}, put it before the options or after --")


def add_value(values: dict, name: str, text: str, typed: str | None = None) -> None:
    """values[name] = text, kept with how it was `typed` (--x 3, --x=3, --var x=3) for the error
    that shows both values of a variable given twice, the caret under the second."""
    typed = typed or f"--{name} {text}"
    if name in values:
        first = getattr(values[name], "typed", None) or f"--{name} {values[name]}"
        raise at_value(f"{name} is given twice", f"--{name}", typed, f"give each variable once: {first} or {typed}",
                       shown=f"{first} {typed}")
    values[name] = TypedValue(text, typed)


def add_var(values: dict, item: str) -> None:
    """--var NAME=VALUE, for a variable whose name is one of gradcalc's options."""
    name, equals, text = item.partition("=")
    if not equals or not NAME.fullmatch(name.strip()):
        raise at_value("expected NAME=VALUE", "--var", item, "for example --var format=2",
                       within=(0, len(name)) if equals else None)
    add_value(values, name.strip(), text, f"--var {item}")


def did_you_mean(name: str, options: dict[str, str | None]) -> str | None:
    """'did you mean --format?' when `name` (from --NAME) is a near miss of one of our long options;
    None for an option's own name (a variable given as --var format=2 is no typo of --format)."""
    close = _closest_option(name, options)
    return f"did you mean {close}?" if close else None


def mistyped_switch(name: str, options: dict[str, str | None]) -> str | None:
    """The switch, an option that takes no value (--hessian), that `--name` (--hesian) is a near
    miss of, or None."""
    close = _closest_option(name, options)
    return close if close is not None and options[close] is None else None


def mistyped_option_error(name: str, typed: str, option: str, nor: str, how: str) -> OptionError:
    """`--hesian is not one of gradcalc's options{nor}`, shown as `typed` (--chek 1, --chek=1) with
    the caret under --chek, the hint `did you mean --check?` (the `option`) and `how` to mean a variable."""
    return OptionError(f"--{name} is not one of gradcalc's options{nor}", hint=f"did you mean {option}? ({how})",
                       source=typed, span=(0, len(name) + 2))


def _closest_option(name: str, options: dict[str, str | None]) -> str | None:
    if f"--{name}" in options:
        return None
    longs = [option[2:] for option in options if option.startswith("--")]
    close = difflib.get_close_matches(name.replace("_", "-"), longs, n=1, cutoff=0.75)
    return f"--{close[0]}" if close else None
