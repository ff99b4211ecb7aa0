"""--data FILE: evaluate one expression at every row of a file of points, a chunk of rows per
vectorized pass, and write one output row per point: the input columns, the value, and one
grad_<name> column per variable (then an error column). Memory stays flat however long the file.

Row i's output depends only on row i, so each variable is a column (options that the file lacks
and the line's own bindings are broadcast to every row) and the gradient seeded with ones gives
each row's own gradient. A column sigma_<name> holds the standard uncertainty of variable <name>:
each row then gets its own first-order sigma and share_<name> columns.
"""

import copy
import csv
import io
import itertools
import json
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

from gradcalc.delimited import bulk_writer, tsv_cell
from gradcalc.delimited import writer as row_writer
from gradcalc.errors import EvaluationError, GradcalcError, MissingValueError, UsageError, ValueFormatError
from gradcalc.evaluator import evaluate_graph
from gradcalc.formatting import plural
from gradcalc.numeric import all_finite, first_index, first_non_finite_index, not_numbers
from gradcalc.value_checks import dtype_hint
from gradcalc.value_files import NUMPY_READ_ERRORS, BeyondDouble, as_doubles, numpy_refusal

CHUNK_ROWS = 65_536
_NOT_FINITE_HINT = "every value must be a finite number: fix or remove that row"


class Place(NamedTuple):
    """Where a chunk begins in its file: a text file's line, or a .npy/.npz array's row (from 1)."""

    unit: str  # "line" or "row"
    first: int

    def at(self, offset: int) -> str:
        """'line 5', 'row 3': the chunk's row `offset` (from 0) as the file counts it."""
        return f"{self.unit} {self.first + offset}"


def read_points(path: str, chunk_rows: int = CHUNK_ROWS):
    """(column names, iterator of (Place, {name: 1-D float array})) for a data file: CSV with a
    header row, .npy (a structured array), .npz (named 1-D arrays) or JSON Lines."""
    suffix = Path(path).suffix.lower()
    try:
        if suffix in (".npz", ".npy"):
            try:
                return (_npz_chunks if suffix == ".npz" else _npy_chunks)(path, chunk_rows)
            except NUMPY_READ_ERRORS as error:  # numpy's own words advise unpickling "unsafely"
                if isinstance(error, GradcalcError):
                    raise
                refusal = numpy_refusal(error)
                raise ValueFormatError(f"{path}: {refusal}", hint=refusal.hint and "save the columns with "
                                       "np.savez('points.npz', x=x, y=y), or as CSV with a header row") from None
        stream = open(path, "r", encoding="utf-8", newline="")
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read {path!r}: {getattr(error, 'strerror', None) or error}") from None
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl_chunks(stream, chunk_rows, path)
    return _csv_chunks(stream, chunk_rows, path)


def _csv_chunks(stream, chunk_rows, path):
    header_line = stream.readline()
    names = [name.strip() for name in next(csv.reader([header_line]), [])]
    if not names or not all(names):
        raise ValueFormatError(f"{path}: the first line must name the columns (x,y,...)")

    def chunks():
        with stream:
            line = 2
            while True:
                lines = list(itertools.islice(stream, chunk_rows))
                if not lines:
                    return
                yield Place("line", line), _parse_csv(lines, names, line, path)
                line += len(lines)

    return names, chunks()


def _parse_csv(lines, names, first_line, path):
    try:
        table = np.loadtxt(lines, delimiter=",", ndmin=2, dtype=float)
    except ValueError:
        _find_bad_cell(lines, names, first_line, path)
        raise
    if table.shape[1] != len(names):
        raise ValueFormatError(f"{path}, line {first_line}: {plural(table.shape[1], 'cell')}, but the header names "
                               f"{plural(len(names), 'column')}", hint="every row needs one cell per column")
    if not np.all(np.isfinite(table)):  # nan or inf cells parse as floats: name the first one
        _find_bad_cell(lines, names, first_line, path)
    return {name: table[:, i] for i, name in enumerate(names)}


