"""Nothing another local user can plant is ever unpickled or executed (issue 17).

gradcalc used to build its parser with Lark's cache=True, which reads back a pickle from the
shared temp directory under a name anyone can compute. These tests plant, at exactly that name and
in place of the shipped parser tables, a pickle whose loading creates a directory, run gradcalc,
and check that the directory was not created and the answers are still right.
"""

import getpass
import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import lark
import pytest

from gradcalc.parser import TABLES, Parser, read_tables, tables_text

ROOT = Path(__file__).resolve().parent.parent
SEED = ["c*d/(a-b)", "--a", "1", "--b", "2", "--c", "3", "--d", "4"]
SEED_GRADIENTS = {"a": -12.0, "b": 12.0, "c": -4.0, "d": -3.0}
GRAMMAR = Parser()._grammar

# The keyword arguments gradcalc gave Lark(..., cache=True) for its two parsers, as lark turns them
# into text for the cache's name (the transformer is left out of the name).
OLD_FAST_OPTIONS = {"parser": "lalr", "lexer": "<class 'gradcalc.parser._ContextFreeLexer'>", "cache": "True"}
OLD_CAREFUL_OPTIONS = {"parser": "lalr", "lexer": "contextual", "cache": "True"}


def lark_cache_path(temp_dir: Path, options: dict) -> Path:
    """The file Lark(GRAMMAR, **options) reads with cache=True, computed as lark/lark.py does."""
    options_text = "".join(name + value for name, value in options.items())
    text = GRAMMAR + options_text + lark.__version__ + str(sys.version_info[:2])
    digest = hashlib.sha256(text.encode("utf8")).hexdigest()
    major, minor = sys.version_info[:2]
    return temp_dir / f".lark_cache_{getpass.getuser()}_{digest}_{major}_{minor}.tmp"


class _MakeDirectory:
    """Unpickling this calls os.mkdir(path): the visible side effect of a planted cache file."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return os.mkdir, (self.path,)


def plant(path: Path, marker: Path) -> None:
    # lark's cache layout: a digest line, then pickles; lark unpickles before it checks the digest
    path.write_bytes(b"0" * 64 + b"\n" + pickle.dumps(_MakeDirectory(marker)))


def run_gradcalc(*args, cwd=ROOT, env=None, stdin=None):
    return subprocess.run([sys.executable, "-m", "gradcalc", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def temp_dir(tmp_path):
    directory = tmp_path / "shared-tmp"
    directory.mkdir()
    return directory


def environment(temp_dir: Path, home: Path | None = None) -> dict:
    env = {**os.environ, "TMPDIR": str(temp_dir)}  # where tempfile.gettempdir(), so lark, looks
    if home is not None:
        env |= {"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "XDG_STATE_HOME": str(home / ".state")}
    return env


def test_the_planted_files_sit_where_larks_cache_reads_and_would_run(temp_dir, tmp_path):
    """The check on the test itself: Lark with gradcalc's old options runs the planted pickles."""
    stand_in = ("from lark import Lark\nfrom lark.lexer import Lexer\n"
                "class _ContextFreeLexer(Lexer):\n"
                "    __module__ = 'gradcalc.parser'\n"
                "    def __init__(self, conf): pass\n"
                "    def lex(self, *args): raise NotImplementedError\n"
                "grammar = open(%r, encoding='utf-8').read()\n"
                "Lark(grammar, parser='lalr', lexer=%s, cache=True)\n")
    for options, lexer in ((OLD_FAST_OPTIONS, "_ContextFreeLexer"), (OLD_CAREFUL_OPTIONS, "'contextual'")):
        marker = tmp_path / "pickle-was-loaded"
        plant(lark_cache_path(temp_dir, options), marker)
        grammar_file = tmp_path / "grammar.lark"
        grammar_file.write_text(GRAMMAR, encoding="utf-8")
        # (saving the cache afterwards fails for the stand-in class: by then the pickle has run)
        subprocess.run([sys.executable, "-c", stand_in % (str(grammar_file), lexer)],
                       env=environment(temp_dir), capture_output=True, timeout=60)
        assert marker.is_dir(), f"lark did not load the file planted for {options}"
        marker.rmdir()


