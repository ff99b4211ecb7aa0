"""--data FILE: evaluate one expression at every row of a file of points, a chunk of rows per
vectorized pass, and write one output row per point: the file's columns, the value, and one
grad_<name> column per variable (then an error column). Memory stays flat however long the file.
The file is read by gradcalc/data_files.py.

Row i's output depends only on row i, so each variable is a column (options that the file lacks
and the line's own bindings are broadcast to every row) and the gradient seeded with ones gives
each row's own gradient. A column sigma_<name> holds the standard uncertainty of variable <name>:
each row then gets its own first-order sigma and share_<name> columns.
"""

import copy
import itertools
import json
import re

import numpy as np

from gradcalc.argv import did_you_mean
from gradcalc.data_files import STANDARD_INPUT, Points, read_points
from gradcalc.delimited import bulk_writer, tsv_cell
from gradcalc.delimited import writer as row_writer
from gradcalc.errors import EvaluationError, GradcalcError, MissingValueError, UsageError, ValueFormatError
from gradcalc.evaluator import check_wrt, evaluate_graph
from gradcalc.numeric import first_index

_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def run_data(expression: str, path: str, chunk_rows: int, given: tuple, options, streams: tuple, warn=None,
             own_options=dict) -> int:
    """--data: `expression` at every point of the file at `path` (`-`: standard input); returns the
    worst exit code. `given` is (option values, their σ, a correlation matrix or None); `options`
    has the command's output_format, order and wrt; `streams` is (stdin, stdout); `warn(message)`
    says what is given and not used (None: say nothing); `own_options()` gradcalc's own options,
    for the did-you-mean of a near miss."""
    from gradcalc.parser import parse

    numbers, sigmas, correlation = given
    graph = parse(expression)
    points = read_points(path, chunk_rows, streams[0])
    try:
        _check_names(graph, points.names, numbers, options.wrt)
        notes = _not_used(graph, points.names, numbers, sigmas, "standard input" if path == STANDARD_INPUT else path,
                          own_options)
        if correlation is not None:
            notes.append(correlation.unused_note({name: name in graph.sigmas or name in sigmas
                                                  or f"sigma_{name}" in points.names for name in graph.variables}))
        for note in filter(None, notes) if warn is not None else ():
            warn(note)
        output_format = "csv" if options.output_format == "table" else options.output_format
        return evaluate_points(graph, points, numbers, streams[1], output_format, sigmas, correlation, options.order,
                               options.wrt)
    finally:
        points.close()


def _check_names(graph, names: list, options: dict, wrt) -> None:
    """Refuse a --wrt name the expression lacks, and a variable with no column or value."""
    check_wrt(wrt, graph.variables)
    missing = [v for v in sorted(graph.variables) if v not in names and v not in options and v not in graph.bindings]
    if missing:
        raise MissingValueError(f"no column or value for {', '.join(missing)}",
                                hint=f"the file's columns are {', '.join(names)}; give the others as --NAME VALUE")


def _not_used(graph, names: list, options: dict, sigmas: dict, source: str, own_options) -> list:
    """Warnings for what is given and not used: an option the expression does not use, one a column
    of the file overrides, a column the line's own binding overrides. An option's ± that a column
    would drop is refused: the rows' σ would silently lose it."""
    notes = []
    for name in options:
        if name in graph.variables and name in names and name not in graph.bindings:
            if name in sigmas:
                raise UsageError(f"--{name} has an uncertainty (± {sigmas[name]!r}), but the column {name} of "
                                 f"{source} gives {name} in each row, so it would be dropped",
                                 hint=f"to give the column's values an uncertainty, add a column sigma_{name} "
                                      f"to the file; to use --{name} in every row, remove the column {name}")
            notes.append(f"--{name} is not used: the column {name} of {source} gives {name} in each row")
        elif name not in graph.variables or name in graph.bindings:
            suggestion = did_you_mean(name, own_options())
            notes.append(f"--{name} is not used by the expression" + (f"; {suggestion}" if suggestion else ""))
    notes += [f"the column {name} of {source} is not used: the expression binds {name}"
              for name in graph.bindings if name in names]
    return notes


def numeric_columns(graph, names: list) -> set:
    """The columns read as numbers: the variables the file gives (not bound by the line) and their
    sigma_<name> columns; every other column is carried to the output as it is."""
    given = {name for name in graph.variables if name in names and name not in graph.bindings}
    return given | {f"sigma_{name}" for name in given
                    if f"sigma_{name}" in names and f"sigma_{name}" not in graph.variables}


