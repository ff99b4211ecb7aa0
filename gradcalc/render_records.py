"""A table too wide for the console, printed as records (as psql's expanded display, `\\x`, prints
rows): each row a heading, its first column's header and cell ("id 1", "line 3"), then a line per
other cell that is not empty, `header  text`, the headers in the table's header style.

Each text takes the width beside the headers: an array wraps between elements, a label is shortened
in the middle, a message wraps between words. A text that does not fit there (a number wider, a
label that would be cut below READABLE cells) starts on the line under its header, indented, with
the console's width less the indent. Only a number wider than that makes a line wider than the
console: numbers are never broken.
"""

from rich.cells import cell_len
from rich.segment import Segment, Segments

from gradcalc.formatting import encodable
from gradcalc.render_text import (
    NUMBER,
    READABLE,
    SHORTEST_PROSE,
    ascii_cut,
    is_array,
    lacking,
    print_prose,
    print_title,
    widest_line,
)

INDENT = "  "  # before each cell's header
BELOW = "    "  # before the lines of a text under its header
GAP = "  "  # between the widest header and its text
RECORDS_AT_ONCE = 1000  # records laid out and written at a time: `| head` gets the first at once


def print_records(console, columns: list, rows: list[list], number, title: str | None, caption: str | None) -> None:
    """Print `rows` (cells as text, or, given `number`, values it writes: number(value, width)) as
    records under `title`, then `caption`, within the console's width."""
    encoding, in_ascii = lacking(console), ascii_cut(console)
    headers = [encodable(column.header, encoding) for column in columns]
    label = max(map(cell_len, headers[1:]), default=0)
    beside = console.width - len(INDENT) - label - len(GAP)
    below = max(1, console.width - len(BELOW))
    under = "\n" + " " * (len(INDENT) + label + len(GAP))  # a text's further lines beside its header
    gaps = [" " * (label - cell_len(header)) + GAP for header in headers]
    heading_width = max(1, console.width - cell_len(headers[0]) - 1)
    first = headers[0] + " " if headers[0] else ""
    style = console.get_style("table.header") if console.color_system else None
    if title is not None:
        print_title(console, title)
    for start in range(0, len(rows), RECORDS_AT_ONCE):
        lines = []  # (header, text after it) pairs: the header styled where the console has colour
        for row in rows[start:start + RECORDS_AT_ONCE]:
            texts = [_text(cell, number, encoding) for cell in row]
            heading = texts[0] if is_array(row[0]) else columns[0].fitted(texts[0], heading_width, in_ascii)
            lines.append((first, heading.replace("\n", " ")))
            for index in range(1, len(row)):
                cell, text = row[index], texts[index]
                if text == "" and not is_array(cell):
                    continue
                shown = _within(columns[index], cell, text, number, encoding, beside, in_ascii)
                if shown is not None:  # beside its header, its lines under the first
                    lines.append((INDENT + headers[index], gaps[index] + shown.replace("\n", under)))
                else:
                    shown = _within(columns[index], cell, text, number, encoding, below, in_ascii, anyway=True)
                    lines.append((INDENT + headers[index], "\n" + BELOW + shown.replace("\n", "\n" + BELOW)))
        if style is None:  # no colour: one segment (through the console, whose buffer may hold lines before)
            console.print(Segments([Segment("".join(f"{header}{text}\n" for header, text in lines))]), crop=False)
        else:
            segments = []
            for header, text in lines:
                segments += [Segment(header[:len(header) - len(header.lstrip())]), Segment(header.strip(), style),
                             Segment(header[len(header.rstrip()):] + text), Segment.line()]
            console.print(Segments(segments), crop=False)
    if caption is not None:
        print_prose(console, caption)


def _text(cell, number, encoding) -> str:
    """A cell's text as the table would hold it: an array's is written later, to its width."""
    if isinstance(cell, str):
        return cell if cell.isascii() else encodable(cell, encoding)
    return "" if is_array(cell) else number(cell)


def _within(column, cell, text: str, number, encoding, width: int, in_ascii: bool, anyway: bool = False):
    """The cell's text within `width` cells, or None where it does not fit there (unless `anyway`:
    then as narrow as it goes, numbers whole)."""
    if is_array(cell):
        text = encodable(number(cell, max(1, width)), encoding)
    elif column.fit == "keep" or "  " not in text and text.isprintable() and text.strip() == text \
            and cell_len(text) <= width:
        pass  # as it is: what shortening or wrapping a single-spaced printable text that fits gives
    elif column.fit == "shorten":
        if not anyway and width < min(cell_len(text), READABLE):
            return None
        text = column.fitted(text, max(width, READABLE), in_ascii)
    elif column.fit == "wrap":
        least = max([SHORTEST_PROSE, *map(cell_len, NUMBER.findall(text))])
        if not anyway and width < min(widest_line(text), least):
            return None
        text = column.fitted(text, max(width, least))
    return text if anyway or widest_line(text) <= width else None
