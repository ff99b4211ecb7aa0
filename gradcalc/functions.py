"""The scientific calculator's elementwise functions, one class each (declared through `Layer`,
whose hooks are documented there): trigonometric and hyperbolic functions and their inverses,
logarithms and exponentials, the machine-learning activations, and the piecewise functions.

Each forward takes floats (the math module, raising DomainError outside the domain) and numpy
arrays (`forward_array`, where leaving the domain gives nan or inf that `domain` then explains).
"""

import math

from gradcalc.errors import DomainError
from gradcalc.formatting import format_number
from gradcalc.layer import Layer
from gradcalc.numeric import numpy, refuse
from gradcalc.ops import erf_array, erfc_array

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_INV_SQRT2, _INV_SQRT_2PI = 1.0 / math.sqrt(2.0), 1.0 / math.sqrt(2.0 * math.pi)


def _outside(x, name: str, needs: str):
    return DomainError(f"argument is {format_number(x)}, {name} needs {needs}")


class Tan(Layer):
    """tan(x)."""

    __slots__ = ()
    forward = staticmethod(math.tan)

    def forward_array(self, x):
        return numpy().tan(x)

    def backward(self, ops, gy, y, x):
        return (gy * (1.0 + y * y),)


class Asin(Layer):
    """asin(x) (also arcsin), for -1 <= x <= 1; its derivative is infinite at ±1."""

    __slots__ = ()

    def forward(self, x):
        if not -1.0 <= x <= 1.0:
            raise _outside(x, "asin", "a number in [-1, 1]")
        return math.asin(x)

    def forward_array(self, x):
        return numpy().arcsin(x)

    def domain(self, x):
        refuse(numpy().abs(x) > 1, x, "argument is {value}{at}, asin needs a number in [-1, 1]")

    def backward(self, ops, gy, y, x):
        return (gy / ops.sqrt((1.0 - x) * (1.0 + x)),)


class Acos(Layer):
    """acos(x) (also arccos), for -1 <= x <= 1; its derivative is infinite at ±1."""

    __slots__ = ()

    def forward(self, x):
        if not -1.0 <= x <= 1.0:
            raise _outside(x, "acos", "a number in [-1, 1]")
        return math.acos(x)

    def forward_array(self, x):
        return numpy().arccos(x)

    def domain(self, x):
        refuse(numpy().abs(x) > 1, x, "argument is {value}{at}, acos needs a number in [-1, 1]")

    def backward(self, ops, gy, y, x):
        return (-gy / ops.sqrt((1.0 - x) * (1.0 + x)),)


class Atan(Layer):
    """atan(x) (also arctan)."""

    __slots__ = ()
    keeps_finite = hides_infinity = True
    forward = staticmethod(math.atan)

    def forward_array(self, x):
        return numpy().arctan(x)

    def backward(self, ops, gy, y, x):
        # 1/(1 + x²) without x², which overflows past 1e154: an error for higher orders and formulas
        return (gy * ops.hypot(x, 1.0) ** -2.0,)


class Sinh(Layer):
    """sinh(x)."""

    __slots__ = ()
    forward = staticmethod(math.sinh)

    def forward_array(self, x):
        return numpy().sinh(x)

    def backward(self, ops, gy, y, x):
        return (gy * ops.cosh(x),)


class Cosh(Layer):
    """cosh(x)."""

    __slots__ = ()
    forward = staticmethod(math.cosh)

    def forward_array(self, x):
        return numpy().cosh(x)

    def backward(self, ops, gy, y, x):
        return (gy * ops.sinh(x),)


class Asinh(Layer):
    """asinh(x) (also arcsinh)."""

    __slots__ = ()
    keeps_finite = True
    forward = staticmethod(math.asinh)

    def forward_array(self, x):
        return numpy().arcsinh(x)

    def backward(self, ops, gy, y, x):
        return (gy / ops.hypot(x, 1.0),)  # √(x² + 1) without x² overflowing past 1e154


class Acosh(Layer):
    """acosh(x) (also arccosh), for x >= 1; its derivative is infinite at 1."""

    __slots__ = ()

    def forward(self, x):
        if x < 1.0:
            raise _outside(x, "acosh", "a number >= 1")
        return math.acosh(x)

    def forward_array(self, x):
        return numpy().arccosh(x)

    def domain(self, x):
        refuse(numpy().less(x, 1), x, "argument is {value}{at}, acosh needs a number >= 1")

    def backward(self, ops, gy, y, x):
        # √(x - 1) √(x + 1): the product (x - 1)(x + 1) overflows past 1e154
        return (gy / (ops.sqrt(x - 1.0) * ops.sqrt(x + 1.0)),)


class Atanh(Layer):
    """atanh(x) (also arctanh), for -1 < x < 1."""

    __slots__ = ()

    def forward(self, x):
        if not -1.0 < x < 1.0:
            raise _outside(x, "atanh", "a number strictly between -1 and 1")
        return math.atanh(x)

    def forward_array(self, x):
        return numpy().arctanh(x)

    def domain(self, x):
        refuse(numpy().abs(x) >= 1, x, "argument is {value}{at}, atanh needs a number strictly between -1 and 1")

    def backward(self, ops, gy, y, x):
        return (gy / ((1.0 - x) * (1.0 + x)),)


