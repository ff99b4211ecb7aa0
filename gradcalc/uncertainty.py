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

from gradcalc.errors import UsageError, ValueFormatError
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

    def to_dict(self) -> dict:
        return {"mean": self.mean, "sigma": self.sigma, "mean_shift": self.mean_shift,
                "variance_term": self.variance_term, "first_order_reliable": self.reliable}

    def note(self, first_sigma: float) -> str:
        """Why first order is or is not to be trusted here, in words."""
        verdict = "reliable" if self.reliable else "NOT reliable"
        limit = f"(limit {UNRELIABLE:.0%} each)"
        if not first_sigma:
            return (f"first order is {verdict} here: it gives σ = 0, the curvature gives σ = "
                    f"{format_number(self.sigma, 4)} and shifts the mean by {format_number(self.mean_shift, 4)}")
        ratio = self.variance_term / (first_sigma * first_sigma)
        shift = abs(self.mean_shift) / first_sigma
        return (f"first order is {verdict} here: the second-order variance term is {ratio:.1%} of the "
                f"first-order variance and the mean shifts by {shift:.1%} of σ {limit}")


def second_order(result, uncertainty: Uncertainty, correlation: "Correlation | None" = None) -> SecondOrder:
    """The second-order correction to `uncertainty` (of an evaluated `result`), from the Hessian."""
    from gradcalc.higher_order import derivatives

    names = list(uncertainty.sigmas)
    hessian = derivatives(result.graph, result.inputs, 2, wrt=names)[2]
    sigmas = uncertainty.sigmas
    covariance = [[(correlation(a, b) if correlation is not None else float(a == b)) * sigmas[a] * sigmas[b]
                   for b in names] for a in names]
    h = [[hessian[a][b] for b in names] for a in names]
    hs = _product(h, covariance)
    mean_shift = 0.5 * sum(hs[i][i] for i in range(len(names)))
    variance_term = 0.5 * sum(hs[i][k] * hs[k][i] for i in range(len(names)) for k in range(len(names)))
    variance_term = max(variance_term, 0.0)  # a trace of (HΣ)² is >= 0; rounding may dip below
    first = uncertainty.sigma
    reliable = variance_term <= UNRELIABLE * first * first and abs(mean_shift) <= UNRELIABLE * first
    return SecondOrder(result.value + mean_shift, math.sqrt(first * first + variance_term), mean_shift,
                       variance_term, reliable)


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
    standard uncertainties `sigmas` (name -> σ; floats, or numpy columns for many points at once)."""
    names = [name for name in sigmas if name in gradients]
    contributions = {name: gradients[name] * sigmas[name] for name in names}
    # Σⱼ ρᵢⱼ cⱼ for each i: cᵢ itself when the inputs are independent
    coupled = contributions if correlation is None else {
        name: sum((correlation(name, other) * contributions[other] for other in names), 0.0) for name in names}
    parts = {name: contributions[name] * coupled[name] for name in names}
    variance = sum(parts.values(), 0.0)
    if isinstance(variance, float):
        sigma = math.sqrt(max(variance, 0.0))  # a correlation matrix rounded in print may dip below 0
        share = {name: parts[name] / variance if variance > 0 else None for name in names}
        elasticity = {name: gradients[name] * inputs[name] / value if value else None for name in names}
        order = sorted(names, key=lambda name: (-abs(share[name] or 0.0), -abs(contributions[name]), name))
        return Uncertainty(sigma, {n: contributions[n] for n in order}, {n: share[n] for n in order},
                           {n: elasticity[n] for n in order}, {n: sigmas[n] for n in order})
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt(np.maximum(variance, 0.0))
        share = {name: np.where(variance > 0, parts[name] / variance, np.nan) for name in names}
        elasticity = {name: np.where(value != 0, gradients[name] * inputs[name] / value, np.nan)
                      for name in names}
    return Uncertainty(sigma, contributions, share, elasticity, {n: sigmas[n] for n in names})


def format_plus_minus(value: float, sigma: float, digits: int = 2) -> str:
    """`value ± sigma` as measurements are written: σ to `digits` significant digits and the value
    rounded to the same decimal place (15 ± 0.7810 -> '15.00 ± 0.78'); a shared power of ten
    outside 1e-4..1e6 ('(1.23 ± 0.05)e-20')."""
    if not sigma or not math.isfinite(sigma) or not math.isfinite(value):
        return f"{format_number(value)} ± {format_number(sigma)}"
    sigma = float(f"{sigma:.{digits - 1}e}")  # rounded first: 0.0996 -> 0.10, not 0.0996's digits
    scale = max(abs(value), sigma)
    power = math.floor(math.log10(scale)) if not 1e-4 <= scale < 1e6 else 0
    value, sigma = value / 10**power, sigma / 10**power
    decimals = digits - 1 - math.floor(math.log10(sigma))
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
    uncertainty = propagate(result.value, result.gradients, result.inputs, sigmas, correlation)
    if order >= 2:
        from dataclasses import replace

        uncertainty = replace(uncertainty, second=second_order(result, uncertainty, correlation))
    return uncertainty


def _agree(name: str, given: float | None, from_matrix: float) -> float:
    if given is not None and not math.isclose(given, from_matrix, rel_tol=SYMMETRY, abs_tol=0.0):
        raise UsageError(f"{name} has the uncertainty {given} but the covariance matrix gives "
                         f"{from_matrix} (the square root of its diagonal)",
                         hint="give the uncertainty once: in the covariance matrix, or with ±")
    return from_matrix
