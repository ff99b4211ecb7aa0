"""What the command runs, once its options are read: jobs from arguments, files and pipes (each
evaluated and rendered), --data, --sweep and the interactive session; messages on stderr.
Typer stays in cli.py, which builds Options and calls run_jobs, run_over_data, run_sweep or
run_interactive."""

import gc
import os
import sys
from dataclasses import dataclass, replace
from functools import cache
from typing import Callable

from gradcalc.argv import add_var, did_you_mean
from gradcalc.derivative_options import SESSION, check_derivative_options, parse_direction, run_diff
from gradcalc.errors import (
    GradcalcError,
    MissingValueError,
    OutputError,
    UsageError,
    ValueFormatError,
    command_line_values,
    missing_value_hint,
)
from gradcalc.formatting import encodable, message_lines, message_width
from gradcalc.jobs import Job, argument_jobs, line_jobs, open_input
from gradcalc.render_progress import with_progress
from gradcalc.unused_values import mistyped_switch_error, not_used_warning, refuse_mistyped_switches
from gradcalc.values import MAX_ELEMENTS, parse_value

# main() sets it when it runs the process's own command line (argv None: the console script,
# python -m gradcalc), which ends when main returns; a caller passing argv (tests) never freezes
FREEZE_SETUP = {"enabled": False}


@dataclass(frozen=True)
class Options:
    """How to run and print the jobs."""

    output_format: str
    wrt: tuple
    precision: int | None
    nodes: bool | None
    quiet: bool
    fail_fast: bool
    check: bool
    seed_grad: str | None
    full: bool
    matrix: tuple | None  # ("correlation" or "covariance", file) for inputs with uncertainties
    graph_file: str | None = None
    order: int = 1
    jacobian: bool = False
    jvp: tuple = ()
    hvp: tuple = ()
    diff: str | None = None
    explain: bool = False
    max_elements: int = MAX_ELEMENTS
    # the command's options -> their metavars (cli.py's, from Typer), for hints and near misses
    own_options: Callable[[], dict] = dict
    explain_only: bool = False  # the session's :explain in a table: the steps alone, the result is shown already

    def __post_init__(self):
        if any(not name.strip() for name in self.wrt):  # `--wrt ""`, `--wrt "$unset"`: no name to look for
            raise UsageError("--wrt '': the name of a variable is empty",
                             hint="give --wrt a variable of the expression (--wrt x), or leave --wrt out "
                                  "to report every gradient")

    def extra_columns(self):
        """(order, jvp, hvp, jacobian): what CSV/TSV add columns for."""
        return self.order, bool(self.jvp), bool(self.hvp), self.jacobian


def _numbers(values: dict, var: list, options: "Options") -> tuple[dict, dict]:
    """Every --NAME VALUE and --var NAME=VALUE, parsed: (values, standard uncertainties of `--x 5±0.2`).
    A near miss of an option's name is said."""
    values = dict(values)
    for item in var:
        add_var(values, item)
    numbers, sigmas = {}, {}
    for name, text in values.items():
        try:
            if "±" in text or "+-" in text:
                from gradcalc.uncertainty import split_uncertain

                text, sigma = split_uncertain(name, text)
                if sigma is not None:
                    sigmas[name] = sigma
            numbers[name] = parse_value(name, text, options.max_elements)
        except ValueFormatError as error:
            suggestion = did_you_mean(name, options.own_options())
            if suggestion:
                error.hint = f"{suggestion} (--{name} is read as a variable); {error.hint}"
            raise
    return numbers, sigmas


def _correlation(options: "Options"):
    """The --correlation/--covariance matrix, read once for every job."""
    if options.matrix is None:
        return None
    from gradcalc.uncertainty_files import read_matrix

    kind, path = options.matrix
    return read_matrix(path, kind)


def run_over_data(values: dict, var: list, expressions: list, path: str, chunk_rows: int, options: Options) -> int:
    """--data: one expression at every row of a file, written as csv (default), tsv or jsonl."""
    if len(expressions) != 1:
        raise UsageError("--data needs exactly one expression")
    numbers, sigmas = _numbers(values, var, options)
    refuse_mistyped_switches(values, expressions, options.own_options())
    from gradcalc.data import run_data

    try:
        return run_data(expressions[0], path, chunk_rows, (numbers, sigmas, _correlation(options)), options,
                        (sys.stdin, sys.stdout), None if options.quiet else warn, options.own_options)
    except BrokenPipeError:
        reader_gone()
        return 0


