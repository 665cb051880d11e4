"""Write computed columns and owned sheets into a user's workbook, leaving the rest as it was.

openpyxl loads the whole workbook and saves it again, so everything it models survives:
cells, styles, formulas, tables, defined names, data validation, conditional formatting,
comments, charts, and in .xlsm the VBA project and form buttons. The stored results of
formulas, which openpyxl drops, are put back. What it cannot carry (shapes, text boxes,
pictures when Pillow is missing, form controls in .xlsx, threaded comments) is named by
`round_trip_losses` and raised as a `RoundTripWarning`; the backup keeps the original.

Two kinds of change are made:

- a `ColumnUpdate` writes values into given rows of named columns of a table,
  adding a column at the right of the table (and growing the table) when the
  header is missing;
- a `SheetTable` rewrites a sheet the add-in owns (Aging, Problems) from scratch.

The result is saved with `save_atomically`: the file on disk is always either the
old workbook or the complete new one, and the old one is kept as a backup.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import math
import posixpath
import re
import unicodedata
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping, Sequence
from copy import copy
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.packaging.relationship import get_dependents, get_rels_path
from openpyxl.styles import Font
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook import Workbook
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from xl_addin.errors import WorkbookError
from xl_addin.workbook import lite
from xl_addin.workbook.controls import carry_controls
from xl_addin.workbook.safe_save import save_atomically
from xl_addin.workbook.schema import fold

TITLE_FONT = Font(bold=True, size=14)
TOTAL_FONT = Font(bold=True)
TABLE_STYLE = "TableStyleMedium2"
HEADER_ROW = 3  # of an owned sheet: title in row 1, a blank row, then the table
MIN_WIDTH, MAX_WIDTH = 8, 50
WIDTH_SAMPLE_ROWS = 500  # enough rows to size a column without reading all of them


class RoundTripWarning(UserWarning):
    """Something in the workbook that openpyxl cannot carry over, so a write drops it."""


@dataclass(frozen=True, slots=True)
class ColumnUpdate:
    """Values for some columns of a table, one per listed worksheet row."""

    sheet: str  # "Customers" or "Ledger"
    header_row: int  # 1-based row of the table header
    first_column: int  # 1-based column index of the table's first column
    table: str | None  # Excel table displayName holding the data, or None for a plain sheet
    rows: Sequence[int]  # 1-based worksheet rows of the records, aligned with each values list
    values: Mapping[str, Sequence[object]]  # header -> values (None = blank)
    number_formats: Mapping[str, str] = field(default_factory=dict)  # header -> number format
    aliases: Mapping[str, Sequence[str]] = field(default_factory=dict)  # header -> other headers


@dataclass(frozen=True, slots=True)
class SheetTable:
    """A whole sheet the add-in owns and rewrites: title, one table, totals, maybe a chart."""

    sheet: str
    title: str  # written in A1
    header: Sequence[str]  # table header in row 3
    rows: Sequence[Sequence[object]]  # data rows from row 4
    totals: Sequence[Sequence[object]] = ()  # bold rows under the table, not part of it
    number_formats: Mapping[str, str] = field(default_factory=dict)  # header -> format
    chart: bool = False  # a stacked bar chart of chart_columns per row label (first column)
    chart_columns: Sequence[str] = ()


def write_refresh(
    path: Path, updates: Sequence[ColumnUpdate], sheets: Sequence[SheetTable]
) -> Path | None:
    """Write computed columns and owned sheets into the workbook at `path`; return the backup."""
    path = Path(path)
    book = load_for_writing(path)
    for loss in round_trip_losses(path):
        warnings.warn(f"{path.name}: {loss}", RoundTripWarning, stacklevel=2)
    results = formula_results(path, skip={sheet.sheet.casefold() for sheet in sheets})
    for update in updates:
        computed = write_columns(book, update)
        results.setdefault(update.sheet, {}).update(computed)
    for sheet in sheets:
        write_sheet_table(book, sheet)
    return save_atomically(path, lambda tmp: save_keeping_results(book, tmp, results, path))


def load_for_writing(path: Path) -> Workbook:
    """Open a workbook for a round trip: formulas, VBA, external links and rich text kept."""
    if not path.exists():
        raise WorkbookError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".xlsm"):
        raise WorkbookError(f"{path.name}: not an Excel workbook (.xlsx or .xlsm)")
    try:
        return openpyxl.load_workbook(
            path, keep_vba=suffix == ".xlsm", keep_links=True, rich_text=True
        )
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as error:
        raise WorkbookError(f"{path.name}: cannot be opened for writing ({error})") from error


# --- computed columns in a user's table ----------------------------------------------------


def write_columns(book: Workbook, update: ColumnUpdate) -> dict[bytes, tuple[bytes, bytes]]:
    """Write each column of `update` into its rows, adding missing columns to the table.

    A cell holding a formula (a template's =AGE_BUCKET(...)) keeps it: the value becomes
    the formula's stored result, returned as cell reference -> (type, result) for
    `save_keeping_results`, so the workbook shows our numbers even where no Python runs.
    """
    if update.sheet not in book.sheetnames:
        raise WorkbookError(f"the workbook has no {update.sheet} sheet")
    ws = book[update.sheet]
    for header, values in update.values.items():
        if len(values) != len(update.rows):
            raise ValueError(
                f"{update.sheet}: {len(values)} values for {header}, {len(update.rows)} rows"
            )
    table = _find_table(ws, update.table) if update.table else None
    end = ws.max_column + 1  # computed once: openpyxl scans every cell of the sheet for it
    results: dict[bytes, tuple[bytes, bytes]] = {}
    for header, values in update.values.items():
        column = _find_column(ws, update, table, header, end)
        if column is None:
            column = _add_column(ws, update, table, header, end)
            end = max(end, column + 1)
        number_format = update.number_formats.get(header)
        results.update(_write_column(ws, column, update.rows, values, number_format))
    return results


def _find_table(ws: Worksheet, name: str) -> Table:
    for table in ws.tables.values():
        if name in (table.name, table.displayName):
            return table
    for table in ws.tables.values():
        if fold(name) in (fold(table.name), fold(table.displayName)):
            return table
    raise WorkbookError(f"{ws.title}: there is no table named {name}")


def _find_column(
    ws: Worksheet, update: ColumnUpdate, table: Table | None, header: str, end: int
) -> int | None:
    """Return the column whose header matches `header` or an alias, inside the table first."""
    wanted = {fold(header), *(fold(alias) for alias in update.aliases.get(header, ()))}
    row = update.header_row
    if table is not None:
        min_col, _, max_col, _ = range_boundaries(table.ref)
        for column in range(min_col, max_col + 1):
            if fold(_text(ws.cell(row, column).value)) in wanted:
                return column
        start = max_col + 1
    else:
        start = update.first_column
    taken = _other_tables_columns(ws, table, row)
    for column in range(start, end):
        if column not in taken and fold(_text(ws.cell(row, column).value)) in wanted:
            return column
    return None


def _add_column(
    ws: Worksheet, update: ColumnUpdate, table: Table | None, header: str, end: int
) -> int:
    """Add `header` right after the table's last column; grow the Excel table to hold it."""
    row = update.header_row
    if table is not None:
        _, _, max_col, max_row = range_boundaries(table.ref)
        column = max_col + 1
    else:
        column = _last_header_column(ws, row, update.first_column, end) + 1
        max_row = row
    letter = get_column_letter(column)
    last_row = max([max_row, *update.rows])
    if column in _other_tables_columns(ws, table, row, last_row):
        raise WorkbookError(
            f"{ws.title}: cannot add column {header} in column {letter}, another table is "
            f"there; add a column named {header} to the table yourself"
        )
    busy = [r for r in (row, *update.rows) if ws.cell(r, column).value is not None]
    if busy:
        raise WorkbookError(
            f"{ws.title}!{letter}{busy[0]}: column {letter} right of the table is not empty, "
            f"so {header} cannot be added there; add a column named {header} to the table "
            f"or clear column {letter}"
        )
    cell = ws.cell(row, column)
    cell.value = header
    cell.data_type = "s"
    neighbour = ws.cell(row, column - 1) if column > 1 else None
    if neighbour is not None and neighbour.has_style:
        cell._style = copy(neighbour._style)  # the header looks like its neighbours
    if table is not None:
        _grow_table(table, column, header)
    return column


def _grow_table(table: Table, column: int, header: str) -> None:
    min_col, min_row, _, max_row = range_boundaries(table.ref)
    table.ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(column)}{max_row}"
    next_id = max((c.id for c in table.tableColumns), default=0) + 1
    table.tableColumns.append(TableColumn(id=next_id, name=header))
    if table.autoFilter is not None and table.autoFilter.ref:
        f_min_col, f_min_row, _, f_max_row = range_boundaries(table.autoFilter.ref)
        table.autoFilter.ref = (
            f"{get_column_letter(f_min_col)}{f_min_row}:{get_column_letter(column)}{f_max_row}"
        )


