"""What each edge of an evaluated graph carries back: for every operation and each of its inputs,
the upstream gradient (∂output/∂operation) and the contribution it sends to that input. The
contributions reaching a node add up to the node's gradient — the chain rule, edge by edge.

The evaluator keeps only the sums (one gradient per node); the graph picture labels each edge
and --explain lists each step, so they run each operation's backward rule again, one node at a
time (the rules are stateless: the upstream gradient, the output and the inputs are all they need).
"""

from dataclasses import dataclass

from gradcalc.evaluator import Result, uses_arrays
from gradcalc.ops import ArrayOps, ScalarOps


@dataclass(frozen=True, slots=True)
class Contribution:
    """One step of the chain rule: operation `source` sends `contribution` back to its input `node`."""

    node: int  # the input that receives the contribution
    source: int  # the operation it flows back from
    position: int  # which input of `source` (0 for x in x - y, 1 for y)
    upstream: object  # ∂output/∂source (None for a constant operation)
    contribution: object  # ∂output/∂node through this edge (None when `node` is a constant)


def contributions(result: Result) -> list[Contribution]:
    """Every edge of the graph, operations in backward order (the output's inputs first)."""
    graph, values, grads = result.graph, result.values, result.grads
    arrays = uses_arrays(graph, result.inputs)
    edges = []
    for node in reversed(graph.nodes):
        if not node.inputs:
            continue
        upstream = grads[node.id]
        sent = sent_back(node, upstream, values, arrays)
        for position, (index, gradient) in enumerate(zip(node.inputs, sent)):
            constant = graph.nodes[index].constant
            edges.append(Contribution(index, node.id, position, upstream, None if constant else gradient))
    return edges


def sent_back(node, upstream, values: list, arrays: bool) -> tuple:
    """The gradient the operation `node` sends to each of its inputs, given its upstream gradient:
    its layer's backward rule, as the evaluator runs it."""
    if upstream is None:  # a constant operation: no variable flows into it
        return (None,) * len(node.inputs)
    operands = [values[index] for index in node.inputs]
    layer = node.layer
    if not arrays:
        if upstream == 0:  # the output does not depend on it here: nothing flows back (not 0 * inf)
            return (0.0,) * len(operands)
        try:
            return tuple(layer.backward(ScalarOps, upstream, values[node.id], *operands))
        except (ZeroDivisionError, OverflowError):  # an infinite slope towards an input --wrt leaves out
            from gradcalc.wrt import rule_without_raising

            return tuple(None if gradient is None else float(gradient)
                         for gradient in rule_without_raising(layer, upstream, values[node.id], operands))
    import numpy as np

    from gradcalc.numeric import unbroadcast

    if not np.any(upstream):
        return tuple(np.zeros_like(operand) if np.ndim(operand) else 0.0 for operand in operands)
    with np.errstate(all="ignore"):
        if layer.backward_array is not None:
            sent = layer.backward_array(upstream, values[node.id], *operands)
        else:
            sent = layer.backward(ArrayOps, upstream, values[node.id], *operands)
        return tuple(None if gradient is None else unbroadcast(gradient, np.shape(operand))
                     for gradient, operand in zip(sent, operands))
