"""The `gradcalc` command: argv, stdin and files in; results on stdout, messages on stderr;
exit codes (0 all jobs evaluated, 1 a job could not be evaluated numerically, 2 input not understood,
74 the output could not be written).

Variables arrive as `--NAME VALUE` options that no parser can know in advance, so
gradcalc/argv.py takes them (and expressions that start with '-') out of argv before Typer/click
parse the rest.
"""

import os
import sys
from enum import Enum
from functools import cache
from typing import List, Optional

import typer
import typer.core

from gradcalc import __version__, run
from gradcalc.argv import command_line
from gradcalc.checked_output import CheckedOutput, QuietMessages, blocking, discard_unwritten
from gradcalc.errors import GradcalcError, OutputError, UsageError
from gradcalc.option_errors import about_option, option_error, pointed_at
from gradcalc.run import (
    Options,
    reader_gone,
    report_error,
    run_interactive,
    run_jobs,
    run_over_data,
    run_sweep,
)
from gradcalc.values import MAX_ELEMENTS

INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug in gradcalc, never the input's fault


class InputFormat(str, Enum):
    text = "text"
    jsonl = "jsonl"


class Format(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"
    plain = "plain"
    dot = "dot"
    svg = "svg"
    png = "png"
    tree = "tree"
    latex = "latex"


class Panel:
    """The --help panels: a new option joins one with rich_help_panel=Panel.NAME (else: "Options")."""

    VARIABLES = "Variables"
    OUTPUT = "Output"
    DERIVATIVES = "Derivatives"  # for higher orders, Hessians, Jacobians, products
    JOBS = "Many jobs"
    ARRAYS = "Arrays and data"
    CHECKING = "Checking"
    UNCERTAINTY = "Uncertainty"
    SWEEPS = "Sweeps and plots"


_TYPED = "gradcalc.argv"  # ctx.meta's key for the arguments click parsed
# the base of click's errors, from a public name: Typer 0.2x parses with its own copy of click
_CLICK_ERROR = next(error for error in typer.BadParameter.__mro__ if error.__name__ == "ClickException")


class _Command(typer.core.TyperCommand):
    """Typer's command, with a help page that stops quietly when the reader goes (`--help | head -1`),
    and click's errors (`-o foo`, `--precision 0`) in gradcalc's format, not in click's box."""

    def make_context(self, info_name, args, parent=None, **extra):
        given = list(args)  # click's parser consumes the list
        try:
            made = super().make_context(info_name, args, parent, **extra)
        except _CLICK_ERROR as error:
            raise option_error(error, given, self.get_params(typer.Context(self))) from None
        made.meta[_TYPED] = given  # a later error about an option shows it as typed (option_errors.pointed_at)
        return made

    def format_help(self, ctx, formatter):
        _fold_long_help_words()
        try:
            super().format_help(ctx, formatter)
        except SystemExit:  # Rich's answer to a closed stdout: exit 1; a help page is exit 0
            raise typer.Exit(0) from None


def _fold_long_help_words() -> None:
    """An option's help wraps between words; a word longer than its column (∂output/∂NAME at 60
    columns) is folded onto the next line, not cut with '…' (Rich's default overflow for Typer's
    help cells) and lost. Typer has no setting for it: its help cells are set to fold as made."""
    from typer import rich_utils

    made = getattr(rich_utils, "_get_parameter_help", None)  # private: a later Typer may not have it
    if made is None or getattr(made, "folds", False):
        return  # then Typer's own cells, cut with '…' at narrow widths, rather than no help at all

    def folding(**options):
        cells = made(**options)
        for item in getattr(cells, "renderables", ()):
            if hasattr(item, "overflow"):  # Text (Markdown has no overflow)
                item.overflow = "fold"
        return cells

    folding.folds = True
    rich_utils._get_parameter_help = folding
    for name in ("highlighter", "negative_highlighter"):  # the option names' cells (--format at 40 columns)
        setattr(rich_utils, name, _Folding(getattr(rich_utils, name)))


class _Folding:
    """A Typer highlighter whose Text folds rather than ends in '…' where its column is narrower."""

    def __init__(self, highlighter):
        self.highlighter = highlighter

    def __call__(self, text):
        made = self.highlighter(text)
        made.overflow = "fold"
        return made

    def __getattr__(self, name):
        return getattr(self.highlighter, name)


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]})


