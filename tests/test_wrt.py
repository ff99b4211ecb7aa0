"""--wrt (and wrt= in the API) limit which derivatives must be finite: only gradients that reach the
named variables. A derivative that is not finite where it flows only to others is no error, and
those others get no gradient (null), as a constant has none. Expected values are derived by hand."""

import json

import numpy as np
import pytest

import gradcalc
from gradcalc.errors import DomainError, NonFiniteError

LARGEST_FINITE_PART = 1.5e308  # two of them add up to more than a double holds


def strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_a_power_with_a_negative_base_has_a_derivative_in_its_base(run_cli):
    # ∂/∂x x^y = y x^(y-1) = 2 (-2) = -4; ∂/∂y = x^y ln x needs ln(-2), which --wrt x does not ask for
    assert run_cli("x^y", "--x", "-2", "--y", "2", "--wrt", "x", "-o", "plain")[:2] == (0, "-4\n")
    code, out, err = run_cli("x^y", "--x", "-2", "--y", "2", "--wrt", "y", "-o", "plain")
    assert code == 1 and "x^y: its derivative in y needs ln(x)" in err
    code, out, err = run_cli("x^y", "--x", "-2", "--y", "2", "-o", "plain")  # every variable: y too
    assert code == 1 and "x^y: its derivative in y needs ln(x)" in err


def test_an_infinite_slope_towards_another_variable_is_no_error(run_cli):
    # ∂/∂x (sqrt(y) + x) = 1; sqrt's slope at y = 0 is infinite, and only y would need it
    code, out, err = run_cli("sqrt(y) + x", "--x", "1", "--y", "0", "--wrt", "x", "-o", "json")
    assert code == 0 and err == ""
    record = strict_json(out)
    assert record["gradients"] == {"x": 1.0}
    grads = {node["expr"]: node["grad"] for node in record["nodes"]}
    assert grads == {"y": None, "sqrt(y)": 1.0, "x": 1.0, "sqrt(y) + x": 1.0}  # y has none; sqrt(y) keeps its 1
    code, out, err = run_cli("sqrt(y) + x", "--x", "1", "--y", "0", "--wrt", "y", "-o", "plain")
    assert code == 1 and "sqrt(y): its derivative is not finite" in err


def test_the_api_takes_wrt_the_same_way():
    result = gradcalc.gradient("x^y", {"x": -2, "y": 2}, wrt="x")
    assert result.gradients == {"x": -4.0}
    with pytest.raises(DomainError, match="derivative in y"):
        gradcalc.gradient("x^y", {"x": -2, "y": 2}, wrt="y")
    with pytest.raises(DomainError, match="derivative in y"):
        gradcalc.gradient("x^y", {"x": -2, "y": 2})
    with pytest.raises(DomainError, match="derivative in y"):
        gradcalc.evaluate("x^y", x=-2, y=2)
    # the Jacobian's rows are gradients: the same holds for its wrt
    assert gradcalc.jacobian("sqrt(y) + x", {"x": 1, "y": 0}, wrt="x") == {"x": 1.0}


@pytest.mark.parametrize("size", [3, 300, 70_000], ids=["small", "medium", "above-a-block"])
def test_arrays_on_every_path(size):
    # sum(x^y): ∂/∂x_i = y x_i^(y-1) = 2 x_i; ∂/∂y needs ln of the negative x_i. Called three
    # times: blocks and tapes meet the nan of ∂/∂y and leave the call to the plain path
    x = -np.linspace(1, 2, size)
    for _ in range(3):
        result = gradcalc.gradient("sum(x^y)", {"x": x, "y": 2.0}, wrt="x")
        np.testing.assert_array_equal(result.gradients["x"], 2 * x)
        assert result.value == pytest.approx(float(np.sum(x * x)), rel=1e-12)
    with pytest.raises(DomainError):
        gradcalc.gradient("sum(x^y)", {"x": x, "y": 2.0})


def test_a_number_whose_rule_raises_beside_arrays():
    # sqrt(y) is a Python float in an array evaluation: its rule divides by 2 sqrt(0) and raises;
    # ∂/∂x sum(x) = ones
    result = gradcalc.gradient("sqrt(y) + sum(x)", {"x": np.arange(4.0), "y": 0.0}, wrt="x")
    np.testing.assert_array_equal(result.gradients["x"], np.ones(4))
    assert {node.expr: node.grad for node in result.nodes}["y"] is None


def test_gradient_parts_that_overflow_only_when_added_are_an_error():
    # ∂/∂x (x*a + x*b) = a + b = 3e308, beyond the doubles, though each part is finite
    for x in (0.0, np.zeros(2)):
        with pytest.raises(NonFiniteError, match=r"the gradient of x overflows \(inf"):
            gradcalc.evaluate("x*a + x*b", x=x, a=LARGEST_FINITE_PART, b=LARGEST_FINITE_PART)
        # with wrt="a" only ∂/∂a = x = 0 is wanted
        result = gradcalc.gradient("x*a + x*b", {"x": x, "a": LARGEST_FINITE_PART, "b": LARGEST_FINITE_PART},
                                   wrt="a")
        assert np.all(result.gradients["a"] == 0.0)


def test_an_input_with_an_uncertainty_needs_its_derivative(run_cli):
    # σ of sqrt(y) + x takes ∂/∂y, infinite at y = 0: an error even with --wrt x
    code, out, err = run_cli("x = 1 ± 0.1; y = 0 ± 0.1; sqrt(y) + x", "--wrt", "x", "-o", "plain")
    assert code == 1 and "sqrt(y): its derivative is not finite" in err
    code, out, err = run_cli("x = 1 ± 0.1; y = 0; sqrt(y) + x", "--wrt", "x", "-o", "json")
    assert code == 0 and strict_json(out)["gradients"] == {"x": 1.0}


