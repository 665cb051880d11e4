"""Where a workbook's journal is (a SQLite file beside it, or the database Settings names),
and whom a run is recorded for.

Apart from `journal.store` so that a run can find out that there is no journal yet (a
SQLite file not made) without importing SQLAlchemy: a refresh of such a workbook reads
nothing from one, and never creates one; and the run lock names its holder without it.
"""

from __future__ import annotations

import getpass
from pathlib import Path

IN_MEMORY = "sqlite://"  # what a dry run reads instead of a SQLite journal not made yet


def journal_url(workbook: Path, setting: str = "", dry_run: bool = False) -> str:
    """The journal of a workbook: Settings.Journal (a path or URL), else beside the workbook.

    A relative path is taken from the workbook's folder, so that a copy of the workbook in
    the same folder (and the folder moved as a whole) keeps the same journal: `new` fills
    in `<workbook stem>.journal.sqlite`. A blank setting (older workbooks) means that same
    name, but from the workbook's current name, so a copy under another name would start
    a journal of its own: services.issuing refuses such a copy by its History sheet.

    For a dry run, a SQLite journal that does not exist yet is an empty one in memory
    (`IN_MEMORY`): a dry run creates no file.
    """
    url = _journal_url(workbook, setting)
    file = sqlite_file(url)
    if dry_run and file is not None and not file.exists():
        return IN_MEMORY
    return url


def _journal_url(workbook: Path, setting: str) -> str:
    setting = (setting or "").strip()
    if not setting:
        return f"sqlite:///{workbook.with_name(workbook.stem + '.journal.sqlite')}"
    if "://" in setting:
        return setting
    path = Path(setting)
    return f"sqlite:///{path if path.is_absolute() else workbook.parent / path}"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite journal URL (None for other databases or one in memory)."""
    if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        return Path(url[len("sqlite:///") :])
    return None


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
