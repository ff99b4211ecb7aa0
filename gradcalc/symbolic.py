"""Derivatives as graphs: each layer's rule run on graph terms (`GraphOps`) appends the nodes of
its gradient to a copy of the expression's graph, with the same sharing of identical
subexpressions, constants folded and x*1, x+0, 0*x, x^1, -(-x) simplified. The result is a Graph
like any other: it can be evaluated, differentiated again, and printed (gradcalc.formula).
"""

from gradcalc.errors import DomainError
from gradcalc.graph import Graph, Node
from gradcalc.layers import (
    BroadcastLike,
    Constant,
    Cos,
    Cosh,
    Cumsum,
    Divide,
    Erf,
    Erfc,
    Exp,
    Floor,
    Hypot,
    Input,
    Ln,
    MatMul,
    MatMulGrad,
    Maximum,
    Mean,
    Minimum,
    Minus,
    Multiply,
    Negate,
    Plus,
    Power,
    ProdOthers,
    RevCumsum,
    Sigmoid,
    Sign,
    Sin,
    Sinh,
    Spread,
    Sqrt,
    Step,
    Sum,
    SumLike,
    Tanh,
    Transpose,
    Winners,
    XLogY,
)
from gradcalc.ops import ScalarOps
from gradcalc.shape_layers import Diag, Index, Part, Place, ReshapeLike, Scatter

_COMMUTATIVE = (Plus, Multiply)


class Term:
    """A node of a graph under construction; Python operators on terms append nodes."""

    __slots__ = ("builder", "id")

    def __init__(self, builder, id):
        self.builder, self.id = builder, id

    def __add__(self, other):
        return self.builder.binary(Plus, self, other)

    def __radd__(self, other):
        return self.builder.binary(Plus, other, self)

    def __sub__(self, other):
        return self.builder.binary(Minus, self, other)

    def __rsub__(self, other):
        return self.builder.binary(Minus, other, self)

    def __mul__(self, other):
        return self.builder.binary(Multiply, self, other)

    def __rmul__(self, other):
        return self.builder.binary(Multiply, other, self)

    def __truediv__(self, other):
        return self.builder.binary(Divide, self, other)

    def __rtruediv__(self, other):
        return self.builder.binary(Divide, other, self)

    def __pow__(self, other):
        return self.builder.binary(Power, self, other)

    def __rpow__(self, other):
        return self.builder.binary(Power, other, self)

    def __neg__(self):
        return self.builder.apply(Negate, self)


def _unary(layer_class, scalar):
    def function(x):
        return x.builder.apply(layer_class, x) if isinstance(x, Term) else scalar(x)
    return staticmethod(function)


class GraphOps:
    """The rule namespace over graph terms: each function appends (or finds) a node."""

    exp = _unary(Exp, ScalarOps.exp)
    log = _unary(Ln, ScalarOps.log)
    sqrt = _unary(Sqrt, ScalarOps.sqrt)
    sin = _unary(Sin, ScalarOps.sin)
    cos = _unary(Cos, ScalarOps.cos)
    tanh = _unary(Tanh, ScalarOps.tanh)
    sign = _unary(Sign, ScalarOps.sign)
    step = _unary(Step, ScalarOps.step)
    sinh = _unary(Sinh, ScalarOps.sinh)
    cosh = _unary(Cosh, ScalarOps.cosh)
    erf = _unary(Erf, ScalarOps.erf)
    erfc = _unary(Erfc, ScalarOps.erfc)
    sigmoid = _unary(Sigmoid, ScalarOps.sigmoid)
    floor = _unary(Floor, ScalarOps.floor)
    transpose = _unary(Transpose, None)

    @staticmethod
    def hypot(x, y):
        return _builder(x, y).apply(Hypot, x, y)

    @staticmethod
    def hold(x, reach):  # x within [-reach, reach], in the language's words
        if not isinstance(x, Term):
            return ScalarOps.hold(x, reach)
        builder = x.builder
        return builder.apply(Minimum, builder.apply(Maximum, x, -reach), reach)

    @staticmethod
    def power_slope(x, y):
        return y * x ** (y - 1.0)  # a constant exponent folds: 2*x, not 2*x**1

    @staticmethod
    def xlogy(x, y):
        builder = _builder(x, y)
        if builder.value(y) == 0 and isinstance(x, Term):  # xlogy(0^t, 0): 0**t is flat in t, at every order
            node = builder.nodes[x.id]
            if isinstance(node.layer, Power) and builder.value(Term(builder, node.inputs[0])) == 0:
                return 0.0
        return builder.binary(XLogY, x, y)

    @staticmethod
    def index(x, key):
        return x.builder.apply(Index, x, params=(key,))

    @staticmethod
    def scatter(g, x, key):
        return _builder(g, x).apply(Scatter, g, x, params=(key,))

    @staticmethod
    def part(g, xs, axis, index):
        return _builder(g, *xs).apply(Part, g, *xs, params=(axis, index))

    @staticmethod
    def place(g, xs, axis, index):
        return _builder(g, *xs).apply(Place, g, *xs, params=(axis, index))

    @staticmethod
    def prod_others(x, axis=None):
        return x.builder.apply(ProdOthers, x, params=(axis,))

    @staticmethod
    def cumsum(x, axis=None):
        return x.builder.apply(Cumsum, x, params=(axis,))

    @staticmethod
    def rev_cumsum(g, x, axis=None):
        return _builder(g, x).apply(RevCumsum, g, x, params=(axis,))

    @staticmethod
    def reshape_like(g, x):
        return _builder(g, x).apply(ReshapeLike, g, x)

    @staticmethod
    def diag(x):
        return x.builder.apply(Diag, x)

    @staticmethod
    def spread(g, x, axis=None, mean=False, keepdims=False):
        return x.builder.apply(Spread, g, x, params=(axis, mean, keepdims))

    @staticmethod
    def sum(x, axis=None, keepdims=False):
        return x.builder.apply(Sum, x, params=(axis, keepdims))

    @staticmethod
    def mean(x, axis=None, keepdims=False):
        return x.builder.apply(Mean, x, params=(axis, keepdims))

    @staticmethod
    def winners(x, axis=None, pick="max"):
        return x.builder.apply(Winners, x, params=(axis, pick))

    @staticmethod
    def matmul(x, y):
        return _builder(x, y).apply(MatMul, x, y)

    @staticmethod
    def matmul_grad(gy, x, y, side):
        return _builder(gy, x, y).apply(MatMulGrad, gy, x, y, params=(side,))

    @staticmethod
    def sum_like(g, x):
        return _builder(g, x).apply(SumLike, g, x)

    @staticmethod
    def broadcast_like(g, x):
        return _builder(g, x).apply(BroadcastLike, g, x)


