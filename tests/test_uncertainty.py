"""Uncertainty propagation: against the `uncertainties` package on generated expressions, against
Monte Carlo sampling on nonlinear ones, and through every way of giving a σ (option, line, --data,
--correlation/--covariance) and every output format."""

import json
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gradcalc import evaluate, parse
from gradcalc.errors import EvaluationError, GradcalcError, ParseError
from gradcalc.formula import to_text
from gradcalc.layers import FUNCTIONS, REGISTRY
from gradcalc.uncertainty import Correlation, format_plus_minus, propagate

uncertainties = pytest.importorskip("uncertainties", reason="the test extra installs uncertainties")
umath = pytest.importorskip("uncertainties.umath")


def _nominal(u):
    return getattr(u, "nominal_value", u)


# The functions callable on numbers, read from the registry, each as `uncertainties` computes it.
SCALAR_FUNCTIONS = sorted(f for f in FUNCTIONS if not getattr(REGISTRY[f], "array_only", False))
UMATH = {
    "exp": umath.exp, "ln": umath.log, "log": umath.log, "sqrt": umath.sqrt, "tanh": umath.tanh,
    "sin": umath.sin, "cos": umath.cos, "abs": abs,
    "sigmoid": lambda u: 1 / (1 + umath.exp(-u)),
    "relu": lambda u: u if _nominal(u) > 0 else 0 * u,  # relu'(0) = 0, as gradcalc's
    "sign": lambda u: 0 * u + float((_nominal(u) > 0) - (_nominal(u) < 0)),  # derivative 0
    "step": lambda u: 0 * u + float(_nominal(u) > 0),
    "xlogy": lambda u, v: 0 * u * v if _nominal(u) == 0 else u * umath.log(v),
    "tan": umath.tan, "asin": umath.asin, "acos": umath.acos, "atan": umath.atan, "sinh": umath.sinh,
    "cosh": umath.cosh, "asinh": umath.asinh, "acosh": umath.acosh, "atanh": umath.atanh,
    "arcsin": umath.asin, "arccos": umath.acos, "arctan": umath.atan, "arcsinh": umath.asinh,
    "arccosh": umath.acosh, "arctanh": umath.atanh, "atan2": umath.atan2, "arctan2": umath.atan2,
    "hypot": umath.hypot, "erf": umath.erf, "erfc": umath.erfc, "expm1": umath.expm1,
    "log10": umath.log10, "log1p": umath.log1p, "log2": lambda u: umath.log(u) / math.log(2),
    "exp2": lambda u: 2 ** u, "pow": lambda u, v: u ** v,
    "softplus": lambda u: umath.log(1 + umath.exp(u)), "log_sigmoid": lambda u: -umath.log(1 + umath.exp(-u)),
    "gelu": lambda u: u * (1 + umath.erf(u / math.sqrt(2))) / 2,
    "leaky_relu": lambda u: u if _nominal(u) > 0 else 0.01 * u,
    "elu": lambda u: u if _nominal(u) > 0 else umath.expm1(u),
    "floor": lambda u: 0 * u + math.floor(_nominal(u)), "ceil": lambda u: 0 * u + math.ceil(_nominal(u)),
    "round": lambda u: 0 * u + round(_nominal(u)),
    "maximum": lambda u, v: u if _nominal(u) > _nominal(v) else v if _nominal(u) < _nominal(v) else (u + v) / 2,
    "minimum": lambda u, v: u if _nominal(u) < _nominal(v) else v if _nominal(u) > _nominal(v) else (u + v) / 2,
    "mod": lambda u, v: u - v * math.floor(_nominal(u) / _nominal(v)),
}
BINARY = {"+": lambda p, q: p + q, "-": lambda p, q: p - q, "*": lambda p, q: p * q,
          "/": lambda p, q: p / q, "**": lambda p, q: p ** q}
NAMES = ("a", "b", "c")


def test_every_number_function_has_an_uncertainties_counterpart():
    assert set(SCALAR_FUNCTIONS) == set(UMATH)


def _leaves():
    variables = st.sampled_from(NAMES).map(lambda n: (n, lambda env, n=n: env[n]))
    constants = st.sampled_from(["0.5", "2", "3", "1.25"]).map(lambda c: (c, lambda env, c=c: float(c)))
    return variables | constants


def _call(name, operands):
    return (f"{name}({', '.join(text for text, _ in operands)})",
            lambda env: UMATH[name](*(build(env) for _, build in operands)))


def _extend(children):
    unary = st.sampled_from(SCALAR_FUNCTIONS).flatmap(
        lambda name: st.lists(children, min_size=getattr(REGISTRY[name], "arity", 1),
                              max_size=getattr(REGISTRY[name], "arity", 1)).map(lambda ops: _call(name, ops)))
    negate = children.map(lambda c: (f"-({c[0]})", lambda env, c=c: -c[1](env)))
    binary = st.tuples(children, st.sampled_from(sorted(BINARY)), children).map(
        lambda t: (f"({t[0][0]}) {t[1]} ({t[2][0]})",
                   lambda env, t=t: BINARY[t[1]](t[0][1](env), t[2][1](env))))
    return unary | negate | binary