def evaluate_points(graph, points: Points, options: dict, out, output_format: str, sigmas: dict | None = None,
                    correlation=None, order: int = 1, wrt=()) -> int:
    """Evaluate `graph` at every row and write the rows, with a grad_<name> column per variable (or
    per name of `wrt`, in its order); returns the worst exit code. `sigmas` are the standard
    uncertainties of options (`--x 5±0.2`); `correlation` a gradcalc.uncertainty.Correlation;
    `order` > 1 adds one column per distinct derivative of order 2..order (d2_x_y) in the same
    variables, row by row. The names are checked (_check_names) before."""
    names, variables = points.names, sorted(graph.variables)
    numeric = numeric_columns(graph, names)  # before the bindings become columns below
    for name, value in options.items():
        if np.ndim(value):
            raise UsageError(f"--{name}: with --data, option values must be numbers (broadcast to every row)")
    spread = _Spread(graph, names, options, sigmas or {}, correlation)
    # the line's bindings become columns too, so that each row gets its own gradient for them
    bound = graph.bindings
    if bound:
        graph = copy.copy(graph)
        graph.bindings = {}
    reported = list(dict.fromkeys(wrt)) or variables
    wanted = (*reported, *spread.sources) if wrt else ()  # only these gradients must be finite
    higher = HigherColumns(graph, reported, order)
    header = [*names, "value", *(f"grad_{v}" for v in reported), *higher.header, *spread.header, "error"]
    writer = RowWriter(out, output_format, header)
    worst = 0
    for place, columns in points.chunks(numeric):
        rows = len(next(iter(columns.values())))
        read = {name: columns[name] for name in numeric}  # not the carried columns (text)
        values = {**{k: np.full(rows, float(v)) for k, v in options.items() if k not in read}, **read,
                  **{k: np.full(rows, v) for k, v in bound.items()}}
        try:
            spread.check(columns, place)
            result = evaluate_graph(graph, values, wrt=wanted)
            outputs = _columns(result, variables, rows, spread, columns, reported)
            outputs[1 + len(reported):1 + len(reported)] = higher.columns(values, rows)
        except EvaluationError:
            worst = max(worst, _row_by_row(graph, columns, names, values, variables, writer, spread, higher,
                                           reported, wanted))
        except GradcalcError as error:
            raise type(error)(f"{error.message} (rows from {place.at(0)})", hint=error.hint) from None
        else:  # outside the try: an output error is not the rows' (nor their place's) to answer
            writer.write(columns, names, outputs, [""] * rows)
    writer.close()
    return worst


def _columns(result, variables, rows, spread, columns, reported):
    """The value, the gradients named in `reported`, then the spread (which needs every gradient)."""
    if np.shape(result.value) != (rows,):
        raise UsageError("with --data the expression must give one number per row",
                         hint="reductions such as sum() or mean() would mix the rows")
    gradients = {v: np.broadcast_to(result.gradients[v], (rows,)) for v in variables
                 if result.gradients[v] is not None}  # None: not finite, and --wrt leaves it out
    return [result.value, *(gradients[v] for v in reported),
            *spread.columns(result.value, gradients, result.inputs, columns)]


def _row_by_row(graph, columns, names, values, variables, writer, spread, higher, reported, wanted=()) -> int:
    """A chunk with a failing row: evaluate each row alone so every other row is still written."""
    worst = 0
    for i in range(len(next(iter(values.values())))):
        point = {name: column[i : i + 1] for name, column in values.items()}
        single = {name: column[i : i + 1] for name, column in columns.items()}
        try:
            scalars = {name: float(column[0]) for name, column in point.items()}
            result = evaluate_graph(graph, scalars, wrt=wanted)
            outputs = _columns(_Row(result), variables, 1, spread, single, reported)
            outputs[1 + len(reported):1 + len(reported)] = higher.columns(scalars, 1)
            writer.write(single, names, outputs, [""])
        except EvaluationError as error:
            worst = max(worst, error.exit_code)
            empty = [np.array([np.nan])] * (1 + len(reported) + len(higher.header) + len(spread.header))
            writer.write(single, names, empty, [f"{error.type}: {error.message}"])
    return worst


class HigherColumns:
    """The d2_x_y ... columns of --order N: every row's own derivatives (row i depends on row i only)."""

    def __init__(self, graph, variables, order):
        from itertools import combinations_with_replacement

        self.graph, self.variables, self.order = graph, variables, order
        self.indices = [index for k in range(2, order + 1) for index in combinations_with_replacement(variables, k)]
        self.header = ["d%d_%s" % (len(index), "_".join(index)) for index in self.indices]

    def columns(self, values, rows) -> list:
        if self.order < 2:
            return []
        from gradcalc.higher_order import all_orders

        found = all_orders(self.graph, values, self.order, self.variables, rowwise=True)  # only those read
        columns = []
        for index in self.indices:
            value = found[len(index)]
            for name in index:
                value = value[name]
            columns.append(np.broadcast_to(np.asarray(value, dtype=float), (rows,)))
        return columns


class _Row:
    """One row's Result as columns of length 1, as a chunk's would be."""

    def __init__(self, result):
        self.value = np.array([result.value])
        self.gradients = {name: None if g is None else np.array([g]) for name, g in result.gradients.items()}
        self.inputs = {name: np.array([v]) for name, v in result.inputs.items()}


