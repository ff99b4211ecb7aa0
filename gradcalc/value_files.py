"""The array of `--NAME @FILE`: a .npy file, a .npz file holding one array (both read by numpy and
never unpickled), or text, comma-separated for .csv and whitespace-separated otherwise.

numpy's own refusals name its keyword arguments (`usecols`, `allow_pickle=`) and count rows from 0
beside columns from 1; a file numpy refuses is read again here to say, in gradcalc's words, which
line and column (both from 1, as an editor shows them) hold what, and how to fix it.
"""

import re
import warnings
import zipfile
import zlib
from pathlib import Path

from gradcalc.formatting import plural

NUMPY_SUFFIXES = (".npy", ".npz")
_NUMPY_SAVED = "save it with np.save('x.npy', x), or as text: one row of numbers per line"
_OBJECTS = "the file holds Python objects, which are never unpickled: save an array of numbers"
_TEXT_NUMBER = re.compile(r"[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|nan|inf|infinity)",
                          re.IGNORECASE)  # nan and inf are read, then refused with their index


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
    try:
        mapped = np.load(path, mmap_mode="r", allow_pickle=False)
    except NUMPY_READ_ERRORS as error:
        raise numpy_refusal(error) from None
    check_size(mapped.size, max_elements)  # the header's shape: the data is not read yet
    return np.array(mapped)


def _only_array(archive, max_elements: int, check_size):
    """The one array of an .npz archive, its header read first (a huge one is refused unread)."""
    import numpy as np

    members = archive.zip.namelist()
    if len(members) != 1:
        found = (f"{len(members)} arrays ({', '.join(name.removesuffix('.npy') for name in members)})"
                 if members else "no array")
        raise FileRefused(f"the .npz file holds {found}, not one",
                          hint="save one array per file (np.save('x.npy', x)) and give each its own --NAME @FILE, "
                               "or give the .npz file to --data to evaluate at each row of its 1-D arrays")
    try:
        with archive.zip.open(members[0]) as stream:
            version = np.lib.format.read_magic(stream)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0  # 3.0 differs from 2.0 only in its text's encoding
            shape, _, dtype = read_header(stream)
    except NUMPY_READ_ERRORS:
        raise FileRefused(f"the .npz file's {members[0]!r} is not an array saved by numpy", hint=_NUMPY_SAVED) from None
    if dtype.hasobject:
        raise FileRefused(_OBJECTS)
    check_size(int(np.prod(shape)), max_elements)
    try:
        return archive[archive.files[0]]
    except NUMPY_READ_ERRORS:  # cut short or corrupted
        raise FileRefused(f"the .npz file's {members[0]!r} cannot be read: the file is damaged",
                          hint=_NUMPY_SAVED) from None


def _text_file(path: Path, delimiter: str | None):
    import numpy as np

    try:
        with warnings.catch_warnings():  # "input contained no data": refused below, in gradcalc's words
            warnings.simplefilter("ignore", UserWarning)
            # utf-8-sig: a spreadsheet's CSV may begin with a byte order mark
            array = np.loadtxt(path, delimiter=delimiter, ndmin=1, comments="#", encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        byte = error.object[error.start]
        raise FileRefused(f"not a text file: it holds the byte 0x{byte:02x}, which is not UTF-8 text",
                          hint="write numbers as text, or save the array with np.save as a .npy file; "
                               "a file saved with np.savez must end in .npz") from None
    except ValueError:
        array = None
    if array is None or not array.size:  # read again, slowly, to say where and why
        _refuse_text(path.read_text(encoding="utf-8-sig").splitlines(), delimiter)
    return array


def _refuse_text(rows: list[str], delimiter: str | None) -> None:
    """Name the first cell that is not a number, or the first line of another number of columns."""
    separated = "commas" if delimiter else "spaces or tabs (a .csv file is read with commas)"
    hint = f"write one row of the array per line, its numbers separated by {separated}"
    first = None  # (line, columns) of the first line holding numbers
    for number, row in enumerate(rows, start=1):
        cells = row.split("#", 1)[0].split(delimiter)
        if not "".join(cells).strip():
            continue
        for column, cell in enumerate(cells, start=1):
            if not _TEXT_NUMBER.fullmatch(cell.strip()):
                found = f"{cell.strip()!r} is not a number" if cell.strip() else "an empty cell"
                raise FileRefused(f"line {number}, column {column}: {found}", hint=hint)
        if first is None:
            first = number, len(cells)
        elif len(cells) != first[1]:
            raise FileRefused(f"line {number} has {plural(len(cells), 'column')}, line {first[0]} has {first[1]}",
                              hint="every line is one row of the array: give each the same number of columns")
    if first is None:
        raise FileRefused("the file holds no numbers", hint=hint)
    raise FileRefused("not a table of numbers", hint=hint)  # numpy refused what the lines above accept
