"""A run appends its documents to History when the sheet is the journal's record as a
whole write would give it, and writes it whole otherwise: either way the workbook ends
with the History a whole write gives. Real workbooks, journals and runs."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import python_calamine as calamine

from tests.journal.postgres import postgres  # noqa: F401 (the fixture)
from tests.services.runs import branch_workbook
from tests.xlbook import Book
from xl_addin import macros
from xl_addin.journal.store import DocumentRecord, Journal, journal_url
from xl_addin.services import issuing, letters
from xl_addin.services.book import load_book
from xl_addin.services.demo import DEFAULT_AS_OF
from xl_addin.services.history_sheet import ListedHistory, file_rows, history_sheet
from xl_addin.services.issuing import ready_to_issue
from xl_addin.services.letters import run_letters
from xl_addin.services.refresh import refresh
from xl_addin.workbook import writer as writer_module
from xl_addin.workbook.access import plain
from xl_addin.workbook.package import Package
from xl_addin.workbook.writer import write_refresh

EARLIER = 600  # documents issued before: more than the rows History's columns are sized from
JUNE = dt.datetime(2026, 6, 1, 9, 0)
LATER = DEFAULT_AS_OF + dt.timedelta(days=11)  # past day 1 letters' pay-by date: a next step


def seed(url: str, count: int, start: dt.datetime = JUNE, prefix: str = "OLD") -> list[str]:
    """`count` letters of an earlier run, to customers the workbook no longer has."""
    with Journal.open(url) as journal:
        run = journal.start_run("letters", start.date(), None, "u", "SH", "v1")
        references = journal.reserve_references(
            run, "SH", start.date(), [("letter", f"old {n}.docx") for n in range(count)])
        journal.record_batch(run, [
            DocumentRecord("letter", f"{prefix}{n:04d}", "friendly_reminder",
                           start.date().isoformat(), reference, 0, f"old {n}.docx", "0" * 64,
                           Decimal(n) + Decimal("0.25"), "CNY",
                           start + dt.timedelta(minutes=n), "u", "SH", "v1")
            for n, reference in enumerate(references)
        ])  # fmt: skip
    return references


def check(path: Path):
    """How the History sheet stands before a run (ready_to_issue), and the book read."""
    loaded = load_book(path)
    ready = ready_to_issue(path, loaded.book.settings, loaded.book.policy)
    return ready.history, loaded


def history_part(path: Path) -> bytes:
    with Package(path) as package:
        return package.read(package.sheet("History").part)


def whole(path: Path, tmp: Path) -> Path:
    """A copy of the workbook with History written whole from its journal."""
    copy = tmp / f"whole-{path.name}"
    shutil.copy(path, copy)
    loaded = load_book(path)
    settings = loaded.book.settings
    with Journal.open(journal_url(path, settings.journal)) as journal:
        sheet = history_sheet(journal, settings.language, loaded.book.policy, settings.branch)
    write_refresh(copy, [], [sheet])
    return copy


def listed_count(path: Path) -> int:
    sheet = calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("History")
    return len(sheet.to_python()) - 3  # title, a blank row, the header


@pytest.fixture
def branch(tmp_path) -> Path:
    """A branch's workbook whose journal holds 600 earlier letters, after a day's run
    (History written whole the first time: the new workbook's has the old header)."""
    path = branch_workbook(tmp_path / "sh" / "branch.xlsx")
    seed(journal_url(path, ""), EARLIER)
    result = run_letters(path, as_of=DEFAULT_AS_OF, out=tmp_path / "day1")
    assert result.issued.documents
    return path


def test_the_next_run_appends_and_history_is_what_a_whole_write_gives(branch, tmp_path):
    listed, loaded = check(branch)
    settings = loaded.book.settings
    count = listed_count(branch)
    assert count > EARLIER
    with Journal.open(journal_url(branch, "")) as journal:
        last = journal.documents(branch="SH")[-1].reference
        assert listed == ListedHistory(count, last)
        # nothing new: nothing to append; the sheet is kept as it is
        spec = history_sheet(journal, settings.language, loaded.book.policy, "SH", listed,
                             file_rows(branch))  # fmt: skip
        assert (spec.kept_rows, list(spec.rows)) == (count, [])
    day2 = run_letters(branch, as_of=LATER, out=tmp_path / "day2")
    assert day2.issued.documents
    assert listed_count(branch) == count + len(day2.issued.documents)
    assert history_part(branch) == history_part(whole(branch, tmp_path))
    ws = openpyxl.load_workbook(branch)["History"]
    assert ws.tables["History"].ref == f"A3:I{3 + listed_count(branch)}"
    assert check(branch)[0].rows == listed_count(branch)  # and the day after


def test_a_history_as_the_last_run_wrote_it_is_not_read_again(branch, monkeypatch):
    """The journal marks the History part a run wrote (its CRC-32 and size): while the
    file's part is still that one, as a refresh leaves it, the next run need not read it."""
    listed, _ = check(branch)
    refresh(branch)  # the History part is copied as stored
    monkeypatch.setattr("xl_addin.services.issuing.read_history", unread)
    assert check(branch)[0] == listed
    # Excel (here openpyxl) saving the workbook writes the part again: it is read
    openpyxl.load_workbook(branch).save(branch)
    with pytest.raises(AssertionError, match="History was read"):
        check(branch)


def unread(path):
    raise AssertionError("History was read")


def test_a_history_not_the_journals_record_is_written_whole(branch, tmp_path):
    loaded = load_book(branch)
    settings, policy = loaded.book.settings, loaded.book.policy
    assert ready_to_issue(branch, settings, policy).history is not None
    # the workbook switched to Chinese: every kind and stage is named again
    zh = dataclasses.replace(settings, language="zh")
    assert ready_to_issue(branch, zh, policy).history is None
    # a stage renamed in the Policy
    renamed = dataclasses.replace(policy, stages=tuple(
        dataclasses.replace(s, name="Gentle reminder") if s.key == "friendly_reminder" else s
        for s in policy.stages))  # fmt: skip
    assert ready_to_issue(branch, settings, renamed).history is None
    # a row edited by hand: the next run writes the journal's record back
    book = openpyxl.load_workbook(branch)
    original = book["History"]["C10"].value
    book["History"]["C10"] = "C-EDITED"
    book.save(branch)
    assert check(branch)[0] is None
    run_letters(branch, as_of=LATER, out=tmp_path / "day2")
    assert openpyxl.load_workbook(branch)["History"]["C10"].value == original
    assert history_part(branch) == history_part(whole(branch, tmp_path))
    assert check(branch)[0].rows == listed_count(branch)


def test_a_row_removed_or_under_the_table_means_a_whole_write(branch):
    book = openpyxl.load_workbook(branch)
    book["History"].delete_rows(20)
    book.save(branch)
    assert check(branch)[0] is None


def test_a_document_the_journal_puts_before_the_last_listed_means_a_whole_write(branch):
    """A document recorded after the check but dated before the sheet's last (another
    computer's clock behind): the sheet no longer lists the journal's first documents."""
    listed, loaded = check(branch)
    settings = loaded.book.settings
    url = journal_url(branch, "")
    seed(url, 1, JUNE - dt.timedelta(days=1), prefix="LATE")
    with Journal.open(url) as journal:
        spec = history_sheet(journal, settings.language, loaded.book.policy, "SH", listed,
                             file_rows(branch))  # fmt: skip
        assert spec.kept_rows == 0 and len(spec.rows) == listed.rows + 1
        assert spec.rows[0][2] == "LATE0000"
    assert check(branch)[0] is None  # the mark's last document moved: History is read


def test_a_workbook_saved_by_another_program_is_still_appended_to(branch, tmp_path):
    """openpyxl (as Excel does) writes every part again in its own way."""
    openpyxl.load_workbook(branch).save(branch)
    listed, _ = check(branch)
    assert listed is not None and listed.rows == listed_count(branch)
    day2 = run_letters(branch, as_of=LATER, out=tmp_path / "day2")
    assert listed_count(branch) == listed.rows + len(day2.issued.documents)
    mine = calamine.CalamineWorkbook.from_path(str(branch)).get_sheet_by_name("History")
    rewritten = calamine.CalamineWorkbook.from_path(str(whole(branch, tmp_path)))
    assert mine.to_python() == rewritten.get_sheet_by_name("History").to_python()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_journal_lists_a_branchs_documents_in_order_from_any_one(database, tmp_path,
                                                                     request):  # fmt: skip
    url = (f"sqlite:///{tmp_path / 'j.sqlite'}" if database == "sqlite"
           else request.getfixturevalue("postgres").new_database())  # fmt: skip
    later = seed(url, 5, JUNE + dt.timedelta(days=1))
    earlier = seed(url, 3, JUNE, prefix="EARLY")
    with Journal.open(url) as journal:
        assert [row.reference for row in journal.listed("SH")] == earlier + later
        assert [row.reference for row in journal.listed("SH", 6)] == later[3:]
        assert [d.reference for d in journal.contact_documents(("letter",), branch="SH",
                                                               start=6)] == later[3:]  # fmt: skip
        assert list(journal.listed("LDN")) == []
        with contextlib.closing(journal.listed("SH", 2)) as rows:
            first = next(rows)
        assert journal.history_mark("/b/branch.xlsx") is None
        journal.mark_history("/b/branch.xlsx", 4_294_967_295, 220_000_000, 8, later[-1], "n1")
        journal.mark_history("/b/branch.xlsx", 7, 9, 3, earlier[-1], "n2")  # replaced
        mark = journal.history_mark("/b/branch.xlsx")
        assert (mark.part_crc, mark.part_size, mark.rows, mark.last, mark.naming) == (
            7, 9, 3, earlier[-1], "n2")  # fmt: skip
        assert first[1:] == ("letter", "EARLY0002", "friendly_reminder", earlier[2], 0,
                             "old 2.docx", "2.25", "CNY")  # fmt: skip


def as_excel_saves(path: Path, as_of: dt.date, note: str | None = None) -> None:
    """The controller sets AsOfDate (and writes a `note` under History) and presses a
    button, which saves the book: here openpyxl writes every part again, as Excel does."""
    book = openpyxl.load_workbook(path)
    settings = book["Settings"]
    key = next(c for (c,) in settings.iter_rows(max_col=1) if c.value == "AsOfDate")
    settings.cell(key.row, 2).value = as_of
    if note is not None:
        history = book["History"]
        history.cell(history.max_row + 3, 1).value = note
    book.save(path)


def cell(value):
    """A History cell compared as _written does: to the second, numbers as numbers."""
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0) + dt.timedelta(seconds=value.microsecond >= 500_000)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return float(value)
    return None if value == "" else value


