"""Rich tables that fit the console without breaking a number.

Numbers and headers are never wrapped or cut. When a table is wider than the console, its text
column (an expression, a node, a variable) is shortened in the middle, as JSON's `expr` is (to no
fewer cells than its header), its prose column (an error message, a formula) wraps between words, a
word longer than the column after an operator, never inside a number (the column is never narrower
than its longest number), and its arrays wrap between elements; the widest column that may give way
gives way first. A table that still does not fit is printed as records (render_records.py): a line
per cell, as psql's expanded display prints a row.
Titles, captions and messages are single lines or wrapped between words, with no trailing spaces.
"""

from rich.box import HEAVY_HEAD
from rich.cells import cell_len
from rich.segment import Segment, Segments
from rich.text import Text

from gradcalc.formatting import LABEL_LIMIT, encodable, shorten
from gradcalc.render_text import (
    NUMBER,
    SHORTEST_PROSE,
    ascii_cut,
    is_array,
    lacking,
    marked,
    print_prose,
    print_title,
    widest_line,
    wrapped,
)


class Column:  # a plain class: a dataclass costs ~0.5 ms of every table's start, a NamedTuple ~0.1 ms
    """One column: its header, alignment, and how it may give way when the console is narrow."""

    __slots__ = ("header", "justify", "fit", "cut")

    def __init__(self, header: str, justify: str = "right", fit: str = "keep", cut=None):
        self.header = header
        self.justify = justify
        self.fit = fit  # keep: never wrapped or cut; shorten: cut in the middle; wrap: between words
        # how a shortened column's cell fits a width, if not cut in the middle: cut(text, width)
        # returns the text within `width`, or its narrowest form where none fits (cut(text, 0))
        self.cut = cut

    def __repr__(self) -> str:
        return f"Column({self.header!r}, {self.justify!r}, {self.fit!r})"

    def fitted(self, text: str, width: int, in_ascii: bool = False) -> str:
        """A cell's text as this column shows it `width` wide: shortened, wrapped or as it is (a
        cut marked '...' where the console cannot write '…': `in_ascii`)."""
        if self.fit == "wrap":
            return wrapped(text, width)
        if self.fit != "shorten":
            return text
        return marked(self._shortened, text, width, in_ascii)

    def _shortened(self, text: str, width: int) -> str:
        return shorten(text, limit=width) if self.cut is None else self.cut(text, width)


SECTION_ROWS = 1000  # a long table is laid out and written this many rows at a time


def print_table(console, columns: list[Column], rows: list[list], title: str | None = None,
                caption: str | None = None, number=None, texts: list[list[str]] | None = None) -> None:
    """Print `rows` under `title`, fitted to the console: cells as text, or, given `number`, also
    values (numbers, arrays, None) that `number(value, width)` writes, arrays wrapped between
    elements so that the table fits (table_texts; `texts`: the table's cells where the caller has
    them). A table that cannot fit, every column as narrow as it may go, is printed as records
    (render_records.py), from `rows`."""
    encoding = lacking(console)
    if texts is None:
        texts = rows if number is None else table_texts(console.width, columns, rows, number)
    shown = columns
    if encoding is not None:  # escaped before the layout, so that the columns line up as written
        shown = [Column(encodable(column.header, encoding), column.justify, column.fit, column.cut)
                 for column in columns]
        texts = [[encodable(cell, encoding) for cell in row] for row in texts]
    widths = fitted_widths(console.width, shown, texts)
    in_ascii = ascii_cut(console)
    cells = [[column.fitted(cell, width, in_ascii) for column, width, cell in zip(shown, widths, row)]
             for row in texts]
    if any(column.cut is not None for column in shown):  # cut labels may leave room ('#4' in 8 columns)
        shortened = [[cut if column.fit == "shorten" else cell for column, cut, cell in zip(shown, fitted, row)]
                     for fitted, row in zip(cells, texts)]
        roomier = fitted_widths(console.width, shown, shortened)  # what is left goes to the others
        if roomier != widths:
            widths = roomier
            cells = [[column.fitted(cell, width, in_ascii) for column, width, cell in zip(shown, widths, row)]
                     for row in shortened]
    if table_width(widths) > console.width:
        from gradcalc.render_records import print_records

        print_records(console, columns, rows, number, title, caption)
        return
    cells, as_laid_out = aligned_blocks(shown, widths, cells)
    if title is not None:
        print_title(console, title)
    if len(cells) <= SECTION_ROWS:
        console.print(_table(console, shown, widths, stacked_rows(shown, widths, cells), as_laid_out), crop=False)
    else:
        print_sections(console, shown, widths, cells, as_laid_out)
    if caption is not None:
        print_prose(console, caption)


