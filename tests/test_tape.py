"""The tape (gradcalc.tape) is held to the plain array path, and to what it rests on: that every
ufunc it may replay raises a floating-point flag for each inf or nan it makes from finite numbers."""

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import gradcalc
from conftest import assert_same_answer, plain_path, through_api
from gradcalc import blocked, tape
from gradcalc.errors import GradcalcError
from gradcalc.evaluator import evaluate_graph
from gradcalc.layers import FUNCTIONS, REGISTRY
from gradcalc.parser import parse

UNARY = [name for name in FUNCTIONS if REGISTRY[name].arity == 1 and not REGISTRY[name].array_only]
BENCH = "sum(sigmoid(w*x + b) * ln(1 + exp(x)))"

# finite doubles where ufuncs overflow, divide by zero or leave their domain, and tame ones around them
EDGES = [0.0, -0.0, 5e-324, 1e-310, 1e-300, 0.5, 1.0, 2.0, 30.0, 700.0, 709.0, 710.0, 1e5, 1e154, 1e155,
         1e300, 1.7976931348623157e308]
GRID = sorted({sign * value for value in EDGES for sign in (1.0, -1.0)})
# finite numbers in, finite numbers out (tan of a double never meets an odd multiple of pi/2 exactly)
ALWAYS_FINITE = {np.positive, np.negative, np.sin, np.cos, np.tan, np.arctan, np.arcsinh, np.tanh}
LENGTHS = [1, 17, 1000]  # numpy's scalar loop, a SIMD body with a tail, a long SIMD body