def open_history(excel: Book) -> list[list]:
    """The open book's History rows under its header."""
    sheet = excel.sheets["History"]
    last = max(r for r, _ in sheet.cells)
    return [[cell(sheet.cells.get((r, c))) for c in range(1, 10)] for r in range(4, last + 1)]


def journal_history(path: Path) -> list[list]:
    """History as a whole write from the workbook's journal gives it."""
    loaded = load_book(path)
    settings = loaded.book.settings
    with Journal.open(journal_url(path, settings.journal)) as journal:
        sheet = history_sheet(journal, settings.language, loaded.book.policy, settings.branch)
    return [[cell(plain(v)) for v in row] for row in sheet.rows]


def test_the_letters_button_appends_to_the_open_books_history(branch):
    """A button saves the book and runs on the saved file, whose History the run checks
    row by row (Excel wrote the part again); in the open book only the new rows are
    written, under those kept, and History is what a whole write would give."""
    as_excel_saves(branch, LATER)
    count = listed_count(branch)
    excel = Book(branch)
    macros.generate_letters(excel)
    issued = int(excel.sheets["Start"].cells[(1, 4)].split()[0])
    assert excel.saved == 1 and issued > 0
    written = sorted({row for row, _ in excel.sheets["History"].typed})
    assert written == list(range(4 + count, 4 + count + issued))
    assert open_history(excel) == journal_history(branch)


