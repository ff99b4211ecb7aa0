"""Number and source-text formatting shared by messages and renderers (numpy only for arrays)."""

import math
import os
import re
from functools import lru_cache

LABEL_LIMIT = 80
MESSAGE_LIMIT = 1000  # a message or hint is never longer, whatever it quotes

# C0/C1 controls, zero-width and bidirectional marks, line/paragraph separators, the BOM:
# echoed raw they would move the cursor, recolour the terminal or reorder what is shown
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
_LITERAL = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_LONG_WORD = re.compile(r"\S{%d,}" % (LABEL_LIMIT + 1))
# a number as gradcalc writes one (-0.25, 1e+308, inf; not the digits of a name such as x2), with
# the punctuation that follows it ("is -2.5, ln"): neither is broken away from it
NUMBER = re.compile(r"(?:(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])"
                    r"|(?<!\w)-?(?:inf|nan)(?!\w))[)\],;:]*")
# a word longer than its column breaks after one of these (and before ∂), as a formula reads
_BREAKS_AFTER = frozenset(")]*/+-^,;=")
NARROWEST = 20  # messages are not wrapped narrower than this, whatever COLUMNS says


def format_number(value: float, precision: int | None = None) -> str:
    """Shortest round-trip text (or `precision` significant digits); integral values without '.0'."""
    if value == 0:
        return "0"  # also folds -0.0
    if precision is not None:
        return format(value, f".{precision}g")  # 'g' drops a trailing '.0' itself
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def format_array(value, precision: int | None = None, full: bool = False, width: int = 100) -> str:
    """An array in numpy's layout with each element written as `format_number` writes a scalar
    (`[0, 1.5, 3]`, not `[0. , 1.5, 3. ]`): whole when small (or `full`), summarised with '...'
    when large, lines wrapped between elements at `width` characters. An array printed on several
    lines has its elements right-aligned to the widest one shown, so a matrix's columns line up."""
    import numpy as np

    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return format_number(float(array), precision)
    if not array.size:  # numpy prints every empty array as []: a shape (2, 0) is [[], []], as in JSON
        return str(array.tolist())
    threshold = array.size if full else 1000
    options = {"separator": ", ", "threshold": threshold, "edgeitems": 3, "max_line_width": width}
    text = np.array2string(array, formatter={"all": lambda v: format_number(float(v), precision)}, **options)
    if "\n" not in text:
        return text
    shown = array
    if array.size > threshold:  # numpy prints only the 3 items at each end of every axis
        shown = array[np.ix_(*(np.r_[0 : min(n, 3), max(3, n - 3) : n] for n in array.shape))]
    widest = max(len(format_number(float(v), precision)) for v in shown.ravel())
    return np.array2string(array, formatter={"all": lambda v: format_number(float(v), precision).rjust(widest)},
                           **options)


def plural(count: int, noun: str) -> str:
    """'1 cell', '2 cells', '0 cells'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def labelled(label: str, text: str) -> str:
    """`label` then `text`, its continuation lines indented to start under the text's first line."""
    return label + text.replace("\n", "\n" + " " * len(label))


def printable(text: str) -> str:
    """`text` with control and invisible formatting characters escaped (\\x1b, \\n, \\u202e)."""
    return _UNPRINTABLE.sub(_escape, text)


def _escape(match) -> str:
    char = match.group()
    code = ord(char)
    return _ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


# gradcalc's own symbols in ASCII, for an output whose encoding lacks them (PYTHONIOENCODING=ascii,
# a Latin-1 locale): as the syntax spells them (± is +-) or as ASCII text does. Letters are never
# spelled so (σ, π, θ may be names, and `sigma` another), nor ² (the syntax refuses x², not x^2):
# they are escaped, \u03c3
ASCII_SPELLINGS = {"∂": "d", "±": "+-", "…": "...", "×": "x", "·": "*", "−": "-", "–": "-", "—": "--",
                   "√": "sqrt", "→": "->", "≤": "<=", "≥": ">=", "≠": "!="}


def encodable(text: str, encoding: str | None, escape=None) -> str:
    """`text` as a stream in `encoding` can write it: unchanged where it can; else each character
    the encoding lacks replaced by `escape(char)`, by default spelled in ASCII (ASCII_SPELLINGS) or
    escaped as Python's backslashreplace (and its standard error) writes it: \u03b8."""
    if text.isascii() or not encoding:
        return text
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        pass
    except LookupError:  # an encoding Python does not know: its stream could not have been opened
        return text
    escape = escape or _spelled
    return "".join(char if _has(char, encoding) else escape(char) for char in text)


