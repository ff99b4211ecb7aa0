"""--explain: the chain rule step by step. For every node, from the output back, each use of it
contributes upstream × local — the gradient of the operation that uses it, times that operation's
derivative with respect to it — and the contributions to a node add up to its gradient.

The local derivative is given twice: as a number (the operation's backward rule run with an upstream
gradient of 1) and as a formula over the texts of the nodes involved (the same rule run on graph
terms, gradcalc.higher_order.LocalFormulas). The contribution is the rule run with the real upstream
gradient, exactly what backward added, so the contributions sum to the gradient the evaluator
reports; upstream × local equals it up to rounding.
"""

import math
from dataclasses import dataclass

from gradcalc.contributions import contributions, sent_back
from gradcalc.evaluator import Result, uses_arrays
from gradcalc.formatting import needs_parentheses


@dataclass(frozen=True, slots=True)
class Step:
    """One contribution: operation `source` sends upstream × local back to its input `node`."""

    node: int
    source: int
    position: int  # which input of `source` `node` is
    upstream: object  # ∂output/∂source
    local: float | None  # ∂source/∂node at this point (None where a value is an array: a Jacobian)
    local_formula: str | None  # the same in gradcalc syntax (None where there is no formula)
    contribution: object  # upstream × local: what this use adds to ∂output/∂node

    def to_dict(self) -> dict:
        """The JSON record: {"node", "from", "upstream", "local", "local_formula", "contribution"}."""
        return {"node": self.node, "from": self.source, "upstream": _plain(self.upstream),
                "local": _plain(self.local), "local_formula": self.local_formula,
                "contribution": _plain(self.contribution)}


def explain(result: Result) -> list[Step]:
    """The steps that make each gradient: nodes the output depends on, from the output back (by
    decreasing id, so every upstream gradient is explained before it is used), each with the
    contributions of its uses in backward order. Constants take no gradient and have no steps."""
    from gradcalc.higher_order import LocalFormulas

    graph, values = result.graph, result.values
    arrays = uses_arrays(graph, result.inputs)
    used = graph.used_by_output
    formulas = LocalFormulas(graph)
    local_cache = {}
    received = {}
    for edge in contributions(result):
        if edge.contribution is None or not used[edge.source]:
            continue
        if edge.source not in local_cache:
            node = graph.nodes[edge.source]
            local_cache[edge.source] = (_local_numbers(node, values, arrays), formulas.of(node))
        numbers, texts = local_cache[edge.source]
        step = Step(edge.node, edge.source, edge.position, edge.upstream, numbers[edge.position],
                    texts[edge.position], edge.contribution)
        received.setdefault(edge.node, []).append(step)
    return [step for index in sorted(received, reverse=True) for step in received[index]]


def _local_numbers(node, values: list, arrays: bool) -> tuple:
    """∂node/∂input for each input: the backward rule run with an upstream gradient of 1, as the
    evaluator ran it (numpy's rules where the graph went through numpy: an array anywhere, or an
    operation such as clip that only numpy evaluates). A number wherever the operation and its
    inputs are numbers; None where one is an array (the local derivative is then a Jacobian)."""
    if not arrays:
        return sent_back(node, 1.0, values, False)
    if not all(_is_number(values[index]) for index in (node.id, *node.inputs)):
        return (None,) * len(node.inputs)
    return tuple(None if number is None else float(number) for number in sent_back(node, 1.0, values, True))


def _is_number(value) -> bool:
    return not hasattr(value, "shape") or value.shape == ()


def derivative_text(graph, step: Step) -> str:
    """∂(c*d)/∂c: the operation's text over its input's."""
    return f"∂{_operand(graph.text(graph.nodes[step.source]))}/∂{_operand(graph.text(graph.nodes[step.node]))}"


def _operand(text: str) -> str:
    return f"({text})" if needs_parentheses(text) else text


def _plain(value):
    """A JSON value: arrays as nested lists; a non-finite number (an infinite local slope) as null."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
