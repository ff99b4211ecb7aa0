"""Print what PyTorch and JAX give at gradcalc's special points (the README's edge table).

Not part of the suite (neither is a dependency). Run in an environment that has one or both
(a missing one prints "not installed" in its column):
    python -m pip install torch "jax[cpu]" && python tests/reference/edge_points.py
"""


class _Missing:
    """Stands for a library that is not installed: attribute chains resolve, calls raise."""

    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        raise ImportError


try:
    import torch
except ImportError:
    torch = _Missing()
try:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
except ImportError:
    jax = jnp = _Missing()

# (label, torch function, jax function, point); the derivative is with respect to x
POINTS = [
    ("relu(x) at 0", torch.relu, jax.nn.relu, 0.0),
    ("abs(x) at 0", torch.abs, jnp.abs, 0.0),
    ("sqrt(x) at 0", torch.sqrt, jnp.sqrt, 0.0),
    ("x**2 at 0", lambda x: x ** 2, lambda x: x ** 2, 0.0),
    ("x**0.5 at 0", lambda x: x ** 0.5, lambda x: x ** 0.5, 0.0),
    ("x**0 at 0", lambda x: x ** 0.0, lambda x: x ** 0.0, 0.0),
    ("0**y at y=2 (d/dy)", lambda x: torch.tensor(0.0, dtype=torch.float64) ** x,
     lambda x: jnp.float64(0.0) ** x, 2.0),
    ("(-2)**y at y=2 (d/dy)", lambda x: torch.tensor(-2.0, dtype=torch.float64) ** x,
     lambda x: jnp.float64(-2.0) ** x, 2.0),
    ("sigmoid(x) at -1000", torch.sigmoid, jax.nn.sigmoid, -1000.0),
    ("sigmoid(x) at 1000", torch.sigmoid, jax.nn.sigmoid, 1000.0),
    ("ln(x) at 1e-300", torch.log, jnp.log, 1e-300),
    ("ln(x) at 0", torch.log, jnp.log, 0.0),
    ("ln(x) at -1", torch.log, jnp.log, -1.0),
    ("exp(x) at 709", torch.exp, jnp.exp, 709.0),
    ("exp(x) at 710", torch.exp, jnp.exp, 710.0),
    ("1/x at 0", lambda x: 1 / x, lambda x: 1 / x, 0.0),
    ("asin(x) at 1", torch.asin, jnp.arcsin, 1.0),
    ("acosh(x) at 1", torch.acosh, jnp.arccosh, 1.0),
    ("atanh(x) at 1", torch.atanh, jnp.arctanh, 1.0),
    ("log1p(x) at -1", torch.log1p, jnp.log1p, -1.0),
    ("softplus(x) at 1000", torch.nn.functional.softplus, jax.nn.softplus, 1000.0),
    ("log_sigmoid(x) at -1000", torch.nn.functional.logsigmoid, jax.nn.log_sigmoid, -1000.0),
    ("gelu(x) at 0", torch.nn.functional.gelu, lambda x: jax.nn.gelu(x, approximate=False), 0.0),
    ("leaky_relu(x) at 0", torch.nn.functional.leaky_relu, jax.nn.leaky_relu, 0.0),
    ("elu(x) at 0", torch.nn.functional.elu, jax.nn.elu, 0.0),
    ("sign(x) at 0", torch.sign, jnp.sign, 0.0),
    ("step(x) at 0", lambda x: torch.heaviside(x, torch.tensor(0.0, dtype=torch.float64)),
     lambda x: jnp.heaviside(x, 0.0), 0.0),
    ("floor(x) at 2", torch.floor, jnp.floor, 2.0),
    ("round(x) at 0.5", torch.round, jnp.round, 0.5),
    ("maximum(x, 1) at 1 (a tie)", lambda x: torch.maximum(x, torch.tensor(1.0, dtype=torch.float64)),
     lambda x: jnp.maximum(x, 1.0), 1.0),
    ("clip(x, 0, 1) at 1", lambda x: torch.clamp(x, 0.0, 1.0), lambda x: jnp.clip(x, 0.0, 1.0), 1.0),
    ("hypot(x, 0) at 0", lambda x: torch.hypot(x, torch.tensor(0.0, dtype=torch.float64)),
     lambda x: jnp.hypot(x, 0.0), 0.0),
    ("atan2(x, 0) at 0", lambda x: torch.atan2(x, torch.tensor(0.0, dtype=torch.float64)),
     lambda x: jnp.arctan2(x, 0.0), 0.0),
    ("norm(x) at 0", lambda x: torch.linalg.norm(x.reshape(1)), lambda x: jnp.linalg.norm(x.reshape(1)), 0.0),
    ("mod(7.5, y) at 2 (d/dy)", lambda y: torch.remainder(torch.tensor(7.5, dtype=torch.float64), y),
     lambda y: jnp.mod(7.5, y), 2.0),
]


def torch_at(function, x):
    try:
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    except ImportError:
        return "not installed"
    y = function(t)
    try:
        y.backward()
    except RuntimeError as error:  # heaviside: "derivative for aten::heaviside is not implemented"
        return y.item(), f"error: {str(error).splitlines()[0][:40]}"
    return y.item(), t.grad.item()


def jax_at(function, x):
    try:
        x = jnp.float64(x)
    except ImportError:
        return "not installed"
    return float(function(x)), float(jax.grad(function)(x))


for label, torch_function, jax_function, x in POINTS:
    print(f"{label:45s} torch {torch_at(torch_function, x)!s:28s} jax {jax_at(jax_function, x)}")
