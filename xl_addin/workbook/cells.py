"""Cells inside sheet parts: values as Excel stores them, styles, and a streaming column edit.

- `cell_value` turns a Python value into the pieces of a `<c>` element: text is
  always an inline string (never a formula, never a shared-string index to keep
  in step), numbers and dates are numbers, blanks have no value;
- `StyleBook` adds the number formats and fonts we need to styles.xml, reusing
  what is there;
- `stream_columns` rewrites a sheet row by row (lxml iterparse, each row
  serialised and then freed), writing values into given rows of given columns
  and leaving every other cell, row attribute and sheet element as it was. A
  formula keeps its formula; our value becomes its stored result. A column with a
  formula to give (a table's calculated column) gives it to a cell holding none.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO, NamedTuple

import numpy as np
import pandas as pd
from lxml import etree

from xl_addin.errors import WorkbookError
from xl_addin.workbook.package import MAIN, Package, q
from xl_addin.workbook.tables import column_index, column_letter

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in XML 1.0
_EXCEL_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9,
                    "0.00%": 10}  # fmt: skip
_EPOCH = {False: dt.date(1899, 12, 30), True: dt.date(1904, 1, 1)}
_C, _V, _F, _IS, _T, _ROW = q("c"), q("v"), q("f"), q("is"), q("t"), q("row")
_WORKSHEET, _SHEET_DATA, _DIMENSION = q("worksheet"), q("sheetData"), q("dimension")


def split_ref(ref: str) -> tuple[int, int]:
    """"AB12" -> (column 28, row 12)."""
    digits = next(i for i, ch in enumerate(ref) if ch.isdigit())
    return column_index(ref[:digits].upper()), int(ref[digits:])


def range_bounds(ref: str) -> tuple[int, int, int, int]:
    """"A1:D9" -> (min column, min row, max column, max row)."""
    first, _, last = ref.partition(":")
    c1, r1 = split_ref(first)
    c2, r2 = split_ref(last or first)
    return c1, r1, c2, r2


def plain(value: object) -> object:
    """pandas and numpy values as Python ones; missing values and non-finite numbers None."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).to_pydatetime()
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def clean_text(text: str) -> str:
    return _ILLEGAL.sub("", text)


def excel_text(text: str) -> str:
    """Text as a cell stores it: no characters XML cannot hold, and a _xHHHH_ that is
    text has its underscore escaped (_x005F_), as Excel does, or Excel and calamine read
    it as the character it names (_x0041_ as A)."""
    text = clean_text(text)
    return _EXCEL_ESCAPE.sub(r"_x005F_\1", text) if "_x" in text else text


class CellValue(NamedTuple):
    """What goes into a cell: its t attribute (None: a number), the <v> text or an inline
    string, and whether it is a date (which wants a date number format). A named tuple,
    not a frozen dataclass: a refresh makes one per written cell, and a tuple is made
    several times faster."""

    kind: str | None  # None (number), "b", "inlineStr", or "blank"
    text: str = ""
    is_date: bool = False


def cell_value(value: object, date1904: bool = False) -> CellValue:
    kind = type(value)
    if kind is int or (kind is Decimal and value.is_finite()):  # the common cases first
        return CellValue(None, _number_text(value))
    value = plain(value)
    if value is None:
        return CellValue("blank")
    if isinstance(value, bool):
        return CellValue("b", "1" if value else "0")
    if isinstance(value, int | float | Decimal):
        return CellValue(None, _number_text(value))
    if isinstance(value, dt.datetime):
        days = (value - dt.datetime.combine(_EPOCH[date1904], dt.time())).total_seconds() / 86400
        return CellValue(None, _number_text(round(days, 10)), True)
    if isinstance(value, dt.date):
        return CellValue(None, str((value - _EPOCH[date1904]).days), True)
    if not isinstance(value, str):
        raise ValueError(f"a {type(value).__name__} cannot be stored in a cell")
    text = excel_text(value)
    return CellValue("inlineStr", text) if text else CellValue("blank")


def _number_text(value: int | float | Decimal) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return repr(value) if isinstance(value, float) else str(value)


def set_cell(cell: etree._Element, value: CellValue, style: int | None = None,
             formula_text: str | None = None) -> None:  # fmt: skip
    """Put a value into a <c> element: a formula keeps its formula (the value becomes its
    stored result); any other content is replaced. `style` sets the s attribute;
    `formula_text` is given to a cell holding no formula, the value its result."""
    formula = None
    if formula_text is not None and cell.find(_F) is None:
        for child in list(cell):
            cell.remove(child)
        etree.SubElement(cell, _F).text = formula_text
    if len(cell) == 1 and value.kind in (None, "b", "inlineStr"):  # the usual: one value there
        child = cell[0]
        if child.tag == _V and value.kind != "inlineStr":
            child.text = value.text
            if value.kind:
                cell.set("t", value.kind)
            else:
                cell.attrib.pop("t", None)
            if style is not None:
                cell.set("s", str(style))
            return
        if child.tag == _IS and value.kind == "inlineStr" and len(child) == 1 \
                and child[0].tag == _T and value.text == value.text.strip():  # fmt: skip
            child[0].text = value.text
            child[0].attrib.clear()
            cell.set("t", "inlineStr")
            if style is not None:
                cell.set("s", str(style))
            return
    if len(cell):  # a new cell has nothing to keep or clear
        formula = cell.find(_F)
        for child in list(cell):
            if child is not formula:
                cell.remove(child)
    if formula is not None:
        _set_result(cell, value)
    elif value.kind == "blank":
        cell.attrib.pop("t", None)
    elif value.kind == "inlineStr":
        cell.set("t", "inlineStr")
        text = etree.SubElement(etree.SubElement(cell, _IS), _T)
        text.text = value.text
        if value.text != value.text.strip():
            text.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    else:
        if value.kind:
            cell.set("t", value.kind)
        else:
            cell.attrib.pop("t", None)
        etree.SubElement(cell, _V).text = value.text
    if style is not None:
        cell.set("s", str(style))


