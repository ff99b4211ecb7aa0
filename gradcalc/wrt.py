"""--wrt (and the API's wrt=) limit which derivatives must be finite to those that reach the named
variables: a gradient that flows only to others is not reported, so where it is not finite (∂/∂y of
x^y at x < 0, which needs ln x, with --wrt x) that is no error, as a constant's is none. Only the
evaluators' checked passes read which nodes are wanted: an evaluation whose gradients are all finite
takes the same steps as without --wrt, and one without --wrt none of these."""

import math


def wanted_nodes(graph, names) -> list | None:
    """Per node, whether its gradient reaches one of the variables `names` (the node depends on
    one); None where that is every variable's, or no name is a variable (the caller then says so)."""
    variables = graph.variables
    chosen = frozenset(variables[name] for name in names if name in variables)
    if not chosen or len(chosen) == len(variables):
        return None
    cache = graph.__dict__.setdefault("_wanted_nodes", {})  # views of one structure share it
    wanted = cache.get(chosen)
    if wanted is None:
        wanted = [False] * len(graph.nodes)
        for index in chosen:
            wanted[index] = True
        for node in graph.nodes:  # creation order is topological: inputs are decided first
            if not wanted[node.id] and any(wanted[i] for i in node.inputs):
                wanted[node.id] = True
        cache[chosen] = wanted
    return wanted


def needed(graph, wanted) -> list:
    """Per node, whether its gradient must be finite: wanted, or (no --wrt) any node a variable
    flows into (a constant's gradient is nobody's)."""
    return wanted if wanted is not None else [not node.constant for node in graph.nodes]


def rule_without_raising(layer, gy, y, xs) -> tuple:
    """The layer's gradients computed by numpy, inf or nan where Python's floats raise (1/0 in
    sqrt's rule at 0): a gradient nobody wants must not stop the one beside it that is wanted."""
    import numpy as np

    from gradcalc.ops import ArrayOps

    with np.errstate(all="ignore"):
        return layer.backward(ArrayOps, np.asarray(gy, dtype=float), np.asarray(y, dtype=float),
                              *[np.asarray(x, dtype=float) for x in xs])


def drop_unwanted(grads: list, wanted) -> None:
    """No gradient (None, as a constant's) where it is not finite and nobody wants it."""
    if wanted is None:
        return
    from gradcalc.numeric import all_finite

    for index, grad in enumerate(grads):
        if grad is not None and not wanted[index]:
            if not (math.isfinite(grad) if type(grad) is float else all_finite(grad)):
                grads[index] = None