def _other_tables_columns(
    ws: Worksheet, table: Table | None, first_row: int, last_row: int | None = None
) -> set[int]:
    """Columns used by the sheet's other tables anywhere in rows first_row..last_row."""
    last_row = first_row if last_row is None else last_row
    taken: set[int] = set()
    for other in ws.tables.values():
        if other is table:
            continue
        min_col, min_row, max_col, max_row = range_boundaries(other.ref)
        if min_row <= last_row and first_row <= max_row:
            taken.update(range(min_col, max_col + 1))
    return taken


def _last_header_column(ws: Worksheet, row: int, first_column: int, end: int) -> int:
    last = first_column - 1
    for column in range(first_column, end):
        if ws.cell(row, column).value not in (None, ""):
            last = column
    return last


def _write_column(
    ws: Worksheet,
    column: int,
    rows: Sequence[int],
    values: Sequence[object],
    number_format: str | None,
) -> dict[bytes, tuple[bytes, bytes]]:
    styles: dict[object, object] = {}  # a cell's style -> the same style with number_format
    results: dict[bytes, tuple[bytes, bytes]] = {}
    for row, value in zip(rows, values):
        cell = ws.cell(row, column)
        if cell.data_type == "f":
            stored = _stored_result(value)
            if stored is not None:
                results[cell.coordinate.encode()] = stored
        else:
            _assign(cell, value)
        if number_format is not None:
            # Setting number_format looks the style up in the workbook's tables each time; the
            # cells of a column mostly share one style, so compute each new style once.
            key = tuple(cell._style) if cell._style else None
            style = styles.get(key)
            if style is None:
                cell.number_format = number_format
                styles[key] = copy(cell._style)
            else:
                cell._style = copy(style)
    return results


