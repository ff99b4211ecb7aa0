"""Values written on the command line (issue 12, item 16): ASCII digits only, no silent underflow
or overflow, and arrays refused past a stated size, which --max-elements raises."""

import json
import re
import sys

import numpy as np
import pytest

from gradcalc.errors import ValueFormatError
from gradcalc.values import MAX_ELEMENTS, parse_value


@pytest.mark.parametrize("text", ["1e-400", "-2.5e-330", "0.0000001e-330", ".1e-323"])
def test_a_value_that_underflows_to_zero_is_refused(run_cli, text):
    assert float(text) == 0.0  # what a silent float() would have made of it
    code, out, err = run_cli("ln(x)", "--x", text)
    assert code == 2 and out == ""
    assert f"--x {text}: underflows to 0" in err and "write 0 if zero is meant" in err
    assert f"\n    --x {text}\n        {'^' * len(text)}\n" in err  # the caret under the value


@pytest.mark.parametrize("text,value", [("0", 0.0), ("-0.0", -0.0), ("0e-500", 0.0), ("1e-310", 1e-310),
                                        ("5e-324", 5e-324), ("1.7976931348623157e308", sys.float_info.max)])
def test_zero_and_subnormal_values_are_kept(text, value):
    parsed = parse_value("x", text)
    assert parsed == value and np.signbit(parsed) == np.signbit(value)


def test_a_value_that_overflows_is_refused(run_cli):
    code, _, err = run_cli("x", "--x", "1e309")
    assert code == 2 and "--x 1e309: overflows: the largest double is about 1.8e308" in err


@pytest.mark.parametrize("text", ["١", "٣.٥", "1,٢,3", "１", "linspace(0, ١, 3)"])
def test_only_ascii_digits(run_cli, text):
    code, out, err = run_cli("sum(x)", "--x", text)
    assert code == 2 and out == ""
    assert "digits 0-9" in err


def test_array_elements_underflowing_are_refused(run_cli):
    for text in ("1,1e-400", "[1, 1e-400]", "linspace(1e-400, 1, 3)"):
        code, _, err = run_cli("sum(x)", "--x", text)
        assert code == 2 and "1e-400 underflows to 0" in err, text


# Just past the default limit (should the check ever go, these cost 80-160 MB, not the machine).
@pytest.mark.parametrize("text,count", [("linspace(0, 1, 10000001)", MAX_ELEMENTS + 1),
                                        ("arange(0, 10000002)", MAX_ELEMENTS + 2),
                                        ("arange(0, 2, 1e-7)", 2 * MAX_ELEMENTS),
                                        ("arange(0, 1e300, 1e-300)", None)])
def test_huge_ranges_are_refused_before_they_are_built(run_cli, text, count):
    code, out, err = run_cli("sum(x)", "--x", text)
    assert code == 2 and out == ""
    assert f"more than the limit of {MAX_ELEMENTS:,}" in err and "--max-elements" in err
    if count is not None:
        assert f"{count:,} elements" in err


def test_max_elements_sets_the_limit(run_cli, tmp_path):
    # sum(linspace(0, 1, 11)) = 0 + 0.1 + ... + 1 = 5.5
    code, _, err = run_cli("sum(x)", "--x", "linspace(0, 1, 11)", "--max-elements", "10")
    assert code == 2 and "11 elements, more than the limit of 10" in err and "--max-elements 11" in err
    assert run_cli("sum(x)", "--x", "linspace(0, 1, 11)", "--max-elements", "11", "-o", "plain",
                   "--wrt", "x")[:2] == (0, "[1,1,1,1,1,1,1,1,1,1,1]\n")
    assert run_cli("sum(x)", "--x", "1,2,3", "--max-elements", "2")[0] == 2
    assert run_cli("sum(x)", "--x", "[[1,2],[3,4]]", "--max-elements", "3")[0] == 2
    assert run_cli("sum(x)", "--x", "1", "--seed-grad", "1,2", "--max-elements", "1")[0] == 2
    path = tmp_path / "big.npy"
    np.save(path, np.arange(20.0))
    code, _, err = run_cli("sum(x)", "--x", f"@{path}", "--max-elements", "19")
    assert code == 2 and "20 elements" in err
    code, out, _ = run_cli("sum(x)", "--x", f"@{path}", "--max-elements", "20", "-o", "json")
    assert code == 0 and '"value": 190.0' in out  # 0 + 1 + ... + 19