class _Spread:
    """Where each uncertain variable's σ comes from (a sigma_<name> column, an option's ±, the line's
    own binding, a covariance matrix) and the sigma and share_<name> columns it adds."""

    def __init__(self, graph, names, options, sigmas, correlation):
        self.correlation = correlation
        self.sources = {}  # variable -> a column name (str) or a number
        for name in sorted(graph.variables):
            column = f"sigma_{name}"
            if name in graph.bindings:
                source = graph.sigmas.get(name)
            elif name in names:
                source = column if column in names and column not in graph.variables else None
            else:
                source = sigmas.get(name)
            from_matrix = getattr(correlation, "sigmas", {}).get(name)
            if from_matrix is not None:
                if isinstance(source, str):
                    raise UsageError(f"{name} has a {column} column and a variance in the covariance matrix",
                                     hint="give the uncertainty once")
                from gradcalc.uncertainty import _agree

                source = _agree(name, source, from_matrix)
            if source is not None:
                self.sources[name] = source
        self.header = ["sigma", *(f"share_{name}" for name in self.sources)] if self.sources else []

    def check(self, columns, place):
        for name, source in self.sources.items():
            if isinstance(source, str) and np.any(columns[source] < 0):
                offset = first_index(columns[source] < 0)[0]
                raise ValueFormatError(f"{place.at(offset)}, column {source}: a standard uncertainty is >= 0")

    def columns(self, value, gradients, inputs, columns) -> list:
        if not self.sources:
            return []
        from gradcalc.uncertainty import propagate

        sigmas = {name: columns[source] if isinstance(source, str) else np.full(len(value), source)
                  for name, source in self.sources.items()}
        spread = propagate(value, gradients, inputs, sigmas, self.correlation)
        return [spread.sigma, *(spread.share[name] for name in self.sources)]


def _texts(column: list) -> list[str]:
    """Each number's shortest round-trip text; a nan is an empty cell."""
    texts = list(map(repr, column))
    for index in np.flatnonzero(np.isnan(column)).tolist():
        texts[index] = ""
    return texts


def _number_text(value) -> str:
    return "" if value != value else repr(value)


def _carried_text(value) -> str:
    """A carried cell as text: a CSV cell as it was written, a JSON Lines value as JSON."""
    return value if isinstance(value, str) else "" if value is None else json.dumps(value)


class RowWriter:
    """Writes rows of numbers at full precision (shortest round-trip text) as CSV, TSV or JSON Lines;
    a nan is an empty cell (null in JSON). Rows carry an error cell when `write` is given errors.
    A column given as a list rather than an array is carried from the input as it is (text)."""

    def __init__(self, out, output_format, header):
        self.out, self.format, self.header = out, output_format, header
        self.delimiter = "\t" if output_format == "tsv" else ","
        self.writer = bulk_writer(out, output_format)  # numbers and messages, as written below
        self.started = False

    def _start(self):
        """The header, once the first chunk has evaluated (so an error leaves no half table)."""
        if not self.started and self.format != "jsonl":
            row_writer(self.out, self.format).writerow(self.header)  # names from the file: checked
        self.started = True

    def _carried(self, value) -> str:
        """A carried cell for the csv writer (which quotes) or as TSV (escaped)."""
        text = _carried_text(value)
        return tsv_cell(text) if self.format == "tsv" else text

    def _joined(self, column: list) -> list[str]:
        """A carried column's cells ready to join: escaped (TSV) or quoted where needed (CSV)."""
        if self.format == "tsv":
            return [tsv_cell(_carried_text(value)) for value in column]
        texts = map(_carried_text, column)
        return [text if not _NEEDS_QUOTES.search(text) else '"' + text.replace('"', '""') + '"' for text in texts]

    def write(self, columns, names, outputs, errors=None):
        self._start()
        carried = [isinstance(columns[name], list) for name in names] + [False] * len(outputs)
        cells = [columns[name] if isinstance(columns[name], list) else np.asarray(columns[name]).tolist()
                 for name in names] + [o.tolist() for o in outputs]
        rows = zip(*cells)
        if self.format == "jsonl":
            for row, error in zip(rows, errors or itertools.repeat(None)):
                record = dict(zip(self.header, (None if v != v else v for v in row)))
                if errors is not None:
                    record["error"] = error or None
                self.out.write(json.dumps(record) + "\n")
        elif not any(errors or ()):  # no message: every cell's text is made here, so join them directly
            texts = [self._joined(column) if kept else _texts(column) for column, kept in zip(cells, carried)]
            if errors is not None:
                texts.append([""] * len(errors))
            self.out.writelines(line + "\n" for line in map(self.delimiter.join, zip(*texts)))
        else:
            if self.format == "tsv":  # messages are single lines (GradcalcError escapes controls), but
                errors = [tsv_cell(error) for error in errors]  # may hold a backslash
            shown = [self._carried if kept else _number_text for kept in carried]
            self.writer.writerows([*(show(v) for show, v in zip(shown, row)), error]
                                  for row, error in zip(rows, errors))
        self.out.flush()

    def close(self):
        self._start()
        self.out.flush()