def _stored_result(value: object) -> tuple[bytes, bytes] | None:
    """Return (type, text) of a value as a formula's stored result (None: no result)."""
    value = _plain(value)
    if value is None:
        return (b"str", b"")
    if isinstance(value, bool):
        return (b"b", b"1" if value else b"0")
    if isinstance(value, int | float | Decimal):
        return (b"n", str(value).encode())
    if isinstance(value, dt.datetime | dt.date):
        return None  # dates are not computed columns; Excel recalculates it
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (b"str", escaped.encode())


def _assign(cell: Cell, value: object) -> None:
    """Store a value; text is always stored as text, never as a formula or error code."""
    value = _plain(value)
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = text or None  # an empty text is a blank cell, as Excel makes it
        if text:
            cell.data_type = "s"
    else:
        cell.value = value


def _plain(value: object) -> object:
    """Convert pandas and numpy values to what openpyxl stores; missing values to None."""
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
        return _plain(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def _text(value: object) -> str:
    return "" if value is None else str(value)


# --- sheets the add-in owns ------------------------------------------------------------------


def write_sheet_table(book: Workbook, spec: SheetTable) -> None:
    """Replace the sheet `spec.sheet` (or add it at the end) with the title, table and chart."""
    headers = [str(h) for h in spec.header]
    _check_headers(spec.sheet, headers)
    ws = _fresh_sheet(book, spec.sheet)
    title = ws.cell(1, 1)
    _assign(title, spec.title)
    title.font = TITLE_FONT

    for column, header in enumerate(headers, start=1):
        _assign(ws.cell(HEADER_ROW, column), header)
    width = len(headers)
    for i, values in enumerate(spec.rows, start=HEADER_ROW + 1):
        _check_width(spec.sheet, values, width)
        for column, value in enumerate(values, start=1):
            _assign(ws.cell(i, column), value)
    last_row = HEADER_ROW + max(len(spec.rows), 1)  # a table needs at least one data row
    ref = f"A{HEADER_ROW}:{get_column_letter(width)}{last_row}"
    table = Table(
        displayName=_table_name(book, spec.sheet),
        ref=ref,
        tableStyleInfo=TableStyleInfo(name=TABLE_STYLE, showRowStripes=True),
    )
    table._initialise_columns()
    for column, header in zip(table.tableColumns, headers):
        column.name = header
    ws.add_table(table)

    first_total = last_row + 2  # a blank row between: the totals are not part of the table
    for i, values in enumerate(spec.totals, start=first_total):
        _check_width(spec.sheet, values, width)
        for column, value in enumerate(values, start=1):
            cell = ws.cell(i, column)
            _assign(cell, value)
            cell.font = TOTAL_FONT
    data_rows = range(HEADER_ROW + 1, HEADER_ROW + 1 + len(spec.rows))
    total_rows = range(first_total, first_total + len(spec.totals))
    for header, number_format in spec.number_formats.items():
        if header in headers:
            column = headers.index(header) + 1
            for row in (*data_rows, *total_rows):
                ws.cell(row, column).number_format = number_format

    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    _set_widths(ws, headers, spec)
    if spec.chart and spec.rows:
        _add_chart(ws, spec, headers)


def _fresh_sheet(book: Workbook, name: str) -> Worksheet:
    """Return an empty sheet named `name` where the old one was (names match like Excel's)."""
    old = next((s for s in book.worksheets + book.chartsheets if s.title.lower() == name.lower()),
               None)  # fmt: skip
    if old is None:
        return book.create_sheet(name)
    index = book.index(old)
    book.remove(old)
    ws = book.create_sheet(name, index)
    if isinstance(old, Worksheet):  # keep what the user set on the tab and for printing
        ws.sheet_properties.tabColor = old.sheet_properties.tabColor
        ws.sheet_state = old.sheet_state
        ws.sheet_view.tabSelected = old.sheet_view.tabSelected
        ws.sheet_view.zoomScale = old.sheet_view.zoomScale
        ws.page_setup = copy(old.page_setup)
        ws.page_margins = copy(old.page_margins)
        ws.print_options = copy(old.print_options)
        ws.HeaderFooter = copy(old.HeaderFooter)
    return ws


def _check_headers(sheet: str, headers: Sequence[str]) -> None:
    seen: set[str] = set()
    for header in headers:
        key = header.strip().casefold()
        if not key:
            raise ValueError(f"{sheet}: a table header is empty")
        if key in seen:
            raise ValueError(f"{sheet}: the table header {header!r} appears twice")
        seen.add(key)


def _check_width(sheet: str, values: Sequence[object], width: int) -> None:
    if len(values) > width:
        raise ValueError(f"{sheet}: a row has {len(values)} values for {width} columns")


def _table_name(book: Workbook, sheet: str) -> str:
    """A valid table name like the sheet's, unique among the workbook's tables and names."""
    base = re.sub(r"[^\w.]", "_", sheet)
    looks_like_a_cell = re.fullmatch(r"[A-Z]{1,3}\d+|R\d*C?\d*|C\d*", base.upper())
    if not (base[:1].isalpha() or base[:1] == "_") or looks_like_a_cell:
        base = f"_{base}"
    used = {name.casefold() for name in book.defined_names}
    for ws in book.worksheets:
        used |= {t.casefold() for t in ws.tables}
        used |= {t.displayName.casefold() for t in ws.tables.values()}
    name, n = base, 1
    while name.casefold() in used:
        n += 1
        name = f"{base}_{n}"
    return name


def _set_widths(ws: Worksheet, headers: Sequence[str], spec: SheetTable) -> None:
    rows = [*spec.rows[:WIDTH_SAMPLE_ROWS], *spec.totals]
    for column, header in enumerate(headers, start=1):
        widest = _display_width(header) + 2  # room for the filter button
        for values in rows:
            if column <= len(values):
                widest = max(widest, _display_width(values[column - 1]))
        letter = get_column_letter(column)
        ws.column_dimensions[letter].width = min(max(widest + 1, MIN_WIDTH), MAX_WIDTH)


def _display_width(value: object) -> int:
    value = _plain(value)
    if value is None:
        return 0
    if isinstance(value, Decimal | float | int) and not isinstance(value, bool):
        return len(f"{value:,.2f}")
    if isinstance(value, dt.date):
        return 10
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(value))


