"""What one block of an elementwise graph runs (gradcalc.blocked): the forward and backward steps
as flat tuples made once per graph (Program), and one run of them over a block (run_block), with
the checks the plain path would make of the values a later layer could hide."""

import math
from functools import partial

import numpy as np

from gradcalc.array_layers import Sum
from gradcalc.layer import Layer
from gradcalc.layers import ReLU
from gradcalc.numeric import constant, sum_is_finite, unbroadcast
from gradcalc.ops import ArrayOps


def plan(graph):
    """"sum" when the output is sum() of an elementwise graph, None when it is elementwise itself,
    False when the graph cannot go block by block (any other array operation)."""
    reduction = None
    for node in graph.nodes:
        if not node.layer.array_only:
            continue
        if node.id == graph.output and type(node.layer) is Sum and node.layer.axis is None:
            reduction = "sum"
            continue
        return False
    return reduction if graph.nodes[graph.output].inputs else False


class Program:
    """What a block runs: forward and backward steps as flat tuples, and what must be checked."""

    def __init__(self, graph):
        output = graph.output
        self.template = graph.value_template
        # (node, forward, inputs, forward_saving or None): a layer's saved intermediate goes to its backward
        self.forward = [(node.id, array_forward(node.layer), node.inputs,
                         node.layer.forward_saving if node.layer.backward_array is not None else None)
                        for node in graph.nodes[: output + 1] if node.inputs]
        on_path = [False] * len(graph.nodes)
        on_path[output] = True
        self.backward = []
        for node in reversed(graph.nodes[: output + 1]):
            if not on_path[node.id] or node.constant or not node.inputs:
                continue
            on_path[node.id] = True
            for index in node.inputs:
                on_path[index] = True
            layer = node.layer
            rule = layer.backward_array or partial(layer.backward, ArrayOps)
            needs = tuple(not graph.nodes[i].constant for i in node.inputs)
            self.backward.append((node.id, rule, node.inputs, needs, isinstance(layer, ReLU)))
        # as the plain path: values that a later layer could turn finite (sigmoid(inf) = 1). The
        # plain path checks every input first; here an input is checked only where no later check
        # would see its inf or nan: at a layer that can hide it, or when it never reaches the output.
        hidden = {i for node in graph.nodes if node.layer.hides_infinity for i in node.inputs}
        inputs = {index for index in graph.variables.values() if index in hidden or not on_path[index]}
        self.unused = frozenset(name for name, index in graph.variables.items() if not on_path[index])
        self.checkpoints = unseen(graph, graph.finite_checkpoints | inputs)
        self.tapes = {}  # by the shapes of the inputs: a Tape, None where none can be recorded, or a count


def unseen(graph, candidates) -> list:
    """The candidates whose inf or nan no other check would see. A layer that cannot hide one
    (x * 0 is nan at x = inf) hands it on to its output, so a value that reaches a checked value
    through such layers alone needs no pass of its own (x in exp(x) + w*x, as w*x is checked)."""
    output = graph.output
    seen = [False] * (output + 1)
    checkpoints = []
    for node in reversed(graph.nodes[: output + 1]):  # a node's users come after it: theirs are known
        if node.id in candidates and not seen[node.id]:
            checkpoints.append(node.id)
            seen[node.id] = True
        if seen[node.id] and not node.layer.hides_infinity:
            for index in node.inputs:
                seen[index] = True
    return sorted(checkpoints)


def array_forward(layer):
    """The layer's forward_array, or its forward itself where forward_array only calls it (x + y)."""
    return layer.forward if type(layer).forward_array is Layer.forward_array else layer.forward_array


class NotFinite(Exception):
    """A block met a value the plain path would check and explain."""


def run_block(steps, graph, block: dict, output: int, finite=None) -> tuple:
    """Forward and backward of one block: (output value, gradient of every node). `finite` checks
    a value (default sum_is_finite); a tape's recording passes its own, which notes the value."""
    recording, finite = finite is not None, finite or sum_is_finite
    values = steps.template.copy()
    for name, index in graph.variables.items():
        values[index] = block[name]
    saved = {}
    for index, forward, inputs, forward_saving in steps.forward:  # no list built for the usual one or two inputs
        if forward_saving is not None:
            values[index], saved[index] = forward_saving(*[values[i] for i in inputs])
            # its nans stand for 0 (Layer.forward_saving: sigmoid's slope below x = -709.78, whose
            # exp(-x) overflowed), not for an error: a point's gradient does not depend on the points
            # beside it. A tape raises at the overflow instead, and its caller comes here.
            if not recording and not finite(saved[index]):
                saved[index] = nan_as_zero(saved[index])
        elif len(inputs) == 2:
            values[index] = forward(values[inputs[0]], values[inputs[1]])
        elif len(inputs) == 1:
            values[index] = forward(values[inputs[0]])
        else:
            values[index] = forward(*[values[i] for i in inputs])
    for index in steps.checkpoints:
        if not finite(values[index]):
            raise NotFinite
    grads = [None] * len(values)
    # an elementwise output's seed of ones as a broadcast 1, as sum() hands down: rules pass it
    # through without a full-size product (x * 1), and no pass fills an array with ones
    grads[output] = 1.0 if not np.ndim(values[output]) else constant(1.0, np.shape(values[output]))
    for index, rule, inputs, needs, relu in steps.backward:
        gy = grads[index]
        if gy is None:
            continue
        if relu and not finite(gy):
            raise NotFinite
        if saved and index in saved:
            gradients = rule(gy, values[index], *[values[i] for i in inputs], saved=saved.pop(index))
        elif len(inputs) == 2:
            gradients = rule(gy, values[index], values[inputs[0]], values[inputs[1]])
        elif len(inputs) == 1:
            gradients = rule(gy, values[index], values[inputs[0]])
        else:
            gradients = rule(gy, values[index], *[values[i] for i in inputs])
        for i, gx, need in zip(inputs, gradients, needs):
            if gx is None or not need:
                continue
            value = values[i]
            if getattr(gx, "shape", ()) != getattr(value, "shape", ()):  # summed back, as the plain path
                gx = unbroadcast(gx, np.shape(value))
            acc = grads[i]
            grads[i] = gx if acc is None else acc + gx
        # nothing later reads this node's gradient or value (its users' steps came before): freed
        # now, their memory is still in the cache when the next temporary of the block takes it
        grads[index] = None
        if index != output:
            values[index] = None
    return values[output], grads


def nan_as_zero(value):
    """The array with its nans replaced by 0 (in place: it is the block's own temporary)."""
    if type(value) is np.ndarray:
        np.copyto(value, 0.0, where=np.isnan(value))
        return value
    return 0.0 if math.isnan(value) else value
