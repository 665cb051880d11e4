"""Write computed columns and owned sheets into a user's workbook, leaving the rest as it was.

Only the parts that change are written (see workbook.package): the sheets holding
the tables whose columns we fill, streamed row by row; the sheets the add-in owns
(Aging, Contacts, History, Problems), written afresh with their table and chart;
styles.xml when a number format or bold font is needed; and, for a new sheet, the
workbook part, its relationships and the content types. Every other part (the
user's sheets, formulas and their results, VBA project, buttons, the xlwings Lite
add-in, pictures, charts, shapes, data validation, conditional formats) is copied
byte for byte: nothing is lost in a round trip, and a large workbook is written in
seconds with flat memory.

Two kinds of change are made:

- a `ColumnUpdate` writes values into given rows of named columns of a table,
  adding a column at the right of the table (and growing the table) when the
  header is missing; a formula keeps its formula and our value becomes its
  stored result; a computed column's cell holding no formula (a row an import
  added, a cell pasted as a value) gets the table's calculated formula, where its
  text is the same in every row, as Excel fills a new row of the table;
- a `SheetTable` rewrites a sheet the add-in owns from scratch.

The result is saved with `save_atomically`: the file on disk is always either the
old workbook or the complete new one, and the old one is kept as a backup.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from lxml import etree

from xl_addin.errors import WorkbookError
from xl_addin.workbook.cells import (
    CellValue,
    ColumnWrite,
    StyleBook,
    cell_value,
    cell_xml,
    column_letter,
    grown_dimension,
    plain,
    range_bounds,
    splice_columns,
    stream_columns,
    tag_attribute,
)
from xl_addin.workbook.convert import no_cycle_collection
from xl_addin.workbook.package import (
    CHART_TYPE,
    DRAWING_TYPE,
    MAIN,
    REL,
    TABLE_TYPE,
    WORKSHEET_TYPE,
    Package,
    q,
    rels_part,
    serialise,
)
from xl_addin.workbook.safe_save import save_atomically
from xl_addin.workbook.schema import POLICY_TABLES, fold
from xl_addin.workbook.updates import HEADER_ROW, LANDSCAPE_FROM, ColumnUpdate, SheetTable

TABLE_STYLE = "TableStyleMedium2"
MIN_WIDTH, MAX_WIDTH = 8, 50
HEADER_WRAP = 14  # characters: a longer header wraps within its column
WIDTH_SAMPLE_ROWS = 500  # enough rows to size a column without reading all of them
_DRAWING = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_CHART = "http://schemas.openxmlformats.org/drawingml/2006/chart"
_CM_PER_WIDTH = 0.19  # a column one character wide (Calibri 11), in cm
_CM_PER_ROW = 0.53  # a row of the default height (15 points)
_CHART_GAP_CM = 0.5
CHARTS_PER_ROW = 2
_EMU_PER_CM = 360000


def write_refresh(
    path: Path, updates: Sequence[ColumnUpdate], sheets: Sequence[SheetTable]
) -> Path | None:
    """Write computed columns and owned sheets into the workbook at `path`; return the backup."""
    path = Path(path)
    if not path.exists():
        raise WorkbookError(f"{path}: no such file")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise WorkbookError(f"{path.name or path}: not an Excel workbook (.xlsx or .xlsm)")
    for update in updates:
        for header, values in update.values.items():
            if len(values) != len(update.rows):
                raise ValueError(
                    f"{update.sheet}: {len(values)} values for {header}, {len(update.rows)} rows"
                )

    def write(tmp: Path) -> None:
        with Package(path) as package, no_cycle_collection():
            styles = StyleBook(package)
            for sheet, group in _by_sheet(updates).items():
                _plan_columns(package, styles, sheet, group)
            for spec in sheets:
                write_owned_sheet(package, styles, spec)
            package.save(tmp)

    return save_atomically(path, write)


def _by_sheet(updates: Sequence[ColumnUpdate]) -> dict[str, list[ColumnUpdate]]:
    grouped: dict[str, list[ColumnUpdate]] = {}
    for update in updates:
        grouped.setdefault(update.sheet.casefold(), []).append(update)
    return grouped


# --- computed columns in a user's table ------------------------------------------------------


def _plan_columns(package: Package, styles: StyleBook, sheet: str, updates) -> None:
    """Find (or add) each column of the updates, then stream the sheet part with them."""
    entry = package.sheet(updates[0].sheet)
    if entry is None:
        raise WorkbookError(f"the workbook has no {updates[0].sheet} sheet")
    writes: dict[int, ColumnWrite] = {}
    inputs: set[int] = set()  # columns an update of input columns writes: never formulas
    for update in updates:
        table = _find_table(package, entry, update.table) if update.table else None
        headers = (_table_headers(table[1]) if table is not None
                   else _plain_headers(package, entry.part, update))  # fmt: skip
        formulas = (_calculated_formulas(table[1]) if table is not None and update.computed
                    else {})  # fmt: skip
        rows = [int(r) for r in update.rows]  # once for all of the update's columns
        rising = all(a < b for a, b in itertools.pairwise(rows))
        if table is not None and rows:
            _reach_row(package, entry, table, max(rows))
        for header, values in update.values.items():
            column = _find_column(headers, update, header)
            if column is None:
                column = _add_column(package, entry, update, table, headers, header)
                headers[column] = header
                writes[column] = ColumnWrite(column, header, [], [], new=True,
                                             header_row=update.header_row,
                                             header_style_from=column - 1)  # fmt: skip
            write = writes.setdefault(column, ColumnWrite(column, header, [], []))
            _merge(write, rows, values, rising)
            write.number_format = update.number_formats.get(header, write.number_format)
            if update.computed:
                write.formula = formulas.get(column, write.formula)
            else:
                inputs.add(column)
    for column in inputs:
        writes[column].formula = None
    part, date1904 = entry.part, package.date1904()
    columns = list(writes.values())

    def write(out) -> None:
        try:
            with package.open(part) as source:
                if splice_columns(source, out, columns, styles, entry.name, date1904):
                    return
            with package.open(part) as source:  # markup the fast path leaves to lxml
                stream_columns(source, out, columns, styles, entry.name, date1904)
        except etree.XMLSyntaxError as error:  # calamine reads past what lxml refuses
            raise WorkbookError(
                f"{package.path.name}: the sheet {entry.name} ({part}) is not well-formed "
                f"XML ({error.msg.strip()}): nothing was written"
            ) from None

    package.put(part, write)


def _merge(write: ColumnWrite, rows: list[int], values: Sequence[object], rising: bool) -> None:
    """Add values for rows to a column's write, keeping its rows rising (a later value for
    the same row wins). `rising`: the rows rise already. The columns of one update share
    its list of rows (never changed in place)."""
    if not write.rows and rising:
        write.rows, write.values = rows, list(values)
        return
    merged = dict(zip(write.rows, write.values))
    merged.update(zip(rows, values))
    write.rows = sorted(merged)
    write.values = [merged[r] for r in write.rows]


def _find_table(package: Package, entry, name: str) -> tuple[str, etree._Element]:
    found = [(part, xml) for sheet, part, xml in package.tables() if sheet.part == entry.part]
    for wanted in (lambda t: name in (t.get("name"), t.get("displayName")),
                   lambda t: fold(name) in (fold(t.get("name")), fold(t.get("displayName")))):
        for part, xml in found:
            if wanted(xml):
                return part, xml
    raise WorkbookError(f"{entry.name}: there is no table named {name}")


def _table_headers(table: etree._Element) -> dict[int, str]:
    first_column = range_bounds(table.get("ref"))[0]
    columns = table.find(q("tableColumns"))
    return {first_column + i: c.get("name", "") for i, c in enumerate(columns)}


def _calculated_formulas(table: etree._Element) -> dict[int, str]:
    """The table's calculated column formulas (column -> formula) that read the same in
    every row, so that a row's cell can be given the text as it stands, as Excel fills a
    new row: no array formula, and no A1 reference that is relative (Excel adjusts those
    row by row; structured references and names it does not)."""
    first_column = range_bounds(table.get("ref"))[0]
    columns = table.find(q("tableColumns"))
    found = {}
    for i, column in enumerate(columns):
        formula = column.find(q("calculatedColumnFormula"))
        if formula is None or not formula.text or formula.get("array") in ("1", "true"):
            continue
        if _same_in_every_row(formula.text):
            found[first_column + i] = formula.text
    return found


_STRING = re.compile(r'"(?:[^"]|"")*"')
_BRACKETED = re.compile(r"\[[^\[\]]*\]")  # a structured reference's part, innermost first
# A1 references (a cell, whole columns, whole rows), the $ signs captured: one is relative
# unless every part is absolute. A name or function like LOG10( is not one: a letter,
# digit, '_' or '.' before it, or '(' after it.
_A1 = re.compile(r"(?<![\w.$])(?:(\$?)[A-Za-z]{1,3}(\$?)\d+(?::(\$?)[A-Za-z]{1,3}(\$?)\d+)?"
                 r"|(\$?)[A-Za-z]{1,3}:(\$?)[A-Za-z]{1,3}|(\$?)\d+:(\$?)\d+)(?![\w.(])")


def _same_in_every_row(formula: str) -> bool:
    """Whether a formula's text holds no relative A1 reference (strings and structured
    references left out), and nothing that cannot be told."""
    text = _STRING.sub("", formula)
    while (shorter := _BRACKETED.sub("", text)) != text:
        text = shorter
    if "[" in text or "]" in text or '"' in text:
        return False
    return all(all(sign == "$" for sign in found.groups() if sign is not None)
               for found in _A1.finditer(text))


def _plain_headers(package: Package, part: str, update: ColumnUpdate) -> dict[int, str]:
    """The header row of a sheet without a table: column -> text."""
    strings = _SharedStrings(package)
    found: dict[int, str] = {}
    context = etree.iterparse(package.open(part), events=("end",), tag=q("row"),
                              resolve_entities=False, huge_tree=True)  # fmt: skip
    for _, row in context:
        number = int(row.get("r", "0"))
        if number == update.header_row:
            for cell in row.iter(q("c")):
                text = _cell_text(cell, strings)
                if text and cell.get("r"):
                    column = range_bounds(cell.get("r"))[0]
                    if column >= update.first_column:
                        found[column] = text
            break
        row.clear()
        if number > update.header_row:
            break
    return found


def _cell_text(cell: etree._Element, strings: _SharedStrings) -> str:
    kind = cell.get("t")
    if kind == "inlineStr":
        return "".join(cell.find(q("is")).itertext())
    value = cell.findtext(q("v")) or ""
    return strings[int(value)] if kind == "s" and value.isdigit() else value


class _SharedStrings:
    def __init__(self, package: Package):
        self.package, self._strings = package, None

    def __getitem__(self, index: int) -> str:
        if self._strings is None:
            self._strings = []
            if self.package.exists("xl/sharedStrings.xml"):
                root = self.package.xml("xl/sharedStrings.xml")
                self._strings = ["".join(si.itertext()) for si in root.iter(q("si"))]
        return self._strings[index] if index < len(self._strings) else ""


def _find_column(headers: Mapping[int, str], update: ColumnUpdate, header: str) -> int | None:
    wanted = {fold(header), *(fold(alias) for alias in update.aliases.get(header, ()))}
    return next((column for column, text in headers.items() if fold(text) in wanted), None)


def _add_column(package, entry, update: ColumnUpdate, table, headers, header: str) -> int:
    """Add `header` right after the table's last column; grow the Excel table to hold it."""
    column = max([update.first_column - 1, *headers]) + 1
    letter = column_letter(column)
    last_row = max([update.header_row, *(int(r) for r in update.rows)])
    for sheet, part, xml in package.tables():
        if sheet.part != entry.part or (table is not None and part == table[0]):
            continue
        c1, r1, c2, r2 = range_bounds(xml.get("ref"))
        if c1 <= column <= c2 and r1 <= last_row and update.header_row <= r2:
            raise WorkbookError(
                f"{entry.name}: cannot add column {header} in column {letter}, another table "
                f"is there; add a column named {header} to the table yourself"
            )
    if table is not None:
        _grow_table(package.edit(table[0]), column, header)
    return column


