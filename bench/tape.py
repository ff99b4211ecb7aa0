"""Small arrays: what a tape costs and saves. For each size, the arrays bench's expression through
`gradcalc.evaluate_graph`, interleaved in one run: a call without a tape (a shape met for the first
time), the call that records the tape (a shape's second), and a replay (every later call).

    python bench/tape.py [--sizes 1e1,1e2,1e3,1e4,6e4] [--rounds 41]

Each round forgets the graph's tapes and makes the three calls in that order; figures are medians
over rounds, ratios medians of the rounds' own ratios. "Break-even" is how many later calls a
recording takes to pay for itself.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradcalc.evaluator import evaluate_graph  # noqa: E402
from gradcalc.parser import parse  # noqa: E402

EXPRESSION = "sum(sigmoid(w*x + b) * ln(1 + exp(x)))"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1e1,1e2,1e3,1e4,6e4")
    parser.add_argument("--rounds", type=int, default=41)
    options = parser.parse_args()
    graph = parse(EXPRESSION)
    rng = np.random.default_rng(0)
    print(f"{EXPRESSION}; medians of {options.rounds} rounds, µs")
    print(f"{'elements':>9} {'no tape':>9} {'recording':>10} {'replay':>8} {'replay/no tape':>15} {'break-even':>11}")
    for size in (int(float(size)) for size in options.sizes.split(",")):
        values = {name: rng.standard_normal(size) for name in "wxb"}
        evaluate_graph(graph, values)  # the blocks' program made once
        times = {"plain": [], "recording": [], "replay": []}
        for _ in range(options.rounds):
            graph.__dict__["blocked_program"][1].tapes.clear()
            for kind in times:
                start = time.perf_counter()
                evaluate_graph(graph, values)
                times[kind].append((time.perf_counter() - start) * 1e6)
        plain, recording, replay = (statistics.median(times[kind]) for kind in times)
        ratio = statistics.median(r / p for r, p in zip(times["replay"], times["plain"]))
        even = statistics.median((c - p) / max(p - r, 1e-9)
                                 for c, p, r in zip(times["recording"], times["plain"], times["replay"]))
        print(f"{size:>9,} {plain:>9.1f} {recording:>10.1f} {replay:>8.1f} {ratio:>14.2f}x {even:>10.1f}")


if __name__ == "__main__":
    main()
