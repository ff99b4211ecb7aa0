"""Large expressions: parse, then forward+backward, for 1k, 10k and 100k-term sums of products.

    python bench/large.py [--repeat 11]

Reports ns/node, tokens/s (parse) and nodes/s (forward+backward), and the 100k/10k time ratio
(linear growth means about 10; target <= 12). Targets (issue 2): parse >= 130k tokens/s,
forward+backward >= 2M nodes/s.
"""

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import median_time  # noqa: E402

from gradcalc.evaluator import backward, bind, forward  # noqa: E402
from gradcalc.parser import Parser  # noqa: E402

TOKEN = re.compile(r"\d+\.?\d*|[^\W\d]\w*|\*\*|[-+*/^();=,]")


def expression(terms: int) -> str:
    return " + ".join(f"x{i % 1000}*{i % 7 + 1}" for i in range(terms))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11)
    repeat = parser.parse_args().repeat
    values = {f"x{i}": i / 1000 for i in range(1000)}
    print(f"{'terms':>8} {'nodes':>8} {'tokens':>8} {'parse ms':>9} {'tokens/s':>10} {'fwd+bwd ms':>10} "
          f"{'nodes/s':>10} {'ns/node':>8}")
    totals = {}
    for terms in (1_000, 10_000, 100_000):
        text = expression(terms)
        tokens = len(TOKEN.findall(text))
        parser = Parser()  # not the cached parse(): every run really parses
        graph = parser.parse(text)
        inputs = bind(graph, values)
        parse_time = median_time(lambda: parser.parse(text), repeat)

        def differentiate():
            backward(graph, forward(graph, inputs))

        eval_time = median_time(differentiate, repeat)
        nodes = len(graph.nodes)
        totals[terms] = parse_time + eval_time
        print(f"{terms:8d} {nodes:8d} {tokens:8d} {parse_time * 1e3:9.1f} {tokens / parse_time:10.0f} "
              f"{eval_time * 1e3:10.1f} {nodes / eval_time:10.0f} "
              f"{(parse_time + eval_time) / nodes * 1e9:8.0f}")
    print(f"time ratio 100k/10k (parse+fwd+bwd): {totals[100_000] / totals[10_000]:.1f} (linear = 10, target <= 12)")


if __name__ == "__main__":
    main()