def _reach_row(package: Package, entry, table, last_row: int) -> None:
    """Grow the Excel table down to `last_row` (rows added under it, as an import adds)."""
    c1, r1, c2, r2 = range_bounds(table[1].get("ref"))
    if last_row <= r2:
        return
    for sheet, part, xml in package.tables():
        if sheet.part != entry.part or part == table[0]:
            continue
        o1, or1, o2, _or2 = range_bounds(xml.get("ref"))
        if o1 <= c2 and c1 <= o2 and r2 < or1 <= last_row:
            raise WorkbookError(
                f"{entry.name}: rows {r2 + 1} to {last_row} cannot be added to table "
                f"{table[1].get('displayName')}, table {xml.get('displayName')} is in the way"
            )
    edited = package.edit(table[0])
    edited.set("ref", f"{column_letter(c1)}{r1}:{column_letter(c2)}{last_row}")
    auto_filter = edited.find(q("autoFilter"))
    if auto_filter is not None and auto_filter.get("ref"):
        f1, fr1, f2, _ = range_bounds(auto_filter.get("ref"))
        auto_filter.set("ref", f"{column_letter(f1)}{fr1}:{column_letter(f2)}{last_row}")


def _grow_table(table: etree._Element, column: int, header: str) -> None:
    c1, r1, _, r2 = range_bounds(table.get("ref"))
    table.set("ref", f"{column_letter(c1)}{r1}:{column_letter(column)}{r2}")
    columns = table.find(q("tableColumns"))
    next_id = max((int(c.get("id", "0")) for c in columns), default=0) + 1
    etree.SubElement(columns, q("tableColumn"), id=str(next_id), name=header)
    columns.set("count", str(len(columns)))
    auto_filter = table.find(q("autoFilter"))
    if auto_filter is not None and auto_filter.get("ref"):
        f1, fr1, _, fr2 = range_bounds(auto_filter.get("ref"))
        auto_filter.set("ref", f"{column_letter(f1)}{fr1}:{column_letter(column)}{fr2}")


