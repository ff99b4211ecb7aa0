"""What the session's `:wrt` (and `:diff`) may name: the session's variables (the values it has defined and the
arrays given on the command line). A name is checked when :wrt names it (refused, with the closest
variable, as the command line's --wrt refuses a name the expression does not have), when :unset
forgets it (dropped from :wrt), and against each line that evaluates (a line that defines a name is
not held to it); every message in the session's words."""

import difflib

from gradcalc.errors import UsageError


def reporting(names) -> str:
    """The reply to :wrt: which gradients lines report from now on."""
    return f"reporting ∂/∂{', ∂/∂'.join(names)}" if names else "reporting every gradient"


def unknown_wrt(names, definitions: dict, arrays: dict, command: str = ":wrt") -> UsageError | None:
    """The error for a name given to :wrt (or :diff, the `command`) that is not one of the session's
    variables, or None; `definitions` map names to session.Definition (a value, or statements for a
    named expression)."""
    variables = [name for name, definition in definitions.items() if not definition.statements] + list(arrays)
    listed = f"the session's variables: {', '.join(variables)}" if variables else "the session has no variables yet"
    for name in names:
        if name in variables:
            continue
        if name in definitions:
            return UsageError(f"{command} {name}: {name} names an expression; gradients are reported for variables",
                              hint=f"{listed}; :vars lists the definitions")
        close = difflib.get_close_matches(name, variables, n=1, cutoff=0.6)
        guess = f"did you mean {command} {close[0]}? " if close else ""
        return UsageError(f"{command} {name}: the session has no variable {name}",
                          hint=f"{guess}{listed}; define {name} first ({name} = 1)")
    return None


def wrt_settings(settings: dict, text: str, defines: bool) -> tuple[dict, UsageError | None]:
    """The settings to run the job `text` with, and the error that refuses it (or None). A line that
    `defines` a name (`x = 2`, `y = x*3`) is not held to :wrt, so that the variable :wrt is to name
    can be defined: it reports the :wrt variables it has (every gradient when it has none). Any other
    line without one of them is the command line's `--wrt x: the expression has no variable x`, said
    with :wrt. With :diff, :wrt does not apply: that is the error (derivative_options)."""
    if not settings["wrt"] or settings["diff"] is not None:
        return settings, None
    from gradcalc import parse

    variables = list(parse(text).variables)
    missing = [name for name in settings["wrt"] if name not in variables]
    if not missing:
        return settings, None
    if defines:
        return {**settings, "wrt": tuple(name for name in settings["wrt"] if name in variables)}, None
    return settings, UsageError(f":wrt {missing[0]}: the line has no variable {missing[0]}",
                                hint=f"its variables are: {', '.join(variables) or 'none'}; "
                                     ":wrt alone clears :wrt and reports every gradient")