def _set_result(cell: etree._Element, value: CellValue) -> None:
    # A date result (ExpectedPayDate) is stored as its serial number: the cell's date
    # format shows it, as Excel shows the same formula's result.
    if value.kind in ("inlineStr", "blank"):
        cell.set("t", "str")
    elif value.kind:
        cell.set("t", value.kind)
    else:
        cell.attrib.pop("t", None)
    etree.SubElement(cell, _V).text = value.text


class StyleBook:
    """The workbook's styles.xml, with the cell formats we add (each added once)."""

    def __init__(self, package: Package, part: str = "xl/styles.xml"):
        self.package, self.part = package, part
        self.root = package.xml(part)  # marked edited once something is added
        self.num_fmts = _child(self.root, "numFmts", first=True)
        self.fonts = _child(self.root, "fonts", before=("fills", "borders", "cellStyleXfs"))
        self.xfs = _child(self.root, "cellXfs", before=("cellStyles", "dxfs", "tableStyles"))
        if not len(self.xfs):
            etree.SubElement(self.xfs, q("xf"), numFmtId="0", fontId="0", fillId="0",
                             borderId="0", xfId="0")  # fmt: skip
        if not len(self.fonts):
            font = etree.SubElement(self.fonts, q("font"))
            etree.SubElement(font, q("sz"), val="11")
        self._formats = {f.get("formatCode"): int(f.get("numFmtId")) for f in self.num_fmts}
        self._cache: dict[tuple, int] = {}

    def format_id(self, code: str) -> int:
        if code in _BUILTIN_FORMATS:
            return _BUILTIN_FORMATS[code]
        if code not in self._formats:
            new = max([163, *self._formats.values()]) + 1
            self.package.edit(self.part)
            etree.SubElement(self.num_fmts, q("numFmt"), numFmtId=str(new), formatCode=code)
            self.num_fmts.set("count", str(len(self.num_fmts)))
            self._formats[code] = new
        return self._formats[code]

    def derive(self, base: int, number_format: str | None = None, bold: bool = False,
               size: float | None = None, wrap: bool = False) -> int:  # fmt: skip
        """The index of a cell format like `base` with this number format and font (and the
        text wrapped within the cell, top-aligned)."""
        key = (base, number_format, bold, size, wrap)
        if key in self._cache:
            return self._cache[key]
        source = self.xfs[base] if 0 <= base < len(self.xfs) else self.xfs[0]
        xf = etree.fromstring(etree.tostring(source))
        if number_format is not None:
            xf.set("numFmtId", str(self.format_id(number_format)))
            xf.set("applyNumberFormat", "1")
        if bold or size:
            xf.set("fontId", str(self._font(int(xf.get("fontId", "0")), bold, size)))
            xf.set("applyFont", "1")
        if wrap:
            for old in xf.findall(q("alignment")):
                xf.remove(old)
            xf.insert(0, etree.Element(q("alignment"), wrapText="1", vertical="top"))
            xf.set("applyAlignment", "1")
        for index, existing in enumerate(self.xfs):
            if _same(existing, xf):
                self._cache[key] = index
                return index
        self.package.edit(self.part)
        self.xfs.append(xf)
        self.xfs.set("count", str(len(self.xfs)))
        self._cache[key] = len(self.xfs) - 1
        return self._cache[key]

    def _font(self, base: int, bold: bool, size: float | None) -> int:
        source = self.fonts[base] if 0 <= base < len(self.fonts) else self.fonts[0]
        font = etree.fromstring(etree.tostring(source))
        if bold and font.find(q("b")) is None:
            font.insert(0, etree.Element(q("b")))
        if size:
            sz = font.find(q("sz"))
            if sz is None:
                sz = etree.SubElement(font, q("sz"))
            sz.set("val", f"{size:g}")
        for index, existing in enumerate(self.fonts):
            if _same(existing, font):
                return index
        self.package.edit(self.part)
        self.fonts.append(font)
        self.fonts.set("count", str(len(self.fonts)))
        return len(self.fonts) - 1


def _same(a: etree._Element, b: etree._Element) -> bool:
    return etree.tostring(a, method="c14n") == etree.tostring(b, method="c14n")


_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
          "tableStyles", "colors", "extLst")  # fmt: skip


def _child(root, name: str, first: bool = False, before: tuple[str, ...] = ()) -> etree._Element:
    """styles.xml's child `name`, created in its schema position when missing."""
    found = root.find(q(name))
    if found is not None:
        return found
    element = etree.Element(q(name), count="0")
    position = len(root)
    later = _ORDER[_ORDER.index(name) + 1 :]
    for i, child in enumerate(root):
        if etree.QName(child).localname in later:
            position = i
            break
    root.insert(position, element)
    return element


# --- streaming a sheet -----------------------------------------------------------------------


@dataclass(slots=True)
class ColumnWrite:
    """Values for one column: worksheet rows (rising) and their values, and the number
    format to give them. Lists, not a dict: a million-row ledger stays cheap."""

    column: int
    header: str
    rows: list[int]
    values: list[object]
    number_format: str | None = None
    new: bool = False  # added right of the table: its cells must be empty
    header_row: int = 0
    header_style_from: int | None = None  # copy the header style of this column
    formula: str | None = None  # the table's calculated formula: a cell without one gets it