def placed(value, length, position):
    """An array of tame 0.5s with `value` at `position` (first, middle or last)."""
    array = np.full(length, 0.5)
    array[{"first": 0, "middle": length // 2, "last": length - 1}[position]] = value
    return array


def raises_a_flag(call) -> bool:
    try:
        with np.errstate(**tape._RAISED):
            call()
    except FloatingPointError:
        return True
    return False


@pytest.mark.parametrize("ufunc", sorted(tape.TRACEABLE, key=lambda ufunc: ufunc.__name__), ids=lambda u: u.__name__)
def test_every_inf_or_nan_a_traceable_ufunc_makes_from_finite_numbers_raises_a_flag(ufunc):
    made = 0
    for length in LENGTHS:
        for position in ("first", "middle", "last"):
            for value in GRID:
                first = placed(value, length, position)
                operand_lists = [(first,)] if ufunc.nin == 1 else [(first, placed(other, length, position))
                                                                   for other in GRID]
                for operands in operand_lists:
                    with np.errstate(all="ignore"):
                        result = ufunc(*operands)
                    if np.isfinite(result).all():
                        continue
                    made += 1
                    assert raises_a_flag(lambda: ufunc(*operands)), (ufunc.__name__, [o[0] for o in operands])
    if ufunc in ALWAYS_FINITE:
        assert not made, ufunc.__name__
    else:
        assert made, f"no value of the grid makes {ufunc.__name__} non-finite: the test tests nothing"


def test_a_sum_that_overflows_raises_a_flag():
    assert raises_a_flag(lambda: np.add.reduce(np.full(1000, 1e306), axis=None))


plain = plain_path  # the unblocked, untaped array path


def assert_same(expected, got, text):
    assert_same_answer(expected, got, text, rtol=1e-13)


def tape_of(graph, values):
    """The tape recorded for `graph` at these values' shapes (None: none could be recorded)."""
    steps = graph.__dict__["blocked_program"][1]
    return steps.tapes.get(tuple(np.shape(values[name]) for name in graph.variables))


def recorded(graph, values):
    """Evaluate twice, as a tape is recorded at a shape's second call; return that tape."""
    for _ in range(2):
        evaluate_graph(graph, values)
    return tape_of(graph, values)


@pytest.mark.parametrize("name", UNARY)
def test_every_function_gives_the_plain_paths_value_and_gradients(name):
    data = np.random.default_rng(7)
    for text in (f"sum({name}(x) * y + x)", f"{name}(x * y) - y"):
        graph = parse(text)
        for _ in range(4):  # the second call records (where it can), the others replay
            values = {"x": data.uniform(0.2, 0.9, 300), "y": data.uniform(0.2, 0.9, 300)}
            assert_same(plain(graph, values), through_api(graph, values), text)


@pytest.mark.parametrize("text", [BENCH, "sum(x*y + x/y - exp(x))", "tanh(x) * sqrt(y)", "sum((x - y)*(x - y))",
                                  "sum(ln(x) + sinh(y) / cosh(x))", "sum(exp(2*x) * y)", "pi*sqrt(x) + x*2",
                                  "sum(0*x + y/2)", "exp(2)*x + sqrt(2)*y", "sum((x - y)^2)", "x^0.5 * y^3",
                                  "sum(asinh(x) + atan(y))"])  # hypot
def test_arithmetic_and_the_common_functions_are_recorded(text):
    values = {name: np.linspace(0.2, 0.9, 500) for name in ("x", "y", "w", "b")}
    graph = parse(text)
    values = {name: values[name] for name in graph.variables}
    assert isinstance(recorded(graph, values), tape.Tape), text
    assert_same(plain(graph, values), through_api(graph, values), text)


def test_the_benchmark_expression_against_its_derivative_by_hand():
    data = np.random.default_rng(3)
    w, x, b = data.normal(size=(3, 2000))
    for _ in range(3):
        result = evaluate_graph(parse(BENCH), {"w": w, "x": x, "b": b})
        t = w * x + b
        s = 1 / (1 + np.exp(-t))  # sigmoid(t)
        softplus = np.log1p(np.exp(x))
        slope = s * (1 - s) * softplus  # d/dt of sigmoid(t) * softplus(x)
        assert math.isclose(result.value, float(np.sum(s * softplus)), rel_tol=1e-13)
        np.testing.assert_allclose(result.gradients["w"], slope * x, rtol=1e-12)
        np.testing.assert_allclose(result.gradients["b"], slope, rtol=1e-12)
        np.testing.assert_allclose(result.gradients["x"], slope * w + s / (1 + np.exp(-x)), rtol=1e-12)


@pytest.mark.parametrize("text, bad", [
    ("sum(sigmoid(x) * y)", -800.0),  # exp(800) overflows inside sigmoid, whose value is 0: no error
    ("sum(exp(x) * y)", 800.0),  # exp overflows: the plain path's error
    ("sum(ln(x) * y)", -1.0),  # outside ln's domain
    ("sum(ln(x) * y)", 0.0),
    ("sum(x / (x - 0.5) * y)", 0.5),  # division by zero
    ("sum(sigmoid(x) * y)", math.inf),  # an inf input that sigmoid would hide
    ("sum(sigmoid(x) * y)", math.nan),
    ("sum(x * y)", 1e200),  # the product overflows (y = 1e200 too)
    ("sum(sqrt(x) * y)", 0.0),  # a finite value whose gradient is not (1/(2 sqrt 0))
])
def test_a_replay_that_meets_an_inf_or_nan_gives_the_plain_paths_answer(text, bad):
    graph = parse(text)
    tame = {"x": np.linspace(0.6, 0.9, 64), "y": np.linspace(0.6, 0.9, 64)}
    assert isinstance(recorded(graph, tame), tape.Tape)
    values = {"x": tame["x"].copy(), "y": np.full(64, 1e200) if bad == 1e200 else tame["y"]}
    values["x"][40] = bad
    assert_same(plain(graph, values), through_api(graph, values), text)


@pytest.mark.parametrize("where", ["w", "x", "b"])
@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_an_inf_or_nan_input_behind_sigmoid_is_refused_as_the_plain_path_refuses_it(where, bad):
    graph = parse(BENCH)  # sigmoid(w*x + b): its input is a checkpoint, computed, not an input
    values = {name: np.linspace(-1, 1, 300) for name in "wxb"}
    assert isinstance(recorded(graph, values), tape.Tape)
    values[where] = values[where].copy()
    values[where][123] = bad
    assert_same(plain(graph, values), through_api(graph, values), BENCH)


@pytest.mark.parametrize("text", ["a = sigmoid(x + 1); sum(y)", "a = x; sum(y)"])
def test_a_value_only_a_check_reads_is_still_checked(text):
    graph = parse(text)  # x reaches no output: its only use is the check of it
    tame = {"x": np.linspace(0, 1, 40), "y": np.linspace(0, 1, 40)}
    assert isinstance(recorded(graph, tame), tape.Tape)
    for bad in (math.inf, math.nan):
        values = {"x": tame["x"].copy(), "y": tame["y"]}
        values["x"][7] = bad
        assert_same(plain(graph, values), through_api(graph, values), text)


def test_an_unused_variable_gets_zeros_of_its_own_shape():
    graph = parse("a = y; sum(x)")
    values = {"x": np.linspace(0, 1, 5), "y": np.ones((2, 5))}
    assert isinstance(recorded(graph, values), tape.Tape)
    result = evaluate_graph(graph, values)
    np.testing.assert_array_equal(result.gradients["y"], np.zeros((2, 5)))
    np.testing.assert_array_equal(result.gradients["x"], np.ones(5))


def test_a_tape_keeps_no_array_of_the_call_that_recorded_it():
    graph = parse("sum(x/2 + exp(x)) ")
    one = recorded(graph, {"x": np.linspace(0, 1, 60_000)})
    kept = [value for value in one.template if isinstance(value, np.ndarray) and value.size > 1]
    assert all(value.base is not None and not any(value.strides) for value in kept)  # broadcast constants only


def test_a_large_array_with_few_rows_is_not_recorded():
    graph = parse("sum(exp(x))")
    values = {"x": np.linspace(0, 1, 70_000).reshape(1, -1)}  # one row: one run, not blocks
    for _ in range(3):
        assert math.isclose(evaluate_graph(graph, values).value, float(np.exp(values["x"]).sum()), rel_tol=1e-12)
    assert not isinstance(tape_of(graph, values), tape.Tape)


def test_a_recording_whose_replay_differs_is_not_kept(monkeypatch):
    # a constant read a hair off at replay (as a bug in the slots would read another value)
    monkeypatch.setattr(tape, "_operand", lambda constant: np.array(constant) * (1 + 2**-40))
    graph = parse("sum(x * 3 + exp(x))")
    assert recorded(graph, {"x": np.linspace(0, 1, 30)}) is None


def test_a_recording_call_that_overflows_harmlessly_records_at_a_later_call():
    graph = parse("sum(sigmoid(x) * y)")
    tame = {"x": np.linspace(-1, 1, 50), "y": np.linspace(0, 1, 50)}
    wild = {"x": np.linspace(-800, 1, 50), "y": tame["y"]}  # exp(800) overflows inside sigmoid: no error
    for values in (tame, wild):  # the second call, which records, meets the overflow
        assert_same(plain(graph, values), through_api(graph, values), "wild")
    assert not isinstance(tape_of(graph, tame), tape.Tape)
    assert isinstance(recorded(graph, tame), tape.Tape)
    assert_same(plain(graph, wild), through_api(graph, wild), "wild, replayed")


def test_no_recording_where_numpy_raises_no_flag_for_an_overflow(monkeypatch):
    monkeypatch.setattr(tape, "_PROBES", [(np.add, (1.0, 2.0))])  # as a numpy that sets no flag would look
    tape.flags_hold.cache_clear()
    try:
        assert not tape.flags_hold()
        graph = parse("sum(exp(x))")
        values = {"x": np.linspace(0, 1, 30)}
        assert recorded(graph, values) is None or not isinstance(tape_of(graph, values), tape.Tape)
    finally:
        monkeypatch.undo()
        tape.flags_hold.cache_clear()
    assert tape.flags_hold()


def test_gradients_are_fresh_arrays_that_a_later_call_leaves_alone():
    graph = parse("sum(w*x + exp(b))")
    values = {"w": np.linspace(1, 2, 50), "x": np.linspace(3, 4, 50), "b": np.linspace(0, 1, 50)}
    kept = {name: value.copy() for name, value in values.items()}
    assert isinstance(recorded(graph, values), tape.Tape)
    first = evaluate_graph(graph, values)
    second = evaluate_graph(graph, {name: value * 2 for name, value in values.items()})
    for name, value in values.items():
        np.testing.assert_array_equal(value, kept[name])  # inputs untouched
    np.testing.assert_array_equal(first.gradients["w"], kept["x"])  # d/dw = x: equal, but a copy
    np.testing.assert_array_equal(first.gradients["x"], kept["w"])
    np.testing.assert_allclose(first.gradients["b"], np.exp(kept["b"]), rtol=1e-15)
    np.testing.assert_array_equal(second.gradients["w"], 2 * kept["x"])
    arrays = [*first.gradients.values(), *second.gradients.values(), *values.values()]
    for index, gradient in enumerate(arrays[:6]):
        assert gradient.flags.writeable and gradient.flags.owndata, index
        assert not any(np.shares_memory(gradient, other) for other in arrays[index + 1:]), index


def test_an_elementwise_output_and_its_gradient_are_separate_arrays():
    graph = parse("exp(x)")  # the gradient of exp(x), seeded with ones, is exp(x) itself
    x = np.linspace(0, 1, 20)
    for _ in range(3):
        result = evaluate_graph(graph, {"x": x})
        np.testing.assert_allclose(result.value, np.exp(x), rtol=1e-15)
        np.testing.assert_array_equal(result.gradients["x"], result.value)
        assert not np.shares_memory(result.value, result.gradients["x"])


def test_threads_replaying_one_tape_get_their_own_answers():
    graph = parse(BENCH)
    data = np.random.default_rng(5)
    jobs = [dict(zip("wxb", data.normal(size=(3, 400)))) for _ in range(64)]
    expected = [plain(graph, values) for values in jobs]
    assert isinstance(recorded(graph, jobs[0]), tape.Tape)
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda values: through_api(graph, values), jobs))
    for want, have in zip(expected, got):
        assert_same(want, have, BENCH)


