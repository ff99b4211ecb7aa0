"""forward(graph, inputs) and backward(graph, ...) -> Result. Both are loops over the node list
(creation order is topological order): no recursion, however deep the expression."""

import math
from dataclasses import dataclass
from functools import cached_property
from numbers import Real

from gradcalc.errors import (
    DomainError,
    MissingValueError,
    NonFiniteError,
    UsageError,
    ValueFormatError,
    command_line_values,
    missing_value_hint,
    variables_hint,
)
from gradcalc.formatting import format_number, shorten
from gradcalc.graph import Graph
from gradcalc.layers import Multiply, Plus
from gradcalc.node_errors import derivative_error, node_error, sum_overflow_error
from gradcalc.ops import ScalarOps
from gradcalc.option_errors import at_value


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """One node of an evaluated graph: what it is, what it computed, ∂output/∂node."""

    id: int
    layer: str
    expr: str
    inputs: tuple[int, ...]
    value: float
    grad: float | None  # None for a node no variable flows into (a constant)
    name: str | None = None


class Result:
    """An evaluated expression: output value, ∂output/∂variable, and every node's record."""

    # set on a result by the options that ask for them; None on the class, so that making a
    # result (once per batch line, per small-array call) costs only what every result holds
    check = None  # a gradcalc.check.CheckReport when --check asked for one
    seed = None  # the upstream gradient given for the output, if any (default: ones)
    uncertainty = None  # a gradcalc.uncertainty.Uncertainty when inputs carry ± σ
    derivatives = None  # {order: nested dict} when --order N > 1 asked for them
    jacobian = None  # {name: array} with --jacobian
    jvp = None  # the directional derivative with --jvp
    hvp = None  # {name: (H v)[name]} with --hvp
    explain = None  # the chain rule's steps (gradcalc.explain.Step) when --explain asked for them

    def __init__(self, graph: Graph, inputs: dict, values: list, grads: list):
        variables = graph.variables
        self._hold(graph, inputs, values[graph.output],
                   {name: grads[variables[name]] for name in graph.sorted_variables})
        self.values = values  # per node id
        self.grads = grads  # per node id

    def _hold(self, graph: Graph, inputs: dict, value, gradients: dict):
        """What every result holds: its graph, inputs, value and gradients (by sorted name)."""
        self.graph = graph
        self.expression = graph.source
        self.inputs = inputs  # name -> value used, in order of first use
        self.value = value
        self.gradients = gradients

    @cached_property
    def nodes(self) -> list[NodeRecord]:
        graph, values, grads = self.graph, self.values, self.grads
        return [NodeRecord(node.id, type(node.layer).__name__, graph.text(node), node.inputs,
                           values[node.id], grads[node.id], " = ".join(node.names) or None)
                for node in graph.nodes]

    def gradients_for(self, wrt) -> dict:
        """The gradients named in `wrt` (all of them when `wrt` is empty)."""
        if not wrt:
            return self.gradients
        check_wrt(wrt, self.gradients)
        return {name: self.gradients[name] for name in dict.fromkeys(wrt)}

    def __repr__(self):
        return f"Result(expression={shorten(self.expression)!r}, value={self.value!r}, gradients={self.gradients!r})"


def check_wrt(wrt, variables) -> None:
    """Refuse a --wrt name that is not one of `variables`: every output format says so, and none
    prints anything of the job first."""
    unknown = [name for name in wrt if name not in variables]
    if unknown:
        raise at_value(f"the expression has no variable {unknown[0]}", "--wrt", unknown[0],
                       variables_hint(unknown[0], variables, "--wrt "), kind=UsageError)



def bind(graph: Graph, values: dict, check_finite: bool = True) -> dict:
    """The value of every variable: the line's own bindings win over `values`. Without
    `check_finite`, arrays are not yet checked for inf and nan (`check_arrays` does it later)."""
    inputs, missing, bindings, isfinite = {}, [], graph.bindings, math.isfinite
    # float64 arrays as they are, once numpy is loaded: without _number's checks (~0.3 µs an array)
    ndarray, float64 = (_ARRAYS[3], _ARRAYS[2]) if _ARRAYS is not None and not check_finite else (None, None)
    for name in graph.variables:
        value = bindings.get(name, values.get(name))
        if type(value) is float and isfinite(value):  # the common case, without _number's checks
            inputs[name] = value
        elif type(value) is ndarray and value.dtype is float64 and value.ndim:
            inputs[name] = value
        elif value is None:
            missing.append(name)
        else:
            inputs[name] = _number(name, value, check_finite)
    if missing:
        missing.sort()
        first = graph.nodes[graph.variables[missing[0]]]  # its first use, where the caret points
        raise MissingValueError(f"no value for {_join(missing)}", names=missing, source=graph.source, span=first.span,
                                hint=missing_value_hint(missing, command_line_values(missing)))
    return inputs


