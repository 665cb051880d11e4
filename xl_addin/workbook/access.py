"""Writing results into a workbook that is open in Excel, through xlwings.

A button runs while its workbook is open, so the file cannot be rewritten under
Excel. The buttons read the workbook as saved (the same reader as the
commands: the macro saves the book first), and write the results back through
this small seam, which speaks only the part of xlwings' object model it needs:
`book.sheets[name]`, `sheet.range((row, column))`, `.value`, `.formula`,
`sheet.clear()`, `book.sheets.add(name, after=...)`. The tests drive it with a
stand-in object of the same shape, because Excel cannot run here.

Formula cells in computed columns (the template's =AGE_BUCKET(...)) are left to
Excel, which recalculates them; values go into the others.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pandas as pd

from xl_addin.workbook.schema import fold
from xl_addin.workbook.writer import HEADER_ROW, ColumnUpdate, SheetTable

STATUS_CELL = (1, 4)  # Start!D1: the one-line status of the last button


class XlwingsWriter:
    """Write refresh results (ColumnUpdate, SheetTable) into an open xlwings Book."""

    def __init__(self, book):
        self.book = book

    def __call__(self, updates: Sequence[ColumnUpdate], sheets: Sequence[SheetTable]) -> None:
        for update in updates:
            self.write_columns(update)
        for sheet in sheets:
            self.write_sheet(sheet)

    def write_columns(self, update: ColumnUpdate) -> None:
        sheet = self.book.sheets[update.sheet]
        headers = _row_values(sheet, update.header_row, update.first_column)
        wanted = {fold(h): i for i, h in enumerate(headers)}
        for header, values in update.values.items():
            names = (header, *update.aliases.get(header, ()))
            position = next((wanted[fold(n)] for n in names if fold(n) in wanted), None)
            if position is None:
                position = len(headers)
                headers.append(header)
                sheet.range((update.header_row, update.first_column + position)).value = header
            column = update.first_column + position
            if update.rows:
                self._write_block(sheet, column, update.rows, values)

    def _write_block(self, sheet, column: int, rows: Sequence[int], values) -> None:
        """One read and one write per column (each COM call costs milliseconds)."""
        first, last = min(rows), max(rows)
        block = sheet.range((first, column), (last, column))
        formulas = _column(block.formula, last - first + 1)
        current = _column(block.value, last - first + 1)
        new = {row: plain(value) for row, value in zip(rows, values, strict=True)}
        cells = []
        for offset, (formula, value) in enumerate(zip(formulas, current, strict=True)):
            if str(formula or "").startswith("="):
                cells.append(formula)  # Excel computes it; writing it back keeps it
            else:
                cells.append(new.get(first + offset, value))
        block.value = [[cell] for cell in cells]

    def write_sheet(self, spec: SheetTable) -> None:
        names = [s.name for s in self.book.sheets]
        if spec.sheet in names:
            sheet = self.book.sheets[spec.sheet]
            sheet.clear()
        else:
            sheet = self.book.sheets.add(spec.sheet, after=self.book.sheets[names[-1]])
        sheet.range((1, 1)).value = spec.title
        rows = [list(spec.header), *(list(r) for r in spec.rows)]
        sheet.range((HEADER_ROW, 1)).value = [[plain(v) for v in row] for row in rows]
        if spec.totals:
            first = HEADER_ROW + len(rows) + 1
            sheet.range((first, 1)).value = [[plain(v) for v in row] for row in spec.totals]


def set_status(book, text: str) -> None:
    """Show a one-line status on the Start sheet (where the buttons are)."""
    names = [s.name for s in book.sheets]
    if "Start" in names:
        book.sheets["Start"].range(STATUS_CELL).value = text


def plain(value: object) -> object:
    """A value as xlwings writes it: Decimal as float, missing as None, dates as dates."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, dt.date | str | int | float | bool):
        return value
    return str(value)


def _column(values: object, n: int) -> list[object]:
    """A one-column range's values as a list (xlwings gives a scalar for one cell)."""
    if n == 1 and not isinstance(values, list | tuple):
        return [values]
    return [v[0] if isinstance(v, list | tuple) else v for v in values]


def _row_values(sheet, row: int, first_column: int) -> list[str]:
    values = []
    column = first_column
    while True:
        value = sheet.range((row, column)).value
        if value in (None, ""):
            return values
        values.append(str(value))
        column += 1
