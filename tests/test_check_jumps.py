"""--check at jumps and cone tips: no `mismatch` where reverse mode is right, and still `mismatch`
where it is wrong.

floor(x) at 316.2 used to be a mismatch: steps of 128, 64, 32 cross many jumps, floor(x ± 128) =
floor(x) ± 128 looks exactly linear (slope 1), and the sign test on sin(πx) sees an even number of
jumps as none. norm(x) at [1.7e-20, 2e-200] too: the steps passed by the cone's tip, and every
difference rounded to 0 against a slope of 1. Each expected derivative here is written out by hand
(math.floor, Python's %, mpmath), not taken from gradcalc.
"""

import json
import math
import random
import subprocess
import sys

import mpmath
import pytest
from hypothesis import settings

from gradcalc import gradient
from gradcalc.check import KINK_RADIUS, RESOLUTION, SAFETY
from gradcalc.layer import Layer
from gradcalc.layers import REGISTRY
from gradcalc.parser import clear_caches

np = pytest.importorskip("numpy")


def gradcalc(*argv):
    return subprocess.run([sys.executable, "-m", "gradcalc", *argv], capture_output=True, text=True, timeout=60)


# the commands of the report, with the derivative by hand at 316.2 (floor 316, ceil 317, 316.2 % 3 = 1.2)
@pytest.mark.parametrize("expr,exact", [
    ("floor(x)", 0.0), ("mod(x, 3)", 1.0), ("ceil(x)*x", 317.0), ("floor(x)*x", 316.0),
    ("round(x)", 0.0), ("sign(x-316)", 0.0), ("mod(x, 2)", 1.0), ("floor(x)^2", 0.0),
])
def test_the_reported_commands_check_out(expr, exact):
    done = gradcalc(expr, "--x", "316.2", "--check", "-o", "json")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    check = json.loads(done.stdout)["check"]["x"]
    assert check["verdict"] == "ok" and check["analytic"] == exact, check
    assert check["numeric"] == pytest.approx(exact, rel=RESOLUTION / SAFETY, abs=1e-9), check
    done = gradcalc(expr, "--x", "316.2", "--check")  # the table, as typed
    assert done.returncode == 0 and "mismatch" not in done.stdout + done.stderr


def distance_to_jump(expr: str, x: float) -> float:
    """How far x is from the nearest jump of the expression's piecewise function."""
    if expr.startswith("mod"):
        return abs(x / 3 - round(x / 3)) * 3
    if expr.startswith("round"):
        return abs(x - math.floor(x) - 0.5)
    return abs(x - round(x))


# expression, ∂/∂x by hand (between jumps)
PIECEWISE = [
    ("floor(x)", lambda x: 0.0), ("ceil(x)", lambda x: 0.0), ("round(x)", lambda x: 0.0),
    ("mod(x, 3)", lambda x: 1.0),
    ("floor(x)*x", lambda x: math.floor(x)), ("ceil(x)*x", lambda x: math.ceil(x)),
    ("round(x)*x", lambda x: round(x)), ("mod(x, 3)*x", lambda x: x % 3 + x),
]
MAGNITUDES = [1e-3, 0.5, 316.2, 1e6 + 0.3, 1e15 + 0.5]


def random_points(magnitude, count):
    seed = 11 if settings().derandomize else random.randrange(2 ** 32)
    rng = random.Random(seed)
    return seed, [magnitude] + [rng.choice((1, -1)) * magnitude * (1 + rng.uniform(-0.25, 0.25))
                                for _ in range(count - 1)]


@pytest.mark.parametrize("magnitude", MAGNITUDES)
@pytest.mark.parametrize("expr,exact", PIECEWISE, ids=[p[0] for p in PIECEWISE])
def test_no_mismatch_at_random_points(expr, exact, magnitude):
    seed, points = random_points(magnitude, 30)
    verdicts = []
    for x in points:
        (row,) = gradient(expr, {"x": x}, check=True).check.rows
        verdicts.append(row.verdict)
        assert row.verdict in ("ok", "kink"), (seed, x, row)
        if row.verdict == "kink":  # honest: a jump really is within the kink radius
            assert distance_to_jump(expr, x) <= KINK_RADIUS * max(abs(x), 1.0), (seed, x, row)
            assert "jumps within" in row.note
        else:
            assert row.analytic == pytest.approx(exact(x), rel=1e-15), (seed, x, row)
            assert row.numeric == pytest.approx(exact(x), rel=RESOLUTION / SAFETY, abs=1e-12), (seed, x, row)
    if magnitude <= 316.2:  # a jump within 2^-20 max(|x|, 1) is rare here: the check decides nearly always
        assert verdicts.count("ok") >= 0.9 * len(verdicts), (seed, verdicts)
    if magnitude == 1e15 + 0.5:  # every jump within 2^-20·1e15 ≈ 1e9: nothing to check, said so
        assert set(verdicts) == {"kink"}


