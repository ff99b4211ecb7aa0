"""Fast path for small arrays: the blocks' own steps, recorded once as numpy calls, then replayed.

Below 65,536 elements an evaluation's numpy work is a few microseconds per operation and the
Python around it (each layer's rule, the evaluator's bookkeeping, checking values for inf and nan)
costs as much again. So at a shape's second call `blocked._block` runs on stand-ins (`_Traced`)
that do the real numpy work while writing down every ufunc call; later calls at that shape replay
the list (the tape): one loop of ufunc calls writing into buffers, each buffer reused as soon as the
value in it is read for the last time, and the gradients written straight into arrays of the
caller's own. A recording is replayed once on its own inputs and kept only if the replay gives the
same bits.

Checking: the tape checks the blocks' checkpoints (which see every input's inf or nan) and runs with
numpy's floating-point errors raised. From finite inputs, the ufuncs a tape may hold (`TRACEABLE`)
can give an inf or nan only by overflow, division by zero or an invalid operation, and each raises
its flag (tests hold every one of them to that on a grid of values; each process probes a few
before its first recording). So a replay that raises nothing has only finite values and
gradients, without a pass over each; one that raises returns None, and the caller takes the
blocks' path, which checks every value, tells a harmless overflow (sigmoid(-800) = 0) from a real
one, and hands errors to the plain path.

A rule may call anything else (np.where or np.equal on stand-ins, a reduction over an axis, einsum)
only for a value that is thrown away (the gradient of the 2 in x^2 or 2*x): such a call is computed
for real and marked, and a tape that would need it is not kept. A rule that reads a value (`if`,
item()) or sums a broadcast back cannot be recorded at all: its graph keeps the blocks' path at that
shape. A number made of a stand-in (float()) is nan, so that a recording that used it has results
that are not finite, and is not kept.
"""

import functools
import math

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from gradcalc.errors import GradcalcError
from gradcalc.numeric import ShapeMismatch, sum_is_finite

# ufuncs whose inf or nan from finite float64 inputs always comes with a floating-point flag
# (tests/test_tape.py holds each to it); a call to any other ufunc stops the recording
TRACEABLE = frozenset({np.add, np.subtract, np.multiply, np.divide, np.negative, np.positive, np.square, np.power,
                       np.exp, np.exp2, np.expm1, np.log, np.log2, np.log10, np.log1p, np.sqrt,
                       np.sin, np.cos, np.tan, np.arcsin, np.arccos, np.arctan,
                       np.sinh, np.cosh, np.tanh, np.arcsinh, np.arccosh, np.arctanh, np.hypot})
_TOTAL = np.add.reduce  # one bound method, so that `is` finds it (each attribute access makes a new one)
_POISON = object()  # the function of a call a tape cannot replay (Recorder.poisoned)
_STRUCTURE = frozenset({np.ndim, np.shape, np.size})
DOUBLE = np.dtype(np.float64)  # native float64 is one object: `is` finds it
_RAISED = {"over": "raise", "divide": "raise", "invalid": "raise", "under": "ignore"}
try:  # numpy 2 keeps its error state in a context variable (per thread): a replay sets it and puts
    # it back itself, with the state made once; np.errstate makes it and enters a context manager
    # at every call (1.3 µs of a 50 µs replay at 1e4 elements, paired). Any other numpy: errstate.
    # Its buffer size and callback are those at import: the four modes are given (none "call"), and
    # the buffer size only changes how casts are buffered, which the tape's float64 arrays never need.
    from numpy._core._ufunc_config import _extobj_contextvar as _ERROR_STATE
    from numpy._core._ufunc_config import _make_extobj

    _RAISING = _make_extobj(**_RAISED)
