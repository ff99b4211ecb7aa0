"""Differential testing: random expressions over the whole grammar against SymPy's exact
derivatives, and the printer's text parsed back to the same values.

Bounded for CI; run deeper with `python -m pytest tests/test_differential.py --hypothesis-profile=long`.
"""

import contextlib
import math
import signal

import pytest
import sympy
from hypothesis import assume, given, reject
from hypothesis import strategies as st

from gradcalc import evaluate, parse
from gradcalc.errors import EvaluationError
from gradcalc.evaluator import evaluate_graph
from gradcalc.formula import to_text

NAMES = ("a", "b", "x", "w1", "z_2")
SYMBOLS = {name: sympy.Symbol(name, real=True) for name in NAMES}
CONSTANTS = ("0.5", "1", "1.5", "2", "3", ".25", "1e-1", "2E+0")


def piecewise_constant(name, value):
    """A SymPy function with derivative 0 that evaluates to `value` at numbers (SymPy's own floor
    and Mod have derivatives it cannot evaluate)."""
    def evaluate_at(cls, argument):
        if argument.is_number and argument.is_real:
            return value(argument)
        return None
    return type(name, (sympy.Function,), {"eval": classmethod(evaluate_at),
                                          "fdiff": lambda self, argindex=1: sympy.S.Zero})


FLOOR = piecewise_constant("Floor0", sympy.floor)
HALF = sympy.Rational(1, 2)
# every function of the registry (the operators too), as SymPy writes it: (arity, function)
SYMPY_FORMS = {
    "add": (2, lambda p, q: p + q), "sub": (2, lambda p, q: p - q), "mul": (2, lambda p, q: p * q),
    "div": (2, lambda p, q: p / q), "neg": (1, lambda u: -u), "pow": (2, lambda p, q: p ** q),
    "matmul": (2, lambda p, q: p * q), "dot": (2, lambda p, q: p * q),
    "exp": (1, sympy.exp), "ln": (1, sympy.log), "log": (1, sympy.log), "sqrt": (1, sympy.sqrt),
    "sin": (1, sympy.sin), "cos": (1, sympy.cos), "tan": (1, sympy.tan), "tanh": (1, sympy.tanh),
    "asin": (1, sympy.asin), "acos": (1, sympy.acos), "atan": (1, sympy.atan), "sinh": (1, sympy.sinh),
    "cosh": (1, sympy.cosh), "asinh": (1, sympy.asinh), "acosh": (1, sympy.acosh), "atanh": (1, sympy.atanh),
    "arcsin": (1, sympy.asin), "arccos": (1, sympy.acos), "arctan": (1, sympy.atan),
    "arcsinh": (1, sympy.asinh), "arccosh": (1, sympy.acosh), "arctanh": (1, sympy.atanh),
    "log10": (1, lambda u: sympy.log(u, 10)), "log2": (1, lambda u: sympy.log(u, 2)),
    "log1p": (1, lambda u: sympy.log(1 + u)), "expm1": (1, lambda u: sympy.exp(u) - 1),
    "exp2": (1, lambda u: 2 ** u), "abs": (1, sympy.Abs),
    "sigmoid": (1, lambda u: 1 / (1 + sympy.exp(-u))), "relu": (1, lambda u: sympy.Max(0, u)),
    "softplus": (1, lambda u: sympy.log(1 + sympy.exp(u))),
    "log_sigmoid": (1, lambda u: -sympy.log(1 + sympy.exp(-u))),
    "gelu": (1, lambda u: u * (1 + sympy.erf(u / sympy.sqrt(2))) / 2),
    "erf": (1, sympy.erf), "erfc": (1, sympy.erfc),
    "leaky_relu": (1, lambda u: sympy.Piecewise((u, u > 0), (u / 100, True))),
    "elu": (1, lambda u: sympy.Piecewise((u, u > 0), (sympy.exp(u) - 1, True))),
    "sign": (1, piecewise_constant("Sign0", sympy.sign)),
    "step": (1, piecewise_constant("Step0", lambda a: sympy.S.One if a > 0 else sympy.S.Zero)),
    "floor": (1, FLOOR), "ceil": (1, piecewise_constant("Ceil0", sympy.ceiling)),
    "round": (1, piecewise_constant("Round0", lambda a: sympy.Integer(round(float(a))))),
    "xlogy": (2, lambda p, q: p * sympy.log(q)),
    "atan2": (2, sympy.atan2), "arctan2": (2, sympy.atan2),
    "hypot": (2, lambda p, q: sympy.sqrt(p * p + q * q)),
    "maximum": (2, sympy.Max), "minimum": (2, sympy.Min),
    "mod": (2, lambda p, q: p - q * FLOOR(p / q)),
    "clip": (3, lambda p, lo, hi: sympy.Min(sympy.Max(p, lo), hi)),
    # an array function of a scalar is the scalar's function
    "sum": (1, lambda u: u), "mean": (1, lambda u: u), "max": (1, lambda u: u), "min": (1, lambda u: u),
    "transpose": (1, lambda u: u), "softmax": (1, lambda u: sympy.S.One), "logsumexp": (1, lambda u: u),
    # [u] and u[...] make arrays of a scalar: listed, drawn by tests/test_arrays.py instead
    "stack": (1, lambda u: u), "index": (1, lambda u: u), "reshape": (1, lambda u: u), "flatten": (1, lambda u: u),
    "outer": (2, lambda p, q: p * q), "diag": (1, lambda u: u), "trace": (1, lambda u: u),
    "log_softmax": (1, lambda u: sympy.S.Zero), "norm": (1, sympy.Abs),
    "var": (1, lambda u: sympy.S.Zero), "std": (1, lambda u: sympy.S.Zero), "concat": (1, lambda u: u),
    "cumsum": (1, lambda u: u), "prod": (1, lambda u: u),
}
# std of one number is 0, where it has no derivative
ARRAYS_ONLY = {"softmax", "stack", "index", "reshape", "flatten", "outer", "diag", "trace", "log_softmax", "std",
               "concat", "cumsum"}
