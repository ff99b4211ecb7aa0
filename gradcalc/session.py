"""The interactive session: `gradcalc` with no expression and standard input a terminal.

Each line is a job in the usual syntax. What a line defines persists: `x = 2` binds x for later
lines, `y = x*3` names an expression that later lines re-evaluate with the values then in force, and
`ans` is the last output. A line is evaluated as one self-contained job line: the definitions it
needs, then the line itself (`x = 2; y = x*3; y + 1`), so `:save` writes lines that `gradcalc -f`
replays to the same results. Reading lines (prompt_toolkit or readline, history, completion) is
gradcalc/session_input.py.

Standard output holds only results, in the output format (`gradcalc -o jsonl > out` stays JSON
Lines); command replies (:help, :vars, :wrt ...) are for the person at the terminal and go to
standard error with the greeting and the errors.
"""

import os
import re
import shutil
import sys
from contextlib import redirect_stdout
from dataclasses import dataclass, field

from gradcalc.errors import GradcalcError, OutputError
from gradcalc.formatting import format_array, format_number, labelled, message_width
from gradcalc.jobs import Job
from gradcalc.session_save import RECORD_SETTINGS, save_session
from gradcalc.session_wrt import reporting, unknown_wrt, wrt_settings
from gradcalc.undecoded import not_utf8

_ASSIGNMENT = re.compile(r"\s*([^\W\d]\w*)\s*=(.*)", re.DOTALL)
TERMINAL_UTF8_HINT = "type it again as UTF-8 text (set the terminal to UTF-8: LANG=C.UTF-8)"
FORMATS = ("table", "json", "jsonl", "csv", "tsv", "plain", "tree", "dot", "latex")

COMMANDS = {
    ":vars": "the definitions in force and their values",
    ":unset": ":unset NAME... — forget definitions",
    ":format": ":format table|json|jsonl|csv|tsv|plain|tree|dot — how results are printed",
    ":wrt": ":wrt NAME... — report only these gradients (:wrt alone: all)",
    ":check": ":check [on|off] — also check gradients by finite differences",
    ":order": ":order N — derivatives up to order N (2: the Hessian; with ±, the second-order σ)",
    ":diff": ":diff NAME — print ∂/∂NAME as a formula instead of evaluating (:diff alone: evaluate)",
    ":graph": ":graph [FILE] — the last line's graph as a tree, or drawn into FILE (.svg, .png, .dot)",
    ":explain": ":explain — the chain rule of the last line, step by step",
    ":save": ":save FILE — write the session as a job file for gradcalc -f FILE",
    ":help": "this list",
    ":quit": "leave (also Ctrl-D)",
}

HELP = """Each line is an expression or statements, as on the command line:
  x = 2              binds x for the lines that follow (x = 2 ± 0.1 with an uncertainty)
  y = x^2 * sin(x)   names an expression: later lines re-evaluate it with the values in force
  y + 1              evaluates; ans is the last output
Tab completes functions, names and commands; Up/Down and Ctrl-R search the history.
Commands:"""


@dataclass
class Definition:
    """What a name stands for: a value (with its uncertainty), or statements ending in `name = ...`."""

    value: object = None
    sigma: float | None = None
    statements: tuple = ()
    uses: frozenset = field(default_factory=frozenset)  # the definitions the statements read

    def text(self, name: str) -> tuple:
        """The statements that define `name` on a job line."""
        if self.statements:
            return self.statements
        literal = format_number(self.value)
        return (f"{name} = {literal}" + (f" ± {format_number(self.sigma)}" if self.sigma is not None else ""),)


class Recorder:
    """A renderer that also remembers the job's result (None when the job failed or printed a
    formula); everything else goes to the renderer it wraps."""

    def __init__(self, renderer):
        self.renderer, self.last = renderer, None

    def result(self, result, line):
        self.renderer.result(result, line)
        self.last = result  # after rendering: a line whose output fails (an error) changes nothing

    def __getattr__(self, name):
        return getattr(self.renderer, name)


