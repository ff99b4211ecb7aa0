"""--sweep NAME=START:STOP:COUNT: an expression and every ∂f/∂variable along a range (several
--sweep give a grid), the other variables fixed at their given values.

The swept variables are numpy arrays: one vectorized forward and backward per chunk of points, so a
sweep runs at the array path's speed and memory stays flat however many points. Every variable is
bound to an array of the chunk's length, so each point gets its own gradient (a fixed variable's
gradient, too, is one number per point, not their sum).

A point where the expression is not defined (ln(x) at x <= 0, 1/x at 0) or not finite is a gap — an
empty cell, a break in a plot — never a failure of the whole sweep. Numpy marks such points with inf
or nan on the way forward, so a chunk that fails is evaluated again without its non-finite points;
what still fails (a derivative that is infinite at an isolated point: sqrt(x) at 0) is halved until
the failing points stand alone.
"""

import itertools
import math
import re
from dataclasses import dataclass, field

import numpy as np

from gradcalc.errors import EvaluationError, GradcalcError, UsageError, variables_hint
from gradcalc.evaluator import bind, check_wrt, evaluate_graph
from gradcalc.formatting import encodable, format_number, message_lines, message_width
from gradcalc.graph import Graph
from gradcalc.option_errors import about_option, at_value
from gradcalc.values import number

CHUNK_POINTS = 65_536
_SPEC = re.compile(r"\s*([^\W\d]\w*)\s*=\s*([^:]*):([^:]*):([^:]*)\s*")


@dataclass(frozen=True)
class Axis:
    """One swept variable: `count` evenly spaced points from `start` to `stop`, both included."""

    name: str
    start: float
    stop: float
    count: int
    text: str = field(default="", compare=False)  # as given to --sweep, for an error's caret

    def refused(self, message: str, hint: str) -> UsageError:
        """The error `--sweep x=0:1:5: message`, the caret under the axis's name."""
        text = self.text or f"{self.name}={format_number(self.start)}:{format_number(self.stop)}:{self.count}"
        start = len(text) - len(text.lstrip())
        return at_value(message, "--sweep", text, hint, within=(start, start + len(self.name)), kind=UsageError)

    def points(self, indices: np.ndarray) -> np.ndarray:
        """The points at `indices`, exactly as np.linspace(start, stop, count)[indices] (the same
        start + i * step), without building the whole range: a long sweep keeps flat memory."""
        step = (self.stop - self.start) / max(self.count - 1, 1)
        points = indices * step + self.start
        points[indices == self.count - 1] = self.stop if self.count > 1 else self.start
        return points


def parse_axis(text: str) -> Axis:
    """NAME=START:STOP:COUNT, e.g. x=-5:5:101."""
    hint = "write --sweep NAME=START:STOP:COUNT, for example --sweep x=-5:5:101"

    def refused(message: str, *groups: int, why: str | None = None) -> UsageError:  # the caret under those groups
        within = (match.start(groups[0]), match.end(groups[-1])) if groups else None
        return at_value(message, "--sweep", text, why or hint, within=within)

    match = _SPEC.fullmatch(text)
    if match is None:
        raise refused("expected NAME=START:STOP:COUNT")
    name, start, stop, count = match.groups()
    for group, bound in ((2, start), (3, stop)):
        if any(word in bound.lower() for word in ("inf", "nan")):
            raise refused("START and STOP must be finite numbers", group)
    for group, part in ((2, start), (3, stop), (4, count)):
        try:  # as --x reads a number: ASCII digits, and nothing a double cannot hold (1e-400 is no silent 0)
            number(part)
        except ValueError as error:
            raise refused(f"START, STOP and COUNT must be numbers: {error}", group,
                          why=getattr(error, "hint", None)) from None
    start, stop, count = number(start), number(stop), number(count)
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise refused("START and STOP must be finite numbers", 2, 3)
    if not count.is_integer() or count < 1:
        raise refused("COUNT must be a whole number of points, at least 1", 4)
    return Axis(name, start, stop, int(count), text)