# --- sheets the add-in owns ------------------------------------------------------------------


def write_owned_sheet(package: Package, styles: StyleBook, spec: SheetTable) -> None:
    """Replace the sheet `spec.sheet` (or add it at the end) with the title, table and chart;
    or, for a spec with kept rows, append its rows to the table (`appendable_rows`)."""
    headers = [str(h) for h in spec.header]
    _check_headers(spec.sheet, headers)
    width = len(headers)
    for values in (*spec.rows, *spec.totals):
        _check_width(spec.sheet, values, width)
    if spec.kept_rows:
        _append_rows(package, styles, spec, headers)
        return
    entry = package.sheet(spec.sheet)
    kept: list[etree._Element] = []
    if entry is None:
        part = package.free_part_name("xl/worksheets/sheet{}.xml")
        _add_sheet(package, spec.sheet, part)
        name = spec.sheet
    else:
        part, name = entry.part, entry.name
        kept = _kept_settings(package, part)
        for rel in package.relationships(part):
            if not rel.external and package.exists(rel.target):
                package.remove_with_dependents(rel.target)
        package.remove(rels_part(part))
    table_part = package.free_part_name("xl/tables/table{}.xml")
    last_row = HEADER_ROW + max(len(spec.rows), 1)  # a table needs at least one data row
    ref = f"A{HEADER_ROW}:{column_letter(width)}{last_row}"
    package.put(table_part, serialise(_table_xml(package, name, headers, ref)))
    package.set_content_type(table_part, TABLE_TYPE)
    table_id = package.add_relationship(part, REL + "/table", table_part)
    drawing_id = None
    if spec.chart and spec.rows:
        drawing_id = _add_chart(package, part, name, spec, headers)
    package.put(part, _sheet_writer(spec, headers, styles, kept, table_id, drawing_id))
    package.set_content_type(part, WORKSHEET_TYPE)
    _set_print_titles(package, name)


# --- rows appended to an owned sheet's table ---------------------------------------------------
#
# A big branch's History grows by a day's documents and holds a year's (450,000 rows, a
# 220 MB sheet part): its part is copied as it was, the new rows written before the end of
# its sheetData, and the sheet's dimension and the table's range moved down. The part is
# read as bytes, not parsed: only the first 64 KiB (the dimension) and the last (the last
# row) are looked at; a sheet whose last row cannot be told that way is written whole.

