"""Derivatives beyond the gradient: every partial of order 2..N, Jacobians, Jacobian- and
Hessian-vector products, and the derivative as a formula.

Order N differentiates the expression N - 1 times as a graph (gradcalc.symbolic) and takes the
last order numerically by reverse sweeps of that graph: a Hessian costs one symbolic gradient and
one sweep per variable, O(n·m), never O(n²·m). Like the gradient, everything differentiates the
scalar sum(seed · output): the output itself when it is a scalar.
"""

from collections.abc import Mapping
from itertools import combinations_with_replacement, permutations

from gradcalc.errors import EvaluationError, NonFiniteError, ShapeError, UsageError, naming_options, seed_shape_error
from gradcalc.evaluator import _number, backward, bind, forward, uses_arrays
from gradcalc.formatting import format_number, needs_parentheses
from gradcalc.graph import Graph
from gradcalc.node_errors import node_error
from gradcalc.symbolic import DerivativeBuilder, Term

MAX_ORDER = 10
_SEED, _COTANGENT = "@seed", "@u"


def derivatives(graph: Graph, values: dict, order: int, wrt=None, seed=None, rowwise: bool = False) -> dict:
    """{order: the derivatives of that order as nested dicts keyed by variable name, `order` levels
    deep} (symmetric entries repeated; for array variables, blocks of shape shape(a) + shape(b)).
    `rowwise`: every variable is a column of points, row i depending on row i only (--data), and
    each derivative is that column's own, row by row."""
    _check_order(order)
    graph, inputs, start = _prepare(graph, values)
    names = _names(graph, wrt)
    arrays = uses_arrays(graph, inputs)
    if order >= 3 and not rowwise and any(hasattr(inputs[name], "shape") for name in names):
        raise naming_options(UsageError(f"derivatives of order {order} need scalar variables; array variables go "
                                        "up to order 2"), "use {hessian} (order 2) or {hvp} for array variables")
    builder = DerivativeBuilder(graph, arrays)
    inputs, seed_term = _seeded(graph, builder, inputs, start, seed)
    # symbolic levels 1..order-1, over sorted multi-indices (mixed partials are symmetric)
    terms = {(): Term(builder, graph.output)}
    for level in range(1, order):
        deeper = {}
        for alpha, term in terms.items():
            rest = names[alpha[-1]:] if alpha else names
            found = {} if term is None else builder.gradient(term.id, rest, seed_term if level == 1 else 1.0)
            for offset, name in enumerate(rest):
                deeper[alpha + (names.index(name),)] = found.get(name)
        terms = deeper
    live = [term for term in terms.values() if term is not None]
    dgraph, ids, origins = builder.finish(live or [Term(builder, graph.output)])
    what = f"derivative of order {order}"
    node_values = _run(forward, (graph, start, origins, what), dgraph, inputs)
    position = dict(zip((id(term) for term in live), ids))
    values_by_index = {}
    for alpha, term in terms.items():
        last = alpha[-1] if alpha else 0
        for offset, name in enumerate(names[last:]):
            index = alpha + (last + offset,)
            values_by_index[index] = _zeros(inputs, names[last:last + 1] if rowwise else [names[i] for i in index])
        if term is None:
            continue
        output = position[id(term)]
        view = Graph(dgraph.source, dgraph.nodes, dgraph.variables, dgraph.bindings, output)
        value = node_values[output]
        shape = () if rowwise else getattr(value, "shape", ())
        for element in _elements(shape):
            seed_array = _ones_like(value) if rowwise else None
            if shape:
                import numpy as np

                seed_array = np.zeros(shape)
                seed_array[element] = 1.0
            # as --wrt: only derivatives in these must be finite
            grads = _run(backward, (graph, start, origins, what), view, node_values, seed_array, names)
            for offset, name in enumerate(names[last:]):
                gradient = grads[dgraph.variables[name]] if name in dgraph.variables else 0.0
                block = values_by_index[alpha + (last + offset,)]
                if shape:
                    block[element] = gradient
                else:
                    values_by_index[alpha + (last + offset,)] = gradient
    return {order: _nested(values_by_index, names, order, inputs, rowwise)}


def all_orders(graph: Graph, values: dict, order: int, wrt=None, seed=None, rowwise: bool = False) -> dict:
    """{k: order-k derivatives} for k = 2..order, each computed as in `derivatives`."""
    _check_order(order)
    found = {}
    for k in range(2, order + 1):
        found.update(derivatives(graph, values, k, wrt, seed, rowwise))
    return found


