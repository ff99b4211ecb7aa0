"""gradcalc: every node's value and gradient of an expression, in reverse mode.

    >>> from gradcalc import evaluate
    >>> r = evaluate("c*d/(a-b)", a=1, b=2, c=3, d=4)
    >>> r.value, r.gradients
    (-12.0, {'a': -12.0, 'b': 12.0, 'c': -4.0, 'd': -3.0})

Submodules are imported on first use, so `import gradcalc` stays cheap.
"""

from collections.abc import Mapping as _Mapping

__version__ = "0.1.0"

# the error classes, exported from gradcalc.errors on first use (see __getattr__)
_ERRORS = ("GradcalcError", "InputError", "UsageError", "ParseError", "UnknownFunctionError",
           "MissingValueError", "ValueFormatError", "ShapeError", "EvaluationError", "DomainError",
           "NonFiniteError", "OutputError")

__all__ = ["evaluate", "gradient", "parse", "derivatives", "hessian", "jacobian", "jvp", "hvp", "diff",
           "Result", "NodeRecord", *_ERRORS, "__version__"]


# the parser and the evaluator, imported on the first call (an import statement in the function
# would cost ~0.5 µs on every call, a tenth of a small array's evaluation)
_parse = _evaluate_graph = None


def _in_python_terms(error, call: str) -> None:
    """Re-word a hint that says how to give a value on the command line (--y VALUE, --seed-grad)
    with the arguments of the Python function `call`: evaluate's keywords, the others' mapping."""
    from gradcalc.errors import MissingValueError, ShapeError, missing_value_hint, python_hint, seed_shape_hint
    from gradcalc.formatting import bounded

    if isinstance(error, MissingValueError) and error.names:
        if call == "evaluate":
            from keyword import iskeyword

            keywords = [f"{name}=1" if name.isidentifier() and not iskeyword(name) else f'**{{"{name}": 1}}'
                        for name in error.names]
            given = f"evaluate(..., {', '.join(keywords)})"
        else:
            items = [f'"{name}": 1' for name in error.names]
            given = f"{call}(..., {{..., {', '.join(items)}}})"
        error.hint = bounded(missing_value_hint(error.names, given))
    elif isinstance(error, ShapeError) and error.of_seed:
        error.hint = seed_shape_hint("seed_grad=")
    elif python_hint(error) is not None:  # --hessian, --order 2 ...: hessian(), order=2
        error.hint = python_hint(error)


def _in_python_terms_of(function):
    """`function`, its errors' hints worded with its arguments rather than command-line options.
    (evaluate and gradient do it inline: a wrapper would cost them ~0.3 µs a call.)"""
    from functools import wraps

    @wraps(function)
    def call(*arguments, **keywords):
        try:
            return function(*arguments, **keywords)
        except Exception as error:  # raised again as it is: only a hint's wording may change
            _in_python_terms(error, function.__name__)
            raise

    return call


def _wrt_names(wrt) -> tuple:
    """The names `wrt` gives: None (every variable), a name, or an iterable of names."""
    if wrt is None or isinstance(wrt, str):
        return () if wrt is None else (wrt,)  # one name, not its letters
    try:
        names = tuple(wrt)
    except TypeError:
        names = None
    if names is None or not all(isinstance(name, str) for name in names):
        from gradcalc.errors import UsageError

        raise UsageError(f"wrt={wrt!r}: wrt takes a variable's name or a list of names",
                         hint='wrt="x", or wrt=["x", "y"] for several')
    return names


def parse(expression: str):
    """Parse `expression` into a Graph (cached for repeated expressions)."""
    global _parse
    if _parse is None:
        from gradcalc.parser import parse as _parse
    if not isinstance(expression, str):
        from gradcalc.errors import UsageError

        raise UsageError(f"an expression is text, not {type(expression).__name__}", hint='evaluate("x*y", x=1, y=2)')
    return _parse(expression)


def evaluate(expression: str, /, **values):
    """Evaluate `expression` at `values`, then differentiate it in reverse mode. Inputs the line
    binds with an uncertainty (`x = 5 ± 0.2; ...`) give the result an `uncertainty`.

    Every keyword is a variable (even `wrt` or `check`); `gradient` takes options as well."""
    global _evaluate_graph
    if _evaluate_graph is None:
        from gradcalc.evaluator import evaluate_graph as _evaluate_graph
    graph = parse(expression)
    try:
        result = _evaluate_graph(graph, values)
    except Exception as error:  # raised again as it is: only a hint's wording may change
        _in_python_terms(error, "evaluate")
        raise
    if graph.sigmas:
        from gradcalc.uncertainty import uncertainty_of

        result.uncertainty = uncertainty_of(result, {}, values)
    return result


