"""Why a value given to the Python API is not an array of real numbers: the element that is not a
number (its index and type), the row of another length, and how to fix each.

The check that passes (lists of floats) runs in C, one `set(map(type, row))` per list; finding the
culprit, in Python, runs only when there is one.
"""

from numbers import Real

from gradcalc.formatting import plural, shorten
from gradcalc.values import MAX_DEPTH, RECTANGULAR_HINT

_real_kinds = {float: True, int: True}  # type -> whether its instances are real numbers (filled as met)


def _is_real_kind(kind) -> bool:
    known = _real_kinds.get(kind)
    if known is None:  # bool is an int, numpy's bool_ is not Real; float32, int64, Fraction are
        known = _real_kinds[kind] = issubclass(kind, Real) and not issubclass(kind, bool)
    return known


def _is_sequence_kind(kind) -> bool:
    return issubclass(kind, (list, tuple))


def _is_number_array(item) -> bool:
    """A numpy array (not a masked one) of integers or floats, which numpy takes as a row."""
    return type(item).__name__ == "ndarray" and type(item).__module__ == "numpy" and item.dtype.kind in "iuf"


def holds_only_numbers(rows) -> bool:
    """Whether nested lists/tuples hold only real numbers (or numpy arrays of them), at most 64
    levels deep; a loop over the levels, one C pass per list."""
    level, depth = [rows], 1
    while level:
        if depth > MAX_DEPTH:
            return False
        deeper = []
        for items in level:
            kinds = set(map(type, items))
            if len(kinds) == 1 and (float in kinds or int in kinds):
                continue  # the common case
            has_rows = False
            for kind in kinds:
                if _is_sequence_kind(kind):
                    has_rows = True
                elif not _is_real_kind(kind) and not all(map(_is_number_array, (i for i in items if type(i) is kind))):
                    return False
            if has_rows:
                deeper += [item for item in items if isinstance(item, (list, tuple))]
        level, depth = deeper, depth + 1
    return True


def odd_element_error(name: str, rows, error_type):
    """The error naming the first element (in order) of nested lists that is not a real number,
    or saying they nest too deeply; None if there is none."""
    stack = [(iter(enumerate(rows)), ())]
    while stack:
        items, prefix = stack[-1]
        for index, item in items:
            where = (*prefix, index)
            if isinstance(item, (list, tuple)):
                if len(where) >= MAX_DEPTH:
                    return error_type(f"the value of {name} nests lists more than {MAX_DEPTH} levels deep "
                                      "(numpy's limit on an array's dimensions)",
                                      hint=f"give an array of at most {MAX_DEPTH} dimensions")
                stack.append((iter(enumerate(item)), where))
                break
            if not (_is_real_kind(type(item)) or _is_number_array(item)):
                return element_error(name, where, item, error_type)
        else:
            stack.pop()
    return None


def object_array_error(name: str, array, error_type):
    """The error naming the first element of a numpy object array that is not a real number."""
    import numpy as np

    for flat, item in enumerate(array.ravel()):
        if not _is_real_kind(type(item)):
            where = tuple(int(i) for i in np.unravel_index(flat, array.shape))
            return element_error(name, where, item, error_type)
    return None


def element_error(name: str, where: tuple, item, error_type):
    message = f"the value of {name} at index {where} is {described(item)}, not a number"
    return error_type(message, hint=element_hint(item, "every element must be a real number (an int or a float), "
                                                       "or a list of them"))


def described(value) -> str:
    """'None (of type NoneType)': a value's repr on one short line, then its type (the repr alone
    when it cannot be made: a __repr__ that raises)."""
    kind = type(value)
    module = kind.__module__
    where = "" if module == "builtins" else "numpy.ma." if module.startswith("numpy.ma") else f"{module.split('.')[0]}."
    try:
        shown = shorten(repr(value))
    except Exception:  # noqa: BLE001 - any __repr__ may raise anything: the type still names the value
        return f"a value of type {where}{kind.__qualname__}"
    return f"{shown} (of type {where}{kind.__qualname__})"


