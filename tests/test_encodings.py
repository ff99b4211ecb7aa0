"""Output in an encoding that lacks characters (PYTHONIOENCODING=ascii, a Latin-1 locale, Windows'
cp1252 in a pipe): every format is still written, the way it can carry what the encoding lacks —
JSON's \\u escapes and DOT's character references losslessly, tables, help pages and messages
escaped before they are laid out, so that columns and carets stay in place; CSV, TSV and plain
output escaped with a warning, since their data changes. Exit 74 was the answer before."""

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest

from conftest import unwrapped
from gradcalc.checked_output import json_escaped, lacks_characters, xml_escaped
from gradcalc.formatting import caret_excerpt, encodable

THETA = ("θ*2", "--θ", "3")  # value 6, ∂/∂θ = 2


def gradcalc(*argv, encoding="ascii", columns="80", stdin=None):
    """Run gradcalc with its standard streams in `encoding`: (exit code, stdout bytes, stderr text)."""
    done = subprocess.run([sys.executable, "-m", "gradcalc", *argv], capture_output=True, timeout=60, input=stdin,
                          env={**os.environ, "PYTHONIOENCODING": encoding, "COLUMNS": columns})
    return done.returncode, done.stdout, done.stderr.decode("ascii" if encoding.startswith("ascii") else "utf-8")


def test_json_escapes_what_the_encoding_lacks_and_reads_back_the_same():
    code, out, err = gradcalc(*THETA, "-o", "json")
    assert code == 0 and err == ""
    record = json.loads(out.decode("ascii"))  # every byte ASCII
    assert (record["expression"], record["value"], record["gradients"]) == ("θ*2", 6.0, {"θ": 2.0})
    assert b'"\\u03b8*2"' in out


def test_json_lines_keep_what_the_encoding_has_and_escape_the_rest():
    # Latin-1 has é but not θ: é is written as itself, θ escaped; both read back as they were
    code, out, err = gradcalc("é*θ", "--é", "2", "--θ", "3", "-o", "jsonl", encoding="latin-1")
    assert code == 0 and err == ""
    assert "é*\\u03b8".encode("latin-1") in out
    assert json.loads(out.decode("latin-1"))["gradients"] == {"é": 3.0, "θ": 2.0}


def test_json_in_utf_8_is_not_escaped():
    code, out, err = gradcalc(*THETA, "-o", "jsonl", encoding="utf-8")
    assert code == 0 and '"gradients": {"θ": 2.0}' in out.decode("utf-8")


@pytest.mark.parametrize("form,header,row", [
    ("csv", "line,expression,value,grad_\\u03b8,error", "1,\\u03b8*2,6.0,2.0,"),
    ("tsv", "line\texpression\tvalue\tgrad_\\u03b8\terror", "1\t\\u03b8*2\t6.0\t2.0\t"),
    ("plain", None, "6 \\u03b8=2"),
])
def test_delimited_and_plain_output_is_escaped_with_a_warning(form, header, row):
    code, out, err = gradcalc(*THETA, "-o", form)
    assert code == 0
    assert out.decode("ascii").splitlines() == ([header] if header else []) + [row]
    assert unwrapped(err).startswith("gradcalc: warning: the output's encoding (ascii) lacks some of its characters: "
                                     "written as \\u03b8 or in ASCII (+-)\n  hint: PYTHONIOENCODING=utf-8")
    assert err.count("warning") == 1 and max(map(len, err.splitlines())) <= 80
    assert gradcalc(*THETA, "-o", form, "-q")[2] == ""  # --quiet: no warning


def test_plain_output_spells_plus_minus_in_ascii():
    # x*2 at 3 ± 0.1: σ = 0.2, the syntax's own ASCII spelling of ±
    code, out, err = gradcalc("x*2", "--x", "3+-0.1", "-o", "plain", "-q")
    assert code == 0 and out == b"6 +-0.2 x=2\n"


