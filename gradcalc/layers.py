"""REGISTRY, the one list of operations: it maps each grammar name to its layer class. One class per
operation, each declared through `Layer`, whose hooks are documented once there; this module holds
the leaves and the arithmetic operators, and the families of functions have modules of their own
(trigonometric, exponentials, activations, piecewise, two_argument, array_layers, array_functions,
shape_layers).

Layers hold no per-evaluation state. `backward(ops, gy, y, *xs)` receives the upstream gradient,
the layer's output and its inputs, and returns one gradient per input; it is written with Python
operators and the functions of `ops` only, so the same rule runs on floats (`ScalarOps`), numpy
arrays (`ArrayOps`) and graph terms (`gradcalc.symbolic.GraphOps`, which builds the derivative as
a graph: higher orders and formulas).

Scalars are Python floats and use the math module: numpy's scalar ufuncs cost several times more
per operation. Array gradients may come back in the broadcast shape; the evaluator sums them back
to each input's shape, in one place.
"""

import math
import operator

from gradcalc.activations import Elu, Erf, Erfc, Gelu, LeakyReLU, LogSigmoid, ReLU, Sigmoid, Softplus
from gradcalc.array_functions import Cumsum, LogSoftmax, LogSumExp, Norm, Prod, ProdOthers, RevCumsum, Softmax, Std, Var
from gradcalc.array_layers import (
    BroadcastLike,
    Dot,
    MatMul,
    MatMulGrad,
    Max,
    Mean,
    Min,
    Spread,
    Sum,
    SumLike,
    Transpose,
    Winners,
)
from gradcalc.errors import DomainError
from gradcalc.exponentials import Exp, Exp2, Expm1, Ln, Log1p, Log2, Log10, Sqrt, XLogY
from gradcalc.formatting import format_number, is_literal, needs_parentheses, unparenthesized
from gradcalc.layer import Layer
from gradcalc.numeric import numpy, refuse, times
from gradcalc.piecewise import Abs, Ceil, Floor, Round, Sign, Step
from gradcalc.shape_layers import (
    Concat,
    Diag,
    Flatten,
    Index,
    Outer,
    Part,
    Place,
    Reshape,
    ReshapeLike,
    Scatter,
    Stack,
    Trace,
)
from gradcalc.trigonometric import Acos, Acosh, Asin, Asinh, Atan, Atanh, Cos, Cosh, Sin, Sinh, Tan, Tanh
from gradcalc.two_argument import Atan2, Clip, Hypot, Maximum, Minimum, Mod


class Input(Layer):
    """A variable: a leaf whose value comes from the caller or from a binding on the line."""

    __slots__ = ('name',)
    arity = 0

    def __init__(self, name: str):
        self.name = name


class Constant(Layer):
    """A numeric literal: a leaf with a fixed value."""

    __slots__ = ('value',)
    arity = 0

    def __init__(self, value: float):
        self.value = value


class NamedConstant(Constant):
    """A named constant (pi, e): a leaf with a fixed value that a binding of its name shadows."""

    __slots__ = ('name',)

    def __init__(self, name: str):
        super().__init__(CONSTANTS[name])
        self.name = name


# The constants of the language; a line or a value that binds one of these names makes it a variable.
CONSTANTS = {"pi": math.pi, "e": math.e}


class Plus(Layer):
    """x + y."""

    __slots__ = ()
    symbol, arity, inlined = "+", 2, True
    forward = staticmethod(operator.add)

    def backward(self, ops, gy, y, x0, x1):
        return gy, gy


class Minus(Layer):
    """x - y."""

    __slots__ = ()
    symbol, arity = "-", 2
    forward = staticmethod(operator.sub)

    def backward(self, ops, gy, y, x0, x1):
        return gy, -gy


class Multiply(Layer):
    """x * y."""

    __slots__ = ()
    symbol, arity, inlined = "*", 2, True
    forward = staticmethod(operator.mul)

    def backward(self, ops, gy, y, x0, x1):
        return gy * x1, gy * x0

    def backward_array(self, gy, y, x0, x1):
        # a scalar factor's gradient as one dot product, and no copy for a gradient of ones
        return times(gy, x1, x0), times(gy, x0, x1)


class Divide(Layer):
    """x / y."""

    __slots__ = ()
    symbol, arity = "/", 2
    hides_infinity = True

    def forward(self, x, y):
        if y == 0:
            raise DomainError("division by zero: the divisor is 0")
        return x / y

    def forward_array(self, x, y):
        return x / y

    def domain(self, x, y):
        refuse(numpy().equal(y, 0), y, "division by zero: the divisor is 0{at}")

    def backward(self, ops, gy, y, x0, x1):
        gx = gy / x1
        return gx, -gx * y  # d(x/y)/dy = -x/y**2 = -(1/y)(x/y)


class Negate(Layer):
    """-x."""

    __slots__ = ()
    symbol, keeps_finite = "-", True
    forward = staticmethod(operator.neg)

    def backward(self, ops, gy, y, x):
        return (-gy,)


