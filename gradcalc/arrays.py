"""Arrays: numpy forward and backward over the same graph, broadcasting with gradients summed
back to each input's shape.

Imported only when a value is an array or the expression has an array operation.
"""

from collections import Counter

import numpy as np

from gradcalc.errors import DomainError, NonFiniteError, ShapeError, seed_shape_error
from gradcalc.layers import ReLU
from gradcalc.node_errors import derivative_error, node_error, sum_overflow_error
from gradcalc.numeric import ShapeMismatch, all_finite, first_non_finite, first_non_finite_index, unbroadcast
from gradcalc.ops import ArrayOps


def forward_arrays(graph, inputs: dict, checked: bool = False) -> list:
    """The value of every node with numpy.

    Checking every array for inf and nan would double the memory traffic, so the fast path checks
    only `graph.finite_checkpoints`; if one fails, a checked pass finds the first node that went
    non-finite and explains it (a domain error of its layer, or an overflow)."""
    values = graph.value_template.copy()
    for name, index in graph.variables.items():
        values[index] = inputs[name]
    checkpoints = graph.finite_checkpoints
    with np.errstate(all="ignore"):  # every non-finite result is reported, by node
        for node in graph.nodes:
            if not node.inputs:
                continue
            layer = node.layer
            operands = [values[i] for i in node.inputs]
            try:
                value = layer.forward_array(*operands)
            except DomainError as error:
                raise node_error(graph, node, DomainError, error.message, values, len(operands) > 1,
                          getattr(error, "index", None)) from None
            except ShapeMismatch as error:
                raise _shape_error(graph, node, str(error), operands, error.hint) from None
            except (ZeroDivisionError, OverflowError):  # scalar nodes are floats: 1/0 raises, as in scalars
                _explain(graph, node, operands, float("inf"), values)
            except ValueError as error:  # numpy's "operands could not be broadcast together"
                raise _shape_error(graph, node, _broadcast_message(operands, error), operands,
                                   BROADCAST_HINT) from None
            values[node.id] = value if np.ndim(value) else float(value)
            if checked:
                if not layer.keeps_finite and not all_finite(value):
                    _explain(graph, node, operands, value, values)
            elif node.id in checkpoints and not all_finite(value):
                return forward_arrays(graph, inputs, checked=True)
    return values


def _explain(graph, node, operands, value, values):
    """Raise the error for a node whose value is not finite: its layer's domain, or an overflow."""
    _check_domain(graph, node, operands, values)
    index = first_non_finite_index(value)
    raise node_error(graph, node, NonFiniteError, f"the value is {first_non_finite(value)}", values,
              at=None if index is None else (index, np.shape(value)))


def _check_domain(graph, node, operands, values):
    """Raise the domain error of the first element outside the layer's domain, if one is."""
    try:
        node.layer.domain(*operands)
    except DomainError as error:
        raise node_error(graph, node, DomainError, error.message, values, len(operands) > 1,
                  getattr(error, "index", None)) from None


def _gradient_error(graph, node, operands, values, position, gradient):
    """Raise the error for a gradient a node passes to its input `position` that is not finite,
    naming its first such element: a point outside the domain whose value came out finite
    (log(x, 0) is 0 in numpy), a derivative not defined there (x^p in p at x < 0), or an overflow.
    The number shown is the gradient passed on (the upstream gradient times the derivative, whose
    sign may differ from the derivative's), summed to the input's shape where it was broadcast."""
    _check_domain(graph, node, operands, values)
    target = graph.nodes[node.inputs[position]]
    where = first_non_finite_index(gradient)
    summed = unbroadcast(gradient, np.shape(values[target.id]))
    passed = f" (the gradient it passes to {graph.text(target)} is {first_non_finite(summed)})"
    raise derivative_error(graph, node, values, position, None if where is None else (where, np.shape(gradient)),
                           passed) from None


