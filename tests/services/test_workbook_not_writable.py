"""A workbook file that is not to be replaced: every command that would write it stops
before doing anything, with a message, exit 1, and every file as it was.

Read-only by its mode bits (these tests run as root, whom no permission stops: the mode
is what is looked at), or open in Excel (its owner file `~$<name>` beside it: Excel's
next save would overwrite what the command wrote). The buttons write into the open book,
not the file: tests/test_macros.py runs them with the owner file present.
"""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from tests.services.runs import PACK, ROOT, branch_workbook, cli, files

IMPORT = ROOT / "tests" / "data" / "erp" / "ledger-layout-utf8-bom.csv"
COMMANDS = {  # every command that replaces the workbook file
    "refresh": ["refresh", "{book}"],
    "validate": ["validate", "{book}"],
    "import": ["import", "{book}", str(IMPORT)],
    "letters": ["letters", "{book}"],
    "statements": ["statements", "{book}"],
    "close": ["close", "{book}"],
    "upgrade": ["upgrade", "{book}", "--pack", str(PACK)],
}


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    return branch_workbook(tmp_path_factory.mktemp("made") / "branch.xlsx")


def run(command: str, book: Path):
    return cli(*(part.format(book=book) for part in COMMANDS[command]))


@pytest.mark.parametrize("command", ["refresh", "validate", "import", "close", "upgrade"])
def test_a_read_only_workbook_is_refused_before_anything_is_done(made, tmp_path, command):
    """(letters: tests/services/test_concurrency.py; statements is held as letters is)"""
    book = tmp_path / "branch.xlsx"
    shutil.copy(made, book)
    book.chmod(0o444)
    before = files(tmp_path)
    refused = run(command, book)
    assert refused.returncode == 1, refused.message
    assert f"{book} is read-only" in refused.message
    assert "make it writable and run again" in refused.message
    assert "Traceback" not in refused.message
    assert files(tmp_path) == before  # no journal, no output folder, no backup
    assert stat.S_IMODE(book.stat().st_mode) == 0o444


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_workbook_open_in_excel_is_refused_before_anything_is_done(made, tmp_path, command):
    book = tmp_path / "branch.xlsx"
    shutil.copy(made, book)
    (tmp_path / "~$branch.xlsx").write_bytes(b"\x05alice" + b" " * 48)  # Excel's owner file
    before = files(tmp_path)
    refused = run(command, book)
    assert refused.returncode == 1, refused.message
    assert "branch.xlsx seems to be open in Excel (~$branch.xlsx is beside it)" in refused.message
    assert "use the workbook's buttons in Excel, or close it there" in refused.message
    assert "if Excel is not running, delete ~$branch.xlsx" in refused.message
    assert "Traceback" not in refused.message
    assert files(tmp_path) == before


def test_a_run_summary_open_in_excel_stops_letters_before_anything_is_issued(made, tmp_path):
    """Letters run again the same day with the day's summary open in Excel: the summary,
    written last, would have stopped the run after its documents were issued and before
    the workbook was updated. Refused before anything is issued."""
    book = tmp_path / "branch.xlsx"
    shutil.copy(made, book)
    out = tmp_path / "out"
    first = cli("letters", book, "--out", out, "--as-of", "2026-11-30")
    assert first.returncode == 0, first.message
    [summary] = out.glob("summary letters 2026-11-30.xlsx")
    (out / f"~${summary.name}").write_bytes(b"\x05alice" + b" " * 48)
    before = files(tmp_path)
    again = cli("letters", book, "--out", out, "--as-of", "2026-11-30", "--force")
    assert again.returncode == 1, again.message
    assert f"{summary.name} seems to be open in Excel" in again.message
    assert "nothing was issued; close it there and run again" in again.message
    assert "Traceback" not in again.message
    assert files(tmp_path) == before
