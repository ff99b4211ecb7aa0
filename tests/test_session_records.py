"""The session's records as a batch would write them: csv/tsv rows under :wrt keep the σ of inputs
given ± on earlier lines, and :save writes the command (part by part, where the settings changed)
that replays its lines to the same JSON records."""

import csv
import io
import json
import math
import os
import shlex
import shutil
import subprocess
import sys

import pytest

from conftest import unwrapped

# a replay in another directory runs this checkout's gradcalc, not the one installed (main's)
THIS_CHECKOUT = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}

# y = 1 ± 0.1, z = 3 ± 0.2 and f = x*y*z at x = 2: σ = √((x z σ_y)² + (x y σ_z)²) = √(0.6² + 0.4²),
# the shares 0.36/0.52 and 0.16/0.52; ∂f/∂x = y z = 3
XYZ_SIGMA, XYZ_SHARES = math.sqrt(0.52), {"share_y": 0.36 / 0.52, "share_z": 0.16 / 0.52}


def _rows(out: str, separator: str) -> list:
    """Each data row as {column: cell} under the header above it."""
    rows, header = [], None
    for row in csv.reader(io.StringIO(out), delimiter=separator):
        if row[0] == "line":
            header = row
        else:
            rows.append(dict(zip(header, row, strict=True)))
    return rows


@pytest.mark.parametrize("output_format, separator", [("csv", ","), ("tsv", "\t")])
def test_csv_rows_under_wrt_keep_the_sigma_of_inputs_given_on_lines(session, output_format, separator):
    code, out, err = session("x = 2", "y = 1 ± 0.1", "z = 3 ± 0.2", ":wrt x", "x*y*z", "x*y + z", "x*3", "x*y",
                             argv=("-o", output_format))
    assert code == 0 and "error" not in err
    rows = _rows(out, separator)
    assert [row["expression"] for row in rows[3:]] == [
        "x = 2; y = 1 ± 0.1; z = 3 ± 0.2; x*y*z", "x = 2; y = 1 ± 0.1; z = 3 ± 0.2; x*y + z", "x = 2; x*3",
        "x = 2; y = 1 ± 0.1; x*y"]
    xyz, sum_, plain, xy = rows[3:]
    assert list(xyz) == ["line", "expression", "value", "grad_x", "sigma", "share_y", "share_z", "error"]
    assert float(xyz["value"]) == 6.0 and float(xyz["grad_x"]) == 3.0
    assert float(xyz["sigma"]) == pytest.approx(XYZ_SIGMA, rel=1e-15)
    assert {name: float(xyz[name]) for name in XYZ_SHARES} == pytest.approx(XYZ_SHARES, rel=1e-15)
    # x*y + z: ∂/∂y = x = 2, ∂/∂z = 1: σ = √(0.2² + 0.2²), half each; the same columns, so no new header
    assert float(sum_["sigma"]) == pytest.approx(math.hypot(0.2, 0.2), rel=1e-15)
    assert float(sum_["share_y"]) == pytest.approx(0.5) and float(sum_["share_z"]) == pytest.approx(0.5)
    # the headers over x = 2, y, z (each its own gradient and σ), x*y*z and x*y + z (one), x*3, x*y
    assert out.count("line" + separator) == 6
    assert "sigma" not in plain  # x*3 reads no uncertain input
    # x*y: σ = |∂f/∂y|·σ_y = 2·0.1
    assert list(xy) == ["line", "expression", "value", "grad_x", "sigma", "share_y", "error"]
    assert float(xy["sigma"]) == pytest.approx(0.2, rel=1e-15) and float(xy["share_y"]) == 1.0


