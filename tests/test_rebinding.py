"""`NAME = number` twice on a line: a binding no statement has read yet is replaced (uncertainty
included); once a statement has read the input, a later number is a constant. Expected values are
derived by hand in each test's comments."""

import json
import math

import pytest

from gradcalc import diff, evaluate, gradient, parse
from gradcalc.errors import ParseError
from gradcalc.evaluator import evaluate_graph
from gradcalc.parser import Parser

FRESH = Parser()  # parses every line for real: no cache of texts or structures


@pytest.mark.parametrize("text, value, gradients", [
    # the input x is bound to 3: x itself, ∂/∂x = 1
    ("x = 1; x = 3; x", 3.0, {"x": 1.0}),
    ("x = 1; x = -2.5; x = 3; x", 3.0, {"x": 1.0}),
    # a = 4, b = 2: a*b + ln(a) = 8 + ln 4; ∂a = b + 1/a = 2.25, ∂b = a = 4
    ("a = 1; b = 2; a = 4; a*b + ln(a)", 8 + math.log(4), {"a": 2.25, "b": 4.0}),
    # x names a*2 first but is never read: x = 3 binds the input; x*a = 6, ∂x = a = 2, ∂a = x = 3
    ("x = a*2; x = 3; x*a", 6.0, {"a": 3.0, "x": 2.0}),
    # the bound input x was never read (z read the node a + 1): x = 3 binds it again;
    # x + z = 3 + (2 + 1) = 6, ∂x = 1, ∂a = 1
    ("x = 1; x = a + 1; z = x; x = 3; x + z", 6.0, {"a": 1.0, "x": 1.0}),
    # pi bound twice: the input pi = 4; pi*2 = 8, ∂pi = 2
    ("pi = 3; pi = 4; pi*2", 8.0, {"pi": 2.0}),
])
def test_a_binding_not_read_yet_is_replaced(text, value, gradients):
    result = evaluate(text, a=2)
    assert result.value == pytest.approx(value, rel=1e-15)
    assert result.gradients == pytest.approx(gradients, rel=1e-15)
    # the number bound last is the input's value, not a constant named by the statement
    assert not any(node.layer == "Constant" and node.name for node in result.nodes)


@pytest.mark.parametrize("text, value, gradients", [
    # y read x = 1, so x = 3 is a constant: x + y = 3 + 1 = 4, ∂x = 1 (through y)
    ("x = 1; y = x; x = 3; x + y", 4.0, {"x": 1.0}),
    # y = 2x = 2; x*y with x the constant 3 = 6; ∂x = 3*2 = 6 (through y)
    ("x = 1; y = 2*x; x = 3; x*y", 6.0, {"x": 6.0}),
    # a free input read, then a number: a constant (the README's earlier rule, unchanged)
    ("y = a*2; a = 5; y + a", 9.0, {"a": 2.0}),
    # pi read as the constant π, then bound: a new input, the earlier use keeps π
    ("y = pi; pi = 3; y + pi", math.pi + 3, {"pi": 1.0}),
])
def test_a_binding_that_was_read_keeps_its_value(text, value, gradients):
    result = evaluate(text, a=2)
    assert result.value == pytest.approx(value, rel=1e-15)
    assert result.gradients == pytest.approx(gradients, rel=1e-15)


def test_the_graph_records_only_the_newest_binding():
    graph = parse("x = 5 ± 0.2; y = 7; x = 3; y = 8 ± 0.5; x*y")
    assert graph.bindings == {"x": 3.0, "y": 8.0}
    assert graph.sigmas == {"y": 0.5}  # x = 3 has no uncertainty: the earlier ± 0.2 went with 5


def test_api_gradient_and_values_given_for_a_rebound_name():
    # the line's binding wins over a value given for it, as for a single binding
    assert gradient("x = 1; x = 3; x*x", {"x": 10.0}).gradients == {"x": 6.0}
    assert evaluate("x = 1; x = 3; x*x", x=10).value == 9.0


