"""Helpers shared by the benchmark scripts: repeated timing and median reporting."""

import statistics
import time


def median_time(function, repeat: int) -> float:
    """Median wall time of `repeat` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
