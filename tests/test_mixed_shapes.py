"""Every function of the registry whose inputs broadcast against each other (two or more of them,
log with a base included), called with numbers and arrays mixed, at every order the command line
offers: the Hessian (--hessian, --order 2), the Jacobian, J·v and H·v, each against SymPy's
derivatives of the same sum written element by element. A rule's gradient comes back in the
broadcast shape; a derivative graph must sum it back to its input's (a number's: one value)."""

import json
import subprocess
import sys

import numpy as np
import pytest
import sympy
from test_differential import CALLS, SYMPY_FORMS

import gradcalc
from gradcalc.layers import OPERATOR_NAMES, REGISTRY

# the forms of the calls with one more argument (log(x, base)): the registry's `wider` layers
WIDER_FORMS = {"ln": CALLS["log"][1], "log": CALLS["log"][1]}
# numbers and arrays inside every function's domain, away from ties, kinks and jumps
POINT = {"s": 0.65, "t": 1.7, "u": 2.6, "a": [0.35, 1.45], "b": [2.3, 0.85], "c": [3.1, 2.8]}
# which arguments are numbers and which arrays: each pattern, each argument an array in one
MIXES = {2: [("s", "a"), ("a", "s"), ("a", "b")],
         3: [("a", "s", "u"), ("s", "a", "u"), ("t", "s", "c"), ("a", "s", "c"), ("c", "s", "b"), ("a", "b", "c")]}


def _broadcasting():
    """(name, layer class, SymPy form) of each registry function whose inputs broadcast."""
    found, seen = [], set()
    for name, cls in REGISTRY.items():
        layer = cls if cls.arity >= 2 else cls.wider
        if cls.internal or layer is None or not layer().broadcasts() or layer in seen:
            continue
        seen.add(layer)
        form = WIDER_FORMS[name] if layer is cls.wider else SYMPY_FORMS[name][1]
        found.append((name, layer, form))
    return found


BROADCASTING = _broadcasting()
CASES = [pytest.param(name, layer, form, mix, id=f"{name}{mix}")
         for name, layer, form in BROADCASTING for mix in MIXES[layer.arity]]


def test_the_broadcasting_functions_include_log_with_a_base_and_clip():
    names = {layer.__name__ for _, layer, _ in BROADCASTING}
    assert {"LogBase", "Clip", "Plus", "Power", "Atan2", "Mod", "Maximum"} <= names
    assert not {"MatMul", "Stack", "Sum"} & names


def _call(name, layer, mix) -> str:
    if name in OPERATOR_NAMES:
        return f" {layer.symbol} ".join(mix)
    return f"{name}({', '.join(mix)})"


def _symbols(mix):
    """{name: a SymPy symbol, or a list of one per element}."""
    return {name: (sympy.Symbol(name, real=True) if np.ndim(POINT[name]) == 0 else
                   [sympy.Symbol(f"{name}{i}", real=True) for i in range(len(POINT[name]))]) for name in mix}


def _elements(form, mix, symbols):
    """The SymPy expression of each element of the broadcast output."""
    size = max(len(symbols[name]) for name in mix if isinstance(symbols[name], list))
    return [form(*[symbols[name][i] if isinstance(symbols[name], list) else symbols[name] for name in mix])
            for i in range(size)]


def _flat(symbols, name):
    return symbols[name] if isinstance(symbols[name], list) else [symbols[name]]


def _at(expression, symbols):
    point = {}
    for name, symbol in symbols.items():
        for one, value in zip(_flat(symbols, name), np.ravel(POINT[name])):
            point[one] = sympy.Rational(repr(float(value)))
    return float(sympy.N(expression.subs(point), 30))


def _block(expression, symbols, first, second=None):
    """∂expression/∂first (∂²/∂first∂second) in the shape shape(first) + shape(second)."""
    rows = []
    for p in _flat(symbols, first):
        if second is None:
            rows.append(_at(sympy.diff(expression, p), symbols))
        else:
            rows.append([_at(sympy.diff(expression, p, q), symbols) for q in _flat(symbols, second)])
    shape = np.shape(POINT[first]) + (() if second is None else np.shape(POINT[second]))
    return np.array(rows).reshape(shape)


def _values(mix):
    return {name: np.array(POINT[name]) if np.ndim(POINT[name]) else POINT[name] for name in mix}


def _kinks_far(layer, mix):
    """A kinked layer's inputs are away from its kinks and on one smooth piece each."""
    inputs = [np.array(POINT[name], dtype=float) for name in mix]
    return bool(np.all(np.abs(layer().kink_input(*inputs)) > 0.05)) if layer.kink else True


@pytest.mark.parametrize("name,layer,form,mix", CASES)
def test_hessian_of_mixed_numbers_and_arrays_matches_sympy(name, layer, form, mix):
    assert _kinks_far(layer, mix)
    symbols = _symbols(mix)
    total = sum(_elements(form, mix, symbols))
    text = f"sum({_call(name, layer, mix)})"
    hessian = gradcalc.hessian(text, _values(mix))
    for first in mix:
        for second in mix:
            expected = _block(total, symbols, first, second)
            assert np.shape(hessian[first][second]) == expected.shape, (text, first, second)
            assert np.allclose(hessian[first][second], expected, rtol=1e-12, atol=1e-13), (text, first, second)


