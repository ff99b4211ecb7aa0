"""One class per operation: forward(*inputs) caches what backward needs; backward(gy) returns one
gradient per input and never mutates gy. REGISTRY maps grammar names to layer classes.

Scalars are Python floats and use the math module: numpy's scalar ufuncs cost several times more
per operation, and a scalar expression should not pay for array machinery. When a value is an
array, the evaluator calls `forward_array`/`backward_array` where a layer has them (numpy, imported
only then) and `forward`/`backward` otherwise: + - * and negation are the same code for both.
Array gradients may come back in the broadcast shape; the evaluator sums them back to each input's
shape, in one place.
"""

import math
import operator

from gradcalc.array_layers import Dot, LogSumExp, MatMul, Max, Mean, Min, Softmax, Sum, Transpose
from gradcalc.errors import DomainError
from gradcalc.formatting import format_number
from gradcalc.numeric import numpy, refuse, times


class Input:
    """A variable: a leaf whose value comes from the caller or from a binding on the line."""

    __slots__ = ('name',)

    def __init__(self, name: str):
        self.name = name


class Constant:
    """A numeric literal: a leaf with a fixed value."""

    __slots__ = ('value',)

    def __init__(self, value: float):
        self.value = value


class Plus:
    """x + y."""

    __slots__ = ()

    symbol = "+"

    inlined = True  # the scalar loops compute x + y and (gy, gy) themselves: a call costs more

    forward = staticmethod(operator.add)  # x + y (for arrays; the scalar loops add inline)

    def backward(self, gy):
        return gy, gy


class Minus:
    """x - y."""

    __slots__ = ()

    symbol = "-"

    forward = staticmethod(operator.sub)  # x - y

    def backward(self, gy):
        return gy, -gy


class Multiply:
    """x * y."""

    __slots__ = ('x', 'y')

    symbol = "*"

    inlined = True  # the scalar loops compute x * y and (gy * y, gy * x) themselves: a call costs more

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward_array(self, gy):
        return times(gy, self.y, self.x), times(gy, self.x, self.y)

    def backward(self, gy):
        return gy * self.y, gy * self.x


class Divide:
    """x / y."""

    hides_infinity = True  # an inf or nan input can give a finite value: check it first

    __slots__ = ('y', 'out')

    symbol = "/"

    def forward(self, x, y):
        if y == 0:
            raise DomainError("division by zero: the divisor is 0")
        self.y = y
        self.out = x / y
        return self.out

    def forward_array(self, x, y):
        self.y = y
        self.out = x / y
        return self.out

    def domain(self, x, y):
        """Raise DomainError if a non-finite result came from leaving the domain."""
        refuse(numpy().equal(y, 0), y, "division by zero: the divisor is 0{at}")

    def backward(self, gy):
        gx = gy / self.y
        return gx, -gx * self.out  # d(x/y)/dy = -x/y**2 = -(1/y)(x/y)


class Negate:
    """-x."""

    keeps_finite = True  # finite inputs give a finite value and gradient

    __slots__ = ()

    symbol = "-"

    forward = staticmethod(operator.neg)  # -x

    def backward(self, gy):
        return (-gy,)