class _Filler:
    """Puts the writes' values into the rows of one sheet, row by row in rising order."""

    def __init__(self, writes: list[ColumnWrite], styles: StyleBook, sheet: str,
                 date1904: bool):  # fmt: skip
        writes = sorted(writes, key=lambda w: w.column)  # a row's cells go left to right
        self.writes, self.styles, self.sheet, self.date1904 = writes, styles, sheet, date1904
        self.min_column = min((w.column for w in writes), default=1)
        self.header_rows = {w.header_row for w in writes if w.new}
        lists = {id(w.rows): w.rows for w in writes}  # one update's columns share their rows
        self.pending = sorted(self.header_rows.union(*lists.values()))
        self.cursor = [0] * len(writes)  # each write's next value: rows rise, as the sheet's do
        same = bool(writes) and all(w.rows == writes[0].rows for w in writes)
        self._rows = writes[0].rows if same else None
        self._k = 0  # the cursor of every write when they have the same rows
        self.max_column = max((w.column for w in writes), default=1)
        self.max_row = max(self.pending, default=1)
        self.letters = {w.column: column_letter(w.column) for w in writes}
        self._letters = {c: letter.encode() for c, letter in self.letters.items()}
        self._refs = {c: b' r="' + letter for c, letter in self._letters.items()}  # + row + '"'
        self._styled: dict[tuple[int, str | None, bool], int | None] = {}
        self._converted: dict[tuple[type, object], CellValue] = {}  # 1-30, Demand letter, 12
        self._text: dict[str, bytes] = {}
        self._formulas: dict[bytes, bytes | None] = {}
        # Each column's formula to give a cell holding none, as markup (<f>...</f>).
        self._given = {w.column: b"<f>" + _escaped(w.formula).encode() + b"</f>"
                       for w in writes if w.formula is not None}  # fmt: skip
        # A cell's markup after its reference, by what decides it: labels and day counts
        # repeat down a column, so most cells are one dictionary look (see `_tail`).
        self._tails: dict[tuple, bytes] = {}
        self._number_heads: dict[tuple[int, int | None], bytes] = {}  # '" s="8"><v>'
        self._existing: dict[tuple[bytes, bytes, bytes | None], tuple[int | None, bool]] = {}
        # A later refresh's row tails by shape: each target's style, or () (see _splice_tail).
        self._shapes: dict[bytes, tuple[int | None, ...]] | None = {}
        self._row_tails: dict[tuple, bytes] = {}  # by shape and values: see _splice_tail

    def targets(self, number: int) -> list[tuple[ColumnWrite, object]]:
        if self._rows is not None and number not in self.header_rows:
            k = self._k  # every write has the same rows (a refresh): one cursor
            if k < len(self._rows) and self._rows[k] == number:
                self._k = k + 1
                return [(write, write.values[k]) for write in self.writes]
            return []
        found = []
        for i, write in enumerate(self.writes):
            if write.new and number == write.header_row:
                found.append((write, _HEADER))
            k = self.cursor[i]
            if k < len(write.rows) and write.rows[k] == number:
                found.append((write, write.values[k]))
                self.cursor[i] = k + 1
        return found

    def value_of(self, raw: object) -> CellValue:
        if raw is None:
            return _BLANK
        kind = type(raw)
        if kind is float and raw != raw:  # NaN: no label (a settled item's bucket)
            return _BLANK
        if kind is str or (kind is int and -100_000 < raw < 100_000):  # labels, days: repeat
            key = (kind, raw)  # 1 and "1" differ, and so do 1 and True
            found = self._converted.get(key)
            if found is None:
                found = self._converted[key] = cell_value(raw, self.date1904)
            return found
        if kind is Decimal:  # amounts, nearly all different: no cache, the text directly
            text = str(raw)
            if text[-3:-2] == "." and "E" not in text:  # cents, as the engine gives them
                return CellValue(None, text[:-3] if text.endswith(".00") else text)
        return cell_value(raw, self.date1904)

    def style_for(self, base: int, write: ColumnWrite, value: CellValue) -> int | None:
        key = (base, write.number_format, value.is_date)
        if key not in self._styled:
            fmt = write.number_format or ("yyyy-mm-dd" if value.is_date else None)
            self._styled[key] = None if fmt is None else self.styles.derive(base, fmt)
        return self._styled[key]

    def busy(self, write: ColumnWrite, number: int) -> WorkbookError:
        letter = column_letter(write.column)
        return WorkbookError(
            f"{self.sheet}!{letter}{number}: column {letter} right of the table is not empty, "
            f"so {write.header} cannot be added there; add a column named {write.header} to "
            f"the table or clear column {letter}"
        )

    def fill(self, row: etree._Element, number: int, targets) -> None:
        """Write the targets into a parsed row (the general path)."""
        suffix = str(number)
        cells = _find_cells(row, {self.letters[w.column] + suffix for w, _ in targets})
        if cells is None or number in self.header_rows:
            cells = _cells_by_ref(row, number)
        header_styles = _styles_by_column(cells) if number in self.header_rows else {}
        for write, raw in targets:
            cell = cells.get(self.letters[write.column] + suffix)
            if write.new and cell is not None and _has_value(cell):
                raise self.busy(write, number)
            if cell is None:
                cell = _insert_cell(row, write.column, number)
                cells[cell.get("r")] = cell
            if raw is _HEADER:
                set_cell(cell, CellValue("inlineStr", write.header))
                if write.header_style_from in header_styles:
                    cell.set("s", header_styles[write.header_style_from])
                continue
            value = self.value_of(raw)
            set_cell(cell, value, self.style_for(int(cell.get("s", "0")), write, value),
                     write.formula)  # fmt: skip

    def splice(self, row: bytes, head_end: int, number: int, targets) -> bytes | None:
        """Write the targets into a row's bytes without parsing it (the fast path for the
        rows every writer produces); None where the row needs the general path: a formula
        in a target cell, a new cell that is not the rightmost, a header, a comment.
        `head_end` is where the row's start tag ends (its '>')."""
        if number in self.header_rows or b"<!" in row or not targets:
            return None
        self_closing = row[head_end - 1] == _SLASH
        body_end = head_end if self_closing else row.rfind(b"</row>")
        suffix = str(number).encode()
        last_column = -1  # the rightmost cell's column: looked for when a cell is missing
        first_ref = self._refs[targets[0][0].column] + suffix + b'"'
        first = row.find(first_ref, head_end, body_end)
        if first < 0:
            last_column = _last_cell_column(row, head_end, body_end)
        elif self._shapes is not None and row[first - 2 : first] == b"<c":
            spliced = self._splice_tail(row, first - 2, body_end, suffix, targets)
            if spliced is not None:
                return spliced
        if last_column is not None and 0 <= last_column < self.min_column and not self_closing:
            # Every target is right of the row's cells (a first refresh): append them.
            head = _grow_spans(row[: head_end + 1], targets[-1][0].column)
            cells = self._row_cells(None, targets, lambda: b"".join(
                self._new_cell(write, raw, b"\0") for write, raw in targets))
            cells = cells.replace(b"\0", suffix)
            return b"".join((head, row[head_end + 1 : body_end], cells, row[body_end:]))
        pieces: list[bytes] = []
        appended: list[tuple[int, bytes]] = []
        done = 0  # how far `row` is in `pieces`
        look_from = head_end  # the targets go left to right, and so do the row's cells
        for write, raw in targets:
            ref = self._refs[write.column] + suffix + b'"'
            found = row.find(ref, look_from, body_end)
            if found < 0:
                if last_column == -1:
                    last_column = _last_cell_column(row, head_end, body_end)
                if last_column is None or write.column <= last_column:
                    return None  # a cell to insert among others (or out of order): general
                appended.append((write.column, self._new_cell(write, raw, suffix)))
                continue
            after = found + len(ref)
            if row[found - 2 : found] == b"<c":  # the reference first, as every writer puts it
                start, tag_end = found - 2, row.find(b">", after)
                attributes = row[after:tag_end]
                if tag_end < 0 or attributes.count(b'"') % 2 or b"'" in attributes:
                    tag_end = _tag_end(row, start)  # a '>' inside a value: look properly
                    if tag_end < found:
                        return None
            else:
                start = row.rfind(b"<c", head_end, found)
                tag_end = _tag_end(row, start) if start >= done else -1
                if tag_end < found or row[start + 2] not in b" \t\r\n":
                    return None  # not a plain <c> tag, or cells out of column order
            if row[tag_end - 1] == _SLASH:
                end, content = tag_end + 1, b""
            else:
                close = row.find(b"</c>", tag_end)
                if close < 0:
                    return None
                end, content = close + 4, row[tag_end + 1 : close]
                if write.new and (b"<v>" in content or b"<is>" in content):
                    raise self.busy(write, number)
            formula = self._given.get(write.column)
            if b"<f" in content:
                formula = self.formula_of(content)
                if formula is None:
                    return None  # not the plain form: the general path
            # The tag without its reference: what decides the cell's style (and whether a
            # formula cell has attributes the general path keeps).
            key = (row[start:found], row[after:tag_end], formula)
            known = self._existing.get(key)
            if known is None:
                known = self._existing[key] = _existing_cell(key[0] + key[1], formula)
            base, fast = known
            if not fast:
                return None
            pieces += (row[done:start], b'<c r="', self._letters[write.column], suffix,
                       self._tail(write, raw, base, formula))  # fmt: skip
            done = end
            look_from = end
        if appended:
            appended.sort()
            cells = b"".join(cell for _, cell in appended)
            head = _grow_spans(row[: head_end + 1], appended[-1][0])
            if self_closing:  # no cell was found in it, so nothing was replaced
                return head[:-2].rstrip() + b">" + cells + b"</row>" + row[head_end + 1 :]
            pieces += (row[done:body_end], cells)
            done = body_end
            if head != row[: head_end + 1]:  # the first piece starts with the row's tag
                pieces[0] = head + pieces[0][head_end + 1 :]
        pieces.append(row[done:])
        return b"".join(pieces)

    def _splice_tail(self, row: bytes, start: int, body_end: int, suffix: bytes,
                     targets) -> bytes | None:  # fmt: skip
        """The row of a later refresh: its last cells, from `start`, are the targets as a
        refresh wrote them (values, no formulas). Their markup with this row's number and
        values taken out is the row's *shape*; a shape is read once (`_tail_plan`) for each
        target's style, and most rows of a big ledger share a few shapes, so a row costs a
        few byte replacements instead of a dozen steps per cell. None: not such a row (the
        cell by cell path decides)."""
        tail = row[start:body_end]
        if b"<f" in tail:
            return None  # formulas (the workbook new makes): kept cell by cell
        shape = _VALUE.sub(b"<v/>", tail)
        if b"<is>" in shape:
            shape = _INLINE.sub(b"<is/>", shape)
        for write, _ in targets:
            ref = b'r="' + self._letters[write.column]
            shape = shape.replace(ref + suffix + b'"', ref + b'"', 1)
        plan = self._shapes.get(shape)
        if plan is None:
            if len(self._shapes) >= _MAX_SHAPES:  # rows unlike each other: not worth it
                self._shapes = None
                return None
            plan = self._shapes[shape] = _tail_plan(shape, targets, self._letters)
        if not plan:
            return None
        cells = self._row_cells(shape, targets, lambda: b"".join(
            b'<c r="' + self._letters[write.column] + b"\0"
            + self._tail(write, raw, base, self._given.get(write.column))
            for (write, raw), base in zip(targets, plan, strict=True)))  # fmt: skip
        return row[:start] + cells.replace(b"\0", suffix) + row[body_end:]

    def _row_cells(self, shape: bytes | None, targets, make) -> bytes:
        """A row's new cells, `make()` with NUL (never in XML) for the row's number, kept
        by shape (None: cells appended to the row) and values: most rows of a ledger are
        settled items, whose cells are the same zero and blanks. Rows with an amount other
        than zero are made each time: amounts nearly never repeat."""
        values = tuple(raw for _, raw in targets)
        for v in values:  # (a loop, not any(): this runs for every row of a ledger)
            if type(v) is Decimal and (v.is_signed() or not v.is_zero()):
                return make()  # (-0.00 equals 0.00, so would find its cells: written "-0")
        key = (shape, values, tuple(map(type, values)))
        cells = self._row_tails.get(key)
        if cells is None:
            cells = make()
            if len(self._row_tails) < _MAX_ROW_TAILS:
                self._row_tails[key] = cells
        return cells

    def _new_cell(self, write: ColumnWrite, raw: object, suffix: bytes) -> bytes:
        formula = self._given.get(write.column)
        return b'<c r="' + self._letters[write.column] + suffix + self._tail(write, raw, None,
                                                                              formula)  # fmt: skip

    def _tail(self, write: ColumnWrite, raw: object, base: int | None,
              formula: bytes | None) -> bytes:  # fmt: skip
        """A cell's markup after its reference ('" s="3"><v>12</v></c>'), for `raw` written
        into a cell of style `base` (None: a new cell) holding `formula` (None: none)."""
        kind = type(raw)
        if kind is Decimal and formula is None:  # an amount, nearly never the same twice
            text = str(raw)
            if text[-3:-2] == "." and "E" not in text:  # cents, as the engine gives them
                head = self._number_heads.get((write.column, base))
                if head is None:
                    style = self.style_for(base or 0, write, _NUMBER)
                    style = base if style is None else style
                    head = self._number_heads[(write.column, base)] = (
                        b'"><v>' if style is None else b'" s="%d"><v>' % style)  # fmt: skip
                return head + (text[:-3] if text.endswith(".00") else text).encode() + _V_END
        if kind is float and raw != raw:  # NaN, which no dictionary finds again: a blank
            raw, kind = None, type(None)
        repeats = (raw is None or kind is str or kind is dt.date
                   or (kind is int and -100_000 < raw < 100_000))  # fmt: skip
        key = (write.column, kind, raw, base, formula) if repeats else None
        if key is not None:
            found = self._tails.get(key)
            if found is not None:
                return found
        value = self.value_of(raw)
        style = self.style_for(base or 0, write, value)
        if style is None and base is not None:
            style = base
        if formula is not None:  # a formula keeps its formula; our value is its result
            tail = formula_cell_xml(b"", style, value, formula)
        else:
            tail = cell_xml(b"", style, value, self._text)
        tail = tail[len(b'<c r="'):]
        if key is not None:
            self._tails[key] = tail
        return tail

    def formula_of(self, content: bytes) -> bytes | None:
        """`_formula_of`, remembered: a computed column's rows hold the same formula (or
        the same shared-formula follower), so each is checked once."""
        close = content.find(b"</f>")
        key = content[: close + 4] if close >= 0 else content[: content.find(b"/>") + 2]
        found = self._formulas.get(key, False)
        if found is False:
            found = self._formulas[key] = _formula_of(content)
        return found

    def _cell(self, ref: bytes, style: int | None, value: CellValue) -> bytes:
        return cell_xml(ref, style, value, self._text)


