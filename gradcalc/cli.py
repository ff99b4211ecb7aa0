"""The `gradcalc` command: argv, stdin and files in; results on stdout, messages on stderr;
exit codes (0 all jobs evaluated, 1 a job could not be evaluated numerically, 2 input not understood).

Variables arrive as `--NAME VALUE` options that no parser can know in advance, so `split_argv`
takes them (and expressions that start with '-') out of argv before Typer/click parse the rest.
"""

import os
import re
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from gradcalc import __version__
from gradcalc.errors import GradcalcError, UsageError, ValueFormatError

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NAME = re.compile(r"[^\W\d]\w*")


class Format(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"
    plain = "plain"


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]})


def _version(value: bool):
    if value:
        print(f"gradcalc {__version__}")
        raise typer.Exit()


@app.command(epilog="Exit codes: 0 every job evaluated; 1 a job could not be evaluated numerically "
                    "(domain error, division by zero, non-finite value); 2 the input was not understood.")
def gradcalc(
    ctx: typer.Context,
    expressions: Optional[List[str]] = typer.Argument(
        None, metavar="[EXPR]...", show_default=False,
        help="Expressions to evaluate, e.g. \"c*d/(a-b)\". Statements are separated by ';' "
             "(\"e = a - b; f = c*d; f/e\"); 'a = 1' binds a value on the line."),
    output_format: Format = typer.Option(Format.table, "--format", "-o", help="Output format."),
    wrt: Optional[List[str]] = typer.Option(
        None, "--wrt", metavar="NAME",
        help="Report only ∂output/∂NAME (repeatable). With -o plain and one --wrt: the bare number."),
    precision: Optional[int] = typer.Option(
        None, "--precision", min=1, max=17, metavar="N",
        help="Significant digits in table and plain output (default: shortest exact). JSON keeps full precision."),
    var: Optional[List[str]] = typer.Option(
        None, "--var", metavar="NAME=VALUE",
        help="Give a variable's value; for names that collide with an option (--var format=2)."),
    nodes: Optional[bool] = typer.Option(
        None, "--nodes/--no-nodes", show_default=False,
        help="Per-node values and gradients (default: on for one expression, off for a batch)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Silence warnings."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    """Evaluate an expression and its gradient in reverse mode: every node's value and
    ∂output/∂node, then ∂output/∂variable.

    Give each variable as --NAME VALUE or --NAME=VALUE (negative values are fine: --a -1).

    Example: gradcalc "c*d/(a-b)" --a 1 --b 2 --c 3 --d 4
    """
    try:
        code = _run(ctx.obj or {}, expressions or [], output_format.value, wrt or [], precision,
                    var or [], nodes, quiet)
    except GradcalcError as error:
        _error(error)
        code = error.exit_code
    raise typer.Exit(code)


def _run(values: dict, expressions: list, output_format: str, wrt: list, precision, var: list,
         nodes, quiet: bool) -> int:
    values = dict(values)
    for item in var:
        name, equals, text = item.partition("=")
        if not equals or not _NAME.fullmatch(name.strip()):
            raise UsageError(f"--var {item}: expected NAME=VALUE", hint="for example --var format=2")
        _add_value(values, name.strip(), text)
    numbers = {name: _parse_value(name, text) for name, text in values.items()}

    jobs = _jobs(expressions)
    batch = len(jobs) != 1
    from gradcalc.render import RENDERERS

    color = False if "NO_COLOR" in os.environ else None
    renderer = RENDERERS[output_format](sys.stdout, wrt=wrt, precision=precision, nodes=nodes,
                                              batch=batch, color=color)
    worst, used, all_parsed = 0, set(), True
    for line, text in jobs:
        code, variables = _run_job(renderer, text, line if batch else None, numbers, wrt)
        worst = max(worst, code)
        if variables is None:
            all_parsed = False  # the names of a line that did not parse are unknown
        else:
            used.update(variables)
    renderer.close()
    unused = [name for name in numbers if name not in used]
    if unused and not quiet and all_parsed:
        for name in unused:
            _warn(f"--{name} is not used by the expression" + ("s" if batch else ""))
    return worst


def _run_job(renderer, text: str, line, numbers: dict, wrt) -> tuple[int, list | None]:
    """Evaluate and render one job: (exit code, the variables it takes from options or None)."""
    from gradcalc import parse
    from gradcalc.evaluator import evaluate_graph

    variables = None
    try:
        graph = parse(text)
        variables = [name for name in graph.variables if name not in graph.bindings]
        renderer.result(evaluate_graph(graph, numbers), line)
        return 0, variables
    except GradcalcError as error:
        if not renderer.error(error, text, line):
            _error(error, line)
        return error.exit_code, variables


def _jobs(expressions: list) -> list:
    """(line number, text) for each job. Expression arguments are numbered 1, 2, ... in order."""
    if not expressions:
        raise UsageError("no expression given", hint='gradcalc "c*d/(a-b)" --a 1 --b 2 --c 3 --d 4')
    return list(enumerate(expressions, start=1))


def _add_value(values: dict, name: str, text: str) -> None:
    if name in values:
        raise UsageError(f"--{name} is given twice", hint=f"give each variable once")
    values[name] = text


def _parse_value(name: str, text: str) -> float:
    if not _NUMBER.fullmatch(text.strip()):
        raise ValueFormatError(f"--{name} {text!r}: not a number",
                               hint=f"write a decimal number such as --{name} -1.5 or --{name} 2e-3")
    return float(text)


def _warn(message: str) -> None:
    sys.stderr.write(f"gradcalc: warning: {message}\n")


def _error(error: GradcalcError, line=None) -> None:
    sys.stderr.write(f"gradcalc: error: {error.describe(line)}\n")


def _own_options() -> dict[str, bool]:
    """Every option string of the command -> whether it takes a value."""
    command = typer.main.get_command(app)
    options = {}
    for param in command.get_params(typer.Context(command)):
        if param.param_type_name == "option":
            for opt in (*param.opts, *param.secondary_opts):
                options[opt] = not param.is_flag and param.nargs != 0
    return options


def split_argv(argv: list, options: dict[str, bool]) -> tuple[list, dict]:
    """Separate `--NAME VALUE` variables from gradcalc's own options and the expressions.

    Returns (argv for click, with expressions after '--'; {name: value text}). A token that starts
    with '-' and is not one of our options is an expression ("-x*y") or, after --NAME, a value.
    """
    own, expressions, values = [], [], {}
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            expressions.extend(argv[i + 1 :])
            break
        if token.startswith("--"):
            name, equals, text = token[2:].partition("=")
            if token.partition("=")[0] in options:
                own.append(token)
                if options[token.partition("=")[0]] and not equals and i + 1 < len(argv):
                    own.append(argv[i + 1])
                    i += 1
            elif _NAME.fullmatch(name):
                if not equals:
                    if i + 1 >= len(argv):
                        raise UsageError(f"--{name} needs a value", hint=f"--{name} 1.5")
                    text = argv[i + 1]
                    i += 1
                _add_value(values, name, text)
            else:
                raise UsageError(f"{token}: not an option and not a variable name",
                                 hint="variables are --NAME VALUE; see gradcalc --help")
        elif token.startswith("-") and len(token) > 1 and token[:2] in options:
            own.append(token)
            if options[token[:2]] and len(token) == 2 and i + 1 < len(argv):
                own.append(argv[i + 1])
                i += 1
        else:
            expressions.append(token)  # includes "-" (stdin) and expressions such as "-x*y"
        i += 1
    return own + ["--", *expressions], values


def main(argv: list | None = None) -> int:
    """Entry point of the console script and `python -m gradcalc`; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        click_args, values = split_argv(argv, _own_options())
        # standalone: Typer reports its own usage errors (exit 2) and exits with typer.Exit's code
        typer.main.get_command(app).main(args=click_args, prog_name="gradcalc", obj=values)
        return 0
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 0
    except GradcalcError as error:
        _error(error)
        return error.exit_code
    except BrokenPipeError:
        # the reader went away (`| head -1`): stop quietly, without a second error at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
