"""One run at a time per workbook and per output folder: locks with a name on them.

A run that issues documents holds two locks for its whole length:

- the workbook's (`.~credit-control.<workbook name>.lock` beside it): a second letters,
  statements or refresh run of the same workbook would overwrite the first's LastStage,
  LastContactDate, Contacts and History, or resume the first's work while it runs;
- the output folder's (`.~credit-control.lock` in it, and on a database server an
  advisory lock in the journal, `Journal.scope_lock`): the folder is the scope in which a
  run looks for files an earlier, killed run left unrecorded, so while a run holds it no
  other live run can own an unrecorded file there.

The locks are the operating system's (flock on POSIX, a locked byte on Windows; on the
server, a session lock): a killed run loses them at once, nothing stale is left to clear
by hand (a killed run's lock file stays until the next run takes and removes it).
The lock file carries who holds it, so the second run is told what runs, since
when and by whom (`RunBusyError`), and exits without touching anything.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from xl_addin.errors import CreditControlError

WORKBOOK_LOCK = ".~credit-control.{name}.lock"
FOLDER_LOCK = ".~credit-control.lock"
_WINDOWS_BYTE = 2**30  # the byte locked on Windows: far from the holder's text, still readable


class RunBusyError(CreditControlError):
    """Another live run holds the workbook or the output folder."""


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a lock: the command, since when, the user, the machine and the process."""

    command: str
    since: str
    user: str
    host: str
    pid: int
    workbook: str = ""

    @classmethod
    def me(cls, command: str, workbook: Path | None = None) -> Holder:
        from xl_addin.journal.location import current_user

        return cls(command, dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S"), current_user(),
                   socket.gethostname(), os.getpid(), str(workbook or ""))  # fmt: skip

    def text(self) -> str:
        return json.dumps({"command": self.command, "since": self.since, "user": self.user,
                           "host": self.host, "pid": self.pid, "workbook": self.workbook})

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        try:
            data = json.loads(text)
            return cls(str(data["command"]), str(data["since"]), str(data["user"]),
                       str(data["host"]), int(data["pid"]), str(data.get("workbook", "")))
        except (ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        """'letters ... since 2026-11-30 10:42:07, by alice on host-1 (process 4242)'."""
        return f"since {self.since}, by {self.user} on {self.host} (process {self.pid})"


def workbook_lock_path(workbook: Path) -> Path:
    return workbook.with_name(WORKBOOK_LOCK.format(name=workbook.name))


@contextlib.contextmanager
def workbook_lock(workbook: Path, command: str) -> Iterator[Holder]:
    """Hold the workbook for `command`, or raise RunBusyError naming the run that holds it."""
    holder = Holder.me(command, workbook)
    with _file_lock(workbook_lock_path(workbook), holder) as other:
        if other is not None:
            raise RunBusyError(
                f"{other.command} already running on {workbook.name} {other.describe()}; "
                "nothing was done: wait for it to finish, then run again"
            )
        yield holder


@contextlib.contextmanager
def folder_lock(folder: Path, command: str, workbook: Path | None = None) -> Iterator[Holder]:
    """Hold the output folder for `command` (the folder must exist), or raise RunBusyError."""
    holder = Holder.me(command, workbook)
    with _file_lock(folder / FOLDER_LOCK, holder) as other:
        if other is not None:
            of = f" (workbook {Path(other.workbook).name})" if other.workbook else ""
            raise RunBusyError(
                f"{other.command}{of} already writing into {folder} {other.describe()}; "
                "nothing was issued: wait for it to finish, or choose another --out"
            )
        yield holder


@contextlib.contextmanager
def _file_lock(path: Path, holder: Holder) -> Iterator[Holder | None]:
    """Lock `path` (created if missing) and write `holder` into it; yield None, or the
    holder named in the file when another process has the lock (nothing is written then).

    The holder removes the file before letting the lock go, so a run leaves nothing beside
    the workbook; a run that locked a file just removed that way (its name now another
    file's, or none) tries again, so two runs never hold "the same" lock.
    """
    while True:
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0),
                                 0o666)  # fmt: skip
        except OSError as error:
            raise RunBusyError(f"cannot create the lock file {path} ({error.strerror}); check "
                               "that the folder exists and is writable") from error  # fmt: skip
        if not _try_lock(descriptor):
            try:
                found = Holder.parse(_read(descriptor))
                yield found or Holder("another run", "an unknown time", "unknown", "unknown", 0)
            finally:
                os.close(descriptor)
            return
        if _same_file(descriptor, path):
            break
        _unlock(descriptor)
        os.close(descriptor)
    try:
        os.ftruncate(descriptor, 0)
        os.lseek(descriptor, 0, os.SEEK_SET)
        os.write(descriptor, holder.text().encode())
        yield None
    finally:
        if os.name == "posix":  # Windows keeps the file: it cannot remove an open one
            with contextlib.suppress(OSError):
                os.unlink(path)
        _unlock(descriptor)
        os.close(descriptor)


def _same_file(descriptor: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(descriptor), os.stat(path))
    except OSError:
        return False


def _read(descriptor: int) -> str:
    try:
        os.lseek(descriptor, 0, os.SEEK_SET)
        return os.read(descriptor, 4096).decode("utf-8", errors="replace")
    except OSError:
        return ""


if os.name == "nt":  # pragma: no cover - Windows
    import msvcrt

    def _try_lock(descriptor: int) -> bool:
        os.lseek(descriptor, _WINDOWS_BYTE, os.SEEK_SET)
        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(descriptor: int) -> None:
        os.lseek(descriptor, _WINDOWS_BYTE, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(descriptor, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(descriptor: int) -> bool:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(descriptor: int) -> None:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
