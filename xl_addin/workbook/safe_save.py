"""Replace a file atomically: write a temporary file beside it, keep a backup, then swap.

At every instant the target is either the complete old file or the complete new
one: the new content goes to a hidden temporary file in the same folder (so the
final `os.replace` is a rename within one file system), is flushed to disk, and
only then takes the target's name. A failure at any point before the rename
leaves the target untouched and removes the temporary file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
import time
from collections.abc import Callable
from pathlib import Path

from xl_addin.errors import WorkbookError

# Excel and virus scanners hold a file open for a moment after touching it; on Windows a
# rename onto it then fails with PermissionError. Wait this long between attempts.
REPLACE_RETRY_DELAYS = (0.1, 0.2, 0.4, 0.8, 1.5)
STALE_TEMP_SECONDS = 3600


def backup_path(path: Path) -> Path:
    """Return where the backup of `path` is kept: `<stem>.bak<suffix>` beside it."""
    return path.with_name(f"{path.stem}.bak{path.suffix}")


def save_atomically(path: Path, write: Callable[[Path], None], backup: bool = True) -> Path | None:
    """Write a new version of `path` through `write(tmp)` and swap it in atomically.

    Return the backup of the previous version, or None when there was no previous
    file or `backup` is False. On any error the temporary file is removed, `path` is
    left exactly as it was, and the error is raised again.
    """
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))  # replace the file, not the link
    _refuse_non_files(path, backup)
    refuse_unwritable(path)
    _remove_stale_temps(path)
    tmp = _reserve_temp(path)
    try:
        write(tmp)
        _fsync_file(tmp)
        if path.exists() and os.name == "posix":  # after the last write: it may be read-only
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        saved = _make_backup(path) if backup and path.exists() else None
        _replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_directory(path.parent)
    return saved


def _refuse_non_files(path: Path, backup: bool) -> None:
    """WorkbookError before anything is written when the target or its backup's name is
    taken by a folder (or anything but a file); a dangling link is replaced as a file."""
    for target, what in ((path, "the file"), (backup_path(path), "the backup")):
        if target is not path and not backup:
            continue
        if target.exists() and not target.is_file():
            raise WorkbookError(
                f"{target} is a folder or a device, not a file: {what} cannot be written "
                "there; move it away and try again"
            )


def excel_owner_file(path: Path) -> Path:
    """The file Excel keeps beside a workbook it has open: `~$` and the workbook's whole
    name (`~$branch.xlsm`). Word cuts the first one or two characters of a name of seven
    or more (`~$anch.docx`); Excel does not (as LibreOffice's msodocumentlockfile.cxx,
    which writes them the way Office does, has it)."""
    return path.with_name(f"~${path.name}")


def refuse_unwritable(path: Path, done: str = "nothing was written",
                      buttons: bool = True) -> None:  # fmt: skip
    """WorkbookError when the file at `path` is not to be replaced: it is read-only (by its
    mode bits, so that root, whom no permission stops, is refused too), its folder is, or
    Excel has it open (`excel_owner_file`): Excel's next save would overwrite ours. `done`
    says what was left undone, for the message; `buttons`: the file is a branch workbook,
    whose buttons do the same work in the open book."""
    if not path.exists():
        return
    mode = path.stat().st_mode
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
        raise WorkbookError(f"{path} is read-only: {done}; make it writable and run again")
    if not os.access(path.parent, os.W_OK):
        raise WorkbookError(f"the folder {path.parent} is read-only: {done} (a file is saved "
                            "through a new file beside it)")  # fmt: skip
    owner = excel_owner_file(path)
    if owner.exists():
        hint = "use the workbook's buttons in Excel, or " if buttons else ""
        raise WorkbookError(
            f"{path.name} seems to be open in Excel ({owner.name} is beside it): {done}; "
            f"{hint}close it there and run again (if Excel is not running, delete "
            f"{owner.name})"
        )


def _temp_name(path: Path) -> Path:
    return path.with_name(f".~{path.name}.{secrets.token_hex(4)}.tmp{path.suffix}")


def _reserve_temp(path: Path) -> Path:
    """Create an empty, not yet existing temporary file beside `path` (mode from umask)."""
    while True:
        tmp = _temp_name(path)
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            continue
        except OSError as error:
            raise WorkbookError(
                f"cannot write in {path.parent} ({error.strerror}); "
                "check that the folder exists and is writable"
            ) from error
        os.close(fd)
        return tmp


def _make_backup(path: Path) -> Path:
    """Copy `path` to its backup name atomically (copy to a temporary, then rename)."""
    target = backup_path(path)
    tmp = _reserve_temp(target)
    try:
        shutil.copyfile(path, tmp)
        _fsync_file(tmp)
        shutil.copystat(path, tmp)  # its mode after the last write, as above
        _replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return target


def _replace(source: Path, target: Path) -> None:
    """Rename `source` onto `target`, retrying while another program holds the target."""
    for delay in (*REPLACE_RETRY_DELAYS, None):
        try:
            os.replace(source, target)
            return
        except PermissionError as error:
            if delay is None:
                raise WorkbookError(
                    f"{target.name} cannot be replaced ({error.strerror}); it is probably "
                    "open in Excel or another program: close the workbook in Excel and "
                    "try again"
                ) from error
            time.sleep(delay)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_directory(folder: Path) -> None:
    """Make the rename itself durable (POSIX only; Windows has no directory handles)."""
    if os.name != "posix":
        return
    # Some file systems (network shares, FUSE) refuse fsync on a directory; the rename has
    # already happened, so this is best effort.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove_stale_temps(path: Path) -> None:
    """Remove temporary files an earlier, killed run left beside `path`."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    for name in (path.name, backup_path(path).name):
        for stale in path.parent.glob(f".~{_glob_escape(name)}.*.tmp{_glob_escape(path.suffix)}"):
            with contextlib.suppress(OSError):
                if stale.stat().st_mtime < cutoff:
                    stale.unlink()


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def remove_temporaries(path: Path) -> list[Path]:
    """Remove every temporary file a killed save left beside `path` (and its backup),
    whatever its age: for a caller that holds the workbook, so no live save owns one."""
    removed = []
    for name in (path.name, backup_path(path).name):
        for stale in path.parent.glob(f".~{_glob_escape(name)}.*.tmp{_glob_escape(path.suffix)}"):
            with contextlib.suppress(OSError):
                stale.unlink()
                removed.append(stale)
    return removed
