"""Helpers shared by the benchmark scripts: repeated timing and median reporting."""

import statistics
import time


def median_time(function, repeat: int) -> float:
    """Median wall time of `repeat` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
        del result  # freeing what the call built is not part of its time
    return statistics.median(times)
