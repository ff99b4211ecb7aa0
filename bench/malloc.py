"""Page faults: array evaluations with glibc's starting malloc thresholds, and as gradcalc.memory leaves them.

    python bench/malloc.py [--sizes 1e4,1e5,1e6,1e7] [--rounds 7]

Each measurement is a fresh process (malloc's state belongs to the process, and glibc changes it
as the process frees mapped blocks), which evaluates bench/arrays.py's expression through
`gradcalc.evaluate` at one size, and then times hand-written numpy of the same in the same process.
Three states of malloc:
- "glibc's start, held": the 128 KiB thresholds of a process that has freed no mapped block yet,
  held there by MALLOC_TRIM_THRESHOLD_ and MALLOC_MMAP_THRESHOLD_ (glibc does not move thresholds
  a user has set, so gradcalc.memory changes nothing);
- "glibc left alone": gradcalc.memory switched off; glibc moves its thresholds as this process
  happens to free blocks, so the figure depends on what the script did before (imports included);
- "gradcalc.memory": what gradcalc does (frees one 16 MiB block first).
The states alternate round by round; figures are medians, with page faults (ru_minflt) per call;
the ratio is the median of the rounds' paired ratios of gradcalc's time.
"""

import argparse
import json
import os
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
    gradcalc.memory._done = True  # as if gradcalc.memory did not exist (a bench may reach into it)
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

HELD = {"MALLOC_TRIM_THRESHOLD_": "131072", "MALLOC_MMAP_THRESHOLD_": "131072"}
STATES = {"glibc's start, held": (False, HELD), "glibc left alone": (True, {}), "gradcalc.memory": (False, {})}


def child(size: int, state: str) -> dict:
    untouched, settings = STATES[state]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    code = CHILD.format(root=str(ROOT), bench=str(ROOT / "bench"), size=size, untouched=untouched)
    return json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                                     env={**environ, **settings}).stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e4,1e5,1e6,1e7")
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    median = statistics.median
    print(f"{'size':>10}  {'malloc':20} {'gradcalc ms':>12} {'faults':>7} {'numpy ms':>9} {'faults':>7}"
          "   gradcalc: this state / gradcalc.memory")
    for size in (int(float(s)) for s in options.sizes.split(",")):
        runs = {state: [] for state in STATES}
        for round_ in range(options.rounds):
            order = list(STATES)[round_ % len(STATES):] + list(STATES)[: round_ % len(STATES)]
            for state in order:
                runs[state].append(child(size, state))
        ours = runs["gradcalc.memory"]
        for state, series in runs.items():
            ratio = median(a["gradcalc"][0] / b["gradcalc"][0] for a, b in zip(series, ours))
            print(f"{size:>10,}  {state:20} {median(r['gradcalc'][0] for r in series) * 1e3:12.3f}"
                  f" {median(r['gradcalc'][1] for r in series):7.0f} {median(r['numpy'][0] for r in series) * 1e3:9.3f}"
                  f" {median(r['numpy'][1] for r in series):7.0f}   {ratio:.2f}x")


if __name__ == "__main__":
    main()
