"""One class per operation, each declared through `Layer`, whose hooks are documented once there.
REGISTRY maps grammar names to layer classes.

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

from gradcalc.array_layers import (
    BroadcastLike,
    Cumsum,
    Dot,
    LogSoftmax,
    LogSumExp,
    MatMul,
    MatMulGrad,
    Max,
    Mean,
    Min,
    Norm,
    Prod,
    ProdOthers,
    RevCumsum,
    Softmax,
    Spread,
    Std,
    Sum,
    SumLike,
    Transpose,
    Var,
    Winners,
)
from gradcalc.errors import DomainError
from gradcalc.formatting import format_number, is_literal, needs_parentheses, unparenthesized
from gradcalc.functions import (
    Acos,
    Acosh,
    Asin,
    Asinh,
    Atan,
    Atanh,
    Ceil,
    Cosh,
    Elu,
    Erf,
    Erfc,
    Exp2,
    Expm1,
    Floor,
    Gelu,
    LeakyReLU,
    Log1p,
    Log2,
    Log10,
    LogBase,
    LogSigmoid,
    Round,
    Sinh,
    Softplus,
    Tan,
)
from gradcalc.layer import Layer
from gradcalc.numeric import numpy, refuse, times
from gradcalc.ops import ArrayOps
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
        np = numpy()
        # 1/(1 + exp(-x)) is accurate to a few ulps wherever exp(-x) is finite; below x = -709
        # exp(-x) overflows to inf (silently: the evaluator runs numpy with errors ignored) and
        # the result is 0, sigmoid's value there to within the smallest normal double.
        out = np.negative(x)
        if not isinstance(out, np.ndarray):
            return 1.0 / (1.0 + np.exp(out))  # a numpy scalar: nothing to write into
        np.exp(out, out=out)  # in place on this call's own temporary: one array, not two
        out += 1.0
        np.divide(1.0, out, out=out)  # the same bits as reciprocal, which numpy does not vectorize (2x slower)
        return out

    def backward(self, ops, gy, y, x):
        # σ(x) σ(-x), not σ(1 - σ): 1 - σ(x) cancels for x > 0 (σ'(30) was 1e-3 off, σ'(40) 0);
        # and its derivative stays in σ's, which never underflow before the true value does
        return (gy * (y * ops.sigmoid(-x)),)

    def backward_array(self, gy, y, x):
        # σ(-x) = 1/(1 + exp(x)), so σ(x) σ(-x) = y/(1 + exp(x)): four passes, in place on this
        # call's own temporary. exp(x) overflows past x = 709 to inf (the evaluator ignores numpy's
        # errors) and the result is 0, σ'(x) there to within the smallest normal double.
        np = numpy()
        gx = np.exp(x)
        if not isinstance(gx, np.ndarray):
            return (gy * (y / (1.0 + gx)),)  # a numpy scalar: nothing to write into
        gx += 1.0
        np.divide(y, gx, out=gx)
        gx *= gy
        return (gx,)


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
    keeps_finite = kink = True
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
    keeps_finite = kink = True
    hides_infinity = True  # step(inf) = 1, step(nan) = 0

    def forward(self, x):
        return 1.0 if x > 0 else 0.0

    def forward_array(self, x):
        return numpy().greater(x, 0).astype(float)

    def backward(self, ops, gy, y, x):
        return (0.0 * gy,)


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
