"""Writing results into a workbook that is open in Excel (xlwings) or in xlwings Lite.

A button runs while its workbook is open, so the file cannot be rewritten under
Excel. Refresh and Validate read the open book (workbook.open_book) and write the
results back through this small seam, which speaks only the part of xlwings' object
model that desktop xlwings and xlwings Lite share: `book.sheets[name]`,
`sheet.range((row, column), (row, column))`, `.value`, `.formula`, `sheet.clear()`,
`sheet.used_range.last_cell`, `book.sheets.add(name, after=...)`; and for an owned
sheet's print setup (`print_setup`) what each engine has of it: `sheet.freeze_panes` in
Lite, Excel's own PageSetup object and window on desktop. Per computed column: one read
of its formulas and values, one write; the header row is one read. History, which a
year of documents makes long, is appended to when its table is as the run checked it
(`appendable_rows`): only the run's rows cross to Excel. The tests drive it with
stand-in books of the same shape, because Excel cannot run here.

Formula cells in computed columns (the template's =AGE_BUCKET(...)) are left to
Excel, which recalculates them; values go into the others. xlwings Lite reads
formulas only asynchronously (`await range.get_formula()`): its script fetches them
first (`fetch_formulas`) and hands them to the writer.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from xl_addin.workbook.schema import fold
from xl_addin.workbook.updates import HEADER_ROW, LANDSCAPE_FROM, ColumnUpdate, SheetTable

STATUS_CELL = (1, 4)  # Start!D1: the one-line status of the last button
XL_PORTRAIT, XL_LANDSCAPE = 1, 2  # Excel's XlPageOrientation


HEADER_WIDTH = 256  # columns read at once when looking for a table's headers


class XlwingsWriter:
    """Write refresh results (ColumnUpdate, SheetTable) into an open xlwings Book.

    `formulas` (sheet -> FormulaGrid), where formulas were fetched beforehand (Lite).
    """

    def __init__(self, book, formulas: dict[str, FormulaGrid] | None = None):
        self.book = book
        self.formulas = formulas or {}

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
        grid = self.formulas.get(sheet.name)
        if grid is not None:
            formulas = [grid.at(row, column) for row in range(first, last + 1)]
        else:
            formulas = _column(block.formula, last - first + 1)
        current = _column(block.value, last - first + 1)
        new = {row: typed(value) for row, value in zip(rows, values, strict=True)}
        cells = []
        for offset, (formula, value) in enumerate(zip(formulas, current, strict=True)):
            if str(formula or "").startswith("="):
                cells.append(formula)  # Excel computes it; writing it back keeps it
            else:
                cells.append(new.get(first + offset, value))
        block.value = [[cell] for cell in cells]

    def appendable_rows(self, name: str, headers: Sequence[str]) -> int | None:
        """The data rows of the sheet `name`, when rows can be appended under them: its
        header `headers` in row 3 from column A, nothing beside or under its table (Excel's
        used range ends in the header's last column, at the table's last row). Two reads.
        None otherwise: the sheet is then written whole."""
        if name not in [s.name for s in self.book.sheets]:
            return None
        sheet = self.book.sheets[name]
        if _row_values(sheet, HEADER_ROW, 1) != [str(h) for h in headers]:
            return None
        used = sheet.used_range
        corner = used.last_cell
        if (used.row, used.column, corner.column) != (1, 1, len(headers)):
            return None
        rows = corner.row - HEADER_ROW
        return rows if rows > 0 else None

    def write_sheet(self, spec: SheetTable) -> None:
        if spec.kept_rows:  # rows under those kept (`appendable_rows` said how many)
            if spec.rows:
                sheet = self.book.sheets[spec.sheet]
                sheet.range((HEADER_ROW + spec.kept_rows + 1, 1)).value = [
                    [typed(v) for v in row] for row in spec.rows
                ]
            return
        names = [s.name for s in self.book.sheets]
        if spec.sheet in names:
            sheet = self.book.sheets[spec.sheet]
            sheet.clear()
        else:
            sheet = self.book.sheets.add(spec.sheet, after=self.book.sheets[names[-1]])
        sheet.range((1, 1)).value = spec.title
        rows = [list(spec.header), *(list(r) for r in spec.rows)]
        sheet.range((HEADER_ROW, 1)).value = [[typed(v) for v in row] for row in rows]
        if spec.totals:
            first = HEADER_ROW + len(rows) + 1
            sheet.range((first, 1)).value = [[typed(v) for v in row] for row in spec.totals]
        if spec.below:
            width = max(len(row) for row in spec.below)
            sheet.range((spec.below_row, 1)).value = [
                [typed(v) for v in row] + [None] * (width - len(row)) for row in spec.below
            ]
        print_setup(self.book, sheet, len(spec.header))


def print_setup(book, sheet, width: int) -> None:
    """Set an owned sheet up as the file route does (workbook.writer): the header row
    frozen, printed on every page, one page wide, landscape when the table is wide.

    Each engine offers part of it. xlwings Lite freezes panes (Office.js) but has no page
    setup beyond the print area, so a sheet it adds prints with Excel's defaults (a sheet
    it clears keeps the setup it had). Desktop xlwings has neither in its own API: the
    page setup goes through its COM PageSetup object and the frozen header through
    Excel's window, one line of glue each (Windows). Excel for Mac (appscript) keeps
    Excel's defaults. docs/excel.md lists what to check by hand.
    """
    try:
        sheet.freeze_panes.freeze_at(f"1:{HEADER_ROW}")  # xlwings Lite
        return
    except NotImplementedError:  # desktop xlwings: only through Excel itself
        pass
    page = sheet.page_setup.api
    if not hasattr(page, "FitToPagesWide"):
        return  # not Excel's COM object (Excel for Mac)
    page.PrintTitleRows = f"${HEADER_ROW}:${HEADER_ROW}"
    page.Zoom = False  # so that the fit below applies: one page wide, as many down as needed
    page.FitToPagesWide, page.FitToPagesTall = 1, False
    page.Orientation = XL_LANDSCAPE if width > LANDSCAPE_FROM else XL_PORTRAIT
    _freeze_in_window(book, sheet)


def _freeze_in_window(book, sheet) -> None:
    """Freeze the rows down to the header in desktop Excel, which freezes panes per window
    on its active sheet: the sheet is activated for it, then the user's sheet again."""
    active = book.sheets.active
    sheet.activate()
    window = book.app.api.ActiveWindow
    window.FreezePanes = False
    window.SplitColumn, window.SplitRow = 0, HEADER_ROW
    window.FreezePanes = True
    active.activate()


