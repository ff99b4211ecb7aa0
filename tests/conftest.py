import json
import os
import sys
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


def plain_path(graph, values):
    """The plain array path (no blocks, no tape): (value, gradients by name), or the error it raises."""
    from gradcalc.arrays import backward_arrays, forward_arrays
    from gradcalc.errors import GradcalcError
    from gradcalc.evaluator import bind

    try:
        inputs = bind(graph, values)
        node_values = forward_arrays(graph, inputs)
        grads = backward_arrays(graph, node_values)
    except GradcalcError as error:
        return error
    return node_values[graph.output], {name: grads[index] for name, index in graph.variables.items()}


def through_api(graph, values):
    """What evaluate_graph gives (whichever fast path it takes): (value, gradients), or the error."""
    from gradcalc.errors import GradcalcError
    from gradcalc.evaluator import evaluate_graph

    try:
        result = evaluate_graph(graph, values)
    except GradcalcError as error:
        return error
    return result.value, result.gradients


def assert_same_answer(expected, got, text, rtol=1e-10):
    """The same error (type, message, caret), or values and gradients of the same shapes within rtol."""
    import numpy as np

    from gradcalc.errors import GradcalcError

    if isinstance(expected, GradcalcError):
        assert isinstance(got, GradcalcError), text
        assert (type(got), got.message, got.span) == (type(expected), expected.message, expected.span), text
        return
    assert not isinstance(got, GradcalcError), f"{text}: {got}"
    assert np.shape(got[0]) == np.shape(expected[0]), text
    np.testing.assert_allclose(got[0], expected[0], rtol=rtol, atol=1e-12, err_msg=text)
    for name, gradient in expected[1].items():
        assert np.shape(got[1][name]) == np.shape(gradient), (text, name)
        np.testing.assert_allclose(got[1][name], gradient, rtol=rtol, atol=1e-12, err_msg=f"{text}: {name}")


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


class _Terminal:
    """Standard input that says it is a terminal, so that gradcalc opens a session."""

    def isatty(self):
        return True


@pytest.fixture
def session(monkeypatch, capsys, tmp_path):
    """Run a session on scripted lines in-process: (exit code, stdout, stderr)."""
    from gradcalc import session_input
    from gradcalc.cli import main

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)

    def run(*lines, argv=()):
        pending = list(lines)

        def read():
            if not pending:
                raise EOFError
            return pending.pop(0)

        monkeypatch.setattr(session_input, "line_reader", lambda s: (read, "scripted"))
        monkeypatch.setattr(sys, "stdin", _Terminal())
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
