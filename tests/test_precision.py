"""Every function's derivatives against mpmath where floating point is hardest: saturated activations,
tails, tiny and huge arguments, next to poles and the edges of domains. The exact derivatives are
SymPy's (tests/test_differential.py's forms of every registry function), evaluated by mpmath at a
working precision raised until two evaluations agree. gradcalc's first derivatives must match them to
RTOL wherever the true value is a normal double (and within the smallest normal double below it),
on the scalar path, the plain array path and evaluate_graph's (blocks, a tape), and its second
derivatives, which the same rules build as graphs, to RTOL2."""

import math
import sys

import mpmath
import numpy as np
import pytest
import sympy
from test_differential import CALLS, SYMPY_FORMS, UNARY

from conftest import plain_path, through_api
from gradcalc import evaluate, parse
from gradcalc.higher_order import derivatives
from gradcalc.layers import FUNCTIONS, OPERATOR_NAMES, REGISTRY

NORMAL, HUGE = sys.float_info.min, sys.float_info.max
RTOL = 1e-13  # first derivatives: a few hundred ulps at most, most within a few
# second derivatives: relative; and near 0, where many pass through 0, absolute within 1e-15 of the
# first derivative's size: what a sum of the rules' terms keeps there (asin''(1e-20) = 1e-20 is
# the difference of -(1 + x) and (1 - x), each near 1, and comes out 0)
RTOL2, ATOL2, NEAR_ZERO = 1e-12, 1e-15, 1e-4

# SymPy rewrites erfc(-u) as 2 - erfc(u), which at u = 500 cancels at any working precision
FORMS = {**UNARY, "gelu": lambda u: u * sympy.erfc(-u / sympy.sqrt(2), evaluate=False) / 2}
# what mpmath lacks of the forms' derivatives (test_differential's floor, for mod; relu's step);
# at 0 these are kinks, left out below
SPECIAL = {"Floor0": mpmath.floor, "Ceil0": mpmath.ceil, "Sign0": mpmath.sign, "Step0": lambda x: mpmath.mpf(x > 0),
           "Round0": lambda x: mpmath.mpf(round(float(x))), "Heaviside": lambda x, *at_zero: mpmath.mpf(x > 0),
           "DiracDelta": lambda x, *order: mpmath.mpf(0) if x else mpmath.inf}

# their rules' exp(-x²), whose x² overflows past |x| = 1.34e154: the rules hold x within ±28 (±40),
# where exp(-x²) is already 0, so every order is 0 there, as the true derivatives underflow to
SQUARE_OVERFLOWS = {"erf", "erfc", "gelu"}

X, P, Q = sympy.symbols("x p q", real=True)
HALF_PI = math.pi / 2
# each with its negative: zero and tiny numbers, ordinary ones, the saturated sides of the
# activations and the tails of erf, huge numbers; next to ±1 (asin, atanh), 1 (acosh) and π/2 (tan)
MAGNITUDES = [0.0, 1e-300, 1e-20, 1e-8, 0.37, 0.75, 1 - 2 ** -52, 0.999999, 1.0, 1 + 2 ** -52, 1.0000001, 2.5,
              HALF_PI, 10.0, 20.0, 25.3, 30.0, 37.7, 40.0, 100.0, 123.4, 700.0, 1e10, 1e200, 1e300]
POINTS = sorted({sign * magnitude for magnitude in MAGNITUDES for sign in (1.0, -1.0)})
PAIR_MAGNITUDES = [1e-300, 1e-20, 0.37, 1.0, 40.0, 700.0, 1e200, 1e300]
PAIR_VALUES = sorted({sign * magnitude for magnitude in PAIR_MAGNITUDES for sign in (1.0, -1.0)})
PAIRS = [(p, q) for p in PAIR_VALUES for q in PAIR_VALUES]

# one name per layer class (arcsin is asin); operators and calls of two arguments as CALLS lists them
UNARY_NAMES = sorted({REGISTRY[name]: name for name in sorted(FORMS, reverse=True)
                      if REGISTRY[name].arity == 1 and not REGISTRY[name].array_only}.values())
BINARY = {"pow": "pow(p, q)", "div": "p / q", "mul": "p * q", "sub": "p - q", "add": "p + q",
          **{name: f"{name}(p, q)" for name, (arity, _) in CALLS.items() if arity == 2 and name != "log"},
          "log": "log(p, q)"}
BINARY_NAMES = sorted({REGISTRY[name]: name for name in sorted(BINARY, reverse=True)}.values())


def exact(function, *point):
    """function(*point) to ~25 digits, the working precision doubled until two evaluations agree
    (a difference of nearly equal terms, 1 - sigmoid(700), needs ~300 digits); None where it is
    not a real number (outside the domain), has no value (a pole) or needs more digits than that
    (softplus''(1e10) = σ(x) - σ(x)², where the true value is below the doubles anyway)."""
    previous = None
    for digits in (30, 60, 120, 240, 480, 960):
        with mpmath.workdps(digits):
            try:
                value = mpmath.mpmathify(function(*map(mpmath.mpf, point)))
            except (ZeroDivisionError, OverflowError):  # a pole; mpmath's erfc beyond 1e300
                return None
            if not mpmath.isfinite(value):
                return None
            if mpmath.im(value) != 0:
                return None
            value = mpmath.re(value)
        if previous is not None and abs(value - previous) <= abs(value) * mpmath.mpf(10) ** -25 and value != 0:
            return value
        previous = value
    return value if value == 0 else None  # 0 at every precision: an exact zero (sin''(0), floor'(x))


