"""The machine-learning activations, and the error function that gelu is made of, one class each
(declared through `Layer`, whose hooks are documented there): sigmoid, log_sigmoid, softplus, relu,
leaky_relu, elu, erf, erfc and gelu.
"""

import math

from gradcalc.layer import Layer
from gradcalc.numeric import numpy
from gradcalc.ops import erf_array, erfc_array

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_INV_SQRT2, _INV_SQRT_2PI = 1.0 / math.sqrt(2.0), 1.0 / math.sqrt(2.0 * math.pi)
# exp(-x²) and exp(-x²/2) round to 0 past |x| = 27.3 and 38.6: x held within these bounds, the
# rules give the same numbers without forming x² (inf past 1.3e154), so their --diff text, and
# every derivative of them, is finite there too
_ERF_REACH, _GELU_REACH = 28.0, 40.0


class Sigmoid(Layer):
    """1 / (1 + exp(-x)), computed without overflow for any x."""

    __slots__ = ()
    hides_infinity = keeps_finite = True

    def forward(self, x):
        if x >= 0:
            return 1.0 / (1.0 + math.exp(-x))
        z = math.exp(x)  # exp(-x) would overflow for x < -709
        return z / (1.0 + z)

    def forward_array(self, x):
        # 1/(1 + exp(-x)) is accurate to a few ulps wherever exp(-x) is finite; below x = -709
        # exp(-x) overflows to inf (silently: the evaluator runs numpy with errors ignored) and the
        # result is 0, sigmoid's value there to within the smallest normal double
        out = _exp_of_negative(x)
        if type(out) is not numpy().ndarray:
            return 1.0 / (1.0 + out)  # a numpy scalar or a tape's stand-in: nothing to write into
        out += 1.0  # in place on this call's own temporary: one array, not two
        numpy().divide(1.0, out, out=out)  # the same bits as reciprocal, which numpy does not vectorize (2x slower)
        return out

    def forward_saving(self, x):
        # σ'(x) = σ(x) σ(-x) = e σ(x)² with e = exp(-x), which the value needs anyway: two products
        # instead of backward_array's exp, sum and quotient (the benchmark at 1e4 in 0.9x the time).
        # Where e overflows (x < -709.78) e σ² is inf * 0 = nan, for σ' < 1e-308: 0 as a double
        np = numpy()
        e = _exp_of_negative(x)
        y = e + 1.0  # forward_array's steps: the same bits
        if type(y) is np.ndarray:
            np.divide(1.0, y, out=y)
        else:
            y = 1.0 / y
        e *= y
        e *= y
        return y, e

    def backward(self, ops, gy, y, x):
        # σ(x) σ(-x), not σ(1 - σ): 1 - σ(x) cancels for x > 0 (σ'(30) was 1e-3 off, σ'(40) 0);
        # and its derivative stays in σ's, which never underflow before the true value does
        return (gy * (y * ops.sigmoid(-x)),)

    def backward_array(self, gy, y, x, saved=None):
        if saved is not None:  # σ'(x), from forward_saving
            return (gy * saved,)
        # σ(-x) = 1/(1 + exp(x)), so σ(x) σ(-x) = y/(1 + exp(x)): four passes, in place on this
        # call's own temporary. exp(x) overflows past x = 709 to inf (the evaluator ignores numpy's
        # errors) and the result is 0, σ'(x) there to within the smallest normal double.
        np = numpy()
        gx = np.exp(x)
        if type(gx) is not np.ndarray:
            return (gy * (y / (1.0 + gx)),)  # a numpy scalar or a tape's stand-in: nothing to write into
        gx += 1.0
        np.divide(y, gx, out=gx)
        gx *= gy
        return (gx,)


def _exp_of_negative(x):
    """exp(-x) in one temporary (numpy's exp in place on its own negation)."""
    np = numpy()
    out = np.negative(x)
    if type(out) is not np.ndarray:
        return np.exp(out)
    return np.exp(out, out=out)


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


class ReLU(Layer):
    """max(x, 0); its derivative at 0 is taken as 0, as in PyTorch."""

    __slots__ = ()
    hides_infinity = keeps_finite = kink = True

    def forward(self, x):
        return x if x > 0 else 0.0

    def forward_array(self, x):
        return numpy().where(numpy().greater(x, 0), x, 0.0)

    def backward(self, ops, gy, y, x):
        return (gy * ops.step(x),)


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


class Erf(Layer):
    """erf(x), the error function."""

    __slots__ = ()
    hides_infinity = True  # not keeps_finite: erf'(0) = 1.13 times an upstream 1.7e308 overflows
    forward = staticmethod(math.erf)

    def forward_array(self, x):
        return erf_array(x)

    def backward(self, ops, gy, y, x):
        held = ops.hold(x, _ERF_REACH)
        return (gy * (_TWO_OVER_SQRT_PI * ops.exp(-(held * held))),)


class Erfc(Layer):
    """erfc(x) = 1 - erf(x), accurate where erf(x) is close to 1."""

    __slots__ = ()
    hides_infinity = True  # not keeps_finite: |erfc'(0)| = 1.13, as erf's
    forward = staticmethod(math.erfc)

    def forward_array(self, x):
        return erfc_array(x)

    def backward(self, ops, gy, y, x):
        held = ops.hold(x, _ERF_REACH)
        return (-gy * (_TWO_OVER_SQRT_PI * ops.exp(-(held * held))),)


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
        held = ops.hold(x, _GELU_REACH)
        return (gy * (cdf + x * (_INV_SQRT_2PI * ops.exp(-0.5 * (held * held)))),)

