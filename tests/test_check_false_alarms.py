"""--check never cries wolf: no `mismatch` where reverse mode is right — at points from 1e-12 to 1e12,
at the shared cases, and at random points of the differential-test generator — and where it says
`ok`, its finite-difference estimate is as close to the exact derivative (mpmath, 40 digits) as `ok`
promises: within RESOLUTION / SAFETY (3e-6) of its size."""

import math

import mpmath
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_differential import NAMES, POINTS, programs

from conftest import load_cases
from gradcalc import evaluate
from gradcalc.check import RESOLUTION, SAFETY, gradient_check
from gradcalc.errors import EvaluationError

mpmath.mp.dps = 40
m = mpmath

# expression, its derivative written out by hand (evaluated in 40 digits), where it is defined
FUNCTIONS = [
    ("ln(x)", lambda x: 1 / x, "positive"),
    ("sqrt(x)", lambda x: 1 / (2 * m.sqrt(x)), "positive"),
    ("1/x", lambda x: -1 / x ** 2, "nonzero"),
    ("x**-1", lambda x: -1 / x ** 2, "nonzero"),
    ("x**-2", lambda x: -2 / x ** 3, "nonzero"),
    ("x**-3", lambda x: -3 / x ** 4, "nonzero"),
    ("x**-0.5", lambda x: -m.mpf(1) / 2 * x ** m.mpf(-1.5), "positive"),
    ("exp(x)", lambda x: m.exp(x), "any"),
    ("sigmoid(x)", lambda x: m.exp(-x) / (1 + m.exp(-x)) ** 2, "any"),
    ("tanh(x)", lambda x: 1 / m.cosh(x) ** 2, "any"),
    ("ln(x)*sqrt(x)", lambda x: 1 / m.sqrt(x) + m.log(x) / (2 * m.sqrt(x)), "positive"),
    ("exp(x)*x**-2", lambda x: m.exp(x) / x ** 2 - 2 * m.exp(x) / x ** 3, "nonzero"),
    ("sigmoid(x)*tanh(x)", lambda x: m.exp(-x) / (1 + m.exp(-x)) ** 2 * m.tanh(x)
     + 1 / (1 + m.exp(-x)) / m.cosh(x) ** 2, "any"),
    ("ln(x)/x", lambda x: (1 - m.log(x)) / x ** 2, "positive"),
    ("sqrt(x)*exp(-x)", lambda x: m.exp(-x) / (2 * m.sqrt(x)) - m.sqrt(x) * m.exp(-x), "positive"),
    ("tanh(x)*ln(x)", lambda x: m.log(x) / m.cosh(x) ** 2 + m.tanh(x) / x, "positive"),
    ("x**-2*ln(x)", lambda x: (1 - 2 * m.log(x)) / x ** 3, "positive"),
    ("sigmoid(x)/x", lambda x: m.exp(-x) / (1 + m.exp(-x)) ** 2 / x - 1 / (1 + m.exp(-x)) / x ** 2, "nonzero"),
]
MAGNITUDES = [10.0 ** (e / 4) for e in range(-48, 49)]  # 1e-12 ... 1e12, four per decade


def points(domain):
    signs = (1,) if domain == "positive" else (1, -1)
    return [sign * magnitude for magnitude in MAGNITUDES for sign in signs]


