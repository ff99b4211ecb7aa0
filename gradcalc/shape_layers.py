"""Building and slicing arrays, one class each (hooks documented in `gradcalc.layer`): the array
literal and stack(), numpy's basic indexing x[0, 1:], and the internal scatter that is indexing's
gradient (and whose gradient is the indexing again: both are linear).

An index key is a tuple of integers, slices written as ("slice", start, stop, step) and "...":
hashable, so that it can be a node's parameter (Python 3.11's slice objects are not).
"""

from gradcalc.layer import Layer
from gradcalc.numeric import ShapeMismatch, numpy


def numpy_key(key: tuple) -> tuple:
    """The index key as numpy takes it."""
    return tuple(slice(*item[1:]) if isinstance(item, tuple) else (Ellipsis if item == "..." else item)
                 for item in key)


def key_text(key: tuple) -> str:
    """The key as written in brackets: 0, 1:, ::2, ..."""
    parts = []
    for item in key:
        if isinstance(item, tuple):
            start, stop, step = ("" if v is None else str(v) for v in item[1:])
            parts.append(f"{start}:{stop}" + (f":{step}" if step else ""))
        else:
            parts.append(str(item))
    return ", ".join(parts)


def take_key(index: int, axis: int) -> tuple:
    """The key selecting element `index` along `axis` (negative axes count from the end)."""
    whole = ("slice", None, None, None)
    if axis >= 0:
        return (whole,) * axis + (index,)
    return ("...", index) + (whole,) * (-axis - 1)


class Stack(Layer):
    """stack(x, y, ..., axis=0), also the literal [x, y, ...]: inputs of one shape stacked along a
    new axis; each input's gradient is its slice of the output's."""

    __slots__ = ("axis",)
    params = ("axis",)
    arity = -1  # any number of inputs, at least one
    array_only = keeps_finite = True

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        np = numpy()
        arrays = [np.asarray(x, dtype=float) for x in xs]
        shapes = [a.shape for a in arrays]
        if len(set(shapes)) > 1:
            raise ShapeMismatch("the elements to stack have different shapes: "
                                + ", ".join(str(shape) for shape in shapes))
        if not -arrays[0].ndim - 1 <= self.axis <= arrays[0].ndim:
            raise ShapeMismatch(f"axis {self.axis} is out of range for stacking arrays of shape {shapes[0]}")
        return np.stack(arrays, axis=self.axis)

    def backward(self, ops, gy, y, *xs):
        return tuple(ops.index(gy, take_key(i, self.axis)) for i in range(len(xs)))


class Index(Layer):
    """x[key]: numpy's basic indexing with the integers and slices written in the brackets; the
    gradient is scattered back to the indexed elements."""

    __slots__ = ("key",)
    params = ("key",)
    array_only = keeps_finite = True

    def __init__(self, key=()):
        self.key = key

    def forward(self, x):
        np = numpy()
        x = np.asarray(x, dtype=float)
        try:
            return x[numpy_key(self.key)]
        except IndexError as error:  # "index 5 is out of bounds for axis 0 with size 3"
            raise ShapeMismatch(f"[{key_text(self.key)}]: {error}") from None

    def backward(self, ops, gy, y, x):
        return (ops.scatter(gy, x, self.key),)


class Scatter(Layer):
    """g placed at x[key] in an array of zeros of x's shape: indexing's gradient (x lends its shape)."""

    __slots__ = ("key",)
    params = ("key",)
    arity, array_only, internal = 2, True, True

    def __init__(self, key=()):
        self.key = key

    def forward(self, g, x):
        np = numpy()
        out = np.zeros(np.shape(x))
        out[numpy_key(self.key)] = g  # basic indexing never names an element twice
        return out

    def backward(self, ops, gy, y, g, x):
        return ops.index(gy, self.key), None
