"""--correlation and --covariance files: a matrix between named inputs, read from JSON or CSV and
checked (square, symmetric, positive semi-definite, a correlation's diagonal 1) before any job runs."""

import json
import math
from pathlib import Path

from gradcalc.argv import NAME
from gradcalc.errors import ValueFormatError
from gradcalc.number_syntax import SIGNED_NUMBER
from gradcalc.option_errors import at_value
from gradcalc.uncertainty import SYMMETRY, Correlation

_CSV_HINT = "a header row of names, then one row of numbers per name (L,T / 1,0.3 / 0.3,1)"
_JSON_HINT = '{"names": ["x", "y"], "matrix": [[1, 0.5], [0.5, 1]]}'


def read_matrix(path: str, kind: str) -> Correlation:
    """A correlation or covariance matrix (`kind`) between named inputs, from JSON
    ({"names": [...], "matrix": [[...], ...]}) or CSV (a header row of names, then one row each)."""
    where = f"--{kind} {path}"
    try:
        data = Path(path).read_bytes()
    except (OSError, ValueError) as error:
        raise at_value(f"cannot read it: {getattr(error, 'strerror', None) or error}", f"--{kind}", path,
                       f"check the path; --{kind} reads a JSON or CSV matrix of named rows") from None
    json_file = path.lower().endswith(".json")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ValueFormatError(f"{where}, line {line}: the byte 0x{data[error.start]:02x} is not UTF-8 text",
                               hint=f"save the matrix as UTF-8 text: {_JSON_HINT if json_file else _CSV_HINT}") \
            from None
    names, rows = _json_matrix(where, text) if json_file else _csv_matrix(where, text)
    _check_matrix(where, kind, names, rows)
    if kind == "correlation":
        return Correlation(names, rows, source=where)
    sigmas = [math.sqrt(rows[i][i]) for i in range(len(names))]
    rho = [[rows[i][j] / (sigmas[i] * sigmas[j]) if sigmas[i] and sigmas[j] else float(i == j)
            for j in range(len(names))] for i in range(len(names))]
    return Correlation(names, rho, dict(zip(names, sigmas)), source=where)


def _json_matrix(where, text):
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueFormatError(f"{where}: not valid JSON ({error.msg} at line {error.lineno})",
                               hint=_JSON_HINT) from None
    except RecursionError:
        raise ValueFormatError(f"{where}: the JSON nests too deeply", hint=_JSON_HINT) from None
    if not isinstance(record, dict) or not isinstance(record.get("names"), list) \
            or not isinstance(record.get("matrix"), list):
        raise ValueFormatError(f"{where}: expected an object with \"names\" and \"matrix\"", hint=_JSON_HINT)
    names, rows = record["names"], record["matrix"]
    if not all(isinstance(name, str) for name in names):
        raise ValueFormatError(f"{where}: \"names\" must be a list of strings", hint=_JSON_HINT)
    if not all(isinstance(row, list) for row in rows):
        raise ValueFormatError(f"{where}: \"matrix\" must be a list of rows", hint=_JSON_HINT)
    return names, [[_cell(where, f"row {i + 1}, column {j + 1}", cell) for j, cell in enumerate(row)]
                   for i, row in enumerate(rows)]


def _csv_matrix(where, text):
    import csv

    try:
        lines = [(number, row) for number, row in enumerate(csv.reader(text.splitlines()), start=1)
                 if row and "".join(row).strip()]
    except csv.Error as error:
        raise ValueFormatError(f"{where}: not a CSV matrix ({error})", hint=_CSV_HINT) from None
    if not lines:
        raise ValueFormatError(f"{where}: the file is empty", hint=_CSV_HINT)
    names = [name.strip() for name in lines[0][1]]
    return names, [[_cell(where, f"line {number}, column {names[j] if j < len(names) else j + 1}", cell, text=True)
                    for j, cell in enumerate(row)] for number, row in lines[1:]]


def _cell(where, at, cell, text: bool = False) -> float:
    """A matrix entry: a JSON number, or (`text`) a CSV cell of ASCII digits, as every number gradcalc reads."""
    if text:
        value = float(cell) if SIGNED_NUMBER.fullmatch(cell.strip()) else None
    else:
        try:  # a JSON number, not a string or true (an int beyond a double's range overflows)
            value = float(cell) if type(cell) in (int, float) else None
        except OverflowError:
            value = math.inf
    if value is None or not math.isfinite(value):
        shown = repr(cell) if text else "a list" if isinstance(cell, list) else "an object" \
            if isinstance(cell, dict) else json.dumps(cell)[:40]  # not a list's JSON: it may nest too deep
        raise ValueFormatError(f"{where}, {at}: {shown} is not a {'number' if value is None else 'finite number'}",
                               hint="every entry is a number" + ("" if text else ", written without quotes"))
    return value


def _check_matrix(where, kind, names, rows):
    n = len(names)
    misnamed = [name for name in names if name and not NAME.fullmatch(name)]  # no input can have it
    if misnamed:
        raise ValueFormatError(f"{where}: {misnamed[0]!r} is not a variable name",
                               hint="name each input as the expression does: letters, digits and _, "
                                    "not starting with a digit")
    repeated = [name for i, name in enumerate(names) if name in names[:i]]
    if n == 0 or repeated or not all(names):
        problem = f"{repeated[0]} is named twice" if repeated else "a name is empty" if n else "no names"
        raise ValueFormatError(f"{where}: the names must be distinct and non-empty ({problem})",
                               hint="name each input once, in the order of the rows")
    if len(rows) != n or any(len(row) != n for row in rows):
        raise ValueFormatError(f"{where}: {n} names need {n} rows of {n} numbers",
                               hint="one row per name, in the order of the names")
    for i in range(n):
        for j in range(i):
            a, b = rows[i][j], rows[j][i]
            if not math.isclose(a, b, rel_tol=SYMMETRY, abs_tol=1e-15):
                raise ValueFormatError(f"{where}: not symmetric ({names[i]},{names[j]} is {a} but "
                                       f"{names[j]},{names[i]} is {b})",
                                       hint=f"{names[i]} relates to {names[j]} as {names[j]} does to {names[i]}: "
                                            "write the same number in both places")
    if kind == "correlation":
        for i in range(n):
            if rows[i][i] != 1:
                raise ValueFormatError(f"{where}: the diagonal of a correlation matrix is 1 ({names[i]} has "
                                       f"{rows[i][i]})", hint="for variances, use --covariance")
        bad = [(names[i], names[j]) for i in range(n) for j in range(n) if abs(rows[i][j]) > 1]
        if bad:
            raise ValueFormatError(f"{where}: correlations lie between -1 and 1 ({bad[0][0]},{bad[0][1]})",
                                   hint="for covariances, use --covariance")
    elif any(rows[i][i] < 0 for i in range(n)):
        raise ValueFormatError(f"{where}: a variance on the diagonal is negative",
                               hint="the diagonal holds each input's σ², never negative")
    import numpy as np

    with np.errstate(all="ignore"):  # entries near 1e308 overflow the decomposition: refused below
        eigenvalues = np.linalg.eigvalsh(np.array(rows))
    if not np.all(np.isfinite(eigenvalues)):
        raise ValueFormatError(f"{where}: the entries are too large to check", hint="scale the inputs' units")
    if eigenvalues[0] < -1e-9 * max(abs(eigenvalues[-1]), 1e-300):
        raise ValueFormatError(f"{where}: the matrix is not positive semi-definite (an eigenvalue is "
                               f"{eigenvalues[0]:.3g}), so no inputs can have these {kind}s",
                               hint="check the signs and sizes of the off-diagonal entries")
