"""Saving a file atomically: old or new, never half; a backup of the old; nothing left over."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from xl_addin.errors import WorkbookError
from xl_addin.workbook import safe_save
from xl_addin.workbook.safe_save import backup_path, save_atomically

ROOT = Path(__file__).resolve().parents[2]


def writer(content: bytes):
    def write(tmp: Path) -> None:
        tmp.write_bytes(content)

    return write


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".~"))


def test_a_new_file_is_written_without_a_backup(tmp_path):
    path = tmp_path / "book.xlsx"
    assert save_atomically(path, writer(b"new")) is None
    assert path.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


def test_the_old_file_is_kept_as_the_backup_and_an_older_backup_replaced(tmp_path):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"first")
    assert save_atomically(path, writer(b"second")) == tmp_path / "book.bak.xlsx"
    assert save_atomically(path, writer(b"third")) == tmp_path / "book.bak.xlsx"
    assert path.read_bytes() == b"third"
    assert (tmp_path / "book.bak.xlsx").read_bytes() == b"second"
    assert leftovers(tmp_path) == []


def test_no_backup_when_not_asked(tmp_path):
    path = tmp_path / "book.xlsm"
    path.write_bytes(b"old")
    assert save_atomically(path, writer(b"new"), backup=False) is None
    assert path.read_bytes() == b"new"
    assert not backup_path(path).exists()


def test_the_temporary_file_is_hidden_beside_the_target_with_its_suffix(tmp_path):
    path = tmp_path / "book.xlsm"
    seen: list[Path] = []

    def write(tmp: Path) -> None:
        seen.append(tmp)
        assert tmp.exists() and not path.exists()
        tmp.write_bytes(b"new")

    save_atomically(path, write)
    (tmp,) = seen
    assert tmp.parent == tmp_path
    assert tmp.name.startswith(".~book.xlsm.") and tmp.name.endswith(".tmp.xlsm")
    assert not tmp.exists()


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_a_write_that_fails_midway_leaves_the_file_exactly_as_it_was(tmp_path, error):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"old content")
    before = path.stat().st_mtime_ns

    def write(tmp: Path) -> None:
        tmp.write_bytes(b"half of the new")
        raise error

    with pytest.raises(type(error)):
        save_atomically(path, write)
    assert path.read_bytes() == b"old content"
    assert path.stat().st_mtime_ns == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


def test_a_failed_backup_leaves_the_file_and_removes_the_temporary(tmp_path, monkeypatch):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"old")

    def broken_copy(src, dst, **kwargs):
        raise OSError("no space left")

    monkeypatch.setattr(safe_save.shutil, "copyfile", broken_copy)
    with pytest.raises(OSError, match="no space left"):
        save_atomically(path, writer(b"new"))
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


def test_a_briefly_locked_file_is_retried(tmp_path, monkeypatch):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"old")
    real_replace = os.replace
    failures = {path: 2}

    def locked_replace(src, dst):
        if failures.get(Path(dst), 0) > 0:
            failures[Path(dst)] -= 1
            raise PermissionError(13, "The process cannot access the file")
        real_replace(src, dst)

    monkeypatch.setattr(safe_save, "REPLACE_RETRY_DELAYS", (0, 0, 0))
    monkeypatch.setattr(safe_save.os, "replace", locked_replace)
    save_atomically(path, writer(b"new"))
    assert path.read_bytes() == b"new"
    assert leftovers(tmp_path) == []


def test_a_file_held_open_by_excel_gives_a_clear_error_and_no_change(tmp_path, monkeypatch):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"old")
    real_replace = os.replace

    def locked_replace(src, dst):
        if Path(dst) == path:
            raise PermissionError(13, "Permission denied")
        real_replace(src, dst)

    monkeypatch.setattr(safe_save, "REPLACE_RETRY_DELAYS", (0, 0))
    monkeypatch.setattr(safe_save.os, "replace", locked_replace)
    with pytest.raises(WorkbookError, match="close the workbook in Excel and try again"):
        save_atomically(path, writer(b"new"))
    assert path.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_the_new_file_keeps_the_old_file_permissions(tmp_path):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"old")
    path.chmod(0o640)
    save_atomically(path, writer(b"new"))
    assert path.stat().st_mode & 0o777 == 0o640


SAVE_AS_ANOTHER_USER = """
import sys
from pathlib import Path
from xl_addin.workbook.safe_save import save_atomically
save_atomically(Path(sys.argv[1]), lambda tmp: tmp.write_bytes(b"new"))
"""


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0,
                    reason="POSIX permission bits; root, to save as another user")
def test_a_mode_the_saving_user_may_not_write_is_given_after_the_last_write():
    """A workbook of another user that others may write (0o446): the new file is the
    saving user's, and that mode lets its owner only read it, so it is given last."""
    with tempfile.TemporaryDirectory() as folder:
        Path(folder).chmod(0o777)
        path = Path(folder) / "book.xlsx"
        path.write_bytes(b"old")
        path.chmod(0o446)
        saved = subprocess.run([sys.executable, "-c", SAVE_AS_ANOTHER_USER, str(path)],
                               user=65534, group=65534, extra_groups=[], capture_output=True,
                               text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
        assert saved.returncode == 0, saved.stderr
        assert path.read_bytes() == b"new" and path.stat().st_mode & 0o777 == 0o446
        assert path.stat().st_uid == 65534
        assert backup_path(path).read_bytes() == b"old"
        assert backup_path(path).stat().st_mode & 0o777 == 0o446
        assert leftovers(Path(folder)) == []


@pytest.mark.skipif(not hasattr(os, "symlink") or os.name != "posix", reason="symlinks")
def test_a_symlinked_workbook_stays_a_link_to_the_new_content(tmp_path):
    real = tmp_path / "real" / "book.xlsx"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "book.xlsx"
    link.symlink_to(real)
    save_atomically(link, writer(b"new"))
    assert link.is_symlink() and real.read_bytes() == b"new"
    assert (real.parent / "book.bak.xlsx").read_bytes() == b"old"


def test_temporary_files_left_by_a_killed_run_are_cleared_once_stale(tmp_path):
    path = tmp_path / "book.xlsx"
    stale = tmp_path / ".~book.xlsx.0badf00d.tmp.xlsx"
    fresh = tmp_path / ".~book.xlsx.1234abcd.tmp.xlsx"
    other = tmp_path / ".~other.xlsx.0badf00d.tmp.xlsx"
    for leftover in (stale, fresh, other):
        leftover.write_bytes(b"partial")
    an_hour_ago = time.time() - safe_save.STALE_TEMP_SECONDS - 60
    os.utime(stale, (an_hour_ago, an_hour_ago))
    os.utime(other, (an_hour_ago, an_hour_ago))
    save_atomically(path, writer(b"new"))
    assert not stale.exists()
    assert fresh.exists() and other.exists()  # another run may still be writing these


def test_an_unwritable_folder_is_a_workbook_error(tmp_path):
    with pytest.raises(WorkbookError, match="cannot write in"):
        save_atomically(tmp_path / "missing" / "book.xlsx", writer(b"new"))
