"""Adaptive central differences: the derivative of a vector-valued function of one real number,
with an estimate of its own error, after numdifftools' adaptive method.

Central differences D(h) = (f(x+h) - f(x-h)) / 2h are taken over halving steps h = 2**-k · top.
Their truncation error is a series in h², h⁴, ..., so two rounds of Richardson extrapolation
combine three neighbours into E_k = (64 D(h/4) - 20 D(h/2) + D(h)) / 45, exact up to h⁶. The error
of each E_k is estimated from its neighbours (twice |E_k - E_k±1|: the next estimate is far better,
so the difference is about this one's error) plus the rounding error of f amplified by the division by h,
and an estimate is only trusted where the differences shrink as the series says they must (by 2 to
80 times per halving, or down to rounding noise). The estimate with the smallest error wins.

The caller's `stencil(h)` evaluates the function at x ± h and decides whether that stencil may be
used at all: it raises `Blocked` when a point leaves the domain, when the stencil spans a pole or
is wider than the function's local scale, or when it straddles a kink. The local scale is the
caller's to know: no test on the samples alone can tell sin sampled whole periods apart (x ± 2**k
with 2**k near a multiple of 2π) from a smooth function with another slope. Steps start at half of
max(|x|, 1), shrink fast (16 times per try) until the stencil is usable, and from there halve,
so the steps the estimate is built from are scaled to what the function allows around x.

`derivative` knows nothing about graphs: --check passes the objective (one component); a second-
order check passes the gradient vector (one component per variable) to check a Hessian row.
"""

import math
from dataclasses import dataclass

EPS = 2.0 ** -52
KINK_RADIUS = 2.0 ** -20  # a kink this close (relative to max(|x|, 1)) is "at" the point
MAX_PROBES = 120  # stencils evaluated for one derivative, at most
PATIENCE = 6  # halvings past the best estimate that bring nothing better before stopping
SEARCH_STRIDE = 4  # while no stencil is usable, the step shrinks by 2**4 per try


class Blocked(Exception):
    """A stencil that cannot be used. kind: "outside" (a point leaves the domain), "pole" (the
    stencil spans a pole or an edge), "tip" (it reaches halfway to a cone's tip), "scale" (wider
    than the function's local scale), "kink" (it straddles a kink or a jump)."""

    def __init__(self, kind: str, reason: str, where: str = "", shrink: float | None = None):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.where = where  # what refused it, in a few words (the node's text)
        self.shrink = shrink  # at most this times the step might be usable (None: unknown)


@dataclass(frozen=True, slots=True)
class Estimate:
    """One component's derivative by differences: value ± error from the steps h..h/4, or, when no
    estimate converged, the last difference quotient (error inf)."""

    value: float | None
    error: float
    step: float | None  # the largest of the three steps the estimate combines

    @property
    def converged(self) -> bool:
        return self.error < math.inf


@dataclass(frozen=True, slots=True)
class Differences:
    """What the stencils gave: one estimate per component, and why steps were refused."""

    estimates: tuple[Estimate, ...]
    kink: Blocked | None = None  # every stencil within KINK_RADIUS straddles this kink
    refused: Blocked | None = None  # the reason the last refused stencil gave
    edge: Blocked | None = None  # why the smallest step refused as outside / pole / tip was refused ...
    shrunk_from: float | None = None  # ... and that step, when a smaller one was usable
    smallest: float | None = None  # the smallest step tried
    limit: float = 0.0  # the smallest step x ± h resolves: one unit in the last place of x


