"""--check: each variable's reverse-mode derivative against central finite differences.

The step is scaled to the value (h = eps**(1/3) * max(1, |x|), as torch.autograd.gradcheck scales
its eps). Where x ± h crosses a kink — the input of a relu or abs changes sign or touches 0 — the
finite difference straddles two slopes, so the verdict is "kink", naming the node, not a failure.
"""

import math
from dataclasses import dataclass

from gradcalc.errors import EvaluationError
from gradcalc.evaluator import Result, forward

STEP = 6.055e-6  # ~ cube root of the double epsilon: balances truncation and rounding error
RTOL = 1e-5


@dataclass(frozen=True, slots=True)
class VariableCheck:
    """One variable's analytic and numeric derivative and what they say together."""

    name: str
    analytic: float
    numeric: float | None
    abs_error: float | None
    rel_error: float | None
    verdict: str  # ok | mismatch | kink | undefined
    note: str = ""

    def to_dict(self) -> dict:
        record = {"analytic": self.analytic, "numeric": self.numeric, "abs_error": self.abs_error,
                  "rel_error": self.rel_error, "verdict": self.verdict}
        if self.note:
            record["note"] = self.note
        return record


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The check of every variable of one result."""

    rows: tuple[VariableCheck, ...]

    @property
    def passed(self) -> bool:
        return all(row.verdict != "mismatch" for row in self.rows)

    def token(self) -> str:
        """The summary as one word for plain output: ok, kink:x, mismatch:x,y."""
        failed = [row.name for row in self.rows if row.verdict == "mismatch"]
        kinks = [row.name for row in self.rows if row.verdict == "kink"]
        if failed:
            return "mismatch:" + ",".join(failed)
        return "kink:" + ",".join(kinks) if kinks else "ok"

    def summary(self) -> str:
        failed = [row.name for row in self.rows if row.verdict == "mismatch"]
        if failed:
            return "mismatch: " + ", ".join(failed)
        kinks = [row.name for row in self.rows if row.verdict == "kink"]
        return "ok" + (f" (kink: {', '.join(kinks)})" if kinks else "")


MAX_ELEMENTS = 1000  # an array variable larger than this is checked at evenly spaced elements


def gradient_check(result: Result, names=None) -> CheckReport:
    """Check ∂output/∂name for `names` (default: every variable) by central differences; an array
    variable is checked element by element (each row named like x[0,1]). For an array output the
    checked quantity is the one backward differentiates: sum(seed * output), seed ones by default."""
    kinks = [node for node in result.graph.nodes if node.layer.kink]
    rows = [_check_one(result, kinks, name, index, label)
            for name in names or result.gradients
            for label, index in _coordinates(name, result.inputs[name])]
    return CheckReport(tuple(rows))


def _coordinates(name: str, value):
    """(label, index) of each element to check: (name, None) for a scalar."""
    if not hasattr(value, "shape"):
        return [(name, None)]
    indices = [index for index in _ndindex(value.shape)]
    if len(indices) > MAX_ELEMENTS:
        step = len(indices) / MAX_ELEMENTS
        indices = [indices[int(i * step)] for i in range(MAX_ELEMENTS)]
    return [(f"{name}[{','.join(map(str, index))}]", index) for index in indices]


def _ndindex(shape):
    from numpy import ndindex

    return ndindex(shape)


def _check_one(result: Result, kinks, name: str, index, label: str) -> VariableCheck:
    graph = result.graph
    x = result.inputs[name] if index is None else float(result.inputs[name][index])
    analytic = result.gradients[name] if index is None else float(result.gradients[name][index])
    h, plus, minus, edge = _neighbours(result, name, index, x)
    if plus is None and minus is None:
        return VariableCheck(label, analytic, None, None, None, "undefined",
                             "no neighbouring point is inside the domain")
    crossed = _crossed_kink(result, kinks, plus, minus)
    center = _objective(result, result.values)
    f_plus = None if plus is None else _objective(result, plus)
    f_minus = None if minus is None else _objective(result, minus)
    if plus is not None and minus is not None:
        numeric = (f_plus - f_minus) / (2 * h)
        rtol, note = RTOL, ("step shrunk to h = %.3g near the edge of the domain" % h) if edge else ""
    else:  # one side leaves the domain: a one-sided difference, accurate to O(h)
        numeric = (f_plus - center) / h if plus is not None else (center - f_minus) / h
        rtol, note = 1e-3, "one-sided difference (the other side leaves the domain)"
    scale = max(abs(center), *(abs(f) for f in (f_plus, f_minus) if f is not None))
    atol = 1e-8 + 64 * 2.2e-16 * scale / h  # the rounding error a difference quotient can carry
    abs_error = abs(analytic - numeric)
    rel_error = abs_error / max(abs(analytic), abs(numeric), 1e-300)
    if crossed is not None:
        verdict = "kink"
        note = f"{graph.text(crossed)} changes slope within one step of this point"
    elif abs_error <= atol + rtol * max(abs(analytic), abs(numeric)):
        verdict = "ok"
    else:
        verdict = "mismatch"
    return VariableCheck(label, analytic, numeric, abs_error, rel_error, verdict, note)


def _objective(result: Result, values: list) -> float:
    """The scalar whose gradient backward computed: the output, or sum(seed * output)."""
    output = values[result.graph.output]
    if not hasattr(output, "shape"):
        return float(output)
    import numpy as np

    seed = 1.0 if result.seed is None else result.seed
    with np.errstate(all="ignore"):  # an overflowing sum is judged like any other number
        return float((seed * output).sum())


def _neighbours(result: Result, name: str, index, x: float):
    """(h, values at x + h, values at x - h, whether h had to shrink). Near the edge of a domain
    (ln at 1e-7) the step shrinks until both sides are inside, then 1000 times more, so that the
    difference quotient sees the function's slope, not its curvature towards the edge."""
    h = STEP * max(1.0, abs(x))
    plus, minus = _evaluate(result, name, index, x + h), _evaluate(result, name, index, x - h)
    if plus is not None and minus is not None:
        return h, plus, minus, False
    for _ in range(15):
        h /= 10
        inner_plus, inner_minus = _evaluate(result, name, index, x + h), _evaluate(result, name, index, x - h)
        if inner_plus is not None and inner_minus is not None:
            fine = h / 1000
            fine_plus = _evaluate(result, name, index, x + fine)
            fine_minus = _evaluate(result, name, index, x - fine)
            if fine_plus is not None and fine_minus is not None and x + fine != x - fine:
                return fine, fine_plus, fine_minus, True
            return h, inner_plus, inner_minus, True
    return STEP * max(1.0, abs(x)), plus, minus, False


