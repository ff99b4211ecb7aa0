"""The only module that imports lark: text -> Graph, lark errors -> gradcalc errors.

The LALR parser calls the builder at every reduction (a transformer given to Lark itself), so no
parse tree is built and nothing recurses, however deep the expression.

Lark's analysis of the grammar (its LALR tables) ships in the package as plain JSON,
gradcalc/parser_tables.json, next to the grammar text it was made from; loading it takes ~2 ms
where analysing the grammar takes ~40 ms. It is used only when its grammar and lark version are
the ones in use; otherwise the grammar is analysed afresh, in memory. Nothing is written to disk,
and nothing is unpickled (Lark's own cache=True unpickles a file in the shared temp directory).
After changing the grammar, regenerate the tables (a test checks them):

    python3 -c "from gradcalc.parser import write_tables; write_tables()"
"""

import gc
import json
import re
import threading
from functools import cached_property, lru_cache
from pathlib import Path

import lark
from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lexer import Lexer
from lark.parsers.lalr_analysis import Shift

from gradcalc.errors import GradcalcError, ParseError
from gradcalc.graph import Graph, GraphBuilder
from gradcalc.structure import parse_structured

_HERE = Path(__file__).resolve().parent
# Installed wheel: gradcalc/grammar/; source checkout: the repository's top-level grammar/.
_GRAMMAR_PATHS = (_HERE / "grammar" / "gradcalc.lark", _HERE.parent / "grammar" / "gradcalc.lark")
TABLES = _HERE / "parser_tables.json"

_WORDS = {"NUMBER": "a number", "NAME": "a name", "$END": "the end of the expression"}
_OPERATORS = {"PLUS", "MINUS", "PLUSMINUS", "STAR", "SLASH", "POWER", "AT"}


class _Reductions(Transformer):
    """Forwards each grammar reduction, with the rule's children as a list, to the GraphBuilder
    of the parse in progress."""

    builder: GraphBuilder

    def start(self, statements):
        return self.builder.finish(statements[-1])

    def number(self, children):
        token = children[0]
        return self.builder.number(token.value, token.start_pos, token.end_pos)

    def variable(self, children):
        token = children[0]
        return self.builder.name(token.value, token.start_pos, token.end_pos)

    def group(self, children):
        lpar, inner, rpar = children
        inner.start, inner.end = lpar.start_pos, rpar.end_pos
        return inner

    def positive(self, children):
        sign, operand = children
        operand.start = sign.start_pos
        return operand

    def negative(self, children):
        sign, operand = children
        return self.builder.negate(operand, sign.start_pos)

    def _binary(op):
        def reduce(self, children):
            return self.builder.binary(op, children[0], children[2])
        return reduce

    add, sub, mul, div, pow = _binary("add"), _binary("sub"), _binary("mul"), _binary("div"), _binary("pow")
    matmul = _binary("matmul")

    def plus_minus(self, children):
        value, sign, sigma = children
        return self.builder.plus_minus(value, sigma, sign.start_pos, sign.end_pos)

    def plus_minus_sign(self, children):
        sign, operand = children
        return self.builder.plus_minus(None, operand, sign.start_pos, sign.end_pos)

    def arguments(self, operands):
        return operands

    def call(self, children):
        name, _, operands, rpar = children
        return self.builder.call(name.value, operands, name.start_pos, rpar.end_pos, name.end_pos)

    def assign(self, children):
        name, value = children
        return self.builder.assign(name.value, value, name.start_pos)


class _Token(Token):
    """A lark Token with only what the reductions read (type, value, start and end)."""

    __slots__ = ()
    line = column = end_line = end_column = None  # not tracked: errors come from the careful parser


