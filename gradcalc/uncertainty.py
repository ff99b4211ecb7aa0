"""Standard uncertainties through the gradient (first order) and each input's part in the result.

For inputs xᵢ with standard uncertainties σᵢ and correlations ρᵢⱼ, the output f has
σ_f² = Σᵢ Σⱼ cᵢ ρᵢⱼ cⱼ with cᵢ = ∂f/∂xᵢ · σᵢ (independent inputs: σ_f² = Σ cᵢ²). Input i's share of
the variance is cᵢ Σⱼ ρᵢⱼ cⱼ / σ_f² (the shares add up to 1; with correlations one may be negative),
and its elasticity ∂f/∂xᵢ · xᵢ / f is the relative change of f per relative change of xᵢ.

The same formulas run on floats (one job) and on numpy columns (`--data`, one value per row).

The second-order correction (`second_order`) keeps the curvature too: for normal inputs with
covariance matrix Σ, E[f] ≈ f + ½ tr(HΣ) and Var f ≈ gᵀΣg + ½ tr(HΣHΣ), with H the Hessian — exact
when f is quadratic (independent inputs: ½ Σᵢ Hᵢᵢσᵢ² and ½ Σᵢⱼ Hᵢⱼ²σᵢ²σⱼ²).
"""

import difflib
import math
import re
from dataclasses import dataclass, field
from functools import reduce

from gradcalc.errors import NonFiniteError, UsageError, ValueFormatError
from gradcalc.formatting import format_number
from gradcalc.number_syntax import SIGNED_NUMBER_PATTERN
from gradcalc.option_errors import at_value
from gradcalc.values import out_of_range

_UNCERTAIN = re.compile(rf"\s*({SIGNED_NUMBER_PATTERN})\s*(?:±|\+-)\s*({SIGNED_NUMBER_PATTERN})\s*")
SYMMETRY = 1e-9  # relative: a matrix written out with 10 digits is still symmetric
# First order is flagged unreliable when a second-order term exceeds this fraction of it: the
# variance term of the first-order variance, or the shift of the mean of the first-order σ.
UNRELIABLE = 0.1


def split_uncertain(name: str, text: str) -> tuple[str, float | None]:
    """`5±0.2` or `5+-0.2` -> ("5", 0.2); text without ± -> (text, None)."""
    match = _UNCERTAIN.fullmatch(text)
    if match is None:
        if "±" in text or "+-" in text:
            raise at_value("expected a number ± its standard uncertainty", f"--{name}", text,
                           f"write --{name} 5±0.2 or --{name} 5+-0.2 (numbers only, not arrays)", kind=ValueFormatError)
        return text, None
    sigma = float(match[2])
    problem = out_of_range(match[2], sigma)
    if problem is not None:  # 1e-400 would be a silent 0
        raise at_value(f"the uncertainty {problem[0]}", f"--{name}", text, problem[1] or f"write --{name} 5±0.2",
                       within=match.span(2), kind=ValueFormatError)
    if not 0 <= sigma < math.inf:
        raise at_value("the uncertainty must be a finite number >= 0", f"--{name}", text, f"write --{name} 5±0.2",
                       within=match.span(2), kind=ValueFormatError)
    return match[1], sigma


@dataclass(frozen=True)
class Uncertainty:
    """σ of the output and each uncertain input's contribution ∂f/∂x·σ, share of the variance and
    elasticity, largest share first (None where undefined: a share when σ_f = 0, an elasticity when f = 0)."""

    sigma: float
    contributions: dict
    share: dict
    elasticity: dict
    sigmas: dict = field(default_factory=dict)  # the inputs' own σ, in the same order
    second: "SecondOrder | None" = None  # with --order 2

    def to_dict(self) -> dict:
        record = {"sigma": self.sigma, "contributions": self.contributions, "share": self.share,
                  "elasticity": self.elasticity}
        if self.second is not None:
            record["second_order"] = self.second.to_dict()
        return record


