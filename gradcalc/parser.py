"""The only module that imports lark: text -> Graph, lark errors -> gradcalc errors.

The LALR parser calls the builder at every reduction (as a transformer given to Lark itself does),
so no parse tree is built and nothing recurses, however deep the expression.

Lark analyses the grammar; its LALR tables ship in the package as plain JSON,
gradcalc/parser_tables.json, with the grammar text they were made from. Valid text is parsed by
gradcalc/lalr.py's loop over those tables without importing lark at all (lark's import is about a
quarter of a command's start-up); text with a syntax error is parsed again by lark's own parser,
loaded from the same file, whose errors carry what the messages need. Tables made from another
grammar, or by another lark version for lark's part, are not used: the grammar is then analysed
afresh, in memory. Nothing is written to disk and nothing is unpickled (Lark's own cache=True
unpickles a file in the shared temp directory). After changing the grammar, regenerate the tables
(a test checks them):

    python3 -c "from gradcalc.parser import write_tables; write_tables()"
"""

import gc
import json
import re
import threading
from functools import cached_property, lru_cache
from pathlib import Path

from gradcalc.builder import GraphBuilder
from gradcalc.errors import GradcalcError, ParseError
from gradcalc.graph import Graph
from gradcalc.lalr import FastParser, NoParse, derived_tables
from gradcalc.structure import forget_structures, parse_structured

_HERE = Path(__file__).resolve().parent
# Installed wheel: gradcalc/grammar/; source checkout: the repository's top-level grammar/.
_GRAMMAR_PATHS = (_HERE / "grammar" / "gradcalc.lark", _HERE.parent / "grammar" / "gradcalc.lark")
TABLES = _HERE / "parser_tables.json"
_FORMAT = 3  # of the tables file: another format (an older gradcalc's) is not read

_WORDS = {"NUMBER": "a number", "NAME": "a name", "$END": "the end of the expression"}
_OPERATORS = {"PLUS", "MINUS", "PLUSMINUS", "STAR", "SLASH", "POWER", "AT", "PERCENT"}


class _Reductions:
    """Forwards each grammar reduction, with the rule's children as a list, to the GraphBuilder
    of the parse in progress (a transformer for Lark, which looks its methods up by rule name)."""

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
    matmul, mod = _binary("matmul"), _binary("mod")

    def plus_minus(self, children):
        value, sign, sigma = children
        return self.builder.plus_minus(value, sigma, sign.start_pos, sign.end_pos)

    def plus_minus_sign(self, children):
        sign, operand = children
        return self.builder.plus_minus(None, operand, sign.start_pos, sign.end_pos)

    def arguments(self, operands):
        return operands

    def keyword(self, children):
        name, value = children
        return self.builder.keyword(name.value, value, name.start_pos, name.end_pos)

    def call(self, children):
        name, _, operands, rpar = children
        return self.builder.call(name.value, operands, name.start_pos, rpar.end_pos, name.end_pos)

    def array(self, children):
        lsqb, *elements, rsqb = children
        return self.builder.array(elements, lsqb.start_pos, rsqb.end_pos)

    def index(self, children):
        operand, _, *subscripts, rsqb = children
        return self.builder.index(operand, subscripts, rsqb.end_pos)

    def slice(self, children):
        parts = [[]]  # start, stop, step: the operands between the colons, each one or none
        for child in children:
            if getattr(child, "type", None) == "COLON":
                parts.append([])
            else:
                parts[-1].append(child)
        return self.builder.slice(*[part[0] if part else None for part in parts + [[]] * (3 - len(parts))],
                                  children[0], children[-1])

    def assign(self, children):
        name, value = children
        return self.builder.assign(name.value, value, name.start_pos)