def test_a_shape_is_recorded_at_its_second_call_only():
    graph = parse("sum(x * exp(x))")
    for size in range(1, 30):  # each size once: nothing recorded, the answers right all the same
        values = {"x": np.linspace(0, 1, size)}
        assert_same(plain(graph, values), through_api(graph, values), "sum(x * exp(x))")
        assert not isinstance(tape_of(graph, values), tape.Tape)
    values = {"x": np.linspace(0, 1, 29)}
    evaluate_graph(graph, values)
    assert isinstance(tape_of(graph, values), tape.Tape)


def test_tapes_kept_per_graph_are_bounded():
    graph = parse("sum(x * exp(x))")
    for size in range(1, 60):
        recorded(graph, {"x": np.linspace(0, 1, size)})
    tapes = graph.__dict__["blocked_program"][1].tapes
    assert len(tapes) == 16 and all(isinstance(one, tape.Tape) for one in tapes.values())
    assert set(tapes) == {((size,),) for size in range(44, 60)}  # the shapes met last


@pytest.mark.parametrize("text", ["sum(relu(x) * x)", "sum(abs(x) * x)", "sum(x^y)", "sum(maximum(x, y) * x)",
                                  "sum(clip(x, -0.5, 0.5) * y)"])
def test_rules_that_read_values_are_not_recorded_and_still_right(text):
    graph = parse(text)
    values = {name: np.linspace(-0.9, 0.9, 101) + (1.5 if name == "x" and "^" in text else 0)
              for name in graph.variables}
    assert_same(plain(graph, values), through_api(graph, values), text)
    assert_same(plain(graph, values), through_api(graph, values), text)
    if "relu" in text or "^" in text:  # x^y: y's gradient needs np.where on stand-ins
        assert tape_of(graph, values) is None


