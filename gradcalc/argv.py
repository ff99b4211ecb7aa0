"""gradcalc's argv before click reads it: variables (`--NAME VALUE`) taken out, clusters of short
options (`-qo plain`) taken apart, and expressions (which may start with '-') put after '--'.

Variables are options no parser can know in advance, so this runs first. It knows gradcalc's own
options only as a table {option string: the metavar of its value, or None for a flag}, given by
cli.py.
"""

import difflib
import re

from gradcalc.errors import UsageError

NAME = re.compile(r"[^\W\d]\w*")
BARE_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_SHORT_START = re.compile(r"-[A-Za-z]")


def command_line(argv: list, options: dict[str, str | None], pages: frozenset) -> tuple[list, dict]:
    """split_argv, once `--plot FILE` is told from a `--plot` that stands before an expression."""
    return split_argv(_plot_file_argv(argv), options, pages)


def _plot_file_argv(argv: list) -> list:
    """`--plot FILE.png` and `--plot=FILE` name a picture file (the hidden --plot-file); a bare
    `--plot` draws in the terminal. Only a picture's name is taken as the value, so `--plot` may
    stand before an expression."""
    if not any(token.startswith("--plot") for token in argv):
        return argv  # the usual case: no import of the plot module (and numpy)
    from gradcalc.plot import is_picture_file

    rewritten, i = [], 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            rewritten.extend(argv[i:])
            break
        if token.startswith("--plot="):
            rewritten += ["--plot-file", token[len("--plot="):]]
        elif token == "--plot" and i + 1 < len(argv) and is_picture_file(argv[i + 1]):
            rewritten += ["--plot-file", argv[i + 1]]
            i += 1
        else:
            rewritten.append(token)
        i += 1
    return rewritten


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
                    own.append(_value_after(argv, i, flag, options[flag]))
                    i += 1
                elif not equals and NAME.fullmatch(name) and flag not in pages:
                    _refuse_number_after_flag(argv, i, name)
            elif NAME.fullmatch(name):
                if not equals:
                    text = _value_after(argv, i, flag, "VALUE")
                    i += 1
                add_value(values, name, text)
            elif literal:
                expressions.append(token)
            else:
                raise UsageError(f"{token}: not an option and not a variable name",
                                 hint=did_you_mean(name, options) or
                                 "variables are --NAME VALUE; see gradcalc --help")
        elif not literal and _SHORT_START.match(token) and _is_cluster(token, options):
            letters = token[1:]
            for k, letter in enumerate(letters):
                short = "-" + letter
                own.append(short)
                if options[short] is not None:
                    attached = letters[k + 1 :]  # -oplain: the rest of the token is the value
                    if not attached:
                        attached = _value_after(argv, i, short, options[short])
                        i += 1
                    own.append(attached)
                    break
        else:
            expressions.append(token)  # includes "-" (stdin) and expressions such as "-x*y"
        i += 1
    return own + ["--", *expressions], values


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


def _value_after(argv: list, i: int, option: str, metavar: str) -> str:
    """The token after argv[i], the value of `option`; a missing value is an error, not the next option."""
    if i + 1 >= len(argv) or argv[i + 1].startswith("--"):
        raise UsageError(f"option {option} needs a value", hint=f"write {option} {metavar}; see gradcalc --help")
    return argv[i + 1]


def _refuse_number_after_flag(argv: list, i: int, name: str) -> None:
    """`--check 2` where the expression uses a variable `check`: say how to give it instead of
    silently taking --check as the flag and 2 as a second expression."""
    following = argv[i + 1] if i + 1 < len(argv) else ""
    if BARE_NUMBER.fullmatch(following):
        raise UsageError(f"--{name} is one of gradcalc's options and takes no value (--{name} {following})",
                         hint=f"for a variable named {name}, write --var {name}={following}; to evaluate "
                              f"the expression {following}, put it before the options or after --")


def add_value(values: dict, name: str, text: str) -> None:
    if name in values:
        raise UsageError(f"--{name} is given twice", hint="give each variable once")
    values[name] = text


def add_var(values: dict, item: str) -> None:
    """--var NAME=VALUE, for a variable whose name is one of gradcalc's options."""
    name, equals, text = item.partition("=")
    if not equals or not NAME.fullmatch(name.strip()):
        raise UsageError(f"--var {item}: expected NAME=VALUE", hint="for example --var format=2")
    add_value(values, name.strip(), text)


def did_you_mean(name: str, options: dict[str, str | None]) -> str | None:
    """'did you mean --format?' when `name` (from --NAME) is a near miss of one of our long options."""
    longs = [option[2:] for option in options if option.startswith("--")]
    close = difflib.get_close_matches(name.replace("_", "-"), longs, n=1, cutoff=0.75)
    return f"did you mean --{close[0]}?" if close else None
