"""Lines that differ only in the numbers they bind share one graph (gradcalc.structure): every
result must be the one a fresh, uncached parse of the same line gives."""

import random

import pytest

from gradcalc import structure
from gradcalc.errors import GradcalcError
from gradcalc.evaluator import evaluate_graph
from gradcalc.parser import Parser, parse

FRESH = Parser()  # not the cached parse(): the reference parses every line for real


def outcome(graph):
    """Everything a user sees of a line: value, gradients, every node's record, or the error."""
    try:
        result = evaluate_graph(graph, {})
    except GradcalcError as error:
        return ("error", type(error).__name__, error.message, error.span, str(error))
    return (result.value, result.gradients, result.nodes, graph.source)


def literal(rng) -> str:
    """A signed literal of varying length and form."""
    sign = rng.choice(["", "-", "+", "- ", "- -", "+ -"])  # "+-" without a space is ±
    number = rng.choice([f"{rng.uniform(0.01, 9):.{rng.randint(0, 6)}f}", f"{rng.uniform(1, 9):.2e}",
                         str(rng.randint(0, 300)), f".{rng.randint(1, 99)}"])
    return sign + number


STRUCTURES = [
    "a={}; b={}; a*b + ln(a)",
    "a = {} ; b={};c = a*b; c + sqrt(a) / b",
    "x={}; y = x*x; w={}; y*w - exp(w)",
    " p =  {};q={}; -p**2 + relu(q) * p",
]


@pytest.mark.parametrize("template", STRUCTURES)
def test_lines_of_one_structure_give_what_a_fresh_parse_gives(template):
    rng = random.Random(template)
    for _ in range(60):
        text = template.format(literal(rng), literal(rng))
        shared = parse(text)
        assert outcome(shared) == outcome(FRESH.parse(text)), text
        # the nodes' spans point into this line's own text, whatever the literals' lengths
        assert [shared.text(node) for node in shared.nodes] == [FRESH.parse(text).text(node) for node in
                                                               FRESH.parse(text).nodes]


def test_a_domain_error_points_at_the_node_in_the_lines_own_text():
    parse("a=1.039; b=0.5375; a*b + ln(a)")
    text = "a=-2.500001; b=0.5; a*b + ln(a)"
    with pytest.raises(GradcalcError) as caught:
        evaluate_graph(parse(text), {})
    assert text[slice(*caught.value.span)] == "ln(a)"
    assert "-2.500001" in caught.value.message


def test_a_literal_that_is_not_a_binding_stays_part_of_the_structure():
    # a bound twice: the second binding replaces the first (a structure of two literals for one name)
    assert evaluate_graph(parse("a=1; a=2; a*3"), {}).value == 6.0
    assert evaluate_graph(parse("a=1; a=5; a*3"), {}).value == 15.0
    assert evaluate_graph(parse("a=1; a=1; a*3"), {}).value == 3.0
    # a name used before it is assigned is a variable; the later literal is a constant
    assert evaluate_graph(parse("x = a*2; a = 4; x + a"), {"a": 1.0}).value == 6.0
    assert evaluate_graph(parse("x = a*2; a = 7; x + a"), {"a": 1.0}).value == 9.0


def test_other_numbers_and_tokens_are_part_of_the_key():
    assert evaluate_graph(parse("a=2; a*3"), {}).value == 6.0
    assert evaluate_graph(parse("a=2; a*4"), {}).value == 8.0
    assert evaluate_graph(parse("a=2; a*4 # note"), {}).value == 8.0
    assert evaluate_graph(parse("a=2 # c\n; a"), {}).value == 2.0
    assert evaluate_graph(parse("a=3 # c\n; a"), {}).value == 3.0


def test_signs_of_a_bound_literal_fold_as_the_grammar_folds_them():
    for text, expected in [("a = - -1.5; a", 1.5), ("a = -+2; a", -2.0), ("a=+ 3e2; a", 300.0),
                           ("a = -0; 1/a", None)]:
        assert outcome(parse(text)) == outcome(FRESH.parse(text)), text
        if expected is not None:
            assert evaluate_graph(parse(text), {}).value == expected


def test_a_line_with_a_nul_character_is_never_confused_with_a_structure():
    parse("a=1; b=2; a*b")
    with pytest.raises(GradcalcError):
        parse("a=\0; b=2; a*b")


def test_the_cache_of_structures_stays_bounded():
    for index in range(structure._MAX_STRUCTURES + 50):
        parse(f"v{index}=1; v{index}*2")
    assert len(structure._structures) <= structure._MAX_STRUCTURES


def parsed_outcome(parse_text, text):
    try:
        graph = parse_text(text)
    except GradcalcError as error:
        return ("refused", type(error).__name__, error.message, error.span)
    return outcome(graph)


@pytest.mark.parametrize("literal", ["١", "１", "+-3", "1e١", "١e-400", "1e-400", "1e999", "3²"])
def test_a_literal_the_grammar_refuses_is_refused_after_its_structure_is_learned(literal):
    # two lines teach the cache `a=<number>; a*2`; a third must not get past it with a number the
    # grammar refuses (other scripts' digits, '+-' which is ±, a number a double cannot hold)
    for number in ("1", "2"):
        parse(f"a={number}; a*2")
    text = f"a={literal}; a*2"
    expected = parsed_outcome(FRESH.parse, text)
    assert expected[0] == "refused", text
    assert parsed_outcome(parse, text) == expected, text
