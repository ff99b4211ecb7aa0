"""The console and its lines of text: messages and captions wrapped between words, formulas after
an operator or a bracket, never inside a number; what the console's encoding lacks escaped."""

import re
import textwrap

from rich.cells import cell_len
from rich.text import Text

from gradcalc.checked_output import lacks_characters
from gradcalc.formatting import encodable, shorten

READABLE = 7  # a shortened text keeps at least this many cells: "norm(x)" whole, "sig…*y)", never "no…)"


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
NUMBER = re.compile(r"(?:(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])"
                     r"|(?<!\w)-?(?:inf|nan)(?!\w))[)\],;:]*")
# a word longer than its column breaks after one of these (and before ∂), as a formula reads
_BREAKS_AFTER = frozenset(")]*/+-^,;=")


def lacking(console) -> str | None:
    """The console's encoding where it lacks characters (PYTHONIOENCODING=ascii), else None."""
    return console.encoding if lacks_characters(console.encoding) else None


def ascii_cut(console) -> bool:
    """Whether the console cannot write '…', the mark of a cut (then spelled '...')."""
    encoding = lacking(console)
    return encoding is not None and encodable("…", encoding) != "…"


def marked(cut, text: str, width: int, in_ascii: bool) -> str:
    """`cut(text, width)`, its mark of a cut '…' spelled '...' where the console cannot write '…'
    (`in_ascii`), the text cut two characters more to keep the width."""
    fitted = cut(text, width)
    if in_ascii and "…" in fitted and "…" not in text:
        return cut(text, max(1, width - 2)).replace("…", "...")
    return fitted


def _shortened(text: str, width: int) -> str:
    return shorten(text, limit=width)


def print_title(console, title: str) -> None:
    """A table's title: a line shortened in the middle to the console's width (at least 20)."""
    print_line(console, marked(_shortened, encodable(title, lacking(console)), max(console.width, 20),
                               ascii_cut(console)))


def is_array(cell) -> bool:
    """Whether a table's cell is an array (written as lines wrapped to a width), not text or a number."""
    return not isinstance(cell, str) and hasattr(cell, "shape")


def widest_line(text: str) -> int:
    """The cells the widest line of `text` takes."""
    return max(map(cell_len, text.split("\n"))) if "\n" in text else cell_len(text)


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
    atoms = [match.group() for match in re.finditer(NUMBER.pattern + r"|.", word)]  # numbers stay whole
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