class Power:
    """x ** y (also written x ^ y)."""

    hides_infinity = True  # an inf or nan input can give a finite value: check it first

    __slots__ = ('x', 'y', 'out')

    symbol = "**"

    def forward(self, x, y):
        if x < 0 and not float(y).is_integer():
            raise DomainError(f"the base is {format_number(x)} and the exponent {format_number(y)} "
                              "is not an integer; a non-integer power needs a positive base")
        if x == 0 and y < 0:
            raise DomainError(f"0 cannot be raised to a negative power ({format_number(y)})")
        self.x, self.y = x, y
        self.out = x ** y
        return self.out

    def forward_array(self, x, y):
        np = numpy()
        self.x, self.y = x, y
        self.out = np.power(x, y)
        return self.out

    def domain(self, x, y):
        """Raise DomainError if a non-finite result came from leaving the domain."""
        np = numpy()
        refuse((np.less(x, 0) & (np.mod(y, 1) != 0)), x, "the base is {value}{at} and the exponent "
                "is not an integer; a non-integer power needs a positive base")
        refuse(np.equal(x, 0) & np.less(y, 0), y, "0 cannot be raised to a negative power ({value}){at}")

    def backward_array(self, gy):
        np = numpy()
        x, y = self.x, self.y
        gx = np.where(np.equal(y, 0), 0.0, gy * y * np.power(x, y - 1.0))
        gexp = np.where(np.greater(x, 0), gy * self.out * np.log(np.where(np.greater(x, 0), x, 1.0)),
                        np.where(np.equal(x, 0) & np.greater(y, 0), 0.0, np.nan))
        return gx, gexp

    def backward(self, gy):
        x, y = self.x, self.y
        gx = 0.0 if y == 0 else gy * y * x ** (y - 1)
        if x > 0:
            gexp = gy * self.out * math.log(x)
        elif x == 0 and y > 0:
            gexp = 0.0  # 0**y is flat in y for y > 0
        else:
            gexp = math.nan  # d/dy of x**y is not real for x < 0; only used if y has a variable
        return gx, gexp


class Exp:
    """exp(x)."""

    hides_infinity = True  # an inf or nan input can give a finite value: check it first

    __slots__ = ('out',)

    def forward(self, x):
        self.out = math.exp(x)
        return self.out

    def forward_array(self, x):
        self.out = numpy().exp(x)
        return self.out

    def backward_array(self, gy):
        return (times(gy, self.out),)

    def backward(self, gy):
        return (gy * self.out,)


class Ln:
    """ln(x), the natural logarithm (also written log(x))."""

    __slots__ = ('x',)

    def forward(self, x):
        if x <= 0:
            raise DomainError(f"argument is {format_number(x)}, ln needs a positive number")
        self.x = x
        return math.log(x)

    def forward_array(self, x):
        self.x = x
        return numpy().log(x)

    def domain(self, x):
        """Raise DomainError if a non-finite result came from leaving the domain."""
        refuse(numpy().less_equal(x, 0), x, "argument is {value}{at}, ln needs a positive number")

    def backward(self, gy):
        return (gy / self.x,)


class Sigmoid:
    """1 / (1 + exp(-x)), computed without overflow for any x."""

    hides_infinity = True  # an inf or nan input can give a finite value: check it first

    keeps_finite = True  # finite inputs give a finite value and gradient

    __slots__ = ('out',)

    def forward(self, x):
        if x >= 0:
            self.out = 1.0 / (1.0 + math.exp(-x))
        else:
            z = math.exp(x)  # exp(-x) would overflow for x < -709
            self.out = z / (1.0 + z)
        return self.out

    def forward_array(self, x):
        np = numpy()
        # 1/(1 + exp(-x)) is accurate to a few ulps wherever exp(-x) is finite; below x = -709
        # exp(-x) overflows to inf (silently: the evaluator runs numpy with errors ignored) and
        # the result is 0, sigmoid's value there to within the smallest normal double.
        out = np.exp(np.negative(x))
        out += 1.0
        if isinstance(out, np.ndarray):
            np.reciprocal(out, out=out)  # in place on this layer's own temporary
        else:
            out = 1.0 / out  # a numpy scalar: nothing to write into
        self.out = out
        return out

    def backward_array(self, gy):
        gx = 1.0 - self.out
        gx *= self.out
        gx *= gy
        return (gx,)

    def backward(self, gy):
        return (gy * self.out * (1.0 - self.out),)


