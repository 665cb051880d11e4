"""The buttons' entry points, driven by a stand-in for xlwings' Book (Excel cannot run here).

The stand-in (tests/xlbook.py) keeps the workbook's cells in memory, loaded from the
file with openpyxl, and speaks the part of xlwings' object model that workbook.open_book
and workbook.access use. Refresh and Validate read the open book (no save, no file read
back) and the results land in the stand-in's cells: they must be exactly what
`credit-control refresh` writes into the file.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest

from tests.xlbook import Book
from xl_addin import macros
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.new_workbook import new_workbook
from xl_addin.services.refresh import refresh

AS_OF = dt.date(2026, 11, 30)


@pytest.fixture
def book_file(tmp_path):
    data = make_demo_data(AS_OF, customers=20)
    path = tmp_path / "branch.xlsx"
    new_workbook(path, language="en", branch="SH", as_of=AS_OF, customers=data.customers,
                 ledger=data.ledger, settings=data.settings)  # fmt: skip
    return path


def test_the_refresh_button_writes_what_the_command_writes(book_file, tmp_path):
    excel = Book(book_file)
    macros.refresh(excel)
    assert excel.saved == 0  # the open book is read as it is: no save, no file read back
    assert excel.sheets["Start"].cells[(1, 4)].startswith("Refreshed as of 2026-11-30")
    by_command = tmp_path / "command.xlsx"
    shutil.copy(book_file, by_command)
    refresh(by_command)
    written = openpyxl.load_workbook(by_command)["Customers"]
    header = [c.value for c in written[1]]
    button = excel.sheets["Customers"]
    # Computed columns hold formulas: the button leaves them to Excel; LastStage etc. are
    # not touched. The Aging sheet carries the numbers: compare it cell by cell.
    for column in ("Balance", "Stage"):
        c = header.index(column) + 1
        assert str(button.cells[(2, c)]).startswith("=")
    aging_file = openpyxl.load_workbook(by_command)["Aging"]
    aging_button = excel.sheets["Aging"]
    for row in aging_file.iter_rows(min_row=3):
        for cell in row:
            if cell.value is None:
                continue
            got = aging_button.cells.get((cell.row, cell.column))
            expected = float(cell.value) if isinstance(cell.value, int | float) else cell.value
            assert (
                got == pytest.approx(expected) if isinstance(expected, float) else got == expected
            )


def test_the_validate_button_lists_problems_in_the_problems_sheet(book_file, tmp_path):
    path = tmp_path / "empty.xlsx"
    new_workbook(path, as_of=AS_OF, branch="SH")
    excel = Book(path)
    macros.validate(excel)  # a workbook fresh from `new`: no documents yet, nothing wrong
    assert excel.sheets["Start"].cells[(1, 4)] == "No problems."
    excel = Book(book_file)
    ledger = excel.sheets["Ledger"]
    ledger.cells[(5, column_of(ledger, "Amount"))] = "12,3x"
    macros.validate(excel)
    problems = excel.sheets["Problems"].cells
    assert problems[(4, 1)] == "Ledger" and "is not a number" in problems[(4, 4)]
    assert excel.sheets["Start"].cells[(1, 4)] == "1 problem(s), see the Problems sheet."


def column_of(sheet, header, row=1):
    return next(c for (r, c), v in sheet.cells.items() if r == row and v == header)


def test_the_refresh_button_reads_the_open_book_not_the_saved_file(book_file, tmp_path):
    excel = Book(book_file)
    ledger = excel.sheets["Ledger"]
    amount, doc_type = column_of(ledger, "Amount"), column_of(ledger, "DocType")
    invoice = next(r for (r, c), v in ledger.cells.items() if c == doc_type and v == "INV")
    ledger.cells[(invoice, amount)] += 1000  # typed by the user, not saved
    macros.refresh(excel)
    edited = tmp_path / "edited.xlsx"
    shutil.copy(book_file, edited)
    book = openpyxl.load_workbook(edited)
    book["Ledger"].cell(invoice, amount).value += 1000
    book.save(edited)
    refresh(edited)
    # The computed columns hold formulas the button leaves to Excel: the Aging sheet shows
    # what the button computed. The edited invoice's customer has the same line in both.
    customer = ledger.cells[(invoice, column_of(ledger, "CustomerID"))]
    written = openpyxl.load_workbook(edited, data_only=True)["Aging"]
    by_file = next([c.value for c in row] for row in written.iter_rows(min_row=3)
                   if row[0].value == customer)  # fmt: skip
    aging = excel.sheets["Aging"].cells
    row = next(r for (r, c), v in aging.items() if c == 1 and v == customer)
    by_button = [aging.get((row, c)) for c in range(1, len(by_file) + 1)]
    assert by_button == [pytest.approx(float(v)) if isinstance(v, int | float) else v
                         for v in by_file]  # fmt: skip
    assert excel.saved == 0


def test_refresh_costs_a_few_calls_per_column_not_per_cell(book_file):
    excel = Book(book_file)
    macros.refresh(excel)
    tables = sum(len(s.tables) for s in excel.sheets)
    # Reading: one per table. Writing: per computed column one header read, one formula
    # read, one value read, one write (8 Customers + 4 Ledger columns); the Aging sheet
    # (clear, title, table, totals, and its print setup: 5 PageSetup properties, 4 of the
    # window, 2 activations) and the status line.
    assert excel.calls <= tables + 2 * (1 + 3 * 8) + 1 + 3 * 4 + 4 + 11 + 1, excel.calls
    print(f"calls per refresh: {excel.calls} ({excel.writes} writes)")


def test_a_refresh_stopped_by_bad_input_writes_only_the_problems_sheet(book_file):
    excel = Book(book_file)
    ledger = excel.sheets["Ledger"]
    amount = column_of(ledger, "Amount")
    ledger.cells[(5, amount)] = "12,3x"
    before = {s.name: dict(s.cells) for s in excel.sheets}
    macros.refresh(excel)
    problems = excel.sheets["Problems"].cells
    letter = openpyxl.utils.get_column_letter(amount)
    assert (problems[(4, 1)], problems[(4, 2)], problems[(4, 3)]) == ("Ledger", 5, letter)
    assert 'Amount "12,3x" is not a number' in problems[(4, 4)]
    assert excel.sheets["Start"].cells[(1, 4)].startswith("Refresh stopped: 1 problem(s)")
    for sheet in excel.sheets:
        if sheet.name not in ("Problems", "Start"):
            assert sheet.cells == before.get(sheet.name), sheet.name


def test_the_refresh_button_sets_up_the_sheets_it_writes_as_the_command_does(book_file, tmp_path):
    """Desktop Excel: print titles, one page wide, orientation and the frozen header row,
    through Excel's PageSetup and window (xlwings has no API of its own for them there)."""
    excel = Book(book_file)
    user_sheet = excel.sheets.active
    macros.refresh(excel)
    by_command = tmp_path / "command.xlsx"
    shutil.copy(book_file, by_command)
    refresh(by_command)
    written = openpyxl.load_workbook(by_command)
    owned = [s for s in excel.sheets if s.page_setup.api.set]
    assert "Aging" in {s.name for s in owned}
    for sheet in owned:
        file = written[sheet.name]
        page = sheet.page_setup.api
        assert page.PrintTitleRows == "$3:$3" and file.print_title_rows == "$3:$3", sheet.name
        assert (page.Zoom, page.FitToPagesWide, page.FitToPagesTall) == (False, 1, False)
        assert (file.page_setup.fitToWidth, file.page_setup.fitToHeight) == (1, 0)
        orientation = {1: "portrait", 2: "landscape"}[page.Orientation]
        assert orientation == file.page_setup.orientation, sheet.name
        assert sheet.frozen == (3, 0) and file.freeze_panes == "A4", sheet.name
    assert excel.sheets.active is user_sheet  # the user's sheet is active again


