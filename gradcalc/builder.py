"""The graph builder the parser calls as it reduces: one node per variable and per identical
subexpression, literals kept as numbers until an operation uses them, calls checked against the
registry. Appending each new node keeps the node list in topological order."""

from gradcalc.errors import ParseError, UnknownFunctionError, UsageError
from gradcalc.graph import Graph, Node
from gradcalc.layers import CONSTANTS, FUNCTIONS, REGISTRY, Constant, Input, NamedConstant
from gradcalc.shape_layers import Index, Stack
from gradcalc.values import out_of_range
from gradcalc.vocabulary import PARAMETER_KINDS, arguments_text, unknown_function_hint, usage

_INFINITY = float("inf")  # a number's text has no sign: its float is never -inf


class Ref:
    """A parsed operand: the node it stands for and the span of its text (parentheses included).

    A numeric literal stays unmaterialised (node None) until an operation uses it, so that
    `a = -1` can bind an input without leaving a constant node behind. `5 ± 0.2` is a literal
    with a `sigma`, which only a binding may take.
    """

    __slots__ = ("node", "start", "end", "literal", "sigma")

    def __init__(self, node, start, end, literal=None, sigma=None):
        self.node, self.start, self.end, self.literal, self.sigma = node, start, end, literal, sigma


def _constant_key(value: float):
    return value if value else repr(value)  # 0.0 == -0.0 as keys, but they are two constants


class Slice:
    """start:stop:step inside brackets: the three parts (each a Ref or None) and its span."""

    __slots__ = ("parts", "start", "end")

    def __init__(self, parts, start, end):
        self.parts, self.start, self.end = parts, start, end


def _start(part) -> int:
    return part.start if isinstance(part, Ref) else part.start_pos


def _end(part) -> int:
    return part.end if isinstance(part, Ref) else part.end_pos


class Keyword:
    """A keyword argument of a call, `axis=1`: the parameter's name and span, and its value."""

    __slots__ = ("name", "value", "start", "end")

    def __init__(self, name, value, start, end):
        self.name, self.value, self.start, self.end = name, value, start, end


