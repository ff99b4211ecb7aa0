"""σ at the ends of the double range: contributions whose squares vanish (1e-200) or overflow
(1e200) in a float still give σ where σ is a float, every output stays strict JSON, and a σ (a
contribution, a second-order term) beyond the largest float is an error with exit code 1.

The references are computed apart from gradcalc: with mpmath at 50 digits from the same float
contributions, or derived by hand (Var(xy) of independent normals, Var(x²) = 2σ⁴ at 0)."""

import csv
import io
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import unwrapped
from gradcalc import evaluate, gradient
from gradcalc.errors import NonFiniteError
from gradcalc.uncertainty import Correlation, propagate

mpmath = pytest.importorskip("mpmath", reason="the test extra installs mpmath")
mpmath.mp.dps = 50


def strict_json(text: str):
    """json.loads that refuses Infinity and NaN, which strict JSON (and most parsers) cannot read."""
    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def near(expected, rel=1e-15):
    """pytest.approx within `rel` only: its default absolute 1e-12 would take 0 for 1e-200."""
    return pytest.approx(expected, rel=rel, abs=0.0)


def gradcalc(*argv):
    return subprocess.run([sys.executable, "-m", "gradcalc", *argv], capture_output=True, text=True, timeout=60)


def reference_sigma(contributions, rho=None):
    """√(cᵀRc) and the shares cᵢ(Rc)ᵢ/σ², in mpmath from the float contributions."""
    c = [mpmath.mpf(value) for value in contributions]
    n = len(c)
    rho = rho or [[float(i == j) for j in range(n)] for i in range(n)]
    coupled = [mpmath.fsum(rho[i][j] * c[j] for j in range(n)) for i in range(n)]
    variance = mpmath.fsum(c[i] * coupled[i] for i in range(n))
    return float(mpmath.sqrt(variance)), [float(c[i] * coupled[i] / variance) for i in range(n)]


# --- the commands of the report, run as a user runs them ---

def test_a_sigma_whose_square_vanishes_in_a_float_is_not_0():
    done = gradcalc("x*y", "--x", "1e-100±1e-100", "--y", "1e-100", "-o", "plain")
    assert done.returncode == 0, done.stderr
    value, sigma, *_ = done.stdout.split()
    contribution = 1e-100 * 1e-100  # ∂(xy)/∂x·σx = y·σx
    assert float(value) == contribution and sigma.startswith("±")
    assert float(sigma[1:]) == near(math.hypot(contribution)) and float(sigma[1:]) > 0

    record = strict_json(gradcalc("x*y", "--x", "1e-100±1e-100", "--y", "1e-100", "-o", "json").stdout)
    spread = record["uncertainty"]
    assert spread["contributions"] == {"x": contribution}
    assert spread["sigma"] == near(contribution)
    assert spread["share"] == {"x": 1.0}  # c²/σ² with c = σ


def test_the_python_api_gives_the_same_sigma():
    uncertainty = evaluate("x = 1e-100 ± 1e-100; x*1e-100").uncertainty
    assert uncertainty.sigma == near(1e-100 * 1e-100)
    assert uncertainty.share == {"x": 1.0}


def test_a_sigma_near_the_largest_float_is_not_inf():
    done = gradcalc("x*1e200+y*1e200", "--x", "1±1e108", "--y", "1±1e108", "-o", "plain")
    assert done.returncode == 0, done.stderr
    sigma = float(done.stdout.split()[1].lstrip("±"))
    expected = float(mpmath.sqrt(2) * mpmath.mpf(1e200 * 1e108))  # hypot of two equal contributions
    assert sigma == near(expected) and math.isfinite(sigma)


def test_a_sigma_beyond_the_largest_float_is_an_error_in_strict_json():
    done = gradcalc("x*1e300", "--x", "1±1e10", "-o", "json")
    assert done.returncode == 1
    error = strict_json(done.stdout)["error"]
    assert error["type"] == "NonFiniteError"
    assert "x's contribution" in error["message"] and "about 1e+310" in error["message"]
    assert "units" in error["hint"]


def test_the_error_on_a_terminal_names_what_overflowed_with_a_caret_and_a_hint():
    done = gradcalc("x*1e300", "--x", "1±1e10")
    assert done.returncode == 1 and done.stdout == ""
    lines = unwrapped(done.stderr).splitlines()  # the message's words (it wraps at 80 columns)
    assert lines[0].startswith("gradcalc: error: x's contribution to σ, ∂output/∂x·σ = 1e+300 × 10000000000,")
    assert lines[1:3] == ["    x*1e300", "    ^^^^^^^"] and lines[3].startswith("  hint: ")