def test_values_keep_their_error_type():
    with pytest.raises(ValueFormatError):
        parse_value("x", "1e-400")
    with pytest.raises(ValueFormatError):
        parse_value("x", "linspace(0, 1, 100)", max_elements=99)


@pytest.mark.parametrize("array, words, hint", [  # the hint was "e.g. --x 1,2,3 or ...", whatever the array
    (np.array([1 + 5j, 2 - 3j]), "is complex; values must be real numbers",  # float() drops 5j
     "pass the real part (x.real)"),
    (np.array(["2020-01-01"], dtype="datetime64[D]"), "holds dates, not numbers",  # days since 1970
     "(x - x[0]) / np.timedelta64(1, 'D')"),
    (np.array(["1", "2"]), "holds strings, not numbers", "np.asarray(x, dtype=float) converts numbers' text"),
    (np.array([True, False]), "holds booleans, not numbers", "x.astype(float) if you mean them as 1.0 and 0.0"),
])
def test_a_npy_file_of_anything_but_real_numbers_is_refused(run_cli, tmp_path, array, words, hint):
    path = tmp_path / "values.npy"
    np.save(path, array)
    code, out, err = run_cli("sum(x*x)", "--x", f"@{path}")
    assert (code, out) == (2, "") and words in err and "Warning" not in err
    assert hint in err.partition("\n  hint: ")[2]
    np.save(path, np.array([1, 2]))  # integers are numbers: 1 + 4
    assert run_cli("sum(x*x)", "--x", f"@{path}", "-o", "plain", "--wrt", "x")[:2] == (0, "[2,4]\n")


@pytest.mark.parametrize("expression, number, column", [
    ("x = 1e-400; x*2", "1e-400 underflows to 0", 5),  # a binding
    ("x*1e-400", "1e-400 underflows to 0", 3),  # a literal in the expression
    ("x = -2.5e-330; x", "2.5e-330 underflows to 0", 6),
    ("sigmoid(1e309) + x", "1e309 overflows", 9),
])
def test_a_number_in_an_expression_that_a_double_cannot_hold_is_refused(run_cli, expression, number, column):
    assert float(number.split()[0]) in (0.0, float("inf"))  # what float() would silently have made of it
    code, out, err = run_cli(expression, "--x", "1")
    assert (code, out) == (2, "") and number in err and f"at column {column})" in err


def test_zero_and_subnormal_numbers_in_expressions_are_kept(run_cli):
    assert run_cli("x = 0e-500; y = 1e-310; x + y*2", "-o", "plain")[:2] == (0, "2e-310 x=1 y=2\n")


def test_a_batch_line_that_shares_a_learned_structure_is_refused_too(run_cli, tmp_path):
    # lines 1 and 2 teach the structural cache `x=<number>; x*2`; line 3 binds a number it cannot hold
    path = tmp_path / "jobs.txt"
    path.write_text("x=1; x*2\nx=2; x*2\nx=1e-400; x*2\nx=3; x*2\nx=1e999; x*2\n")
    code, out, err = run_cli("-f", str(path), "-o", "plain")
    assert code == 2 and out == "2 x=2\n4 x=2\nerror\n6 x=2\nerror\n"
    assert "1e-400 underflows to 0" in err and "(at line 3, column 3)" in err
    assert "1e999 overflows" in err and "(at line 5, column 3)" in err


