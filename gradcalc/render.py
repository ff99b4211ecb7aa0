"""Result -> text: Rich tables, JSON, JSON Lines, CSV/TSV and plain text. Never decides exit codes.

Each renderer takes jobs one at a time (`result`, `error`) and writes as it goes, so a stream of
jobs is printed as it is evaluated; `close` finishes what needs the whole run (a table, a JSON array).
"""

import json
import sys
from time import monotonic

from gradcalc.checked_output import escaping, json_escaped
from gradcalc.delimited import writer as row_writer
from gradcalc.errors import GradcalcError
from gradcalc.evaluator import Result
from gradcalc.formatting import encodable, format_array, format_number, labelled
from gradcalc.render_derivatives import (
    bare,
    column_order,
    columns,
    expected_columns,
    json_fields,
    plain_tokens,
    print_tables,
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
            sys.stderr.write(f"gradcalc: warning: the output's encoding ({stream.encoding}) lacks some of its "
                             "characters: written as \\u03b8 or in ASCII (+-)\n"
                             "  hint: PYTHONIOENCODING=utf-8, or a UTF-8 locale (LANG=C.UTF-8), writes them "
                             "as they are\n")

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
    """One line per job: the value, then name=gradient pairs; with one --wrt, the bare gradient.
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
            if result.check is not None:
                text += f" check={result.check.token()}"
        self.out.write(text + "\n")
        self.out.flush()

    def error(self, error, expression, line):
        if self.batch:
            self.out.write("error\n")
            self.out.flush()
        return False


class TableRenderer(Renderer):
    """Rich tables: per-node values and gradients, the output, then ∂output/∂variable.

    A batch gets one summary table (per-node tables with --nodes) when the run ends. Tables fit
    the console by shortening their expression column, never by breaking a number
    (gradcalc/render_tables.py).
    """

    def __init__(self, out, **options):
        super().__init__(out, **options)
        from gradcalc.render_tables import console

        # emoji=False: text is printed as written (no ":name:" codes), and Rich's table of
        # emoji codes is never loaded (~1 ms of the start)
        self.console = console(self.out, self.color, emoji=False)
        # the terminal's size, read once: Rich asks the terminal (three ioctls that fail when
        # stdout is not one) each time a table or line wants the width, ~0.1 ms of a start. A
        # renderer lasts one command line (a session makes one for each of its lines)
        self.console.size = self.console.size
        # a table shows two array columns side by side (value, gradient): each gets under half
        self.array_width = max(24, (self.console.width - 30) // 2)
        self.rows = []
        self.next_look = 0.0  # when to look again whether the reader of the held rows has gone (None: it has)

    def result(self, result, line):
        if self.batch and not self.nodes and not _own_tables(result):
            # a row of the summary alone: nothing to print yet, and Rich's buffer, entered and left
            # for nothing, cost ~60 µs a line (most of a table batch's time per line)
            self._hold(self._row(result, line))
            return
        with self.console:  # one write of the result's tables and lines, not one for each
            self._print_result(result, line)

    def _row(self, result, line) -> tuple:
        """A batch summary's row: line, expression, value, gradients, error message, σ."""
        sigma = None if result.uncertainty is None else result.uncertainty.sigma
        return line, result.expression, result.value, result.gradients_for(self.wrt), None, sigma

    def _print_result(self, result, line):
        if self.nodes:
            self._print_nodes(result, line if self.batch else None)
        if self.batch:
            self._hold(self._row(result, line))
            # the summary holds no matrices: they are printed with each line
            print_tables(self.console, result, self.number, self.as_text, f"line {line}: ")
        else:
            self._print_gradients(result, result.gradients_for(self.wrt))
            print_tables(self.console, result, self.number, self.as_text)
            if result.uncertainty is not None:
                self._print_uncertainty(result)
        if result.check is not None:
            self._print_check(result.check, line if self.batch else None)
        if result.explain is not None:
            from gradcalc.render_explain import print_explain

            print_explain(self, result, result.explain, line if self.batch else None)

    def error(self, error, expression, line):
        if self.batch:
            self._hold((line, expression, None, {}, error.message, None))
        return False

    def _hold(self, row) -> None:
        """Keep a batch's row for the summary, printed when the input ends. Nothing is written
        meanwhile, so a reader that has gone (`| head -1`, `| true`) is looked for every 0.1 s and
        ends the run at the next row as a write would (BrokenPipeError), not after every line is
        evaluated; the row that found it still counts (its exit code, its error on stderr)."""
        if self.next_look is None:
            raise BrokenPipeError
        self.rows.append(row)
        now = monotonic()
        if now >= self.next_look:
            from gradcalc.checked_output import reader_gone

            self.next_look = None if reader_gone(self.out) else now + 0.1

    def _print_nodes(self, result, line):
        from gradcalc.render_tables import Column, print_table

        graph = result.graph
        arrays = any(hasattr(value, "shape") for value in result.values)
        columns = [Column("id"), Column("node", "left", "shorten"), Column("layer", "left"),
                   Column("inputs", "left"), *([Column("shape", "left")] if arrays else []),
                   Column("value"), Column("gradient")]
        rows = []
        for node in graph.nodes:
            value = result.values[node.id]
            cells = [str(node.id), graph.label(node), type(node.layer).__name__,
                     ", ".join(map(str, node.inputs)), value, result.grads[node.id]]
            if arrays:
                cells.insert(4, _shape(value))
            rows.append(cells)
        title = result.expression if line is None else f"line {line}: {result.expression}"
        print_table(self.console, columns, self.as_text(columns, rows), title=title,
                    caption="gradient = ∂output/∂node")

    def _print_gradients(self, result, gradients):
        from gradcalc.render_tables import Column, print_line, print_prose, print_table

        label = "output = "
        if result.uncertainty is None:
            text = self.number(result.value, self.console.width - len(label))
        else:
            text = f"{self._plus_minus(result.value, result.uncertainty.sigma)} (σ by first-order propagation)"
        print_line(self.console, labelled(label, text))
        if hasattr(result.value, "shape"):
            seeded = "ones (the gradient of the sum of its elements)" if result.seed is None else "--seed-grad"
            print_prose(self.console, f"the output is an array of shape {result.value.shape}: backward "
                                      f"was seeded with {seeded}")
        if not gradients:
            print_line(self.console, "(no variables: nothing to differentiate)")
            return
        columns = [Column("variable", "left", "shorten"), Column("value"), Column("∂output/∂variable")]
        rows = [[name, result.inputs[name], grad] for name, grad in gradients.items()]
        print_table(self.console, columns, self.as_text(columns, rows))

    def as_text(self, columns, rows: list[list]) -> list[list[str]]:
        """Rows of texts and values (numbers, arrays, None) as texts, the arrays wrapped where the
        table fits the console (gradcalc/render_tables.py, array_widths)."""
        from gradcalc.render_tables import array_widths

        arrays = [index for index in range(len(columns))
                  if any(not isinstance(row[index], str) and hasattr(row[index], "shape") for row in rows)]
        widths = {}
        if arrays:
            texts = [["" if index in arrays else cell if isinstance(cell, str) else self.number(cell)
                      for index, cell in enumerate(row)] for row in rows]
            widths = array_widths(self.console.width, columns, texts, arrays)
        return [[cell if isinstance(cell, str) else self.number(cell, widths.get(index))
                 for index, cell in enumerate(row)] for row in rows]

    def _plus_minus(self, value, sigma) -> str:
        """value ± σ, σ to two significant digits (or both to --precision digits)."""
        if self.precision is not None:
            return f"{self.number(value)} ± {self.number(sigma)}"
        from gradcalc.uncertainty import format_plus_minus

        return format_plus_minus(value, sigma)

    def _print_uncertainty(self, result):
        from gradcalc.render_tables import Column, print_line, print_prose, print_table

        uncertainty, digits = result.uncertainty, self.precision or 4
        columns = [Column("input", "left", "shorten"), Column("value ± σ"), Column("contribution"),
                   Column("share"), Column("elasticity")]
        rows = []
        for name, contribution in uncertainty.contributions.items():
            share, elasticity = uncertainty.share[name], uncertainty.elasticity[name]
            rows.append([name, f"{self.number(result.inputs[name])} ± {self.number(uncertainty.sigmas[name])}",
                         format_number(contribution, digits), _percent(share),
                         "" if elasticity is None else format_number(elasticity, digits)])
        print_table(self.console, columns, rows, title="sensitivity, largest share of σ² first")
        print_line(self.console, "contribution = ∂output/∂x·σ, elasticity = ∂output/∂x·x/output")
        if uncertainty.second is not None:
            second = uncertainty.second
            moments = self._plus_minus(second.mean, second.sigma)
            print_line(self.console, f"second order (normal inputs): {moments} (mean ± σ)")
            print_prose(self.console, second.note(uncertainty.sigma))

    def _print_check(self, report, line):
        from gradcalc.render_tables import Column, print_prose, print_table

        title = "gradient check (central differences)" + (f", line {line}" if line is not None else "")
        columns = [Column("variable", "left", "shorten"), Column("analytic"), Column("numeric"),
                   Column("abs error"), Column("rel error"), Column("verdict", "left")]
        rows = [[row.name, self.number(row.analytic),
                 "" if row.numeric is None else format_number(row.numeric, self.precision or 12),
                 _short(row.abs_error), _short(row.rel_error), row.verdict] for row in report.rows]
        print_table(self.console, columns, rows, title=title)
        for row in report.rows:
            if row.note:
                print_prose(self.console, f"{row.name}: {row.note}", indent="  ")

    def close(self):
        if self.batch and self.rows:
            self._print_summary()
        super().close()

    def _print_summary(self):
        from gradcalc.render_tables import Column, print_table

        names = sorted({name for row in self.rows for name in row[3]})
        sigmas = any(row[5] is not None for row in self.rows)
        columns = [Column("line"), Column("expression", "left", "shorten"), Column("value"),
                   *([Column("± σ")] if sigmas else []), *(Column(f"∂/∂{name}") for name in names),
                   Column("error", "left", "wrap")]
        rows = [[str(line), expression or "", value, *([sigma] if sigmas else []),
                 *(gradients.get(name) for name in names), message or ""]
                for line, expression, value, gradients, message, sigma in self.rows]
        print_table(self.console, columns, self.as_text(columns, rows))


class CsvRenderer(Renderer):
    """Rows of line,expression,value,grad_<name>...,error: one grad_<name> column per variable
    of the run, in name order (or one per --wrt, in the order given); then the derivatives that
    --order, --jvp, --hvp and --jacobian ask for (d2_x_y, jvp, hvp_x, ...); with uncertainties,
    sigma and one share_<name> column per uncertain input (and with --order 2, mean2 and sigma2).

    With --wrt the columns are known at once and every row is written as soon as it is evaluated
    (the uncertainty columns are those of the inputs given ± on the command line). Otherwise they
    are known only when the input ends: rows wait in a temporary file (memory stays flat) and are
    written, under the header, at the end.
    """

    output_format = "csv"
    says_escapes = True

    def __init__(self, out, **options):
        super().__init__(out, **options)
        self.writer = row_writer(self.out, self.output_format)
        self.sigma = bool(self.uncertain)  # whether there is a sigma column
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
        self.writer.writerow(["line", "expression", "value", *(f"grad_{n}" for n in self.names), *self.extras,
                              *(["sigma", *(f"share_{n}" for n in self.shares)] if self.sigma else []),
                              *(["mean2", "sigma2"] if self.second else []),
                              "error", *(["check"] if self.check else [])])

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

    def error(self, error, expression, line):
        where = f" (column {error.column})" if error.column is not None else ""
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


def _own_tables(result) -> bool:
    """Whether a batch's line prints tables of its own before the summary (derivatives, a check,
    the chain rule)."""
    return bool(result.derivatives) or result.check is not None or result.explain is not None \
        or result.jacobian is not None or result.jvp is not None or result.hvp is not None


def _shape(value) -> str:
    if not hasattr(value, "shape"):
        return "scalar"
    return f"{'×'.join(map(str, value.shape))} {value.dtype}"


def _plain(value):
    """Arrays as nested lists of floats, for JSON and CSV cells."""
    if type(value) is float:  # most values: spare hasattr's failed lookup
        return value
    return value.tolist() if hasattr(value, "tolist") else value


def _percent(share) -> str:
    if share is None:
        return ""
    return "<0.1%" if 0 < share < 0.0005 else f"{share:.1%}"


def _short(value) -> str:
    return "" if value is None else format(value, ".2g")


def _full(value) -> str:
    """Full precision: the shortest round-trip text; an array as a JSON list."""
    if hasattr(value, "tolist") or isinstance(value, list):
        return json.dumps(_plain(value))
    return "" if value is None else repr(value)


RENDERERS = {
    "table": TableRenderer,
    "json": JsonRenderer,
    "jsonl": JsonLinesRenderer,
    "csv": CsvRenderer,
    "tsv": TsvRenderer,
    "plain": PlainRenderer,
    "latex": PlainRenderer,  # --diff only: the formula as LaTeX, one line per job
}
