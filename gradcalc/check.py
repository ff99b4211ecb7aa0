"""--check: each variable's reverse-mode derivative against adaptive finite differences.

The differences (gradcalc.finite_differences) are Richardson-extrapolated over halving steps and
come with an estimate of their own error; this module decides which stencils may be used, from
the values every node takes at x ± h:
- a point where forward fails (ln of a negative number, an overflow) is outside the domain;
- an input whose zero is a pole or an edge of its function (a divisor, the argument of ln or sqrt,
  the base of a negative or fractional power: the layer's `domain` hook refuses 0 or the other
  sign) may move by at most half its value, so the stencil never reaches across the pole;
- the input of any other one-argument function that is not linear there (sin, exp, tanh ...) may
  move by at most 1, the scale on which those functions change: steps follow the function's
  local scale, not |x| alone;
- a relu/abs input that changes sign, or a max/min whose winners change, is a kink; so is an end of
  the stencil on another piece of floor, round, mod, clip ... than x (Layer.piece: floor's piece
  is floor(u) itself, so a step across any number of jumps is refused, not only an odd number);
- the input of a cone (norm, hypot: Layer.tip) may move by at most half its distance to the tip,
  as towards an edge: the value is smooth within that distance, and at the tip itself it is a kink.
The verdict: `mismatch` only when reverse mode and the estimate differ by more than SAFETY times
the estimate's error (plus the rounding reverse mode itself can carry); `unreliable` when the
differences cannot resolve the derivative; `kink` when the slope changes within a hair of x.
"""

import math
from dataclasses import dataclass

from gradcalc.errors import DomainError, EvaluationError
from gradcalc.evaluator import Result, forward, uses_arrays
from gradcalc.finite_differences import EPS, KINK_RADIUS, Blocked, derivative
from gradcalc.formatting import format_number
from gradcalc.layer import Layer

SAFETY = 10  # a mismatch is a difference above 10 times the estimated error of the differences
RESOLUTION = 3e-5  # `ok`: any derivative off by 3e-5 of its size or more would have been a mismatch
SMOOTH_SCALE = 1.0  # how far the input of sin, exp, tanh ... may move within one stencil
EDGE_FRACTION = 0.5  # how far, relative to its value, an input may move towards its pole or edge
MAX_ELEMENTS = 1000  # an array variable larger than this is checked at evenly spaced elements


@dataclass(frozen=True, slots=True)
class VariableCheck:
    """One variable's analytic and numeric derivative and what they say together."""

    name: str
    analytic: float
    numeric: float | None
    abs_error: float | None
    rel_error: float | None
    verdict: str  # ok | mismatch | kink | unreliable
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

    def _names(self, verdict: str) -> list[str]:
        return [row.name for row in self.rows if row.verdict == verdict]

    def token(self) -> str:
        """The summary as one word for plain output: ok, kink:x, unreliable:y, mismatch:x,y
        (kink and unreliable together as kink:x;unreliable:y)."""
        failed = self._names("mismatch")
        if failed:
            return "mismatch:" + ",".join(failed)
        parts = [f"{verdict}:{','.join(names)}" for verdict in ("kink", "unreliable")
                 if (names := self._names(verdict))]
        return ";".join(parts) or "ok"

    def summary(self) -> str:
        failed = self._names("mismatch")
        if failed:
            return "mismatch: " + ", ".join(failed)
        kinks, unreliable = self._names("kink"), self._names("unreliable")
        head = "unreliable: " + ", ".join(unreliable) if unreliable else "ok"
        return head + (f" (kink: {', '.join(kinks)})" if kinks else "")


def gradient_check(result: Result, names=None) -> CheckReport:
    """Check ∂output/∂name for `names` (default: every variable) by adaptive central differences;
    an array variable is checked element by element (each row named like x[0,1]). For an array
    output the checked quantity is the one backward differentiates: sum(seed * output)."""
    watch = Watch(result)
    rows = [_check_one(watch, name, index, label)
            for name in (names or result.gradients)
            for label, index in coordinates(name, result.inputs[name])]
    return CheckReport(tuple(rows))


def coordinates(name: str, value):
    """(label, index) of each element to check: (name, None) for a scalar."""
    if not hasattr(value, "shape"):
        return [(name, None)]
    import numpy as np

    indices = list(np.ndindex(value.shape))
    if len(indices) > MAX_ELEMENTS:
        step = len(indices) / MAX_ELEMENTS
        indices = [indices[int(i * step)] for i in range(MAX_ELEMENTS)]
    return [(f"{name}[{','.join(map(str, index))}]", index) for index in indices]


