"""Grammar, graph building and syntax errors."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark import Lark
from lark.exceptions import UnexpectedInput

from gradcalc import GradcalcError, evaluate, parse
from gradcalc.builder import GraphBuilder
from gradcalc.errors import ParseError, UnknownFunctionError
from gradcalc.lalr import NoParse
from gradcalc.layers import FUNCTIONS
from gradcalc.number_syntax import SIGNED_NUMBER_PATTERN, UNSIGNED_NUMBER_PATTERN
from gradcalc.parser import Parser


def value(expr, **values):
    return evaluate(expr, **values).value


@pytest.mark.parametrize("text,expected", [
    ("3", 3.0), ("0.5", 0.5), (".5", 0.5), ("1e-3", 1e-3), ("2E+4", 2e4), ("5.", 5.0), ("1.5e2", 150.0),
])
def test_numbers(text, expected):
    assert value(text) == expected


@pytest.mark.parametrize("expr,expected", [
    ("-x**2", -9.0),            # power binds tighter than unary minus
    ("(-x)**2", 9.0),
    ("2^3^2", 512.0),           # right-associative
    ("2**3**2", 512.0),
    ("(2^3)^2", 64.0),
    ("2**-1", 0.5),             # a signed exponent
    ("-2**2", -4.0),
    ("a-b-c", 1 - 2 - 5),       # left-associative
    ("a/b/c", 1 / 2 / 5),
    ("a - -b", 3.0),
    ("+a", 1.0),
    ("a+b*c", 11.0),
    ("(a+b)*c", 15.0),
    ("a*b^2", 4.0),
    ("-a*b", -2.0),
    ("x ^ 2 ^ -1", 3 ** 0.5),
])
def test_precedence_and_associativity(expr, expected):
    assert value(expr, x=3, a=1, b=2, c=5) == pytest.approx(expected, rel=1e-15)


def test_names_letters_digits_underscore():
    assert value("z_2 + w1 + _k + θ", z_2=1, w1=2, _k=3, θ=4) == 10.0


def test_whitespace_anywhere_and_comments():
    assert value("  c *\n d\t/ ( a - b )  # the seed", a=1, b=2, c=3, d=4) == -12.0


def test_identical_variables_and_subexpressions_are_one_node():
    graph = parse("x*y + x*y + x")
    layers = [type(node.layer).__name__ for node in graph.nodes]
    assert layers == ["Input", "Input", "Multiply", "Plus", "Plus"]
    assert graph.nodes[3].inputs == (2, 2)


def test_creation_order_is_topological():
    graph = parse("e = a - b; f = c*d; exp(f/e) + sin(a)")
    for node in graph.nodes:
        assert all(i < node.id for i in node.inputs)
    assert graph.output == len(graph.nodes) - 1


def test_statements_name_intermediate_nodes():
    graph = parse("e = a - b; f = c*d; f/e")
    named = {graph.label(node) for node in graph.nodes if node.names}
    assert named == {"e = a - b", "f = c*d"}
    r = evaluate("e = a - b; f = c*d; f/e", a=1, b=2, c=3, d=4)
    assert r.gradients == {"a": -12.0, "b": 12.0, "c": -4.0, "d": -3.0}


def test_literal_statements_bind_inputs():
    r = evaluate("a=1; b=2; c=3; d=4; c*d/(a-b)")
    assert r.value == -12.0
    assert r.gradients == {"a": -12.0, "b": 12.0, "c": -4.0, "d": -3.0}
    assert [n.layer for n in r.nodes].count("Constant") == 0  # bindings leave no constant behind


def test_signed_and_parenthesised_literals_bind():
    assert evaluate("a = -2; b = +3; c = (-1.5); a*b*c").gradients == {"a": -4.5, "b": 3.0, "c": -6.0}


def test_line_bindings_win_over_given_values():
    assert evaluate("a = 1; a*b", a=100, b=3).value == 3.0


def test_reassignment_sees_newest_value():
    r = evaluate("c = a + b; c = c + c + 1; c * a", a=2, b=3)
    assert r.value == (2 * (2 + 3) + 1) * 2
    assert r.gradients == {"a": 4 * 2 + 2 * 3 + 1, "b": 2 * 2}


def test_rebinding_a_used_input_makes_a_constant():
    r = evaluate("y = a*2; a = 5; y + a", a=1)
    assert r.value == 7.0 and r.gradients == {"a": 2.0}


def test_trailing_semicolon_and_assignment_as_output():
    assert value("a = 2; b = a*3;") == 6.0


def test_deep_nesting_of_parentheses():
    depth = 10_000
    r = evaluate("(" * depth + "x" + ")" * depth + "*2", x=3)
    assert (r.value, r.gradients) == (6.0, {"x": 2.0})


def test_deep_nesting_of_calls():
    depth = 10_000
    r = evaluate("sin(" * depth + "x" + ")" * depth, x=0.5)
    assert len(r.nodes) == depth + 1
    assert 0 < r.gradients["x"] < 1


def test_deep_nesting_of_unary_and_power():
    assert value("-" * 10_000 + "x", x=2) == 2.0
    assert evaluate("x" + "^1" * 5000, x=2).gradients == {"x": 1.0}


def test_hundred_thousand_term_sum():
    n = 100_000
    text = " + ".join(f"x{i % 1000}*{i % 7 + 1}" for i in range(n))
    values = {f"x{i}": i / 1000 for i in range(1000)}
    r = evaluate(text, **values)
    expected = {f"x{k}": float(sum(i % 7 + 1 for i in range(k, n, 1000))) for k in range(1000)}
    assert r.gradients == expected
    assert r.value == pytest.approx(sum(values[f"x{i % 1000}"] * (i % 7 + 1) for i in range(n)))


@pytest.mark.parametrize("text,column,words", [
    ("c**d*", 6, "expected a number, a name, '(' or '['"),
    ("a + * b", 5, "unexpected '*'"),
    ("a b", 3, "unexpected 'b'"),
    ("a $ b", 3, "unexpected character '$'"),
    ("(a+b", 5, "expected an operator or ')'"),
    ("a+b)", 4, "unexpected ')'"),
    ("", 1, "the expression is empty"),
    ("exp()", 5, "unexpected ')'"),
    ("1 = x", 3, "unexpected '='"),
    ("x²", 2, "unexpected character '²'"),  # \w takes '²': it was the name 'x²', with no value
    ("3*y³ + 1", 4, "unexpected character '³'"),
    ("x₁ + 1", 2, "unexpected character '₁'"),
    ("½*x", 1, "unexpected character '½'"),
    ("x×y", 2, "unexpected character '×'"),
])
def test_syntax_errors_point_at_the_column(text, column, words):
    with pytest.raises(ParseError) as caught:
        parse(text)
    error = caught.value
    assert error.column == column
    assert words in error.message
    assert error.exit_code == 2
    excerpt = error.describe().splitlines()
    caret = next(line for line in excerpt if line.strip().startswith("^"))
    assert caret.index("^") - 4 == column - 1  # the caret sits under the column


def test_syntax_error_line_in_multiline_expression():
    with pytest.raises(ParseError) as caught:
        parse("a = 1;\nb = a +\n* 2")
    assert caught.value.position == (3, 1)
    assert "line 3, column 1" in caught.value.describe()


def test_caret_stays_visible_on_a_huge_line():
    text = "x + " * 250_000 + "*"
    with pytest.raises(ParseError) as caught:
        parse(text)
    description = caught.value.describe()
    assert len(description) < 400
    assert description.splitlines()[2].strip() == "^"


def test_unknown_function_lists_known_ones():
    with pytest.raises(UnknownFunctionError) as caught:
        parse("2 * foo(x)")
    assert caught.value.exit_code == 2
    assert caught.value.column == 5
    assert "unknown function 'foo'" in caught.value.message
    for name in FUNCTIONS:  # every function, in its group
        assert f" {name} " in caught.value.hint.replace(":", " ").replace(";", " ") + " "
    with pytest.raises(UnknownFunctionError) as caught:
        parse("qqq(x)")
    assert "did you mean" not in caught.value.hint  # nothing is close to qqq


def test_unknown_function_groups_hold_every_function_once():
    from gradcalc.vocabulary import GROUPS

    listed = [name for names in GROUPS.values() for name in names]
    assert sorted(listed) == sorted(FUNCTIONS)


@pytest.mark.parametrize("typo,closest", [("expp", "exp"), ("sinn", "sin"), ("arctann", "arctan"),
                                          ("softmx", "softmax"), ("Log10", "log10")])
def test_unknown_function_suggests_the_closest_name(typo, closest):
    with pytest.raises(UnknownFunctionError) as caught:
        parse(f"{typo}(x)")
    assert caught.value.hint.startswith(f"did you mean {closest}?")


@pytest.mark.parametrize("text,words", [
    ("max(x, y)", "maximum(x, y)"), ("min(x, 0.5)", "minimum(x, y)"), ("sum(x, y)", "axis of sum"),
    ("leaky_relu(x, s)", "slope of leaky_relu"), ("sum(x, axis=0, axis=1)", "axis twice"),
    ("sum(x, keep=1)", "no parameter 'keep'"), ("log(x, base=2)", "no parameter 'base'"),
    ("sum(axis=0, x)", "follows the keyword"),
    ("clip(x, 1)", "takes 3 arguments, 2 given"), ("log(x, 2, 3)", "takes 1 or 2 arguments"),
])
def test_parameter_errors_say_what_to_write(text, words):
    with pytest.raises(GradcalcError) as caught:
        parse(text)
    assert caught.value.exit_code == 2
    assert words in caught.value.describe()


def test_operator_names_are_not_callable():
    with pytest.raises(UnknownFunctionError):
        parse("add(x)")


def test_function_arity():
    with pytest.raises(UnknownFunctionError, match="takes 1 argument, 2 given"):
        parse("sin(x, y)")


def test_function_names_can_be_variables_and_prefixes():
    assert value("exp * exponent + ln", exp=2, exponent=3, ln=1) == 7.0


# The fast path lexes without parser state; lark's contextual lexer is the reference.
_PIECES = ["a", "x1", "exp", "sum", "1", "2.5", ".5", "1e3", "2E-1", "+", "-", "*", "**", "/", "^", "@",
           "(", ")", ",", ";", "=", " ", "\n", "\t", "# note\n", "$", "é", "1.e", "_", "0", "±", "+-"]


def _shape(graph):
    return ([(type(n.layer).__name__, n.inputs, n.span, n.names) for n in graph.nodes],
            graph.variables, graph.bindings, graph.output)


def _outcome(parse, text):
    _PARSER._reductions.builder = GraphBuilder(text)
    try:
        return _shape(parse(text))
    except (UnexpectedInput, NoParse):
        return "syntax error"
    except GradcalcError as error:
        return type(error).__name__, error.message


_PARSER = Parser()
_REFERENCE_LEXER = Lark(_PARSER._grammar, parser="lalr", lexer="basic")


@pytest.mark.parametrize("text", [
    "a=1; b=2; c=3; d=4; c*d/(a-b)", "a;b;c;", "a;;b", ";", "e = a - b; f = c*d; f/e;", "sum(x, 0) + max(x, -1)",
    "dot(a, b, c)", "f(,)", "f()", "-+-x^-+2**y", "(((a)))", "a = (-1.5); a", "# only a comment", "  \n ", "x @ y @ z",
    "x = 5 ± 0.2; x*y", "x = 5 +- 0.2; x", "a +- b", "±x", "x = ± 2",
])
def test_fast_and_careful_parsers_agree_on_every_rule(text):
    assert _outcome(_PARSER._fast.parse, text) == _outcome(_PARSER._careful.parse, text)


@settings(max_examples=400)
@given(st.lists(st.sampled_from(_PIECES), max_size=25).map("".join))
def test_fast_and_careful_parsers_agree(text):
    # gradcalc/lalr.py's loop over the shipped tables against lark's own parser
    assert _outcome(_PARSER._fast.parse, text) == _outcome(_PARSER._careful.parse, text)


@settings(max_examples=400)
@given(st.lists(st.sampled_from(_PIECES), max_size=25).map("".join))
def test_fast_lexer_gives_larks_tokens(text):
    def tokens(lex):
        try:
            return [(t.type, t.value, t.start_pos, t.end_pos) for t in lex(text)]
        except (UnexpectedInput, NoParse):
            return "unlexable"

    assert tokens(_PARSER._fast.lexer.lex) == tokens(_REFERENCE_LEXER.lex)


@pytest.mark.parametrize("text", [
    "x  # a comment at the end  ", "x # c\n y\n\t+ 1   ", "\t a\n*b ", "a$b", "x + # note\n 2", "é + x١",
    "2 ** -1.e3 +- .5", "sum([1, 2][0:1])", "f(x)", "",
])
def test_the_fast_lexing_gives_larks_tokens_where_whitespace_and_comments_sit(text):
    # the parse loop cuts tokens with one findall that skips ignored text itself; lark is the reference
    assert _outcome(_PARSER._fast.parse, text) == _outcome(_PARSER._careful.parse, text)


def test_a_text_of_more_names_than_the_lexer_remembers_parses_as_lark_does():
    from gradcalc import lalr

    text = " + ".join(f"v{index} * {index}.5" for index in range(lalr._KINDS_KEPT + 100))
    assert _outcome(_PARSER._fast.parse, text) == _outcome(_PARSER._careful.parse, text)
    assert len(_PARSER._fast.lexer.kinds) <= lalr._KINDS_KEPT + 1  # its memory stays bounded ("" included)


def test_a_graph_is_kept_from_a_texts_second_time_on():
    from gradcalc import parser

    text = "q1 * q2 + 0.123456"
    first, second, third = parse(text), parse(text), parse(text)
    assert first is not second and second is third
    assert _shape(first) == _shape(second)
    for index in range(parser._CACHED_TEXTS + 10):
        parse(f"w{index} + 1")
    assert parser._slot.cache_info().currsize <= parser._CACHED_TEXTS


def test_a_syntax_error_after_a_valid_prefix_points_at_the_character():
    with pytest.raises(ParseError) as caught:
        parse("x * 2 + y $ 1")
    assert caught.value.column == 11
    assert "unexpected character '$'" in caught.value.message


def test_the_grammar_takes_ascii_digits_only():
    assert float("١") == 1.0  # Python would
    with pytest.raises(ParseError):
        parse("١ + 1")
    assert parse("x١ + 1").variables.keys() == {"x١"}  # a name may hold other digits after a letter


def test_numbers_outside_expressions_are_the_grammars():
    """number_syntax (--NAME values, ± values, CSV cells) writes the grammar's NUMBER out once more."""
    grammar_number = next(t for t in _REFERENCE_LEXER.terminals if t.name == "NUMBER").pattern.to_regexp()
    assert re.sub(r"\((?!\?)", "(?:", grammar_number) == UNSIGNED_NUMBER_PATTERN
    assert SIGNED_NUMBER_PATTERN == "[+-]?" + UNSIGNED_NUMBER_PATTERN


