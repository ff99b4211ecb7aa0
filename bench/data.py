"""--data throughput: a 1M-row CSV of points through `sigmoid(w*x + b) * ln(1 + exp(x))`,
rows per second; and peak memory on 1M against 5M rows (it should be flat).

    python bench/data.py [--rows 1000000] [--large 5000000] [--quick]
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

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
    options = parser.parse_args()
    script = shutil.which("gradcalc")
    gradcalc = [script] if script else [sys.executable, "-m", "gradcalc"]
    with tempfile.TemporaryDirectory() as folder:
        points = Path(folder) / "points.csv"
        write_points(points, options.rows)
        command = gradcalc + [EXPRESSION, "--data", str(points), "--b", "0.5"]
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


if __name__ == "__main__":
    main()
