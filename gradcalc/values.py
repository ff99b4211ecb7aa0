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
from gradcalc.formatting import plural, shorten
from gradcalc.number_syntax import SIGNED_NUMBER
from gradcalc.option_errors import at_value
from gradcalc.value_files import MISSING_VALUE_HINT, NOT_FINITE_WORD, FileRefused, load_array

MAX_ELEMENTS = 10_000_000  # 80 MB per array of doubles; every node of the graph holds one
MAX_DEPTH = 64  # numpy's limit on an array's dimensions
RECTANGULAR_HINT = "every row needs the same number of elements, e.g. [[1, 2], [3, 4]]"  # CLI and API

_RANGE = re.compile(r"\s*(linspace|arange)\s*\(([^()]*)\)\s*")


class _Refused(ValueError):
    """Why a value's text was refused: becomes a ValueFormatError naming the option."""

    def __init__(self, message: str, hint: str | None = None, span: tuple[int, int] | None = None):
        super().__init__(message)
        self.hint = hint
        self.span = span  # where in the value's text (stripped), for a caret under it


def parse_value(name: str, text: str, max_elements: int = MAX_ELEMENTS, typed: tuple | None = None):
    """A float, or a float64 array, from the text of --NAME (ValueFormatError if it is neither).
    `typed`: (the option, its value as typed, where `text` starts in it) when that is not
    `--NAME text` (--jvp x=1,y=abc): the error shows it, the caret under `text` or the place in it."""
    option, value, offset = (f"--{name}", text, 0) if typed is None else typed

    def refused(message: str, hint: str, span: tuple[int, int] | None = None) -> ValueFormatError:
        span = (0, len(text)) if span is None else span
        return at_value(message, option, value, hint, within=(offset + span[0], offset + span[1]),
                        kind=ValueFormatError)

    stripped = text.strip()
    if typed is None:
        example = f"write a number such as --{name} -1.5 or --{name} 2e-3, or an array such as --{name} 1,2,3"
        array_example = f"e.g. --{name} 1,2,3 or --{name} \"[[1,2],[3,4]]\" or --{name} @points.npy"
    else:  # a pair of --jvp x=1,y=0 (`name` "jvp y"), where commas separate the pairs
        pair = f"{option} {name.split()[-1]}="
        example = f"write a number such as {pair}-1.5, or an array such as {pair}[1,2,3]"
        array_example = f"e.g. {pair}[1,2,3] or {pair}@points.npy"
    if SIGNED_NUMBER.fullmatch(stripped):
        try:
            return number(stripped)
        except _Refused as error:
            raise refused(str(error).removeprefix(f"{_shown(stripped)} "), error.hint or example) from None
    try:
        if stripped[:1] in ("[", "@") or "," in stripped or "(" in stripped:
            array = _parse_array(name, stripped, max_elements)
            if array is not None:
                return array
    except (_Refused, FileRefused) as error:
        span = getattr(error, "span", None)
        if span is not None:  # a place in the text as written: count the blanks stripped before it
            lead = len(text) - len(text.lstrip())
            span = (span[0] + lead, span[1] + lead)
        raise refused(str(error), error.hint or array_example, span) from None
    except (ValueError, TypeError, OSError) as error:
        raise refused(_reason(error), array_example) from None
    raise refused(f"not a number{_digits_note(stripped)}", example)


def number(text: str) -> float:
    """The float of a number's text (ASCII digits), refusing one that overflows or underflows to 0."""
    if not SIGNED_NUMBER.fullmatch(text.strip()):
        raise _Refused(f"{_shown(text)!r} is not a number{_digits_note(text)}")
    value = float(text)
    problem = out_of_range(text, value)
    if problem is not None:
        raise _Refused(*problem)
    return value