def test_sigma_beyond_the_largest_float_from_finite_contributions():
    # each contribution 1.5e308 is a float; their hypot, 2.12e308, is not
    done = gradcalc("x*1e200+y*1e200", "--x", "1±1.5e108", "--y", "1±1.5e108", "-o", "json")
    assert done.returncode == 1
    message = strict_json(done.stdout)["error"]["message"]
    expected = mpmath.sqrt(2) * mpmath.mpf(1.5e200 * 1e108)
    assert message.startswith("σ of the output is about ") and mpmath.nstr(expected, 3) in message


# --- every output format, parsed back ---

UNDERFLOW = ("x*y", "--x", "1e-100±1e-100", "--y", "1e-100±1e-100")  # σ = √2·1e-200
OVERFLOW = ("x*1e200+y*1e200", "--x", "1±1e108", "--y", "1±1e108")  # σ = √2·1e308


def _sigma_of(output_format: str, text: str) -> float:
    if output_format in ("json", "jsonl"):
        return strict_json(text)["uncertainty"]["sigma"]
    if output_format in ("csv", "tsv"):
        rows = list(csv.DictReader(io.StringIO(text), delimiter="\t" if output_format == "tsv" else ","))
        return float(rows[0]["sigma"])
    return float(text.split()[1].lstrip("±"))  # plain


@pytest.mark.parametrize("output_format", ["json", "jsonl", "csv", "tsv", "plain"])
@pytest.mark.parametrize("argv, contribution", [(UNDERFLOW, 1e-100 * 1e-100), (OVERFLOW, 1e200 * 1e108)])
def test_every_format_carries_the_sigma(output_format, argv, contribution):
    done = gradcalc(*argv, "-o", output_format)
    assert done.returncode == 0, done.stderr
    expected = float(mpmath.sqrt(2) * mpmath.mpf(contribution))
    assert _sigma_of(output_format, done.stdout) == near(expected)
    if output_format in ("csv", "tsv"):
        row = next(csv.DictReader(io.StringIO(done.stdout), delimiter="\t" if output_format == "tsv" else ","))
        assert float(row["share_x"]) == near(0.5) and float(row["share_y"]) == near(0.5)


