"""Fast path for large arrays: elementwise graphs evaluated block by block, on every core.

An elementwise graph (`sum(sigmoid(w*x + b) * ln(1 + exp(x)))`) run over whole arrays writes every
intermediate, full size, to main memory and reads it back: the work is memory-bound and one core
does it. Here the same forward and backward (gradcalc.arrays, unchanged) run on slices of the
inputs small enough that a block's intermediates stay in the cache, the blocks shared out between
threads (numpy releases the GIL inside its ufuncs, and takes it back after each: the blocks are
large enough that this hand-over is rare). The blocks' sums are added up, and the gradients of
full-size inputs are written into arrays of their own, slice by slice. Arrays too small to share
take the same steps once, over the whole arrays.

It takes only what it can do exactly as the plain path does: every operation elementwise except a
`sum()`/`mean()` of everything at the output, no seed, one leading axis along which every large input
runs. Anything else, and any error or non-finite value in any block, goes to the plain path, which
then raises the same error, naming the same node, as it always does. The per-node values and
gradients (`Result.nodes`) are not kept: asking for them runs the plain path once.

What a block runs is gradcalc.block_steps. Arrays too small for blocks replay a tape of the same steps
(gradcalc.tape) where one can be recorded.
"""

import math
import os
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property, lru_cache

import numpy as np

from gradcalc.block_steps import NotFinite, Program, plan, run_block
from gradcalc.errors import GradcalcError
from gradcalc.evaluator import Result
from gradcalc.numeric import ShapeMismatch, all_finite, sum_is_finite
from gradcalc.tape import DOUBLE, Tape, TryLater, record

# elements per block: 512 KiB arrays. Each numpy call of a block hands the GIL to the other thread
# and back; with 16k blocks that ping-pong cost more than the work (1e6: 11 ms against 4.3 ms with
# 64k, 4.8 ms with 128k; 1e7: 89 / 51 / 62 ms; paired, 2026-11-28), and the blocks' intermediates,
# freed as soon as they are read, still fit the 32 MiB shared cache
BLOCK = 65_536
SMALLEST = BLOCK  # below this one thread over the whole arrays: a second thread did not pay (8e4: 1.0x)
# below this, one block per thread instead: fewer, longer numpy calls, so fewer hand-overs of the
# GIL (1e5-2.5e5: 1.19-1.63x faster than one thread, paired; 2e5: 0.74 ms against 0.98 with 64k
# blocks); from here on 64k blocks are as fast or faster (1e6: 4.8 ms against 19 ms in two blocks,
# whose intermediates no longer fit the cache)
SHARED = 4 * BLOCK
_WORKERS = min(os.cpu_count() or 1, 8)
_TAPES_KEPT = 16  # shapes per graph whose tapes are kept: a loop over many sizes does not grow memory


class BlockedResult(Result):
    """A Result whose per-node values and gradients are computed by the plain path when asked for."""

    def __init__(self, graph, inputs, value, gradients: dict):
        # values and grads: the properties below, when asked for
        self._hold(graph, inputs, value, {name: gradients[name] for name in graph.sorted_variables})
        self._gradients = gradients  # every variable's, whatever `gradients` is narrowed to (wrt=)

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
            grads[index] = self._gradients[name]  # the arrays the caller already holds
        return grads


