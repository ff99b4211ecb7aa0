"""Piecewise functions, one class each (declared through `Layer`, whose hooks are documented
there): abs, sign, step, floor, ceil and round. Each is a `kink` layer: finite differences across
the point where it bends or jumps are meaningless, and --check is told so.
"""

import math

from gradcalc.layer import Layer
from gradcalc.numeric import numpy


class Abs(Layer):
    """|x|; its derivative at 0 is taken as 0, as in PyTorch."""

    __slots__ = ()
    keeps_finite = kink = True
    forward = staticmethod(abs)

    def forward_array(self, x):
        return numpy().abs(x)

    def backward(self, ops, gy, y, x):
        return (gy * ops.sign(x),)


class Sign(Layer):
    """sign(x): -1, 0 or 1 (sign(0) = 0); its derivative is 0 (at 0 too, as abs'(0) = 0)."""

    __slots__ = ()
    keeps_finite = kink = jumps = True
    hides_infinity = True  # sign(inf) = 1

    def forward(self, x):
        return float((x > 0) - (x < 0))

    def forward_array(self, x):
        return numpy().sign(x)

    def backward(self, ops, gy, y, x):
        return (0.0 * gy,)


class Step(Layer):
    """step(x), the Heaviside step: 1 for x > 0, else 0 (step(0) = 0, as relu'(0) = 0)."""

    __slots__ = ()
    keeps_finite = kink = jumps = True
    hides_infinity = True  # step(inf) = 1, step(nan) = 0

    def forward(self, x):
        return 1.0 if x > 0 else 0.0

    def forward_array(self, x):
        return numpy().greater(x, 0).astype(float)

    def backward(self, ops, gy, y, x):
        return (0.0 * gy,)


class Floor(Layer):
    """floor(x): the largest integer <= x; derivative 0 (jumps at integers are kinks)."""

    __slots__ = ()
    keeps_finite = kink = jumps = True

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

    def piece(self, x):
        # the value itself (ceil's, round's for them): constant between jumps, another at each jump
        return self.forward_array(x)


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

