"""What the command line's --order, --jacobian, --jvp, --hvp and --diff take apart before any job
runs: combinations that mean nothing, and the directions of --jvp and --hvp."""

from gradcalc.argv import NAME
from gradcalc.errors import UsageError, variables_hint
from gradcalc.option_errors import about_option, at_value
from gradcalc.values import parse_value

# How the command line and the interactive session name the settings these errors are about: the
# session changes them with its commands, so its hints say those (:check off), not options.
COMMAND_LINE = {"diff": "--diff", "format": "-o", "--check": "--check", "--wrt": "--wrt",
                "latex": 'gradcalc --diff x "x^3*y" -o latex',
                "without": "--diff NAME names the variable; the other derivative options need values: "
                           "run them without --diff"}
SESSION = {"diff": ":diff", "format": ":format", "--check": ":check", "--wrt": ":wrt",
           "latex": ":diff x prints ∂/∂x as a formula; :format table evaluates again",
           "without": "{off} to print formulas, or :diff alone to evaluate again",
           "off": {"--check": ":check off", "--wrt": ":wrt alone"}}


def check_derivative_options(options, words: dict = COMMAND_LINE) -> None:
    """Refuse combinations that have no meaning, before any job runs, named in `words` (COMMAND_LINE
    or SESSION)."""
    diff, to = words["diff"], words["format"]
    if options.output_format == "latex" and options.diff is None:
        raise about_option(UsageError(f"{to} latex prints formulas: it goes with {diff} NAME", hint=words["latex"]),
                           "output_format")
    if options.diff is None:
        return
    if options.output_format in ("csv", "tsv"):
        raise about_option(UsageError(f"{diff} prints formulas as text, json, jsonl or latex, not "
                                      f"{options.output_format}", hint=f"use {to} plain, {to} json, {to} jsonl "
                                                                       f"or {to} latex"), "output_format")
    others = [option for option, given in (("--jacobian", options.jacobian), ("--jvp", options.jvp),
                                           ("--hvp", options.hvp), ("--check", options.check),
                                           ("--wrt", options.wrt)) if given]
    if others:
        # an option the session cannot change was given when it started: start it again without
        off = words.get("off", {}).get(others[0], f"start again without {others[0]}")
        raise about_option(UsageError(f"{diff} prints a formula; {words.get(others[0], others[0])} does not apply "
                                      "to it", hint=words["without"].format(off=off)), others[0][2:], whole=True)


def run_diff(renderer, job, graph, options) -> int:
    """--diff NAME: the derivative as a formula, no values needed."""
    from gradcalc.higher_order import diff
    from gradcalc.render_derivatives import Formula

    name = options.diff
    if name not in graph.shadow((name,)).variables:  # --diff e: the constant e is a variable then
        raise at_value(f"the expression has no variable {name}", "--diff", name,
                       variables_hint(name, graph.variables, "--diff "), kind=UsageError)
    text = diff(graph, name, options.order, latex=options.output_format == "latex")
    renderer.formula(Formula(job.text, options.diff, options.order, text), job.line)
    return 0


def parse_direction(items: tuple, option: str, max_elements: int, variables=None) -> dict | None:
    """--jvp x=1,y=0 (or repeated --jvp x=1 --jvp y=0; arrays as x=[1,2] or x=linspace(0,1,3)):
    {name: value}. A name that is not one of the expression's `variables` (when given) is refused
    with the caret under its pair."""
    if not items:
        return None
    hint = f'--{option} x=1,y=0, or --{option} "v=[1,0,0]" for an array'
    direction = {}
    for item in items:
        parts, start = _split_top_level(item), 0
        if not any(part.strip() for part in parts) or any(not part.strip() for part in parts):
            raise at_value("expected NAME=VALUE pairs separated by commas", f"--{option}", item, hint)
        for part in parts:  # `start`: where the part begins in the item, for the caret
            name, equals, text = part.partition("=")
            name = name.strip()
            if not equals or not NAME.fullmatch(name) or not text.strip():
                raise at_value("expected NAME=VALUE pairs separated by commas", f"--{option}", item, hint,
                               within=(start, start + len(part)))
            if name in direction:
                raise at_value(f"{name} is given twice", f"--{option}", item, hint, within=(start, start + len(part)))
            if variables is not None and name not in variables:
                raise at_value(f"the expression has no variable {name}", f"--{option}", item,
                               variables_hint(name, variables, f"--{option} "), within=(start, start + len(part)),
                               kind=UsageError)
            direction[name] = parse_value(f"{option} {name}", text, max_elements,
                                          typed=(f"--{option}", item, start + len(part) - len(text)))
            start += len(part) + 1
    return direction


def _split_top_level(text: str) -> list:
    """Split on commas outside brackets and parentheses: x=[1,2],y=3 -> ['x=[1,2]', 'y=3']."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"[": 1, "]": -1, "(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts
