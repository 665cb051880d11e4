"""Reading real workbooks: tables or plain sheets, aliases, dates in every form, problems."""

from __future__ import annotations

import datetime as dt
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.books import CUSTOMERS, LEDGER, LEDGER_HEADERS, make_book
from xl_addin.errors import WorkbookError
from xl_addin.workbook.reader import read_workbook


def day(value) -> str:
    return str(pd.Timestamp(value).date())


def test_reads_tables_with_dates_amounts_and_text(tmp_path):
    book, problems = read_workbook(make_book(tmp_path / "b.xlsx"))
    assert problems == []
    assert book.settings.as_of == dt.date(2026, 11, 30)
    ledger = book.ledger.frame
    assert list(ledger["doc_no"]) == ["INV-1", "PAY-1", "INV-2", "CRN-1"]
    assert list(ledger["amount_cents"]) == [1200050, 200000, 800000, 50000]
    assert day(ledger["doc_date"].iat[0]) == "2026-09-01"
    assert list(ledger["row"]) == [2, 3, 4, 5]
    assert book.customers.frame["name"].iat[0] == "上海华信贸易有限公司"


def test_reads_a_plain_sheet_and_a_table_that_does_not_start_at_a1(tmp_path):
    path = make_book(tmp_path / "b.xlsx", as_table=False)
    book, problems = read_workbook(path)
    assert problems == [] and len(book.ledger.frame) == 4
    path = make_book(tmp_path / "c.xlsx", ledger_top_left=(4, 3))
    book, problems = read_workbook(path)
    assert problems == []
    assert list(book.ledger.frame["row"]) == [5, 6, 7, 8]
    assert book.ledger.letters["amount_cents"] == "H"


def test_chinese_headers_and_doc_types(tmp_path):
    headers = ("客户编号", "单据类型", "单据号", "单据日期", "到期日", "金额", "核销单据", "争议")
    rows = [
        ("C001", "发票", "F1", "2026/09/01", "2026年10月1日", "1,000.00", "", "否"),
        ("C001", "收款", "S1", "2026-10-15", "", 400, "F1", "是"),
    ]
    path = make_book(tmp_path / "zh.xlsx", ledger=rows, ledger_headers=headers)
    book, problems = read_workbook(path)
    assert problems == []
    frame = book.ledger.frame
    assert list(frame["doc_type"]) == ["INV", "PAY"]
    assert day(frame["due_date"].iat[0]) == "2026-10-01"
    assert list(frame["disputed"]) == [False, True]


def test_headers_match_without_case_or_spaces(tmp_path):
    headers = (
        "customer id",
        "DOCTYPE",
        "Doc No",
        "docdate",
        "Due Date",
        "AMOUNT",
        "applies_to",
        "x",
    )
    path = make_book(tmp_path / "b.xlsx", ledger_headers=headers)
    _, problems = read_workbook(path)
    assert problems == []


def test_serial_numbers_in_both_date_systems(tmp_path):
    rows = [("C001", "INV", "I1", 46266, 46296, 10, "", "")]  # serials of 2026-09-01, 10-01
    book, _ = read_workbook(make_book(tmp_path / "a.xlsx", ledger=rows))
    assert day(book.ledger.frame["doc_date"].iat[0]) == "2026-09-01"
    book, _ = read_workbook(make_book(tmp_path / "b.xlsx", ledger=rows, date1904=True))
    assert book.date1904
    assert day(book.ledger.frame["doc_date"].iat[0]) == "2030-09-02"  # 1,462 days later
    # Date cells are dates whichever system the workbook uses.
    book, _ = read_workbook(make_book(tmp_path / "c.xlsx", date1904=True))
    assert day(book.ledger.frame["doc_date"].iat[0]) == "2026-09-01"