def _check_one(watch, name: str, index, label: str) -> VariableCheck:
    inputs = watch.result.inputs
    x = inputs[name] if index is None else float(inputs[name][index])
    analytic = watch.result.gradients[name]
    analytic = analytic if index is None else float(analytic[index])
    if name not in watch.graph.variables:  # no path from it to the output: exactly 0
        return _row(label, analytic, 0.0, "ok" if analytic == 0 else "mismatch",
                    f"the output does not depend on {name}")
    stencils = {}
    # a thousandth of the error `ok` tolerates is all a verdict can use: stop refining there
    differences = derivative(watch.stencil(name, index, x, stencils), x, (watch.center,),
                             enough=RESOLUTION / SAFETY / 1000)
    verdict, numeric, note = _judge(watch, analytic, x, differences, stencils)
    return _row(label, analytic, numeric, verdict, note.replace("{x}", label))


def _row(label, analytic, numeric, verdict, note) -> VariableCheck:
    if numeric is None:
        return VariableCheck(label, analytic, None, None, None, verdict, note)
    abs_error = abs(analytic - numeric)
    rel_error = abs_error / max(abs(analytic), abs(numeric), 1e-300)
    return VariableCheck(label, analytic, numeric, abs_error, rel_error, verdict, note)


def _judge(watch, analytic: float, x: float, differences, stencils) -> tuple:
    """(verdict, numeric derivative or None, note); {x} in the note stands for the variable."""
    estimate = differences.estimates[0]
    if differences.kink is not None:
        radius = format_number(KINK_RADIUS * max(abs(x), 1.0), 3)
        return "kink", None, f"{differences.kink.reason} within {radius} of this point"
    if not estimate.converged:
        return "unreliable", estimate.value, _why_unreliable(differences, x, estimate.value is None)
    numeric, error = estimate.value, estimate.error
    difference = abs(analytic - numeric)
    found = f"finite differences give {numeric!r} ± {error:.2g} (steps {estimate.step:.3g} down to " \
            f"{estimate.step / 4:.3g})"
    spread = 0.0
    if difference > SAFETY * error or SAFETY * error > RESOLUTION * max(abs(analytic), abs(numeric)):
        spread = watch.spread(*stencils[estimate.step])
    # reverse mode rounds too: adding up the derivative's parts, |∂out/∂node · ∂node/∂x|, costs ~ε each
    if difference > SAFETY * error + 8 * EPS * spread:
        return "mismatch", numeric, found
    if difference and SAFETY * error > RESOLUTION * max(abs(analytic), abs(numeric), spread):
        return "unreliable", numeric, f"{found}: too coarse to tell a wrong derivative from a right one"
    return "ok", numeric, _shrunk(differences, x)  # (equal is equal, however coarse)


def _why_unreliable(differences, x: float, nothing_usable: bool) -> str:
    refused, smallest = differences.refused, differences.smallest
    if nothing_usable and refused is not None:
        finest = ""
        if smallest / 2 < differences.limit * (1 + EPS) and abs(x) > 1:
            finest = f" (the finest {{x}} ± h resolves at {{x}} = {format_number(x)})"
        return f"no usable step down to h = {smallest:.3g}{finest}: {refused.reason}"
    return "the finite differences do not converge as the step shrinks"


def _shrunk(differences, x) -> str:
    """A note when an edge of the domain or a pole made the steps much smaller than usual."""
    if differences.shrunk_from is None or differences.shrunk_from > 2.0 ** -10 * max(abs(x), 1.0):
        return ""
    near = "the tip of" if differences.edge.kind == "tip" else "the edge of the domain of"
    return f"step shrunk below {differences.shrunk_from:.3g} near {near} {differences.edge.where}"


