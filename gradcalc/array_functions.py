"""Functions of an array along one axis (or of every element), one class each: softmax,
log_softmax and logsumexp, norm, var and std, cumsum and prod, and the internal layers their
gradients need (the reversed cumsum, the product of the other elements). Each is computed without
the overflow, or the division by zero, of its textbook formula. They accept scalars (as 0-d
arrays), but a graph that has one is evaluated with numpy (`array_only`)."""

from gradcalc.layer import Layer
from gradcalc.numeric import (
    LARGEST,
    ShapeMismatch,
    check_axis,
    numpy,
    reduced_count,
    refuse_empty,
    slice_exponents,
    sum_is_finite,
)
from gradcalc.ops import ArrayOps


class Softmax(Layer):
    """softmax(x, axis=-1) along one axis (the last by default), computed as exp(x - max) / sum so
    it never overflows."""

    __slots__ = ("axis",)
    params = ("axis",)
    array_only = True  # not keeps_finite: its gradient, s (gy - <gy, s>), may overflow where gy is huge
    hides_infinity = True  # softmax(-inf, 1) = (0, 1)

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        np = numpy()
        if not np.ndim(x):
            raise ShapeMismatch("softmax needs a vector or an array (of a single number it is 1)")
        check_axis(self.axis, np.shape(x))
        if not np.size(x):
            return np.zeros(np.shape(x))  # as scipy's softmax([]): an empty array, of nothing to normalize
        shifted = np.exp(x - np.max(x, axis=self.axis, keepdims=True))
        return shifted / np.sum(shifted, axis=self.axis, keepdims=True)

    def backward(self, ops, gy, y, x):
        # J^T gy = s (gy - <gy, s>) along the softmax axis, with gy shifted by m, its value at the
        # largest s (Σ s = 1 makes that the same): where one s is near 1 (x = (30, 0, -30)),
        # gy - <gy, s> cancels there (1e-3 off), while gy - m is exactly 0 there and <gy - m, s>
        # adds only the small s's terms. Ties at the largest share m evenly.
        m = ops.spread(ops.sum(gy * ops.winners(y, self.axis), self.axis), y, self.axis)
        shifted = gy - m
        return (y * (shifted - ops.spread(ops.sum(shifted * y, self.axis), y, self.axis)),)


class LogSoftmax(Softmax):
    """log_softmax(x, axis=-1) = x - logsumexp(x) along one axis, computed without overflow."""

    __slots__ = ()
    hides_infinity = False  # log_softmax(-inf, 1) = (-inf, 0)

    def forward(self, x):
        np = numpy()
        if not np.ndim(x):
            raise ShapeMismatch("log_softmax needs a vector or an array (of a single number it is 0)")
        check_axis(self.axis, np.shape(x))
        if not np.size(x):
            return np.zeros(np.shape(x))
        shifted = x - np.max(x, axis=self.axis, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=self.axis, keepdims=True))

    def backward(self, ops, gy, y, x):
        # gy - softmax(x) * sum(gy) along the axis
        return (gy - ops.exp(y) * ops.spread(ops.sum(gy, self.axis), y, self.axis),)


class LogSumExp(Layer):
    """logsumexp(x) = ln(sum(exp(x))) of every element, or logsumexp(x, axis) along one axis,
    computed as max + ln(sum(exp(x - max)))."""

    __slots__ = ("axis",)
    params = ("axis",)
    array_only = True
    hides_infinity = True  # logsumexp(-inf, 1) = 1

    def __init__(self, axis=None):
        self.axis = axis

    def forward(self, x):
        np = numpy()
        x = np.asarray(x, dtype=float)
        check_axis(self.axis, x.shape)
        refuse_empty("logsumexp", x.shape, self.axis, "ln 0 = -inf")
        top = np.max(x, axis=self.axis, keepdims=True)
        out = top + np.log(np.sum(np.exp(x - top), axis=self.axis, keepdims=True))
        return out.reshape(()) if self.axis is None else np.squeeze(out, axis=self.axis)

    def backward(self, ops, gy, y, x):
        # the softmax of x along the axis: exp(x - logsumexp(x))
        return (ops.spread(gy, x, self.axis) * ops.exp(x - ops.spread(y, x, self.axis)),)