class Sweep:
    """An expression at every point of a grid of axes, chunk by chunk: the columns of the swept
    variables, then value and one gradient per variable (nan where a point is a gap)."""

    def __init__(self, graph: Graph, axes: list[Axis], values: dict, wrt=(), order: int = 1):
        self.graph, self.axes = graph, axes
        names = [axis.name for axis in axes]
        for axis in axes:
            name = axis.name
            if names.count(name) > 1:
                again = axes[names.index(name, names.index(name) + 1)]  # the caret under the second
                raise again.refused(f"{name} is given twice", "sweep each variable once (a grid sweeps several: "
                                                              "--sweep x=0:1:5 --sweep y=0:1:5)")
            if name not in graph.variables:
                raise axis.refused(f"the expression has no variable {name}",
                                   variables_hint(name, graph.variables, "--sweep "))
            if name in graph.bindings:
                raise axis.refused(f"the line binds {name} itself ({name} = {format_number(graph.bindings[name])})",
                                   f"remove '{name} = ...' from the line")
            if name in values:
                raise axis.refused(f"--{name} and --sweep both give {name} a value", "give one of them")
        for name, value in values.items():
            if np.ndim(value):
                raise UsageError(f"--{name}: with --sweep, the other variables are numbers, not arrays")
        self.fixed = {name: value for name, value in values.items() if name in graph.variables}
        bind(graph, {**self.fixed, **dict.fromkeys(names, 0.0)})  # a missing value is an error before any output
        check_wrt(wrt, graph.variables)
        self.gradient_names = list(dict.fromkeys(wrt)) or sorted(graph.variables)
        self.wrt = tuple(wrt)  # only these gradients must be finite: a point is a gap for them alone
        from gradcalc.data import HigherColumns

        self.higher = HigherColumns(graph, self.gradient_names, order)  # --order N: d2_x_x ... per point
        self.total = math.prod(axis.count for axis in axes)
        self.gaps = 0
        self.first_gap = None  # {name: value} of the first point that is a gap

    @property
    def header(self) -> list[str]:
        return [*(axis.name for axis in self.axes), "value", *(f"grad_{name}" for name in self.gradient_names),
                *self.higher.header]

    def chunks(self, chunk_points: int = CHUNK_POINTS):
        """(columns of the swept variables, [value, gradients...]) for each chunk of points;
        the first axis varies slowest, as in nested loops."""
        shape = tuple(axis.count for axis in self.axes)
        for start in range(0, self.total, chunk_points):
            indices = np.unravel_index(np.arange(start, min(start + chunk_points, self.total)), shape)
            columns = {axis.name: axis.points(index.astype(float)) for axis, index in zip(self.axes, indices)}
            yield columns, self.evaluate(columns)

    def evaluate(self, columns: dict) -> list[np.ndarray]:
        """Value and gradients at the points of `columns`, nan at the points that are gaps."""
        size = len(next(iter(columns.values())))
        values = {**{name: np.full(size, float(v)) for name, v in self.fixed.items()}, **columns}
        try:
            return self._outputs(values, size)
        except EvaluationError:
            pass
        outputs = [np.full(size, np.nan) for _ in range(1 + len(self.gradient_names) + len(self.higher.header))]
        pending = [np.flatnonzero(self.defined(values, size))]
        while pending:  # halve what fails until each failing point stands alone
            rows = pending.pop()
            try:
                found = self._outputs({name: column[rows] for name, column in values.items()}, len(rows))
            except EvaluationError:
                if len(rows) > 1:
                    pending += [rows[len(rows) // 2 :], rows[: len(rows) // 2]]
                continue
            for output, column in zip(outputs, found):
                output[rows] = column
        gaps = np.isnan(outputs[0])
        if gaps.any() and self.first_gap is None:
            first = int(np.argmax(gaps))
            self.first_gap = {name: float(column[first]) for name, column in columns.items()}
        self.gaps += int(gaps.sum())
        return outputs

    def _outputs(self, values: dict, size: int) -> list[np.ndarray]:
        """Value, gradients and (--order N) higher derivatives at every point of `values`."""
        result = evaluate_graph(self.graph, values, wrt=self.wrt)
        if np.shape(result.value) != (size,):
            raise UsageError("with --sweep the expression must give one number per point",
                             hint="reductions such as sum() or mean() would mix the points")
        return [np.asarray(result.value), *(np.broadcast_to(result.gradients[name], (size,))
                                            for name in self.gradient_names),
                *self.higher.columns(values, size)]

    def defined(self, values: dict, size: int) -> np.ndarray:
        """Whether every node's value is finite at each point: a point outside a function's domain
        (ln of a negative number, a division by zero) makes numpy give nan or inf there."""
        finite = np.ones(size, dtype=bool)
        for value in node_values(self.graph, values):
            finite &= np.broadcast_to(np.isfinite(value), (size,))
        return finite

    def describe_first_gap(self) -> str:
        """Why the first gap is one: the error of evaluating that point alone, to the sweep's order
        (with --order 2 a point whose gradient is finite may be a gap for its second derivative)."""
        point = {**self.fixed, **self.first_gap}
        where = ", ".join(f"{name} = {format_number(value)}" for name, value in self.first_gap.items())
        try:
            evaluate_graph(self.graph, point, wrt=self.wrt)
            if self.higher.order >= 2:
                from gradcalc.higher_order import all_orders

                all_orders(self.graph, point, self.higher.order, wrt=self.gradient_names)
        except GradcalcError as error:
            return f"{where}: {error.message}"
        return where


def node_values(graph: Graph, values: dict) -> list:
    """Every node's value with numpy, non-finite values kept (nan for a constant operation that
    fails): what the checked evaluation would report, but for every point at once."""
    node_values = graph.value_template.copy()
    for name, index in graph.variables.items():
        node_values[index] = values[name]
    with np.errstate(all="ignore"):
        for node in graph.nodes:
            if node.inputs:
                operands = [node_values[i] for i in node.inputs]
                try:
                    node_values[node.id] = node.layer.forward_array(*operands)
                except (GradcalcError, ArithmeticError):
                    node_values[node.id] = math.nan
    return node_values


def kink_breaks(graph: Graph, values: dict, size: int, jumps_only: bool = False) -> np.ndarray:
    """breaks[i]: the derivative jumps between point i-1 and point i (or at one of them), because
    an input of a kink layer (relu, abs, floor ...) moves to another of its pieces there
    (Layer.piece: floor's is floor(x), so every integer crossed counts, not only a change of
    sign). `jumps_only`: where the value itself jumps (floor, mod; Layer.jumps). A plot must not
    join them."""
    breaks = np.zeros(size, dtype=bool)
    kinks = [node for node in graph.nodes if getattr(node.layer, "kink", False)
             and not getattr(node.layer, "array_only", False) and (node.layer.jumps or not jumps_only)]
    if not kinks or size < 2:
        return breaks
    computed = node_values(graph, values)
    with np.errstate(all="ignore"):  # a piece outside the domain is nan: a gap already
        for node in kinks:
            piece = np.broadcast_to(node.layer.piece(*(computed[i] for i in node.inputs)), (size,))
            # a point on the kink itself (relu's input 0: sign 0) is a piece of its own
            breaks[1:] |= piece[1:] != piece[:-1]
    return breaks


def write_rows(sweep: Sweep, out, output_format: str, chunk_points: int) -> None:
    """CSV, TSV or JSON Lines, each chunk written and flushed as soon as it is evaluated."""
    from gradcalc.data import RowWriter

    names = [axis.name for axis in sweep.axes]
    writer = RowWriter(out, output_format, sweep.header)
    for columns, outputs in sweep.chunks(chunk_points):
        writer.write(columns, names, outputs)
    writer.close()


def collect(sweep: Sweep, chunk_points: int) -> tuple[dict, list[np.ndarray]]:
    """Every point at once (for a table or a plot): the swept columns and the outputs."""
    parts = list(sweep.chunks(chunk_points))
    columns = {axis.name: np.concatenate([part[0][axis.name] for part in parts]) for axis in sweep.axes}
    outputs = [np.concatenate(pieces) for pieces in itertools.zip_longest(*(part[1] for part in parts))]
    return columns, outputs


MAX_TABLE_POINTS = 10_000  # a longer table is for a file: csv, tsv or jsonl
MAX_PLOT_POINTS = 100_000  # a plot of more shows nothing more, and a terminal plot would take long


@dataclass(frozen=True)
class SweepOutput:
    """Where a sweep goes: an output format for stdout (None: nothing) and a plot (None, 'terminal'
    or a file name), with the table's and the terminal's settings."""

    output_format: str | None
    plot: str | None = None
    precision: int | None = None
    color: bool = False
    quiet: bool = False

    @classmethod
    def choose(cls, output_format: str, explicit: bool, plot: str | None, precision, color, quiet):
        """With --plot the plot is the output; rows go to stdout beside a plot file only when -o
        asks for them (`explicit`)."""
        if plot == "terminal" and explicit and output_format != "table":
            refused = UsageError(f"--plot draws on the terminal; it cannot be combined with -o {output_format}",
                                 hint=f"draw into a file instead: --plot plot.png -o {output_format}")
            raise about_option(refused, "output_format")
        return cls(output_format if explicit or plot is None else None, plot, precision, color, quiet)


def show_sweep(sweep: Sweep, out, err, how: SweepOutput, chunk_points: int = CHUNK_POINTS) -> int:
    """Evaluate the sweep and write its rows, table or plot; returns the exit code (1 only when no
    point at all could be evaluated; gaps are reported on `err`)."""
    if how.output_format not in (None, "table", "csv", "tsv", "jsonl"):
        raise about_option(UsageError(f"--sweep writes a table, csv, tsv or jsonl, not {how.output_format}",
                                      hint="-o jsonl gives one JSON object per point"), "output_format")
    if how.plot is not None:
        if len(sweep.axes) != 1:
            raise UsageError("--plot draws along one variable: give one --sweep",
                             hint="for a grid, write -o csv and plot it with your own tool")
        if sweep.total > MAX_PLOT_POINTS:
            raise UsageError(f"--plot draws at most {MAX_PLOT_POINTS:,} points, not {sweep.total:,}",
                             hint="a terminal or a picture shows no more; sweep fewer points")
    if how.output_format == "table" and sweep.total > MAX_TABLE_POINTS:
        raise UsageError(f"a table of {sweep.total:,} points is too long to read",
                         hint="write -o csv, tsv or jsonl (they stream), or sweep fewer points")
    if how.plot is None and how.output_format in ("csv", "tsv", "jsonl"):
        write_rows(sweep, out, how.output_format, chunk_points)
    else:
        columns, outputs = collect(sweep, chunk_points)
        if how.output_format is not None:
            _print(sweep, columns, outputs, out, how)
        if how.plot is not None:
            _plot(sweep, columns, outputs, out, how)
    if sweep.gaps and not how.quiet:
        said = encodable(f"{sweep.gaps:,} of {sweep.total:,} points are gaps (outside the domain or not finite); "
                         f"the first at {sweep.describe_first_gap()}", getattr(err, "encoding", None))
        err.write(message_lines("gradcalc: warning: ", said, message_width(err)) + "\n")
    return 1 if sweep.gaps == sweep.total else 0


def _print(sweep, columns, outputs, out, how):
    if how.output_format == "table":
        from gradcalc.render_sweep import print_table

        print_table(sweep, columns, outputs, out, how.precision, how.color)
    else:
        from gradcalc.data import RowWriter

        writer = RowWriter(out, how.output_format, sweep.header)
        writer.write(columns, list(columns), outputs)
        writer.close()


def _plot(sweep, columns, outputs, out, how):
    import shutil

    from gradcalc import plot
    from gradcalc.formatting import shorten

    (axis,) = sweep.axes
    x = columns[axis.name]
    values = {**{name: np.full(len(x), float(v)) for name, v in sweep.fixed.items()}, **columns}
    breaks = kink_breaks(sweep.graph, values, len(x))
    from gradcalc.higher_order import symbol

    firsts = len(sweep.gradient_names)
    series = [("f", outputs[0], kink_breaks(sweep.graph, values, len(x), jumps_only=True)),
              *((f"∂f/∂{name}", gradient, breaks) for name, gradient in zip(sweep.gradient_names, outputs[1:]))]
    series += [(symbol(index), column, breaks) for index, column in zip(sweep.higher.indices, outputs[1 + firsts:])
               if set(index) == {axis.name}]  # f″ along the sweep: the swept variable's own
    if how.plot == "terminal":
        size = shutil.get_terminal_size((80, 24))
        width, height = max(40, min(size.columns, 120)), max(12, min(size.lines - 4, 24))
        title = shorten(sweep.graph.source, limit=width - 4)
        out.write(plot.encoded(plot.terminal_plot(title, axis.name, x, series, width, height, how.color), out))
    else:
        plot.file_plot(how.plot, shorten(sweep.graph.source), axis.name, x, series)
