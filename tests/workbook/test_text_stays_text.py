"""Every workbook we write keeps text as text: customer text that looks like a formula.

Customer names, notes, document numbers and contacts travel from a branch workbook into
run summaries, hand-over packs, reconciliation reports and the sheets we write back
(Aging, History, Problems, Contacts, the computed columns). A name typed as
`=HYPERLINK("http://evil.example","x")` must arrive as those characters, never as a live
formula; so must text led by +, -, @, a tab or a carriage return, an error code such as
#N/A, and Excel's own escape form _x0041_. Each file is read back twice: by openpyxl
(no cell of formula or error type) and by calamine (the same strings).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
import python_calamine
from typer.testing import CliRunner

from tests.books import make_book
from xl_addin.cli import app
from xl_addin.workbook.report import ReportSheet, write_report
from xl_addin.workbook.updates import ColumnUpdate, SheetTable
from xl_addin.workbook.writer import write_refresh

runner = CliRunner()
HOSTILE = (
    '=HYPERLINK("http://evil.example","x")',
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
    "#N/A",
    "_x0041_ stays as typed",
    "line one\nline two",
)


def cells(path):
    """Every cell of every sheet: (sheet, coordinate, value, openpyxl data type)."""
    book = openpyxl.load_workbook(path)
    try:
        return [(ws.title, c.coordinate, c.value, c.data_type)
                for ws in book.worksheets for row in ws.iter_rows() for c in row]  # fmt: skip
    finally:
        book.close()


def calamine_strings(path) -> set[str]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return {v for name in book.sheet_names
            for row in book.get_sheet_by_name(name).to_python() for v in row
            if isinstance(v, str)}  # fmt: skip


def assert_text_only(path, expected=HOSTILE):
    found = cells(path)
    live = [(s, ref, v) for s, ref, v, kind in found if kind in ("f", "e")]
    assert live == [], f"{path.name}: formulas or errors where text was written"
    strings = {v for *_, v, kind in found if isinstance(v, str)}
    read = calamine_strings(path)
    for text in expected:
        # openpyxl gives the stored form of Excel's escapes (_x005F_x0041_), Excel and
        # calamine the text
        stored = text.replace("_x0041_", "_x005F_x0041_")
        assert stored in strings, f"{path.name}: openpyxl does not read back {text!r}"
        assert text in read, f"{path.name}: calamine does not read back {text!r}"


def test_report_writer_keeps_text(tmp_path):
    path = tmp_path / "report.xlsx"
    rows = [(text, Decimal("1.00"), dt.date(2026, 11, 30)) for text in HOSTILE]
    write_report(path, [ReportSheet("Sheet", ("Text", "Amount", "Date"), rows, HOSTILE[:1])])
    assert_text_only(path)


def test_workbook_writer_keeps_text_in_owned_sheets_and_columns(tmp_path):
    customers = [(f"C{i:03}", "name", "Standard", "CNY", 1000, "") for i in range(len(HOSTILE))]
    path = make_book(tmp_path / "book.xlsx", customers=customers, ledger=[])
    rows = list(range(2, 2 + len(HOSTILE)))
    write_refresh(
        path,
        [ColumnUpdate("Customers", 1, 1, "Customers", rows, {"Notes": list(HOSTILE)})],
        [SheetTable("Problems", HOSTILE[0], ("Where", "Problem"),
                    [(text, text) for text in HOSTILE])],
    )  # fmt: skip
    assert_text_only(path)


H = ("CustomerID", "Name", "Segment", "Currency", "CreditLimit", "LastStage", "Contact",
     "Address", "Email", "Notes")  # fmt: skip


def hostile_book(tmp_path):
    """A branch whose customers' text is hostile: one customer at the legal step (a
    hand-over pack), one with a statement; names, contacts and notes like formulas."""
    customers = [
        ("C001", HOSTILE[0], "Standard", "CNY", 50000, "Credit hold", "+Bob", "@home",
         "a@b.example", "=1+1"),
        ("=C2", "-Harbour", "Standard", "CNY", 10000, "", "\t=1+1", "\r=1+1",
         "h@b.example", "-1"),
    ]  # fmt: skip
    ledger = [
        ("C001", "INV", "=INV-1", dt.date(2025, 9, 1), dt.date(2025, 10, 1), 12000.5, "", "N"),
        ("=C2", "INV", "@INV-2", dt.date(2026, 11, 1), dt.date(2026, 11, 20), 800, "", ""),
    ]
    path = make_book(tmp_path / "branch.xlsx", customers=customers, ledger=ledger,
                     customer_headers=H)  # fmt: skip
    return as_text(path)


def as_text(path):
    """The workbook with every text cell that openpyxl took for a formula stored as text
    (as Excel stores a cell typed with a leading apostrophe)."""
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    book.save(path)
    return path


def test_every_file_a_month_writes_keeps_customer_text_as_text(tmp_path):
    book = hostile_book(tmp_path)
    for args in (
        ["refresh", book],
        ["letters", book],
        ["statements", book, "--period", "2026-11"],
        ["reconcile", book, "1,000.00", "--customer", "C001", "--period", "2026-11"],
        ["history", book],
    ):
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, (args, result.output)
    written = sorted(tmp_path.rglob("*.xlsx"))
    names = {p.name for p in written}
    assert any(n.endswith(" Hand-over pack.xlsx") for n in names), names
    assert any(n.startswith("summary letters") for n in names), names
    assert any(n.startswith("summary statements") for n in names), names
    assert any(n.startswith("reconciliation") for n in names), names
    for path in written:
        found = cells(path)
        assert [(s, ref, v) for s, ref, v, kind in found if kind in ("f", "e")] == [], path.name
    book_text = {v for *_, v, kind in cells(book) if isinstance(v, str)}
    sheets = {s for s, *_ in cells(book)}
    assert {"Aging", "History", "Contacts"} <= sheets
    assert HOSTILE[0] in book_text
    pack = next(p for p in written if p.name.endswith(" Hand-over pack.xlsx"))
    assert_text_only(pack, (HOSTILE[0], "+Bob", "@home", "=INV-1"))
    for summary in (p for p in written if p.name.startswith("summary")):
        assert_text_only(summary, ("=C2",))
    report = next(p for p in written if p.name.startswith("reconciliation"))
    assert any(HOSTILE[0] in v for v in calamine_strings(report))


def test_problems_sheet_keeps_the_values_it_quotes(tmp_path):
    ledger = [("C001", "INV", "INV-1", dt.date(2026, 9, 1), None, "=1+1", "", "N")]
    book = as_text(make_book(tmp_path / "bad.xlsx", ledger=ledger))
    result = runner.invoke(app, ["validate", str(book)])
    assert result.exit_code == 1
    problems = [v for s, _, v, kind in cells(book) if s == "Problems" and isinstance(v, str)]
    assert any('"=1+1"' in v for v in problems), problems
    assert not [v for s, _, v, kind in cells(book) if kind in ("f", "e")]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_cell_written_reads_back_exactly(tmp_path, text):
    path = make_book(tmp_path / "one.xlsx", customers=[("C001", "n", "Standard", "CNY", 1, "")],
                     ledger=[])  # fmt: skip
    write_refresh(path, [ColumnUpdate("Customers", 1, 1, "Customers", [2], {"Notes": [text]})], [])
    stored = text.replace("_x0041_", "_x005F_x0041_")
    assert any(s == "Customers" and v == stored and kind == "s" for s, _, v, kind in cells(path))
    assert text in calamine_strings(path)
