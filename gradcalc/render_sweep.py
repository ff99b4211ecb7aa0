"""A sweep as a Rich table: the swept variables, the value and each gradient, one row per point;
a gap (a point outside the domain) shows as '—'."""

import math

from gradcalc.formatting import format_number, shorten


def print_table(sweep, columns: dict, outputs: list, out, precision=None, color=None) -> None:
    from rich.table import Table

    from gradcalc.formatting import encodable
    from gradcalc.higher_order import symbol
    from gradcalc.render_tables import console, lacking, print_line

    printer = console(out, color)
    encoding = lacking(printer)  # what it lacks escaped before the layout, so that columns line up
    table = Table()
    for header in (*columns, "value", *(f"∂f/∂{name}" for name in sweep.gradient_names),
                   *(symbol(index) for index in sweep.higher.indices)):  # --order N
        # a header Rich cuts is marked '…': where that cannot be written, the header wraps instead
        table.add_column(encodable(header, encoding), justify="right", overflow="fold" if encoding else "ellipsis")
    cells = [column.tolist() for column in (*columns.values(), *outputs)]
    for row in zip(*cells):
        table.add_row(*(encodable(_number(value, precision), encoding) for value in row))
    # a line of its own: Rich pads a table's title with spaces to the table's width
    print_line(printer, shorten(sweep.graph.source, limit=max(printer.width, 20)))
    printer.print(table)


def _number(value: float, precision) -> str:
    return "—" if math.isnan(value) else format_number(value, precision)