def cell_xml(ref: bytes, style: int | None, value: CellValue,
             texts: dict[str, bytes] | None = None) -> bytes:  # fmt: skip
    """A <c> element as bytes (what `set_cell` makes, without building the element);
    `texts` caches the inline-string markup of repeated labels."""
    s = b"" if style is None else b' s="%d"' % style
    kind = value.kind
    if kind is None:
        return b'<c r="%s"%s><v>%s</v></c>' % (ref, s, value.text.encode())
    if kind == "blank":
        return b'<c r="%s"%s/>' % (ref, s)
    if kind == "inlineStr":
        text = None if texts is None else texts.get(value.text)
        if text is None:
            escaped = _escaped(value.text)
            space = ' xml:space="preserve"' if value.text != value.text.strip() else ""
            text = f"<is><t{space}>{escaped}</t></is>".encode()
            if texts is not None:
                texts[value.text] = text
        return b'<c r="%s"%s t="inlineStr">%s</c>' % (ref, s, text)
    return b'<c r="%s"%s t="%s"><v>%s</v></c>' % (ref, s, kind.encode(), value.text.encode())


def _escaped(text: str) -> str:
    """Text as XML character data that reads back exactly: a carriage return is written as
    a reference (a parser turns a literal one into a line feed)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;") if "\r" in text else text



def formula_cell_xml(ref: bytes, style: int | None, value: CellValue, formula: bytes) -> bytes:
    """A formula cell with `value` as its stored result (what `set_cell` makes of one): text
    results are t="str", a date result its serial number (its style a date format)."""
    s = b"" if style is None else b' s="%d"' % style
    text = value.text.encode()
    if value.kind in ("inlineStr", "blank"):
        kind = b' t="str"'
        text = _escaped(value.text).encode()  # a carriage return too, as the general path
    else:
        kind = b' t="%s"' % value.kind.encode() if value.kind else b""
    return b'<c r="%s"%s%s>%s<v>%s</v></c>' % (ref, s, kind, formula, text)


_VALUE = re.compile(rb"<v>[^<]*</v>")  # a value: no markup inside
_INLINE = re.compile(rb"<is>.*?</is>", re.DOTALL)  # an inline string, rich text or not
_CELL_SHAPE = re.compile(  # a cell: reference first, attributes one space apart, no formula
    rb'<c r="([A-Z]{1,3})"((?: [A-Za-z:]+="[^"]*")*)(?:/>|>(?:<v/>|<is/>)?</c>)'
)
_MAX_SHAPES = 256
_MAX_ROW_TAILS = 20_000  # about 4 MB of markup at most


def _tail_plan(shape: bytes, targets, letters: Mapping[int, bytes]) -> tuple[int | None, ...]:
    """Each target's style in a row tail's shape (its values and row number taken out), or
    () where the shape is not exactly the targets, in order, as plain value cells: a cell
    of the user's after them, a cell missing, a new column (whose old cells are checked
    for values), markup of any other kind."""
    styles, position = [], 0
    for write, _ in targets:
        found = _CELL_SHAPE.match(shape, position)
        if write.new or found is None or found[1] != letters[write.column]:
            return ()
        base = tag_attribute(found[2], b"s")
        if base is not None and not base.isdigit():
            return ()
        styles.append(None if base is None else int(base))
        position = found.end()
    return tuple(styles) if position == len(shape) else ()


def _formula_of(content: bytes) -> bytes | None:
    """The <f> element of a cell's content as it stands (None: not the plain form)."""
    start = content.find(b"<f")
    if start < 0 or content[start + 2] not in b" >/" or content.find(b"<f", start + 2) >= 0:
        return None
    end = _tag_end(content, start)
    if end < 0:
        return None
    if content[end - 1 : end] == b"/":
        return content[start : end + 1]
    close = content.find(b"</f>", end)
    return None if close < 0 else content[start : close + 4]