def _add_chart(ws: Worksheet, spec: SheetTable, headers: Sequence[str]) -> None:
    """A stacked horizontal bar per row label (first column) of the chart columns."""
    columns = [headers.index(h) + 1 for h in spec.chart_columns if h in headers]
    if not columns:
        return
    last_row = HEADER_ROW + len(spec.rows)
    chart = BarChart()
    chart.type = "bar"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = spec.title
    for column in columns:
        data = Reference(ws, min_col=column, min_row=HEADER_ROW, max_row=last_row)
        chart.add_data(data, titles_from_data=True)
    labels = Reference(ws, min_col=1, min_row=HEADER_ROW + 1, max_row=last_row)
    for series in chart.series:  # row labels are text: a string reference, not a numeric one
        series.cat = AxDataSource(strRef=StrRef(f=str(labels)))
    chart.x_axis.scaling.orientation = "maxMin"  # first row at the top, as in the table
    chart.x_axis.delete = False  # openpyxl 3.1 hides both axes unless told otherwise
    chart.y_axis.delete = False
    chart.width = 20
    chart.height = min(max(7.5, 2.5 + 0.6 * len(spec.rows)), 60)
    ws.add_chart(chart, f"{get_column_letter(len(headers) + 2)}{HEADER_ROW}")


# --- what a round trip through openpyxl loses ------------------------------------------------