def set_status(book, text: str) -> None:
    """Show a one-line status on the Start sheet (where the buttons are)."""
    names = [s.name for s in book.sheets]
    if "Start" in names:
        book.sheets["Start"].range(STATUS_CELL).value = text


# Text Excel would not keep as text when it is written to Range.value, which Excel reads as
# if typed (desktop and Lite alike): a formula or a sign ("=HYPERLINK(...)", "+1", "-1",
# "@SUM(A1)", tab- or line-led), a number, a date or a fraction ("00123", "1-30", "3/4",
# "2026年11月30日"), a truth value. Excel's own mark for text, a leading apostrophe, keeps
# it as typed; the apostrophe is not part of the value (docs/excel.md, manual check).
_READ_AS_SOMETHING_ELSE = re.compile(
    r"[=+\-@\t\r\n]|[\d\s.,:/%()+\-eE年月日时分秒]+$|(?:true|false)$", re.IGNORECASE
)


def typed(value: object) -> object:
    """A value for xlwings' Range.value: `plain`, and text Excel would read as a formula,
    number or date marked as text with a leading apostrophe (see above)."""
    value = plain(value)
    if isinstance(value, str) and value and _READ_AS_SOMETHING_ELSE.match(value):
        return "'" + value
    return value


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
    """The headers from `first_column` to the first blank cell, in one read."""
    cells = sheet.range((row, first_column), (row, first_column + HEADER_WIDTH - 1)).value
    if cells and isinstance(cells[0], list | tuple):
        cells = cells[0]
    values = []
    for value in cells:
        if value in (None, ""):
            break
        values.append(str(value))
    return values


@dataclass(frozen=True, slots=True)
class FormulaGrid:
    """A block of formulas fetched beforehand: the text of each cell ("" for none)."""

    row: int
    column: int
    formulas: list[list[str]]

    def at(self, row: int, column: int) -> str:
        i, j = row - self.row, column - self.column
        if 0 <= i < len(self.formulas) and 0 <= j < len(self.formulas[i]):
            return self.formulas[i][j] or ""
        return ""


async def fetch_formulas(book, tables: Sequence[str]) -> dict[str, FormulaGrid]:
    """Fetch the formulas of the named Excel tables (one request each): sheet -> grid.

    For xlwings Lite, whose ranges give formulas only through `await get_formula()`.
    """
    grids: dict[str, FormulaGrid] = {}
    wanted = {fold(t) for t in tables}
    for sheet in book.sheets:
        for table in sheet.tables:
            if fold(str(table.name)) in wanted:
                rng = table.range
                formulas = await rng.options(ndim=2).get_formula()
                grids[str(sheet.name)] = FormulaGrid(int(rng.row), int(rng.column),
                                                     [list(r) for r in formulas])  # fmt: skip
    return grids