class Norm(Layer):
    """norm(x): the 2-norm sqrt(sum(x²)) of every element (without overflow where the norm has
    none); its gradient is x / norm, taken as 0 at x = 0 (the subgradient of smallest norm)."""

    __slots__ = ()
    array_only = kink = True  # not keeps_finite: norm(1.7e308, 1.7e308) overflows

    def forward(self, x):
        np = numpy()
        x = np.abs(np.asarray(x, dtype=float))
        top = np.max(x) if x.size else 0.0
        if not top or not np.isfinite(top):
            return top * 1.0  # 0, or an inf that the evaluator reports
        return top * np.sqrt(np.sum(np.square(x / top)))  # scaled: the squares of 1e300 overflow

    def backward(self, ops, gy, y, x):
        safe = y + (1.0 - ops.step(y))  # the norm where it is > 0, 1 at x = 0 where x/1 = 0
        return (ops.spread(gy, x) * (x / safe),)  # |x| / norm <= 1: gy * x could overflow where this does not

    def kink_input(self, x):
        np = numpy()
        return np.sum(np.square(x)) - 1e-300  # negative only at the origin

    def tip(self, x):
        return numpy().reshape(x, (1, -1))


class Var(Layer):
    """var(x) of every element, or var(x, axis), with ddof as numpy's (the divisor is n - ddof);
    computed without overflow or underflow where the true variance has none (as np.var is not:
    the squares of 1e200 overflow, those of 1e-200 vanish)."""

    __slots__ = ("axis", "ddof")
    params = ("axis", "ddof")
    array_only = True  # not keeps_finite: var(1e200, -1e200) = 1e400 overflows
    root = False

    def __init__(self, axis=None, ddof=0):
        self.axis, self.ddof = axis, ddof

    def forward(self, x):
        np = numpy()
        x = np.asarray(x, dtype=float)
        check_axis(self.axis, x.shape)
        refuse_empty(type(self).__name__.lower(), x.shape, self.axis)
        count = reduced_count(x.shape, self.axis)
        if count <= self.ddof:
            raise ShapeMismatch(f"{type(self).__name__.lower()} of {count} elements with ddof={self.ddof} "
                                "divides by zero or less")
        var = np.var(x, axis=self.axis, ddof=self.ddof)
        # overflowed, or so small that squares may have vanished (nan fails too): scaled instead
        if not (_NORMAL <= var <= LARGEST if not np.ndim(var) else np.all((var >= _NORMAL) & (var <= LARGEST))):
            return self._scaled(x)
        return np.sqrt(var) if self.root else var

    def _scaled(self, x):
        """np.var of x / 2**e, each slice scaled by the power of two of its largest |x| (exact:
        the same bits as np.var wherever that neither overflows nor underflows), scaled back."""
        np = numpy()
        exponent = slice_exponents(x, self.axis)
        var = np.var(np.ldexp(x, -exponent), axis=self.axis, ddof=self.ddof)  # <= 4 n / (n - ddof)
        exponent = np.squeeze(exponent, axis=self.axis)
        return np.ldexp(np.sqrt(var), exponent) if self.root else np.ldexp(var, 2 * exponent)

    def backward(self, ops, gy, y, x):
        # d var / dx = 2 (x - mean) / (n - ddof); n counted as the sum of ones over the axis
        count = ops.sum(ops.spread(1.0, x), self.axis)
        deviation = x - ops.spread(ops.mean(x, self.axis), x, self.axis)
        scale = gy / (2.0 * y) if self.root else gy  # std = sqrt(var)
        return (2.0 * deviation * ops.spread(scale / (count - self.ddof), x, self.axis),)

    def backward_array(self, gy, y, x):
        """The rule's gradient; where it is not finite (the mean of 1.7e308 and 1.7e308 overflows),
        again from the deviations of x / 2**e, which never overflow, scaled back."""
        np = numpy()
        divisor = reduced_count(np.shape(x), self.axis) - self.ddof
        share = np.divide(gy, divisor * y) if self.root else gy / divisor * 2.0  # y = 0.0: inf, not raising
        gradient = (x - np.mean(x, axis=self.axis, keepdims=True)) * ArrayOps.spread(share, x, self.axis)
        # a std beyond 1e±154 scaled too: its divisor * y may overflow (std of ±1.7e308: slopes 0, not ±0.5)
        # or be subnormal where the forward scaled (std of 5e-324 and 0 is 0, its slopes ±0.5)
        if sum_is_finite(gradient) and (not self.root or np.all((y >= _ROOT_NORMAL) & (y <= _ROOT_LARGEST))):
            return (gradient,)
        exponent = slice_exponents(x, self.axis)
        scaled = np.ldexp(x, -exponent)
        deviation = scaled - np.mean(scaled, axis=self.axis, keepdims=True)
        if self.root:  # deviation / (divisor * std): the scale cancels; the std of the scaled x, not
            # y / 2**e, since y may have underflowed to 0 (std of 5e-324 and 0 is 2.5e-324: 0, slopes ±0.5)
            share = gy / (divisor * np.std(scaled, axis=self.axis, ddof=self.ddof))
            return (deviation * ArrayOps.spread(share, x, self.axis),)
        return (np.ldexp(deviation, exponent + 1) * ArrayOps.spread(gy / divisor, x, self.axis),)