class Watch:
    """What one check needs from the evaluated graph: node values and gradients at x, the nodes
    whose inputs limit the stencil, the rounding error of the output, and a stencil per variable."""

    def __init__(self, result: Result):
        import numpy as np

        self.np = np
        self.result = result
        graph, kept = _output_subgraph(result.graph)
        self.graph = graph
        values = self.center_values = [result.values[i] for i in kept]
        grads = self.center_grads = [result.grads[i] for i in kept]
        self.scalar = not uses_arrays(graph, result.inputs)
        self.center = self.objective(values)
        self.poles, self.kinks, self.smooth = [], [], []  # (node, input id) pairs
        self.pieces = []  # (node, its piece at x): kinks not at input = 0 (floor, maximum, clip: Layer.piece)
        self.cones = []  # (node, its tip vectors at x, their lengths): norm, hypot (Layer.tip)
        for node in graph.nodes:
            if not node.inputs or node.constant:
                continue
            layer = node.layer
            moving = [i for i in node.inputs if not graph.nodes[i].constant]
            if layer.kink and type(layer).tip is not Layer.tip:
                vectors = layer.tip(*(values[i] for i in node.inputs))
                self.cones.append((node, vectors, _lengths(np, vectors)))
                continue
            if layer.kink and (type(layer).kink_input is not Layer.kink_input or type(layer).piece is not Layer.piece):
                with np.errstate(all="ignore"):
                    self.pieces.append((node, np.asarray(layer.piece(*(values[i] for i in node.inputs)))))
                continue
            if layer.kink:
                self.kinks.extend((node, i) for i in moving)
                continue
            edges = [i for i in moving if _has_edge(layer, node.inputs, values, i)]
            self.poles.extend((node, i) for i in edges)
            if len(node.inputs) == 1 and not edges:
                self.smooth.append((node, node.inputs[0]))
        if self.scalar:
            self.values = np.array(values, dtype=float)
            self.grads = np.array([0.0 if g is None else g for g in grads], dtype=float)
            self.sensitivity = np.abs(self.grads)
            self.sensitivity[[node.id for node in graph.nodes if not node.inputs]] = 0.0
        else:  # per operation: |gradient| in its value's shape, and the terms a reduction adds up
            self.sensitivities = []
            for node in graph.nodes:
                if node.inputs and grads[node.id] is not None:
                    sizes = [np.size(values[i]) for i in node.inputs]
                    terms = max(sizes) if max(sizes) > np.size(values[node.id]) else 0
                    sensitivity = np.abs(np.broadcast_to(grads[node.id], np.shape(values[node.id])))
                    self.sensitivities.append((node, sensitivity, terms))

    def objective(self, values) -> float:
        """The scalar whose gradient backward computed: the output, or sum(seed * output)."""
        output = values[self.graph.output]
        if not hasattr(output, "shape"):
            return float(output)
        seed = 1.0 if self.result.seed is None else self.result.seed
        with self.np.errstate(all="ignore"):  # an overflowing sum is judged like any other number
            return float((seed * output).sum())

    def _rounding(self, values, objective: float) -> float:
        """A bound on the rounding error of the objective evaluated to `values`: each operation
        rounds its result to within one unit in the last place, at most ε·|value| (a reduction,
        each of its terms), times the output's sensitivity to that node (its gradient at x); twice
        that, for margin."""
        np = self.np
        with np.errstate(all="ignore"):
            if self.scalar:
                return 2 * EPS * float(np.dot(self.sensitivity, np.abs(values))) + EPS * abs(objective)
            total = 0.0
            for node, sensitivity, terms in self.sensitivities:
                value = values[node.id]
                total += float(np.vdot(sensitivity, np.abs(value))) if np.ndim(value) else sensitivity * abs(value)
                if terms:  # sum, @, logsumexp: many roundings per element, each up to its largest term
                    largest = math.prod(float(np.max(np.abs(values[i]), initial=0.0)) for i in node.inputs)
                    total += terms * float(np.sum(sensitivity)) * largest
            return 2 * EPS * total + EPS * abs(objective)

    def stencil(self, name: str, index, x: float, kept: dict):
        """stencil(h) for finite_differences.derivative; keeps each stencil's node values in `kept`."""
        def stencil(h):
            plus, minus = x + h, x - h
            at_plus, at_minus = self.values_at(name, index, plus), self.values_at(name, index, minus)
            f_plus, f_minus = self.objective(at_plus), self.objective(at_minus)
            if not (math.isfinite(f_plus) and math.isfinite(f_minus)):  # sum(seed * output) overflowed
                raise Blocked("outside", "{x} ± h makes the sum of the output overflow", "the output's sum")
            if self.scalar:
                at_plus, at_minus = self.np.array(at_plus, dtype=float), self.np.array(at_minus, dtype=float)
            self.refuse(at_plus, at_minus)
            forward_step, backward_step = plus - x, x - minus
            kept[h] = (at_plus, at_minus, forward_step + backward_step)
            noise = self._rounding(at_plus, f_plus) + self._rounding(at_minus, f_minus)
            return (f_plus,), (f_minus,), forward_step, backward_step, (noise,)

        return stencil

    def values_at(self, name: str, index, value: float):
        """Every node's value with one input (or one element of it) moved."""
        moved = value
        if index is not None:
            moved = self.result.inputs[name].copy()
            moved[index] = value
        try:
            return forward(self.graph, {**self.result.inputs, name: moved})
        except EvaluationError as error:
            where = self.graph.text(self.graph.nodes[0])
            if error.span is not None:
                where = error.source[error.span[0]:error.span[1]]
            raise Blocked("outside", f"{{x}} ± h leaves the domain: {error.message}", where) from None

    def refuse(self, plus, minus) -> None:
        """Raise Blocked if the stencil spans a pole or edge, is wider than a smooth function's
        scale, or straddles a kink."""
        np = self.np
        with np.errstate(all="ignore"):
            for node, piece in self.pieces:  # each end of the step on the centre's piece: no jump between
                if any(np.any(node.layer.piece(*(side[i] for i in node.inputs)) != piece) for side in (plus, minus)):
                    raise Blocked(*self._kink_reason(node, None, plus, minus))
            for node, vectors, lengths in self.cones:
                moved = np.maximum(*(_lengths(np, node.layer.tip(*(side[i] for i in node.inputs)) - vectors)
                                     for side in (plus, minus)))
                limit = EDGE_FRACTION * lengths
                far = moved > limit
                if np.any(far):  # at the tip itself a kink; near it the steps follow the distance, as to an edge
                    if np.any(far & (lengths == 0)):
                        raise Blocked(*self._kink_reason(node, None, plus, minus))
                    where = self.graph.text(node)
                    shrink = float(np.min(limit[far] / moved[far]))  # the inputs move nearly in proportion to h
                    raise Blocked("tip", f"{{x}} ± h moves the input of {where} more than halfway to its tip, "
                                  "where it has no slope", where, shrink)
            if self.scalar:
                groups = [(self.poles, _too_near_edge, self._pole_reason),
                          (self.kinks, _straddles, self._kink_reason),
                          (self.smooth, _too_wide, self._smooth_reason)]
                for pairs, test, reason in groups:
                    if pairs:
                        nodes = np.array([node.id for node, _ in pairs])
                        inputs = np.array([i for _, i in pairs])
                        failed = test(np, self.values, plus, minus, inputs, nodes)
                        if failed.any():
                            raise Blocked(*reason(*pairs[int(np.argmax(failed))], plus, minus))
                return
            values = self.center_values
            for pairs, test, reason in ((self.poles, _too_near_edge, self._pole_reason),
                                        (self.kinks, _straddles, self._kink_reason),
                                        (self.smooth, _too_wide, self._smooth_reason)):
                for node, i in pairs:
                    if test(np, values, plus, minus, i, node.id, node.layer).any():
                        raise Blocked(*reason(node, i, plus, minus))

    def _pole_reason(self, node, i, plus, minus):
        center = self.center_values[i]
        crossed = any(bool(self.np.any(self.np.sign(side[i]) != self.np.sign(center))) for side in (plus, minus))
        what = self.graph.text(self.graph.nodes[i])
        where = self.graph.text(node)
        if crossed:
            return "pole", f"{{x}} ± h takes {what} across 0, a pole or edge of {where}", where
        return "pole", f"{{x}} ± h moves {what} more than halfway to 0, a pole or edge of {where}", where

    def _kink_reason(self, node, i, plus, minus):
        where = self.graph.text(node)
        return "kink", f"{where} {'jumps' if node.layer.jumps else 'changes slope'}", where

    def _smooth_reason(self, node, i, plus, minus):
        where = self.graph.text(node)
        return "scale", f"{{x}} ± h moves the input of {where} by more than {SMOOTH_SCALE:g}, its scale", where

    def spread(self, plus, minus, width: float) -> float:
        """Σ over nodes of |∂out/∂node · ∂node/∂x|: the size of the derivative's parts, the scale of
        the rounding error reverse mode can make adding them up."""
        np = self.np
        with np.errstate(all="ignore"):
            if self.scalar:
                change = plus - minus
                return float(np.sum(np.abs(self.grads * change))) / width
            total = 0.0
            for node in self.graph.nodes:
                gradient = self.center_grads[node.id]
                if gradient is not None:
                    change = np.asarray(plus[node.id]) - np.asarray(minus[node.id])
                    total += float(np.sum(np.abs(gradient * change)))
            return total / width


