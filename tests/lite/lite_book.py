"""A stand-in for the book xlwings Lite hands a script, for running main.py in Pyodide.

xlwings' own Book for Lite (its remote engine) lives under `xlwings.pro`, which is
under a commercial licence and is never imported here. This class speaks the subset of
xlwings' object model the product uses, fed with the JSON book payload shaped as
xlwings' BSD-licensed clients send it (xlwings/js/xlwings.ts in the xlwings 0.37.8
wheel, `runPython`: `book` {name, active_sheet_index, selection}, `names`, and per sheet
{name, values, pictures, tables}; `values` is the used range from A1 as
`getValues()` gives it, with cells whose number format category is Date or Time
turned into ISO text; each table gives `range_address` etc. without the sheet name).
Reading follows what xlwings documents for Lite: empty cells read as None, ISO
date-time text as `datetime`, error text as None unless `err_to_str`; a single cell
reads as a scalar, a row or a column as a flat list, unless `ndim=2`. Formulas are not
in the payload: `range.formula` raises, and `await range.get_formula()` answers from
the test's `formulas` grid, standing in for the add-in's request to Excel. Writes are
queued as actions (`setValues`, `addSheet`, `clearContents`, and `freezePaneAtRange`
for `sheet.freeze_panes.freeze_at`, as xlwings' remote engine queues it) with the fields
of xlwings.ts's `Action`, and applied to the grid once the script is done, as the client
applies them. `sheet.page_setup` has only the print area there: its `api` is the
sheet's JSON.
"""

from __future__ import annotations

import datetime as dt
import re

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?$")
ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#DATA!")


def cell_index(address: str) -> tuple[int, int]:
    """"B17" -> (17, 2), 1-based."""
    letters, digits = re.match(r"\$?([A-Z]+)\$?(\d+)", address).groups()
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - 64
    return int(digits), column


def clean(value, err_to_str):
    if value == "" or value is None:
        return None
    if isinstance(value, str):
        if ISO.match(value):
            return dt.datetime.fromisoformat(value.rstrip("Z"))
        if value in ERRORS and not err_to_str:
            return None
    return value


