"""Values given to the Python API: an element of a list that is not a real number is named with
its index and type (numpy read a masked array's hidden data, bytes as numbers), a ragged row with
its length, and every refusal says how to fix it (new-user trial)."""

import array
import datetime
import decimal
import fractions
import warnings

import numpy as np
import pytest

import gradcalc
from gradcalc.errors import ValueFormatError

OTHER = "every element must be a real number (an int or a float), or a list of them"
MASKED = "fill the masked elements (x.filled(value)) or drop them (x.compressed()) before passing it"
BYTES = "bytes are not numbers: convert them first, e.g. np.frombuffer(data, dtype=np.float64)"


def refusal(value, expression="sum(x*2)"):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "converting a masked element to nan" reached stderr
        with pytest.raises(ValueFormatError) as caught:
            gradcalc.evaluate(expression, x=value)
    return caught.value.message, caught.value.hint


@pytest.mark.parametrize("value, where, shown, hint", [
    # numpy used the masked 5 (12.0), read bytes as numbers (390.0, 6.0), made the mask a nan
    ([np.ma.masked_array([1.0, 5.0], mask=[0, 1])], (0,),
     "masked_array(data=[1.0, --], mask=[False, True], fill_value=1e+20) (of type numpy.ma.MaskedArray)", MASKED),
    ([1.0, np.ma.masked], (1,), "masked (of type numpy.ma.MaskedConstant)", MASKED),
    ([memoryview(b"ab")], (0,), None, BYTES),
    ([bytearray(b"\x01\x02")], (0,), "bytearray(b'\\x01\\x02') (of type bytearray)", BYTES),
    # these were "not a rectangular array of numbers", hint "every row needs the same length"
    ([1, None], (1,), "None (of type NoneType)", "every element needs a value: a missing one has no place in an array"),
    ([{"a": 1}], (0,), "{'a': 1} (of type dict)", OTHER),
    ([1, decimal.Decimal("1.5")], (1,), "Decimal('1.5') (of type decimal.Decimal)", "convert it with float()"),
    ([1, datetime.date(2026, 11, 28)], (1,), "datetime.date(2026, 11, 28) (of type datetime.date)",
     "convert dates to numbers first, e.g. days since a start: (d - start).days"),
    (np.array(["a", 1], dtype=object), (0,), "'a' (of type str)",
     "numbers are not text: float('1.5') converts a number's text"),
    ([[1.0, 2.0], [3.0, None]], (1, 1), "None (of type NoneType)",
     "every element needs a value: a missing one has no place in an array"),
    # these had no hint at all
    (["a", "b"], (0,), "'a' (of type str)", "numbers are not text: float('1.5') converts a number's text"),
    ([1.0, True], (1,), "True (of type bool)",
     "booleans are not numbers: write 1.0 and 0.0 if you mean them as numbers"),
    ([1, 2j], (1,), "2j (of type complex)",
     "values are real: pass the real part (z.real), or the real and imaginary parts as two variables"),
])
def test_an_element_that_is_not_a_real_number_is_named_with_its_index_and_type(value, where, shown, hint):
    message, given_hint = refusal(value)
    assert message.startswith(f"the value of x at index {where} is ") and message.endswith(", not a number")
    if shown is not None:
        assert message == f"the value of x at index {where} is {shown}, not a number"
    assert given_hint == hint


class Opaque:
    def __repr__(self):
        raise RuntimeError("boom")  # it escaped gradcalc as a bare RuntimeError


def test_a_value_whose_repr_raises_is_named_by_its_type():
    assert refusal(Opaque(), "x")[0] == "the value of x is a value of type test_api_values.Opaque, not a number"
    assert refusal([1.0, Opaque()])[0] == ("the value of x at index (1,) is a value of type "
                                           "test_api_values.Opaque, not a number")