def _number(name, value, check_finite: bool = True):
    """A float, or for arrays (numpy arrays, nested lists) a float64 ndarray."""
    if isinstance(value, (list, tuple)) or type(value).__module__ == "numpy":
        return _array(name, value, check_finite)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise _not_a_number(name, value)
    try:
        value = float(value)
    except OverflowError:  # an int (or Fraction) beyond the double range: 10**400
        from gradcalc.value_checks import TOO_LARGE_HINT

        raise ValueFormatError(f"the value of {name} is too large for a float (beyond ±1.8e308)",
                               hint=TOO_LARGE_HINT) from None
    if not math.isfinite(value):
        from gradcalc.value_checks import NOT_FINITE_HINT

        raise ValueFormatError(f"the value of {name} is {value}; values must be finite numbers", hint=NOT_FINITE_HINT)
    return value


def _not_a_number(name, value) -> ValueFormatError:
    """The value's repr on one short line, then its type (a masked array's repr is several lines,
    and a __repr__ may raise)."""
    from gradcalc.value_checks import described, element_hint

    message = f"the value of {name} is {described(value)}, not a number"
    if type(value).__module__.startswith("numpy.ma"):  # masked elements have no value to differentiate at
        return ValueFormatError(message, hint=f"pass {name}.filled(value) or {name}.compressed()")
    return ValueFormatError(message, hint=element_hint(value, "give a number, or a list or numpy array of numbers"))


_ARRAYS = None  # (numpy, all_finite, float64's dtype, ndarray), set by the first array: nothing of numpy before


def _array(name, value, check_finite: bool = True):
    global _ARRAYS
    if _ARRAYS is None:  # `from a.b import c` costs ~0.5 µs, and this runs per array per call
        import numpy

        from gradcalc.memory import keep_freed_memory
        from gradcalc.numeric import all_finite

        keep_freed_memory()  # once per process: else every evaluation's temporaries fault pages in
        _ARRAYS = numpy, all_finite, numpy.dtype(numpy.float64), numpy.ndarray
    np, all_finite, float64, _ = _ARRAYS
    # dtypes of native byte order are singletons: `is` costs half of == (a big-endian one converts below)
    if type(value) is np.ndarray and value.dtype is float64 and value.ndim:  # as it is: no checks to make
        if check_finite and not all_finite(value):
            raise _non_finite(name, value)
        return value
    # the rest only for values that are not float64 arrays yet
    from gradcalc.numeric import not_numbers
    from gradcalc.value_checks import (
        TOO_LARGE_HINT,
        dtype_hint,
        holds_only_numbers,
        object_array_error,
        odd_element_error,
        ragged_error,
    )

    nested = isinstance(value, (list, tuple))
    if nested and not holds_only_numbers(value):  # numpy would read a masked array's hidden data, bytes as numbers
        raise odd_element_error(name, value, ValueFormatError) or _not_rectangular(name)
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        raise (ragged_error(name, value, ValueFormatError) if nested else None) or _not_rectangular(name) from None
    if array.dtype.kind == "O" and not nested:  # nested lists' elements are checked above
        error = object_array_error(name, array, ValueFormatError)
        if error is not None:
            raise error
    reason = not_numbers(array) if array.dtype.kind != "O" else None  # objects: checked above
    if reason is not None:  # float() would drop an imaginary part, with a ComplexWarning
        raise ValueFormatError(f"the value of {name} {reason}", hint=dtype_hint(name, array))
    try:
        with np.errstate(over="raise"):  # a long double beyond the double range
            array = array.astype(float, copy=False)  # a float64 array as it is: layers never write to one
    except (OverflowError, FloatingPointError):  # or a Python int: 10**400
        raise ValueFormatError(f"the value of {name} has an element too large for a float "
                               "(beyond ±1.8e308)", hint=TOO_LARGE_HINT) from None
    if array.ndim == 0:
        if not math.isfinite(float(array)):
            raise _non_finite(name)
        return float(array)
    if check_finite and not all_finite(array):  # a summing pass first: no full-size temporary of booleans
        raise _non_finite(name, array)
    return array


