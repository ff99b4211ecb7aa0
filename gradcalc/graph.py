"""The layer graph: nodes in creation order, which is a topological order (gradcalc/builder.py
builds it as the parser reduces)."""

from gradcalc.formatting import shorten
from gradcalc.layers import Input, NamedConstant


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
        return self._backward_pass()[0]

    @computed_once
    def gradient_template(self) -> list:
        """Per node, what the scalar backward's sum of its gradient starts from: -0.0 on the
        output's path, 0.0 elsewhere (the output does not depend on it). -0.0 is the identity of
        IEEE addition (-0.0 + g is g, signed zeros included); from 0.0 a gradient of -0.0 (d(x*x)/dx
        at x = -0.0) would come out +0.0, where the array path, which starts from the first term,
        keeps -0.0."""
        return self._backward_pass()[1]

    def _backward_pass(self) -> tuple:
        """backward_program and gradient_template, made in one loop (both are read by backward)."""
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
        template = [-0.0 if reached else 0.0 for reached in on_path]
        self.__dict__.update(backward_program=program, gradient_template=template)
        return program, template

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
             "value_template", "gradient_template")


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
