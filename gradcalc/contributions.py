"""What each edge of an evaluated graph carries back: for every operation and each of its inputs,
the upstream gradient (∂output/∂operation) and the contribution it sends to that input. The
contributions reaching a node add up to the node's gradient — the chain rule, edge by edge.

The evaluator keeps only the sums (one gradient per node); the graph picture labels each edge
and --explain lists each step, so they ask each operation's backward again, one node at a time.
"""

from dataclasses import dataclass

from gradcalc.evaluator import Result, uses_arrays


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
    with graph.lock:  # a layer's backward reads what its forward left behind
        try:
            for node in reversed(graph.nodes):
                if not node.inputs:
                    continue
                upstream = grads[node.id]
                sent = _sent_back(node, upstream, values, arrays)
                for position, (index, gradient) in enumerate(zip(node.inputs, sent)):
                    constant = graph.nodes[index].constant
                    edges.append(Contribution(index, node.id, position, upstream, None if constant else gradient))
        finally:
            if arrays:
                graph.forget()
    return edges


def _sent_back(node, upstream, values: list, arrays: bool) -> tuple:
    """The gradient the operation `node` sends to each of its inputs, given its upstream gradient."""
    if upstream is None:  # a constant operation: no variable flows into it
        return (None,) * len(node.inputs)
    operands = [values[index] for index in node.inputs]
    layer = node.layer
    if not arrays:
        if upstream == 0:  # the output does not depend on it here: nothing flows back (not 0 * inf)
            return (0.0,) * len(operands)
        layer.forward(*operands)
        return tuple(layer.backward(upstream))
    import numpy as np

    from gradcalc.arrays import unbroadcast

    if not np.any(upstream):
        return tuple(np.zeros_like(operand) if np.ndim(operand) else 0.0 for operand in operands)
    with np.errstate(all="ignore"):
        getattr(layer, "forward_array", layer.forward)(*operands)
        sent = getattr(layer, "backward_array", layer.backward)(upstream)
        return tuple(unbroadcast(gradient, np.shape(operand)) for gradient, operand in zip(sent, operands))