def _has_other_attributes(tag: bytes) -> bool:
    """Whether a <c> tag has attributes besides r, s and t: the schema's others are cm,
    vm and ph, which the general path keeps."""
    return b" cm=" in tag or b" vm=" in tag or b" ph=" in tag


def _existing_cell(tag: bytes, formula: bytes | None) -> tuple[int | None, bool]:
    """Of a cell's start tag (its reference taken out) and formula: its style (None: none),
    and whether the fast path may write it (not a formula cell with attributes besides r,
    s and t: the general path keeps those)."""
    if not _PLAIN_TAG.fullmatch(tag):  # a tab or a space around '=': lxml reads it
        return None, False
    base = tag_attribute(tag, b"s")
    fast = formula is None or not _has_other_attributes(tag)
    return (None if base is None else int(base)), fast


_PLAIN_TAG = re.compile(rb'<c(?: [A-Za-z:]+="[^"]*")*/?')  # attributes one space apart


def _tag_end(data: bytes, start: int) -> int:
    """The position of the '>' that ends the tag starting at `start` (quotes skipped)."""
    end = data.find(b">", start)
    if end >= 0 and data.count(b'"', start, end) % 2 == 0 and data.find(b"'", start, end) < 0:
        return end  # the usual tag: double-quoted values, none holding a '>'
    position = start
    while True:
        end = data.find(b">", position)
        if end < 0:
            return -1
        quotes = [q for q in (data.find(b'"', position, end), data.find(b"'", position, end))
                  if q >= 0]  # fmt: skip
        if not quotes:
            return end
        opening = min(quotes)
        closing = data.find(data[opening : opening + 1], opening + 1)
        if closing < 0:
            return -1
        position = closing + 1


