"""Terminal cells: wide (CJK) characters take two in carets, cuts and table widths; the README's flagship
tables fit 80 columns."""

import pytest
from rich.cells import cell_len

from gradcalc.formatting import caret_excerpt, cell_width, shorten

# wide (CJK, fullwidth), narrow (Greek, Latin, gradcalc's symbols) and combining characters
SAMPLES = ["名前", "変数x", "Ｘ", "θσπ", "∂…±²", "e\u0301", "abc", "名\u0301前", "ｘ＋１"]


@pytest.mark.parametrize("text", SAMPLES)
def test_cell_width_agrees_with_rich(text):
    assert cell_width(text) == cell_len(text)


@pytest.mark.parametrize("limit", range(1, 16))
def test_shorten_of_a_wide_name_fits_its_cells_and_keeps_both_ends(limit):
    name = "名前" * 8 + "x"  # 33 cells
    cut = shorten(name, limit=limit)
    assert cell_len(cut) <= limit
    assert cell_len(cut) >= limit - 1  # at most the one cell a straddling wide character leaves
    if limit >= 3:
        assert cut.endswith("x") and cut.count("…") == 1
    assert " " not in cut


def test_shorten_leaves_a_fitting_wide_text_whole():
    assert shorten("名前=2; 名前*3", limit=14) == "名前=2; 名前*3"  # 14 cells, 10 characters
    assert shorten("名前=2; 名前*3", limit=13) != "名前=2; 名前*3"


def _caret_column(excerpt: str) -> tuple[str, int, int]:
    """The excerpt's source line, and its carets' first cell and cell count."""
    line, carets = excerpt.split("\n")
    return line, len(carets) - len(carets.lstrip()), carets.count("^")


@pytest.mark.parametrize("source, start, end", [("名前=2; 名前²", 8, None), ("ln(名前 - 3)", 0, 10),
                                                ("x + 名前名前*Ｙ", 9, 10), ("θ + 名", 4, None)])
def test_the_caret_stays_under_its_characters(source, start, end):
    line, first, marks = _caret_column(caret_excerpt(source, start, end))
    assert line == "    " + source
    assert first == 4 + cell_len(source[:start])
    assert marks == cell_len(source[start:(start + 1 if end is None else end)])


@pytest.mark.parametrize("position, cut_before, cut_after", [(0, False, True), (5, False, True), (60, True, True),
                                                            (130, True, True), (199, True, False)])
def test_a_long_wide_line_is_windowed_to_its_cells(position, cut_before, cut_after):
    source = "".join("名前変数"[i % 4] for i in range(200))  # 400 cells
    line, first, marks = _caret_column(caret_excerpt(source, position))
    shown = line[4:]
    assert cell_len(shown) <= 72
    assert marks == 2
    # the caret is under the character it points at; a window that starts later marks its cut with '…'
    assert shown[len(_prefix_of_cells(shown, first - 4))] == source[position]
    assert shown.startswith("…") == cut_before and shown.endswith("…") == cut_after


def _prefix_of_cells(text: str, cells: int) -> str:
    used = 0
    for index, char in enumerate(text):
        if used >= cells:
            return text[:index]
        used += cell_len(char)
    return text


def test_cli_caret_under_the_superscript(run_cli):
    code, out, err = run_cli("名前=2; 名前²")
    assert code == 2
    line, carets = err.splitlines()[1:3]
    assert carets.index("^") == cell_len(line[: line.index("²")])


def test_cli_underline_spans_the_wide_excerpt(run_cli):
    code, out, err = run_cli("ln(名前 - 3)", "--名前", "1")
    assert code == 1
    line, carets = err.splitlines()[1:3]
    assert carets.strip() == "^" * cell_len("ln(名前 - 3)") and cell_len(line) == cell_len(carets)


@pytest.mark.parametrize("width", [52, 60, 80])
def test_batch_table_cuts_a_wide_expression_once_within_the_console(run_cli, monkeypatch, tmp_path, width):
    monkeypatch.setenv("COLUMNS", str(width))
    path = tmp_path / "jobs.txt"
    long = "名前=2; 名前*3 + 名前^2 - 名前*5 + 名前*名前*名前"  # 44 cells
    path.write_text(f"{long}\n名前=2; 名前*3\n", encoding="utf-8")
    code, out, err = run_cli("-f", str(path))
    assert code == 0, err
    lines = out.splitlines()
    assert all(cell_len(line) <= width for line in lines)
    first, second = (line.split("│")[2].strip() for line in lines[3:5])
    assert first.count("…") == 1 and first.startswith("名前") and first.endswith("名前")
    assert cell_len(first) >= cell_len(lines[1].split("┃")[2].strip())  # as wide as its header, at least
    if width >= 60:
        assert second == "名前=2; 名前*3"  # 14 cells: fits whole


def test_narrow_node_table_keeps_the_wide_name_beside_its_cut(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "52")  # the node table's least width: its node column the header's
    name, other = "名前" * 4, "変数" * 4
    code, out, err = run_cli(f"{name}*{other} + 1", f"--{name}", "2", f"--{other}", "3", "--nodes")
    assert code == 0, err
    assert all(cell_len(line) <= 52 for line in out.splitlines())
    cut = [cell.strip() for line in out.splitlines() for cell in line.split("│") if "…" in cell]
    assert cut and all(" …" not in cell for cell in cut)  # no cell left half blank before its mark


@pytest.mark.parametrize("argv", [
    ("relu(x)*y + ln(z) + sin(w)", "--x", "0", "--y", "2", "--z", "1e-7", "--w", "1e20", "--check", "--no-nodes"),
    ("relu(x*y - 1) + sigmoid(x)^y + ln(1 + exp(x*y))", "--x", "1", "--y", "0.5", "--explain", "--no-nodes"),
], ids=["check", "explain"])
def test_flagship_tables_fit_80_columns(run_cli, monkeypatch, argv):
    """The README's --check example and an --explain with three 18-digit numbers a row were 81 wide."""
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run_cli(*argv)
    assert code == 0, err
    assert max(cell_len(line) for line in out.splitlines()) <= 80
    assert "0.3775406687981454" in out or "0.7639704044417283" in out  # the numbers whole
