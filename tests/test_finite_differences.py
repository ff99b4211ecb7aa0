"""gradcalc.finite_differences: adaptive central differences whose error estimate is honest, on
plain Python functions with derivatives known in closed form."""

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcalc.finite_differences import Blocked, derivative

EPS = 2.0 ** -52

def moves(inner):
    """Whether x ± h moves `inner` by more than 1, the scale of sin, exp and tanh (what --check's
    stencils refuse: wider stencils can alias an oscillation into a smooth-looking one)."""
    return lambda x, h: max(abs(inner(x + h) - inner(x)), abs(inner(x - h) - inner(x))) > 1


def near_pole(x, h):
    return h > abs(x) / 2  # more than halfway to the pole or edge at 0


def identity(x):
    return x


def safe_exp(x):
    return math.exp(min(x, 700))


# f, f', where f is defined and smooth, and which stencils are too wide for it
FUNCTIONS = {
    "sin": (math.sin, math.cos, lambda x: True, moves(identity)),
    "exp": (math.exp, math.exp, lambda x: x < 700, moves(identity)),
    "log": (math.log, lambda x: 1 / x, lambda x: x > 0, near_pole),
    "reciprocal": (lambda x: 1 / x, lambda x: -1 / x ** 2, lambda x: abs(x) > 1e-150, near_pole),
    "cube_inverse": (lambda x: x ** -3, lambda x: -3 * x ** -4, lambda x: abs(x) > 1e-75, near_pole),
    "tanh": (math.tanh, lambda x: 1 / math.cosh(x) ** 2, lambda x: abs(x) < 300, moves(identity)),
    "atan": (math.atan, lambda x: 1 / (1 + x * x), lambda x: True, None),
    "quintic": (lambda x: x ** 5 - 3 * x, lambda x: 5 * x ** 4 - 3, lambda x: abs(x) < 1e60, None),
    "sqrt": (math.sqrt, lambda x: 0.5 / math.sqrt(x), lambda x: x > 0, near_pole),
    "sin_of_exp": (lambda x: math.sin(math.exp(x)), lambda x: math.cos(math.exp(x)) * math.exp(x),
                   lambda x: x < 30, moves(safe_exp)),
}
INNER_SCALE = {"sin_of_exp": safe_exp}


def stencil_of(f, x, too_wide=None, inner_scale=lambda point: 0.0):
    """A stencil that refuses points outside f's domain and stencils `too_wide` for f."""
    def stencil(h):
        values = []
        for point in (x + h, x - h):
            try:
                values.append(f(point))
            except (ValueError, ZeroDivisionError, OverflowError):
                raise Blocked("outside", f"f is not defined at {point}") from None
        if too_wide is not None and too_wide(x, h):
            raise Blocked("pole", "too wide")
        # each operation rounds to within ε of its value, felt by f through its derivative: for
        # sin(exp(x)), exp's rounding moves sin's argument by up to ε·exp(x)
        noise = 2 * EPS * sum(abs(v) + inner_scale(p) for v, p in zip(values, (x + h, x - h)))
        return (values[0],), (values[1],), (x + h) - x, x - (x - h), (noise,)

    return stencil


def check_honest(name, x):
    f, exact, defined, too_wide = FUNCTIONS[name]
    inner = INNER_SCALE.get(name, lambda point: 0.0)
    estimate = derivative(stencil_of(f, x, too_wide, inner), x, (f(x),)).estimates[0]
    if estimate.converged:
        truth = exact(x)
        assert abs(estimate.value - truth) <= estimate.error + 4 * EPS * abs(truth), (name, x, estimate, truth)
    return estimate


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_the_error_estimate_bounds_the_true_error(name):
    rng = random.Random(5)
    defined = FUNCTIONS[name][2]
    converged = 0
    points = [rng.choice((-1, 1)) * 10 ** rng.uniform(-8, 8) for _ in range(300)]
    for x in (x for x in points if defined(x)):
        converged += check_honest(name, x).converged
    assert converged >= 0.9 * sum(defined(x) for x in points)