EXPRESSIONS = st.recursive(_leaves(), _extend, max_leaves=6)
POINTS = st.fixed_dictionaries({n: st.floats(0.2, 3.0) for n in NAMES})
# uncertainties squares σ in a correlated sum: below ~1e-150 the square is subnormal and its
# reference loses digits (σ = 6.6e-161 came back 0.06% off), so σ is 0 or a normal-squared size
SIGMAS = st.fixed_dictionaries({n: st.floats(0.0, 0.3).filter(lambda s: s == 0 or s > 1e-100) for n in NAMES})


def _reference(expression, env):
    """`uncertainties`' own value of the expression, or None where it cannot compute one."""
    try:
        with np.errstate(all="ignore"):
            return expression(env)
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return None


def _close(ours, theirs, scale):
    return math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-13 * scale)


def _scale(spread, reference, result, sigmas):
    """What rounding errors in σ are relative to: the contributions, and for results whose
    derivatives cancel (a/a), the size of the terms that cancel, ~ |f|·Σ σᵢ/|xᵢ|."""
    relative = sum(sigmas[n] / abs(result.inputs[n]) for n in result.inputs)
    # max(|f|, 1): a function of a cancelling ratio can be 0 where its slope is not (ln(b/b))
    return (sum(abs(c) for c in spread.contributions.values()) + abs(reference.std_dev)
            + max(abs(result.value), 1.0) * relative)


@given(EXPRESSIONS, POINTS, SIGMAS)
def test_first_order_sigma_and_contributions_match_uncertainties(expression, point, sigmas):
    text, build = expression
    try:
        result = evaluate(text, **{n: point[n] for n in NAMES if n in text})
    except (EvaluationError, GradcalcError):
        assume(False)
    used = {n: sigmas[n] for n in result.inputs}
    assume(used)
    reference = _reference(build, {n: uncertainties.ufloat(point[n], sigmas[n], n) for n in NAMES})
    assume(reference is not None and hasattr(reference, "std_dev") and math.isfinite(reference.std_dev))
    spread = propagate(result.value, result.gradients, result.inputs, used)
    components = {variable.tag: value for variable, value in reference.error_components().items()}
    scale = _scale(spread, reference, result, used)
    assert _close(spread.sigma, reference.std_dev, scale)
    for name, contribution in spread.contributions.items():
        assert _close(abs(contribution), components.get(name, 0.0), scale), name
    if spread.sigma > 1e-6 * scale:
        assert math.isclose(sum(spread.share.values()), 1.0, rel_tol=1e-9)


@given(EXPRESSIONS, POINTS, SIGMAS, st.floats(-0.9, 0.9), st.floats(-0.9, 0.9))
def test_correlated_sigma_matches_uncertainties(expression, point, sigmas, rho_ab, rho_bc):
    text, build = expression
    try:
        result = evaluate(text, **{n: point[n] for n in NAMES if n in text})
    except (EvaluationError, GradcalcError):
        assume(False)
    rho = [[1.0, rho_ab, 0.0], [rho_ab, 1.0, rho_bc], [0.0, rho_bc, 1.0]]
    assume(np.linalg.eigvalsh(rho)[0] > 1e-6)
    assume(all(sigmas[n] > 0 for n in NAMES))
    values = uncertainties.correlated_values_norm([(point[n], sigmas[n]) for n in NAMES], rho)
    reference = _reference(build, dict(zip(NAMES, values)))
    assume(reference is not None and hasattr(reference, "std_dev") and math.isfinite(reference.std_dev))
    used = {n: sigmas[n] for n in result.inputs}
    spread = propagate(result.value, result.gradients, result.inputs, used, Correlation(list(NAMES), rho))
    assert _close(spread.sigma, reference.std_dev, _scale(spread, reference, result, used))


def test_share_and_elasticity_by_hand():
    # f = x² y at x = 2 ± 0.1, y = 3 ± 0.3: ∂f/∂x = 12, ∂f/∂y = 4; contributions 1.2 and 1.2
    result = evaluate("x = 2 ± 0.1; y = 3 +- 0.3; x**2 * y")
    spread = result.uncertainty
    assert spread.sigma == pytest.approx(math.sqrt(1.2**2 + 1.2**2), rel=1e-15)
    assert spread.contributions == pytest.approx({"x": 1.2, "y": 1.2}, rel=1e-15)
    assert spread.share == pytest.approx({"x": 0.5, "y": 0.5}, rel=1e-15)
    assert spread.elasticity == pytest.approx({"x": 2.0, "y": 1.0}, rel=1e-15)  # the powers of x and y


def test_ranked_by_share_largest_first():
    spread = evaluate("a = 1 ± 0.01; b = 1 ± 0.5; c = 1 ± 0.1; a + b + c").uncertainty
    assert list(spread.contributions) == ["b", "c", "a"]
    assert list(spread.share) == list(spread.elasticity) == ["b", "c", "a"]


