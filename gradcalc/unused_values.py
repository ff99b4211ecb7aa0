"""Values given on the command line (`--NAME VALUE`, `--var NAME=VALUE`) that no expression uses.

Such a `--NAME` that is a near miss of one of gradcalc's switches (`--chek 1`, `--hesian 2`) is a
mistyped switch, not a variable: the switch would change the run (--check's exit 1, --hessian's
table) and its value was taken from the next argument, so it is an error, refused before anything
runs when the expressions are known in advance (arguments, --sweep, --data), else once the batch
is read. Any other unused value is a warning: named as it was given, with a near miss of an
option's name (--formt: did you mean --format?) or the expression's variables.
"""

from gradcalc.argv import did_you_mean, mistyped_option_error, mistyped_switch
from gradcalc.errors import GradcalcError


def suspected_switches(values: dict, options: dict[str, str | None]) -> dict[str, str]:
    """{name: the switch it is a near miss of} for the `--NAME VALUE` variables (`values`, from argv:
    --var names a variable on purpose) that look like a mistyped switch."""
    return {name: switch for name in values if (switch := mistyped_switch(name, options)) is not None}


def refuse_mistyped_switches(values: dict, expressions: list | None, options: dict[str, str | None]) -> dict:
    """Refuse `--chek 1` where none of `expressions` (None: not known yet, a batch to read) has a
    variable chek, before anything runs; returns the suspected switches (usually none) for the rest."""
    suspects = suspected_switches(values, options)
    if suspects and expressions:
        variables = variables_of(expressions)
        error = None if variables is None else mistyped_switch_error(values, suspects, variables, len(expressions) > 1)
        if error is not None:
            raise error
    return suspects


def variables_of(texts: list) -> set | None:
    """Every variable of the expressions `texts`, or None when one of them does not parse (its
    own error is reported when it runs; its names are unknown)."""
    from gradcalc.parser import parse  # only where a switch looks mistyped: a start needs no parser

    variables = set()
    for text in texts:
        try:
            variables.update(parse(text).variables)
        except GradcalcError:
            return None
    return variables


def mistyped_switch_error(values: dict, suspects: dict[str, str], variables, batch: bool = False):
    """The error for the first suspected switch whose name is none of `variables`, or None."""
    for name, switch in suspects.items():
        if name not in variables:
            text = values[name]
            return mistyped_option_error(name, getattr(text, "typed", f"--{name} {text}"), switch,
                                         f", nor a variable of the expression{'s' if batch else ''}",
                                         f"{switch} takes no value: write it alone")
    return None


def not_used_warning(name: str, values: dict, options: dict[str, str | None], batch: bool, variables) -> str:
    """`--y is not used by the expression`, then a near miss of an option's name, else the
    expression's `variables` (None in a batch: each line has its own). A name not in `values` (the
    `--NAME VALUE` variables) was given by --var."""
    shown = f"--{name}" if name in values else f"--var {name}"
    message = f"{shown} is not used by the expression{'s' if batch else ''}"
    suggestion = did_you_mean(name, options)
    if suggestion:
        return f"{message}; {suggestion}"
    if variables is not None:
        return f"{message}; its variables are: {', '.join(sorted(variables)) or 'none'}"
    return message
