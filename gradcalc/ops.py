"""The namespaces derivative rules are written in: the same names over floats, numpy arrays and
graph terms. A layer's `backward(ops, gy, y, *xs)` calls only Python operators and these
functions, so one rule is today's numeric backward (`ScalarOps`, `ArrayOps`) and, run with
`gradcalc.symbolic.GraphOps`, builds the derivative as a graph.

Every function here is total: where a derivative is infinite or undefined it returns inf or nan
instead of raising (the evaluator reports a non-finite gradient only where a variable needs it;
a constant base's infinite derivative in `0**0.5` is nobody's concern).
"""

import math

from gradcalc.numeric import numpy, reduced_count, spread, unbroadcast
from gradcalc.shape_layers import Index, Part, Place, Scatter


def erf_array(x):
    """erf elementwise: numpy has no erf ufunc (scipy is not a dependency), math.erf is exact."""
    np = numpy()
    return np.vectorize(math.erf, otypes=[float])(x)


def erfc_array(x):
    """erfc elementwise, as erf_array: 1 - erf(x) would lose every digit where erf(x) is near 1."""
    np = numpy()
    return np.vectorize(math.erfc, otypes=[float])(x)


class ScalarOps:
    """The rule namespace over Python floats (the math module: numpy scalars cost more per call)."""

    exp = staticmethod(math.exp)

    @staticmethod
    def hold(x, reach):
        """x held within [-reach, reach] (nan stays nan): two comparisons, not max and min."""
        if -reach <= x <= reach or x != x:
            return x
        return reach if x > 0 else -reach

    sin = staticmethod(math.sin)
    cos = staticmethod(math.cos)
    tanh = staticmethod(math.tanh)
    erf = staticmethod(math.erf)
    erfc = staticmethod(math.erfc)
    hypot = staticmethod(math.hypot)

    @staticmethod
    def sinh(x):
        try:
            return math.sinh(x)
        except OverflowError:
            return math.copysign(math.inf, x)

    @staticmethod
    def cosh(x):
        try:
            return math.cosh(x)
        except OverflowError:
            return math.inf

    @staticmethod
    def sigmoid(x):
        """1 / (1 + exp(-x)) without overflow (exp of a non-positive number only)."""
        if x >= 0:
            return 1.0 / (1.0 + math.exp(-x))
        z = math.exp(x)
        return z / (1.0 + z)

    @staticmethod
    def floor(x):
        return math.copysign(math.floor(x), x) if math.isfinite(x) else x  # floor(-0.0) = -0.0, as numpy's

    @staticmethod
    def log(x):
        return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)

    @staticmethod
    def sqrt(x):
        return math.sqrt(x) if x >= 0 else math.nan

    @staticmethod
    def sign(x):
        return float((x > 0) - (x < 0))

    @staticmethod
    def step(x):
        return 1.0 if x > 0 else 0.0

    @staticmethod
    def power_slope(x, y):
        """y * x**(y - 1), the derivative of x**y in x; 0 where y == 0 (x**0 is flat)."""
        if y == 0:
            return 0.0
        try:
            return y * x ** (y - 1)
        except ZeroDivisionError:  # 0 ** negative: the slope is infinite
            return math.inf
        except OverflowError:
            return math.inf

    @staticmethod
    def xlogy(x, y):
        """x * ln(y), 0 where x == 0 (the derivative of y**t in t, times y**t, at y = 0)."""
        if x == 0:
            return 0.0
        return x * math.log(y) if y > 0 else math.nan


def _numpy(name: str):
    """numpy's function of that name, looked up when first called (numpy is imported only then)."""
    return staticmethod(lambda *args: getattr(numpy(), name)(*args))


