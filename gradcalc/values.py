"""Values written as text on the command line: numbers, and arrays as [[1,2],[3,4]], 1,2,3,
@file, linspace(a, b, n) or arange(a, b, step).

Numbers take ASCII digits only, as the grammar does (Python's float() would read '١' as 1), and a
number that underflows to 0 or overflows is refused rather than silently changed. Arrays past
`max_elements` are refused before they are built. numpy is imported only for arrays.
"""

import json
import math
import re
from pathlib import Path

from gradcalc.errors import ValueFormatError

MAX_ELEMENTS = 10_000_000  # 80 MB per array of doubles; every node of the graph holds one

_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_RANGE = re.compile(r"\s*(linspace|arange)\s*\(([^()]*)\)\s*")


class _Refused(ValueError):
    """Why a value's text was refused: becomes a ValueFormatError naming the option."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


def parse_value(name: str, text: str, max_elements: int = MAX_ELEMENTS):
    """A float, or a float64 array, from the text of --NAME (ValueFormatError if it is neither)."""
    stripped = text.strip()
    example = f"write a number such as --{name} -1.5 or --{name} 2e-3, or an array such as --{name} 1,2,3"
    array_example = f"e.g. --{name} 1,2,3 or --{name} \"[[1,2],[3,4]]\" or --{name} @points.npy"
    if _NUMBER.fullmatch(stripped):
        try:
            return number(stripped)
        except _Refused as error:
            raise ValueFormatError(f"--{name} {error}", hint=error.hint or example) from None
    try:
        if stripped[:1] in ("[", "@") or "," in stripped or "(" in stripped:
            array = _parse_array(stripped, max_elements)
            if array is not None:
                return array
    except _Refused as error:
        raise ValueFormatError(f"--{name} {text!r}: {error}", hint=error.hint or array_example) from None
    except (ValueError, TypeError, OSError) as error:
        raise ValueFormatError(f"--{name} {text!r}: {_reason(error)}", hint=array_example) from None
    raise ValueFormatError(f"--{name} {text!r}: not a number{_digits_note(stripped)}", hint=example)


def number(text: str) -> float:
    """The float of a number's text (ASCII digits), refusing one that overflows or underflows to 0."""
    if not _NUMBER.fullmatch(text.strip()):
        raise _Refused(f"{text.strip()!r} is not a number{_digits_note(text)}")
    value = float(text)
    problem = out_of_range(text, value)
    if problem is not None:
        raise _Refused(*problem)
    return value


def out_of_range(text: str, value: float) -> tuple[str, str | None] | None:
    """(message, hint) when the number written `text`, whose float is `value`, overflows or
    underflows to 0 (float() would silently give inf or 0); None when it is a double."""
    if math.isinf(value):
        return f"{text.strip()} overflows: the largest double is about 1.8e308", None
    if value == 0 and any(digit in "123456789" for digit in text.lower().partition("e")[0]):
        return (f"{text.strip()} underflows to 0: the smallest positive double is about 4.9e-324",
                "write 0 if zero is meant")
    return None


def _parse_array(text: str, max_elements: int):
    """An array from its text, or None when the text is none of the array forms."""
    import numpy as np

    if text.startswith("["):
        return _limited(_finite_array(json.loads(text, parse_float=number, parse_int=number,
                                                 parse_constant=number)), max_elements)
    if text.startswith("@"):
        return _limited(_finite_array(_load(Path(text[1:]), max_elements)), max_elements)
    match = _RANGE.fullmatch(text)
    if match:
        arguments = [number(part) for part in match.group(2).split(",")]
        if match.group(1) == "linspace":
            if len(arguments) != 3 or not arguments[2].is_integer() or arguments[2] < 1:
                raise ValueError("linspace(start, stop, count) needs an integer count >= 1")
            _check_size(arguments[2], max_elements)
            return np.linspace(arguments[0], arguments[1], int(arguments[2]))
        if len(arguments) not in (2, 3) or (len(arguments) == 3 and arguments[2] == 0):
            raise ValueError("arange(start, stop[, step]) needs a non-zero step")
        start, stop, step = (*arguments, 1.0)[:3]
        count = (stop - start) / step
        _check_size(math.ceil(count) if math.isfinite(count) else math.inf, max_elements)
        return np.arange(*arguments)
    if "," in text:
        parts = text.split(",")
        _check_size(len(parts), max_elements)
        return _finite_array([number(part) for part in parts])
    return None


def _digits_note(text: str) -> str:
    if any(character.isdigit() and not character.isascii() for character in text):
        return " (numbers are written with the digits 0-9)"
    return ""


def _check_size(count: float, max_elements: int) -> None:
    if count > max_elements:
        size = f"{count:,.0f}" if count < 1e18 else "more than 10**18"
        raise _Refused(f"{size} elements, more than the limit of {max_elements:,}",
                       hint=f"raise the limit with --max-elements {int(count) if count < 1e18 else 'N'} "
                            "(each element takes 8 bytes in every node of the graph)")


def _limited(array, max_elements: int):
    _check_size(array.size, max_elements)
    return array


_NOT_FINITE_WORD = re.compile(r"[-+]?\b(nan|inf|infinity)\b", re.IGNORECASE)


def _reason(error) -> str:
    if isinstance(error, json.JSONDecodeError):
        word = _NOT_FINITE_WORD.search(error.doc, error.pos)
        if word is not None and word.start() <= error.pos + 1:  # [1,nan]: what JSON stopped at
            return f"{word.group()!r} at character {word.start() + 1}: every element must be a finite number"
        return f"not a JSON array ({error.msg} at character {error.pos + 1})"
    if "Python objects" in str(error):  # np.load(allow_pickle=False) of an object array
        return "the file holds Python objects, which are never unpickled: save an array of numbers"
    if isinstance(error, OSError):
        return f"cannot read the file: {error.strerror or error}"
    return str(error) or type(error).__name__


def _load(path: Path, max_elements: int):
    import numpy as np

    suffix = path.suffix.lower()
    if suffix == ".npy":  # read the header first: a huge file is refused before it is loaded
        mapped = np.load(path, mmap_mode="r", allow_pickle=False)
        _check_size(mapped.size, max_elements)
        return np.array(mapped)
    if suffix == ".csv":
        return np.loadtxt(path, delimiter=",", ndmin=1)
    return np.loadtxt(path, ndmin=1)


def _finite_array(value):
    import numpy as np

    from gradcalc.numeric import first_non_finite, not_numbers

    reason = not_numbers(value) if isinstance(value, np.ndarray) else None  # a loaded file's
    if reason is not None:
        raise ValueError(f"the file's array {reason}")
    try:
        array = np.array(value, dtype=float)
    except (ValueError, TypeError):
        raise ValueError("not a rectangular array of numbers (rows of different lengths?)") from None
    if array.dtype == object:
        raise ValueError("every element must be a finite number")
    if not np.isfinite(array).all():
        where = f" ({first_non_finite(array)})" if array.ndim else ""
        raise ValueError(f"every element must be a finite number{where}")
    return array

