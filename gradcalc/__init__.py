"""gradcalc: every node's value and gradient of an expression, in reverse mode.

    >>> from gradcalc import evaluate
    >>> r = evaluate("c*d/(a-b)", a=1, b=2, c=3, d=4)
    >>> r.value, r.gradients
    (-12.0, {'a': -12.0, 'b': 12.0, 'c': -4.0, 'd': -3.0})

Submodules are imported on first use, so `import gradcalc` stays cheap.
"""

__version__ = "0.1.0"
__all__ = ["evaluate", "parse", "GradcalcError", "Result", "NodeRecord", "__version__"]


def parse(expression: str):
    """Parse `expression` into a Graph (cached for repeated expressions)."""
    from gradcalc.parser import parse as _parse

    return _parse(expression)


def evaluate(expression: str, /, **values):
    """Evaluate `expression` at `values`, then differentiate it in reverse mode. Inputs the line
    binds with an uncertainty (`x = 5 ± 0.2; ...`) give the result an `uncertainty`."""
    from gradcalc.evaluator import evaluate_graph

    graph = parse(expression)
    result = evaluate_graph(graph, values)
    if graph.sigmas:
        from gradcalc.uncertainty import uncertainty_of

        result.uncertainty = uncertainty_of(result, {}, values)
    return result


def __getattr__(name):
    if name == "GradcalcError":
        from gradcalc.errors import GradcalcError

        return GradcalcError
    if name in ("Result", "NodeRecord"):
        from gradcalc import evaluator as _evaluate_module

        return getattr(_evaluate_module, name)
    raise AttributeError(f"module 'gradcalc' has no attribute {name!r}")
