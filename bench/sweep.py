"""--sweep speed: 1e6 points of `sigmoid(w*x + b) * ln(1 + exp(x))` swept in x (w and b fixed),
against the array path evaluating the same points in one call, paired in one process; the whole
command writing CSV; a sweep with gaps (ln(x) over -5:5, half the points outside the domain);
peak memory at 1e6 against 5e6 points (it should be flat).

    python bench/sweep.py [--points 1000000] [--large 5000000] [--quick]
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradcalc import parse  # noqa: E402
from gradcalc.evaluator import evaluate_graph  # noqa: E402
from gradcalc.sweep import Axis, Sweep  # noqa: E402

EXPRESSION = "sigmoid(w*x + b) * ln(1 + exp(x))"
MEASURE_RSS = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
               "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def run_sweep(graph, axis, values):
    for _ in Sweep(graph, [axis], values).chunks():
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--large", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="skip the command-line and memory runs")
    options = parser.parse_args()
    n = options.points
    graph = parse(EXPRESSION)
    axis = Axis("x", -5.0, 5.0, n)
    x = np.linspace(axis.start, axis.stop, n)
    fixed = {"w": 0.5, "b": 1.0}
    per_point = {"x": x, "w": np.full(n, 0.5), "b": np.full(n, 1.0)}  # a gradient per point, as the sweep's
    sweeps, arrays, ratios = [], [], []
    for _ in range(options.repeat):  # interleaved pairs: a slow spell hits both sides
        sweep = timed(lambda: run_sweep(graph, axis, fixed))
        array = timed(lambda: evaluate_graph(graph, per_point))
        sweeps.append(sweep)
        arrays.append(array)
        ratios.append(sweep / array)
    print(f"--sweep x=-5:5:{n:,} of {EXPRESSION} (w, b fixed), evaluation only, median of {options.repeat}:")
    print(f"  sweep, chunks of 65,536 points:     {statistics.median(sweeps) * 1e3:7.1f} ms "
          f"({n / statistics.median(sweeps) / 1e6:.1f}M points/s)")
    print(f"  array path, one call, same points:  {statistics.median(arrays) * 1e3:7.1f} ms")
    print(f"  ratio sweep / array path (paired):  {statistics.median(ratios):.2f}")
    gaps = parse("ln(x)")
    gap_axis = Axis("x", -5.0, 5.0, n)
    clean_axis = Axis("x", 0.5, 5.0, n)
    with_gaps = statistics.median(timed(lambda: run_sweep(gaps, gap_axis, {})) for _ in range(3))
    without = statistics.median(timed(lambda: run_sweep(gaps, clean_axis, {})) for _ in range(3))
    print(f"  ln(x) over -5:5 (half gaps): {with_gaps * 1e3:.0f} ms; over 0.5:5 (none): {without * 1e3:.0f} ms")
    if options.quick:
        return
    gradcalc = [sys.executable, "-m", "gradcalc"]  # this checkout's (run from its root), not an installed one
    command = gradcalc + [EXPRESSION, "--w", "0.5", "--b", "1", "--sweep", f"x=-5:5:{n}", "-o", "csv"]
    elapsed = statistics.median(
        timed(lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)) for _ in range(3))
    print(f"  the command, csv to /dev/null: {elapsed:.2f} s (median of 3), {n / elapsed:,.0f} points/s")
    large = gradcalc + [EXPRESSION, "--w", "0.5", "--b", "1", "--sweep", f"x=-5:5:{options.large}", "-o", "csv"]
    small_kib, large_kib = (int(subprocess.run([sys.executable, "-c", MEASURE_RSS, *argv], capture_output=True,
                                               text=True, check=True, cwd=ROOT).stdout) for argv in (command, large))
    print(f"  peak memory: {n:,} points {small_kib / 1024:.0f} MiB, {options.large:,} points "
          f"{large_kib / 1024:.0f} MiB (ratio {large_kib / small_kib:.2f}; flat = 1)")


if __name__ == "__main__":
    main()
