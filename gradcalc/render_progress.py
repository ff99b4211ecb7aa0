"""The progress bar on stderr while a file of jobs is read (Rich, so a rendering module)."""

import os
import stat
import sys


def with_progress(stream, quiet: bool):
    """The stream's lines, with a progress bar on stderr when the input is a file of known size,
    stderr is a terminal and the results go elsewhere (a file or a pipe)."""
    try:
        info = os.fstat(stream.fileno())
        size = info.st_size if stat.S_ISREG(info.st_mode) else 0
    except (OSError, ValueError):
        size = 0
    if quiet or not size or not sys.stderr.isatty() or sys.stdout.isatty():
        yield from stream
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    done = 0
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("gradcalc", total=size)
        for count, raw in enumerate(stream):
            done += len(raw)
            if count % 512 == 0:
                progress.update(task, completed=done)
            yield raw
