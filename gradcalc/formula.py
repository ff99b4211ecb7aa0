"""A graph as a formula: gradcalc's own syntax (which parses back to the same values) or LaTeX.

A node used more than once becomes a statement `t1 = ...;`, so the text grows with the number of
nodes, never exponentially; everything else is written inline with as few parentheses as the
grammar's precedences allow. One loop over the nodes in creation order, no recursion.
"""

from gradcalc.formatting import format_number
from gradcalc.graph import Graph
from gradcalc.layers import REGISTRY, Constant, Input, NamedConstant, Negate, Power
from gradcalc.shape_layers import Index, Stack, key_text

_NAMES = {}
for _name, _layer in REGISTRY.items():
    _NAMES.setdefault(_layer, _name)  # the first name wins: Ln prints as ln, not log
    if _layer.wider is not None:
        _NAMES[_layer.wider] = _name  # the last name: LogBase prints as log(x, base)

# precedence of what a node prints as: higher binds tighter
_SUM, _PRODUCT, _UNARY, _POWER, _ATOM = 1, 2, 3, 4, 5
_BINARY = {"+": _SUM, "-": _SUM, "*": _PRODUCT, "/": _PRODUCT, "@": _PRODUCT, "%": _PRODUCT, "**": _POWER}

_LATEX_FUNCTIONS = {"exp": r"\exp", "ln": r"\ln", "sin": r"\sin", "cos": r"\cos", "tanh": r"\tanh",
                    "sigmoid": r"\sigma", "sign": r"\operatorname{sgn}", "step": r"\theta"}


def to_text(graph: Graph) -> str:
    """Text that parses back to `graph`'s values and variables: every variable and operation kept,
    an unused one as a statement of its own (an unused constant would bind a new input: dropped)."""
    return to_formula(graph, keep_unused=True)


def to_formula(graph: Graph, latex: bool = False, atoms: dict | None = None, keep_unused: bool = False) -> str:
    """The output of `graph` as text; `atoms` names nodes to print as given (no statements then)."""
    uses = [0] * len(graph.nodes)
    for node in graph.nodes:
        for index in node.inputs:
            uses[index] += 1
    taken = set(graph.variables)
    counter, statements = 0, []
    if atoms is None:
        statements = [_statement(name, _binding(graph, name, value, latex), latex)
                      for name, value in graph.bindings.items()]
    texts = [("", _ATOM)] * len(graph.nodes)
    last = len(graph.nodes) if keep_unused else graph.output + 1
    for node in graph.nodes[:last]:
        if atoms is not None and node.id in atoms:
            texts[node.id] = (atoms[node.id], _ATOM)
            continue
        text = _node_text(node, [texts[i] for i in node.inputs], latex)
        unused = keep_unused and not uses[node.id] and node.id != graph.output and not isinstance(node.layer, Constant)
        if atoms is None and node.id != graph.output and (unused or (uses[node.id] > 1 and node.inputs)):
            counter += 1
            while f"t{counter}" in taken:
                counter += 1
            name = f"t_{{{counter}}}" if latex else f"t{counter}"
            statements.append(_statement(name, str(text[0]), latex))
            text = (name, _ATOM)
        texts[node.id] = text
        for index in node.inputs:  # a text used once is inside its user's now: let it go
            if uses[index] == 1 and index != graph.output:
                texts[index] = None
    output = str(texts[graph.output][0])
    if not statements:
        return output
    return (r" \\ ".join(statements) + r" \\ " + output) if latex else "; ".join([*statements, output])


def _binding(graph: Graph, name: str, value: float, latex: bool) -> str:
    """`a = 3` or, with a standard uncertainty bound on the line, `a = 3 ± 0.1`."""
    number = format_number  # integral values without '.0'; others at full precision (repr)
    text = number(value)
    if name in graph.sigmas:
        text += (r" \pm " if latex else " ± ") + number(graph.sigmas[name])
    return text


def _statement(name: str, text: str, latex: bool) -> str:
    return f"{name} = {text}"