def run_sweep(values: dict, var: list, expressions: list, sweeps: list, plot: str | None, explicit: bool,
               chunk_rows: int, options: Options) -> int:
    """--sweep (and --plot): one expression along a range or a grid."""
    if not sweeps:
        raise UsageError("--plot draws along a --sweep", hint='gradcalc "ln(x)" --sweep x=0:5:101 --plot')
    if len(expressions) != 1:
        raise UsageError("--sweep needs exactly one expression")
    from gradcalc import parse
    from gradcalc.sweep import Sweep, SweepOutput, parse_axis, show_sweep

    numbers, sigmas = _numbers(values, var, options)
    refuse_mistyped_switches(values, expressions, options.own_options())
    if sigmas or options.matrix:
        raise UsageError("--sweep takes plain values, not uncertainties (±, --correlation, --covariance)",
                         hint="sweep the value itself, or use --data with sigma_<name> columns")
    sweep = Sweep(parse(expressions[0]), [parse_axis(text) for text in sweeps], numbers, options.wrt,
                  options.order)
    color = "NO_COLOR" not in os.environ and sys.stdout.isatty()
    how = SweepOutput.choose(options.output_format, explicit, plot, options.precision, color, options.quiet)
    try:
        return show_sweep(sweep, sys.stdout, sys.stderr, how, chunk_rows)
    except BrokenPipeError:
        reader_gone()
        return 0


def run_interactive(values: dict, var: list, options: Options) -> int:
    """No expression, standard input a terminal: the interactive session (gradcalc/session.py)."""
    numbers, sigmas = _numbers(values, var, options)
    seed = None if options.seed_grad is None else parse_value("seed-grad", options.seed_grad, options.max_elements)
    correlation = _correlation(options)
    from gradcalc.session import Recorder, run_session

    # the csv or tsv header the rows printed so far are under: a line with the same columns adds
    # only its row, so that a session's results make one file (`gradcalc -o csv > results.csv`)
    above = {"format": None, "header": None}

    def run_job(job: Job, settings: dict) -> tuple:
        """(exit code, the job's Result or None) under the session's current settings."""
        current = replace(options, **settings)
        try:
            check_derivative_options(current, SESSION)
        except GradcalcError as error:
            report_error(error)
            return error.exit_code, None
        delimited = current.output_format in ("csv", "tsv")
        follows = {"follows": above["header"]} if delimited and above["format"] == current.output_format else {}
        uncertain = _uncertain_in([job.text], (), correlation) if delimited and current.wrt else []
        renderer = Recorder(_renderer(current, False, uncertain, **follows))
        # the session spells every value in the job's text, so that :save replays it alone
        code = _run_job(renderer, job, {}, False, current, seed, ({}, correlation))[0]
        renderer.close()
        above.update(format=current.output_format, header=getattr(renderer, "header", None) if delimited else None)
        return code, renderer.last

    try:
        return run_session(run_job, options, numbers, sigmas)
    except BrokenPipeError:  # gradcalc | head -3: the reader of the results has gone, as in a batch
        reader_gone()
        return 0


def _uncertain_in(texts: list, sigmas, correlation) -> list:
    """The inputs given ± in jobs known before they run, for the csv/tsv columns that --wrt fixes
    at once: those of the options (`sigmas`), the matrix's, and the `a = 1 ± 0.1` bindings of the
    `texts` (expression arguments, a session's line, which spells every value)."""
    names = {*sigmas, *getattr(correlation, "sigmas", ())}
    for text in texts:  # the parser is imported at the first job otherwise (a start without texts waits for it)
        try:
            names.update(_engine()[0](text).sigmas)
        except GradcalcError:  # the job reports it when it runs
            pass
    return sorted(names)