_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PICTURE = re.compile(rb"<(?:\w+:)?pic>")
_SHAPE = re.compile(rb"<(?:\w+:)?(?:sp|grpSp|cxnSp)[\s>]")
_VML_CONTROL = re.compile(rb'ObjectType="(?!Note")')


def round_trip_losses(path: Path) -> tuple[str, ...]:
    """Name what saving this workbook through openpyxl would drop, sheet by sheet.

    openpyxl warns about some losses itself (extensions such as slicers, sparklines and
    newer data validation); these are the ones it drops without a word.
    """
    losses: list[str] = []
    macro_book = Path(path).suffix.lower() == ".xlsm"
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        for sheet, part in _sheet_parts(archive, names):
            rels = get_rels_path(part)
            if rels not in names:
                continue
            dependents = [
                r for r in get_dependents(archive, rels)
                if r.TargetMode != "External" and r.target in names
            ]  # fmt: skip
            if _carried(archive, dependents):
                continue  # buttons and shapes alone: controls.carry_controls brings them over
            for rel in dependents:
                kind = rel.Type.rsplit("/", 1)[-1]
                if kind == "drawing":
                    xml = archive.read(rel.target)
                    pictures = len(_PICTURE.findall(xml))
                    if pictures and importlib.util.find_spec("PIL") is None:
                        losses.append(f"{sheet}: {pictures} picture(s) (Pillow is not installed)")
                    if shapes := len(_SHAPE.findall(xml)):
                        losses.append(f"{sheet}: {shapes} shape(s) or text box(es)")
                elif kind == "vmlDrawing" and not macro_book:
                    if _VML_CONTROL.search(archive.read(rel.target)):
                        losses.append(f"{sheet}: form controls (buttons, check boxes)")
                elif kind == "ctrlProp":
                    losses.append(f"{sheet}: form control settings (check boxes, lists)")
                elif kind == "control":
                    losses.append(f"{sheet}: ActiveX controls")
                elif kind == "threadedComment":
                    losses.append(f"{sheet}: threaded comments (replies become plain notes)")
    return tuple(dict.fromkeys(losses))


def _carried(archive: zipfile.ZipFile, dependents) -> bool:
    """Whether a sheet's drawing holds only shapes and form controls (no chart, no picture)."""
    kinds = {r.Type.rsplit("/", 1)[-1] for r in dependents}
    if not kinds & {"drawing", "vmlDrawing", "ctrlProp"} or kinds & {"control", "threadedComment"}:
        return False
    for rel in dependents:
        if rel.Type.endswith("/drawing"):
            xml = archive.read(rel.target)
            if b"graphicFrame" in xml or _PICTURE.search(xml):
                return False
        if rel.Type.endswith("/vmlDrawing") and b'ObjectType="Note"' in archive.read(rel.target):
            return False  # comments: openpyxl writes its own VML for them
    return True