def jacobian(graph: Graph, values: dict, wrt=None) -> dict:
    """{name: ∂output/∂name of shape shape(output) + shape(name)}, one reverse sweep per element of
    the output (the gradient itself for a scalar output)."""
    import numpy as np

    graph, inputs, node_values = _prepare(graph, values)
    names = _names(graph, wrt)
    output = node_values[graph.output]
    shape = np.shape(output)
    blocks = {name: np.zeros(shape + np.shape(inputs[name])) for name in names}
    for element in _elements(shape):
        seed = None
        if shape:
            seed = np.zeros(shape)
            seed[element] = 1.0
        grads = backward(graph, node_values, seed, names)  # only theirs must be finite, as for --wrt
        for name in names:
            blocks[name][element] = grads[graph.variables[name]]
    return {name: (float(block) if not block.shape else block) for name, block in blocks.items()}


def jvp(graph: Graph, values: dict, direction: dict):
    """J·v, the derivative of the output along `direction` (missing variables: 0), of the output's
    shape. The reverse pass is linear in its seed u; differentiating <J^T u, v> in u gives J v:
    one symbolic gradient and one sweep, O(m), without forming J."""
    graph, inputs, node_values = _prepare(graph, values)
    direction = _direction(graph, inputs, direction)
    arrays = uses_arrays(graph, inputs)
    builder = DerivativeBuilder(graph, arrays)
    u = builder.input(_COTANGENT)
    inputs = {**inputs, _COTANGENT: _ones_like(node_values[graph.output])}
    total, inputs = _along(builder, builder.gradient(graph.output, list(direction), u), direction, inputs, arrays)
    if total is None:
        return 0.0 * inputs[_COTANGENT]
    dgraph, ids, origins = builder.finish([total])
    context = (graph, node_values, origins, "directional derivative")
    dvalues = _run(forward, context, dgraph, inputs)
    grads = _run(backward, context, dgraph, dvalues)
    return grads[dgraph.variables[_COTANGENT]]


def hvp(graph: Graph, values: dict, direction: dict, seed=None) -> dict:
    """{name: (H v)[name]}, the Hessian of sum(seed · output) times `direction`, without forming H:
    the gradient as a graph, then one sweep of <gradient, v>."""
    graph, inputs, start = _prepare(graph, values)
    direction = _direction(graph, inputs, direction)
    arrays = uses_arrays(graph, inputs)
    builder = DerivativeBuilder(graph, arrays)
    inputs, seed_term = _seeded(graph, builder, inputs, start, seed)
    names = _names(graph, None)
    total, inputs = _along(builder, builder.gradient(graph.output, list(direction), seed_term), direction,
                           inputs, arrays)
    if total is None:
        return {name: _zeros(inputs, [name]) for name in names}
    dgraph, ids, origins = builder.finish([total])
    context = (graph, start, origins, "second derivative")
    dvalues = _run(forward, context, dgraph, inputs)
    grads = _run(backward, context, dgraph, dvalues)
    return {name: grads[dgraph.variables[name]] for name in names}


def diff(graph: Graph, name: str, order: int = 1, latex: bool = False) -> str:
    """The order-`order` derivative in `name` as a formula in gradcalc's syntax (or LaTeX)."""
    from gradcalc.formula import to_formula

    _check_order(order)
    if graph.needs_arrays:
        _refuse_array_operations(graph)
    graph = graph.shadow((name,))  # --diff e: the derivative in e, a variable then
    _names(graph, [name])
    builder = DerivativeBuilder(graph)
    term = Term(builder, graph.output)
    for _ in range(order):
        term = builder.gradient(term.id, [name], 1.0)[name]
        if term is None:
            term = builder.constant(0.0)
            break
    dgraph, _, _ = builder.finish([term])
    return to_formula(dgraph, latex=latex)


def _refuse_array_operations(graph: Graph) -> None:
    """A derivative as a formula is written in scalar operations: the first operation on arrays
    (sum(v), x @ w, [x, y], v[0]) is refused, the caret under it; clip of scalars is not one."""
    for node in graph.nodes:
        if node.layer.array_only and not node.layer.scalar_elementwise:
            error = UsageError(f"{graph.text(node)} is an array operation; a derivative as a formula is written "
                               "in scalar operations only", source=graph.source, span=node.span)
            raise naming_options(error, "evaluate array derivatives at a point with {hessian} or {jacobian}")


def local_derivative_formulas(graph: Graph, node) -> list:
    """∂node/∂input for each input of `node`, as formulas over the texts of the nodes involved."""
    return LocalFormulas(graph).of(node)


