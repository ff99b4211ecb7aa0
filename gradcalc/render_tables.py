"""Rich tables and lines that fit the console without breaking a number.

Numbers and headers are never wrapped or cut. When a table is wider than the console, its text
column (an expression, a node, a variable) is shortened in the middle, as JSON's `expr` is, and
its prose column (an error message, a formula) wraps between words, a word longer than the column
after an operator, never inside a number (the column is never narrower than its longest number);
the widest column that may give way gives way first;
if the table still does not fit, it is printed wider than the console (the terminal wraps whole
lines) rather than split a number.
Titles, captions and messages are single lines or wrapped between words, with no trailing spaces.
"""

import re
import textwrap

from rich.box import HEAVY_HEAD
from rich.cells import cell_len
from rich.segment import Segment, Segments
from rich.text import Text

from gradcalc.checked_output import lacks_characters
from gradcalc.formatting import LABEL_LIMIT, encodable, shorten


def console(out, color, **options):
    """A Rich console printing to `out`, colored when `color` (None: Rich decides). Where the
    reader has gone (`| head -1`) it raises BrokenPipeError, which the command answers with the
    exit code so far: Rich's own answer is to exit 1."""
    from rich.console import Console

    made = Console(file=out, highlight=False, soft_wrap=False, force_terminal=color, no_color=color is False,
                   **options)
    made.on_broken_pipe = _closed_pipe
    return made


def _closed_pipe():
    raise BrokenPipeError


SHORTEST_PROSE = 10  # a message column is not wrapped narrower than this (nor than its header)
# a number as gradcalc writes one (-0.25, 1e+308, inf; not the digits of a name such as x2), with
# the punctuation that follows it ("is -2.5, ln"): neither is broken away from it
_NUMBER = re.compile(r"(?:(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])"
                     r"|(?<!\w)-?(?:inf|nan)(?!\w))[)\],;:]*")
# a word longer than its column breaks after one of these (and before ∂), as a formula reads
_BREAKS_AFTER = frozenset(")]*/+-^,;=")


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

    def fitted(self, text: str, width: int) -> str:
        """A cell's text as this column shows it `width` wide: shortened, wrapped or as it is."""
        if self.fit == "shorten":
            return shorten(text, limit=width) if self.cut is None else self.cut(text, width)
        if self.fit == "wrap":
            return wrapped(text, width)
        return text


SECTION_ROWS = 1000  # a long table is laid out and written this many rows at a time


def print_table(console, columns: list[Column], rows: list[list[str]], title: str | None = None,
                caption: str | None = None) -> None:
    """Print `rows` (cells as text, arrays as several lines) under `title`, fitted to the console."""
    encoding = lacking(console)
    if encoding is not None:  # escaped before the layout, so that the columns line up as written
        columns = [Column(encodable(column.header, encoding), column.justify, column.fit, column.cut)
                   for column in columns]
        rows = [[encodable(cell, encoding) for cell in row] for row in rows]
    widths = fitted_widths(console.width, columns, rows)
    ascii_cut = encoding is not None and encodable("…", encoding) != "…"
    cells = [[_fitted(column, cell, width, ascii_cut) for column, width, cell in zip(columns, widths, row)]
             for row in rows]
    if any(column.cut is not None for column in columns):  # cut labels may leave room ('#4' in 8 columns)
        shortened = [[cut if column.fit == "shorten" else cell for column, cut, cell in zip(columns, fitted, row)]
                     for fitted, row in zip(cells, rows)]
        roomier = fitted_widths(console.width, columns, shortened)  # what is left goes to the others
        if roomier != widths:
            widths = roomier
            cells = [[_fitted(column, cell, width, ascii_cut) for column, width, cell in zip(columns, widths, row)]
                     for row in shortened]
    cells, as_laid_out = aligned_blocks(columns, widths, cells)
    if title is not None:
        title = encodable(title, encoding)
        print_line(console, _fitted(Column("", "left", "shorten"), title, max(console.width, 20), ascii_cut))
    if len(cells) <= SECTION_ROWS:
        console.print(_table(console, columns, widths, stacked_rows(columns, widths, cells), as_laid_out), crop=False)
    else:
        print_sections(console, columns, widths, cells, as_laid_out)
    if caption is not None:
        print_prose(console, caption)


def lacking(console) -> str | None:
    """The console's encoding where it lacks characters (PYTHONIOENCODING=ascii), else None."""
    return console.encoding if lacks_characters(console.encoding) else None