def lambdified(expression, symbols):
    return sympy.lambdify(symbols, expression, modules=[SPECIAL, "mpmath"])


def in_range(*values) -> bool:
    return all(value is not None and abs(value) <= HUGE for value in values)


def close(got, true, rtol, atol=0.0) -> bool:
    """Within rtol of the true value; below the smallest normal double, within that."""
    error = abs(mpmath.mpf(float(got)) - true)
    return error <= rtol * abs(true) + atol or (abs(true) < NORMAL and error <= NORMAL)


def at_a_kink(name, *point) -> bool:
    """A kink's derivative is a convention (relu'(0) = 0, PyTorch's), tested in test_layers."""
    layer = REGISTRY[name]()
    return layer.kink and not np.all(layer.kink_input(*point))


class Unary:
    """A unary function's exact value, first and second derivatives, as mpmath functions."""

    def __init__(self, name):
        form = FORMS[name](X)
        self.value, self.first, self.second = (lambdified(sympy.diff(form, X, order), X) for order in range(3))

    def at(self, x):
        """(f', f'') at x exactly, or None where f or f' is not a finite real double."""
        value, first = exact(self.value, x), exact(self.first, x)
        if not in_range(value, first):
            return None
        return first, exact(self.second, x)


def test_every_function_of_the_registry_is_checked_here_or_said_why_not():
    checked = {REGISTRY[name] for name in UNARY_NAMES + BINARY_NAMES}
    # arrays: softmax and the reductions are held to mpmath below; the others only move or
    # multiply numbers (a transpose, an index, a matrix product), which leaves nothing to cancel
    moving = {"transpose", "stack", "concat", "index", "reshape", "flatten", "diag", "trace", "outer", "matmul",
              "cumsum", "max", "min", "clip", "neg"}
    reductions = {name for text in ARRAY_CASES for name in REGISTRY if f"{name}(" in text}
    named = {REGISTRY[name] for name in moving | reductions}
    missing = {name for name in FUNCTIONS + tuple(OPERATOR_NAMES) if REGISTRY[name] not in checked | named}
    assert not missing, f"check these here, or say why not: {sorted(missing)}"


@pytest.mark.parametrize("name", UNARY_NAMES)
def test_first_and_second_derivatives_of_every_unary_function_match_mpmath(name):
    exact_form = Unary(name)
    text = f"{name}(x)"
    graph = parse(text)
    checked, defined = 0, []
    for x in POINTS:
        truth = exact_form.at(x)
        if truth is None or at_a_kink(name, x):
            continue
        first, second = truth
        got = evaluate(text, x=x).gradients["x"]  # no error: the value and the derivative are doubles
        assert close(got, first, RTOL), (text, x, got, mpmath.nstr(first, 17))
        defined.append((x, first))
        if name in SQUARE_OVERFLOWS and abs(x) > 1.35e154:  # was an error (not finite) before they held x
            assert derivatives(graph, {"x": x}, 2)[2]["x"]["x"] == 0.0, (text, x)
        elif in_range(second):
            got2 = derivatives(graph, {"x": x}, 2)[2]["x"]["x"]
            atol = ATOL2 * abs(first) if abs(x) < NEAR_ZERO else 0.0
            assert close(got2, second, RTOL2, atol), (text, x, got2, mpmath.nstr(second, 17))
        checked += 1
    assert checked >= 12, f"{text}: only {checked} points inside its domain"
    # the same points at once on the array paths: the plain one, then evaluate_graph's three times
    # (a tape is recorded at a shape's second call, where the rules and the values allow it)
    xs = np.array([x for x, _ in defined])
    for path, gradients in [("plain", plain_path(graph, {"x": xs})[1]["x"]),
                            *[(f"evaluate_graph, call {call}", through_api(graph, {"x": xs})[1]["x"])
                              for call in (1, 2, 3)]]:
        for x, first, got in zip(xs, [first for _, first in defined], gradients):
            assert close(got, first, RTOL), (path, text, x, got, mpmath.nstr(first, 17))
    # and each point alone: a layer's saved intermediate (Layer.forward_saving) that is not finite
    # at one point sends the whole array to the layer's own rule, which the calls above then test
    for x, first in defined:
        got = through_api(graph, {"x": np.array([x])})[1]["x"][0]
        assert close(got, first, RTOL), ("evaluate_graph, one element", text, x, got, mpmath.nstr(first, 17))


