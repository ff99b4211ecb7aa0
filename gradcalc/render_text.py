"""The console and its lines of text: messages and captions wrapped between words, formulas after
an operator or a bracket, never inside a number; what the console's encoding lacks escaped."""

import textwrap

from rich.cells import cell_len
from rich.text import Text

from gradcalc.checked_output import lacks_characters
from gradcalc.formatting import NUMBER, encodable, shorten, wrapped  # noqa: F401 (NUMBER, wrapped: the tables' too)

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


def print_prose(console, text: str, indent: str = "") -> None:
    """Sentences wrapped between words to the console's width (never inside a word or number)."""
    lines = textwrap.wrap(encodable(text, lacking(console)), max(console.width, 20), initial_indent=indent,
                          subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)
    for line in lines:
        print_line(console, line)