def _sheet_parts(archive: zipfile.ZipFile, names: set[str]) -> list[tuple[str, str]]:
    """Return (sheet name, part name) of each worksheet in the package."""
    root = get_dependents(archive, "_rels/.rels")
    workbook = next((r.target for r in root if r.Type.endswith("/officeDocument")), None)
    if workbook is None or get_rels_path(workbook) not in names:
        return []
    targets = {r.Id: r.target for r in get_dependents(archive, get_rels_path(workbook))}
    parts = []
    for sheet in ET.fromstring(archive.read(workbook)).iter(f"{{{_MAIN}}}sheet"):
        target = targets.get(sheet.get(f"{{{_REL}}}id", ""))
        if target is not None:
            parts.append((sheet.get("name", ""), posixpath.normpath(target)))
    return parts


# --- formula results -------------------------------------------------------------------------
# openpyxl saves formulas without their last results, and the product reads workbooks with
# calamine, which sees only those results: a formula column (DueDate = DocDate + 30) would
# read as blank until Excel next opened and saved the file. So the results Excel stored are
# put back into the saved file. Excel recalculates everything on opening (openpyxl sets
# fullCalcOnLoad), so a result that our new values made stale lasts only until then.

_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]+[0-9]+)"')
_TYPE = re.compile(rb'\bt="(\w+)"')
_RESULT = re.compile(rb"<v>(.*?)</v>", re.S)
_NO_RESULT = re.compile(
    rb'<c r="([A-Z]+[0-9]+)"([^>]*)>(<f\b[^>]*?(?:/>|>.*?</f>))<v\s*(?:/>|></v>)', re.S
)

FormulaResults = dict[str, dict[bytes, tuple[bytes, bytes]]]


def formula_results(path: Path, skip: set[str] = frozenset()) -> FormulaResults:
    """Return sheet -> cell reference -> (type, result) for each formula with a stored result."""
    found: FormulaResults = {}
    with zipfile.ZipFile(path) as archive:
        for sheet, part in _sheet_parts(archive, set(archive.namelist())):
            if sheet.casefold() in skip:
                continue
            xml = archive.read(part)
            if b"<f" not in xml:
                continue
            cells: dict[bytes, tuple[bytes, bytes]] = {}
            for match in _CELL.finditer(xml):
                body = match.group(2)
                if not body or not body.startswith((b"<f>", b"<f ", b"<f/>")):
                    continue
                result = _RESULT.search(body)
                ref = _REF.search(match.group(1))
                if result is None or ref is None:
                    continue
                kind = _TYPE.search(match.group(1))
                kind = kind.group(1) if kind else b"n"
                if result.group(1) or kind == b"str":  # an empty number is no result at all
                    cells[ref.group(1)] = (kind, result.group(1))
            if cells:
                found[sheet] = cells
    return found


def save_keeping_results(
    book: Workbook, target: Path, results: FormulaResults, original: Path | None = None
) -> None:
    """Save `book` to `target`, giving formulas their results and sheets their buttons back.

    `original` is the file `book` was loaded from: its buttons and shapes, which
    openpyxl drops, are carried over (controls.carry_controls).
    """
    if not results and original is None:
        book.save(target)
        return
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as saved:
        infos = saved.infolist()
        parts = {info.filename: saved.read(info) for info in infos}
        sheet_parts = _sheet_parts(saved, set(saved.namelist()))
    for sheet, part in sheet_parts:
        if sheet in results and part in parts:
            parts[part] = _put_results(parts[part], results[sheet])
    if original is not None:
        with zipfile.ZipFile(original) as before:
            carry_controls(
                before, parts, (_sheet_parts(before, set(before.namelist())), sheet_parts)
            )
            kept = {
                n: before.read(n) for n in before.namelist() if n.startswith("xl/webextensions/")
            }
        if kept and not any(n.startswith("xl/webextensions/") for n in parts):
            lite.embed(kept, parts)  # openpyxl drops the add-in parts (the xlwings Lite code)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        known = set()
        for info in infos:
            known.add(info.filename)
            out.writestr(info, parts[info.filename])
        for name, data in parts.items():
            if name not in known:
                out.writestr(name, data)


def _put_results(xml: bytes, cells: dict[bytes, tuple[bytes, bytes]]) -> bytes:
    def put(match: re.Match[bytes]) -> bytes:
        ref, attributes, formula = match.groups()
        stored = cells.get(ref)
        if stored is None:
            return match.group(0)
        kind, result = stored
        if kind != b"n":
            attributes += b' t="' + kind + b'"'
        return b'<c r="' + ref + b'"' + attributes + b">" + formula + b"<v>" + result + b"</v>"

    return _NO_RESULT.sub(put, xml)