class Session:
    """The definitions in force, the print settings, and the lines that evaluated (for :save)."""

    def __init__(self, run_job, options, numbers: dict, sigmas: dict):
        self.run_job = run_job  # (job, settings) -> (exit code, Result or None); from the command line
        self.options, self.precision = options, options.precision
        self.last = None  # the Result of the last line that evaluated, for :graph FILE
        # the options that commands change; per-node tables only with --nodes: a session shows results
        self.settings = {"output_format": options.output_format, "wrt": tuple(options.wrt), "check": options.check,
                         "nodes": bool(options.nodes), "order": options.order, "diff": options.diff}
        self.definitions: dict[str, Definition] = {}
        self.arrays = {}  # array values of options: a job line cannot spell them, so they stay values
        for name, value in numbers.items():
            if hasattr(value, "shape"):
                self.arrays[name] = value
            else:
                self.definitions[name] = Definition(value, sigmas.get(name))
        self.evaluated: list[tuple] = []  # (job line, the settings it ran with), for :save
        self.count = 0

    # ---- lines ---------------------------------------------------------------------------------

    def handle(self, line: str) -> bool:
        """Run one line (an expression or a :command); False when the session should end."""
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            return True
        if stripped.startswith(":"):
            return _failed(not_utf8(stripped, "the line", TERMINAL_UTF8_HINT)) or self.command(stripped)
        self.evaluate(stripped)
        return True

    def evaluate(self, line: str) -> None:
        from gradcalc import parse

        self.count += 1
        try:
            undecoded = not_utf8(line, "the line", TERMINAL_UTF8_HINT)  # a byte the terminal sent that is not UTF-8
            if undecoded is not None:
                raise undecoded
            graph = parse(line)  # its syntax errors point into what was typed
        except GradcalcError as error:
            _error(error)
            return
        needed = [name for name in graph.free_names if name not in graph.bindings]
        text = "; ".join([*self.expand(needed), line])
        settings, error = wrt_settings(self.settings, text, _defines(line))
        if _failed(error):
            return
        code, result = self.run_job(Job(self.count, text, self._arrays_for(text)), settings)
        if result is None:
            return  # a failed line (or a formula, with :diff) changes nothing
        self.evaluated.append((text, {name: settings[name] for name in RECORD_SETTINGS}))
        self.last = result
        self._define(_statements(line), result, code)

    def _arrays_for(self, text: str) -> dict:
        return {name: value for name, value in self.arrays.items() if re.search(rf"\b{name}\b", text)}

    def expand(self, names) -> list:
        """The statements defining `names` and what they use, each after what it reads."""
        order, done = [], set()
        stack = [(name, False) for name in reversed(list(names)) if name in self.definitions]
        while stack:  # depth first, without recursion: a name is emitted after its uses
            name, ready = stack.pop()
            if name in done:
                continue
            if ready:
                done.add(name)
                order.append(name)
                continue
            stack.append((name, True))
            stack.extend((used, False) for used in sorted(self.definitions[name].uses)
                         if used in self.definitions and used not in done and used != name)
        statements = []
        for name in order:
            statements.extend(self.definitions[name].text(name))
        return statements

    def _define(self, statements: list, result, code: int) -> None:
        """Remember what a line that evaluated defined, and its output as `ans`."""
        from gradcalc import parse

        for name, expression in statements:
            single = parse(f"{name} = {expression}")
            if name in single.bindings:
                self.definitions[name] = Definition(single.bindings[name], single.sigmas.get(name))
                continue
            uses = set(parse(expression).free_names)
            # a name that depends on the one being defined means its definition so far (x = x + 1)
            earlier = [used for used in uses if used == name or name in self._closure(used)]
            inline = tuple(self.expand(earlier))
            own = (*inline, f"{name} = {expression}")
            uses = frozenset(parse("; ".join(own)).free_names) - set(parse("; ".join(own)).bindings)
            self.definitions[name] = Definition(statements=own, uses=uses)
        value = result.value
        if not hasattr(value, "shape"):
            self.definitions.pop("ans", None)  # ans moves to the end: it is the newest definition
            self.definitions["ans"] = Definition(float(value))

    def _closure(self, name: str) -> set:
        """Every definition that `name` reads, directly or not."""
        seen, stack = set(), [name]
        while stack:
            definition = self.definitions.get(stack.pop())
            for used in definition.uses if definition else ():
                if used not in seen:
                    seen.add(used)
                    stack.append(used)
        return seen

    # ---- commands ------------------------------------------------------------------------------

    def command(self, text: str) -> bool:
        word, _, rest = text.partition(" ")
        arguments = rest.split()
        if word in (":quit", ":q", ":exit"):
            return False
        handler = {":vars": self._vars, ":unset": self._unset, ":format": self._format, ":wrt": self._wrt,
                   ":check": self._check, ":order": self._order, ":diff": self._diff, ":graph": self._graph,
                   ":explain": self._explain, ":save": self._save, ":help": self._help}.get(word)
        if handler is None:
            _say(f"gradcalc: error: unknown command {word}", sys.stderr)
            _say("  hint: :help lists the commands", sys.stderr)
        else:
            handler(arguments)
        return True

    def _help(self, _arguments) -> None:
        _say(HELP, sys.stderr)
        for name, meaning in COMMANDS.items():
            _say(f"  {name:<8} {meaning}", sys.stderr)

    def _vars(self, _arguments) -> None:
        from gradcalc import evaluate

        if not self.definitions and not self.arrays:
            _say("(nothing defined yet: x = 2 binds x)", sys.stderr)
        for name, definition in self.definitions.items():
            if not definition.statements:
                _say(definition.text(name)[0], sys.stderr)
                continue
            text = "; ".join(self.expand([name]))
            label = f"{definition.statements[-1]}    # = "
            try:
                value = evaluate(text, **self._arrays_for(text)).value
            except GradcalcError as error:
                _say(f"{label}(cannot evaluate: {error.message})", sys.stderr)
                continue
            if hasattr(value, "shape"):  # as a table shows an array output: lines wrapped under the first
                shown = format_array(value, width=max(1, shutil.get_terminal_size().columns - len(label)))
            else:
                shown = format_number(value)
            _say(labelled(label, shown), sys.stderr)
        for name, value in self.arrays.items():
            _say(f"{name}: an array of shape {value.shape} (from the command line)", sys.stderr)

    def _unset(self, names) -> None:
        if not names:
            _say("gradcalc: error: :unset needs a name (:unset x)", sys.stderr)
        for name in names:
            if self.definitions.pop(name, None) is None and self.arrays.pop(name, None) is None:
                _say(f"gradcalc: error: {name} is not defined (:vars lists the definitions)", sys.stderr)
                continue
            if name in self.settings["wrt"]:  # :wrt keeps naming only variables that exist
                self.settings["wrt"] = tuple(other for other in self.settings["wrt"] if other != name)
                _say(f"{name} is no longer in :wrt: {reporting(self.settings['wrt'])}", sys.stderr)
            users = sorted(other for other, d in self.definitions.items() if name in d.uses)
            if users:
                _say(f"gradcalc: warning: {', '.join(users)} still read{'s' if len(users) == 1 else ''} "
                     f"{name}: give it a value again before using {'it' if len(users) == 1 else 'them'}",
                     sys.stderr)

    def _format(self, arguments) -> None:
        if len(arguments) != 1 or arguments[0] not in FORMATS:
            _say(f"gradcalc: error: :format takes one of {', '.join(FORMATS)} "
                 f"(now {self.settings['output_format']})", sys.stderr)
            return
        self.settings["output_format"] = arguments[0]

    def _wrt(self, names) -> None:
        if _failed(unknown_wrt(names, self.definitions, self.arrays)):
            return
        self.settings["wrt"] = tuple(names)
        _say(reporting(names), sys.stderr)

    def _check(self, arguments) -> None:
        if arguments and arguments[0] not in ("on", "off"):
            _say("gradcalc: error: :check on, :check off, or :check alone to switch", sys.stderr)
            return
        self.settings["check"] = (arguments[0] == "on") if arguments else not self.settings["check"]
        _say(f"gradient check {'on' if self.settings['check'] else 'off'}", sys.stderr)

    def _order(self, arguments) -> None:
        if len(arguments) != 1 or not arguments[0].isdigit() or not 1 <= int(arguments[0]) <= 10:
            _say(f"gradcalc: error: :order takes a number from 1 to 10 (now {self.settings['order']})", sys.stderr)
            return
        self.settings["order"] = int(arguments[0])

    def _diff(self, arguments) -> None:
        if len(arguments) > 1:
            _say("gradcalc: error: :diff takes one name (:diff x), or none to evaluate again", sys.stderr)
            return
        unknown = unknown_wrt(arguments, self.definitions, self.arrays, ":diff")
        if unknown is not None and arguments[0] in self.definitions:  # a named expression, not a variable
            _failed(unknown)
            return
        self.settings["diff"] = arguments[0] if arguments else None
        _say(f"lines print ∂/∂{arguments[0]} as a formula" if arguments else "lines are evaluated", sys.stderr)
        if unknown is not None:  # a formula needs no values (x^3*y in y is x^3): a note for a typo, not a refusal
            _say(f"gradcalc: note: {unknown.message} yet; lines that have {arguments[0]} are differentiated "
                 f"in it ({unknown.hint.split('; define')[0]})", sys.stderr)

    def _graph(self, arguments) -> None:
        if len(arguments) > 1:
            _say("gradcalc: error: :graph takes one file name (:graph graph.svg), or none for a tree", sys.stderr)
        elif not arguments:  # a tree is a result among tables; beside json, csv ... a reply; it shows every node
            self._again("graph", {"output_format": "tree", "wrt": ()},
                        self.settings["output_format"] in ("table", "tree"))
        elif self._evaluated_yet("graph"):
            self._draw(arguments[0])

    def _draw(self, path: str) -> None:
        """:graph FILE: the last result's picture into FILE and nothing on stdout, whose reader has
        that result already; a name that is not a picture's, or a file that cannot be written (a
        missing directory, a full disk), is this line's error, not the session's end."""
        from gradcalc.render_graph import write_picture

        try:
            write_picture(self.last, path, self.precision, ":graph")
        except GradcalcError as error:
            _error(error)
            return
        _say(f"drew the last line's graph into {path}", sys.stderr)

    def _explain(self, _arguments) -> None:
        shown = self.settings["output_format"]
        in_format = shown in ("json", "jsonl", "table")  # else a table, which would break csv, plain ...
        self._again("explain", {"explain": True, "output_format": shown if in_format else "table",
                                "explain_only": shown not in ("json", "jsonl")}, in_format)

    def _again(self, command: str, changes: dict, result: bool) -> None:
        """Run the last line that evaluated again, with `changes` to the settings: on standard output
        when it is a `result` in the output format, else on standard error as a reply."""
        if not self._evaluated_yet(command):
            return
        text = self.evaluated[-1][0]
        job, settings = Job(self.count, text, self._arrays_for(text)), {**self.settings, "diff": None, **changes}
        settings, error = wrt_settings(settings, text, _defines(text))
        if _failed(error):
            return
        if result:
            self.run_job(job, settings)
            return
        with redirect_stdout(sys.stderr):
            self.run_job(job, settings)

    def _evaluated_yet(self, command: str) -> bool:
        if not self.evaluated:
            _say(f"gradcalc: error: no line has evaluated yet: :{command} shows the last one", sys.stderr)
        return bool(self.evaluated)

    def _save(self, arguments) -> None:
        if len(arguments) != 1:
            _say("gradcalc: error: :save takes a file name (:save session.txt)", sys.stderr)
            return
        path = arguments[0]
        try:
            reply = save_session(path, self.evaluated, self.options, self.arrays)
        except (OSError, ValueError) as error:
            _say(f"gradcalc: error: cannot write {path!r}: {getattr(error, 'strerror', None) or error}",
                 sys.stderr)
            return
        _say(reply, sys.stderr)