def test_correlation_by_hand():
    # x + y with σ 0.3 and 0.4: ρ = 0 gives 0.5, ρ = 1 gives 0.7, ρ = -1 gives 0.1
    for rho, expected in ((0.0, 0.5), (1.0, 0.7), (-1.0, 0.1)):
        spread = propagate(5.0, {"x": 1.0, "y": 1.0}, {"x": 2.0, "y": 3.0}, {"x": 0.3, "y": 0.4},
                           Correlation(["x", "y"], [[1.0, rho], [rho, 1.0]]))
        assert spread.sigma == pytest.approx(expected, rel=1e-12)
        # shares c_i Σ_j ρ_ij c_j / σ²: with ρ = -1, 0.3·(0.3 - 0.4)/0.01 = -3 and 0.4·(0.4 - 0.3)/0.01 = 4
        assert sum(spread.share.values()) == pytest.approx(1.0)
    assert spread.share == pytest.approx({"x": -3.0, "y": 4.0})


# Monte Carlo: nonlinear expressions where first order is an approximation. The figures are the
# README's table (tests/reference/uncertainty_mc.py prints them from a million samples).
MONTE_CARLO = [
    # expression, point, sigmas, the largest |first order / Monte Carlo - 1| the README states
    ("x*y", {"x": 5.0, "y": 3.0}, {"x": 0.2, "y": 0.1}, 0.002),
    ("exp(x)", {"x": 1.0}, {"x": 0.1}, 0.01),
    ("x/y", {"x": 2.0, "y": 4.0}, {"x": 0.1, "y": 0.2}, 0.01),
    ("sqrt(x)*ln(y)", {"x": 4.0, "y": 3.0}, {"x": 0.2, "y": 0.15}, 0.005),
    ("sin(x)", {"x": 1.2}, {"x": 0.3}, 0.09),  # near a maximum: curvature, not slope, dominates
]


def exact_sigma(text, point, sigmas):
    """σ of the output for independent normal inputs, where a closed form exists."""
    if text == "x*y":
        (x, y), (sx, sy) = point.values(), sigmas.values()
        return math.sqrt(x * x * sy * sy + y * y * sx * sx + sx * sx * sy * sy)
    if text == "exp(x)":  # lognormal
        mu, s = point["x"], sigmas["x"]
        return math.sqrt(math.exp(2 * mu + s * s) * math.expm1(s * s))
    if text == "sin(x)":  # E sin X = sin μ e^(-s²/2), E sin² X = (1 - cos 2μ e^(-2s²))/2
        mu, s = point["x"], sigmas["x"]
        return math.sqrt((1 - math.cos(2 * mu) * math.exp(-2 * s * s)) / 2 - (math.sin(mu) * math.exp(-s * s / 2)) ** 2)
    return None


@pytest.mark.parametrize("text, point, sigmas, bound", MONTE_CARLO)
def test_first_order_against_monte_carlo(text, point, sigmas, bound):
    result = evaluate(text, **point)
    spread = propagate(result.value, result.gradients, result.inputs, sigmas)
    rng = np.random.default_rng(20261128)
    samples = {n: rng.normal(point[n], sigmas[n], 400_000) for n in point}
    sampled = evaluate(text, **samples).value  # gradcalc's array path evaluates every sample at once
    monte_carlo = float(np.std(sampled, ddof=1))
    sampling_error = 3 / math.sqrt(2 * len(sampled))  # 3 standard errors of a normal sample's σ, relative
    assert abs(spread.sigma / monte_carlo - 1) <= bound + sampling_error
    exact = exact_sigma(text, point, sigmas)
    if exact is not None:  # the sampling itself is right where the exact σ is known
        assert monte_carlo == pytest.approx(exact, rel=sampling_error)


def test_monte_carlo_sees_what_first_order_misses():
    # x*y: Var = x²σy² + y²σx² + σx²σy² exactly; first order drops σx²σy². With σ as large as the
    # values, the missing term is a third of the variance, and the sampled σ shows it.
    result = evaluate("x*y", x=1.0, y=1.0)
    first = propagate(result.value, result.gradients, result.inputs, {"x": 1.0, "y": 1.0}).sigma
    rng = np.random.default_rng(7)
    sampled = rng.normal(1, 1, 400_000) * rng.normal(1, 1, 400_000)
    assert first == pytest.approx(math.sqrt(2))
    assert float(np.std(sampled)) == pytest.approx(math.sqrt(3), rel=0.01)


def test_format_plus_minus():
    assert format_plus_minus(15.0, 0.7810249675906655) == "15.00 ± 0.78"
    assert format_plus_minus(15.0, 0.0996) == "15.00 ± 0.10"
    assert format_plus_minus(1234.5, 123.4) == "1230 ± 120"
    assert format_plus_minus(1.5e-20, 3e-22) == "(1.500 ± 0.030)e-20"
    assert format_plus_minus(-0.001, 0.1) == "0.00 ± 0.10"
    assert format_plus_minus(5.0, 0.0) == "5 ± 0"


# ---- the syntax ----------------------------------------------------------------------------------

def test_line_binding_with_plus_minus_and_its_ascii_spelling():
    graph = parse("x = 5 ± 0.2; y = -3 +- 1e-1; x*y")
    assert graph.bindings == {"x": 5.0, "y": -3.0}
    assert graph.sigmas == {"x": 0.2, "y": 0.1}


