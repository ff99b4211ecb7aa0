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


def gradient_check(result: Result, names=None) -> CheckReport:
    """Check ∂output/∂name for `names` (default: every variable) by central differences."""
    graph = result.graph
    kinks = [node for node in graph.nodes if getattr(node.layer, "kink", False)]
    rows = []
    for name in names or result.gradients:
        x = result.inputs[name]
        h, plus, minus, edge = _neighbours(result, name, x)
        analytic = result.gradients[name]
        crossed = _crossed_kink(result, kinks, plus, minus)
        if plus is None and minus is None:
            rows.append(VariableCheck(name, analytic, None, None, None, "undefined",
                                      "no neighbouring point is inside the domain"))
            continue
        center = result.value
        if plus is not None and minus is not None:
            numeric = (plus[graph.output] - minus[graph.output]) / (2 * h)
            rtol, note = RTOL, ("step shrunk to h = %.3g near the edge of the domain" % h) if edge else ""
        else:  # one side leaves the domain: a one-sided difference, accurate to O(h)
            side = plus if plus is not None else minus
            numeric = (side[graph.output] - center) / (h if plus is not None else -h)
            rtol, note = 1e-3, "one-sided difference (the other side leaves the domain)"
        scale = max(abs(center), *(abs(v[graph.output]) for v in (plus, minus) if v is not None))
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
        rows.append(VariableCheck(name, analytic, numeric, abs_error, rel_error, verdict, note))
    return CheckReport(tuple(rows))


def _neighbours(result: Result, name: str, x: float):
    """(h, values at x + h, values at x - h, whether h had to shrink). Near the edge of a domain
    (ln at 1e-7) the step shrinks until both sides are inside, then 1000 times more, so that the
    difference quotient sees the function's slope, not its curvature towards the edge."""
    h = STEP * max(1.0, abs(x))
    plus, minus = _evaluate(result, name, x + h), _evaluate(result, name, x - h)
    if plus is not None and minus is not None:
        return h, plus, minus, False
    for _ in range(15):
        h /= 10
        inner_plus, inner_minus = _evaluate(result, name, x + h), _evaluate(result, name, x - h)
        if inner_plus is not None and inner_minus is not None:
            fine = h / 1000
            fine_plus, fine_minus = _evaluate(result, name, x + fine), _evaluate(result, name, x - fine)
            if fine_plus is not None and fine_minus is not None and x + fine != x - fine:
                return fine, fine_plus, fine_minus, True
            return h, inner_plus, inner_minus, True
    return STEP * max(1.0, abs(x)), plus, minus, False


def _evaluate(result: Result, name: str, value: float) -> list | None:
    """Every node's value with one input moved, or None where that point is outside the domain."""
    if not math.isfinite(value):
        return None
    try:
        return forward(result.graph, {**result.inputs, name: value})
    except EvaluationError:
        return None


def _crossed_kink(result: Result, kinks, plus, minus):
    """The first kink node whose input moves with the variable and is 0 or changes sign
    between x - h, x and x + h."""
    for node in kinks:
        (index,) = node.inputs
        seen = [v[index] for v in (result.values, plus, minus) if v is not None]
        if len(set(seen)) == 1:
            continue  # this variable does not move the kink's input
        signs = {math.copysign(1, v) if v else 0 for v in seen}
        if 0 in signs or len(signs) > 1:
            return node
    return None
