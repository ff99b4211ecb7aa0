"""Bounded fuzzing of the front door: arbitrary text, arbitrary argv and mutated valid
expressions. Every outcome is a result or a GradcalcError with exit code 1 or 2: no traceback,
no internal error, no warning printed, and no input takes long.

Long campaigns: tests/fuzz/atheris_cli.py (see README).
"""

import contextlib
import io
import warnings

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_cases
from gradcalc import GradcalcError, evaluate
from gradcalc.cli import main

BOUND = settings(deadline=5000)  # per input, in ms: a generous bound on this noisy machine
FORMATS = st.sampled_from(["table", "json", "jsonl", "csv", "tsv", "plain", "dot", "tree"])
SEEDS = [case["expr"] for case in load_cases()] + [
    "e = a - b; f = c*d; f/e", "a=1; b=-2; ln(a - b)", "-x**2", "2^3^2", "x**y",
    "sin(pi*x) + e", "log(x, 2) % y", "atan2(y, x) + hypot(x, y)", "clip(x, a, b)", "maximum(x, y)",
    "max(x, axis=0)", "leaky_relu(x, slope=0.2)", "gelu(x) * log_sigmoid(y)", "acosh(x) + atanh(y)",
    "v = [x, y, 2*z]; sum(v[1:] * v[:-1])", "[[a, b], [c, x]][0, ::-1]", "stack(x, y, axis=0)[1]"]
ALPHABET = st.sampled_from(list("abcxyz0123456789.eE+-*/^()=;, #_%") + [
    "**", "exp(", "ln(", "relu(", "\n", "\t", "pi", "axis=", "log(", "maximum(", "clip(", "atan2(",
    "[", "]", ":", "::", "[x, y]", "[0]", "[1:]"])
VALUES = st.dictionaries(st.sampled_from("abcdxyz"), st.floats(allow_nan=False, allow_infinity=False))


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    message = err.getvalue()
    assert code in (0, 1, 2), (argv, code, message)
    assert "Traceback" not in message and "internal error" not in message, (argv, message)
    assert "Warning" not in message, (argv, message)
    return code


def value_options(values):
    return [f"--{name}={value!r}" for name, value in values.items()]


@BOUND
@given(st.text(max_size=80), VALUES, FORMATS)
def test_arbitrary_text(text, values, output_format):
    run([*value_options(values), "-o", output_format, "-q", "--", text])


@BOUND
@given(st.lists(st.text(max_size=12), max_size=8))
def test_arbitrary_argv(argv):
    run(argv)


@st.composite
def mutated(draw):
    text = list(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        if action == "insert" or not text:
            text.insert(position, draw(ALPHABET))
        elif action == "delete":
            del text[min(position, len(text) - 1)]
        else:
            text[min(position, len(text) - 1)] = draw(ALPHABET)
    return "".join(text)


@BOUND
@given(mutated(), VALUES, FORMATS, st.booleans())
def test_mutated_expressions(text, values, output_format, check):
    run([*value_options(values), "-o", output_format, "-q", *(["--check"] if check else []), "--", text])


@BOUND
@given(st.one_of(mutated(), st.text(max_size=60)), VALUES)
def test_api_raises_only_gradcalc_errors(text, values):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            result = evaluate(text, **values)
        except GradcalcError as error:
            assert error.exit_code in (1, 2)
            assert error.describe()
        else:
            assert isinstance(result.value, float)


@BOUND
@given(st.binary(max_size=300), FORMATS)
def test_arbitrary_bytes_as_a_job_file(tmp_path_factory, data, output_format):
    path = tmp_path_factory.mktemp("fuzz") / "jobs.txt"
    path.write_bytes(data)
    run(["-f", str(path), "-o", output_format, "-q", "--x", "1"])