def _lengths(np, vectors):
    """The length of each vector (components along the last axis), scaled so that squares of 1e-200
    or 1e200 neither vanish nor overflow."""
    vectors = np.asarray(vectors, dtype=float)
    top = np.max(np.abs(vectors), axis=-1, keepdims=True, initial=0.0)  # initial: norm([]) has no components
    with np.errstate(all="ignore"):
        scaled = vectors / np.where(top > 0, top, 1.0)
        return top[..., 0] * np.sqrt(np.sum(np.square(scaled), axis=-1))


def _output_subgraph(graph):
    """The graph of the nodes the output depends on, and their ids in `graph`: a statement the
    output does not use must not refuse a stencil (forward would evaluate it, and may fail)."""
    from gradcalc.graph import Graph, Node

    needed = graph.used_by_output
    kept = [node.id for node in graph.nodes if needed[node.id]]
    if len(kept) == len(graph.nodes):
        return graph, kept
    renumbered, nodes = {}, []
    for old in kept:
        node = graph.nodes[old]
        renumbered[old] = len(nodes)
        copy = Node(len(nodes), node.layer, tuple(renumbered[i] for i in node.inputs), node.span, node.constant)
        copy.names = node.names
        nodes.append(copy)
    variables = {name: renumbered[i] for name, i in graph.variables.items() if needed[i]}
    return Graph(graph.source, nodes, variables, graph.bindings, renumbered[graph.output], graph.sigmas), kept


