"""The only module that imports lark: text -> Graph, lark errors -> gradcalc errors.

The LALR parser calls the builder at every reduction (an inline transformer), so no parse tree
is built and nothing recurses, however deep the expression.
"""

import gc
import threading
from functools import lru_cache
from pathlib import Path

from lark import Lark, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from gradcalc.errors import GradcalcError, ParseError
from gradcalc.graph import Graph, GraphBuilder

_HERE = Path(__file__).resolve().parent
# Installed wheel: gradcalc/grammar/; source checkout: the repository's top-level grammar/.
_GRAMMAR_PATHS = (_HERE / "grammar" / "gradcalc.lark", _HERE.parent / "grammar" / "gradcalc.lark")

_WORDS = {"NUMBER": "a number", "NAME": "a name", "$END": "the end of the expression"}


@v_args(inline=True)
class _Reductions(Transformer):
    """Forwards each grammar reduction to the GraphBuilder of the parse in progress."""

    builder: GraphBuilder

    def start(self, *statements):
        return self.builder.finish(statements[-1])

    def number(self, token):
        return self.builder.number(token.value, token.start_pos, token.end_pos)

    def variable(self, token):
        return self.builder.name(token.value, token.start_pos, token.end_pos)

    def group(self, lpar, inner, rpar):
        inner.start, inner.end = lpar.start_pos, rpar.end_pos
        return inner

    def sign(self, token, operand):
        if token.value == "+":
            operand.start = token.start_pos
            return operand
        return self.builder.negate(operand, token.start_pos)

    def _binary(op):
        def reduce(self, left, right):
            return self.builder.apply(op, [left, right], left.start, right.end)
        return reduce

    add, sub, mul, div = _binary("add"), _binary("sub"), _binary("mul"), _binary("div")
    matmul = _binary("matmul")

    def pow(self, base, _power, exponent):
        return self.builder.apply("pow", [base, exponent], base.start, exponent.end)

    def arguments(self, *operands):
        return list(operands)

    def call(self, name, operands, rpar):
        return self.builder.call(name.value, operands, name.start_pos, rpar.end_pos, name.end_pos)

    def assign(self, name, value):
        return self.builder.assign(name.value, value, name.start_pos)


class Parser:
    """A Lark LALR parser whose reductions build a Graph; safe to share between threads."""

    def __init__(self):
        grammar = next((p for p in _GRAMMAR_PATHS if p.is_file()), None)
        if grammar is None:
            raise GradcalcError("the grammar file gradcalc.lark is missing from the installation",
                                hint="reinstall gradcalc")
        self._reductions = _Reductions()
        self._lock = threading.Lock()
        # cache=True stores the analysed grammar in the temp dir: ~2 ms to load instead of ~40 ms
        self._lark = Lark(grammar.read_text(encoding="utf-8"), parser="lalr",
                          transformer=self._reductions, cache=True)

    def parse(self, text: str) -> Graph:
        with self._lock:
            self._reductions.builder = GraphBuilder(text)
            collecting = gc.isenabled()
            gc.disable()  # the graph is all new objects: cyclic GC passes over it are pure cost
            try:
                return self._lark.parse(text)
            except UnexpectedInput as error:
                raise self._syntax_error(text, error) from None
            finally:
                self._reductions.builder = None
                if collecting:
                    gc.enable()

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
        if "NUMBER" in names:
            names.discard("SIGN")  # "a number" already suggests a signed one
        if {"PLUS", "MINUS"} <= names:  # after an operand: say "an operator", not all six
            names -= {"PLUS", "MINUS", "STAR", "SLASH", "POWER", "AT"}
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


@lru_cache(maxsize=1)
def _parser() -> Parser:
    return Parser()


_CACHED_LENGTH = 4096  # longer texts are rarely repeated: keep the cache's memory small


def parse(text: str) -> Graph:
    """Parse `text` into a Graph. Repeated expressions (up to 4096 characters, the last 1024 of
    them) reuse their graph: evaluation never changes a graph's structure."""
    if len(text) > _CACHED_LENGTH:
        return _parser().parse(text)
    return _parse_cached(text)


@lru_cache(maxsize=1024)
def _parse_cached(text: str) -> Graph:
    return _parser().parse(text)