def test_the_open_book_writes_a_block_under_the_table_where_the_file_writer_does(
    book_file, tmp_path
):
    """Provision's roll-rate matrix and the Dashboard's aging trend, written by a button
    (close's sheets through the open book): the same cells as the file route."""
    from decimal import Decimal

    from xl_addin.workbook.access import XlwingsWriter
    from xl_addin.workbook.updates import SheetTable
    from xl_addin.workbook.writer import write_refresh

    below = [["Roll rates CNY"], ["Bucket", "Roll rate", "ECL"],
             *([f"B{n}", 0.5, Decimal("12.30")] for n in range(3))]  # fmt: skip
    spec = SheetTable("Provision", "Provision", ["Customer", "Open"],
                      [["C001", Decimal("1")], ["C002", Decimal("2")]],
                      [["Total", Decimal("3")]], below=below)  # fmt: skip
    excel = Book(book_file)
    XlwingsWriter(excel).write_sheet(spec)
    by_file = tmp_path / "file.xlsx"
    shutil.copy(book_file, by_file)
    write_refresh(by_file, [], [spec])
    written = openpyxl.load_workbook(by_file)["Provision"]
    on_file = {(c.row, c.column): c.value for row in written.iter_rows() for c in row
               if c.value is not None}  # fmt: skip
    in_excel = {cell: value for cell, value in excel.sheets["Provision"].cells.items()
                if value is not None}  # fmt: skip
    assert in_excel == on_file
    assert in_excel[(spec.below_row, 1)] == "Roll rates CNY"


