"""Text that held bytes that are not UTF-8. Python keeps each such byte of a command line or a
terminal's input as a lone surrogate (U+DC80..U+DCFF, errors="surrogateescape"), which a message
would show as '\\udcff': here it is said as the byte it was, with a caret under it, in the words a
batch line that is not UTF-8 gets (gradcalc/jobs.py)."""

import re

from gradcalc.errors import ParseError

UNDECODED = re.compile("[\udc80-\udcff]")  # a byte that is not UTF-8, as errors="surrogateescape" keeps it


def readable(text: str) -> str:
    """`text` with each undecoded byte shown as the replacement character �, as editors show it."""
    return UNDECODED.sub("\ufffd", text)


def byte_of(found: re.Match) -> str:
    """'byte 0xff': the byte an undecoded character stands for."""
    return f"byte 0x{ord(found.group()) - 0xDC00:02x}"


def not_utf8(text: str, subject: str, hint: str, kind: type = ParseError) -> ParseError | None:
    """The error `subject is not valid UTF-8 (byte 0xff)`, the caret under the first undecoded
    byte of `text`, or None when `text` has none."""
    found = UNDECODED.search(text)
    if found is None:
        return None
    return kind(f"{subject} is not valid UTF-8 ({byte_of(found)})", source=readable(text),
                span=(found.start(), found.end()), hint=hint)