@pytest.mark.parametrize("text, words, caret", [
    ("[1,nan]", "'nan': every element must be a finite number", "    --x [1,nan]\n           ^^^"),
    ("[[1, 2], [-inf, 3]]", "'-inf': every element must be a finite number",
     "    --x [[1, 2], [-inf, 3]]\n                  ^^^^"),
    ("[1, 1e999]", "1e999 overflows: the largest double is about 1.8e308",
     "    --x [1, 1e999]\n            ^^^^^"),
])
def test_an_array_written_with_nan_or_inf_says_so(run_cli, text, words, caret):
    code, out, err = run_cli("sum(x)", "--x", text)
    assert (code, out) == (2, "") and f"--x {text}: {words}\n{caret}\n" in err


# (value, message after "--x value: ", the line of carets under the value, hint): JSON's own
# words ("Expecting ',' delimiter at character 5") were jargon with no caret (a new-user trial)
BRACKET_MISTAKES = [
    ("[1,2", "unclosed '['", "^", "add ']' at the end"),
    ("[[1,2],[3,4]", "unclosed '['", "^", "add ']' at the end"),
    ("[[1,2", "unclosed '['", " ^", "add ']]' at the end"),
    ("[1,,2]", "expected a number before ','", "   ^",
     "write one number between each two commas, e.g. [1,2,3]"),
    ("[1,2,]", "expected a number before ']'", "     ^", "remove the ',' before ']'"),
    ("[1 2]", "expected ',' or ']' before '2'", "   ^",
     "separate the elements with commas, e.g. [1,2,3]"),
    ("[1[2]]", "expected ',' before '['", "  ^", "separate the elements with commas"),
    ("[1,2]]", "']' after the ']' that closes the array", "     ^", "remove the extra ']'"),
    ("[1,2] 3", "'3' after the ']' that closes the array", "      ^",
     "remove it, or move the ']' to the end"),
    ('["1",2]', "'\"1\"' is not a number", " ^^^", "write numbers without quotes, e.g. [1,2,3]"),
    ("[1,true]", "'true' is not a number", "   ^^^^", None),
    ("  [1,x]", "'x' is not a number", "     ^", None),  # the value as typed, blanks too
    ("1,x,3", "'x' is not a number", "  ^", None),
    ("1,,3", "expected a number between the commas", "  ^",
     "write one number between each two commas, e.g. 1,2,3"),
]


@pytest.mark.parametrize("text, words, carets, hint", BRACKET_MISTAKES)
def test_a_mistake_in_an_array_is_shown_with_a_caret_under_it(run_cli, text, words, carets, hint):
    code, out, err = run_cli("sum(x)", "--x", text)
    hint = hint or 'e.g. --x 1,2,3 or --x "[[1,2],[3,4]]" or --x @points.npy'
    assert (code, out) == (2, "")
    assert err == f"gradcalc: error: --x {text}: {words}\n    --x {text}\n        {carets}\n  hint: {hint}\n"


@pytest.mark.parametrize("text, expected", [
    ("[1, 2.5e1, -3]", [1, 25, -3]), ("[.5, +1, 2.]", [0.5, 1, 2]),  # json would refuse the second
    ("[[1e-3], [4]]", [[0.001], [4]]), ("[]", []),
])
def test_arrays_in_brackets_read_every_number_as_a_scalar_is_read(text, expected):
    array = parse_value("x", text)
    assert array.dtype == np.float64 and array.tolist() == expected


def test_a_npy_file_of_python_objects_is_refused_without_unpickling(run_cli, tmp_path):
    path = tmp_path / "objects.npy"
    np.save(path, np.array([1, "a", None], dtype=object), allow_pickle=True)
    code, out, err = run_cli("sum(x)", "--x", f"@{path}")
    assert (code, out) == (2, "") and "the file holds Python objects, which are never unpickled" in err


def _nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


@pytest.mark.parametrize("given", [lambda text: ("--x", text), lambda text: ("--x", "1", "--seed-grad", text),
                                   lambda text: ("--x", "1", "--jvp", f"x={text}")], ids=["x", "seed-grad", "jvp"])