except (ImportError, AttributeError, TypeError):
    _ERROR_STATE = _RAISING = None


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
        if func is np.where and len(args) == 3 and type(args[0]) is not _Traced and not np.ndim(args[0]):
            # a condition of constants alone (x^2's slope asks whether the exponent is 0): the
            # branch it picks, where that is already of the result's shape
            chosen = args[1] if args[0] else args[2]
            if np.shape(chosen) == np.broadcast_shapes(*(np.shape(arg) for arg in args)):
                return chosen
        return self.recorder.poisoned(func, args, kwargs)

    def __float__(self):
        # a number the tape could not replay: nan, so that a recording that used it (rather than
        # throwing it away, as the gradient of a constant factor is) has results that are not finite
        return math.nan

    def _read(self, *args, **kwargs):
        raise Untraceable("a rule read a value")

    __array__ = __bool__ = __int__ = __index__ = __len__ = __iter__ = __getitem__ = item = _read


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
        if type(operand) is np.float64:  # a folded constant (exp(2), sqrt(2)), or einsum's poison
            operand = float(operand)
        if type(operand) is not float and not (type(operand) is np.ndarray and operand.dtype is DOUBLE):
            raise Untraceable(f"an operand of type {type(operand).__name__}")
        self.values.append(operand)  # a constant of the graph (1 in 1 + x, sum()'s ones): kept as it is
        return len(self.values) - 1

    def record(self, ufunc, method, operands, kwargs):
        if ufunc not in TRACEABLE or not (method == "__call__" and set(kwargs) <= {"out"} or
                                          self._total(ufunc, method, kwargs)):
            return self.poisoned(getattr(ufunc, method), operands, kwargs)
        out = kwargs.pop("out", None)
        refs = [self.number(operand) for operand in operands]
        real = [operand.value if type(operand) is _Traced else operand for operand in operands]
        result = getattr(ufunc, method)(*real, **kwargs)
        if type(result) not in (np.ndarray, np.float64) or result.dtype is not DOUBLE or \
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

    def poisoned(self, function, operands, kwargs):
        """What a tape cannot replay (np.equal, np.where on stand-ins, a reduction over an axis):
        computed for real, so that the recording goes on, and marked, so that a tape needing it is
        not kept. Only a value thrown away may come of it (xlogy's gradient of a constant exponent)."""
        if "out" in kwargs or any(type(value) is _Traced for value in kwargs.values()):
            raise Untraceable(f"{getattr(function, '__name__', function)} writing into a stand-in")
        refs = tuple(operand.ref for operand in operands if type(operand) is _Traced)
        result = function(*(operand.value if type(operand) is _Traced else operand for operand in operands), **kwargs)
        if type(result) is not np.ndarray and not isinstance(result, np.generic):
            raise Untraceable(f"{getattr(function, '__name__', function)} giving {type(result).__name__}")
        self.values.append(result)
        self.calls.append((_POISON, refs, len(self.values) - 1))
        return _Traced(result, len(self.values) - 1, self)

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
        if any(function is _POISON for function, _, _ in kept):
            raise Untraceable("a value the tape cannot compute is used")
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
        made = {result for _, _, result in recorder.calls}  # values of the recording call: never kept
        self.template = [None if ref < inputs or ref in made else _operand(values[ref]) for ref in range(len(values))]
        # (function, first operand, second operand or None, result): the slots it reads and writes
        self.code = [(function, slot(operands[0], operands[0]),
                      slot(operands[1], operands[1]) if len(operands) == 2 else None, slot_of[result])
                     for function, operands, result in kept]
        self.checked = [slot(ref, ref) for ref in recorder.checked]
        # what is handed out, in order (the value, then each gradient): its slot and whether it
        # must be copied (an input, a constant, or an array another of them already is)
        self.value_ref = value
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
        if _ERROR_STATE is None:
            with np.errstate(**_RAISED):
                return self._replay(inputs)
        token = _ERROR_STATE.set(_RAISING)
        try:
            return self._replay(inputs)
        finally:
            _ERROR_STATE.reset(token)

    def _replay(self, inputs: list):
        """replay, under numpy's errors raised."""
        slots = self.template.copy()
        slots[: self.inputs] = inputs
        empty = np.empty
        for ref, shape in self.allocated:
            slots[ref] = empty(shape)
        try:
            for function, first, second, result in self.code:
                if second is not None:
                    function(slots[first], slots[second], slots[result])
                elif function is not _TOTAL:
                    function(slots[first], slots[result])
                else:
                    slots[result] = function(slots[first], axis=None)
            for ref in self.checked:  # not BLAS's dot: its threads would take the other core
                if not sum_is_finite(slots[ref]):
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
    """A constant as a replay reads it: a number as a 0-d array (a Python float costs a ufunc call
    twice as much at small sizes: numpy converts it on every call); an array of one number, made
    from constants alone while recording (sum()'s ones divided by the 2 of x/2), as that number
    broadcast, so that a tape keeps no full-size array."""
    if type(constant) is float:
        number = np.array(constant)
    elif constant.ndim and not all(constant.strides) and constant.base is not None:
        return constant  # a broadcast already (sum()'s ones)
    elif constant.size > 1 and (constant.view(np.uint64) == constant.view(np.uint64).flat[0]).all():  # bits: -0.0
        number = np.array(constant.flat[0])
    else:
        return constant
    number.flags.writeable = False
    return np.broadcast_to(number, constant.shape) if type(constant) is not float and constant.ndim else number


