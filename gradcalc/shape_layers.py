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


class _Joining(Layer):
    """Any number of arrays joined along `axis` (stack, concat)."""

    __slots__ = ("axis",)
    params = ("axis",)
    arity = -1  # any number of inputs, at least one
    array_only = keeps_finite = True

    def __init__(self, axis=0):
        self.axis = axis


class Stack(_Joining):
    """stack(x, y, ..., axis=0), also the literal [x, y, ...]: inputs of one shape stacked along a
    new axis; each input's gradient is its slice of the output's."""

    __slots__ = ()

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
    hides_infinity = True  # x[0] of (1, inf) is 1

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


class Reshape(Layer):
    """reshape(x, [rows, cols]) or reshape(x, n): the elements of x in a new shape (one size may
    be -1: whatever the others leave); the gradient is reshaped back."""

    __slots__ = ("shape",)
    params = ("shape",)
    array_only = keeps_finite = True

    def __init__(self, shape=(-1,)):
        self.shape = shape if isinstance(shape, tuple) else (shape,)

    def forward(self, x):
        np = numpy()
        try:
            return np.reshape(np.asarray(x, dtype=float), self.shape)
        except ValueError as error:  # "cannot reshape array of size 6 into shape (4,)"
            raise ShapeMismatch(str(error)) from None

    def backward(self, ops, gy, y, x):
        return (ops.reshape_like(gy, x),)


class Flatten(Layer):
    """flatten(x): the elements of x as a vector, row by row."""

    __slots__ = ()
    array_only = keeps_finite = True

    def forward(self, x):
        return numpy().ravel(numpy().asarray(x, dtype=float))

    backward = Reshape.backward


class ReshapeLike(Layer):
    """g reshaped to the shape of x (a reshape's gradient); x lends only its shape."""

    __slots__ = ()
    arity, array_only, internal = 2, True, True

    def forward(self, g, x):
        np = numpy()
        return np.reshape(g, np.shape(x))

    def backward(self, ops, gy, y, g, x):
        return ops.reshape_like(gy, g), None


class Outer(Layer):
    """outer(x, y): the matrix x_i y_j of two vectors."""

    __slots__ = ()
    arity, array_only = 2, True

    def forward(self, x, y):
        np = numpy()
        if np.ndim(x) != 1 or np.ndim(y) != 1:
            raise ShapeMismatch("outer needs two vectors")
        return np.outer(x, y)

    def backward(self, ops, gy, out, x, y):
        return ops.matmul(gy, y), ops.matmul(ops.transpose(gy), x)


class Diag(Layer):
    """diag(v): the square matrix with v on its diagonal; diag(X) of a square matrix: its diagonal.
    Linear: its gradient is diag of the upstream gradient."""

    __slots__ = ()
    array_only = keeps_finite = True
    hides_infinity = True  # the diagonal of a matrix leaves out the rest

    def forward(self, x):
        np = numpy()
        x = np.asarray(x, dtype=float)
        if x.ndim not in (1, 2) or (x.ndim == 2 and x.shape[0] != x.shape[1]):
            raise ShapeMismatch("diag needs a vector or a square matrix")
        return np.diag(x)

    def backward(self, ops, gy, y, x):
        return (ops.diag(gy),)


class Trace(Layer):
    """trace(X): the sum of the diagonal of a square matrix; its gradient is gy times the identity."""

    __slots__ = ()
    array_only = True  # not keeps_finite: trace of diag(1e308, 1e308) overflows
    hides_infinity = True  # it adds up the diagonal only

    def forward(self, x):
        np = numpy()
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or x.shape[0] != x.shape[1]:
            raise ShapeMismatch("trace needs a square matrix")
        return np.trace(x)

    def backward(self, ops, gy, y, x):
        return (ops.diag(ops.spread(gy, ops.diag(x))),)  # gy on the diagonal, 0 elsewhere


def _offsets(xs, axis) -> list:
    """Where each input of a concatenation starts along `axis`, and where the last one ends."""
    np = numpy()
    starts = [0]
    for x in xs:
        starts.append(starts[-1] + np.shape(x)[axis])
    return starts


class Concat(_Joining):
    """concat(x, y, ..., axis=0): arrays joined along an existing axis; each input's gradient is
    its part of the output's."""

    __slots__ = ()

    def forward(self, *xs):
        np = numpy()
        arrays = [np.asarray(x, dtype=float) for x in xs]
        if any(a.ndim == 0 for a in arrays):
            raise ShapeMismatch("concat joins arrays: a number has no axis to join along (write [x, y])")
        try:
            return np.concatenate(arrays, axis=self.axis)
        except (ValueError, np.exceptions.AxisError) as error:
            raise ShapeMismatch(str(error)) from None

    def backward(self, ops, gy, y, *xs):
        return tuple(ops.part(gy, xs, self.axis, i) for i in range(len(xs)))


class Part(Layer):
    """Input `index`'s part of a concatenation's gradient g (the inputs lend their sizes)."""

    __slots__ = ("axis", "index")
    params = ("axis", "index")
    arity, array_only, internal = -1, True, True

    def __init__(self, axis=0, index=0):
        self.axis, self.index = axis, index

    def forward(self, g, *xs):
        np = numpy()
        starts = _offsets(xs, self.axis)
        part = [slice(None)] * np.ndim(g)
        part[self.axis] = slice(starts[self.index], starts[self.index + 1])
        return np.array(g[tuple(part)])  # a slice, copied (np.take of a range was ~70x slower at 1e6)

    def backward(self, ops, gy, y, g, *xs):
        return (ops.place(gy, xs, self.axis, self.index), *([None] * len(xs)))


class Place(Part):
    """g put at input `index`'s place in zeros the shape of the concatenation of the inputs: the
    transpose of Part (the inputs lend their shapes)."""

    __slots__ = ()

    def forward(self, g, *xs):
        np = numpy()
        zeros = [np.zeros(np.shape(x)) for x in xs]
        zeros[self.index] = np.broadcast_to(g, np.shape(xs[self.index]))
        return np.concatenate(zeros, axis=self.axis)

    def backward(self, ops, gy, y, g, *xs):
        return (ops.part(gy, xs, self.axis, self.index), *([None] * len(xs)))
