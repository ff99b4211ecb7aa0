"""Print what gradcalc --check, torch.autograd.gradcheck and jax.test_util.check_grads say about the
same correct derivatives at the same points (the README's --check comparison table).

Not part of the suite (neither torch nor jax is a dependency). Run where both are installed:
    python -m pip install torch jax jaxlib && python tests/reference/check_points.py

All three judge the derivative their own library computes, which is right at every point here
(except where marked), each with its defaults, in float64: `gradcheck(fn, (x,))` (eps 1e-6,
atol 1e-5, rtol 1e-3), `check_grads(fn, (x,), order=1, modes=["rev"])`. "pass" is the verdict a
user acts on: gradcheck returned True / check_grads raised nothing / --check exited 0.
"""

import math
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import torch
from jax.test_util import check_grads

jax.config.update("jax_enable_x64", True)
ROOT = Path(__file__).resolve().parents[2]

# (gradcalc expression, point, torch function, jax function)
POINTS = [
    ("ln(x)", 1e-3, torch.log, jnp.log),
    ("ln(x)", 1e-5, torch.log, jnp.log),
    ("ln(x)", 1e-12, torch.log, jnp.log),
    ("1/x", 1e-4, lambda x: 1 / x, lambda x: 1 / x),
    ("1/x", 1e-6, lambda x: 1 / x, lambda x: 1 / x),
    ("1/x", 1e-7, lambda x: 1 / x, lambda x: 1 / x),
    ("sqrt(x)", 1e-4, torch.sqrt, jnp.sqrt),
    ("x**-2", 1e-3, lambda x: x ** -2, lambda x: x ** -2),
    ("ln(x - 5)", 5.000001, lambda x: torch.log(x - 5), lambda x: jnp.log(x - 5)),
    ("exp(x)", 700.0, torch.exp, jnp.exp),
    ("tanh(x)", 10.0, torch.tanh, jnp.tanh),
    ("sin(x)", 1e12, torch.sin, jnp.sin),
    ("sin(x)", 1e20, torch.sin, jnp.sin),
    ("relu(x)", 0.0, torch.relu, jax.nn.relu),
    ("sin(x)*exp(x)", 1.3, lambda x: torch.sin(x) * torch.exp(x), lambda x: jnp.sin(x) * jnp.exp(x)),
]


def gradcalc_verdict(expression: str, x: float) -> str:
    done = subprocess.run([sys.executable, "-m", "gradcalc", expression, "--x", repr(x), "--check", "-o", "plain"],
                          cwd=ROOT, capture_output=True, text=True)
    token = done.stdout.split("check=")[-1].strip().split(":")[0]
    return ("pass" if done.returncode == 0 else "FAIL") + f" ({token})"


def torch_verdict(function, x: float) -> str:
    point = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    try:
        return "pass" if torch.autograd.gradcheck(function, (point,), raise_exception=False) else "FAIL"
    except RuntimeError as error:  # e.g. a non-finite numerical Jacobian
        return f"error ({str(error).splitlines()[0][:40]})"


def jax_verdict(function, x: float) -> str:
    try:
        check_grads(function, (jnp.float64(x),), order=1, modes=["rev"])
    except AssertionError:
        return "FAIL"
    return "pass"


def main():
    print(f"torch {torch.__version__}, jax {jax.__version__}; derivative of each function at x")
    print("| point | exact derivative | gradcalc --check | torch gradcheck | jax check_grads |")
    print("|---|---|---|---|---|")
    for expression, x, torch_function, jax_function in POINTS:
        exact = float(jax.grad(jax_function)(jnp.float64(x)))
        shown = f"{x:g}" if float(f"{x:g}") == x else repr(x)
        print(f"| `{expression}` at {shown} | {exact:.6g} | {gradcalc_verdict(expression, x)} | "
              f"{torch_verdict(torch_function, x)} | {jax_verdict(jax_function, x)} |")
    assert math.isfinite(exact)


if __name__ == "__main__":
    main()