@pytest.mark.parametrize(
    ("row", "where", "message"),
    [
        (("C001", "INV", "I9", "2026-09-01", "", "12,3x", "", ""), "Ledger!F6", 'Amount "12,3x"'),
        (("C001", "INV", "I9", "2026-02-30", "", 5, "", ""), "Ledger!D6", "is not a date"),
        (("C001", "INV", "I9", "#N/A", "", 5, "", ""), "Ledger!D6", "#N/A"),
        (("C001", "INV", "I9", "2026-09-01", "", "#N/A", "", ""), "Ledger!F6", "#N/A"),
        (("C001", "BILL", "I9", "2026-09-01", "", 5, "", ""), "Ledger!B6", "INV, CRN, PAY or ADJ"),
        (("C001", "INV", "I9", "2026-09-01", "", 5, "", "maybe"), "Ledger!H6", "Y or N"),
        (("", "INV", "I9", "2026-09-01", "", 5, "", ""), "Ledger!A6", "CustomerID is blank"),
    ],
)
def test_cell_problems_name_sheet_row_and_column(tmp_path, row, where, message):
    _book, problems = read_workbook(make_book(tmp_path / "b.xlsx", ledger=[*LEDGER, row]))
    assert len(problems) == 1, problems
    assert str(problems[0]).startswith(f"{where}: ") and message in str(problems[0])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-684219, "DocDate -684219 is not a date serial number"),  # 0026-09-01 as Excel has it
        (-0.5, "DocDate -0.5 is not a date serial number"),  # calamine: 12:00:00
        (dt.date(1900, 1, 15), "DocDate 1900-01-15 is before 1900-03-01"),
        ("0026-09-01", 'DocDate "0026-09-01" is before 1900-03-01'),
    ],
)
def test_a_date_before_march_1900_is_refused_as_the_cell_holds_it(tmp_path, value, message):
    path = make_book(tmp_path / "b.xlsx", ledger=[*LEDGER, ("C001", "INV", "I9", value, "", 5,
                                                            "", "")])  # fmt: skip
    book = openpyxl.load_workbook(path)
    book["Ledger"]["D6"].number_format = "yyyy-mm-dd"  # a number shown as a date
    book.save(path)
    _book, problems = read_workbook(path)
    assert [str(p) for p in problems] == [
        f"Ledger!D6: {message}" + ("" if "serial" in message else ", the first date a "
                                   "workbook holds")]  # fmt: skip


def test_a_cell_longer_than_excel_keeps_is_a_problem(tmp_path):
    row = ("C001", "INV", "I9", dt.date(2026, 9, 1), "", 5, "", "", "z" * 40_000)
    made = make_book(tmp_path / "made.xlsx", ledger=[*LEDGER, row],
                     ledger_headers=(*LEDGER_HEADERS, "Notes"))  # fmt: skip
    path = tmp_path / "b.xlsx"  # openpyxl cuts the text at 32,767: put it back whole
    with zipfile.ZipFile(made) as source, zipfile.ZipFile(path, "w") as copy:
        for item in source.infolist():
            data = source.read(item)
            copy.writestr(item, data.replace(b"z" * 32_767, b"z" * 40_000))
    _book, problems = read_workbook(path)
    assert [str(p) for p in problems] == [
        "Ledger!I6: Notes is 40,000 characters long: a cell holds at most 32,767"]


def test_a_missing_ledger_sheet_and_a_missing_column(tmp_path):
    _, problems = read_workbook(make_book(tmp_path / "a.xlsx", ledger=None))
    assert [str(p) for p in problems] == ["Ledger: the workbook has no Ledger sheet"]
    headers = tuple(h if h != "Amount" else "Betrag" for h in LEDGER_HEADERS)
    _, problems = read_workbook(make_book(tmp_path / "b.xlsx", ledger_headers=headers))
    assert any(str(p).startswith("Ledger!1: no Amount column") for p in problems)


