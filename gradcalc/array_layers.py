"""Array operations, one class each: matrix products, sum, mean, max, min and transpose, and the
internal layers that derivative graphs of array expressions need (a reduction's gradient spread
back, a broadcast gradient summed back, a max's winners). They accept scalars (as 0-d arrays), but a
graph that has one is evaluated with numpy (`array_only`). Softmax, norm, var, cumsum and prod are
array_functions.py's."""

from math import isfinite

from gradcalc.formatting import plural
from gradcalc.layer import Layer
from gradcalc.numeric import ShapeMismatch, check_axis, numpy, refuse_empty, slice_exponents
from gradcalc.ops import ArrayOps

MATMUL_HINT = "x @ y needs as many columns in x as rows in y; transpose(y) swaps the axes of a matrix"


class MatMul(Layer):
    """x @ y, the matrix product of vectors and matrices."""

    __slots__ = ()
    symbol, arity, array_only = "@", 2, True

    def forward(self, x, y):
        np = numpy()
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if x.ndim not in (1, 2) or y.ndim not in (1, 2):
            raise ShapeMismatch("a matrix product needs vectors or matrices")
        if x.shape[-1] != y.shape[0]:
            raise ShapeMismatch(f"the left side has {plural(x.shape[-1], 'column')}, the right side "
                                f"{plural(y.shape[0], 'row')}", hint=MATMUL_HINT)
        return x @ y

    def backward(self, ops, gy, y, x0, x1):
        return ops.matmul_grad(gy, x0, x1, 0), ops.matmul_grad(gy, x0, x1, 1)


class Dot(MatMul):
    """dot(x, y): the inner product of two vectors (the matrix product otherwise)."""

    __slots__ = ()
    symbol = None


class MatMulGrad(Layer):
    """The gradient of x @ y for x (side 0: from gy and y) or for y (side 1: from gy and x); the
    other operand only lends its shape. Bilinear, so its own rule is a matmul and a MatMulGrad."""

    __slots__ = ("side",)
    params = ("side",)
    arity, array_only, internal = 3, True, True

    def __init__(self, side):
        self.side = side

    def forward(self, gy, x, y):
        return ArrayOps.matmul_grad(gy, x, y, self.side)

    def backward(self, ops, g, out, gy, x, y):
        # <g, grad_x(gy, y)> = <gy, g @ y>; <g, grad_y(gy, x)> = <gy, x @ g>
        if self.side == 0:
            return ops.matmul(g, y), None, ops.matmul_grad(gy, g, y, 1)
        return ops.matmul(x, g), ops.matmul_grad(gy, x, g, 0), None


class Sum(Layer):
    """sum(x) of every element, or sum(x, axis) along one axis (or axis=[0, 1]: several), the
    reduced axes kept with size 1 when keepdims=1."""

    __slots__ = ("axis", "keepdims")
    params = ("axis", "keepdims")
    array_only = True
    mean = False

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, bool(keepdims)

    def forward(self, x):
        np = numpy()
        if self.axis is None and not self.mean:  # the ufunc itself: np.sum's wrapper costs ~1.5 µs a call
            total = np.add.reduce(x, axis=None, keepdims=self.keepdims)
        else:
            check_axis(self.axis, np.shape(x))
            if self.mean:
                refuse_empty("mean", np.shape(x), self.axis)  # before numpy's nan and its warning
            total = (np.mean if self.mean else np.sum)(x, axis=self.axis, keepdims=self.keepdims)
        if type(total) is np.float64:  # a float: math's test is the cheapest
            finite = isfinite(total)
        else:  # an array; or a tape's stand-in while recording, whose replayed sum the blocks check
            finite = type(total) is not np.ndarray or np.isfinite(total).all()  # one temporary, not two
        return total if finite else self._scaled(x)  # overflowed (or nan of inf - inf), or inf/nan in x

    def _scaled(self, x):
        """The sum (mean) of x / 2**e, each slice scaled by the power of two of its largest |x|, scaled
        back: the same bits as numpy's wherever that does not overflow, and finite wherever the result
        is (mean(1.7e308, 1.7e308); the sum of ±1.797e308 alternating, whose pairs numpy adds as inf)."""
        np = numpy()
        exponent = slice_exponents(x, self.axis)
        total = (np.mean if self.mean else np.sum)(np.ldexp(x, -exponent), axis=self.axis, keepdims=True)
        total = np.ldexp(total, exponent)  # the inf of a true overflow; x's own inf or nan as before
        return total if self.keepdims else np.squeeze(total, axis=self.axis)[()]

    def backward(self, ops, gy, y, x):
        return (ops.spread(gy, x, self.axis, self.mean, self.keepdims),)


