"""The array of `--NAME @FILE`: a .npy file, a .npz file holding one array (both read by numpy and
never unpickled), or text, comma-separated for .csv and whitespace-separated otherwise; and the
named columns of a --data .npz/.npy file (data_columns).

numpy's own refusals name its keyword arguments (`usecols`, `allow_pickle=`) and count rows from 0
beside columns from 1; a file numpy refuses is read again here to say, in gradcalc's words, which
line and column (both from 1, as an editor shows them) hold what, and how to fix it.
"""

import math
import re
import warnings
import zipfile
import zlib
from pathlib import Path

from gradcalc.formatting import plural
from gradcalc.number_syntax import UNSIGNED_NUMBER_PATTERN

NUMPY_SUFFIXES = (".npy", ".npz")
_NUMPY_SAVED = "save it with np.save('x.npy', x), or as text: one row of numbers per line"
_OBJECTS = "the file holds Python objects, which are never unpickled: save an array of numbers"
# what numpy reads: gradcalc's numbers, and nan and inf, which are refused with their place
_TEXT_NUMBER = re.compile(rf"[+-]?(?:{UNSIGNED_NUMBER_PATTERN}|nan|inf|infinity)", re.IGNORECASE)
NOT_FINITE_WORD = re.compile(r"[+-]?(nan|inf|infinity)", re.IGNORECASE)  # a whole cell or element: fullmatch
MISSING_VALUE_HINT = "write the number meant; a missing value has no place in an array"


class FileRefused(ValueError):
    """Why the file of `--NAME @FILE` gives no array, with how to fix it."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


def load_array(path: Path, max_elements: int, check_size):
    """The array held by the file at `path`; `check_size(count, max_elements)` refuses a binary
    file's array from its header, before it is read. Raises FileRefused or OSError."""
    if not path.name:
        raise FileRefused("no file name after '@'",
                          hint="write the file's name right after '@', e.g. @points.npy or @values.csv")
    if path.suffix.lower() in NUMPY_SUFFIXES:
        return _numpy_file(path, max_elements, check_size)
    return _text_file(path, "," if path.suffix.lower() == ".csv" else None)


NUMPY_READ_ERRORS = (ValueError, EOFError, zipfile.BadZipFile, zlib.error)  # EOFError: an empty file


class ColumnRefused(FileRefused):
    """Why a column of a --data .npz/.npy file is no column (the message begins "column NAME")."""


def data_columns(path: Path) -> dict:
    """The named columns of a --data .npz (its arrays) or .npy (a structured array's fields), read
    by numpy and never unpickled; each must be 1-D, all of one length. Raises FileRefused or one of
    NUMPY_READ_ERRORS."""
    import numpy as np

    if path.suffix.lower() == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            columns = {name: archive[name] for name in archive.files}
    else:
        with warnings.catch_warnings():  # a header declaring 2**96 elements: refused as damaged, unwarned
            warnings.simplefilter("ignore", RuntimeWarning)
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        if array.dtype.names is None:
            raise FileRefused("a .npy data file needs named columns (a structured array); "
                              "or use .npz with one array per variable")
        columns = {name: array[name] for name in array.dtype.names}
    for name, column in columns.items():
        shape = f"is {column.ndim}-D (shape {column.shape})" if column.ndim else "is a single value (0-D)"
        if column.ndim != 1 or column.dtype.kind == "V":
            raise ColumnRefused(f"column {name} {'holds records' if column.ndim == 1 else shape}, not a column of "
                                "one value per row", hint="every column holds one value per row: save each as its "
                                "own 1-D array, e.g. np.savez('p.npz', x0=x[:, 0], x1=x[:, 1])")
    lengths = {name: len(column) for name, column in columns.items()}
    if len(set(lengths.values())) > 1:
        raise FileRefused("the columns have different lengths (" + ", ".join(
            f"{name}: {plural(length, 'row')}" for name, length in lengths.items()) + ")",
            hint="every column holds one value per row")
    return columns


