"""One class per operation: forward(*inputs) caches what backward needs; backward(gy) returns one
gradient per input and never mutates gy. REGISTRY maps grammar names to layer classes.

Scalars are Python floats and use the math module: numpy's scalar ufuncs cost several times more
per operation, and a scalar expression should not pay for array machinery.
"""

import math

from gradcalc.errors import DomainError
from gradcalc.formatting import format_number


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

    def forward(self, x, y):
        return x + y

    def backward(self, gy):
        return gy, gy


class Minus:
    """x - y."""

    __slots__ = ()

    symbol = "-"

    def forward(self, x, y):
        return x - y

    def backward(self, gy):
        return gy, -gy


class Multiply:
    """x * y."""

    __slots__ = ('x', 'y')

    symbol = "*"

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, gy):
        return gy * self.y, gy * self.x


class Divide:
    """x / y."""

    __slots__ = ('y', 'out')

    symbol = "/"

    def forward(self, x, y):
        if y == 0:
            raise DomainError("division by zero: the divisor is 0")
        self.y = y
        self.out = x / y
        return self.out

    def backward(self, gy):
        gx = gy / self.y
        return gx, -gx * self.out  # d(x/y)/dy = -x/y**2 = -(1/y)(x/y)


class Negate:
    """-x."""

    __slots__ = ()

    symbol = "-"

    def forward(self, x):
        return -x

    def backward(self, gy):
        return (-gy,)


class Power:
    """x ** y (also written x ^ y)."""

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

    __slots__ = ('out',)

    def forward(self, x):
        self.out = math.exp(x)
        return self.out

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

    def backward(self, gy):
        return (gy / self.x,)


class Sigmoid:
    """1 / (1 + exp(-x)), computed without overflow for any x."""

    __slots__ = ('out',)

    def forward(self, x):
        if x >= 0:
            self.out = 1.0 / (1.0 + math.exp(-x))
        else:
            z = math.exp(x)  # exp(-x) would overflow for x < -709
            self.out = z / (1.0 + z)
        return self.out

    def backward(self, gy):
        return (gy * self.out * (1.0 - self.out),)


class ReLU:
    """max(x, 0); its derivative at 0 is taken as 0, as in PyTorch."""

    kink = True  # the slope jumps at 0: finite differences across it are meaningless
    __slots__ = ('positive',)

    def forward(self, x):
        self.positive = x > 0
        return x if self.positive else 0.0

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

    def backward(self, gy):
        return (gy / (2.0 * self.out),)


class Tanh:
    """tanh(x)."""

    __slots__ = ('out',)

    def forward(self, x):
        self.out = math.tanh(x)
        return self.out

    def backward(self, gy):
        return (gy * (1.0 - self.out * self.out),)


class Sin:
    """sin(x)."""

    __slots__ = ('x',)

    def forward(self, x):
        self.x = x
        return math.sin(x)

    def backward(self, gy):
        return (gy * math.cos(self.x),)


class Cos:
    """cos(x)."""

    __slots__ = ('x',)

    def forward(self, x):
        self.x = x
        return math.cos(x)

    def backward(self, gy):
        return (-gy * math.sin(self.x),)


class Abs:
    """|x|; its derivative at 0 is taken as 0, as in PyTorch."""

    kink = True
    __slots__ = ('sign',)

    def forward(self, x):
        self.sign = (x > 0) - (x < 0)
        return abs(x)

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
}

# Names callable as f(x): every registry entry that is not an operator symbol.
FUNCTIONS = tuple(name for name, layer in REGISTRY.items() if not hasattr(layer, "symbol"))