class Mean(Sum):
    """mean(x) of every element, or mean(x, axis) along one axis."""

    __slots__ = ()
    mean = True


class Spread(Layer):
    """A sum's (or mean's) gradient g broadcast back over the reduced axis to the shape of x."""

    __slots__ = ("axis", "mean", "keepdims")
    params = ("axis", "mean", "keepdims")
    arity, array_only, internal = 2, True, True

    def __init__(self, axis=None, mean=False, keepdims=False):
        self.axis, self.mean, self.keepdims = axis, mean, keepdims

    def forward(self, g, x):
        return ArrayOps.spread(g, x, self.axis, self.mean, self.keepdims)

    def backward(self, ops, gy, y, g, x):
        # linear in g: its transpose is the reduction itself
        reduce = ops.mean if self.mean else ops.sum
        return reduce(gy, self.axis, self.keepdims), None


class SumLike(Layer):
    """g summed back to the shape of x (where broadcasting stretched x); x lends only its shape."""

    __slots__ = ()
    arity, array_only, internal = 2, True, True

    def forward(self, g, x):
        return ArrayOps.sum_like(g, x)

    def backward(self, ops, gy, y, g, x):
        return ops.broadcast_like(gy, g), None


class BroadcastLike(Layer):
    """g broadcast to the shape of x (the transpose of SumLike); x lends only its shape."""

    __slots__ = ()
    arity, array_only, internal = 2, True, True

    def forward(self, g, x):
        np = numpy()
        return np.broadcast_to(g, np.broadcast_shapes(np.shape(g), np.shape(x)))

    def backward(self, ops, gy, y, g, x):
        return ops.sum_like(gy, g), None


class Winners(Layer):
    """Where x attains its max (or min) along an axis, ties sharing 1 evenly; piecewise constant."""

    __slots__ = ("axis", "pick")
    params = ("axis", "pick")
    array_only, internal = True, True

    def __init__(self, axis=None, pick="max"):
        self.axis, self.pick = axis, pick

    def forward(self, x):
        return ArrayOps.winners(x, self.axis, self.pick)

    def backward(self, ops, gy, y, x):
        return (None,)


class Max(Layer):
    """max(x) or max(x, axis) (axis=[0, 1]: several; keepdims=1 keeps them with size 1); the
    gradient goes to the maximum, split evenly between ties."""

    __slots__ = ("axis", "keepdims")
    params = ("axis", "keepdims")
    array_only = True
    hides_infinity = keeps_finite = True
    kink = True  # where two elements tie for the maximum the gradient jumps
    pick = "max"

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, bool(keepdims)

    def forward(self, x):
        np = numpy()
        x = np.asarray(x, dtype=float)
        check_axis(self.axis, x.shape)
        refuse_empty(self.pick, x.shape, self.axis)
        return getattr(np, self.pick)(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, ops, gy, y, x):
        return (ops.winners(x, self.axis, self.pick) * ops.spread(gy, x, self.axis, False, self.keepdims),)


class Min(Max):
    """min(x) or min(x, axis); the gradient goes to the minimum, split evenly between ties."""

    __slots__ = ()
    pick = "min"


class Transpose(Layer):
    """transpose(x): the axes reversed."""

    __slots__ = ()
    array_only = keeps_finite = True

    def forward(self, x):
        return numpy().transpose(x)

    def backward(self, ops, gy, y, x):
        return (ops.transpose(gy),)