def _builder(*operands):
    return next(operand.builder for operand in operands if isinstance(operand, Term))


class DerivativeBuilder:
    """A copy of a graph's nodes that derivative nodes are appended to. `arrays`: the values may
    be arrays, so gradients of broadcasting operations are summed back to their input's shape."""

    def __init__(self, graph: Graph, arrays: bool = False):
        self.graph, self.arrays = graph, arrays
        self.nodes = list(graph.nodes)
        self.origin = list(range(len(self.nodes)))  # the expression's node each node derives from
        self.shared, self.constants = {}, {}
        self.variables = dict(graph.variables)
        for node in self.nodes:
            layer = node.layer
            if node.inputs:
                self.shared[self._key(type(layer), layer.parameters(), node.inputs)] = node.id
            elif isinstance(layer, Constant):
                self.constants.setdefault(_constant_key(layer.value), node.id)
        self._making = None  # the expression node whose rule is running

    @staticmethod
    def _key(layer_class, params, ids):
        return layer_class, params, tuple(sorted(ids)) if layer_class in _COMMUTATIVE else ids

    def value(self, term):
        """The constant value of a term or float, else None."""
        if not isinstance(term, Term):
            return term
        layer = self.nodes[term.id].layer
        return layer.value if isinstance(layer, Constant) else None

    def constant(self, value: float) -> Term:
        key = _constant_key(value)
        index = self.constants.get(key)
        if index is None:
            index = self.constants[key] = self._append(Constant(float(value)), (), True)
        return Term(self, index)

    def input(self, name: str) -> Term:
        """A variable, new if the expression has none of that name (a seed, a direction)."""
        index = self.variables.get(name)
        if index is None:
            index = self.variables[name] = self._append(Input(name), (), False)
        return Term(self, index)

    def _append(self, layer, ids, constant) -> int:
        index = len(self.nodes)
        self.nodes.append(Node(index, layer, ids, None, constant))
        self.origin.append(self._making)
        return index

    def _term(self, operand) -> Term:
        return operand if isinstance(operand, Term) else self.constant(operand)

    def apply(self, layer_class, *operands, params=()) -> Term:
        terms = [self._term(operand) for operand in operands]
        values = [self.value(term) for term in terms]
        if layer_class is Negate:
            inner = self.nodes[terms[0].id]
            if isinstance(inner.layer, Negate):
                return Term(self, inner.inputs[0])  # -(-x) = x
        if not layer_class.array_only and all(v is not None for v in values):
            try:  # fold constants
                return self.constant(layer_class().forward(*values))
            except (DomainError, ArithmeticError, ValueError):
                pass  # leave it to evaluation, which reports it where it happens
        ids = tuple(term.id for term in terms)
        key = self._key(layer_class, params, ids)
        index = self.shared.get(key)
        if index is None:
            constant = all(self.nodes[i].constant for i in ids)
            index = self.shared[key] = self._append(layer_class(*params), ids, constant)
        return Term(self, index)

    def binary(self, layer_class, left, right) -> Term:
        """left op right, simplified where the result is one of the operands or a constant."""
        a, b = self.value(left), self.value(right)
        if layer_class is Plus:
            if a == 0:
                return self._term(right)
            if b == 0:
                return self._term(left)
            if b is not None and b < 0:
                return self.binary(Minus, left, -b)  # x + (-4) = x - 4
            if self._negated(right) is not None:
                return self.binary(Minus, left, self._negated(right))
            if self._negated(left) is not None:
                return self.binary(Minus, right, self._negated(left))
        elif layer_class is Minus:
            if b == 0:
                return self._term(left)
            if a == 0:
                return self.apply(Negate, right)
            if b is not None and b < 0:
                return self.binary(Plus, left, -b)
            if self._negated(right) is not None:
                return self.binary(Plus, left, self._negated(right))
        elif layer_class is Multiply:
            if a is not None and b is not None:
                return self.apply(Multiply, left, right)  # folds
            if a == 0 or b == 0:
                return self.constant(0.0)
            if a == 1 or b == 1:
                return self._term(right if a == 1 else left)
            if a == -1 or b == -1:
                return self.apply(Negate, right if a == -1 else left)
            if b is not None and a is None:
                return self.binary(Multiply, right, left)  # the constant first: 2*x
            (ca, ra), (cb, rb) = self._coefficient(left), self._coefficient(right)
            if (ca != 1 or cb != 1) and not (a is not None and cb == 1):  # 3*y*(2*x) = 6*(y*x)
                rest = rb if ra is None else ra if rb is None else self.binary(Multiply, ra, rb)
                return self.binary(Multiply, ca * cb, rest)
        elif layer_class is Divide:
            if b == 1:
                return self._term(left)
            if a == 0 and b != 0:
                return self.constant(0.0)
        elif layer_class is Power:
            if b == 1:
                return self._term(left)
            if b == 0:
                return self.constant(1.0)
        return self.apply(layer_class, left, right)

    def _coefficient(self, term):
        """(c, rest) for a term c*rest with a constant c; (value, None) for a constant; else (1, term)."""
        value = self.value(term)
        if value is not None:
            return value, None
        node = self.nodes[term.id]
        if isinstance(node.layer, Multiply):
            first, second = node.inputs
            for factor, rest in ((first, second), (second, first)):
                if self.value(Term(self, factor)) is not None:
                    return self.value(Term(self, factor)), Term(self, rest)
        return 1, term

    def _negated(self, term):
        """x when the term is -x, else None."""
        if not isinstance(term, Term):
            return None
        node = self.nodes[term.id]
        return Term(self, node.inputs[0]) if isinstance(node.layer, Negate) else None

    def is_zero(self, term) -> bool:
        return term is None or self.value(term) == 0

    def gradient(self, output: int, wrt: dict, seed) -> dict:
        """{name: Term or None} of d(sum(seed * node `output`))/d(variable), by running every
        rule on the way back as graph terms (None: the derivative is 0)."""
        grads = {output: self._term(seed)}
        for index in range(output, -1, -1):
            node = self.nodes[index]
            if not node.inputs or node.constant:
                continue
            gy = grads.pop(index, None)
            if self.is_zero(gy):
                continue
            self._making = self.origin[index]
            operands = [Term(self, i) for i in node.inputs]
            contributions = node.layer.backward(GraphOps, gy, Term(self, index), *operands)
            for term, gx in zip(operands, contributions):
                if self.is_zero(gx) or self.nodes[term.id].constant:
                    continue
                if self.arrays and node.layer.broadcasts():  # log(v, b), clip(v, lo, 10): b, lo scalars
                    gx = GraphOps.sum_like(self._term(gx), term)
                previous = grads.get(term.id)
                grads[term.id] = gx if previous is None else previous + gx
        self._making = None
        return {name: (None if self.is_zero(grads.get(self.variables[name])) else
                       self._term(grads[self.variables[name]]))
                for name in wrt}

    def finish(self, outputs: list) -> tuple[Graph, list, list]:
        """(the graph of the nodes the terms `outputs` need, their ids in it, each node's origin).
        Pruned: a rule may build a term nobody uses (the gradient of a constant exponent), which
        could fail at a point where the derivative itself is fine."""
        needed = [False] * len(self.nodes)
        for term in outputs:
            needed[term.id] = True
        for node in reversed(self.nodes):
            if needed[node.id]:
                for index in node.inputs:
                    needed[index] = True
        for index in self.graph.variables.values():
            needed[index] = True  # every variable keeps its place, used or not: bind() asks for all
        new_id, nodes, origins = {}, [], []
        for node in self.nodes:
            if needed[node.id]:
                new_id[node.id] = len(nodes)
                copy = Node(len(nodes), node.layer, tuple(new_id[i] for i in node.inputs), node.span,
                            node.constant)
                copy.names = node.names
                nodes.append(copy)
                origins.append(self.origin[node.id])
        variables = {name: new_id[index] for name, index in self.variables.items() if index in new_id}
        ids = [new_id[term.id] for term in outputs]
        graph = Graph(self.graph.source, nodes, variables, self.graph.bindings, ids[-1] if ids else 0,
                      self.graph.sigmas)
        return graph, ids, origins


def _constant_key(value):
    return value if value else repr(float(value))  # 0.0 and -0.0 are two constants
