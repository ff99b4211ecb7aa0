"""The session's `:save FILE`: every line that evaluated, as a job file, with the command that
replays it to the same records. A line's record depends on more than its text: the options the
session was started with (arrays, --seed-grad, --correlation, --nodes ...) and the settings the line
ran with (:wrt as it applied to that line, :check, :order), so the command gives them as options.
Lines that ran with different settings cannot share one command: they are saved in parts, each
under a comment with the command that replays it."""

import json
import shlex

from gradcalc.formatting import plural
from gradcalc.values import MAX_ELEMENTS

# the settings a line's record depends on, as Session.settings names them
RECORD_SETTINGS = ("wrt", "check", "order")


def save_session(path: str, evaluated: list, options, arrays: dict) -> str:
    """Write `evaluated`, the (job line, its settings) of each line that evaluated, into `path`;
    the reply to :save. OSError or ValueError when the file cannot be written."""
    fixed = _session_options(options, arrays)
    parts = []  # [options, job lines] of each run of lines with the same settings
    for text, settings in evaluated:
        words = [*_setting_options(settings), *fixed]
        if not parts or parts[-1][0] != words:
            parts.append([words, []])
        parts[-1][1].append(text)
    file = shlex.quote(path)
    jobs = plural(len(evaluated), "job")
    if len(parts) <= 1:
        words = parts[0][0] if parts else fixed
        lines = [f"# gradcalc session: {jobs}; replay with {_command(['-f', file], words)}",
                 *(parts[0][1] if parts else [])]
    else:
        lines = [f"# gradcalc session: {jobs} in {len(parts)} parts, each run with other settings (:wrt, :check, "
                 ":order)", f"# replay each part with the command above it (gradcalc -f {file} would run every "
                 "line with the same options)"]
        for number, (words, texts) in enumerate(parts, start=1):
            first = len(lines) + 2  # the part's first job, on the line after its comment
            last = first + len(texts) - 1
            where = f"line {first}" if first == last else f"lines {first}-{last}"
            lines.append(f"# part {number}, {where}: sed -n {first},{last}p {file} | {_command(['-f', '-'], words)}")
            lines.extend(texts)
    with open(path, "w", encoding="utf-8") as stream:
        stream.write("\n".join(lines) + "\n")
    where = f" in {len(parts)} parts (the settings changed: each part's command is in the file)" \
        if len(parts) > 1 else ""
    return f"saved {jobs} to {path}{where}"


def _command(source: list, words: list) -> str:
    return " ".join(["gradcalc", *source, *(shlex.quote(word) for word in words)])


def _setting_options(settings: dict) -> list:
    """The options of the settings one line ran with: its :wrt (as it applied to the line: a line
    that defines a name reports every gradient when it has no :wrt variable), :check, :order."""
    words = [word for name in settings["wrt"] for word in ("--wrt", name)]
    if settings["check"]:
        words.append("--check")
    if settings["order"] != 1:
        words += ["--order", str(settings["order"])]
    return words


def _session_options(options, arrays: dict) -> list:
    """The options the session was started with that a record depends on (and --precision and
    --full, that a replay's table shows the same), and the arrays, which no job line can spell."""
    words = ["--nodes"] if options.nodes else []
    if options.precision is not None:
        words += ["--precision", str(options.precision)]
    if options.full:
        words.append("--full")
    if options.seed_grad is not None:
        words += ["--seed-grad", options.seed_grad]
    if options.matrix is not None:
        kind, matrix_file = options.matrix
        words += [f"--{kind}", matrix_file]
    if options.jacobian:
        words.append("--jacobian")
    for option, items in (("--jvp", options.jvp), ("--hvp", options.hvp)):
        for item in items:
            words += [option, item]
    if options.max_elements != MAX_ELEMENTS:
        words += ["--max-elements", str(options.max_elements)]
    own = options.own_options()
    for name, value in arrays.items():
        text = json.dumps(value.tolist())
        # a variable named as one of gradcalc's options is given as --var, as it was
        words += ["--var", f"{name}={text}"] if f"--{name}" in own else [f"--{name}", text]
    return words