class Log10(Layer):
    """log10(x), for x > 0."""

    __slots__ = ()

    def forward(self, x):
        if x <= 0:
            raise _outside(x, "log10", "a positive number")
        return math.log10(x)

    def forward_array(self, x):
        return numpy().log10(x)

    def domain(self, x):
        refuse(numpy().less_equal(x, 0), x, "argument is {value}{at}, log10 needs a positive number")

    def backward(self, ops, gy, y, x):
        return (gy / (x * _LN10),)


class Log2(Layer):
    """log2(x), for x > 0."""

    __slots__ = ()

    def forward(self, x):
        if x <= 0:
            raise _outside(x, "log2", "a positive number")
        return math.log2(x)

    def forward_array(self, x):
        return numpy().log2(x)

    def domain(self, x):
        refuse(numpy().less_equal(x, 0), x, "argument is {value}{at}, log2 needs a positive number")

    def backward(self, ops, gy, y, x):
        return (gy / (x * _LN2),)


class LogBase(Layer):
    """log(x, base) = ln(x) / ln(base), for x > 0 and a positive base other than 1."""

    __slots__ = ()
    arity = 2
    hides_infinity = True  # log(2, inf) = ln 2 / inf = 0

    def forward(self, x, base):
        if x <= 0:
            raise _outside(x, "log", "a positive number")
        if base <= 0 or base == 1:
            raise DomainError(f"the base is {format_number(base)}, log needs a positive base other than 1")
        return math.log(x) / math.log(base)

    def forward_array(self, x, base):
        np = numpy()
        return np.log(x) / np.log(base)

    def domain(self, x, base):
        np = numpy()
        refuse(np.less_equal(x, 0), x, "argument is {value}{at}, log needs a positive number")
        refuse(np.less_equal(base, 0) | np.equal(base, 1), base,
               "the base is {value}{at}, log needs a positive base other than 1")

    def backward(self, ops, gy, y, x, base):
        ln_base = ops.log(base)
        return gy / (x * ln_base), -gy * y / (base * ln_base)


class Log1p(Layer):
    """log1p(x) = ln(1 + x), accurate for tiny x, for x > -1."""

    __slots__ = ()

    def forward(self, x):
        if x <= -1:
            raise _outside(x, "log1p", "a number > -1")
        return math.log1p(x)

    def forward_array(self, x):
        return numpy().log1p(x)

    def domain(self, x):
        refuse(numpy().less_equal(x, -1), x, "argument is {value}{at}, log1p needs a number > -1")

    def backward(self, ops, gy, y, x):
        return (gy / (1.0 + x),)


class Expm1(Layer):
    """expm1(x) = exp(x) - 1, accurate for tiny x."""

    __slots__ = ()
    hides_infinity = True
    forward = staticmethod(math.expm1)

    def forward_array(self, x):
        return numpy().expm1(x)

    def backward(self, ops, gy, y, x):
        return (gy * ops.exp(x),)  # not y + 1, which cancels for x < 0 (expm1'(-30) was 1.7e-4 off)


class Exp2(Layer):
    """exp2(x) = 2 ** x."""

    __slots__ = ()
    hides_infinity = True

    def forward(self, x):
        return math.pow(2.0, x)

    def forward_array(self, x):
        return numpy().exp2(x)

    def backward(self, ops, gy, y, x):
        return (gy * (y * _LN2),)


class Softplus(Layer):
    """softplus(x) = ln(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)): never overflows."""

    __slots__ = ()
    hides_infinity = keeps_finite = True

    def forward(self, x):
        return max(x, 0.0) + math.log1p(math.exp(-abs(x)))

    def forward_array(self, x):
        np = numpy()
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))

    def backward(self, ops, gy, y, x):
        return (gy * ops.sigmoid(x),)


class LogSigmoid(Layer):
    """log_sigmoid(x) = ln(sigmoid(x)) = -softplus(-x): log_sigmoid(-1000) = -1000, not -inf."""

    __slots__ = ()
    hides_infinity = keeps_finite = True

    def forward(self, x):
        return min(x, 0.0) - math.log1p(math.exp(-abs(x)))

    def forward_array(self, x):
        np = numpy()
        return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))

    def backward(self, ops, gy, y, x):
        return (gy * ops.sigmoid(-x),)


class Erf(Layer):
    """erf(x), the error function."""

    __slots__ = ()
    hides_infinity = True  # not keeps_finite: erf'(0) = 1.13 times an upstream 1.7e308 overflows
    forward = staticmethod(math.erf)

    def forward_array(self, x):
        return erf_array(x)

    def backward(self, ops, gy, y, x):
        return (gy * (_TWO_OVER_SQRT_PI * ops.exp(-(x * x))),)


