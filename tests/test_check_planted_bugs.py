"""--check catches wrong derivatives: each layer's backward in turn scaled by 1 + 1e-4, sign-flipped,
or with one input's term dropped (and the derivative of a flat function such as floor given the
identity's slope, 1) must make --check say `mismatch` at >= 95% of random points of an expression
using that layer, and never `ok` where the planted error is larger than what `ok` vouches for. The
layers come from the registry; the number of points from the Hypothesis profile (CI: a few dozen per
layer and bug, `pytest --hypothesis-profile=long`: several hundred, at a fresh seed).
"""

import random

import numpy as np
import pytest
from hypothesis import settings

from gradcalc.check import RESOLUTION, gradient_check
from gradcalc.evaluator import evaluate_graph
from gradcalc.layers import REGISTRY
from gradcalc.parser import _parser


def anywhere(rng):
    return rng.choice((-1, 1)) * rng.uniform(0.1, 3)


def positive(rng):
    return rng.uniform(0.1, 3)


def unit(rng):
    return rng.uniform(-0.9, 0.9)


def small(rng):
    return rng.choice((-1, 1)) * rng.uniform(0.1, 1.2)


def above_one(rng):
    return rng.uniform(1.1, 3)


def array(*shape):
    return lambda rng: np.array([anywhere(rng) for _ in range(int(np.prod(shape)))]).reshape(shape)


# per registry entry: an expression the entry's layer is on the path of, and where its variables are
TEMPLATES = {
    "add": ("x + y", {"x": anywhere, "y": anywhere}),
    "sub": ("x - y", {"x": anywhere, "y": anywhere}),
    "mul": ("x * y", {"x": anywhere, "y": anywhere}),
    "div": ("x / y", {"x": anywhere, "y": anywhere}),
    "neg": ("-(x * y)", {"x": anywhere, "y": anywhere}),
    "pow": ("x ** y", {"x": positive, "y": anywhere}),
    **{name: (f"{name}(x) * y", {"x": anywhere, "y": anywhere})
       for name in ("exp", "sigmoid", "relu", "tanh", "sin", "cos", "abs", "sign", "step")},
    **{name: (f"{name}(x) * y", {"x": positive, "y": anywhere}) for name in ("ln", "log", "sqrt")},
    "xlogy": ("xlogy(x, y)", {"x": anywhere, "y": positive}),
    **{name: (f"{name}(x) * y", {"x": anywhere, "y": anywhere})
       for name in ("atan", "arctan", "sinh", "cosh", "asinh", "arcsinh", "expm1", "exp2", "softplus",
                    "log_sigmoid", "gelu", "erf", "erfc", "leaky_relu", "elu", "floor", "ceil", "round")},
    **{name: (f"{name}(x) * y", {"x": unit, "y": anywhere})
       for name in ("asin", "acos", "atanh", "arcsin", "arccos", "arctanh")},
    **{name: (f"{name}(x) * y", {"x": positive, "y": anywhere}) for name in ("log10", "log2", "log1p")},
    **{name: (f"{name}(x) * y", {"x": above_one, "y": anywhere}) for name in ("acosh", "arccosh")},
    "tan": ("tan(x) * y", {"x": small, "y": anywhere}),
    **{name: (f"{name}(x, y)", {"x": anywhere, "y": anywhere})
       for name in ("atan2", "arctan2", "hypot", "maximum", "minimum")},
    "mod": ("mod(x, y)", {"x": anywhere, "y": positive}),
    "clip": ("clip(x, y, z) * x", {"x": anywhere, "y": lambda rng: -positive(rng), "z": positive}),
    "matmul": ("sum(X @ W)", {"X": array(2, 3), "W": array(3, 2)}),
    "dot": ("dot(u, v)", {"u": array(3), "v": array(3)}),
    "sum": ("sum(x * x)", {"x": array(3)}),
    "mean": ("mean(x * x)", {"x": array(3)}),
    "max": ("max(x * x)", {"x": array(3)}),
    "min": ("min(x * x)", {"x": array(3)}),
    "transpose": ("sum(transpose(X) * Y)", {"X": array(2, 3), "Y": array(3, 2)}),
    "softmax": ("sum(softmax(x) * w)", {"x": array(3), "w": array(3)}),
    "logsumexp": ("logsumexp(x)", {"x": array(3)}),
    "stack": ("sum(stack(x, y) * w)", {"x": array(3), "y": array(3), "w": array(2, 3)}),
    "index": ("sum(x[1:] * x[:-1]) + x[0] * x[-1]", {"x": array(4)}),
    "reshape": ("sum(reshape(x, [2, 2]) @ y)", {"x": array(4), "y": array(2)}),
    "flatten": ("sum(flatten(X) * w)", {"X": array(2, 2), "w": array(4)}),
    "outer": ("sum(outer(x, y) * W)", {"x": array(2), "y": array(3), "W": array(2, 3)}),
    "diag": ("sum(diag(x) @ W)", {"x": array(2), "W": array(2, 2)}),
    "trace": ("trace(X @ Y)", {"X": array(2, 2), "Y": array(2, 2)}),
    "norm": ("norm(x * y)", {"x": array(3), "y": array(3)}),
    "log_softmax": ("sum(log_softmax(x) * w)", {"x": array(3), "w": array(3)}),
    "concat": ("sum(concat(x, y) * w)", {"x": array(2), "y": array(3), "w": array(5)}),
    "prod": ("prod(x * y)", {"x": array(3), "y": array(3)}),
    "cumsum": ("sum(cumsum(x * y) * w)", {"x": array(3), "y": array(3), "w": array(3)}),
    "var": ("var(x * y)", {"x": array(4), "y": array(4)}),
    "std": ("std(x * y, ddof=1)", {"x": array(4), "y": array(4)}),
}


