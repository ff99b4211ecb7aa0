"""The base class every operation is declared through: each hook documented once, here."""


class Layer:
    """Base of every operation. The class attributes and methods below are its hooks; a layer
    overrides only those that differ from these defaults."""

    __slots__ = ()

    symbol = None  # the infix operator ("+", "@") when the grammar writes it between operands
    arity = 1  # how many inputs the operation takes
    params = ()  # names of constructor parameters (an axis): part of a node's identity
    array_only = False  # needs numpy even when every input is a scalar (sum, @)
    # array_only for evaluation's sake alone: of scalars a scalar (clip, which numpy evaluates for
    # its three inputs), so --diff writes its derivative as a formula, as it does sin's
    scalar_elementwise = False
    hides_infinity = False  # an inf or nan input can give a finite value (sigmoid(inf) = 1): check inputs
    keeps_finite = False  # finite inputs always give a finite value and gradient: never a culprit
    kink = False  # the slope jumps (relu at 0): finite differences across it are meaningless
    jumps = False  # at its kinks the value itself jumps (floor at integers), not only the slope
    inlined = False  # the scalar loops compute it themselves (x + y, x * y): a call costs more
    internal = False  # built only inside derivative graphs; not a function of the language
    wider = None  # the layer a call with one more argument means: log(x, base) for log(x)
    no_slope_where = None  # where the derivative does not exist, in an error's hint ("at the origin")

    def forward(self, *xs):
        """The value at scalar inputs (floats); raises DomainError outside the domain."""
        raise NotImplementedError

    def forward_array(self, *xs):
        """The value at numpy inputs; leaving the domain gives inf/nan, which `domain` explains."""
        return self.forward(*xs)

    def domain(self, *xs):
        """Raise DomainError naming the first element outside the domain (arrays); default: none."""

    def derivative_undefined(self, position: int, xs: list, texts: list, arrays: list) -> tuple[str, str] | None:
        """Called where a gradient came out inf or nan, with the inputs' numbers there (`xs`: an
        array's element), how they are written (`texts`) and whether each is an array: (reason,
        hint) when the derivative in input `position` is not defined at a point where the value is
        (x^p in p at x < 0 needs ln x); None when it is only too large for a float (the default)."""
        return None

    def backward(self, ops, gy, y, *xs):
        """One gradient per input (None: no gradient flows there), written in `ops`."""
        raise NotImplementedError

    def broadcasts(self) -> bool:
        """Whether its inputs broadcast against each other (elementwise, two or more inputs): its rule's
        gradients then come in the broadcast shape, and a derivative graph sums each back to its
        input's shape, as the evaluator does. Default: a layer of two or more inputs not array_only."""
        return self.arity >= 2 and not self.array_only

    def kink_input(self, *xs):
        """For a `kink` layer: a quantity whose sign changes where the slope jumps (default: the
        input itself, as for relu and abs at 0); tests use it to stay away from the kinks."""
        return xs[0]

    def piece(self, *xs):
        """For a `kink` layer: which smooth piece of the function the inputs are on, a number (an
        array, elementwise) that stays the same between kinks and jumps and changes across each
        one; --check refuses a step whose ends are not on its centre's piece. Default: the sign of
        kink_input, for one kink. floor's is floor(x) itself: sin(πx), whose sign changes at every
        integer, has the same sign at x ± 2, so a sign test misses a step that spans two jumps."""
        from gradcalc.numeric import numpy

        return numpy().sign(self.kink_input(*xs))

    def tip(self, *xs):
        """For a `kink` layer whose only kink is a cone's tip (norm at 0, hypot at the origin): the
        inputs as vectors from the tip, components along the last axis; None: not a cone. The value
        is smooth within that distance of the point, so --check moves them by at most half of it
        (where a sign test sees nothing: x ± h passes by the tip without any input changing sign)."""
        return None

    backward_array = None  # optional numpy fast path, (gy, y, *xs) -> gradients; held to backward by a test
    # optional, for the blocks and their tapes (gradcalc.blocked), with backward_array: (*xs) ->
    # (value, saved), the value with forward_array's bits and `saved` an intermediate of the forward
    # that backward_array then takes as `saved=` instead of computing it again (sigmoid's slope from
    # its exp(-x): one exp less). `saved` may be nan only where an overflow inside made it inf * 0
    # and the true value is 0 as a double: the blocks take those nans as 0 (a tape raises at the
    # overflow and hands the call to them). Held to backward_array without it by a test.
    forward_saving = None

    def parameters(self) -> tuple:
        return tuple(getattr(self, name) for name in self.params)
