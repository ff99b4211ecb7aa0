"""Fast path for small arrays: the blocks' own steps, recorded once as numpy calls, then replayed.

Below 65,536 elements an evaluation's numpy work is a few microseconds per operation and the
Python around it (each layer's rule, the evaluator's bookkeeping, checking values for inf and nan)
costs as much again. So the first call at a shape runs `blocked._block` on stand-ins (`_Traced`)
that do the real numpy work while writing down every ufunc call; later calls at that shape replay
the list (the tape): one loop of ufunc calls writing into buffers, each buffer reused as soon as the
value in it is read for the last time, and the gradients written straight into arrays of the
caller's own.

Checking: the tape checks the blocks' checkpoints (which see every input's inf or nan) and runs with
numpy's floating-point errors raised. From finite inputs, the ufuncs a tape may hold (`TRACEABLE`)
can give an inf or nan only by overflow, division by zero or an invalid operation, and each raises
its flag (tests hold every one of them to that). So a replay that raises nothing has only finite
values and gradients, without a pass over each; one that raises returns None, and the caller takes
the blocks' path, which checks every value, tells a harmless overflow (sigmoid(-800) = 0) from a
real one, and hands errors to the plain path.

A layer whose rules do anything but call these ufuncs (read a value, np.where, a reduction over an
axis, a broadcast summed back) cannot be recorded: its graph keeps the blocks' path at that shape.
"""

import math

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

# ufuncs whose inf or nan from finite float64 inputs always comes with a floating-point flag
# (tests/test_tape.py holds each to it); a call to any other ufunc stops the recording
TRACEABLE = frozenset({np.add, np.subtract, np.multiply, np.divide, np.negative, np.positive, np.square,
                       np.exp, np.exp2, np.expm1, np.log, np.log2, np.log10, np.log1p, np.sqrt,
                       np.sin, np.cos, np.tan, np.arcsin, np.arccos, np.arctan,
                       np.sinh, np.cosh, np.tanh, np.arcsinh, np.arccosh, np.arctanh})
_TOTAL = np.add.reduce  # one bound method, so that `is` finds it (each attribute access makes a new one)
_STRUCTURE = frozenset({np.ndim, np.shape, np.size})
_RAISED = {"over": "raise", "divide": "raise", "invalid": "raise", "under": "ignore"}


class Untraceable(Exception):
    """A rule did something a tape cannot replay (read a value, a non-ufunc numpy function)."""


