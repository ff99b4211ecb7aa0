"""The points of --data, read a chunk of rows at a time: CSV with a header row (a file, or standard
input as `-`), JSON Lines, .npz (named 1-D arrays) or .npy (a structured array).

The columns the expression reads (its variables and their sigma_<name> columns) must hold finite
numbers; every other column is carried to the output as it is written (a label, an id) and never
read as numbers. A CSV chunk of numbers only is read by numpy at C speed; a chunk numpy refuses,
and one with columns carried as text, is read again by the csv module and checked cell by cell,
so that a refusal names its line and column and has a caret under the cell. Text is UTF-8 (a
byte order mark is skipped); a byte that is not is read as a lone surrogate and refused by its line.
"""

import csv
import io
import itertools
import json
import math
import re
import unicodedata
import warnings
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from gradcalc.errors import UsageError, ValueFormatError
from gradcalc.formatting import plural
from gradcalc.number_syntax import SIGNED_NUMBER
from gradcalc.numeric import all_finite, first_non_finite_index, not_numbers
from gradcalc.undecoded import UNDECODED, byte_of, readable
from gradcalc.value_checks import dtype_hint
from gradcalc.value_files import (
    NUMPY_READ_ERRORS,
    BeyondDouble,
    ColumnRefused,
    FileRefused,
    as_doubles,
    cell_problem,
    data_columns,
    numpy_refusal,
)

CHUNK_ROWS = 65_536
STANDARD_INPUT = "-"
NOT_FINITE_HINT = "every value must be a finite number: fix or remove that row"
_SURROGATE = re.compile("[\ud800-\udfff]")  # no text can hold one (JSON may write one as \\ud800)
_UTF8_HINT = "save the file as UTF-8 text (a spreadsheet's \"CSV UTF-8\"; or iconv -f latin1 -t utf-8)"
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]+,[0-9]+")
_JSONL_HINT = 'one JSON object per line, e.g. {"x": 1.5, "y": 2}'


class Place(NamedTuple):
    """Where a chunk begins in its file: a text file's line, or a .npy/.npz array's row (from 1);
    `lines` holds each row's line when some lines were blank."""

    unit: str  # "line" or "row"
    first: int
    lines: tuple = ()

    def at(self, offset: int) -> str:
        """'line 5', 'row 3': the chunk's row `offset` (from 0) as the file counts it."""
        return f"{self.unit} {self.lines[offset] if self.lines else self.first + offset}"


class Points(NamedTuple):
    """A data file's column names, and `chunks(numeric)`: an iterator of (Place, {name: column}),
    the columns named in `numeric` as 1-D float arrays, every other one carried as a list;
    `close()` closes the file (standard input is left open)."""

    names: list
    chunks: Callable
    close: Callable = lambda: None


def read_points(path: str, chunk_rows: int = CHUNK_ROWS, stdin=None) -> Points:
    """The points of the file at `path`, or of `stdin` for `-` (CSV, or JSON Lines when its first
    line begins with '{')."""
    suffix = None if path == STANDARD_INPUT else Path(path).suffix.lower()
    if suffix is None:
        stream, name = _standard_input(stdin), "standard input"
        # a wrapper of stdin's bytes would close them when collected: it lets go of them instead
        release = (lambda: None) if stream is stdin else stream.detach
    else:
        try:
            if suffix in (".npz", ".npy"):
                try:
                    columns = data_columns(Path(path))
                except FileRefused as refusal:
                    joint = ", " if isinstance(refusal, ColumnRefused) else ": "
                    raise ValueFormatError(f"{path}{joint}{refusal}", hint=refusal.hint) from None
                except NUMPY_READ_ERRORS as error:  # numpy's own words advise unpickling "unsafely"
                    refusal = numpy_refusal(error)
                    raise ValueFormatError(f"{path}: {refusal}", hint=refusal.hint and "save the columns with "
                                           "np.savez('points.npz', x=x, y=y), or as CSV with a header row") from None
                return Points(list(columns), lambda numeric: _slices(columns, numeric, chunk_rows, path))
            stream = open(path, "r", encoding="utf-8-sig", errors="surrogateescape", newline="")
        except (OSError, ValueError) as error:
            raise UsageError(f"cannot read {path!r}: {getattr(error, 'strerror', None) or error}") from None
        name, release = path, stream.close
    try:
        first, at = _first_line(stream, name)
        jsonl = first.lstrip().startswith("{") if suffix is None else suffix in (".jsonl", ".ndjson")
        return (_jsonl_points if jsonl else _csv_points)(stream, first, name, chunk_rows, at)._replace(close=release)
    except BaseException:
        release()
        raise


