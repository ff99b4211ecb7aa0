"""Every function of the registry at empty arrays ([], [[], []], shape (0, 3)), with each axis.

What each gives is decided here independently, by numpy: where numpy has a finite value (a sum of
nothing is 0, a product 1, the norm 0, softmax of nothing is an empty array, a reduction of no
slices is empty), gradcalc gives that value with an empty gradient of the input's shape, at every
order, under --check too. Where numpy fails, warns or gives nan or inf (the mean, max, min, var,
std or logsumexp of an empty slice), gradcalc refuses with a ShapeError that says the slice is
empty, with a caret under the call and a hint; unless a non-empty array of the same rank is refused
as well (trace of a non-square matrix), which is then the reason. No numpy warning ever leaks."""

import inspect
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import gradcalc
from conftest import unwrapped
from gradcalc import GradcalcError
from gradcalc.errors import ShapeError
from gradcalc.layers import FUNCTIONS, REGISTRY

EMPTY = {"[]": np.zeros(0), "[[],[]]": np.zeros((2, 0)), "(0, 3)": np.zeros((0, 3))}
REQUIRED = {"reshape": "-1"}  # the parameters a call cannot leave out


# numpy's value of each array function at x (None: the axis of a call without one)
def _softmax(x, axis):
    shifted = np.exp(x)
    return shifted / np.sum(shifted, axis=-1 if axis is None else axis, keepdims=True)


NUMPY = {
    "sum": lambda x, axis: np.sum(x, axis=axis),
    "mean": lambda x, axis: np.mean(x, axis=axis),
    "max": lambda x, axis: np.max(x, axis=axis),
    "min": lambda x, axis: np.min(x, axis=axis),
    "prod": lambda x, axis: np.prod(x, axis=axis),
    "cumsum": lambda x, axis: np.cumsum(x, axis=axis),
    "var": lambda x, axis: np.var(x, axis=axis),
    "std": lambda x, axis: np.std(x, axis=axis),
    "norm": lambda x, axis: np.linalg.norm(x.ravel()),
    "logsumexp": lambda x, axis: np.log(np.sum(np.exp(x), axis=axis)),
    "softmax": _softmax,
    "log_softmax": lambda x, axis: np.log(_softmax(x, axis)),
    "transpose": lambda x, axis: np.transpose(x),
    "flatten": lambda x, axis: np.ravel(x),
    "reshape": lambda x, axis: np.reshape(x, -1),
    "diag": lambda x, axis: np.diag(x),
    "trace": lambda x, axis: np.trace(x),
    "dot": lambda x, axis: np.matmul(x, x),
    "outer": lambda x, axis: np.outer(x, x),
    "stack": lambda x, axis: np.stack([x, x], axis=axis or 0),
    "concat": lambda x, axis: np.concatenate([x, x], axis=axis or 0),
}


def _calls():
    """(function, call text, axis) for every function of the registry: each input x, its
    parameters the defaults, and each axis variant of a function that takes one."""
    found = []
    for name in FUNCTIONS:
        layer = REGISTRY[name]
        arity = 2 if layer.arity < 0 else layer.arity
        arguments = ", ".join(["x"] * arity + ([REQUIRED[name]] if name in REQUIRED else []))
        found.append((name, f"{name}({arguments})", None))
        if layer.wider is not None:
            found.append((name, f"{name}({', '.join(['x'] * (layer.wider.arity))})", None))
        if "axis" in layer.params:
            found += [(name, f"{name}({arguments}, axis={axis})", axis) for axis in (0, -1)]
    return found


CALLS = _calls()


def test_every_parameter_a_call_needs_is_given():
    for name in FUNCTIONS:
        layer = REGISTRY[name]
        needed = [p for p in inspect.signature(layer).parameters.values() if p.default is p.empty]
        assert not needed or name in REQUIRED, name
        elementwise = not layer.array_only or not needed and layer().broadcasts()  # clip: x's shape
        assert elementwise or name in NUMPY, f"{name}: an array function without a numpy reference here"


def _numpy(name, x, axis):
    """(what numpy says of the call at x, its value): "value"; "empty" where a slice is empty and
    numpy has no value (it warns, gives nan or inf, or has no identity to start from); "refused"
    where numpy refuses the shapes themselves (a matrix product of (0, 3) and (0, 3))."""
    reference = NUMPY.get(name)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("error")  # "Mean of empty slice", "Degrees of freedom <= 0"
            value = np.asarray(reference(x, axis) if reference else x, dtype=float)  # elementwise: x's shape
    except RuntimeWarning:
        return "empty", None
    except (ValueError, IndexError) as error:
        return ("empty" if "zero-size array" in str(error) else "refused"), None
    return ("value", value) if np.all(np.isfinite(value)) else ("empty", None)


