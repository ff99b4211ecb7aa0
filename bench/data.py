"""--data throughput: a 1M-row CSV of points through `sigmoid(w*x + b) * ln(1 + exp(x))`,
rows per second; and peak memory on 1M against 5M rows (it should be flat).

    python bench/data.py [--rows 1000000] [--large 5000000] [--quick] [--against REV]

With --against REV, REV's gradcalc converts the same file, alternating with this checkout; both
wall and CPU times are printed, and the paired ratio of CPU times.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import command_of, extract, timed_run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

EXPRESSION = "sigmoid(w*x + b) * ln(1 + exp(x))"
MEASURE_RSS = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
               "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def write_points(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    with path.open("w") as out:
        out.write("w,x\n")
        for start in range(0, rows, 500_000):
            count = min(500_000, rows - start)
            block = np.column_stack([rng.normal(size=count), rng.normal(size=count)])
            np.savetxt(out, block, delimiter=",", fmt="%.17g")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--large", type=int, default=5_000_000)
    parser.add_argument("--quick", action="store_true", help="skip the memory comparison")
    parser.add_argument("--against", metavar="REV", help="also run REV's gradcalc, paired")
    options = parser.parse_args()
    script = shutil.which("gradcalc")
    gradcalc = [script] if script else [sys.executable, "-m", "gradcalc"]
    with tempfile.TemporaryDirectory() as folder:
        points = Path(folder) / "points.csv"
        write_points(points, options.rows)
        command = gradcalc + [EXPRESSION, "--data", str(points), "--b", "0.5"]
        if options.against:
            paired(options, Path(folder), points)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
        elapsed = sorted(times)[1]
        print(f"--data, {options.rows:,} rows of (w, x), {EXPRESSION}, csv out")
        print(f"  {elapsed:.2f} s (median of 3), {options.rows / elapsed:,.0f} rows/s")
        if options.quick:
            return
        rss = subprocess.run([sys.executable, "-c", MEASURE_RSS, *command], capture_output=True,
                             text=True, check=True).stdout
        large = Path(folder) / "large.csv"
        write_points(large, options.large)
        rss_large = subprocess.run([sys.executable, "-c", MEASURE_RSS,
                                    *gradcalc, EXPRESSION, "--data", str(large), "--b", "0.5"],
                                   capture_output=True, text=True, check=True).stdout
        small_mib, large_mib = int(rss) / 1024, int(rss_large) / 1024
        print(f"  peak memory: {options.rows:,} rows {small_mib:.0f} MiB, {options.large:,} rows "
              f"{large_mib:.0f} MiB (ratio {large_mib / small_mib:.2f}; flat = 1)")


def paired(options, folder: Path, points: Path) -> None:
    commands = {"now": command_of(ROOT),
                options.against: command_of(extract(ROOT, options.against, folder / "before"))}
    runs = {name: [] for name in commands}
    for round_ in range(5):
        for name in (list(commands) if round_ % 2 else list(reversed(commands))):
            runs[name].append(timed_run(commands[name] + [EXPRESSION, "--data", str(points), "--b", "0.5"]))
    median = statistics.median
    for name, series in runs.items():
        wall, cpu = median(w for w, _ in series), median(c for _, c in series)
        print(f"  {name:>8}: {options.rows / wall:10,.0f} rows/s wall, {options.rows / cpu:10,.0f} rows/s CPU "
              "(median of 5, alternating)")
    ratio = median(b[1] / n[1] for b, n in zip(runs[options.against], runs["now"]))
    print(f"  now is {ratio:.2f}x as fast as {options.against} (CPU time, paired)")


if __name__ == "__main__":
    main()