def run_jobs(values: dict, var: list, expressions: list, file: str | None, input_format: str,
         options: Options) -> int:
    numbers, sigmas = _numbers(values, var, options)
    check_derivative_options(options)
    suspects = refuse_mistyped_switches(values, expressions if file is None and "-" not in expressions else None,
                                        options.own_options())
    seed = None if options.seed_grad is None else parse_value("seed-grad", options.seed_grad, options.max_elements)
    uncertain = (sigmas, _correlation(options))

    with open_input(expressions, file) as stream:
        if stream is None:
            jobs, batch = argument_jobs(expressions), len(expressions) > 1
        else:
            jobs, batch = line_jobs(with_progress(stream, options.quiet), input_format), True
        known = expressions if stream is None and options.wrt and options.output_format in ("csv", "tsv") else []
        uncertain_names = _uncertain_in(known, sigmas, uncertain[1])
        if not FREEZE_SETUP["enabled"]:
            renderer = _renderer(options, batch, uncertain_names)
        else:
            # making the table renderer imports Rich (~60 modules): nothing it allocates is garbage,
            # so the collector is off meanwhile (the table path's collections were ~1 ms of a start)
            gc.disable()
            try:
                renderer = _renderer(options, batch, uncertain_names)
            finally:
                # what is set up now (modules, the command, the renderer and Rich) lives until the
                # process exits: out of the cyclic collector's sight, neither the run's collections
                # nor the ones Python makes at exit walk it again (~10% of a one-shot start here)
                gc.freeze()
                gc.enable()
        worst, used, every_variable, all_names_known, seen = 0, set(), {}, True, set()
        try:
            for job in jobs:
                code, variables, names = _run_job(renderer, job, numbers, batch, options, seed, uncertain)
                worst = max(worst, code)
                if variables is None:
                    all_names_known = False  # the names of a line that did not parse are unknown
                else:
                    used.update(variables)
                    if suspects or not batch:  # each line's own names: only for these, not a cost per line else
                        seen.update(names)
                    if uncertain[1] is not None:  # only a matrix's warning needs them: not a cost per line else
                        for name, uncertain_here in names.items():  # with a σ on any line
                            every_variable[name] = every_variable.get(name, False) or uncertain_here
                if code and options.fail_fast:
                    all_names_known = False  # so are those of the lines never read
                    break
            renderer.close()
        except BrokenPipeError:
            reader_gone()
            return worst
    unused = [name for name in numbers if name not in used]
    mistyped = mistyped_switch_error(values, suspects, seen, batch) if suspects and all_names_known else None
    if mistyped is not None:  # a batch read from a file or a pipe: known only now
        report_error(mistyped)
        return max(worst, mistyped.exit_code)
    if unused and not options.quiet and all_names_known:
        for name in unused:
            warn(not_used_warning(name, values, options.own_options(), batch, None if batch else seen))
    matrix = uncertain[1]
    note = matrix.unused_note(every_variable, batch) if matrix is not None and all_names_known else None
    if note and not options.quiet:
        warn(note)  # once for the run: a line may leave out what another uses
    return worst


def _renderer(options: Options, batch: bool, uncertain: list, **more):
    """The renderer of the output format, from its module: the tables' (render_table) and the graph
    pictures' (render_graph, for dot, svg, png, tree) are loaded only for their own formats."""
    from gradcalc.render import RENDERERS

    if options.output_format == "table":
        from gradcalc.render_table import TableRenderer as output_renderer
    elif options.output_format in RENDERERS:
        output_renderer = RENDERERS[options.output_format]
    else:
        from gradcalc.render_graph import RENDERERS as PICTURE_RENDERERS

        output_renderer = PICTURE_RENDERERS[options.output_format]
    color = False if "NO_COLOR" in os.environ else None
    renderer = output_renderer(sys.stdout, wrt=options.wrt, precision=options.precision,
                               nodes=options.nodes, batch=batch, color=color,
                               check=options.check, full=options.full, uncertain=uncertain,
                               extra_columns=options.extra_columns(), quiet=options.quiet, **more)
    if options.graph_file is not None:
        from gradcalc.render_graph import PictureFile

        renderer = PictureFile(renderer, options.graph_file)
    return renderer


