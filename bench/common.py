"""Helpers shared by the benchmark scripts: repeated timing, median reporting, an earlier revision's code."""

import io
import statistics
import subprocess
import tarfile
import time
from pathlib import Path


def median_time(function, repeat: int) -> float:
    """Median wall time of `repeat` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
        del result  # freeing what the call built is not part of its time
    return statistics.median(times)


def extract(root: Path, revision: str, into: Path) -> Path:
    """gradcalc/ and grammar/ of `revision` of the repository at `root`, written under `into`."""
    archive = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", revision, "gradcalc", "grammar"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into