def straight_through(self, ops, gy, *rest):
    """A rounding function's derivative taken as 1 (the identity's): wrong wherever it is defined."""
    return (gy,)


def scaled_product(self, ops, gy, out, x, y):
    return gy * y * (1 + 1e-4), gy * x * (1 + 1e-4)


def dropped_dividend(self, ops, gy, out, x, y):
    return 0.0 * gy, -gy * ops.floor((x - out) / y + 0.5)


def away_from_jumps(expr, magnitude, count):
    """Random points of about this magnitude, farther from every jump than the kink radius 2^-20 max(|x|, 1)
    (a `kink` verdict needs a jump nearer than that): halfway between two jumps once |x| > 1."""
    seed, points = random_points(magnitude, count)
    if magnitude > 1:
        middle = {"mod": lambda x: 3 * math.floor(x / 3) + 1.5, "round": round}.get(expr[:expr.index("(")])
        points = [(middle or (lambda x: math.floor(x) + 0.5))(x) for x in points]
    return seed, [x for x in points if distance_to_jump(expr, x) > KINK_RADIUS * max(abs(x), 1.0)]


# not 1e6: there the kink radius, 0.95 to 1.2, is as wide as the distance between floor's jumps
@pytest.mark.parametrize("magnitude", [1e-3, 0.5, 316.2, 1e5 + 0.3])
@pytest.mark.parametrize("expr,exact,layer,bug", [
    ("floor(x)*x", math.floor, "floor", straight_through), ("ceil(x)*x", math.ceil, "ceil", straight_through),
    ("round(x)*x", round, "round", straight_through), ("floor(x)*x", math.floor, "mul", scaled_product),
    ("mod(x, 3)*x", lambda x: x % 3 + x, "mod", dropped_dividend),
    ("floor(x)", lambda x: 0.0, "floor", straight_through),
], ids=lambda p: p.__name__ if callable(p) and p.__name__ != "<lambda>" else None)
def test_a_planted_bug_is_still_caught_away_from_jumps(monkeypatch, expr, exact, layer, bug, magnitude):
    # the old check said `ok` to floor(x)*x's straight-through derivative floor(x) + x at 316.2: its
    # steps across 128 jumps measured exactly that slope
    seed, points = away_from_jumps(expr, magnitude, 30)
    clear_caches()
    monkeypatch.setattr(REGISTRY[layer], "backward", bug)
    monkeypatch.setattr(REGISTRY[layer], "inlined", False)  # the scalar loops must call it
    try:
        rows = [(x, gradient(expr, {"x": x}, check=True).check.rows[0]) for x in points]
    finally:
        clear_caches()
    # where the bug leaves the derivative as it is (0 * (1 + 1e-4) where floor(x) = 0) there is nothing to catch
    changed = [(x, row) for x, row in rows if row.analytic != pytest.approx(exact(x), rel=1e-15)]
    assert len(changed) >= len(rows) / 3, seed
    missed = [(x, row) for x, row in changed if row.verdict != "mismatch"]
    assert not missed, (seed, missed[:3])


def test_the_step_is_kept_off_the_jumps():
    # at 316.2 the nearest jump is 0.2 away: the largest usable step is 0.125, not 128
    (row,) = gradient("floor(x)*x", {"x": 316.2}, check=True).check.rows
    assert row.numeric == 316.0 and row.abs_error == 0.0
    (row,) = gradient("floor(x)*x", {"x": 3.0}, check=True).check.rows  # on a jump: the slope is a convention
    assert (row.verdict, row.note) == ("kink", "floor(x) jumps within 2.86e-06 of this point")


def test_clip_across_both_bounds_is_seen():
    # (x - lo)(x - hi) has the same sign below lo and above hi: a step from one to the other crossed both
    layer = REGISTRY["clip"]()
    pieces = [layer.piece(np.float64(x), 0.0, 1.0) for x in (-0.5, 0.5, 1.5)]
    assert pieces[0] != pieces[1] != pieces[2] and pieces[0] != pieces[2]


def one_argument_kinks():
    """Each elementwise kink layer of the registry (not a cone), with the values of its other inputs."""
    others = {1: (), 2: (0.7,), 3: (0.7, 1.9)}
    found = {}
    for name, cls in REGISTRY.items():
        if cls.kink and not cls.array_only and not cls.internal and cls.tip is Layer.tip:
            found.setdefault(cls, pytest.param(cls(), others[cls.arity], id=name))
    return list(found.values())