def _has(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
        return True
    except UnicodeEncodeError:
        return False


def _spelled(char: str) -> str:
    if "\udc80" <= char <= "\udcff":  # a byte that is not UTF-8 (a file name's): as the shell's $'\xff' spells it
        return f"\\x{ord(char) - 0xDC00:02x}"
    return ASCII_SPELLINGS.get(char) or char.encode("ascii", "backslashreplace").decode("ascii")


def bounded(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """A message fit to show: control characters escaped, each run of more than 80 non-blank
    characters (a name, a number, a quoted input) cut in the middle, and the whole cut to `limit`."""
    if len(message) > 4 * limit:  # the cuts below keep both ends: never scan megabytes for them
        message = message[: 2 * limit] + "…" + message[-2 * limit :]
    message = _LONG_WORD.sub(lambda word: _cut(word.group(), LABEL_LIMIT), printable(message))
    return _cut(message, limit)


def cell_width(text: str) -> int:
    """The terminal cells `text` takes: 2 a wide (CJK) character, 0 a combining mark, 1 any other
    (as Rich counts them; a width, a cut or a caret is in cells: 名 takes two)."""
    return len(text) if text.isascii() else sum(map(_char_cells, text))


@lru_cache(maxsize=4096)
def _char_cells(char: str) -> int:
    import unicodedata  # here: ASCII text, the usual, never needs it (0.17 ms of a start)

    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _head(text: str, cells: int) -> str:
    """The longest start of `text` within `cells` terminal cells."""
    if text.isascii():
        return text[: max(cells, 0)]
    used = 0
    for index, char in enumerate(text):
        used += _char_cells(char)
        if used > cells:
            return text[:index]
    return text


def _tail(text: str, cells: int) -> str:
    """The longest end of `text` within `cells` terminal cells."""
    return _head(text[::-1], cells)[::-1]


def _cut(text: str, limit: int) -> str:
    """`text` within `limit` cells, cut in the middle ('a + b + … + z'); a wide character that
    would straddle the cut is left out (the text is then a cell narrower)."""
    if cell_width(text) <= limit:
        return text
    if limit <= 2:
        return _head(text, limit - 1) + "…"
    tail = _tail(text, (limit - 1) // 2).lstrip()
    return _head(text, limit - 1 - cell_width(tail)).rstrip() + "…" + tail


def shorten(source: str, start: int = 0, end: int | None = None, limit: int = LABEL_LIMIT) -> str:
    """source[start:end] with whitespace collapsed, control characters escaped and a long middle
    cut: 'a + b + … + z'.

    Never copies more than a few times `limit` characters, so labelling every node of a
    100,000-term sum stays linear.
    """
    end = len(source) if end is None else end
    if end - start > 4 * limit:
        text = source[start : start + 2 * limit] + " " + source[end - 2 * limit : end]
    else:
        text = source[start:end]
    return _cut(printable(" ".join(text.split())), limit)


def caret_excerpt(source: str, start: int, end: int | None = None, width: int = 72, encoding: str | None = None) -> str:
    """The source line holding `start`, with carets under [start, end) (windowed to `width` cells on
    long lines; control characters, and characters `encoding` lacks, escaped: the carets moved to
    stay under the same characters, a wide character (名) taking two)."""
    line_start = source.rfind("\n", 0, start) + 1
    line_end = source.find("\n", start)
    if line_end == -1:
        line_end = len(source)
    end = start + 1 if end is None or end <= start else min(end, line_end)
    col, stop = start - line_start, end - line_start
    length = line_end - line_start
    low, high = max(0, col - width), min(length, col + width + 1)  # enough for any window of `width` cells
    text = source[line_start + low : line_start + high].replace("\t", " ")
    shown = [encodable(printable(char), encoding) for char in text]
    cells = [cell_width(piece) for piece in shown]
    caret = col - low
    # a third of the window before the caret, more where the line ends within the window
    after = sum(cells[caret:]) if high == length else width
    first, used = min(caret, len(shown)), 0
    while first > 0 and used + cells[first - 1] <= max(width // 3, width - after):
        first -= 1
        used += cells[first]
    last = caret
    while last < len(shown) and (used + cells[last] <= width or last == caret):
        used += cells[last]
        last += 1
    window = shown[first:last]
    if window and low + first > 0:
        window[0] = "…"
    if window and low + last < length:
        window[-1] = "…"
    before = cell_width("".join(window[: caret - first]))
    marks = max(1, cell_width("".join(window[caret - first : stop - low - first])))
    return f"    {''.join(window)}\n    {' ' * before}{'^' * marks}"


def wrapped(text: str, width: int, lead: str = "", indent: str = "", break_words: bool = True) -> str:
    """`text` in lines of at most `width` cells, broken between words; a word longer than that
    (a formula) after an operator or a closing bracket (else anywhere but inside a number), a
    number longer than the width kept whole on a line of its own. The first line starts with
    `lead` ("gradcalc: error: "), every other with `indent`, both within the width. Without
    `break_words`, a longer word (a file's path) is kept whole on a line of its own too."""
    lines = []

    def room() -> int:  # the cells the line being filled has, beside its lead or indent
        return max(1, width - cell_width(indent if lines else lead))

    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            if line and cell_width(line) + 1 + cell_width(word) <= room():
                line += " " + word
                continue
            if line:
                lines.append(line)
            while break_words and cell_width(word) > room():
                head, word = _broken(word, room())
                if not word:
                    break
                lines.append(head)
            line = word or head
        lines.append(line)
    if not lead and not indent:
        return "\n".join(lines)
    return "\n".join((indent if index else lead) + line for index, line in enumerate(lines))


def _broken(word: str, width: int) -> tuple[str, str]:
    """`word` broken in two, its head as long as fits `width`: after a break character where one
    is, else at the last place outside a number; ("", ...) never: a head is at least one atom."""
    atoms = [match.group() for match in re.finditer(NUMBER.pattern + r"|.", word)]  # numbers stay whole
    used, fitting, good = 0, 0, 0
    for index, atom in enumerate(atoms):
        used += cell_width(atom)
        if used > width:
            break
        fitting = index + 1
        if atom in _BREAKS_AFTER or index + 1 < len(atoms) and atoms[index + 1] == "∂":
            good = index + 1
    cut = good or fitting or 1  # the first atom alone when even it is wider (a long number)
    return "".join(atoms[:cut]), "".join(atoms[cut:])


def message_width(stream) -> int:
    """The cells a message on `stream` (standard error) may take: COLUMNS when set, else the
    terminal's width, else 80 (a pipe, a file), as tables take theirs; never under NARROWEST."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), NARROWEST)
    try:
        if stream.isatty():
            return max(os.get_terminal_size(stream.fileno()).columns or 80, NARROWEST)
    except (AttributeError, OSError, ValueError):  # no descriptor (a StringIO), or a closed one
        pass
    return 80


def message_lines(lead: str, text: str, width: int | None, indent: str = "  ") -> str:
    """`lead` then `text` ("gradcalc: warning: " and a warning), wrapped to `width` cells between
    words, its further lines indented by `indent`; as it is when `width` is None. A word wider than
    the width (a long path: `bounded` cut longer ones) is kept whole on its line, for the terminal
    to wrap, as a table keeps a number: broken by gradcalc, it could not be copied whole."""
    if width is None or "\n" not in text and cell_width(lead) + cell_width(text) <= width:
        return lead + text  # as it is: a message that fits keeps its quoted value's spaces (--x "  [1,x]")
    return wrapped(text, width, lead, indent, break_words=False)


def line_and_column(source: str, position: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = source.count("\n", 0, position) + 1
    column = position - (source.rfind("\n", 0, position) + 1) + 1
    return line, column


def needs_parentheses(text: str) -> bool:
    """Whether an expression's text needs parentheses to stand as an operand: not for a name, an
    unsigned number or a single call such as sin(x + y)."""
    head = text.split("(", 1)[0]
    if text.replace(".", "", 1).replace("_", "").isalnum():
        return False  # a name or an unsigned number
    if not head or not head.replace("_", "").isalnum() or not text.endswith(")"):
        return True
    depth = 0
    for position, character in enumerate(text):
        depth += (character == "(") - (character == ")")
        if depth == 0 and position > len(head):
            return position != len(text) - 1  # the call's parentheses close only at the end
    return True


def unparenthesized(text: str) -> str:
    """`text` without one pair of parentheses around all of it: '(-2)' -> '-2'; '(a)*(b)' as it is."""
    if not (text.startswith("(") and text.endswith(")")):
        return text
    depth = 0
    for position, character in enumerate(text):
        depth += (character == "(") - (character == ")")
        if depth == 0:
            return text[1:-1] if position == len(text) - 1 else text
    return text


def is_literal(text: str) -> bool:
    """Whether an expression's text is a number as written ('-2', '1e3'), not a name or formula."""
    return _LITERAL.fullmatch(text) is not None