def test_a_recording_refuses_to_write_into_an_input_or_read_a_value():
    x = np.linspace(0, 1, 8)

    def writes_its_input(traced, recorder):
        traced[0] += 1.0
        return traced[0], [traced[0]]

    def reads_a_value(traced, recorder):
        return (traced[0] * 2 if traced[0] > 0.5 else traced[0]), [traced[0]]

    assert tape.record(writes_its_input, [x]) is None
    assert tape.record(reads_a_value, [x]) is None
    np.testing.assert_array_equal(x, np.linspace(0, 1, 8))


def test_a_call_a_tape_cannot_replay_may_only_make_a_value_thrown_away():
    x = np.linspace(0.5, 1, 8)

    def throws_it_away(traced, recorder):
        np.where(np.equal(traced[0], 0.75), 1.0, traced[0])  # as xlogy's gradient of a constant exponent
        doubled = traced[0] * 2.0
        return np.add.reduce(doubled, axis=None), [doubled]

    def uses_it(traced, recorder):
        kept = np.where(np.greater(traced[0], 0.75), traced[0], 0.0) * 2.0
        return np.add.reduce(kept, axis=None), [kept]

    one = tape.record(throws_it_away, [x])
    assert isinstance(one, tape.Tape)
    value, (gradient,) = one.replay([np.linspace(1, 2, 8)])
    assert math.isclose(value, 2 * np.linspace(1, 2, 8).sum(), rel_tol=1e-15)
    np.testing.assert_array_equal(gradient, 2 * np.linspace(1, 2, 8))
    assert tape.record(uses_it, [x]) is None


