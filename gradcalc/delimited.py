"""Row writers for CSV and TSV output: every row one line that the usual tools read back.

CSV follows RFC 4180 through the csv module, which quotes a cell holding a comma, a quote, a
newline or a carriage return (a bare CR unquoted would end the row for Python's csv reader and
for spreadsheets); rows end with "\\n".
TSV has no quoting (`awk -F'\\t'`, `sort -t`, `cut` split on every tab), so a tab, newline,
carriage return or backslash inside a cell is written as \\t, \\n, \\r or \\\\, the convention of
PostgreSQL's COPY and of the "linear TSV" format.
"""

import csv
import io

_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class _Writer:
    """Rows of cells written to a text stream, with csv.writer's two methods."""

    def __init__(self, out):
        self.out = out

    def writerow(self, row) -> None:
        self.writerows([row])


class CsvWriter(_Writer):
    """csv.writer with rows ending in LF that also quotes a cell holding a bare carriage return."""

    def writerows(self, rows) -> None:
        rows = list(rows)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        text = buffer.getvalue()
        if "\r" in text:  # the csv module quotes a CR only when it belongs to the line terminator:
            buffer = io.StringIO()  # write "\r\n" rows, then make each row's final "\r\n" a "\n"
            csv.writer(_UnixLineEnds(buffer), lineterminator="\r\n").writerows(rows)
            text = buffer.getvalue()
        self.out.write(text)


class _UnixLineEnds:
    """Turns the CRLF ending each row (never one quoted inside a cell) into LF."""

    def __init__(self, out):
        self.out = out

    def write(self, line: str) -> None:
        self.out.write(line[:-2] + "\n")


class TsvWriter(_Writer):
    """Tab-separated cells, one row per line, special characters escaped with a backslash."""

    def writerows(self, rows) -> None:
        rows = list(rows)
        try:  # the usual chunk, cells of text with nothing to escape, is joined and checked in C
            text = "\n".join(["\t".join(row) for row in rows])
        except TypeError:  # a cell that is a number or None
            text = None
        if text is None or text.count("\t") != sum(map(len, rows)) - len(rows) or \
                text.count("\n") != len(rows) - 1 or "\r" in text or "\\" in text:
            text = "\n".join(["\t".join(map(tsv_cell, row)) for row in rows])
        if rows:
            self.out.write(text + "\n")


def tsv_cell(value) -> str:
    """A TSV cell: None as empty, backslash, tab, newline and carriage return escaped."""
    return "" if value is None else str(value).translate(_TSV_ESCAPES)


def writer(out, output_format: str):
    """The row writer of `output_format` ("csv" or "tsv") on `out`."""
    return TsvWriter(out) if output_format == "tsv" else CsvWriter(out)