def element_hint(item, otherwise: str) -> str:
    """How to turn `item` into a number (or array), `otherwise` when there is nothing particular to say."""
    kind = type(item)
    if kind.__module__.startswith("numpy.ma"):  # a masked array or numpy.ma.masked
        return "fill the masked elements (x.filled(value)) or drop them (x.compressed()) before passing it"
    if isinstance(item, (bytes, bytearray, memoryview)):
        return "bytes are not numbers: convert them first, e.g. np.frombuffer(data, dtype=np.float64)"
    if item is None:
        return "every element needs a value: a missing one has no place in an array"
    if isinstance(item, bool) or (kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_")):
        return "booleans are not numbers: write 1.0 and 0.0 if you mean them as numbers"
    if isinstance(item, str):
        return "numbers are not text: float('1.5') converts a number's text"
    if isinstance(item, complex) or "complex" in kind.__name__:
        return "values are real: pass the real part (z.real), or the real and imaginary parts as two variables"
    if kind.__name__ in ("date", "datetime", "datetime64", "timedelta", "timedelta64"):
        return "convert dates to numbers first, e.g. days since a start: (d - start).days"
    if kind.__name__ == "Decimal":
        return "convert it with float()"
    foreign_array = hasattr(kind, "__array__") or (kind.__module__, kind.__name__) == ("array", "array")
    if foreign_array and kind.__module__ != "numpy":  # a torch tensor, a jax or xarray array: numpy converts it
        return "convert it with np.asarray(...) first"
    return otherwise


def ragged_error(name: str, rows, error_type):
    """The error naming the first row whose length, or kind (number or row), differs from the
    first one's at its depth; None if numpy refused the rows for another reason."""
    level = [((), rows)]
    while level:
        first = None  # (where, length or None for a number) of the level's first element
        deeper = []
        for where, item in level:
            length = len(item) if isinstance(item, (list, tuple)) or getattr(item, "ndim", 0) else None
            if first is None:
                first = where, length
            elif (length is None) != (first[1] is None):
                kinds = ("a number", "a row") if length is None else ("a row", "a number")
                return error_type(f"the value of {name} is not a rectangular array: the element at index "
                                  f"{where} is {kinds[0]}, the one at index {first[0]} {kinds[1]}",
                                  hint=RECTANGULAR_HINT)
            elif length != first[1]:
                return error_type(f"the value of {name} is not a rectangular array: the row at index {where} "
                                  f"has {plural(length, 'element')}, the row at index {first[0]} has {first[1]}",
                                  hint=RECTANGULAR_HINT)
            if length is not None:
                deeper += [((*where, index), inner) for index, inner in enumerate(item)]
        level = deeper
    return None


_DTYPE_HINTS = {
    "b": "booleans are not numbers: {x}.astype(float) if you mean them as 1.0 and 0.0",
    "U": "numbers are not text: np.asarray({x}, dtype=float) converts numbers' text",
    "S": "numbers are not bytes: np.asarray({x}, dtype=float) converts numbers' text",
    "M": "convert dates to numbers first, e.g. days since the first: ({x} - {x}[0]) / np.timedelta64(1, 'D')",
    "m": "convert time spans to numbers first, e.g. seconds: {x} / np.timedelta64(1, 's')",
    "c": "values are real: pass the real part ({x}.real), or the real and imaginary parts as two variables",
}


def dtype_hint(name: str, array) -> str:
    """How to turn the numpy array `name`, of another kind than numbers, into one."""
    names = array.dtype.names
    if names:  # a record array
        return f"pass one field of the record array, e.g. {name}[{names[0]!r}] (its fields: {', '.join(names)})"
    return _DTYPE_HINTS.get(array.dtype.kind, "give an array of real numbers").format(x=name)


TOO_LARGE_HINT = "scale it into the double range (about ±1.8e308), e.g. by choosing other units"
NOT_FINITE_HINT = "give a finite number: inf and nan have no derivative to compute"