def reader_gone() -> None:
    """The reader of stdout went away (`| head -1`): stop quietly, with no error when Python exits."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _run_job(renderer, job: Job, numbers: dict, batch: bool, options: Options,
             seed=None, uncertain=({}, None)) -> tuple[int, list | None, list | None]:
    """Evaluate and render one job: (exit code, the variables it takes from options, {each of its
    variables: whether it has a σ}; both None when it did not parse). `uncertain` is (σ of option
    values, correlation matrix or None)."""
    parse, evaluate_graph, check_wrt = _engine()
    variables = names = None
    try:
        if job.error is not None:
            raise job.error
        graph = parse(job.text).shadow({**numbers, **job.values})  # `--e 3`: e is a variable
        names = dict.fromkeys(graph.variables, False)
        if options.wrt:
            check_wrt(options.wrt, graph.variables)  # before a renderer prints any of the job (a table's nodes)
        if options.diff is not None:
            return run_diff(renderer, job, graph, options), list(names), names  # values are not needed
        # the names taken from options, for the warning about options no job used (none given: none)
        variables = [name for name in graph.variables
                     if name not in graph.bindings and name not in job.values] if numbers else ()
        sigmas, correlation = uncertain
        # --wrt: only gradients that reach those must be finite, and those of inputs given ± (σ needs them)
        wanted = (*options.wrt, *sigmas, *graph.sigmas, *(correlation.sigmas if correlation is not None else ())) \
            if options.wrt else ()
        try:
            result = evaluate_graph(graph, {**numbers, **job.values} if job.values else numbers, seed, wanted)
        except MissingValueError as error:
            if any(f"--{name}" in options.own_options() for name in error.names):  # --format is ours: --var format=1
                error.hint = missing_value_hint(error.names, command_line_values(error.names, options.own_options()))
            raise
        if sigmas or graph.sigmas or correlation is not None:
            from gradcalc.uncertainty import uncertainty_of

            result.uncertainty = uncertainty_of(result, sigmas, job.values, correlation, options.order)
            names.update(dict.fromkeys(getattr(result.uncertainty, "sigmas", ()), True))
        if options.order > 1 or options.jacobian or options.jvp or options.hvp:
            from gradcalc.higher_order import add_to_result

            add_to_result(result, options.order, options.jacobian,
                          parse_direction(options.jvp, "jvp", options.max_elements, graph.variables),
                          parse_direction(options.hvp, "hvp", options.max_elements, graph.variables), options.wrt)
        code = 0
        if options.explain:
            from gradcalc.explain import explain

            result.explain = explain(result)
        if options.check:
            from gradcalc.check import gradient_check

            result.check = gradient_check(result, result.gradients_for(options.wrt))
            if options.order >= 2:  # second derivatives against differences of the gradient
                from gradcalc.check import CheckReport
                from gradcalc.check_hessian import hessian_check

                second = hessian_check(result, list(result.gradients_for(options.wrt)))
                result.check = CheckReport(result.check.rows + second.rows)
            if not result.check.passed:
                code = 1
                if not options.quiet:
                    _check_failed(result.check, job.line if batch else None)
        if options.explain_only and hasattr(renderer, "explanation"):
            renderer.explanation(result)
        else:
            renderer.result(result, job.line)
        return code, variables, names
    except OutputError:
        raise  # the output cannot be written: no later job's can either
    except GradcalcError as error:
        if not renderer.error(error, job.text, job.line):
            report_error(error, job.line if batch else None)
        return error.exit_code, variables, names


@cache
def _engine():
    """The parser and the evaluator, imported at the first job (--help and --version never need them)
    and once: a `from ... import` in a function costs ~1 µs a call, ~7% of a batch line."""
    from gradcalc.evaluator import check_wrt, evaluate_graph
    from gradcalc.parser import parse

    return parse, evaluate_graph, check_wrt


def _check_failed(report, line) -> None:
    where = f" (at line {line})" if line is not None else ""
    for row in report.rows:
        if row.verdict == "mismatch":
            _say(f"gradcalc: check failed{where}: ", f"∂/∂{row.name} is {row.analytic!r} by reverse mode but "
                 f"{row.numeric!r} by finite differences (relative error {row.rel_error:.2g})")


def warn(message: str) -> None:
    _say("gradcalc: warning: ", message)


def _say(lead: str, message: str) -> None:
    """`lead` and `message` on stderr, wrapped to the terminal's width between words."""
    message = encodable(message, sys.stderr.encoding)  # θ as \u03b8 before the width is measured
    sys.stderr.write(message_lines(lead, message, message_width(sys.stderr)) + "\n")


def report_error(error: GradcalcError, line=None) -> None:
    """An error on stderr in gradcalc's format (with the batch line it comes from), wrapped to the
    terminal's width."""
    sys.stderr.write(error.describe(line, sys.stderr.encoding, message_width(sys.stderr), "gradcalc: error: ") + "\n")