def test_dot_and_svg_carry_the_characters_as_references(tmp_path):
    code, out, err = gradcalc(*THETA, "-o", "dot")
    assert code == 0 and err == ""
    dot = out.decode("ascii")
    assert 'n0 [label="#0  &#952;\\nInput\\nvalue 3\\ngrad 2"' in dot
    assert "grad &#8212;" in dot  # the constant's gradient, '—'
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    code, svg, err = gradcalc(*THETA, "-o", "svg")
    assert code == 0 and err == ""
    texts = [element.text for element in ElementTree.fromstring(svg.decode("ascii")).iter()
             if element.tag.endswith("text")]
    assert "θ*2 = 6" in texts and "#0 \xa0θ" in texts  # read back as θ (Graphviz keeps two spaces as a no-break one)


def _tables(text: str) -> list:
    """Each table's lines (ASCII boxes: lines starting with + or |)."""
    tables, current = [], []
    for line in text.splitlines() + [""]:
        if line and line[0] in "+|":
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def test_tables_are_escaped_before_their_layout_so_that_columns_line_up():
    code, out, err = gradcalc("θ*2 + sum(v)", "--θ", "3", "--v", "1,2")
    text = out.decode("ascii")
    assert code == 0 and err == ""
    tables = _tables(text)
    assert len(tables) == 2
    for table in tables:
        assert len({len(line) for line in table}) == 1, table  # every line as wide: columns line up
        dividers = {tuple(i for i, char in enumerate(line) if char == "|") for line in table if line[1] != "-"}
        assert len(dividers) == 1, table  # the rules between columns at the same places on every line
    assert "| \\u03b8   |      3 |                 2 |" in tables[1]  # θ = 3, ∂/∂θ = 2
    assert "doutput/dvariable" in tables[1][1] and "gradient = doutput/dnode" in text


def test_a_shortened_label_is_marked_with_three_dots_within_its_width():
    long = "+".join(f"θ{k}" for k in range(1, 30))
    values = [token for k in range(1, 30) for token in (f"--θ{k}", "1")]
    code, out, err = gradcalc(long, *values, columns="60")
    assert code == 0 and err == ""
    for table in _tables(out.decode("ascii")):
        assert len({len(line) for line in table}) == 1, table
    assert "..." in out.decode("ascii") and max(map(len, out.decode("ascii").splitlines())) <= 60


def test_the_seed_example_and_its_uncertainty_tables_are_written():
    code, out, err = gradcalc("c*d/(a-b)", "--a", "1", "--b", "2", "--c", "3±0.1", "--d", "4")
    text = out.decode("ascii")
    assert code == 0 and err == ""
    assert "output = -12.00 +- 0.40 (\\u03c3 by first-order propagation)" in text  # ∂/∂c = -4, σ 0.1
    for table in _tables(text):
        assert len({len(line) for line in table}) == 1, table


def test_help_and_syntax_are_whole_and_keep_their_width():
    code, out, err = gradcalc("--help")
    lines = out.decode("ascii").splitlines()
    assert code == 0 and err == ""
    assert {len(line) for line in lines if line} == {80}  # the panels' right edges line up
    assert "doutput/dnode" in lines[4] and "forms of values: gradcalc --syntax" in lines[-3]  # the last words
    code, syntax, err = gradcalc("--syntax")
    assert code == 0 and err == ""
    assert len(syntax.decode("ascii").splitlines()) == len(gradcalc("--syntax", encoding="utf-8")[1].splitlines())


@pytest.mark.parametrize("expression,values,excerpt,marked", [
    ("θ*(2+)", ("--θ", "3"), "\\u03b8*(2+)", ")"),  # the caret under ')', after the 6 characters of θ
    ("ln(θ - 5)", ("--θ", "3"), "ln(\\u03b8 - 5)", "ln(\\u03b8 - 5)"),
    ("θθ + ln(θ - 5)", ("--θθ", "1", "--θ", "3"), "\\u03b8\\u03b8 + ln(\\u03b8 - 5)", "ln(\\u03b8 - 5)"),
])
def test_messages_escape_names_and_keep_the_caret_under_its_place(expression, values, excerpt, marked):
    code, out, err = gradcalc(expression, *values)
    lines = err.splitlines()
    shown, carets = lines[lines.index("    " + excerpt)], lines[lines.index("    " + excerpt) + 1]
    start = shown.index(marked, 4)
    assert carets == " " * start + "^" * len(marked)


