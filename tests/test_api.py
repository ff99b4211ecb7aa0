"""The public Python API of DESIGN.md."""

import importlib
import subprocess
import sys

import numpy as np
import pytest

import gradcalc


def test_api_shape():
    from gradcalc import GradcalcError, evaluate

    r = evaluate("c*d/(a-b)", a=1, b=2, c=3, d=4)
    assert r.value == -12.0
    assert r.gradients == {"a": -12.0, "b": 12.0, "c": -4.0, "d": -3.0}
    node = r.nodes[2]
    assert (node.id, node.layer, node.expr, node.inputs, node.value, node.grad) == \
        (2, "Multiply", "c*d", (0, 1), 12.0, -1.0)
    assert issubclass(GradcalcError, Exception)


def test_evaluate_stays_callable_after_every_submodule_is_imported():
    for module in ("cli", "errors", "evaluator", "formatting", "graph", "layers", "parser", "render"):
        importlib.import_module(f"gradcalc.{module}")
    assert gradcalc.evaluate("x*2", x=4).gradients == {"x": 2.0}


def test_variables_may_be_called_like_keyword_names():
    assert gradcalc.evaluate("expression + values", expression=1, values=2).value == 3.0


def test_import_is_lazy():
    code = "import sys, gradcalc; print(sorted(m for m in ('lark', 'numpy', 'rich', 'typer') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_scalar_evaluation_does_not_import_numpy_or_rich():
    code = ("import sys, gradcalc; gradcalc.evaluate('sigmoid(x)*ln(x)', x=2); "
            "print(sorted(m for m in ('numpy', 'rich', 'typer') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_threads_evaluating_the_same_expression_get_their_own_results():
    # parse() hands every caller the same cached graph, whose layers hold state between forward
    # and backward; a tiny switch interval makes the threads interleave inside an evaluation
    import math
    import random
    import threading

    errors = []

    def work(seed):
        rng = random.Random(seed)
        for _ in range(200):
            x, y = rng.uniform(0.5, 2.0), rng.uniform(0.5, 2.0)
            result = gradcalc.evaluate("x*y + sin(x)*y + x/y", x=x, y=y)
            expected_x = y + math.cos(x) * y + 1 / y
            expected_y = x + math.sin(x) - x / y**2
            if (abs(result.gradients["x"] - expected_x) > 1e-12
                    or abs(result.gradients["y"] - expected_y) > 1e-12):
                errors.append((x, y))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []


# --- issue 12, items 19-21: the API's edges ----------------------------------------------------

def test_values_beyond_a_float_or_complex_are_value_format_errors():
    import warnings

    import numpy as np
    import pytest

    from gradcalc import ValueFormatError

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's ComplexWarning must not reach the caller
        for value in (10**400, -(10**400), [1, 10**400], np.array([1j]), [2 + 0j], np.complex128(1),
                      np.longdouble("1e4000"), ["1"], [True], np.array(["2020-01-01"], dtype="M8[D]"),
                      [[True], [1.0]], [np.True_, 2.0], (1.0, (2.0, False))):  # numpy would make True 1.0
            with pytest.raises(ValueFormatError) as caught:
                gradcalc.evaluate("x*2", x=value)
            assert "the value of x" in caught.value.message and len(caught.value.message) < 100
    assert gradcalc.evaluate("x*2", x=10**300).gradients == {"x": 2.0}  # large but finite: fine
    assert gradcalc.evaluate("x*2", x=np.array([1, 2], dtype=np.int8)).value.tolist() == [2.0, 4.0]
    assert gradcalc.evaluate("sum(x*2)", x=[[1, 2.5], (3, 4)]).value == 21.0  # lists and tuples of numbers


def test_every_error_class_is_exported_from_the_package():
    import inspect

    from gradcalc import errors

    classes = [cls for _, cls in inspect.getmembers(errors, inspect.isclass)
               if issubclass(cls, errors.GradcalcError)]
    assert len(classes) >= 11
    for cls in classes:
        assert getattr(gradcalc, cls.__name__) is cls and cls.__name__ in gradcalc.__all__
        assert cls.__name__ in dir(gradcalc)
    from gradcalc import DomainError, ParseError  # noqa: F401  (the README's spelling)


def test_importing_gradcalc_stays_cheap():
    code = ("import sys, gradcalc; print(sorted(m for m in sys.modules if m.startswith('gradcalc')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['gradcalc']"


def test_result_and_graph_reprs_name_the_expression():
    result = gradcalc.evaluate("c*d/(a-b)", a=1, b=2, c=3, d=4)
    assert repr(result) == ("Result(expression='c*d/(a-b)', value=-12.0, "
                            "gradients={'a': -12.0, 'b': 12.0, 'c': -4.0, 'd': -3.0})")
    assert repr(gradcalc.parse("c*d/(a-b)")) == "<Graph 'c*d/(a-b)': 7 nodes, output node 6, variables: c, d, a, b>"
    wide = repr(gradcalc.parse(" + ".join(f"x{i}" for i in range(1000))))
    assert len(wide) < 250 and "(1000 in all)" in wide


def test_gradient_takes_values_as_a_mapping_and_options_as_keywords():
    # variables named like the options stay variables: ∂(wrt*check + order**2)
    result = gradcalc.gradient("wrt*check + order**2", {"wrt": 2, "check": 3, "order": 4})
    assert result.value == 2 * 3 + 4**2
    assert result.gradients == {"check": 2.0, "order": 8.0, "wrt": 3.0}
    only = gradcalc.gradient("wrt*check + order**2", {"wrt": 2, "check": 3, "order": 4}, wrt=["order", "wrt"])
    assert list(only.gradients.items()) == [("order", 8.0), ("wrt", 3.0)]
    assert gradcalc.gradient("x*y", {"x": 2, "y": 5}, wrt="y").gradients == {"y": 2.0}


def test_gradient_seed_and_check():
    import numpy as np

    result = gradcalc.gradient("x*x", {"x": [1.0, 3.0]}, seed_grad=[1.0, -0.5])
    assert result.gradients["x"].tolist() == [2 * 1.0 * 1.0, 2 * 3.0 * -0.5]
    checked = gradcalc.gradient("sin(x)*y", {"x": 0.5, "y": 2.0}, check=True)
    assert checked.check.passed and [row.name for row in checked.check.rows] == ["x", "y"]
    x_row = checked.check.rows[0]
    assert abs(x_row.analytic - 2.0 * np.cos(0.5)) < 1e-15 and abs(x_row.numeric - x_row.analytic) < 1e-8
    assert gradcalc.gradient("x*y", {"x": 2, "y": 5}).check is None


def test_gradient_refuses_what_it_cannot_use():
    import pytest

    from gradcalc import UsageError

    with pytest.raises(UsageError, match="mapping"):
        gradcalc.gradient("x*2", [("x", 1)])
    with pytest.raises(UsageError, match="no variable z") as caught:
        gradcalc.gradient("x*2", {"x": 1}, wrt="z")
    assert caught.value.hint == "its variables are: x"
    with pytest.raises(TypeError):  # options are keyword-only: no silent unused variable
        gradcalc.gradient("x*2", {"x": 1}, "x")


@pytest.mark.parametrize("wrt, shown", [(3, "3"), ([3], "[3]"), (("x", 2.5), "('x', 2.5)"), (b"x", "b'x'")])
@pytest.mark.parametrize("function", ["gradient", "hessian", "derivatives", "jacobian"])
def test_wrt_that_is_not_names_is_a_usage_error(function, wrt, shown):
    from gradcalc import UsageError

    with pytest.raises(UsageError) as caught:
        getattr(gradcalc, function)("x*y", {"x": 1, "y": 2}, wrt=wrt)
    assert caught.value.message.startswith(f"wrt={shown}")
    assert caught.value.message.endswith(": wrt takes a variable's name or a list of names")
    assert caught.value.hint == 'wrt="x", or wrt=["x", "y"] for several'


def test_wrt_given_one_name_is_that_name_not_its_letters():
    # xy*xy*y at xy = 1, y = 2: ∂/∂xy = 2·xy·y = 4, ∂²/∂xy² = 2y = 4, ∂³/∂xy³ = 0
    values = {"xy": 1, "y": 2}
    assert gradcalc.hessian("xy*xy*y", values, wrt="xy") == {"xy": {"xy": 4.0}}
    assert gradcalc.derivatives("xy*xy*y", values, 3, wrt="xy")[3] == {"xy": {"xy": {"xy": 0.0}}}
    assert gradcalc.jacobian("xy*xy*y", values, wrt="xy") == {"xy": 4.0}


@pytest.mark.parametrize("value, error", [
    (memoryview(b"ab"), "ValueFormatError"), ({"a": 1}, "ValueFormatError"), ("2", "ValueFormatError"),
    (np.ma.masked_array([1.0, 2.0], mask=[0, 1]), "ValueFormatError"), (True, "ValueFormatError"),
    (None, "MissingValueError"),
])
def test_a_value_of_another_type_is_refused_as_the_readme_says(value, error):
    # README -> Python API -> gradient(): it said UsageError, which none of these raises
    with pytest.raises(gradcalc.InputError) as caught:
        gradcalc.gradient("sum(x*x)", {"x": value})
    assert type(caught.value).__name__ == error
    with pytest.raises(gradcalc.UsageError, match="mapping"):
        gradcalc.gradient("x", [value])


@pytest.mark.parametrize("value, message, hint", [
    (np.ma.masked_array([1.0, 2.0], mask=[0, 1]),
     "the value of x is masked_array(data=[1.0, --], mask=[False, True], fill_value=1e+20)"
     " (of type numpy.ma.MaskedArray), not a number", "pass x.filled(value) or x.compressed()"),
    ({"a": 1}, "the value of x is {'a': 1} (of type dict), not a number",
     "give a number, or a list or numpy array of numbers"),
    ("2", "the value of x is '2' (of type str), not a number",
     "numbers are not text: float('1.5') converts a number's text"),
])
def test_a_value_that_is_not_a_number_is_named_on_one_line_with_its_type(value, message, hint):
    # a masked array's repr is three lines; the message said only "masked_array(...), not a number"
    with pytest.raises(gradcalc.InputError) as caught:
        gradcalc.evaluate("sum(x*x)", x=value)
    assert caught.value.message == message
    assert caught.value.hint == hint


def test_an_array_with_nan_says_how_to_fix_it():
    with pytest.raises(gradcalc.InputError) as caught:
        gradcalc.evaluate("sum(x)", x=np.array([1.0, np.nan]))
    assert caught.value.message == "the value of x has a non-finite element (nan at index (1,)); values must be finite"
    assert caught.value.hint == ("replace inf and nan by numbers, or leave those elements out "
                                 "(with numpy: values[np.isfinite(values)])")


def _hinted_call(hint: str):
    """The Python call a hint suggests (`give evaluate(..., y=1), or bind ...`), parsed: its function
    name, its keyword names and the keys of a mapping it passes."""
    import ast

    code = hint.removeprefix("give ").partition(", or bind")[0].replace("...", "expression", 1)
    call = ast.parse(code.replace("{...,", "{**values,"), mode="eval").body
    keywords = [k.arg if k.arg else ast.literal_eval(k.value).popitem()[0] for k in call.keywords]
    keys = [ast.literal_eval(key) for argument in call.args[1:] for key in argument.keys if key is not None]
    return call.func.id, keywords, keys


def test_api_hints_name_the_python_arguments_not_command_line_options():
    from gradcalc import MissingValueError, ShapeError

    with pytest.raises(MissingValueError) as caught:
        gradcalc.evaluate("x*y", x=1)
    assert caught.value.hint == "give evaluate(..., y=1), or bind it on the line (y = 1; ...)"
    # several names, one of them a Python keyword: still a call Python accepts
    with pytest.raises(MissingValueError) as caught:
        gradcalc.evaluate("x*y*z + lambda", x=1)
    assert "--" not in caught.value.hint
    assert _hinted_call(caught.value.hint) == ("evaluate", ["lambda", "y", "z"], [])
    for function in (gradcalc.gradient, gradcalc.hessian, gradcalc.jacobian):
        with pytest.raises(MissingValueError) as caught:
            function("x*y", {"x": 1})
        call = f'{function.__name__}(..., {{..., "y": 1}})'
        assert caught.value.hint == f"give {call}, or bind it on the line (y = 1; ...)"
        assert _hinted_call(caught.value.hint) == (function.__name__, [], ["y"])
    with pytest.raises(MissingValueError) as caught:
        gradcalc.jvp("x*y", {"x": 1}, {"x": 1})
    assert _hinted_call(caught.value.hint) == ("jvp", [], ["y"])
    # a seed of 4 elements for a scalar output, and of 3 for an output of 2
    with pytest.raises(ShapeError, match=r"shape \(4,\), the output \(\)") as caught:
        gradcalc.gradient("x*y", {"x": 1, "y": 2}, seed_grad=np.ones(4))
    assert caught.value.hint == "give seed_grad= an array of the output's shape"
    for function in (gradcalc.hessian, gradcalc.derivatives):
        with pytest.raises(ShapeError, match=r"shape \(3,\), the output \(2,\)") as caught:
            function("x*v", {"x": 1, "v": [1, 2]}, seed_grad=np.ones(3))
        assert caught.value.hint == "give seed_grad= an array of the output's shape"


@pytest.mark.parametrize("call, message, hint", [
    (lambda: gradcalc.derivatives("x*y", {"x": 1, "y": 2}, order=11),
     "order 11: the order must be a whole number from 1 to 10", "order=2 (or hessian()) for second derivatives"),
    (lambda: gradcalc.diff("x*y", "x", order=11),
     "order 11: the order must be a whole number from 1 to 10", "order=2 (or hessian()) for second derivatives"),
    (lambda: gradcalc.derivatives("sum(v*v*v)", {"v": [1, 2]}, order=3),
     "derivatives of order 3 need scalar variables; array variables go up to order 2",
     "use hessian() (order 2) or hvp() for array variables"),
    (lambda: gradcalc.diff("sum(x)", "x"),
     "sum(x) is an array operation; a derivative as a formula is written in scalar operations only",
     "evaluate array derivatives at a point with hessian() or jacobian()"),
])
def test_derivative_hints_name_the_python_functions_not_options(call, message, hint):
    from gradcalc import UsageError

    with pytest.raises(UsageError) as caught:
        call()
    assert (caught.value.message, caught.value.hint) == (message, hint)


def test_command_line_hints_still_name_the_options():
    def stderr(*argv):
        result = subprocess.run([sys.executable, "-m", "gradcalc", *argv], capture_output=True, text=True, timeout=60)
        assert result.returncode == 2
        return result.stderr

    assert "hint: give --y VALUE, or bind it on the line (y = 1; ...)" in stderr("x*y", "--x", "1")
    assert "hint: give --seed-grad an array of the output's shape" in stderr("x*v", "--x", "1", "--v", "1,2",
                                                                            "--seed-grad", "1,2,3")
    assert "hint: give --var format=VALUE --y VALUE, or bind them" in stderr("format*y", "--x", "1")
    assert "hint: use --hessian (order 2) or --hvp for array variables" in stderr("sum(v*v*v)", "--v", "1,2",
                                                                                "--order", "3")
    assert "hint: evaluate array derivatives at a point with --hessian or --jacobian" in stderr("sum(x)", "--diff", "x")
