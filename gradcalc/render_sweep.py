"""A sweep as a Rich table: the swept variables, the value and each gradient, one row per point;
a gap (a point outside the domain) shows as '—'."""

import math

from gradcalc.formatting import format_number, shorten


def print_table(sweep, columns: dict, outputs: list, out, precision=None, color=None) -> None:
    from rich.table import Table

    from gradcalc.render_tables import console, print_line

    table = Table()
    for name in columns:
        table.add_column(name, justify="right")
    table.add_column("value", justify="right")
    for name in sweep.gradient_names:
        table.add_column(f"∂f/∂{name}", justify="right")
    from gradcalc.higher_order import symbol

    for index in sweep.higher.indices:  # --order N
        table.add_column(symbol(index), justify="right")
    cells = [column.tolist() for column in (*columns.values(), *outputs)]
    for row in zip(*cells):
        table.add_row(*(_number(value, precision) for value in row))
    printer = console(out, color)
    # a line of its own: Rich pads a table's title with spaces to the table's width
    print_line(printer, shorten(sweep.graph.source, limit=max(printer.width, 20)))
    printer.print(table)


def _number(value: float, precision) -> str:
    return "—" if math.isnan(value) else format_number(value, precision)