@pytest.mark.parametrize("argv, shown", [(UNDERFLOW, "(1.0 ± 1.4)e-200"), (OVERFLOW, "(0.0 ± 1.4)e+308")])
def test_the_table_shows_the_sigma_and_the_shares(argv, shown):
    done = gradcalc(*argv, "--no-nodes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"output = {shown} (σ by first-order propagation)"
    rows = [line for line in done.stdout.splitlines() if line.startswith("│ x ") or line.startswith("│ y ")]
    assert len(rows) == 4 and all("50.0%" in row for row in rows[2:])  # the sensitivity rows


@pytest.mark.parametrize("output_format", ["json", "jsonl", "csv", "tsv", "plain", "table"])
def test_every_format_refuses_a_sigma_beyond_the_largest_float(output_format):
    done = gradcalc("x*1e300", "--x", "1±1e10", "-o", output_format)
    assert done.returncode == 1
    assert "Infinity" not in done.stdout and "inf" not in done.stdout.lower().replace("info", "")
    if output_format in ("json", "jsonl"):
        assert strict_json(done.stdout)["error"]["type"] == "NonFiniteError"
    elif output_format in ("csv", "tsv"):  # the row's error column
        row = next(csv.DictReader(io.StringIO(done.stdout), delimiter="\t" if output_format == "tsv" else ","))
        assert row["value"] == row["sigma"] == "" and "about 1e+310, beyond the largest float" in row["error"]
    else:
        assert "about 1e+310, beyond the largest float" in done.stderr


def test_an_elasticity_whose_product_overflows_is_still_a_number():
    # x² at 1.3e154: ∂f/∂x·x = 2x² = 3.4e308 overflows, the elasticity ∂f/∂x·x/f is 2
    record = strict_json(gradcalc("x^2", "--x", "1.3e154±1", "-o", "json").stdout)
    spread = record["uncertainty"]
    assert spread["elasticity"]["x"] == near(2.0)
    assert spread["sigma"] == near(2 * 1.3e154)  # ∂(x²)/∂x·σ = 2x·1
    assert spread["share"] == {"x": 1.0}


# --- propagate itself, at every scale, on floats and on numpy columns ---

@given(st.integers(-340, 308), st.lists(st.floats(0.1, 1.0) | st.floats(-1.0, -0.1), min_size=1, max_size=4),
       st.lists(st.integers(-30, 0), min_size=4, max_size=4))
def test_sigma_and_shares_at_every_scale(power, mantissas, offsets):
    # contributions up to 1e308 (each a float), down to subnormal and 0
    contributions = [float(mpmath.mpf(m) * mpmath.mpf(10) ** (power + offset)) for m, offset in zip(mantissas, offsets)]
    names = [f"x{i}" for i in range(len(contributions))]
    if not any(contributions):  # all below the smallest float
        spread = propagate(1.0, dict(zip(names, contributions)), dict.fromkeys(names, 1.0), dict.fromkeys(names, 1.0))
        assert spread.sigma == 0.0 and set(spread.share.values()) == {None}
        return
    expected_sigma, expected_shares = reference_sigma(contributions)
    if expected_sigma > sys.float_info.max:
        with pytest.raises(NonFiniteError, match="σ of the output is about"):
            propagate(1.0, dict(zip(names, contributions)), dict.fromkeys(names, 1.0), dict.fromkeys(names, 1.0))
        return
    spread = propagate(1.0, dict(zip(names, contributions)), dict.fromkeys(names, 1.0), dict.fromkeys(names, 1.0))
    # 4 ulps of the sum of squares; a subnormal σ has fewer digits: its absolute spacing then
    assert spread.sigma == pytest.approx(expected_sigma, rel=4e-16 * len(names), abs=5e-324)
    for name, share in zip(names, expected_shares):
        assert spread.share[name] == pytest.approx(share, rel=1e-14, abs=1e-300)
    columns = propagate(np.ones(2), {n: np.full(2, c) for n, c in zip(names, contributions)},
                        {n: np.ones(2) for n in names}, {n: np.ones(2) for n in names})
    assert columns.sigma.tolist() == [spread.sigma] * 2  # the same arithmetic, row by row
    assert [columns.share[n][0] for n in names] == [spread.share[n] for n in names]


@pytest.mark.parametrize("scale", [1e-200, 1.0, 1e150])
def test_correlated_sigma_is_scaled_too(scale):
    names = ["a", "b", "c"]
    rho = [[1.0, 0.5, -0.3], [0.5, 1.0, 0.2], [-0.3, 0.2, 1.0]]
    gradients = {"a": 2.0 * scale, "b": -1.0 * scale, "c": 0.5 * scale}
    sigmas = {"a": 1.0, "b": 3.0, "c": 2.0}
    spread = propagate(1.0, gradients, dict.fromkeys(names, 1.0), sigmas, Correlation(names, rho))
    expected_sigma, expected_shares = reference_sigma([gradients[n] * sigmas[n] for n in names], rho)
    assert spread.sigma == near(expected_sigma)
    assert [spread.share[n] for n in names] == near(expected_shares, 1e-14)


def test_a_correlation_file_at_the_bottom_of_the_range(tmp_path):
    matrix = tmp_path / "rho.csv"
    matrix.write_text("x,y\n1,0.5\n0.5,1\n")
    done = gradcalc("x+y", "--x", "0±1e-200", "--y", "0±1e-200", "--correlation", str(matrix), "-o", "json")
    spread = strict_json(done.stdout)["uncertainty"]
    # Var(x + y) = σ² + σ² + 2ρσ² = 3σ²
    assert spread["sigma"] == near(float(mpmath.sqrt(3) * mpmath.mpf(1e-200)))
    assert spread["share"] == {"x": 0.5, "y": 0.5}


# --- --data: each row its own σ, a row beyond the range its own error ---

def test_data_rows_at_both_ends_of_the_range(tmp_path):
    points = tmp_path / "points.csv"
    points.write_text("x,sigma_x,y\n1e-100,1e-100,1e-100\n1,1e108,1e200\n1,1e10,1e300\n2,0.1,3\n")
    done = gradcalc("x*y", "--data", str(points), "-o", "jsonl")
    assert done.returncode == 1  # the third row's σ is 1e310
    rows = [strict_json(line) for line in done.stdout.splitlines()]
    assert [row["sigma"] for row in rows[:2]] == [near(1e-200), near(1e308)]
    assert rows[2]["sigma"] is None and "about 1e+310, beyond the largest float" in rows[2]["error"]
    assert rows[3]["sigma"] == near(0.3) and rows[3]["error"] is None  # 3·0.1
    assert all(row["share_x"] == 1.0 for row in rows if row["error"] is None)
    assert done.stderr == ""  # no numpy warning leaks


# --- second order ---

def _second_order_json(*argv):
    done = gradcalc(*argv, "--order", "2", "-o", "json")
    return done.returncode, strict_json(done.stdout)


def test_second_order_of_a_product_of_tiny_uncertain_inputs():
    code, record = _second_order_json("x*y", "--x", "1e-100±1e-100", "--y", "1e-100±1e-100")
    second = record["uncertainty"]["second_order"]
    # independent normals: E xy = μxμy, Var xy = μx²σy² + μy²σx² + σx²σy² = 3e-400 (exact: xy is quadratic)
    assert code == 0 and second["mean"] == near(1e-200)
    assert second["sigma"] == near(float(mpmath.sqrt(3) * mpmath.mpf(1e-200)))
    # the variance term σx²σy² = 1e-400 is half the first-order variance: first order is not reliable
    assert second["first_order_reliable"] is False and second["variance_term"] == 0.0  # 1e-400 is no float


def test_second_order_where_first_order_sees_nothing_at_the_bottom_of_the_range():
    code, record = _second_order_json("x^2", "--x", "0±1e-100")
    second = record["uncertainty"]["second_order"]
    # x ~ N(0, σ²): E x² = σ², Var x² = 2σ⁴
    assert code == 0 and record["uncertainty"]["sigma"] == 0.0
    assert second["mean"] == near(1e-200) and second["mean_shift"] == second["mean"]
    assert second["sigma"] == near(float(mpmath.sqrt(2) * mpmath.mpf(1e-200)))


def test_a_second_order_term_beyond_the_largest_float_is_an_error():
    code, record = _second_order_json("x^2", "--x", "1e100±1e100")
    # ½ tr(HΣHΣ) = ½ (2σ²)² = 2e400
    assert code == 1 and "variance term ½ tr(HΣHΣ) is about 2e+400" in record["error"]["message"]
    assert "--order 2" in record["error"]["hint"]


def test_second_order_csv_columns_at_the_bottom_of_the_range():
    done = gradcalc("x*y", "--x", "1e-100±1e-100", "--y", "1e-100±1e-100", "--order", "2", "-o", "csv")
    row = next(csv.DictReader(io.StringIO(done.stdout)))
    assert float(row["mean2"]) == near(1e-200)
    assert float(row["sigma2"]) == near(float(mpmath.sqrt(3) * mpmath.mpf(1e-200)))


def test_the_table_note_says_first_order_is_not_reliable_at_the_bottom_of_the_range():
    done = gradcalc("x*y", "--x", "1e-100±1e-100", "--y", "1e-100±1e-100", "--order", "2", "--no-nodes")
    prose = " ".join(done.stdout.split())
    assert "first order is NOT reliable here: the second-order variance term is 50.0% of the first-order" in prose


# --- the smallest σ a float holds, and the API with wrt ---

def test_a_subnormal_sigma_prints():
    done = gradcalc("x", "--x", "0±5e-324", "--no-nodes")
    assert done.returncode == 0, done.stderr
    # 5e-324 is 4.94…e-324: σ to two digits, the value to the same place
    assert done.stdout.splitlines()[0] == "output = (0.0 ± 4.9)e-324 (σ by first-order propagation)"


def test_gradient_with_wrt_still_needs_the_gradient_of_an_uncertain_input():
    # σ needs ∂f/∂x, infinite here: an error, as on the command line, not a TypeError
    with pytest.raises(NonFiniteError, match="sqrt"):
        gradient("x = 1 ± 0.1; sqrt(x - 1) + y", {"y": 1}, wrt="y")
    result = gradient("x = 2 ± 0.1; sqrt(x - 1) + y", {"y": 1}, wrt="y")
    assert result.uncertainty.sigma == pytest.approx(0.1 / (2 * math.sqrt(2 - 1)))