_EDGE = 1 << 16  # bytes: the dimension is within the first, the last row within the last


@dataclass(frozen=True, slots=True)
class _Appendable:
    part: str  # the sheet's part
    table: tuple[str, etree._Element]  # its table: part and XML
    rows: int  # the table's data rows


def appendable_rows(path: Path, sheet: str, headers: Sequence[str]) -> int | None:
    """The data rows of the owned sheet `sheet` of the workbook at `path`, when rows can be
    appended to its table: the sheet has one table, its header `headers` in row 3 from
    column A, nothing written under it, the dimension and rows in the markup our writer
    writes, and at least the rows its columns are sized from (`WIDTH_SAMPLE_ROWS`: rows
    appended then leave the sheet as writing it whole would). None otherwise: the sheet
    is then written whole."""
    with Package(path) as package:
        found = _appendable(package, sheet, [str(h) for h in headers])
    return None if found is None else found.rows


def _appendable(package: Package, sheet: str, headers: list[str],
                scan: bool = True) -> _Appendable | None:  # fmt: skip
    """The sheet's table, if rows can be appended to it (`scan`: its part read through to
    be sure nothing is written under the table; else its writer checks that)."""
    entry = package.sheet(sheet)
    if entry is None:
        return None
    tables = [(part, xml) for owner, part, xml in package.tables() if owner.part == entry.part]
    if len(tables) != 1:
        return None
    part, table = tables[0]
    columns = table.find(q("tableColumns"))
    names = [c.get("name") for c in columns] if columns is not None else []
    try:
        c1, r1, c2, r2 = range_bounds(table.get("ref", ""))
    except (ValueError, WorkbookError):
        return None
    if ((c1, r1, c2) != (1, HEADER_ROW, len(headers)) or names != headers
            or r2 - HEADER_ROW < WIDTH_SAMPLE_ROWS
            or table.get("totalsRowCount", "0") != "0"):  # fmt: skip
        return None
    if scan:
        with package.open(entry.part) as source:
            head = source.read(_EDGE)
            tail = head
            while chunk := source.read(1 << 20):
                tail = tail[-_EDGE:] + chunk
        if head.find(b"<dimension ") < 0 or _last_row(tail) != r2:
            return None
    return _Appendable(entry.part, (part, table), r2 - HEADER_ROW)


def _last_row(data: bytes) -> int | None:
    """The number of the last row before the end of sheetData (None: cannot tell)."""
    end = data.rfind(b"</sheetData>")
    start = data.rfind(b"<row ", 0, end) if end >= 0 else -1
    if start < 0 or data.rfind(b"<row>", start, end) >= 0:
        return None
    number = tag_attribute(data[start : data.find(b">", start)], b"r")
    return int(number) if number and number.isdigit() else None


def _append_rows(package: Package, styles: StyleBook, spec: SheetTable, headers) -> None:
    """Append `spec.rows` to the owned sheet's table of `spec.kept_rows` rows."""
    found = _appendable(package, spec.sheet, headers, scan=False)
    changed = WorkbookError(
        f"{package.path.name}: the {spec.sheet} sheet is not as it was read ({spec.kept_rows} "
        "rows in its table and nothing under them): nothing was written; run again"
    )  # fmt: skip
    if found is None or found.rows != spec.kept_rows:
        raise changed
    entry = package.sheet(spec.sheet)
    last = HEADER_ROW + spec.data_rows
    _reach_row(package, entry, found.table, last)
    data_style = _data_style(spec, headers, styles)
    first = HEADER_ROW + spec.kept_rows + 1

    def write(out) -> None:
        with package.open(found.part) as source:
            pending = grown_dimension(source.read(_EDGE), len(headers), last)
            if spec.kept_sample is not None:
                pending = _sized_columns(pending, headers, spec)
            while chunk := source.read(1 << 20):
                out.write(pending[:-_EDGE])
                pending = pending[-_EDGE:] + chunk
        if _last_row(pending) != first - 1:
            raise changed
        close = pending.rfind(b"</sheetData>")
        out.write(pending[:close])
        for number, values in enumerate(spec.rows, start=first):
            out.write(_row_xml(number, _cells(number, values, data_style)))
        out.write(pending[close:])

    package.put(found.part, write)


def _add_sheet(package: Package, name: str, part: str) -> None:
    workbook = package.edit(package.workbook_part)
    sheets = workbook.find(q("sheets"))
    ids = [int(s.get("sheetId", "0")) for s in sheets]
    rel_id = package.add_relationship(package.workbook_part, REL + "/worksheet", part)
    element = etree.SubElement(sheets, q("sheet"), name=name, sheetId=str(max(ids, default=0) + 1))
    element.set(q("id", REL), rel_id)
    package.set_content_type(part, WORKSHEET_TYPE)


def _set_print_titles(package: Package, sheet: str) -> None:
    """Name the owned sheet's header row as its print titles (repeated on every page)."""
    workbook = package.xml(package.workbook_part)
    names = [s.get("name", "").casefold() for s in workbook.find(q("sheets"))]
    index = str(names.index(sheet.casefold()))
    text = "'" + sheet.replace("'", "''") + f"'!${HEADER_ROW}:${HEADER_ROW}"
    titles = [n for n in workbook.iter(q("definedName"))
              if n.get("name") == "_xlnm.Print_Titles" and n.get("localSheetId") == index]
    if [n.text for n in titles] == [text]:
        return  # already there: the workbook part stays as it was, byte for byte
    workbook = package.edit(package.workbook_part)
    defined = workbook.find(q("definedNames"))
    if defined is None:
        defined = etree.Element(q("definedNames"))
        before = [workbook.find(q(t)) for t in ("sheets", "functionGroups", "externalReferences")]
        [e for e in before if e is not None][-1].addnext(defined)  # the schema's order
    for old in titles:
        old.getparent().remove(old)
    title = etree.SubElement(defined, q("definedName"), name="_xlnm.Print_Titles",
                             localSheetId=index)  # fmt: skip
    title.text = text