def test_text_the_button_writes_stays_text_in_excel(book_file):
    """Excel reads what is written to Range.value as if typed: a customer's name that looks
    like a formula, and labels that look like dates ("1-30"), reach Excel marked as text
    (a leading apostrophe, which Excel keeps out of the value); plain text goes as it is."""
    from xl_addin.workbook.access import typed

    hostile = '=HYPERLINK("http://evil.example","x")'
    excel = Book(book_file)
    customers = excel.sheets["Customers"]
    ref = openpyxl.load_workbook(book_file)["Customers"].tables["Customers"].ref
    left, top, _, bottom = openpyxl.utils.cell.range_boundaries(ref)
    names = [customers.cells.get((top, c)) for c in range(left, left + 40)].index("Name") + left
    for row in range(top + 1, bottom + 1):  # every customer's name, as text in Excel
        customers.set((row, names), "'" + hostile)
    macros.refresh(excel)
    aging = excel.sheets["Aging"]
    written = {cell: value for cell, value in aging.typed.items() if isinstance(value, str)}
    assert "'" + hostile in written.values()
    assert "客户名称" in written.values()  # plain text goes as it is
    kept = [cell for cell, value in aging.cells.items() if value == hostile]
    assert kept and all(cell in aging.texts for cell in kept)  # Excel keeps the text itself
    for text, marked in [("+1", True), ("-1", True), ("@SUM(A1)", True), ("\tx", True),
                         ("00123", True), ("3/4", True), ("2026年11月30日", True),
                         ("TRUE", True), ("Current", False), ("上海华信贸易有限公司", False),
                         ("C001", False), ("1-30 days", False)]:  # fmt: skip
        assert (typed(text) == "'" + text) is marked, text
    assert typed(12.5) == 12.5 and typed(None) is None


def moment(value, folder: Path):
    """A cell as compared between two runs: a time of issue differs, its being one not; a
    file is named from the workbook's `folder`; numbers as numbers."""
    if isinstance(value, str):
        return value.replace(str(folder), "<folder>")
    if isinstance(value, dt.datetime) and value.time() != dt.time():
        return "a time of issue"
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None if value == "" else value


@pytest.mark.parametrize("button, command", [("generate_letters", "letters"),
                                             ("statements", "statements")])  # fmt: skip
def test_the_document_buttons_write_what_the_commands_write(book_file, tmp_path, button,
                                                            command):  # fmt: skip
    """Generate letters and Statements save the open book, run on the saved file and
    write History, Contacts and the Customers columns into the open book: the same cells
    the command writes into the file (each with a journal of its own beside it)."""
    from xl_addin.services.letters import run_letters
    from xl_addin.services.statements import run_statements

    by_command = tmp_path / "command" / "branch.xlsx"
    by_button = tmp_path / "button" / "branch.xlsx"
    for copy in (by_command, by_button):
        copy.parent.mkdir()
        shutil.copy(book_file, copy)
    {"letters": run_letters, "statements": run_statements}[command](by_command)
    excel = Book(by_button)
    getattr(macros, button)(excel)
    assert excel.saved == 1
    assert " issued " in excel.sheets["Start"].cells[(1, 4)]
    written = openpyxl.load_workbook(by_command)
    for name in ("History", "Contacts", "Customers"):
        sheet, opened = written[name], excel.sheets[name]
        rows = {(c.row, c.column): moment(c.value, by_command.parent)
                for r in sheet.iter_rows() for c in r if c.value is not None}  # fmt: skip
        found = {at: moment(v, by_button.parent) for at, v in opened.cells.items()
                 if v not in (None, "")}  # Excel keeps nothing for "" (COM)
        assert found == rows, name
    assert len([r for r, _ in excel.sheets["History"].cells if r > 3]) > 0