def test_gradients_narrowed_by_wrt_leave_the_nodes_and_the_check_whole():
    values = {"x": np.linspace(1, 2, 5), "y": np.linspace(3, 4, 5)}
    for _ in range(3):  # the untaped call, the recording, a replay
        result = gradcalc.gradient("sum(x*y)", values, wrt="x", check=True)
        assert list(result.gradients) == ["x"] and result.check.passed
        np.testing.assert_array_equal(result.gradients["x"], values["y"])
        grads = {node.expr: node.grad for node in result.nodes}
        np.testing.assert_array_equal(grads["y"], values["x"])  # d/dy sum(x*y) = x, though not asked for


def test_a_division_by_a_constant_zero_is_the_plain_paths_error():
    graph = parse("sum(x*(1/0))")
    values = {"x": np.linspace(1, 2, 3)}
    for _ in range(3):
        expected, got = plain(graph, values), through_api(graph, values)
        assert isinstance(expected, GradcalcError)
        assert_same(expected, got, "sum(x*(1/0))")


def test_making_room_for_a_shape_drops_a_count_before_a_tape_and_tolerates_a_race():
    one = recorded(parse("sum(exp(x))"), {"x": np.ones(3)})
    tapes = {(1,): one, (2,): 1, (3,): 1}
    blocked._forget_one(tapes)
    assert list(tapes) == [(1,), (3,)]
    blocked._forget_one({})  # another thread emptied it first: nothing to do, nothing raised


def test_a_broadcast_input_at_the_recording_call_leaves_the_shape_to_a_later_call():
    graph = parse("sum(x * exp(y))")
    flat = {"x": np.full(12, 0.5), "y": np.linspace(0, 1, 12)}
    odd = {"x": np.broadcast_to(0.5, (12,)), "y": flat["y"]}  # zero strides: other branches of the rules
    for values in (flat, odd):
        assert_same(plain(graph, values), through_api(graph, values), "broadcast")
    assert isinstance(recorded(graph, flat), tape.Tape)


def test_an_input_in_another_memory_order_gets_the_same_bits_after_a_tape():
    graph = parse("sum(x^2)")
    fortran = np.random.default_rng(1).uniform(0.5, 2, (10, 20)).T  # (20, 10), a transposed view
    before = evaluate_graph(graph, {"x": fortran}).value
    assert isinstance(recorded(graph, {"x": np.ones((20, 10))}), tape.Tape)  # C order
    assert evaluate_graph(graph, {"x": fortran}).value.hex() == before.hex() == float(np.sum(fortran**2)).hex()


@pytest.mark.parametrize("bad", [None, -800.0, math.inf, 1e200])
def test_blocks_replay_tapes_and_any_block_that_meets_an_inf_takes_its_checked_steps(bad, monkeypatch):
    monkeypatch.setattr(blocked, "BLOCK", 64)  # blocks of 64 elements from 256 up, as tests/test_blocked.py
    monkeypatch.setattr(blocked, "SMALLEST", 256)
    monkeypatch.setattr(blocked, "SHARED", 256)
    graph = parse(BENCH)
    data = np.random.default_rng(11)
    values = {name: data.normal(size=3000) for name in "wxb"}
    assert_same(plain(graph, values), through_api(graph, values), BENCH)  # records the blocks' tapes
    assert isinstance(tape_of(graph, {name: np.ones(64) for name in "wxb"}), tape.Tape)
    if bad is not None:  # sigmoid(-800): harmless; inf: the plain path's refusal; 1e200: exp overflows
        values["x" if bad == 1e200 else "b"][2500] = bad
    assert_same(plain(graph, values), through_api(graph, values), f"{BENCH} with {bad}")


SATURATED = ["sum(sigmoid(w*x + b) * ln(1 + exp(x)))", "sum(sigmoid(-relu(b)) * x * w)"]