@dataclass(frozen=True)
class SecondOrder:
    """The mean and σ of the output to second order for normal inputs, and whether first order
    alone can be trusted (each second-order term below UNRELIABLE of its first-order counterpart)."""

    mean: float  # f + ½ tr(HΣ)
    sigma: float  # √(gᵀΣg + ½ tr(HΣHΣ))
    mean_shift: float  # ½ tr(HΣ)
    variance_term: float  # ½ tr(HΣHΣ), never negative
    reliable: bool
    # the variance term over the first-order variance, the mean shift over the first-order σ (None
    # where that σ is 0): exact where the variance term itself is too small or large for a float
    variance_ratio: float | None = None
    shift_ratio: float | None = None

    def to_dict(self) -> dict:
        return {"mean": self.mean, "sigma": self.sigma, "mean_shift": self.mean_shift,
                "variance_term": self.variance_term, "first_order_reliable": self.reliable}

    def note(self) -> str:
        """Why first order is or is not to be trusted here, in words."""
        verdict = "reliable" if self.reliable else "NOT reliable"
        limit = f"(limit {UNRELIABLE:.0%} each)"
        if self.variance_ratio is None:
            return (f"first order is {verdict} here: it gives σ = 0, the curvature gives σ = "
                    f"{format_number(self.sigma, 4)} and shifts the mean by {format_number(self.mean_shift, 4)}")
        return (f"first order is {verdict} here: the second-order variance term is {_part(self.variance_ratio)} "
                f"the first-order variance and the mean shifts by {_part(self.shift_ratio)} σ {limit}")


def _part(ratio: float) -> str:
    """'29.8% of', or where that would be a long number, '3.2e+05 times'."""
    return f"{ratio:.1%} of" if ratio < 100 else f"{ratio:.2g} times"


def second_order(result, uncertainty: Uncertainty, correlation: "Correlation | None" = None) -> SecondOrder:
    """The second-order correction to `uncertainty` (of an evaluated `result`), from the Hessian.

    Computed in decimal, whose exponents reach far beyond a float's: the variance term holds σ⁴,
    which vanishes in a float from σ ~ 1e-81 and overflows from 1e77; only what is reported must
    be a float (an error where it is beyond one)."""
    from decimal import Decimal, localcontext

    from gradcalc.higher_order import derivatives

    names = list(uncertainty.sigmas)
    hessian = derivatives(result.graph, result.inputs, 2, wrt=names)[2]
    with localcontext(prec=40):  # the doubles' 17 digits and their products' rounding to spare
        sigmas = {name: Decimal(sigma) for name, sigma in uncertainty.sigmas.items()}
        covariance = [[Decimal(correlation(a, b) if correlation is not None else float(a == b)) * sigmas[a] * sigmas[b]
                       for b in names] for a in names]
        hs = _product([[Decimal(hessian[a][b]) for b in names] for a in names], covariance)
        mean_shift = sum((hs[i][i] for i in range(len(names))), Decimal(0)) / 2
        variance_term = sum((hs[i][k] * hs[k][i] for i in range(len(names)) for k in range(len(names))),
                            Decimal(0)) / 2
        variance_term = max(variance_term, Decimal(0))  # a trace of (HΣ)² is >= 0; rounding may dip below
        first = Decimal(uncertainty.sigma)
        limit = Decimal(UNRELIABLE)
        reliable = variance_term <= limit * first * first and abs(mean_shift) <= limit * first
        ratios = (float(variance_term / (first * first)), float(abs(mean_shift) / first)) if first else (None, None)
        reported = {"the second-order mean f + ½ tr(HΣ)": Decimal(result.value) + mean_shift,
                    "the second-order σ √(gᵀΣg + ½ tr(HΣHΣ))": (first * first + variance_term).sqrt(),
                    "the second-order mean shift ½ tr(HΣ)": mean_shift,
                    "the second-order variance term ½ tr(HΣHΣ)": variance_term}
        for what, number in reported.items():
            if math.isinf(float(number)):
                squared = "variance" in what  # of the size of σ², beyond a float while σ is not
                raise _too_large(what, number, (_SQUARED_HINT if squared else _RANGE_HINT) + ", or leave out --order 2")
    return SecondOrder(*map(float, reported.values()), reliable, *ratios)


def _product(a: list, b: list) -> list:
    return [[sum(a[i][k] * b[k][j] for k in range(len(b))) for j in range(len(b[0]))] for i in range(len(a))]