@pytest.mark.parametrize("text, column", [
    ("a +- b", 3),  # `+-` is ±: a plus and a negative number is `a + -b`
    ("+-x", 1),
    ("2 * (5 ± 0.2)", 5),
    ("x = a ± 1; x", 7),
    ("-(5 ± 1)", 2),
])
def test_plus_minus_outside_a_binding_is_an_error(text, column):
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert caught.value.column == column
    assert "x = 5 ± 0.2" in caught.value.hint


@pytest.mark.parametrize("text", ["x = 5 ± -0.2; x", "x = 5 ± y; x", "x = 5 ± 1e999; x"])
def test_the_uncertainty_is_a_finite_number_at_least_zero(text):
    with pytest.raises(ParseError) as caught:
        parse(text)
    # 1e999 is refused as any number a double cannot hold is, wherever it is written
    assert "uncertainty" in caught.value.message or caught.value.message.startswith("1e999 overflows")
    assert caught.value.column == text.index(text.split("± ")[1].split(";")[0]) + 1


def test_printer_keeps_the_uncertainty():
    graph = parse("x = -5 ± 0.2; y = 3; x*y")
    again = parse(to_text(graph))
    assert again.bindings == graph.bindings and again.sigmas == graph.sigmas


# ---- the command line ----------------------------------------------------------------------------

def test_option_json_has_exactly_the_issue_keys(run_cli):
    code, out, err = run_cli("x*y", "--x", "5±0.2", "--y", "3+-0.1", "-o", "json")
    assert code == 0 and err == ""
    record = json.loads(out)
    assert list(record["uncertainty"]) == ["sigma", "contributions", "share", "elasticity"]
    assert record["uncertainty"]["sigma"] == pytest.approx(math.sqrt(0.6**2 + 0.5**2), rel=1e-15)
    assert record["uncertainty"]["contributions"] == pytest.approx({"x": 0.6, "y": 0.5})
    assert record["uncertainty"]["share"] == pytest.approx({"x": 0.36 / 0.61, "y": 0.25 / 0.61})
    assert record["uncertainty"]["elasticity"] == {"x": 1.0, "y": 1.0}


def test_no_uncertainty_key_without_a_sigma(run_cli):
    code, out, _ = run_cli("x*y", "--x", "5", "--y", "3", "-o", "json")
    assert "uncertainty" not in json.loads(out)


def test_the_line_wins_over_the_option_with_its_sigma(run_cli):
    # the line binds x without σ: the option's 5±0.2 (value and σ) is not used
    code, out, _ = run_cli("x = 2; x*y", "--x", "5±0.2", "--y", "3±0.1", "-o", "json", "-q")
    record = json.loads(out)
    assert record["value"] == 6.0 and list(record["uncertainty"]["contributions"]) == ["y"]
    assert record["uncertainty"]["sigma"] == pytest.approx(0.2)


def test_plain_puts_sigma_second(run_cli):
    code, out, _ = run_cli("x*y", "--x", "5±0.2", "--y", "3", "-o", "plain")
    assert out.split() == ["15", "±0.6000000000000001", "x=3", "y=5"]


def test_table_shows_value_plus_minus_sigma_and_the_ranking(run_cli):
    code, out, _ = run_cli("x*y/z", "--x", "5±0.2", "--y", "3±0.1", "--z", "2")
    assert code == 0
    assert "output = 7.50 ± 0.39 (σ by first-order propagation)" in out
    rows = [line.split("│")[1:-1] for line in out.splitlines() if line.count("│") == 6]
    # contributions ∂f/∂x·σx = y/z·0.2 and x/z·0.1, whole: 1.5·0.2 is 0.30000000000000004 in doubles
    assert [[cell.strip() for cell in row] for row in rows[-2:]] == [
        ["x", "5 ± 0.2", repr(3 / 2 * 0.2), "59.0%", "1"], ["y", "3 ± 0.1", repr(5 / 2 * 0.1), "41.0%", "1"]]


def test_batch_csv_columns_sigma_and_share(run_cli, tmp_path):
    jobs = tmp_path / "jobs.txt"
    jobs.write_text("x = 2 ± 0.1; x*y\ny = 4 ± 0.5; x*y\nx + y\n", encoding="utf-8")
    code, out, _ = run_cli("-f", str(jobs), "--x", "3", "--y", "5", "-o", "csv")
    lines = out.splitlines()
    assert lines[0] == "line,expression,value,grad_x,grad_y,sigma,share_x,share_y,error"
    assert lines[1] == "1,x = 2 ± 0.1; x*y,10.0,5.0,2.0,0.5,1.0,,"
    assert lines[2] == "2,y = 4 ± 0.5; x*y,12.0,4.0,3.0,1.5,,1.0,"
    assert lines[3] == "3,x + y,8.0,1.0,1.0,,,,"


