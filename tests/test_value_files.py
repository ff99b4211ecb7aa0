"""--NAME @FILE (gradcalc/value_files.py): .npy, .npz of one array, CSV and whitespace text; every
refusal in gradcalc's words (numpy's named `usecols` and `allow_pickle=`, counted rows from 0 and
decoded an .npz as UTF-8 text: a new-user trial), exit 2."""

import pickle

import numpy as np
import pytest

EXAMPLE = 'e.g. --x 1,2,3 or --x "[[1,2],[3,4]]" or --x @points.npy'
COMMAS = "write one row of the array per line, its numbers separated by commas"
SPACES = ("write one row of the array per line, its numbers separated by spaces or tabs "
          "(a .csv file is read with commas)")


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short name in messages (a long path is cut in the middle)


def refusal(run_cli, path, *options):
    """(message, hint) of gradcalc's refusal of `--x @path`, which must exit 2 with no output."""
    code, out, err = run_cli("sum(x*x)", "--x", f"@{path.name}", *options)
    assert (code, out) == (2, ""), err
    head, _, hint = err.partition("\n  hint: ")
    prefix = f"gradcalc: error: --x @{path.name}: "
    shown = f"    --x @{path.name}\n        {'^' * (len(path.name) + 1)}"  # the caret under the whole value
    assert head.startswith(prefix) and head.endswith(f"\n{shown}"), err
    assert hint.endswith("\n") and "\n" not in hint[:-1], err
    return head[len(prefix):-len(shown) - 1], hint[:-1]


def test_an_npz_file_of_one_array_is_that_array(run_cli, tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, x=np.arange(3.0))
    assert run_cli("sum(x*x)", "--x", f"@{path}", "-o", "plain")[:2] == (0, "5 x=[0,2,4]\n")  # 0+1+4, 2x
    np.savez_compressed(path, whatever=np.array([[1.0, 2.0], [3.0, 4.0]]))  # any name, compressed too
    assert run_cli("sum(x*x)", "--x", f"@{path}", "-o", "plain")[:2] == (0, "30 x=[[2,4],[6,8]]\n")


def test_an_npz_file_of_several_arrays_names_them(run_cli, tmp_path):
    path = tmp_path / "b.npz"
    np.savez(path, x=np.arange(3.0), y=np.ones(2))
    assert refusal(run_cli, path) == (
        "the .npz file holds 2 arrays (x, y), not one",
        "save one array per file (np.save('x.npy', x)) and give each its own --NAME @FILE, "
        "or give the .npz file to --data to evaluate at each row of its 1-D arrays")
    np.savez(path)
    assert refusal(run_cli, path)[0] == "the .npz file holds no array, not one"


def test_an_npz_file_is_measured_before_it_is_loaded(run_cli, tmp_path):
    path = tmp_path / "big.npz"
    np.savez_compressed(path, x=np.zeros((30, 40)))
    assert refusal(run_cli, path, "--max-elements", "1000") == (
        "1,200 elements, more than the limit of 1,000",
        "raise the limit with --max-elements 1200 (each element takes 8 bytes in every node of the graph)")


def test_nothing_is_ever_unpickled(run_cli, tmp_path, monkeypatch):
    monkeypatch.setattr(pickle, "loads", lambda *_: pytest.fail("unpickled"))
    monkeypatch.setattr(pickle, "load", lambda *_: pytest.fail("unpickled"))
    objects = tmp_path / "objects.npz"
    np.savez(objects, x=np.array([1, None], dtype=object))  # np.savez pickles an object array
    assert refusal(run_cli, objects) == (
        "the file holds Python objects, which are never unpickled: save an array of numbers", EXAMPLE)
    pickled = tmp_path / "pickled.npy"
    pickled.write_bytes(pickle.dumps([1.0, 2.0]))
    # numpy's own words advised loading it "unsafely" with allow_pickle= or pickle.load()
    assert refusal(run_cli, pickled) == ("not an array saved by numpy (a pickle, a damaged file or some other file)",
                                         "save it with np.save('x.npy', x), or as text: one row of numbers per line")