_KEPT = ("sheetPr", "printOptions", "pageMargins", "pageSetup", "headerFooter")


def _kept_settings(package: Package, part: str) -> list[etree._Element]:
    """What the user set on an owned sheet's tab and for printing (not its content).

    Read as a stream, each row let go once parsed: the old sheet of a big ledger's Aging
    or History (60,000 rows) parsed whole took 650 MiB of lxml's memory for the rest of
    the run."""
    if not package.exists(part):
        return []
    kept = []
    with package.open(part) as stream:
        # Events only for the settings and for rows (to let each go): the cells inside
        # are parsed by libxml2 without a Python step each.
        for _, element in etree.iterparse(stream, events=("end",), tag=_KEPT_TAGS,
                                          resolve_entities=False, no_network=True,
                                          huge_tree=True):  # fmt: skip
            parent = element.getparent()
            if element.tag == _ROW:
                element.clear()
                while element.getprevious() is not None:
                    del parent[0]
            elif parent is not None and parent.getparent() is None:  # the sheet's own
                wanted = (element.find(q("sheetView")) if element.tag == q("sheetViews")
                          else element)  # fmt: skip
                if wanted is not None:
                    copied = deepcopy(wanted)
                    copied.attrib.pop(q("id", REL), None)  # printer settings go with the part
                    kept.append(copied)
    return kept


_ROW = q("row")
_KEPT_TAGS = (*(q(name) for name in (*_KEPT, "sheetViews")), _ROW)


def _sheet_writer(spec, headers, styles: StyleBook, kept, table_id: str, drawing_id):
    """A function writing the owned sheet's part row by row (an Aging sheet of 60,000
    customers never stands in memory as one tree)."""

    def write(out) -> None:
        skeleton = serialise(_sheet_skeleton(spec, headers, kept, table_id, drawing_id))
        before, _, after = skeleton.partition(b"<sheetData/>")
        out.write(before + b"<sheetData>")
        for row in _owned_rows(spec, headers, styles):
            out.write(row)
        out.write(b"</sheetData>" + after)

    return write


def _sheet_skeleton(spec, headers, kept, table_id: str, drawing_id) -> etree._Element:
    """The owned sheet without its rows (an empty sheetData where they go)."""
    root = etree.Element(q("worksheet"), nsmap={None: MAIN, "r": REL})
    settings = {etree.QName(e).localname: e for e in kept}
    properties = settings.get("sheetPr")
    if properties is None:
        properties = etree.Element(q("sheetPr"))
    fit = properties.find(q("pageSetUpPr"))
    if fit is None:
        fit = etree.SubElement(properties, q("pageSetUpPr"))  # last child of sheetPr
    fit.set("fitToPage", "1")
    root.append(properties)
    width = max(len(headers), *(len(r) for r in spec.below)) if spec.below else len(headers)
    etree.SubElement(root, q("dimension"), ref=f"A1:{column_letter(width)}{spec.last_row}")
    views = etree.SubElement(root, q("sheetViews"))
    view = etree.SubElement(views, q("sheetView"), workbookViewId="0")
    old_view = settings.get("sheetView")
    for attribute in ("tabSelected", "zoomScale", "showGridLines"):
        if old_view is not None and old_view.get(attribute) is not None:
            view.set(attribute, old_view.get(attribute))
    etree.SubElement(view, q("pane"), ySplit=str(HEADER_ROW), topLeftCell=f"A{HEADER_ROW + 1}",
                     activePane="bottomLeft", state="frozen")  # fmt: skip
    etree.SubElement(view, q("selection"), pane="bottomLeft", activeCell=f"A{HEADER_ROW + 1}",
                     sqref=f"A{HEADER_ROW + 1}")  # fmt: skip
    etree.SubElement(root, q("sheetFormatPr"), defaultRowHeight="15")
    cols = etree.SubElement(root, q("cols"))
    for attributes in _columns(headers, spec):
        etree.SubElement(cols, q("col"), attributes)
    etree.SubElement(root, q("sheetData"))
    if "pageMargins" not in settings:
        settings["pageMargins"] = etree.Element(q("pageMargins"), left="0.7", right="0.7",
                                                top="0.75", bottom="0.75", header="0.3",
                                                footer="0.3")  # fmt: skip
    page = settings.setdefault("pageSetup", etree.Element(q("pageSetup")))
    page.set("fitToWidth", "1")  # one page wide, as many pages down as the rows need
    page.set("fitToHeight", "0")
    # the table is ours and its width may change: orientation follows it (paper size,
    # margins, headers and footers stay as the user set them)
    page.set("orientation", "landscape" if width > LANDSCAPE_FROM else "portrait")
    for name in ("printOptions", "pageMargins", "pageSetup", "headerFooter"):
        if name in settings:
            root.append(settings[name])
    if drawing_id is not None:
        # the charts start a printed page of their own, so that none is cut in two
        breaks = etree.SubElement(root, q("rowBreaks"), count="1", manualBreakCount="1")
        etree.SubElement(breaks, q("brk"), id=str(spec.last_row + 1), max="16383", man="1")
        etree.SubElement(root, q("drawing")).set(q("id", REL), drawing_id)
    parts = etree.SubElement(root, q("tableParts"), count="1")
    etree.SubElement(parts, q("tablePart")).set(q("id", REL), table_id)
    return root