class Correlation:
    """Correlations (and, from a covariance matrix, standard uncertainties) between named inputs."""

    def __init__(self, names: list, rho: list, sigmas: dict | None = None, source: str = "the correlation matrix"):
        self.index = {name: i for i, name in enumerate(names)}
        self.rho = rho
        self.sigmas = sigmas or {}  # from a covariance matrix's diagonal
        self.source = source  # "--correlation rho.csv", for messages

    def unused_note(self, used: dict, batch: bool = False) -> str | None:
        """The warning for the names that no expression of the run used, or None; `used` maps each
        variable of the run to whether a line gave it a σ. A matrix may relate more quantities than
        a line uses (one file for many jobs), but a name no line uses may be a typo (L,Q for L,T),
        which would leave T independent without a word."""
        unused = [name for name in self.index if name not in used]
        if not unused:
            return None
        free = sorted(name for name in used if name not in self.index)  # what the typo may have meant
        # with nothing alike, the one input it could mean: one with a σ (a covariance gives it one)
        likely = [name for name in free if used[name] or self.sigmas]
        close = difflib.get_close_matches(unused[0], free, n=1, cutoff=0.6)
        guess = close[0] if close else likely[0] if len(unused) == 1 and len(likely) == 1 else None
        them = unused[0] if len(unused) == 1 else f"{', '.join(unused[:-1])} and {unused[-1]}"
        nothing = " (the matrix changes no result)" if len(unused) == len(self.index) else ""
        return (f"{self.source} names {them}, which {'no expression uses' if batch else 'the expression does not use'}"
                + nothing + (f"; did you mean {guess}?" if guess else ""))

    def __call__(self, first: str, second: str) -> float:
        if first == second:
            return 1.0
        i, j = self.index.get(first), self.index.get(second)
        return 0.0 if i is None or j is None else self.rho[i][j]


def propagate(value, gradients: dict, inputs: dict, sigmas: dict, correlation: Correlation | None = None):
    """First-order uncertainty of `value` from ∂value/∂x (`gradients`), the inputs' values and their
    standard uncertainties `sigmas` (name -> σ; floats, or numpy columns for many points at once).
    Raises NonFiniteError where σ, a contribution or an elasticity is beyond a float's range."""
    names = [name for name in sigmas if name in gradients]
    if not all(isinstance(number, (float, int)) for name in names for number in (gradients[name], sigmas[name])):
        return _propagate_columns(value, gradients, inputs, sigmas, correlation, names)
    contributions = {name: gradients[name] * sigmas[name] for name in names}
    for name, contribution in contributions.items():
        if not math.isfinite(contribution):
            raise _contribution_error(name, gradients[name], sigmas[name])
    sigma, share = _spread(contributions, correlation)
    elasticity = {name: _elasticity(name, gradients[name], inputs[name], value) for name in names}
    order = sorted(names, key=lambda name: (-abs(share[name] or 0.0), -abs(contributions[name]), name))
    return Uncertainty(sigma, {n: contributions[n] for n in order}, {n: share[n] for n in order},
                       {n: elasticity[n] for n in order}, {n: sigmas[n] for n in order})


def _spread(contributions: dict, correlation: Correlation | None) -> tuple:
    """σ = √(cᵀRc) and each input's share cᵢ(Rc)ᵢ/σ² (None where σ = 0), from the contributions
    divided by the power of two of the largest, as math.hypot scales (exact): their squares would
    vanish below 1e-162 (σ of 1e-200 ± 1e-200 would be 0) and overflow above 1e154."""
    largest = max(map(abs, contributions.values()), default=0.0)
    if not largest:
        return 0.0, dict.fromkeys(contributions)
    power = math.frexp(largest)[1]
    unit = {name: math.ldexp(contribution, -power) for name, contribution in contributions.items()}
    # Σⱼ ρᵢⱼ cⱼ for each i: cᵢ itself when the inputs are independent
    coupled = unit if correlation is None else {
        name: sum((correlation(name, other) * unit[other] for other in unit), 0.0) for name in unit}
    parts = {name: unit[name] * coupled[name] for name in unit}
    total = sum(parts.values(), 0.0)
    if total <= 0:  # a correlation matrix rounded in print may dip below 0
        return 0.0, dict.fromkeys(contributions)
    try:
        sigma = math.ldexp(math.sqrt(total), power)
    except OverflowError:
        raise _sigma_error(math.sqrt(total), power) from None
    return sigma, {name: part / total for name, part in parts.items()}


