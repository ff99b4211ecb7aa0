"""The layer graph: nodes in creation order, which is a topological order, and the builder that
shares one node per variable and per identical subexpression."""

import difflib
from functools import cached_property

from gradcalc.errors import ParseError, UnknownFunctionError
from gradcalc.formatting import shorten
from gradcalc.layers import FUNCTIONS, REGISTRY, Constant, Input


class Node:
    """One operation applied to earlier nodes: id, layer, input ids, source span and names."""

    __slots__ = ("id", "layer", "inputs", "span", "names", "constant")

    def __init__(self, id, layer, inputs, span, constant):
        self.id = id
        self.layer = layer
        self.inputs = inputs
        self.span = span
        self.names = ()
        self.constant = constant  # no variable below this node: it needs no gradient


class Graph:
    """Nodes in topological order, variables by name, the line's own bindings, and the output."""

    def __init__(self, source, nodes, variables, bindings, output, sigmas=None):
        self.source = source
        self.nodes = nodes
        self.variables = variables  # name -> node id, in order of first use
        self.bindings = bindings  # name -> value bound on the line itself (`a = 1`)
        self.sigmas = sigmas or {}  # name -> standard uncertainty bound on the line (`a = 1 ± 0.1`)
        self.output = output

    @cached_property
    def forward_program(self) -> list:
        """(node id, function, first input, second input or -1) for each operation, in order. The
        function is the layer's bound forward or, for an `inlined` layer (x + y, x * y), the
        layer's class: the scalar loop recognises it and computes the operation without a call."""
        return [(node.id, _inlined(node.layer) or node.layer.forward,
                 node.inputs[0], node.inputs[1] if len(node.inputs) > 1 else -1)
                for node in self.nodes if node.inputs]

    @cached_property
    def backward_program(self) -> list:
        """(node id, layer, first input, second input or -1) for each operation the output depends
        on and a variable flows into, output first; for an `inlined` layer, its class instead of
        the layer. A constant input accumulates a gradient nobody reads, so the loop never asks
        which inputs need one: `constant_ids` are reset to None afterwards."""
        on_path = [False] * len(self.nodes)
        on_path[self.output] = True
        program = []
        for node in reversed(self.nodes[: self.output + 1]):
            if not on_path[node.id] or node.constant or not node.inputs:
                continue
            for index in node.inputs:
                on_path[index] = True
            first, *rest = node.inputs
            program.append((node.id, _inlined(node.layer) or node.layer, first, rest[0] if rest else -1))
        return program

    @cached_property
    def sorted_variables(self) -> list:
        """The variables' names in alphabetical order, as results list their gradients."""
        return sorted(self.variables)

    @cached_property
    def used_by_output(self) -> list[bool]:
        """Whether the output depends on each node (one reversed loop: creation order is topological)."""
        used = [False] * len(self.nodes)
        used[self.output] = True
        for node in reversed(self.nodes[: self.output + 1]):
            if used[node.id]:
                for index in node.inputs:
                    used[index] = True
        return used

    @cached_property
    def constant_ids(self) -> list:
        """The nodes no variable flows into: their gradient is None."""
        return [node.id for node in self.nodes if node.constant]

    @cached_property
    def needs_arrays(self) -> bool:
        """Whether an array operation (sum, @, ...) forces numpy even for scalar inputs."""
        return any(node.layer.array_only for node in self.nodes)

    @cached_property
    def finite_checkpoints(self) -> frozenset:
        """The operations whose array values must be checked for inf and nan on the fast path: the
        output and every input of a layer that can turn a non-finite value into a finite one
        (sigmoid(inf) = 1). Anywhere else a non-finite value would reach one of these."""
        points = {self.output}
        for node in self.nodes:
            if node.layer.hides_infinity:
                points.update(i for i in node.inputs if self.nodes[i].inputs)
        return frozenset(points)

    @cached_property
    def value_template(self) -> list:
        """Per node: the constant's value, None elsewhere (copied at the start of each forward)."""
        return [getattr(node.layer, "value", None) if not node.inputs else None for node in self.nodes]

    def __repr__(self):
        names = list(self.variables)
        shown = ", ".join(names[:10]) + (f", … ({len(names)} in all)" if len(names) > 10 else "")
        return (f"<Graph {shorten(self.source)!r}: {len(self.nodes)} nodes, output node {self.output}, "
                f"variables: {shown or 'none'}>")

    def prepare(self) -> "Graph":
        """Compute every cached program now, so that views made by `rebound` share them."""
        for name in _PROGRAMS:
            getattr(self, name)
        return self

    def rebound(self, source: str, bindings: dict, moves: list) -> "Graph":
        """This graph as parsed from `source`, a line of the same structure that binds other
        numbers (gradcalc.structure): the nodes and programs are shared; where the line's literals
        are longer or shorter, `moves` lists (position, shift): text at or after each position
        moved by that shift, and the view's nodes carry spans moved accordingly."""
        view = object.__new__(MovedGraph if moves else Graph)
        view.__dict__.update(self.__dict__)
        view.source, view.bindings = source, bindings
        if moves:
            view.shared_nodes = view.__dict__.pop("nodes")
            view.moves = moves
        return view

    def text(self, node: Node) -> str:
        """The node's source text as written (whitespace collapsed, long text shortened)."""
        if node.span is None:  # a node of a derivative graph: no text of its own
            return f"∂{type(node.layer).__name__}"
        return shorten(self.source, *node.span)

    def label(self, node: Node) -> str:
        """What a table calls the node: its names, if the line gave it any, then its text."""
        text = self.text(node)
        return " = ".join((*node.names, text)) if node.names else text


