"""Evaluation errors that name a node: its text, its inputs' values (an array's elements where the
error is) and a caret under it. Shared by the scalar loops (gradcalc.evaluator) and the array path
(gradcalc.arrays); numpy is imported only when an array is described."""

from gradcalc.errors import DomainError, EvaluationError, NonFiniteError
from gradcalc.formatting import format_number
from gradcalc.graph import Graph, Node
from gradcalc.layers import Constant

NOT_FINITE = "its derivative is not finite at this point"
OVERFLOW_HINT = "choose a point where the values stay within floating-point range"


def node_error(graph: Graph, node: Node, kind: type[EvaluationError], reason: str, values,
        show_inputs: bool = True, at: tuple | None = None, hint: str | None = None) -> EvaluationError:
    """An evaluation error that names the node, shows its input values and points at its text.
    `at`: (index, shape) of the element that went wrong, where arrays show their elements."""
    message, element = f"{graph.text(node)}: {reason}", at
    if show_inputs and node.inputs:
        shown = [i for i in node.inputs if type(graph.nodes[i].layer) is not Constant]
        if not element_of_inputs(graph, node, values, at, shown):
            at = None
        described = [(graph.text(graph.nodes[i]), _describe(values[i], at)) for i in shown]
        # a literal says its own value ("0.5 = 0.5", "1e308 = 1e+308" say nothing)
        inputs = ", ".join(f"{text} = {value}" for text, value in described if text != value)
        if inputs:
            message += f" (inputs{'' if at is None else f' at index {at[0]}'}: {inputs})"
    if hint is None:
        hint = "choose a point inside the function's domain" if kind is DomainError else OVERFLOW_HINT
    error = kind(message, source=graph.source, span=node.span, hint=hint)
    error.node, error.at = node.id, element  # derivative graphs map both back to the expression's node
    return error


def derivative_error(graph: Graph, node: Node, values, position: int | None = None,
                     at: tuple | None = None, passed: str = "") -> EvaluationError:
    """The error for a node whose derivative is not finite: a domain error where its layer says
    the derivative is not defined there (x^p in p at x < 0, which needs ln x), else a hint that
    fits the cause: an infinite slope (sqrt at 0), no derivative (atan2 at (0, 0)) or an overflow.
    `position`: the input whose gradient is not finite (None: any); `at`: (index, shape) of the
    first element where it is not; `passed`: what the gradient passed on is, said when not explained."""
    inputs = [values[i] for i in node.inputs]
    arrays = [hasattr(value, "shape") for value in inputs]
    if at is not None and element_of_inputs(graph, node, values, at, node.inputs):
        inputs = [_element(value, at) if hasattr(value, "shape") else value for value in inputs]
    if not any(hasattr(value, "shape") for value in inputs):  # the layer is asked about numbers only
        texts = [graph.text(graph.nodes[i]) for i in node.inputs]
        for which, index in enumerate(node.inputs):
            if (position is None or which == position) and not graph.nodes[index].constant:
                explained = node.layer.derivative_undefined(which, inputs, texts, arrays)
                if explained is not None:
                    return node_error(graph, node, DomainError, explained[0], values, at=at, hint=explained[1])
    return node_error(graph, node, NonFiniteError, NOT_FINITE + passed, values, at=at,
                      hint=_slope_hint(graph, node, values, inputs, position, at))


def _slope_hint(graph: Graph, node: Node, values, inputs: list, position: int | None, at: tuple | None) -> str:
    """What to do about a derivative that is not finite, by its cause at this point (`inputs`: the
    numbers there, an array's element where the operation is elementwise): the operation's own
    slope is infinite (a vertical tangent: sqrt at 0, asin at 1), or undefined (0/0: atan2 at
    (0, 0), std of equal values), or finite and the gradient too large for a float (an overflow)."""
    slopes = _slopes(node, values, inputs, at)
    if slopes is None:
        return OVERFLOW_HINT
    import numpy as np

    chosen = [slope for which, slope in enumerate(slopes) if slope is not None
              and (position is None or which == position) and not graph.nodes[node.inputs[which]].constant]
    text = graph.text(node)
    name = text.split("(", 1)[0] if node.layer.symbol is None and "(" in text else text  # sqrt, not sqrt(x)
    where = node.layer.no_slope_where or _point(graph, node, inputs)
    if any(np.isnan(slope).any() for slope in chosen):
        return f"{name} has no derivative {where} (its slope there is 0/0); choose a point away from it"
    if any(np.isinf(slope).any() for slope in chosen):
        return f"the derivative of {name} is infinite {where} (a vertical tangent); choose a point away from it"
    return OVERFLOW_HINT  # the slope is finite: the gradient it passes on is what overflowed


