"""Result -> text: the Renderer base class, and JSON, JSON Lines, CSV/TSV and plain text (the
tables are render_table.py's, the graph pictures render_graph.py's). Never decides exit codes.

Each renderer takes jobs one at a time (`result`, `error`) and writes as it goes, so a stream of
jobs is printed as it is evaluated; `close` finishes what needs the whole run (a table, a JSON array).
"""

import json
import sys

from gradcalc.checked_output import escaping, json_escaped
from gradcalc.delimited import writer as row_writer
from gradcalc.errors import GradcalcError
from gradcalc.evaluator import Result
from gradcalc.formatting import encodable, format_array, format_number, message_lines, message_width
from gradcalc.render_derivatives import (
    bare,
    column_order,
    columns,
    expected_columns,
    json_fields,
    plain_tokens,
)

# One encoder for every compact record: json.dumps with an option builds a new encoder per call.
_compact = json.JSONEncoder(ensure_ascii=False).encode


def result_record(result: Result, wrt=(), line: int | None = None, nodes: bool = True) -> dict:
    """The JSON object of one evaluated job (numbers at full precision, arrays as nested lists)."""
    record = {} if line is None else {"line": line}
    record["expression"] = result.expression
    record["value"] = _plain(result.value)
    record["gradients"] = {name: _plain(g) for name, g in result.gradients_for(wrt).items()}
    if result.uncertainty is not None:
        record["uncertainty"] = result.uncertainty.to_dict()
    if type(result.value) is not float and hasattr(result.value, "shape"):
        record["seed_grad"] = "ones" if result.seed is None else _plain(result.seed)
    record.update(json_fields(result))
    if result.check is not None:
        record["check"] = {row.name: row.to_dict() for row in result.check.rows}
    if result.explain is not None:
        record["explain"] = [step.to_dict() for step in result.explain]
    if nodes:
        record["nodes"] = [_node_record(node) for node in result.nodes]
    return record


def _node_record(node) -> dict:
    record = {"id": node.id, "layer": node.layer, "expr": node.expr, "inputs": list(node.inputs),
              "value": _plain(node.value), "grad": _plain(node.grad)}
    if node.name:
        record["name"] = node.name
    return record


def error_record(error: GradcalcError, expression: str | None, line: int | None = None) -> dict:
    """The JSON object of one failed job."""
    record = {} if line is None else {"line": line}
    record["expression"] = expression
    record["error"] = error.to_dict()
    return record


class Renderer:
    """Writes jobs to `out` as they come. `error` returns False when errors belong on stderr."""

    # how text that `out`'s encoding lacks is written (PYTHONIOENCODING=ascii): ASCII spellings and
    # backslash escapes (formatting.encodable); JSON and pictures escape it their own way, losslessly
    escape = staticmethod(encodable)
    says_escapes = False  # whether that changes the data itself, which is then said once on stderr

    def __init__(self, out, *, wrt=(), precision=None, nodes=None, batch=False, color=None, check=False,
                 full=False, uncertain=(), extra_columns=None, quiet=False):
        said = self._say_escaped if self.says_escapes and not quiet else None
        out = escaping(out, self.escape, said)
        self.out, self.wrt, self.precision, self.batch = out, tuple(wrt or ()), precision, batch
        self.check, self.full = check, full
        self.uncertain = tuple(uncertain)  # inputs given ± by the command line (known before any job)
        self.extra_columns = extra_columns  # (order, jvp, hvp, jacobian) asked for: CSV's columns
        self.nodes = (not batch) if nodes is None else nodes
        self.array_width = 100  # where array text wraps to a new line (between elements)
        self.color = color

    def _say_escaped(self) -> None:
        """Say once per output (a session makes a renderer a line) that its text was escaped."""
        stream = self.out.stream
        if not getattr(stream, "escapes_said", False):
            stream.escapes_said = True
            width = message_width(sys.stderr)
            sys.stderr.write(message_lines("gradcalc: warning: ", f"the output's encoding ({stream.encoding}) lacks "
                                           "some of its characters: written as \\u03b8 or in ASCII (+-)", width) + "\n"
                             + message_lines("  hint: ", "PYTHONIOENCODING=utf-8, or a UTF-8 locale (LANG=C.UTF-8), "
                                             "writes them as they are", width, " " * 8) + "\n")

    def number(self, value, width: int | None = None) -> str:
        """A value's text; an array's lines wrap at `width` (default `self.array_width`)."""
        if value is None:
            return ""
        if hasattr(value, "shape"):
            return format_array(value, self.precision, self.full, width or self.array_width)
        return format_number(value, self.precision)

    def result(self, result: Result, line: int | None) -> None:
        raise NotImplementedError

    def error(self, error: GradcalcError, expression: str | None, line: int | None) -> bool:
        return False

    def formula(self, formula, line: int | None) -> None:
        """--diff: the derivative's text, one line per job."""
        self.out.write(formula.text + "\n")
        self.out.flush()

    def close(self) -> None:
        self.out.flush()