def _needed(calls: list, wanted: set) -> list:
    """The calls that lead to the wanted values, in order."""
    kept = []
    for call in reversed(calls):
        if call[2] in wanted:
            kept.append(call)
            wanted.update(call[1])
    kept.reverse()
    return kept


class TryLater(Exception):
    """The recording call's own values stopped its check (an inf, a nan, a floating-point flag):
    a later call at the shape may record it."""


# what a rule may raise on a stand-in: the recording is given up, the blocks' path goes on as before
_NOT_RECORDABLE = (Untraceable, AttributeError, TypeError, ValueError, ArithmeticError, GradcalcError, ShapeMismatch)


def record(run, inputs: list):
    """A Tape of `run(stand-ins, recorder)` -> (value, gradients); None when it cannot be
    recorded; TryLater when these inputs cannot show that the recording is right."""
    if not flags_hold():
        return None
    recorder = _Recorder(inputs)
    traced = [_Traced(value, ref, recorder) for ref, value in enumerate(inputs)]
    try:
        with np.errstate(all="ignore"):
            value, gradients = run(traced, recorder)
        refs = [None if gradient is None else recorder.number(gradient) for gradient in gradients]
        if any(ref is not None and np.shape(recorder.values[ref]) != array.shape for ref, array in zip(refs, inputs)):
            raise Untraceable("a gradient of another shape than its input")
        tape = Tape(recorder, recorder.number(value), refs)
    except _NOT_RECORDABLE:
        return None
    # the replay on the recording's inputs must give the recording's own bits
    expected = [recorder.values[ref] for ref in [tape.value_ref, *refs] if ref is not None]
    if not all(np.isfinite(array).all() for array in expected):
        raise TryLater
    handed = tape.replay(inputs)
    if handed is None:
        raise TryLater
    got = [handed[0], *(gradient for gradient, ref in zip(handed[1], refs) if ref is not None)]
    return tape if all(_same_bits(a, b) for a, b in zip(got, expected)) else None


def _same_bits(a, b) -> bool:
    """Equal to the bit (array_equal takes -0.0 for 0.0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all(a.view(np.uint64) == b.view(np.uint64)))


# (ufunc, operands) that make an inf or nan from finite numbers: each must raise its flag here
_PROBES = [(np.add, (1e308, 1e308)), (np.subtract, (1e308, -1e308)), (np.multiply, (1e200, 1e200)),
           (np.divide, (1.0, 0.0)), (np.divide, (0.0, 0.0)), (np.divide, (1e300, 1e-300)), (np.square, (1e200,)),
           (np.exp, (710.0,)), (np.exp2, (1025.0,)), (np.expm1, (710.0,)), (np.sinh, (711.0,)), (np.cosh, (711.0,)),
           (np.log, (0.0,)), (np.log, (-1.0,)), (np.log2, (0.0,)), (np.log10, (-1.0,)), (np.log1p, (-1.0,)),
           (np.log1p, (-2.0,)), (np.sqrt, (-1.0,)), (np.arcsin, (2.0,)), (np.arccos, (-2.0,)),
           (np.arccosh, (0.5,)), (np.arctanh, (1.0,)), (np.arctanh, (2.0,)),
           (np.power, (1e200, 2.0)), (np.power, (0.0, -1.0)), (np.power, (-2.0, 0.5)), (np.hypot, (1.7e308, 1.7e308))]


@functools.cache
def flags_hold() -> bool:
    """Whether this process's numpy raises the flag for a few infs and nans TRACEABLE ufuncs make
    (in its scalar loop and in a vector loop with a tail); tests/test_tape.py tries a wide grid."""
    for ufunc, operands in _PROBES:
        for length in (1, 19):
            arrays = [np.full(length, 0.5) for _ in operands]
            for array, operand in zip(arrays, operands):
                array[-1] = operand
            try:
                with np.errstate(**_RAISED):
                    ufunc(*arrays)
            except FloatingPointError:
                continue
            return False
    return True
