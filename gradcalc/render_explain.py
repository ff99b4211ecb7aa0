"""--explain as a table: one row per contribution, node by node from the output back, and for a
node that receives several the sum that makes its gradient."""

from itertools import groupby

from gradcalc.explain import derivative_text
from gradcalc.render_tables import Column, print_line, print_table


def print_explain(renderer, result, steps: list, line=None) -> None:
    """The chain-rule table of one result, numbers formatted as `renderer` formats them."""
    graph, number = result.graph, renderer.number
    columns = [Column("node", "left", "shorten"), Column("from", "left", "shorten"), Column("upstream"),
               Column("× local derivative", "left", "wrap"), Column("= contribution")]
    rows = []
    for receiver, group in groupby(steps, key=lambda step: step.node):
        group = list(group)
        for step in group:
            local = derivative_text(graph, step)
            if step.local_formula is not None:
                local += f" = {step.local_formula}"
            if step.local is not None and step.local_formula != number(step.local):
                local += f" = {number(step.local)}"
            rows.append([_label(graph, receiver), _label(graph, step.source), number(step.upstream), local,
                         number(step.contribution)])
        if len(group) > 1:  # a node used more than once: its gradient is the sum
            rows.append([_label(graph, receiver), "(sum)", "",
                         " + ".join(number(step.contribution) for step in group), number(result.grads[receiver])])
    where = f"line {line}: " if line is not None else ""
    output = _label(graph, graph.output)
    print_line(renderer.console, f"{where}the chain rule, from the output {output} back (its own gradient is "
                                 f"the seed, {number(result.grads[graph.output])})")
    print_table(renderer.console, columns, rows,
                caption="each use of a node contributes upstream × local; a node's gradient is the sum "
                        "of its contributions")


def _label(graph, node) -> str:
    node = graph.nodes[node] if isinstance(node, int) else node
    return f"#{node.id} {graph.label(node)}"