class Erfc(Layer):
    """erfc(x) = 1 - erf(x), accurate where erf(x) is close to 1."""

    __slots__ = ()
    hides_infinity = True  # not keeps_finite: |erfc'(0)| = 1.13, as erf's
    forward = staticmethod(math.erfc)

    def forward_array(self, x):
        return erfc_array(x)

    def backward(self, ops, gy, y, x):
        return (-gy * (_TWO_OVER_SQRT_PI * ops.exp(-(x * x))),)


class Gelu(Layer):
    """gelu(x) = x * Φ(x) = x (1 + erf(x / √2)) / 2, the exact (erf) form."""

    __slots__ = ()
    hides_infinity = True

    def forward(self, x):
        return 0.5 * x * math.erfc(-x * _INV_SQRT2)  # erfc keeps precision for large negative x

    def forward_array(self, x):
        return 0.5 * x * erfc_array(numpy().negative(x) * _INV_SQRT2)

    def backward(self, ops, gy, y, x):
        # Φ(x) + x φ(x), with Φ(x) = erfc(-x/√2)/2 as in forward: 0.5 + 0.5 erf(x/√2) cancels for
        # x < 0 (1% off at x = -10), and the two terms themselves never cancel far out
        cdf = 0.5 * ops.erfc(x * -_INV_SQRT2)
        return (gy * (cdf + x * (_INV_SQRT_2PI * ops.exp(-0.5 * (x * x)))),)


class LeakyReLU(Layer):
    """leaky_relu(x, slope): x for x > 0, slope·x otherwise (slope 0.01 by default); at 0 the
    derivative is the slope, as in PyTorch."""

    __slots__ = ("slope",)
    params = ("slope",)
    kink = True
    keeps_finite = property(lambda self: abs(self.slope) <= 1)  # 10·(-1e308) overflows

    def __init__(self, slope=0.01):
        self.slope = slope

    def forward(self, x):
        return x if x > 0 else self.slope * x

    def forward_array(self, x):
        return numpy().where(numpy().greater(x, 0), x, self.slope * x)

    def backward(self, ops, gy, y, x):
        positive = ops.step(x)
        return (gy * (positive + self.slope * (1.0 - positive)),)


class Elu(Layer):
    """elu(x, alpha): x for x > 0, alpha·(exp(x) - 1) otherwise (alpha 1 by default); at 0 the
    derivative is alpha, the left side's, as in PyTorch."""

    __slots__ = ("alpha",)
    params = ("alpha",)
    kink = True
    keeps_finite = property(lambda self: abs(self.alpha) <= 1)  # the slope reaches alpha: 3 × 1.7e308 overflows
    hides_infinity = True  # elu(-inf) = -alpha

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def forward(self, x):
        return x if x > 0 else self.alpha * math.expm1(x)

    def forward_array(self, x):
        np = numpy()
        # x where x > 0 is put out of expm1's reach (it would overflow); np.minimum(x, 0) would do it
        # too, but its answer at -0.0 is either zero (numpy 2 gives 0.0): elu(-0.0) is -0.0, as in scalars
        return np.where(np.greater(x, 0), x, self.alpha * np.expm1(np.where(np.greater(x, 0), 0.0, x)))

    def backward(self, ops, gy, y, x):
        # alpha·exp(x) for x <= 0, not y + alpha, which cancels (elu'(-30) was 1.7e-4 off); the
        # exponent is 0 for x > 0, where exp(x) could overflow and the term is not used
        positive = ops.step(x)
        negative = 1.0 - positive
        return (gy * (positive + negative * (self.alpha * ops.exp(x * negative))),)


class Floor(Layer):
    """floor(x): the largest integer <= x; derivative 0 (jumps at integers are kinks)."""

    __slots__ = ()
    keeps_finite = kink = True

    def forward(self, x):
        # an integer has no sign of zero: IEEE's (numpy's) floor(-0.0) is -0.0, and every rounding
        # keeps x's sign (ceil(-0.5) = -0.0)
        return math.copysign(math.floor(x), x)

    def forward_array(self, x):
        return numpy().floor(x)

    def backward(self, ops, gy, y, x):
        return (0.0 * gy,)

    def kink_input(self, x):
        return _sin_pi(x)


class Ceil(Floor):
    """ceil(x): the smallest integer >= x; derivative 0 (jumps at integers are kinks)."""

    __slots__ = ()

    def forward(self, x):
        return math.copysign(math.ceil(x), x)

    def forward_array(self, x):
        return numpy().ceil(x)


class Round(Floor):
    """round(x) to the nearest integer, halves to even (as numpy and Python); derivative 0."""

    __slots__ = ()

    def forward(self, x):
        return math.copysign(round(x), x)

    def forward_array(self, x):
        return numpy().round(x)

    def kink_input(self, x):
        return _sin_pi(x - 0.5)  # jumps at the halves


def _sin_pi(x):
    """sin(πx): changes sign at every integer, where floor and ceil jump."""
    return numpy().sin(numpy().pi * numpy().asarray(x)) if hasattr(x, "shape") else math.sin(math.pi * x)
