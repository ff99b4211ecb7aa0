"""What the language's functions are called and take, for messages: the functions grouped, the
closest name to a typo, a function's usage line, and how each parameter's number is read."""

import difflib

from gradcalc.layers import FUNCTIONS

# Every function of the registry, in the groups the unknown-function message lists them by
# (a test holds the groups to the registry).
GROUPS = {
    "exponential and logarithmic": ("exp", "exp2", "expm1", "ln", "log", "log2", "log10", "log1p", "xlogy",
                                    "pow", "sqrt"),
    "trigonometric": ("sin", "cos", "tan", "asin", "acos", "atan", "atan2", "hypot", "arcsin", "arccos",
                      "arctan", "arctan2"),
    "hyperbolic": ("sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh"),
    "machine learning": ("sigmoid", "log_sigmoid", "softplus", "relu", "leaky_relu", "elu", "gelu", "erf",
                         "erfc"),
    "piecewise": ("abs", "sign", "step", "floor", "ceil", "round", "mod", "maximum", "minimum", "clip"),
    "arrays": ("sum", "mean", "max", "min", "dot", "transpose", "softmax", "log_softmax", "logsumexp",
               "stack", "concat", "reshape", "flatten", "outer", "diag", "trace", "norm", "var", "std", "cumsum",
               "prod"),
}

# How the number written for a parameter is read (anything else: a float).
PARAMETER_KINDS = {"axis": int, "shape": tuple, "keepdims": bool, "ddof": int}

_DEFAULTS = {"slope": "0.01", "alpha": "1", "keepdims": "1"}


def unknown_function_hint(name: str) -> str:
    closest = difflib.get_close_matches(name.lower(), FUNCTIONS, n=1, cutoff=0.7)
    groups = "; ".join(f"{group}: {' '.join(names)}" for group, names in GROUPS.items())
    guess = f"did you mean {closest[0]}? " if closest else ""
    return f"{guess}known functions — {groups}"


def usage(function: str, layer_class) -> str:
    """f(x), f(x, y), f(x, axis), f(x, slope=0.01), and log's two forms."""
    names = {1: ["x"], 2: ["x", "y"], 3: ["x", "lo", "hi"]}[layer_class.arity]
    if function in ("atan2", "arctan2"):
        names = ["y", "x"]
    text = f"{function}({', '.join(names)})"
    for param in layer_class.params:
        text += (f" or {function}({', '.join(names)}, {param}={_DEFAULTS[param]})" if param in _DEFAULTS
                 else f" or {function}({', '.join(names)}, {param})")
    if layer_class.wider is not None:
        text += f" or {function}(x, base)"
    return text


def arguments_text(layer_class) -> str:
    arity, extra = layer_class.arity, len(layer_class.params)
    count = f"{arity}" if not extra else f"{arity} to {arity + extra}"
    if layer_class.wider is not None:
        count = f"{arity} or {arity + 1}"
    return f"{count} argument{'s' if arity + extra > 1 or layer_class.wider else ''}"