class Parser:
    """An LALR parser whose reductions build a Graph; safe to share between threads.

    Valid text goes through gradcalc/lalr.py; text with a syntax error is parsed again by lark with
    its contextual lexer, whose errors carry the parser state that the messages need.
    """

    def __init__(self):
        self._grammar = read_grammar()
        self._tables = read_tables(self._grammar) or analyse(self._grammar)
        self._reductions = _Reductions()
        self._lock = threading.Lock()
        self._fast = FastParser(self._tables["fast"], self._reductions)

    @cached_property
    def _careful(self):
        """Lark's own parser, from the shipped tables when this lark version made them."""
        import lark

        if self._tables["lark_version"] != lark.__version__:
            self._tables = analyse(self._grammar)
        lark_tables = json.loads(self._tables["lark"], object_hook=_integer_keys)
        return lark.Lark._load_from_dict(lark_tables["data"], lark_tables["memo"], transformer=self._reductions)

    def parse(self, text: str) -> Graph:
        with self._lock:
            collecting = gc.isenabled()
            gc.disable()  # the graph is all new objects: cyclic GC passes over it are pure cost
            try:
                self._reductions.builder = GraphBuilder(text)
                try:
                    return self._fast.parse(text)
                except NoParse:
                    pass
                return self._careful_parse(text)
            finally:
                self._reductions.builder = None
                if collecting:
                    gc.enable()

    def _careful_parse(self, text: str) -> Graph:
        from lark.exceptions import UnexpectedInput

        self._reductions.builder = GraphBuilder(text)
        try:
            return self._careful.parse(text)
        except UnexpectedInput as error:
            raise self._syntax_error(text, error) from None

    def _syntax_error(self, text: str, error) -> ParseError:
        from lark.exceptions import UnexpectedCharacters, UnexpectedToken

        position = min(max(error.pos_in_stream or 0, 0), len(text))
        if isinstance(error, UnexpectedToken):
            token = error.token
            if token.type == "$END":
                bare = _COMMENTS.sub("", text).strip()  # "# only a comment" is as empty as ""
                found = "the expression ends too early" if bare else "the expression is empty"
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
        pattern = self._careful.get_terminal(name).pattern
        if pattern.type == "str":
            return repr(pattern.value)
        return name.lower()


def _word_order(word: str):
    order = ("a number", "a name", "'('", "'['", "an operator")
    return (order.index(word) if word in order else len(order), word == "the end of the expression", word)


_COMMENTS = re.compile(r"#[^\n]*")  # the grammar's COMMENT
_LOOK_ALIKES = {"²": "^2 for a square (x^2)", "³": "^3 for a cube (x^3)", "×": "* to multiply", "·": "* to multiply",
                "−": "- (the ASCII minus)", "÷": "/ to divide"}


_SESSION_COMMAND = re.compile(r"\s*(:[^\W\d]+)")  # :vars, :help ... at the start of a job


def _hint_for(text: str, position: int) -> str:
    look_alike = _LOOK_ALIKES.get(text[position : position + 1])
    if look_alike is not None:
        return f"write {look_alike}"
    command = _SESSION_COMMAND.match(text)
    if command and position == command.start(1):  # `printf ':vars\n' | gradcalc` is a batch of jobs
        return (f"{command[1]} works only in the interactive session (gradcalc with no expression, reading "
                "a terminal); piped or -f lines are expressions")
    if text.count("(") > text.count(")"):
        return "a '(' is not closed"
    if text.count(")") > text.count("("):
        return "there is a ')' without its '('"
    if text[position : position + 1] in ("*", "/", "+") or text[:position].rstrip()[-1:] in ("*", "/", "+", "-", "^"):
        return "an operator needs an operand on each side"
    return "see `gradcalc --syntax` for the expression syntax"


def read_grammar() -> str:
    grammar = next((path for path in _GRAMMAR_PATHS if path.is_file()), None)
    if grammar is None:
        raise GradcalcError("the grammar file gradcalc.lark is missing from the installation",
                            hint="reinstall gradcalc")
    return grammar.read_text(encoding="utf-8")


# sre gives an unbounded regexp's width as MAXREPEAT (2**32 - 1) before CPython 3.11.7 and as
# MAXWIDTH (2**64) from it on; Lark only compares widths, so the smaller stands for both.
_UNBOUNDED = 2**32 - 1


def analyse(grammar: str) -> dict:
    """Lark's LALR analysis of `grammar` as plain data: for lalr.py ("fast") and, as JSON text
    decoded only when needed, lark's own serialization of its parser ("lark")."""
    import lark
    from lark.grammar import Rule
    from lark.lark import _LOAD_ALLOWED_OPTIONS
    from lark.lexer import TerminalDef

    analysed = lark.Lark(grammar, parser="lalr", lexer="contextual")
    data, memo = analysed.memo_serialize([TerminalDef, Rule])
    # as Lark.save() does: options given again at load time (the transformer) are not data
    data["options"] = {name: value for name, value in data["options"].items() if name not in _LOAD_ALLOWED_OPTIONS}
    for entry in memo.values():
        width = entry.get("pattern", {}).get("_width") if isinstance(entry, dict) else None
        if width:  # the same tables from any Python: see _UNBOUNDED
            entry["pattern"]["_width"] = [min(w, _UNBOUNDED) for w in width]
    data, memo = _canonical(data, memo)
    fast = _fast_tables(data, memo, analysed.lexer_conf)
    return {"format": _FORMAT, "grammar": grammar, "lark_version": lark.__version__, "fast": fast,
            "lark": json.dumps({"data": data, "memo": memo}, sort_keys=True, separators=(",", ":"))}


