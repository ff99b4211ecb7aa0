"""Batch throughput: a 100,000-line file of the shared cases (cycled, each line carrying its own
values), through one gradcalc process, against invoking gradcalc once per line; and peak memory
on 100k against 1M lines (it should be flat).

    python bench/batch.py [--repeat 3] [--quick]

Targets (issue 3): >= 5,000 lines/s, >= 300x faster than one process per line, flat memory.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import median_time  # noqa: E402

CASES = Path(__file__).resolve().parent.parent / "tests" / "cases" / "gradients.jsonl"
MEASURE_RSS = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
               "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def job_lines():
    cases = [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]
    return ["; ".join([f"{name}={value}" for name, value in case["vars"].items()] + [case["expr"]])
            for case in cases]


def write_jobs(path: Path, count: int, lines: list) -> None:
    with path.open("w") as out:
        for i in range(count):
            out.write(lines[i % len(lines)] + "\n")


def peak_rss_mib(command: list) -> float:
    out = subprocess.run([sys.executable, "-c", MEASURE_RSS, *command], capture_output=True,
                         text=True, check=True).stdout
    return int(out) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="skip the 1M-line memory run")
    options = parser.parse_args()
    script = shutil.which("gradcalc")
    gradcalc = [script] if script else [sys.executable, "-m", "gradcalc"]
    lines = job_lines()
    with tempfile.TemporaryDirectory() as folder:
        small = Path(folder) / "100k.txt"
        write_jobs(small, 100_000, lines)
        batch = gradcalc + ["-f", str(small), "-o", "jsonl"]
        batch_time = median_time(lambda: subprocess.run(batch, check=True, stdout=subprocess.DEVNULL),
                                 options.repeat)
        single_time = median_time(lambda: subprocess.run(gradcalc + [lines[0], "-o", "jsonl"], check=True,
                                                         stdout=subprocess.DEVNULL), 15)
        rate = 100_000 / batch_time
        print("batch throughput, 100,000 lines of the shared cases, -o jsonl")
        print(f"  one process:       {batch_time:7.2f} s  {rate:9.0f} lines/s  (median of {options.repeat})")
        print(f"  process per line:  {single_time * 1000:7.1f} ms per line (median of 15)")
        print(f"  ratio: one process is {single_time * rate:.0f}x faster than a process per line "
              f"(target >= 300x; >= 5,000 lines/s)")
        rss_small = peak_rss_mib(batch)
        print(f"  peak memory, 100k lines: {rss_small:6.1f} MiB")
        if not options.quick:
            large = Path(folder) / "1m.txt"
            write_jobs(large, 1_000_000, lines)
            rss_large = peak_rss_mib(gradcalc + ["-f", str(large), "-o", "jsonl"])
            print(f"  peak memory, 1M lines:   {rss_large:6.1f} MiB (ratio {rss_large / rss_small:.2f}; flat = 1)")


if __name__ == "__main__":
    main()
