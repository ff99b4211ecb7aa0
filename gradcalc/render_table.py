"""`-o table`, the default output: TableRenderer prints a job's tables (nodes, gradients, σ,
check, the chain rule) and a batch's summary, drawn by render_tables.py to fit the console.

A module of its own so that the JSON, CSV and plain paths never load it.
"""

from time import monotonic

from gradcalc.formatting import cell_width, labelled
from gradcalc.render import Renderer
from gradcalc.render_derivatives import print_tables


class TableRenderer(Renderer):
    """Rich tables: per-node values and gradients, the output, then ∂output/∂variable.

    A batch gets one summary table (per-node tables with --nodes) when the run ends. Tables fit
    the console by shortening their expression column, never by breaking a number
    (gradcalc/render_tables.py).
    """

    def __init__(self, out, **options):
        super().__init__(out, **options)
        from gradcalc.render_text import console

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
            print_tables(self.console, result, self.number, f"line {line}: ")
        else:
            self._print_gradients(result, result.gradients_for(self.wrt))
            print_tables(self.console, result, self.number)
            if result.uncertainty is not None:
                self._print_uncertainty(result)
        if result.check is not None:
            self._print_check(result.check, line if self.batch else None)
        if result.explain is not None:
            from gradcalc.render_explain import print_explain

            print_explain(self, result, result.explain, line if self.batch else None)

    def explanation(self, result) -> None:
        """The chain-rule table of a result already shown (the session's :explain): the result is
        not printed again, so a file of results holds each once."""
        from gradcalc.render_explain import print_explain

        with self.console:
            print_explain(self, result, result.explain)

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
        print_table(self.console, columns, rows, title=title, caption="gradient = ∂output/∂node", number=self.number)

    def _print_gradients(self, result, gradients):
        from gradcalc.render_tables import Column, print_table
        from gradcalc.render_text import print_line, print_prose, widest_line

        label, width = "output = ", self.console.width
        if result.uncertainty is None:
            text = labelled(label, self.number(result.value, width - len(label)))
            if widest_line(text) > width:  # a number wider than the label leaves: on the next line
                text = "output =\n" + labelled("  ", self.number(result.value, width - 2))
        else:
            text = self._measured("output =", result.value, result.uncertainty.sigma, "(σ by first-order propagation)")
        print_line(self.console, text)
        if hasattr(result.value, "shape"):
            seeded = "ones (the gradient of the sum of its elements)" if result.seed is None else "--seed-grad"
            print_prose(self.console, f"the output is an array of shape {result.value.shape}: backward "
                                      f"was seeded with {seeded}")
        if not gradients:
            print_line(self.console, "(no variables: nothing to differentiate)")
            return
        columns = [Column("variable", "left", "shorten"), Column("value"), Column("∂output/∂variable")]
        rows = [[name, result.inputs[name], grad] for name, grad in gradients.items()]
        print_table(self.console, columns, rows, number=self.number)

    def _plus_minus(self, value, sigma) -> str:
        """value ± σ, σ to two significant digits (or both to --precision digits)."""
        if self.precision is not None:
            return f"{self.number(value)} ± {self.number(sigma)}"
        from gradcalc.uncertainty import format_plus_minus

        return format_plus_minus(value, sigma)

    def _measured(self, label: str, value, sigma, note: str) -> str:
        """`label value ± σ note` in one line where it fits the console; else the note on a line of
        its own, and where `label value ± σ` alone is wider, the measurement under the label
        (`value ± σ` is never broken)."""
        from gradcalc.render_text import widest_line

        measured, width = self._plus_minus(value, sigma), self.console.width
        if widest_line(f"{label} {measured} {note}") <= width:
            return f"{label} {measured} {note}"
        if widest_line(f"{label} {measured}") <= width:
            return f"{label} {measured}\n{note}"
        return f"{label}\n  {measured}\n{note}"

    def _print_uncertainty(self, result):
        from gradcalc.render_tables import Column, print_table
        from gradcalc.render_text import print_line, print_prose

        uncertainty = result.uncertainty
        columns = [Column("input", "left", "shorten"), Column("value ± σ"), Column("contribution"),
                   Column("share"), Column("elasticity")]
        # numbers whole, as every table's (or to --precision); the share is a percentage to 0.1%
        rows = [[name, f"{self.number(result.inputs[name])} ± {self.number(uncertainty.sigmas[name])}",
                 self.number(contribution), _percent(uncertainty.share[name]),
                 self.number(uncertainty.elasticity[name])]
                for name, contribution in uncertainty.contributions.items()]
        print_table(self.console, columns, rows, title="sensitivity, largest share of σ² first")
        print_prose(self.console, "contribution = ∂output/∂x·σ, elasticity = ∂output/∂x·x/output")
        if uncertainty.second is not None:
            second = uncertainty.second
            print_line(self.console, self._measured("second order (normal inputs):", second.mean, second.sigma,
                                                    "(mean ± σ)"))
            print_prose(self.console, second.note())

    def _print_check(self, report, line):
        from gradcalc.render_tables import Column, print_table
        from gradcalc.render_text import print_prose

        title = "gradient check (central differences)" + (f", line {line}" if line is not None else "")
        columns = [Column("variable", "left", "shorten"), Column("analytic"), Column("numeric"),
                   Column("abs err"), Column("rel err"), Column("verdict", "left")]
        # both derivatives whole (or to --precision), to be compared digit by digit; the errors
        # short, as said in two digits is all they tell
        rows = [[row.name, self.number(row.analytic), self.number(row.numeric),
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
        from gradcalc.render_tables import Column, fits, print_table, table_texts

        names = sorted({name for row in self.rows for name in row[3]})
        sigmas = any(row[5] is not None for row in self.rows)
        columns = [Column("line"), Column("expression", "left", "shorten"), Column("value"),
                   *([Column("± σ")] if sigmas else []), *(Column(f"∂/∂{name}") for name in names),
                   Column("error", "left", "wrap")]
        rows = [[str(line), expression or "", value, *([sigma] if sigmas else []),
                 *(gradients.get(name) for name in names), message or ""]
                for line, expression, value, gradients, message, sigma in self.rows]
        texts = table_texts(self.console.width, columns, rows, self.number)
        if len(names) > 1 and not fits(self.console.width, columns, texts):
            joined_columns, joined = _gradients_in_one_column(columns, texts, names, 3 + sigmas)
            if fits(self.console.width, joined_columns, joined):
                print_table(self.console, joined_columns, joined)
            else:  # neither fits: records, a '∂/∂NAME' line for each variable of a line's job
                from gradcalc.render_records import print_records

                print_records(self.console, columns, rows, self.number, None, None)
            return
        print_table(self.console, columns, rows, number=self.number, texts=texts)  # or records, where none fits


def _gradients_in_one_column(columns: list, rows: list[list[str]], names: list[str], first: int) -> tuple:
    """A batch summary too wide for a column per variable: its ∂/∂NAME columns (from index `first`)
    joined into one column of "gradients", a line per variable of the job ("∂/∂a 2"), the numbers
    whole and right-aligned."""
    from gradcalc.render_tables import Column

    last = first + len(names)
    joined = []
    for row in rows:
        entries = [(f"∂/∂{name}", cell) for name, cell in zip(names, row[first:last]) if cell]
        label = max((cell_width(name) for name, _ in entries), default=0)
        number = max((cell_width(cell) for _, cell in entries if "\n" not in cell), default=0)
        cell = "\n".join(labelled(name + " " * (label - cell_width(name) + 1), value) if "\n" in value  # an array
                          else name + " " * (label - cell_width(name) + 1 + number - cell_width(value)) + value
                          for name, value in entries)
        joined.append([*row[:first], cell, *row[last:]])
    return [*columns[:first], Column("gradients"), *columns[last:]], joined


def _own_tables(result) -> bool:
    """Whether a batch's line prints tables of its own before the summary (derivatives, a check,
    the chain rule)."""
    return bool(result.derivatives) or result.check is not None or result.explain is not None \
        or result.jacobian is not None or result.jvp is not None or result.hvp is not None


def _shape(value) -> str:
    if not hasattr(value, "shape"):
        return "scalar"
    return f"{'×'.join(map(str, value.shape))} {value.dtype}"


def _percent(share) -> str:
    if share is None:
        return ""
    return "<0.1%" if 0 < share < 0.0005 else f"{share:.1%}"


def _short(value) -> str:
    return "" if value is None else format(value, ".2g")