def gradient(expression: str, values: _Mapping, /, *, wrt=None, seed_grad=None, check: bool = False):
    """Evaluate `expression` at `values` (a mapping of name: value) and differentiate it.

    `wrt`: a name or names; `gradients` then holds only those, in that order. `seed_grad`: the
    upstream gradient of an array output (default ones). `check`: also compare every reported
    derivative with central finite differences; the report is `result.check` (`.passed`)."""
    from gradcalc.errors import UsageError
    from gradcalc.evaluator import evaluate_graph

    if not isinstance(values, _Mapping):
        raise UsageError(f"values must be a mapping of name: value, not {type(values).__name__}",
                         hint='gradient("x*y", {"x": 1, "y": 2})')
    names = _wrt_names(wrt)
    graph = parse(expression)
    try:
        # only these gradients must be finite, and those of inputs bound with ± (σ needs them), as on the command line
        result = evaluate_graph(graph, values, seed_grad, (*names, *graph.sigmas) if names else ())
    except Exception as error:  # raised again as it is: only a hint's wording may change
        _in_python_terms(error, "gradient")
        raise
    if graph.sigmas:  # as in evaluate: inputs bound with an uncertainty give the result one
        from gradcalc.uncertainty import uncertainty_of

        result.uncertainty = uncertainty_of(result, {}, values)
    unknown = [name for name in names if name not in result.gradients]
    if unknown:
        raise UsageError(f"wrt={unknown[0]!r}: the expression has no variable {unknown[0]}",
                         hint=f"its variables are: {', '.join(result.gradients) or 'none'}")
    result.gradients = {name: result.gradients[name] for name in dict.fromkeys(names or result.gradients)}
    if check:
        from gradcalc.check import gradient_check

        result.check = gradient_check(result, result.gradients)
    return result


@_in_python_terms_of
def derivatives(expression: str, values, /, order: int = 2, wrt=None, seed_grad=None) -> dict:
    """{k: the order-k partial derivatives as dicts k levels deep} for k = 2..order, at `values`
    (a mapping, so that a variable may be called `order` or `wrt`). For an array output, of
    sum(seed_grad * output), seed_grad ones by default."""
    from gradcalc.higher_order import all_orders

    return all_orders(parse(expression), values, order, _wrt_names(wrt), seed_grad)


@_in_python_terms_of
def hessian(expression: str, values, /, wrt=None, seed_grad=None) -> dict:
    """{a: {b: ∂²f/∂a∂b}}; for array variables each block has shape shape(a) + shape(b)."""
    return derivatives(expression, values, 2, wrt, seed_grad)[2]


@_in_python_terms_of
def jacobian(expression: str, values, /, wrt=None) -> dict:
    """{name: ∂output/∂name}, each of shape shape(output) + shape(name)."""
    from gradcalc.higher_order import jacobian as _jacobian

    return _jacobian(parse(expression), values, _wrt_names(wrt))


@_in_python_terms_of
def jvp(expression: str, values, direction, /):
    """The derivative of the output along `direction` ({name: value}; missing names: 0)."""
    from gradcalc.higher_order import jvp as _jvp

    return _jvp(parse(expression), values, direction)


@_in_python_terms_of
def hvp(expression: str, values, direction, /, seed_grad=None) -> dict:
    """{name: (H v)[name]}: the Hessian times `direction`, without forming the Hessian."""
    from gradcalc.higher_order import hvp as _hvp

    return _hvp(parse(expression), values, direction, seed_grad)


@_in_python_terms_of
def diff(expression: str, name: str, /, order: int = 1, latex: bool = False) -> str:
    """The order-`order` derivative of `expression` in `name`, as text gradcalc evaluates (or LaTeX)."""
    from gradcalc.higher_order import diff as _diff

    return _diff(parse(expression), name, order, latex)


def __getattr__(name):
    if name in _ERRORS:
        from gradcalc import errors

        return getattr(errors, name)
    if name in ("Result", "NodeRecord"):
        from gradcalc import evaluator as _evaluate_module

        return getattr(_evaluate_module, name)
    raise AttributeError(f"module 'gradcalc' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *__all__})
