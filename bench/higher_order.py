"""Higher orders: a Hessian's cost against one first-order evaluation and against jax.hessian, and
--diff's output size and time against SymPy's diff.

    python bench/higher_order.py [--repeat 7]

The Hessian of a 1,000-term expression over n = 20 variables: gradcalc builds the gradient as a
graph once and sweeps it once per variable, so the goal is at most 10·n first-order evaluations.
jax.hessian (where jax is installed) is timed on the same function written in jax.numpy, with and
without jit, compile included (a fresh jit each call, as a one-shot CLI call would pay it).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import median_time  # noqa: E402
from large import expression  # noqa: E402

from gradcalc import parse  # noqa: E402
from gradcalc.evaluator import evaluate_graph  # noqa: E402
from gradcalc.higher_order import derivatives, diff  # noqa: E402

N, TERMS = 20, 1000
PAIRS = [(i % N, (7 * i + 3) % N, (i % 7 + 1) / 8) for i in range(TERMS)]


def hessian_expression() -> str:
    return " + ".join(f"tanh(x{a}*x{b})*{c}" for a, b, c in PAIRS)


def main():
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--repeat", type=int, default=7)
    repeat = arguments.parse_args().repeat
    values = {f"x{i}": 0.1 + i / 40 for i in range(N)}
    graph = parse(hessian_expression())
    evaluate_graph(graph, values)  # programs built: a steady first-order evaluation
    first = median_time(lambda: evaluate_graph(graph, values), repeat * 3)
    hessian = median_time(lambda: derivatives(graph, values, 2), repeat)
    print(f"Hessian of a {TERMS}-term expression over n = {N} variables ({len(graph.nodes)} nodes)")
    print(f"  first-order evaluation      {first * 1e3:9.2f} ms")
    print(f"  gradcalc Hessian            {hessian * 1e3:9.2f} ms = {hessian / first:6.1f} first-order "
          f"evaluations (goal <= 10·n = {10 * N})")
    jax_figures(values, repeat)
    diff_figures(repeat)


def jax_figures(values, repeat):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        print("  jax.hessian                 (jax not installed: skipped)")
        return
    jax.config.update("jax_enable_x64", True)
    a = jnp.array([p[0] for p in PAIRS])
    b = jnp.array([p[1] for p in PAIRS])
    c = jnp.array([p[2] for p in PAIRS])

    def f(v):
        return jnp.sum(jnp.tanh(v[a] * v[b]) * c)

    point = jnp.array([values[f"x{i}"] for i in range(N)])
    eager = median_time(lambda: jax.hessian(f)(point).block_until_ready(), repeat)
    compiled = median_time(lambda: jax.jit(jax.hessian(f))(point).block_until_ready(), repeat)
    jitted = jax.jit(jax.hessian(f))
    jitted(point).block_until_ready()
    warm = median_time(lambda: jitted(point).block_until_ready(), repeat * 3)
    print(f"  jax.hessian, no jit         {eager * 1e3:9.2f} ms")
    print(f"  jax.jit(hessian), compile   {compiled * 1e3:9.2f} ms (a fresh jit each call)")
    print(f"  jax.jit(hessian), warm      {warm * 1e3:9.2f} ms")


def dense(terms: int) -> str:
    """A sum every term of which depends on x, so that the derivative is as long as it gets."""
    return " + ".join(f"sin(x*y{i % 1000})*x^{i % 5 + 2}" for i in range(terms))


def diff_figures(repeat):
    for name, build in (("bench/large.py sum", expression), ("dense sum (every term has x)", dense)):
        for terms in (1_000, 10_000):
            text = build(terms)
            variable = "x1" if build is expression else "x"
            started = time.perf_counter()
            formula = diff(parse(text), variable)
            seconds = time.perf_counter() - started
            print(f"--diff {variable}, {terms}-term {name}: {seconds:.3f} s, output {len(formula)} characters "
                  f"= {len(formula) / len(text):.3f}x the input")
    text = hessian_expression()
    timings = []
    for _ in range(max(1, repeat // 3)):
        started = time.perf_counter()
        formula = diff(parse(text), "x1")
        timings.append(time.perf_counter() - started)
    print(f"--diff x1 of the Hessian bench's expression: {statistics.median(timings):.3f} s, "
          f"{len(formula) / len(text):.3f}x the input")
    try:
        import sympy
    except ImportError:
        return
    x, ys = sympy.Symbol("x"), sympy.symbols("y0:1000")
    text = dense(1000)
    expr = sympy.Add(*(sympy.sin(x * ys[i % 1000]) * x ** (i % 5 + 2) for i in range(1000)))
    started = time.perf_counter()
    text_out = str(sympy.diff(expr, x))
    print(f"SymPy diff + str, 1000-term dense sum: {time.perf_counter() - started:.3f} s, "
          f"{len(text_out) / len(text):.3f}x the input")


if __name__ == "__main__":
    main()