def _has_edge(layer, inputs, values, position_id) -> bool:
    """Whether the layer refuses its input `position_id` at 0 or with its sign flipped: then 0 is a
    pole (1/y) or the edge of the domain (ln, sqrt, x**0.5) and the stencil must not reach it."""
    import numpy as np

    position = inputs.index(position_id)
    operands = [values[i] for i in inputs]
    for moved in (np.zeros_like(operands[position]), np.negative(operands[position])):
        trial = list(operands)
        trial[position] = moved if np.ndim(moved) else float(moved)
        try:
            with np.errstate(all="ignore"):
                layer.domain(*trial)
        except DomainError:
            return True
    return False


def _gather(np, values, ids, layer=None):
    """The values of nodes `ids`: a vector of them (scalar graph) or one node's array."""
    return values[ids] if layer is None else np.asarray(values[ids], dtype=float)


def _too_near_edge(np, center, plus, minus, inputs, nodes, layer=None):
    u0 = _gather(np, center, inputs, layer)
    limit = EDGE_FRACTION * np.abs(u0)
    return (np.abs(_gather(np, plus, inputs, layer) - u0) > limit) | \
        (np.abs(_gather(np, minus, inputs, layer) - u0) > limit)


def _straddles(np, center, plus, minus, inputs, nodes, layer=None):
    if layer is not None and hasattr(layer, "pick"):
        return np.array(_winners_change(np, layer, [center[inputs], plus[inputs], minus[inputs]]))
    u0, up, um = (_gather(np, v, inputs, layer) for v in (center, plus, minus))
    moved = (up != u0) | (um != u0)
    s0 = np.sign(u0)
    return moved & ((s0 == 0) | (np.sign(up) != s0) | (np.sign(um) != s0))


def _too_wide(np, center, plus, minus, inputs, nodes, layer=None):
    """Inputs that move by more than SMOOTH_SCALE where their function is not linear along the
    stencil (linear ones, such as -x or sum(x), may move any distance)."""
    u0, up, um = (_gather(np, v, inputs, layer) for v in (center, plus, minus))
    moved = np.maximum(np.abs(up - u0), np.abs(um - u0)) > SMOOTH_SCALE
    if not moved.any():
        return np.atleast_1d(moved)
    v0, vp, vm = (_gather(np, v, nodes, layer) for v in (center, plus, minus))
    if np.shape(u0) != np.shape(v0):  # a reduction: judge linearity along x instead of along u
        moved = np.any(moved)
        line = (vp + vm) / 2
    else:
        span = up - um
        line = np.where(span != 0, vm + (vp - vm) * (u0 - um) / np.where(span != 0, span, 1.0), np.inf)
    bent = np.abs(v0 - line) > 1e-9 * (np.abs(vp) + np.abs(v0) + np.abs(vm))
    return np.atleast_1d(moved & bent)


def _winners_change(np, layer, seen) -> bool:
    """Whether the elements that win the max/min (ties included) differ between the points."""
    pick = getattr(np, layer.pick)
    winners = [np.asarray(v) == pick(v, axis=layer.axis, keepdims=True) for v in seen]
    return any(np.any(w != winners[0]) for w in winners[1:])
