"""The evaluated graph as a picture: Graphviz DOT text (-o dot), SVG or PNG drawn by Graphviz's
`dot` program (-o svg, -o png, --graph FILE), and a Rich tree in the terminal (-o tree, --tree).

Every box shows a node's text (or name), layer, value and gradient; every edge runs from an input
to the operation that uses it and is labelled with the gradient that use sends back, so a node used
twice shows where its gradient's two terms come from (x*x + x at x = 3: 3 + 3 + 1 = 7).
"""

import shutil
import subprocess

from gradcalc.checked_output import file_format, write_file, xml_escaped
from gradcalc.contributions import contributions
from gradcalc.errors import UsageError
from gradcalc.evaluator import Result
from gradcalc.formatting import format_number, shorten
from gradcalc.layers import Constant, Input
from gradcalc.render import Renderer

LABEL_LIMIT = 32  # characters of a node's text in a box: long expressions are cut in the middle
PICTURE_SUFFIXES = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}
GRAPHVIZ_HINT = ("install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz), "
                 "or write DOT text with -o dot, which needs nothing installed")


def number_text(value, precision=None) -> str:
    """A value for a label: a number, a small array inline, a large one by its shape."""
    if value is None:
        return "—"
    if not hasattr(value, "shape"):
        return format_number(value, precision)
    if value.size <= 6:
        return "[" + ", ".join(format_number(float(x), precision or 6) for x in value.ravel()) + "]"
    return f"array {'×'.join(map(str, value.shape))}"


def node_text(graph, node) -> str:
    """The node's names (if a statement gave it any) and its text, shortened for a box."""
    text = shorten(graph.source, *node.span, limit=LABEL_LIMIT)
    return " = ".join((*node.names, text)) if node.names else text


