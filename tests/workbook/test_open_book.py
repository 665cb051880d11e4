"""Reading a workbook open in Excel gives what reading its file gives: the same tables,
settings, policy and contacts, and the same problems at the same sheet, row and column."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.books import LEDGER, make_book
from tests.xlbook import Book
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.new_workbook import new_workbook
from xl_addin.workbook.open_book import OpenBook, read_open_book
from xl_addin.workbook.reader import read_workbook

AS_OF = dt.date(2026, 11, 30)


def assert_same(path):
    from_file, file_problems = read_workbook(path)
    excel = Book(path)
    from_book, book_problems = read_open_book(OpenBook.desktop(excel))
    assert [str(p) for p in book_problems] == [str(p) for p in file_problems]
    if from_file is None:
        assert from_book is None
        return excel, book_problems
    assert from_book.settings == from_file.settings
    assert from_book.settings.cells == from_file.settings.cells
    assert from_book.policy == from_file.policy
    assert from_book.path == path
    for name in ("customers", "ledger", "contacts"):
        mine, theirs = getattr(from_book, name), getattr(from_file, name)
        assert (mine is None) == (theirs is None), name
        if mine is not None:
            pd.testing.assert_frame_equal(mine.frame, theirs.frame, check_dtype=False)
            assert mine.letters == theirs.letters
            assert (mine.raw.sheet, mine.raw.header_row, mine.raw.first_column) == (
                theirs.raw.sheet, theirs.raw.header_row, theirs.raw.first_column)  # fmt: skip
    return excel, book_problems


def test_a_branch_workbook_reads_as_its_file_with_one_read_per_table(tmp_path):
    data = make_demo_data(AS_OF, customers=15)
    path = tmp_path / "branch.xlsx"
    new_workbook(path, language="zh", branch="SH", as_of=AS_OF, customers=data.customers,
                 ledger=data.ledger, settings=data.settings)  # fmt: skip
    excel, problems = assert_same(path)
    assert problems == []
    tables = sum(len(s.tables) for s in excel.sheets)
    assert excel.calls <= tables  # one .value per table read, nothing cell by cell


@pytest.mark.parametrize(
    "row",
    [
        ("C001", "INV", "I9", "2026-09-01", "", "12,3x", "", ""),
        ("C001", "INV", "I9", "2026-02-30", "", 5, "", ""),
        ("C001", "INV", "I9", "#N/A", "", 5, "", ""),
        ("C001", "INV", "I9", "2026-09-01", "", "#N/A", "", ""),
        ("C001", "BILL", "I9", "2026-09-01", "", 5, "", ""),
        ("C001", "INV", "I9", "2026-09-01", "", 5, "", "maybe"),
        ("", "INV", "I9", "2026-09-01", "", 5, "", ""),
        ("C001", "INV", "I9", 46266, 46296, 10, "", ""),  # serial numbers
    ],
)
def test_problems_name_the_same_cells(tmp_path, row):
    assert_same(make_book(tmp_path / "b.xlsx", ledger=[*LEDGER, row]))


def test_plain_sheets_tables_away_from_a1_and_blank_rows(tmp_path):
    assert_same(make_book(tmp_path / "a.xlsx", as_table=False))
    assert_same(make_book(tmp_path / "b.xlsx", ledger_top_left=(4, 3)))
    assert_same(make_book(tmp_path / "c.xlsx", ledger=[LEDGER[0], ("",) * 8, LEDGER[2]]))


def test_a_missing_sheet_is_the_same_problem(tmp_path):
    _, problems = assert_same(make_book(tmp_path / "a.xlsx", ledger=None))
    assert [str(p) for p in problems] == ["Ledger: the workbook has no Ledger sheet"]


def test_a_book_never_saved_has_no_path(tmp_path):
    excel = Book(make_book(tmp_path / "b.xlsx"))
    excel.fullname = "Book1"
    assert OpenBook.desktop(excel).path is None
