"""Reading the session's lines: prompt_toolkit when it is installed (`gradcalc[session]`), else the
standard library's readline, else plain input(). Both keep one history file and complete the same
words: function names from the layer registry, the session's names, and :commands.

The history lives in gradcalc's per-user state directory (gradcalc/safe_files.py: mode 0700, owner
and mode checked, never a symbolic link). When that directory or file fails a check, the session
says so once and keeps its history in memory only: a history another user could plant is never read.
"""

import os
import re
import sys
from contextlib import contextmanager, nullcontext

from gradcalc.layers import FUNCTIONS
from gradcalc.undecoded import UNDECODED

PROMPT = "> "
_WORD = re.compile(r"[^\W\d]\w*$|:\w*$")
_ENTRY = "+"  # history file: each line of an entry starts with '+', entries separated by a '#' line


def completions(session, before_cursor: str) -> tuple[str, list]:
    """(the word being completed, the words it may become) for the text before the cursor."""
    from gradcalc.session import COMMANDS, FORMATS

    stripped = before_cursor.lstrip()
    if stripped.startswith(":") and " " not in stripped:
        return stripped, [c for c in COMMANDS if c.startswith(stripped)]
    match = _WORD.search(before_cursor)
    word = match[0] if match else ""
    if stripped.startswith(":format "):
        pool = FORMATS
    elif stripped.startswith((":unset ", ":wrt ")):
        pool = [*session.definitions, *session.arrays]
    elif stripped.startswith(":"):
        pool = ()
    else:
        pool = [*FUNCTIONS, *session.definitions, *session.arrays]
    return word, sorted({candidate for candidate in pool if candidate.startswith(word)} - {""})


class HistoryFile:
    """The history entries, oldest first, in a file only this user can have written."""

    def __init__(self):
        self.path, self.problem = None, None
        try:
            from gradcalc.safe_files import private_dir

            self.path = private_dir("state") / "history"
        except OSError as error:
            self.problem = str(error)

    def load(self) -> list:
        if self.path is None:
            return []
        from gradcalc.safe_files import open_private

        try:
            with open_private(self.path, "r") as stream:
                text = stream.read()
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as error:
            self.problem, self.path = str(error), None
            return []
        entries, lines = [], []
        for line in text.splitlines():
            if line.startswith(_ENTRY):
                lines.append(line[1:])
            elif lines:
                entries.append("\n".join(lines))
                lines = []
        if lines:
            entries.append("\n".join(lines))
        return entries

    def append(self, entry: str) -> None:
        # a line with a byte that is not UTF-8 was refused, and the file could not be read back
        if self.path is None or not entry.strip() or UNDECODED.search(entry):
            return
        from gradcalc.safe_files import open_private

        try:
            with open_private(self.path, "a") as stream:
                stream.write("#\n" + "".join(f"{_ENTRY}{line}\n" for line in entry.splitlines()))
        except OSError as error:
            self.problem, self.path = str(error), None
            _warn_history(self.problem)


def _warn_history(problem: str) -> None:
    sys.stderr.write(f"gradcalc: warning: the history is not kept between sessions: {problem}\n")


def line_reader(session):
    """(a function returning the next line, raising EOFError at the end; what reads the lines)."""
    history = HistoryFile()
    entries = history.load()
    if history.problem:
        _warn_history(history.problem)
    try:
        return _prompt_toolkit_reader(session, history, entries), "prompt_toolkit"
    except ImportError:
        return _readline_reader(session, history, entries)


def _prompt_toolkit_reader(session, history, entries):
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import Completer, Completion
    from prompt_toolkit.history import History

    class SessionHistory(History):
        """prompt_toolkit's view of the history file (newest first, as it expects)."""

        def load_history_strings(self):
            yield from reversed(entries)

        def store_string(self, string: str) -> None:
            history.append(string)

    class SessionCompleter(Completer):
        """Functions, names and :commands, as `completions` finds them."""

        def get_completions(self, document, complete_event):
            word, candidates = completions(session, document.text_before_cursor)
            for candidate in candidates:
                yield Completion(candidate, start_position=-len(word))

    output = None
    if _edit_on_stderr():
        from prompt_toolkit.output import create_output

        output = create_output(stdout=sys.stderr)
    prompt = PromptSession(history=SessionHistory(), completer=SessionCompleter(), complete_while_typing=False,
                           output=output)
    return lambda: prompt.prompt(PROMPT)


def _readline_reader(session, history, entries):
    try:
        import readline
    except ImportError:  # no readline (some builds): input() still reads lines
        readline = None
    if readline is not None:
        for entry in entries:
            for line in entry.splitlines():
                readline.add_history(line)
        found = []

        def complete(text, state):
            if state == 0:
                before = readline.get_line_buffer()[: readline.get_endidx()]
                word, candidates = completions(session, before)
                found[:] = [text + candidate[len(word):] for candidate in candidates]
            return found[state] if state < len(found) else None

        readline.set_completer(complete)
        readline.set_completer_delims(" \t\n()+-*/^@,;=")
        binding = "bind ^I rl_complete" if "libedit" in (readline.__doc__ or "") else "tab: complete"
        readline.parse_and_bind(binding)

    on_stderr = _edit_on_stderr()

    def read():
        with _terminal_as_stdout() if on_stderr else nullcontext():
            try:
                line = input(PROMPT)
            except UnicodeDecodeError as error:  # standard input decodes strictly (a UTF-8 locale's)
                # the line as prompt_toolkit would give it (and a C locale's input()): each byte that
                # is not UTF-8 kept as a lone surrogate, for the session to refuse by its column
                line = bytes(error.object).rstrip(b"\r\n").decode("utf-8", errors="surrogateescape")
        history.append(line)
        return line

    return read, "readline" if readline is not None else "input()"


def _edit_on_stderr() -> bool:
    """Results to a file or a pipe (gradcalc > results.txt): the prompt and the editing go to the
    terminal on stderr, never among the results."""
    return not sys.stdout.isatty() and sys.stderr.isatty()


@contextmanager
def _terminal_as_stdout():
    """Descriptor 1 on stderr's terminal while input() reads a line: input() edits with readline
    only when descriptor 1 is a terminal, and writes its prompt there (else to sys.stdout, among
    the results, plain and without editing)."""
    sys.stdout.flush()  # the results so far go to their own place first
    try:
        results = os.dup(1)
    except OSError:  # closed (>&-): input() writes its prompt to sys.stdout, which says so (exit 74)
        results = None
    else:
        os.dup2(2, 1)
    try:
        yield
    finally:
        if results is not None:
            os.dup2(results, 1)
            os.close(results)