@settings(max_examples=300)
@given(st.sampled_from(sorted(FUNCTIONS)), st.floats(-1e6, 1e6).filter(lambda x: x != 0))
def test_the_error_estimate_bounds_the_true_error_anywhere(name, x):
    if FUNCTIONS[name][2](x):
        check_honest(name, x)


def test_polynomials_of_degree_6_or_less_come_out_exact():
    f, exact = (lambda x: 2 * x ** 6 - x ** 3 + 1), (lambda x: 12 * x ** 5 - 3 * x ** 2)
    estimate = derivative(stencil_of(f, 1.5), 1.5, (f(1.5),)).estimates[0]
    assert estimate.value == pytest.approx(exact(1.5), rel=1e-13)


def test_steps_shrink_to_fit_near_a_pole():
    x = 1e-9
    differences = derivative(stencil_of(math.log, x, near_pole), x, (math.log(x),))
    (estimate,) = differences.estimates
    assert estimate.value == pytest.approx(1e9, rel=1e-9)
    assert estimate.step <= x / 2 and differences.shrunk_from is not None


def test_a_kink_at_the_point_is_reported_not_estimated():
    def stencil(h):
        raise Blocked("kink", "crossing", "abs(x)")

    differences = derivative(stencil, 0.0, (0.0,))
    assert differences.kink is not None and differences.kink.where == "abs(x)"
    assert not differences.estimates[0].converged


def test_no_usable_step_says_why():
    def stencil(h):
        raise Blocked("outside", "never defined")

    differences = derivative(stencil, 3.0, (1.0,))
    assert not differences.estimates[0].converged and differences.refused.reason == "never defined"


def test_a_vector_valued_function_gets_one_estimate_per_component():
    """The boundary a second-order check builds on: d/dx of a gradient vector is a Hessian row."""
    x = 0.7

    def stencil(h):
        plus, minus = (math.sin(x + h), (x + h) ** 3), (math.sin(x - h), (x - h) ** 3)
        noise = tuple(2 * EPS * (abs(p) + abs(m)) for p, m in zip(plus, minus))
        return plus, minus, (x + h) - x, x - (x - h), noise

    first, second = derivative(stencil, x, (math.sin(x), x ** 3)).estimates
    assert first.value == pytest.approx(math.cos(x), rel=1e-10) and first.error < 1e-9
    assert second.value == pytest.approx(3 * x * x, rel=1e-12)


def test_large_x_loses_the_digits():
    x = 1e20

    def stencil(h):
        if h > 1:
            raise Blocked("scale", "wider than sin's scale")
        return (math.sin(x + h),), (math.sin(x - h),), (x + h) - x, x - (x - h), (4 * EPS,)

    differences = derivative(stencil, x, (math.sin(x),))
    assert not differences.estimates[0].converged and differences.limit == math.ulp(x)


def test_a_refusal_that_says_how_much_smaller_is_followed_at_once():
    # hypot(1e-300, x) at x = 0: the steps must stay below half the distance to the tip, 5e-301; 16
    # times smaller per try would reach 2.6e-144 in the 120 tries allowed, and give up
    tried = []

    def stencil(h):
        tried.append(h)
        if h > 5e-301:
            raise Blocked("tip", "more than halfway to the tip", "hypot", shrink=5e-301 / h)
        plus, minus = math.hypot(1e-300, h), math.hypot(1e-300, -h)
        return (plus,), (minus,), h, h, (EPS * (plus + minus),)

    differences = derivative(stencil, 0.0, (1e-300,))
    (estimate,) = differences.estimates
    assert estimate.converged and estimate.value == 0.0 and differences.shrunk_from is not None
    assert len(tried) < 20 and max(h for h in tried if h <= 5e-301) > 5e-301 / 16
