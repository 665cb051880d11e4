"""Read a credit-control workbook that is open, in Excel (xlwings) or in xlwings Lite.

The buttons and the Lite script read the book the user is looking at, not a saved
file. Only the part of xlwings' object model that desktop xlwings and xlwings Lite
both provide is used:

- `book.sheets`: iterated, each with `.name` and `.tables` (iterated, `.name`, `.range`);
- `range.row`, `range.column` and `range.options(ndim=2, err_to_str=True).value`;
- `sheet.used_range`, for a table kept as a plain sheet (headers in row 1).

One `.value` read per table: on desktop each read is a COM call, in Lite the values
are already in the payload the add-in sent. The cells become the same `RawTable`s
the file reader makes, and go through the same `convert.normalise`, so a problem
names the same sheet, row and column whichever way the workbook was read.

What differs from a saved file, and how it is met:

- dates: desktop xlwings gives date cells as `datetime`; Lite gets them as ISO text
  from Office.js and xlwings turns them into `datetime` too. A number typed into a
  date column is a serial of the 1900 date system (xlwings does not tell the 1904
  flag of an open book);
- error cells (#N/A, #REF!...) are read as their text (`err_to_str`) and reported as
  errors, as the file reader reports them;
- empty cells arrive as None and are read as blank text, as calamine gives them;
- a whole number may arrive as `int` (Lite) or `float` (desktop): both convert alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from xl_addin.core.problems import Problem
from xl_addin.workbook.reader import CreditBook, read_tables
from xl_addin.workbook.schema import (
    CONTACTS,
    CUSTOMERS,
    LEDGER,
    POLICY_TABLES,
    SETTINGS,
    TableSpec,
    fold,
)
from xl_addin.workbook.tables import RawTable, Table

ERROR_TEXTS = frozenset(("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!",
                         "#DATA!", "#SPILL!", "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!",
                         "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#PYTHON!"))  # fmt: skip
DATE1904 = False  # see the module docstring


@dataclass(frozen=True, slots=True)
class OpenBook:
    """A workbook open in Excel or in xlwings Lite, and the file it is saved as (if any).

    `path` is where the journal beside the workbook is looked for; it is None in
    xlwings Lite, which reaches no local files.
    """

    book: object  # an xlwings Book, desktop or Lite
    path: Path | None = None

    @classmethod
    def desktop(cls, book) -> OpenBook:
        """An Excel workbook through desktop xlwings; `path` when it has been saved."""
        path = Path(str(book.fullname))
        return cls(book, path if path.is_file() else None)

    @property
    def name(self) -> str:
        return self.path.name if self.path is not None else str(self.book.name)


def read_open_book(
    source: OpenBook, *, ledger: Table | None = None
) -> tuple[CreditBook | None, list[Problem]]:
    """Read Settings, Customers, Ledger, Policy and Contacts from an open book, as
    `reader.read_workbook` reads a file (the same `read_tables`); return the book and
    every problem found. `ledger` (a CSV export's) replaces the book's Ledger."""
    found = _Tables(source.book)
    specs = (SETTINGS, CUSTOMERS, CONTACTS) if ledger is not None else (
        SETTINGS, CUSTOMERS, LEDGER, CONTACTS)  # fmt: skip
    tables = {spec.name: raw for spec in specs if (raw := found.raw(spec)) is not None}
    policy = {canonical: table_cells(sheet, str(table.name), table.range)
              for canonical, (sheet, table) in found.named(POLICY_TABLES).items()}  # fmt: skip
    path = source.path or Path(source.name)
    return read_tables(tables, policy, DATE1904, path, ledger=ledger)


class _Tables:
    """The book's sheets and Excel tables, by folded name, listed once."""

    def __init__(self, book):
        self.sheets: dict[str, object] = {}
        self.tables: dict[str, tuple[str, object]] = {}  # folded name -> (sheet name, table)
        for sheet in book.sheets:
            name = str(sheet.name)
            self.sheets.setdefault(fold(name), sheet)
            for table in sheet.tables:
                self.tables.setdefault(fold(str(table.name)), (name, table))
        self.names = {key: str(s.name) for key, s in self.sheets.items()}

    def raw(self, spec: TableSpec) -> RawTable | None:
        """A table named like the sheet, else a sheet with its headers in row 1 (as the file
        reader finds them)."""
        hit = self.tables.get(fold(spec.name))
        if hit is not None:
            sheet_name, table = hit
            return table_cells(sheet_name, str(table.name), table.range)
        for candidate in (spec.name, *spec.sheet_aliases):
            sheet = self.sheets.get(fold(candidate))
            if sheet is not None:
                return sheet_cells(str(sheet.name), sheet)
        return None

    def named(self, names: Iterable[str]) -> dict[str, tuple[str, object]]:
        wanted = {fold(n): n for n in names}
        return {wanted[k]: v for k, v in self.tables.items() if k in wanted}


def table_cells(sheet: str, name: str | None, rng) -> RawTable:
    """The cells of an Excel table's range (header row first), with one read."""
    grid = _values(rng)
    header_row, first_column = int(rng.row), int(rng.column)
    rows, errors = _clean(grid[1:], header_row + 1, first_column)
    headers = tuple(_header(h) for h in (grid[0] if grid else ()))
    return RawTable(sheet, name, header_row, first_column, headers, rows, errors)


def sheet_cells(sheet_name: str, sheet) -> RawTable:
    """A sheet holding a table from A1 without an Excel table: its used range, with one read."""
    used = sheet.used_range
    grid = _values(used)
    top, left = int(used.row), int(used.column)
    if not any(v is not None and v != "" for row in grid for v in row):
        return RawTable(sheet_name, None, 1, 1, (), [], {})
    width = left - 1 + max(map(len, grid), default=0)
    grid = [[None] * width for _ in range(top - 1)] + [[None] * (left - 1) + r for r in grid]
    rows, errors = _clean(grid[1:], 2, 1)
    headers = tuple(_header(h).strip() for h in grid[0])
    return RawTable(sheet_name, None, 1, 1, headers, rows, errors)


def _values(rng) -> list[list[object]]:
    values = rng.options(ndim=2, err_to_str=True).value
    return [list(row) for row in values or []]


def _header(value: object) -> str:
    return "" if value is None else str(value)


def _clean(rows: list[list[object]], first_row: int, first_column: int):
    """Empty cells as blank text and error cells apart, as calamine and the file reader give
    them: return the rows and {(row, column): "#N/A"}."""
    errors: dict[tuple[int, int], str] = {}
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if value is None:
                row[j] = ""
            elif isinstance(value, str) and value in ERROR_TEXTS:
                errors[(first_row + i, first_column + j)] = value
                row[j] = ""
    return rows, errors