def _fast_tables(data: dict, memo: dict, lexer_conf) -> dict:
    """lalr.py's tables: the lexer's terminals in the order lark tries them, each state's actions,
    what each rule reduces."""
    terminals = sorted(lexer_conf.terminals, key=lambda t: (-t.priority, -t.pattern.max_width,
                                                            -len(t.pattern.value), t.name))
    lexer = {"terminals": [[t.name, t.pattern.to_regexp()] for t in terminals],
             "flags": lexer_conf.g_regex_flags, "ignore": sorted(lexer_conf.ignore)}
    rule_ids = sorted(key for key, entry in memo.items() if entry["__type__"] == "Rule")
    rule_index = {key: index for index, key in enumerate(rule_ids)}
    rules = [_fast_rule(memo[key]) for key in rule_ids]
    table = data["parser"]["parser"]
    names = table["tokens"]
    states = [{names[token]: arg if action == 0 else ~rule_index[arg["@"]]
               for token, (action, arg) in table["states"][state].items()}
              for state in range(len(table["states"]))]
    fast = {"lexer": lexer, "states": states, "rules": rules,
            "start": table["start_states"]["start"], "end": table["end_states"]["start"]}
    derived = derived_tables(fast)
    lexer["pieces"], lexer["literals"] = derived["pieces"], derived["literals"]
    fast["states"], fast["chains"] = derived["states"], derived["chains"]  # lark's states, chains folded in
    return fast


def _fast_rule(rule: dict) -> dict:
    """A rule as lark's tree builder treats it (lark/parse_tree_builder.py): which children the
    reduction gets (tokens marked filter_out are left out), which are spliced in (helper rules,
    named with '_'), whether a single child passes through (`?rule`), and the method called."""
    options = rule["options"]
    if options["empty_indices"] or not rule["expansion"]:
        raise NotImplementedError("gradcalc/lalr.py handles no empty rules or [optional] parts")
    children = [[index, symbol["__type__"] == "NonTerminal" and symbol["name"].startswith("_")]
                for index, symbol in enumerate(rule["expansion"])
                if options["keep_all_tokens"] or not (symbol["__type__"] == "Terminal" and symbol["filter_out"])]
    expand1 = bool(options["expand1"]) and not rule["alias"]
    name = rule["alias"] or options["template_source"] or rule["origin"]["name"]
    method = name if hasattr(_Reductions, name) else None
    helper = rule["origin"]["name"].startswith("_")
    if method is None and not helper and not (expand1 and len(children) == 1):
        raise NotImplementedError(f"no reduction for rule {name!r}: add a method to _Reductions")
    return {"origin": rule["origin"]["name"], "size": len(rule["expansion"]), "children": children,
            "expand1": expand1, "method": method}


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
    """The shipped tables, if they were made from `grammar`."""
    try:
        tables = json.loads(TABLES.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(tables, dict) and tables.get("format") == _FORMAT and tables.get("grammar") == grammar:
        return tables
    return None


def tables_text(grammar: str) -> str:
    return json.dumps(analyse(grammar), sort_keys=True, separators=(",", ":")) + "\n"


def write_tables() -> None:
    """Regenerate gradcalc/parser_tables.json from the grammar."""
    TABLES.write_text(tables_text(read_grammar()), encoding="utf-8")


def _integer_keys(obj: dict) -> dict:
    # JSON keys are strings; lark's tables key states, tokens and memo entries by integers
    return {int(key) if key.isascii() and key.isdigit() else key: value for key, value in obj.items()}


@lru_cache(maxsize=1)
def _parser() -> Parser:
    return Parser()


_CACHED_LENGTH = 4096  # longer texts are rarely repeated: keep the cache's memory small
_CACHED_TEXTS = 1024


def parse(text: str) -> Graph:
    """Parse `text` into a Graph. Repeated expressions (up to 4096 characters, among the last 1024
    texts) reuse their graph from their second time on: evaluation never changes a graph's
    structure. A graph is kept only for a text already seen: in a stream of texts each seen once,
    a graph kept for every text would only be freed 1024 lines later, and building each new one
    in memory that has gone cold costs more than the parse it could save (about 10% of a batch
    line of a new structure). Lines that differ only in the numbers they bind share their graph
    too (gradcalc.structure)."""
    if len(text) > _CACHED_LENGTH:
        return _parser().parse(text)
    slot = _slot(text)
    graph = slot[0] if slot else None
    if graph is None:
        graph = parse_structured(text, _parser().parse)
        if slot:  # its second time: keep the graph
            slot[0] = graph
        else:  # its first: remember only that it was seen
            slot.append(None)
    return graph


@lru_cache(maxsize=_CACHED_TEXTS)
def _slot(text: str) -> list:
    """The text's place in the cache: [] when new, [None] once seen, [graph] from then on."""
    return []


def clear_caches() -> None:
    """Forget every parsed graph (tests that change a layer's code use it)."""
    _slot.cache_clear()
    forget_structures()