def test_the_session_csv_says_what_its_json_lines_and_a_batch_say(session):
    lines = ("x = 2", "y = 1 ± 0.1", "z = 3 ± 0.2", ":wrt x", "x*y*z")
    csv_row = _rows(session(*lines, argv=("-o", "csv"))[1], ",")[-1]
    record = json.loads(session(*lines, argv=("-o", "jsonl"))[1].splitlines()[-1])
    assert float(csv_row["sigma"]) == record["uncertainty"]["sigma"]
    assert {name: float(csv_row[name]) for name in XYZ_SHARES} == {
        f"share_{name}": share for name, share in record["uncertainty"]["share"].items()}
    for argv in (("x*y*z", "--x", "2", "--y", "1±0.1", "--z", "3±0.2"), ("x = 2; y = 1 ± 0.1; z = 3 ± 0.2; x*y*z",)):
        batch = subprocess.run([sys.executable, "-m", "gradcalc", *argv, "--wrt", "x", "-o", "csv"],
                               capture_output=True, text=True, timeout=60, env=THIS_CHECKOUT)
        row = _rows(batch.stdout, ",")[0]
        assert {name: row[name] for name in ("value", "grad_x", "sigma", *XYZ_SHARES)} == {
            name: csv_row[name] for name in ("value", "grad_x", "sigma", *XYZ_SHARES)}, argv


def test_a_batch_under_wrt_says_once_that_a_lines_own_sigma_has_no_column():
    # a stream's columns are fixed by --wrt before its lines: a σ given on a line has no column
    lines = "x = 2; x*3\nx = 2; y = 1 ± 0.1; x*y\nx = 2; y = 1 ± 0.1; x*y\n"
    for quiet, said in (((), "gradcalc: warning: line 2 has no sigma column: --wrt fixed the csv columns before its "
                             "y ± σ\n  hint: leave out --wrt, or give --y VALUE±SIGMA instead of y = VALUE ± SIGMA "
                             "on the lines\n"), (("-q",), "")):
        batch = subprocess.run([sys.executable, "-m", "gradcalc", "-f", "-", "--wrt", "x", "-o", "csv", *quiet],
                               input=lines, capture_output=True, text=True, timeout=60, env=THIS_CHECKOUT)
        assert unwrapped(batch.stderr) == said and batch.returncode == 0  # wrapped at 80 columns: its words
        columns = ["line", "expression", "value", "grad_x", "error"]
        assert [list(row) for row in _rows(batch.stdout, ",")] == [columns] * 3
    # the same lines without --wrt have the column (rows written when the input ends)
    batch = subprocess.run([sys.executable, "-m", "gradcalc", "-f", "-", "-o", "csv"], input=lines,
                           capture_output=True, text=True, timeout=60, env=THIS_CHECKOUT)
    assert [row["sigma"] for row in _rows(batch.stdout, ",")] == ["", "0.2", "0.2"] and batch.stderr == ""


def _records(text: str) -> list:
    return [{key: value for key, value in json.loads(line).items() if key != "line"} for line in text.splitlines()]


def _replay(command: str, cwd, stdin: str | None = None) -> subprocess.CompletedProcess:
    words = shlex.split(command)
    assert words[0] == "gradcalc", command
    return subprocess.run([sys.executable, "-m", "gradcalc", *words[1:], "-o", "jsonl"], input=stdin,
                          capture_output=True, text=True, timeout=60, cwd=cwd, env=THIS_CHECKOUT)


def test_save_replays_wrt_check_and_order_with_the_command_it_writes(session, tmp_path):
    code, out, err = session(":wrt x", ":check on", ":order 2", "x^3", "sin(x)*x", ":save s.txt",
                             argv=("--x", "2", "-o", "jsonl"))
    records = _records(out)
    # x^3 at 2: 8, ∂ 3x² = 12, ∂² 6x = 12; sin(x)*x: ∂ sin x + x cos x, ∂² 2 cos x - x sin x
    assert [r["gradients"] for r in records] == [{"x": 12.0}, {"x": math.sin(2) + 2 * math.cos(2)}]
    assert records[0]["derivatives"]["2"] == {"x": {"x": 12.0}}
    assert records[1]["derivatives"]["2"]["x"]["x"] == pytest.approx(2 * math.cos(2) - 2 * math.sin(2), rel=1e-14)
    assert [r["check"]["x"]["verdict"] for r in records] == ["ok", "ok"]
    header, *jobs = (tmp_path / "s.txt").read_text().splitlines()
    assert header == "# gradcalc session: 2 jobs; replay with gradcalc -f s.txt --wrt x --check --order 2"
    assert jobs == ["x = 2; x^3", "x = 2; sin(x)*x"]
    replay = _replay(header.partition("replay with ")[2], tmp_path)
    assert replay.returncode == 0, replay.stderr
    assert _records(replay.stdout) == records


