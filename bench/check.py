"""--check on a 1,000-term, 20-variable expression: the whole command, and the check alone beside the
fixed-step check it replaced.

    python bench/check.py [--repeat 11] [--before REV] [--piecewise]

1. `gradcalc EXPR --check` as a new process (start-up, parse, evaluate, check, print) against the
   same command without --check, alternating run by run. Target (issue 11): under 1 s.
2. In one process, gradient_check() of this checkout against REV's (default c163969, the last
   revision with the single fixed step h = eps**(1/3)·max(1, |x|)), alternating call by call;
   the paired ratio says how much the adaptive differences cost over the old three evaluations.

Each figure is given as wall time and as CPU time (user + system, of the child process for the
command): on a machine shared with other work, wall time measures the queue as much as gradcalc.

The expression mixes every scalar function gradcalc has (sin, cos, exp, ln, sqrt, tanh, sigmoid,
division, powers), each term over two of the 20 variables, at points inside every domain. With
--piecewise its terms are floor, ceil, round and mod instead (the pieces the steps must stay on),
at points where none is within the kink radius of a jump.
"""

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from common import extract  # noqa: E402
from versus import forget_gradcalc  # noqa: E402

TERMS, VARIABLES = 1000, 20
SHAPES = ("sin({a}*{b})", "exp({a}-{b})", "ln({a}*{a}+{k})", "sqrt({b}*{b}+{k})", "tanh({a}+{b})",
          "sigmoid({a}*{b})", "cos({a})*{b}", "{a}/({b}*{b}+{k})", "({a}+{k})**-2")


PIECEWISE = ("floor(3.7*{a})*{b}", "mod({a}, 0.07)*{b}", "round(9*{a})*sin({b})", "ceil({a}*{b}*5)*{a}")


def expression(shapes=SHAPES) -> str:
    terms = []
    for i in range(TERMS):
        a, b = f"x{i % VARIABLES}", f"x{(7 * i + 3) % VARIABLES}"
        terms.append(f"{i % 5 + 1}*" + shapes[i % len(shapes)].format(a=a, b=b, k=1 + i % 3))
    return " + ".join(terms)


VALUES = {f"x{i}": round(0.1 + i / 40, 3) for i in range(VARIABLES)}


def load_check(root: Path):
    """gradcalc.evaluator, gradcalc.parser and gradcalc.check imported from `root`, then unregistered
    so that another copy can be imported next to them (their functions keep their own globals)."""
    import importlib

    forget_gradcalc()
    sys.path.insert(0, str(root))
    try:
        modules = [importlib.import_module(f"gradcalc.{name}") for name in ("evaluator", "parser", "check")]
        # built while its own modules are registered: an old revision's Lark cache pickles the lexer
        # by module path (and main() gives it a private temp dir to keep that cache in)
        modules[1]._parser()
    finally:
        sys.path.remove(str(root))
        forget_gradcalc()
    if not Path(modules[2].__file__).is_relative_to(root):
        sys.exit(f"gradcalc was imported from {modules[2].__file__}, not from {root}")
    return modules


def paired(first, second, repeat: int, clock) -> tuple[list, list]:
    """(wall, cpu) of `first()` and `second()` called alternately; `clock()` reads CPU seconds."""
    times = ([], [])
    for round_ in range(repeat):
        for which in ((0, 1) if round_ % 2 else (1, 0)):
            wall, cpu = time.perf_counter(), clock()
            (first, second)[which]()
            times[which].append((time.perf_counter() - wall, clock() - cpu))
    return times


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def command_times(text: str, repeat: int) -> tuple[list, list]:
    arguments = [sys.executable, "-m", "gradcalc", text, "-o", "json", "--no-nodes"]
    for name, value in VALUES.items():
        arguments += [f"--{name}", str(value)]

    def run(extra):
        def call():
            done = subprocess.run(arguments + extra, cwd=ROOT, capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"gradcalc failed ({done.returncode}): {done.stderr[-500:]}")
            return done.stdout

        return call

    out = run(["--check"])()
    if '"verdict": "mismatch"' in out:
        sys.exit("the check reports a mismatch on the benchmark expression")
    return paired(run([]), run(["--check"]), repeat, children_cpu)


def main():
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--repeat", type=int, default=11)
    arguments.add_argument("--before", default="c163969")
    arguments.add_argument("--piecewise", action="store_true", help="terms of floor, ceil, round and mod")
    options = arguments.parse_args()
    text = expression(PIECEWISE if options.piecewise else SHAPES)
    median = statistics.median

    plain, checked = command_times(text, options.repeat)
    print(f"{TERMS}-term, {VARIABLES}-variable expression ({len(text):,} characters); medians of "
          f"{options.repeat} alternating runs, wall / CPU ms")
    print(f"  gradcalc EXPR           {figures(plain)}   (a new process each run)")
    print(f"  gradcalc EXPR --check   {figures(checked)}   target < 1000 ms")
    print(f"  --check adds            {figures([(c[0] - p[0], c[1] - p[1]) for p, c in zip(plain, checked)])}"
          "   (paired differences)")

    with tempfile.TemporaryDirectory() as tmp:
        tempfile.tempdir = tempfile.mkdtemp(dir=tmp)  # never the shared temp dir (issue 17)
        versions = {"before": load_check(extract(ROOT, options.before, Path(tmp))), "now": load_check(ROOT)}
        results = {}
        for name, (evaluator, parser, _) in versions.items():
            results[name] = evaluator.evaluate_graph(parser._parser().parse(text), VALUES)
        calls = {name: (lambda name=name: versions[name][2].gradient_check(results[name])) for name in versions}
        reports = {name: call() for name, call in calls.items()}
        before, now = paired(calls["before"], calls["now"], options.repeat, time.process_time)
        start = time.perf_counter()
        evaluate_again = versions["now"][0].evaluate_graph(versions["now"][1]._parser().parse(text), VALUES)
        evaluation = time.perf_counter() - start
    verdicts = {name: sorted({row.verdict for row in report.rows}) for name, report in reports.items()}
    print(f"gradient_check() alone, in one process ({options.repeat} alternating pairs):")
    label = f"{options.before} fixed step" if options.before == "c163969" else f"{options.before:<18}"
    print(f"  {label}  {figures(before)}   verdicts {verdicts['before']}")
    print(f"  this checkout      {figures(now)}   verdicts {verdicts['now']}")
    print(f"  now / before       {median(n[1] / b[1] for b, n in zip(before, now)):8.2f}x CPU (paired median)")
    print(f"  (parse + evaluate once: {evaluation * 1e3:.1f} ms; value {evaluate_again.value:.6g})")


def figures(times) -> str:
    return f"{statistics.median(t[0] for t in times) * 1e3:7.0f} / {statistics.median(t[1] for t in times) * 1e3:4.0f}"


if __name__ == "__main__":
    main()