def derivative(stencil, x: float, center, enough: float = 0.0) -> Differences:
    """d/dx of each component of f at x, `center` being f(x). `stencil(h)` returns (f(x+h),
    f(x-h), h+, h-, noise): two sequences of component values, the exact distances of the points
    from x, and per component a bound on the rounding error of f(x+h) - f(x-h). The steps stop
    halving once every component's best estimate, with a neighbour on each side, is within
    `enough` of its size (the caller's needs), or brings nothing better for PATIENCE halvings."""
    scale = max(abs(x), 1.0)
    top = math.frexp(scale)[1] - 2  # 2**top <= scale / 2
    limit = math.ulp(x) if x else 0.0  # steps are powers of 2: from ulp(x) up, x ± h is exact
    search = _Search(stencil, center, limit)
    exponent = top
    while not search.usable(exponent):
        refused = search.tried[exponent]
        if refused.kind == "kink" and math.ldexp(1.0, exponent) <= KINK_RADIUS * scale:
            return search.outcome(len(center), kink=refused, limit=limit)
        lower = exponent - SEARCH_STRIDE
        if refused.shrink:  # the refuser knows how far too wide it was (norm's tip at 1e-300): go there
            lower = max(min(lower, exponent + math.frexp(refused.shrink)[1] - 1), -1074)  # 2**-1074: the least double
        if math.ldexp(1.0, lower) < limit:  # try the smallest step x ± h resolves, then give up
            mantissa, power = math.frexp(limit)
            lower = power - 1 if mantissa == 0.5 else power  # the smallest 2**e >= limit
        if lower >= exponent or search.probes >= MAX_PROBES:
            return search.outcome(len(center), limit=limit)
        exponent = lower
    for candidate in range(min(exponent + SEARCH_STRIDE - 1, top), exponent, -1):
        if search.usable(candidate):  # the largest usable step between the last refused and this one
            exponent = candidate
            break
    runs, run = [], _Run(len(center))
    best = [None] * len(center)
    while search.probes < MAX_PROBES and math.ldexp(1.0, exponent) >= limit:
        if not search.usable(exponent):
            refused = search.tried[exponent]
            if refused.kind == "kink" and math.ldexp(1.0, exponent) <= KINK_RADIUS * scale:
                return search.outcome(len(center), kink=refused, limit=limit)
            runs.append(run)
            run = _Run(len(center))  # Richardson needs consecutive halvings: start again below
        else:
            run.add(math.ldexp(1.0, exponent), search.tried[exponent])
            best = _best(runs + [run], len(center))
            if all(b is not None and run.latest - b[2] >= PATIENCE and b[3] is run for b in best):
                break
            if all(b is not None and b[1] <= max(4 * EPS, enough) * abs(b[0]) and
                   (b[3] is not run or b[2] < run.latest) for b in best):
                break  # as precise as needed (or exact to rounding): nothing left to gain
        exponent -= 1
    runs.append(run)
    best = _best(runs, len(center))
    estimates = []
    for component, chosen in enumerate(best):
        if chosen is None:  # nothing converged: report the last difference quotient seen
            last = next((r.quotients[-1][0][component] for r in reversed(runs) if r.quotients), None)
            estimates.append(Estimate(last, math.inf, None))
        else:
            value, error, index, owner = chosen
            estimates.append(Estimate(value, error, owner.steps[index]))
    return search.outcome(len(center), estimates=tuple(estimates), limit=limit)


class _Search:
    """The stencils tried, by step exponent (each evaluated once)."""

    def __init__(self, stencil, center, limit):
        self.stencil, self.center, self.limit = stencil, center, limit
        self.tried = {}
        self.probes = 0
        self.refused = None
        self.edge = None
        self.shrunk_from = None
        self.smallest = None

    def usable(self, exponent: int) -> bool:
        if exponent not in self.tried:
            self.tried[exponent] = self._quotients(math.ldexp(1.0, exponent))
        return not isinstance(self.tried[exponent], Blocked)

    def _quotients(self, h: float):
        self.probes += 1
        self.smallest = h if self.smallest is None else min(self.smallest, h)
        try:
            plus, minus, forward, backward, noise = self.stencil(h)
        except Blocked as refused:
            self.refused = refused
            if refused.kind in ("outside", "pole", "tip") and (self.shrunk_from is None or h < self.shrunk_from):
                self.shrunk_from, self.edge = h, refused
            return refused
        width = forward + backward
        rounding = [n / width for n in noise]
        if forward == backward:
            return [(p - m) / width for p, m in zip(plus, minus)], rounding
        # x ± h rounded to different distances: the derivative of the parabola through the three
        # points, whose error is still a series in h+·h- (no odd term appears)
        ahead, behind = backward / forward, forward / backward  # ratios: h+·h-·(h+ + h-) underflows
        return [(ahead * (p - c) + behind * (c - m)) / width
                for p, m, c in zip(plus, minus, self.center)], rounding

    def outcome(self, components: int, estimates=None, kink=None, limit=0.0) -> Differences:
        if estimates is None:
            estimates = (Estimate(None, math.inf, None),) * components
        usable_below = self.shrunk_from is not None and any(
            not isinstance(q, Blocked) and math.ldexp(1.0, e) < self.shrunk_from for e, q in self.tried.items())
        return Differences(estimates, kink, self.refused, self.edge,
                           self.shrunk_from if usable_below else None, self.smallest, limit)


