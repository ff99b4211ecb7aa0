"""Helpers the layers share: domain errors, and numpy arrays (numpy is imported on first use, never for scalars)."""

import functools
import math

from gradcalc.errors import DomainError
from gradcalc.formatting import format_number


class ShapeMismatch(Exception):
    """Raised by a layer whose inputs' shapes do not fit; the evaluator names the node."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


def numpy():
    """numpy, imported when an array first needs it."""
    import numpy

    return numpy


_NOT_NUMBERS = {"b": "holds booleans, not numbers", "U": "holds strings, not numbers",
                "S": "holds bytes, not numbers", "M": "holds dates, not numbers",
                "m": "holds time spans, not numbers", "V": "holds records, not numbers",
                "O": "holds Python objects, not numbers", "c": "is complex; values must be real numbers"}


def not_numbers(array) -> str | None:
    """Why an array's elements are not real numbers a float64 array could hold unchanged (complex
    would lose its imaginary part, dates and booleans would become counts), or None."""
    return _NOT_NUMBERS.get(array.dtype.kind)


def first_non_finite(value) -> str:
    """"inf at index (2,)": the first inf or nan of an array (of a scalar: its value)."""
    index = first_non_finite_index(value)
    if index is None:
        return str(float(value))
    return f"{value[index]} at index {index}"


def first_non_finite_index(value) -> tuple | None:
    """The index of an array's first inf or nan (None for a scalar)."""
    np = numpy()
    if not np.ndim(value):
        return None
    return first_index(~np.isfinite(value))


def first_index(mask) -> tuple:
    """The index of the first True element of a boolean array (of its first element if none is)."""
    np = numpy()
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), np.shape(mask)))


def all_finite(value) -> bool:
    """One summing pass (an inf or nan makes the sum non-finite); the exact test only if it is not."""
    np = numpy()
    with np.errstate(all="ignore"):  # the sum of large finite values may overflow: that is the test
        return math.isfinite(np.sum(value)) or bool(np.all(np.isfinite(value)))


def sum_is_finite(value) -> bool:
    """One summing pass under the caller's error state: a sum is inf or nan if any element is. A
    sum of finite elements that overflows says False too: the fast paths then take the plain
    path, which checks exactly (all_finite)."""
    np = numpy()
    return math.isfinite(np.add.reduce(value, axis=None) if type(value) is np.ndarray else value)


def refuse(mask, values, template: str) -> None:
    """Raise DomainError naming the first element where `mask` holds (no-op when none does)."""
    np = numpy()
    if not np.any(mask):
        return
    index = first_index(mask)
    value = np.broadcast_to(values, np.shape(mask))[index] if np.ndim(mask) else values
    at = f" at index {index}" if np.ndim(mask) else ""
    error = DomainError(template.format(value=format_number(float(value)), at=at))
    error.index = (index, np.shape(mask)) if np.ndim(mask) else None  # the inputs are shown there
    raise error


def outside_domain(x: float, name: str, needs: str) -> DomainError:
    """The error of a float argument outside a function's domain, as `refuse` words an array's."""
    return DomainError(f"argument is {format_number(x)}, {name} needs {needs}")


def check_axis(axis, shape) -> None:
    if isinstance(axis, tuple):  # sum(x, axis=[0, 1]): each axis in range, none twice
        for one in axis:
            check_axis(one, shape)
        if len({one % len(shape) for one in axis}) < len(axis):
            raise ShapeMismatch(f"axis {list(axis)} names an axis twice")
        return
    if axis is not None and not -len(shape) <= axis < len(shape):
        count = len(shape)
        hint = ("a scalar has no axes: leave the axis out" if count == 0 else
                "its only axis is 0 (or -1)" if count == 1 else
                f"its axes are 0 to {count - 1}, or -{count} to -1 counting from the end")
        raise ShapeMismatch(f"axis {axis} is out of range for shape {tuple(shape)}", hint=hint)


def refuse_empty(name: str, shape: tuple, axis, value: str = "undefined") -> None:
    """Raise ShapeMismatch where a reduction over `axis` (None: every element) would give a value
    for an empty slice: the mean, max or variance of nothing is undefined (numpy gives nan with a
    warning, or fails inside), its `value`. An empty result (the reduction of no slices) is fine."""
    if math.prod(shape):
        return
    also = " (the sum of an empty array is 0)" if name == "mean" else ""
    if axis is None:
        raise ShapeMismatch(f"{name} of an empty array is {value}", hint=f"give the array at least one element{also}")
    written = axis if isinstance(axis, tuple) else (axis,)
    if math.prod(size for i, size in enumerate(shape) if i not in {one % len(shape) for one in written}) == 0:
        return  # no slice at all: the result is empty too
    empty = next(one for one in written if shape[one] == 0)
    raise ShapeMismatch(f"{name} of an empty slice is {value}: axis {empty} has length 0",
                        hint=f"give axis {empty} at least one element, or reduce along another axis{also}")



