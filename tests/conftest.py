import json
import os
from pathlib import Path

import pytest

CASES = Path(__file__).parent / "cases" / "gradients.jsonl"


def load_cases():
    with CASES.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def central_difference(f, x: float, h: float | None = None) -> float:
    """(f(x+h) - f(x-h)) / 2h with a step scaled to x."""
    h = h or 1e-6 * max(1.0, abs(x))
    return (f(x + h) - f(x - h)) / (2 * h)


def read_terminal(leader: int) -> bytes:
    """Everything written to a pseudo-terminal until its other end closes."""
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the writer has gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return b"".join(chunks)


@pytest.fixture
def run_cli(capsys):
    """Run gradcalc's main() in-process: (exit code, stdout, stderr)."""
    from gradcalc.cli import main

    def run(*argv):
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


# Hypothesis: bounded in CI; `pytest --hypothesis-profile=long` for a deeper run.
from hypothesis import HealthCheck, settings  # noqa: E402

# the default (CI) profile is derandomized: the same examples every run, no stale database replays
settings.register_profile("default", max_examples=120, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.register_profile("long", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.load_profile("default")