class _Run:
    """Difference quotients at consecutive halvings of the step, their extrapolations, and the
    error of each extrapolation (inf until it has a neighbour, or where it does not behave as the
    series says it must)."""

    def __init__(self, components: int):
        self.steps, self.quotients, self.extrapolated = [], [], []  # quotients: (values, rounding)
        self.errors = [[] for _ in range(components)]

    @property
    def latest(self) -> int:
        return len(self.extrapolated) - 1

    def add(self, h, quotients):
        self.steps.append(h)
        self.quotients.append(quotients)
        if len(self.quotients) < 3:
            return
        d0, d1, d2 = (values for values, _ in self.quotients[-3:])
        # (64 D(h/4) - 20 D(h/2) + D(h)) / 45, written in differences so that it cannot overflow
        self.extrapolated.append([c + (20 * (c - b) - (c - a)) / 45 for a, b, c in zip(d0, d1, d2)])
        for component, errors in enumerate(self.errors):
            errors.append(math.inf)
            for k in (self.latest - 1, self.latest):  # the two whose neighbours changed
                if k >= 0:
                    errors[k] = self._error(k, component)

    def best(self, component: int):
        """(error, index) of the extrapolation with the smallest error, or None."""
        errors = self.errors[component]
        if not errors:
            return None
        error = min(errors)
        return (error, errors.index(error)) if error < math.inf else None

    def _error(self, k: int, component: int) -> float:
        value = self.extrapolated[k][component]
        neighbours = [abs(value - self.extrapolated[j][component]) for j in (k - 1, k + 1)
                      if 0 <= j <= self.latest]
        if not neighbours or not self._asymptotic(k, component):
            return math.inf
        r0, r1, r2 = (rounding[component] for _, rounding in self.quotients[k:k + 3])
        # twice the larger difference: in the h⁶ regime |E_k - E_k+1| is 63/64 of E_k's own error
        return 2 * max(neighbours) + (64 * r2 + 20 * r1 + r0) / 45 + 2 * EPS * abs(value)

    def _asymptotic(self, k: int, component: int) -> bool:
        """Whether D(h) - D(h/2) and D(h/2) - D(h/4) shrink as an h² series does (4 times per halving
        for the h² term, 16 or 64 when it vanishes), allowing for rounding noise in each."""
        (d0, r0), (d1, r1), (d2, r2) = ((v[component], r[component]) for v, r in self.quotients[k:k + 3])
        first, second = d0 - d1, d1 - d2
        noise_first, noise_second = 2 * (r0 + r1), 2 * (r1 + r2)  # twice their rounding bound
        if abs(first) <= noise_first and abs(second) <= noise_second:
            return True  # both at rounding level: the rounding term carries the error
        same_sign = first * second > 0 or abs(second) <= noise_second
        return same_sign and abs(second) <= abs(first) / 2 + noise_second and \
            abs(first) <= 80 * abs(second) + noise_first


def _best(runs, components: int):
    """Per component: (value, error, index, run) of the estimate with the smallest error, or None."""
    best = []
    for component in range(components):
        chosen = None
        for run in runs:
            found = run.best(component)
            if found is not None and (chosen is None or found[0] < chosen[1]):
                chosen = (run.extrapolated[found[1]][component], found[0], found[1], run)
        best.append(chosen)
    return best
