"""A damaged SQLite journal: every command that opens it stops with one message naming the
file and saying to restore it from a copy, exit 1, and every file as it was (no output
folder made, nothing recorded into the damaged file, the workbook untouched).

Real damage on a real journal a letters run wrote: a page zeroed as a disk fault leaves
it (SQLite's quick check finds it when the journal is opened, before any write could go
on into it), and a file that is no SQLite database at all (met when connecting).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.services.runs import cli, files, issued_workbook
from xl_addin.errors import JournalError
from xl_addin.journal.store import Journal

COMMANDS = {  # every command that opens the workbook's journal
    "letters": ["letters", "{book}", "--as-of", "2026-12-10", "--out", "{folder}/L"],
    "statements": ["statements", "{book}", "--out", "{folder}/S"],
    "history": ["history", "{book}"],
    "close": ["close", "{book}"],
    "refresh": ["refresh", "{book}"],
    "report": ["report", "{book}"],
}


def zero_page_two(journal: Path) -> None:
    with journal.open("r+b") as handle:
        handle.seek(4096)
        handle.write(bytes(4096))


def not_a_database(journal: Path) -> None:
    journal.write_bytes(b"not a database: notes someone saved under the journal's name\n" * 80)


@pytest.fixture(scope="module")
def issued(tmp_path_factory) -> Path:
    """A workbook whose journal holds a letters run (a page size of 4096 bytes)."""
    return issued_workbook(tmp_path_factory.mktemp("issued"))


@pytest.mark.parametrize("damage", [zero_page_two, not_a_database])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_damaged_journal_stops_every_command_with_one_message(issued, tmp_path, command,
                                                                 damage):  # fmt: skip
    book = tmp_path / "branch.xlsx"
    shutil.copy(issued, book)
    journal = tmp_path / "branch.journal.sqlite"
    shutil.copy(issued.with_name(journal.name), journal)
    damage(journal)
    before = files(tmp_path)
    stopped = cli(*(part.format(book=book, folder=tmp_path) for part in COMMANDS[command]))
    assert stopped.returncode == 1, stopped.message
    assert f"the journal {journal} is damaged" in stopped.message
    assert "restore the file from a copy" in stopped.message
    for internal in ("Traceback", "sqlalche.me", "[SQL:", "sqlite3."):
        assert internal not in stopped.message
    assert files(tmp_path) == before


def test_a_journal_that_cannot_be_opened_is_named_in_the_drivers_words_only():
    with pytest.raises(JournalError) as refused:
        Journal.open("sqlite:////no/such/folder/j.sqlite")
    assert str(refused.value) == ("the journal /no/such/folder/j.sqlite cannot be opened "
                                  "(unable to open database file)")  # fmt: skip