class Std(Var):
    """std(x) = sqrt(var(x)), or std(x, axis), with ddof as numpy's; no derivative where it is 0."""

    __slots__ = ()
    root = True
    kink = True  # a cone's tip where all values are equal: --check must not difference across it
    no_slope_where = "where all its values are equal"  # sqrt(var) at var = 0: a cone's tip

    def kink_input(self, x):
        """Where a slice's tip (its values all equal) is within --check's kink radius, 2**-20 max(|x|, 1),
        its deviations, whose signs change across the tip; elsewhere 1 (no tip near, no kink)."""
        np = numpy()
        x = np.asarray(x, dtype=float)
        var = Var(self.axis, self.ddof).forward(x)
        if self.axis is not None:
            var = np.expand_dims(var, self.axis)
        radius = 2.0 ** -20 * max(float(np.max(np.abs(x), initial=0.0)), 1.0)
        return np.where(var <= radius * radius, x - np.mean(x, axis=self.axis, keepdims=True), 1.0)


_NORMAL = 2.2250738585072014e-308  # the smallest normal double: a variance below it may have lost squares
_ROOT_NORMAL, _ROOT_LARGEST = 1.4916681462400413e-154, 1.3407807929942596e154  # their square roots


class OneAxis(Layer):
    """Base of the layers whose one parameter is an axis (None: every element, flattened)."""

    __slots__ = ("axis",)
    params = ("axis",)

    def __init__(self, axis=None):
        self.axis = axis


class Cumsum(OneAxis):
    """cumsum(x) of the elements row by row (flattened, as numpy), or cumsum(x, axis) along one
    axis; the gradient is the reversed cumulative sum."""

    __slots__ = ()
    array_only = True

    def forward(self, x):
        np = numpy()
        check_axis(self.axis, np.shape(x))
        return np.cumsum(x, axis=self.axis)

    def backward(self, ops, gy, y, x):
        return (ops.rev_cumsum(gy, x, self.axis),)


class RevCumsum(OneAxis):
    """g summed from the end (a cumsum's gradient) in the shape of x, which lends only its shape.
    Its transpose is the cumsum."""

    __slots__ = ()
    arity, array_only, internal = 2, True, True

    def forward(self, g, x):
        return ArrayOps.rev_cumsum(g, x, self.axis)

    def backward(self, ops, gy, y, g, x):
        return ops.cumsum(gy, self.axis), None


class Prod(OneAxis):
    """prod(x) of every element, or prod(x, axis) along one axis; the gradient is the product of
    the other elements (exact where elements are 0 too)."""

    __slots__ = ()
    array_only = True

    def forward(self, x):
        np = numpy()
        check_axis(self.axis, np.shape(x))
        return np.prod(x, axis=self.axis)

    def backward(self, ops, gy, y, x):
        return (ops.spread(gy, x, self.axis) * ops.prod_others(x, self.axis),)


class ProdOthers(OneAxis):
    """For each element of x, the product of the others along the axis (of all, for None):
    prod's gradient, from products before and after each element, so zeros need no division.
    Its own rule divides by x, so derivatives of prod of order 2 and up are refused (not finite)
    where an element is exactly 0."""

    __slots__ = ()
    array_only, internal = True, True

    def forward(self, x):
        np = numpy()
        x = np.asarray(x, dtype=float)
        if not x.size:
            return np.ones(x.shape)  # no elements, no others: prod([]) = 1, its gradient empty
        flat = x.reshape(-1) if self.axis is None else x
        axis = 0 if self.axis is None else self.axis
        ones = np.ones_like(np.take(flat, [0], axis=axis))
        before = np.cumprod(np.concatenate([ones, np.delete(flat, -1, axis=axis)], axis=axis), axis=axis)
        after = np.flip(np.cumprod(np.concatenate([ones, np.delete(np.flip(flat, axis), -1, axis=axis)],
                                                  axis=axis), axis=axis), axis)
        return (before * after).reshape(x.shape)

    def backward(self, ops, gy, y, x):
        # d/dx_j of sum_i gy_i P_i = sum_{i != j} gy_i P_i / x_j
        total = ops.spread(ops.sum(gy * y, self.axis), x, self.axis)
        return ((total - gy * y) / x,)