def test_a_file_saved_by_numpy_under_another_suffix(run_cli, tmp_path):
    path = tmp_path / "a.bin"
    with open(path, "wb") as stream:
        np.savez(stream, x=np.arange(3.0))
    assert refusal(run_cli, path) == (
        "not a text file: it holds the byte 0xe1, which is not UTF-8 text",
        "it may be arrays saved by np.savez: rename it to end in .npz (a.npz)")
    np.save(path, np.arange(3.0), allow_pickle=False)  # np.save appends .npy to a name without it
    dat = tmp_path / "a.dat"
    path.with_suffix(".bin.npy").rename(dat)
    assert refusal(run_cli, dat) == (
        "not a text file: it holds the byte 0x93, which is not UTF-8 text",
        "it is an array saved by np.save: rename it to end in .npy (a.npy)")
    dat.write_bytes(b"\x00\xff binary")
    assert refusal(run_cli, dat)[1] == ("write numbers as text, or save the array with np.save as a .npy file; "
                                        "a file saved with np.savez must end in .npz")
    npz_named_npy = tmp_path / "a.npy"  # numpy tells the two apart by their first bytes
    npz_named_npy.write_bytes(path.read_bytes())
    assert run_cli("sum(x*x)", "--x", f"@{npz_named_npy}", "-o", "plain")[:2] == (0, "5 x=[0,2,4]\n")


@pytest.mark.parametrize("name, text, message, hint", [
    # numpy: "the number of columns changed from 3 to 2 at row 2; use `usecols` to select a subset ..."
    ("ragged.csv", "1,2,3\n4,5\n", "line 2 has 2 columns, line 1 has 3",
     "every line is one row of the array: give each the same number of columns"),
    # numpy: "could not convert string 'x' to float64 at row 1, column 2." (a row counted from 0)
    ("bad.csv", "1,2\n3,x\n", "line 2, column 2: 'x' is not a number", COMMAS),
    ("comments.csv", "# x, y\n\n1,2\n3, 4 # ok\n5,y\n", "line 5, column 2: 'y' is not a number", COMMAS),
    ("empty.csv", "1,,2\n", "line 1, column 2: an empty cell", COMMAS),
    ("semicolons.csv", "1;2\n", "line 1, column 1: '1;2' is not a number", COMMAS),
    ("bad.txt", "1 2\n3 x 4\n", "line 2, column 2: 'x' is not a number", SPACES),
    ("ragged.txt", "1 2\n\n3 4 5\n", "line 3 has 3 columns, line 1 has 2",
     "every line is one row of the array: give each the same number of columns"),
    ("blank.txt", "", "the file holds no numbers", SPACES),  # numpy warned "input contained no data"
    ("comment.txt", "# nothing yet\n", "the file holds no numbers", SPACES),
])
def test_a_text_file_numpy_refuses_is_named_by_line_and_column(run_cli, tmp_path, name, text, message, hint):
    path = tmp_path / name
    path.write_text(text)
    assert refusal(run_cli, path) == (message, hint)


def test_text_files_that_are_read(run_cli, tmp_path):
    path = tmp_path / "values.csv"
    path.write_bytes(b"\xef\xbb\xbf# a spreadsheet's byte order mark\n1, 2\n 3 ,4\n")
    assert run_cli("sum(x*x)", "--x", f"@{path}", "-o", "plain")[:2] == (0, "30 x=[[2,4],[6,8]]\n")


def test_an_empty_file_name_after_the_at_sign(run_cli):
    # it read the current directory: "cannot read the file: Is a directory"
    code, out, err = run_cli("sum(x)", "--x", "@")
    assert (code, out) == (2, "") and err == (
        "gradcalc: error: --x @: no file name after '@'\n"
        "    --x @\n"
        "        ^\n"
        "  hint: write the file's name right after '@', e.g. @points.npy or @values.csv\n")


@pytest.mark.parametrize("content", [b"", b"\x93NUMPY\x01\x00", pickle.dumps([1.0]), b"PK\x03\x04 cut short"])
def test_a_damaged_or_foreign_binary_file_is_refused_in_gradcalcs_words(run_cli, tmp_path, content):
    # an empty .npy ended in click's "Aborted." (numpy's EOFError), a cut .npz in an internal error
    message = "not an array saved by numpy (a pickle, a damaged file or some other file)"
    for suffix in (".npy", ".npz"):
        path = tmp_path / f"damaged{suffix}"
        path.write_bytes(content)
        assert refusal(run_cli, path) == (
            message, "save it with np.save('x.npy', x), or as text: one row of numbers per line")
        code, out, err = run_cli("x", "--data", path.name)
        assert (code, out) == (2, "") and err == (
            f"gradcalc: error: {path.name}: {message}\n"
            "  hint: save the columns with np.savez('points.npz', x=x, y=y), or as CSV with a header row\n")


def test_a_damaged_member_of_an_npz_file(run_cli, tmp_path):
    path = tmp_path / "crc.npz"
    np.savez(path, x=np.arange(1000.0))
    damaged = bytearray(path.read_bytes())
    damaged[200] ^= 0xFF  # inside the array's data: the zip's CRC no longer matches
    path.write_bytes(bytes(damaged))
    assert refusal(run_cli, path)[0] == "the .npz file's 'x.npy' cannot be read: the file is damaged"


