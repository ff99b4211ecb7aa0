"""Arrays: forward+backward of sum(sigmoid(w*x + b) * ln(1 + exp(x))) on 1e6-element vectors,
gradcalc against the same computation hand-written in numpy, interleaved in one run.

    python bench/arrays.py [--size 1000000] [--repeat 21]

Targets (issue 4): gradcalc / hand-written <= 1.15; gradcalc's backward <= 0.5x its forward.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gradcalc.evaluator import backward, bind, forward  # noqa: E402
from gradcalc.parser import parse  # noqa: E402

EXPRESSION = "sum(sigmoid(w*x + b) * ln(1 + exp(x)))"


def by_hand(w, x, b):
    """The same forward and backward, written directly in numpy."""
    t = w * x + b
    s = 1.0 / (1.0 + np.exp(-t))
    e = np.exp(x)
    softplus = np.log(1.0 + e)
    value = np.sum(s * softplus)
    gt = softplus * s * (1.0 - s)
    gx = gt * w + s / (1.0 + e) * e
    return value, {"w": np.sum(gt * x), "b": np.sum(gt), "x": gx}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=21)
    options = parser.parse_args()
    rng = np.random.default_rng(0)
    values = {"w": 0.7, "b": -0.3, "x": rng.normal(size=options.size)}
    graph = parse(EXPRESSION)
    inputs = bind(graph, values)

    expected_value, expected = by_hand(values["w"], values["x"], values["b"])
    node_values = forward(graph, inputs)
    grads = backward(graph, node_values)
    assert np.isclose(node_values[graph.output], expected_value, rtol=1e-12)
    for name, grad in expected.items():
        assert np.allclose(grads[graph.variables[name]], grad, rtol=1e-12), name

    times = {"hand-written numpy": [], "gradcalc forward": [], "gradcalc backward": [], "gradcalc total": []}
    for _ in range(options.repeat):
        start = time.perf_counter()
        by_hand(values["w"], values["x"], values["b"])
        times["hand-written numpy"].append(time.perf_counter() - start)
        start = time.perf_counter()
        node_values = forward(graph, inputs)
        middle = time.perf_counter()
        backward(graph, node_values)
        end = time.perf_counter()
        times["gradcalc forward"].append(middle - start)
        times["gradcalc backward"].append(end - middle)
        times["gradcalc total"].append(end - start)
    medians = {name: statistics.median(series) for name, series in times.items()}
    print(f"{EXPRESSION} on {options.size:,} elements, median of {options.repeat} interleaved runs")
    for name, value in medians.items():
        print(f"  {name:22s} {value * 1000:8.1f} ms")
    # each ratio pairs measurements taken back to back, so a slow spell of the machine cancels out
    total_ratio = statistics.median(ours / hand for ours, hand in zip(times["gradcalc total"],
                                                                      times["hand-written numpy"]))
    backward_ratio = statistics.median(b / f for b, f in zip(times["gradcalc backward"], times["gradcalc forward"]))
    print(f"  ratio gradcalc / hand-written: {total_ratio:.2f} (median of paired runs; target <= 1.15)")
    print(f"  ratio backward / forward:      {backward_ratio:.2f} (median of paired runs; target <= 0.5)")


if __name__ == "__main__":
    main()
