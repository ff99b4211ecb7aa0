"""The page `gradcalc --syntax` prints, which error hints point to: operators and precedence, the
functions (from the layer registry, so the list cannot go stale), statements, values, exit codes.
Plain text under 80 columns, for a terminal, a pager or a pipe."""

import re
import textwrap

from gradcalc.formatting import encodable
from gradcalc.layers import FUNCTIONS, REGISTRY
from gradcalc.values import MAX_ELEMENTS

_PAGE = """\
gradcalc expression syntax

Numbers      3  0.5  .5  1e-3  2E+4  (digits 0-9)
Constants    pi  e   (no gradient; a binding of the name makes it a variable)
Names        letters, digits and _, not starting with a digit: x  w1  z_2  θ
             (not x² or x₁: write x^2, x1)
Comments     # to the end of the line

Operators, loosest first
  a + b   a - b          left-associative: a-b-c = (a-b)-c
  a * b   a / b   a % b  left-associative; % is mod (the sign of b);
  a @ b                  @ is the matrix product
  -a   +a                signs
  a ** b   a ^ b         power, right-associative: 2^3^2 = 512;
                         binds tighter than a sign: -x**2 = -(x**2); 2**-1
  ( ... )                grouping
  [a, b, 2*c]            an array of expressions; [[a, b], [c, d]] a matrix
  v[0]  v[-1]  v[1:]  v[::2]  X[0, :]  X[:, 1]
                         indexing and slicing, numpy's rules (integers)

Functions (f(x, y); parameters by position or keyword: max(x, axis=1))
{functions}

Statements
  s1; s2; s3             separated by ';'; the last one is the output
  a = 1                  binds the input a to a (signed) number on the line;
                         values given as options fill the names not bound;
                         bound again before it is read, the newest wins
  e = a - b              names a node (tables show it by name); a name may
                         be assigned again, later statements see the newest
  x = 5 ± 0.2            an input with a standard uncertainty (also 5 +- 0.2;
                         --x 5±0.2 on the command line): the output's σ and
                         each input's share of it are reported

Values (--NAME VALUE, --NAME=VALUE, --var NAME=VALUE, --seed-grad)
  --x 2  --x -1.5  --x=2e-3    a finite number that does not underflow to 0
  --x 1,2,3  --X "[[1,2],[3,4]]"            arrays: a list, nested brackets
  --x @points.npy  @values.csv  @values.txt  an array from a file
  --x "linspace(-5, 5, 101)"  "arange(0, 1, 0.25)"
  --var format=2         a variable named like an option of gradcalc
  Arrays have at most --max-elements elements (default {max_elements:,}).

Exit codes
  0  every job evaluated
  1  a job could not be evaluated numerically (domain error, division by
     zero, non-finite value, a --check mismatch)
  2  the input was not understood (usage, syntax, unknown function, missing
     value, shapes)
  74 the output could not be written (a full disk, a closed standard output,
     a --graph or --plot file in a missing directory)
"""


def syntax_page(width: int = 79, encoding: str | None = None) -> str:
    """The whole page, each line at most `width` characters, also where `encoding` lacks some of
    its characters (PYTHONIOENCODING=ascii): they are escaped (θ as \\u03b8) before the lines are
    wrapped, and a fixed line the escapes make too long is wrapped again under its own column."""
    rows = []
    for name in FUNCTIONS:
        paragraph = (REGISTRY[name].__doc__ or "").strip().split("\n\n")[0]  # a docstring's first paragraph
        doc = encodable(" ".join(line.strip() for line in paragraph.splitlines()), encoding)
        rows.append(textwrap.fill(doc, width, initial_indent=f"  {name:<11} ", subsequent_indent=" " * 14))
    lines, page = [_escaped(line, encoding) for line in _PAGE.split("\n")], []
    while lines:
        line = lines.pop(0)
        if len(line) > width:  # wrapped again with its continuation lines, as one paragraph
            column = _text_column(line, lines)
            while lines and lines[0].strip() and len(lines[0]) - len(lines[0].lstrip()) == column:
                line += " " + lines.pop(0).strip()
            line = textwrap.fill(line, width, subsequent_indent=" " * column, break_long_words=False,
                                 break_on_hyphens=False)
        page.append(line)
    return "\n".join(page).format(functions="\n".join(rows), max_elements=MAX_ELEMENTS)


def _escaped(line: str, encoding: str | None) -> str:
    """A page line as `encoding` can write it, its text column kept in place where an escape
    before it (± as +-) leaves room in the gap."""
    shown = encodable(line, encoding)
    grown = len(shown) - len(line)
    if grown <= 0:
        return shown
    changed = next(index for index, (a, b) in enumerate(zip(line, shown)) if a != b)
    gap = re.compile(r"(?<=\S) {3,}").search(shown, changed)
    if gap is None:
        return shown
    kept = max(2, len(gap.group()) - grown)
    return shown[: gap.start()] + " " * kept + shown[gap.end():]


def _text_column(line: str, following: list[str]) -> int:
    """Where a line's text starts: as its continuation line is indented, else after its label."""
    indent = len(line) - len(line.lstrip())
    if following and len(following[0]) - len(following[0].lstrip()) > indent and following[0].strip():
        return len(following[0]) - len(following[0].lstrip())
    label = re.match(r"\s*\S+\s{2,}", line)
    return label.end() if label else indent