def test_the_button_writes_history_whole_when_it_holds_more_than_the_journals_record(branch):
    """A note of the controller's under History: the open book's sheet is written whole,
    as the file's would be."""
    as_excel_saves(branch, LATER, note="checked by Mei")
    excel = Book(branch)
    macros.generate_letters(excel)
    assert min(row for row, _ in excel.sheets["History"].typed) == 1  # title and all
    assert open_history(excel) == journal_history(branch)


def test_an_appended_history_gets_the_columns_a_whole_write_gives(branch, tmp_path,
                                                                 monkeypatch):  # fmt: skip
    """A History an earlier version wrote, its IssuedAt column at a date's width (Excel
    showed ### in every row): appended to, its columns are sized again from its first
    rows, as a whole write sizes them."""
    book = openpyxl.load_workbook(branch)
    book["History"].column_dimensions["A"].width = 11
    book.save(branch)
    appended = []
    monkeypatch.setattr("xl_addin.workbook.writer._append_rows",
                        spy(appended, writer_module._append_rows))  # fmt: skip
    day2 = run_letters(branch, as_of=LATER, out=tmp_path / "day2")
    assert day2.issued.documents and appended
    widths = {c: d.width for c, d in openpyxl.load_workbook(branch)["History"]
              .column_dimensions.items()}  # fmt: skip
    rewritten = openpyxl.load_workbook(whole(branch, tmp_path))["History"]
    assert widths == {c: d.width for c, d in rewritten.column_dimensions.items()}
    assert widths["A"] == 17  # yyyy-mm-dd hh:mm


def spy(calls: list, function):
    def called(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)

    return called


def test_a_run_checks_history_once_before_it_reads_the_book(branch, tmp_path, monkeypatch):
    """History, a year on the run's largest read, is read before the book (so that the two
    do not add up), once; the check is redone only for other settings."""
    openpyxl.load_workbook(branch).save(branch)  # as Excel saves it: the mark no longer fits
    order = []
    for module, name in ((issuing, "read_history"), (letters, "load_book")):
        read = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _n=name, _r=read: order.append(_n) or _r(*a))
    day2 = run_letters(branch, as_of=LATER, out=tmp_path / "day2")
    assert day2.issued.documents
    assert order == ["read_history", "load_book"]
    first = issuing.check_history_first(branch)
    loaded = load_book(branch)
    settings, policy = loaded.book.settings, loaded.book.policy
    order.clear()
    assert ready_to_issue(branch, settings, policy, first).history == first.listed
    assert not order  # taken as it was
    zh = dataclasses.replace(settings, language="zh")
    assert ready_to_issue(branch, zh, policy, first).history is None and order  # run again
    assert issuing.check_history_first(tmp_path / "missing.xlsx") is None


def test_validate_checks_history_once_before_it_reads_the_book(branch, monkeypatch):
    from xl_addin.services import validate as validate_service

    openpyxl.load_workbook(branch).save(branch)
    order = []
    for module, name in ((issuing, "read_history"), (validate_service, "compute")):
        read = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _n=name, _r=read: order.append(_n) or _r(*a))
    assert validate_service.validate(branch).problems == ()
    assert order == ["read_history", "compute"]