OPERATOR_NAMES = {"add", "sub", "mul", "div", "neg", "matmul", "index"}
# softmax needs an array (of a scalar gradcalc refuses it): listed, not drawn
UNARY = {name: f for name, (arity, f) in SYMPY_FORMS.items()
         if arity == 1 and name not in OPERATOR_NAMES | ARRAYS_ONLY}
# dot needs vectors (numpy's matmul refuses scalars): its SymPy form is listed, not drawn
CALLS = {name: (arity, f) for name, (arity, f) in SYMPY_FORMS.items()
         if arity > 1 and name not in OPERATOR_NAMES | ARRAYS_ONLY | {"dot"}}
CALLS["log"] = (2, lambda p, q: sympy.log(p) / sympy.log(q))  # log(x, base)
BINARY = {
    "+": lambda p, q: p + q, "-": lambda p, q: p - q, "*": lambda p, q: p * q,
    "/": lambda p, q: p / q, "**": lambda p, q: p ** q, "^": lambda p, q: p ** q,
    "%": SYMPY_FORMS["mod"][1],
}


def test_every_function_has_its_sympy_form():
    from gradcalc.layers import REGISTRY

    assert set(SYMPY_FORMS) == {name for name, layer in REGISTRY.items() if not layer.internal}


def leaves():
    variables = st.sampled_from(NAMES).map(lambda n: (n, SYMBOLS[n]))
    constants = st.sampled_from(CONSTANTS).map(lambda c: (c, sympy.Rational(sympy.Float(c, 30))))
    return variables | constants


def build(function, *operands):
    """A SymPy expression, or nan where SymPy itself refuses (relu of a complex constant)."""
    try:
        return function(*operands)
    except (ValueError, TypeError):
        return sympy.nan


def extend(children):
    unary = st.tuples(st.sampled_from(sorted(UNARY)), children).map(
        lambda t: (f"{t[0]}({t[1][0]})", build(UNARY[t[0]], t[1][1])))
    negate = children.map(lambda c: (f"-({c[0]})", -c[1]))
    binary = st.tuples(children, st.sampled_from(sorted(set(BINARY) - {"**", "^"})), children).map(
        lambda t: (f"({t[0][0]}) {t[1]} ({t[2][0]})", build(BINARY[t[1]], t[0][1], t[2][1])))
    call = st.sampled_from(sorted(CALLS)).flatmap(lambda name: st.tuples(
        st.just(name), st.tuples(children, *[leaves()] * (CALLS[name][0] - 1)))).map(
        lambda t: (f"{t[0]}({', '.join(a[0] for a in t[1])})", build(CALLS[t[0]][1], *[a[1] for a in t[1]])))
    # an exponent is a leaf: SymPy evaluates constant power towers (3**3**3**3) exactly, without end
    power = st.tuples(children, st.sampled_from(["**", "^"]), leaves()).map(
        lambda t: (f"({t[0][0]}) {t[1]} ({t[2][0]})", build(BINARY[t[1]], t[0][1], t[2][1])))
    return unary | negate | binary | power | call


EXPRESSIONS = st.recursive(leaves(), extend, max_leaves=7)
# `s = 0.5` would bind an input (a signed literal); a named intermediate needs a variable in it
INTERMEDIATES = EXPRESSIONS.filter(lambda e: e[1].free_symbols)