class ArrayOps:
    """The rule namespace over numpy arrays (and numpy scalars); shapes follow numpy's rules."""

    @staticmethod
    def index(x, key):
        return Index(key).forward(x)

    @staticmethod
    def scatter(g, x, key):
        return Scatter(key).forward(g, x)

    @staticmethod
    def part(g, xs, axis, index):
        return Part(axis, index).forward(g, *xs)

    @staticmethod
    def place(g, xs, axis, index):
        return Place(axis, index).forward(g, *xs)

    @staticmethod
    def prod_others(x, axis=None):
        from gradcalc.array_functions import ProdOthers  # array_functions imports this module

        return ProdOthers(axis).forward(x)

    @staticmethod
    def cumsum(x, axis=None):
        return numpy().cumsum(x, axis=axis)

    @staticmethod
    def rev_cumsum(g, x, axis=None):
        """Sums from the end: the transpose of cumsum (along `axis`, or of the flattened x)."""
        np = numpy()
        along = 0 if axis is None else axis
        return np.reshape(np.flip(np.cumsum(np.flip(g, along), along), along), np.shape(x))

    @staticmethod
    def reshape_like(g, x):
        return numpy().reshape(g, numpy().shape(x))

    @staticmethod
    def diag(x):
        return numpy().diag(x)

    exp, sin, cos, tanh = _numpy("exp"), _numpy("sin"), _numpy("cos"), _numpy("tanh")
    log, sqrt, sign, transpose, matmul = _numpy("log"), _numpy("sqrt"), _numpy("sign"), _numpy("transpose"), \
        _numpy("matmul")
    sinh, cosh, floor, hypot = _numpy("sinh"), _numpy("cosh"), _numpy("floor"), _numpy("hypot")

    @staticmethod
    def hold(x, reach):
        return numpy().clip(x, -reach, reach)

    @staticmethod
    def erf(x):
        return erf_array(x)

    @staticmethod
    def erfc(x):
        return erfc_array(x)

    @staticmethod
    def sigmoid(x):
        # as Sigmoid's forward: exp(-x) overflows below x = -709 to inf, and the result is 0 (the
        # evaluator ignores numpy's errors); ufuncs only, so that a tape can record it
        np = numpy()
        return 1.0 / (1.0 + np.exp(np.negative(x)))

    @staticmethod
    def step(x):
        return numpy().greater(x, 0).astype(float)

    @staticmethod
    def power_slope(x, y):
        np = numpy()
        return np.where(np.equal(y, 0), 0.0, y * np.power(x, np.subtract(y, 1.0)))

    @staticmethod
    def xlogy(x, y):
        np = numpy()
        return np.where(np.equal(x, 0), 0.0, x * np.log(np.where(np.equal(x, 0), 1.0, y)))

    @staticmethod
    def spread(gy, x, axis=None, mean=False, keepdims=False):
        """gy broadcast back over the `axis` that a sum (or mean) of x reduced."""
        np = numpy()
        g = spread(gy, np.shape(x), axis, keepdims)
        return g / reduced_count(np.shape(x), axis) if mean else g

    @staticmethod
    def sum(x, axis=None, keepdims=False):
        return numpy().sum(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def mean(x, axis=None, keepdims=False):
        return numpy().mean(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def winners(x, axis=None, pick="max"):
        """Where x attains its max (or min) along `axis`, ties sharing 1 evenly."""
        np = numpy()
        x = np.asarray(x, dtype=float)
        if not x.size:
            return np.zeros(x.shape)  # no element wins: max(x, 0) of shape (2, 0), softmax([])
        hit = x == getattr(np, pick)(x, axis=axis, keepdims=True)
        return hit / np.sum(hit, axis=axis, keepdims=True)

    @staticmethod
    def matmul_grad(gy, x, y, side):
        """The gradient of x @ y for x (side 0) or y (side 1), vectors as rows or columns."""
        np = numpy()
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if side == 0:
            return np.outer(gy, y) if y.ndim == 1 and x.ndim == 2 else (gy * y if y.ndim == 1 else gy @ y.T)
        return np.outer(x, gy) if x.ndim == 1 and y.ndim == 2 else (gy * x if x.ndim == 1 else x.T @ gy)

    @staticmethod
    def sum_like(g, x):
        """g summed back to the shape of x, where broadcasting stretched x."""
        return unbroadcast(g, numpy().shape(x))

    @staticmethod
    def broadcast_like(g, x):
        np = numpy()
        return np.broadcast_to(g, np.broadcast_shapes(np.shape(g), np.shape(x)))
