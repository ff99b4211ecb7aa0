"""Page faults: array evaluations with glibc's starting malloc settings against gradcalc.memory's.

    python bench/malloc.py [--sizes 1e4,1e5,1e6,1e7] [--rounds 7]

Each measurement is a fresh process (malloc's state belongs to the process, and glibc changes it
as the process frees large blocks), which evaluates bench/arrays.py's expression through
`gradcalc.evaluate` at one size, and times hand-written numpy of the same in the same process:
"glibc's settings" stops gradcalc from setting malloc (as before gradcalc.memory existed, and as
with MALLOC_TRIM_THRESHOLD_ set), "gradcalc.memory" is what gradcalc does. The two alternate round
by round; figures are medians, ratios medians of the rounds' paired ratios, with page faults
(ru_minflt) per call beside them.
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
import numpy as np
import gradcalc, gradcalc.memory
from arrays import EXPRESSION, by_hand
if {untouched}:
    gradcalc.memory._done = True  # as if gradcalc never set malloc
size = {size}
rng = np.random.default_rng(0)
w, x, b = rng.normal(size=size), rng.normal(size=size), rng.normal(size=size)
calls = max(20, 3_000_000 // size)
out = {{}}
for name, run in (("gradcalc", lambda: gradcalc.evaluate(EXPRESSION, w=w, x=x, b=b)),
                  ("numpy", lambda: by_hand(w, x, b))):
    run()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
        del result
    out[name] = (sorted(times)[len(times) // 2], (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / calls)
print(json.dumps(out))
"""

STATES = {"glibc's settings": True, "gradcalc.memory": False}


def child(size: int, untouched: bool) -> dict:
    code = CHILD.format(root=str(ROOT), bench=str(ROOT / "bench"), size=size, untouched=untouched)
    return json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                     text=True).stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e4,1e5,1e6,1e7")
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    median = statistics.median
    print(f"{'size':>10}  {'malloc':18} {'gradcalc ms':>12} {'faults':>7} {'numpy ms':>9} {'faults':>7}"
          "   gradcalc: glibc's / gradcalc.memory's")
    for size in (int(float(s)) for s in options.sizes.split(",")):
        runs = {state: [] for state in STATES}
        for round_ in range(options.rounds):
            order = list(STATES) if round_ % 2 == 0 else list(STATES)[::-1]
            for state in order:
                runs[state].append(child(size, STATES[state]))
        ratio = median(a["gradcalc"][0] / b["gradcalc"][0] for a, b in zip(*runs.values()))
        for state, series in runs.items():
            ours = median(r["gradcalc"][0] for r in series) * 1e3
            theirs = median(r["numpy"][0] for r in series) * 1e3
            line = (f"{size:>10,}  {state:18} {ours:12.3f} {median(r['gradcalc'][1] for r in series):7.0f}"
                    f" {theirs:9.3f} {median(r['numpy'][1] for r in series):7.0f}")
            print(line + (f"   {ratio:.2f}x" if state == "gradcalc.memory" else ""))


if __name__ == "__main__":
    main()
