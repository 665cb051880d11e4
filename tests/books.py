"""Write small real workbooks for tests, cell by cell, independent of the product's builder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table

CUSTOMER_HEADERS = ("CustomerID", "Name", "Segment", "Currency", "CreditLimit", "LastStage")
LEDGER_HEADERS = (
    "CustomerID", "DocType", "DocNo", "DocDate", "DueDate", "Amount", "AppliesTo", "Disputed",
)  # fmt: skip

CUSTOMERS = [
    ("C001", "上海华信贸易有限公司", "Standard", "CNY", 50000, ""),
    ("C002", "Harbour & Sons Ltd", "Strategic", "CNY", 10000, ""),
]
LEDGER = [
    ("C001", "INV", "INV-1", dt.date(2026, 9, 1), dt.date(2026, 10, 1), 12000.5, "", "N"),
    ("C001", "PAY", "PAY-1", dt.date(2026, 10, 15), None, 2000, "INV-1", "N"),
    ("C002", "INV", "INV-2", dt.date(2026, 11, 1), dt.date(2026, 12, 1), "8,000.00", "", ""),
    ("C002", "CRN", "CRN-1", dt.date(2026, 11, 5), None, 500, "", ""),
]


def write_sheet(
    book: openpyxl.Workbook,
    name: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    as_table: bool = True,
    top_left: tuple[int, int] = (1, 1),
) -> None:
    sheet = book.create_sheet(name)
    r0, c0 = top_left
    for j, header in enumerate(headers):
        sheet.cell(r0, c0 + j, header)
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            cell = sheet.cell(r0 + i, c0 + j, value)
            if isinstance(value, str) and value.startswith("#"):
                cell.data_type = "e"  # an error cell such as #N/A
            elif isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    if as_table:
        last = f"{get_column_letter(c0 + len(headers) - 1)}{r0 + max(len(rows), 1)}"
        sheet.add_table(Table(displayName=name, ref=f"{get_column_letter(c0)}{r0}:{last}"))


def make_book(
    path: Path,
    *,
    customers: Sequence[Sequence[object]] = CUSTOMERS,
    ledger: Sequence[Sequence[object]] | None = LEDGER,
    customer_headers: Sequence[str] = CUSTOMER_HEADERS,
    ledger_headers: Sequence[str] = LEDGER_HEADERS,
    as_of: object = dt.date(2026, 11, 30),
    as_table: bool = True,
    ledger_top_left: tuple[int, int] = (1, 1),
    date1904: bool = False,
    settings: Sequence[tuple[str, object]] = (),
) -> Path:
    """Write a credit-control workbook with Settings, Customers and (unless None) Ledger."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    if date1904:
        book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    given = {key for key, _ in settings}
    branch = [] if "Branch" in given else [("Branch", "LDN")]  # documents need a letterhead
    write_sheet(book, "Settings", ("Key", "Value"),
                [("AsOfDate", as_of), ("Language", "en"), *branch, *settings])  # fmt: skip
    write_sheet(book, "Customers", customer_headers, customers, as_table=as_table)
    if ledger is not None:
        write_sheet(
            book, "Ledger", ledger_headers, ledger, as_table=as_table, top_left=ledger_top_left
        )
    book.save(path)
    return path
