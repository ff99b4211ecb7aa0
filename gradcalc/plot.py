"""--plot: f and its derivatives along a sweep, drawn in the terminal (plotext) or into a PNG/SVG/PDF
file (matplotlib). Both are optional: `pip install 'gradcalc[plot]'`.

Gaps stay gaps: a point outside the domain is nan and breaks the line; where a kink layer moves to
another piece (relu's input changes sign, floor's crosses an integer) the derivative's line is
broken too, and where the value jumps (floor, mod) the value's, instead of drawing a vertical
stroke across the jump (sweep.kink_breaks).
"""

import io

import numpy as np

from gradcalc import checked_output
from gradcalc.errors import UsageError

FILE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}  # as the README documents them
INSTALL_HINT = "pip install 'gradcalc[plot]' (plotext for the terminal, matplotlib for files)"
_COLORS = ("blue", "red", "green", "orange", "magenta", "cyan")
_MARKERS = ("braille", "•", "+", "x", "o", "*")  # each series its own mark, so it reads without colour


def is_picture_file(name: str) -> bool:
    return name.lower().endswith(tuple(FILE_FORMATS))


def file_format(path: str) -> str:
    """png, svg or pdf, from a --plot file name."""
    return checked_output.file_format(path, "--plot", FILE_FORMATS,
                                      hint="for example --plot plot.png (--plot alone draws in the terminal)")


def with_breaks(x: np.ndarray, y: np.ndarray, breaks: np.ndarray | None):
    """x and y with a nan point inserted before every point i where breaks[i] holds."""
    if breaks is None or not breaks.any():
        return x, y
    at = np.flatnonzero(breaks)
    return np.insert(x.astype(float), at, np.nan), np.insert(y.astype(float), at, np.nan)


def y_limits(series: list):
    """The y range to draw: every finite value, unless a few of them (a derivative growing without
    bound next to a gap or a singularity) would squash the rest into a flat line; then the middle 90%
    of the values, widened by their span on each side. None when there is nothing to scale."""
    finite = [y[np.isfinite(y)] for _, y, _ in series]
    values = np.concatenate(finite) if finite else np.empty(0)
    if not values.size:
        return None
    low, high = float(values.min()), float(values.max())
    low_mid, high_mid = (float(q) for q in np.percentile(values, [5, 95]))
    span = high_mid - low_mid
    if span > 0 and high - low > 10 * span:
        low, high = max(low, low_mid - span), min(high, high_mid + span)
    return (low, high) if low < high else None


def _runs(x: np.ndarray, y: np.ndarray):
    """The stretches of finite points, each drawn as its own line."""
    finite = np.isfinite(x) & np.isfinite(y)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], finite.astype(np.int8), [0]))))
    for start, stop in zip(edges[::2], edges[1::2]):
        yield x[start:stop], y[start:stop]


def terminal_plot(title: str, x_name: str, x: np.ndarray, series: list, width: int, height: int,
                  color: bool) -> str:
    """The plot as text of `width` columns and `height` rows (ANSI colours only if `color`)."""
    try:
        import plotext as plt
    except ImportError:
        raise UsageError("--plot in the terminal needs the plotext package, which is not installed",
                         hint=f"{INSTALL_HINT}; or write a file with --plot plot.png") from None
    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear")
    for number, (label, y, breaks) in enumerate(series):
        xs, ys = with_breaks(x, y, breaks)
        for run, (run_x, run_y) in enumerate(_runs(xs, ys)):
            plt.plot(run_x.tolist(), run_y.tolist(), label=label if run == 0 else "",
                     marker=_MARKERS[number % len(_MARKERS)], color=_COLORS[number % len(_COLORS)])
    if len(x) > 1 and x[0] != x[-1]:
        plt.xlim(float(x[0]), float(x[-1]))
    limits = y_limits(series)
    if limits is not None:
        plt.ylim(*limits)
    plt.title(title)
    plt.xlabel(x_name)
    text = plt.build()
    plt.clear_figure()
    if not color:
        text = plt.uncolorize(text)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


# a plot's characters for an output whose encoding lacks them (PYTHONIOENCODING=ascii): each cell
# one ASCII character, so the plot keeps its shape; the marks stay apart from the other series' (+ x o *)
_IN_ASCII = str.maketrans({**{chr(code): "#" for code in range(0x2801, 0x2900)}, "\u2800": " ", "•": "@",
                           "─": "-", "│": "|", "┌": "+", "┐": "+", "└": "+", "┘": "+", "┤": "+", "├": "+",
                           "┬": "+", "┴": "+", "┼": "+"})


def encoded(text: str, out) -> str:
    """The terminal plot as `out` can write it: in ASCII where its encoding lacks the braille and the
    box (the labels' other characters escaped as every text is)."""
    encoding = getattr(out, "encoding", None)
    if not checked_output.lacks_characters(encoding):
        return text
    from gradcalc.formatting import encodable

    return encodable(text.translate(_IN_ASCII), encoding)


def file_plot(path: str, title: str, x_name: str, x: np.ndarray, series: list) -> None:
    """The plot as a PNG, SVG or PDF file, by its name's suffix."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError(f"--plot {path} needs matplotlib, which is not installed",
                         hint=f"{INSTALL_HINT}; or draw in the terminal with --plot alone") from None
    figure = Figure(figsize=(8, 5), dpi=100, layout="constrained")
    axes = figure.subplots()
    for number, (label, y, breaks) in enumerate(series):
        xs, ys = with_breaks(x, y, breaks)
        axes.plot(xs, ys, label=label, color=f"C{number}", linewidth=1.5)
    if len(x) > 1 and x[0] != x[-1]:
        axes.set_xlim(float(x[0]), float(x[-1]))  # the whole sweep, gaps included
    limits = y_limits(series)
    if limits is not None:
        margin = 0.05 * (limits[1] - limits[0])
        axes.set_ylim(limits[0] - margin, limits[1] + margin)
    axes.set_title(title)
    axes.set_xlabel(x_name)
    axes.axhline(0, color="0.6", linewidth=0.8)
    axes.grid(True, color="0.9")
    figure.legend(loc="outside right upper", frameon=False)  # beside the axes: never over a curve
    # drawn in memory, then written: matplotlib's PDF writer, failing to write (a full disk), hides
    # the OSError behind an error of its own clean-up
    drawn = io.BytesIO()
    figure.savefig(drawn, format=file_format(path))
    checked_output.write_file(path, drawn.getvalue())