def _slopes(node: Node, values, inputs: list, at: tuple | None) -> tuple | None:
    """The operation's derivative in each input at this point (its backward rule with an upstream
    gradient of 1, in numpy: inf and nan rather than errors); None where computing it overflowed
    (ln x at x = 1e-320: 1/x is finite, only too large for a float).

    A layer's own backward_array is written for the evaluator, which ignores numpy's errors: it may
    overflow on the way and recover (var's mean of 1.7e308 and 1.7e308 is inf, so it computes again
    from x scaled down). Where it overflowed, it runs again as the evaluator runs it, and what it
    gives is kept unless a slope is infinite (which an overflow could have made)."""
    import numpy as np

    from gradcalc.ops import ArrayOps

    output = values[node.id]
    if at is not None and hasattr(output, "shape") and not any(hasattr(value, "shape") for value in inputs):
        output = _element(output, at)  # the inputs are the element's: so is the output
    operands = [np.asarray(value, dtype=float) for value in inputs]
    output = np.asarray(output, dtype=float)
    layer = node.layer
    try:
        with np.errstate(over="raise", divide="ignore", invalid="ignore", under="ignore"):
            if layer.backward_array is not None:
                return tuple(layer.backward_array(np.ones_like(output), output, *operands))
            return tuple(layer.backward(ArrayOps, np.ones_like(output), output, *operands))
    except FloatingPointError:  # an overflow
        if layer.backward_array is None:
            return None
    except (ArithmeticError, ValueError):
        return None
    try:
        with np.errstate(all="ignore"):
            slopes = tuple(layer.backward_array(np.ones_like(output), output, *operands))
    except (ArithmeticError, ValueError):
        return None
    return None if any(np.isinf(slope).any() for slope in slopes) else slopes


def _point(graph: Graph, node: Node, inputs: list) -> str:
    """'at 0' (a function of one input), 'at x = 0' (x^0.5: a literal says its own value),
    'at y = 0, x = 1' (several), 'at these values' (arrays)."""
    if any(hasattr(value, "shape") for value in inputs):
        return "at these values"
    if len(inputs) == 1:
        return f"at {format_number(inputs[0])}"
    described = [(graph.text(graph.nodes[index]), format_number(value)) for index, value in zip(node.inputs, inputs)]
    return "at " + ", ".join(f"{text} = {value}" for text, value in described if text != value)


def sum_overflow_error(graph: Graph, node: Node, values, target: int, total: str) -> EvaluationError:
    """The error for a gradient whose parts are finite but whose sum is not (x in x*a + x*b at
    x = 0, a = b = 1.5e308), named at the use whose part made it overflow; `total` says the sum."""
    return node_error(graph, node, NonFiniteError, f"the gradient of {graph.text(graph.nodes[target])} overflows "
                      f"({total}) when the part from here is added to the parts from its other uses", values)


def element_of_inputs(graph: Graph, node: Node, values, at: tuple | None, shown) -> bool:
    """Whether the element `at` of the node is made of its inputs' elements there: the operation is
    elementwise (not x @ y or outer(x, y)), and each array input among `shown` can be read there."""
    arrays = [values[i] for i in shown if hasattr(values[i], "shape")]
    return at is not None and bool(arrays) and not node.layer.array_only and \
        all(_element(array, at) is not None for array in arrays)


def _describe(value, at: tuple | None = None) -> str:
    """A scalar's value; an array's element at `at` (index, shape), broadcast as the operation did."""
    if not hasattr(value, "shape"):
        return format_number(value)
    if at is not None:
        return format_number(_element(value, at))
    return f"an array of shape {value.shape}"


def _element(array, at: tuple) -> float | None:
    """The array's element at `at` (index, shape) as the operation broadcast it; None when the
    array does not broadcast to that shape."""
    import numpy as np

    try:
        return float(np.broadcast_to(array, at[1])[at[0]])
    except (ValueError, IndexError):
        return None