def numpy_refusal(error: Exception) -> FileRefused:
    """What numpy's refusal to load a .npy/.npz file means, in gradcalc's words (numpy's own words
    advise loading a pickle "unsafely")."""
    if "Python objects" in str(error) or "Object arrays" in str(error):
        return FileRefused(_OBJECTS)
    return FileRefused("not an array saved by numpy (a pickle, a damaged file or some other file)",
                       hint=_NUMPY_SAVED)


def _numpy_file(path: Path, max_elements: int, check_size):
    import numpy as np

    with open(path, "rb") as stream:
        if stream.read(2) == b"PK":  # a zip archive: an .npz file, whatever its suffix
            stream.seek(0)
            try:  # numpy leaves its own file open when the archive is damaged: this one is closed
                archive = np.load(stream, allow_pickle=False)
            except NUMPY_READ_ERRORS as error:
                raise numpy_refusal(error) from None
            with archive:
                return _only_array(archive, max_elements, check_size)
        stream.seek(0)
        try:
            shape, dtype = _header(stream)
        except NUMPY_READ_ERRORS as error:
            raise numpy_refusal(error) from None
    if dtype.hasobject:
        raise FileRefused(_OBJECTS)
    check_size(math.prod(shape), max_elements)  # from the header: the data is not read yet
    try:
        array = np.load(path, allow_pickle=False)
    except NUMPY_READ_ERRORS as error:  # cut short
        raise numpy_refusal(error) from None
    return as_doubles(array)


def _header(stream) -> tuple[tuple[int, ...], object]:
    """The shape and dtype a .npy header (at the stream's position) declares, read without the data
    (numpy's memmap of a declared 2**96 elements warns of an overflow)."""
    import numpy as np

    version = np.lib.format.read_magic(stream)
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
        np.lib.format.read_array_header_2_0  # 3.0 differs from 2.0 only in its text's encoding
    shape, _, dtype = read_header(stream)
    return shape, dtype


class BeyondDouble(FileRefused):
    """A long double beyond the double range, at `index` of its array; `shown` is its own digits."""

    def __init__(self, index: tuple, shown: str):
        super().__init__(f"the element at index {index} is {shown}, too large for a double (beyond ±1.8e308)",
                         hint="scale the values into the double range before saving them")
        self.index, self.shown = index, shown


def as_doubles(array):
    """`array` as doubles (a long double array cast, any other returned as it is), refused with
    BeyondDouble if it holds a finite long double beyond the double range: numpy's cast would warn
    of an overflow and make it inf. Its inf and nan stay as they are, for the non-finite check.
    Used by --NAME @FILE and by --data's .npy/.npz columns."""
    import numpy as np

    from gradcalc.numeric import first_index

    if array.dtype.kind != "f" or array.dtype.itemsize <= 8:
        return array
    with np.errstate(invalid="ignore"):  # abs(nan) > max: False, quietly
        too_large = np.isfinite(array) & (np.abs(array) > np.finfo(np.float64).max)
    if too_large.any():
        index = first_index(too_large)
        # str(): a long double's own digits (format() would show it converted to a double: inf)
        raise BeyondDouble(index, str(array[index]))
    return array.astype(np.float64)


def _only_array(archive, max_elements: int, check_size):
    """The one array of an .npz archive, its header read first (a huge one is refused unread)."""
    members = archive.zip.namelist()
    if len(members) != 1:
        found = (f"{len(members)} arrays ({', '.join(name.removesuffix('.npy') for name in members)})"
                 if members else "no array")
        raise FileRefused(f"the .npz file holds {found}, not one",
                          hint="save one array per file (np.save('x.npy', x)) and give each its own --NAME @FILE, "
                               "or give the .npz file to --data to evaluate at each row of its 1-D arrays")
    try:
        with archive.zip.open(members[0]) as stream:
            shape, dtype = _header(stream)
    except NUMPY_READ_ERRORS:
        raise FileRefused(f"the .npz file's {members[0]!r} is not an array saved by numpy", hint=_NUMPY_SAVED) from None
    if dtype.hasobject:
        raise FileRefused(_OBJECTS)
    check_size(math.prod(shape), max_elements)  # np.prod would overflow int64 without a word
    try:
        array = archive[archive.files[0]]
    except NUMPY_READ_ERRORS:  # cut short or corrupted
        raise FileRefused(f"the .npz file's {members[0]!r} cannot be read: the file is damaged",
                          hint=_NUMPY_SAVED) from None
    return as_doubles(array)