class _ContextFreeLexer(Lexer):
    """The grammar's own terminals as one regular expression, matched without parser state.

    Lark's contextual lexer asks the parser state before every token; no terminal of this grammar
    overlaps another, so the tokens are the same, at about twice the speed. Terminals are tried in
    the order of lark's own lexer. Anything unmatched is left to the careful parser, which reports it.
    """

    def __init__(self, conf):
        terminals = sorted(conf.terminals, key=lambda t: (-t.priority, -t.pattern.max_width,
                                                          -len(t.pattern.value), t.name))
        alternatives = [f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals]
        self._pattern = re.compile("|".join([*alternatives, "(?P<_UNLEXABLE>(?s:.))"]), conf.g_regex_flags)
        self._ignored = frozenset([*conf.ignore, "_UNLEXABLE"])

    def lex(self, text):
        new, ignored = str.__new__, self._ignored
        for match in self._pattern.finditer(text):
            kind = match.lastgroup
            if kind in ignored:
                if kind == "_UNLEXABLE":
                    raise _Unlexable
                continue
            token = new(_Token, value := match[0])
            token.type, token.value, token.start_pos, token.end_pos = kind, value, match.start(), match.end()
            yield token


class _Unlexable(UnexpectedInput):
    """A character no terminal matches: the careful parser says which and what was expected."""


class _NotInGrammar(UnexpectedInput):
    """A token the table has no action for: the careful parser says what was expected."""


class _Driver:
    """Lark's own LALR tables and reduction callbacks, run by one tight loop.

    Lark's `feed_token` is half of a parse: per token it looks the action up by a Rule object
    (hashed and compared in Python) and asks whether the token has a callback. Here each action is
    resolved once, when the parser is built: a shift is the next state (an int), a reduction the
    tuple (how many values it takes, lark's callback for the rule, the goto row's key). Same
    table, same callbacks, same results; any token without an action goes to the careful parser.
    """

    def __init__(self, lark: Lark):
        frontend = lark.parser.parser
        table, callbacks = frontend._parse_table, frontend.parser.callbacks
        self.usable = not any(isinstance(key, str) for key in callbacks)  # no per-token callbacks
        self.start, self.end = table.start_states["start"], table.end_states["start"]
        self.actions = {}
        for state, row in table.states.items():
            self.actions[state] = {
                name: argument if action is Shift else (len(argument.expansion), callbacks[argument],
                                                        argument.origin.name)
                for name, (action, argument) in row.items()}

    def parse(self, tokens):
        actions, stack, values = self.actions, [self.start], []
        try:
            for token in tokens:
                kind = token.type
                while True:
                    step = actions[stack[-1]][kind]
                    if step.__class__ is int:  # shift
                        stack.append(step)
                        values.append(token)
                        break
                    size, reduce, origin = step  # inlined: the loop's most frequent step
                    if size:
                        children = values[-size:]
                        del stack[-size:], values[-size:]
                    else:
                        children = []
                    values.append(reduce(children))
                    stack.append(actions[stack[-1]][origin])
            while True:  # the end: reduce until the start rule is complete
                step = actions[stack[-1]]["$END"]
                if step.__class__ is int:
                    raise KeyError("$END")
                self._reduce(step, stack, values)
                if stack[-1] == self.end:
                    return values[-1]
        except KeyError:  # no action for the token
            raise _NotInGrammar from None

    def _reduce(self, step, stack, values):
        size, reduce, origin = step
        if size:
            children = values[-size:]
            del stack[-size:], values[-size:]
        else:
            children = []
        values.append(reduce(children))
        stack.append(self.actions[stack[-1]][origin])


