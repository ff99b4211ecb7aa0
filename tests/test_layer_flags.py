"""Every layer of the registry held to the flags it declares, at the edges of the double range.

The array path checks a value or gradient for inf and nan only where a flag says it could be one:
a `keeps_finite` layer is never checked (finite inputs and a finite upstream gradient must give a
finite value and finite gradients), and a value is checked before a `hides_infinity` layer only
(every other layer must hand an inf or nan on to its output). A flag that claims too much lets an
overflow through as a result with exit 0, so each claim is tried here, not trusted."""

import itertools

import pytest

from gradcalc.errors import DomainError
from gradcalc.layers import REGISTRY
from gradcalc.numeric import ShapeMismatch, unbroadcast
from gradcalc.ops import ArrayOps, ScalarOps

np = pytest.importorskip("numpy")

LARGEST = 1.7976931348623157e308
EXTREMES = [1e308, -1e308, 1.7e308, -1.7e308, LARGEST, -LARGEST, 1e-308, -1e-308, 5e-324, 0.0, 1.0, -1.0]
HUGE = [1.7e308, -1.7e308, LARGEST, 1e308]  # the values that overflow a sum, a square, a product

# layers whose parameters change what they can do: each is tried with these as well as its defaults
PARAMETERS = {
    "leaky_relu": [(1.0,), (-1.0,), (10.0,), (-3.0,)],
    "elu": [(0.5,), (-1.0,), (3.0,)],
    "index": [((0,),), ((1,),), ((("slice", 1, None, None),),)],
    "softmax": [(0,)],
    "log_softmax": [(0,)],
    "max": [(0,)],
    "min": [(0,)],
    "sum": [(0,)],
    "mean": [(0,)],
    "var": [(0,), (None, 1)],
    "std": [(0,), (None, 1)],
    "logsumexp": [(0,)],
    "cumsum": [(0,)],
    "prod": [(0,)],
    "_matmul_grad": [(0,), (1,)],
}


def _layers():
    """(label, layer instance) for every registry entry, its wider form and its parameters."""
    found = {}
    for name, cls in REGISTRY.items():
        if name not in PARAMETERS or cls.__init__ is object.__init__ or not _needs_parameters(cls):
            found.setdefault(name, cls())
        if cls.wider is not None:
            found.setdefault(f"{name} with one more argument", cls.wider())
        for parameters in PARAMETERS.get(name, ()):
            found.setdefault(f"{name}{parameters}", cls(*parameters))
    return found


def _needs_parameters(cls) -> bool:
    import inspect

    return any(p.default is p.empty for p in list(inspect.signature(cls).parameters.values()))


LAYERS = _layers()


def _arrays():
    """Arrays of extreme elements: every pair and some triples of EXTREMES, square matrices of
    them, and large arrays (more elements than the blocks take at once) of huge elements."""
    arrays = [np.array(x) for x in EXTREMES]  # 0-d
    arrays += [np.array([a, b]) for a, b in itertools.product(EXTREMES, repeat=2)]
    arrays += [np.array([a, b, b]) for a, b in itertools.product(HUGE + [-1.7e308, 1.0], repeat=2)]
    arrays += [np.array([[a, b], [b, a]]) for a, b in itertools.product(EXTREMES, repeat=2)]
    for a in (1.7e308, LARGEST):
        arrays.append(np.full(70_000, a))
        arrays.append(np.resize(np.array([a, -a]), 70_000))
        arrays.append(np.full((260, 260), a))
    return arrays


ARRAYS = _arrays()


SQUARING = {"diag", "outer"}  # a vector of n elements makes an n-by-n matrix: no large vectors


def _input_tuples(label: str, arity: int):
    """Inputs for a layer of this arity (-1: any number; two are tried): arrays alike in shape."""
    count = 2 if arity < 0 else arity
    if count == 1:
        yield from ((a,) for a in ARRAYS if not (label in SQUARING and a.ndim == 1 and a.size > 1000))
        return
    small = [float(x) for x in EXTREMES]
    yield from (tuple(np.array(x) for x in xs) for xs in itertools.product(small, repeat=count))
    large = [a for a in ARRAYS if a.size > 1000]
    for a in [a for a in ARRAYS[len(EXTREMES):] if a.size <= 1000] + large[-2:]:  # time: two large ones
        for others in ((a, a), (np.flip(a), -a), (-a, a), (np.zeros_like(a), a)):
            yield (a, *others[: count - 1])