def _data_style(spec, headers, styles: StyleBook):
    """The style of a data cell of the owned table `spec`: its column's number format."""
    formats = {headers.index(h) + 1: f for h, f in spec.number_formats.items() if h in headers}

    def data_style(column: int, value: CellValue) -> int | None:
        fmt = formats.get(column)
        if fmt is None and value.is_date:
            fmt = "yyyy-mm-dd"
        return None if fmt is None else styles.derive(0, fmt)

    return data_style


def _owned_rows(spec, headers, styles: StyleBook):
    """The owned sheet's rows, each as XML bytes: title, header, data, totals."""
    formats = {headers.index(h) + 1: f for h, f in spec.number_formats.items() if h in headers}
    data_style = _data_style(spec, headers, styles)

    def total_style(column: int, value: CellValue) -> int:
        fmt = formats.get(column) or ("yyyy-mm-dd" if value.is_date else None)
        return styles.derive(0, fmt, bold=True)

    def below_style(column: int, value) -> int | None:
        fmt = spec.below_formats.get(column - 1)
        return None if fmt is None else styles.derive(0, fmt)

    title_style = styles.derive(0, bold=True, size=14)
    header_style = styles.derive(0, wrap=True)

    def rows():
        yield 1, _cells(1, [spec.title], lambda _c, _v: title_style)
        yield HEADER_ROW, _cells(HEADER_ROW, headers, lambda _c, _v: header_style)
        for i, values in enumerate(spec.rows, start=HEADER_ROW + 1):
            yield i, _cells(i, values, data_style)
        first_total = HEADER_ROW + max(len(spec.rows), 1) + 2
        for i, values in enumerate(spec.totals, start=first_total):
            yield i, _cells(i, values, total_style)
        for i, values in enumerate(spec.below, start=spec.below_row):
            yield i, _cells(i, values, below_style)

    widths = _widths(headers, spec)
    lines = max(math.ceil((_display_width(h) + 2) / (w - 1)) for h, w in zip(headers, widths,
                                                                            strict=False))
    for number, cells in rows():
        yield _row_xml(number, cells, 15 * lines if number == HEADER_ROW and lines > 1 else None)


def _row(number: int, values, style_of) -> bytes:
    """One row of an owned sheet as bytes; blank cells without a format are left out."""
    return _row_xml(number, _cells(number, values, style_of))


def _row_xml(number: int, cells: list[bytes], height: float | None = None) -> bytes:
    tall = b"" if height is None else f' ht="{height:g}" customHeight="1"'.encode()
    return b'<row r="' + str(number).encode() + b'"' + tall + b">" + b"".join(cells) + b"</row>"


def _cells(number: int, values, style_of, first_column: int = 1) -> list[bytes]:
    """A row's cells as bytes; `style_of(column, value)` gives a cell's style from its
    CellValue."""
    cells = []
    suffix = str(number).encode()
    for column, raw in enumerate(values, start=first_column):
        value = cell_value(raw)
        style = style_of(column, value)
        if value.kind == "blank" and style is None:
            continue
        cells.append(cell_xml(column_letter(column).encode() + suffix, style, value))
    return cells


def _table_xml(package: Package, sheet: str, headers: list[str], ref: str) -> etree._Element:
    names, ids = _used_names(package)
    name = _table_name(sheet, names)
    table = etree.Element(q("table"), nsmap={None: MAIN}, id=str(max(ids, default=0) + 1),
                          name=name, displayName=name, ref=ref, totalsRowShown="0")  # fmt: skip
    etree.SubElement(table, q("autoFilter"), ref=ref)
    columns = etree.SubElement(table, q("tableColumns"), count=str(len(headers)))
    for i, header in enumerate(headers, start=1):
        etree.SubElement(columns, q("tableColumn"), id=str(i), name=header)
    etree.SubElement(table, q("tableStyleInfo"), name=TABLE_STYLE, showFirstColumn="0",
                     showLastColumn="0", showRowStripes="1", showColumnStripes="0")  # fmt: skip
    return table


def _used_names(package: Package) -> tuple[set[str], list[int]]:
    names = {n.get("name", "").casefold()
             for n in package.xml(package.workbook_part).iter(q("definedName"))}  # fmt: skip
    ids = []
    for _, _, xml in package.tables():
        names |= {xml.get("name", "").casefold(), xml.get("displayName", "").casefold()}
        ids.append(int(xml.get("id", "0")))
    return names, ids


def _table_name(sheet: str, used: set[str]) -> str:
    """A valid table name like the sheet's, unique among the workbook's tables and names,
    and never a Policy table's name (the Provision sheet's table would otherwise be read as
    the Policy's Provision table in a workbook without a Policy sheet)."""
    used = used | {name.casefold() for name in POLICY_TABLES}
    base = re.sub(r"[^\w.]", "_", sheet)
    looks_like_a_cell = re.fullmatch(r"[A-Z]{1,3}\d+|R\d*C?\d*|C\d*", base.upper())
    if not (base[:1].isalpha() or base[:1] == "_") or looks_like_a_cell:
        base = f"_{base}"
    name, n = base, 1
    while name.casefold() in used:
        n += 1
        name = f"{base}_{n}"
    return name


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


