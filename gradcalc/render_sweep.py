"""A sweep as a table: the swept variables, the value and each gradient, one row per point; a gap
(a point outside the domain) shows as '—'. Laid out as every table is (render_tables.py): numbers
whole, as records where the columns cannot fit the console."""

import math

from gradcalc.formatting import format_number, shorten


def print_table(sweep, columns: dict, outputs: list, out, precision=None, color=None) -> None:
    from gradcalc.higher_order import symbol
    from gradcalc.render_tables import Column
    from gradcalc.render_tables import print_table as print_fitted
    from gradcalc.render_text import console

    printer = console(out, color)
    headers = (*columns, "value", *(f"∂f/∂{name}" for name in sweep.gradient_names),
               *(symbol(index) for index in sweep.higher.indices))  # --order N
    cells = [column.tolist() for column in (*columns.values(), *outputs)]
    rows = [[_number(value, precision) for value in row] for row in zip(*cells)]
    print_fitted(printer, [Column(header) for header in headers], rows,
                 title=shorten(sweep.graph.source, limit=max(printer.width, 20)))


def _number(value: float, precision) -> str:
    return "—" if math.isnan(value) else format_number(value, precision)
