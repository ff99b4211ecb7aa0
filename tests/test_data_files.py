"""Reading --data files: CSV as RFC 4180 writes it (quotes, a byte order mark, blank lines),
columns the expression does not use carried as text, standard input, and a gradcalc error (exit 2,
its line and column, a caret, a hint) for every file that cannot be read, never an internal error."""

import contextlib
import csv
import io
import json
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from gradcalc.cli import main


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def data(tmp_path, run_cli):
    """Write bytes (or text) to a file named `name` and run gradcalc EXPR --data on it."""

    def run(expression, content, *argv, name="p.csv"):
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return run_cli(expression, "--data", str(path), *argv)

    return run


def test_quoted_cells_are_read_as_rfc_4180_says(data):
    # numpy alone read '"1"' as text: "internal error: ValueError: could not convert string" (exit 70)
    code, out, err = data("x*y", '"x","y"\n"1","2"\n3,"4"\n" 5 ",6\n')
    assert (code, err) == (0, "")
    assert [(r["x"], r["y"], r["value"], r["grad_x"]) for r in rows(out)] == [
        ("1.0", "2.0", "2.0", "2.0"), ("3.0", "4.0", "12.0", "4.0"), ("5.0", "6.0", "30.0", "6.0")]


def test_a_byte_order_mark_is_skipped(data):
    code, out, err = data("x*y", b"\xef\xbb\xbfx,y\r\n1,2\r\n")  # as Excel writes "CSV UTF-8"
    assert (code, err) == (0, "") and out.splitlines() == ["x,y,value,grad_x,grad_y,error", "1.0,2.0,2.0,2.0,1.0,"]


@pytest.mark.parametrize("cell, hint", [
    ("١", "ASCII digits 0-9 ('١' is ARABIC-INDIC DIGIT ONE)"),  # float() reads it as 1, numpy does not
    ("１", "('１' is FULLWIDTH DIGIT ONE)"),
    ("1_000", "every cell of a column the expression uses must be a number"),  # float() reads 1000
    ("#3", "a CSV file has no comments"),  # numpy's loadtxt made the line a comment
    ("1,5", "write the decimal point as '.' (1.5)"),
])
def test_a_cell_that_is_not_an_ascii_number_is_named_with_a_caret(data, cell, hint):
    text = f'x,y\n1,2\n3,"{cell}"\n' if "," in cell else f"x,y\n1,2\n3,{cell}\n"
    code, out, err = data("x*y", text)
    quoted = f'"{cell}"' if "," in cell else cell
    assert (code, out) == (2, "")
    caret = f"\n    3,{quoted}\n      {'^' * cell_len(quoted)}\n"  # carets count cells: '１' takes two
    assert f"p.csv, line 3, column y: {cell!r} is not a number (at column 3){caret}" in err
    assert hint in err


def test_a_non_ascii_digit_is_refused_as_numbers_are_everywhere(run_cli):
    # the same rule as the command line's values (values.py): numbers are ASCII
    assert run_cli("x", "--x", "١")[0] == 2


def test_bytes_that_are_not_utf8_are_named_by_line_and_column(data):
    code, out, err = data("x*y", b"x,y\n1,2\n3,4\xe9\n")
    assert (code, out) == (2, "")
    assert "p.csv, line 3: the byte 0xe9 is not UTF-8 text (at column 4)\n    3,4\ufffd\n       ^\n" in err
    assert "hint: save the file as UTF-8" in err
    code, _, err = data("x", b"\xff\xfex\x00\n\x00")  # UTF-16, as some Windows programs write
    assert code == 2 and "line 1: the byte 0xff is not UTF-8 text" in err
    code, _, err = data("x", b"label,x\ncaf\xe9,1\n")  # in a carried column too: no output could hold it
    assert code == 2 and "line 2: the byte 0xe9 is not UTF-8 text" in err


def test_blank_lines_are_skipped_and_later_lines_keep_their_numbers(data):
    code, out, err = data("x*2", "x\n1\n\n   \n2\n")
    assert (code, err) == (0, "") and [r["value"] for r in rows(out)] == ["2.0", "4.0"]
    code, out, err = data("x*2", "x\n1\n\n   \nabc\n", "--chunk-rows", "3")
    assert (code, out) == (2, "x,value,grad_x,error\n1.0,2.0,2.0,\n")  # the first chunk was written
    assert "p.csv, line 5, column x: 'abc' is not a number" in err


def test_a_line_with_a_wrong_number_of_cells_after_a_blank_one(data):
    code, _, err = data("x*y", "x,y\n1,2\n\n3\n")
    assert code == 2 and "p.csv, line 4: 1 cell, but the header names 2 columns" in err