def _upstream(shape):
    """Upstream gradients of this shape: ±1, the largest finite, the smallest normal, mixed signs."""
    gys = [np.full(shape, g) for g in (1.0, -1.0, LARGEST, -LARGEST, 1e-308)]
    if shape:
        gys.append(np.resize(np.array([LARGEST, -LARGEST]), shape))
    return gys


def _finite(value) -> bool:
    return bool(np.all(np.isfinite(value)))


def _described(xs) -> str:
    return ", ".join(f"{x.tolist()}" if x.size < 10 else f"array of shape {x.shape} from {x.flat[0]}" for x in xs)


KEEPS_FINITE = [label for label, layer in LAYERS.items() if layer.keeps_finite]


def test_the_flags_are_tried_on_every_layer_that_declares_them():
    # the registry is where the list comes from: a new layer with the flag is tried too
    declared = {type(layer) for layer in LAYERS.values() if layer.keeps_finite}
    assert all(not _needs_parameters(cls) or name in PARAMETERS for name, cls in REGISTRY.items())
    assert {type(LAYERS[label]) for label in KEEPS_FINITE} == declared
    assert {"sigmoid", "abs", "max", "transpose", "clip", "maximum"} <= set(KEEPS_FINITE)


@pytest.mark.parametrize("label", KEEPS_FINITE)
def test_a_layer_that_keeps_finite_numbers_finite_does_so_at_the_extremes(label):
    layer = LAYERS[label]
    for xs in _input_tuples(label, layer.arity):
        with np.errstate(all="ignore"):
            try:
                y = layer.forward_array(*xs)
            except (DomainError, ShapeMismatch, ValueError):
                continue  # refused: no value, so nothing to keep finite
            assert _finite(y), f"{label}({_described(xs)}) = {y}"
            for gy in _upstream(np.shape(y)):
                rules = [layer.backward(ArrayOps, gy, y, *xs)]
                if layer.backward_array is not None:
                    rules.append(layer.backward_array(gy, y, *xs))
                for gradients in rules:
                    for x, gx in zip(xs, gradients):
                        if gx is not None:
                            gx = unbroadcast(gx, np.shape(x))
                            assert _finite(gx), f"{label}({_described(xs)}), upstream {gy.flat[0]}: gradient {gx}"


@pytest.mark.parametrize("label", [label for label in KEEPS_FINITE if not LAYERS[label].array_only])
def test_a_layer_that_keeps_finite_numbers_finite_does_so_with_floats_too(label):
    # scalars take the math module, whose overflow raises rather than giving inf
    layer = LAYERS[label]
    for xs in itertools.product(EXTREMES, repeat=layer.arity):
        try:
            y = layer.forward(*xs)
        except DomainError:
            continue
        assert _finite(y), f"{label}{xs} = {y}"
        for gy in (1.0, -1.0, LARGEST, -LARGEST, 1e-308):
            for gx in layer.backward(ScalarOps, gy, y, *xs):
                assert gx is None or _finite(gx), f"{label}{xs}, upstream {gy}: gradient {gx}"


# Internal layers are left out: their other operands only lend a shape (a sum's gradient spread
# back over x), and those are nodes of the expression, whose own values the evaluation checked.
ARRAY_LAYERS = [label for label, layer in LAYERS.items() if layer.array_only and not layer.internal]


@pytest.mark.parametrize("label", ARRAY_LAYERS)
def test_an_array_layer_that_can_turn_inf_or_nan_into_a_number_says_so(label):
    # tests/test_layers.py holds the elementwise layers to it; these reduce, select or reshape
    layer = LAYERS[label]
    count = 2 if layer.arity < 0 else layer.arity
    for shape, at in [((), ()), ((3,), (0,)), ((3,), (2,)), ((2, 2), (0, 0)), ((2, 2), (0, 1))]:
        for position, bad in itertools.product(range(count), (np.inf, -np.inf, np.nan)):
            for fill in (0.0, 1.0, -1.0, 2.0):
                xs = [np.array(fill + np.arange(np.prod(shape, dtype=int)).reshape(shape)) for _ in range(count)]
                xs[position][at] = bad
                with np.errstate(all="ignore"):
                    try:
                        value = layer.forward_array(*xs)
                    except (DomainError, ShapeMismatch, ValueError):
                        continue
                if _finite(value):
                    assert layer.hides_infinity, f"{label}({_described(xs)}) = {value}"