def _evaluate(result: Result, name: str, index, value: float) -> list | None:
    """Every node's value with one input (or one element of it) moved; None outside the domain."""
    if not math.isfinite(value):
        return None
    moved = value
    if index is not None:
        moved = result.inputs[name].copy()
        moved[index] = value
    try:
        return forward(result.graph, {**result.inputs, name: moved})
    except EvaluationError:
        return None


def _crossed_kink(result: Result, kinks, plus, minus):
    """The first kink node whose input the move reaches and that changes slope between x - h, x
    and x + h: a relu/abs input touching or crossing 0, or a max/min whose winners change or tie."""
    for node in kinks:
        (index,) = node.inputs
        seen = [v[index] for v in (result.values, plus, minus) if v is not None]
        if hasattr(node.layer, "pick"):
            if _winners_change(node.layer, seen):
                return node
        elif _sign_changes(seen):
            return node
    return None


def _sign_changes(seen) -> bool:
    if not any(hasattr(v, "shape") for v in seen):
        if len(set(seen)) == 1:
            return False  # this variable does not move the kink's input
        signs = {math.copysign(1, v) if v else 0 for v in seen}
        return 0 in signs or len(signs) > 1
    import numpy as np

    stack = np.array(seen)
    moved = np.any(stack != stack[0], axis=0)
    signs = np.sign(stack)
    return bool(np.any(moved & (np.any(signs == 0, axis=0) | np.any(signs != signs[0], axis=0))))


def _winners_change(layer, seen) -> bool:
    """Whether the elements that win the max/min (ties included) differ between the points."""
    import numpy as np

    pick = getattr(np, layer.pick)
    winners = [np.asarray(v) == pick(v, axis=layer.axis, keepdims=True) for v in seen]
    return any(np.any(w != winners[0]) for w in winners[1:])
