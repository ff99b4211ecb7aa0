"""Error messages: control characters escaped, length bounded, what they list (issue 12, items 13-14)."""

import json
import re

import pytest

from gradcalc import evaluate
from gradcalc.errors import DomainError, MissingValueError, ShapeError
from gradcalc.formatting import bounded, caret_excerpt, plural, printable


def test_control_characters_are_escaped_in_excerpts():
    excerpt = caret_excerpt("x+\x1b[31mred", 2)
    assert excerpt == "    x+\\x1b[31mred\n      ^^^^"
    assert caret_excerpt("\u202ex + (", 5) == "    \\u202ex + (\n              ^"
    assert printable("a\x07b\u2028c\td") == "a\\x07b\\u2028c\\td"


def test_a_job_file_with_escape_sequences_reaches_no_terminal(run_cli, tmp_path):
    # CSV, TSV and JSON carry a job's text as read (data, escaped as each format escapes); what is
    # written for people, tables and every message, shows control characters escaped
    path = tmp_path / "jobs.txt"
    path.write_bytes(b"x + \x1b[2J\x1b[31m\n\x07x\x9b*2\n# \x1b]0;title\x07 comment\nx*2 # \x1b[5m\n")
    for output_format in ("table", "plain", "csv", "tsv"):
        code, out, err = run_cli("-f", str(path), "--x", "1", "-o", output_format)
        assert code == 2
        for text in (err, *([out] if output_format in ("table", "plain") else ())):
            assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f]", text), (output_format, text)
        if output_format == "table":
            assert "x + \\x1b" in out and "\\x1b[2J" in err
        if output_format == "csv":
            assert "unexpected character '\\x1b'" in out


def test_a_message_about_a_2_mb_name_stays_short(run_cli, tmp_path):
    name = "a" * 2_000_000
    path = tmp_path / "jobs.txt"
    path.write_text(f"{name} * 2\n")
    code, out, err = run_cli("-f", str(path), "-o", "jsonl")
    assert code == 2
    error = json.loads(out)["error"]
    assert error["type"] == "MissingValueError"
    assert len(error["message"]) <= 100 and error["message"].startswith("no value for aaaa")
    assert "…" in error["message"] and len(error["hint"]) <= 300
    try:
        evaluate(f"{name} * 2")
    except MissingValueError as caught:
        assert len(caught.describe()) < 1000


def test_bounded_keeps_short_messages_and_cuts_long_words_and_long_messages():
    assert bounded("ln(x): argument is -1") == "ln(x): argument is -1"
    word = "b" * 500
    cut = bounded(f"no value for {word} here")
    assert cut.startswith("no value for bbb") and cut.endswith("bbb here") and len(cut) == 13 + 80 + 5
    assert 990 <= len(bounded("x " * 100_000)) <= 1000


# --- what messages list ----------------------------------------------------------------

def test_literal_constants_are_not_listed_as_inputs():
    with pytest.raises(Exception) as caught:
        evaluate("x**0.5", x=0)
    assert "(inputs: x = 0)" in caught.value.message and "0.5 = 0.5" not in caught.value.message
    with pytest.raises(DomainError) as caught:  # a constant expression still says what it came to
        evaluate("x/(2-2)", x=1)
    assert "(inputs: x = 1, 2-2 = 0)" in caught.value.message
    with pytest.raises(DomainError) as caught:
        evaluate("2/0")
    assert "inputs" not in caught.value.message


def test_matrix_product_errors_carry_no_broadcasting_hint():
    with pytest.raises(ShapeError) as caught:
        evaluate("X @ W", X=[[1, 2]], W=[[1, 2]])
    assert "2 columns, the right side 1 row " in caught.value.message
    assert "broadcast" not in caught.value.hint and "transpose" in caught.value.hint
    with pytest.raises(ShapeError) as caught:
        evaluate("X + W", X=[1, 2], W=[1, 2, 3])
    assert "broadcast" in caught.value.hint
    with pytest.raises(ShapeError) as caught:
        evaluate("sum(x, 1)", x=[1, 2])
    assert caught.value.hint == "its only axis is 0 (or -1)"


def test_plural():
    assert [plural(n, "cell") for n in (0, 1, 2)] == ["0 cells", "1 cell", "2 cells"]
