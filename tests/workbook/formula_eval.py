"""A small evaluator for the formulas our workbooks hold, to prove the cells show what the
engine computes without Excel.

It knows exactly the shapes `workbook.template` writes, and refuses anything else (so
a formula added to the template without being evaluated here fails the tests):

- the Live sheet's anchors, `=LEDGER_COLUMNS(...)` / `=CUSTOMER_COLUMNS(...)`, whose
  arguments are structured references (`Ledger[[#All],[CustomerID]:[Notes]]`,
  `Settings[#All]`): each is resolved to the cells' values as xlwings hands a range to a
  function (a list of rows; numbers as floats, dates as datetimes, blanks None), the
  Python function is called, and its result spills from the anchor;
- the tables' computed columns, `=INDEX(Name,ROW()-ROW(Table[#Headers]),k)`, with Name a
  defined name `_xlfn.ANCHORARRAY(Sheet!$A$3)` (the spill of an anchor).

Formulas are tokenised with openpyxl's tokenizer, the parser Excel's file format needs.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
from collections.abc import Callable

import openpyxl
from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.utils import range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

from xl_addin import udfs

FUNCTIONS: dict[str, Callable] = {
    "LEDGER_COLUMNS": udfs.ledger_columns,
    "CUSTOMER_COLUMNS": udfs.customer_columns,
    "EXPECTED_PAY_DATE": udfs.expected_pay_date,  # a user's formula: tests call it by hand
}
PYTHON_FUNCTIONS = {  # the module's public functions: each is an Excel function
    name.upper() for name, f in vars(udfs).items()
    if inspect.isfunction(f) and f.__module__ == udfs.__name__ and not name.startswith("_")
}
_STRUCTURED = re.compile(r"^(\w+)\[(.*)\]$")


class Unknown(Exception):
    """A formula this evaluator does not know."""


def formula_of(value) -> str | None:
    if isinstance(value, ArrayFormula):
        return value.text
    if isinstance(value, str) and value.startswith("="):
        return value
    return None


class Evaluator:
    def __init__(self, path):
        self.book = openpyxl.load_workbook(path)
        self.tables = {}
        for sheet in self.book.worksheets:
            for name, ref in sheet.tables.items():
                self.tables[name.casefold()] = (sheet, ref)
        self.spills: dict[tuple[str, str], list[list[object]]] = {}
        self.calls = 0

    def formulas(self):
        """Every formula cell: (sheet, cell, formula text)."""
        for sheet in self.book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    text = formula_of(cell.value)
                    if text is not None:
                        yield sheet, cell, text

    # --- the anchors ---------------------------------------------------------------------

    def spill(self, sheet_name: str, anchor: str) -> list[list[object]]:
        key = (sheet_name, anchor)
        if key not in self.spills:
            text = formula_of(self.book[sheet_name][anchor].value)
            if text is None:
                raise Unknown(f"{sheet_name}!{anchor} holds no formula to spill")
            self.spills[key] = self.call(text)
        return self.spills[key]

    def call(self, text: str):
        tokens = [t for t in Tokenizer(text).items if t.type != Token.WSPACE]
        head, tail = tokens[0], tokens[-1]
        name = head.value.rstrip("(").upper()
        if head.type != Token.FUNC or name not in FUNCTIONS or tail.type != Token.FUNC:
            raise Unknown(text)
        arguments = []
        for token in tokens[1:-1]:
            if token.type == Token.SEP:
                continue
            if token.type != Token.OPERAND or token.subtype != Token.RANGE:
                raise Unknown(text)
            arguments.append(self.range_values(token.value))
        self.calls += 1
        return FUNCTIONS[name](*arguments)

    def range_values(self, reference: str) -> list[list[object]]:
        """A structured reference's cells as xlwings gives them to a function."""
        sheet, (c1, r1, c2, r2) = self.resolve(reference)
        return [[_as_xlwings(sheet.cell(r, c).value) for c in range(c1, c2 + 1)]
                for r in range(r1, r2 + 1)]  # fmt: skip

    def resolve(self, reference: str):
        found = _STRUCTURED.match(reference)
        if not found or found.group(1).casefold() not in self.tables:
            raise Unknown(reference)
        sheet, ref = self.tables[found.group(1).casefold()]
        c1, r1, c2, r2 = range_boundaries(ref)
        headers = [sheet.cell(r1, c).value for c in range(c1, c2 + 1)]
        spec = found.group(2)
        if spec == "#All":
            return sheet, (c1, r1, c2, r2)
        if spec == "#Headers":
            return sheet, (c1, r1, c2, r1)
        if spec in headers:  # Table[Column]: the column's data rows
            column = c1 + headers.index(spec)
            return sheet, (column, r1 + 1, column, r2)
        columns = re.fullmatch(r"\[#All\],\[([^\]]+)\]:\[([^\]]+)\]", spec)
        if columns:
            first = c1 + headers.index(columns.group(1))
            last = c1 + headers.index(columns.group(2))
            return sheet, (first, r1, last, r2)
        raise Unknown(reference)

    # --- the computed columns ------------------------------------------------------------

    def value(self, cell, text: str) -> object:
        """=INDEX(Name,ROW()-ROW(Table[#Headers]),k) in `cell`."""
        tokens = [t.value for t in Tokenizer(text).items if t.type != Token.WSPACE]
        shape = ["INDEX(", None, ",", "ROW(", ")", "-", "ROW(", None, ")", ",", None, ")"]
        if len(tokens) != len(shape) or any(s is not None and s != t
                                            for s, t in zip(shape, tokens)):  # fmt: skip
            raise Unknown(text)
        name, header_ref, k = tokens[1], tokens[7], int(tokens[10])
        defined = self.book.defined_names.get(name)
        anchor = re.fullmatch(r"_xlfn\.ANCHORARRAY\((\w+)!\$([A-Z]+)\$(\d+)\)",
                              defined.attr_text if defined else "")  # fmt: skip
        if anchor is None or not header_ref.endswith("[#Headers]"):
            raise Unknown(text)
        block = self.spill(anchor.group(1), f"{anchor.group(2)}{anchor.group(3)}")
        _, (_, header_row, _, _) = self.resolve(header_ref)
        position = cell.row - header_row
        if not 1 <= position <= len(block) or not 1 <= k <= len(block[0]):
            return "#REF!"
        return block[position - 1][k - 1]


def _as_xlwings(value):
    """A cell value as xlwings converts it for a function: numbers float, dates datetime."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, str) and value.startswith("="):
        raise Unknown(f"a formula among a function's input cells: {value}")
    return value


def python_calls(path) -> int:
    """How many calls into Python a full recalculation of the workbook makes: one per
    formula cell that calls one of our functions (each call costs a COM round trip)."""
    book = openpyxl.load_workbook(path)
    calls = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                text = formula_of(cell.value)
                if text and any(t.type == Token.FUNC and t.value.rstrip("(").upper()
                                in PYTHON_FUNCTIONS for t in Tokenizer(text).items):  # fmt: skip
                    calls += 1
    return calls