def _node_text(node, operands: list, latex: bool) -> tuple[str, int]:
    layer = node.layer
    if isinstance(layer, Input):
        return (_latex_name(layer.name) if latex else layer.name), _ATOM
    if isinstance(layer, NamedConstant):
        return (r"\pi" if latex and layer.name == "pi" else layer.name), _ATOM
    if isinstance(layer, Constant):
        text = format_number(layer.value)
        return text, (_UNARY if layer.value < 0 else _ATOM)
    if layer.internal:
        raise ValueError(f"{type(layer).__name__} has no formula")  # array derivatives: callers refuse first
    if isinstance(layer, Negate):
        (operand, level), = operands
        return _Rope("-", _wrap(operand, level < _UNARY or _first(operand) == "-", latex)), _UNARY
    if layer.symbol:
        (left, left_level), (right, right_level) = operands
        level = _BINARY[layer.symbol]
        if isinstance(layer, Power):
            base = _wrap(left, left_level <= _POWER, latex)
            exponent = right if latex else _wrap(right, right_level < _UNARY, latex)
            return (_Rope("{", base, "}^{", exponent, "}") if latex else _Rope(base, "^", exponent)), _POWER
        if latex and layer.symbol == "/":
            return _Rope(r"\frac{", left, "}{", right, "}"), _ATOM
        left = _wrap(left, left_level < level, latex)
        right = _wrap(right, right_level <= level or _first(right) == "-", latex)
        latex_symbols = {"*": r" \cdot ", "@": r" \cdot ", "%": r" \bmod "}
        symbol = latex_symbols.get(layer.symbol, f" {layer.symbol} ") if latex else (
            layer.symbol if level == _PRODUCT else f" {layer.symbol} ")
        return _Rope(left, symbol, right), level
    if isinstance(layer, Index):
        (operand, level), = operands
        return _Rope(_wrap(operand, level < _ATOM, latex), "[", key_text(layer.key), "]"), _ATOM
    name = _NAMES[type(layer)]
    arguments = [text for text, _ in operands] + _parameters(layer)
    listed = [piece for index, argument in enumerate(arguments) for piece in ((", ",) if index else ()) + (argument,)]
    if isinstance(layer, Stack) and layer.axis == 0:
        return _Rope("[", *listed, "]"), _ATOM  # [x, y]: the literal (axis 0, the default, not written)
    if not latex:
        return _Rope(name, "(", *listed, ")"), _ATOM
    if name == "sqrt":
        return _Rope(r"\sqrt{", arguments[0], "}"), _ATOM
    if name == "abs":
        return _Rope(r"\left|", arguments[0], r"\right|"), _ATOM
    function = _LATEX_FUNCTIONS.get(name, rf"\operatorname{{{name}}}")
    return _Rope(function, r"\left(", *listed, r"\right)"), _ATOM


def _parameters(layer) -> list:
    """The parameters that differ from their defaults, as a call writes them: the first by
    position (sum(x, 1), leaky_relu(x, 0.2)), the others, and all of a variadic layer's, by keyword."""
    defaults = type(layer)().parameters()
    texts = []
    for position, (key, value, default) in enumerate(zip(layer.params, layer.parameters(), defaults)):
        if value == default:
            continue
        text = _parameter(value)
        texts.append(text if position == 0 and layer.arity >= 0 else f"{key}={text}")
    return texts


def _parameter(value) -> str:
    """A parameter as written in a call: 1, 0.2, a shape [2, 3], keepdims 1."""
    if isinstance(value, bool):
        return str(int(value))
    return f"[{', '.join(map(str, value))}]" if isinstance(value, tuple) else str(value)


def _wrap(text, needed: bool, latex: bool):
    if not needed:
        return text
    return _Rope(r"\left(", text, r"\right)") if latex else _Rope("(", text, ")")


class _Rope:
    """Text made of pieces (strings and other ropes), joined once at the end: a node's text holds
    its operands' texts without copying them, so printing stays linear in the output's length."""

    __slots__ = ("parts", "first")

    def __init__(self, *parts):
        self.parts = parts
        self.first = _first(parts[0]) if parts else ""

    def __str__(self) -> str:
        pieces, stack = [], [iter(self.parts)]
        while stack:  # depth-first without recursion: a chain of 100,000 sums is 100,000 deep
            part = next(stack[-1], None)
            if part is None:
                stack.pop()
            elif isinstance(part, _Rope):
                stack.append(iter(part.parts))
            else:
                pieces.append(part)
        return "".join(pieces)


def _first(text) -> str:
    return text.first if isinstance(text, _Rope) else text[:1]


def _latex_name(name: str) -> str:
    head, _, tail = name.partition("_")
    head = head if len(head) == 1 else rf"\mathrm{{{head}}}"
    return f"{head}_{{{tail}}}" if tail else head