@pytest.mark.parametrize("chunk_rows", ["65536", "1", "2"])
def test_a_quoted_cell_across_lines_is_refused(data, chunk_rows):
    code, _, err = data("x*y", 'x,y\n1,2\n3,"4\n5",6\n', "--chunk-rows", chunk_rows)
    assert code == 2 and "p.csv, line 3, column y: a quoted cell runs past the end of the line" in err
    assert 'hint: close the quote on the same line' in err


def test_a_repeated_column_name_is_refused_as_such(data):
    # was "no column or value for y" or, when both were read, the last one silently
    code, out, err = data("x*y", "x,y,y\n1,2,3\n")
    assert (code, out) == (2, "")
    assert "p.csv, line 1: two columns are named y (columns 2 and 3)" in err and "its own name" in err


def test_columns_the_expression_does_not_use_are_carried_as_text(data):
    content = 'label,id,x,note\n"a, b",AB7,1,nan\nc,8,2,"say ""hi"""\n'
    code, out, err = data("x*3", content)
    assert (code, err) == (0, "")
    assert out.splitlines() == ["label,id,x,note,value,grad_x,error",
                                '"a, b",AB7,1.0,nan,3.0,3.0,', 'c,8.0,2.0,"say ""hi""",6.0,3.0,']
    code, out, _ = data("x*3", content, "-o", "tsv")
    assert out.splitlines()[1:] == ["a, b\tAB7\t1.0\tnan\t3.0\t3.0\t", 'c\t8.0\t2.0\tsay "hi"\t6.0\t3.0\t']
    code, out, _ = data("x*3", content, "-o", "jsonl")
    assert json.loads(out.splitlines()[0]) == {"label": "a, b", "id": "AB7", "x": 1.0, "note": "nan",
                                               "value": 3.0, "grad_x": 3.0, "error": None}


@pytest.mark.parametrize("chunk_rows", ["1", "2", "65536"])
def test_a_carried_cell_is_a_number_or_text_by_itself_not_by_its_chunk(data, chunk_rows):
    """Each carried cell that is a number is a number in JSON Lines (7.0 for 007), any other its
    text, whatever chunk of rows it is read in (n/a in one chunk does not make 8 a string)."""
    content = "x,id\n1,007\n2,8\n3,n/a\n4,1e999\n5,9\n"
    code, out, err = data("x*2", content, "-o", "jsonl", "--chunk-rows", chunk_rows)
    assert (code, err) == (0, "")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [7.0, 8.0, "n/a", "1e999", 9.0]
    code, out, _ = data("x*2", content, "--chunk-rows", chunk_rows)
    assert [line.split(",")[1] for line in out.splitlines()[1:]] == ["7.0", "8.0", "n/a", "1e999", "9.0"]


@pytest.mark.parametrize("label", [None, "first"])
def test_a_column_of_numbers_the_expression_does_not_use_stays_numbers(data, label):
    """As before text columns were allowed: JSON Lines has numbers for it, CSV writes them as numbers."""
    rows = [("007", "1"), ("5.5", "2")]
    content = ("z,x\n" if label is None else "label,z,x\n") + "".join(
        ("" if label is None else f"{label}{index},") + ",".join(row) + "\n" for index, row in enumerate(rows))
    code, out, err = data("x*3", content, "-o", "jsonl")
    assert (code, err) == (0, "")
    records = [json.loads(line) for line in out.splitlines()]
    assert [(record["z"], record["value"]) for record in records] == [(7.0, 3.0), (5.5, 6.0)]
    if label is not None:
        assert [record["label"] for record in records] == ["first0", "first1"]
    code, out, _ = data("x*3", content)
    assert [line.split(",")[-5] for line in out.splitlines()[1:]] == ["7.0", "5.5"]  # z, x, value, grad_x, error