def test_tsv_with_wrt_streams_the_option_sigma_columns(run_cli):
    code, out, _ = run_cli("x*y", "x+y", "--x", "3±0.1", "--y", "5", "--wrt", "x", "-o", "tsv")
    assert out.splitlines() == ["line\texpression\tvalue\tgrad_x\tsigma\tshare_x\terror",
                                "1\tx*y\t15.0\t5.0\t0.5\t1.0\t", "2\tx+y\t8.0\t1.0\t0.1\t1.0\t"]


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_correlation_file(run_cli, tmp_path, suffix):
    matrix = tmp_path / f"rho{suffix}"
    if suffix == ".json":
        matrix.write_text(json.dumps({"names": ["x", "y"], "matrix": [[1, 0.5], [0.5, 1]]}))
    else:
        matrix.write_text("x,y\n1,0.5\n0.5,1\n")
    code, out, err = run_cli("x + y", "--x", "1±0.3", "--y", "2±0.4", "--correlation", str(matrix), "-o", "json")
    assert code == 0, err
    # σ² = 0.09 + 0.16 + 2·0.5·0.3·0.4 = 0.37
    assert json.loads(out)["uncertainty"]["sigma"] == pytest.approx(math.sqrt(0.37), rel=1e-15)


def test_covariance_file_gives_the_sigmas(run_cli, tmp_path):
    matrix = tmp_path / "cov.csv"
    matrix.write_text("x,y\n0.09,-0.06\n-0.06,0.16\n")
    code, out, err = run_cli("x + y", "--x", "1", "--y", "2", "--covariance", str(matrix), "-o", "json")
    assert code == 0, err
    record = json.loads(out)["uncertainty"]
    assert record["sigma"] == pytest.approx(math.sqrt(0.09 + 0.16 - 0.12), rel=1e-14)
    assert record["contributions"] == pytest.approx({"y": 0.4, "x": 0.3})


@pytest.mark.parametrize("content, message", [
    ("x,y\n1,0.5\n0.4,1\n", "not symmetric"),
    ("x,y\n1,1.5\n1.5,1\n", "between -1 and 1"),
    ("x,y,z\n1,0.9,-0.9\n0.9,1,0.9\n-0.9,0.9,1\n", "not positive semi-definite"),
    ("x,y\n1,0.5\n", "2 names need 2 rows"),
    ("x,y\n1,a\n0.5,1\n", "line 2, column y: 'a' is not a number"),
    ("x,y\n2,0.5\n0.5,1\n", "diagonal of a correlation matrix is 1"),
])
def test_bad_correlation_matrices_are_exit_2(run_cli, tmp_path, content, message):
    matrix = tmp_path / "rho.csv"
    matrix.write_text(content)
    code, _, err = run_cli("x + y", "--x", "1±0.1", "--y", "2±0.1", "--correlation", str(matrix))
    assert code == 2 and message in err and "Traceback" not in err


def test_a_matrix_may_relate_more_quantities_than_the_expression_uses(run_cli, tmp_path):
    # refused (exit 2) from 3b4ab40 to the review; worked before: the matrix describes L and T, L^2 uses L
    matrix = tmp_path / "rho.csv"
    matrix.write_text("L,T\n1,0.3\n0.3,1\n")
    code, out, err = run_cli("L^2", "--L", "1±0.1", "--correlation", str(matrix), "-o", "json")
    assert code == 0 and json.loads(out)["uncertainty"]["sigma"] == pytest.approx(0.2, rel=1e-15)  # 2L·0.1
    assert err == f"gradcalc: warning: --correlation {matrix} names T, which the expression does not use\n"
    assert run_cli("L^2", "--L", "1±0.1", "--correlation", str(matrix), "-o", "json", "-q")[2] == ""


def test_a_batch_warns_once_of_the_names_no_line_uses(run_cli, tmp_path):
    matrix = tmp_path / "rho.csv"
    matrix.write_text("L,T,Q\n1,0.3,0\n0.3,1,0\n0,0,1\n")
    code, out, err = run_cli("L*T", "L^2", "2*L", "--L", "1±0.1", "--T", "2±0.1", "--correlation", str(matrix),
                             "-o", "jsonl")
    # L*T: c_L = 0.2, c_T = 0.1, σ² = 0.04 + 0.01 + 2·0.3·0.02 = 0.062; L^2: 2·0.1; 2*L: 2·0.1
    sigmas = [json.loads(line)["uncertainty"]["sigma"] for line in out.splitlines()]
    assert code == 0 and sigmas == pytest.approx([math.sqrt(0.062), 0.2, 0.2], rel=1e-15)
    assert err == f"gradcalc: warning: --correlation {matrix} names Q, which no expression uses\n"
    # a line that did not parse may have used Q: nothing is said (as of a --NAME no line used)
    code, _, err = run_cli("L*T", "L*(", "--L", "1±0.1", "--T", "2±0.1", "--correlation", str(matrix))
    assert code == 2 and "warning" not in err


@pytest.mark.parametrize("variables, names, warning", [
    # L,Q for L,T: T is independent of L, as the matrix says nothing of it; the warning guesses T
    ("LT", "L,Q", "names Q, which the expression does not use; did you mean T?"),
    ("xy", "L,T", "names L and T, which the expression does not use (the matrix changes no result)"),
])
def test_a_name_the_expression_does_not_use_is_a_warning(run_cli, tmp_path, variables, names, warning):
    a, b = variables
    matrix = tmp_path / "rho.csv"
    matrix.write_text(f"{names}\n1,0.3\n0.3,1\n")
    code, out, err = run_cli(f"{a}*{b}", f"--{a}", "1±0.1", f"--{b}", "2±0.1", "--correlation", str(matrix),
                             "-o", "json")
    # independent: c_a = b·0.1 = 0.2, c_b = a·0.1 = 0.1, σ = √0.05
    assert code == 0 and json.loads(out)["uncertainty"]["sigma"] == pytest.approx(math.sqrt(0.05), rel=1e-15)
    assert err == f"gradcalc: warning: --correlation {matrix} {warning}\n"


