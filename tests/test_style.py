"""The code stays lint-clean: pyflakes, pycodestyle and import order (ruff, configured in pyproject)."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise",
                             "gradcalc", "tests", "bench"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_eval_or_exec_of_input():
    for path in (ROOT / "gradcalc").glob("*.py"):
        assert not re.search(r"\b(eval|exec)\(", path.read_text()), path