@pytest.mark.parametrize("name,layer,form,mix", CASES)
def test_jacobian_jvp_and_hvp_of_mixed_numbers_and_arrays_match_sympy(name, layer, form, mix):
    symbols = _symbols(mix)
    elements = _elements(form, mix, symbols)
    text, values = _call(name, layer, mix), _values(mix)
    jacobian = gradcalc.jacobian(text, values)
    expected = {first: np.stack([_block(element, symbols, first) for element in elements]) for first in mix}
    for first in mix:
        assert np.allclose(jacobian[first], expected[first], rtol=1e-12, atol=1e-13), (text, first)
    rng = np.random.default_rng(len(text))
    direction = {first: rng.normal(size=np.shape(values[first])) if np.ndim(values[first]) else float(rng.normal())
                 for first in mix}
    along = sum(np.tensordot(expected[first], direction[first], axes=np.ndim(values[first])) for first in mix)
    assert np.allclose(gradcalc.jvp(text, values, direction), along, rtol=1e-12, atol=1e-13), text
    total = sum(elements)
    hvp = gradcalc.hvp(f"sum({text})", values, direction)
    for first in mix:
        product = sum(np.tensordot(_block(total, symbols, first, second), direction[second],
                                   axes=np.ndim(values[second])) for second in mix)
        assert np.shape(hvp[first]) == np.shape(values[first]), (text, first)
        assert np.allclose(hvp[first], product, rtol=1e-12, atol=1e-13), (text, first)


@pytest.mark.parametrize("name,layer,form,mix", [case for case in CASES if "s" in case.values[3]])
def test_third_derivatives_in_the_number_beside_arrays_match_sympy(name, layer, form, mix):
    # orders 3 and up take scalar variables: the arrays stay fixed, the derivative graph of the
    # derivative graph still sums the number's gradient over the broadcast elements
    symbols = _symbols(mix)
    total = sum(_elements(form, mix, symbols))
    text = f"sum({_call(name, layer, mix)})"
    third = gradcalc.derivatives(text, _values(mix), 3, wrt="s")[3]["s"]["s"]["s"]
    assert third == pytest.approx(_at(sympy.diff(total, symbols["s"], 3), symbols), rel=1e-12, abs=1e-13), text


def cli(*argv):
    return subprocess.run([sys.executable, "-m", "gradcalc", *argv], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("argv,base_is_number", [
    (["sum(log(v, b))", "--v", "2,4", "--b", "3"], True),
    (["sum(log(x, v))", "--x", "3", "--v", "2,4"], False),
])
@pytest.mark.parametrize("option", [["--hessian"], ["--order", "2"]])
def test_the_hessian_of_log_with_a_number_and_an_array_on_the_command_line(argv, base_is_number, option):
    # d²/db² log(v, b) = ln v (2 + ln b) / (b² ln³ b); d²/dv² = -1/(v² ln b); d²/dv db = -1/(v b ln² b)
    run = cli(*argv, *option, "-o", "json", "--no-nodes")
    assert run.returncode == 0, run.stderr
    second = json.loads(run.stdout)["derivatives"]["2"]
    v, b = (np.array([2.0, 4.0]), 3.0) if base_is_number else (3.0, np.array([2.0, 4.0]))
    ln_b = np.log(b)
    d_vv = -1 / (v * v * ln_b)
    d_bb = np.log(v) * (2 + ln_b) / (b * b * ln_b ** 3)
    d_vb = -1 / (v * b * ln_b ** 2)
    if base_is_number:
        assert np.allclose(second["v"]["v"], np.diag(d_vv), rtol=1e-13)
        assert second["b"]["b"] == pytest.approx(float(np.sum(d_bb)), rel=1e-13)
        assert np.allclose(second["v"]["b"], d_vb, rtol=1e-13)
        assert np.allclose(second["b"]["v"], d_vb, rtol=1e-13)
    else:
        assert second["x"]["x"] == pytest.approx(float(np.sum(d_vv)), rel=1e-13)
        assert np.allclose(second["v"]["v"], np.diag(d_bb), rtol=1e-13)
        assert np.allclose(second["x"]["v"], d_vb, rtol=1e-13)


def test_clip_with_a_number_bound_on_the_command_line():
    # clip(v, lo, 10) at v = [2, 4, 12], lo = 3: v[0] below lo, v[1] inside, v[2] above 10
    run = cli("sum(clip(v, lo, 10))", "--v", "2,4,12", "--lo", "3", "--hessian", "--jacobian",
              "--hvp", "v=[1,2,3],lo=1", "-o", "json", "--no-nodes")
    assert run.returncode == 0, run.stderr
    record = json.loads(run.stdout)
    assert record["value"] == 3 + 4 + 10
    assert record["gradients"] == {"lo": 1.0, "v": [0.0, 1.0, 0.0]}
    assert record["jacobian"] == {"lo": 1.0, "v": [0.0, 1.0, 0.0]}
    assert record["derivatives"]["2"]["lo"]["lo"] == 0.0  # piecewise linear: every second derivative 0
    assert np.array_equal(record["derivatives"]["2"]["v"]["v"], np.zeros((3, 3)))
    assert np.array_equal(record["derivatives"]["2"]["lo"]["v"], np.zeros(3))
    assert record["hvp"] == {"lo": 0.0, "v": [0.0, 0.0, 0.0]}


def test_jvp_of_clip_with_a_number_bound_on_the_command_line():
    run = cli("clip(v, lo, 10)", "--v", "2,4,12", "--lo", "3", "--jvp", "v=[1,2,3],lo=5", "-o", "json", "--no-nodes")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["jvp"] == [5.0, 2.0, 0.0]  # lo's direction below it, v's inside, none above