def to_dot(result: Result, precision=None, name: str = "gradcalc") -> str:
    """Graphviz DOT text of the evaluated graph, ranked left to right."""
    graph = result.graph
    title = _quote(_title(result, precision))
    lines = [f"digraph {_quote(name)} {{",
             f"  graph [rankdir=LR, ordering=in, labelloc=t, fontname=Helvetica, label={title}];",
             '  node [shape=box, style="rounded,filled", fillcolor=white, fontname=Helvetica, fontsize=11];',
             "  edge [fontname=Helvetica, fontsize=10, color=gray40];"]
    for node in graph.nodes:
        label = "\n".join((f"#{node.id}  {node_text(graph, node)}", type(node.layer).__name__,
                           f"value {number_text(result.values[node.id], precision)}",
                           f"grad {number_text(result.grads[node.id], precision)}"))
        lines.append(f"  n{node.id} [label={_quote(label)}{_node_style(graph, node)}];")
    for edge in sorted(contributions(result), key=lambda edge: (edge.source, edge.position)):
        label = "" if edge.contribution is None else f", label={_quote(number_text(edge.contribution, precision))}"
        lines.append(f'  n{edge.node} -> n{edge.source} [tooltip="input {edge.position} of #{edge.source}"{label}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _title(result: Result, precision) -> str:
    return (f"{shorten(result.expression, limit=60)} = {number_text(result.value, precision)}\n"
            "edge labels: the gradient each use sends back (a node's grad is their sum)")


def _node_style(graph, node) -> str:
    if isinstance(node.layer, Input):
        return ', fillcolor="#dbeafe"'
    if node.constant:
        return ', fillcolor="#eeeeee", fontcolor=gray30'
    if node.id == graph.output:
        return ', fillcolor="#fef3c7", penwidth=2'
    return ""


def _quote(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, line breaks as \\n."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render_dot(dot_text: str, picture_format: str) -> bytes:
    """SVG or PNG bytes drawn by Graphviz's `dot` program."""
    program = shutil.which("dot")
    if program is None:
        raise UsageError(f"-o {picture_format} needs Graphviz's `dot` program, which is not installed",
                         hint=GRAPHVIZ_HINT)
    try:
        done = subprocess.run([program, f"-T{picture_format}"], input=dot_text.encode("utf-8"),
                              capture_output=True, check=False)
    except OSError as error:
        raise UsageError(f"cannot run {program}: {error.strerror or error}", hint=GRAPHVIZ_HINT) from None
    if done.returncode != 0 or not done.stdout:
        reason = done.stderr.decode("utf-8", "replace").strip() or f"exit code {done.returncode}"
        raise UsageError(f"Graphviz's dot could not draw the graph: {reason}",
                         hint="write the DOT text with -o dot and draw it with your own Graphviz")
    return done.stdout


def picture_format(path: str, option: str = "--graph") -> str:
    """dot, svg or png, from the file name given to `option` (--graph, or the session's :graph)."""
    return file_format(path, option, PICTURE_SUFFIXES, hint=f"for example {option} graph.svg")


def write_picture(result: Result, path: str, precision=None, option: str = "--graph") -> None:
    """--graph FILE: the picture of one evaluated graph, in the format its name ends with."""
    kind = picture_format(path, option)
    text = to_dot(result, precision)
    write_file(path, text.encode("utf-8") if kind == "dot" else render_dot(text, kind))


class DotRenderer(Renderer):
    """-o dot: one digraph per job (a file of several graphs is still valid DOT)."""

    escape = staticmethod(xml_escaped)  # &#952;: Graphviz reads it back as θ

    def result(self, result, line):
        name = f"line {line}" if self.batch else "gradcalc"
        self.out.write(to_dot(result, self.precision, name))
        self.out.flush()


class PictureRenderer(Renderer):
    """-o svg / -o png: the picture drawn by Graphviz, written to stdout (one expression only)."""

    picture_format = "svg"
    escape = staticmethod(xml_escaped)  # SVG is XML

    def __init__(self, out, **options):
        super().__init__(out, **options)
        if self.batch:
            raise UsageError(f"-o {self.picture_format} draws one expression, not a batch",
                             hint="use -o dot for several (one digraph each), or one --graph FILE per run")
        if self.picture_format == "png" and out.isatty():
            raise UsageError("-o png writes binary data, not for a terminal",
                             hint="redirect it (> graph.png) or write it with --graph graph.png")

    def result(self, result, line):
        data = render_dot(to_dot(result, self.precision), self.picture_format)
        if self.picture_format == "svg":
            self.out.write(data.decode("utf-8"))
        else:
            self.out.flush()
            self.out.buffer.write(data)
            self.out.buffer.flush()


class PngRenderer(PictureRenderer):
    """-o png."""

    picture_format = "png"


class TreeRenderer(Renderer):
    """-o tree: the graph as a tree from the output down, value and gradient on every line; a node
    met again (a shared subexpression, a variable used twice) is referred to by its id."""

    def __init__(self, out, **options):
        super().__init__(out, **options)
        from gradcalc.render_text import console

        self.console = console(self.out, self.color)

    def result(self, result, line):
        title = shorten(result.expression)
        self.console.print(title if line is None or not self.batch else f"line {line}: {title}")
        for tree in self.trees(result):
            self.console.print(tree)

    def trees(self, result: Result) -> list:
        """The output's tree, then a tree for each node the output does not use (a statement left
        unused). Built with an explicit stack: no recursion, however deep the expression."""
        from rich.tree import Tree

        graph = result.graph
        drawn = [False] * len(graph.nodes)
        roots = []
        for top in (graph.output, *reversed(range(len(graph.nodes)))):
            if drawn[top]:
                continue
            root = Tree(self._line(result, graph.nodes[top]), guide_style="dim")
            drawn[top] = True
            stack = [(index, root) for index in reversed(graph.nodes[top].inputs)]
            while stack:
                index, parent = stack.pop()
                node = graph.nodes[index]
                if drawn[index]:
                    parent.add(f"[dim]#{index} {_escape(node_text(graph, node))} (shown above)[/dim]")
                    continue
                drawn[index] = True
                branch = parent.add(self._line(result, node))
                stack.extend((child, branch) for child in reversed(node.inputs))
            roots.append(root)
        for root in roots[1:]:
            root.label = "[dim](not used by the output)[/dim] " + root.label
        return roots

    def _line(self, result, node) -> str:
        graph = result.graph
        kind = "" if isinstance(node.layer, (Input, Constant)) else f" [dim]{type(node.layer).__name__}[/dim]"
        value = self.number(result.values[node.id])
        grad = result.grads[node.id]
        gradient = "" if grad is None else f"  grad = [bold]{_escape(self.number(grad))}[/bold]"
        return (f"[dim]#{node.id}[/dim] [bold]{_escape(node_text(graph, node))}[/bold]{kind}"
                f"  value = {_escape(value)}{gradient}")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


class PictureFile:
    """--graph FILE: another renderer's output on stdout, and the picture of the job in FILE."""

    def __init__(self, inner: Renderer, path: str):
        picture_format(path)  # a bad file name is an error before anything is evaluated
        if inner.batch:
            raise UsageError("--graph draws one expression, not a batch",
                             hint="use -o dot for several (one digraph each)")
        self.inner, self.path = inner, path

    def result(self, result, line):
        self.inner.result(result, line)
        write_picture(result, self.path, self.inner.precision)

    def error(self, error, expression, line):
        return self.inner.error(error, expression, line)

    def close(self):
        self.inner.close()


RENDERERS = {"dot": DotRenderer, "svg": PictureRenderer, "png": PngRenderer, "tree": TreeRenderer}