def test_save_writes_parts_where_the_settings_changed(session, tmp_path):
    # y's line defines a name: under no :wrt yet; x*y under :wrt x; then :check on, then :order 2
    code, out, err = session("x = 2", "y = 1 ± 0.1", ":wrt x", "x*y", "x + y", ":check on", "x^2*y", ":order 2",
                             "sin(x)*y", ":save s.txt", argv=("-o", "jsonl"))
    records = _records(out)
    assert [sorted(r["gradients"]) for r in records] == [["x"], ["y"], ["x"], ["x"], ["x"], ["x"]]
    assert [("check" in r, "derivatives" in r) for r in records] == [(False, False)] * 4 + [(True, False), (True, True)]
    assert records[2]["uncertainty"]["sigma"] == pytest.approx(0.2, rel=1e-15)  # |∂(x*y)/∂y|·σ_y = 2·0.1
    assert "saved 6 jobs to s.txt in 4 parts (the settings changed: each part's command is in the file)" in err
    text = (tmp_path / "s.txt").read_text()
    assert text.splitlines()[:2] == [
        "# gradcalc session: 6 jobs in 4 parts, each run with other settings (:wrt, :check, :order)",
        "# replay each part with the command above it (gradcalc -f s.txt would run every line with the same options)"]
    parts = [line for line in text.splitlines() if line.startswith("# part")]
    assert parts == ["# part 1, lines 4-5: sed -n 4,5p s.txt | gradcalc -f -",
                     "# part 2, lines 7-8: sed -n 7,8p s.txt | gradcalc -f - --wrt x",
                     "# part 3, line 10: sed -n 10,10p s.txt | gradcalc -f - --wrt x --check",
                     "# part 4, line 12: sed -n 12,12p s.txt | gradcalc -f - --wrt x --check --order 2"]
    replayed = []
    for part in parts:
        selection, _, command = part.partition(": ")[2].partition(" | ")
        if shutil.which("sed"):  # the comment's own command
            lines = subprocess.run(shlex.split(selection), capture_output=True, text=True, cwd=tmp_path).stdout
        else:
            first, last = map(int, selection.split()[2][:-1].split(","))
            lines = "".join(text.splitlines(keepends=True)[first - 1:last])
        replay = _replay(command, tmp_path, lines)
        assert replay.returncode == 0, replay.stderr
        replayed += _records(replay.stdout)
    assert replayed == records


def test_save_replays_the_options_the_session_started_with(session, tmp_path):
    # v*check*x for v = (1, 2, 3), check = (0.5, 1, 2), x = 2, the seed (1, 0, 2): the output (1, 4, 12);
    # ∂/∂x = 1·0.5·1 + 2·3·2 = 12.5; ∂/∂v = seed·check·x = (1, 0, 8); ∂/∂check = seed·v·x = (2, 0, 12)
    code, out, err = session("v*check*x", ":save s.txt", argv=(
        "--v", "1,2,3", "--var", "check=0.5,1,2", "--x", "2", "--seed-grad", "1,0,2", "--nodes", "-o", "jsonl"))
    record = _records(out)[0]
    assert record["value"] == [1.0, 4.0, 12.0]
    assert record["gradients"] == {"check": [2.0, 0.0, 12.0], "v": [1.0, 0.0, 8.0], "x": 12.5}
    assert "nodes" in record
    header = (tmp_path / "s.txt").read_text().splitlines()[0]
    command = header.partition("replay with ")[2]
    # check is one of gradcalc's options: its array is given as --var, as it was
    assert shlex.split(command) == ["gradcalc", "-f", "s.txt", "--nodes", "--seed-grad", "1,0,2",
                                    "--v", "[1.0, 2.0, 3.0]", "--var", "check=[0.5, 1.0, 2.0]"]
    replay = _replay(command, tmp_path)
    assert replay.returncode == 0, replay.stderr
    assert _records(replay.stdout) == [record]
