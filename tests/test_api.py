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