def evaluate_blocked(graph, inputs: dict):
    """A BlockedResult, or None when the plain path must do it (small, not elementwise, an error)."""
    program = graph.__dict__.get("blocked_program")
    if program is None:
        reduction = plan(graph)
        program = graph.__dict__["blocked_program"] = (reduction, Program(graph) if reduction is not False else None)
    reduction, steps = program
    if reduction is False:
        return None
    result = _replayed(graph, steps, inputs)  # small arrays at a shape met before: their tape
    if result is not None:
        return result
    arrays = {name: value for name, value in inputs.items() if type(value) is not float}
    shapes = {value.shape for value in arrays.values()}
    try:  # one shape is the common case, and np.broadcast_shapes costs a few µs of a small call
        shape = shapes.pop() if len(shapes) == 1 else np.broadcast_shapes(*shapes)
    except ValueError:
        return None  # the plain path explains which shapes do not broadcast
    if not shape:
        return None
    elements = math.prod(shape)
    if elements < SMALLEST:
        return _whole(graph, steps, inputs)
    rows = shape[0]
    # an input runs along the leading axis if it has it at full length; the others are used whole
    sliced = {name for name, value in arrays.items()
              if value.ndim == len(shape) and value.shape[0] == rows and rows > 1}
    step = max(1, BLOCK // max(int(np.prod(shape[1:])), 1)) if elements >= SHARED else -(-rows // _WORKERS)
    if step >= rows:  # one block: a single row, or a single core
        return _whole(graph, steps, inputs)
    if not all(all_finite(value) for name, value in arrays.items() if name not in sliced):
        return None  # bind() left the inputs unchecked: the plain path says which is not finite
    with np.errstate(all="ignore"):
        try:
            value, gradients = _run(graph, steps, inputs, sliced, step, rows, reduction, shape)
        except (GradcalcError, ShapeMismatch, ValueError, ArithmeticError, NotFinite):
            return None  # the plain path names the node, with the whole arrays' indices
    return BlockedResult(graph, inputs, value, gradients)


def _whole(graph, steps, inputs: dict):
    """Arrays too small for blocks: the same steps once over the whole arrays, in this thread
    (evaluate_blocked replays a tape of them instead where one could be recorded)."""
    with np.errstate(all="ignore"):
        try:
            value, grads = _finite_block(steps, graph, inputs, graph.output)  # it checks the output too
        except (GradcalcError, ShapeMismatch, ValueError, ArithmeticError, NotFinite):
            return None
    gradients = {name: np.zeros_like(inputs[name]) if gradient is None and type(inputs[name]) is not float
                 else 0.0 if gradient is None else gradient for name, gradient in zip(graph.variables, grads)}
    value = float(value) if not np.ndim(value) else value
    return BlockedResult(graph, inputs, value, _owned(gradients, [*inputs.values(), value]))


def _finite_block(steps, graph, block: dict, output: int) -> tuple:
    """run_block's value and the variables' gradients (None where none flows), each finite, else
    NotFinite."""
    value, grads = run_block(steps, graph, block, output)
    grads = [grads[index] for index in graph.variables.values()]
    if not all(gradient is None or sum_is_finite(gradient) for gradient in grads):
        raise NotFinite
    return value, grads


def replayed_as_given(graph, values: dict):
    """evaluate_graph's fast path for a call at shapes met before: every value a float64 array in C
    order, one for each variable and nothing else (so that neither shadow() nor bind() would change
    anything: no line's own bindings, no value for a constant's name), and a tape at their shapes.
    Their replay, without the steps of the usual path (~1.5 µs of a 55 µs call at 1e4 elements);
    None: the usual path. tests/test_tape.py holds it to that path."""
    program = graph.__dict__.get("blocked_program")
    if program is None or program[1] is None or graph.bindings or len(values) != len(graph.variables):
        return None
    inputs = {}
    for name in graph.variables:
        value = values.get(name)
        if type(value) is not np.ndarray or value.dtype is not DOUBLE or not value.ndim or not value.flags.c_contiguous:
            return None
        inputs[name] = value
    tape = program[1].tapes.get(tuple([value.shape for value in inputs.values()]))
    return _replayed_result(graph, inputs, tape.replay(list(inputs.values())) if type(tape) is Tape else None)


def _replayed(graph, steps, inputs: dict):
    """A BlockedResult from the tape of this graph at these inputs' shapes, or None: arrays too
    large, no tape (yet), or the replay met an inf or nan."""
    arrays = [inputs[name] for name in graph.variables]
    tape = _taped(graph, steps, arrays, SMALLEST)
    return _replayed_result(graph, inputs, tape.replay(arrays) if tape is not None else None)


def _replayed_result(graph, inputs: dict, handed):
    """The BlockedResult of a replay's (value, gradients), or None where there was none."""
    return None if handed is None else BlockedResult(graph, inputs, handed[0], dict(zip(graph.variables, handed[1])))


def _taped(graph, steps, arrays: list, limit: int):
    """The tape of this graph at these arrays' shapes (each under `limit` elements), recorded at a
    shape's second call (a shape met once, as in a loop over many sizes, is not worth a recording,
    3-4 calls' time, bench/tape.py); None where there is none (yet)."""
    for value in arrays:
        if type(value) is not np.ndarray or value.dtype is not DOUBLE:
            return None  # a scalar input: its sum-products are read as numbers, which a tape cannot do
        if not value.flags.c_contiguous:
            return None  # a tape's buffers are in C order: a sum over them would add in another order
    key = tuple([value.shape for value in arrays])
    tape = steps.tapes.get(key, 0)  # a Tape; None: it cannot be recorded; else the calls without one
    if type(tape) is Tape:
        return tape
    # large arrays with too few rows for blocks take no tape: one run over them costs more than its Python
    if tape is None or not arrays or max(value.size for value in arrays) >= limit:
        return None
    return _record(graph, steps, arrays, key, tape)


def _record(graph, steps, arrays: list, key: tuple, calls: int):
    """The tape at a shape's second call, or None; steps.tapes[key] says how it went."""
    tapes = steps.tapes
    if not calls:
        if len(tapes) >= _TAPES_KEPT:
            _forget_one(tapes)
        tapes[key] = 1
        return None

    def run(traced, recorder):
        block = dict(zip(graph.variables, traced))
        value, grads = run_block(steps, graph, block, graph.output, recorder.checked_finite)
        return value, [grads[index] for index in graph.variables.values()]

    try:
        tape = record(run, arrays)
    except TryLater:  # this call's values could not show the recording right: try again, thrice
        tapes[key] = calls + 1 if calls < 3 else None
        return None
    tapes[key] = tape
    return tape


def _forget_one(tapes: dict) -> None:
    """Make room: the shape met longest ago that has no tape yet, else the oldest tape. Threads
    share a graph's tapes: another may have taken the same one first, or be adding one."""
    try:
        oldest = next((key for key, tape in list(tapes.items()) if type(tape) is not Tape), None)
        del tapes[oldest if oldest is not None else next(iter(tapes))]
    except (KeyError, RuntimeError, StopIteration):
        pass  # another thread made the room


def _owned(gradients: dict, held: list) -> dict:
    """Each gradient an array of the caller's own: a copy where a layer handed on an array another
    gradient, an input or the output value also holds (exp(x)'s gradient is its value), or a
    read-only broadcast."""
    seen = {id(value) for value in held}
    owned = {}
    for name, gradient in gradients.items():
        if not np.ndim(gradient):
            gradient = float(gradient)
        elif type(gradient) is not np.ndarray:
            gradient = np.array(gradient)
        elif id(gradient) in seen or not gradient.flags.writeable or gradient.base is not None:
            gradient = np.array(gradient)
        seen.add(id(gradient))
        owned[name] = gradient
    return owned


def _run(graph, steps, inputs, sliced, step, rows, reduction, shape):
    output_node = graph.output
    variables = graph.variables
    # a variable the output does not depend on (`a = x; sum(y)`) gets no gradient in any block
    gradients = {name: (np.zeros if name in steps.unused else np.empty)(inputs[name].shape)
                 for name in sliced if name in variables}
    whole = [name for name in variables if name not in sliced]
    output = None if reduction else np.empty(shape)
    starts = range(0, rows, step)
    # each block's sum and its gradients of inputs used whole, by block number: added up in block
    # order at the end, so the result does not depend on which thread took which block
    totals = [0.0] * len(starts)
    parts = {name: [0.0] * len(starts) for name in whole}
    failed = []

    def work(numbered):
        with np.errstate(all="ignore"):  # numpy's error state is per thread: every non-finite is checked
            try:
                blocks(numbered)
            except BaseException:
                failed.append(True)  # the other threads stop at their next block
                raise

    def blocks(numbered):
        for number, start in numbered:
            if failed:
                break
            stop = min(start + step, rows)
            block = {name: value[start:stop] if name in sliced else value for name, value in inputs.items()}
            arrays = [block[name] for name in variables]
            tape = _taped(graph, steps, arrays, SHARED)
            handed = tape.replay(arrays) if tape is not None else None
            # the gradients are finite either way: a replay that made an inf raised
            value, grads = handed if handed is not None else _finite_block(steps, graph, block, output_node)
            if reduction:
                totals[number] = value
            else:
                output[start:stop] = value
            for name, gradient in zip(variables, grads):
                if gradient is None:
                    continue
                if name in gradients:
                    gradients[name][start:stop] = gradient
                else:
                    parts[name][number] = gradient

    # each thread takes the next block when it is done with one (next() on a shared iterator is
    # atomic under the GIL): a thread that waits for a core does fewer blocks instead of holding
    # up the others with a fixed half
    numbered = iter(enumerate(starts))
    others = [_pool().submit(work, numbered) for _ in range(_WORKERS - 1)]
    try:
        work(numbered)  # this thread takes a share too
    finally:
        for other in others:
            other.exception()  # wait for it; a failure is in `failed`
    if failed:
        raise NotFinite  # the plain path finds and explains what went wrong
    value = float(sum(totals)) if reduction else output
    if not sum_is_finite(value):
        raise NotFinite
    result = {}
    for name in variables:
        if name in gradients:
            result[name] = gradients[name]
        else:
            gradient = sum(parts[name])  # finite parts whose sum may overflow
            if not sum_is_finite(gradient):
                raise NotFinite
            if name in steps.unused and type(inputs[name]) is not float:
                gradient = np.zeros_like(inputs[name])  # of its shape, as the plain path gives it
            result[name] = float(gradient) if not np.ndim(gradient) else gradient
    return value, result


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    """Threads kept for the whole process: starting them costs more than a block."""
    return ThreadPoolExecutor(max(_WORKERS - 1, 1), thread_name_prefix="gradcalc-blocks")


# a forked child has none of its parent's threads, but would inherit the pool that counts them as
# idle and wait forever on its first blocked evaluation (os.fork, multiprocessing's "fork"): it
# starts a pool of its own instead
if hasattr(os, "register_at_fork"):  # POSIX only; Windows has no fork
    os.register_at_fork(after_in_child=_pool.cache_clear)