def _find_bad_cell(lines, names, first_line, path):
    """Name the first cell that is not a number, or the first row of the wrong length."""
    for offset, row in enumerate(csv.reader(io.StringIO("".join(lines)))):
        if not row or not "".join(row).strip():
            continue
        if len(row) != len(names):
            raise ValueFormatError(f"{path}, line {first_line + offset}: {plural(len(row), 'cell')}, but the "
                                   f"header names {plural(len(names), 'column')}",
                                   hint="every row needs one cell per column")
        for name, cell in zip(names, row):
            try:
                value = float(cell)
            except ValueError:
                value = None
            if value is None or value != value or abs(value) == float("inf"):
                raise ValueFormatError(f"{path}, line {first_line + offset}, column {name}: {cell!r} is "
                                       "not a finite number", hint="every cell must be a number")


def _jsonl_chunks(stream, chunk_rows, path):
    first = stream.readline()
    try:
        names = list(json.loads(first))
    except (json.JSONDecodeError, TypeError):
        raise ValueFormatError(f"{path}, line 1: not a JSON object of name: number") from None

    def chunks():
        with stream:
            pending = [first]
            line = 1
            while True:
                pending += list(itertools.islice(stream, chunk_rows - len(pending)))
                if not pending:
                    return
                columns = {name: [] for name in names}
                for offset, text in enumerate(pending):
                    try:
                        record = json.loads(text)
                        for name in names:
                            value = record[name]
                            if type(value) not in (float, int):  # float() would read true and "1.5"
                                raise TypeError
                            columns[name].append(float(value))
                    except (json.JSONDecodeError, KeyError, TypeError, ValueError, OverflowError):
                        raise ValueFormatError(f"{path}, line {line + offset}: expected an object with "
                                               f"numbers for {', '.join(names)}") from None
                place, chunk = Place("line", line), {name: np.array(values) for name, values in columns.items()}
                _refuse_non_finite(path, place, chunk)  # json reads NaN and Infinity
                yield place, chunk
                line += len(pending)
                pending = []

    return names, chunks()


def _npz_chunks(path, chunk_rows):
    with np.load(path, allow_pickle=False) as archive:
        names = list(archive.files)
        columns = {name: archive[name] for name in names}
    return names, _slices(columns, chunk_rows, path)


def _npy_chunks(path, chunk_rows):
    with warnings.catch_warnings():  # a header declaring 2**96 elements: refused as damaged, unwarned
        warnings.simplefilter("ignore", RuntimeWarning)
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    if array.dtype.names is None:
        raise ValueFormatError(f"{path}: a .npy data file needs named columns (a structured array); "
                               "or use .npz with one array per variable")
    names = list(array.dtype.names)
    return names, _slices({name: array[name] for name in names}, chunk_rows, path)


def _slices(columns, chunk_rows, path):
    for name, column in columns.items():  # as --x refuses them: a cast would make them numbers or warn
        reason = not_numbers(column)
        if reason is not None:
            raise ValueFormatError(f"{path}, column {name} {reason}", hint=dtype_hint(name, column))
    lengths = {len(np.ravel(column)) for column in columns.values()}
    if len(lengths) > 1:
        raise ValueFormatError(f"the columns have different lengths: {sorted(lengths)}")
    total = lengths.pop() if lengths else 0
    for start in range(0, total, chunk_rows):
        place = Place("row", start + 1)
        chunk = {name: _doubles(path, name, np.ravel(column)[start : start + chunk_rows], place)
                 for name, column in columns.items()}
        _refuse_non_finite(path, place, chunk)
        yield place, chunk


def _doubles(path, name, part, place: Place):
    """A column's rows as doubles; a long double beyond their range is refused, not made inf."""
    try:
        return np.asarray(as_doubles(part), dtype=float)
    except BeyondDouble as error:
        raise ValueFormatError(f"{path}, {place.at(error.index[0])}, column {name}: {error.shown} is too large for "
                               "a double (beyond ±1.8e308)",
                               hint="scale the column so that every value is within a double's ±1.8e308") from None


def _refuse_non_finite(path, place: Place, columns: dict) -> None:
    """Name the first row (then column) holding inf or nan, as a CSV file's cell is named: the
    evaluator's own refusal would count from the chunk's start and advise numpy."""
    bad = [(first_non_finite_index(column)[0], name) for name, column in columns.items() if not all_finite(column)]
    if bad:
        offset, name = min(bad, key=lambda found: found[0])  # the first row; in it, the first column
        raise ValueFormatError(f"{path}, {place.at(offset)}, column {name}: {columns[name][offset]} is not a "
                               "finite number", hint=_NOT_FINITE_HINT)