# what scalar evaluation reads (finite_checkpoints is for arrays only: a view computes its own)
_PROGRAMS = ("forward_program", "backward_program", "sorted_variables", "constant_ids", "needs_arrays",
             "value_template")


class MovedGraph(Graph):
    """A view of a graph for a line whose text moved (longer or shorter bound literals): its nodes
    are copies whose spans point into the view's own source, made when first asked for."""

    @cached_property
    def nodes(self) -> list:
        moves = self.moves

        def moved(position):
            shift = 0
            for start, offset in moves:
                if position < start:
                    break
                shift = offset
            return position + shift

        copies = []
        for node in self.shared_nodes:
            copy = Node(node.id, node.layer, node.inputs,
                        None if node.span is None else (moved(node.span[0]), moved(node.span[1])), node.constant)
            copy.names = node.names
            copies.append(copy)
        return copies


def _inlined(layer):
    """The class of a layer the scalar loops compute themselves, else None."""
    return type(layer) if layer.inlined else None


class Ref:
    """A parsed operand: the node it stands for and the span of its text (parentheses included).

    A numeric literal stays unmaterialised (node None) until an operation uses it, so that
    `a = -1` can bind an input without leaving a constant node behind. `5 ± 0.2` is a literal
    with a `sigma`, which only a binding may take.
    """

    __slots__ = ("node", "start", "end", "literal", "sigma")

    def __init__(self, node, start, end, literal=None, sigma=None):
        self.node, self.start, self.end, self.literal, self.sigma = node, start, end, literal, sigma


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
        self.shared: dict[tuple, Node] = {}  # (layer class, input ids[, axis]) -> node
        self.inputs: dict[str, Node] = {}
        self.constants: dict[float | str, Node] = {}

    def _leaf(self, layer, span, constant) -> Node:
        node = Node(len(self.nodes), layer, (), span, constant)
        self.nodes.append(node)
        return node

    def _materialize(self, ref: Ref) -> Node:
        if ref.node is None:
            if ref.sigma is not None:
                raise self._misplaced_uncertainty(ref.start, ref.end)
            value = ref.literal
            key = value if value else repr(value)  # 0.0 == -0.0 as keys, but they are two constants
            node = self.constants.get(key)
            if node is None:
                node = self.constants[key] = self._leaf(Constant(value), (ref.start, ref.end), True)
            ref.node = node
        return ref.node

    def number(self, text: str, start: int, end: int) -> Ref:
        return Ref(None, start, end, float(text))

    def name(self, name: str, start: int, end: int) -> Ref:
        ref = self.scope.get(name)
        if ref is not None:
            return Ref(ref.node, start, end, ref.literal)
        return Ref(self.inputs.get(name) or self._input(name, (start, end)), start, end)

    def _input(self, name, span) -> Node:
        node = self.inputs.get(name)
        if node is None:
            node = self.inputs[name] = self._leaf(Input(name), span, False)
            self.variables[name] = node.id
        return node

    def apply(self, op: str, operands: list[Ref], start: int, end: int) -> Ref:
        inputs = [ref.node or self._materialize(ref) for ref in operands]
        node = self._operation(REGISTRY[op], tuple([node.id for node in inputs]),
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

    def call(self, function: str, operands: list[Ref], start: int, end: int, name_end: int) -> Ref:
        layer_class = REGISTRY.get(function) if function in FUNCTIONS else None
        if layer_class is None:
            raise UnknownFunctionError(
                f"unknown function '{function}'", source=self.source, span=(start, name_end),
                hint=_did_you_mean(function) + f"known functions: {', '.join(FUNCTIONS)} (log is the natural log)")
        arity = layer_class.arity
        if layer_class.takes_axis and len(operands) == 2:
            return self._reduce(function, layer_class, operands, start, end)
        if len(operands) != arity:
            usage = {1: f"{function}(x)", 2: f"{function}(x, y)"}[arity]
            if layer_class.takes_axis:
                usage += f" or {function}(x, axis)"
            raise UnknownFunctionError(
                f"{function}() takes {arity} argument{'s' if arity > 1 else ''}, {len(operands)} given",
                source=self.source, span=(start, end), hint=f"write {usage}")
        return self.apply(function, operands, start, end)

    def _reduce(self, function, layer_class, operands, start, end) -> Ref:
        """sum(x, axis) and friends: the axis is an integer literal, a parameter of the layer."""
        operand, axis = operands
        if axis.node is not None or axis.sigma is not None or not float(axis.literal).is_integer():
            raise UnknownFunctionError(
                f"the axis of {function}() must be an integer such as 0, 1 or -1",
                source=self.source, span=(axis.start, axis.end), hint=f"write {function}(x, 0)")
        axis = int(axis.literal)
        node_in = self._materialize(operand)
        key = (layer_class, (node_in.id,), axis)
        node = self.shared.get(key)
        if node is None:
            node = self.shared[key] = Node(len(self.nodes), layer_class(axis), (node_in.id,),
                                           (start, end), node_in.constant)
            self.nodes.append(node)
        return Ref(node, start, end)

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
        if value.node is None and name not in self.scope and name not in self.variables:
            # `a = 1`: a signed literal binds the input `a` on this line (`a = 1 ± 0.1`: with its uncertainty)
            self.bindings[name] = value.literal
            if value.sigma is not None:
                self.sigmas[name] = value.sigma
            value = Ref(self._input(name, (start, start + len(name))), start, value.end)
        else:
            node = self._materialize(value)
            if not isinstance(node.layer, Input) and name not in node.names:
                node.names += (name,)
        self.scope[name] = value
        return value

    def finish(self, output: Ref) -> Graph:
        node = self._materialize(output)
        return Graph(self.source, self.nodes, self.variables, self.bindings, node.id, self.sigmas)


def _did_you_mean(function: str) -> str:
    close = difflib.get_close_matches(function, FUNCTIONS, n=1, cutoff=0.6)
    return f"did you mean {close[0]}? " if close else ""