def test_messages_are_written_when_standard_error_is_strict():
    # PYTHONIOENCODING=ascii:strict makes stderr refuse θ too: the message is escaped, not dropped
    code, out, err = gradcalc("ln(θ - 5)", "--θ", "3", encoding="ascii:strict")
    assert code == 1
    assert err.startswith("gradcalc: error: ln(\\u03b8 - 5): argument is -2, ln needs a positive number")


def test_a_batch_of_names_the_encoding_lacks_writes_every_line():
    code, out, err = gradcalc("-o", "jsonl", stdin="θ = 2; θ^2\nα = 1; ln(α - 2)\n".encode("utf-8"))
    records = [json.loads(line) for line in out.decode("ascii").splitlines()]
    assert code == 1 and records[0]["gradients"] == {"θ": 4.0}
    assert records[1]["error"]["message"] == "ln(α - 2): argument is -1, ln needs a positive number"


def test_encodable_spells_symbols_escapes_letters_and_leaves_what_the_encoding_has():
    assert encodable("∂f/∂θ = 2 ± 0.1 …", "ascii") == "df/d\\u03b8 = 2 +- 0.1 ..."
    assert encodable("σ π x²", "ascii") == "\\u03c3 \\u03c0 x\\xb2"  # letters may be names; x² is not x^2
    assert encodable("é θ ±", "latin-1") == "é \\u03b8 ±"
    assert encodable("θ𝑥", "utf-8") == "θ𝑥"
    assert encodable("x\udcff", "utf-8") == "x\\xff"  # a byte that is not UTF-8 (a file name's), as $'x\xff'
    assert encodable("θ", None) == "θ"
    assert lacks_characters("ascii") and lacks_characters("cp1252") and not lacks_characters("UTF-8")


def test_json_and_xml_escapes_read_back_as_the_characters():
    text = json.dumps({"θ𝑥": "é"}, ensure_ascii=False)
    assert json.loads(json_escaped(text, "ascii")) == {"θ𝑥": "é"}
    assert json_escaped(text, "ascii") == json.dumps({"θ𝑥": "é"})  # what ensure_ascii writes
    assert xml_escaped("θ𝑥 <", "ascii") == "&#952;&#119909; <"


def test_the_caret_of_an_excerpt_counts_escapes():
    excerpt = caret_excerpt("αβ + )", 5, 6, encoding="ascii")
    shown, carets = excerpt.splitlines()
    assert shown == "    \\u03b1\\u03b2 + )" and carets.index("^") == shown.index(")")
    assert re.fullmatch(r" +\^", carets)


def test_a_sweep_table_lines_up():
    # θ·x² along x = 0, 0.5, 1 at θ = 2: values 0, 0.5, 2; ∂/∂x = 2θx: 0, 2, 4; ∂/∂θ = x²
    code, out, err = gradcalc("θ*x^2", "--θ", "2", "--sweep", "x=0:1:3")
    text = out.decode("ascii")
    assert code == 0 and err == ""
    (table,) = _tables(text)
    assert len({len(line) for line in table}) == 1, table
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in table[3:-1]]
    assert rows == [["0", "0", "0", "0"], ["0.5", "0.5", "2", "0.25"], ["1", "2", "4", "1"]]
    assert "df/d\\u03b8" in table[1]


def test_a_terminal_plot_keeps_its_shape_in_ascii():
    pytest.importorskip("plotext", reason="the terminal plot needs the plot extra")
    argv = ("sin(x)", "--sweep", "x=0:3:50", "--plot")
    code, ascii_plot, err = gradcalc(*argv)
    assert code == 0 and err == ""
    unicode_plot = gradcalc(*argv, encoding="utf-8")[1].decode("utf-8").splitlines()
    lines = ascii_plot.decode("ascii").splitlines()
    assert [len(line) for line in lines] == [len(line) for line in unicode_plot]  # one character a cell
    assert "## f" in lines[2] and "@@ df/dx" in lines[3]  # the legend's marks, as the curves are drawn
