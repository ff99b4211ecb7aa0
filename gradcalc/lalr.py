"""An LALR(1) parse loop over tables lark made from the grammar, so valid text parses without
importing lark (about a quarter of a command's start-up).

The tables (gradcalc/parser_tables.json, made by gradcalc/parser.py with lark) give, per state,
the action for each symbol: a state to go to (shift or goto) or a rule to reduce. Each rule says
which of its children lark would hand the reduction's method: tokens such as ';' and ',' are left
out, helper rules lark makes for repetitions (names starting with '_') are spliced into their
parent, and a `?rule` with a single child passes it through. Reductions are called exactly as
lark calls a transformer given to Lark itself. Anything these tables reject raises NoParse: the
careful parser (lark's own, with its contextual lexer) then parses it again and reports the error.
"""

import re
from collections import namedtuple
from itertools import chain
from operator import itemgetter

# What a reduction sees of a token: the fields of lark's Token that gradcalc's reductions read.
Token = namedtuple("Token", "type value start_pos end_pos")


class NoParse(Exception):
    """The text is not in the language of the tables (or a character no terminal matches)."""


class ContextFreeLexer:
    """The grammar's terminals as one regular expression, matched without parser state.

    Lark's contextual lexer asks the parser state before every token; no terminal of this grammar
    overlaps another, so the tokens are the same. Terminals are tried in the order of lark's own
    lexer (the pattern is built in gradcalc/parser.py). Anything unmatched raises NoParse.
    """

    def __init__(self, pattern: str, flags: int, ignore):
        self._pattern = re.compile(pattern, flags)
        self._ignored = frozenset([*ignore, "_UNLEXABLE"])

    def lex(self, text: str):
        new, ignored = tuple.__new__, self._ignored
        for match in self._pattern.finditer(text):
            kind = match.lastgroup
            if kind in ignored:
                if kind == "_UNLEXABLE":
                    raise NoParse
                continue
            yield new(Token, (kind, match[0], match.start(), match.end()))


class FastParser:
    """Parses text with the tables, calling `reductions`' methods as lark would."""

    def __init__(self, tables: dict, reductions):
        lexer = tables["lexer"]
        self.lexer = ContextFreeLexer(lexer["pattern"], lexer["flags"], lexer["ignore"])
        self._states = tables["states"]
        self._start, self._end = tables["start"], tables["end"]
        self._rules = [(rule["size"], rule["origin"], _reduction(rule, reductions)) for rule in tables["rules"]]

    def parse(self, text: str):
        states, values = [self._start], []
        actions, rules, end = self._states, self._rules, self._end
        for token in chain(self.lexer.lex(text), _END):
            kind = token.type
            while True:
                action = actions[states[-1]].get(kind)
                if action is None:
                    if kind == "$END" and states[-1] == end:  # the start rule is complete
                        return values[-1]
                    raise NoParse
                if action >= 0:  # shift
                    states.append(action)
                    values.append(token)
                    break
                size, origin, reduce = rules[~action]
                if reduce is None:  # a single child passed through: only the state changes
                    del states[-1]
                else:
                    children = values[-size:]
                    del values[-size:], states[-size:]
                    values.append(reduce(children))
                states.append(actions[states[-1]][origin])
        raise NoParse  # $END was shifted, which lark's tables never ask for


_END = (Token("$END", "", None, None),)  # after the last token: reduce until the start rule is complete


def _reduction(rule: dict, reductions):
    """The function of a rule's children lark would call for `rule` with `reductions` as its
    transformer; None when the rule hands on its only child unchanged."""
    size, kept = rule["size"], rule["children"]
    spliced = any(splice for _, splice in kept)
    if rule["expand1"] and len(kept) == 1 and not spliced:
        index = kept[0][0]
        return None if size == 1 else itemgetter(index)
    method = getattr(reductions, rule["method"]) if rule["method"] else list
    if not spliced and [index for index, _ in kept] == list(range(size)) and not rule["expand1"]:
        return method

    def reduce(children):
        chosen = []
        for index, splice in kept:
            if splice:
                chosen.extend(children[index])
            else:
                chosen.append(children[index])
        if rule["expand1"] and len(chosen) == 1:
            return chosen[0]
        return method(chosen)

    return reduce
