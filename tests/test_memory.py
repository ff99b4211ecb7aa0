"""gradcalc.memory: freed array memory is reused rather than faulted in again, unless the user set malloc."""

import json
import os
import subprocess
import sys

import pytest

from gradcalc.memory import glibc, user_chose_malloc

ON_GLIBC_64 = glibc() and sys.maxsize > 2**32

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


@pytest.mark.skipif(not ON_GLIBC_64, reason="gradcalc sets malloc only on 64-bit glibc")
def test_evaluations_reuse_freed_memory_unless_the_user_set_malloc():
    tuned = _child()
    # the user's own choice, every block its own mapping: gradcalc leaves it, and every evaluation's
    # temporaries fault their pages in again (about 275 per call were measured)
    theirs = _child(MALLOC_MMAP_THRESHOLD_="0")
    assert tuned["faults"] < 5
    assert theirs["faults"] > 50
    assert tuned["value"] == theirs["value"] and tuned["gradients"] == theirs["gradients"]


@pytest.mark.parametrize("environ, chose", [
    ({}, False),
    ({"MALLOC_TRIM_THRESHOLD_": "131072"}, True),
    ({"MALLOC_MMAP_THRESHOLD_": "0"}, True),
    ({"MALLOC_TOP_PAD_": "0"}, True),
    ({"MALLOC_MMAP_MAX_": "0"}, True),
    ({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=131072"}, True),
    ({"GLIBC_TUNABLES": "glibc.pthread.rseq=0:glibc.malloc.mmap_threshold=4096"}, True),
    ({"GLIBC_TUNABLES": "glibc.malloc.tcache_count=0"}, False),  # not the settings gradcalc changes
    ({"MALLOC_ARENA_MAX": "2"}, False),
])
def test_the_users_own_malloc_settings_are_left_alone(environ, chose):
    assert user_chose_malloc(environ) is chose
