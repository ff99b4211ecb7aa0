"""--check with --order 2: each second derivative against adaptive central differences of the
reverse-mode gradient, with the verdicts of the first-order check (ok, kink, unreliable, mismatch).

Moving one variable (or one element of an array) by ±h and running forward and backward gives the
whole gradient at x ± h; finite_differences.derivative takes it as a vector, so one set of
stencils checks a row of the Hessian. The stencils are refused exactly where the first-order
check refuses them (domain, poles, local scale, kinks: check.Watch decides), and rows are named as
the CSV columns are: d2_x_y.
"""

import math

from gradcalc.check import RESOLUTION, SAFETY, CheckReport, VariableCheck, Watch, coordinates
from gradcalc.evaluator import backward
from gradcalc.finite_differences import EPS, derivative


def hessian_check(result, names=None) -> CheckReport:
    """Check every distinct ∂²/∂a∂b of `result.derivatives[2]` for the variables `names`."""
    import numpy as np

    names = list(names or result.gradients)
    hessian = result.derivatives[2]
    watch = Watch(result)
    points = [(name, label, index) for name in names for label, index in coordinates(name, result.inputs[name])]
    center = _flat(np, [result.grads[result.graph.variables[name]] for name in names])
    rows = []
    for position, (moved, label, index) in enumerate(points):
        x = result.inputs[moved] if index is None else float(result.inputs[moved][index])
        differences = derivative(_stencil(np, watch, result, names, moved, index, x), x, center,
                                 enough=RESOLUTION / SAFETY / 1000)
        for component, (name, other, other_index) in enumerate(points):
            if component > position:
                break  # the Hessian is symmetric: each pair once, as the CSV columns are
            block = hessian[name][moved]
            analytic = float(np.asarray(block)[(other_index or ()) + (index or ())])
            rows.append(_judge(f"d2_{other}_{label}", analytic, differences, component, x))
    return CheckReport(tuple(rows))


def _stencil(np, watch, result, names, moved, index, x):
    """stencil(h) for finite_differences.derivative: every reported gradient at x ± h."""
    def gradient_at(value):
        values = watch.values_at(moved, index, value)
        grads = backward(watch.graph, values, result.seed, wrt=names)  # as reported: --wrt's only
        return values, _flat(np, [grads[watch.graph.variables[name]] if name in watch.graph.variables
                                  else np.zeros(np.shape(result.inputs[name])) for name in names])

    def stencil(h):
        plus, minus = x + h, x - h
        at_plus, g_plus = gradient_at(plus)
        at_minus, g_minus = gradient_at(minus)
        if watch.scalar:
            at_plus, at_minus = np.array(at_plus, dtype=float), np.array(at_minus, dtype=float)
        watch.refuse(at_plus, at_minus)
        # a gradient rounds at every operation it passes through: ε per node, times its size
        noise = 4 * EPS * len(watch.graph.nodes) * (np.abs(g_plus) + np.abs(g_minus))
        return tuple(g_plus), tuple(g_minus), plus - x, x - minus, tuple(noise)

    return stencil


def _flat(np, gradients) -> list:
    return [float(v) for g in gradients for v in np.ravel(np.asarray(g, dtype=float))]


def _judge(label, analytic: float, differences, component: int, x: float) -> VariableCheck:
    estimate = differences.estimates[component]
    numeric = estimate.value
    if differences.kink is not None:
        return _row(label, analytic, None, "kink", f"{differences.kink.reason} next to this point")
    if not estimate.converged or numeric is None:
        return _row(label, analytic, numeric, "unreliable",
                    "the differences of the gradient do not converge as the step shrinks"
                    + (f": {differences.refused.reason}" if differences.refused is not None else ""))
    difference, size = abs(analytic - numeric), max(abs(analytic), abs(numeric))
    found = f"differences of the gradient give {numeric!r} ± {estimate.error:.2g}"
    if difference > SAFETY * estimate.error + 8 * EPS * size:
        return _row(label, analytic, numeric, "mismatch", found)
    if difference and SAFETY * estimate.error > RESOLUTION * size:
        return _row(label, analytic, numeric, "unreliable", f"{found}: too coarse to tell a wrong derivative "
                                                             "from a right one")
    return _row(label, analytic, numeric, "ok", "")


def _row(label, analytic, numeric, verdict, note) -> VariableCheck:
    if numeric is None or not math.isfinite(numeric):
        return VariableCheck(label, analytic, numeric, None, None, verdict, note.replace("{x}", label))
    abs_error = abs(analytic - numeric)
    return VariableCheck(label, analytic, numeric, abs_error, abs_error / max(abs(analytic), abs(numeric), 1e-300),
                         verdict, note.replace("{x}", label))
