"""--explain as a table: one row per contribution, node by node from the output back, and for a
node that receives several the sum that makes its gradient."""

from itertools import groupby

from gradcalc.explain import derivative_text
from gradcalc.formatting import cell_width, shorten
from gradcalc.render_tables import Column, print_table
from gradcalc.render_text import print_prose

READABLE = 7  # a label's text is cut to no fewer characters ("rel…x^y"), else shown by its id alone


def print_explain(renderer, result, steps: list, line=None) -> None:
    """The chain-rule table of one result, numbers formatted as `renderer` formats them."""
    graph, number = result.graph, renderer.number
    columns = [Column("node", "left", "shorten", _cut_label), Column("from", "left", "shorten", _cut_label),
               Column("upstream"),
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
            rows.append([_label(graph, receiver), _label(graph, step.source), step.upstream, local,
                         step.contribution])
        if len(group) > 1:  # a node used more than once: its gradient is the sum
            rows.append([_label(graph, receiver), "sum", "",  # not "(sum)": its column one narrower
                         " + ".join(number(step.contribution) for step in group), result.grads[receiver]])
    where = f"line {line}: " if line is not None else ""
    output = _label(graph, graph.output)
    print_prose(renderer.console, f"{where}the chain rule, from the output {output} (its gradient: the seed, "
                                  f"{number(result.grads[graph.output])}) back")
    print_table(renderer.console, columns, rows, number=renderer.number,  # arrays wrapped to fit
                caption="each use of a node contributes upstream × local; a node's gradient is their sum")


def _cut_label(label: str, width: int) -> str:
    """'#4 relu(x)*abs(y)' within `width`: its id whole, its text cut in the middle while enough of
    it is left to read ('#4 rel…s(y)'), else the id alone ('#4'; the row's ∂(from)/∂(node) spells
    both nodes in full, and the node table pairs ids with texts)."""
    if cell_width(label) <= width:
        return label
    node, _, text = label.partition(" ")
    room = width - cell_width(node) - 1
    return f"{node} {shorten(text, limit=room)}" if room >= READABLE else node


def _label(graph, node) -> str:
    node = graph.nodes[node] if isinstance(node, int) else node
    return f"#{node.id} {graph.label(node)}"
