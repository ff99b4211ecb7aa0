"""Number and source-text formatting shared by messages and renderers (no dependencies)."""

import math

LABEL_LIMIT = 80


def format_number(value: float, precision: int | None = None) -> str:
    """Shortest round-trip text (or `precision` significant digits); integral values without '.0'."""
    if value == 0:
        return "0"  # also folds -0.0
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    text = repr(value) if precision is None else format(value, f".{precision}g")
    return text


def shorten(source: str, start: int = 0, end: int | None = None, limit: int = LABEL_LIMIT) -> str:
    """source[start:end] with whitespace collapsed and a long middle cut: 'a + b + … + z'.

    Never copies more than a few times `limit` characters, so labelling every node of a
    100,000-term sum stays linear.
    """
    end = len(source) if end is None else end
    if end - start > 4 * limit:
        text = source[start : start + 2 * limit] + " " + source[end - 2 * limit : end]
    else:
        text = source[start:end]
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return text[:half].rstrip() + "…" + text[-half:].lstrip()


def caret_excerpt(source: str, start: int, end: int | None = None, width: int = 72) -> str:
    """The source line holding `start`, with carets under [start, end) (windowed on long lines)."""
    line_start = source.rfind("\n", 0, start) + 1
    line_end = source.find("\n", start)
    if line_end == -1:
        line_end = len(source)
    end = start + 1 if end is None or end <= start else min(end, line_end)
    col, stop = start - line_start, end - line_start
    line = source[line_start:line_end].replace("\t", " ")
    offset = 0
    if len(line) > width:  # keep the caret in view on very long lines
        offset = max(0, min(col - width // 3, len(line) - width))
        line = line[offset : offset + width]
        if offset:
            line = "…" + line[1:]
        if offset + width < line_end - line_start:
            line = line[:-1] + "…"
    marks = max(1, min(stop, offset + width) - max(col, offset))
    return f"    {line}\n    {' ' * (col - offset)}{'^' * marks}"


def line_and_column(source: str, position: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = source.count("\n", 0, position) + 1
    column = position - (source.rfind("\n", 0, position) + 1) + 1
    return line, column