class _Traced(NDArrayOperatorsMixin):
    """A stand-in for an array while recording: its real value, and the number of that value."""

    __slots__ = ("value", "ref", "recorder")

    def __init__(self, value, ref, recorder):
        self.value, self.ref, self.recorder = value, ref, recorder

    # what rules may ask of an array without reading its numbers
    shape = property(lambda self: self.value.shape)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)
    dtype = property(lambda self: self.value.dtype)
    strides = property(lambda self: self.value.strides)

    def __array_ufunc__(self, ufunc, method, *operands, **kwargs):
        return self.recorder.record(ufunc, method, operands, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if func in _STRUCTURE:  # the shape alone: the same at every replay
            return func(*(arg.value if type(arg) is _Traced else arg for arg in args), **kwargs)
        raise Untraceable(f"np.{func.__name__}")

    def _read(self, *args, **kwargs):
        raise Untraceable("a rule read a value")

    __array__ = __bool__ = __float__ = __int__ = __index__ = __len__ = __iter__ = __getitem__ = item = _read


class _Recorder:
    """Writes down each ufunc call made on stand-ins: (method, operand numbers, result number)."""

    def __init__(self, inputs: list):
        self.inputs = len(inputs)
        self.values = list(inputs)  # by number: the inputs first, then constants and results as they come
        self.calls = []
        self.checked = []

    def number(self, operand) -> int:
        if type(operand) is _Traced:
            if operand.recorder is not self:
                raise Untraceable("a stand-in of another recording")
            return operand.ref
        if type(operand) is not float and not (type(operand) is np.ndarray and operand.dtype == np.float64):
            raise Untraceable(f"an operand of type {type(operand).__name__}")
        self.values.append(operand)  # a constant of the graph (1 in 1 + x, sum()'s ones): kept as it is
        return len(self.values) - 1

    def record(self, ufunc, method, operands, kwargs):
        out = kwargs.pop("out", None)
        if ufunc not in TRACEABLE or not (method == "__call__" and not kwargs or self._total(ufunc, method, kwargs)):
            raise Untraceable(f"{ufunc.__name__}.{method} {kwargs}")
        refs = [self.number(operand) for operand in operands]
        real = [operand.value if type(operand) is _Traced else operand for operand in operands]
        result = getattr(ufunc, method)(*real, **kwargs)
        if type(result) not in (np.ndarray, np.float64) or result.dtype != np.float64 or \
                (method == "__call__" and not result.ndim):
            raise Untraceable("a result that is not a float64 array")
        self.values.append(result)
        self.calls.append((ufunc if method == "__call__" else _TOTAL, tuple(refs), len(self.values) - 1))
        if out is None:
            return _Traced(result, len(self.values) - 1, self)
        # in place (x += 1 on a rule's own temporary): the stand-in holds the new value from now on;
        # the tape decides for itself where each value is written
        target = out[0] if isinstance(out, tuple) and len(out) == 1 else None
        if type(target) is not _Traced or target.recorder is not self or target.ref < self.inputs:
            raise Untraceable("written into an input or a constant")
        target.value, target.ref = result, len(self.values) - 1
        return target

    @staticmethod
    def _total(ufunc, method, kwargs) -> bool:
        """Whether the call is a sum of every element (sum()'s forward), the one reduction a tape takes."""
        return ufunc is np.add and method == "reduce" and kwargs.get("axis", 0) is None and \
            not kwargs.get("keepdims", False) and set(kwargs) <= {"axis", "keepdims"}

    def checked_finite(self, value) -> bool:
        """The blocks' check of a checkpoint, while recording: kept for the replay to make."""
        if type(value) is not _Traced:
            raise Untraceable("a checkpoint that is not a recorded value")
        self.checked.append(value.ref)
        return True


class Tape:
    """A recorded forward and backward at one shape: ufunc calls between numbered slots."""

    def __init__(self, recorder: _Recorder, value, gradients: list):
        values, inputs = recorder.values, recorder.inputs
        wanted = [value, *(ref for ref in gradients if ref is not None)]
        kept = _needed(recorder.calls, {*wanted, *recorder.checked})
        last_read = {ref: len(kept) for ref in [*wanted, *recorder.checked]}  # read after the replay
        for position, (_, operands, _) in reversed(list(enumerate(kept))):
            for ref in operands:
                last_read.setdefault(ref, position)
        # where each result is written: the first claim of each returned array gets an array of its
        # own (the caller's from then on); any other array a buffer, reused once the value in it
        # has been read for the last time (an elementwise ufunc may write over its own operand)
        slot_of, free, allocated, claimed, buffers = {}, {}, [], set(), set()
        for position, (_, operands, result) in enumerate(kept):
            for ref in set(operands):
                if slot_of.get(ref) in buffers and last_read[ref] == position:
                    free.setdefault(np.shape(values[ref]), []).append(slot_of[ref])
            shape = np.shape(values[result])
            slot_of[result] = result
            if not shape:
                continue  # a sum: a number, assigned to its slot
            if result in wanted:
                claimed.add(result)
            elif free.get(shape):
                slot_of[result] = free[shape].pop()
                continue
            else:
                buffers.add(result)
            allocated.append((result, shape))
        slot = slot_of.get  # inputs and constants keep their own numbers as slots
        self.inputs = inputs
        self.allocated = allocated
        self.template = [None if ref < inputs or ref in slot_of else _operand(values[ref])
                         for ref in range(len(values))]
        # (function, first operand, second operand or None, result): the slots it reads and writes
        self.code = [(function, slot(operands[0], operands[0]),
                      slot(operands[1], operands[1]) if len(operands) == 2 else None, slot_of[result])
                     for function, operands, result in kept]
        self.checked = [slot(ref, ref) for ref in recorder.checked]
        # what is handed out, in order (the value, then each gradient): its slot and whether it
        # must be copied (an input, a constant, or an array another of them already is)
        handed, self.out = set(), []
        for ref in [value, *gradients]:
            if ref is None:
                self.out.append(None)
                continue
            copy = bool(np.shape(values[ref])) and (ref not in claimed or ref in handed)
            handed.add(ref)
            self.out.append((slot(ref, ref), copy))

    def replay(self, inputs: list):
        """(value, gradients in the recorded order), or None when numpy raised a floating-point
        error or a checkpoint is not finite: the caller then takes the blocks' path."""
        slots = self.template.copy()
        slots[: self.inputs] = inputs
        empty, vdot = np.empty, np.vdot
        for ref, shape in self.allocated:
            slots[ref] = empty(shape)
        try:
            with np.errstate(**_RAISED):
                for function, first, second, result in self.code:
                    if second is not None:
                        function(slots[first], slots[second], slots[result])
                    elif function is not _TOTAL:
                        function(slots[first], slots[result])
                    else:
                        slots[result] = function(slots[first], axis=None)
                for ref in self.checked:
                    value = slots[ref]
                    # a sum of squares is inf or nan if any element is (no two terms cancel), and
                    # BLAS's dot is faster than add.reduce; past ~1e154 it overflows: the blocks' path
                    if not math.isfinite(vdot(value, value) if value.ndim else value):
                        return None
        except FloatingPointError:
            return None
        handed = []
        for index, out in enumerate(self.out):
            if out is None:
                handed.append(np.zeros_like(inputs[index - 1]))
                continue
            value = slots[out[0]]
            handed.append(np.array(value) if out[1] else float(value) if not value.ndim else value)
        return handed[0], handed[1:]


def _operand(constant):
    """A constant as a ufunc reads it fastest: a number as a 0-d array (a Python float costs a
    ufunc call twice as much at small sizes: numpy converts it on every call)."""
    if type(constant) is not float:
        return constant
    array = np.array(constant)
    array.flags.writeable = False
    return array


def _needed(calls: list, wanted: set) -> list:
    """The calls that lead to the wanted values, in order."""
    kept = []
    for call in reversed(calls):
        if call[2] in wanted:
            kept.append(call)
            wanted.update(call[1])
    kept.reverse()
    return kept


def record(run, inputs: list):
    """A Tape of `run(stand-ins, recorder)` -> (value, gradients), or None when it cannot be recorded."""
    recorder = _Recorder(inputs)
    traced = [_Traced(value, ref, recorder) for ref, value in enumerate(inputs)]
    try:
        with np.errstate(all="ignore"):
            value, gradients = run(traced, recorder)
        shapes = [value.shape for value in inputs]
        refs = [None if gradient is None else recorder.number(gradient) for gradient in gradients]
        if any(ref is not None and np.shape(recorder.values[ref]) != shape for ref, shape in zip(refs, shapes)):
            raise Untraceable("a gradient of another shape than its input")
        return Tape(recorder, recorder.number(value), refs)
    except Exception:  # noqa: BLE001  whatever a rule does that a tape cannot replay (Untraceable,
        return None  # an attribute a stand-in lacks, an error of the inputs): the blocks' path, as before
