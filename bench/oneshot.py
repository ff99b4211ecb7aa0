"""Scalars, one shot: a 10,000-term sum of products over 20 variables, end to end (parse a text
never seen before, evaluate, differentiate), beside torch eager and micrograd building the same
expression in Python, interleaved in one run.

    python bench/oneshot.py [--terms 10000] [--repeat 11] [--against REV]

Target (issue 16): gradcalc <= 0.7x the faster of torch eager and micrograd. torch and micrograd
are optional: their rows are skipped when they are not installed. With --against REV, REV's
gradcalc runs the same text, alternating (bench/versus.py's way of importing two versions).
Ratios are medians of ratios of runs taken back to back (the order rotates each round).
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from common import extract  # noqa: E402
from versus import load  # noqa: E402


def terms_of(count: int) -> list:
    """(coefficient, first variable, second variable) of each term."""
    return [(i % 13 + 1, i % 20, (i // 20 + i) % 20) for i in range(count)]


def text_of(terms, salt: int) -> str:
    # a different constant each round keeps every parse a real one (no cache can answer it)
    return " + ".join(f"{c}*x{a}*x{b}" for c, a, b in terms) + f" + {salt}"


VALUES = {f"x{i}": 0.5 + i / 40 for i in range(20)}


def by_gradcalc(modules):
    parser, evaluator = modules

    def run(terms, salt):
        graph = parser.parse(text_of(terms, salt))  # the text is new each round: a real parse
        result = evaluator.evaluate_graph(graph, VALUES)
        return result.value, result.gradients
    return run


def by_micrograd(terms, salt):
    from micrograd.engine import Value

    xs = [Value(VALUES[f"x{i}"]) for i in range(20)]
    total = Value(float(salt))
    for c, a, b in terms:
        total = total + c * xs[a] * xs[b]
    total.backward()
    return total.data, {f"x{i}": x.grad for i, x in enumerate(xs)}


def by_torch(terms, salt):
    import torch

    xs = [torch.tensor(VALUES[f"x{i}"], dtype=torch.float64, requires_grad=True) for i in range(20)]
    total = torch.tensor(float(salt), dtype=torch.float64)
    for c, a, b in terms:
        total = total + c * xs[a] * xs[b]
    total.backward()
    return total.item(), {f"x{i}": x.grad.item() for i, x in enumerate(xs)}


def main():
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--terms", type=int, default=10_000)
    arguments.add_argument("--repeat", type=int, default=11)
    arguments.add_argument("--against", metavar="REV")
    options = arguments.parse_args()
    terms = terms_of(options.terms)
    sys.setrecursionlimit(100_000)  # micrograd's topological sort recurses once per node
    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        if options.against:
            runs[f"gradcalc {options.against}"] = by_gradcalc(load(extract(ROOT, options.against, Path(tmp))))
        runs["gradcalc"] = by_gradcalc(load(ROOT))
        for name, run, module in (("micrograd", by_micrograd, "micrograd"), ("torch eager", by_torch, "torch")):
            try:
                __import__(module)
                runs[name] = run
            except ImportError:
                print(f"  ({module} not installed: its row is skipped)")
        expected = runs["gradcalc"](terms, 0)
        for name, run in runs.items():
            value, gradients = run(terms, 0)
            assert abs(value - expected[0]) <= 1e-9 * abs(expected[0]), name
            assert all(abs(gradients[k] - expected[1][k]) <= 1e-9 * abs(expected[1][k]) for k in gradients), name
        times = {name: [] for name in runs}
        names = list(runs)
        for round_ in range(options.repeat):
            for name in names[round_ % len(names):] + names[: round_ % len(names)]:
                start = time.perf_counter()
                result = runs[name](terms, round_ + 1)
                times[name].append(time.perf_counter() - start)
                del result
    median = statistics.median
    ours = times["gradcalc"]
    print(f"{options.terms:,}-term sum of products over 20 variables, parse + evaluate + gradients, "
          f"median of {options.repeat} rounds")
    for name, series in times.items():
        line = f"  {name:16s} {median(series) * 1e3:8.1f} ms"
        if name != "gradcalc":
            line += f"   gradcalc / this: {median(o / t for o, t in zip(ours, series)):.2f}x"
        print(line)


if __name__ == "__main__":
    main()
