"""Standard output whose failed writes are OutputErrors (exit 74), not bugs in gradcalc (exit 70).

A full disk (`> /dev/full`), a descriptor open only for reading (`1</dev/null`) or a closed one
(`>&-`, where Python's sys.stdout is None) make every write fail. A reader that has gone (`| head -1`)
is no failure: BrokenPipeError passes through unchanged, for the command to end quietly.
Standard error that cannot be written changes nothing: its messages are dropped (QuietMessages).

An encoding that lacks a character (PYTHONIOENCODING=ascii, a Latin-1 locale) is no failure
either: what it lacks is escaped, the way each format can carry it (`escaping`: JSON's \u03b8, XML's
&#952;, else formatting.encodable's ASCII spellings and backslash escapes), and whatever still
reaches the stream unescaped (a help page, a picture's text) is escaped as text.
"""

import codecs
import errno
import os
from contextlib import contextmanager

from gradcalc.errors import OutputError
from gradcalc.formatting import encodable
from gradcalc.option_errors import at_value

_HINTS = {
    errno.ENOSPC: "free some space, or send the output elsewhere",
    errno.EDQUOT: "free some space, or send the output elsewhere",
    errno.EBADF: "standard output is not open for writing: redirect it to a file (> out.txt) or a pipe",
    errno.ENOENT: "choose a file in a directory that exists",
    errno.EACCES: "choose a file in a directory you can write to",
    errno.EROFS: "choose a file on a file system you can write to",
}


def cannot_write(what: str, error: OSError) -> OutputError:
    """The OutputError of an OSError met writing `what` ("the output", a file's name)."""
    reason = error.strerror or str(error)
    return OutputError(f"cannot write {what}: {reason}",
                       hint=_HINTS.get(error.errno, "check where the output goes and that it can be written"))


def file_format(path: str, option: str, formats: dict, hint: str) -> str:
    """The format of a file the user named for `option` (--graph, --plot), by its name's suffix
    (`formats`: suffix -> format); a UsageError listing the suffixes for any other name."""
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if suffix not in formats:
        *most, last = formats
        raise at_value(f"the file name must end in {', '.join(most)} or {last}", option, path, hint)
    return formats[suffix]


def write_file(path: str, data: bytes) -> None:
    """`data` into the file the user named (--graph, --plot, :graph); OutputError if it cannot be."""
    try:
        with open(path, "wb") as stream:
            stream.write(data)
    except OSError as error:
        raise cannot_write(repr(path), error) from None


class _Closed:
    """What `>&-` leaves: no stream at all (sys.stdout None), so every write fails as EBADF would."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    def _fail(self, *_):
        raise OutputError("cannot write the output: standard output is closed",
                          hint="redirect it to a file (> out.txt), a pipe, or /dev/null to discard it")

    write = writelines = _fail

    @property
    def buffer(self):  # binary output (-o png) finds no stream either
        return self

    def flush(self) -> None:
        pass  # nothing was written: a run with only errors (on stderr) is no output error


class CheckedOutput:
    """A stream (text, or its binary `buffer`) whose failed writes raise OutputError."""

    def __init__(self, stream):
        self.stream = _Closed() if stream is None else stream
        self._buffer = None

    # each a plain try, not a context manager: a batch writes every line through here, and a
    # `with` costs a generator per write (a batch of own-value lines ran 0.87x as fast)
    def write(self, data):
        try:
            return self.stream.write(data)
        except BrokenPipeError:
            raise  # the reader has gone: the command ends quietly
        except OSError as error:
            raise cannot_write("the output", error) from None
        except UnicodeEncodeError as error:  # PYTHONIOENCODING=ascii: no ∂, no θ; the text escaped
            return self.write(encodable(data, error.encoding))

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise cannot_write("the output", error) from None

    @property
    def buffer(self):
        if self._buffer is None:
            self._buffer = CheckedOutput(self.stream.buffer)
        return self._buffer

    def __getattr__(self, name):  # isatty, fileno, encoding, ...: the stream's own
        return getattr(self.stream, name)


class QuietMessages:
    """Standard error whose failed writes (a full disk, a closed pipe, `2>&-`) drop the message: it
    has nowhere else to go, and the exit code still tells what happened. The rest goes to /dev/null,
    so that Python's exit finds nothing left to fail on ("Exception ignored ... lost sys.stderr")."""

    def __init__(self, stream):
        self.stream = _Nowhere() if stream is None else stream

    def write(self, text):
        if not text.isascii():  # what its encoding lacks (PYTHONIOENCODING=ascii), escaped as the output's is
            text = encodable(text, getattr(self.stream, "encoding", None))
        try:
            return self.stream.write(text)
        except (OSError, ValueError):  # ValueError: a stream closed under us
            discard_unwritten(self.stream)
            return len(text)

    def flush(self):
        try:
            self.stream.flush()
        except (OSError, ValueError):
            discard_unwritten(self.stream)

    def __getattr__(self, name):
        return getattr(self.stream, name)


