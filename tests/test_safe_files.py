"""Per-user directories and files that no other user can plant or swap (gradcalc/safe_files.py)."""

import os
import stat

import pytest

from gradcalc.safe_files import UnsafePathError, open_private, private_dir

OTHER_USER = 65534  # nobody
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    base = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(base))
    return base


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_private_dir_is_created_with_mode_0700(cache_home):
    directory = private_dir("cache")
    assert directory == cache_home / "gradcalc"
    assert mode_of(directory) == 0o700
    assert private_dir("cache") == directory  # found again, still accepted


def test_state_dir_defaults_under_the_home_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    assert private_dir("state") == tmp_path / ".local" / "state" / "gradcalc"


def test_a_relative_xdg_path_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert private_dir("cache") == tmp_path / ".cache" / "gradcalc"


def test_a_directory_writable_by_others_is_refused(cache_home):
    (cache_home / "gradcalc").mkdir(parents=True)
    os.chmod(cache_home / "gradcalc", 0o777)
    with pytest.raises(UnsafePathError, match="writable by other users"):
        private_dir("cache")


def test_a_symbolic_link_in_place_of_the_directory_is_refused(cache_home, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    cache_home.mkdir()
    (cache_home / "gradcalc").symlink_to(elsewhere)
    with pytest.raises(UnsafePathError, match="not a directory"):
        private_dir("cache")


def test_a_base_directory_writable_by_others_is_refused_unless_sticky(cache_home):
    cache_home.mkdir()
    os.chmod(cache_home, 0o777)
    with pytest.raises(UnsafePathError, match="writable by other users"):
        private_dir("cache")
    os.chmod(cache_home, 0o1777)  # like /tmp: others cannot rename our entries
    assert mode_of(private_dir("cache")) == 0o700


@as_root
def test_a_directory_owned_by_another_user_is_refused(cache_home):
    (cache_home / "gradcalc").mkdir(parents=True, mode=0o700)
    os.chown(cache_home / "gradcalc", OTHER_USER, OTHER_USER)
    with pytest.raises(UnsafePathError, match="belongs to another user"):
        private_dir("cache")


def test_open_private_writes_mode_0600_and_reads_back(cache_home):
    path = private_dir("cache") / "history"
    with open_private(path, "a") as stream:
        stream.write("x*y\n")
    with open_private(path, "a") as stream:
        stream.write("ln(x)\n")
    assert mode_of(path) == 0o600
    with open_private(path) as stream:
        assert stream.read() == "x*y\nln(x)\n"
    with open_private(path, "wb") as stream:
        stream.write(b"new")
    assert path.read_bytes() == b"new"


def test_open_private_refuses_a_symbolic_link(cache_home, tmp_path):
    target = tmp_path / "target"
    target.write_text("planted")
    link = private_dir("cache") / "history"
    link.symlink_to(target)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        open_private(link)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        open_private(link, "w")
    assert target.read_text() == "planted"  # not truncated through the link


def test_open_private_refuses_a_file_writable_by_others(cache_home):
    path = private_dir("cache") / "history"
    path.write_text("planted")
    os.chmod(path, 0o666)
    with pytest.raises(UnsafePathError, match="writable by other users"):
        open_private(path)


def test_open_private_refuses_a_file_in_a_directory_others_may_write(tmp_path):
    os.chmod(tmp_path, 0o777)
    (tmp_path / "history").write_text("planted")
    with pytest.raises(UnsafePathError, match="writable by other users"):
        open_private(tmp_path / "history")


@as_root
def test_open_private_refuses_a_file_owned_by_another_user_and_leaves_it_whole(cache_home):
    path = private_dir("cache") / "history"
    path.write_text("planted")
    os.chown(path, OTHER_USER, OTHER_USER)
    for mode in ("r", "w"):
        with pytest.raises(UnsafePathError, match="belongs to another user"):
            open_private(path, mode)
    assert path.read_text() == "planted"


def test_open_private_mode_must_be_known(cache_home):
    with pytest.raises(ValueError, match="mode"):
        open_private(private_dir("cache") / "history", "r+")