def out_of_range(text: str, value: float) -> tuple[str, str | None] | None:
    """(message, hint) when the number written `text`, whose float is `value`, overflows or
    underflows to 0 (float() would silently give inf or 0); None when it is a double."""
    if math.isinf(value):
        return f"{_shown(text)} overflows: the largest double is about 1.8e308", None
    if value == 0 and any(digit in "123456789" for digit in text.lower().partition("e")[0]):
        return (f"{_shown(text)} underflows to 0: the smallest positive double is about 4.9e-324",
                "write 0 if zero is meant")
    return None


def _shown(text: str) -> str:
    """A number's text as a message quotes it: 5,000 digits are cut in the middle."""
    return shorten(text.strip(), limit=40)


_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')  # JSON strings are skipped: their brackets are text


def nesting_refusal(text: str, objects: int = 0) -> "_Refused | None":
    """Why JSON `text` nests too deeply, with the place of the '[' that opens a 65th level of arrays
    (numpy's limit), or of a bracket deeper than `objects` levels of objects above that; None if
    it does not. A scan, before json decodes it: json's recursion would end in a RecursionError."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:  # the common case, in C
        return None
    depth = arrays = 0
    for token in _NESTING.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            arrays += bracket == "["
            if arrays > MAX_DEPTH:
                return _Refused(f"arrays nest at most {MAX_DEPTH} levels deep (numpy's limit on an array's "
                                f"dimensions): this '[' opens level {arrays}", span=token.span(),
                                hint=f"write the array with at most {MAX_DEPTH} levels of brackets")
            if depth > MAX_DEPTH + objects:  # objects holding arrays: no value is one
                return _Refused(f"brackets nest more than {MAX_DEPTH + objects} levels deep here",
                                span=token.span(), hint="a value is a number or an array of numbers")
        elif bracket in "]}":
            depth -= 1
            arrays -= bracket == "]"
    return None


def _parse_array(name: str, text: str, max_elements: int):
    """An array from the text of --NAME, or None when the text is none of the array forms."""
    import numpy as np

    if text.startswith("["):
        return _limited(_bracketed(text), max_elements)  # its elements are finite numbers: read by number()
    if text.startswith("@"):
        return _limited(_file_array(name, load_array(Path(text[1:]), max_elements, _check_size)), max_elements)
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
        return np.array(_listed_numbers(parts))  # finite numbers: read by number()
    return None


def _listed_numbers(parts: list[str]) -> list[float]:
    """The numbers of 1,2,3 split at its commas; a refusal carries the place of the part refused."""
    numbers, start = [], 0
    for part in parts:
        stop = start + len(part)
        span = (start + len(part) - len(part.lstrip()), stop - (len(part) - len(part.rstrip())))
        if not part.strip():
            raise _Refused("expected a number between the commas", span=(start, start + 1),
                           hint="write one number between each two commas, e.g. 1,2,3")
        numbers.append(_element(part.strip(), span))
        start = stop + 1
    return numbers


_BRACKET_CHARACTERS = re.compile(r"[0-9eE.+\-,\[\]\s]*")  # all that JSON's arrays of numbers hold
_TOKEN = re.compile(r"[\[\],]|[^\s\[\],]+")


def _bracketed(text: str):
    """The float64 array of [[1,2],[3,4]]: json reads it fast; what json or numpy refuses (rows of
    different lengths), or what holds other characters (strings, true, null, nan), is read token by
    token to say where it fails."""
    import numpy as np

    refusal = nesting_refusal(text)
    if refusal is not None:
        raise refusal
    if _BRACKET_CHARACTERS.fullmatch(text):
        try:
            return np.array(json.loads(text, parse_float=number, parse_int=number), dtype=float)
        except (ValueError, _Refused):
            pass  # read again below for the place
    return np.array(_read_brackets(text), dtype=float)


def _read_brackets(text: str) -> list:
    """The nested lists of [[1,2],[3,4]] read token by token: a mistake is refused with its place,
    as is a row whose length (or kind: number or row) differs from the first one at its depth."""
    lengths, kinds = {}, {}  # depth -> the first list's length there; depth -> "number" or "row"
    opened = []  # (list, where its '[' is) of each bracket not closed yet, innermost last
    array = None  # the outermost list once its ']' is read
    expecting_number, after_comma = True, False
    for token in _TOKEN.finditer(text):
        span, word = token.span(), token.group()
        if array is not None:
            raise _Refused(f"{word!r} after the ']' that closes the array", span=span,
                           hint="remove it, or move the ']' to the end" if word != "]"
                           else "remove the extra ']'")
        if word == "[":
            if not expecting_number:
                raise _Refused("expected ',' before '['", span=span, hint="separate the elements with commas")
            inner = []
            if opened:
                opened[-1][0].append(inner)
            opened.append((inner, span))
        elif word == "]":
            if after_comma:
                raise _Refused("expected a number before ']'", span=span, hint="remove the ',' before ']'")
            inner, (start, _) = opened.pop()
            _check_row(len(opened), inner, (start, span[1]), lengths, kinds)
            array = None if opened else inner
            expecting_number = False
        elif word == ",":
            if expecting_number:
                raise _Refused("expected a number before ','", span=span,
                               hint="write one number between each two commas, e.g. [1,2,3]")
            expecting_number, after_comma = True, True
            continue
        elif not expecting_number:
            raise _Refused(f"expected ',' or ']' before {word!r}", span=span,
                           hint="separate the elements with commas, e.g. [1,2,3]")
        else:
            _check_kind(len(opened), "number", span, kinds)
            opened[-1][0].append(_element(word, span))
            expecting_number = False
        after_comma = False
    if opened:
        raise _Refused("unclosed '['", span=opened[-1][1], hint=f"add '{']' * len(opened)}' at the end")
    return array


def _check_row(depth: int, row: list, span: tuple[int, int], lengths: dict, kinds: dict) -> None:
    """Refuse a row (closed at `span`) of another length than the first row at its depth."""
    if depth:
        _check_kind(depth, "row", span, kinds)
    first = lengths.setdefault(depth, len(row))
    if len(row) != first:
        raise _Refused(f"this row has {plural(len(row), 'element')}, the first row has {first}",
                       span=span, hint=RECTANGULAR_HINT)


def _check_kind(depth: int, kind: str, span: tuple[int, int], kinds: dict) -> None:
    """Refuse a number among rows, or a row among numbers, at the same depth."""
    first = kinds.setdefault(depth, kind)
    if kind != first:
        raise _Refused(f"a {kind} where the first element is a {first}", span=span, hint=RECTANGULAR_HINT)


def _element(word: str, span: tuple[int, int]) -> float:
    """The number an array's element is written as, or _Refused with its place."""
    if NOT_FINITE_WORD.fullmatch(word):
        raise _Refused(f"{word!r}: every element must be a finite number", span=span,
                       hint=MISSING_VALUE_HINT)
    try:
        return number(word)
    except _Refused as error:
        error.span = span
        if word[:1] in "'\"" and error.hint is None:
            error.hint = "write numbers without quotes, e.g. [1,2,3]"
        raise


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


def _reason(error) -> str:
    if isinstance(error, OSError):
        return f"cannot read the file: {error.strerror or error}"
    return str(error) or type(error).__name__


def _file_array(name: str, array):
    """The float64 array of --NAME @FILE: one of numbers (not booleans, dates, complex...), all finite."""
    import numpy as np

    from gradcalc.numeric import first_non_finite, not_numbers

    reason = not_numbers(array)
    if reason is not None:
        from gradcalc.value_checks import dtype_hint

        raise _Refused(f"the file's array {reason}", hint=dtype_hint(name, array))
    array = np.asarray(array, dtype=float)
    if not np.isfinite(array).all():
        raise _Refused(f"every element must be a finite number ({first_non_finite(array)})",
                       hint="replace inf and nan by numbers before saving the array, or leave those elements out")
    return array
