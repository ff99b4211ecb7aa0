"""--plot: the terminal plot's text at a fixed size (plotext) and the picture file (matplotlib),
gaps left empty; a clear message when either library is missing."""

import os
import subprocess
import sys

import numpy as np
import pytest

from gradcalc.plot import with_breaks, y_limits

WIDTH, HEIGHT = 60, 16


def gradcalc(*argv, env=None):
    return subprocess.run([sys.executable, "-m", "gradcalc", *argv], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": str(WIDTH), "LINES": str(HEIGHT + 4),
                                            **(env or {})})


def canvas(text):
    """The plot area: the rows between the frame's top and bottom, without the y axis labels."""
    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    left = lines[top].index("┌") + 1
    return [line[left : left + WIDTH] for line in lines[top + 1 : bottom]], lines[top], lines[bottom + 1]


def test_terminal_plot_text_at_a_fixed_size():
    pytest.importorskip("plotext", reason="the terminal plot needs plotext (pip install 'gradcalc[plot]')")
    done = gradcalc("ln(x)", "--sweep", "x=-1:1:201", "--plot", "-q")
    assert done.returncode == 0 and done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0].strip() == "ln(x)" and lines[-1].strip() == "x"
    assert max(len(line) for line in lines) <= WIDTH and len(lines) == HEIGHT
    rows, _, ticks = canvas(done.stdout)
    assert float(ticks.split()[0]) == -1.0 and float(ticks.split()[-1]) == 1.0  # the whole sweep
    legend = "\n".join(rows[:2])
    assert "f" in legend and "∂f/∂x" in legend
    width = len(rows[0]) - 1
    body = rows[2:]  # below the legend
    left_half = [row[: width // 2 - 1] for row in body]
    assert all(not cell.strip() for cell in left_half), "ln(x) has no value for x <= 0: a gap"
    marks = [column for column in range(width // 2 + 1, width) if any(row[column] == "•" for row in body)]
    assert len(marks) > width // 3  # the derivative 1/x is drawn across the right half
    # 1/x falls as x grows: in each column its mark is no higher (no smaller row) than in the last
    heights = [min(r for r, row in enumerate(body) if row[column] == "•") for column in marks]
    assert heights == sorted(heights)


def test_order_2_adds_the_second_derivative_to_the_plot():
    pytest.importorskip("plotext", reason="the terminal plot needs plotext (pip install 'gradcalc[plot]')")
    done = gradcalc("x**3*w", "--sweep", "x=-1:1:41", "--w", "2", "--order", "2", "--plot")
    assert done.returncode == 0
    legend = "\n".join(canvas(done.stdout)[0][:4])
    assert "∂f/∂x" in legend and "∂f/∂w" in legend and "∂²f/∂x²" in legend
    assert "∂²f/∂w" not in legend  # only the swept variable's own higher derivatives are drawn


def test_y_range_is_not_squashed_by_a_singularity():
    x = np.linspace(0.001, 5, 500)
    low, high = y_limits([("f", np.log(x), None), ("∂f/∂x", 1 / x, None)])
    assert high < 20  # 1/x reaches 1000 at the left end: those few points are clipped
    inside = np.concatenate([np.log(x), 1 / x])
    assert np.mean((inside >= low) & (inside <= high)) > 0.9  # the rest is all in view
    # without a spike, the range is exactly the values' own
    assert y_limits([("f", np.sin(x), None), ("g", np.cos(x), None)]) == (
        min(np.sin(x).min(), np.cos(x).min()), max(np.sin(x).max(), np.cos(x).max()))


def test_breaks_become_nan_points():
    x, y = np.array([0.0, 1.0, 2.0, 3.0]), np.array([5.0, 6.0, 7.0, 8.0])
    xs, ys = with_breaks(x, y, np.array([False, False, True, False]))
    assert np.isnan(xs[2]) and np.isnan(ys[2]) and ys[[0, 1, 3, 4]].tolist() == [5, 6, 7, 8]


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_file(tmp_path, suffix):
    image = pytest.importorskip("matplotlib.image", reason="picture files need matplotlib")
    path = tmp_path / f"plot{suffix}"
    done = gradcalc("--plot", str(path), "ln(x)*abs(x-2)", "--sweep", "x=-1:5:301", "-q")
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
    if suffix == ".svg":
        assert "<svg" in path.read_text()[:500]
        return
    pixels = image.imread(str(path))
    assert pixels.shape[:2] == (500, 800)  # 8 x 5 inches at 100 dpi
    rgb = (pixels[..., :3] * 255).round().astype(int)
    blue = np.all(np.abs(rgb - [0x1F, 0x77, 0xB4]) < 30, axis=-1)  # matplotlib's C0: the value f
    orange = np.all(np.abs(rgb - [0xFF, 0x7F, 0x0E]) < 30, axis=-1)  # C1: ∂f/∂x
    assert blue.sum() > 500 and orange.sum() > 500
    # the frame of the axes: the columns that are dark from top to bottom of the plot area
    dark = np.all(rgb < 80, axis=-1)
    spines = np.flatnonzero(dark.mean(axis=0) > 0.5)
    left, right = spines.min(), spines.max()
    rows = dark[:, left].nonzero()[0]
    inside = slice(rows.min() + 2, rows.max() - 2)  # the legend is outside, above the frame
    zero = left + (right - left) / 6  # x runs from -1 to 5
    # ln(x) needs x > 0: no line left of x = 0 (the gap); f and ∂f/∂x on its right
    assert not blue[inside, left + 2 : int(zero) - 2].any() and not orange[inside, left + 2 : int(zero) - 2].any()
    assert blue[inside, int(zero) + 3 : right - 2].any(axis=0).mean() > 0.95


def test_plot_file_with_table_output(tmp_path):
    pytest.importorskip("matplotlib", reason="picture files need matplotlib")
    path = tmp_path / "plot.png"
    done = gradcalc("x*x", "--sweep", "x=0:1:3", f"--plot={path}", "-o", "csv")
    assert done.returncode == 0 and path.stat().st_size > 1000
    assert done.stdout == "x,value,grad_x\n0.0,0.0,0.0\n0.5,0.25,1.0\n1.0,1.0,2.0\n"


@pytest.mark.parametrize("name", ["out.txt", "noext", "p.jpg", "terminal", "plot.png.bak"])
def test_a_plot_file_name_must_be_a_png_svg_or_pdf(run_cli, tmp_path, monkeypatch, name):
    # the README documents .png, .svg and .pdf; --plot=FILE was taken without a look at its name
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("x*x", "--sweep", "x=0:1:3", f"--plot={name}")
    assert (code, out) == (2, "")
    assert err == (f"gradcalc: error: --plot {name}: the file name must end in .png, .svg or .pdf\n"
                   f"    --plot {name}\n"
                   f"           {'^' * len(name)}\n"
                   "  hint: for example --plot plot.png (--plot alone draws in the terminal)\n")
    assert list(tmp_path.iterdir()) == []  # nothing written (noext.png, p.jpg)


@pytest.mark.parametrize("module, argv, message", [
    ("plotext", ["--plot"], "needs the plotext package"),
    ("matplotlib", ["--plot", "out.png"], "needs matplotlib"),
])
def test_missing_plot_library_is_a_clear_message(run_cli, monkeypatch, module, argv, message):
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if it were not installed
    if module == "matplotlib":
        monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    code, out, err = run_cli("x*x", "--sweep", "x=0:1:5", *argv)
    assert code == 2 and out == ""
    assert message in err and "pip install 'gradcalc[plot]'" in err and "Traceback" not in err
