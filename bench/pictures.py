"""-o dot and --explain on a 10,000-node graph: the whole command, beside -o json of the same graph
(the output every run already pays for) in the same run, paired; and the in-process share of
to_dot and explain.

    python bench/pictures.py [--terms 1420] [--repeat 5]
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradcalc import evaluate  # noqa: E402
from gradcalc.explain import explain  # noqa: E402
from gradcalc.render_graph import to_dot  # noqa: E402


def expression(terms: int) -> str:
    """A sum of terms like sin(x3*w1 + 7) * exp(x7 - 7): shared variables and products, about eight
    new nodes per term."""
    return " + ".join(f"sin(x{i % 17}*w{i % 5} + {i}) * exp(x{i % 13} - {i})" for i in range(terms))


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terms", type=int, default=1_420)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    text = expression(options.terms)
    values = {**{f"x{i}": 0.1 * i for i in range(17)}, **{f"w{i}": 0.3 * i - 0.5 for i in range(5)}}
    result = evaluate(text, **values)
    nodes = len(result.graph.nodes)
    argv = [sys.executable, "-m", "gradcalc", text, *(f"--{k}={v}" for k, v in values.items())]
    runs = {"json": [], "dot": [], "json --explain": []}
    for _ in range(options.repeat):  # interleaved: a slow spell hits both formats
        for output_format, times in runs.items():
            times.append(timed(lambda: subprocess.run([*argv, "-o", *output_format.split()], check=True, cwd=ROOT,
                                                      stdout=subprocess.DEVNULL)))
    print(f"{nodes:,}-node graph ({options.terms:,} terms), the whole command, median of {options.repeat}:")
    print(f"  -o json            {statistics.median(runs['json']):6.3f} s")
    for name in ("dot", "json --explain"):
        ratio = statistics.median(t / j for t, j in zip(runs[name], runs["json"]))
        print(f"  -o {name:<15} {statistics.median(runs[name]):6.3f} s   ({ratio:.2f}× -o json, paired)")
    dot_time = statistics.median(timed(lambda: to_dot(result)) for _ in range(options.repeat))
    explain_time = statistics.median(timed(lambda: explain(result)) for _ in range(options.repeat))
    print(f"  in process: to_dot {dot_time * 1e3:.0f} ms, explain {explain_time * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