def _text_file(path: Path, delimiter: str | None):
    import numpy as np

    try:
        # utf-8-sig: a spreadsheet's CSV may begin with a byte order mark. Opened here, not by numpy:
        # a missing file is "No such file or directory", as for a .npy (numpy: "x.csv not found.")
        with open(path, encoding="utf-8-sig") as stream, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": refused below
            array = np.loadtxt(stream, delimiter=delimiter, ndmin=1, comments="#")
    except UnicodeDecodeError as error:
        raise _not_text(path, error) from None
    except ValueError:
        array = None
    if array is None or not array.size or not np.isfinite(array).all():  # read again, slowly, to say where and why
        _refuse_text(path.read_text(encoding="utf-8-sig").splitlines(), delimiter)
    return array


def _not_text(path: Path, error: UnicodeDecodeError) -> FileRefused:
    """The refusal of a binary file read as text: one saved by numpy is named by its first bytes."""
    with open(path, "rb") as stream:
        start = stream.read(6)
    hint = ("write numbers as text, or save the array with np.save as a .npy file; "
            "a file saved with np.savez must end in .npz")
    if start == b"\x93NUMPY":
        hint = f"it is an array saved by np.save: rename it to end in .npy ({path.stem}.npy)"
    elif start.startswith(b"PK"):
        hint = f"it may be arrays saved by np.savez: rename it to end in .npz ({path.stem}.npz)"
    return FileRefused(f"not a text file: it holds the byte 0x{error.object[error.start]:02x}, "
                       "which is not UTF-8 text", hint=hint)


def _refuse_text(rows: list[str], delimiter: str | None) -> None:
    """Name the first cell that is not a finite number, or the first line of another number of
    columns (returns if there is none)."""
    separated = "commas" if delimiter else "spaces or tabs (a .csv file is read with commas)"
    hint = f"write one row of the array per line, its numbers separated by {separated}"
    first = None  # (line, columns) of the first line holding numbers
    for number, row in enumerate(rows, start=1):
        cells = row.split("#", 1)[0].split(delimiter)
        if not "".join(cells).strip():
            continue
        for column, cell in enumerate(cells, start=1):
            problem = cell_problem(cell.strip())
            if problem is not None:
                raise FileRefused(f"line {number}, column {column}: {problem[0]}", hint=problem[1] or hint)
        if first is None:
            first = number, len(cells)
        elif len(cells) != first[1]:
            raise FileRefused(f"line {number} has {plural(len(cells), 'column')}, line {first[0]} has {first[1]}",
                              hint="every line is one row of the array: give each the same number of columns")
    if first is None:
        raise FileRefused("the file holds no numbers", hint=hint)


def cell_problem(cell: str) -> tuple[str, str | None] | None:
    """(why, how to fix it, None for the file's usual hint) when a text file's cell is not a finite
    number; None when it is one."""
    if not _TEXT_NUMBER.fullmatch(cell):
        return (f"{cell!r} is not a number" if cell else "an empty cell"), None
    if math.isfinite(float(cell)):
        return None
    if NOT_FINITE_WORD.fullmatch(cell):
        return f"{cell!r} is not a finite number", MISSING_VALUE_HINT
    return f"{cell} is too large for a double (beyond ±1.8e308)", "scale the values into the double range"