class GraphBuilder:
    """Called by the parser as it reduces, bottom-up, so appending each new node keeps
    the node list topologically ordered."""

    def __init__(self, source: str):
        self.source = source
        self.nodes: list[Node] = []
        self.variables: dict[str, int] = {}
        self.bindings: dict[str, float] = {}
        self.sigmas: dict[str, float] = {}
        self.scope: dict[str, Ref] = {}  # names visible to the next statement
        # inputs bound on the line (`x = 1`) that no statement has read yet: a later `x = 3`
        # binds them again, as nothing could have seen the earlier value
        self.unread: dict[str, Ref] = {}
        self.shared: dict[tuple, Node] = {}  # (layer class, input ids[, axis]) -> node
        self.inputs: dict[str, Node] = {}
        self.constants: dict[float | str, Node] = {}
        self.named_constants: dict[str, int] = {}

    def _leaf(self, layer, span, constant) -> Node:
        node = Node(len(self.nodes), layer, (), span, constant)
        self.nodes.append(node)
        return node

    def _materialize(self, ref: Ref) -> Node:
        if ref.node is None:
            if ref.sigma is not None:
                raise self._misplaced_uncertainty(ref.start, ref.end)
            value = ref.literal
            key = _constant_key(value)
            node = self.constants.get(key)
            if node is None:
                node = self.constants[key] = self._leaf(Constant(value), (ref.start, ref.end), True)
            ref.node = node
        return ref.node

    def number(self, text: str, start: int, end: int) -> Ref:
        value = float(text)
        if value == 0.0 or value == _INFINITY:  # 1e-400 would silently be 0, 1e309 inf: as --x refuses them
            problem = out_of_range(text, value)
            if problem is not None:
                raise ParseError(problem[0], source=self.source, span=(start, end),
                                 hint=problem[1] or "write a number within the double range")
        return Ref(None, start, end, value)

    def name(self, name: str, start: int, end: int) -> Ref:
        ref = self.scope.get(name)
        if ref is not None:
            if self.unread and self.unread.get(name) is ref:  # the bound input is read
                del self.unread[name]
            return Ref(ref.node, start, end, ref.literal)
        if name in CONSTANTS and name not in self.inputs:
            return Ref(self._constant(name, (start, end)), start, end)
        return Ref(self.inputs.get(name) or self._input(name, (start, end)), start, end)

    def _constant(self, name, span) -> Node:
        """pi or e: one node per name, which Graph.shadow turns into a variable if given a value."""
        index = self.named_constants.get(name)
        if index is None:
            index = self.named_constants[name] = self._leaf(NamedConstant(name), span, True).id
        return self.nodes[index]

    def _input(self, name, span) -> Node:
        node = self.inputs.get(name)
        if node is None:
            node = self.inputs[name] = self._leaf(Input(name), span, False)
            self.variables[name] = node.id
        return node

    def apply(self, op: str, operands: list[Ref], start: int, end: int) -> Ref:
        return self.apply_layer(REGISTRY[op], operands, start, end)

    def apply_layer(self, layer_class, operands: list[Ref], start: int, end: int) -> Ref:
        inputs = [ref.node or self._materialize(ref) for ref in operands]
        node = self._operation(layer_class, tuple([node.id for node in inputs]),
                               all([node.constant for node in inputs]), (start, end))
        return Ref(node, start, end)

    def binary(self, op: str, left: Ref, right: Ref) -> Ref:
        """`left op right`: apply() for two operands without its loops, the parser's most frequent step."""
        first = left.node or self._materialize(left)
        second = right.node or self._materialize(right)
        node = self._operation(REGISTRY[op], (first.id, second.id), first.constant and second.constant,
                               (left.start, right.end))
        return Ref(node, left.start, right.end)

    def _operation(self, layer_class, ids: tuple, constant: bool, span) -> Node:
        """The node applying `layer_class` to the nodes `ids`: an existing one if it was built before."""
        key = (layer_class, ids)
        node = self.shared.get(key)
        if node is None:
            node = self.shared[key] = Node(len(self.nodes), layer_class(), ids, span, constant)
            self.nodes.append(node)
        return node

    def call(self, function: str, arguments: list, start: int, end: int, name_end: int) -> Ref:
        """f(args): the first `arity` positional arguments are the inputs, the rest (and keyword
        arguments) the layer's parameters (an axis, a slope), which must be numbers as written."""
        layer_class = REGISTRY.get(function) if function in FUNCTIONS else None
        if layer_class is None:
            raise UnknownFunctionError(f"unknown function '{function}'", source=self.source,
                                       span=(start, name_end), hint=unknown_function_hint(function))
        operands = [a for a in arguments if not isinstance(a, Keyword)]
        keywords = [a for a in arguments if isinstance(a, Keyword)]
        if arguments[len(operands):] != keywords:
            first = keywords[0]
            raise UsageError(f"a positional argument follows the keyword argument {first.name}=",
                             source=self.source, span=(first.start, first.value.end),
                             hint=f"write the keyword arguments last: {usage(function, layer_class)}")
        if layer_class.wider is not None and len(operands) == layer_class.arity + 1 and not keywords:
            layer_class = layer_class.wider  # log(x, base)
        arity = layer_class.arity
        if arity < 0:  # stack(x, y, ...): every positional argument is an input, parameters by keyword
            arity = max(len(operands), 1)
        if len(operands) < arity or len(operands) > arity + len(layer_class.params):
            given = len(operands)
            raise UnknownFunctionError(
                f"{function}() takes {arguments_text(layer_class)}, {given} given", source=self.source,
                span=(start, end), hint=f"write {usage(function, layer_class)}")
        for keyword in keywords:
            if keyword.name not in layer_class.params:
                raise UsageError(f"{function}() has no parameter '{keyword.name}'", source=self.source,
                                 span=(keyword.start, keyword.end), hint=f"write {usage(function, layer_class)}")
        if not layer_class.params:
            return self.apply_layer(layer_class, operands, start, end)
        given = {}
        for name, ref in [*zip(layer_class.params, operands[arity:]), *((k.name, k.value) for k in keywords)]:
            if name in given:
                raise UsageError(f"{function}() is given {name} twice", source=self.source,
                                 span=(ref.start, ref.end), hint=f"write {usage(function, layer_class)}")
            given[name] = self._parameter(function, layer_class, name, ref)
        return self._parametric(layer_class(**given), operands[:arity], start, end)

    def _parametric(self, layer, operands: list, start: int, end: int) -> Ref:
        """The node applying `layer` (with its parameters) to `operands`: shared like any other."""
        node_in = [self._materialize(ref) for ref in operands]
        ids = tuple(node.id for node in node_in)
        key = (type(layer), ids, layer.parameters())
        node = self.shared.get(key)
        if node is None:
            node = self.shared[key] = Node(len(self.nodes), layer, ids, (start, end),
                                           all(n.constant for n in node_in))
            self.nodes.append(node)
        return Ref(node, start, end)

    def array(self, elements: list, start: int, end: int) -> Ref:
        """[x, y, 2*z]: the elements stacked (nested literals: a matrix)."""
        return self._parametric(Stack(0), elements, start, end)

    def slice(self, first, second, third, opening, closing) -> "Slice":
        """start:stop:step inside brackets; `opening` and `closing` are its first and last parts."""
        return Slice((first, second, third), _start(opening), _end(closing))

    def index(self, operand: Ref, subscripts: list, end: int) -> Ref:
        """x[0, 1:, ::2]: each subscript an integer or a slice of integers, written as numbers."""
        key = []
        for subscript in subscripts:
            if isinstance(subscript, Slice):
                bounds = tuple(None if part is None else self._integer(part, "a slice's bounds and step")
                               for part in subscript.parts)
                if bounds[2] == 0:
                    raise UsageError("a slice's step cannot be 0", source=self.source,
                                     span=(subscript.start, subscript.end), hint="write v[::1] or v[::-1]")
                key.append(("slice", *bounds))
            else:
                key.append(self._integer(subscript, "an index"))
        return self._parametric(Index(tuple(key)), [operand], operand.start, end)

    def _literal_list(self, node):
        """The numbers of a literal [2, 3] (a stack of written numbers), else None."""
        if not isinstance(node.layer, Stack) or node.layer.axis != 0:
            return None
        leaves = [self.nodes[i].layer for i in node.inputs]
        if not all(type(leaf) is Constant for leaf in leaves):
            return None
        return tuple(leaf.value for leaf in leaves)

    def _forget_literal(self, node) -> None:
        """Drop the nodes a literal [2, 3] made when it is a parameter, not a value: the stack and
        the constants only it uses (the last nodes made, so nothing else refers to them)."""
        if self.nodes[-1] is not node:
            return
        self.nodes.pop()
        self.shared.pop((Stack, node.inputs, node.layer.parameters()), None)
        for index in sorted(set(node.inputs), reverse=True):
            leaf = self.nodes[index]
            if index == len(self.nodes) - 1 and self.constants.get(_constant_key(leaf.layer.value)) is leaf:
                self.nodes.pop()
                del self.constants[_constant_key(leaf.layer.value)]

    def _integer(self, ref: Ref, what: str) -> int:
        if ref.node is None and ref.sigma is None and float(ref.literal).is_integer():
            return int(ref.literal)
        raise UsageError(f"{what} must be an integer written as a number", source=self.source,
                         span=(ref.start, ref.end), hint="write v[0], v[-1], v[1:], v[::2] or X[0, :]")

    def _parameter(self, function: str, layer_class, name: str, ref: Ref):
        """A parameter's value from the number written for it; an error naming it otherwise."""
        kind = PARAMETER_KINDS.get(name, float)
        literal = ref.literal if ref.node is None and ref.sigma is None else None
        if kind is tuple:  # a shape: [2, 3], or one size
            sizes = (literal,) if literal is not None else self._literal_list(ref.node)
            if sizes is not None and all(float(size).is_integer() for size in sizes):
                if literal is None:
                    self._forget_literal(ref.node)
                return tuple(int(size) for size in sizes)
        elif kind is bool and literal in (0.0, 1.0):
            return bool(literal)
        elif kind is not bool and literal is not None and (kind is not int or float(literal).is_integer()):
            return kind(literal)
        elif name == "axis" and literal is None and self._literal_list(ref.node) is not None:
            axes = self._literal_list(ref.node)  # axis=[0, 1]: several axes
            if all(float(one).is_integer() for one in axes):
                self._forget_literal(ref.node)
                return tuple(int(one) for one in axes)
        what = {"axis": "an integer such as 0, 1 or -1, or a list of them such as [0, 1]",
                "keepdims": "0 or 1",
                "shape": "a list of integers such as [2, 3]"}.get(name, "an integer" if kind is int else "a number")
        hint = f"write {usage(function, layer_class)}"
        pick = getattr(layer_class, "pick", None)
        if name == "axis" and pick:
            hint = (f"{function}(x, axis) reduces x along an axis; the elementwise "
                    f"{'larger' if pick == 'max' else 'smaller'} of two values is {pick}imum(x, y)")
        raise UnknownFunctionError(f"the {name} of {function}() must be {what}, written as a number",
                                   source=self.source, span=(ref.start, ref.end), hint=hint)

    def keyword(self, name: str, value: Ref, start: int, end: int) -> Keyword:
        return Keyword(name, value, start, end)

    def negate(self, operand: Ref, start: int) -> Ref:
        if operand.node is None and operand.sigma is None:  # fold the sign into the literal: -1 is one constant
            return Ref(None, start, operand.end, -operand.literal)
        return self.apply("neg", [operand], start, operand.end)

    def plus_minus(self, value: Ref | None, sigma: Ref, start: int, end: int) -> Ref:
        """`5 ± 0.2` (or `5 +- 0.2`): a literal with a standard uncertainty, for a binding."""
        if value is None or value.node is not None or value.sigma is not None:
            raise self._misplaced_uncertainty(start, end)
        if sigma.node is not None or sigma.sigma is not None:
            raise ParseError("the uncertainty after ± must be a number", source=self.source,
                             span=(sigma.start, sigma.end), hint="write x = 5 ± 0.2")
        if not 0 <= sigma.literal < float("inf"):
            raise ParseError(f"the uncertainty {sigma.literal} is not a finite number >= 0", source=self.source,
                             span=(sigma.start, sigma.end), hint="a standard uncertainty is >= 0: x = 5 ± 0.2")
        return Ref(None, value.start, sigma.end, value.literal, sigma.literal)

    def _misplaced_uncertainty(self, start: int, end: int) -> ParseError:
        return ParseError("± (or +-) gives an input a standard uncertainty, and only in a binding of a number",
                          source=self.source, span=(start, end),
                          hint="write x = 5 ± 0.2 (or x = 5 +- 0.2) before x is used; to add a negative "
                               "number write a + -b")

    def assign(self, name: str, value: Ref, start: int) -> Ref:
        # `a = 1`: a signed literal binds the input `a` on this line (`a = 1 ± 0.1`: with its
        # uncertainty), unless a statement before has read that input: its value must stay what
        # that statement saw, so the number is a constant from here on
        if value.node is None and (name not in self.variables or name in self.unread):
            self.bindings[name] = value.literal  # a binding not read yet is replaced, σ included
            if value.sigma is not None:
                self.sigmas[name] = value.sigma
            else:
                self.sigmas.pop(name, None)
            value = self.unread[name] = Ref(self._input(name, (start, start + len(name))), start, value.end)
        else:
            if value.sigma is not None:
                raise self._uncertainty_after_use(name, value)
            node = self._materialize(value)
            if not isinstance(node.layer, Input) and name not in node.names:
                node.names += (name,)
        self.scope[name] = value
        return value

    def _uncertainty_after_use(self, name: str, value: Ref) -> ParseError:
        return ParseError(f"{name} is already used: ± gives an input an uncertainty only in a binding "
                          "before its first use", source=self.source, span=(value.start, value.end),
                          hint=f"write {name} = {self.source[value.start:value.end]} before the first "
                               f"statement that reads {name}")

    def finish(self, output: Ref) -> Graph:
        node = self._materialize(output)
        return Graph(self.source, self.nodes, self.variables, self.bindings, node.id, self.sigmas,
                     self.named_constants)