def test_with_nothing_alike_the_guess_is_an_input_with_a_sigma(run_cli, tmp_path):
    # a correlation relates inputs with a σ: T given without one, or a --data column without its
    # sigma_x, is no guess for Q (nor x for T); σ = ∂(LT)/∂L·0.1 = T·0.1 = 0.2
    matrix, points = tmp_path / "rho.csv", tmp_path / "points.csv"
    matrix.write_text("L,Q\n1,0.3\n0.3,1\n")
    no_guess = f"gradcalc: warning: --correlation {matrix} names Q, which the expression does not use\n"
    code, out, err = run_cli("L*T", "--L", "1±0.1", "--T", "2", "--correlation", str(matrix), "-o", "json")
    assert code == 0 and json.loads(out)["uncertainty"]["sigma"] == pytest.approx(0.2, rel=1e-15)
    assert err == no_guess
    points.write_text("T\n2\n")
    code, out, err = run_cli("L*T", "--L", "1±0.1", "--data", str(points), "--correlation", str(matrix))
    assert code == 0 and err == no_guess
    points.write_text("T,sigma_T\n2,0.1\n")  # with its σ, T is the guess
    code, out, err = run_cli("L*T", "--L", "1±0.1", "--data", str(points), "--correlation", str(matrix))
    assert code == 0 and err.endswith("names Q, which the expression does not use; did you mean T?\n")


def test_a_covariance_name_the_expression_does_not_use_is_a_warning(run_cli, tmp_path):
    (tmp_path / "cov.json").write_text(json.dumps({"names": ["x", "why", "zed"], "matrix": [[1, 0, 0], [0, 1, 0],
                                                                                           [0, 0, 1]]}))
    code, out, err = run_cli("x*y", "--x", "1", "--y", "2", "--covariance", str(tmp_path / "cov.json"), "-o", "json")
    # σ_x = √1 from the diagonal; y has none: σ = ∂(xy)/∂x · 1 = y = 2
    assert code == 0 and json.loads(out)["uncertainty"]["sigma"] == 2.0
    assert "names why and zed, which the expression does not use\n" in err


def test_a_batch_file_whose_lines_bind_their_own_uncertain_values(run_cli, tmp_path):
    # the review's batch: line 2 was refused ("names T, which is not an input") though line 1 uses T
    matrix, jobs = tmp_path / "rho.csv", tmp_path / "jobs.txt"
    matrix.write_text("L,T\n1,0.3\n0.3,1\n")
    jobs.write_text("L = 1 ± 0.1; T = 2 ± 0.1; L*T\nL = 1 ± 0.1; L^2\n")
    code, out, err = run_cli("-f", str(jobs), "--correlation", str(matrix), "-o", "jsonl")
    sigmas = [json.loads(line)["uncertainty"]["sigma"] for line in out.splitlines()]
    assert (code, err) == (0, "") and sigmas == pytest.approx([math.sqrt(0.062), 0.2], rel=1e-15)


def test_a_matrix_may_name_a_value_a_line_of_a_batch_does_not_use(run_cli, tmp_path):
    matrix = tmp_path / "rho.csv"
    matrix.write_text("L,T\n1,0.3\n0.3,1\n")
    code, out, err = run_cli("L*T", "L*2", "--L", "1±0.1", "--T", "2±0.1", "--correlation", str(matrix), "-o", "jsonl")
    first, second = (json.loads(line)["uncertainty"]["sigma"] for line in out.splitlines())
    assert (code, err) == (0, "")
    # c_L = ∂(LT)/∂L·σ_L = 0.2, c_T = 0.1: σ² = 0.04 + 0.01 + 2·0.3·0.2·0.1; L*2 alone: 2·0.1
    assert first == pytest.approx(math.sqrt(0.062), rel=1e-15) and second == pytest.approx(0.2, rel=1e-15)


@pytest.mark.parametrize("name, content, message", [
    ("rho.csv", "L,T\n1,0.3\n0.3,1\n".encode("utf-16"), "rho.csv, line 1: the byte 0xff is not UTF-8 text"),
    ("rho.csv", b"L,T\n1,0.3\n0.3,\xe9\n", "rho.csv, line 3: the byte 0xe9 is not UTF-8 text"),
    ("rho.csv", "L,T\n1,0.3\n0.3,١\n".encode(), "rho.csv, line 3, column T: '١' is not a number"),
    ("rho.json", b'{"names": ["L", "T"], "matrix": [[1, "0.3"], [0.3, 1]]}',
     'rho.json, row 1, column 2: "0.3" is not a number'),
    ("rho.json", b'{"names": ["L", "T"], "matrix": [[1, 1' + b"0" * 400 + b"], [0.3, 1]]}",
     "rho.json, row 1, column 2: 1000000000000000000000000000000000000000 is not a finite number"),
    ("rho.json", b"[" * 100_000, "rho.json: the JSON nests too deeply"),
    ("rho.json", b'{"names": [1, 2], "matrix": [[1, 0], [0, 1]]}', '"names" must be a list of strings'),
    ("rho.csv", b'L,T\n1,"' + b"0" * 200_000 + b'"\n0,1\n', "not a CSV matrix"),
    ("rho.csv", b"L,L\n1,0\n0,1\n", "the names must be distinct and non-empty (L is named twice)"),
    ("rho.csv", b"L m,T\n1,0\n0,1\n", "rho.csv: 'L m' is not a variable name"),  # no input can be named so
])
def test_unreadable_matrices_are_exit_2_with_a_hint(run_cli, tmp_path, name, content, message):
    matrix = tmp_path / name
    matrix.write_bytes(content)
    code, out, err = run_cli("L*T", "--L", "1±0.1", "--T", "2±0.1", "--correlation", str(matrix))
    assert (code, out) == (2, "") and message in err
    assert "\n  hint: " in err and "codec" not in err and "internal error" not in err


