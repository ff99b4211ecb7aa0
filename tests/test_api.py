"""The public Python API of DESIGN.md."""

import importlib
import subprocess
import sys

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