def _statements(line: str) -> list:
    """(name, expression) for each `name = expression` statement of a line, in order.

    The grammar has no strings, so '#' always starts a comment and ';' always ends a statement."""
    assignments = []
    for statement in line.split("#", 1)[0].split(";"):
        match = _ASSIGNMENT.fullmatch(statement)
        if match:
            assignments.append((match[1], match[2].strip()))
    return assignments


def _defines(line: str) -> bool:
    """Whether the line's last statement defines a name (`x = 2`, `y = x*3`), not an expression."""
    statements = [statement for statement in line.split("#", 1)[0].split(";") if statement.strip()]
    return bool(statements) and _ASSIGNMENT.fullmatch(statements[-1]) is not None


def _error(error: GradcalcError) -> None:
    _say(error.describe(encoding=sys.stderr.encoding, width=message_width(sys.stderr), lead="gradcalc: error: "),
         sys.stderr)


def _failed(error: GradcalcError | None) -> bool:
    """Whether there is an `error` (then said)."""
    if error is not None:
        _error(error)
    return error is not None


def _say(text: str, stream) -> None:
    stream.write(text + "\n")
    stream.flush()


def run_session(run_job, options, numbers: dict, sigmas: dict) -> int:
    """Read and run lines until :quit or end of input (Ctrl-D). Always exit code 0: each line's
    errors were reported as they happened."""
    from gradcalc import __version__
    from gradcalc.session_input import line_reader

    session = Session(run_job, options, numbers, sigmas)
    read, kind = line_reader(session)
    # on stderr, as Python's own banner: stdout holds only results (gradcalc | tee results.txt)
    _say(f"gradcalc {__version__} ({kind}): :help lists the commands, Ctrl-D quits", sys.stderr)
    if kind != "prompt_toolkit":
        _say("  pip install 'gradcalc[session]' adds prompt_toolkit's line editor", sys.stderr)
    while True:
        try:
            text = read()
        except KeyboardInterrupt:
            continue  # Ctrl-C abandons the line being typed
        except EOFError:
            return 0
        for line in text.splitlines() or [""]:  # a paste of several lines: one job each
            try:
                if not session.handle(line):
                    return 0
            except KeyboardInterrupt:
                _say("interrupted", sys.stderr)
                break
            except (OutputError, BrokenPipeError):
                raise  # the results cannot be written (a full disk: exit 74) or their reader has gone
            except Exception as error:  # a bug in gradcalc: the session goes on
                if os.environ.get("GRADCALC_DEBUG"):
                    raise
                _say(f"gradcalc: internal error: {type(error).__name__}: {error}", sys.stderr)