def test_sigma_given_twice_must_agree(run_cli, tmp_path):
    matrix = tmp_path / "cov.json"
    matrix.write_text(json.dumps({"names": ["x"], "matrix": [[0.04]]}))
    code, _, err = run_cli("x*2", "--x", "1±0.3", "--covariance", str(matrix))
    assert code == 2 and "covariance matrix gives 0.2" in err


@pytest.mark.parametrize("argv, message", [
    (("x", "--x", "5±-0.2"), "finite number >= 0"),
    (("x", "--x", "5±"), "expected a number ± its standard uncertainty"),
    (("sum(x)", "--x", "1,2±0.1"), "numbers only, not arrays"),
    (("x*2", "--x", "1±0.1", "--correlation", "a.csv", "--covariance", "b.csv"), "not both"),
])
def test_bad_uncertainty_input_is_exit_2(run_cli, argv, message):
    code, _, err = run_cli(*argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_array_output_with_an_uncertainty_is_exit_2(run_cli):
    code, _, err = run_cli("x*v", "--x", "2±0.1", "--v", "1,2,3")
    assert code == 2 and "number-valued expression" in err


def test_data_sigma_columns(run_cli, tmp_path):
    points = tmp_path / "points.csv"
    points.write_text("x,sigma_x,y\n1,0.1,2\n3,0.2,4\n")
    code, out, err = run_cli("a = 2 ± 0.5; a*x*y", "--data", str(points))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "x,sigma_x,y,value,grad_a,grad_x,grad_y,sigma,share_a,share_x,error"
    # row 1: f = 4, ∂f/∂a = 2, ∂f/∂x = 4: contributions 1.0 and 0.4
    row = dict(zip(lines[0].split(","), lines[1].split(",")))
    assert float(row["grad_a"]) == 2.0  # the line's binding gets each row's own gradient
    assert float(row["sigma"]) == pytest.approx(math.sqrt(1.0 + 0.16), rel=1e-15)
    assert float(row["share_a"]) == pytest.approx(1.0 / 1.16, rel=1e-14)
    row = dict(zip(lines[0].split(","), lines[2].split(",")))  # f = 24, ∂a = 12, ∂x = 8: 6.0 and 1.6
    assert float(row["sigma"]) == pytest.approx(math.sqrt(36 + 2.56), rel=1e-15)


def test_data_rows_that_fail_keep_the_others_with_sigma(run_cli, tmp_path):
    points = tmp_path / "points.csv"
    points.write_text("x,sigma_x\n1,0.1\n0,0.1\n")
    code, out, _ = run_cli("ln(x)", "--data", str(points))
    lines = out.splitlines()
    assert code == 1
    assert lines[1] == "1.0,0.1,0.0,1.0,0.1,1.0,"
    assert lines[2].startswith("0.0,0.1,,,,,\"DomainError")


def test_data_negative_sigma_is_exit_2(run_cli, tmp_path):
    points = tmp_path / "points.csv"
    points.write_text("x,sigma_x\n1,0.1\n2,-0.1\n")
    code, _, err = run_cli("x*2", "--data", str(points))
    assert code == 2 and "line 3, column sigma_x" in err


# ---- second order ---------------------------------------------------------------------------------

def _second(text, correlation=None, **values):
    from gradcalc.uncertainty import second_order, uncertainty_of

    result = evaluate(text, **values)
    uncertainty = uncertainty_of(result, {}, values, correlation) if correlation else result.uncertainty
    return uncertainty, second_order(result, uncertainty, correlation)


def test_second_order_is_exact_for_a_square():
    # x ~ N(2, 0.5²): E[x²] = μ² + σ² = 4.25, Var[x²] = 4μ²σ² + 2σ⁴ = 4.125
    first, second = _second("x = 2 ± 0.5; x**2")
    assert first.sigma == pytest.approx(2.0)
    assert second.mean == pytest.approx(4.25, rel=1e-15)
    assert second.mean_shift == pytest.approx(0.25, rel=1e-15)
    assert second.sigma == pytest.approx(math.sqrt(4.125), rel=1e-15)
    assert not second.reliable  # the mean moves by 12.5% of σ


def test_second_order_is_exact_for_a_product_of_correlated_inputs():
    # bivariate normal: E[xy] = μxμy + ρσxσy; Var[xy] = μx²σy² + μy²σx² + 2ρμxμyσxσy + σx²σy²(1 + ρ²)
    rho, (mx, sx), (my, sy) = 0.6, (5.0, 0.2), (3.0, 0.1)
    correlation = Correlation(["x", "y"], [[1, rho], [rho, 1]])
    first, second = _second("x = 5 ± 0.2; y = 3 ± 0.1; x*y", correlation)
    assert second.mean == pytest.approx(mx * my + rho * sx * sy, rel=1e-15)
    variance = mx**2 * sy**2 + my**2 * sx**2 + 2 * rho * mx * my * sx * sy + sx**2 * sy**2 * (1 + rho**2)
    assert second.sigma == pytest.approx(math.sqrt(variance), rel=1e-14)
    assert second.reliable


def test_second_order_flags_first_order_near_an_extremum():
    # sin(x) at 1.2 ± 0.3 (first order 8% below the exact σ): the curvature term is 30% of the
    # first-order variance, and the second-order mean is close to the exact E[sin X] = sin μ e^(-σ²/2)
    first, second = _second("x = 1.2 ± 0.3; sin(x)")
    assert not second.reliable
    assert second.variance_term / first.sigma**2 == pytest.approx(0.5 * math.sin(1.2) ** 2 * 0.3**4
                                                                  / (math.cos(1.2) * 0.3) ** 2)
    assert second.mean == pytest.approx(math.sin(1.2) * math.exp(-0.045), rel=2e-3)
    exact = exact_sigma("sin(x)", {"x": 1.2}, {"x": 0.3})
    assert abs(second.sigma / exact - 1) < abs(first.sigma / exact - 1)  # closer than first order


def test_second_order_where_first_order_sees_nothing():
    first, second = _second("x = 0 ± 0.1; x**2")
    assert first.sigma == 0.0 and second.sigma == pytest.approx(math.sqrt(2) * 0.01)
    assert not second.reliable and "it gives σ = 0" in second.note()


def test_second_order_keeps_a_linear_expression_reliable():
    first, second = _second("x = 1 ± 0.1; y = 2 ± 0.3; 3*x - 2*y")
    assert second.mean_shift == 0.0 and second.variance_term == 0.0 and second.sigma == first.sigma
    assert second.reliable and "0.0% of the first-order variance" in second.note()


def test_second_order_in_json_is_one_more_key():
    import dataclasses

    first, second = _second("x = 2 ± 0.5; x**2")
    record = dataclasses.replace(first, second=second).to_dict()
    assert list(record) == ["sigma", "contributions", "share", "elasticity", "second_order"]
    assert record["second_order"] == {"mean": 4.25, "sigma": math.sqrt(4.125), "mean_shift": 0.25,
                                      "variance_term": 0.125, "first_order_reliable": False}
    assert list(first.to_dict()) == ["sigma", "contributions", "share", "elasticity"]


def test_order_2_on_the_command_line(run_cli):
    # x² y at x = 2 ± 0.5, y = 3 ± 0.1: H = [[2y, 2x], [2x, 0]] = [[6, 4], [4, 0]]
    # mean shift ½ Σ Hᵢᵢσᵢ² = ½·6·0.25 = 0.75; variance term ½ Σ Hᵢⱼ²σᵢ²σⱼ² = ½(36·0.0625 + 2·16·0.0025) = 1.165
    code, out, err = run_cli("x^2*y", "--x", "2±0.5", "--y", "3±0.1", "--order", "2", "-o", "json")
    assert code == 0, err
    record = json.loads(out)["uncertainty"]
    first = math.sqrt(12.0**2 * 0.25 + 4.0**2 * 0.01)
    assert record["sigma"] == pytest.approx(first, rel=1e-15)
    assert record["second_order"] == pytest.approx({
        "mean": 12.75, "sigma": math.sqrt(first**2 + 1.165), "mean_shift": 0.75, "variance_term": 1.165,
        "first_order_reliable": False})  # the mean moves by 0.75 / 6.008 = 12.5% of σ
    code, out, err = run_cli("x^2*y", "x+y", "--x", "2±0.5", "--y", "3±0.1", "--order", "2", "-o", "csv")
    header, first_row, second_row = out.splitlines()
    assert header.endswith(",sigma,share_x,share_y,mean2,sigma2,error")
    assert first_row.split(",")[-3:] == ["12.75", repr(math.sqrt(first**2 + 1.165)), ""]
    assert second_row.split(",")[-3:-1] == ["5.0", repr(math.sqrt(0.26))]  # linear: no correction
    code, out, err = run_cli("x^2*y", "--x", "2±0.5", "--y", "3±0.1", "--order", "2")
    assert "second order (normal inputs): 12.8 ± 6.1 (mean ± σ)" in out
    assert "first order is NOT reliable here" in " ".join(out.split())


@pytest.mark.parametrize("text, words", [("1±1e-400", "the uncertainty 1e-400 underflows to 0"),
                                         ("1+-1e999", "the uncertainty 1e999 overflows")])
def test_an_option_uncertainty_a_double_cannot_hold_is_refused(run_cli, text, words):
    code, out, err = run_cli("x", "--x", text, "-o", "plain")
    assert (code, out) == (2, "") and words in err