def _elasticity(name: str, gradient: float, value: float, output: float) -> float | None:
    """∂f/∂x·x/f (None where f = 0) from the numbers' mantissas and exponents, so that ∂f/∂x·x may
    exceed a float where the elasticity does not (x² at 1.3e154: 3.4e308 / 1.69e308 = 2)."""
    if not output:
        return None
    (gradient, p), (value, q), (output, r) = math.frexp(gradient), math.frexp(value), math.frexp(output)
    try:
        return math.ldexp(gradient * value / output, p + q - r)
    except OverflowError:
        raise _beyond(f"{name}'s elasticity ∂output/∂{name}·{name}/output", gradient * value / output,
                      p + q - r) from None


def _propagate_columns(value, gradients, inputs, sigmas, correlation, names) -> Uncertainty:
    """propagate on numpy columns, a row a point; a row whose σ, contribution or elasticity is
    beyond a float's range raises (--data then evaluates the rows one at a time: that row fails)."""
    import numpy as np

    from gradcalc.numeric import first_index

    with np.errstate(all="ignore"):
        contributions = {name: gradients[name] * sigmas[name] for name in names}
        for name, contribution in contributions.items():
            if not np.all(np.isfinite(contribution)):
                row = first_index(~np.isfinite(contribution))
                raise _contribution_error(name, _at(gradients[name], row), _at(sigmas[name], row))
        largest = reduce(np.maximum, map(np.abs, contributions.values()), 0.0)
        power = np.frexp(largest)[1]
        unit = {name: np.ldexp(contribution, -power) for name, contribution in contributions.items()}
        coupled = unit if correlation is None else {
            name: sum((correlation(name, other) * unit[other] for other in names), 0.0) for name in names}
        parts = {name: unit[name] * coupled[name] for name in names}
        total = np.maximum(sum(parts.values(), 0.0), 0.0)  # a rounded correlation matrix may dip below 0
        sigma = np.ldexp(np.sqrt(total), power)
        if not np.all(np.isfinite(sigma)):
            row = first_index(~np.isfinite(sigma))
            raise _sigma_error(float(np.sqrt(_at(total, row))), int(_at(power, row)))
        share = {name: np.where(total > 0, parts[name] / total, np.nan) for name in names}
        elasticity = {}
        output, r = np.frexp(value)
        for name in names:
            (gradient, p), (point, q) = np.frexp(gradients[name]), np.frexp(inputs[name])
            ratio = np.where(output != 0, gradient * point / output, np.nan)
            elasticity[name] = np.ldexp(ratio, p + q - r)
            if np.any(np.isinf(elasticity[name])):
                row = first_index(np.isinf(elasticity[name]))
                raise _beyond(f"{name}'s elasticity ∂output/∂{name}·{name}/output", float(_at(ratio, row)),
                              int(_at(p + q - r, row)))
    return Uncertainty(sigma, contributions, share, elasticity, {n: sigmas[n] for n in names})


def _at(column, row: tuple) -> float:
    """A column's element at `row` (a number broadcast to every row is itself)."""
    import numpy as np

    return float(column[row]) if np.ndim(column) else float(column)


_RANGE_HINT = ("measure the inputs in larger units (σ in units of 1e10, say) so that σ stays within "
               "floating-point range (below about 1.8e308)")
_SQUARED_HINT = ("the variance term is of the size of σ²: measure the inputs in larger units so that σ² stays "
                 "below about 1.8e308")


def _beyond(what: str, mantissa: float, power: int, hint: str = _RANGE_HINT) -> NonFiniteError:
    """The error for `what`, mantissa·2^power, a number beyond the largest float."""
    from decimal import Decimal

    return _too_large(what, Decimal(mantissa) * Decimal(2) ** power, hint)


def _too_large(what: str, number, hint: str = _RANGE_HINT) -> NonFiniteError:
    """The error for `what`, a Decimal beyond the largest float, said to 3 digits ('1e+310')."""
    from decimal import Context

    about = format(Context(prec=3).plus(number).normalize(), "g")
    return NonFiniteError(f"{what} is about {about}, beyond the largest float (about 1.8e+308)", hint=hint)


