"""Cold start: the seed example as one process, against qalc computing a derivative, paired.

    python bench/cold_start.py [--runs 31] [--revision REV] [--python PYTHON | --fresh-venv]

Runs, interleaved round by round (the order rotating each round, so a slow spell of the machine
hits every command alike): `python -c pass` (the floor), `qalc "diff(x^3, x, 2)"` (the peer;
Debian package qalc), the seed example with `-o json` and as a table from this checkout, and, with
--revision, the same two from an earlier revision (`git archive`), for a paired before/after.
Every ratio is the median of the per-round ratios. Wall time is the figure; the processor time
(user + system) of each run is shown beside it, because on a loaded machine a process waits for a
core for a share of its wall time, and that share is larger for longer runs. gradcalc runs as
its installed console script does (`from gradcalc.cli import main`; `python -m` would add runpy's
imports), from the checkout, with its bytecode compiled first, as pip does when it installs it.
--python runs gradcalc and `python -c pass` with another interpreter (a virtual environment's
`bin/python`: gradcalc still comes from the checkout, its dependencies from that environment);
--fresh-venv makes one first, as a new user would (`python -m venv` and `pip install` of this
checkout, in a temporary directory), and runs in it.

Targets (issue 16, goal 4): json / qalc <= 1.25; table / json <= 1.3.
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import extract

ROOT = Path(__file__).resolve().parent.parent
SEED = ["c*d/(a-b)", "--a", "1", "--b", "2", "--c", "3", "--d", "4"]
QALC = ["qalc", "diff(x^3, x, 2)"]
# what the `gradcalc` script pip writes runs; with -c, the working directory (the checkout) comes first
CONSOLE_SCRIPT = "import sys; from gradcalc.cli import main; sys.exit(main())"


def gradcalc_commands(python: str, root: Path, label: str) -> dict:
    subprocess.run([python, "-m", "compileall", "-q", str(root / "gradcalc")], check=True)
    command = [python, "-c", CONSOLE_SCRIPT, *SEED]
    return {f"{label} json": (command + ["-o", "json"], root), f"{label} table": (command, root)}


def fresh_venv(into: Path) -> str:
    """The Python of a new virtual environment under `into` with this checkout pip-installed in it."""
    subprocess.run([sys.executable, "-m", "venv", str(into / "venv")], check=True)
    python = str(into / "venv" / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", str(ROOT)], check=True)
    return python


def run(command: list, cwd: Path, env: dict) -> tuple[float, float]:
    """(wall time, processor time) of one run of `command`."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (now.ru_utime - used.ru_utime) + (now.ru_stime - used.ru_stime)


def measure(commands: dict, runs: int, private_tmp: str) -> dict:
    # revisions before issue 17 kept Lark's pickled cache in the temp dir: give them a private one
    # (TemporaryDirectory's mode is 0700), so that no file another user can plant is read back
    env = {**os.environ, "COLUMNS": "80", "TMPDIR": private_tmp}
    for command, cwd in commands.values():  # warm the file cache
        run(command, cwd, env)
    names = list(commands)
    times = {name: [] for name in names}
    for round_ in range(runs):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(run(*commands[name], env))
    return times  # name -> [(wall, processor), ...]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("--revision", help="also run this git revision's gradcalc, paired (before/after)")
    interpreter = parser.add_mutually_exclusive_group()
    interpreter.add_argument("--python", default=sys.executable, help="the interpreter to run gradcalc with")
    interpreter.add_argument("--fresh-venv", action="store_true", help="run in a new venv with this checkout installed")
    options = parser.parse_args()
    if not shutil.which("qalc"):
        print("qalc is not installed (Debian: apt-get install qalc): no ratio against it")
    with tempfile.TemporaryDirectory() as tmp:
        python = fresh_venv(Path(tmp)) if options.fresh_venv else options.python
        commands = {"python -c pass": ([python, "-c", "pass"], ROOT)}
        if shutil.which("qalc"):
            commands["qalc diff"] = (QALC, ROOT)
        if options.revision:
            commands |= gradcalc_commands(python, extract(ROOT, options.revision, Path(tmp) / "before"), "before")
        commands |= gradcalc_commands(python, ROOT, "now")
        times = measure(commands, options.runs, tmp)
    median = statistics.median
    where = "a fresh venv" if options.fresh_venv else python
    print(f"cold start, {options.runs} interleaved rounds; medians ({where}; load {os.getloadavg()[0]:.1f})")
    print(f"  {'':16s} {'wall ms':>8s} {'cpu ms':>8s}")
    for name, values in times.items():
        print(f"  {name:16s} {median(w for w, _ in values) * 1000:8.1f} {median(c for _, c in values) * 1000:8.1f}")

    def ratio(top: str, bottom: str, target: str = ""):
        if top in times and bottom in times:
            pairs = list(zip(times[top], times[bottom]))
            wall = median(a[0] / b[0] for a, b in pairs)
            cpu = median(a[1] / b[1] for a, b in pairs)
            print(f"  {top} / {bottom}: {wall:.2f}x wall, {cpu:.2f}x cpu{target}")

    print("paired ratios (median of per-round ratios)")
    ratio("now json", "qalc diff", " (target <= 1.25)")
    ratio("now table", "now json", " (target <= 1.3)")
    ratio("before json", "qalc diff")
    ratio("before table", "before json")
    ratio("now json", "before json")
    ratio("now table", "before table")


if __name__ == "__main__":
    main()
