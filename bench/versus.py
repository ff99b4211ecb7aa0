"""This checkout against an earlier revision, paired in one process: parse and scalar forward+backward,
and forward+backward of the arrays bench's expression at 1e6 elements (--arrays: other sizes; each
call of a small size is timed as a run of calls lasting ~2 ms).

    python bench/versus.py REV [--repeat 21] [--arrays 1e6] [--arrays-only] [--rtol 1e-12] [--saturated]

Extracts gradcalc and the grammar of REV (`git archive`) into a temporary directory, imports both
versions side by side, and times the sums of products of bench/large.py with each, alternating call
by call, so that a slow spell of the machine hits both alike. Reports each version's median and the
median of the paired ratios (above 1: this checkout is faster).
"""

import argparse
import importlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from common import extract  # noqa: E402
from large import expression  # noqa: E402


def load(root: Path):
    """gradcalc.parser and gradcalc.evaluator imported afresh from `root`, then taken out of sys.modules
    so that another copy can be imported next to them (their functions keep their own globals)."""
    forget_gradcalc()  # large.py imported this checkout's already
    sys.path.insert(0, str(root))
    try:
        parser, evaluator = importlib.import_module("gradcalc.parser"), importlib.import_module("gradcalc.evaluator")
        importlib.import_module("gradcalc.arrays")  # imported lazily by evaluator: keep this version's
        try:  # the same for the blocked array path, where the version has one
            importlib.import_module("gradcalc.blocked")
        except ImportError:
            pass
        evaluator.modules = {name: module for name, module in sys.modules.items()
                             if name == "gradcalc" or name.startswith("gradcalc.")}
    finally:
        sys.path.remove(str(root))
        forget_gradcalc()
    if not Path(parser.__file__).is_relative_to(root):
        sys.exit(f"gradcalc was imported from {parser.__file__}, not from {root}")
    return parser, evaluator


def within(version, function):
    """function() with `version`'s modules as sys.modules' gradcalc (what it imports lazily, and what
    pickle looks a class up in when an old revision's Lark cache saves its parser)."""
    sys.modules.update(version[1].modules)
    try:
        return function()
    finally:
        forget_gradcalc()


def forget_gradcalc():
    for name in [name for name in sys.modules if name == "gradcalc" or name.startswith("gradcalc.")]:
        del sys.modules[name]


def paired(first, second, repeat: int) -> tuple[list, list]:
    """Times of `first()` and `second()`, called alternately (which goes first alternates too)."""
    times = ([], [])
    for round_ in range(repeat):
        for which in ((0, 1) if round_ % 2 else (1, 0)):
            function = (first, second)[which]
            start = time.perf_counter()
            result = function()
            times[which].append(time.perf_counter() - start)
            del result
    return times


def main():
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("revision")
    arguments.add_argument("--repeat", type=int, default=21)
    arguments.add_argument("--arrays", default="1e6", help="array sizes, comma-separated")
    arguments.add_argument("--arrays-only", action="store_true", help="skip the scalar sums")
    arguments.add_argument("--rtol", type=float, default=1e-12,
                           help="how far the array gradients may differ (a revision that rounds differently: "
                                "sigmoid's before its exact gradient differs by up to 5e-11 at 1e6)")
    arguments.add_argument("--saturated", action="store_true",
                           help="one element of b at -800, where sigmoid's exp(-x) overflows (harmlessly)")
    options = arguments.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # revisions before issue 17 kept Lark's pickled cache in the shared temp dir: give them a
        # private one (mkdtemp's mode 0700), so that no file another user can plant is read back
        tempfile.tempdir = tempfile.mkdtemp(dir=tmp)
        versions = {"before": load(extract(ROOT, options.revision, Path(tmp))), "now": load(ROOT)}
        sizes = [int(float(size)) for size in options.arrays.split(",")]
        compare(versions, options.revision, options.repeat, sizes, not options.arrays_only, options.rtol,
                options.saturated)


def compare(versions: dict, revision: str, repeat: int, sizes: list, scalars: bool, rtol: float = 1e-12,
            saturated: bool = False):
    values = {f"x{i}": i / 1000 for i in range(1000)}
    median = statistics.median
    print(f"{revision} (before) vs this checkout (now); medians of {repeat} alternating pairs")
    print(f"{'terms':>8} {'step':>8} {'before ms':>10} {'now ms':>8} {'now/before speed':>17}")
    for terms in (1_000, 10_000, 100_000) if scalars else ():
        text = expression(terms)
        parsers = {name: within(versions[name], parser.Parser) for name, (parser, _) in versions.items()}
        graphs = {name: parsers[name].parse(text) for name in versions}
        inputs = {name: evaluator.bind(graphs[name], values) for name, (_, evaluator) in versions.items()}

        def evaluation(name):
            graph, evaluator = graphs[name], versions[name][1]
            return lambda: evaluator.backward(graph, evaluator.forward(graph, inputs[name]))

        before, now = evaluation("before")(), evaluation("now")()
        if before != now:
            sys.exit(f"the two versions disagree on the gradients of the {terms}-term sum")
        steps = {"parse": (lambda: parsers["before"].parse(text), lambda: parsers["now"].parse(text)),
                 "fwd+bwd": (evaluation("before"), evaluation("now"))}
        for step, (old, new) in steps.items():
            old_times, new_times = paired(old, new, repeat)
            ratio = median(o / n for o, n in zip(old_times, new_times))
            print(f"{terms:8d} {step:>8} {median(old_times) * 1e3:10.1f} {median(new_times) * 1e3:8.1f} {ratio:16.2f}x")
    for size in sizes:
        compare_arrays(versions, repeat, median, size, rtol, saturated)


def compare_arrays(versions: dict, repeat: int, median, size: int, rtol: float = 1e-12, saturated: bool = False):
    """The arrays bench's expression at `size` elements through each version's evaluate_graph."""
    import numpy as np

    rng = np.random.default_rng(0)
    values = {name: rng.normal(size=size) for name in ("x", "w", "b")}
    if saturated:
        values["b"][size // 2] = -800.0
    text = "sum(sigmoid(w*x + b) * ln(1 + exp(x)))"
    graphs = {name: within(versions[name], lambda parser=parser: parser.Parser().parse(text))
              for name, (parser, _) in versions.items()}
    calls = max(1, 2_000_000 // size)  # ~2 ms a sample: one call of 1e4 elements is near the timer's grain

    def evaluation(name):
        evaluator = versions[name][1]

        def run():
            sys.modules.update(evaluator.modules)  # lazy imports inside the version resolve to its own
            for _ in range(calls):
                result = evaluator.evaluate_graph(graphs[name], values)
            return result
        return run

    before, now = evaluation("before")(), evaluation("now")()
    for name in values:
        if not np.allclose(before.gradients[name], now.gradients[name], rtol=rtol, atol=0):
            worst = np.max(np.abs(before.gradients[name] - now.gradients[name]) / np.abs(now.gradients[name]))
            sys.exit(f"the two versions disagree on the gradient of {name} at {size:,} elements (relative "
                     f"{worst:.1e}; --rtol to allow it)")
    old_times, new_times = paired(evaluation("before"), evaluation("now"), repeat)
    ratio = median(o / n for o, n in zip(old_times, new_times))
    before, now = median(old_times) * 1e3 / calls, median(new_times) * 1e3 / calls
    print(f"{size:8.0e} {'arrays':>8} {before:10.3f} {now:8.3f} {ratio:16.2f}x")


if __name__ == "__main__":
    main()