def _not_rectangular(name) -> ValueFormatError:
    from gradcalc.values import RECTANGULAR_HINT

    return ValueFormatError(f"the value of {name} is not a rectangular array of numbers", hint=RECTANGULAR_HINT)


def check_arrays(inputs: dict) -> None:
    """The check bind(check_finite=False) left out: every array input finite."""
    from gradcalc.numeric import all_finite

    for name, value in inputs.items():
        if type(value) is not float and not all_finite(value):
            raise _non_finite(name, value)


def _non_finite(name, array=None) -> ValueFormatError:
    """The error for a value with inf or nan in it, naming the first such element of an array."""
    where = ""
    if array is not None:
        from gradcalc.numeric import first_non_finite

        where = f" ({first_non_finite(array)})"
    return ValueFormatError(f"the value of {name} has a non-finite element{where}; values must be finite",
                            hint="replace inf and nan by numbers, or leave those elements out "
                                 "(with numpy: values[np.isfinite(values)])")


def _join(names) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def uses_arrays(graph: Graph, inputs: dict) -> bool:
    """Whether evaluating `graph` at `inputs` takes numpy (an array value or an array operation)."""
    if graph.needs_arrays:
        return True
    for value in inputs.values():  # a loop, not any(): this runs once per job of a batch
        if type(value) is not float:
            return True
    return False


def forward(graph: Graph, inputs: dict) -> list:
    """The value of every node, by node id."""
    if uses_arrays(graph, inputs):
        from gradcalc.arrays import forward_arrays

        return forward_arrays(graph, inputs)
    values = graph.value_template.copy()
    for name, index in graph.variables.items():
        values[index] = inputs[name]
    index = None
    try:
        for index, function, first, second in graph.forward_program:
            if function is Plus:  # inlined: a call would cost more than the operation
                values[index] = values[first] + values[second]
            elif function is Multiply:
                values[index] = values[first] * values[second]
            elif second < 0:
                values[index] = function(values[first])
            else:
                values[index] = function(values[first], values[second])
    except DomainError as error:  # the layer's message already names a single argument
        node = graph.nodes[index]
        raise node_error(graph, node, DomainError, error.message, values,
                  show_inputs=len(node.inputs) > 1) from None
    except (OverflowError, ZeroDivisionError):
        raise node_error(graph, graph.nodes[index], NonFiniteError, "the value overflows a float",
                  values) from None
    if not math.isfinite(sum(values)):  # one C loop; only on failure look for the culprit
        for node in graph.nodes:
            if not math.isfinite(values[node.id]):
                raise node_error(graph, node, NonFiniteError, f"the value is {values[node.id]}", values)
    return values


def backward(graph: Graph, values: list, seed=None, wrt=()) -> list:
    """∂output/∂node for every node: 0.0 where the output does not depend on it, None for
    constants. Accumulates out of place on fan-out, so no layer can corrupt a sibling's gradient.
    `seed` is ∂L/∂output (default 1, or ones for an array output: the gradient of its sum).
    `wrt`: the variables whose gradients must be finite (default: all), as gradcalc.wrt says."""
    if type(values[graph.output]) is not float or graph.needs_arrays or (seed is not None and type(seed) is not float):
        from gradcalc.arrays import backward_arrays

        return backward_arrays(graph, values, seed, wrt=wrt)
    seed = 1.0 if seed is None else seed
    grads = graph.gradient_template.copy()  # -0.0 on the output's path: sums keep a gradient's -0.0
    grads[graph.output] = seed
    index = None
    try:
        for index, layer, first, second in graph.backward_program:
            if layer is Plus:  # inlined: gy flows to both inputs unchanged (finite if gy is)
                gy = grads[index]
                grads[first] += gy
                grads[second] += gy
            elif layer is Multiply:  # inlined: d(xy)/dx = y, d(xy)/dy = x
                gy = grads[index]
                grads[first] += gy * values[second]
                grads[second] += gy * values[first]
            elif second < 0:
                (gx,) = layer.backward(ScalarOps, grads[index], values[index], values[first])
                grads[first] += gx
            else:
                gx0, gx1 = layer.backward(ScalarOps, grads[index], values[index], values[first], values[second])
                grads[first] += gx0
                grads[second] += gx1
    except (OverflowError, ZeroDivisionError):
        if not wrt:
            raise derivative_error(graph, graph.nodes[index], values) from None
        return _checked_backward(graph, values, seed, wrt)  # maybe a gradient nobody wants
    for index in graph.constant_ids:  # they took gradients nobody needs: constants have none
        grads[index] = None
    if not math.isfinite(sum(filter(None, grads))):
        return _checked_backward(graph, values, seed, wrt)  # find the node that overflowed
    return grads


