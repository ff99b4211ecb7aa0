"""Batch throughput: 100,000-line files through one gradcalc process, three kinds of line, and
peak memory on 100k against 1M lines (it should be flat).

    python bench/batch.py [--repeat 3] [--quick] [--against REV] [--format jsonl]

- shared cases: the shared cases cycled, each line with the values of its case (issue 3);
- own values: 8 expressions, every line binding values of its own (`a=1.039; b=0.5375; a*b + ln(a)`),
  so no two lines are the same text (issue 16: >= 60,000 lines/s);
- new structures: every line a different expression (a constant that changes), so every line is
  parsed (issue 16: >= 1.5x the code before).

Each figure is a median of `--repeat` runs, as wall time and as the process's CPU time (what it
costs with a core to itself; on a shared machine the wall time adds the wait for one). With
`--against REV`, REV's gradcalc runs the same files, alternating with this checkout, and the paired
ratios of CPU times are printed. `--format table` runs the default output instead (its summary
printed when the input ends); memory is measured with JSON Lines.
"""

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import command_of, extract, median_time, timed_run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases" / "gradients.jsonl"
LINES = 100_000
MEASURE_RSS = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
               "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def cases() -> list:
    return [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]


def job_lines():
    return ["; ".join([f"{name}={value}" for name, value in case["vars"].items()] + [case["expr"]])
            for case in cases()]


def own_value_lines(count: int) -> list:
    """8 expressions of the shared cases, each line binding its values moved by up to 1%."""
    chosen, rng = cases()[:8], random.Random(0)
    return ["; ".join([f"{name}={float(value) * (1 + 0.01 * rng.uniform(-1, 1)):.4g}"
                       for name, value in case["vars"].items()] + [case["expr"]])
            for case in (chosen[i % 8] for i in range(count))]


def new_structure_lines(count: int) -> list:
    """The shared cases with a constant that differs on every line: no two lines share a graph."""
    lines = job_lines()
    return [f"{lines[i % len(lines)]} + {i}" for i in range(count)]


def write_jobs(path: Path, count: int, lines: list) -> None:
    with path.open("w") as out:
        for i in range(count):
            out.write(lines[i % len(lines)] + "\n")


def peak_rss_mib(command: list) -> float:
    out = subprocess.run([sys.executable, "-c", MEASURE_RSS, *command], capture_output=True,
                         text=True, check=True).stdout
    return int(out) / 1024


def measure(commands: dict, path: Path, repeat: int, output: str = "jsonl") -> dict:
    """{version: [(wall, cpu), ...]}, the versions alternating run by run."""
    runs = {name: [] for name in commands}
    for round_ in range(repeat):
        order = list(commands) if round_ % 2 == 0 else list(reversed(commands))
        for name in order:
            runs[name].append(timed_run(commands[name] + ["-f", str(path), "-o", output]))
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="skip the 1M-line memory run")
    parser.add_argument("--against", metavar="REV", help="also run REV's gradcalc, paired")
    parser.add_argument("--format", default="jsonl", choices=["jsonl", "table"], help="the output format timed")
    options = parser.parse_args()
    median = statistics.median
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        commands = {"now": command_of(ROOT)}
        if options.against:
            commands[options.against] = command_of(extract(ROOT, options.against, folder / "before"))
        files = {"shared cases": job_lines(), "own values": own_value_lines(LINES),
                 "new structures": new_structure_lines(LINES)}
        print(f"batch throughput, {LINES:,} lines, -o {options.format}; medians of {options.repeat} runs "
              f"(wall time, and CPU time of the process)")
        for kind, lines in files.items():
            path = folder / f"{kind.replace(' ', '_')}.txt"
            write_jobs(path, LINES, lines)
            runs = measure(commands, path, options.repeat, options.format)
            for name, series in runs.items():
                wall, cpu = median(w for w, _ in series), median(c for _, c in series)
                print(f"  {kind:15s} {name:>8}: {LINES / wall:9,.0f} lines/s wall ({wall:5.2f} s), "
                      f"{LINES / cpu:9,.0f} lines/s CPU ({cpu:5.2f} s)")
            if options.against:
                ratio = median(b[1] / n[1] for b, n in zip(runs[options.against], runs["now"]))
                print(f"  {kind:15s} now is {ratio:.2f}x as fast as {options.against} (CPU time, paired)")
        command = commands["now"]
        single_time = median_time(lambda: subprocess.run(command + [job_lines()[0], "-o", "jsonl"], check=True,
                                                         stdout=subprocess.DEVNULL), 15)
        print(f"  process per line: {single_time * 1000:7.1f} ms per line (median of 15)")
        small = folder / "shared_cases.txt"
        batch = command + ["-f", str(small), "-o", "jsonl"]
        rss_small = peak_rss_mib(batch)
        own = peak_rss_mib(command + ["-f", str(folder / "own_values.txt"), "-o", "jsonl"])
        print(f"  peak memory, 100k lines of own values: {own:6.1f} MiB")
        print(f"  peak memory, 100k lines: {rss_small:6.1f} MiB")
        if not options.quick:
            large = folder / "1m.txt"
            write_jobs(large, 1_000_000, own_value_lines(1_000_000))
            rss_large = peak_rss_mib(command + ["-f", str(large), "-o", "jsonl"])
            print(f"  peak memory, 1M lines of own values: {rss_large:6.1f} MiB "
                  f"(ratio to 100k shared cases {rss_large / rss_small:.2f}; flat = 1)")


if __name__ == "__main__":
    main()