def _columns(headers: Sequence[str], spec: SheetTable) -> list[dict[str, str]]:
    """The attributes of each column's <col> element: its width (`_widths`)."""
    return [{"min": str(column), "max": str(column), "width": f"{width:g}", "customWidth": "1"}
            for column, width in enumerate(_widths(headers, spec), start=1)]  # fmt: skip


def _sized_columns(head: bytes, headers: Sequence[str], spec: SheetTable) -> bytes:
    """A sheet part's first bytes with its columns sized as writing `spec` whole would size
    them (from its `kept_sample`); as they are if it has no <cols> there."""
    start = head.find(b"<cols>")
    end = head.find(b"</cols>", start)
    if start < 0 or end < 0:
        return head
    columns = b"".join(
        b"<col " + b" ".join(f'{k}="{v}"'.encode() for k, v in a.items()) + b"/>"
        for a in _columns(headers, spec)
    )  # fmt: skip
    return head[:start] + b"<cols>" + columns + head[end:]


def _widths(headers: Sequence[str], spec: SheetTable) -> list[float]:
    """Each column's width: its header, the values of the table and of the block under it
    (where a text in the block has an empty cell after it, it runs on into that cell). A
    table appended to is sized from its first rows (`kept_sample`), as written whole."""
    first = spec.kept_sample if spec.kept_sample is not None else spec.rows
    rows = [*first[:WIDTH_SAMPLE_ROWS], *spec.totals]
    below = [[None if isinstance(v, str) and (i + 1 == len(r) or r[i + 1] is None) else v
              for i, v in enumerate(r)] for r in spec.below]  # fmt: skip
    width = max(len(headers), *(len(r) for r in below)) if below else len(headers)
    out = []
    for column in range(1, width + 1):
        header = headers[column - 1] if column <= len(headers) else None
        # a long header wraps onto more lines rather than widening the printed page
        widest = min(_display_width(header) + 2, HEADER_WRAP) if header else 0
        for values in (*rows, *below):
            if column <= len(values):
                widest = max(widest, _display_width(values[column - 1]))
        out.append(min(max(widest + 1, MIN_WIDTH), MAX_WIDTH))
    return out


def _display_width(value: object) -> int:
    value = plain(value)
    if value is None:
        return 0
    if isinstance(value, Decimal | float | int) and not isinstance(value, bool):
        return len(f"{value:,.2f}")
    if isinstance(value, dt.datetime) and value.time() != dt.time.min:
        return 16  # yyyy-mm-dd hh:mm (History's IssuedAt): narrower, Excel shows ####
    if isinstance(value, dt.date):
        return 10
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in str(value))


