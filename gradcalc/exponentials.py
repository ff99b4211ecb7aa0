"""Exponentials, logarithms and the square root, one class each (declared through `Layer`, whose
hooks are documented there).

Each forward takes floats (the math module, raising DomainError outside the domain) and numpy
arrays (`forward_array`, where leaving the domain gives nan or inf that `domain` then explains).
"""

import math

from gradcalc.errors import DomainError
from gradcalc.formatting import format_number
from gradcalc.layer import Layer
from gradcalc.numeric import numpy, outside_domain, refuse, times
from gradcalc.ops import ArrayOps

_LN2, _LN10 = math.log(2.0), math.log(10.0)


class Exp(Layer):
    """exp(x)."""

    __slots__ = ()
    hides_infinity = True
    forward = staticmethod(math.exp)

    def forward_array(self, x):
        return numpy().exp(x)

    def backward(self, ops, gy, y, x):
        return (gy * y,)

    def backward_array(self, gy, y, x):
        return (times(gy, y),)


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


class LogBase(Layer):
    """log(x, base) = ln(x) / ln(base), for x > 0 and a positive base other than 1."""

    __slots__ = ()
    arity = 2
    hides_infinity = True  # log(2, inf) = ln 2 / inf = 0

    def forward(self, x, base):
        if x <= 0:
            raise outside_domain(x, "log", "a positive number")
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


class Ln(Layer):
    """ln(x), the natural logarithm (also written log(x)); log(x, base) is the log to a base."""

    __slots__ = ()
    wider = LogBase

    def forward(self, x):
        if x <= 0:
            raise DomainError(f"argument is {format_number(x)}, ln needs a positive number")
        return math.log(x)

    def forward_array(self, x):
        return numpy().log(x)

    def domain(self, x):
        refuse(numpy().less_equal(x, 0), x, "argument is {value}{at}, ln needs a positive number")

    def backward(self, ops, gy, y, x):
        return (gy / x,)


class Log10(Layer):
    """log10(x), for x > 0."""

    __slots__ = ()

    def forward(self, x):
        if x <= 0:
            raise outside_domain(x, "log10", "a positive number")
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
            raise outside_domain(x, "log2", "a positive number")
        return math.log2(x)

    def forward_array(self, x):
        return numpy().log2(x)

    def domain(self, x):
        refuse(numpy().less_equal(x, 0), x, "argument is {value}{at}, log2 needs a positive number")

    def backward(self, ops, gy, y, x):
        return (gy / (x * _LN2),)


class Log1p(Layer):
    """log1p(x) = ln(1 + x), accurate for tiny x, for x > -1."""

    __slots__ = ()

    def forward(self, x):
        if x <= -1:
            raise outside_domain(x, "log1p", "a number > -1")
        return math.log1p(x)

    def forward_array(self, x):
        return numpy().log1p(x)

    def domain(self, x):
        refuse(numpy().less_equal(x, -1), x, "argument is {value}{at}, log1p needs a number > -1")

    def backward(self, ops, gy, y, x):
        return (gy / (1.0 + x),)


class XLogY(Layer):
    """xlogy(x, y) = x * ln(y), and 0 where x = 0 (as scipy and torch): d/dt y**t is xlogy(y**t, y)."""

    __slots__ = ()
    arity = 2
    hides_infinity = True  # xlogy(0, inf) = 0

    def forward(self, x, y):
        if x == 0:
            return 0.0
        if y <= 0:
            raise DomainError(f"the second argument is {format_number(y)}, xlogy needs a positive "
                              "number where the first is not 0")
        return x * math.log(y)

    def forward_array(self, x, y):
        return ArrayOps.xlogy(x, y)

    def domain(self, x, y):
        np = numpy()
        refuse(np.not_equal(x, 0) & np.less_equal(y, 0), y, "the second argument is {value}{at}, "
               "xlogy needs a positive number where the first is not 0")

    def backward(self, ops, gy, y, x0, x1):
        # xlogy(gy, y), not gy * ln(y): where nothing flows back (gy = 0) the slope of ln at 0 is
        # nobody's concern, which keeps 0**x flat in x at every order
        return ops.xlogy(gy, x1), gy * x0 / x1


class Sqrt(Layer):
    """sqrt(x)."""

    __slots__ = ()

    def forward(self, x):
        if x < 0:
            raise DomainError(f"argument is {format_number(x)}, sqrt needs a number >= 0")
        return math.sqrt(x)

    def forward_array(self, x):
        return numpy().sqrt(x)

    def domain(self, x):
        refuse(numpy().less(x, 0), x, "argument is {value}{at}, sqrt needs a number >= 0")

    def backward(self, ops, gy, y, x):
        return (gy / (2.0 * y),)