def test_uncertainty_of_a_rebound_input():
    # x = 3 ± 0.1 replaces x = 5 ± 0.2: 2x has σ = 2 * 0.1
    result = evaluate("x = 5 ± 0.2; x = 3 ± 0.1; 2*x")
    assert result.value == 6.0
    assert result.uncertainty.sigma == pytest.approx(0.2, rel=1e-15)
    # a ± added by the second binding
    assert evaluate("x = 1; x = 5 ± 0.1; x").uncertainty.sigma == pytest.approx(0.1, rel=1e-15)
    # x = 3 without ± drops the uncertainty: no σ to report, as for `x = 3; x`
    assert evaluate("x = 5 ± 0.2; x = 3; x").uncertainty is None


@pytest.mark.parametrize("text", ["x = 5 ± 0.2; y = x; x = 3 ± 0.1; x", "y = x; x = 3 +- 0.1; x"])
def test_uncertainty_after_the_input_was_read_is_an_error_that_says_so(text):
    with pytest.raises(ParseError) as caught:
        parse(text)
    error = caught.value
    written = text.split("x = ")[-1].split(";")[0]  # 3 ± 0.1
    assert text[slice(*error.span)] == written
    assert error.message.startswith("x is already used")
    assert f"write x = {written} before the first statement that reads x" == error.hint


def test_cli_one_line(run_cli):
    assert run_cli("x = 1; x = 3; x", "-o", "plain") == (0, "3 x=1\n", "")
    code, out, err = run_cli("x = 5 ± 0.2; x = 3; x", "-o", "json")
    record = json.loads(out)
    assert code == 0 and record["value"] == 3.0 and record["gradients"] == {"x": 1.0}
    assert "uncertainty" not in record
    code, out, err = run_cli("x = 5 ± 0.2; x = 3 ± 0.1; x", "-o", "json")
    assert code == 0 and json.loads(out)["uncertainty"]["sigma"] == 0.1
    # a value given for the bound name is unused, as with one binding
    code, out, err = run_cli("x = 1; x = 3; x", "--x", "7", "-o", "plain")
    assert (code, out) == (0, "3 x=1\n") and "--x" in err and "not used" in err


def test_batch_lines_of_one_structure(run_cli, tmp_path):
    # lines differing only in their numbers share a parsed structure: each must still see its newest binding
    numbers = [(1, 3), (2, -4), (0.5, 8), (7, 7), (1e-3, 2.5)]
    jobs = tmp_path / "jobs.txt"
    jobs.write_text("".join(f"x = {a}; x = {b}; x*x + ln(x*x)\n" for a, b in numbers))
    code, out, err = run_cli("-f", str(jobs), "-o", "jsonl")
    assert code == 0 and err == ""
    for record, (_, b) in zip(map(json.loads, out.splitlines()), numbers):
        # f = x² + 2 ln|x|: f' = 2x + 2/x at the newest x
        assert record["value"] == pytest.approx(b * b + math.log(b * b), rel=1e-15)
        assert record["gradients"] == {"x": pytest.approx(2 * b + 2 / b, rel=1e-15)}


@pytest.mark.parametrize("template", ["x={}; x={}; y = x*x; y - x", "x = {}; y = x; x = {}; x*y",
                                      "a={}; b = a*2; b={}; b + a"])
def test_the_structural_cache_gives_what_a_fresh_parse_gives(template):
    for first, second in [(1, 2), (3, -1), (0.25, 4), (2, 2), (-1.5, 6)]:
        text = template.format(first, second)
        for _ in range(3):  # the first, second and third time a structure is seen take different paths
            cached = evaluate_graph(parse(text), {})
            fresh = evaluate_graph(FRESH.parse(text), {})
            assert (cached.value, cached.gradients) == (fresh.value, fresh.gradients), text


def test_diff_keeps_the_newest_binding():
    # d/dx x²·y = 2xy; the text binds x = 3 ± 0.1 and y = 2, so it evaluates alone to 12
    formula = diff("x = 5 ± 0.2; y = 2; x = 3 ± 0.1; x^2*y", "x")
    assert formula == "x = 3 ± 0.1; y = 2; 2*(y*x)"
    assert evaluate(formula).value == 12.0
