"""Trigonometric and hyperbolic functions and their inverses, one class each (declared through
`Layer`, whose hooks are documented there).

Each forward takes floats (the math module, raising DomainError outside the domain) and numpy
arrays (`forward_array`, where leaving the domain gives nan or inf that `domain` then explains).
"""

import math

from gradcalc.layer import Layer
from gradcalc.numeric import numpy, outside_domain, refuse


class Sin(Layer):
    """sin(x)."""

    __slots__ = ()
    keeps_finite = True
    forward = staticmethod(math.sin)

    def forward_array(self, x):
        return numpy().sin(x)

    def backward(self, ops, gy, y, x):
        return (gy * ops.cos(x),)


class Cos(Layer):
    """cos(x)."""

    __slots__ = ()
    keeps_finite = True
    forward = staticmethod(math.cos)

    def forward_array(self, x):
        return numpy().cos(x)

    def backward(self, ops, gy, y, x):
        return (-gy * ops.sin(x),)


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
            raise outside_domain(x, "asin", "a number in [-1, 1]")
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
            raise outside_domain(x, "acos", "a number in [-1, 1]")
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


class Tanh(Layer):
    """tanh(x)."""

    __slots__ = ()
    hides_infinity = keeps_finite = True
    forward = staticmethod(math.tanh)

    def forward_array(self, x):
        return numpy().tanh(x)

    def backward(self, ops, gy, y, x):
        # 1 - tanh² = 4 σ(2x) σ(-2x): 1 - tanh² cancels for large |x| (tanh'(15) was 1.7e-4 off,
        # tanh'(20) 0), and 1/cosh² keeps the first order but not the next: cosh overflows past
        # |x| = 710 and its powers underflow early. Sigmoids never overflow, and their derivatives
        # stay in sigmoids, so every order keeps its digits out to where its value underflows.
        return (gy * (4.0 * (ops.sigmoid(2.0 * x) * ops.sigmoid(-2.0 * x))),)

    def backward_array(self, gy, y, x):
        # 1/cosh²: three passes where the sigmoids take thirteen. cosh² is inf past |x| = 355 (the
        # evaluator ignores numpy's errors), where the derivative is below the smallest normal double.
        np = numpy()
        gx = np.cosh(x)
        if not isinstance(gx, np.ndarray):
            return (gy / (gx * gx),)  # a numpy scalar: nothing to write into
        np.multiply(gx, gx, out=gx)
        np.divide(gy, gx, out=gx)
        return (gx,)


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
            raise outside_domain(x, "acosh", "a number >= 1")
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
            raise outside_domain(x, "atanh", "a number strictly between -1 and 1")
        return math.atanh(x)

    def forward_array(self, x):
        return numpy().arctanh(x)

    def domain(self, x):
        refuse(numpy().abs(x) >= 1, x, "argument is {value}{at}, atanh needs a number strictly between -1 and 1")

    def backward(self, ops, gy, y, x):
        return (gy / ((1.0 - x) * (1.0 + x)),)