class LocalFormulas:
    """The local derivatives of any node of one graph as formulas (None where an array operation's
    derivative has none). One derivative builder serves every node and each formula is read from
    the few nodes its rule appended, so the formulas of all n nodes cost O(n), not O(n²)."""

    def __init__(self, graph: Graph):
        self.graph, self.builder, self.size = graph, DerivativeBuilder(graph), len(graph.nodes)
        self.atoms = {}  # node id -> its text as an operand

    def of(self, node) -> list:
        from gradcalc.symbolic import GraphOps

        if node.layer.array_only and not node.layer.broadcasts():
            return [None] * len(node.inputs)  # its local derivative is a Jacobian, no elementwise formula
        operands = [Term(self.builder, i) for i in node.inputs]
        return [self._text(term) for term in
                node.layer.backward(GraphOps, 1.0, Term(self.builder, node.id), *operands)]

    def _text(self, term):
        from gradcalc.formula import to_formula
        from gradcalc.graph import Node

        if not isinstance(term, Term):
            return format_number(0.0 if term is None else term)
        if term.id < self.size:  # the local derivative is a node of the expression (c in ∂(c*d)/∂d)
            return self.graph.text(self.graph.nodes[term.id])
        nodes = self.builder.nodes
        needed, stack = {term.id}, [term.id]
        while stack:  # the appended nodes the term needs, down to the expression's own (its atoms)
            index = stack.pop()
            if index >= self.size:
                for child in nodes[index].inputs:
                    if child not in needed:
                        needed.add(child)
                        stack.append(child)
        ids = sorted(needed)
        new = {old: i for i, old in enumerate(ids)}
        small = [Node(new[old], nodes[old].layer, () if old < self.size else tuple(new[i] for i in nodes[old].inputs),
                      None, False) for old in ids]
        atoms = {new[old]: self._atom(old) for old in ids if old < self.size}
        try:
            return to_formula(Graph(self.graph.source, small, {}, {}, new[term.id]), atoms=atoms)
        except ValueError:  # an array operation's derivative (a spread, a mask) has no formula
            return None

    def _atom(self, index: int) -> str:
        """A node's own text, in parentheses unless it is a name, a number or one call."""
        text = self.atoms.get(index)
        if text is None:
            text = self.graph.text(self.graph.nodes[index])
            text = self.atoms[index] = f"({text})" if needs_parentheses(text) else text
        return text


def _names(graph: Graph, wrt) -> list:
    if not wrt:
        return sorted(graph.variables)
    unknown = [name for name in wrt if name not in graph.variables]
    if unknown:
        known = ", ".join(sorted(graph.variables)) or "none"
        raise UsageError(f"{unknown[0]}: the expression has no variable {unknown[0]}",
                         hint=f"its variables are: {known}")
    return list(dict.fromkeys(wrt))


def _check_order(order) -> None:
    if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= MAX_ORDER:
        raise naming_options(UsageError(f"order {order!r}: the order must be a whole number from 1 to {MAX_ORDER}"),
                             "{order2} for second derivatives")


def _prepare(graph: Graph, values) -> tuple:
    """(the graph with bound constants shadowed, the bound inputs, every node's value): the
    expression itself is evaluated first, so a point outside its domain is an error here, even
    where no derivative needs the node that leaves it (ln(x) at -1: its derivatives need 1/x only)."""
    if not isinstance(values, Mapping):
        raise UsageError(f"values must be a mapping of name: value, not {type(values).__name__}",
                         hint='hessian("x*y", {"x": 1, "y": 2})')
    graph = graph.shadow(values)
    inputs = bind(graph, values)
    return graph, inputs, forward(graph, inputs)


def _seeded(graph, builder, inputs, node_values, seed):
    """(inputs with the seed bound, the seed term): 1 for a scalar output, an input for arrays."""
    import numpy as np

    output = node_values[graph.output]
    if seed is not None:
        seed = _number("the seed gradient", seed)
        if np.shape(seed) != np.shape(output):
            raise seed_shape_error(np.shape(seed), np.shape(output))
    if not hasattr(output, "shape"):
        return inputs, 1.0 if seed is None else seed
    return {**inputs, _SEED: _ones_like(output) if seed is None else seed}, builder.input(_SEED)


def _direction(graph, inputs, direction) -> dict:
    import numpy as np

    if not isinstance(direction, Mapping):
        raise UsageError(f"a direction is a mapping of name: value, not {type(direction).__name__}",
                         hint='jvp("x*y", {"x": 2, "y": 3}, {"x": 1})')
    _names(graph, list(direction))
    checked = {}
    for name, value in direction.items():
        value = _number(f"the direction for {name}", value)
        if np.shape(value) != np.shape(inputs[name]):
            raise ShapeError(f"the direction for {name} has shape {np.shape(value)}, {name} has shape "
                             f"{np.shape(inputs[name])}", hint=f"give {name} a direction of its own shape")
        checked[name] = value
    return checked