def test_the_three_ways_of_reading_a_csv_chunk_agree(data):
    """numpy reads a chunk of numbers only; with a text column, numpy reads the numbers and the text is
    split at commas; with a quote, the csv module reads the chunk and checks every cell. The same
    cells give the same output whichever way."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=500) * 10.0 ** rng.integers(-300, 300, 500)
    texts = [f"{v!r}" for v in x.tolist()] + ["1e-400", "+.5", "7.", " 3 ", "\u00a04"]
    plain = data("x*2", "x\n" + "".join(f"{t}\n" for t in texts))
    labelled = data("x*2", "x,label\n" + "".join(f"{t}, a {i}\n" for i, t in enumerate(texts)))
    quoted = data("x*2", "x,label\n" + "".join(f'{t}," a {i}"\n' for i, t in enumerate(texts)))
    assert plain[0] == labelled[0] == quoted[0] == 0
    assert [r["value"] for r in rows(plain[1])] == [r["value"] for r in rows(labelled[1])] \
        == [r["value"] for r in rows(quoted[1])] == [repr(2 * float(t)) for t in texts]
    assert labelled[1] == quoted[1] and rows(labelled[1])[3]["label"] == " a 3"
    assert float(rows(plain[1])[-5]["x"]) == 0.0  # too small for a double: 0, as numpy reads it


def test_a_used_text_column_is_still_refused(data):
    code, _, err = data("x*label", "label,x\na,1\n")
    assert code == 2 and "p.csv, line 2, column label: 'a' is not a number" in err


def test_standard_input(run_cli, monkeypatch):
    def piped(data: bytes):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))

    piped(b"\xef\xbb\xbfx,y\n1,2\n3,4\n")
    code, out, err = run_cli("x*y", "--data", "-")
    assert (code, err) == (0, "") and [r["value"] for r in rows(out)] == ["2.0", "12.0"]
    piped(b'{"x": 1, "y": 2, "tag": "a"}\n\n{"x": 3, "y": 4}\n')  # JSON Lines: the first line is an object
    code, out, err = run_cli("x*y", "--data", "-")
    assert (code, err) == (0, "") and out.splitlines()[1:] == ["1.0,2.0,a,2.0,2.0,1.0,", "3.0,4.0,,12.0,4.0,3.0,"]
    piped(b"x,y\n1,zz\n")
    code, _, err = run_cli("x*y", "--data", "-")
    assert code == 2 and "standard input, line 2, column y: 'zz' is not a number" in err
    piped(b"x,y\n1,2\n")
    code, _, err = run_cli("x*y", "--data", "-", "--x", "3")
    assert "--x is not used: the column x of standard input gives x in each row" in err


def test_leading_blank_lines_of_standard_input_do_not_decide_its_format(run_cli, monkeypatch):
    # a blank first line made JSON Lines read as CSV ("the first line must name the columns")
    def piped(data: bytes):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))

    piped(b'\n{"x":1,"y":2}\n')
    code, out, err = run_cli("x*y", "--data", "-")  # x*y = 2, ∂/∂x = y = 2, ∂/∂y = x = 1
    assert (code, err) == (0, "") and out.splitlines() == ["x,y,value,grad_x,grad_y,error", "1.0,2.0,2.0,2.0,1.0,"]
    piped(b'\n \n{"x":1,"y":2}\n{"x":3,"y":"a"}\n')  # the lines keep their numbers
    code, _, err = run_cli("x*y", "--data", "-")
    assert code == 2 and 'standard input, line 4, column y: "a" is not a number' in err
    piped(b'\n\n{"x":1,"y":2\n')
    code, _, err = run_cli("x*y", "--data", "-")
    assert code == 2 and "standard input, line 3: not a JSON object" in err
    piped(b"\n\nx,y\n3,4\n5,z\n")  # CSV too: its header is its first line of text
    code, out, err = run_cli("x*y", "--data", "-")
    assert code == 2 and "standard input, line 5, column y: 'z' is not a number" in err
    piped(b"\n\n")
    code, _, err = run_cli("x*y", "--data", "-")
    assert code == 2 and "the first line must name the columns" in err


def test_jsonl_carried_values_and_surrogates(data):
    code, out, err = data("x+1", '{"x": 1, "tag": "a", "n": null, "ok": true}\n{"x": 2, "tag": [1]}\n',
                          name="p.jsonl")
    assert (code, err) == (0, "")
    assert out.splitlines()[1:] == ["1.0,a,,true,2.0,1.0,", "2.0,[1],,,3.0,1.0,"]
    code, _, err = data("x+1", '{"x": 1, "tag": "\\ud800"}\n', name="p.jsonl")  # no output can hold it
    assert code == 2 and "p.jsonl, line 1, column tag: the text holds \\ud800, half of a UTF-16 pair" in err
    for first in ('"xy"', "[1, 2]", "{}", "[" * 100_000):  # list("xy") made the columns x and y
        code, _, err = data("x", first + "\n", name="p.jsonl")
        assert code == 2 and "p.jsonl, line 1: not a JSON object of name: number" in err, first
    code, _, err = data("x", '{"x": 1}\n{"x": 1,}\n', name="p.jsonl")
    assert code == 2 and "p.jsonl, line 2: not JSON (Expecting property name enclosed in double quotes)" in err


def test_npz_columns_of_different_lengths_are_named(data, tmp_path):
    buffer = io.BytesIO()
    np.savez(buffer, x=np.arange(2.0), y=np.arange(3.0))
    code, _, err = data("x*y", buffer.getvalue(), name="p.npz")
    assert code == 2 and "p.npz: the columns have different lengths (x: 2 rows, y: 3 rows)" in err


@pytest.mark.parametrize("column, words", [
    (np.ones((2, 2)), "column x is 2-D (shape (2, 2)), not a column of one value per row"),  # was read raveled
    (np.float64(3.0), "column x is a single value (0-D)"),
])
def test_npz_columns_that_are_not_1d_are_refused(data, column, words):
    buffer = io.BytesIO()
    np.savez(buffer, x=column, y=np.arange(4.0))
    code, out, err = data("x*y", buffer.getvalue(), name="p.npz")
    assert (code, out) == (2, "") and f"p.npz, {words}" in err and "one value per row" in err


def test_npz_text_columns_the_expression_does_not_use_are_carried(data):
    buffer = io.BytesIO()
    np.savez(buffer, x=np.array([1.0, 2.0]), label=np.array(["a", "b,c"]), when=np.array(["2020-01-01"] * 2,
                                                                                          dtype="datetime64[D]"))
    code, out, err = data("x*2", buffer.getvalue(), name="p.npz")
    assert (code, err) == (0, "")
    assert out.splitlines() == ["x,label,when,value,grad_x,error", "1.0,a,2020-01-01,2.0,2.0,",
                                '2.0,"b,c",2020-01-01,4.0,2.0,']


# options and columns ------------------------------------------------------------------------------

def test_an_uncertainty_a_column_would_drop_is_refused(data):
    code, out, err = data("x*y", "x,y\n1,2\n", "--x", "7±0.5")
    assert (code, out) == (2, "")
    assert "--x has an uncertainty (± 0.5), but the column x of" in err and "add a column sigma_x" in err


def test_options_that_are_not_used_are_warned_of(data, tmp_path):
    code, out, err = data("x*y", "x,y\n1,2\n", "--x", "7", "--z", "5")
    assert code == 0 and rows(out)[0]["value"] == "2.0"  # the file's x
    assert err.splitlines() == [
        f"gradcalc: warning: --x is not used: the column x of {tmp_path / 'p.csv'} gives x in each row",
        "gradcalc: warning: --z is not used by the expression"]  # as without --data
    assert data("x*y", "x,y\n1,2\n", "--z", "5", "-q")[2] == ""
    code, out, err = data("x = 2; x*y", "x,y\n1,2\n")
    assert code == 0 and rows(out)[0]["value"] == "4.0"
    assert err == f"gradcalc: warning: the column x of {tmp_path / 'p.csv'} is not used: the expression binds x\n"


def test_a_correlation_matrix_name_the_expression_does_not_use_is_a_warning_with_data(data, tmp_path):
    (tmp_path / "rho.csv").write_text("x,q\n1,0.5\n0.5,1\n")
    code, out, err = data("x*y", "x,sigma_x\n1,0.1\n", "--y", "2±0.1", "--correlation",
                          str(tmp_path / "rho.csv"))
    assert code == 0
    # q is not y: x and y independent, c_x = y·0.1 = 0.2, c_y = x·0.1 = 0.1, σ = √0.05
    assert float(rows(out)[0]["sigma"]) == pytest.approx(0.05 ** 0.5, rel=1e-15)
    assert err == (f"gradcalc: warning: --correlation {tmp_path / 'rho.csv'} names q, which the expression does "
                   "not use; did you mean y?\n")


# no input is an internal error --------------------------------------------------------------------

def _run(argv, stdin=None):
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    try:
        if stdin is not None:
            sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(argv)
    finally:
        sys.stdin = saved
    message = err.getvalue()
    assert code in (0, 1, 2), (argv, code, message)
    assert "Traceback" not in message and "internal error" not in message and "Warning" not in message, message
    if code == 2:
        assert out.getvalue() == "" or "\n" in out.getvalue()
    return code


CSVISH = st.lists(st.sampled_from(["x", "y", "1", "-2.5", "1e999", "nan", ",", '"', '""', "\n", "\r\n", " ", "#",
                                   "١", "\ufeff", "\xe9", "a", "\x00", "\t", "{", "}", ":", "1_0", "sigma_x"]),
                  max_size=40).map("".join)


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=4),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                      max_size=3), max_leaves=6)
JSONISH = st.lists(st.dictionaries(st.sampled_from(["x", "y", "tag"]), JSON_VALUES), max_size=5).map(
    lambda records: "\n".join(map(json.dumps, records)).encode())


@settings(deadline=None)
@given(st.one_of(st.binary(max_size=200), CSVISH.map(str.encode), JSONISH,
                 CSVISH.map(lambda text: text.encode("latin-1", "replace"))),
       st.sampled_from([".csv", ".jsonl", ".txt", "-"]), st.sampled_from(["x*y", "ln(x) + y", "x"]))
def test_any_bytes_give_a_result_or_a_gradcalc_error(content, suffix, expression):
    if suffix == "-":
        _run([expression, "--data", "-", "--y", "1", "--chunk-rows", "3"], stdin=content)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"p{suffix}"
        path.write_bytes(content)
        _run([expression, "--data", str(path), "--chunk-rows", "2"])