@pytest.mark.parametrize("args,stdin,check", [
    (SEED + ["-o", "json"], None, lambda out: json.loads(out)["gradients"] == SEED_GRADIENTS),
    (SEED, None, lambda out: "-12" in out),
    (["-o", "jsonl"], "c*d/(a-b)\nc*d/(a-)\n",  # the second line goes through the careful parser
     lambda out: [json.loads(line).get("gradients") for line in out.splitlines()] == [SEED_GRADIENTS, None]),
])
def test_a_pickle_planted_at_larks_cache_path_is_never_loaded(temp_dir, tmp_path, args, stdin, check):
    marker = tmp_path / "pickle-was-loaded"
    for options in (OLD_FAST_OPTIONS, OLD_CAREFUL_OPTIONS):
        plant(lark_cache_path(temp_dir, options), marker)
    values = ["--a", "1", "--b", "2", "--c", "3", "--d", "4"] if stdin else []
    result = run_gradcalc(*args, *values, env=environment(temp_dir), stdin=stdin)
    assert not marker.exists(), "gradcalc unpickled a file from the shared temp directory"
    assert check(result.stdout), result.stdout + result.stderr
    assert result.returncode == (2 if stdin else 0)


def test_a_pickle_in_place_of_the_shipped_tables_is_never_loaded(tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "gradcalc", copy / "gradcalc", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "grammar", copy / "grammar")
    marker = tmp_path / "pickle-was-loaded"
    (copy / "gradcalc" / TABLES.name).write_bytes(pickle.dumps(_MakeDirectory(marker)))
    result = run_gradcalc(*SEED, "-o", "json", cwd=copy)
    assert not marker.exists()
    assert json.loads(result.stdout)["gradients"] == SEED_GRADIENTS  # the grammar is analysed afresh


def test_a_run_writes_nothing_to_the_temp_directory_or_the_home_directory(temp_dir, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = environment(temp_dir, home)
    runs = [run_gradcalc(*SEED, "-o", "json", env=env), run_gradcalc(*SEED, env=env),
            run_gradcalc("c*d/(a-)", env=env),
            run_gradcalc("-o", "csv", "--a", "1", env=env, stdin="a*x\nln(a)\n# c\na-\n")]
    assert [r.returncode for r in runs] == [0, 0, 2, 2]
    assert list(temp_dir.iterdir()) == [] and list(home.iterdir()) == []


def test_the_shipped_tables_are_larks_analysis_of_the_grammar():
    shipped = json.loads(TABLES.read_text(encoding="utf-8"))
    assert shipped["grammar"] == GRAMMAR, "the grammar changed: regenerate the tables (see gradcalc/parser.py)"
    if shipped["lark_version"] != lark.__version__:
        pytest.skip(f"the tables were made by lark {shipped['lark_version']}; this is lark {lark.__version__}")
    assert tables_text(GRAMMAR) == TABLES.read_text(encoding="utf-8"), "regenerate the tables (see gradcalc/parser.py)"


def test_tables_for_another_grammar_or_format_are_not_used(tmp_path, monkeypatch):
    import gradcalc.parser as parser

    assert read_tables(GRAMMAR) is not None
    assert read_tables(GRAMMAR + "\n// changed") is None
    other_format = tmp_path / "tables.json"
    other_format.write_text(tables_text(GRAMMAR).replace(f'"format":{parser._FORMAT}', '"format":1'))
    monkeypatch.setattr(parser, "TABLES", other_format)
    assert read_tables(GRAMMAR) is None


def test_lark_tables_made_by_another_lark_version_are_made_again(tmp_path, monkeypatch):
    import gradcalc.parser as parser
    from gradcalc.errors import ParseError
    from gradcalc.evaluator import evaluate_graph

    stale = tmp_path / "tables.json"
    stale.write_text(tables_text(GRAMMAR).replace(f'"lark_version":"{lark.__version__}"', '"lark_version":"0.1"'))
    monkeypatch.setattr(parser, "TABLES", stale)
    analysed, analyse = [], parser.analyse
    monkeypatch.setattr(parser, "analyse", lambda grammar: analysed.append(grammar) or analyse(grammar))
    fresh = Parser()
    graph = fresh.parse("c*d/(a-b)")  # lalr.py's tables do not depend on lark's version
    assert evaluate_graph(graph, {"a": 1, "b": 2, "c": 3, "d": 4}).gradients == SEED_GRADIENTS
    assert analysed == []
    with pytest.raises(ParseError, match="unexpected '\\)'; expected a number, a name, '\\(' or '\\['"):
        fresh.parse("c*d/(a-)")  # lark's own parser, for the message: its part is analysed again
    assert analysed == [GRAMMAR]


def test_valid_input_never_imports_lark():
    code = ("import sys; from gradcalc.cli import main; main(%r); "
            "print(sorted(m for m in ('lark', 'rich', 'numpy') if m in sys.modules), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code % (SEED + ["-o", "json"])], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    assert json.loads(result.stdout)["gradients"] == SEED_GRADIENTS
    assert result.stderr.strip() == "[]"
