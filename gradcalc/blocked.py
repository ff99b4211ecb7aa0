"""Fast path for large arrays: elementwise graphs evaluated block by block, on every core.

An elementwise graph (`sum(sigmoid(w*x + b) * ln(1 + exp(x)))`) run over whole arrays writes every
intermediate, full size, to main memory and reads it back: the work is memory-bound and one core
does it. Here the same forward and backward (gradcalc.arrays, unchanged) run on slices of the
inputs small enough that a block's intermediates stay in the core's cache, the blocks shared out
between threads (numpy releases the GIL inside its ufuncs). The blocks' sums are added up, and the
gradients of full-size inputs are written into arrays of their own, slice by slice.

It takes only what it can do exactly as the plain path does: every operation elementwise except a
`sum()`/`mean()` of everything at the output, no seed, one leading axis along which every large input
runs. Anything else, and any error or non-finite value in any block, goes to the plain path, which
then raises the same error, naming the same node, as it always does. The per-node values and
gradients (`Result.nodes`) are not kept: asking for them runs the plain path once.
"""

import math
import os
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property, lru_cache

import numpy as np

from gradcalc.array_layers import Sum
from gradcalc.errors import GradcalcError
from gradcalc.evaluator import Result
from gradcalc.layers import ReLU
from gradcalc.numeric import ShapeMismatch, all_finite, unbroadcast
from gradcalc.ops import ArrayOps

BLOCK = 16_384  # elements per block: 128 KiB arrays; 16k beat 8k and 32k at 1e5, 1e6 and 1e7 here
SMALLEST = 2 * BLOCK  # below this the blocks' own overhead is not worth it
_WORKERS = min(os.cpu_count() or 1, 8)


class BlockedResult(Result):
    """A Result whose per-node values and gradients are computed by the plain path when asked for."""

    def __init__(self, graph, inputs, value, gradients: dict):
        values = [None] * len(graph.nodes)
        grads = [None] * len(graph.nodes)
        values[graph.output] = value
        for name, index in graph.variables.items():
            grads[index] = gradients[name]
        super().__init__(graph, inputs, values, grads)
        del self.values, self.grads  # the properties below compute them when asked

    @cached_property
    def _plain(self) -> tuple:
        from gradcalc.arrays import backward_arrays, forward_arrays

        values = forward_arrays(self.graph, self.inputs)
        return values, backward_arrays(self.graph, values)

    @cached_property
    def values(self) -> list:
        return self._plain[0]

    @cached_property
    def grads(self) -> list:
        grads = self._plain[1]
        for name, index in self.graph.variables.items():
            grads[index] = self.gradients[name]  # the arrays the caller already holds
        return grads


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


class _Program:
    """What a block runs: forward and backward steps as flat tuples, and what must be checked."""

    def __init__(self, graph):
        output = graph.output
        self.template = graph.value_template
        self.forward = [(node.id, node.layer.forward_array, node.inputs) for node in graph.nodes[: output + 1]
                        if node.inputs]
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
            needs = tuple(not graph.nodes[i].constant for i in node.inputs)
            self.backward.append((node.id, layer, node.inputs, needs, isinstance(layer, ReLU)))
        # as the plain path: values that a later layer could turn finite (sigmoid(inf) = 1)
        self.checkpoints = sorted(graph.finite_checkpoints)