def table_width(widths: list[int]) -> int:
    """The cells a table takes whose columns' texts are `widths` wide: each column's text padded by
    a space either side and followed by a rule, and the rule before the first."""
    return sum(widths) + 3 * len(widths) + 1


def print_sections(console, columns: list[Column], widths: list[int], rows: list[list[str]],
                   as_laid_out: list[bool]) -> None:
    """A long table as one table, laid out and written SECTION_ROWS rows at a time: the first lines
    reach a reader (`| head`) at once rather than after every row is laid out (seconds for 100,000
    rows), and a reader that has gone stops the rest. Each section is a table of the same widths,
    with no rules between rows, so its rows less its header and edges join the next as one table would."""
    last = len(rows) - SECTION_ROWS
    for start in range(0, len(rows), SECTION_ROWS):
        section = stacked_rows(columns, widths, rows[start:start + SECTION_ROWS])
        with console.capture() as capture:
            console.print(_table(console, columns, widths, section, as_laid_out), crop=False)
        lines = capture.get().split("\n")[:-1]  # it ends with a newline
        # the header (its rule above, its line, its rule below) of the first, the bottom rule of the last
        lines = lines[3 * (start > 0):len(lines) - (start < last)]
        console.file.write("\n".join(lines) + "\n")
        console.file.flush()


def _table(console, columns: list[Column], widths: list[int], rows: list[list[str]], as_laid_out: list[bool]):
    """The table to print: drawn directly where drawn_table can, else laid out by Rich."""
    drawn = drawn_table(console, columns, widths, rows, as_laid_out)
    return rich_table(columns, widths, rows, as_laid_out) if drawn is None else drawn


def aligned_blocks(columns: list[Column], widths: list[int], rows: list[list[str]]) -> tuple[list, list]:
    """The rows with every cell of a right-aligned column that holds a multi-line cell (an array)
    right-aligned as a block: each line moved by the same amount, so that an array's short last line
    keeps its elements under their columns (Rich would right-align it alone). Returns the rows and,
    per column, whether its cells are now laid out (for Rich to print their lines as they are)."""
    laid_out = [column.justify == "right" and column.fit == "keep" and any("\n" in row[index] for row in rows)
                for index, column in enumerate(columns)]
    if not any(laid_out):
        return rows, laid_out
    aligned = []
    for row in rows:
        row = list(row)
        for index, width in enumerate(widths):
            if laid_out[index]:
                lines = row[index].split("\n")
                margin = " " * (width - max(map(cell_len, lines)))
                row[index] = "\n".join(margin + line for line in lines)
        aligned.append(row)
    return aligned, laid_out


def rich_table(columns: list[Column], widths: list[int], rows: list[list[str]],
               as_laid_out: list[bool] | None = None):
    """A Rich table of `rows` (cells as text), its columns `widths` wide; the cells of a column
    `as_laid_out` keep their lines' places (see aligned_blocks), its header is aligned as usual."""
    from rich.table import Table  # only where drawn_table cannot draw the table (~1 ms of imports)

    table = Table(width=table_width(widths))
    for column, width in zip(columns, widths):
        table.add_column(Text(column.header), justify=column.justify, width=width,
                         no_wrap=column.fit != "wrap", overflow="ellipsis" if column.fit == "shorten" else "fold")
    if as_laid_out is None or not any(as_laid_out):
        for row in rows:
            table.add_row(*map(Text, row))
        return table
    for row in rows:
        table.add_row(*(Text(cell, justify="left") if laid_out else Text(cell)
                        for cell, laid_out in zip(row, as_laid_out)))
    return table