@pytest.mark.parametrize("value, message, hint", [
    (np.array(["a", "b"]), "the value of x holds strings, not numbers",
     "numbers are not text: np.asarray(x, dtype=float) converts numbers' text"),
    (np.array([True, False]), "the value of x holds booleans, not numbers",
     "booleans are not numbers: x.astype(float) if you mean them as 1.0 and 0.0"),
    (np.array([1 + 2j]), "the value of x is complex; values must be real numbers",
     "values are real: pass the real part (x.real), or the real and imaginary parts as two variables"),
    (np.array(["2026-11-28"], dtype="datetime64[D]"), "the value of x holds dates, not numbers",
     "convert dates to numbers first, e.g. days since the first: (x - x[0]) / np.timedelta64(1, 'D')"),
    (np.array([(1, 2.0)], dtype=[("a", int), ("b", float)]), "the value of x holds records, not numbers",
     "pass one field of the record array, e.g. x['a'] (its fields: a, b)"),
    (10**400, "the value of x is too large for a float (beyond ±1.8e308)",
     "scale it into the double range (about ±1.8e308), e.g. by choosing other units"),
    (float("nan"), "the value of x is nan; values must be finite numbers",
     "give a finite number: inf and nan have no derivative to compute"),
])
def test_every_refusal_of_a_value_says_how_to_fix_it(value, message, hint):
    assert refusal(value) == (message, hint)


@pytest.mark.parametrize("value, message", [
    ([[1, 2], [3]], "the row at index (1,) has 1 element, the row at index (0,) has 2"),
    ([[[1, 2]], [[3, 4, 5]]], "the row at index (1, 0) has 3 elements, the row at index (0, 0) has 2"),
    ([[1, 2], 3], "the element at index (1,) is a number, the one at index (0,) a row"),
    ([1, [2]], "the element at index (1,) is a row, the one at index (0,) a number"),
])
def test_a_ragged_value_names_the_row_that_differs(value, message):
    assert refusal(value) == (f"the value of x is not a rectangular array: {message}",
                              "every row needs the same number of elements, e.g. [[1, 2], [3, 4]]")


def _nested(depth):
    value = 1.0
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [65, 5000])
def test_lists_nested_more_than_64_deep_are_refused_naming_the_limit(depth):
    assert refusal(_nested(depth)) == ("the value of x nests lists more than 64 levels deep "
                                       "(numpy's limit on an array's dimensions)",
                                       "give an array of at most 64 dimensions")


def test_what_is_still_read():
    # sum(x*2) = 2 * the sum of the elements, whatever real-number types hold them
    assert gradcalc.evaluate("sum(x)", x=_nested(64)).value == 1.0
    assert gradcalc.evaluate("sum(x*2)", x=[np.float32(1.5), np.int64(2), fractions.Fraction(1, 2)]).value == 8.0
    assert gradcalc.evaluate("sum(x*2)", x=((1, 2), (3, 4))).value == 20.0
    assert gradcalc.evaluate("sum(x*2)", x=[np.array([1.0, 2.0]), np.array([3, 4])]).value == 20.0
    assert gradcalc.evaluate("sum(x*2)", x=np.array([1, fractions.Fraction(1, 2)], dtype=object)).value == 3.0


class Tensor:  # what torch, jax and xarray arrays have in common
    def __array__(self, dtype=None, copy=None):
        return np.ones(2)

    def __repr__(self):
        return "tensor([1., 1.])"


def test_an_array_of_another_library_is_told_to_go_through_numpy():
    assert refusal(Tensor()) == ("the value of x is tensor([1., 1.]) (of type test_api_values.Tensor), not a number",
                                 "convert it with np.asarray(...) first")


@pytest.mark.parametrize("value, kind", [(Ellipsis, "ellipsis"), (array.array("d", [1.0]), "array.array")])
def test_a_type_is_named_without_a_wrong_article(value, kind):
    message, _ = refusal(value)
    assert message.endswith(f"(of type {kind}), not a number")  # it said "(a ellipsis)", "(a array.array)"
