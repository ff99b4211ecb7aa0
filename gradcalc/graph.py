"""The layer graph: nodes in creation order, which is a topological order, and the builder that
shares one node per variable and per identical subexpression."""

from gradcalc.errors import ParseError, UnknownFunctionError, UsageError
from gradcalc.formatting import shorten
from gradcalc.layers import CONSTANTS, FUNCTIONS, REGISTRY, Constant, Input, NamedConstant
from gradcalc.shape_layers import Index, Stack
from gradcalc.values import out_of_range
from gradcalc.vocabulary import PARAMETER_KINDS, arguments_text, unknown_function_hint, usage

_INFINITY = float("inf")  # a number's text has no sign: its float is never -inf


class computed_once:
    """functools.cached_property without its lock: Python 3.11 takes a lock on every first access
    (3.12 dropped it), a microsecond on each of the six programs a graph of a batch line builds.
    Two threads computing the same program both get an equal one."""

    def __init__(self, function):
        self.function, self.name, self.__doc__ = function, function.__name__, function.__doc__

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.function(instance)  # found there from now on
        return value


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

    def __init__(self, source, nodes, variables, bindings, output, sigmas=None, constants=None):
        self.source = source
        self.nodes = nodes
        self.variables = variables  # name -> node id, in order of first use
        self.bindings = bindings  # name -> value bound on the line itself (`a = 1`)
        self.sigmas = sigmas or {}  # name -> standard uncertainty bound on the line (`a = 1 ± 0.1`)
        self.output = output
        self.constants = constants or {}  # name -> node id of each named constant used (pi, e)
        self._shadowed = {}

    @property
    def free_names(self) -> list:
        """The names the graph reads that a definition could give: its variables and the named
        constants it uses (a definition of e shadows the constant, as a value for it does)."""
        return [*self.variables, *(name for name in self.constants if name not in self.variables)]

    def shadow(self, values) -> "Graph":
        """This graph with the named constants that `values` gives a value for (`--e 3`) made
        variables, as the names were before they were constants; itself when there are none."""
        if not self.constants or not values:  # twice per batch line: no generator for nothing
            return self
        names = frozenset(name for name in self.constants if name in values and name not in self.variables)
        if not names:
            return self
        graph = self._shadowed.get(names)
        if graph is None:
            nodes = []
            for node in self.nodes:
                if isinstance(node.layer, NamedConstant) and node.layer.name in names:
                    copy = Node(node.id, Input(node.layer.name), (), node.span, False)
                else:
                    constant = all(nodes[i].constant for i in node.inputs) if node.inputs else node.constant
                    copy = Node(node.id, node.layer, node.inputs, node.span, constant)
                copy.names = node.names
                nodes.append(copy)
            variables = dict(sorted([*self.variables.items(), *((n, self.constants[n]) for n in names)],
                                    key=lambda item: item[1]))
            constants = {name: index for name, index in self.constants.items() if name not in names}
            graph = self._shadowed[names] = Graph(self.source, nodes, variables, self.bindings, self.output,
                                                  self.sigmas, constants)
        return graph

    @computed_once
    def forward_program(self) -> list:
        """(node id, function, first input, second input or -1) for each operation, in order. The
        function is the layer's bound forward or, for an `inlined` layer (x + y, x * y), the
        layer's class: the scalar loop recognises it and computes the operation without a call."""
        return self._forward_pass()[0]

    def _forward_pass(self) -> tuple:
        """forward_program, value_template, constant_ids and needs_arrays, made in one loop over
        the nodes (evaluation reads all four; a batch line of a new structure makes them each
        time) and kept as they are: each property then finds its value made."""
        program, template, constant_ids, needs_arrays = [], [], [], False
        for node in self.nodes:
            layer, inputs = node.layer, node.inputs
            if inputs:
                program.append((node.id, type(layer) if layer.inlined else layer.forward,
                                inputs[0], inputs[1] if len(inputs) > 1 else -1))
                template.append(None)
            else:
                template.append(getattr(layer, "value", None))
            if node.constant:
                constant_ids.append(node.id)
            if layer.array_only:
                needs_arrays = True
        made = program, template, constant_ids, needs_arrays
        self.__dict__.update(zip(("forward_program", "value_template", "constant_ids", "needs_arrays"), made))
        return made

    @computed_once
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
            inputs, layer = node.inputs, node.layer
            for index in inputs:
                on_path[index] = True
            program.append((node.id, type(layer) if layer.inlined else layer, inputs[0],
                            inputs[1] if len(inputs) > 1 else -1))
        return program

    @computed_once
    def sorted_variables(self) -> list:
        """The variables' names in alphabetical order, as results list their gradients."""
        return sorted(self.variables)

    @computed_once
    def used_by_output(self) -> list[bool]:
        """Whether the output depends on each node (one reversed loop: creation order is topological)."""
        used = [False] * len(self.nodes)
        used[self.output] = True
        for node in reversed(self.nodes[: self.output + 1]):
            if used[node.id]:
                for index in node.inputs:
                    used[index] = True
        return used

    @computed_once
    def constant_ids(self) -> list:
        """The nodes no variable flows into: their gradient is None."""
        return self._forward_pass()[2]

    @computed_once
    def needs_arrays(self) -> bool:
        """Whether an array operation (sum, @, ...) forces numpy even for scalar inputs."""
        return self._forward_pass()[3]

    @computed_once
    def finite_checkpoints(self) -> frozenset:
        """The operations whose array values must be checked for inf and nan on the fast path: the
        output and every input of a layer that can turn a non-finite value into a finite one
        (sigmoid(inf) = 1). Anywhere else a non-finite value would reach one of these."""
        points = {self.output}
        for node in self.nodes:
            if node.layer.hides_infinity:
                points.update(i for i in node.inputs if self.nodes[i].inputs)
        return frozenset(points)

    @computed_once
    def value_template(self) -> list:
        """Per node: the constant's value, None elsewhere (copied at the start of each forward)."""
        return self._forward_pass()[1]

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
        view._shadowed = {}  # a shadowed graph has the bindings of the line it was made for
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

    @computed_once
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
        return Graph(self.source, self.nodes, self.variables, self.bindings, node.id, self.sigmas,
                     self.named_constants)