def drawn_table(console, columns: list[Column], widths: list[int], rows: list[list[str]],
                as_laid_out: list[bool]) -> Segments | None:
    """The fast path of rich_table: the segments Rich's table prints for `rows`, drawn directly when
    Rich has nothing to lay out (every line printable and within its column's width), else None.
    Importing Rich's table and laying it out cost ~2.5 ms of a command's start, 1.3x its JSON's;
    tests/test_tables.py holds the two to the same output, colours and ASCII boxes included."""
    if not all(_fits(column.header, width) for column, width in zip(columns, widths)):
        return None
    cells = [[cell.split("\n") for cell in row] for row in rows]
    if not all(_fits(line, width) for row in cells for lines, width in zip(row, widths) for line in lines):
        return None
    box = HEAVY_HEAD.substitute(console.options, safe=console.safe_box)
    spans = [width + 2 for width in widths]  # each cell padded by a space on either side
    header = console.get_style("table.header")
    segments = [Segment(box.get_top(spans)), Segment.line(), Segment(box.head_left)]
    for index, (column, width) in enumerate(zip(columns, widths)):
        if index:
            segments.append(Segment(box.head_vertical))
        segments += [Segment(" ", header), Segment(_justified(column.header, width, column.justify), header),
                     Segment(" ", header)]
    segments += [Segment(box.head_right), Segment.line(), Segment(box.get_row(spans, "head")), Segment.line()]
    justify = ["left" if laid_out else column.justify for column, laid_out in zip(columns, as_laid_out)]
    for number, row in enumerate(cells, 1):  # the last row takes the box's foot edges, as in Rich
        left, divider, right = ((box.foot_left, box.foot_vertical, box.foot_right) if number == len(cells)
                                else (box.mid_left, box.mid_vertical, box.mid_right))
        for line in range(max(map(len, row))):  # a cell shorter than its row ends in blank lines
            text = divider.join(f" {_justified(lines[line] if line < len(lines) else '', width, how)} "
                                for lines, width, how in zip(row, widths, justify))
            segments += [Segment(f"{left}{text}{right}"), Segment.line()]
    segments += [Segment(box.get_bottom(spans)), Segment.line()]
    return Segments(segments)


def _fits(text: str, width: int) -> bool:
    """Whether Rich prints `text` in a cell `width` wide as it is (no control codes, tabs, wrapping)."""
    return text.isprintable() and cell_len(text) <= width


def _justified(text: str, width: int, justify: str) -> str:
    """`text` filled to `width` as Rich justifies a line that fits (right: trailing spaces dropped)."""
    if justify == "right":
        text = text.rstrip()
        return " " * (width - cell_len(text)) + text
    return text + " " * (width - cell_len(text))


def stacked_rows(columns: list[Column], widths: list[int], rows: list[list[str]]) -> list[list[str]]:
    """The rows as Rich rows, consecutive rows stacked into one: each cell the lines of the rows'
    cells, a cell shorter than its row padded with empty lines as Rich pads it. The table has no
    rules between rows, so it prints the same, and Rich lays out a few cells instead of one per
    value (~40 µs each here, most of a table's time). A row with a cell that wraps (a message
    longer than its column) stays a row of its own: only Rich knows how many lines it takes."""
    blocks, stack = [], []
    for row in rows:
        if all(column.fit != "wrap" or "\t" not in cell and all(cell_len(line) <= width for line in cell.split("\n"))
               for column, width, cell in zip(columns, widths, row)):
            stack.append(row)
            continue
        if stack:
            blocks.append(_stack(stack))
            stack = []
        blocks.append(row)
    if stack:
        blocks.append(_stack(stack))
    return blocks


def _stack(rows: list[list[str]]) -> list[str]:
    heights = [max(cell.count("\n") for cell in row) for row in rows]  # a row's lines, less one
    return ["\n".join(row[index] + "\n" * (height - row[index].count("\n")) for row, height in zip(rows, heights))
            for index in range(len(rows[0]))]


def _natural_and_least(column: Column, cells) -> tuple[int, int]:
    """A column's width as its cells and header would have it, and the least it may give way to."""
    header = cell_len(column.header)
    cells = list(cells)
    shown = cells if column.fit != "shorten" else (column.fitted(cell, LABEL_LIMIT) for cell in cells)
    natural = max(header, max((cell_len(line) for cell in shown for line in cell.splitlines()), default=0), 1)
    if column.fit == "shorten":
        # a shortened column may narrow to its header (or the narrowest form of its cells): a short
        # label (the id beside it) beats records, a table's rows several lines each
        shortest = header if column.cut is None else \
            max(header, max((cell_len(column.cut(cell, 0)) for cell in cells), default=0))
    elif column.fit == "wrap":  # never narrower than a number in it: numbers are never broken
        shortest = max(header, SHORTEST_PROSE,
                       max((cell_len(number) for cell in cells for number in NUMBER.findall(cell)), default=0))
    else:
        shortest = natural
    return natural, min(natural, shortest)


PREFERRED_ARRAY_WIDTH = 24  # arrays wrap no narrower than this while other columns can give way