def tag_attribute(tag: bytes, name: bytes) -> str | None:
    """An attribute's value in a start tag's bytes, written name="value" (None: absent)."""
    found = tag.find(b" " + name + b'="')
    if found < 0:
        return None
    start = found + len(name) + 3
    return tag[start : tag.find(b'"', start)].decode()


def _last_cell_column(row: bytes, head_end: int, body_end: int) -> int | None:
    """The column of the row's rightmost cell (0: no cell; None: cannot tell)."""
    start = row.rfind(b"<c", head_end, body_end)
    while start >= 0 and row[start + 2] not in b" \t\r\n":
        start = row.rfind(b"<c", head_end, start)
    if start < 0:
        return 0
    if row.startswith(b'<c r="', start):  # the reference first, as every writer puts it
        letters = row[start + 6 : row.find(b'"', start + 6)].rstrip(b"0123456789")
        return _column_of(letters) if letters else None
    end = _tag_end(row, start)
    found = row.find(b' r="', start, end) if end > 0 else -1
    if found < 0:
        return None
    letters = row[found + 4 : row.find(b'"', found + 4)].rstrip(b"0123456789")
    return _column_of(letters) if letters else None


_COLUMNS: dict[bytes, int] = {}


def _column_of(letters: bytes) -> int:
    column = _COLUMNS.get(letters)
    if column is None:
        column = _COLUMNS[letters] = column_index(letters.decode())
    return column


def _grow_spans(head: bytes, column: int) -> bytes:
    found = head.find(b' spans="')
    if found < 0:
        return head
    start = found + 8
    end = head.find(b'"', start)
    grown = _grown_spans(head[start:end], column)
    return head if grown is None else head[:start] + grown + head[end:]


@functools.lru_cache(maxsize=256)
def _grown_spans(spans: bytes, column: int) -> bytes | None:
    """"1:5" grown to reach `column`; None when it already does (or is not low:high)."""
    low, _, high = spans.partition(b":")
    if high.isdigit() and column > int(high):
        return low + b":" + str(column).encode()
    return None


