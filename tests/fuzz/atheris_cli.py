"""A long fuzzing campaign of the command line with atheris (coverage-guided; not run by pytest).

    python -m pip install atheris
    python tests/fuzz/atheris_cli.py -max_total_time=600 -rss_limit_mb=4096 -timeout=10

Each input becomes an argv (an expression, value options, a format) or a line file fed to
`gradcalc -f`. Any outcome other than exit code 0, 1 or 2 with no traceback, no internal error
and no warning text is a crash that atheris reports with the input that caused it.
"""

import contextlib
import io
import os
import sys
import tempfile
import warnings

import atheris

with atheris.instrument_imports():
    import gradcalc.arrays  # noqa: F401  (instrumented too: reached by array values)
    import gradcalc.data  # noqa: F401
    from gradcalc.cli import main

FORMATS = ["table", "json", "jsonl", "csv", "tsv", "plain"]
SEEDS = ["c*d/(a-b)", "-x**2", "2^3^2", "e = a - b; f = c*d; f/e", "a=1; b=-2; ln(a - b)",
         "sigmoid(x) * relu(y) / sqrt(abs(z))", "x**y", "exp(exp(x))", "(((x)))", "sin(x, y)",
         "sum(relu(x @ y + z))", "softmax(x) * y", "max(x, 0) + mean(y, 1)", "logsumexp(x * a)",
         "dot(x, transpose(y))", "sin(pi*x) + e", "log(x, 2) % y", "atan2(y, x) + hypot(x, y)",
         "clip(x, a, b)", "maximum(x, y)", "max(x, axis=0)", "leaky_relu(x, slope=0.2)",
         "gelu(x) * log_sigmoid(y)", "acosh(x) + atanh(y) + floor(z)",
         "v = [x, y, 2*z]; sum(v[1:] * v[:-1])", "[[a, b], [c, x]][0, ::-1]", "stack(x, y, axis=0)[1]"]
ARRAYS = ["1,2,3", "[[1,2],[3,4]]", "[[1,-2,3]]", "linspace(-1, 1, 4)", "[0]", "[[1],[2]]", "[1e308, 1e308]"]
LINES = tempfile.NamedTemporaryFile(suffix=".txt", delete=False).name


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning that would reach a user is a crash here
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    text = err.getvalue()
    if code not in (0, 1, 2) or "Traceback" in text or "internal error" in text or "Warning" in text:
        raise RuntimeError(f"argv={argv!r} code={code} stderr={text[:2000]!r}")


def test_one_input(data: bytes):
    fdp = atheris.FuzzedDataProvider(data)
    mode = fdp.ConsumeIntInRange(0, 3)
    output_format = FORMATS[fdp.ConsumeIntInRange(0, len(FORMATS) - 1)]
    if mode == 0:  # free text as the expression
        argv = [fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 200))]
    elif mode == 1:  # a mutated seed expression
        seed = list(SEEDS[fdp.ConsumeIntInRange(0, len(SEEDS) - 1)])
        for _ in range(fdp.ConsumeIntInRange(0, 4)):
            if seed:
                seed[fdp.ConsumeIntInRange(0, len(seed) - 1)] = fdp.ConsumeUnicodeNoSurrogates(1)
        argv = ["".join(seed)]
    elif mode == 2:  # arbitrary argv
        argv = [fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 20))
                for _ in range(fdp.ConsumeIntInRange(0, 8))]
    else:  # arbitrary bytes as a job file
        with open(LINES, "wb") as lines:
            lines.write(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 400)))
        argv = ["-f", LINES]
    for name in "abcdefxyz":
        if fdp.ConsumeBool():
            argv += [f"--{name}", repr(fdp.ConsumeRegularFloat())]
        elif fdp.ConsumeBool():
            argv += [f"--{name}", ARRAYS[fdp.ConsumeIntInRange(0, len(ARRAYS) - 1)]]
    run(argv + ["-o", output_format, "--quiet"])


if __name__ == "__main__":
    os.environ.pop("GRADCALC_DEBUG", None)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
