"""Print how close first-order uncertainty propagation is to Monte Carlo sampling (the README's table).

Not part of the suite; tests/test_uncertainty.py checks the same cases with fewer samples.
    python tests/reference/uncertainty_mc.py
"""

import math
import sys
from pathlib import Path

import numpy as np

for folder in Path(__file__).resolve().parents[1:3]:  # tests/ for the cases, the checkout for gradcalc
    sys.path.insert(0, str(folder))
from test_uncertainty import MONTE_CARLO, exact_sigma  # noqa: E402

from gradcalc import evaluate  # noqa: E402
from gradcalc.uncertainty import propagate  # noqa: E402

SAMPLES = 1_000_000

print(f"{'expression':<16} {'point':<22} {'first order':>12} {'Monte Carlo':>12} {'exact':>12} {'first/MC - 1':>13}")
for text, point, sigmas, _ in MONTE_CARLO:
    result = evaluate(text, **point)
    first = propagate(result.value, result.gradients, result.inputs, sigmas).sigma
    rng = np.random.default_rng(1)
    sampled = evaluate(text, **{n: rng.normal(point[n], sigmas[n], SAMPLES) for n in point}).value
    monte_carlo = float(np.std(sampled, ddof=1))
    exact = exact_sigma(text, point, sigmas)
    where = ", ".join(f"{n}={point[n]}±{sigmas[n]}" for n in point)
    exact_text = "" if exact is None else f"{exact:.6g}"
    print(f"{text:<16} {where:<22} {first:>12.6g} {monte_carlo:>12.6g} {exact_text:>12} "
          f"{first / monte_carlo - 1:>+13.2%}   (MC standard error {1 / math.sqrt(2 * SAMPLES):.2%})")