def _standard_input(stdin):
    """Standard input as text, read as a file is (the caller's stream is left open)."""
    if stdin is None:
        raise UsageError("--data -: there is no standard input to read",
                         hint="pipe the points in: cat points.csv | gradcalc EXPR --data -")
    buffer = getattr(stdin, "buffer", None)
    if buffer is None:  # already text (an embedding program's stream)
        return stdin
    return io.TextIOWrapper(buffer, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _lines(stream, count: int, name: str) -> list:
    try:
        return list(itertools.islice(stream, count))
    except OSError as error:
        raise UsageError(f"cannot read {name}: {error.strerror or error}") from None


def _first_line(stream, name: str) -> tuple[str, int]:
    """The first line that is not blank ("" at the end) and its number: what a file holds is decided
    by its first line of text (`printf '\n{"x":1}\n'` is JSON Lines)."""
    number = 1
    while True:
        lines = _lines(stream, 1, name)
        if not lines or lines[0].strip():
            return (lines[0] if lines else ""), number
        number += 1


def _chunks_of(stream, first_lines: list, chunk_rows: int, name: str, line: int = 1):
    """(number of the chunk's first line, its lines) of a text stream, whose first line is `line`."""
    pending = first_lines
    while True:
        pending += _lines(stream, chunk_rows - len(pending), name)
        if not pending:
            return
        yield line, pending
        line, pending = line + len(pending), []


# CSV

def _csv_points(stream, first: str, name: str, chunk_rows: int, at: int = 1) -> Points:
    names = _header(first, name, at)

    def chunks(numeric):
        indices = [i for i, column in enumerate(names) if column in numeric]
        for line, lines in _chunks_of(stream, [], chunk_rows, name, at):
            columns, place = _parse_csv(lines, names, indices, line + 1, name)
            if columns is not None:
                yield place, columns

    return Points(names, chunks)


def _header(text: str, name: str, at: int = 1) -> list:
    """The column names of a CSV file's first line of text (line `at`)."""
    _refuse_undecoded([text], at, name)
    hint = "the first line names the columns (x,y), each row below holds their values"
    try:
        cells = next(csv.reader([text]), [])
    except csv.Error as error:
        raise ValueFormatError(f"{name}, line {at}: {_csv_error(error)}", hint=hint) from None
    names = [cell.strip() for cell in cells]
    if not names or not all(names) or any("\n" in column or "\r" in column for column in names):
        raise ValueFormatError(f"{name}: the first line must name the columns (x,y,...)", hint=hint)
    for i, column in enumerate(names):
        if column in names[:i]:
            raise ValueFormatError(f"{name}, line {at}: two columns are named {column} (columns "
                                   f"{names.index(column) + 1} and {i + 1})", hint="give each column its own name")
    return names


def _parse_csv(lines: list, names: list, indices: list, first_line: int, name: str):
    """(columns, Place) of a chunk of lines, or (None, None) when every line is blank. numpy reads
    the usual chunk at C speed; any other (a quoted cell, a blank line, text where a number belongs,
    inf, a byte that is not UTF-8) is read by _parse_rows, which names what is wrong."""
    table = _numbers(lines, None)  # numbers only, the usual file (read columns or not)
    if table is not None and table.shape == (len(lines), len(names)):
        return {column: table[:, i] for i, column in enumerate(names)}, Place("line", first_line)
    if indices and len(indices) < len(names):
        joined = "".join(lines)
        if '"' not in joined and UNDECODED.search(joined) is None:  # each cell lies between two commas
            cells = [line.rstrip("\r\n").split(",") for line in lines]
            table = _numbers(lines, indices)
            if table is not None and table.shape == (len(lines), len(indices)) \
                    and all(len(row) == len(names) for row in cells):
                numbers = dict(zip(indices, table.T))
                return {column: numbers[i] if i in numbers else _carried([row[i] for row in cells])
                        for i, column in enumerate(names)}, Place("line", first_line)
    return _parse_rows(lines, names, indices, first_line, name)


def _carried(cells: list):
    """A column the expression does not read, for the output: each cell that is a number as a
    number (JSON Lines has numbers for it, as before text columns were allowed), any other cell
    as written (a label, an id, n/a) - decided per cell, so not by where a chunk of rows ends."""
    numbers = [bool(SIGNED_NUMBER.fullmatch(cell.strip())) for cell in cells]
    if all(numbers):
        values = np.array(cells, dtype=float)
        if all_finite(values):
            return values
    carried = []
    for cell, number in zip(cells, numbers):
        value = float(cell) if number else cell
        carried.append(value if number and math.isfinite(value) else cell)  # 1e999 stays text
    return carried


def _numbers(lines: list, indices):
    """numpy's reading of the chunk's columns `indices` (None: all), or None if it refuses a cell
    or reads inf or nan."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": read by _parse_rows
            table = np.loadtxt(lines, delimiter=",", ndmin=2, dtype=float, comments=None, usecols=indices)
    except ValueError:
        return None
    return table if all_finite(table) else None


def _parse_rows(lines: list, names: list, indices: list, first_line: int, name: str):
    """A chunk read by the csv module, every cell checked: (columns, Place), (None, None) when every
    line is blank, or a ValueFormatError naming the first cell or line that is wrong."""
    _refuse_undecoded(lines, first_line, name)
    rows, at = [], []  # the rows that are not blank, and the offset of each one's line
    reader, offset = csv.reader(lines), 0
    try:
        for row in reader:
            start, offset = offset, reader.line_num
            joined = "".join(row)
            if "\n" in joined or "\r" in joined:  # a quoted cell that does not close on its line
                index = next(i for i, cell in enumerate(row) if "\n" in cell or "\r" in cell)
                raise _cell_error(name, lines[start], first_line + start, names, index,
                                  "a quoted cell runs past the end of the line",
                                  'close the quote on the same line: a cell holds one number or one line of text')
            if not joined.strip():
                continue
            if len(row) != len(names):
                raise ValueFormatError(f"{name}, line {first_line + start}: {plural(len(row), 'cell')}, but the "
                                       f"header names {plural(len(names), 'column')}",
                                       hint="every row needs one cell per column")
            rows.append(row)
            at.append(start)
    except csv.Error as error:
        raise ValueFormatError(f"{name}, line {first_line + offset}: {_csv_error(error)}",
                               hint="every row needs one cell per column") from None
    if not rows:
        return None, None
    columns, wrong = {}, []
    for i, column in enumerate(names):
        cells = [row[i] for row in rows]
        if i not in indices:
            columns[column] = _carried(cells)
            continue
        if not all(SIGNED_NUMBER.fullmatch(cell.strip()) for cell in cells):
            wrong.append((next(k for k, cell in enumerate(cells) if not SIGNED_NUMBER.fullmatch(cell.strip())), i))
            continue
        values = np.array(cells, dtype=float)  # ASCII numbers only: float() reads them as numpy does
        if not all_finite(values):
            wrong.append((first_non_finite_index(values)[0], i))  # 1e999
        columns[column] = values
    if wrong:
        k, i = min(wrong)
        why, hint = _number_problem(rows[k][i])
        raise _cell_error(name, lines[at[k]], first_line + at[k], names, i, why, hint)
    return columns, Place("line", first_line, tuple(first_line + offset for offset in at))


def _number_problem(cell: str) -> tuple[str, str]:
    """Why a CSV cell the expression reads is not a finite number, and how to fix it."""
    text = cell.strip()
    why, hint = cell_problem(text) or (f"{text!r} is not a number", None)
    digit = next((char for char in text if char.isdigit() and not char.isascii()), None)
    if text.startswith("#"):
        hint = "a CSV file has no comments: delete the line, or keep notes in a column the expression does not use"
    elif digit is not None:
        hint = f"write numbers with the ASCII digits 0-9 ({digit!r} is {unicodedata.name(digit, 'another digit')})"
    elif _DECIMAL_COMMA.fullmatch(text):
        hint = f"write the decimal point as '.' ({text.replace(',', '.')}): a comma separates cells"
    elif not text:
        hint = "fill in the number, or delete the row"
    elif hint is not None and "finite" in why:
        hint = NOT_FINITE_HINT
    return why, hint or "every cell of a column the expression uses must be a number"


def _cell_error(name: str, text: str, line: int, names: list, index: int, why: str, hint: str):
    """A refusal of cell `index` of the CSV line `text`, with a caret under the cell."""
    text = text.rstrip("\r\n")
    start, end = _cell_span(text, index)
    return ValueFormatError(f"{name}, line {line}, column {names[index]}: {why}", hint=hint, source=text,
                            span=(start, end))


def _cell_span(text: str, index: int) -> tuple[int, int]:
    """Where cell `index` (from 0) of a CSV line is, quotes included."""
    start, field, quoted = 0, 0, False
    for position, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            if field == index:
                return start, position
            field, start = field + 1, position + 1
    return start, len(text)


def _csv_error(error: csv.Error) -> str:
    text = str(error)
    if "field larger than field limit" in text:
        return f"a cell of more than {csv.field_size_limit():,} characters"
    return text


def _refuse_undecoded(lines: list, first_line: int, name: str) -> None:
    """Refuse the first byte that is not UTF-8 text, by its line and column."""
    if UNDECODED.search("".join(lines)) is None:
        return
    for offset, text in enumerate(lines):
        found = UNDECODED.search(text)
        if found is not None:
            shown = readable(text.rstrip("\r\n"))
            raise ValueFormatError(f"{name}, line {first_line + offset}: the {byte_of(found)} is not UTF-8 text",
                                   hint=_UTF8_HINT, source=shown, span=(found.start(), found.end()))


# JSON Lines

def _jsonl_points(stream, first: str, name: str, chunk_rows: int, start: int = 1) -> Points:
    _refuse_undecoded([first], start, name)
    try:
        record = json.loads(first)
    except (json.JSONDecodeError, RecursionError):
        record = None
    if not isinstance(record, dict) or not record:
        raise ValueFormatError(f"{name}, line {start}: not a JSON object of name: number",
                               hint=f"{_JSONL_HINT}; the first line's names are the columns")
    names = list(record)
    _refuse_surrogates(name, f"line {start}", "", names)

    def chunks(numeric):
        used = [column for column in names if column in numeric]
        for line, lines in _chunks_of(stream, [first], chunk_rows, name, start):
            _refuse_undecoded(lines, line, name)
            columns, at = {column: [] for column in names}, []
            for offset, text in enumerate(lines):
                if not text.strip():
                    continue
                record = _record(text, used, name, line + offset)
                for column in names:
                    columns[column].append(record.get(column))
                at.append(line + offset)
            if not at:
                continue
            place = Place("line", line, tuple(at))
            for column in names:
                if column in numeric:
                    columns[column] = np.array(columns[column], dtype=float)
                else:
                    columns[column] = _carried_json(columns[column], name, place, column)
            _refuse_non_finite(name, place, {column: columns[column] for column in used})  # json reads NaN
            yield place, columns

    return Points(names, chunks)


def _record(text: str, used: list, name: str, line: int) -> dict:
    """One JSON Lines object, its values for the columns in `used` checked to be numbers."""
    where = f"{name}, line {line}"
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueFormatError(f"{where}: not JSON ({error.msg})", hint=_JSONL_HINT, source=text.rstrip("\r\n"),
                               span=(error.pos, error.pos + 1)) from None
    except RecursionError:
        raise ValueFormatError(f"{where}: the JSON nests too deeply", hint=_JSONL_HINT) from None
    if not isinstance(record, dict):
        raise ValueFormatError(f"{where}: expected a JSON object of name: number", hint=_JSONL_HINT)
    for column in used:
        hint = f'every line gives {column} a number, e.g. {{"{column}": 1.5}}'
        if column not in record:
            raise ValueFormatError(f"{where}: no value for {column}", hint=hint)
        value = record[column]
        if type(value) not in (float, int):  # float() would read true and "1.5"
            shown = "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else \
                json.dumps(value)[:40]  # a scalar: a list nested deep would exhaust the encoder's stack
            raise ValueFormatError(f"{where}, column {column}: {shown} is not a number", hint=hint)
        if type(value) is int and abs(value) > 2**1023:
            try:
                float(value)
            except OverflowError:
                raise ValueFormatError(f"{where}, column {column}: a number too large for a double (beyond ±1.8e308)",
                                       hint="scale the values into the double range") from None
    return record


def _carried_json(values: list, name: str, place: Place, column: str) -> list:
    """A JSON Lines column carried to the output: a list or object as its JSON text (written once
    here, where nesting too deep for the encoder is refused, not at each output)."""
    carried = []
    for offset, value in enumerate(values):
        if isinstance(value, (list, dict)):
            try:
                value = json.dumps(value)
            except RecursionError:
                raise ValueFormatError(f"{name}, {place.at(offset)}, column {column}: the JSON nests too deeply",
                                       hint=_JSONL_HINT) from None
        carried.append(value)
    _refuse_surrogates(name, place, column, carried)
    return carried


def _refuse_surrogates(name: str, place, column: str, values: list) -> None:
    """Refuse text that holds half of a UTF-16 pair (JSON can write one as \\ud800): no output can."""
    texts = [value if isinstance(value, str) else json.dumps(value) for value in values]
    if _SURROGATE.search("".join(texts)) is None:
        return
    offset = next(i for i, text in enumerate(texts) if _SURROGATE.search(text))
    where = place.at(offset) if isinstance(place, Place) else place
    raise ValueFormatError(f"{name}, {where}{f', column {column}' if column else ''}: the text holds "
                           f"\\u{ord(_SURROGATE.search(texts[offset]).group()):04x}, half of a UTF-16 pair, "
                           "which is not a character", hint="write the character itself, or both halves of its pair")


# .npz and .npy

def _slices(columns: dict, numeric, chunk_rows: int, path: str):
    for name, column in columns.items():
        reason = not_numbers(column)
        if reason is not None and name in numeric:  # as --x refuses them: a cast would make them numbers or warn
            raise ValueFormatError(f"{path}, column {name} {reason}", hint=dtype_hint(name, column))
    total = len(next(iter(columns.values()), ()))
    for start in range(0, total, chunk_rows):
        place = Place("row", start + 1)
        chunk = {name: _cells(path, name, column[start : start + chunk_rows], place)
                 for name, column in columns.items()}
        _refuse_non_finite(path, place, {name: chunk[name] for name in columns if name in numeric})
        yield place, chunk


def _cells(path: str, name: str, part, place: Place):
    """A column's rows as doubles; a column of text, dates or booleans (carried, never read as
    numbers) as text. A long double beyond the double range is refused, not made inf."""
    if not_numbers(part) is not None:
        if part.dtype.kind == "S":
            texts = [value.decode("utf-8", "backslashreplace") for value in part.tolist()]
        else:
            texts = part.astype(str).tolist()
        _refuse_surrogates(path, place, name, texts)
        return texts
    try:
        return np.asarray(as_doubles(part), dtype=float)
    except BeyondDouble as error:
        raise ValueFormatError(f"{path}, {place.at(error.index[0])}, column {name}: {error.shown} is too large for "
                               "a double (beyond ±1.8e308)",
                               hint="scale the column so that every value is within a double's ±1.8e308") from None


def _refuse_non_finite(path: str, place: Place, columns: dict) -> None:
    """Name the first row (then column) holding inf or nan, as a CSV file's cell is named: the
    evaluator's own refusal would count from the chunk's start and advise numpy."""
    bad = [(first_non_finite_index(column)[0], name) for name, column in columns.items() if not all_finite(column)]
    if bad:
        offset, name = min(bad, key=lambda found: found[0])  # the first row; in it, the first column
        raise ValueFormatError(f"{path}, {place.at(offset)}, column {name}: {columns[name][offset]} is not a "
                               "finite number", hint=NOT_FINITE_HINT)
