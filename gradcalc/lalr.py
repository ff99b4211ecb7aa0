"""An LALR(1) parse loop over tables lark made from the grammar, so valid text parses without
importing lark (about a quarter of a command's start-up).

The tables (gradcalc/parser_tables.json, made by gradcalc/parser.py with lark) give, per state,
the action for each symbol: a state to go to (shift or goto) or a rule to reduce. Each rule says
which of its children lark would hand the reduction's method: tokens such as ';' and ',' are left
out, helper rules lark makes for repetitions (names starting with '_') are spliced into their
parent, and a `?rule` with a single child passes it through. Reductions are called exactly as
lark calls a transformer given to Lark itself. Anything these tables reject raises NoParse: the
careful parser (lark's own, with its contextual lexer) then parses it again and reports the error.

Two things are worked out once, when the tables are made (`derived_tables`), instead of at every
token: the tokens are cut by one `findall` whose pattern skips whitespace and comments itself, and
a run of reductions that only pass a single child through (`atom` -> `unary` -> `product` -> `sum`
before a `+`) is one step. tests/test_parser.py holds this parse to lark's own parser, and `lex`,
the plain lexer, to lark's lexer.
"""

import re
from collections import namedtuple
from operator import itemgetter

# What a reduction sees of a token: the fields of lark's Token that gradcalc's reductions read.
Token = namedtuple("Token", "type value start_pos end_pos")

_KINDS_KEPT = 4096  # texts of names and numbers whose terminal is remembered: memory stays small


class NoParse(Exception):
    """The text is not in the language of the tables (or a character no terminal matches)."""


class ContextFreeLexer:
    """The grammar's terminals as one regular expression, matched without parser state.

    Lark's contextual lexer asks the parser state before every token; no terminal of this grammar
    overlaps another, so the tokens are the same. Terminals are tried in the order of lark's own
    lexer (the list is made in gradcalc/parser.py). Anything unmatched raises NoParse.

    `lex` is the plain path, a token per match. `findall` is what the parse loop reads: it gives
    (ignored text before the token, the token's text) pairs, the ignored terminals matched
    possessively in front of each token ("" as the last token: the end), and `kinds` gives the
    terminal of a token's text (the literal terminals; names and numbers once `kind` found them).
    """

    def __init__(self, terminals, flags: int, ignore, pieces: str, literals: dict):
        alternatives = [f"(?P<{name}>{regexp})" for name, regexp in terminals]
        self._pattern = re.compile("|".join([*alternatives, "(?P<_UNLEXABLE>(?s:.))"]), flags)
        self._ignored = frozenset([*ignore, "_UNLEXABLE"])
        self.findall = re.compile(pieces, flags).findall
        self.kinds = dict(literals)  # more are added as `kind` finds them

    def lex(self, text: str):
        new, ignored = tuple.__new__, self._ignored
        for match in self._pattern.finditer(text):
            kind = match.lastgroup
            if kind in ignored:
                if kind == "_UNLEXABLE":
                    raise NoParse
                continue
            yield new(Token, (kind, match[0], match.start(), match.end()))

    def kind(self, text: str) -> str:
        """The terminal of a token's text as `findall` cut it."""
        match = self._pattern.match(text)
        kind = match.lastgroup
        if kind in self._ignored or match.end() != len(text):  # a terminal that looks beyond its text
            raise NoParse  # (the careful parser lexes it as lark does)
        if len(self.kinds) < _KINDS_KEPT:
            self.kinds[text] = kind
        return kind


def derived_tables(tables: dict) -> dict:
    """What FastParser reads besides lark's tables, worked out once when the tables are made
    (gradcalc/parser.py), not at every start: the lexer's `pieces` pattern and its literal
    terminals, and the actions with runs of pass-through reductions made one (`_with_chains`)."""
    lexer = tables["lexer"]
    terminals, ignored = lexer["terminals"], frozenset(lexer["ignore"])
    skipped = "|".join(f"(?:{_uncaptured(regexp)})" for name, regexp in terminals if name in ignored)
    kept = "|".join(f"(?:{_uncaptured(regexp)})" for name, regexp in terminals if name not in ignored)
    # possessive: ignored text is never handed back to match a token; at the end, the token is ""
    pieces = f"((?:{skipped})*+)({kept}|(?s:.)|\\Z)" if skipped else f"()({kept}|(?s:.)|\\Z)"
    # a literal terminal's text is its terminal wherever the plain pattern would pick it first
    plain = ContextFreeLexer(terminals, lexer["flags"], ignored, pieces, {})
    literals = {text: plain.kind(text) for text in {_literal(regexp) for _, regexp in terminals} - {None}}
    states, chains = _with_chains(tables["states"], [_passes_on(rule) and rule["origin"] for rule in tables["rules"]])
    return {"pieces": pieces, "literals": dict(sorted(literals.items())), "states": states,
            "chains": [sorted(ends.items()) for ends in chains]}


def _uncaptured(regexp: str) -> str:
    """The regular expression with its groups made non-capturing, so that `findall` gives only
    the two groups of a piece (a group inside [...] or after a backslash is not a group)."""
    pieces, escaped, in_class = [], False, False
    for index, char in enumerate(regexp):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]" or regexp[index - 1] == "["  # "[]]" holds a "]"
        elif char == "[":
            in_class = True
        elif char == "(" and not regexp.startswith("?", index + 1):
            char = "(?:"
        pieces.append(char)
    result = "".join(pieces)
    if re.compile(result).groups or "(?P=" in regexp:  # what this walk cannot see: a backreference
        raise ValueError(f"cannot match the terminal {regexp!r} without its groups")
    return result


