"""The buttons' entry points, driven by a stand-in for xlwings' Book (Excel cannot run here).

The stand-in keeps the workbook's cells in memory, loaded from the file with openpyxl,
and speaks the part of xlwings' object model that workbook.access uses. The button
saves the book (the stand-in writes nothing: the file is what Excel saved), the
service reads the file, and the results land in the stand-in's cells: they must be
exactly what `credit-control refresh` writes into the file.
"""

from __future__ import annotations

import datetime as dt
import shutil

import openpyxl
import pytest

from xl_addin import macros
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.new_workbook import new_workbook
from xl_addin.services.refresh import refresh

AS_OF = dt.date(2026, 11, 30)


class Range:
    def __init__(self, sheet, first, last=None):
        self.sheet, self.first, self.last = sheet, first, last or first

    def _cells(self):
        (r0, c0), (r1, c1) = self.first, self.last
        return [[(r, c) for c in range(c0, c1 + 1)] for r in range(r0, r1 + 1)]

    def _get(self, attribute):
        grid = [[self.sheet.get(cell, attribute) for cell in row] for row in self._cells()]
        if len(grid) == 1 and len(grid[0]) == 1:
            return grid[0][0]
        return grid if len(grid[0]) > 1 else [row[0] for row in grid]

    @property
    def value(self):
        return self._get("value")

    @value.setter
    def value(self, values):
        if not isinstance(values, list):
            values = [[values]]
        elif values and not isinstance(values[0], list):
            values = [values]
        r0, c0 = self.first
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                self.sheet.set((r0 + i, c0 + j), value)

    @property
    def formula(self):
        return self._get("formula")


class Sheet:
    def __init__(self, name, worksheet=None):
        self.name, self.cells = name, {}
        if worksheet is not None:
            for row in worksheet.iter_rows():
                for cell in row:
                    if cell.value is not None:
                        self.cells[(cell.row, cell.column)] = cell.value

    def get(self, cell, attribute):
        value = self.cells.get(cell)
        if attribute == "formula":
            return value  # as Excel: a formula's text, or the constant
        return None if isinstance(value, str) and value.startswith("=") else value

    def set(self, cell, value):
        self.cells[cell] = value

    def range(self, first, last=None):
        return Range(self, first, last)

    def clear(self):
        self.cells.clear()


class Sheets(list):
    def __getitem__(self, key):
        if isinstance(key, str):
            return next(s for s in self if s.name == key)
        return super().__getitem__(key)

    def add(self, name, after=None):
        sheet = Sheet(name)
        self.append(sheet)
        return sheet


class Book:
    """What macros and workbook.access need of an xlwings Book."""

    def __init__(self, path):
        self.fullname = str(path)
        loaded = openpyxl.load_workbook(path)
        self.sheets = Sheets(Sheet(ws.title, ws) for ws in loaded)
        self.saved = 0

    def save(self):
        self.saved += 1


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
    assert excel.saved == 1
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


def test_the_validate_button_lists_problems_in_the_problems_sheet(tmp_path):
    path = tmp_path / "empty.xlsx"
    new_workbook(path, as_of=AS_OF)
    excel = Book(path)
    macros.validate(excel)
    problems = excel.sheets["Problems"].cells
    assert problems[(4, 1)] == "Ledger" and "no documents" in problems[(4, 4)]
    assert excel.sheets["Start"].cells[(1, 4)] == "1 problem(s), see the Problems sheet."