class Escaping:
    """A text stream whose encoding lacks characters the output may hold: each write's text is
    escaped first by `escape(text, encoding)`; `escaped()`, if given, is called the first time that
    changes anything (a format whose data it alters says so)."""

    def __init__(self, stream, escape, escaped=None):
        self.stream, self.escape, self.escaped = stream, escape, escaped

    def write(self, text):
        if not text.isascii():
            changed = self.escape(text, self.stream.encoding)
            if changed != text and self.escaped is not None:
                self.escaped, said = None, self.escaped
                said()
            text = changed
        return self.stream.write(text)

    def __getattr__(self, name):  # flush, isatty, fileno, encoding, buffer: the stream's own
        return getattr(self.stream, name)


def escaping(stream, escape, escaped=None):
    """`stream` itself where its encoding writes every character (UTF-8, the usual case: no cost),
    else an Escaping stream."""
    return Escaping(stream, escape, escaped) if lacks_characters(getattr(stream, "encoding", None)) else stream


def lacks_characters(encoding: str | None) -> bool:
    """Whether `encoding` cannot write every character (ascii, latin-1, cp1252), unlike UTF-8."""
    try:
        name = codecs.lookup(encoding).name if encoding else "utf-8"
    except LookupError:  # a name Python does not know: its stream could not have been opened
        return False
    return not (name.startswith("utf") or name == "gb18030")


def json_escaped(text: str, encoding: str) -> str:
    """JSON text with what `encoding` lacks written as JSON's \\u escapes (json's ensure_ascii;
    outside strings JSON is ASCII, so only strings change, and they read back the same)."""
    import json

    return encodable(text, encoding, lambda char: json.dumps(char)[1:-1])


def xml_escaped(text: str, encoding: str) -> str:
    """DOT or SVG text with what `encoding` lacks as character references (&#952;), which Graphviz
    and XML read back as the character."""
    return encodable(text, encoding, lambda char: f"&#{ord(char)};")


class _Nowhere(_Closed):
    """What `2>&-` leaves: messages are dropped."""

    def write(self, text):
        return len(text)

    def writelines(self, lines):
        pass


@contextmanager
def blocking(stream):
    """The stream's descriptor blocking while the run uses it: Python's text streams drop what a
    non-blocking pipe cannot take at once (CPython gh-57531), so a reader slower than gradcalc lost
    records with exit 0 (and stderr's messages), and read a non-blocking stdin's first pause as its
    end. The descriptor's mode is shared with whoever opened it: put back as it was afterwards."""
    try:
        descriptor = stream.fileno()
        was_blocking = os.get_blocking(descriptor)
    except (AttributeError, OSError, ValueError):  # no descriptor (closed, a test's capture)
        yield
        return
    if not was_blocking:
        os.set_blocking(descriptor, True)
    try:
        yield
    finally:
        if not was_blocking:
            try:
                os.set_blocking(descriptor, False)
            except OSError:
                pass


def reader_gone(stream) -> bool:
    """Whether the reader of `stream`'s pipe has gone (`| head -1` done, `| true`), asked of its
    descriptor without writing: for output held back until the input ends (a batch's table), which
    would otherwise find out only then. poll() reports an error (Linux) or a hang-up on a pipe
    whose reading end is closed; a file or a terminal that is there reports neither."""
    import select  # here: only a batch's table asks, and at most every 0.1 s

    try:
        descriptor = stream.fileno()
        watch = select.poll()  # not on Windows: AttributeError, and the table finds out when it writes
        watch.register(descriptor, 0)  # no events asked for: errors and hang-ups are always reported
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in watch.poll(0))
    except (AttributeError, OSError, ValueError):  # no descriptor (closed, a test's capture)
        return False


def discard_unwritten(stream) -> None:
    """After an output error, point `stream`'s descriptor at /dev/null: what Python's buffer still
    holds would fail again at exit ("Exception ignored ... OSError", exit code 120)."""
    try:
        descriptor = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(descriptor, stream.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # no descriptor (None, a test's capture): nothing is flushed at exit
    finally:
        os.close(descriptor)