class Power(Layer):
    """x ** y (also written x ^ y)."""

    __slots__ = ()
    symbol, arity = "**", 2
    hides_infinity = True

    def forward(self, x, y):
        if x < 0 and not float(y).is_integer():
            raise DomainError(f"the base is {format_number(x)} and the exponent {format_number(y)} "
                              "is not an integer; a non-integer power needs a positive base")
        if x == 0 and y < 0:
            raise DomainError(f"0 cannot be raised to a negative power ({format_number(y)})")
        return x ** y

    def forward_array(self, x, y):
        return numpy().power(x, y)

    def domain(self, x, y):
        np = numpy()
        refuse((np.less(x, 0) & (np.mod(y, 1) != 0)), x, "the base is {value}{at} and the exponent "
               "is not an integer; a non-integer power needs a positive base")
        refuse(np.equal(x, 0) & np.less(y, 0), y, "0 cannot be raised to a negative power ({value}){at}")

    def backward(self, ops, gy, y, x0, x1):
        # d/dy x**y = x**y ln x: 0 at x = 0 (0**y is flat for y > 0), nan for x < 0 (not real)
        return gy * ops.power_slope(x0, x1), gy * ops.xlogy(y, x0)

    def derivative_undefined(self, position, xs, texts, arrays):
        (x, y), (base, exponent) = xs, texts
        if position != 1 or not x < 0:
            return None
        # x < 0 and y an integer: x**y is defined, but not x**t for t near y, nor its slope in t
        base = unparenthesized(base)  # (-2)^y: ln(-2), not ln((-2))
        written, power = f"({base})" if needs_parentheses(base) else base, format_number(y)
        who = (f"the exponent {exponent} depends on a variable" if not exponent.isidentifier() else
               f"{exponent} is a variable" if arrays[1] else
               f"{exponent} is a variable (as a name bound on the line is)")
        fixed = (f"fixed powers write the numbers as an array: {written}^[2, 3]" if arrays[1]
                 else f"a fixed power write the number: {written}^{power}")
        literal = is_literal(base)  # a written number is not chosen, nor said to be below 0: it is -2
        other = "" if literal else f"; else choose {base} > 0"
        return (f"its derivative in {exponent} needs ln({base}), which is not real"
                + ("" if literal else f" for {base} < 0"),
                f"{who}, so its derivative is computed. For {fixed} (an integer written as the exponent "
                f"allows a negative base){other}")


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
    "tan": Tan,
    "asin": Asin,
    "acos": Acos,
    "atan": Atan,
    "sinh": Sinh,
    "cosh": Cosh,
    "asinh": Asinh,
    "acosh": Acosh,
    "atanh": Atanh,
    "arcsin": Asin,
    "arccos": Acos,
    "arctan": Atan,
    "arcsinh": Asinh,
    "arccosh": Acosh,
    "arctanh": Atanh,
    "log10": Log10,
    "log2": Log2,
    "log1p": Log1p,
    "expm1": Expm1,
    "exp2": Exp2,
    "softplus": Softplus,
    "log_sigmoid": LogSigmoid,
    "gelu": Gelu,
    "erf": Erf,
    "erfc": Erfc,
    "leaky_relu": LeakyReLU,
    "elu": Elu,
    "abs": Abs,
    "sign": Sign,
    "step": Step,
    "floor": Floor,
    "ceil": Ceil,
    "round": Round,
    "xlogy": XLogY,
    "atan2": Atan2,
    "arctan2": Atan2,
    "hypot": Hypot,
    "maximum": Maximum,
    "minimum": Minimum,
    "mod": Mod,
    "clip": Clip,
    "matmul": MatMul,
    "dot": Dot,
    "sum": Sum,
    "mean": Mean,
    "max": Max,
    "min": Min,
    "transpose": Transpose,
    "stack": Stack,
    "concat": Concat,
    "index": Index,
    "reshape": Reshape,
    "flatten": Flatten,
    "outer": Outer,
    "diag": Diag,
    "trace": Trace,
    "norm": Norm,
    "cumsum": Cumsum,
    "prod": Prod,
    "var": Var,
    "std": Std,
    "log_softmax": LogSoftmax,
    "softmax": Softmax,
    "logsumexp": LogSumExp,
    "_spread": Spread,
    "_scatter": Scatter,
    "_reshape_like": ReshapeLike,
    "_rev_cumsum": RevCumsum,
    "_prod_others": ProdOthers,
    "_part": Part,
    "_place": Place,
    "_sum_like": SumLike,
    "_winners": Winners,
    "_matmul_grad": MatMulGrad,
    "_broadcast_like": BroadcastLike,
}

# The names the parser uses for operators only (x + y is "add", v[0] is "index"); pow and mod are
# functions too.
OPERATOR_NAMES = frozenset({"add", "sub", "mul", "div", "neg", "matmul", "index"})

# Names callable as f(x): every registry entry that is not an operator's nor internal.
FUNCTIONS = tuple(name for name, layer in REGISTRY.items() if name not in OPERATOR_NAMES and not layer.internal)
