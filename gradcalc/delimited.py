"""Row writers for CSV and TSV output: every row one line that the usual tools read back.

CSV follows RFC 4180 through the csv module, which quotes a cell holding a comma, a quote, a
newline or a carriage return (a bare CR unquoted would end the row for Python's csv reader and
for spreadsheets); rows end with "\\n".
TSV has no quoting (`awk -F'\\t'`, `sort -t`, `cut` split on every tab), so a tab, newline,
carriage return or backslash inside a cell is written as \\t, \\n, \\r or \\\\, the convention of
PostgreSQL's COPY and of the "linear TSV" format.
"""

import csv

_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class _Writer:
    """Rows of cells written to a text stream, with csv.writer's two methods."""

    def __init__(self, out):
        self.out = out

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


class CsvWriter(_Writer):
    """csv.writer with rows ending in LF that also quotes a cell holding a bare carriage return."""

    def __init__(self, out):
        super().__init__(out)
        self.plain = csv.writer(out, lineterminator="\n")
        # the csv module quotes a CR only when it belongs to the line terminator: a row with one
        # is written with CRLF, which the stream below turns back into LF
        self.quoting_cr = csv.writer(_UnixLineEnds(out), lineterminator="\r\n")

    def writerow(self, row) -> None:
        carriage_return = any(isinstance(cell, str) and "\r" in cell for cell in row)
        (self.quoting_cr if carriage_return else self.plain).writerow(row)


class _UnixLineEnds:
    """Turns the CRLF ending each row (never one quoted inside a cell) into LF."""

    def __init__(self, out):
        self.out = out

    def write(self, line: str) -> None:
        self.out.write(line[:-2] + "\n")


class TsvWriter(_Writer):
    """Tab-separated cells, one row per line, special characters escaped with a backslash."""

    def writerow(self, row) -> None:
        self.out.write("\t".join(map(tsv_cell, row)) + "\n")


def tsv_cell(value) -> str:
    """A TSV cell: None as empty, backslash, tab, newline and carriage return escaped."""
    return "" if value is None else str(value).translate(_TSV_ESCAPES)


def writer(out, output_format: str):
    """The row writer of `output_format` ("csv" or "tsv") on `out`, checking every cell."""
    return TsvWriter(out) if output_format == "tsv" else CsvWriter(out)


def bulk_writer(out, output_format: str):
    """csv.writer at full speed for many rows whose cells need no checks: numbers, and text with
    no carriage return (CSV) or already passed through `tsv_cell` (TSV)."""
    if output_format == "tsv":
        return csv.writer(out, delimiter="\t", quoting=csv.QUOTE_NONE, quotechar=None, lineterminator="\n")
    return csv.writer(out, lineterminator="\n")