@st.composite
def programs(draw):
    """A line of statements: optional literal bindings, named intermediates, and an output that
    may reuse them (shared subexpressions), with the matching SymPy expression."""
    bindings, env, statements = {}, {}, []
    for name in draw(st.lists(st.sampled_from(NAMES[:2]), max_size=2, unique=True)):
        value = draw(st.sampled_from(("0.75", "-1.25", "2")))
        statements.append(f"{name} = {value}")
        bindings[name] = float(value)
    for index in range(draw(st.integers(0, 2))):
        text, expr = draw(INTERMEDIATES)
        name = f"s{index}"
        statements.append(f"{name} = {text}")
        env[name] = build(expr.subs, env)
    text, expr = draw(EXPRESSIONS)
    for name in env:  # the output may reuse a named intermediate
        if draw(st.booleans()):
            text, expr = f"({text}) * {name} + {name}", expr * sympy.Symbol(name) + sympy.Symbol(name)
    statements.append(text)
    return "; ".join(statements), build(expr.subs, {sympy.Symbol(n): e for n, e in env.items()}), bindings


POINTS = st.fixed_dictionaries({name: st.floats(-3, 3).filter(lambda v: abs(v) > 0.05)
                                for name in NAMES})


class TooSlow(Exception):
    """SymPy took longer than the per-example budget."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Abort SymPy work that takes longer than `seconds` (some random expressions make it crawl)."""
    def expire(signum, frame):
        raise TooSlow

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def exact(expr, point):
    try:
        with time_limit(2.0):
            value = sympy.N(expr.subs(point), 30)
    except TooSlow:
        reject()
    assume(value.is_real and value.is_finite)
    return float(value)


@given(programs(), POINTS)
def test_against_sympy(program, point):
    text, expr, bindings = program
    assume(not expr.has(sympy.nan))
    try:
        result = evaluate(text, **point)
    except EvaluationError:
        assume(False)  # outside the domain: a separate test pins those errors
    values = [node.value for node in result.nodes]
    assume(all(abs(v) < 1e8 for v in values))
    for node in result.graph.nodes:  # a kink within reach of rounding: the derivative is a convention there
        if node.layer.kink:
            assume(abs(node.layer.kink_input(*[values[i] for i in node.inputs])) > 1e-6)
    grads = [abs(node.grad) for node in result.nodes if node.grad is not None]
    # the first-order rounding bound: each node's rounding error, times its gradient
    scale = max([abs(v) * g for v, g in zip(values, [abs(n.grad or 0) for n in result.nodes])] + [1e-300])
    subs = {SYMBOLS[name]: sympy.Rational(repr(value)) for name, value in {**point, **bindings}.items()}
    expected = exact(expr, subs)
    assert result.value == pytest.approx(expected, rel=1e-9, abs=1e-9 * scale)
    for name, gradient in result.gradients.items():
        try:
            with time_limit(2.0):
                derivative = sympy.diff(expr, SYMBOLS[name])
        except TooSlow:
            reject()
        truth = exact(derivative, subs)
        assume(abs(truth) < 1e8)
        bound = 1e-9 * max(grads + [1.0]) * max([abs(v) for v in values] + [1.0])
        assert gradient == pytest.approx(truth, rel=1e-9, abs=bound), (name, text)


@given(programs(), POINTS)
def test_printer_text_parses_back_to_the_same_values(program, point):
    text, _, _ = program
    graph = parse(text)
    try:
        original = evaluate_graph(graph, point)
    except EvaluationError:
        assume(False)
    printed = to_text(graph)
    again = evaluate(printed, **point)
    assert again.value == pytest.approx(original.value, rel=1e-12, abs=1e-300)
    assert again.gradients.keys() == original.gradients.keys()
    for name, gradient in original.gradients.items():
        assert again.gradients[name] == pytest.approx(gradient, rel=1e-12, abs=1e-300)
    assert to_text(parse(printed)) == printed  # printing is a fixed point


def test_printer_keeps_an_output_that_a_statement_also_uses():
    text = to_text(parse("s0 = a ** b; a"))
    assert evaluate(text, a=2, b=3).gradients == {"a": 1.0, "b": 0.0}


def test_printer_keeps_unused_variables_and_drops_unused_constants():
    text = to_text(parse("s = a; y = b*2; b = 5; y + z"))
    assert evaluate(text, a=1, b=3, z=1).gradients == {"a": 0.0, "b": 2.0, "z": 1.0}


def test_printer_shares_repeated_subexpressions():
    text = to_text(parse("x*y + x*y + exp(x*y)"))
    assert text.count("x*y") == 1
    assert math.isclose(evaluate(text, x=2, y=3).value, 12 + math.exp(6))