def evaluate_blocked(graph, inputs: dict):
    """A BlockedResult, or None when the plain path must do it (small, not elementwise, an error)."""
    program = graph.__dict__.get("blocked_program")
    if program is None:
        reduction = plan(graph)
        program = graph.__dict__["blocked_program"] = (reduction, _Program(graph) if reduction is not False else None)
    reduction, steps = program
    if reduction is False:
        return None
    arrays = {name: value for name, value in inputs.items() if type(value) is not float}
    try:
        shape = np.broadcast_shapes(*(value.shape for value in arrays.values()))
    except ValueError:
        return None  # the plain path explains which shapes do not broadcast
    if not shape or int(np.prod(shape)) < SMALLEST:
        return None
    rows = shape[0]
    # an input runs along the leading axis if it has it at full length; the others are used whole
    sliced = {name for name, value in arrays.items()
              if value.ndim == len(shape) and value.shape[0] == rows and rows > 1}
    step = max(1, BLOCK // max(int(np.prod(shape[1:])), 1))
    if rows < 2 * step:
        return None
    if not all(all_finite(value) for name, value in arrays.items() if name not in sliced):
        return None  # bind() left the inputs unchecked: the plain path says which is not finite
    with np.errstate(all="ignore"):
        try:
            value, gradients = _run(graph, steps, inputs, sliced, step, rows, reduction, shape)
        except (GradcalcError, ShapeMismatch, ValueError, _NotFinite):
            return None  # the plain path names the node, with the whole arrays' indices
    return BlockedResult(graph, inputs, value, gradients)


class _NotFinite(Exception):
    """A block met a value the plain path would check and explain."""


def _finite(value) -> bool:
    # a sum is non-finite if any element is; a sum that overflowed (finite elements) only costs the
    # plain path, which checks exactly
    return math.isfinite(np.add.reduce(value, axis=None)) if np.ndim(value) else math.isfinite(value)


def _block(steps, graph, block: dict, output: int) -> tuple:
    """Forward and backward of one block: (output value, gradient of every variable)."""
    values = steps.template.copy()
    for name, index in graph.variables.items():
        values[index] = block[name]
    for index, forward, inputs in steps.forward:
        values[index] = forward(*[values[i] for i in inputs])
    for index in steps.checkpoints:
        if not _finite(values[index]):
            raise _NotFinite
    grads = [None] * len(values)
    grads[output] = 1.0 if not np.ndim(values[output]) else np.ones_like(values[output])
    for index, layer, inputs, needs, relu in steps.backward:
        gy = grads[index]
        if gy is None:
            continue
        if relu and not _finite(gy):
            raise _NotFinite
        operands = [values[i] for i in inputs]
        if layer.backward_array is not None:
            gradients = layer.backward_array(gy, values[index], *operands)
        else:
            gradients = layer.backward(ArrayOps, gy, values[index], *operands)
        for i, gx, need in zip(inputs, gradients, needs):
            if gx is None or not need:
                continue
            gx = unbroadcast(gx, np.shape(values[i]))
            acc = grads[i]
            grads[i] = gx if acc is None else acc + gx
    return values[output], grads


def _run(graph, steps, inputs, sliced, step, rows, reduction, shape):
    output_node = graph.output
    variables = graph.variables
    gradients = {name: np.empty(inputs[name].shape) for name in sliced if name in variables}
    whole = [name for name in variables if name not in sliced]
    output = None if reduction else np.empty(shape)

    def work(chunk):
        with np.errstate(all="ignore"):  # numpy's error state is per thread: every non-finite is checked
            return blocks(chunk)

    def blocks(chunk):
        total, partial = 0.0, {name: 0.0 for name in whole}
        for start in chunk:
            stop = min(start + step, rows)
            block = {name: value[start:stop] if name in sliced else value for name, value in inputs.items()}
            for name in sliced:  # the inputs' own check, on slices already in cache
                if not _finite(block[name]):
                    raise _NotFinite
            value, grads = _block(steps, graph, block, output_node)
            if reduction:
                total += value
            else:
                output[start:stop] = value
            for name, index in variables.items():
                gradient = grads[index]
                if gradient is None:
                    continue
                if not _finite(gradient):
                    raise _NotFinite
                if name in gradients:
                    gradients[name][start:stop] = gradient
                else:
                    partial[name] = partial[name] + gradient
        return total, partial

    chunks = _split(list(range(0, rows, step)), _WORKERS)
    others = [_pool().submit(work, chunk) for chunk in chunks[1:]]
    outcomes = [work(chunks[0])]  # this thread takes a share too
    outcomes += [other.result() for other in others]
    value = float(sum(part for part, _ in outcomes)) if reduction else output
    if not _finite(value):
        raise _NotFinite
    result = {}
    for name in variables:
        if name in gradients:
            result[name] = gradients[name]
        else:
            gradient = sum(parts[name] for _, parts in outcomes)
            result[name] = float(gradient) if not np.ndim(gradient) else gradient
    return value, result


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    """Threads kept for the whole process: starting them costs more than a block."""
    return ThreadPoolExecutor(max(_WORKERS - 1, 1), thread_name_prefix="gradcalc-blocks")


def _split(starts, parts):
    size = -(-len(starts) // parts)
    return [starts[i:i + size] for i in range(0, len(starts), size)]