def table_texts(console_width: int, columns: list[Column], rows: list[list], number) -> list[list[str]]:
    """Rows of texts and values (numbers, arrays, None) as texts: values written by `number(value,
    width)`, each column of arrays wrapped between elements at the width that lets the table fit.
    Columns of arrays share what the other columns leave at their natural width; a column narrower
    than 24 has the others give way (labels shortened, messages wrapped) for up to 24. A column
    takes at least its header's width and its numbers' (a scalar in a column of arrays), and an
    array never wraps narrower than one element a line (numpy's layout): what such a column takes
    beyond its share, or an array on one line leaves of it, the other columns of arrays share."""
    arrays = [index for index in range(len(columns)) if any(is_array(row[index]) for row in rows)]
    texts = [[cell if isinstance(cell, str) else "" if is_array(cell) else number(cell) for cell in row]
             for row in rows]
    if not arrays:
        return texts
    natural = least = 0
    for index, column in enumerate(columns):
        if index not in arrays:
            widest, narrowest = _natural_and_least(column, (row[index] for row in texts))
            natural, least = natural + widest, least + narrowest
    floors = {index: max(cell_len(columns[index].header), *(widest_line(row[index]) for row in texts))
              for index in arrays}
    room = console_width - table_width([0] * len(columns))
    wrapped_at, wrapping = _wrap_arrays(room - natural, floors, rows, number)
    lacks = sum(max(0, PREFERRED_ARRAY_WIDTH - share) for share in wrapping.values())
    if lacks and least < natural:  # the others give way for up to 24 each
        wrapped_at, _ = _wrap_arrays(min(room - least, room - natural + lacks), floors, rows, number)
    for row_texts, row in zip(texts, rows):
        for index in arrays:
            if is_array(row[index]):
                row_texts[index] = wrapped_at[index][id(row[index])]
    return texts


def _wrap_arrays(room: int, floors: dict, rows: list[list], number) -> tuple[dict, dict]:
    """The columns of arrays (keys of `floors`, the least width of each) written to share `room`:
    ({column: {id(array): text}}, {column whose arrays wrap within its share: the share}). A column
    whose arrays take more than their share (one element a line) or less (on one line) leaves the
    others what remains, and they are written again, wider or narrower."""
    written, pending, left = {}, list(floors), room
    while True:
        shares = _shares(left, {index: floors[index] for index in pending})
        used = {}
        for index in pending:
            written[index] = {id(row[index]): number(row[index], shares[index]) for row in rows
                              if is_array(row[index])}
            texts = written[index].values()
            if not any("\n" in text for text in texts) or max(map(widest_line, texts)) > shares[index]:
                used[index] = max(floors[index], *map(widest_line, texts))  # unwrapped, or at its least
        if not used or len(used) == len(pending):
            return written, {index: shares[index] for index in pending if index not in used}
        for index, width in used.items():
            left -= width
            pending.remove(index)


def _shares(room: int, floors: dict) -> dict:
    """`room` shared equally by the columns of `floors`, each at least its floor."""
    widths, pending = {}, list(floors)
    while pending:
        share = room // len(pending)
        wider = [index for index in pending if floors[index] > share]
        if not wider:
            break
        for index in wider:
            widths[index] = floors[index]
            room -= widths[index]
            pending.remove(index)
    widths.update((index, max(1, room // len(pending))) for index in pending)
    return widths


def fitted_widths(console_width: int, columns: list[Column], rows: list[list[str]]) -> list[int]:
    """The width of each column's text: what it holds, less what the console lacks, taken from the
    widest column that may give way (shortened or wrapped), never from a kept one or below a header."""
    natural, least = [], []
    for index, column in enumerate(columns):
        widest, narrowest = _natural_and_least(column, (row[index] for row in rows))
        natural.append(widest)
        least.append(narrowest)
    widths = list(natural)
    excess = table_width(widths) - console_width
    while excess > 0:  # narrow the widest column that may give way, one character at a time
        narrowable = [index for index, width in enumerate(widths) if width > least[index]]
        if not narrowable:
            break
        widths[max(narrowable, key=widths.__getitem__)] -= 1
        excess -= 1
    return widths


def fits(console_width: int, columns: list[Column], rows: list[list[str]]) -> bool:
    """Whether the table fits the console once its columns give way (fitted_widths)."""
    return table_width(fitted_widths(console_width, columns, rows)) <= console_width


