"""A stand-in for a workbook open in desktop Excel through xlwings (Excel cannot run here).

Loaded from a real .xlsx/.xlsm with openpyxl, it keeps the cells in memory and speaks
the part of xlwings' object model the buttons use, giving values as COM gives them to
xlwings: numbers as float, date cells as datetime, empty cells as None, a formula cell
as its result (here None: no Excel computed it) and its `.formula` as the text, error
cells as None unless `err_to_str`. A 1-row or 1-column range reads as a flat list, one
cell as a scalar, unless `ndim=2`. `calls` counts what would cross COM.

Page setup and frozen panes as desktop xlwings 0.37.8 on Windows offers them: a sheet's
`freeze_panes` raises NotImplementedError (its Windows engine has none), `page_setup.api`
is Excel's PageSetup object (here recording what is set on it), and the frozen rows are
set on `book.app.api.ActiveWindow`, which acts on the active sheet (`sheet.activate()`).

As Excel does, it leaves its owner file `~$<name>` beside the file it has open (until
`close`): a button's run must write into the open book, never replace the file.
"""

from __future__ import annotations

import datetime as dt

import openpyxl
from openpyxl.utils.cell import range_boundaries

ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!")


class Range:
    def __init__(self, sheet, first, last=None, options=None):
        self.sheet, self.first, self.last = sheet, first, last or first
        self._options = options or {}

    @property
    def row(self):
        return self.first[0]

    @property
    def column(self):
        return self.first[1]

    def options(self, **options):
        return Range(self.sheet, self.first, self.last, {**self._options, **options})

    def _cells(self):
        (r0, c0), (r1, c1) = self.first, self.last
        return [[(r, c) for c in range(c0, c1 + 1)] for r in range(r0, r1 + 1)]

    def _get(self, attribute):
        self.sheet.book.calls += 1
        grid = [[self.sheet.get(cell, attribute, self._options) for cell in row]
                for row in self._cells()]  # fmt: skip
        if self._options.get("ndim") == 2:
            return grid
        if len(grid) == 1 and len(grid[0]) == 1:
            return grid[0][0]
        if len(grid) == 1:
            return grid[0]
        return grid if len(grid[0]) > 1 else [row[0] for row in grid]

    @property
    def last_cell(self):
        return Range(self.sheet, self.last)

    @property
    def value(self):
        return self._get("value")

    @value.setter
    def value(self, values):
        self.sheet.book.calls += 1
        self.sheet.book.writes += 1
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


class Table:
    def __init__(self, sheet, name, ref):
        self.sheet, self.name = sheet, name
        c0, r0, c1, r1 = range_boundaries(ref)
        self._corners = (r0, c0), (r1, c1)

    @property
    def range(self):
        return Range(self.sheet, *self._corners)


class Tables(list):
    def __getitem__(self, key):
        if isinstance(key, str):
            return next(t for t in self if t.name == key)
        return super().__getitem__(key)


class ComObject:
    """An Excel COM object: every property set is one call, and recorded."""

    def __init__(self, book, **defaults):
        object.__setattr__(self, "_book", book)
        object.__setattr__(self, "set", {})
        for name, value in defaults.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        if not hasattr(self, name):
            raise AttributeError(f"Excel has no property {name}")  # COM: unknown name
        self._book.calls += 1
        self.set[name] = value
        object.__setattr__(self, name, value)


class PageSetup:
    def __init__(self, book):
        # Excel's defaults for a new sheet: no titles, 100% zoom, portrait (xlPortrait = 1).
        self.api = ComObject(book, PrintTitleRows="", Zoom=100, FitToPagesWide=1,
                             FitToPagesTall=1, Orientation=1)  # fmt: skip


class Window(ComObject):
    """Excel's active window: freezing applies to the sheet active in it."""

    def __init__(self, book):
        super().__init__(book, FreezePanes=False, SplitRow=0, SplitColumn=0)

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        sheet = self._book.sheets.active
        if name == "FreezePanes":
            sheet.frozen = (self.SplitRow, self.SplitColumn) if value else None


class Sheet:
    def __init__(self, book, name, worksheet=None):
        self.book, self.name, self.cells, self.errors = book, name, {}, set()
        self.typed = {}
        self.texts = set()  # cells holding text that looks like a formula (typed after ')
        self.tables = Tables()
        self.page_setup = PageSetup(book)
        self.frozen = None  # (rows, columns) frozen in Excel's window
        if worksheet is not None:
            for row in worksheet.iter_rows():
                for cell in row:
                    if cell.value is None:
                        continue
                    self.cells[(cell.row, cell.column)] = cell.value
                    if cell.data_type == "e":
                        self.errors.add((cell.row, cell.column))
            self.tables.extend(Table(self, n, ref) for n, ref in worksheet.tables.items())

    def get(self, cell, attribute, options):
        value = self.cells.get(cell)
        if attribute == "formula":
            return "" if value is None else value  # a formula's text, or the constant
        if isinstance(value, str) and value.startswith("=") and cell not in self.texts:
            return None  # a formula's result is Excel's to compute
        if cell in self.errors:
            return value if options.get("err_to_str") else None
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return float(value)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return dt.datetime(value.year, value.month, value.day)
        return value

    def set(self, cell, value):
        self.typed[cell] = value  # as written, for tests of what reaches Excel
        self.texts.discard(cell)
        if isinstance(value, str) and value.startswith("'"):
            value = value[1:]  # Excel: a leading apostrophe marks text, not part of it
            self.texts.add(cell)
        self.cells[cell] = value
        self.errors.discard(cell)

    def range(self, first, last=None):
        return Range(self, first, last)

    @property
    def used_range(self):
        if not self.cells:
            return Range(self, (1, 1))
        rows = [r for r, _ in self.cells]
        columns = [c for _, c in self.cells]
        return Range(self, (min(rows), min(columns)), (max(rows), max(columns)))

    def clear(self):
        self.book.calls += 1
        self.cells.clear()
        self.errors.clear()

    @property
    def freeze_panes(self):
        raise NotImplementedError()  # as xlwings' Windows engine: base_classes.Sheet

    def activate(self):
        self.book.calls += 1
        self.book.sheets.active = self


class Sheets(list):
    active = None

    def __getitem__(self, key):
        if isinstance(key, str):
            return next(s for s in self if s.name == key)
        return super().__getitem__(key)

    def add(self, name, after=None):
        sheet = Sheet(self[0].book, name)
        self.append(sheet)
        return sheet


class Book:
    """What macros, workbook.open_book and workbook.access need of an xlwings Book."""

    def __init__(self, path):
        self.fullname = str(path)
        self.name = path.name
        self.owner_file = path.with_name(f"~${path.name}")
        self.owner_file.write_bytes(b"\x05alice" + b" " * 48)  # the user's name, as Excel
        self.calls = self.writes = self.saved = 0
        loaded = openpyxl.load_workbook(path)
        self.sheets = Sheets(Sheet(self, ws.title, ws) for ws in loaded)
        self.sheets.active = self.sheets[loaded.active.title]
        self.app = App(self)

    def save(self):
        self.saved += 1

    def close(self):
        self.owner_file.unlink(missing_ok=True)


class App:
    def __init__(self, book):
        self.api = AppApi(book)


class AppApi:
    def __init__(self, book):
        self.ActiveWindow = Window(book)
