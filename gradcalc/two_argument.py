"""Elementwise functions of two or three arguments, one class each (hooks documented in
`gradcalc.layer`): atan2, hypot, maximum, minimum, mod (also `%`) and clip. Arrays broadcast as
numpy does; the evaluator sums each gradient back to its input's shape."""

import math

from gradcalc.errors import DomainError
from gradcalc.layer import Layer
from gradcalc.numeric import numpy, refuse


class Atan2(Layer):
    """atan2(y, x): the angle of the point (x, y), in (-π, π]; no derivative at the origin."""

    __slots__ = ()
    hides_infinity = True  # atan2(inf, y) = pi/2
    arity = 2  # at (0, 0) both partial derivatives are 0/0: an error, as for 1/x at 0
    no_slope_where = "at the origin, y = x = 0"
    forward = staticmethod(math.atan2)

    def forward_array(self, y, x):
        return numpy().arctan2(y, x)

    def backward(self, ops, gy, out, y, x):
        # x/r², with r = hypot(x, y) divided twice: x² + y² underflows to 0 for tiny x, y (an error
        # where atan2'(1e-300, 1e-300) is 5e299) and overflows to inf past 1e154 (0 for 1e-300)
        radius = ops.hypot(x, y)
        return gy * (x / radius) / radius, -gy * (y / radius) / radius


class Hypot(Layer):
    """hypot(x, y) = sqrt(x² + y²) without overflow; its gradient at (0, 0) is taken as 0 (as norm's)."""

    __slots__ = ()
    arity, kink = 2, True  # not keeps_finite: hypot(1.7e308, 1.7e308) overflows
    forward = staticmethod(math.hypot)

    def forward_array(self, x, y):
        return numpy().hypot(x, y)

    def backward(self, ops, gy, h, x, y):
        # h + 1 - step(h) is h where h > 0 and 1 at the origin, where x = y = 0: gradient 0 there
        safe = h + (1.0 - ops.step(h))
        return gy * (x / safe), gy * (y / safe)  # |x| / h <= 1: gy * x could overflow where the gradient does not

    def kink_input(self, x, y):
        return x * x + y * y - 1e-300  # the cone's tip: negative only at the origin

    def tip(self, x, y):
        np = numpy()
        return np.stack(np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float)), axis=-1)


class Maximum(Layer):
    """maximum(x, y), elementwise; at a tie the gradient is split evenly, as max() splits it."""

    __slots__ = ()
    arity, keeps_finite, hides_infinity, kink = 2, True, True, True

    @staticmethod
    def of_zeros(x, y):
        """The maximum of two zeros, as IEEE 754-2019 defines it: +0 unless both are -0 (x + y)."""
        return x + y

    def forward(self, x, y):
        # +0 and -0 are equal: Python's max returns the first, numpy's maximum the second; both
        # paths follow IEEE 754-2019 instead, which orders -0 below +0
        return self.of_zeros(x, y) if x == 0 == y else max(x, y)

    def forward_array(self, x, y):
        return _zero_ties(numpy().maximum(x, y), x, y, self.of_zeros)

    def backward(self, ops, gy, out, x, y):
        share = 0.5 * (1.0 + ops.sign(x - y))  # 1 where x wins, 1/2 at a tie, 0 where y wins
        return gy * share, gy * (1.0 - share)

    def kink_input(self, x, y):
        return x - y


class Minimum(Maximum):
    """minimum(x, y), elementwise; at a tie the gradient is split evenly, as min() splits it."""

    __slots__ = ()

    @staticmethod
    def of_zeros(x, y):
        """The minimum of two zeros, as IEEE 754-2019 defines it: -0 unless both are +0."""
        return -(-x - y)

    def forward(self, x, y):
        return self.of_zeros(x, y) if x == 0 == y else min(x, y)

    def forward_array(self, x, y):
        return _zero_ties(numpy().minimum(x, y), x, y, self.of_zeros)

    def backward(self, ops, gy, out, x, y):
        share = 0.5 * (1.0 - ops.sign(x - y))  # 1 where x is smaller
        return gy * share, gy * (1.0 - share)


def _zero_ties(out, x, y, of_zeros):
    """numpy's maximum (minimum) `out`, with of_zeros(x, y) where x and y are both zeros, where
    numpy's answer is either one. Only a zero result can be such a tie: one pass when none is."""
    np = numpy()
    zeros = np.equal(out, 0)
    if not np.any(zeros):
        return out
    ties = zeros & np.equal(x, y)
    return np.where(ties, of_zeros(np.where(ties, x, 0.0), np.where(ties, y, 0.0)), out)  # no overflow elsewhere


class Mod(Layer):
    """mod(x, y), also x % y: x - y·floor(x/y), with the sign of y (numpy's mod, Python's %);
    ∂/∂x = 1 and ∂/∂y = -floor(x/y) between its jumps, which are kinks."""

    __slots__ = ()
    symbol, arity, kink, jumps = "%", 2, True, True
    hides_infinity = True  # x % inf = x

    def forward(self, x, y):
        if y == 0:
            raise DomainError("modulo by zero: the divisor is 0")
        return x % y

    def forward_array(self, x, y):
        return numpy().mod(x, y)

    def domain(self, x, y):
        refuse(numpy().equal(y, 0), y, "modulo by zero: the divisor is 0{at}")

    def backward(self, ops, gy, out, x, y):
        # the quotient the value used, as Python and numpy take it: (x - out)/y rounded. floor(x/y)
        # could take another where x/y underflows (-1e-300 % 1e200 = 1e200, quotient -1, not -0)
        quotient = ops.floor((x - out) / y + 0.5)
        return gy, -gy * quotient

    def kink_input(self, x, y):
        np = numpy()
        return np.sin(np.pi * np.divide(x, y))  # changes sign where x/y crosses an integer

    def piece(self, x, y):
        np = numpy()
        return np.floor((x - np.mod(x, y)) / y + 0.5)  # the quotient the value used, as backward takes it


class Clip(Layer):
    """clip(x, lo, hi): x held within [lo, hi]. The gradient goes to x where lo <= x <= hi (the
    bounds included, as PyTorch's clamp), to lo where x < lo and to hi where x > hi."""

    __slots__ = ()
    arity, keeps_finite, kink = 3, True, True
    hides_infinity = True  # clip(inf, 0, 1) = 1
    array_only = True  # the scalar loops take one or two inputs: three go through numpy
    scalar_elementwise = True  # so its formula is one of scalars still: --diff writes clip(x, 0, 1)'s

    def forward(self, x, lo, hi):
        np = numpy()
        refuse(np.greater(lo, hi), lo, "the lower bound {value}{at} is above the upper bound")
        return np.minimum(np.maximum(x, lo), hi)

    def broadcasts(self) -> bool:
        return True  # elementwise, though array_only

    def backward(self, ops, gy, y, x, lo, hi):
        below, above = ops.step(lo - x), ops.step(x - hi)
        return gy * (1.0 - below - above), gy * below, gy * above

    def kink_input(self, x, lo, hi):
        return (x - lo) * (x - hi) * (hi - lo)  # x at a bound, or the bounds equal

    def piece(self, x, lo, hi):
        np = numpy()  # below, at lo, inside, at hi, above: the product's sign is the same on both sides of [lo, hi]
        return np.sign(np.subtract(x, lo)) + np.sign(np.subtract(x, hi))

