"""Read a workbook's cells as they are (values, dates, formulas), to carry them into a new layout.

The reader (reader.py) normalises what the engine needs; an upgrade needs the cells
themselves: the user's own columns and sheets, text that looks like a number, the
formulas a user typed. openpyxl reads them; a formula comes back as `Formula`, which the
builder writes as a formula again.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

from xl_addin.errors import WorkbookError
from xl_addin.workbook.builder import Formula
from xl_addin.workbook.schema import fold


class CellReader:
    """The cells of one workbook file, by sheet and by table."""

    def __init__(self, path: Path):
        try:
            with warnings.catch_warnings():
                # openpyxl warns of extensions it does not read (slicers, sparklines):
                # only their cells are carried.
                warnings.simplefilter("ignore")
                self._book = load_workbook(path, data_only=False, keep_links=False)
        except Exception as error:  # openpyxl raises many kinds on a damaged file
            raise WorkbookError(f"{Path(path).name}: cannot be read as a workbook "
                                f"({error})") from error  # fmt: skip

    @property
    def sheet_names(self) -> list[str]:
        return list(self._book.sheetnames)

    def table(self, name: str) -> tuple[str, int, int, int, int] | None:
        """Where the table called `name` (case and spaces ignored) is: sheet, first column,
        header row, last column, last row."""
        for sheet in self._book.worksheets:
            for table in sheet.tables.values():
                if fold(table.displayName) == fold(name):
                    left, top, right, bottom = range_boundaries(table.ref)
                    bottom -= table.totalsRowCount or 0
                    return sheet.title, left, top, right, bottom
        return None

    def rows(self, sheet: str, top: int, left: int, bottom: int, right: int) -> list[list[object]]:
        """The cells of a rectangle, row by row (1-based, inclusive)."""
        if bottom < top:
            return []
        cells = self._book[sheet].iter_rows(min_row=top, max_row=bottom, min_col=left,
                                            max_col=right)  # fmt: skip
        return [[cell_value(cell) for cell in row] for row in cells]

    def sheet_rows(self, sheet: str) -> list[list[object]]:
        """Every cell of a sheet from A1 to its last used cell."""
        ws = self._book[sheet]
        return self.rows(sheet, 1, 1, ws.max_row, ws.max_column)

    def sheet_has_more(self, sheet: str) -> bool:
        """Whether a sheet holds what a copy of its cells leaves out (tables, charts,
        pictures, merged cells)."""
        ws = self._book[sheet]
        return bool(ws.tables or ws._charts or ws._images or ws.merged_cells.ranges)


def cell_value(cell) -> object:
    """A cell's value as the builder writes it back: a formula as `Formula`."""
    value = cell.value
    if cell.data_type != "f":
        return value
    text = str(getattr(value, "text", value) or "")
    return Formula(text if text.startswith("=") else f"={text}")