def _twin(x):
    """A non-empty array of the same rank and kind: each empty axis longer than every other (a
    (0, 3) matrix is not square, nor is its twin (4, 3))."""
    return np.full(tuple(size or max(x.shape) + 1 for size in x.shape), 0.5)


def _refused_for_its_shape(text, x) -> bool:
    try:
        gradcalc.evaluate(text, x=_twin(x))
    except ShapeError:
        return True
    except GradcalcError:
        return False  # a domain error: the shape itself is fine
    return False


@pytest.fixture(autouse=True)
def _no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy warning that reaches the user fails the test
        yield


@pytest.mark.parametrize("written", list(EMPTY))
@pytest.mark.parametrize("name,text,axis", CALLS, ids=[text for _, text, _ in CALLS])
def test_every_function_of_an_empty_array(name, text, axis, written):
    x = EMPTY[written]
    verdict, expected = _numpy(name, x, axis)
    try:
        result = gradcalc.evaluate(text, x=x)
    except GradcalcError as error:
        assert isinstance(error, ShapeError), (text, written, error.message)
        assert verdict != "value" or _refused_for_its_shape(text, x), (text, written, error.message)
        if verdict == "empty" and not _refused_for_its_shape(text, x):  # it says so, under the call
            assert "empty" in error.message and (" is undefined" in error.message or "-inf" in error.message), \
                error.message
            assert error.span == (0, len(text)) and error.hint, (text, error.span, error.hint)
        return
    assert verdict == "value", f"{text} at {written}: numpy has no value, gradcalc gives {result.value!r}"
    assert np.shape(result.value) == expected.shape and np.array_equal(result.value, expected), \
        (text, written, result.value, expected)
    assert np.shape(result.gradients["x"]) == x.shape  # empty, as x


def _defined_calls():
    """The (call, empty value) pairs numpy gives a finite value for and gradcalc accepts."""
    found = []
    for name, text, axis in CALLS:
        for written, x in EMPTY.items():
            if _numpy(name, x, axis)[0] == "value" and not _refused_for_its_shape(text, x):
                found.append(pytest.param(text, written, id=f"{text}-{written}"))
    return found


@pytest.mark.parametrize("text,written", _defined_calls())
def test_derivatives_and_check_of_a_function_of_an_empty_array(text, written):
    """With a number y beside it: y's derivatives are those of sum(f(x)) * y, numpy's sum of f(x)."""
    x = EMPTY[written]
    total = float(np.sum(gradcalc.evaluate(text, x=x).value))
    program = f"sum({text}) * y + y"
    result = gradcalc.gradient(program, {"x": x, "y": 1.5}, check=True)
    assert result.value == total * 1.5 + 1.5
    assert result.gradients["y"] == total + 1.0 and np.shape(result.gradients["x"]) == x.shape
    assert result.check.passed and all(row.verdict == "ok" for row in result.check.rows), result.check.rows
    hessian = gradcalc.hessian(program, {"x": x, "y": 1.5})
    assert hessian["y"]["y"] == 0.0
    assert np.shape(hessian["x"]["x"]) == x.shape + x.shape and np.shape(hessian["x"]["y"]) == x.shape
    jacobian = gradcalc.jacobian(text, {"x": x})
    assert np.shape(jacobian["x"]) == np.shape(gradcalc.evaluate(text, x=x).value) + x.shape
    assert np.shape(gradcalc.hvp(program, {"x": x, "y": 1.5}, {"y": 1.0})["x"]) == x.shape


def test_reductions_of_nothing_take_numpys_values():
    assert gradcalc.evaluate("sum(x)", x=np.zeros(0)).value == 0.0
    assert gradcalc.evaluate("prod(x)", x=np.zeros(0)).value == 1.0  # the empty product
    assert gradcalc.evaluate("norm(x)", x=np.zeros((2, 0))).value == 0.0
    assert np.array_equal(gradcalc.evaluate("prod(x, 1)", x=np.zeros((2, 0))).value, [1.0, 1.0])
    softmax = gradcalc.evaluate("softmax(x)", x=np.zeros(0))
    assert softmax.value.shape == (0,) and softmax.gradients["x"].shape == (0,)
    # a reduction of no slices is empty: the mean of each of the 0 columns of a 2-by-0 matrix
    assert gradcalc.evaluate("mean(x, 0)", x=np.zeros((2, 0))).value.shape == (0,)
    assert gradcalc.evaluate("max(x, 0)", x=np.zeros((2, 0))).value.shape == (0,)