@pytest.mark.parametrize("size, block", [(500, None), (3000, 64)])
@pytest.mark.parametrize("text", SATURATED)
def test_a_block_whose_saved_intermediate_is_nan_stays_on_the_blocks_path(text, size, block, monkeypatch):
    # sigmoid's saved slope (Layer.forward_saving) is inf * 0 = nan below x = -709.78, where its
    # exp(-x) overflows (its slope there is e^-800, 0 as a double): the block takes it as 0, and
    # is not handed to the plain path (a relu's check under it would have met the nan)
    if block:
        monkeypatch.setattr(blocked, "BLOCK", block)
        monkeypatch.setattr(blocked, "SMALLEST", 4 * block)
        monkeypatch.setattr(blocked, "SHARED", 4 * block)
    graph = parse(text)
    data = np.random.default_rng(12)
    values = {name: data.normal(size=size) for name in "wxb"}
    values["b"][size - 7] = -800.0 if "relu" not in text else 800.0
    expected = plain(graph, values)
    import gradcalc.arrays

    monkeypatch.setattr(gradcalc.arrays, "forward_arrays", None)  # the plain path: not taken
    for _ in range(3):  # a tape at the second call
        got = through_api(graph, values)
        assert_same(expected, got, text)
        assert got[1]["b"][size - 7] == 0.0 and got[1]["w"][size - 7] == 0.0
        others = np.delete(got[1]["b"], size - 7)[np.delete(values["b"], size - 7) > 0]
        assert others.size and others.all()  # where relu lets them through, the others' slopes


def test_a_points_gradient_does_not_depend_on_the_points_beside_it():
    # a block with a saturated sigmoid keeps the saved slopes of its other elements: the same bits
    # as alone (σ'(20) and σ'(709.8), subnormal, where the rule of its own would round to 0)
    graph = parse("sum(sigmoid(x))")
    for x in (20.0, -20.0, 709.8, 3.0):
        alone = evaluate_graph(graph, {"x": np.array([x])}).gradients["x"][0]
        beside = evaluate_graph(graph, {"x": np.array([x, -800.0])}).gradients["x"]
        assert alone.hex() == beside[0].hex() and beside[1] == 0.0, x


def test_the_blocks_use_what_a_layer_saved(monkeypatch):
    # the speed of sigmoid's slope (bench/arrays.py) comes from forward_saving: held to it here
    from gradcalc.activations import Sigmoid

    passed = []
    rule = Sigmoid.backward_array
    monkeypatch.setattr(Sigmoid, "backward_array", lambda self, gy, y, x, saved=None: (
        passed.append(saved is not None), rule(self, gy, y, x, saved))[1])
    graph = parse("sum(sigmoid(w*x + b) * w)")  # a text of its own: its program is made with the spy
    values = {name: np.linspace(-1, 1, 500) for name in "wxb"}
    for _ in range(3):
        evaluate_graph(graph, values)
    assert passed and all(passed)


def _alternating(value, size):
    return np.resize(np.array([value, -value]), size)


# var, std, norm and trace were declared keeps_finite, which let an overflow of theirs through as a
# result; their graphs are not elementwise, so blocks and tapes hand them to the plain path, which
# must raise, naming them, at every size (a tape would be recorded at a shape's second call)
REDUCTIONS_THAT_OVERFLOW = [
    ("var(x)", "var(x)", lambda n: {"x": _alternating(1e200, n)}),  # 1e400
    ("sum(sin(x) * 0) + var(x)", "var(x)", lambda n: {"x": _alternating(1e200, n)}),
    ("sum(var(x) * x)", "var(x)", lambda n: {"x": _alternating(1e200, n)}),
    ("std(x, ddof=1)", "std(x, ddof=1)", lambda n: {"x": _alternating(1.7976931348623157e308, n)}),  # √(n/(n-1)) × it
    ("norm(x) + sum(x)", "norm(x)", lambda n: {"x": _alternating(1e308, n)}),  # 1e308 √n
    ("trace(X) + sum(X * 0)", "trace(X)",
     lambda n: {"X": np.diag(np.full(math.isqrt(n) + 1, 1e308))}),  # (√n + 1) 1e308
]


@pytest.mark.parametrize("size", [64, 300, 70_000], ids=["small", "medium", "above-a-block"])
@pytest.mark.parametrize("text, node, values", REDUCTIONS_THAT_OVERFLOW, ids=[r[0] for r in REDUCTIONS_THAT_OVERFLOW])
def test_a_reduction_that_overflows_is_the_plain_paths_error_at_every_size(text, node, values, size):
    graph = parse(text)
    values = values(size)
    for _ in range(3):
        got = through_api(graph, values)
        assert isinstance(got, gradcalc.errors.NonFiniteError) and got.message.startswith(f"{node}: "), got
        assert_same(plain(graph, values), got, text)


