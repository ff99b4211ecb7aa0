"""Graph -> text that parses back to the same graph values: the line's bindings first, every
operation used more than once (and every node nothing uses) as a temporary statement, the
output last. One loop, no recursion."""

from gradcalc.graph import Graph
from gradcalc.layers import REGISTRY, Constant, Input

_FUNCTION_NAMES = {}
for _name, _layer in REGISTRY.items():
    _FUNCTION_NAMES.setdefault(_layer, _name)  # the first name wins: Ln prints as ln, not log


def to_text(graph: Graph) -> str:
    """Statements that rebuild `graph`, fully parenthesised."""
    uses = [0] * len(graph.nodes)
    for node in graph.nodes:
        for index in node.inputs:
            uses[index] += 1
    prefix = "_t"
    while any(name.startswith(prefix) for name in graph.variables):
        prefix = "_" + prefix
    statements = [f"{name} = {_number(value)}" + (f" ± {_number(graph.sigmas[name])}" if name in graph.sigmas else "")
                  for name, value in graph.bindings.items()]
    texts = [""] * len(graph.nodes)
    for node in graph.nodes:
        layer = node.layer
        operands = [texts[index] for index in node.inputs]
        if isinstance(layer, Input):
            text = layer.name
        elif isinstance(layer, Constant):
            text = _number(layer.value)
        elif layer.symbol and len(operands) == 2:
            text = f"({operands[0]} {layer.symbol} {operands[1]})"
        elif layer.symbol:
            text = f"({layer.symbol}{operands[0]})"
        else:
            if getattr(layer, "axis", None) is not None:
                operands.append(str(layer.axis))
            text = f"{_FUNCTION_NAMES[type(layer)]}({', '.join(operands)})"
        # unused: keep variables and statements (an unused constant would bind a new input)
        unused = uses[node.id] == 0 and node.id != graph.output and not isinstance(layer, Constant)
        if (uses[node.id] > 1 and node.inputs) or unused:
            temporary = f"{prefix}{len(statements)}"
            statements.append(f"{temporary} = {text}")
            text = temporary
        texts[node.id] = text
    statements.append(texts[graph.output])
    return "; ".join(statements)


def _number(value: float) -> str:
    text = repr(value) if value == value and abs(value) != float("inf") else "1e999"
    if value < 0:
        text = "-1e999" if value == float("-inf") else text
        return f"({text})"
    return text
