"""Array operations, one class each: matrix products, reductions, softmax. They also accept
scalars (as 0-d arrays), but a graph that has one is evaluated with numpy (`array_only`)."""

from gradcalc.numeric import ShapeMismatch, check_axis, numpy, spread


class MatMul:
    """x @ y, the matrix product of vectors and matrices."""

    __slots__ = ("x", "y")

    symbol = "@"
    array_only = True
    arity = 2

    def forward(self, x, y):
        np = numpy()
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if x.ndim not in (1, 2) or y.ndim not in (1, 2):
            raise ShapeMismatch("a matrix product needs vectors or matrices")
        if x.shape[-1] != y.shape[0]:
            raise ShapeMismatch(f"the left side has {x.shape[-1]} columns, the right side "
                                f"{y.shape[0]} rows")
        self.x, self.y = x, y
        return x @ y

    def backward(self, gy):
        np = numpy()
        x, y = self.x, self.y
        # each case is d(x@y): dx = gy @ y.T, dy = x.T @ gy, with vectors as rows or columns
        gx = np.outer(gy, y) if y.ndim == 1 and x.ndim == 2 else (gy * y if y.ndim == 1 else gy @ y.T)
        gw = np.outer(x, gy) if x.ndim == 1 and y.ndim == 2 else (gy * x if x.ndim == 1 else x.T @ gy)
        return gx, gw


class Dot(MatMul):
    """dot(x, y): the inner product of two vectors (the matrix product otherwise)."""

    __slots__ = ()
    symbol = None


class Sum:
    """sum(x) of every element, or sum(x, axis) along one axis."""

    __slots__ = ("axis", "shape")
    params = ("axis",)  # set when the node is built; the rest is state from the last forward

    array_only = True
    takes_axis = True

    def __init__(self, axis=None):
        self.axis = axis

    def forward(self, x):
        np = numpy()
        self.shape = np.shape(x)
        check_axis(self.axis, self.shape)
        return np.sum(x, axis=self.axis)

    def backward(self, gy):
        return (spread(gy, self.shape, self.axis),)


class Mean(Sum):
    """mean(x) of every element, or mean(x, axis) along one axis."""

    __slots__ = ("count",)

    def forward(self, x):
        total = super().forward(x)
        self.count = numpy().size(x) if self.axis is None else self.shape[self.axis]
        return total / self.count

    def backward(self, gy):
        return (spread(gy, self.shape, self.axis) / self.count,)


class Max:
    """max(x) or max(x, axis); the gradient goes to the maximum, split evenly between ties."""

    hides_infinity = True  # an inf or nan input can give a finite value: check it first

    keeps_finite = True  # finite inputs give a finite value and gradient

    __slots__ = ("axis", "x", "winners")
    params = ("axis",)  # set when the node is built; the rest is state from the last forward

    array_only = True
    takes_axis = True
    kink = True  # where two elements tie for the maximum the gradient jumps
    pick = "max"

    def __init__(self, axis=None):
        self.axis = axis

    def forward(self, x):
        np = numpy()
        x = np.asarray(x, dtype=float)
        check_axis(self.axis, x.shape)
        if x.size == 0:
            raise ShapeMismatch(f"{self.pick} of an empty array")
        out = getattr(np, self.pick)(x, axis=self.axis)
        hit = x == (out if self.axis is None else np.expand_dims(out, self.axis))
        self.winners = hit / np.sum(hit, axis=self.axis, keepdims=self.axis is not None)
        self.x = x
        return out

    def backward(self, gy):
        return (self.winners * (gy if self.axis is None else numpy().expand_dims(gy, self.axis)),)


class Min(Max):
    """min(x) or min(x, axis); the gradient goes to the minimum, split evenly between ties."""

    __slots__ = ()
    pick = "min"


class Transpose:
    """transpose(x): the axes reversed."""

    keeps_finite = True  # finite inputs give a finite value and gradient

    __slots__ = ()

    array_only = True

    def forward(self, x):
        return numpy().transpose(x)

    def backward(self, gy):
        return (numpy().transpose(gy),)


class Softmax:
    """softmax(x) along the last axis, computed as exp(x - max) / sum so it never overflows."""

    keeps_finite = True  # finite inputs give a finite value and gradient

    __slots__ = ("out",)

    array_only = True

    def forward(self, x):
        np = numpy()
        shifted = np.exp(x - np.max(x, axis=-1, keepdims=True))
        self.out = shifted / np.sum(shifted, axis=-1, keepdims=True)
        return self.out

    def backward(self, gy):
        s = self.out  # J^T gy = s * (gy - <gy, s>) along the softmax axis
        return (s * (gy - numpy().sum(gy * s, axis=-1, keepdims=True)),)


class LogSumExp:
    """logsumexp(x) = ln(sum(exp(x))) of every element, computed as max + ln(sum(exp(x - max)))."""

    __slots__ = ("weights",)

    array_only = True

    def forward(self, x):
        np = numpy()
        x = np.asarray(x, dtype=float)
        top = np.max(x)
        total = np.sum(np.exp(x - top))
        self.weights = np.exp(x - top) / total  # the softmax of x: the gradient's direction
        return top + np.log(total)

    def backward(self, gy):
        return (self.weights * gy,)