class Parser:
    """A Lark LALR parser whose reductions build a Graph; safe to share between threads.

    Valid text goes through the fast context-free lexer; text with a syntax error is parsed again
    with lark's contextual lexer, whose errors carry the parser state that the messages need.
    """

    def __init__(self):
        grammar = next((p for p in _GRAMMAR_PATHS if p.is_file()), None)
        if grammar is None:
            raise GradcalcError("the grammar file gradcalc.lark is missing from the installation",
                                hint="reinstall gradcalc")
        self._grammar = grammar.read_text(encoding="utf-8")
        self._tables = read_tables(self._grammar) or analyse(self._grammar)
        self._reductions = _Reductions()
        self._lock = threading.Lock()
        self._lark = self._build(_ContextFreeLexer)

    def _build(self, lexer) -> Lark:
        """A Lark parser from the analysed tables, lexing with `lexer` (a name or a Lexer class)."""
        data, memo = self._tables["lark"]["data"], self._tables["lark"]["memo"]
        lexer_conf = {**data["parser"]["lexer_conf"], "lexer_type": lexer}
        data = {**data, "options": {**data["options"], "lexer": lexer},
                "parser": {**data["parser"], "lexer_conf": lexer_conf}}
        return Lark._load_from_dict(data, memo, transformer=self._reductions)

    @cached_property
    def _careful(self) -> Lark:
        return self._build("contextual")

    def parse(self, text: str) -> Graph:
        with self._lock:
            collecting = gc.isenabled()
            gc.disable()  # the graph is all new objects: cyclic GC passes over it are pure cost
            try:
                return self._run(self._lark, text)
            except UnexpectedInput:
                try:
                    return self._run(self._careful, text)
                except UnexpectedInput as error:
                    raise self._syntax_error(text, error) from None
            finally:
                self._reductions.builder = None
                if collecting:
                    gc.enable()

    @cached_property
    def _driver(self) -> _Driver:
        return _Driver(self._lark)

    def _run(self, lark: Lark, text: str) -> Graph:
        self._reductions.builder = GraphBuilder(text)
        if lark is self._lark and self._driver.usable:
            return self._driver.parse(self._lexer.lex(text))
        return lark.parse(text)

    @cached_property
    def _lexer(self) -> "_ContextFreeLexer":
        return _ContextFreeLexer(self._lark.lexer_conf)

    def _syntax_error(self, text: str, error: UnexpectedInput) -> ParseError:
        position = min(max(error.pos_in_stream or 0, 0), len(text))
        if isinstance(error, UnexpectedToken):
            token = error.token
            if token.type == "$END":
                found = "the expression ends too early" if text.strip() else "the expression is empty"
                position = len(text.rstrip())
            else:
                found = f"unexpected {token.value!r}"
            expected = self._describe(error.accepts or error.expected)
        elif isinstance(error, UnexpectedCharacters):
            found = f"unexpected character {text[position]!r}"
            expected = self._describe(error.allowed)
        else:  # pragma: no cover - lark's other UnexpectedInput kinds do not occur with LALR
            found, expected = "syntax error", ""
        hint = _hint_for(text, position)
        message = f"{found}; expected {expected}" if expected else found
        return ParseError(message, source=text, span=(position, position + 1), hint=hint)

    def _describe(self, names) -> str:
        names = set(names)
        if "NUMBER" in names:  # before an operand, + and - are signs: "a number" suggests them
            names -= {"PLUS", "MINUS", "PLUSMINUS"}
        elif {"PLUS", "MINUS"} <= names:  # after an operand: say "an operator", not all six
            names -= _OPERATORS
            names.add("an operator")
        words = sorted((self._word(name) for name in names), key=_word_order)
        if len(words) <= 1:
            return "".join(words)
        return ", ".join(words[:-1]) + " or " + words[-1]

    def _word(self, name: str) -> str:
        if name in _WORDS or " " in name:
            return _WORDS.get(name, name)
        pattern = self._lark.get_terminal(name).pattern
        if pattern.type == "str":
            return repr(pattern.value)
        return name.lower()


def _word_order(word: str):
    order = ("a number", "a name", "'('", "an operator")
    return (order.index(word) if word in order else len(order), word == "the end of the expression", word)


def _hint_for(text: str, position: int) -> str:
    if text.count("(") > text.count(")"):
        return "a '(' is not closed"
    if text.count(")") > text.count("("):
        return "there is a ')' without its '('"
    if text[position : position + 1] in ("*", "/", "+") or text[:position].rstrip()[-1:] in ("*", "/", "+", "-", "^"):
        return "an operator needs an operand on each side"
    return "see `gradcalc --help` for the expression syntax"


