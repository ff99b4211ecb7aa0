"""Helpers shared by the benchmark scripts: repeated timing, median reporting, an earlier revision's code."""

import io
import resource
import statistics
import subprocess
import sys
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


def command_of(root: Path) -> list:
    """The gradcalc command of the code under `root` (this checkout or an extracted revision)."""
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(root)!r}); "
            "from gradcalc.cli import main; sys.exit(main())"]


def timed_run(command: list, stdin=None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one run of `command`, output discarded.

    The CPU time is what the run costs when it has a core to itself: on a machine whose cores are
    shared with other work, the wall time also counts the time spent waiting for one."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stdin=stdin)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
