"""The built wheel carries the grammar and its parser tables: install it into a fresh virtual
environment and run gradcalc from another directory."""

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_ships_grammar_and_runs_from_elsewhere(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True)
    (wheel,) = dist.glob("gradcalc-*.whl")
    env_dir = tmp_path / "venv"
    # the runtime dependencies come from this environment; the wheel itself is installed offline
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel)],
                   check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = env_dir / "bin" / "gradcalc"
    result = subprocess.run([script, "c*d/(a-b)", "--a", "1", "--b", "2", "--c", "3", "--d", "4",
                             "-o", "json"], cwd=elsewhere, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["gradients"] == {"a": -12.0, "b": 12.0, "c": -4.0, "d": -3.0}
    located = subprocess.run([python, "-c", "import gradcalc.parser as p; print(p.__file__)"],
                             cwd=elsewhere, capture_output=True, text=True, check=True).stdout
    assert str(env_dir) in located  # not the source checkout
    # the analysed grammar ships in the wheel: the installed parser loads it instead of analysing
    code = "import gradcalc.parser as p; print(p.read_tables(p.Parser()._grammar) is not None)"
    shipped = subprocess.run([python, "-c", code], cwd=elsewhere, capture_output=True, text=True, check=True).stdout
    assert shipped.strip() == "True"
    assert subprocess.run([python, "-m", "gradcalc", "--version"], cwd=elsewhere,
                          capture_output=True, text=True).returncode == 0