def analyse(grammar: str) -> dict:
    """Lark's LALR analysis of `grammar` as plain data (lists, dicts, strings, numbers)."""
    from lark.grammar import Rule
    from lark.lark import _LOAD_ALLOWED_OPTIONS
    from lark.lexer import TerminalDef

    analysed = Lark(grammar, parser="lalr", lexer="contextual")
    data, memo = analysed.memo_serialize([TerminalDef, Rule])
    # as Lark.save() does: options given again at load time (the transformer) are not data
    data["options"] = {name: value for name, value in data["options"].items() if name not in _LOAD_ALLOWED_OPTIONS}
    data, memo = _canonical(data, memo)
    return {"grammar": grammar, "lark_version": lark.__version__, "lark": {"data": data, "memo": memo}}


def _canonical(data: dict, memo: dict) -> tuple[dict, dict]:
    """The same tables, numbered the same way every time. Lark numbers its LALR states and its
    rules and terminals in an order that varies from run to run; here rules and terminals are
    numbered in the order of their text, and states breadth first from the start, following the
    symbols in name order."""
    order = sorted(memo, key=lambda key: json.dumps(memo[key], sort_keys=True))
    renumber = {old: new for new, old in enumerate(order)}
    memo = {renumber[old]: memo[old] for old in order}
    # every {"@": n} is a reference to memo entry n; the decoder's hook visits each dict once
    data = json.loads(json.dumps(data), object_hook=lambda obj: _integer_keys(
        {"@": renumber[obj["@"]]} if obj.keys() == {"@"} else obj))
    frontend = data["parser"]
    for references in (data["rules"], frontend["parser_conf"]["rules"], frontend["lexer_conf"]["terminals"]):
        references.sort(key=lambda reference: reference["@"])

    table = frontend["parser"]
    names = table["tokens"]
    token_ids = {name: number for number, name in enumerate(sorted(names.values()))}
    states = {}  # old number -> new number, in breadth-first order
    queue = [table["start_states"][start] for start in sorted(table["start_states"])]
    for state in queue:
        if state not in states:
            states[state] = len(states)
            actions = sorted(table["states"][state].items(), key=lambda item: names[item[0]])
            queue.extend(arg for _, (action, arg) in actions if action == 0)
    table["states"] = {
        states[old]: {token_ids[names[token]]: [action, states[arg] if action == 0 else arg]
                      for token, (action, arg) in sorted(actions.items(), key=lambda item: names[item[0]])}
        for old, actions in sorted(table["states"].items(), key=lambda item: states[item[0]])}
    table["tokens"] = {number: name for name, number in token_ids.items()}
    for key in ("start_states", "end_states"):
        table[key] = {start: states[state] for start, state in table[key].items()}
    return data, memo


def read_tables(grammar: str) -> dict | None:
    """The shipped tables, if they were made from `grammar` by this version of lark."""
    try:
        tables = json.loads(TABLES.read_text(encoding="utf-8"), object_hook=_integer_keys)
    except (OSError, ValueError):
        return None
    if isinstance(tables, dict) and tables.get("grammar") == grammar and tables.get("lark_version") == lark.__version__:
        return tables
    return None


def tables_text(grammar: str) -> str:
    return json.dumps(analyse(grammar), sort_keys=True, separators=(",", ":")) + "\n"


def write_tables() -> None:
    """Regenerate gradcalc/parser_tables.json from the grammar."""
    TABLES.write_text(tables_text(Parser()._grammar), encoding="utf-8")


def _integer_keys(obj: dict) -> dict:
    # JSON keys are strings; lark's tables key states, tokens and memo entries by integers
    return {int(key) if key.isascii() and key.isdigit() else key: value for key, value in obj.items()}


@lru_cache(maxsize=1)
def _parser() -> Parser:
    return Parser()


_CACHED_LENGTH = 4096  # longer texts are rarely repeated: keep the cache's memory small


def parse(text: str) -> Graph:
    """Parse `text` into a Graph. Repeated expressions (up to 4096 characters, the last 1024 of
    them) reuse their graph: evaluation never changes a graph's structure; so do lines that differ
    only in the numbers they bind (gradcalc.structure)."""
    if len(text) > _CACHED_LENGTH:
        return _parser().parse(text)
    return _parse_cached(text)


@lru_cache(maxsize=1024)
def _parse_cached(text: str) -> Graph:
    return parse_structured(text, _parser().parse)
