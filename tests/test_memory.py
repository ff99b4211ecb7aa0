"""gradcalc.memory: freed array memory is reused rather than faulted in again, unless the user set malloc."""

import json
import os
import subprocess
import sys

import pytest

ON_GLIBC = "CS_GNU_LIBC_VERSION" in os.confstr_names and (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")

# evaluations of 10,000 elements in a fresh process: page faults per call after the first, and the
# results' bits (hex) to compare between processes
CHILD = """
import json, resource
import numpy as np
import gradcalc
rng = np.random.default_rng(0)
w, x, b = rng.normal(size=10_000), rng.normal(size=10_000), rng.normal(size=10_000)
expression = "sum(sigmoid(w*x + b) * ln(1 + exp(x)))"
result = gradcalc.evaluate(expression, w=w, x=x, b=b)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(100):
    result = gradcalc.evaluate(expression, w=w, x=x, b=b)
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 100
print(json.dumps({"faults": faults, "value": result.value.hex(),
                  "gradients": {k: g.tobytes().hex() for k, g in result.gradients.items()}}))
"""


def _child(**settings) -> dict:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", CHILD], env={**environ, **settings}, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


@pytest.mark.skipif(not ON_GLIBC, reason="the thresholds and their page faults are glibc's")
def test_evaluations_reuse_freed_memory_unless_the_user_set_malloc():
    tuned = _child()
    # the user's own choice, every block its own mapping: glibc then never moves its thresholds, and
    # every evaluation's temporaries fault their pages in again (about 275 per call were measured)
    theirs = _child(MALLOC_MMAP_THRESHOLD_="0")
    assert tuned["faults"] < 5
    assert theirs["faults"] > 50
    assert tuned["value"] == theirs["value"] and tuned["gradients"] == theirs["gradients"]


# where glibc put a 1 MiB array: in the heap, or in a mapping of its own ("anonymous"), read from
# /proc/self/maps; first in a fresh process, then after gradcalc evaluated an array
WHERE = """
import sys
import numpy as np
import gradcalc

def where(array):
    address = array.__array_interface__["data"][0]
    for line in open("/proc/self/maps"):
        span, *rest = line.split()
        low, high = (int(end, 16) for end in span.split("-"))
        if low <= address < high:
            return rest[-1] if len(rest) >= 5 else "anonymous"

before = where(np.ones(131_072))
gradcalc.evaluate("sum(x * x)", x=np.ones(3))
print(before, where(np.ones(131_072)), where(np.ones(1_000_000)))
"""


@pytest.mark.skipif(not ON_GLIBC or not os.path.exists("/proc/self/maps"), reason="glibc's heap, seen in Linux's maps")
def test_after_the_first_array_glibc_serves_blocks_under_16_mib_from_its_heap():
    def run(**settings):
        environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
        return subprocess.run([sys.executable, "-c", WHERE], env={**environ, **settings}, capture_output=True,
                              text=True, check=True).stdout.split()

    assert run() == ["anonymous", "[heap]", "[heap]"]
    # the user's threshold holds: glibc no longer moves it, whatever is freed
    assert run(MALLOC_MMAP_THRESHOLD_="131072") == ["anonymous", "anonymous", "anonymous"]
    assert run(GLIBC_TUNABLES="glibc.malloc.mmap_threshold=131072") == ["anonymous", "anonymous", "anonymous"]


def test_scalars_leave_malloc_alone():
    out = subprocess.run([sys.executable, "-c", "import gradcalc, gradcalc.memory, sys; "
                          "gradcalc.evaluate('x*y', x=2.0, y=3.0); "
                          "print(gradcalc.memory._done, 'numpy' in sys.modules)"],
                         capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