def _contribution_error(name: str, gradient: float, sigma: float) -> NonFiniteError:
    """The error for an input's contribution ∂f/∂x·σ beyond a float (each factor is one)."""
    if not (math.isfinite(gradient) and math.isfinite(sigma)):  # propagate called with them so
        return NonFiniteError(f"∂output/∂{name} and σ must be finite numbers, not {gradient!r} and {sigma!r}",
                              hint="give propagate the gradient of a point where it is finite")
    (gradient_mantissa, p), (sigma_mantissa, q) = math.frexp(gradient), math.frexp(sigma)
    return _beyond(f"{name}'s contribution to σ, ∂output/∂{name}·σ = {format_number(gradient)} × "
                   f"{format_number(sigma)},", gradient_mantissa * sigma_mantissa, p + q)


def _sigma_error(mantissa: float, power: int) -> NonFiniteError:
    return _beyond("σ of the output", mantissa, power)


def format_plus_minus(value: float, sigma: float, digits: int = 2) -> str:
    """`value ± sigma` as measurements are written: σ to `digits` significant digits and the value
    rounded to the same decimal place (15 ± 0.7810 -> '15.00 ± 0.78'); a shared power of ten
    outside 1e-4..1e6 ('(1.23 ± 0.05)e-20')."""
    if not sigma or not math.isfinite(sigma) or not math.isfinite(value):
        return f"{format_number(value)} ± {format_number(sigma)}"
    from decimal import Decimal

    # in decimal: shifting by a power of ten is exact there, where 10**-324 is 0 in a float
    shown, rounded = value, Decimal(f"{sigma:.{digits - 1}e}")  # rounded first: 0.0996 -> 0.10, not its digits
    value, sigma = Decimal(value), rounded
    scale = max(abs(value), sigma)
    power = scale.adjusted() if not Decimal("1e-4") <= scale < Decimal("1e6") else 0
    value, sigma = value.scaleb(-power), sigma.scaleb(-power)
    decimals = digits - 1 - sigma.adjusted()
    if value and value.adjusted() + decimals >= 17:  # more digits than a float has: each number whole
        return f"{format_number(float(shown))} ± {format_number(float(rounded))}"
    if decimals < 0:  # σ of 120: the value to the tens as well
        value, sigma, decimals = round(value, decimals), round(sigma, decimals), 0
    center = f"{value:.{decimals}f}"
    center = center.lstrip("-") if float(center) == 0 else center  # no "-0.00"
    text = f"{center} ± {sigma:.{decimals}f}"
    return f"({text})e{power:+d}" if power else text


def uncertainty_of(result, option_sigmas: dict, job_values: dict, correlation: Correlation | None = None,
                   order: int = 1):
    """The Uncertainty of an evaluated job, or None when none of its inputs carries one; with
    `order` 2 or more (--order), with the second-order correction.

    σ goes with the value it was given with: the line's own binding (`x = 5 ± 0.2`) wins over an
    option (`--x 5±0.2`), as the value does; a covariance matrix gives the σ of the inputs it names
    (names the line does not use are said once per run: Correlation.unused_note).
    """
    graph = result.graph
    sigmas = {}
    for name in result.inputs:
        if name in graph.bindings:
            sigma = graph.sigmas.get(name)
        elif name in job_values:
            sigma = None
        else:
            sigma = option_sigmas.get(name)
        if correlation is not None and name in correlation.sigmas:
            sigma = _agree(name, sigma, correlation.sigmas[name])
        if sigma is not None:
            sigmas[name] = sigma
    if not sigmas:
        return None
    if hasattr(result.value, "shape") or any(hasattr(result.inputs[name], "shape") for name in sigmas):
        raise UsageError("uncertainties propagate through a number-valued expression of numbers",
                         hint="give ± to number inputs of an expression whose value is one number, or use "
                              "--data with sigma_<name> columns for many points")
    try:
        uncertainty = propagate(result.value, result.gradients, result.inputs, sigmas, correlation)
        if order >= 2:
            from dataclasses import replace

            uncertainty = replace(uncertainty, second=second_order(result, uncertainty, correlation))
    except NonFiniteError as error:
        if error.source is None:  # propagate's own: under the expression whose σ it is
            error.source, error.span = graph.source, graph.nodes[graph.output].span
        raise
    return uncertainty


def _agree(name: str, given: float | None, from_matrix: float) -> float:
    if given is not None and not math.isclose(given, from_matrix, rel_tol=SYMMETRY, abs_tol=0.0):
        raise UsageError(f"{name} has the uncertainty {given} but the covariance matrix gives "
                         f"{from_matrix} (the square root of its diagonal)",
                         hint="give the uncertainty once: in the covariance matrix, or with ±")
    return from_matrix