@pytest.mark.parametrize("name", BINARY_NAMES)
def test_both_partial_derivatives_of_every_function_of_two_arguments_match_mpmath(name):
    form = (SYMPY_FORMS if name in OPERATOR_NAMES else CALLS)[name][1](P, Q)
    functions = [lambdified(expression, (P, Q)) for expression in (form, sympy.diff(form, P), sympy.diff(form, Q))]
    text = BINARY[name]
    checked = 0
    # a power with an exponent beyond 700 is 0, 1 or beyond the doubles, and slow in mpmath
    for p, q in [(p, q) for p, q in PAIRS if name != "pow" or abs(q) <= 700]:
        value, *partials = (exact(function, p, q) for function in functions)
        if not in_range(value, *partials) or at_a_kink(name, p, q):
            continue
        gradients = evaluate(text, p=p, q=q).gradients
        for variable, true in zip("pq", partials):
            assert close(gradients[variable], true, RTOL), (text, p, q, variable, gradients[variable],
                                                            mpmath.nstr(true, 17))
        checked += 1
    assert checked >= 50, f"{text}: only {checked} points inside its domain"


V = sympy.symbols("v0:3", real=True)
C = [0.3, -1.2, 2.5]  # weights, so that a function with a vector value has a gradient worth having
_C = [sympy.Rational(repr(c)) for c in C]


def _softmax(v):
    total = sum((sympy.exp(a) for a in v), sympy.S.Zero)
    return [sympy.exp(a) / total for a in v]


def _var(v):
    mean = sum(v, sympy.S.Zero) / len(v)
    return sum(((a - mean) ** 2 for a in v), sympy.S.Zero) / len(v)


ARRAY_CASES = {
    "logsumexp(v)": lambda v: sympy.log(sum((sympy.exp(a) for a in v), sympy.S.Zero)),
    "sum(c * log_softmax(v))": lambda v: sum((c * sympy.log(s) for c, s in zip(_C, _softmax(v))), sympy.S.Zero),
    "sum(c * softmax(v))": lambda v: sum((c * s for c, s in zip(_C, _softmax(v))), sympy.S.Zero),
    "norm(v)": lambda v: sympy.sqrt(sum((a * a for a in v), sympy.S.Zero)),
    "var(v)": _var,
    "std(v)": lambda v: sympy.sqrt(_var(v)),
    "prod(v)": lambda v: v[0] * v[1] * v[2],
    "mean(v)": lambda v: sum(v, sympy.S.Zero) / 3,
    "sum(v)": lambda v: sum(v, sympy.S.Zero),
    "dot(c, v)": lambda v: sum((c * a for c, a in zip(_C, v)), sympy.S.Zero),
}
VECTORS = [(1000.0, 0.0, -1000.0), (700.0, 699.0, -700.0), (-745.0, 0.0, 1.0), (0.5, 1e-300, -2.0), (30.0, 0.0, -30.0),
           (40.0, 40.0, 39.0), (1e-20, 3.0, 1e20), (0.1, 0.2, 0.3), (2.5, -1.0, 1e-8), (1e-300, 2e-300, -3e-300),
           (1e200, -1e200, 3e199)]
# where one probability is within ~1e-13 of 1: softmax's gradient s (gy - <gy, s>) cancels there
# as PyTorch's and JAX's do (1 - s is lost in s, as the sigmoid's 1 - σ); gradcalc shifts gy first
DOMINATED = [(40.0, 2.0, -40.0), (-3.0, 35.0, 1.0), (36.0, 36.0, 0.0)]  # and (30, 0, -30) of VECTORS; a tie


@pytest.mark.parametrize("text", sorted(ARRAY_CASES))
def test_gradients_of_softmax_and_the_reductions_match_mpmath(text):
    """Each component within RTOL, or within 1e-15 of the gradient's largest component, which is
    what a rule can keep where a component is the difference of larger terms (x - mean(x))."""
    assert_gradients_match(text, VECTORS + DOMINATED)


def assert_gradients_match(text, vectors):
    form = ARRAY_CASES[text](V)
    functions = [lambdified(expression, V) for expression in (form, *(sympy.diff(form, v) for v in V))]
    graph = parse(text)
    for vector in vectors:
        value, *partials = (exact(function, *vector) for function in functions)
        if not in_range(value, *partials):
            continue
        scale = max(abs(true) for true in partials)
        for path in ("plain", "evaluate_graph", "evaluate_graph again"):  # the same shape: a tape
            run = plain_path if path == "plain" else through_api
            got = run(graph, {"v": np.array(vector), "c": np.array(C)})[1]["v"]
            for element, true in zip(got, partials):
                assert close(element, true, RTOL, 1e-15 * scale), (path, text, vector, list(got),
                                                                   [mpmath.nstr(t, 17) for t in partials])


def test_mod_takes_the_quotient_its_value_used():
    # 1 % 0.1 is 0.09999999999999995 = 1 - 9 * 0.1 (the double 0.1 is above 1/10): ∂/∂y = -9, though
    # 1 / 0.1 rounds to 10; and -1e-300 % 1e200 = 1e200 - 1e-300, quotient -1, where x/y underflows to -0
    assert evaluate("x % y", x=1.0, y=0.1).gradients == {"x": 1.0, "y": -9.0}
    assert evaluate("x % y", x=-1e-300, y=1e200).gradients == {"x": 1.0, "y": 1.0}