class JsonRenderer(Renderer):
    """One JSON object for a single expression; an array of objects for a batch."""

    escape = staticmethod(json_escaped)

    def __init__(self, out, **options):
        super().__init__(out, **options)
        self.count = 0

    def _write(self, record: dict) -> None:
        if not self.batch:
            self.out.write(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
            return
        self.out.write(("[\n" if self.count == 0 else ",\n") + _compact(record))
        self.count += 1
        self.out.flush()

    def result(self, result, line):
        self._write(result_record(result, self.wrt, line if self.batch else None, self.nodes))

    def error(self, error, expression, line):
        self._write(error_record(error, expression, line if self.batch else None))
        return True

    def formula(self, formula, line):
        self._write(formula.record(line if self.batch else None))

    def close(self):
        if self.batch:
            self.out.write("\n]\n" if self.count else "[]\n")
        super().close()


class JsonLinesRenderer(Renderer):
    """One compact JSON object per job and line, flushed as soon as it is written."""

    escape = staticmethod(json_escaped)

    def _write(self, record: dict) -> None:
        self.out.write(_compact(record) + "\n")
        self.out.flush()

    def result(self, result, line):
        self._write(result_record(result, self.wrt, line, self.nodes))

    def error(self, error, expression, line):
        self._write(error_record(error, expression, line))
        return True

    def formula(self, formula, line):
        self._write(formula.record(line))


class PlainRenderer(Renderer):
    """One line per job: the value, then name=gradient pairs; with one --wrt, the bare gradient
    (then check=TOKEN with --check).
    Arrays print on one line without spaces ([[1,2],[3,4]]), so fields split on spaces. In a batch
    a failed job is the line `error` (its message goes to stderr), so line N is always job N."""

    says_escapes = True

    def number(self, value, width=None) -> str:
        text = super().number(value, width)
        return "".join(text.split()) if hasattr(value, "shape") else text

    def result(self, result, line):
        gradients = result.gradients_for(self.wrt)
        if len(self.wrt) == 1:
            higher = bare(result, self.wrt[0])
            text = self.number(gradients[self.wrt[0]] if higher is None else higher)
        else:
            sigma = [] if result.uncertainty is None else [f"±{self.number(result.uncertainty.sigma)}"]
            text = " ".join([self.number(result.value), *sigma,
                             *(f"{name}={self.number(grad)}" for name, grad in gradients.items()),
                             *plain_tokens(result, self.number)])
        if result.check is not None:  # asked for: a bare number must not hide a kink or mismatch
            text += f" check={result.check.token()}"
        self.out.write(text + "\n")
        self.out.flush()

    def error(self, error, expression, line):
        if self.batch:
            self.out.write("error\n")
            self.out.flush()
        return False


class CsvRenderer(Renderer):
    """Rows of line,expression,value,grad_<name>...,error: one grad_<name> column per variable
    of the run, in name order (or one per --wrt, in the order given); then the derivatives that
    --order, --jvp, --hvp and --jacobian ask for (d2_x_y, jvp, hvp_x, ...); with uncertainties,
    sigma and one share_<name> column per uncertain input (and with --order 2, mean2 and sigma2).

    With --wrt the columns are known at once and every row is written as soon as it is evaluated
    (the uncertainty columns are those of the inputs given ± on the command line). Otherwise they
    are known only when the input ends: rows wait in a temporary file (memory stays flat) and are
    written, under the header, at the end.

    `follows`: the header of the rows just above (a session makes a renderer a line), which is
    then not written again; `header` is the one in force after this renderer.
    """

    output_format = "csv"
    says_escapes = True

    def __init__(self, out, follows=None, **options):
        super().__init__(out, **options)
        self.header = follows
        self.writer = row_writer(self.out, self.output_format)
        self.sigma = bool(self.uncertain)  # whether there is a sigma column
        self.quiet, self.unwritten_said = options.get("quiet", False), False
        self.second = self.sigma and bool(self.extra_columns) and self.extra_columns[0] >= 2  # mean2, sigma2
        if self.wrt:
            self.names, self.pending = list(dict.fromkeys(self.wrt)), None
            self.shares = list(self.uncertain)
            self.extras = expected_columns(self.names, *self.extra_columns) if self.extra_columns else []
            self._header()
        else:
            import tempfile  # here: ~1 ms of every other run's start

            self.names, self.shares, self.extras = set(), set(), set()
            self.pending = tempfile.SpooledTemporaryFile(8 << 20, mode="w+")

    def _header(self):
        header = ["line", "expression", "value", *(f"grad_{n}" for n in self.names), *self.extras,
                  *(["sigma", *(f"share_{n}" for n in self.shares)] if self.sigma else []),
                  *(["mean2", "sigma2"] if self.second else []), "error", *(["check"] if self.check else [])]
        if header != self.header:
            self.writer.writerow(header)
            self.header = header

    def _add(self, line, expression, value, gradients, message, check="", uncertainty=None, extras=None):
        spread = None if uncertainty is None else {
            "sigma": uncertainty.sigma, "share": uncertainty.share,
            "second": None if uncertainty.second is None else [uncertainty.second.mean, uncertainty.second.sigma]}
        extras = extras or {}
        if self.pending is None:
            self._write(line, expression, value, gradients, message, check, spread, extras)
        else:
            self.names.update(gradients)
            self.extras.update(extras)
            if spread is not None:
                self.sigma = True
                self.second = self.second or spread["second"] is not None
                self.shares.update(spread["share"])
            gradients = {name: _plain(g) for name, g in gradients.items()}
            extras = {name: _plain(v) for name, v in extras.items()}
            self.pending.write(json.dumps([line, expression, _plain(value), gradients, message, check,
                                           spread, extras]) + "\n")

    def _write(self, line, expression, value, gradients, message, check, spread, extras):
        spread = spread or {"sigma": None, "share": {}, "second": None}
        self.writer.writerow([line, expression, _full(value),
                              *(_full(gradients.get(name)) for name in self.names),
                              *(_full(extras.get(name)) for name in self.extras),
                              *([_full(spread["sigma"]), *(_full(spread["share"].get(name)) for name in self.shares)]
                                if self.sigma else []),
                              *(map(_full, spread["second"] or [None, None]) if self.second else []),
                              message, *([check] if self.check else [])])
        self.out.flush()

    def result(self, result, line):
        check = result.check.summary() if result.check is not None else ""
        self._add(line, result.expression, result.value, result.gradients_for(self.wrt), "", check,
                  result.uncertainty, columns(result))
        if self.pending is None and result.uncertainty is not None:
            self._say_unwritten(result.uncertainty, line)

    def _say_unwritten(self, uncertainty, line) -> None:
        """Say once that a streamed row's σ has no column: --wrt fixed them before a job line gave an
        input ± of its own (`y = 1 ± 0.1; x*y`), and a second header would break the file."""
        unwritten = [name for name in uncertainty.share or () if not self.sigma or name not in self.shares]
        if unwritten and not self.quiet and not self.unwritten_said:
            self.unwritten_said, name = True, unwritten[0]
            width = message_width(sys.stderr)
            sys.stderr.write(message_lines("gradcalc: warning: ", f"line {line} has no sigma column: --wrt fixed the "
                                           f"{self.output_format} columns before its {name} ± σ", width) + "\n"
                             + message_lines("  hint: ", f"leave out --wrt, or give --{name} VALUE±SIGMA instead of "
                                             f"{name} = VALUE ± SIGMA on the lines", width, " " * 8) + "\n")

    def error(self, error, expression, line):
        where = f" (column {error.column})" if error.column is not None and error.says_column else ""
        self._add(line, expression, None, {}, f"{error.type}: {error.message}{where}")
        return True

    def close(self):
        if self.pending is not None:
            self.names, self.shares = sorted(self.names), sorted(self.shares)
            self.extras = sorted(self.extras, key=column_order)
            self._header()
            self.pending.seek(0)
            for row in self.pending:
                self._write(*json.loads(row))
            self.pending.close()
        super().close()


class TsvRenderer(CsvRenderer):
    """The same rows, tab-separated, with tabs, newlines and backslashes in cells escaped."""

    output_format = "tsv"


def _plain(value):
    """Arrays as nested lists of floats, for JSON and CSV cells."""
    if type(value) is float:  # most values: spare hasattr's failed lookup
        return value
    return value.tolist() if hasattr(value, "tolist") else value


def _full(value) -> str:
    """Full precision: the shortest round-trip text; an array as a JSON list."""
    if hasattr(value, "tolist") or isinstance(value, list):
        return json.dumps(_plain(value))
    return "" if value is None else repr(value)


RENDERERS = {
    "json": JsonRenderer,
    "jsonl": JsonLinesRenderer,
    "csv": CsvRenderer,
    "tsv": TsvRenderer,
    "plain": PlainRenderer,
    "latex": PlainRenderer,  # --diff only: the formula as LaTeX, one line per job
}