def _along(builder, gradients: dict, direction: dict, inputs: dict, arrays: bool):
    """(the term <gradients, direction>, inputs with the direction bound)."""
    total = None
    for name, gradient in gradients.items():
        if gradient is None:
            continue
        key = f"@v_{name}"
        inputs = {**inputs, key: direction[name]}
        product = gradient * builder.input(key)
        if arrays:
            from gradcalc.symbolic import GraphOps

            product = GraphOps.sum(product)
        total = product if total is None else total + product
    return total, inputs


def _run(step, context, *arguments):
    """forward or backward over a derivative graph. `context` is (the expression's graph, its node
    values, each derivative node's origin, what is computed); an error names the expression's node
    whose derivative failed, with its inputs' values and a caret under its text."""
    try:
        return step(*arguments)
    except EvaluationError as error:
        graph, values, origins, what = context
        index = getattr(error, "node", None)
        origin = origins[index] if index is not None and index < len(origins) else None
        node = graph.nodes[graph.output if origin is None else origin]
        # an element of the derivative is one of the node's where it has the node's shape (node_error
        # shows the inputs' elements there only where the node is elementwise)
        at = getattr(error, "at", None)
        if at is not None and (origin is None or at[1] != getattr(values[node.id], "shape", ())):
            at = None
        raise node_error(graph, node, NonFiniteError, f"its {what} is not finite at this point", values, at=at,
                         hint="choose a point where the function is smooth") from None


def _elements(shape):
    if not shape:
        return [()]
    import numpy as np

    return list(np.ndindex(shape))


def _ones_like(value):
    import numpy as np

    return np.ones_like(value) if hasattr(value, "shape") else 1.0


def _zeros(inputs, names):
    import numpy as np

    shape = sum((np.shape(inputs[name]) for name in names), ())
    return np.zeros(shape) if shape else 0.0


def _nested(values_by_index: dict, names: list, order: int, inputs: dict, rowwise: bool = False) -> dict:
    """Every ordering of every sorted multi-index, as dicts `order` levels deep."""
    import numpy as np

    tree = {}
    for index in combinations_with_replacement(range(len(names)), order):
        value = values_by_index.get(index, 0.0)
        for ordering in set(permutations(range(order))):
            permuted = tuple(index[i] for i in ordering)
            entry = value
            if hasattr(value, "shape") and value.ndim and not rowwise:
                entry = _permute_blocks(value, [np.ndim(inputs[names[i]]) for i in index], ordering)
            level = tree
            for i in permuted[:-1]:
                level = level.setdefault(names[i], {})
            level[names[permuted[-1]]] = entry if hasattr(entry, "shape") else float(entry)
    return tree


def _permute_blocks(value, ndims: list, ordering) -> object:
    """A derivative block's axes reordered as its variables are (H[b][a] from H[a][b])."""
    starts = [sum(ndims[:i]) for i in range(len(ndims))]
    axes = [axis for i in ordering for axis in range(starts[i], starts[i] + ndims[i])]
    return value.transpose(axes)


def add_to_result(result, order: int = 1, want_jacobian: bool = False, jvp_direction=None,
                  hvp_direction=None, wrt=(), rowwise: bool = False) -> None:
    """Compute what the command line asked for beyond the gradient and keep it on `result`."""
    values = result.inputs
    if order > 1:
        result.derivatives = all_orders(result.graph, values, order, wrt, result.seed, rowwise)
    if want_jacobian:
        result.jacobian = jacobian(result.graph, values, wrt)
    if jvp_direction is not None:
        result.jvp = jvp(result.graph, values, jvp_direction)
    if hvp_direction is not None:
        result.hvp = hvp(result.graph, values, hvp_direction, result.seed)


def distinct(tree: dict, order: int, names=None):
    """(multi-index of names, value) for each distinct derivative of a nested dict, sorted
    multi-indices only: ∂²f/∂x∂y once, not again as ∂y∂x."""
    names = names or list(tree)
    for index in combinations_with_replacement(names, order):
        value = tree
        for name in index:
            value = value[name]
        yield index, value


def symbol(index: tuple) -> str:
    """∂³f/∂x²∂y for ('x', 'x', 'y')."""
    powers = {}
    for name in index:
        powers[name] = powers.get(name, 0) + 1
    order = len(index)
    below = "".join(f"∂{name}" + (_superscript(count) if count > 1 else "") for name, count in powers.items())
    return f"∂{_superscript(order) if order > 1 else ''}f/{below}"


def column(index: tuple) -> str:
    """d2_x_y: the CSV/TSV column of a derivative."""
    return f"d{len(index)}_" + "_".join(index)


def _superscript(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