def spread(gy, shape, axis, keepdims=False):
    """The gradient of a reduction, broadcast back over the reduced axis (or axes)."""
    if type(gy) is float:  # a number spread over everything: sum()'s gradient, on every call
        return constant(gy, tuple(shape))
    np = numpy()
    if axis is not None and not keepdims:
        gy = np.expand_dims(gy, axis)
    return np.broadcast_to(gy, shape)


def constant(value: float, shape: tuple):
    """`value` at every element of `shape`, read-only and zero-strided: one per (value, shape),
    since np.broadcast_to takes ~2 µs to make one and sum()'s backward asks for it on every call.
    Keyed by the value's bits: 0.0 and -0.0 are equal keys to a dict, and nan is no key at all."""
    return _constant(float(value).hex(), shape)


@functools.lru_cache(maxsize=256)
def _constant(bits: str, shape: tuple):
    np = numpy()
    # shared by every evaluation in the process and handed out in Result.nodes: neither the view
    # nor the number under it can be written (a writable base would let .base[...] = 7 through)
    number = np.array(float.fromhex(bits))
    number.flags.writeable = False
    return np.broadcast_to(number, shape)


LARGEST = 1.7976931348623157e308  # the largest double


def slice_exponents(x, axis):
    """Per slice along `axis` (kept, of size 1), the power of two e with |x| / 2**e < 1 for its
    largest |x| (0 for a slice of zeros); np.ldexp(x, -e) scales exactly, without forming 2**-e."""
    np = numpy()
    return np.frexp(np.max(np.abs(x), axis=axis, keepdims=True, initial=0.0))[1]  # initial: empty slices


def reduced_count(shape, axis) -> int:
    """How many elements a reduction over `axis` (None: all; a tuple: several) adds up."""
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[one] for one in (axis if isinstance(axis, tuple) else (axis,)))


def times(gy, factor, target=None):
    """gy * factor, the gradient of `target` in target * factor, with two shortcuts for arrays.
    When gy is a 1 broadcast to factor's shape (what sum() passes down) the product would only
    copy factor: factor itself is the gradient (gradients are never written to). When `target` is
    a scalar and gy and factor are arrays of one shape, the evaluator would sum the product back to
    that scalar: their dot product does it in one pass, with no temporary array."""
    shape = getattr(factor, "shape", None)
    strides = getattr(gy, "strides", None)
    ones = strides is not None and not any(strides) and gy.shape == shape and gy.size and gy.item(0) == 1.0
    if target is not None and shape and getattr(gy, "shape", None) == shape and not getattr(target, "ndim", 0):
        np = numpy()
        if ones:
            return float(np.add.reduce(factor, axis=None))
        if factor.size > BLAS_DOT_FROM or factor.ndim > EINSUM_AXES:
            return float(np.vdot(gy, factor))
        # OpenBLAS spreads a dot of over ~10k elements over threads of its own, which then fight
        # the array blocks' threads for the cores (a block run took twice as long); einsum's loop
        # is one pass on this thread
        axes = _AXES[: factor.ndim]  # "ij,ij->": every axis summed
        return float(np.einsum(f"{axes},{axes}->", gy, factor))
    return factor if ones else gy * factor


BLAS_DOT_FROM = 65_536  # elements; below it (every block is) a scalar factor's gradient is einsum's
EINSUM_AXES = 32  # einsum refuses arrays of more axes (numpy allows 64)
_AXES = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"  # one letter per axis (einsum takes 32)


def unbroadcast(gradient, shape: tuple):
    """Sum a gradient of a broadcast result back to the shape of the input it belongs to (or
    broadcast a scalar gradient up to it)."""
    np = numpy()
    if np.shape(gradient) == shape:
        return gradient
    gradient = np.asarray(gradient)
    if gradient.ndim < len(shape):
        gradient = np.broadcast_to(gradient, np.broadcast_shapes(gradient.shape, shape))
    extra = gradient.ndim - len(shape)
    if extra > 0:
        gradient = gradient.sum(axis=tuple(range(extra)))
    stretched = tuple(axis for axis, size in enumerate(shape) if size == 1 and gradient.shape[axis] != 1)
    if stretched:
        gradient = gradient.sum(axis=stretched, keepdims=True)
    return gradient if shape else float(gradient)