def evaluate_points(graph, names, chunks, options: dict, out, output_format: str, sigmas: dict | None = None,
                    correlation=None, order: int = 1, wrt=()) -> int:
    """Evaluate `graph` at every row and write the rows, with a grad_<name> column per variable (or
    per name of `wrt`, in its order); returns the worst exit code. `sigmas` are the standard
    uncertainties of options (`--x 5±0.2`); `correlation` a gradcalc.uncertainty.Correlation;
    `order` > 1 adds one column per distinct derivative of order 2..order (d2_x_y) in the same
    variables, row by row."""
    unknown = [name for name in wrt if name not in graph.variables]
    if unknown:
        raise UsageError(f"--wrt {unknown[0]}: the expression has no variable {unknown[0]}",
                         hint=f"its variables are: {', '.join(sorted(graph.variables)) or 'none'}")
    variables = sorted(graph.variables)
    missing = [v for v in variables if v not in names and v not in options and v not in graph.bindings]
    if missing:
        raise MissingValueError(f"no column or value for {', '.join(missing)}",
                                hint=f"the file's columns are {', '.join(names)}; give the others as --NAME VALUE")
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
    higher = HigherColumns(graph, reported, order)
    header = [*names, "value", *(f"grad_{v}" for v in reported), *higher.header, *spread.header, "error"]
    writer = RowWriter(out, output_format, header)
    worst = 0
    for place, columns in chunks:
        rows = len(next(iter(columns.values()))) if columns else 0
        values = {**{k: np.full(rows, float(v)) for k, v in options.items() if k not in columns}, **columns,
                  **{k: np.full(rows, v) for k, v in bound.items()}}
        try:
            spread.check(columns, place)
            result = evaluate_graph(graph, values)
            outputs = _columns(result, variables, rows, spread, columns, reported)
            outputs[1 + len(reported):1 + len(reported)] = higher.columns(values, rows)
        except EvaluationError:
            worst = max(worst, _row_by_row(graph, columns, names, values, variables, writer, spread, higher,
                                           reported))
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
    gradients = {v: np.broadcast_to(result.gradients[v], (rows,)) for v in variables}
    return [result.value, *(gradients[v] for v in reported),
            *spread.columns(result.value, gradients, result.inputs, columns)]


def _row_by_row(graph, columns, names, values, variables, writer, spread, higher, reported) -> int:
    """A chunk with a failing row: evaluate each row alone so every other row is still written."""
    worst = 0
    for i in range(len(next(iter(values.values())))):
        point = {name: column[i : i + 1] for name, column in values.items()}
        single = {name: column[i : i + 1] for name, column in columns.items()}
        try:
            scalars = {name: float(column[0]) for name, column in point.items()}
            result = evaluate_graph(graph, scalars)
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

        found = all_orders(self.graph, values, self.order, rowwise=True)
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
        self.gradients = {name: np.array([g]) for name, g in result.gradients.items()}
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


class RowWriter:
    """Writes rows of numbers at full precision (shortest round-trip text) as CSV, TSV or JSON Lines;
    a nan is an empty cell (null in JSON). Rows carry an error cell when `write` is given errors."""

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

    def write(self, columns, names, outputs, errors=None):
        self._start()
        cells = [np.asarray(columns[name]).tolist() for name in names] + [o.tolist() for o in outputs]
        rows = zip(*cells)
        if self.format == "jsonl":
            for row, error in zip(rows, errors or itertools.repeat(None)):
                record = dict(zip(self.header, (None if v != v else v for v in row)))
                if errors is not None:
                    record["error"] = error or None
                self.out.write(json.dumps(record) + "\n")
        elif not any(errors or ()):  # numbers only: no cell needs quoting, so join the texts directly
            texts = [_texts(column) for column in cells]
            if errors is not None:
                texts.append([""] * len(errors))
            self.out.writelines(line + "\n" for line in map(self.delimiter.join, zip(*texts)))
        else:
            if self.format == "tsv":  # messages are single lines (GradcalcError escapes controls), but
                errors = [tsv_cell(error) for error in errors]  # may hold a backslash
            self.writer.writerows([*("" if v != v else repr(v) for v in row), error]
                                  for row, error in zip(rows, errors))
        self.out.flush()

    def close(self):
        self._start()
        self.out.flush()