def _literal(regexp: str):
    """The text a terminal's regular expression matches when it is one fixed string, else None."""
    text = re.sub(r"\\(.)", r"\1", regexp)
    return text if re.escape(text) == regexp else None


class FastParser:
    """Parses text with the tables, calling `reductions`' methods as lark would.

    The actions are kept per symbol, as a list indexed by state (None: no action), so that the
    loop indexes a list; the state on top of the stack is a local variable, the states under it a
    list. Numbers: a state to shift to below len(states), a run of single children passed on
    (`_with_chains`) from there on, a rule to reduce below 0.
    """

    def __init__(self, tables: dict, reductions):
        lexer = tables["lexer"]
        self.lexer = ContextFreeLexer(lexer["terminals"], lexer["flags"], lexer["ignore"], lexer["pieces"],
                                      lexer["literals"])
        self.lexer.kinds[""] = "$END"  # `findall` gives "" at the end of the text
        self._start, self._end = tables["start"], tables["end"]
        states, self._chains = tables["states"], [dict(ends) for ends in tables["chains"]]
        symbols = {"$END", *(name for name, _ in lexer["terminals"]), *(symbol for row in states for symbol in row)}
        self._columns = {symbol: [row.get(symbol) for row in states] for symbol in symbols}
        self._rules = [(rule["size"], self._columns[rule["origin"]], _reduction(rule, reductions))
                       for rule in tables["rules"]]

    def parse(self, text: str):
        state, states, values = self._start, [], []
        columns, rules, chains, first_chain = self._columns, self._rules, self._chains, len(self._columns["$END"])
        kinds, kind_of, new = self.lexer.kinds, self.lexer.kind, tuple.__new__
        position = 0
        for ignored, value in self.lexer.findall(text):
            start = position + len(ignored)
            position = start + len(value)
            kind = kinds.get(value) or kind_of(value)
            column = columns[kind]
            while True:
                action = column[state]
                if action is None:
                    if kind == "$END" and state == self._end:  # the start rule is complete
                        return values[-1]
                    raise NoParse
                if action >= 0:
                    if action < first_chain:  # shift (lark's tables never shift $END)
                        states.append(state)
                        state = action
                        values.append(new(Token, (kind, value, start, position)))
                        break
                    state = chains[action - first_chain][states[-1]]  # single children passed on
                    continue
                size, goto, reduce = rules[~action]  # pops `size` states: the top and size - 1 under it
                if size == 1:
                    values[-1] = reduce(values[-1:])
                    state = goto[states[-1]]
                else:
                    children = values[-size:]
                    del values[-size:]
                    values.append(reduce(children))
                    state = goto[states[-size]]
                    del states[1 - size:]
        raise NoParse  # not reached: the last piece is the end of the text


def _with_chains(states: list, passing: list) -> tuple[list, list]:
    """The actions with each reduction that passes a single child on (no call, only a change of
    state), and those it leads to on the same symbol, made one action: number len(states) + i,
    whose chains[i] maps the state under the child to the state the last of them goes to. All of
    them replace the top state and keep the one under it, so that state decides where they end.
    `passing[rule]` is the rule's origin if it passes its child on, else False."""
    def origin_passed(action):
        return action is not None and action < 0 and passing[~action]

    chains, numbered, changed = [], {}, []
    for actions in states:
        changed.append(dict(actions))
        for symbol, action in actions.items():
            origin = origin_passed(action)
            if not origin:
                continue
            key = (origin, symbol)
            if key not in numbered:
                ends = {}
                for under, gotos in enumerate(states):
                    state = gotos.get(origin)
                    while state is not None and origin_passed(states[state].get(symbol)):
                        state = gotos.get(origin_passed(states[state][symbol]))
                    if state is not None:  # else this state never lies under that child
                        ends[under] = state
                numbered[key] = len(states) + len(chains)
                chains.append(ends)
            changed[-1][symbol] = numbered[key]
    return changed, chains


def _passes_on(rule: dict) -> bool:
    """Whether lark hands the rule's only child on unchanged (a `?rule` of one symbol)."""
    return rule["expand1"] and rule["size"] == 1 and len(rule["children"]) == 1 and not rule["children"][0][1]


def _reduction(rule: dict, reductions):
    """The function of a rule's children lark would call for `rule` with `reductions` as its
    transformer; None when the rule hands on its only child unchanged."""
    size, kept = rule["size"], rule["children"]
    spliced = any(splice for _, splice in kept)
    if _passes_on(rule):
        return None
    if rule["expand1"] and len(kept) == 1 and not spliced:
        return itemgetter(kept[0][0])
    method = getattr(reductions, rule["method"]) if rule["method"] else list
    indices = [index for index, _ in kept]
    if not spliced and not rule["expand1"]:
        if indices == list(range(size)):
            return method
        pick = itemgetter(*indices)  # one index: the child itself; more: a tuple of them
        if len(indices) == 1:
            return lambda children: method([pick(children)])
        return lambda children: method(list(pick(children)))

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
