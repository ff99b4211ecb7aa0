"""Reading jobs from lines: numbering, skipping, decoding, JSON Lines."""

import io

from gradcalc.errors import ParseError, ValueFormatError
from gradcalc.jobs import argument_jobs, line_jobs


def jobs(data: bytes, input_format="text"):
    return list(line_jobs(io.BytesIO(data), input_format))


def test_physical_line_numbers_count_blank_and_comment_lines():
    found = jobs(b"# header\n\nx + 1\n   \n  # indented comment\ny*2\n")
    assert [(job.line, job.text) for job in found] == [(3, "x + 1"), (6, "y*2")]


def test_crlf_and_missing_final_newline_and_bom():
    found = jobs(b"\xef\xbb\xbfa*b\r\nc\r\nd")
    assert [(job.line, job.text) for job in found] == [(1, "a*b"), (2, "c"), (3, "d")]


def test_invalid_utf8_is_an_error_for_that_line_only():
    found = jobs(b"x\nab \xff c\ny\n")
    assert [job.line for job in found] == [1, 2, 3]
    bad = found[1]
    assert isinstance(bad.error, ParseError)
    assert "not valid UTF-8 (byte 0xff)" in bad.error.message
    assert bad.error.column == 4
    assert found[0].error is None and found[2].error is None


def test_empty_input():
    assert jobs(b"") == []


def test_argument_jobs_are_numbered_in_order():
    assert [(job.line, job.text) for job in argument_jobs(["a", "b"])] == [(1, "a"), (2, "b")]


def test_json_lines_jobs():
    found = jobs(b'{"expression": "a*b", "values": {"a": 2, "b": 3}}\n'
                 b'{"expression": "x"}\n'
                 b'not json\n'
                 b'{"values": {}}\n'
                 b'{"expression": "x", "values": [1]}\n', "jsonl")
    assert (found[0].text, found[0].values, found[0].error) == ("a*b", {"a": 2, "b": 3}, None)
    assert (found[1].text, found[1].values) == ("x", {})
    assert isinstance(found[2].error, ParseError) and "not valid JSON" in found[2].error.message
    assert isinstance(found[3].error, ParseError) and '"expression"' in found[3].error.message
    assert isinstance(found[4].error, ValueFormatError)