def _add_chart(package: Package, part: str, sheet: str, spec: SheetTable, headers) -> str | None:
    """A stacked horizontal bar per row label (first column) of the chart columns; return the
    sheet's relationship id of its drawing."""
    columns = [headers.index(h) + 1 for h in spec.chart_columns if h in headers]
    if not columns:
        return None
    drawing_part = package.free_part_name("xl/drawings/drawing{}.xml")
    groups = _chart_groups(spec, headers)
    per_row = min(len(groups), CHARTS_PER_ROW)
    # under the table and its block (after a blank row), side by side within the width the
    # table prints at: on the printed pages, not off to the right of them
    widths = [w * _CM_PER_WIDTH for w in _widths(headers, spec)]
    total = min(max(sum(widths), 12.0), 26.0)
    width = (total - _CHART_GAP_CM * (per_row - 1)) / per_row
    rows_per_chart = max(last - first + 1 for _, first, last in groups)
    height = min(max(9.0, 3.0 + 0.5 * rows_per_chart), 15.0)
    anchors = []
    for n, (title, first, last) in enumerate(groups):
        chart_part = package.free_part_name("xl/charts/chart{}.xml")
        package.put(chart_part, _chart_xml(sheet, spec, columns, title, first, last))
        package.set_content_type(chart_part, CHART_TYPE)
        chart_id = package.add_relationship(drawing_part, REL + "/chart", chart_part)
        column, offset = _column_at(widths, (n % per_row) * (width + _CHART_GAP_CM))
        row = spec.last_row + 1 + (n // per_row) * (math.ceil(height / _CM_PER_ROW) + 1)
        anchors.append((chart_id, column, offset, row, width, height))
    package.put(drawing_part, _drawing_xml(anchors))
    package.set_content_type(drawing_part, DRAWING_TYPE)
    return package.add_relationship(part, REL + "/drawing", drawing_part)


def _chart_groups(spec: SheetTable, headers: list[str]) -> list[tuple[str, int, int]]:
    """(title, first row, last row) of each chart: one for the whole table, or one per run of
    rows with the same `chart_by` value (that value its title)."""
    first_row, last_row = HEADER_ROW + 1, HEADER_ROW + len(spec.rows)
    if spec.chart_by not in headers:
        return [(spec.title, first_row, last_row)]
    at = headers.index(spec.chart_by)
    groups: list[tuple[str, int, int]] = []
    for row, values in enumerate(spec.rows, start=first_row):
        key = str(plain(values[at]))
        if groups and groups[-1][0] == key:
            groups[-1] = (key, groups[-1][1], row)
        else:
            groups.append((key, row, row))
    return groups


def _column_at(widths_cm: Sequence[float], x_cm: float) -> tuple[int, int]:
    """The 0-based column at `x_cm` from the sheet's left edge, and the offset into it (EMU)."""
    for column, width in enumerate(widths_cm):
        if x_cm < width:
            return column, int(x_cm * _EMU_PER_CM)
        x_cm -= width
    return len(widths_cm), int(x_cm * _EMU_PER_CM)


def _chart_xml(sheet: str, spec: SheetTable, columns: list[int], title: str, first_row: int,
               last_row: int) -> bytes:  # fmt: skip
    """The chart part of the rows first_row..last_row (DrawingML chart schema): one stacked
    horizontal bar per row, a series per chart column titled by its header, the row labels
    (text) as categories, the first row at the top, the legend below so that the bars keep
    the chart's width; the markup openpyxl's BarChart gave."""
    quoted = "'" + sheet.replace("'", "''") + "'"

    def c(parent, tag: str, val: object = None) -> etree._Element:
        element = etree.SubElement(parent, f"{{{_CHART}}}{tag}")
        if val is not None:
            element.set("val", str(val))
        return element

    def a(parent, tag: str) -> etree._Element:
        return etree.SubElement(parent, f"{{{_A}}}{tag}")

    def ref(parent, kind: str, formula: str) -> None:
        c(c(parent, kind), "f").text = formula

    def span(letter: str) -> str:  # one row is a cell reference, as openpyxl wrote it
        if first_row == last_row:
            return f"${letter}${first_row}"
        return f"${letter}${first_row}:${letter}${last_row}"

    root = etree.Element(f"{{{_CHART}}}chartSpace", nsmap={None: _CHART, "a": _A})
    chart = c(root, "chart")
    rich = c(c(c(chart, "title"), "tx"), "rich")
    a(rich, "bodyPr")
    paragraph = a(rich, "p")
    a(a(paragraph, "pPr"), "defRPr")
    a(a(paragraph, "r"), "t").text = title
    bars = c(c(chart, "plotArea"), "barChart")
    c(bars, "barDir", "bar")
    c(bars, "grouping", "stacked")
    for i, column in enumerate(columns):
        letter = column_letter(column)
        series = c(bars, "ser")
        c(series, "idx", i)
        c(series, "order", i)
        ref(c(series, "tx"), "strRef", f"{quoted}!{letter}{HEADER_ROW}")
        a(a(c(series, "spPr"), "ln"), "prstDash").set("val", "solid")
        # the row labels are text: a string reference, not a numeric one
        ref(c(series, "cat"), "strRef", f"{quoted}!{span('A')}")
        ref(c(series, "val"), "numRef", f"{quoted}!{span(letter)}")
    c(bars, "gapWidth", 150)
    c(bars, "overlap", 100)
    c(bars, "axId", 10)
    c(bars, "axId", 100)
    plot = bars.getparent()
    for axis, own, other, orientation in (("catAx", 10, 100, "maxMin"),
                                          ("valAx", 100, 10, "minMax")):  # fmt: skip
        element = c(plot, axis)
        c(element, "axId", own)
        c(c(element, "scaling"), "orientation", orientation)  # maxMin: first row on top
        c(element, "delete", 0)
        c(element, "axPos", "l")
        if axis == "valAx":
            number_format = c(element, "numFmt")
            number_format.set("formatCode", "#,##0")
            number_format.set("sourceLinked", "0")
        c(element, "majorTickMark", "none")
        c(element, "minorTickMark", "none")
        c(element, "crossAx", other)
        if axis == "catAx":
            c(element, "lblOffset", 100)
    c(c(chart, "legend"), "legendPos", "b")
    c(chart, "plotVisOnly", 1)
    c(chart, "dispBlanksAs", "gap")
    return serialise(root)


def _drawing_xml(anchors: Sequence[tuple[str, int, int, int, float, float]]) -> bytes:
    """A drawing holding charts, each (relationship id, 0-based column, offset into it in
    EMU, 0-based row, width and height in cm) anchored at its cell."""
    nsmap = {"xdr": _DRAWING, "a": _A}
    root = etree.Element(f"{{{_DRAWING}}}wsDr", nsmap=nsmap)
    for number, (chart_id, column, offset, row, width_cm, height_cm) in enumerate(anchors, 1):
        anchor = etree.SubElement(root, f"{{{_DRAWING}}}oneCellAnchor")
        start = etree.SubElement(anchor, f"{{{_DRAWING}}}from")
        for tag, value in (("col", column), ("colOff", offset), ("row", row), ("rowOff", 0)):
            etree.SubElement(start, f"{{{_DRAWING}}}{tag}").text = str(value)
        etree.SubElement(anchor, f"{{{_DRAWING}}}ext", cx=str(int(width_cm * _EMU_PER_CM)),
                         cy=str(int(height_cm * _EMU_PER_CM)))  # fmt: skip
        frame = etree.SubElement(anchor, f"{{{_DRAWING}}}graphicFrame", macro="")
        names = etree.SubElement(frame, f"{{{_DRAWING}}}nvGraphicFramePr")
        etree.SubElement(names, f"{{{_DRAWING}}}cNvPr", id=str(number), name=f"Chart {number}")
        etree.SubElement(names, f"{{{_DRAWING}}}cNvGraphicFramePr")
        transform = etree.SubElement(frame, f"{{{_DRAWING}}}xfrm")
        etree.SubElement(transform, f"{{{_A}}}off", x="0", y="0")
        etree.SubElement(transform, f"{{{_A}}}ext", cx="0", cy="0")
        graphic = etree.SubElement(etree.SubElement(frame, f"{{{_A}}}graphic"),
                                   f"{{{_A}}}graphicData", uri=_CHART)  # fmt: skip
        chart = etree.SubElement(graphic, f"{{{_CHART}}}chart", nsmap={"c": _CHART, "r": REL})
        chart.set(q("id", REL), chart_id)
        etree.SubElement(anchor, f"{{{_DRAWING}}}clientData")
    return serialise(root)