@pytest.mark.parametrize("layer,others", one_argument_kinks())
def test_pieces_change_across_every_jump_and_kink(layer, others):
    """On a grid 1/64 apart over [-300, 300] (shifted off the kinks), wherever the value or its slope
    jumps between neighbours, the piece changes; and two points on the same piece, however far apart,
    have no jump or kink between them (the sign of sin(πx) fails this at points 2 apart)."""
    step = 1 / 64
    grid = -300 + step * (np.arange(int(600 / step)) + 0.37)
    with np.errstate(all="ignore"):
        values = np.asarray(layer.forward_array(grid, *others), dtype=float)
        pieces = np.broadcast_to(layer.piece(grid, *others), grid.shape)
    bent = np.abs(values[2:] - 2 * values[1:-1] + values[:-2]) > 1e-3  # smooth pieces: at most ~step²
    changes = (pieces[1:] != pieces[:-1])
    assert np.all(changes[:-1][bent] | changes[1:][bent]), "a kink or jump within one piece"
    rng = np.random.default_rng(3)
    starts = rng.integers(0, grid.size - 2, 2000)
    ends = np.minimum(starts + rng.integers(2, 200 * 64, starts.size), grid.size - 1)
    bends_before = np.concatenate([[0, 0], np.cumsum(bent)])  # bends_before[k]: bent triples centred before k
    same_piece = pieces[starts] == pieces[ends]
    crossed = bends_before[ends] - bends_before[starts + 1] > 0
    assert not np.any(same_piece & crossed), grid[starts[same_piece & crossed][:3]]


def norm_derivative(values, i):
    values = [mpmath.mpf(v) for v in values]
    return float(values[i] / mpmath.sqrt(sum(v * v for v in values)))


# the points of the report and the ones that failed (tips passed by, or 1e-300 taken for the origin)
NEAR_THE_TIP = [[1e-9, 2e-9], [0.0, 1e-300], [1e-200, 0.0], [0.0, 0.0, 1e-9],
                [1.691236883290129e-20, 1.956225879895713e-200],
                [-1.4091169085802542e-160, 1.5492107148239398e-20, 8.794503774518845e-301], [8.8e-21, 0.0]]


@pytest.mark.parametrize("values", NEAR_THE_TIP, ids=str)
def test_norm_near_its_tip(values):
    rows = gradient("norm(x)", {"x": values}, check=True).check.rows
    for i, row in enumerate(rows):
        assert row.verdict in ("ok", "unreliable"), row  # far from 0 relative to the tip, never a kink
        assert row.analytic == pytest.approx(norm_derivative(values, i), rel=1e-15, abs=1e-300)
        if row.verdict == "ok":
            assert row.numeric == pytest.approx(norm_derivative(values, i), rel=RESOLUTION / SAFETY, abs=1e-300)
    # the moved element: its slope is all of the norm's; it is checked with steps below half the norm
    largest = int(np.argmax(np.abs(values)))
    assert rows[largest].verdict == "ok" and "near the tip of norm(x)" in rows[largest].note
    if len(values) == 2:
        (x, y) = values
        rows = gradient("hypot(x, y)", {"x": x, "y": y}, check=True).check.rows
        assert [row.verdict for row in rows][largest] == "ok" and all(row.verdict != "mismatch" for row in rows)
        rows = gradient("sum(x / norm(x))", {"x": values}, check=True).check.rows
        assert all(row.verdict != "mismatch" for row in rows), rows


def test_norm_at_its_tip_is_a_kink():
    rows = gradient("norm(x)", {"x": [0.0, 0.0]}, check=True).check.rows
    note = "norm(x) changes slope within 9.54e-07 of this point"
    assert [(row.verdict, row.note) for row in rows] == [("kink", note)] * 2


@pytest.mark.parametrize("values", [[1e-9, 2e-9], [1.691236883290129e-20, 1.956225879895713e-200], [3.0, 4.0]], ids=str)
def test_a_wrong_norm_derivative_is_caught_near_its_tip(monkeypatch, values):
    from gradcalc.array_functions import Norm

    clear_caches()
    original = Norm.backward
    monkeypatch.setattr(Norm, "backward", lambda self, *a: tuple(g * (1 + 1e-4) for g in original(self, *a)))
    try:
        rows = gradient("norm(x)", {"x": values}, check=True).check.rows
    finally:
        clear_caches()
    largest = int(np.argmax(np.abs(values)))
    assert rows[largest].verdict == "mismatch" and all(row.verdict != "ok" or row.analytic == 0 for row in rows)