def test_std_of_huge_numbers_above_a_block_is_the_true_std():
    # ±1e300 alternating, 70,000 of them: mean 0, std 1e300, ∂std/∂x_i = x_i / (n std) = ±1/70,000
    graph = parse("std(x) + sum(x * 0)")
    values = {"x": _alternating(1e300, 70_000)}
    for _ in range(3):
        value, gradients = through_api(graph, values)
        assert value == 1e300
        np.testing.assert_allclose(gradients["x"], _alternating(1 / 70_000, 70_000), rtol=1e-13)


def test_the_fast_path_of_a_call_at_shapes_met_before_gives_the_usual_paths_answer(monkeypatch):
    # blocked.replayed_as_given skips shadow() and bind(): it must decline wherever they would
    # change something, and otherwise give the bits of the usual path
    from gradcalc import evaluator

    data = np.random.default_rng(21)
    w, x, b = data.normal(size=(3, 300))
    cases = [("sum(sigmoid(w*x + b) * ln(1 + exp(x)))", {"w": w, "x": x, "b": b}, True),
             ("sum(x * e)", {"x": x}, True),
             ("sum(x * e)", {"x": x, "e": 3.0}, False),  # e given a value: a variable (shadow)
             ("x*w", {"x": x, "w": w, "unused": 1.0}, False),  # a value of no variable
             ("x = 2; x*w", {"w": w}, False),  # the line binds x (bind)
             ("x*w", {"x": x, "w": w[::-1]}, False),  # not C order: no tape
             ("x*w", {"x": x, "w": np.arange(300)}, False),  # integers: bind converts them
             ("x*w", {"x": x, "w": 2.0}, False)]  # a number: no tape
    for text, values, taken in cases:
        graph = parse(text)
        for _ in range(3):  # a tape at the second call
            usual = evaluate_graph(graph, values)
        fast = blocked.replayed_as_given(graph, values)
        assert (fast is not None) == taken, text
        if taken:
            monkeypatch.setattr(evaluator, "_replayed_as_given", None)  # the usual path alone
            expected = evaluate_graph(graph, values)
            monkeypatch.undo()
            assert np.asarray(fast.value).tobytes() == np.asarray(expected.value).tobytes(), text
            for name in expected.gradients:
                assert fast.gradients[name].tobytes() == expected.gradients[name].tobytes(), (text, name)
            assert list(fast.gradients) == list(expected.gradients) and list(fast.inputs) == list(expected.inputs)
            assert [node.value.tolist() if hasattr(node.value, "tolist") else node.value for node in fast.nodes] == \
                [node.value.tolist() if hasattr(node.value, "tolist") else node.value for node in expected.nodes]
        assert not isinstance(usual, GradcalcError)
    missing = parse("x*w")
    with pytest.raises(GradcalcError, match="no value for w"):
        evaluate_graph(missing, {"x": x})


@pytest.mark.parametrize("error_state", ["numpy's context variable", "np.errstate"])
def test_a_replay_raises_numpys_errors_and_puts_the_callers_state_back(error_state, monkeypatch):
    # a replay sets numpy's error state itself (tape._ERROR_STATE) where numpy keeps it in a context
    # variable, else through np.errstate: the same answers, an overflow seen, the caller's state kept
    if error_state == "np.errstate":
        monkeypatch.setattr(tape, "_ERROR_STATE", None)
    elif tape._ERROR_STATE is None:
        pytest.skip("this numpy keeps no context variable of its error state")
    graph = parse("sum(exp(x) * y)")
    tame = {"x": np.linspace(0, 1, 40), "y": np.linspace(1, 2, 40)}
    recording = recorded(graph, tame)
    assert isinstance(recording, tape.Tape)
    for outer in ({"all": "ignore"}, {"all": "warn"}, {"over": "raise", "invalid": "call"}):
        with np.errstate(**outer):
            before = np.geterr()
            value, _ = recording.replay([tame["x"], tame["y"]])
            assert value == pytest.approx(float(np.sum(np.exp(tame["x"]) * tame["y"])), rel=1e-15)
            assert recording.replay([np.full(40, 800.0), tame["y"]]) is None  # exp(800) overflows
            assert np.geterr() == before, outer
    assert np.geterr() == {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}
