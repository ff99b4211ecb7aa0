"""A sweep as a Rich table: the swept variables, the value and each gradient, one row per point;
a gap (a point outside the domain) shows as '—'."""

import math

from gradcalc.formatting import format_number


def print_table(sweep, columns: dict, outputs: list, out, precision=None, color=None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=sweep.graph.source, title_justify="left")
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
    console = Console(file=out, highlight=False, soft_wrap=False, force_terminal=color,
                      no_color=color is False)
    console.print(table)


def _number(value: float, precision) -> str:
    return "—" if math.isnan(value) else format_number(value, precision)