@pytest.mark.parametrize("expr,derivative,domain", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_no_mismatch_from_1e_minus_12_to_1e12(expr, derivative, domain):
    verdicts = []
    for x in points(domain):
        try:
            result = evaluate(expr, x=x)
        except EvaluationError:
            continue  # outside the domain or past float range (exp at 1e12): not a check question
        (row,) = gradient_check(result).rows
        assert row.verdict in ("ok", "unreliable"), (x, row)
        if row.verdict == "unreliable" and row.numeric == 0.0 != row.analytic:
            continue  # flat in floating point (tanh(32) is 1.0) where the derivative (1e-27) is not: untellable
        verdicts.append(row.verdict)
        if row.verdict == "ok":
            exact = float(derivative(m.mpf(x)))
            if row.numeric == row.analytic == 0.0:  # flat in floating point: sigmoid at 56 is 1.0
                assert abs(exact) <= 2 ** -52 * abs(result.value) / abs(x), (x, row)
                continue
            assert row.numeric == pytest.approx(exact, rel=RESOLUTION / SAFETY, abs=1e-300), (x, row)
    assert verdicts.count("ok") >= 0.95 * len(verdicts)  # `unreliable` is the exception


# the README's table beside torch and jax; the first seven rows are the false alarms
@pytest.mark.parametrize("expr,x,exact,verdict", [
    ("ln(x)", 1e-3, 1e3, "ok"),
    ("ln(x)", 1e-5, 1e5, "ok"),
    ("1/x", 1e-4, -1e8, "ok"),
    ("1/x", 1e-6, -1e12, "ok"),
    ("1/x", 1e-7, -1e14, "ok"),
    ("sqrt(x)", 1e-4, 50.0, "ok"),
    ("x**-2", 1e-3, -2e9, "ok"),
    ("ln(x)", 1e-12, 1e12, "ok"),
    ("ln(x - 5)", 5.000001, 1 / (5.000001 - 5), "ok"),
    ("exp(x)", 700.0, math.exp(700.0), "ok"),
    ("tanh(x)", 10.0, 1 / math.cosh(10.0) ** 2, "ok"),
    ("sin(x)", 1e12, math.cos(1e12), "ok"),
    ("sin(x)*exp(x)", 1.3, (math.sin(1.3) + math.cos(1.3)) * math.exp(1.3), "ok"),
    ("relu(x)", 0.0, None, "kink"),
    ("sin(x)", 1e20, None, "unreliable"),
])
def test_the_readme_table(expr, x, exact, verdict, run_cli):
    (row,) = gradient_check(evaluate(expr, x=x)).rows
    assert row.verdict == verdict, row
    if exact is not None:
        assert row.numeric == pytest.approx(exact, rel=1e-9)
    code, out, err = run_cli(expr, "--x", repr(x), "--check", "-o", "plain")
    assert (code, err) == (0, "") and out.rsplit("check=", 1)[1].strip() in (verdict, f"{verdict}:x")


def test_sin_at_1e20_says_why():
    (row,) = gradient_check(evaluate("sin(x)", x=1e20)).rows
    assert row.numeric is None and "sin(x)" in row.note and "x = 1e+20" in row.note
    assert "1.64e+04" in row.note  # one unit in the last place of 1e20: x ± h takes no finer step


def test_every_shared_case_checks_out_to_its_recorded_gradient():
    for case in load_cases():
        result = evaluate(case["expr"], **{k: float(v) for k, v in case["vars"].items()})
        for row in gradient_check(result).rows:
            assert row.verdict == "ok", (case["expr"], row)
            assert row.numeric == pytest.approx(case["grad"][row.name], rel=1e-7, abs=1e-9), (case["expr"], row)


def no_mismatch(text, point):
    try:
        result = evaluate(text, **point)
    except EvaluationError:
        return
    for row in gradient_check(result).rows:
        assert row.verdict != "mismatch", (text, point, row)


@given(programs(), POINTS)
def test_no_mismatch_at_random_points_of_random_expressions(program, point):
    no_mismatch(program[0], point)


WIDE = st.tuples(st.sampled_from((1, -1)), st.floats(-12, 12)).map(lambda t: t[0] * 10 ** t[1])


@given(programs(), st.fixed_dictionaries({name: WIDE for name in NAMES}))
def test_no_mismatch_at_points_from_1e_minus_12_to_1e12(program, point):
    no_mismatch(program[0], point)


def test_exact_zero_is_ok_however_coarse():
    (row,) = gradient_check(evaluate("tanh(x)", x=1e12)).rows
    assert (row.verdict, row.analytic, row.numeric) == ("ok", 0.0, 0.0)
    assert math.isfinite(row.abs_error)