def test_data_and_sweep_limit_it_too(run_cli, tmp_path):
    points = tmp_path / "points.csv"
    points.write_text("x,y\n1,0\n-2,2\n")
    # row 1: x^y = 1, ∂/∂x = y x^(y-1) = 0; row 2: sqrt(2) + 4, ∂/∂x = 2 (-2) = -4
    code, out, err = run_cli("sqrt(y) + x^y", "--data", str(points), "--wrt", "x", "-o", "csv")
    assert code == 0
    assert out.splitlines()[1:] == ["1.0,0.0,1.0,0.0,", f"-2.0,2.0,{2 ** 0.5 + 4!r},-4.0,"]
    code, out, err = run_cli("sqrt(y) + x*y", "--sweep", "y=0:1:3", "--x", "2", "--wrt", "x", "-o", "csv")
    assert code == 0 and "gap" not in err
    assert out.splitlines()[1] == "0.0,0.0,0.0"  # at y = 0: value 0, ∂/∂x = y = 0


def test_explain_shows_the_slope_no_one_asked_for(run_cli):
    code, out, err = run_cli("sqrt(y) + x*y", "--x", "1", "--y", "0", "--wrt", "x", "--explain", "-o", "json")
    assert code == 0
    steps = strict_json(out)["explain"]
    assert {"node": 0, "from": 1, "upstream": 1.0, "local": None, "local_formula": "1/(2*sqrt(y))",
            "contribution": None} in steps  # an infinite slope is null in JSON


def test_higher_orders_in_the_wrt_variables_only():
    # ∂²/∂x² x^y = y (y-1) x^(y-2) = 2, ∂³/∂x³ = y (y-1) (y-2) x^(y-3) = 0 at x = -2, y = 2; any
    # derivative in y needs ln(-2)
    assert gradcalc.derivatives("x^y", {"x": -2, "y": 2}, order=3, wrt="x") == {2: {"x": {"x": 2.0}},
                                                                                 3: {"x": {"x": {"x": 0.0}}}}
    with pytest.raises(NonFiniteError):
        gradcalc.hessian("x^y", {"x": -2, "y": 2}, wrt="y")
    # (x^3)'' = 6x = 12 and ''' = 6 at x = 2, beside sqrt(y), whose slope is infinite at 0
    assert gradcalc.derivatives("sqrt(y) + x^3", {"x": 2, "y": 0}, order=3, wrt="x") == {
        2: {"x": {"x": 12.0}}, 3: {"x": {"x": {"x": 6.0}}}}


@pytest.mark.parametrize("argv", [("-o", "table"), ("-o", "dot"), ("--tree",), ("-o", "plain"), ("-o", "csv"),
                                  ("--graph", "picture.dot", "-o", "plain")])
def test_an_unknown_wrt_name_prints_nothing_of_the_job_in_any_format(run_cli, argv, tmp_path, monkeypatch):
    # the table printed x's node table before the error; dot and --tree ignored the name (exit 0)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("x*2", "--x", "1", "--wrt", "y", *argv)
    assert code == 2
    if argv[:2] == ("-o", "csv"):  # a record of the job: its error, no value
        assert out.splitlines()[1:] == ["1,x*2,,,UsageError: --wrt y: the expression has no variable y"]
    else:
        assert out == ""
        assert "--wrt y: the expression has no variable y" in err and "its variables are: x" in err
    assert not (tmp_path / "picture.dot").exists()


def test_an_unknown_wrt_name_fails_only_its_own_line_of_a_batch(run_cli, tmp_path):
    jobs = tmp_path / "jobs.txt"
    jobs.write_text("x*3\ny*5\n")
    code, out, err = run_cli("-f", str(jobs), "--x", "1", "--y", "2", "--wrt", "y", "-o", "tree")
    assert code == 2 and "--wrt y: the expression has no variable y (at line 1)" in err
    assert "value = 10" in out and "grad = 5" in out and "value = 3" not in out  # 5*2, ∂/∂y 5


@pytest.mark.parametrize("name", ["", " "])
@pytest.mark.parametrize("more", [(), ("--data", "points.csv"), ("--sweep", "x=0:1:3")])
def test_an_empty_wrt_name_is_a_usage_error_with_a_hint(run_cli, name, more):
    code, out, err = run_cli("x", "--x", "1", "--wrt", name, *more) if not more else \
        run_cli("x", "--wrt", name, *more)
    assert (code, out) == (2, "")
    assert "--wrt '': the name of a variable is empty" in err and "hint: give --wrt a variable" in err


@pytest.mark.parametrize("args,expected", [
    # ∂²(x^y)/∂x² = y(y-1)x^(y-2) = 2 at x = -2, y = 2; ∂/∂y needs ln(-2), which --wrt x leaves out
    (("x^y", "--x", "-2", "--y", "2"), "2 check=ok"),
    # ∂²(sum(sqrt(y)) + sum(x))/∂x² = 0; sqrt's slope at y = 0 flows only to y
    (("sum(sqrt(y)) + sum(x)", "--y", "[0,1]", "--x", "[1,2]"), "[[0,0],[0,0]] check=ok"),
])
def test_the_second_order_check_takes_wrt_as_the_derivatives_do(run_cli, args, expected):
    # the check's gradients at x ± h were taken in every variable: the error of ∂/∂y at a point
    # the user never gave (x = -1)
    code, out, err = run_cli(*args, "--wrt", "x", "--order", "2", "--check", "-o", "plain")
    assert (code, out.strip(), err) == (0, expected, "")