def stream_columns(source: BinaryIO, out: BinaryIO, writes: list[ColumnWrite],
                   styles: StyleBook, sheet: str, date1904: bool) -> None:  # fmt: skip
    """Copy a sheet part from `source` to `out`, writing the columns' values.

    Memory stays flat: each row is parsed, changed, written and freed; only the
    worksheet, sheetData and row elements raise parser events (a cell's children
    are parsed, not visited). A value for a column added right of a table meets an
    occupied cell: WorkbookError, naming it.
    """
    filler = _Filler(writes, styles, sheet, date1904)
    pending = filler.pending
    buffer = io.BufferedWriter(out, 1 << 20)  # the zip stream compresses in big pieces
    position = 0
    root = sheet_data = None
    declarations: list[bytes] = []

    def detached(number: int) -> bytes:
        return _detached_row(number, lambda row, n: filler.fill(row, n, filler.targets(n)),
                             declarations)  # fmt: skip

    buffer.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n')
    context = etree.iterparse(source, events=("start", "end"), tag=(_WORKSHEET, _SHEET_DATA, _ROW),
                              resolve_entities=False, huge_tree=True, no_network=True)  # fmt: skip
    for event, element in context:
        tag = element.tag
        if tag == _ROW:
            if event == "start" or element.getparent() is not sheet_data:
                continue
            number = int(element.get("r"))
            while position < len(pending) and pending[position] < number:
                buffer.write(detached(pending[position]))
                position += 1
            if position < len(pending) and pending[position] == number:
                filler.fill(element, number, filler.targets(number))
                position += 1
            buffer.write(_serialised(element, declarations))
            _free(element)
        elif tag == _SHEET_DATA and element.getparent() is root:
            if event == "start":
                sheet_data = element
                for before in root:  # everything before sheetData is parsed by now
                    if before is not element:
                        _write_top(buffer, before, declarations, filler.max_column,
                                   filler.max_row)  # fmt: skip
                buffer.write(_start_tag(element, declarations))
            else:
                while position < len(pending):
                    buffer.write(detached(pending[position]))
                    position += 1
                buffer.write(b"</" + _qname(element) + b">")
        elif tag == _WORKSHEET and root is None and event == "start":
            root = element
            declarations = _declarations(element)
            buffer.write(_start_tag(element))
        elif tag == _WORKSHEET and element is root and event == "end":
            if sheet_data is None:
                raise WorkbookError(f"{sheet}: the sheet has no sheetData")
            after = False
            for child in root:
                if child is sheet_data:
                    after = True
                elif after:
                    _write_top(buffer, child, declarations, filler.max_column, filler.max_row)
            buffer.write(b"</" + _qname(element) + b">")
    del context
    buffer.flush()
    buffer.detach()


_CHUNK = 1 << 20


def splice_columns(source: BinaryIO, out: BinaryIO, writes: list[ColumnWrite],
                   styles: StyleBook, sheet: str, date1904: bool) -> bool:  # fmt: skip
    """Like `stream_columns`, without parsing the rows it does not change: their bytes are
    copied, and the cells it writes are put into the rows' bytes. Each row is parsed with
    lxml only where it needs the general path. Returns False, having written nothing, for
    a sheet whose markup before the rows is not the plain form (a namespace prefix, a
    comment, an empty sheetData): the caller then streams it with `stream_columns`.
    """
    data = b""
    while b"<sheetData" not in data or data.find(b">", data.find(b"<sheetData")) < 0:
        chunk = source.read(_CHUNK)
        if not chunk:
            return False
        data += chunk
    start = data.find(b"<sheetData")
    open_end = _tag_end(data, start)
    prologue = data[:start]
    root = prologue.find(b"<worksheet")
    if (root < 0 or b"<!" in prologue or data[open_end - 1 : open_end] == b"/"
            or data[start + 10 : start + 11] not in (b">", b" ")):  # fmt: skip
        return False
    filler = _Filler(writes, styles, sheet, date1904)
    root_tag = prologue[root : _tag_end(prologue, root) + 1]
    buffer = io.BufferedWriter(out, 1 << 20)
    buffer.write(grown_dimension(prologue, filler.max_column, filler.max_row))
    buffer.write(data[start : open_end + 1])
    data = data[open_end + 1 :]
    pending, position = filler.pending, 0
    wrapper = (root_tag, b"</worksheet>")

    def general(row: bytes | None, number: int, targets) -> bytes:
        """Parse one row (or make it), write the targets, and serialise it."""
        parsed = etree.fromstring(wrapper[0] + (row or b"<row/>") + wrapper[1])
        element = parsed[0]
        if row is None:
            element.set("r", str(number))
        filler.fill(element, number, targets)
        return _serialised(element, _declarations(parsed))

    at = 0  # how far `data` has been written out
    while True:
        row_start = data.find(b"<row", at)
        closing = data.find(b"</sheetData>", at, None if row_start < 0 else row_start)
        if closing >= 0:
            while position < len(pending):
                buffer.write(general(None, pending[position], filler.targets(pending[position])))
                position += 1
            buffer.write(data[at:closing])
            data, at = data[closing:], 0
            break
        head_end = _tag_end(data, row_start) if row_start >= 0 else -1
        self_closing = head_end > 0 and data[head_end - 1 : head_end] == b"/"
        row_end = head_end + 1 if self_closing else data.find(b"</row>", max(head_end, 0))
        if row_start < 0 or head_end < 0 or row_end < 0:
            chunk = source.read(_CHUNK)
            if not chunk:
                raise WorkbookError(f"{sheet}: the sheet's rows end before their sheetData")
            data, at = data[at:] + chunk, 0  # keep only what is not written yet
            continue
        row_end = row_end if self_closing else row_end + 6
        buffer.write(data[at:row_start])  # whitespace between rows
        row = data[row_start:row_end]
        at = row_end
        found = data.find(b' r="', row_start, head_end)
        if found < 0:
            raise WorkbookError(f"{sheet}: a row without its number (r) cannot be written")
        number = int(data[found + 4 : data.find(b'"', found + 4)])
        while position < len(pending) and pending[position] < number:
            buffer.write(general(None, pending[position], filler.targets(pending[position])))
            position += 1
        if position < len(pending) and pending[position] == number:
            position += 1
            targets = filler.targets(number)
            spliced = filler.splice(row, head_end - row_start, number, targets)
            row = spliced if spliced is not None else general(row, number, targets)
        buffer.write(row)
    while chunk := source.read(_CHUNK):
        data += chunk
    buffer.write(data)
    buffer.flush()
    buffer.detach()
    return True


