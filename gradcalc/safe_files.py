"""Files gradcalc keeps between runs (caches, the interactive session's history), where no other
user can plant or swap them.

Each lives in a per-user directory, `$XDG_CACHE_HOME/gradcalc` or `$XDG_STATE_HOME/gradcalc`
(by default `~/.cache/gradcalc`, `~/.local/state/gradcalc`), created with mode 0700. A directory or
file is refused (UnsafePathError, an OSError) when it is a symbolic link, is owned by another user,
or is writable by group or others; its parent must be ours or root's, and not writable by others
unless sticky (as /tmp). Callers treat any OSError as "no cache" (or "no history") and carry on.

    directory = private_dir("state")              # raises OSError when unusable
    with open_private(directory / "history", "a") as stream:
        stream.write(line)

Never unpickle what these return: a file that passes the checks was written by this user, but
only plain data (text, JSON) should ever be read back.
"""

import os
import stat
from pathlib import Path

# XDG base directories: environment variable and default under the home directory
_BASES = {
    "cache": ("XDG_CACHE_HOME", (".cache",)),
    "state": ("XDG_STATE_HOME", (".local", "state")),
    "data": ("XDG_DATA_HOME", (".local", "share")),
    "config": ("XDG_CONFIG_HOME", (".config",)),
}

_FLAGS = {
    "r": os.O_RDONLY, "rb": os.O_RDONLY,
    "w": os.O_WRONLY | os.O_CREAT, "wb": os.O_WRONLY | os.O_CREAT,  # truncated once checked
    "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND, "ab": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
}


class UnsafePathError(OSError):
    """A directory or file that another user could have written, so gradcalc does not use it."""


def private_dir(kind: str = "cache") -> Path:
    """gradcalc's own directory of `kind` ("cache", "state", "data" or "config"), created with
    mode 0700 if missing and checked as described in the module docstring."""
    variable, default = _BASES[kind]
    base = os.environ.get(variable, "")
    if not os.path.isabs(base):  # the XDG specification: relative paths are invalid, ignored
        base = os.path.join(os.path.expanduser("~"), *default)
    _require_owner_checks()
    os.makedirs(base, mode=0o700, exist_ok=True)
    _check_parent(base)
    directory = os.path.join(base, "gradcalc")
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        pass
    _check(os.lstat(directory), directory, stat.S_ISDIR, "a directory")
    return Path(directory)


def open_private(path, mode: str = "r"):
    """Open `path`, a file in a private directory, without following a symbolic link; a new file
    gets mode 0600. `mode` is one of r, rb, w, wb, a, ab. Raises OSError (UnsafePathError when the
    directory or the file fails a check)."""
    if mode not in _FLAGS:
        raise ValueError(f"open_private: mode {mode!r} is not one of {', '.join(_FLAGS)}")
    _require_owner_checks()
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    _check(os.lstat(parent), parent, stat.S_ISDIR, "a directory")
    try:
        descriptor = os.open(path, _FLAGS[mode] | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as error:
        if os.path.islink(path):
            raise UnsafePathError(f"{path} is a symbolic link") from error
        raise
    try:
        _check(os.fstat(descriptor), path, stat.S_ISREG, "a regular file")
        if mode.startswith("w"):
            os.ftruncate(descriptor, 0)
        return os.fdopen(descriptor, mode, **({} if "b" in mode else {"encoding": "utf-8"}))
    except BaseException:
        os.close(descriptor)
        raise


def _require_owner_checks() -> None:
    if not hasattr(os, "geteuid") or not hasattr(os, "O_NOFOLLOW"):
        raise UnsafePathError("file owners cannot be checked on this system: nothing is kept between runs")


def _check(info: os.stat_result, path: str, is_kind, kind: str) -> None:
    if not is_kind(info.st_mode):
        raise UnsafePathError(f"{path} is not {kind}")
    if info.st_uid != os.geteuid():
        raise UnsafePathError(f"{path} belongs to another user (uid {info.st_uid})")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnsafePathError(f"{path} is writable by other users (mode {stat.S_IMODE(info.st_mode):o})")


def _check_parent(path: str) -> None:
    """The base directory (followed if a link): another user able to write it could swap ours."""
    info = os.stat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafePathError(f"{path} is not a directory")
    if info.st_uid not in (os.geteuid(), 0):
        raise UnsafePathError(f"{path} belongs to another user (uid {info.st_uid})")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not info.st_mode & stat.S_ISVTX:
        raise UnsafePathError(f"{path} is writable by other users (mode {stat.S_IMODE(info.st_mode):o})")