def backward_arrays(graph, values: list, seed=None, checked: bool = False, wrt=()) -> list:
    """∂L/∂node for every node, L = sum(seed * output); the seed defaults to ones. `wrt`: the
    variables whose gradients must be finite (default: all), as gradcalc.wrt says.

    As in forward, the fast path checks only what a non-finite gradient cannot slip past: the
    upstream gradient of a relu (its mask drops elements) and the variables' gradients."""
    output = values[graph.output]
    if seed is None:
        seed = np.ones_like(output) if np.ndim(output) else 1.0
    elif np.shape(seed) != np.shape(output):
        raise seed_shape_error(np.shape(seed), np.shape(output))
    grads = [None] * len(graph.nodes)
    if not graph.nodes[graph.output].constant:
        grads[graph.output] = seed
    wanted = needs = None
    if checked:
        from gradcalc.wrt import needed, rule_without_raising, wanted_nodes

        wanted = wanted_nodes(graph, wrt) if wrt else None
        needs = needed(graph, wanted)
    with np.errstate(all="ignore"):
        for node in reversed(graph.nodes[: graph.output + 1]):
            gy = grads[node.id]
            if gy is None or not node.inputs or node.constant:
                continue
            layer = node.layer
            if not checked and isinstance(layer, ReLU) and not all_finite(gy):
                return backward_arrays(graph, values, seed, True, wrt)
            check = checked and not layer.keeps_finite
            operands = [values[i] for i in node.inputs]
            try:
                if layer.backward_array is not None:
                    gradients = layer.backward_array(gy, values[node.id], *operands)
                else:
                    gradients = layer.backward(ArrayOps, gy, values[node.id], *operands)
            except (ZeroDivisionError, OverflowError):  # a scalar node's float: 1/0 raises, as in scalars
                if wrt and not checked:
                    return backward_arrays(graph, values, seed, True, wrt)  # maybe a gradient nobody wants
                if wanted is None or all(needs[i] for i in node.inputs):
                    raise derivative_error(graph, node, values) from None
                gradients = rule_without_raising(layer, gy, values[node.id], operands)
            for position, (index, gx) in enumerate(zip(node.inputs, gradients)):
                if gx is None or graph.nodes[index].constant:
                    continue
                checking = check and needs[index]
                if checking and not all_finite(gx):  # before the sum to index's shape: the element is known
                    _gradient_error(graph, node, operands, values, position, gx)
                gx = unbroadcast(gx, np.shape(values[index]))
                if checking and not all_finite(gx):  # finite elements whose sum overflowed
                    _gradient_error(graph, node, operands, values, position, gx)
                acc = grads[index]
                grads[index] = gx if acc is None else acc + gx
                if checked and acc is not None and needs[index] and not all_finite(grads[index]):
                    raise sum_overflow_error(graph, node, values, index, first_non_finite(grads[index]))
    if not checked and not all(all_finite(grads[index]) for index in graph.variables.values()
                               if grads[index] is not None):
        return backward_arrays(graph, values, seed, True, wrt)
    _own_variable_gradients(graph, values, grads)
    for node in graph.nodes:
        if grads[node.id] is None and not node.constant:
            grads[node.id] = np.zeros_like(values[node.id]) if np.ndim(values[node.id]) else 0.0
        elif grads[node.id] is not None and not np.ndim(grads[node.id]):
            grads[node.id] = float(grads[node.id])
    if checked and wanted is not None:
        from gradcalc.wrt import drop_unwanted

        drop_unwanted(grads, wanted)
    return grads


def _own_variable_gradients(graph, values: list, grads: list) -> None:
    """Give each variable a gradient array of its own, writable: layers may pass one array on to
    several inputs, hand back a value (sum(a*b) for a is b) or a read-only broadcast of ones."""
    shared = Counter(id(array) for array in (*values, *grads) if isinstance(array, np.ndarray))
    for index in graph.variables.values():
        gradient = grads[index]
        if isinstance(gradient, np.ndarray) and (shared[id(gradient)] > 1 or not gradient.flags.writeable):
            grads[index] = np.array(gradient)


BROADCAST_HINT = "elementwise operations broadcast as numpy does: each axis the same size, or 1"


def _shape_error(graph, node, reason: str, operands, hint: str | None) -> ShapeError:
    shapes = ", ".join(f"{graph.text(graph.nodes[i])} has shape {np.shape(v)}"
                       for i, v in zip(node.inputs, operands))
    return ShapeError(f"{graph.text(node)}: {reason} ({shapes})", source=graph.source, span=node.span,
                      hint=hint or "check the shapes of the values")


def _broadcast_message(operands, error: ValueError) -> str:
    if len(operands) == 2:
        return "the shapes do not broadcast together"
    return str(error)

