"""gradcalc's value and derivative at each special point of the README's edge table."""

import math

import pytest

from gradcalc import evaluate
from gradcalc.errors import DomainError, NonFiniteError

# (expression, variable value, value, derivative) — or the error class where gradcalc refuses
EDGES = [
    ("relu(x)", 0.0, 0.0, 0.0),
    ("abs(x)", 0.0, 0.0, 0.0),
    ("sqrt(x)", 0.0, NonFiniteError, "derivative is not finite"),
    ("x**2", 0.0, 0.0, 0.0),
    ("x**0.5", 0.0, NonFiniteError, "derivative is not finite"),
    ("x**0", 0.0, 1.0, 0.0),
    ("z**x", 2.0, 0.0, 0.0),          # 0**y at y = 2, ∂/∂y (z = 0)
    ("n**x", 2.0, DomainError, r"derivative in x needs ln\(n\), which is not real"),  # (-2)**y at y = 2, ∂/∂y
    ("sigmoid(x)", -1000.0, 0.0, 0.0),
    ("sigmoid(x)", 1000.0, 1.0, 0.0),
    ("ln(x)", 1e-300, math.log(1e-300), 1e300),
    ("ln(x)", 0.0, DomainError, "ln needs a positive number"),
    ("ln(x)", -1.0, DomainError, "ln needs a positive number"),
    ("exp(x)", 709.0, math.exp(709), math.exp(709)),
    ("exp(x)", 710.0, NonFiniteError, "overflows"),
    ("1/x", 0.0, DomainError, "division by zero"),
    ("asin(x)", 1.0, NonFiniteError, "derivative is not finite"),
    ("acosh(x)", 1.0, NonFiniteError, "derivative is not finite"),
    ("atanh(x)", 1.0, DomainError, "atanh needs a number strictly between -1 and 1"),
    ("log1p(x)", -1.0, DomainError, "log1p needs a number > -1"),
    ("softplus(x)", 1000.0, 1000.0, 1.0),
    ("log_sigmoid(x)", -1000.0, -1000.0, 1.0),
    ("gelu(x)", 0.0, 0.0, 0.5),
    ("leaky_relu(x)", 0.0, 0.0, 0.01),
    ("elu(x)", 0.0, 0.0, 1.0),
    ("sign(x)", 0.0, 0.0, 0.0),
    ("step(x)", 0.0, 0.0, 0.0),
    ("floor(x)", 2.0, 2.0, 0.0),
    ("round(x)", 0.5, 0.0, 0.0),
    ("maximum(x, 1)", 1.0, 1.0, 0.5),
    ("clip(x, 0, 1)", 1.0, 1.0, 1.0),
    ("hypot(x, 0)", 0.0, 0.0, 0.0),
    ("atan2(x, 0)", 0.0, NonFiniteError, "derivative is not finite"),
    ("mod(7.5, x)", 2.0, 1.5, -3.0),
    ("norm(x)", 0.0, 0.0, 0.0),
]


@pytest.mark.parametrize("expr,x,value,derivative", EDGES, ids=[f"{e[0]}@{e[1]}" for e in EDGES])
def test_edge_point(expr, x, value, derivative):
    constants = {"z": 0.0, "n": -2.0}
    if isinstance(value, type):
        with pytest.raises(value, match=derivative):
            evaluate(expr, x=x, **{k: v for k, v in constants.items() if k in expr})
        return
    result = evaluate(expr, x=x, **{k: v for k, v in constants.items() if k in expr})
    assert result.value == pytest.approx(value, rel=1e-15)
    assert result.gradients["x"] == pytest.approx(derivative, rel=1e-15)