def grown_dimension(prologue: bytes, max_column: int, max_row: int) -> bytes:
    """A sheet part's first bytes with its dimension grown to reach the column and row."""
    start = prologue.find(b"<dimension")
    if start < 0:
        return prologue
    end = _tag_end(prologue, start)
    ref = tag_attribute(prologue[start:end], b"ref")
    if not ref:
        return prologue
    element = etree.Element(_DIMENSION, ref=ref)
    _grow_dimension(element, max_column, max_row)
    grown = element.get("ref")
    tag = prologue[start : end + 1].replace(f'ref="{ref}"'.encode(), f'ref="{grown}"'.encode(), 1)
    return prologue[:start] + tag + prologue[end + 1 :]


def _write_top(out, element, declarations, max_column: int, max_row: int) -> None:
    if element.tag == _DIMENSION:
        _grow_dimension(element, max_column, max_row)
    out.write(_serialised(element, declarations))


_HEADER = object()
_BLANK = CellValue("blank")
_NUMBER = CellValue(None, "0")
_V_END = b"</v></c>"
_SLASH = ord("/")


def _declarations(root: etree._Element) -> list[bytes]:
    out = []
    for prefix, uri in root.nsmap.items():
        name = b"xmlns" if prefix is None else b"xmlns:" + prefix.encode()
        out.append(b" " + name + b'="' + uri.encode() + b'"')
    return out


def _qname(element: etree._Element) -> bytes:
    qname = etree.QName(element)
    prefix = element.prefix
    return (qname.localname if prefix is None else f"{prefix}:{qname.localname}").encode()


def _start_tag(element: etree._Element, declarations: list[bytes] = ()) -> bytes:
    copy = etree.Element(element.tag, dict(element.attrib), nsmap=element.nsmap)
    text = etree.tostring(copy)
    head = text[: -2] + b">"  # "<x .../>" -> "<x ...>"
    return _strip(head, declarations)


def _serialised(element: etree._Element, declarations: list[bytes]) -> bytes:
    text = etree.tostring(element, encoding="UTF-8")  # Chinese as characters, not &#...;
    end = text.index(b">")
    return _strip(text[:end], declarations) + text[end:]


def _strip(head: bytes, declarations: list[bytes]) -> bytes:
    """Drop the namespace declarations the root element already makes."""
    for declaration in declarations:
        head = head.replace(declaration, b"", 1)
    return head


def _free(element: etree._Element) -> None:
    element.clear(keep_tail=True)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _find_cells(row: etree._Element, wanted: set[str]) -> dict[str, etree._Element] | None:
    """The cells of `wanted` references that the row has, looked for from its right end
    (computed columns sit at a table's right); None when a cell has no reference."""
    found: dict[str, etree._Element] = {}
    for cell in reversed(row):
        ref = cell.get("r")
        if ref is None:
            return None
        if ref in wanted:
            found[ref] = cell
            if len(found) == len(wanted):
                break
    return found


def _cells_by_ref(row: etree._Element, number: int) -> dict[str, etree._Element]:
    """The row's cells by reference ("K12"), each given its reference where the writer
    left it out (references are optional in the file format)."""
    cells = [c for c in row if c.tag == _C]
    if all(c.get("r") is not None for c in cells):  # as Excel and every library write it
        return {c.get("r"): c for c in cells}
    found, column = {}, 0
    for cell in cells:
        ref = cell.get("r")
        if ref is None:
            column += 1
            ref = f"{column_letter(column)}{number}"
            cell.set("r", ref)
        else:
            column = split_ref(ref)[0]
        found[ref] = cell
    return found


def _styles_by_column(cells: Mapping[str, etree._Element]) -> dict[int, str]:
    return {split_ref(ref)[0]: c.get("s") for ref, c in cells.items() if c.get("s") is not None}


def _insert_cell(row: etree._Element, column: int, number: int) -> etree._Element:
    """A new cell in its place among the row's cells, which the file format keeps in column
    order: looked for from the right, where computed columns are."""
    cell = etree.Element(_C, r=f"{column_letter(column)}{number}")
    before = None  # the cell the new one goes after
    for existing in reversed(row):
        if existing.tag == _C and split_ref(existing.get("r"))[0] < column:
            before = existing
            break
    if before is not None:
        before.addnext(cell)
    else:
        first = next((c for c in row if c.tag == _C), None)
        if first is None:
            row.insert(0, cell)
        else:
            first.addprevious(cell)
    spans = row.get("spans")
    if spans:
        low, _, high = spans.partition(":")
        if high.isdigit() and column > int(high):
            row.set("spans", f"{low}:{column}")
    return cell


def _detached_row(number: int, fill, declarations: list[bytes]) -> bytes:
    row = etree.Element(_ROW, r=str(number), nsmap={None: MAIN})
    fill(row, number)
    return _serialised(row, declarations)


def _has_value(cell: etree._Element) -> bool:
    return any(child.tag in (_V, _F, _IS) and (child.tag != _V or child.text) for child in cell)


def _grow_dimension(element: etree._Element, max_column: int, max_row: int) -> None:
    ref = element.get("ref")
    if not ref:
        return
    try:
        c1, r1, c2, r2 = range_bounds(ref)
    except (StopIteration, ValueError):
        return
    element.set("ref", f"{column_letter(c1)}{r1}:{column_letter(max(c2, max_column))}"
                       f"{max(r2, max_row)}")  # fmt: skip