def scaled(gradients, position):
    return tuple(g * (1 + 1e-4) for g in gradients)


def flipped(gradients, position):
    return tuple(-g for g in gradients)


def dropped(gradients, position):
    return tuple(g * 0.0 if i == position else g for i, g in enumerate(gradients))


# layers built only inside derivative graphs (the backward of sum, @, max ...): no expression of the
# language contains them, so a first-order check never runs them
LANGUAGE = [name for name, layer in REGISTRY.items() if not layer.internal]


def arity_in_template(name) -> int:
    """How many inputs the registry entry's layer takes in its template (which must use it)."""
    graph = _parser().parse(TEMPLATES[name][0])
    return next(len(node.inputs) for node in graph.nodes if type(node.layer) is REGISTRY[name])


def planted_bugs():
    for name in LANGUAGE:
        arity = arity_in_template(name) if name in TEMPLATES else 1
        yield pytest.param(name, scaled, 0, id=f"{name}-scaled")
        yield pytest.param(name, flipped, 0, id=f"{name}-flipped")
        for position in range(arity):
            yield pytest.param(name, dropped, position, id=f"{name}-dropped-{position}")


def test_every_layer_has_a_template():
    assert set(TEMPLATES) == set(LANGUAGE)


def plant(monkeypatch, layer, bug, position):
    """Replace the layer's backward (and backward_array) by a wrong one, whatever its signature."""
    for method in ("backward", "backward_array"):
        original = getattr(layer, method, None)
        if original is not None:
            monkeypatch.setattr(layer, method, lambda self, *a, _original=original, **k:
                                bug(_original(self, *a, **k), position))
    if getattr(layer, "inlined", False):  # the scalar loops compute it without calling backward
        monkeypatch.setattr(layer, "inlined", False)


def evaluate_fresh(text, values):
    """A new graph for each evaluation: no cached graph keeps the real layer's methods."""
    return evaluate_graph(_parser().parse(text), values)


def points_per_bug() -> int:
    return max(20, settings().max_examples // 6)


@pytest.mark.parametrize("name,bug,position", list(planted_bugs()))  # pytest 9 deprecates generators here
def test_a_planted_bug_is_a_mismatch(monkeypatch, name, bug, position):
    seed, points = true_derivatives(name)
    plant(monkeypatch, REGISTRY[name], bug, position)
    verdicts, false_ok = judge(name, points)
    if not verdicts:  # sign and step: a derivative that is 0 everywhere stays 0 scaled or flipped
        assert all(truth.gradients["x"] == 0 for _, truth in points), "the bug changed nothing, yet ∂/∂x is not 0"
        pytest.skip(f"{name}'s derivative is 0 wherever it is defined: a wrong multiple of it is still right")
    assert not false_ok, (seed, false_ok[:3])
    share = verdicts.count("mismatch") / len(verdicts)
    assert share >= 0.95, (seed, share, [v for v in verdicts if v != "mismatch"][:10])


# the functions whose value jumps and is flat between the jumps (floor, sign ...): their derivative, 0,
# is wrong as the identity's 1 ("straight-through"), the slope that steps across many jumps measure
FLAT = [name for name in LANGUAGE if REGISTRY[name].jumps and REGISTRY[name].arity == 1]


@pytest.mark.parametrize("name", FLAT)
def test_a_slope_given_to_a_flat_function_is_a_mismatch(monkeypatch, name):
    seed, points = true_derivatives(name)
    monkeypatch.setattr(REGISTRY[name], "backward", lambda self, ops, gy, y, x: (gy,))
    verdicts, false_ok = judge(name, points)
    assert not false_ok and len(verdicts) == len(points), (seed, false_ok[:3])  # ∂/∂x changed at every point
    share = verdicts.count("mismatch") / len(verdicts)
    assert share >= 0.95, (seed, share, [v for v in verdicts if v != "mismatch"][:10])


def true_derivatives(name):
    """(seed, [(point, its result before any bug is planted)]) at random points of the name's template."""
    text, variables = TEMPLATES[name]
    seed = 11 if settings().derandomize else random.randrange(2 ** 32)
    rng = random.Random(seed)
    points = []
    while len(points) < points_per_bug():
        point = {variable: draw(rng) for variable, draw in variables.items()}
        points.append((point, evaluate_fresh(text, point)))
    return seed, points


def judge(name, points):
    """The check's verdicts where the planted bug changed a derivative, and the rows it called `ok`
    though the derivative is wrong by more than `ok` tolerates."""
    text = TEMPLATES[name][0]
    verdicts, false_ok = [], []
    for point, truth in points:
        buggy = evaluate_fresh(text, point)
        for row in gradient_check(buggy).rows:
            true = _element(truth.gradients, row.name)
            if row.analytic == true:
                continue  # the bug does not change this derivative here (relu's 0, a max's loser)
            verdicts.append(row.verdict)
            if row.verdict == "ok" and abs(row.analytic - true) > RESOLUTION * abs(true):
                false_ok.append((point, row))
    return verdicts, false_ok


def _element(gradients, label):
    """The true derivative a check row names: x, or an element such as W[1,0]."""
    if "[" not in label:
        return gradients[label]
    name, index = label[:-1].split("[")
    return float(gradients[name][tuple(int(i) for i in index.split(","))])