class ReLU:
    """max(x, 0); its derivative at 0 is taken as 0, as in PyTorch."""

    hides_infinity = True  # an inf or nan input can give a finite value: check it first

    keeps_finite = True  # finite inputs give a finite value and gradient

    kink = True  # the slope jumps at 0: finite differences across it are meaningless
    __slots__ = ('positive',)

    def forward(self, x):
        self.positive = x > 0
        return x if self.positive else 0.0

    def forward_array(self, x):
        self.positive = numpy().greater(x, 0)
        return numpy().where(self.positive, x, 0.0)

    def backward_array(self, gy):
        return (numpy().where(self.positive, gy, 0.0),)

    def backward(self, gy):
        return (gy if self.positive else 0.0,)


class Sqrt:
    """sqrt(x)."""

    __slots__ = ('out',)

    def forward(self, x):
        if x < 0:
            raise DomainError(f"argument is {format_number(x)}, sqrt needs a number >= 0")
        self.out = math.sqrt(x)
        return self.out

    def forward_array(self, x):
        self.out = numpy().sqrt(x)
        return self.out

    def domain(self, x):
        """Raise DomainError if a non-finite result came from leaving the domain."""
        refuse(numpy().less(x, 0), x, "argument is {value}{at}, sqrt needs a number >= 0")

    def backward(self, gy):
        return (gy / (2.0 * self.out),)


class Tanh:
    """tanh(x)."""

    hides_infinity = True  # an inf or nan input can give a finite value: check it first

    keeps_finite = True  # finite inputs give a finite value and gradient

    __slots__ = ('out',)

    def forward(self, x):
        self.out = math.tanh(x)
        return self.out

    def forward_array(self, x):
        self.out = numpy().tanh(x)
        return self.out

    def backward(self, gy):
        return (gy * (1.0 - self.out * self.out),)


class Sin:
    """sin(x)."""

    keeps_finite = True  # finite inputs give a finite value and gradient

    __slots__ = ('x',)

    def forward(self, x):
        self.x = x
        return math.sin(x)

    def forward_array(self, x):
        self.x = x
        return numpy().sin(x)

    def backward_array(self, gy):
        return (gy * numpy().cos(self.x),)

    def backward(self, gy):
        return (gy * math.cos(self.x),)


class Cos:
    """cos(x)."""

    keeps_finite = True  # finite inputs give a finite value and gradient

    __slots__ = ('x',)

    def forward(self, x):
        self.x = x
        return math.cos(x)

    def forward_array(self, x):
        self.x = x
        return numpy().cos(x)

    def backward_array(self, gy):
        return (-gy * numpy().sin(self.x),)

    def backward(self, gy):
        return (-gy * math.sin(self.x),)


class Abs:
    """|x|; its derivative at 0 is taken as 0, as in PyTorch."""

    keeps_finite = True  # finite inputs give a finite value and gradient

    kink = True
    __slots__ = ('sign',)

    def forward(self, x):
        self.sign = (x > 0) - (x < 0)
        return abs(x)

    def forward_array(self, x):
        self.sign = numpy().sign(x)
        return numpy().abs(x)

    def backward(self, gy):
        return (gy * self.sign,)


REGISTRY = {
    "add": Plus,
    "sub": Minus,
    "mul": Multiply,
    "div": Divide,
    "neg": Negate,
    "pow": Power,
    "exp": Exp,
    "ln": Ln,
    "log": Ln,
    "sigmoid": Sigmoid,
    "relu": ReLU,
    "sqrt": Sqrt,
    "tanh": Tanh,
    "sin": Sin,
    "cos": Cos,
    "abs": Abs,
    "matmul": MatMul,
    "dot": Dot,
    "sum": Sum,
    "mean": Mean,
    "max": Max,
    "min": Min,
    "transpose": Transpose,
    "softmax": Softmax,
    "logsumexp": LogSumExp,
}

# Names callable as f(x): every registry entry that is not an operator symbol.
FUNCTIONS = tuple(name for name, layer in REGISTRY.items() if not getattr(layer, "symbol", None))