def _fitted(column: Column, text: str, width: int, ascii_cut: bool) -> str:
    """`column.fitted(text, width)`, its mark of a cut '…' spelled '...' where the console cannot
    write '…' (`ascii_cut`), the text cut two characters more to keep the width."""
    fitted = column.fitted(text, width)
    if ascii_cut and "…" in fitted and "…" not in text:
        fitted = column.fitted(text, max(1, width - 2)).replace("…", "...")
    return fitted


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

    table = Table(width=sum(widths) + 3 * len(columns) + 1)  # each column: padding and one rule
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
        # a shortened column may narrow to its header (or the narrowest form of its cells): a
        # short label beats a table wider than the terminal, whose wrapped lines scatter every row
        shortest = header if column.cut is None else \
            max(header, max((cell_len(column.cut(cell, 0)) for cell in cells), default=0))
    elif column.fit == "wrap":  # never narrower than a number in it: numbers are never broken
        shortest = max(header, SHORTEST_PROSE,
                       max((cell_len(number) for cell in cells for number in _NUMBER.findall(cell)), default=0))
    else:
        shortest = natural
    return natural, min(natural, shortest)


PREFERRED_ARRAY_WIDTH = 24  # arrays wrap no narrower than this while other columns can give way


def array_widths(console_width: int, columns: list[Column], rows: list[list[str]], arrays: list[int]) -> dict:
    """Where the arrays of the columns `arrays` (their cells not written yet) wrap, so that the table
    fits: {column: width}. They share what the other columns leave at their natural width (a column
    whose header is wider than its share takes the header's width, which it has anyway); below 24
    characters the others give way (labels shortened, messages wrapped) to give them up to 24. An
    array never wraps narrower than one element a line: numpy's layout, whatever the width asked."""
    natural = least = 0
    for index, column in enumerate(columns):
        if index not in arrays:
            widest, narrowest = _natural_and_least(column, (row[index] for row in rows))
            natural, least = natural + widest, least + narrowest
    room = console_width - 3 * len(columns) - 1  # each column takes padding and a rule, the table one more
    wide = _shares(room - natural, columns, arrays)
    if min(wide.values(), default=PREFERRED_ARRAY_WIDTH) >= PREFERRED_ARRAY_WIDTH:
        return wide
    narrow = _shares(room - least, columns, arrays)
    return {index: max(wide[index], min(PREFERRED_ARRAY_WIDTH, narrow[index])) for index in arrays}


def _shares(room: int, columns: list[Column], arrays: list[int]) -> dict:
    """`room` shared equally by the columns `arrays`, each at least as wide as its header."""
    widths, pending = {}, list(arrays)
    while pending:
        share = room // len(pending)
        wider = [index for index in pending if cell_len(columns[index].header) > share]
        if not wider:
            break
        for index in wider:
            widths[index] = cell_len(columns[index].header)
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
    excess = sum(widths) + 3 * len(columns) + 1 - console_width
    while excess > 0:  # narrow the widest column that may give way, one character at a time
        narrowable = [index for index, width in enumerate(widths) if width > least[index]]
        if not narrowable:
            break
        widths[max(narrowable, key=widths.__getitem__)] -= 1
        excess -= 1
    return widths


def fits(console_width: int, columns: list[Column], rows: list[list[str]]) -> bool:
    """Whether the table fits the console once its columns give way (fitted_widths)."""
    return sum(fitted_widths(console_width, columns, rows)) + 3 * len(columns) + 1 <= console_width


def print_line(console, text: str) -> None:
    """One line of text as it is, however long: no markup, no wrapping inside a number (what the
    console's encoding lacks escaped, as formatting.encodable does)."""
    console.print(Text(encodable(text, lacking(console))), soft_wrap=True)


def wrapped(text: str, width: int) -> str:
    """`text` in lines of at most `width` cells, broken between words; a word longer than that
    (a formula) after an operator or a closing bracket (else anywhere but inside a number), a
    number longer than the width kept whole on a line of its own."""
    lines = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            if line and cell_len(line) + 1 + cell_len(word) <= width:
                line += " " + word
                continue
            if line:
                lines.append(line)
            while cell_len(word) > width:
                head, word = _broken(word, width)
                if not word:
                    break
                lines.append(head)
            line = word or head
        lines.append(line)
    return "\n".join(lines)


def _broken(word: str, width: int) -> tuple[str, str]:
    """`word` broken in two, its head as long as fits `width`: after a break character where one
    is, else at the last place outside a number; ("", ...) never: a head is at least one atom."""
    atoms = [match.group() for match in re.finditer(_NUMBER.pattern + r"|.", word)]  # numbers stay whole
    used, fitting, good = 0, 0, 0
    for index, atom in enumerate(atoms):
        used += cell_len(atom)
        if used > width:
            break
        fitting = index + 1
        if atom in _BREAKS_AFTER or index + 1 < len(atoms) and atoms[index + 1] == "∂":
            good = index + 1
    cut = good or fitting or 1  # the first atom alone when even it is wider (a long number)
    return "".join(atoms[:cut]), "".join(atoms[cut:])


def print_prose(console, text: str, indent: str = "") -> None:
    """Sentences wrapped between words to the console's width (never inside a word or number)."""
    lines = textwrap.wrap(encodable(text, lacking(console)), max(console.width, 20), initial_indent=indent,
                          subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)
    for line in lines:
        print_line(console, line)
