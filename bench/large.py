"""Large expressions: parse, then forward+backward, for 1k, 10k and 100k-term sums of products.

    python bench/large.py [--repeat 11]

Reports ns/node, tokens/s (parse) and nodes/s (forward+backward), and the 100k/10k time ratio
(linear growth means about 10; target <= 12). Targets (issue 2): parse >= 130k tokens/s,
forward+backward >= 2M nodes/s.

Absolute speed on these machines drifts by 2x from minute to minute, so the same run also parses
with the reference the target came from: lark's LALR parser, its own (contextual) lexer and a
transformer that does nothing, the fastest any lark setup of this grammar with its standard lexer
gets. gradcalc's parse builds the whole graph and is compared with that, size by size.
Forward+backward is timed on a graph just evaluated once (caches warm, as in a batch or a loop).
"""

import argparse
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import median_time  # noqa: E402
from lark import Lark, Transformer  # noqa: E402

from gradcalc.evaluator import backward, bind, forward  # noqa: E402
from gradcalc.parser import Parser  # noqa: E402

TOKEN = re.compile(r"\d+\.?\d*|[^\W\d]\w*|\*\*|[-+*/^();=,]")


def expression(terms: int) -> str:
    return " + ".join(f"x{i % 1000}*{i % 7 + 1}" for i in range(terms))


class Discard(Transformer):
    """The cheapest transformer: every reduction returns None (no tree, no graph)."""

    def __default__(self, data, children, meta):
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11)
    repeat = parser.parse_args().repeat
    values = {f"x{i}": i / 1000 for i in range(1000)}
    sizes = (1_000, 10_000, 100_000)
    texts = {terms: expression(terms) for terms in sizes}
    parser = Parser()  # not the cached parse(): every run really parses
    graphs = {terms: parser.parse(texts[terms]) for terms in sizes}
    inputs = {terms: bind(graphs[terms], values) for terms in sizes}
    reference = Lark(parser._grammar, parser="lalr", transformer=Discard())
    parse_times = {terms: [] for terms in sizes}
    reference_times = {terms: [] for terms in sizes}
    eval_times = {terms: [] for terms in sizes}
    for _ in range(repeat):  # sizes interleaved: a slow spell of the machine hits all of them alike
        for terms in sizes:
            graph = graphs[terms]
            parse_times[terms].append(median_time(lambda: parser.parse(texts[terms]), 1))
            reference_times[terms].append(median_time(lambda: reference.parse(texts[terms]), 1))
            backward(graph, forward(graph, inputs[terms]))  # warm: timed is the repeated evaluation
            eval_times[terms].append(median_time(lambda: backward(graph, forward(graph, inputs[terms])), 1))
    print(f"median of {repeat} interleaved runs per size")
    print(f"{'terms':>8} {'nodes':>8} {'tokens':>8} {'parse ms':>9} {'tokens/s':>10} {'fwd+bwd ms':>10} "
          f"{'nodes/s':>10} {'ns/node':>8} {'lark tokens/s':>13} {'parse vs lark':>13}")
    totals = {}
    for terms in sizes:
        tokens, nodes = len(TOKEN.findall(texts[terms])), len(graphs[terms].nodes)
        parse_time, eval_time = statistics.median(parse_times[terms]), statistics.median(eval_times[terms])
        reference_time = statistics.median(reference_times[terms])
        speedup = statistics.median(r / p for r, p in zip(reference_times[terms], parse_times[terms]))
        totals[terms] = parse_time + eval_time
        print(f"{terms:8d} {nodes:8d} {tokens:8d} {parse_time * 1e3:9.1f} {tokens / parse_time:10.0f} "
              f"{eval_time * 1e3:10.1f} {nodes / eval_time:10.0f} "
              f"{(parse_time + eval_time) / nodes * 1e9:8.0f} {tokens / reference_time:13.0f} {speedup:12.2f}x")
    print(f"time ratio 100k/10k (parse+fwd+bwd): {totals[100_000] / totals[10_000]:.1f} (linear = 10, target <= 12)")


if __name__ == "__main__":
    main()