@pytest.mark.parametrize("depth", [65, 1000])
def test_more_than_64_levels_of_brackets_are_refused_before_decoding(run_cli, given, depth):
    # 1,000 levels ended in json's RecursionError (an internal error, exit 70); 65 to ~500 were
    # called ragged, when numpy's limit is 64 dimensions
    code, out, err = run_cli("x", *given(_nested(depth)))
    assert code == 2 and out == ""
    assert "arrays nest at most 64 levels deep (numpy's limit on an array's dimensions): " \
           "this '[' opens level 65" in err
    assert "hint: write the array with at most 64 levels of brackets" in err


def test_64_levels_of_brackets_are_an_array_of_64_dimensions(run_cli):
    code, out, _ = run_cli("sum(x)", "--x", _nested(64), "-o", "plain", "--no-nodes", "--wrt", "x")
    assert (code, out) == (0, _nested(64) + "\n")  # ∂sum/∂x: ones, in x's 64 dimensions


@pytest.mark.parametrize("depth", [65, 1000])
def test_a_json_job_line_nested_too_deeply_is_refused_at_its_65th_bracket(run_cli, tmp_path, depth):
    prefix = '{"expression": "sum(x)", "values": {"x": '
    path = tmp_path / "jobs.jsonl"
    path.write_text(prefix + _nested(depth) + "}}\n")
    code, out, err = run_cli("-f", str(path), "--input", "jsonl", "-o", "jsonl")
    assert code == 2
    record = json.loads(out)
    assert record["error"]["message"] == ("arrays nest at most 64 levels deep (numpy's limit on an array's "
                                          "dimensions): this '[' opens level 65")
    assert record["error"]["column"] == len(prefix) + 65


@pytest.mark.parametrize("text,message,column,carets", [
    ("[[1,2],[3]]", "this row has 1 element, the first row has 2", 8, 3),
    ("[[1],[2,3]]", "this row has 2 elements, the first row has 1", 6, 5),
    ("[[[1,2]],[[3]]]", "this row has 1 element, the first row has 2", 11, 3),  # cousins, not siblings
    ("[[1,2],3]", "a number where the first element is a row", 8, 1),
    ("[1,[2]]", "a row where the first element is a number", 4, 3),
])
def test_a_ragged_array_is_shown_with_a_caret_under_the_row_that_differs(run_cli, text, message, column, carets):
    code, out, err = run_cli("sum(x)", "--x", text)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0] == f"gradcalc: error: --x {text}: {message}"
    assert lines[1] == f"    --x {text}"
    assert lines[2] == " " * (7 + column) + "^" * carets  # under the value's column `column`
    assert lines[3] == "  hint: every row needs the same number of elements, e.g. [[1, 2], [3, 4]]"


def test_a_long_value_is_shortened_keeping_the_messages_structure(run_cli):
    digits = "1" * 5000
    code, _, err = run_cli("sum(x)", "--x", f"[{digits}]")
    first = err.splitlines()[0]
    assert code == 2 and len(first) < 200
    # the value still ends in "]:" and the number is cut in its own middle
    assert re.fullmatch(r"gradcalc: error: --x \[1+…1+\]: 1+…1+ overflows: the largest double is "
                        r"about 1\.8e308", first)


def test_a_ragged_array_gets_one_hint_from_the_command_line_and_the_api(run_cli):
    # the command line said "the same number of elements, e.g. [[1,2],[3,4]]", the API "the same length: ..."
    from gradcalc import evaluate

    hint = run_cli("sum(x)", "--x", "[[1,2],[3]]")[2].partition("hint: ")[2].strip()
    for ragged in ([[1.0, 2.0], [3.0]], [[1.0, 2.0], 3.0]):
        with pytest.raises(ValueFormatError) as refused:
            evaluate("sum(x)", x=ragged)
        assert refused.value.hint == hint == "every row needs the same number of elements, e.g. [[1, 2], [3, 4]]"