def test_a_long_double_beyond_the_double_range_is_refused_not_made_inf(run_cli, tmp_path, recwarn):
    # numpy's cast printed "RuntimeWarning: overflow encountered in cast", then the value was "inf"
    array = np.array([[1, 2], [3, -np.longdouble("1e4000")]], dtype=np.longdouble)
    if not np.isfinite(array).all():
        pytest.skip("long double is a double on this platform")
    np.save(tmp_path / "ld.npy", array)
    np.savez(tmp_path / "ld.npz", x=array)
    for name in ("ld.npy", "ld.npz"):
        assert refusal(run_cli, tmp_path / name) == (
            "the element at index (1, 1) is -1e+4000, too large for a double (beyond ±1.8e308)",
            "scale the values into the double range before saving them")
    np.save(tmp_path / "fine.npy", np.array([1.5, 2], dtype=np.longdouble))  # within range: read
    assert run_cli("sum(x*x)", "--x", "@fine.npy", "-o", "plain")[:2] == (0, "6.25 x=[3,4]\n")
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def _npy_declaring(shape: tuple) -> bytes:
    """A .npy file of three doubles whose header declares `shape`."""
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape!r}, }}"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"  # numpy pads the header to 64 bytes
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + bytes(24)


def test_an_npy_header_declaring_2_to_the_96_elements_is_refused_by_its_count(run_cli, tmp_path, recwarn):
    # numpy's memmap printed "RuntimeWarning: overflow encountered in scalar multiply", then "damaged"
    path = tmp_path / "huge.npy"
    path.write_bytes(_npy_declaring((2**32, 2**32, 2**32)))
    message, hint = refusal(run_cli, path)
    assert message == "more than 10**18 elements, more than the limit of 10,000,000"
    assert "--max-elements" in hint
    path.write_bytes(_npy_declaring((3,)))  # the same file, honest: read
    assert run_cli("sum(x)", "--x", "@huge.npy", "-o", "plain")[:2] == (0, "0 x=[1,1,1]\n")
    path.write_bytes(_npy_declaring((4, 2)))  # fewer bytes than declared
    assert refusal(run_cli, path)[0] == "not an array saved by numpy (a pickle, a damaged file or some other file)"
    path.write_bytes(_npy_declaring((2**32, 2**32, 2**32)))
    code, out, err = run_cli("x", "--data", "huge.npy")  # --data's own reading, by memmap
    assert (code, out) == (2, "") and "RuntimeWarning" not in err
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("name, text, message", [
    ("n.csv", "1,nan\n", "line 1, column 2: 'nan' is not a finite number"),  # was "(nan at index (1,))"
    ("i.csv", "# header\n1,2\n3,Infinity\n", "line 3, column 2: 'Infinity' is not a finite number"),
    ("i.txt", "1 2\n-Inf 3\n", "line 2, column 1: '-Inf' is not a finite number"),
])
def test_a_non_finite_cell_of_a_text_file_is_named_by_line_and_column(run_cli, tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    assert refusal(run_cli, path) == (message, "write the number meant; a missing value has no place in an array")


def test_a_cell_beyond_the_double_range_is_too_large_not_inf(run_cli, tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("1,2\n1e999,3\n")  # numpy reads it as inf: it was reported "inf at index (1, 0)"
    assert refusal(run_cli, path) == ("line 2, column 1: 1e999 is too large for a double (beyond ±1.8e308)",
                                      "scale the values into the double range")


@pytest.mark.parametrize("name", ["missing.npy", "missing.npz", "missing.csv", "missing.txt"])
def test_a_missing_file_is_said_in_one_wording_whatever_its_suffix(run_cli, name):
    # numpy said "missing.csv not found." for text files
    code, out, err = run_cli("sum(x)", "--x", f"@{name}")
    assert (code, out) == (2, "")
    assert err.splitlines()[0] == f"gradcalc: error: --x @{name}: cannot read the file: No such file or directory"


def test_a_long_double_inf_or_nan_is_not_finite_rather_than_too_large(run_cli, tmp_path):
    # the check of the double range took inf for a number beyond it: "index (1,) is inf, too large"
    for value, shown in ((np.inf, "inf"), (-np.inf, "-inf"), (np.nan, "nan")):
        np.save(tmp_path / "ld.npy", np.array([1, value, 2], dtype=np.longdouble))
        assert refusal(run_cli, tmp_path / "ld.npy") == (
            f"every element must be a finite number ({shown} at index (1,))",
            "replace inf and nan by numbers before saving the array, or leave those elements out")  # was EXAMPLE
