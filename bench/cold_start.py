"""Cold start: the seed example with --format json, against `python -c "import numpy"` and
`python -c pass`, interleaved in one run so machine noise hits all three alike.

    python bench/cold_start.py [--runs 31]

Target (issue 2): median(gradcalc) / median(import numpy) <= 1.5.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import time

SEED = ["c*d/(a-b)", "--a", "1", "--b", "2", "--c", "3", "--d", "4", "--format", "json"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31)
    runs = parser.parse_args().runs
    script = shutil.which("gradcalc")
    gradcalc = [script] if script else [sys.executable, "-m", "gradcalc"]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
        "gradcalc seed --format json": gradcalc + SEED,
    }
    for command in commands.values():  # warm the file cache and lark's grammar cache
        subprocess.run(command, check=True, capture_output=True)
    times = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"cold start, median of {runs} interleaved runs")
    for name, value in medians.items():
        print(f"  {name:30s} {value * 1000:7.1f} ms")
    ratio = medians["gradcalc seed --format json"] / medians["python -c 'import numpy'"]
    print(f"  ratio gradcalc / import numpy: {ratio:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