@pytest.mark.parametrize("text,message", [
    ("mean(x)", "mean of an empty array is undefined"),
    ("max(x)", "max of an empty array is undefined"),
    ("var(x)", "var of an empty array is undefined"),
    ("logsumexp(x)", "logsumexp of an empty array is ln 0 = -inf"),
    ("mean(x, -1)", "mean of an empty slice is undefined: axis -1 has length 0"),
])
def test_a_reduction_of_an_empty_slice_is_an_error_that_says_so(text, message):
    with pytest.raises(ShapeError) as caught:
        gradcalc.gradient(f"1 + {text}", {"x": np.zeros((2, 0))}, check=True)
    assert caught.value.message.startswith(f"{text}: {message}")
    assert caught.value.span == (4, 4 + len(text))  # the call, not the whole line
    assert "at least one element" in caught.value.hint


def cli(*argv):
    return subprocess.run([sys.executable, "-m", "gradcalc", *argv], capture_output=True, text=True, timeout=60)


def test_mean_of_nothing_on_the_command_line():
    run = cli("mean(x)", "--x", "[]")
    assert run.returncode == 2 and run.stdout == ""
    err = unwrapped(run.stderr)
    assert "Warning" not in err and "reduction operation" not in err and "broadcast" not in err
    assert "gradcalc: error: mean(x): mean of an empty array is undefined (x has shape (0,))" in err
    assert "    mean(x)\n    ^^^^^^^\n" in err
    assert "hint: give the array at least one element (the sum of an empty array is 0)" in err


def test_logsumexp_of_nothing_in_json():
    run = cli("logsumexp(x)", "--x", "[[],[]]", "-o", "json")
    assert run.returncode == 2 and "Warning" not in run.stderr
    error = json.loads(run.stdout)["error"]
    assert error["type"] == "ShapeError" and error["column"] == 1
    assert error["message"].startswith("logsumexp(x): logsumexp of an empty array is ln 0 = -inf")


@pytest.mark.parametrize("argv,expected", [
    (["prod(x)", "--x", "[]"], "1 x=[]"),
    (["prod(x, 1)", "--x", "[[],[]]"], "[1,1] x=[[],[]]"),
    (["softmax(x)", "--x", "[]", "--order", "2"], "[] x=[] d2_x_x=[]"),
    (["x", "--x", "[[],[]]"], "[[],[]] x=[[],[]]"),  # plain keeps the shape (2, 0), as JSON does
    (["asin(x+v)", "--x", "40", "--v", "[]", "--check"], "[] v=[] x=0 check=ok"),
])
def test_empty_arrays_on_the_command_line(argv, expected):
    run = cli(*argv, "-o", "plain")
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert run.stdout == expected + "\n"


def test_empty_arrays_keep_their_shape_in_every_format():
    json_run = cli("prod(x, 1)", "--x", "[[],[]]", "-o", "json", "--no-nodes")
    assert json.loads(json_run.stdout)["gradients"] == {"x": [[], []]}
    csv_run = cli("prod(x, 1)", "--x", "[[],[]]", "-o", "csv")
    assert csv_run.stdout.splitlines()[1] == '1,"prod(x, 1)","[1.0, 1.0]","[[], []]",'
    plain = cli("prod(x, 1)", "--x", "[[],[]]", "-o", "plain")
    assert plain.stdout == "[1,1] x=[[],[]]\n"
    table = subprocess.run([sys.executable, "-m", "gradcalc", "prod(x, 1)", "--x", "[[],[]]"], capture_output=True,
                           text=True, timeout=60, env={**os.environ, "COLUMNS": "80"})
    assert "│ x        │ [[], []] │          [[], []] │" in table.stdout


def test_explain_and_check_of_empty_arrays_on_the_command_line():
    for argv in (["norm(x)", "--x", "[]", "--check"], ["sum(softmax(x))", "--x", "[[],[]]", "--explain"],
                 ["sum(prod(x, 1))", "--x", "[[],[]]", "--order", "2", "--explain"]):
        run = cli(*argv)
        assert run.returncode == 0 and run.stderr == "", (argv, run.stderr)