def _print_page(text: str) -> None:
    """Print `text` on stdout and exit 0, quietly when the reader has gone."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        reader_gone()
    raise typer.Exit()


def _version(value: bool):
    if value:
        _print_page(f"gradcalc {__version__}\n")


def _syntax(value: bool):
    if value:
        from gradcalc.syntax import syntax_page

        _print_page(syntax_page(encoding=sys.stdout.encoding))


@app.command(cls=_Command, epilog="Exit codes: 0 every job evaluated; 1 a job could not be evaluated "
                                  "numerically; 2 the input was not understood; 74 the output could not be "
                                  "written.\n\n"
                                  "The expression syntax and the forms of values: gradcalc --syntax")
def gradcalc(
    ctx: typer.Context,
    expressions: Optional[List[str]] = typer.Argument(
        None, metavar="[EXPR]...", show_default=False,
        help="Expressions, e.g. \"c*d/(a-b)\"; statements separated by ';' (\"e = a - b; f = c*d; f/e\").",),
    var: Optional[List[str]] = typer.Option(
        None, "--var", metavar="NAME=VALUE", rich_help_panel=Panel.VARIABLES,
        help="A variable whose name is an option of gradcalc (--var format=2)."),
    output_format: Format = typer.Option(
        Format.table, "--format", "-o", metavar="FORMAT", show_default=False, rich_help_panel=Panel.OUTPUT,
        help="table (default), json, jsonl, csv, tsv, plain; dot, svg, png, tree (the graph); latex (--diff)."),
    wrt: Optional[List[str]] = typer.Option(
        None, "--wrt", metavar="NAME", rich_help_panel=Panel.OUTPUT,
        help="Report only ∂output/∂NAME (repeatable); with -o plain, one --wrt prints the bare number."),
    precision: Optional[int] = typer.Option(
        None, "--precision", min=1, max=17, metavar="N", rich_help_panel=Panel.OUTPUT,
        help="Significant digits in table and plain output (default: shortest exact)."),
    nodes: Optional[bool] = typer.Option(
        None, "--nodes/--no-nodes", show_default=False, rich_help_panel=Panel.OUTPUT,
        help="Per-node values and gradients (default: on for one job, off for many)."),
    full: bool = typer.Option(False, "--full", rich_help_panel=Panel.OUTPUT,
                              help="Print arrays whole, however large."),
    explain: bool = typer.Option(
        False, "--explain", rich_help_panel=Panel.OUTPUT,
        help="Show the chain rule step by step: upstream × local derivative for every use of "
             "every node (in the table; -o json/jsonl add \"explain\")."),
    tree: bool = typer.Option(False, "--tree", rich_help_panel=Panel.OUTPUT,
                              help="Draw the graph as a tree in the terminal (same as -o tree)."),
    graph_file: Optional[str] = typer.Option(
        None, "--graph", metavar="FILE", rich_help_panel=Panel.OUTPUT,
        help="Also draw the evaluated graph into FILE (.svg or .png through Graphviz's dot, or .dot text)."),
    file: Optional[str] = typer.Option(  # a str: Typer's Path type stats names, failing on NUL bytes
        None, "--file", "-f", metavar="FILE", rich_help_panel=Panel.JOBS,
        help="One job per line from FILE ('-': standard input); blank lines and # comments skipped."),
    input_format: InputFormat = typer.Option(
        InputFormat.text, "--input", metavar="text|jsonl", show_default=False, rich_help_panel=Panel.JOBS,
        help='Line format: text (default), or jsonl: {"expression": ..., "values": {...}}.'),
    fail_fast: bool = typer.Option(False, "--fail-fast", rich_help_panel=Panel.JOBS,
                                   help="Stop at the first job that fails."),
    seed_grad: Optional[str] = typer.Option(
        None, "--seed-grad", metavar="ARRAY", rich_help_panel=Panel.ARRAYS,
        help="Upstream gradient of an array output (default: ones, the gradient of its sum)."),
    max_elements: int = typer.Option(
        MAX_ELEMENTS, "--max-elements", min=1, metavar="N", show_default=False, rich_help_panel=Panel.ARRAYS,
        help=f"Refuse array values of more than N elements (default: {MAX_ELEMENTS:,})."),
    data: Optional[str] = typer.Option(
        None, "--data", metavar="FILE", rich_help_panel=Panel.ARRAYS,
        help="Evaluate at every row of FILE (.csv, .npy, .npz, .jsonl; - is stdin); writes csv, tsv or jsonl."),
    chunk_rows: int = typer.Option(65_536, "--chunk-rows", min=1, metavar="N", show_default=False,
                                   rich_help_panel=Panel.ARRAYS,
                                   help="Rows (points) per vectorized pass with --data and --sweep (default: 65,536)."),
    sweep: Optional[List[str]] = typer.Option(
        None, "--sweep", metavar="X=A:B:N", rich_help_panel=Panel.SWEEPS,
        help="Evaluate at N points of X from A to B (repeatable: a grid); writes a table, csv, tsv or jsonl."),
    plot: bool = typer.Option(False, "--plot", rich_help_panel=Panel.SWEEPS,
                              help="With --sweep: draw f and its derivatives in the terminal; "
                                   "--plot FILE.png|svg|pdf draws into a file."),
    plot_file: Optional[str] = typer.Option(None, "--plot-file", metavar="FILE", hidden=True),
    check: bool = typer.Option(
        False, "--check", rich_help_panel=Panel.CHECKING,
        help="Compare each derivative with central finite differences (exit 1 on a mismatch)."),
    correlation: Optional[str] = typer.Option(
        None, "--correlation", metavar="FILE", rich_help_panel=Panel.UNCERTAINTY,
        help="Correlations between inputs given with uncertainties (a JSON or CSV matrix of named rows)."),
    covariance: Optional[str] = typer.Option(
        None, "--covariance", metavar="FILE", rich_help_panel=Panel.UNCERTAINTY,
        help="Covariances of inputs (a JSON or CSV matrix): their uncertainties and correlations."),
    order: int = typer.Option(
        1, "--order", min=1, max=10, metavar="N", rich_help_panel=Panel.DERIVATIVES,
        help="Also every partial derivative of order 2..N in the --wrt variables (JSON key \"derivatives\")."),
    hessian: bool = typer.Option(False, "--hessian", rich_help_panel=Panel.DERIVATIVES, help="Same as --order 2."),
    jacobian: bool = typer.Option(False, "--jacobian", rich_help_panel=Panel.DERIVATIVES,
                                  help="The full Jacobian of an array output: shape(output) + shape(variable)."),
    jvp: Optional[List[str]] = typer.Option(
        None, "--jvp", metavar="x=1,y=0", rich_help_panel=Panel.DERIVATIVES,
        help="The directional derivative of the output along a direction (arrays allowed)."),
    hvp: Optional[List[str]] = typer.Option(
        None, "--hvp", metavar="x=1,y=0", rich_help_panel=Panel.DERIVATIVES,
        help="The Hessian times a direction, without forming the Hessian."),
    diff: Optional[str] = typer.Option(
        None, "--diff", metavar="NAME", rich_help_panel=Panel.DERIVATIVES,
        help="Print ∂output/∂NAME (the N-th with --order N) as an expression; -o latex for LaTeX. No values needed."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Silence warnings and the progress bar."),
    syntax: bool = typer.Option(False, "--syntax", callback=_syntax, is_eager=True,
                                help="Show the expression syntax, values and exit codes, and exit."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    """Evaluate an expression and its gradient in reverse mode: every node's value and
    ∂output/∂node, then ∂output/∂variable.

    Give each variable as --NAME VALUE or --NAME=VALUE (negative values are fine: --a -1).

    Example: gradcalc "c*d/(a-b)" --a 1 --b 2 --c 3 --d 4
    """
    matrix = ("covariance", covariance) if covariance is not None else ("correlation", correlation)
    options = Options("tree" if tree else output_format.value, tuple(wrt or ()), precision, nodes, quiet,
                      fail_fast, check, seed_grad, full, matrix if matrix[1] is not None else None, graph_file,
                      max(order, 2 if hessian else 1), jacobian, tuple(jvp or ()), tuple(hvp or ()), diff,
                      explain, max_elements, _own_options)
    if correlation is not None and covariance is not None:
        report_error(UsageError("give --correlation or --covariance, not both",
                                hint="a covariance matrix already holds the correlations"))
        raise typer.Exit(2)
    try:
        if tree and output_format not in (Format.table, Format.tree):
            raise about_option(UsageError(f"--tree draws a tree; it cannot be combined with -o {output_format.value}",
                                          hint="--tree is -o tree: give one of them"), "output_format")
        if explain and options.output_format not in ("table", "json", "jsonl"):
            raise about_option(UsageError(f"--explain shows in a table, json or jsonl, not -o {options.output_format}",
                                          hint="leave out -o for a table, or write -o json or -o jsonl"),
                               "output_format")
        if sweep or plot or plot_file:
            others = [param for param in ctx.command.params if param.name in _NOT_WITH_SWEEP
                      and ctx.get_parameter_source(param.name).name not in ("DEFAULT", "DEFAULT_MAP")]
            if others:
                raise about_option(UsageError(f"--sweep cannot be combined with {others[0].opts[0]}",
                                              hint=f"run --sweep and {others[0].opts[0]} separately"), others[0].name,
                                   whole=True)
            if plot_file is not None:
                from gradcalc.plot import file_format

                file_format(plot_file)  # a bad file name is an error before anything is evaluated
            explicit = ctx.get_parameter_source("output_format").name != "DEFAULT"
            code = run_sweep(ctx.obj or {}, var or [], expressions or [], sweep or [],
                              plot_file or ("terminal" if plot else None), explicit, chunk_rows, options)
        elif data is not None:
            _refuse_beside_data(ctx, options.output_format)
            code = run_over_data(ctx.obj or {}, var or [], expressions or [], data, chunk_rows, options)
        elif not expressions and file is None and sys.stdin is not None and sys.stdin.isatty():
            code = run_interactive(ctx.obj or {}, var or [], options)
        else:
            code = run_jobs(ctx.obj or {}, var or [], expressions or [], file, input_format.value, options)
    except GradcalcError as error:
        report_error(pointed_at(error, ctx.meta.get(_TYPED, []), ctx.command.params))
        code = error.exit_code
    raise typer.Exit(code)


# Options that mean nothing along a --sweep: given with it, they are refused, not ignored.
_NOT_WITH_SWEEP = {"data", "file", "graph_file", "tree", "check", "explain", "jacobian", "jvp", "hvp", "diff"}

# Options that mean something with --data; any other one given with it is refused, not ignored.
_DATA_OPTIONS = {"expressions", "data", "chunk_rows", "var", "output_format", "wrt", "quiet", "max_elements",
                 "correlation", "covariance", "order", "hessian"}


def _refuse_beside_data(ctx: typer.Context, output_format: str) -> None:
    """An option given with --data that means nothing per row is an error, not a silent no-op."""
    given = [param for param in ctx.command.params if param.name not in _DATA_OPTIONS
             and ctx.get_parameter_source(param.name).name not in ("DEFAULT", "DEFAULT_MAP")]
    if given:
        names = " and ".join("/".join([param.opts[0], *param.secondary_opts]) for param in given)
        raise about_option(UsageError(f"--data does not combine with {names}",
                         hint="with --data: -o csv|tsv|jsonl, --wrt, --var, --chunk-rows, --max-elements, "
                              "--correlation, --covariance, --order, -q"), given[0].name, whole=True)
    if ctx.get_parameter_source("output_format").name not in ("DEFAULT", "DEFAULT_MAP"):
        if output_format not in ("csv", "tsv", "jsonl"):
            raise about_option(UsageError(f"--data writes csv, tsv or jsonl, not {output_format}",
                                          hint="-o csv (the default with --data), -o tsv or -o jsonl"), "output_format")


@cache
def _command():
    return typer.main.get_command(app)


@cache
def _pages() -> frozenset:
    """The flags that print a page and exit: --help, --syntax, --version."""
    command = _command()
    params = command.get_params(typer.Context(command, **command.context_settings))
    return frozenset(opt for param in params if param.is_eager and param.param_type_name == "option"
                     for opt in param.opts)


@cache
def _own_options() -> dict[str, str | None]:
    """Every option string of the command (with -h/--help) -> the metavar of its value, None for a flag."""
    command = _command()
    options = {}
    for param in command.get_params(typer.Context(command, **command.context_settings)):
        if param.param_type_name == "option":
            takes_value = not param.is_flag and param.nargs != 0
            for opt in (*param.opts, *param.secondary_opts):
                options[opt] = (param.metavar or "VALUE") if takes_value else None
    return options


def main(argv: list | None = None) -> int:
    """Entry point of the console script and `python -m gradcalc`; returns the exit code."""
    run.FREEZE_SETUP["enabled"] = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = CheckedOutput(stdout)  # a full disk or a closed stdout: an OutputError, not a bug
    sys.stderr = QuietMessages(stderr)  # messages that cannot be shown change no exit code
    try:
        with blocking(sys.stdin), blocking(stdout), blocking(stderr):
            return _main(argv)
    except OutputError as error:
        discard_unwritten(stdout)
        report_error(error)
        return error.exit_code
    finally:
        sys.stderr.flush()  # here, not at exit: what cannot be written is dropped quietly
        sys.stdout, sys.stderr = stdout, stderr


def _main(argv: list) -> int:
    try:
        try:
            click_args, values = command_line(argv, _own_options(), _pages())
            # standalone: Typer reports its own usage errors (exit 2) and exits with typer.Exit's code
            _command().main(args=click_args, prog_name="gradcalc", obj=values)
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 0
        try:
            sys.stdout.flush()  # here, not at exit: a full disk is found while it can still be reported
        except BrokenPipeError:
            reader_gone()
        return code
    except OutputError:
        raise
    except GradcalcError as error:
        report_error(error)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug in gradcalc, not in the input: still no traceback
        if os.environ.get("GRADCALC_DEBUG"):
            raise
        sys.stderr.write(f"gradcalc: internal error: {type(error).__name__}: {error}\n"
                         "  this is a bug in gradcalc; please report it with the command line "
                         "(GRADCALC_DEBUG=1 shows the traceback)\n")
        return INTERNAL_ERROR