def _checked_backward(graph: Graph, values: list, seed: float, wrt) -> list:
    """backward again, checking each gradient a node passes on: the first that is not finite where
    one is needed (gradcalc.wrt.needed) is the error; where none is, it is dropped."""
    from gradcalc.wrt import drop_unwanted, needed, rule_without_raising, wanted_nodes

    wanted = wanted_nodes(graph, wrt) if wrt else None
    needs, nodes = needed(graph, wanted), graph.nodes  # a moved view copies its nodes when asked
    grads = graph.gradient_template.copy()
    grads[graph.output] = seed
    for index, layer, first, second in graph.backward_program:
        gy = grads[index]
        inputs = (first,) if second < 0 else (first, second)
        try:
            if layer is Plus:
                gradients = (gy, gy)
            elif layer is Multiply:
                gradients = (gy * values[second], gy * values[first])
            else:
                gradients = layer.backward(ScalarOps, gy, values[index], *[values[i] for i in inputs])
        except (OverflowError, ZeroDivisionError):
            if all(needs[i] for i in inputs):
                raise derivative_error(graph, nodes[index], values) from None
            gradients = [float(g) for g in rule_without_raising(nodes[index].layer, gy, values[index],
                                                                 [values[i] for i in inputs])]
        for position, (i, gx) in enumerate(zip(inputs, gradients)):
            if needs[i] and not math.isfinite(gx):
                raise derivative_error(graph, nodes[index], values, None if wanted is None else position)
            grads[i] += gx
            if needs[i] and not math.isfinite(grads[i]):  # finite parts whose sum overflows
                raise sum_overflow_error(graph, nodes[index], values, i, format_number(grads[i]))
    for index in graph.constant_ids:
        grads[index] = None
    drop_unwanted(grads, wanted)
    return grads


_evaluate_blocked = _replayed_as_given = None  # gradcalc.blocked's, imported with the first array


def evaluate_graph(graph: Graph, values: dict, seed=None, wrt=()) -> Result:
    """Bind values, run forward, then backward from the output (seeded with `seed`, default ones).
    `wrt`: the names whose gradients are wanted (default all); a gradient that is not finite only
    where it flows to the others is no error, and no gradient (None) in the result."""
    global _evaluate_blocked, _replayed_as_given
    if _replayed_as_given is not None and seed is None:  # arrays at shapes met before: their tape
        result = _replayed_as_given(graph, values)
        if result is not None:
            return result
    graph = graph.shadow(values)  # `--e 3`: e is a variable, as it was before it was a constant
    inputs = bind(graph, values, check_finite=False)  # the blocks check their slices in cache
    if seed is not None:
        seed = _number("the seed gradient", seed)
    if uses_arrays(graph, inputs):
        if seed is None:
            if _evaluate_blocked is None:  # an import statement costs ~0.5 µs a call
                from gradcalc.blocked import evaluate_blocked as _evaluate_blocked
                from gradcalc.blocked import replayed_as_given as _replayed_as_given
            result = _evaluate_blocked(graph, inputs)  # large elementwise graphs: by blocks, on every core
            if result is not None:
                return result
        check_arrays(inputs)
    node_values = forward(graph, inputs)  # layers keep no state: a shared graph needs no lock
    grads = backward(graph, node_values, seed, wrt)
    result = Result(graph, inputs, node_values, grads)
    result.seed = seed
    return result