def test_unknown_function_suggests_the_nearest(run_cli):
    code, _, err = run_cli("expp(x)", "--x", "1")
    assert code == 2 and "did you mean exp?" in err
    with pytest.raises(UnknownFunctionError) as raised:
        evaluate("sigmod(x)", x=1)
    assert raised.value.hint.startswith("did you mean sigmoid?")
    with pytest.raises(UnknownFunctionError) as raised:
        evaluate("frobnicate(x)", x=1)
    assert "did you mean" not in raised.value.hint


def test_uncertain_values_take_ascii_digits_only(run_cli):
    assert float("٠.2") == 0.2  # Python would read it
    code, out, err = run_cli("x*2", "--x", "5±٠.2")
    assert code == 2 and out == "" and "expected a number ± its standard uncertainty" in err


@pytest.mark.parametrize("text, hint", [("x²", "write ^2 for a square (x^2)"), ("3*y³", "write ^3 for a cube"),
                                        ("x×y", "write * to multiply"), ("x₁ + 1", "gradcalc --syntax")])
def test_look_alikes_of_operators_are_hinted(text, hint):
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert hint in caught.value.hint


def test_names_of_letters_digits_and_underscores_in_any_script_still_parse():
    assert sorted(parse("θ*x_2 + z1 - straße").variables) == ["straße", "x_2", "z1", "θ"]


@pytest.mark.parametrize("text, words", [("# only a comment", "the expression is empty"),
                                         ("  \n# one\n  # two", "the expression is empty"),
                                         ("x + # c", "the expression ends too early")])
def test_a_text_of_comments_alone_is_empty(text, words):
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert caught.value.message.startswith(words)
