"""The built wheel carries the grammar and its parser tables: install it into a fresh virtual
environment and run gradcalc from another directory.

Offline wherever the README's commands run (system Python, a venv, a pipx-style isolated env):
the wheel is built without build isolation (hatchling comes from the test extra) and installed
with --no-index; the runtime dependencies are the ones this interpreter imports, made visible to
the fresh environment by a .pth file listing this interpreter's site directories. (A venv created
with system_site_packages=True would see the *base* interpreter's packages instead, which lack
typer when the tests run inside a venv.)
"""

import json
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def site_directories() -> list[str]:
    """Where this interpreter's installed packages live (not the source checkout)."""
    directories = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        directories.append(site.getusersitepackages())
    return [d for d in dict.fromkeys(directories) if Path(d).is_dir() and d in sys.path]


def test_site_directories_hold_the_runtime_dependencies():
    import typer

    assert any(Path(typer.__file__).is_relative_to(d) for d in site_directories())


@pytest.mark.slow
def test_wheel_ships_grammar_and_runs_from_elsewhere(tmp_path):
    pytest.importorskip("build", reason="needs the test extra: pip install -e '.[test]'")
    pytest.importorskip("hatchling", reason="needs the test extra: pip install -e '.[test]'")
    dist = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist),
                            str(ROOT)], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("gradcalc-*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # plain directory lines: appended to sys.path after the venv's own site-packages, so the
    # wheel installed there is the gradcalc that runs (an editable install's .pth is not read)
    (Path(purelib) / "outer_environment.pth").write_text("\n".join(site_directories()) + "\n")
    installed = subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel)],
                               capture_output=True, text=True)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = env_dir / "bin" / "gradcalc"
    result = subprocess.run([script, "c*d/(a-b)", "--a", "1", "--b", "2", "--c", "3", "--d", "4",
                             "-o", "json"], cwd=elsewhere, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["gradients"] == {"a": -12.0, "b": 12.0, "c": -4.0, "d": -3.0}
    located = subprocess.run([python, "-c", "import gradcalc.parser as p; print(p.__file__)"],
                             cwd=elsewhere, capture_output=True, text=True, check=True).stdout
    assert located.startswith(purelib)  # the wheel, not the source checkout
    # the analysed grammar ships in the wheel: the installed parser loads it instead of analysing
    code = "import gradcalc.parser as p; print(p.read_tables(p.Parser()._grammar) is not None)"
    shipped = subprocess.run([python, "-c", code], cwd=elsewhere, capture_output=True, text=True, check=True).stdout
    assert shipped.strip() == "True"
    assert subprocess.run([python, "-m", "gradcalc", "--version"], cwd=elsewhere,
                          capture_output=True, text=True).returncode == 0