def to_json(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


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

    @property
    def shape(self):
        return self.last[0] - self.first[0] + 1, self.last[1] - self.first[1] + 1

    def options(self, **options):
        return Range(self.sheet, self.first, self.last, {**self._options, **options})

    def _grid(self, source, convert):
        (r0, c0), (r1, c1) = self.first, self.last
        grid = [[convert(self.sheet.cell(source, r, c)) for c in range(c0, c1 + 1)]
                for r in range(r0, r1 + 1)]  # fmt: skip
        if self._options.get("ndim") == 2:
            return grid
        if len(grid) == 1 and len(grid[0]) == 1:
            return grid[0][0]
        if len(grid) == 1:
            return grid[0]
        return grid if len(grid[0]) > 1 else [row[0] for row in grid]

    @property
    def value(self):
        err_to_str = self._options.get("err_to_str", False)
        return self._grid(self.sheet.values, lambda v: clean(v, err_to_str))

    @value.setter
    def value(self, data):
        if not isinstance(data, list):
            data = [[data]]
        elif data and not isinstance(data[0], list):
            data = [data]
        self.sheet.book.actions.append({
            "func": "setValues", "args": [], "sheet_position": self.sheet.index,
            "start_row": self.first[0] - 1, "start_column": self.first[1] - 1,
            "row_count": len(data), "column_count": max(map(len, data)),
            "values": [[to_json(v) for v in row] for row in data],
        })  # fmt: skip

    @property
    def formula(self):
        raise NotImplementedError("Reading formulas synchronously isn't supported in Lite")

    async def get_formula(self):
        return self._grid(self.sheet.formulas, lambda v: v or "")


class Table:
    def __init__(self, sheet, spec):
        self.sheet, self.name = sheet, spec["name"]
        first, _, last = spec["range_address"].partition(":")
        self._corners = cell_index(first), cell_index(last or first)

    @property
    def range(self):
        return Range(self.sheet, *self._corners)


class Tables(list):
    def __getitem__(self, key):
        if isinstance(key, str):
            return next(t for t in self if t.name == key)
        return super().__getitem__(key)


class Sheet:
    def __init__(self, book, index, payload, formulas):
        self.book, self.index, self.name = book, index, payload["name"]
        self.values = [list(r) for r in payload["values"]]
        self.formulas = formulas or []
        self.tables = Tables(Table(self, t) for t in payload["tables"])

    @staticmethod
    def cell(grid, row, column):
        if row - 1 < len(grid) and column - 1 < len(grid[row - 1]):
            return grid[row - 1][column - 1]
        return ""

    def range(self, first, last=None):
        if isinstance(first, str):
            first = cell_index(first)
        return Range(self, first, last)

    def __getitem__(self, address):
        return self.range(address)

    @property
    def used_range(self):
        rows = len(self.values)
        columns = max(map(len, self.values), default=1)
        return Range(self, (1, 1), (max(rows, 1), max(columns, 1)))

    def clear(self):
        self.book.actions.append({
            "func": "clearContents", "args": [], "values": [[]], "sheet_position": self.index,
            "start_row": 0, "start_column": 0, "row_count": 0, "column_count": 0,
        })  # fmt: skip

    @property
    def freeze_panes(self):
        return FreezePanes(self)

    @property
    def page_setup(self):
        return PageSetup(self)


class FreezePanes:
    def __init__(self, sheet):
        self.sheet = sheet

    def freeze_at(self, frozen_range):
        self.sheet.book.actions.append({
            "func": "freezePaneAtRange", "args": [frozen_range], "values": [[]],
            "sheet_position": self.sheet.index, "start_row": 0, "start_column": 0,
            "row_count": 0, "column_count": 0,
        })  # fmt: skip


class PageSetup:
    def __init__(self, sheet):
        self.api = {"name": sheet.name}  # the sheet's JSON, as xlwings' remote engine gives


class Sheets(list):
    def __getitem__(self, key):
        if isinstance(key, str):
            return next(s for s in self if s.name == key)
        return super().__getitem__(key)

    def add(self, name, before=None, after=None):
        book = self[0].book
        sheet = Sheet(book, len(self), {"name": name, "values": [[]], "tables": []}, [])
        self.append(sheet)
        book.actions.append({"func": "addSheet", "args": [len(self) - 1, name], "values": [[]],
                             "sheet_position": len(self) - 1, "start_row": 0, "start_column": 0,
                             "row_count": 0, "column_count": 0})  # fmt: skip
        return sheet


class Book:
    """The active workbook, as a Lite script gets it, from the client's payload."""

    def __init__(self, payload, formulas=None):
        self.payload = payload
        self.name = payload["book"]["name"]
        self.actions = []
        formulas = formulas or {}
        self.sheets = Sheets(Sheet(self, i, s, formulas.get(s["name"]))
                             for i, s in enumerate(payload["sheets"]))  # fmt: skip

    @property
    def fullname(self):
        return self.name

    def applied(self):
        """Every sheet's values once the client has run the queued actions."""
        grids = {s.name: [list(r) for r in s.values] for s in self.sheets}
        names = [s.name for s in self.sheets]
        for action in self.actions:
            name = names[action["sheet_position"]]
            if action["func"] == "clearContents":
                grids[name] = [[]]
            elif action["func"] == "setValues":
                grid = grids[name]
                for i, row in enumerate(action["values"]):
                    r = action["start_row"] + i
                    while len(grid) <= r:
                        grid.append([])
                    for j, value in enumerate(row):
                        c = action["start_column"] + j
                        grid[r].extend([""] * (c + 1 - len(grid[r])))
                        if isinstance(value, str) and value.startswith("'"):
                            value = value[1:]  # Excel: the apostrophe marks text
                        grid[r][c] = "" if value is None else value
        return grids