def test_not_a_workbook(tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_text("hello")
    with pytest.raises(WorkbookError, match="not an Excel workbook"):
        read_workbook(path)


def test_blank_rows_are_skipped_but_rows_keep_their_numbers(tmp_path):
    rows = [LEDGER[0], ("",) * 8, LEDGER[2]]
    book, problems = read_workbook(make_book(tmp_path / "b.xlsx", ledger=rows))
    assert problems == []
    assert list(book.ledger.frame["row"]) == [2, 4]
    assert np.array_equal(book.ledger.frame["amount_cents"], [1200050, 800000])


def test_customers_table(tmp_path):
    book, _ = read_workbook(make_book(tmp_path / "b.xlsx", customers=CUSTOMERS))
    frame = book.customers.frame
    assert list(frame["credit_limit_cents"]) == [5000000, 1000000]
    assert list(frame["segment"]) == ["Standard", "Strategic"]


def test_the_sheets_last_row_is_read_with_the_error_cells(tmp_path):
    from xl_addin.workbook.error_cells import ErrorCells

    path = make_book(tmp_path / "b.xlsx")
    cells = ErrorCells(path)
    assert cells.last_row("Ledger") == 5 and cells.of("Ledger") == {}
    wb = openpyxl.load_workbook(path)
    wb["Ledger"]["J5"] = "#N/A"  # an error cell: the lxml look finds the last row too
    wb.save(path)
    cells = ErrorCells(path)
    assert cells.of("Ledger") == {(5, 10): "#N/A"} and cells.last_row("Ledger") == 5
    assert ErrorCells(path).last_row("No such sheet") is None


def test_a_row_formatted_below_a_table_is_no_data_below_it(tmp_path):
    # The sheet's last row is below the table: calamine looks, and finds nothing there.
    path = make_book(tmp_path / "b.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Ledger"]["A9"].number_format = "0.00"
    wb.save(path)
    book, problems = read_workbook(path)
    assert problems == [] and len(book.ledger.frame) == 4


def test_nothing_below_a_table_is_known_without_reading_the_sheet_again():
    from xl_addin.workbook.reader import _uncovered

    class Rows:
        def last_row(self, sheet):
            return 101

    class Unread:  # calamine's book, which must not be asked
        def get_sheet_by_name(self, name):
            raise AssertionError("the sheet was read again")

    assert _uncovered(Unread(), "Ledger", "Ledger", (100, 14), 1, 15, Rows()) == ()


def test_the_last_row_is_found_across_a_chunk_boundary():
    import io

    from xl_addin.workbook.error_cells import _ERROR_MARKS, _mentions

    head = b'<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
    last = b'<row r="7"><c r="A7"><v>7</v></c></row></sheetData></worksheet>'
    pad = b" " * ((1 << 20) - len(head) - 10)  # the last row's tag starts 10 bytes before 1 MiB
    assert _mentions(io.BytesIO(head + pad + last), _ERROR_MARKS) == (False, 7)
    assert _mentions(io.BytesIO(head + last.replace(b"<v>7", b'<v t="e">7')), _ERROR_MARKS)[0]


def test_a_mark_across_a_chunk_boundary_is_found():
    import io

    from xl_addin.workbook.error_cells import _ERROR_MARKS, _SIXTY_MARKS, _mentions

    for mark, marks in ((b't="e"', _ERROR_MARKS), (b"t='e'", _ERROR_MARKS),
                        (b"<v>60</v>", _SIXTY_MARKS), (b"<v>60.5</v>", _SIXTY_MARKS)):  # fmt: skip
        for cut in range(1, len(mark)):  # the mark's first `cut` bytes end the first MiB
            data = b" " * ((1 << 20) - cut) + mark + b" " * 100
            assert _mentions(io.BytesIO(data), marks) == (True, None), (mark, cut)
    clean = b" " * (1 << 20) + b'<c t="s"><v>6</v></c><v>600</v>'
    assert _mentions(io.BytesIO(clean), _ERROR_MARKS)[0] is False
    assert _mentions(io.BytesIO(clean), _SIXTY_MARKS)[0] is False
