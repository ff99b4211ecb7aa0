"""Lines that differ only in the numbers they bind share one parsed graph.

`a=1.039; b=0.5375; a*b + ln(a)` and `a=0.97; b=0.51; a*b + ln(a)` have the same structure: the
numbers of the bindings (`NAME = signed literal` as a whole statement) are parameters, not part of
the graph. The cache key is the line with those literals cut out, found by one regular expression
at the level of tokens; everything else (other numbers, names, operators, whitespace, any token a
later grammar adds) stays in the key, so two lines share a graph only if they differ in binding
literals alone. A structure's first line is parsed as usual (most structures of a stream of new
ones never come again); its second is parsed and checked: every literal the expression matched must
have become a binding of that value, else (`y = a; a = 2; y + a`, where the number is a constant,
or `a = 1; a = 2; a`, one input bound twice) the structure is marked as not parametric and its
lines are parsed and cached whole. From then on a line of the structure costs one
regular-expression split and a view of the shared graph.
"""

import math
import re
from collections import OrderedDict

from gradcalc.graph import Graph
from gradcalc.number_syntax import UNSIGNED_NUMBER_PATTERN
from gradcalc.values import out_of_range

_INFINITY = math.inf

# A statement `NAME = [signs] NUMBER` ending at ';' or the end of the line; NUMBER is the grammar's,
# in ASCII digits only (\d would take '١' and '１', which the grammar refuses), and a sign run never
# holds '+-' (the grammar's spelling of ±, which only `x = 5 +- 0.2` may use)
_BINDING = re.compile(rf"(?:^|(?<=;))(\s*[^\W\d]\w*\s*=\s*)((?:(?:-|\+(?!-))\s*)*{UNSIGNED_NUMBER_PATTERN})"
                      r"(?=\s*(?:;|$))")
_SIGNS = re.compile(r"([-+\s]*)(.*)")
_STRIDE = 3  # re.split gives: text before, then per binding its prefix and its literal
_MAX_STRUCTURES = 1024  # oldest dropped first: memory stays flat however many lines go through
_NOT_PARAMETRIC = object()
_SEEN_ONCE = object()


class _Structure:
    """A parsed line standing for every line of its structure: which binding each literal is,
    and where the literals sat in its text (to move the spans of another line's graph)."""

    __slots__ = ("graph", "names", "ends", "lengths")

    def __init__(self, graph: Graph, names: tuple, ends: tuple, lengths: tuple):
        self.graph, self.names, self.ends, self.lengths = graph, names, ends, lengths


_structures: OrderedDict = OrderedDict()  # popitem(last=False) drops the oldest in O(1)


def parse_structured(text: str, parse_text) -> Graph:
    """The graph of `text`, parsed by `parse_text` once per structure; other lines of the same
    structure get a view of that graph with their own source and bindings."""
    parts = _BINDING.split(text)
    if len(parts) == 1 or "\0" in text:
        return parse_text(text)
    literals = parts[2::_STRIDE]
    parts[2::_STRIDE] = [""] * len(literals)
    key = "\0".join(parts)
    structure = _structures.get(key)
    if structure is _NOT_PARAMETRIC:
        return parse_text(text)
    if structure is None:  # most structures of a stream of new ones never come again:
        _remember(key, _SEEN_ONCE)  # learn one only when a second line has it
        return parse_text(text)
    try:
        values = list(map(float, literals))  # "-1.5", "+2": float reads the one sign itself
    except ValueError:  # "- 1.5", "--2": signs apart or repeated
        values = [_signed(literal) for literal in literals]
    if 0.0 in values or _INFINITY in values or -_INFINITY in values:  # perhaps written 1e-400 or 1e309
        if any(out_of_range(literal, value) for literal, value in zip(literals, values)):
            return parse_text(text)  # which refuses it, pointing at it
    if structure is _SEEN_ONCE:
        structure = _learn(key, text, parts, literals, values, parse_text)
        return parse_text(text) if structure is _NOT_PARAMETRIC else structure.graph
    lengths = tuple(map(len, literals))
    moves = [] if lengths == structure.lengths else _moves(structure, lengths)
    return structure.graph.rebound(text, dict(zip(structure.names, values)), moves)


def _signed(literal: str) -> float:
    signs, number = _SIGNS.fullmatch(literal).groups()
    return -float(number) if signs.count("-") % 2 else float(number)


def _moves(structure: _Structure, lengths: tuple) -> list:
    """(position in the structure's text, shift) where this line's literals change its length."""
    moves, offset = [], 0
    for end, before, after in zip(structure.ends, structure.lengths, lengths):
        if after != before:
            offset += after - before
            moves.append((end, offset))
    return moves


def _learn(key, text, parts, literals, values, parse_text):
    """Parse the first line of a structure and keep it if its literals all became bindings."""
    graph = parse_text(text)
    names = tuple(prefix.split("=")[0].strip() for prefix in parts[1::_STRIDE])
    bindings = graph.bindings
    parametric = len(set(names)) == len(names) == len(bindings) and all(
        name in bindings and bindings[name] == value and math.copysign(1, bindings[name]) == math.copysign(1, value)
        for name, value in zip(names, values))
    if not parametric:
        structure = _NOT_PARAMETRIC
    else:
        ends, position = [], 0
        for index, literal in enumerate(literals):
            position += len(parts[index * _STRIDE]) + len(parts[index * _STRIDE + 1]) + len(literal)
            ends.append(position)
        graph.prepare()
        structure = _Structure(graph, names, tuple(ends), tuple(map(len, literals)))
    _remember(key, structure)
    return structure


def forget_structures() -> None:
    _structures.clear()


def _remember(key: str, structure) -> None:
    if len(_structures) >= _MAX_STRUCTURES:
        _structures.popitem(last=False)
    _structures[key] = structure
